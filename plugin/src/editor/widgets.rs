//! The hand-painted widgets: a prototype's spectrum thumbnail, the match bar, the vigilance
//! gauge, the embedding map and the loss curve. Each paints from the view-model ([`View`]) alone.

use super::palette;
use super::view::{PointKind, View};
use dar_ddsp_core::memory::encoder::front::MEL_BANDS;
use egui::{Align2, FontId, Pos2, Rect, Sense, Stroke, Vec2, pos2, vec2};

/// The mean log-mel spectrum as bars, low bands on the left.
pub(super) fn draw_thumbnail(ui: &mut egui::Ui, thumb: Option<&[f32; MEL_BANDS]>) {
    draw_spectrum(ui, thumb, vec2(96.0, 48.0));
}

/// [`draw_thumbnail`] at `size`.
pub(super) fn draw_spectrum(ui: &mut egui::Ui, thumb: Option<&[f32; MEL_BANDS]>, size: Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, palette::BACKGROUND);
    let Some(bands) = thumb else {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "silent",
            FontId::proportional(11.0),
            palette::DIM,
        );
        return;
    };
    let w = rect.width() / MEL_BANDS as f32;
    for (k, &b) in bands.iter().enumerate() {
        let x = rect.left() + k as f32 * w;
        let top = rect.bottom() - b.clamp(0.0, 1.0) * rect.height();
        painter.rect_filled(
            Rect::from_min_max(pos2(x, top), pos2(x + w - 0.5, rect.bottom())),
            0.0,
            palette::ACCENT,
        );
    }
}

/// A match value as a bar with the vigilance line across it.
pub(super) fn draw_match(ui: &mut egui::Ui, m: Option<f32>, rho: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(200.0, 10.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, palette::MATCH_TRACK);
    if let Some(m) = m {
        let color = if m >= rho {
            palette::PASS
        } else {
            palette::FAIL
        };
        let x = rect.left() + m.clamp(0.0, 1.0) * rect.width();
        painter.rect_filled(
            Rect::from_min_max(rect.min, pos2(x, rect.bottom())),
            2.0,
            color,
        );
    }
    let x = rect.left() + rho * rect.width();
    painter.line_segment(
        [pos2(x, rect.top() - 2.0), pos2(x, rect.bottom() + 2.0)],
        Stroke::new(2.0, palette::TEXT),
    );
}

/// The vigilance gauge: the last match M against ρ, big.
pub(super) fn draw_gauge(ui: &mut egui::Ui, v: &View) {
    let (rect, _) = ui.allocate_exact_size(vec2(360.0, 30.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, palette::TRACK);
    let rho = v.gauge.rho;
    let bar = rect.shrink2(vec2(0.0, 6.0));
    if let Some(m) = v.gauge.m {
        let color = if m >= rho {
            palette::PASS
        } else {
            palette::FAIL
        };
        let x = bar.left() + m.clamp(0.0, 1.0) * bar.width();
        painter.rect_filled(
            Rect::from_min_max(bar.min, pos2(x, bar.bottom())),
            3.0,
            color,
        );
        painter.text(
            pos2(bar.left() + 4.0, bar.center().y),
            Align2::LEFT_CENTER,
            format!("M {m:.2}"),
            FontId::proportional(12.0),
            palette::SHADOW,
        );
    }
    let x = rect.left() + rho * rect.width();
    painter.line_segment(
        [pos2(x, rect.top()), pos2(x, rect.bottom())],
        Stroke::new(2.5, palette::TEXT),
    );
    painter.text(
        pos2(x + 4.0, rect.top() + 2.0),
        Align2::LEFT_TOP,
        format!("ρ {rho:.2}"),
        FontId::proportional(11.0),
        palette::TEXT,
    );
}

/// The embedding map: prototypes as numbered dots (the active one ringed), the last sidechain
/// note as a red cross.
pub(super) fn draw_map(ui: &mut egui::Ui, v: &View, active: Option<usize>) {
    let (rect, _) = ui.allocate_exact_size(vec2(360.0, 170.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, palette::BACKGROUND);
    let inner = rect.shrink(18.0);
    let at = |x: f32, y: f32| -> Pos2 {
        pos2(
            inner.center().x + x * inner.width() / 2.0,
            inner.center().y - y * inner.height() / 2.0,
        )
    };
    painter.line_segment(
        [
            pos2(inner.left(), inner.center().y),
            pos2(inner.right(), inner.center().y),
        ],
        Stroke::new(1.0, palette::GRID),
    );
    painter.line_segment(
        [
            pos2(inner.center().x, inner.top()),
            pos2(inner.center().x, inner.bottom()),
        ],
        Stroke::new(1.0, palette::GRID),
    );
    if v.map.is_empty() {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "no prototypes yet",
            FontId::proportional(12.0),
            palette::DIM,
        );
    }
    for point in &v.map {
        let pos = at(point.x, point.y);
        match point.kind {
            PointKind::Prototype(i) => {
                painter.circle_filled(pos, 6.0, palette::ACCENT);
                if active == Some(i) {
                    painter.circle_stroke(pos, 9.0, Stroke::new(2.0, palette::TEXT));
                }
                painter.text(
                    pos + vec2(8.0, -8.0),
                    Align2::LEFT_BOTTOM,
                    format!("{}", i + 1),
                    FontId::proportional(11.0),
                    palette::LABEL,
                );
            }
            PointKind::Live => {
                let s = Stroke::new(2.5, palette::LIVE);
                painter.line_segment([pos - vec2(6.0, 6.0), pos + vec2(6.0, 6.0)], s);
                painter.line_segment([pos - vec2(6.0, -6.0), pos + vec2(6.0, -6.0)], s);
            }
        }
    }
}

/// The refinement losses, log scale.
pub(super) fn draw_loss(ui: &mut egui::Ui, v: &View) {
    let (rect, _) = ui.allocate_exact_size(vec2(360.0, 100.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, palette::BACKGROUND);
    if v.loss.is_empty() {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "loss: nothing refined yet",
            FontId::proportional(12.0),
            palette::DIM,
        );
        return;
    }
    let (lo, hi) = v.loss.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
        (lo.min(p[1]), hi.max(p[1]))
    });
    let (lo, hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    let n = v.loss.last().map_or(1.0, |p| p[0].max(1.0));
    let inner = rect.shrink2(vec2(36.0, 10.0));
    let points: Vec<Pos2> = v
        .loss
        .iter()
        .map(|p| {
            pos2(
                inner.left() + p[0] / n * inner.width(),
                inner.bottom() - (p[1] - lo) / (hi - lo) * inner.height(),
            )
        })
        .collect();
    painter.add(egui::Shape::line(points, Stroke::new(1.5, palette::LOSS)));
    for (y, value) in [(inner.top(), hi), (inner.bottom(), lo)] {
        painter.text(
            pos2(rect.left() + 4.0, y),
            Align2::LEFT_CENTER,
            format!("1e{value:.0}"),
            FontId::proportional(10.0),
            palette::DIM,
        );
    }
    painter.text(
        pos2(inner.right(), rect.bottom() - 2.0),
        Align2::RIGHT_BOTTOM,
        format!("{} refinements", v.loss.len()),
        FontId::proportional(10.0),
        palette::DIM,
    );
}
