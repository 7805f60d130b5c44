//! Unit conversions, one of each: MIDI note ↔ Hz (A4 = 440 Hz, equal temperament) and
//! level ↔ dB.

/// MIDI note number to frequency, A4 = 440 Hz, equal temperament.
pub fn note_to_hz(note: f32) -> f32 {
    440.0 * ((note - 69.0) / 12.0).exp2()
}

/// Fractional MIDI note number of a frequency in Hz (69 = A4 = 440 Hz).
pub fn hz_to_note(hz: f32) -> f32 {
    69.0 + 12.0 * (hz / 440.0).log2()
}

/// A fractional MIDI note as a musician reads it: its nearest key and the cents from it
/// ("A4", "C#3 +12 ct", "E2 −30 ct"). Allocates.
pub fn note_name(note: f32) -> String {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    let key = note.round();
    let cents = ((note - key) * 100.0).round() as i32;
    let k = key as i32;
    let name = format!(
        "{}{}",
        NAMES[k.rem_euclid(12) as usize],
        k.div_euclid(12) - 1
    );
    match cents {
        0 => name,
        c if c > 0 => format!("{name} +{c} ct"),
        c => format!("{name} −{} ct", -c),
    }
}

/// Level in dB of a linear amplitude, floored at −200 dB so silence stays finite.
pub fn amplitude_to_db(v: f32) -> f32 {
    20.0 * v.max(1e-10).log10()
}

/// Linear amplitude of a level in dB.
pub fn db_to_amplitude(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Level in dB of a power (a squared amplitude), floored at −300 dB.
pub fn power_to_db(p: f32) -> f32 {
    10.0 * p.max(1e-30).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_read_as_keys_and_cents() {
        assert_eq!(note_name(69.0), "A4");
        assert_eq!(note_name(60.0), "C4");
        assert_eq!(note_name(61.12), "C#4 +12 ct");
        assert_eq!(note_name(39.7), "E2 −30 ct");
        assert_eq!(note_name(hz_to_note(27.5)), "A0");
        assert_eq!(note_name(-1.0), "B-2");
    }

    #[test]
    fn conversions_invert_each_other() {
        approx::assert_relative_eq!(note_to_hz(69.0), 440.0);
        approx::assert_relative_eq!(note_to_hz(81.0), 880.0);
        approx::assert_relative_eq!(note_to_hz(60.0), 261.625_58, max_relative = 1e-6);
        for n in [21.0f32, 48.5, 60.0, 108.0] {
            assert!((hz_to_note(note_to_hz(n)) - n).abs() < 1e-4);
        }
        for db in [-60.0f32, -6.0, 0.0, 12.0] {
            assert!((amplitude_to_db(db_to_amplitude(db)) - db).abs() < 1e-4);
            assert!((power_to_db(db_to_amplitude(db).powi(2)) - db).abs() < 1e-3);
        }
        assert_eq!(amplitude_to_db(0.0), -200.0);
    }
}
