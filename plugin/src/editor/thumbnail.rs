//! A prototype's spectrum thumbnail for the panel: its patch playing middle C, as the encoder
//! hears it — the mean of each of the 32 log-mel bands over the context, 0 (80 dB below the
//! loudest band, or less) to 1 (the loudest).

use dar_ddsp_core::memory::encoder::CONTEXT_OFFSET_S;
use dar_ddsp_core::memory::encoder::front::{Front, INPUT, MEL_BANDS};
use dar_ddsp_core::plant::Theta;
use dar_ddsp_core::plant::render::render_note;

/// The note thumbnails are rendered at (middle C).
pub const NOTE: f32 = 60.0;

/// Mean log-mel bands of `theta` playing [`NOTE`]; `None` for a silent patch. Allocates (one
/// render); for the GUI thread, which caches it per patch.
pub fn spectrum(
    theta: &Theta<f32>,
    front: &mut Front,
    sample_rate: f32,
) -> Option<[f32; MEL_BANDS]> {
    let offset = (CONTEXT_OFFSET_S * sample_rate) as usize;
    let len = offset + front.context_len();
    let audio = render_note(theta, NOTE, 0.8, len, sample_rate, len);
    let mut features = [0.0; INPUT];
    front.compute(
        &audio[offset..],
        dar_ddsp_core::num::units::note_to_hz(NOTE),
        &mut features,
    )?;
    let mut bands = [0.0; MEL_BANDS];
    bands.copy_from_slice(&features[..MEL_BANDS]);
    Some(bands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dar_ddsp_core::plant::{P, default_theta};

    #[test]
    fn a_brighter_patch_has_more_high_bands() {
        let mut front = Front::new(48_000.0);
        let mut dark = default_theta();
        dark[P::Cutoff as usize] = 300.0;
        let mut bright = default_theta();
        bright[P::Cutoff as usize] = 9_000.0;
        let d = spectrum(&dark, &mut front, 48_000.0).expect("audible");
        let b = spectrum(&bright, &mut front, 48_000.0).expect("audible");
        assert!(d.iter().chain(&b).all(|x| (0.0..=1.0).contains(x)));
        let high = |s: &[f32; MEL_BANDS]| s[MEL_BANDS / 2..].iter().sum::<f32>();
        assert!(high(&b) > high(&d) + 2.0, "{b:?} vs {d:?}");
        let mut silent = default_theta();
        silent[P::Saw as usize] = 0.0;
        assert_eq!(spectrum(&silent, &mut front, 48_000.0), None);
    }
}
