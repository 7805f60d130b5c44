//! A 2-D view of the embedding for the panel's map: principal component analysis of the
//! prototypes' box centres (power iteration with deflation, deterministic), so the two axes
//! that spread the memory most are the ones drawn, and a new timbre visibly lands apart.

use dar_ddsp_core::memory::encoder::{EMBED_DIM, Embedding};

/// A projection onto the two principal axes of a set of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Mean of the points.
    pub mean: Embedding,
    /// The two axes, unit length (zero when the points do not spread along one).
    pub axes: [Embedding; 2],
}

impl Projection {
    /// The principal axes of `points` (the mean and no axes for fewer than two points).
    pub fn fit(points: &[Embedding]) -> Self {
        let mut mean = [0.0f32; EMBED_DIM];
        for p in points {
            for (m, x) in mean.iter_mut().zip(p) {
                *m += x / points.len() as f32;
            }
        }
        let mut cov = [[0.0f64; EMBED_DIM]; EMBED_DIM];
        for p in points {
            for i in 0..EMBED_DIM {
                for j in 0..EMBED_DIM {
                    cov[i][j] += ((p[i] - mean[i]) * (p[j] - mean[j])) as f64;
                }
            }
        }
        let mut axes = [[0.0f32; EMBED_DIM]; 2];
        for axis in &mut axes {
            let (v, lambda) = dominant(&cov);
            if lambda <= 1e-12 {
                break;
            }
            *axis = v.map(|x| x as f32);
            // Deflate: remove this axis's variance before looking for the next.
            for i in 0..EMBED_DIM {
                for j in 0..EMBED_DIM {
                    cov[i][j] -= lambda * v[i] * v[j];
                }
            }
        }
        Self { mean, axes }
    }

    /// Coordinates of `p` on the two axes.
    pub fn project(&self, p: &Embedding) -> [f32; 2] {
        self.axes.map(|a| {
            a.iter()
                .zip(p.iter().zip(&self.mean))
                .map(|(a, (x, m))| a * (x - m))
                .sum()
        })
    }
}

/// The dominant eigenvector of a symmetric positive semi-definite matrix and its eigenvalue,
/// by power iteration from a fixed start (a sign convention makes the result deterministic).
fn dominant(m: &[[f64; EMBED_DIM]; EMBED_DIM]) -> ([f64; EMBED_DIM], f64) {
    let mut v = [0.0f64; EMBED_DIM];
    for (i, x) in v.iter_mut().enumerate() {
        *x = 1.0 + 0.1 * i as f64;
    }
    let mut lambda = 0.0;
    for _ in 0..200 {
        let mut w = [0.0f64; EMBED_DIM];
        for i in 0..EMBED_DIM {
            w[i] = (0..EMBED_DIM).map(|j| m[i][j] * v[j]).sum();
        }
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm <= 1e-18 {
            return ([0.0; EMBED_DIM], 0.0);
        }
        lambda = norm;
        v = w.map(|x| x / norm);
    }
    // The largest component positive, so the map does not flip between updates.
    let big = v
        .iter()
        .copied()
        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap_or(0.0);
    if big < 0.0 {
        v = v.map(|x| -x);
    }
    (v, lambda)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(a: f32, b: f32) -> Embedding {
        let mut p = [0.5; EMBED_DIM];
        p[3] += a;
        p[7] += b;
        p
    }

    #[test]
    fn the_first_axis_follows_the_widest_spread() {
        let points: Vec<_> = (0..9)
            .map(|i| point(0.1 * i as f32, 0.02 * ((i * 7) % 3) as f32))
            .collect();
        let proj = Projection::fit(&points);
        assert!(proj.axes[0][3].abs() > 0.99, "{:?}", proj.axes[0]);
        assert!(proj.axes[1][7].abs() > 0.99, "{:?}", proj.axes[1]);
        // Spread along x is larger than along y, and the mean lands at the origin.
        let xs: Vec<[f32; 2]> = points.iter().map(|p| proj.project(p)).collect();
        let span = |k: usize| {
            xs.iter().map(|p| p[k]).fold(f32::MIN, f32::max)
                - xs.iter().map(|p| p[k]).fold(f32::MAX, f32::min)
        };
        assert!(span(0) > 5.0 * span(1));
        let c = proj.project(&proj.mean);
        assert!(c[0].abs() < 1e-6 && c[1].abs() < 1e-6);
        // The same points give the same map.
        assert_eq!(Projection::fit(&points), proj);
    }

    #[test]
    fn too_few_points_give_no_axes() {
        let proj = Projection::fit(&[point(0.1, 0.2)]);
        assert_eq!(proj.axes, [[0.0; EMBED_DIM]; 2]);
        assert_eq!(proj.project(&point(0.3, 0.0)), [0.0, 0.0]);
        assert_eq!(Projection::fit(&[]).project(&point(0.0, 0.0)), [0.0, 0.0]);
    }
}
