//! The panel's one palette: every colour the editor paints with, named by what it shows.

use egui::Color32;

/// Behind plots and thumbnails.
pub const BACKGROUND: Color32 = Color32::from_gray(20);
/// The empty part of the vigilance gauge.
pub const TRACK: Color32 = Color32::from_gray(30);
/// The empty part of a card's match bar.
pub const MATCH_TRACK: Color32 = Color32::from_gray(35);
/// Grid lines and axes.
pub const GRID: Color32 = Color32::from_gray(50);
/// Spectra and prototype points.
pub const ACCENT: Color32 = Color32::from_rgb(90, 170, 230);
/// A match that passes vigilance.
pub const PASS: Color32 = Color32::from_rgb(80, 200, 120);
/// A match that fails vigilance.
pub const FAIL: Color32 = Color32::from_rgb(220, 150, 60);
/// The active prototype's card.
pub const ACTIVE_CARD: Color32 = Color32::from_rgb(40, 70, 110);
/// The live note on the map.
pub const LIVE: Color32 = Color32::from_rgb(240, 80, 80);
/// The loss curve.
pub const LOSS: Color32 = Color32::from_rgb(230, 200, 90);
/// Errors.
pub const ERROR: Color32 = Color32::LIGHT_RED;
/// Notices (a split, a refused note).
pub const NOTICE: Color32 = Color32::LIGHT_YELLOW;
/// Strong text and markers.
pub const TEXT: Color32 = Color32::WHITE;
/// Captions and frames.
pub const DIM: Color32 = Color32::GRAY;
/// Labels on plots.
pub const LABEL: Color32 = Color32::LIGHT_GRAY;
/// Outlines under markers.
pub const SHADOW: Color32 = Color32::BLACK;
