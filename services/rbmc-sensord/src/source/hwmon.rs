//! Linux hwmon sysfs (Documentation/hwmon/sysfs-interface.rst): each device
//! is a directory `<sysfs>/class/hwmon/hwmonN` with a `name` attribute and
//! `<type><N>_input` attributes in fixed units (millidegrees, millivolts,
//! milliamperes, microwatts, RPM), and `pwm<N>` (0-255) for a fan's duty.
//! `hwmonN` numbers change between boots, so a
//! device is found by its `name`, and optionally by a substring of the
//! path its `hwmonN` link resolves to (e.g. `i2c-3/3-0048`).

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use super::{ReadingSource, SourceError};

/// One hwmon input attribute, located lazily and re-located if it vanishes.
#[derive(Debug)]
pub struct HwmonInput {
    sysfs_root: PathBuf,
    name: String,
    device: Option<String>,
    attribute: String,
    scale: f64,
    located: Mutex<Option<PathBuf>>,
}

impl HwmonInput {
    /// The attribute file `attribute` (`temp1_input`, `pwm1`) of the device
    /// called `name`; raw values are divided by `scale`.
    pub fn new(
        sysfs_root: &Path,
        name: &str,
        device: Option<&str>,
        attribute: &str,
        scale: f64,
    ) -> Self {
        Self {
            sysfs_root: sysfs_root.to_path_buf(),
            name: name.to_owned(),
            device: device.map(str::to_owned),
            attribute: attribute.to_owned(),
            scale,
            located: Mutex::new(None),
        }
    }

    fn locate(&self) -> Result<PathBuf, SourceError> {
        rbmc_daemon::hwmon::find_device(&self.sysfs_root, &self.name, self.device.as_deref())
            .map(|dir| dir.join(&self.attribute))
            .ok_or_else(|| SourceError::DeviceNotFound {
                name: self.name.clone(),
                device: self.device.clone(),
            })
    }
}

impl ReadingSource for HwmonInput {
    fn read(&self) -> Result<f64, SourceError> {
        let mut located = self.located.lock().unwrap_or_else(|e| e.into_inner());
        let path = match &*located {
            Some(path) => path.clone(),
            None => {
                let path = self.locate()?;
                *located = Some(path.clone());
                path
            }
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(source) => {
                // The device may have been unbound and come back as another
                // hwmonN: look it up again next time.
                *located = None;
                return Err(SourceError::Read { path, source });
            }
        };
        let trimmed = text.trim();
        let raw: i64 = trimmed.parse().map_err(|_| SourceError::Parse {
            path: path.clone(),
            text: trimmed.chars().take(32).collect(),
        })?;
        // hwmon values are far below 2^53, so the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let value = raw as f64 / self.scale;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> PathBuf {
        let root = std::env::temp_dir().join(format!(
            "rbmc-hwmon-test-{}-{}",
            std::process::id(),
            std::thread::current()
                .name()
                .unwrap_or("t")
                .replace("::", "-")
        ));
        let _ = std::fs::remove_dir_all(&root);
        for (n, name, file, value) in [
            (0, "nct6779", "temp1_input", "41500\n"),
            (3, "lm75", "temp1_input", "-2500\n"),
            (5, "lm75", "temp1_input", "30000\n"),
        ] {
            let dir = root.join(format!("class/hwmon/hwmon{n}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("name"), format!("{name}\n")).unwrap();
            std::fs::write(dir.join(file), value).unwrap();
        }
        root
    }

    #[test]
    fn finds_devices_by_name_not_index() {
        let root = tree();
        let input = HwmonInput::new(&root, "nct6779", None, "temp1_input", 1000.0);
        assert_eq!(input.read().unwrap(), 41.5);
        let by_path = HwmonInput::new(&root, "lm75", Some("hwmon5"), "temp1_input", 1000.0);
        assert_eq!(by_path.read().unwrap(), 30.0);
        let negative = HwmonInput::new(&root, "lm75", Some("hwmon3"), "temp1_input", 1000.0);
        assert_eq!(negative.read().unwrap(), -2.5);
    }

    #[test]
    fn missing_device_attribute_and_garbage_are_errors() {
        let root = tree();
        let missing = HwmonInput::new(&root, "absent", None, "temp1_input", 1000.0);
        assert!(matches!(
            missing.read(),
            Err(SourceError::DeviceNotFound { .. })
        ));
        let no_attr = HwmonInput::new(&root, "nct6779", None, "temp9_input", 1000.0);
        assert!(matches!(no_attr.read(), Err(SourceError::Read { .. })));
        std::fs::write(root.join("class/hwmon/hwmon0/temp1_input"), "hot\n").unwrap();
        let garbage = HwmonInput::new(&root, "nct6779", None, "temp1_input", 1000.0);
        assert!(matches!(garbage.read(), Err(SourceError::Parse { .. })));
    }

    #[test]
    fn relocates_a_device_that_moved() {
        let root = tree();
        let input = HwmonInput::new(&root, "nct6779", None, "temp1_input", 1000.0);
        assert_eq!(input.read().unwrap(), 41.5);
        std::fs::rename(
            root.join("class/hwmon/hwmon0"),
            root.join("class/hwmon/hwmon7"),
        )
        .unwrap();
        assert!(input.read().is_err());
        assert_eq!(input.read().unwrap(), 41.5);
    }
}
