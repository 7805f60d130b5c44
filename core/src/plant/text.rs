//! Knob values as text and back, one format per [`Unit`]: what hosts show in their parameter
//! lists and what a musician types. Value → text → value → text gives the same text, and the
//! value read back is within one display step (the property test below, over every θ).
//! Allocates (a `String` per call): GUI and host threads only.

use super::theta::Unit;

/// `value` with `decimals` fixed decimals; a value that rounds to zero reads "0", never "-0".
fn fixed(value: f32, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    let mut r = (value as f64 * scale).round() / scale;
    if r == 0.0 {
        r = 0.0;
    }
    format!("{r:.decimals$}")
}

/// Decimals that show `v` to `digits` significant digits (0 for zero or non-finite values).
fn decimals_for(v: f64, digits: i32) -> usize {
    if v == 0.0 || !v.is_finite() {
        return 0;
    }
    (digits - 1 - v.abs().log10().floor() as i32).clamp(0, 9) as usize
}

/// `value` rounded to `digits` significant digits, with the decimals that shows. The decimals
/// are counted on the rounded value: 0.9996 rounds to 1.00, not "1.000", so the text read back
/// and shown again is the same text. A value too small for nine decimals rounds to 0.
fn round_significant(value: f32, digits: i32) -> (f64, usize) {
    let v = value as f64;
    let scale = 10f64.powi(decimals_for(v, digits) as i32);
    let rounded = (v * scale).round() / scale;
    (rounded, decimals_for(rounded, digits))
}

/// A number with `digits` significant digits ("0.00137", "0.0500", "0.412"): fixed decimals
/// would show a log-scaled knob's whole bottom decade as one value.
pub fn format_significant(value: f32, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return if value == 0.0 {
            "0".into()
        } else {
            format!("{value}")
        };
    }
    let (rounded, decimals) = round_significant(value, digits);
    fixed(rounded as f32, decimals)
}

/// A frequency to three significant digits, in Hz below 1 kHz and in kHz above ("0.562 Hz",
/// "440 Hz", "1.26 kHz"), decided on the rounded value.
pub fn format_hz(hz: f32) -> String {
    let rounded = round_significant(hz, 3).0;
    if rounded.abs() >= 1_000.0 {
        format!("{} kHz", format_significant(hz / 1_000.0, 3))
    } else {
        format!("{} Hz", format_significant(hz, 3))
    }
}

/// Parses "440", "440 Hz", "1.26 kHz" or "1.26k" as Hz.
pub fn parse_hz(text: &str) -> Option<f32> {
    let t = text.trim().to_ascii_lowercase();
    let (number, scale) = if let Some(k) = t.strip_suffix("khz").or_else(|| t.strip_suffix('k')) {
        (k, 1_000.0)
    } else {
        (t.strip_suffix("hz").unwrap_or(&t), 1.0)
    };
    finite(number.trim().parse::<f32>().ok()? * scale)
}

/// Seconds as text, three significant digits: milliseconds below one second (decided on the
/// rounded value, so 0.9996 s reads "1.00 s").
pub fn format_seconds(s: f32) -> String {
    let rounded = if s > 0.0 && s.is_finite() {
        round_significant(s, 3).0 as f32
    } else {
        s
    };
    if rounded < 1.0 {
        format!("{} ms", format_significant(s * 1_000.0, 3))
    } else {
        format!("{} s", format_significant(s, 3))
    }
}

/// Parses "12 ms", "1.5 s" or a bare number of seconds.
pub fn parse_seconds(text: &str) -> Option<f32> {
    let t = text.trim().to_ascii_lowercase();
    let value = if let Some(ms) = t.strip_suffix("ms") {
        ms.trim().parse::<f32>().ok()? / 1_000.0
    } else {
        t.strip_suffix('s')
            .unwrap_or(&t)
            .trim()
            .parse::<f32>()
            .ok()?
    };
    finite(value)
}

fn finite(v: f32) -> Option<f32> {
    v.is_finite().then_some(v)
}

/// The text of a value in `unit`, with its unit ("80.0 %", "2.50 kHz", "12.5 ms", "0.71",
/// "1.50 oct", "-9.0 dB", "12.5 ct", "-7.00 st").
pub fn format(unit: Unit, value: f32) -> String {
    match unit {
        Unit::Percent => format!("{} %", fixed(value * 100.0, 1)),
        Unit::Hertz => format_hz(value),
        Unit::Seconds => format_seconds(value),
        Unit::Ratio => fixed(value, 2),
        Unit::Octaves => format!("{} oct", fixed(value, 2)),
        Unit::Decibels => format!("{} dB", fixed(value, 1)),
        Unit::Cents => format!("{} ct", fixed(value, 1)),
        Unit::Semitones => format!("{} st", fixed(value, 2)),
    }
}

