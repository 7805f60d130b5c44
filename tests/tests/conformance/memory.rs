//! What every check that reads a saved memory asserts of it.

use anyhow::{Context, Result, ensure};

/// Every number in `v` is finite, and every prototype's weights lie in 0–1.
pub fn ensure_memory_sane(memory: &serde_json::Value) -> Result<usize> {
    let protos = memory["prototypes"].as_array().context("no prototypes")?;
    for (j, p) in protos.iter().enumerate() {
        for w in p["weights"].as_array().context("no weights")? {
            let w = w.as_f64().context("weight not a number")?;
            ensure!((0.0..=1.0).contains(&w), "prototype {j} has weight {w}");
        }
        for (name, v) in p["theta"].as_object().context("no theta")? {
            let v = v.as_f64().context("theta not a number")?;
            ensure!(v.is_finite(), "prototype {j} has {name} = {v}");
        }
    }
    Ok(protos.len())
}
