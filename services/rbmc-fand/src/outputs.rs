//! The fans' PWM outputs: hwmon `pwmN` attributes, 0-255
//! (Documentation/hwmon/sysfs-interface.rst). rbmc-fand is their only
//! writer; rbmc-sensord reads them as `pwm` sensors. Where the driver has
//! `pwmN_enable`, it is set to 1 (manual: the value written is the duty)
//! when the output is opened.
//!
//! On the dev box the simulator's tree under `<state>/sim/sys` holds the
//! same files, so the code that writes a BMC's fans writes the simulated
//! ones.

use std::path::{Path, PathBuf};

use rbmc_config::{SensorEntry, Source};
use rbmc_daemon::ConfigProblem;

/// A PWM output, found and writable.
#[derive(Debug)]
pub struct PwmOutput {
    /// The `pwm` sensor's name.
    pub name: String,
    path: PathBuf,
}

/// The hwmon count for `percent` (0-100): 255 is 100 %.
pub fn raw_of_percent(percent: f64) -> u8 {
    let raw = (percent.clamp(0.0, 100.0) * 2.55).round();
    // In 0..=255 by the clamp.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let raw = raw as u8;
    raw
}

/// The percentage of a hwmon count.
pub fn percent_of_raw(raw: u8) -> f64 {
    f64::from(raw) / 2.55
}

impl PwmOutput {
    /// Finds the `pwmN` of `entry` (a `pwm` sensor with a hwmon source)
    /// under `sysfs_root`. A device or attribute that is not there is a
    /// config problem: the daemon stops with 78 and names it.
    pub fn open(sysfs_root: &Path, entry: &SensorEntry) -> Result<Self, ConfigProblem> {
        let name = entry.name.0.clone();
        let Source::Hwmon {
            name: device_name,
            input,
            device,
        } = &entry.source
        else {
            return Err(ConfigProblem(format!(
                "fan pwm {name:?}: not a hwmon source"
            )));
        };
        let attribute = entry.kind.hwmon_attribute(input);
        let dir = rbmc_daemon::hwmon::find_device(sysfs_root, device_name, device.as_deref())
            .ok_or_else(|| {
                ConfigProblem(format!(
                    "fan pwm {name:?}: no hwmon device named {device_name:?}{} under {}",
                    device
                        .as_ref()
                        .map(|d| format!(" at {d:?}"))
                        .unwrap_or_default(),
                    sysfs_root.join("class/hwmon").display()
                ))
            })?;
        let path = dir.join(&attribute);
        let writable = std::fs::OpenOptions::new().write(true).open(&path);
        if let Err(err) = writable {
            return Err(ConfigProblem(format!(
                "fan pwm {name:?}: {} cannot be written: {err}",
                path.display()
            )));
        }
        let enable = dir.join(format!("{attribute}_enable"));
        if enable.exists() {
            std::fs::write(&enable, "1\n").map_err(|err| {
                ConfigProblem(format!(
                    "fan pwm {name:?}: {} cannot be set to manual: {err}",
                    enable.display()
                ))
            })?;
        }
        Ok(Self { name, path })
    }

    /// Writes the duty; returns the count written.
    pub fn write(&self, percent: f64) -> std::io::Result<u8> {
        let raw = raw_of_percent(percent);
        std::fs::write(&self.path, format!("{raw}\n"))?;
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(input: &str) -> SensorEntry {
        let config = rbmc_config::Config::from_toml(
            &format!(
                r#"
[[sensors]]
name = "FAN1 PWM"
number = 1
kind = "pwm"
entity-id = 29
range = [0.0, 100.0]
source = {{ type = "hwmon", name = "fanctl", input = "{input}" }}
"#
            ),
            "t.toml",
        )
        .unwrap();
        config.sensors[0].clone()
    }

    #[test]
    fn percent_and_counts_convert_both_ways() {
        assert_eq!(raw_of_percent(100.0), 255);
        assert_eq!(raw_of_percent(0.0), 0);
        assert_eq!(raw_of_percent(40.0), 102);
        assert_eq!(raw_of_percent(150.0), 255);
        assert!((percent_of_raw(raw_of_percent(37.0)) - 37.0).abs() < 0.25);
    }

    #[test]
    fn an_output_is_found_by_device_name_and_written_in_counts() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("class/hwmon/hwmon4");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("name"), "fanctl\n").unwrap();
        std::fs::write(dir.join("pwm1"), "255\n").unwrap();
        std::fs::write(dir.join("pwm1_enable"), "2\n").unwrap();
        let output = PwmOutput::open(root.path(), &entry("pwm1")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("pwm1_enable")).unwrap(),
            "1\n"
        );
        assert_eq!(output.write(40.0).unwrap(), 102);
        assert_eq!(std::fs::read_to_string(dir.join("pwm1")).unwrap(), "102\n");

        let missing = PwmOutput::open(root.path(), &entry("pwm7")).unwrap_err();
        assert!(
            missing.0.contains("\"FAN1 PWM\"") && missing.0.contains("pwm7"),
            "{missing}"
        );
        let elsewhere = tempfile::tempdir().unwrap();
        let no_device = PwmOutput::open(elsewhere.path(), &entry("pwm1")).unwrap_err();
        assert!(
            no_device.0.contains("no hwmon device named \"fanctl\""),
            "{no_device}"
        );
    }
}