/// A value in `unit` from text, with or without its unit; `None` for anything else.
pub fn parse(unit: Unit, text: &str) -> Option<f32> {
    let bare = |suffix: &str| {
        let t = text.trim();
        let t = t.strip_suffix(suffix).unwrap_or(t).trim();
        finite(t.parse::<f32>().ok()?)
    };
    match unit {
        Unit::Percent => bare("%").map(|p| p / 100.0),
        Unit::Hertz => parse_hz(text),
        Unit::Seconds => parse_seconds(text),
        Unit::Ratio => bare(""),
        Unit::Octaves => bare("oct"),
        Unit::Decibels => bare("dB"),
        Unit::Cents => bare("ct"),
        Unit::Semitones => bare("st"),
    }
}

/// The largest distance between a value and the value its text reads back as: half the last
/// shown digit, in the value's units.
pub fn display_step(unit: Unit, value: f32) -> f32 {
    let half_digit = |decimals: usize| 0.5 * 10f32.powi(-(decimals as i32));
    let significant = |v: f32| half_digit(round_significant(v, 3).1);
    match unit {
        Unit::Percent => half_digit(1) / 100.0,
        Unit::Hertz if round_significant(value, 3).0.abs() >= 1_000.0 => {
            1_000.0 * significant(value / 1_000.0)
        }
        Unit::Hertz => significant(value),
        Unit::Seconds if round_significant(value, 3).0 < 1.0 => significant(value * 1e3) / 1e3,
        Unit::Seconds => significant(value),
        Unit::Ratio | Unit::Octaves | Unit::Semitones => half_digit(2),
        Unit::Decibels | Unit::Cents => half_digit(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::theta::{ALL, SPECS};
    use proptest::prelude::*;

    #[test]
    fn significant_digits_keep_small_values_apart() {
        assert_eq!(format_significant(0.00137, 3), "0.00137");
        assert_eq!(format_significant(0.05, 3), "0.0500");
        assert_eq!(format_significant(0.4123, 3), "0.412");
        assert_eq!(format_significant(0.0, 3), "0");
        assert_ne!(format_significant(0.0011, 3), format_significant(0.0014, 3));
        // Rounding that carries into the next decade shows the next decade's decimals.
        assert_eq!(format_significant(0.99963, 3), "1.00");
        assert_eq!(format_seconds(0.00099963), "1.00 ms");
        assert_eq!(format_seconds(0.99963), "1.00 s");
        assert_eq!(format_hz(999.7), "1.00 kHz");
        // Below nine decimals a value reads as zero, and that zero reads back the same.
        assert_eq!(format_seconds(1e-13), "0 ms");
        assert_eq!(format_seconds(parse_seconds("0 ms").unwrap()), "0 ms");
    }

    #[test]
    fn each_unit_reads_as_a_musician_writes_it() {
        assert_eq!(format(Unit::Percent, 0.8), "80.0 %");
        assert_eq!(format(Unit::Hertz, 2_500.0), "2.50 kHz");
        assert_eq!(format(Unit::Seconds, 0.0125), "12.5 ms");
        assert_eq!(format(Unit::Ratio, 0.707), "0.71");
        assert_eq!(format(Unit::Decibels, -0.01), "0.0 dB");
        assert_eq!(parse(Unit::Percent, "80%"), Some(0.8));
        assert_eq!(parse(Unit::Hertz, "1.26 kHz"), Some(1_260.0));
        assert_eq!(parse(Unit::Hertz, "440"), Some(440.0));
        assert_eq!(parse(Unit::Seconds, "1.5 s"), Some(1.5));
        assert_eq!(parse(Unit::Seconds, "2"), Some(2.0));
        assert_eq!(parse(Unit::Octaves, "-1.5 oct"), Some(-1.5));
        assert_eq!(parse(Unit::Cents, "nan"), None);
        assert_eq!(parse(Unit::Seconds, "fast"), None);
        assert_eq!(parse(Unit::Decibels, "inf dB"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Every θ at any knob position: value → text → value → text gives the same text, and
        /// the value read back is within one display step.
        #[test]
        fn every_knob_round_trips_through_its_text(k in 0..ALL.len(), u in 0.0f32..=1.0) {
            let spec = &SPECS[k];
            let value = spec.denormalize(u);
            let text = format(spec.unit, value);
            let back = parse(spec.unit, &text);
            prop_assert!(back.is_some(), "{}: cannot read {text:?}", spec.id);
            let back = back.unwrap().clamp(spec.min, spec.max);
            prop_assert_eq!(format(spec.unit, back), text.clone(), "{} at {}", spec.id, value);
            let step = display_step(spec.unit, value);
            prop_assert!(
                (back - value).abs() <= step * 1.001 + value.abs() * 1e-6,
                "{}: {value} reads back as {back} from {text:?} (step {step})", spec.id
            );
        }
    }

    #[test]
    fn decade_boundaries_round_trip() {
        for unit in [Unit::Seconds, Unit::Hertz] {
            let mut v = 1e-4f32;
            while v < 30_000.0 {
                let text = format(unit, v);
                let back = parse(unit, &text).expect("parses");
                assert_eq!(format(unit, back), text, "{unit:?} {v}");
                v *= 1.0002;
            }
        }
    }
}
