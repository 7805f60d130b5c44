//! θ algebra the audio thread calls: sanitizing a patch, morphing between two in knob space,
//! and playing the plugin's knobs as offsets on a learned patch. Allocation-free.

use crate::plant::{SPECS, Theta, default_theta};

/// θ clamped into each parameter's range; non-finite values become the default.
pub fn sanitize(theta: &Theta<f32>) -> Theta<f32> {
    let d = default_theta();
    std::array::from_fn(|k| {
        let v = theta[k];
        if v.is_finite() {
            v.clamp(SPECS[k].min, SPECS[k].max)
        } else {
            d[k]
        }
    })
}

/// θ between `a` and `b` at `t` (0 = a, 1 = b), interpolated in knob space (log for times and
/// frequencies), so a morph moves the way the knobs would.
pub fn morph(a: &Theta<f32>, b: &Theta<f32>, t: f32) -> Theta<f32> {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    if t == 0.0 {
        return *a;
    }
    if t == 1.0 {
        return *b;
    }
    std::array::from_fn(|k| {
        let (za, zb) = (SPECS[k].normalize(a[k]), SPECS[k].normalize(b[k]));
        SPECS[k].denormalize(za + (zb - za) * t)
    })
}

/// Applies the plant knobs as offsets: each knob moved from its default by some share of its
/// travel moves the learned value by the same share (clamped to the range). Knobs at their
/// defaults play the learned patch exactly.
pub fn with_offsets(learned: &Theta<f32>, knobs: &Theta<f32>) -> Theta<f32> {
    let d = default_theta();
    std::array::from_fn(|k| {
        let s = &SPECS[k];
        let offset = s.normalize(knobs[k]) - s.normalize(d[k]);
        if offset == 0.0 {
            learned[k]
        } else {
            s.denormalize((s.normalize(learned[k]) + offset).clamp(0.0, 1.0))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::P;
    use crate::plant::archetypes::archetypes;

    #[test]
    fn morph_offsets_and_sanitize() {
        let arch = archetypes();
        // The default saw and the soft sine with breath: clearly different timbres.
        let [a, b] = [arch[0], arch[3]];
        assert_eq!(morph(&a, &b, 0.0), a);
        let m = morph(&a, &b, 1.0);
        assert!(
            m.iter()
                .zip(&b)
                .all(|(x, y)| (x - y).abs() <= 1e-3 * y.abs().max(1.0))
        );
        // Knobs at their defaults play the learned patch exactly.
        assert_eq!(with_offsets(&a, &default_theta()), a);
        let mut knobs = default_theta();
        knobs[P::Cutoff as usize] = SPECS[P::Cutoff as usize].max;
        let brighter = with_offsets(&a, &knobs);
        assert!(brighter[P::Cutoff as usize] >= a[P::Cutoff as usize]);
        let mut broken = a;
        broken[0] = f32::NAN;
        broken[1] = 1e9;
        let s = sanitize(&broken);
        assert!(
            s.iter()
                .zip(SPECS.iter())
                .all(|(v, sp)| (sp.min..=sp.max).contains(v))
        );
    }
}
