//! The panel's view-model: what the editor draws for a learner snapshot, computed apart from
//! the drawing so it can be tested. GUI thread only; allocates.

use super::projection::Projection;
use crate::learner::Snapshot;
use dar_ddsp_core::live::Mode;

/// One prototype card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Index in the memory (the `proto` parameter is this + 1).
    pub index: usize,
    /// Name.
    pub name: String,
    /// Presentations won.
    pub uses: u64,
    /// Age, as a musician reads it ("12 s", "3 min").
    pub age: String,
    /// Match M_j of the last sidechain note with it.
    pub m: Option<f32>,
    /// Whether that match passes the vigilance test.
    pub resonates: bool,
    /// Never changed by learning.
    pub locked: bool,
    /// The prototype playing (Learn, Follow) or picked by `proto` (Play).
    pub active: bool,
    /// Picked as the morph target (`proto_b`) in Play mode with a morph under way.
    pub morph_target: bool,
    /// The learner's last loss, if learned.
    pub loss: Option<f32>,
    /// Notes kept in its reservoir.
    pub kept: usize,
}

/// The vigilance gauge: the sidechain's last match with its best prototype against ρ.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// The match, if a note was heard.
    pub m: Option<f32>,
    /// Vigilance ρ.
    pub rho: f32,
    /// What the learner made of it.
    pub verdict: String,
}

/// What a map point stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PointKind {
    /// Prototype `index`.
    Prototype(usize),
    /// The last sidechain note.
    Live,
}

/// A point of the embedding map, in −1…1 on both axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapPoint {
    /// Horizontal coordinate.
    pub x: f32,
    /// Vertical coordinate.
    pub y: f32,
    /// What it is.
    pub kind: PointKind,
}

/// Everything the panel draws from one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// One card per prototype, in memory order.
    pub cards: Vec<Card>,
    /// The vigilance gauge.
    pub gauge: Gauge,
    /// The embedding map: prototypes, then the live point if any.
    pub map: Vec<MapPoint>,
    /// The loss curve: (refinement number, log10 loss), oldest first.
    pub loss: Vec<[f32; 2]>,
}

/// What the Play mode's parameters pick: `proto`, `proto_b` (prototype numbers from 1) and
/// `morph` (0–1 from the first to the second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// The `proto` parameter.
    pub a: i32,
    /// The `proto_b` parameter.
    pub b: i32,
    /// The `morph` parameter.
    pub morph: f32,
}

/// The view of snapshot `s` with vigilance `rho`, in `mode`, with what the Play mode picks.
pub fn view(s: &Snapshot, rho: f32, mode: Mode, pick: Pick) -> View {
    let Pick { a, b, morph } = pick;
    let picked = |n: i32| usize::try_from(n - 1).ok();
    let active = match mode {
        Mode::Play => picked(a).filter(|&i| i < s.prototypes.len()),
        _ => s.active,
    };
    let target = (mode == Mode::Play && morph > 0.0)
        .then(|| picked(b))
        .flatten()
        .filter(|&i| i < s.prototypes.len() && Some(i) != active);
    let cards = s
        .prototypes
        .iter()
        .enumerate()
        .map(|(i, p)| Card {
            index: i,
            name: p.name.clone(),
            uses: p.uses,
            age: age(s.now - p.created),
            m: p.m,
            resonates: p.m.is_some_and(|m| m >= rho),
            locked: p.locked,
            active: active == Some(i),
            morph_target: target == Some(i),
            loss: p.loss.is_finite().then_some(p.loss),
            kept: p.kept,
        })
        .collect();
    let verdict = match (s.last_match, s.active) {
        (None, _) if s.prototypes.is_empty() => "no note heard yet".to_string(),
        (None, _) => "no sidechain note heard since loading".to_string(),
        (Some(m), Some(j)) if m >= rho => {
            let name = s.prototypes.get(j).map_or("", |p| p.name.as_str());
            format!("M = {m:.2} ≥ ρ: resonates with {} \"{name}\"", j + 1)
        }
        (Some(m), _) if mode == Mode::Learn => {
            format!("M = {m:.2} < ρ: a new timbre, so a new prototype")
        }
        (Some(m), _) => format!("M = {m:.2} < ρ: unlike every prototype (not learning)"),
    };
    View {
        cards,
        gauge: Gauge {
            m: s.last_match,
            rho,
            verdict,
        },
        map: map(s),
        loss: s
            .losses
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_finite() && **l > 0.0)
            .map(|(i, l)| [i as f32, l.log10()])
            .collect(),
    }
}

