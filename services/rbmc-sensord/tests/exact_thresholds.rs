//! Every sensor of the shipped configs gets SDR factors on which its
//! configured thresholds and hysteresis are exact: what an operator wrote
//! in the config is what ipmitool, FreeIPMI and pyghmi read back.

// This file is a test crate of its own: every item in it is test code.
#![allow(clippy::tests_outside_test_module)]

use std::path::Path;

use rbmc_sensord::sensor::Sensor;

fn config(name: &str) -> rbmc_config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    rbmc_config::Config::from_toml(&text, name).unwrap()
}

#[test]
fn configured_thresholds_and_hysteresis_read_back_exactly() {
    let mut refused = Vec::new();
    for name in ["dev.toml", "ast2600-evb.toml"] {
        for entry in &config(name).sensors {
            let sensor = match Sensor::new(entry, Path::new("/nonexistent")) {
                Ok(sensor) => sensor,
                Err(err) => {
                    refused.push(format!("{name}: {err:?}"));
                    continue;
                }
            };
            let f = sensor.factors;
            let t = &entry.thresholds;
            for value in [t.lnr, t.lcr, t.lnc, t.unc, t.ucr, t.unr]
                .into_iter()
                .flatten()
            {
                let back = f.to_value(f.to_raw(value));
                assert!(
                    (back - value).abs() < 1e-9,
                    "{name} {}: threshold {value} reads back as {back} ({f:?})",
                    entry.name.0
                );
            }
            if entry.hysteresis > 0.0 {
                let steps = (entry.hysteresis / f.resolution()).round();
                assert!(
                    (steps * f.resolution() - entry.hysteresis).abs() < 1e-9,
                    "{name} {}: hysteresis {} is not whole steps of {}",
                    entry.name.0,
                    entry.hysteresis,
                    f.resolution()
                );
            }
        }
    }
    assert!(refused.is_empty(), "{refused:#?}");
}