/// The prototypes' box centres and the live embedding on the memory's two principal axes,
/// scaled together into −1…1.
fn map(s: &Snapshot) -> Vec<MapPoint> {
    let centers: Vec<_> = s.prototypes.iter().map(|p| p.center).collect();
    let proj = Projection::fit(&centers);
    let mut points: Vec<MapPoint> = centers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let [x, y] = proj.project(c);
            MapPoint {
                x,
                y,
                kind: PointKind::Prototype(i),
            }
        })
        .collect();
    if let Some(h) = &s.live {
        let [x, y] = proj.project(h);
        points.push(MapPoint {
            x,
            y,
            kind: PointKind::Live,
        });
    }
    let scale = points
        .iter()
        .map(|p| p.x.abs().max(p.y.abs()))
        .fold(0.0f32, f32::max);
    if scale > 0.0 {
        for p in &mut points {
            p.x /= scale;
            p.y /= scale;
        }
    }
    points
}

/// A duration in seconds as a musician reads it.
pub fn age(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3_600.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3_600.0)
    }
}

/// The panel's line about splits: the last refinement the guard refused, whose notes went to a
/// prototype of their own. `None` before the first split.
pub fn split_line(s: &Snapshot) -> Option<String> {
    let (from, to) = s.last_split?;
    let name = |j: usize| {
        s.prototypes
            .get(j)
            .map_or("", |p| p.name.as_str())
            .to_string()
    };
    Some(format!(
        "split: the patch could not play both — {} \"{}\" kept its patch, the new notes went \
         to {} \"{}\" ({} split{} so far)",
        from + 1,
        name(from),
        to + 1,
        name(to),
        s.splits,
        if s.splits == 1 { "" } else { "s" }
    ))
}

/// The panel's line of what the learner could not use: non-finite sidechain samples skipped,
/// samples dropped because it fell behind, notes refused because the memory is full.
pub fn counters(s: &Snapshot) -> String {
    format!(
        "skipped: {} non-finite samples, {} samples the learner could not keep up with, {} \
         notes (memory full)",
        s.skipped, s.dropped, s.refused
    )
}

/// The panel's line for a file being learned or learned last (Learn from file): its
/// progress, then what it made of the memory, or why it was refused.
pub fn file_line(s: &Snapshot) -> Option<String> {
    let f = s.file.as_ref()?;
    if let Some(e) = &f.error {
        return Some(e.clone());
    }
    if !f.done {
        return Some(format!(
            "{}: learning, {:.0} %, {} note{} so far",
            f.name,
            100.0 * f.progress,
            f.notes,
            if f.notes == 1 { "" } else { "s" }
        ));
    }
    let played = match (f.prototype, f.distance) {
        (Some(j), Some(d)) => format!(
            "; {} \"{}\" plays it at {d:.2} dB",
            j + 1,
            s.prototypes.get(j).map_or("", |p| p.name.as_str())
        ),
        _ => String::new(),
    };
    Some(format!(
        "{}: {} note{}, {} new prototype{}, {} refined{played}",
        f.name,
        f.notes,
        if f.notes == 1 { "" } else { "s" },
        f.made,
        if f.made == 1 { "" } else { "s" },
        f.refined
    ))
}

/// What the Audition button plays, once a file learn is done: the file's last note, then the
/// prototype that won it playing that note.
pub fn audition_line(s: &Snapshot) -> Option<String> {
    let f = s.file.as_ref().filter(|f| f.done)?;
    let a = f.audition.as_ref()?;
    let j = f.prototype?;
    let pitch = if a.midi > 0.0 {
        dar_ddsp_core::num::units::note_name(a.midi)
    } else {
        "unpitched".into()
    };
    Some(format!(
        "plays its last note ({pitch}, {:.2} s), then {} \"{}\" playing it",
        a.seconds,
        j + 1,
        s.prototypes.get(j).map_or("", |p| p.name.as_str())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learner::ProtoView;
    use dar_ddsp_core::memory::encoder::EMBED_DIM;
    use dar_ddsp_core::plant::default_theta;

    fn proto(name: &str, at: f32, m: f32) -> ProtoView {
        let mut center = [0.5; EMBED_DIM];
        center[0] = at;
        center[1] = 0.5 + 0.1 * at;
        ProtoView {
            name: name.into(),
            uses: 3,
            locked: name == "organ",
            loss: if name == "bass" { 0.2 } else { f32::INFINITY },
            created: 10.0,
            center,
            m: Some(m),
            theta: default_theta(),
            kept: 4,
        }
    }

    fn snapshot() -> Snapshot {
        let mut live = [0.5; EMBED_DIM];
        live[0] = 0.82;
        live[1] = 0.58;
        Snapshot {
            prototypes: vec![
                proto("bass", 0.1, 0.55),
                proto("organ", 0.8, 0.91),
                proto("flute", 0.4, 0.70),
            ],
            active: Some(1),
            last_match: Some(0.91),
            live: Some(live),
            now: 190.0,
            losses: vec![1.0, 0.1, f32::INFINITY, 0.01],
            ..Snapshot::default()
        }
    }

    #[test]
    fn cards_show_match_against_vigilance_and_the_active_one() {
        let v = view(
            &snapshot(),
            0.8,
            Mode::Learn,
            Pick {
                a: 1,
                b: 2,
                morph: 0.0,
            },
        );
        let names: Vec<_> = v.cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["bass", "organ", "flute"]);
        let resonates: Vec<_> = v.cards.iter().map(|c| c.resonates).collect();
        assert_eq!(resonates, [false, true, false]);
        let active: Vec<_> = v.cards.iter().map(|c| c.active).collect();
        assert_eq!(active, [false, true, false]);
        assert_eq!(v.cards[0].age, "3 min");
        assert_eq!(v.cards[0].loss, Some(0.2));
        assert_eq!(v.cards[1].loss, None);
        assert!(v.cards[1].locked && !v.cards[0].locked);
        assert!(v.gauge.verdict.contains("resonates with 2 \"organ\""));
        // In Play mode the `proto` parameter picks, and a morph marks its target.
        let v = view(
            &snapshot(),
            0.8,
            Mode::Play,
            Pick {
                a: 3,
                b: 1,
                morph: 0.5,
            },
        );
        let active: Vec<_> = v.cards.iter().map(|c| c.active).collect();
        assert_eq!(active, [false, false, true]);
        assert!(v.cards[0].morph_target && !v.cards[2].morph_target);
        // Out-of-range picks select nothing.
        let v = view(
            &snapshot(),
            0.8,
            Mode::Play,
            Pick {
                a: 9,
                b: 9,
                morph: 1.0,
            },
        );
        assert!(v.cards.iter().all(|c| !c.active && !c.morph_target));
    }

    #[test]
    fn a_split_is_said_with_both_prototypes_and_the_kept_notes_shown() {
        let mut s = snapshot();
        assert_eq!(split_line(&s), None);
        s.last_split = Some((0, 2));
        s.splits = 1;
        let line = split_line(&s).expect("a split line");
        assert!(
            line.starts_with("split: the patch could not play both"),
            "{line}"
        );
        assert!(line.contains("1 \"bass\" kept its patch"), "{line}");
        assert!(line.contains("to 3 \"flute\" (1 split so far)"), "{line}");
        let v = view(
            &s,
            0.8,
            Mode::Learn,
            Pick {
                a: 1,
                b: 1,
                morph: 0.0,
            },
        );
        assert!(v.cards.iter().all(|c| c.kept == 4));
    }

    #[test]
    fn the_gauge_says_why_a_prototype_appeared() {
        let mut s = snapshot();
        s.last_match = Some(0.62);
        let v = view(
            &s,
            0.8,
            Mode::Learn,
            Pick {
                a: 1,
                b: 1,
                morph: 0.0,
            },
        );
        assert_eq!(v.gauge.m, Some(0.62));
        assert!(
            v.gauge.verdict.contains("< ρ: a new timbre"),
            "{}",
            v.gauge.verdict
        );
        let v = view(
            &s,
            0.8,
            Mode::Follow,
            Pick {
                a: 1,
                b: 1,
                morph: 0.0,
            },
        );
        assert!(v.gauge.verdict.contains("not learning"));
        let v = view(
            &Snapshot::default(),
            0.8,
            Mode::Learn,
            Pick {
                a: 1,
                b: 1,
                morph: 0.0,
            },
        );
        assert_eq!(v.gauge.verdict, "no note heard yet");
    }

    #[test]
    fn the_map_places_the_live_note_by_its_prototype() {
        let v = view(
            &snapshot(),
            0.8,
            Mode::Learn,
            Pick {
                a: 1,
                b: 1,
                morph: 0.0,
            },
        );
        assert_eq!(v.map.len(), 4);
        assert!(v.map.iter().all(|p| p.x.abs() <= 1.0 && p.y.abs() <= 1.0));
        let live = v.map[3];
        assert_eq!(live.kind, PointKind::Live);
        let d = |p: &MapPoint| (p.x - live.x).hypot(p.y - live.y);
        let nearest = v.map[..3]
            .iter()
            .min_by(|a, b| d(a).total_cmp(&d(b)))
            .map(|p| p.kind);
        assert_eq!(nearest, Some(PointKind::Prototype(1)));
        // Bass and organ lie at the ends of the main axis.
        assert!((v.map[0].x - v.map[1].x).abs() > 1.5);
    }

    #[test]
    fn the_loss_curve_is_log_scaled_and_skips_unlearned() {
        let v = view(
            &snapshot(),
            0.8,
            Mode::Learn,
            Pick {
                a: 1,
                b: 1,
                morph: 0.0,
            },
        );
        assert_eq!(v.loss, vec![[0.0, 0.0], [1.0, -1.0], [3.0, -2.0]]);
    }

    #[test]
    fn a_file_learn_reads_as_progress_then_result_or_its_error() {
        use crate::learner::FileLearn;
        let mut s = Snapshot {
            prototypes: vec![proto("oboe", 0.2, 0.9)],
            ..Snapshot::default()
        };
        assert_eq!(file_line(&s), None);
        let mut f = FileLearn {
            name: "oboe.flac".into(),
            progress: 0.5,
            notes: 1,
            ..FileLearn::default()
        };
        s.file = Some(f.clone());
        assert_eq!(
            file_line(&s).as_deref(),
            Some("oboe.flac: learning, 50 %, 1 note so far")
        );
        (f.done, f.made, f.refined, f.prototype, f.distance) = (true, 1, 1, Some(0), Some(1.5));
        s.file = Some(f.clone());
        assert_eq!(
            file_line(&s).as_deref(),
            Some("oboe.flac: 1 note, 1 new prototype, 1 refined; 1 \"oboe\" plays it at 1.50 dB")
        );
        assert_eq!(audition_line(&s), None, "no audition made");
        f.audition = Some(crate::learner::audition::AuditionView {
            midi: 57.12,
            seconds: 1.25,
            sample: None,
            played: None,
        });
        s.file = Some(f.clone());
        assert_eq!(
            audition_line(&s).as_deref(),
            Some("plays its last note (A3 +12 ct, 1.25 s), then 1 \"oboe\" playing it")
        );
        f.error = Some("oboe.flac: damaged audio data".into());
        s.file = Some(f);
        assert_eq!(
            file_line(&s).as_deref(),
            Some("oboe.flac: damaged audio data")
        );
    }
}
