//! Linux industrial I/O (ABI: Documentation/ABI/testing/sysfs-bus-iio): each
//! device is `<sysfs>/bus/iio/devices/iio:deviceN` with a `name` attribute
//! and, per channel, `in_<type><N>_raw`. The reading in milli-units is
//! `(raw + offset) * scale`, where scale and offset are the channel's own
//! (`in_<type><N>_scale`) or shared by the type (`in_<type>_scale`), and
//! absent means 1 and 0. `iio:deviceN` numbers follow probe order, so the
//! device is found by its `name` (e.g. `ast2600-adc0`).

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use super::{ReadingSource, SourceError};

/// One iio channel, located lazily and re-located if it vanishes.
#[derive(Debug)]
pub struct IioChannel {
    sysfs_root: PathBuf,
    device: String,
    /// `in_<type><N>`, e.g. `in_voltage3`.
    channel: String,
    /// `in_<type>`, for the attributes the type's channels share.
    shared: String,
    /// How many milli-units make one unit of the sensor.
    scale: f64,
    located: Mutex<Option<PathBuf>>,
}

impl IioChannel {
    /// Channel `channel` of type `channel_type` (`voltage`, `temp`,
    /// `current`) of the iio device called `device`; milli-unit readings
    /// are divided by `scale`.
    pub fn new(
        sysfs_root: &Path,
        device: &str,
        channel_type: &str,
        channel: u8,
        scale: f64,
    ) -> Self {
        Self {
            sysfs_root: sysfs_root.to_path_buf(),
            device: device.to_owned(),
            channel: format!("in_{channel_type}{channel}"),
            shared: format!("in_{channel_type}"),
            scale,
            located: Mutex::new(None),
        }
    }

    fn locate(&self) -> Result<PathBuf, SourceError> {
        let not_found = || SourceError::IioDeviceNotFound {
            name: self.device.clone(),
        };
        let devices = self.sysfs_root.join("bus/iio/devices");
        let entries = std::fs::read_dir(&devices).map_err(|_| not_found())?;
        entries
            .flatten()
            .map(|entry| entry.path())
            .find(|dir| {
                std::fs::read_to_string(dir.join("name"))
                    .is_ok_and(|name| name.trim() == self.device)
            })
            .ok_or_else(not_found)
    }

    /// The channel's own attribute `suffix`, else the type's, else `absent`.
    fn factor(&self, dir: &Path, suffix: &str, absent: f64) -> Result<f64, SourceError> {
        for name in [&self.channel, &self.shared] {
            let path = dir.join(format!("{name}_{suffix}"));
            match std::fs::read_to_string(&path) {
                Ok(text) => return parse(&path, &text),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(SourceError::Read { path, source }),
            }
        }
        Ok(absent)
    }

    fn read_at(&self, dir: &Path) -> Result<f64, SourceError> {
        let path = dir.join(format!("{}_raw", self.channel));
        let text = std::fs::read_to_string(&path).map_err(|source| SourceError::Read {
            path: path.clone(),
            source,
        })?;
        let trimmed = text.trim();
        let raw: i64 = trimmed.parse().map_err(|_| SourceError::Parse {
            path: path.clone(),
            text: trimmed.chars().take(32).collect(),
        })?;
        let offset = self.factor(dir, "offset", 0.0)?;
        let scale = self.factor(dir, "scale", 1.0)?;
        // ADC codes are far below 2^53, so the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let milli = (raw as f64 + offset) * scale;
        Ok(milli / self.scale)
    }
}

fn parse(path: &Path, text: &str) -> Result<f64, SourceError> {
    let trimmed = text.trim();
    trimmed
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| SourceError::NotANumber {
            path: path.to_path_buf(),
            text: trimmed.chars().take(32).collect(),
        })
}

impl ReadingSource for IioChannel {
    fn read(&self) -> Result<f64, SourceError> {
        let mut located = self.located.lock().unwrap_or_else(|e| e.into_inner());
        let dir = match &*located {
            Some(dir) => dir.clone(),
            None => {
                let dir = self.locate()?;
                *located = Some(dir.clone());
                dir
            }
        };
        let reading = self.read_at(&dir);
        if matches!(reading, Err(SourceError::Read { .. })) {
            // The device may have been unbound and come back as another
            // iio:deviceN: look it up again next time.
            *located = None;
        }
        reading
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(test: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("rbmc-iio-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (n, name, files) in [
            (
                0,
                "ast2600-adc1",
                &[("in_voltage0_raw", "100\n"), ("in_voltage_scale", "2\n")][..],
            ),
            (
                2,
                "ast2600-adc0",
                &[
                    // The AST2600 ADC: 10 bits over 2.5 V.
                    ("in_voltage0_raw", "512\n"),
                    ("in_voltage1_raw", "1023\n"),
                    ("in_voltage_scale", "2.441406250\n"),
                    ("in_voltage1_offset", "1\n"),
                ][..],
            ),
        ] {
            let dir = root.join(format!("bus/iio/devices/iio:device{n}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("name"), format!("{name}\n")).unwrap();
            for (file, value) in files {
                std::fs::write(dir.join(file), value).unwrap();
            }
        }
        root
    }

    #[test]
    fn reads_a_channel_of_the_device_named_with_its_scale_and_offset() {
        let root = tree("named");
        let half = IioChannel::new(&root, "ast2600-adc0", "voltage", 0, 1000.0);
        assert_eq!(half.read().unwrap(), 1.25);
        let full = IioChannel::new(&root, "ast2600-adc0", "voltage", 1, 1000.0);
        assert_eq!(full.read().unwrap(), 2.5);
        let other = IioChannel::new(&root, "ast2600-adc1", "voltage", 0, 1000.0);
        assert_eq!(other.read().unwrap(), 0.2);
    }

    #[test]
    fn a_channels_own_scale_wins_and_no_scale_means_one() {
        let root = tree("own");
        let dir = root.join("bus/iio/devices/iio:device2");
        std::fs::write(dir.join("in_voltage0_scale"), "1\n").unwrap();
        let own = IioChannel::new(&root, "ast2600-adc0", "voltage", 0, 1000.0);
        assert_eq!(own.read().unwrap(), 0.512);
        std::fs::remove_file(dir.join("in_voltage_scale")).unwrap();
        let unscaled = IioChannel::new(&root, "ast2600-adc0", "voltage", 1, 1000.0);
        assert_eq!(unscaled.read().unwrap(), 1.024);
    }

    #[test]
    fn missing_device_channel_and_garbage_are_errors() {
        let root = tree("errors");
        let missing = IioChannel::new(&root, "ast2500-adc", "voltage", 0, 1000.0);
        assert!(matches!(
            missing.read(),
            Err(SourceError::IioDeviceNotFound { .. })
        ));
        let no_channel = IioChannel::new(&root, "ast2600-adc0", "voltage", 7, 1000.0);
        assert!(matches!(no_channel.read(), Err(SourceError::Read { .. })));
        let dir = root.join("bus/iio/devices/iio:device2");
        std::fs::write(dir.join("in_voltage_scale"), "lots\n").unwrap();
        let garbage = IioChannel::new(&root, "ast2600-adc0", "voltage", 0, 1000.0);
        assert!(matches!(
            garbage.read(),
            Err(SourceError::NotANumber { .. })
        ));
    }

    #[test]
    fn relocates_a_device_that_moved() {
        let root = tree("moved");
        let input = IioChannel::new(&root, "ast2600-adc0", "voltage", 0, 1000.0);
        assert_eq!(input.read().unwrap(), 1.25);
        let devices = root.join("bus/iio/devices");
        std::fs::rename(devices.join("iio:device2"), devices.join("iio:device5")).unwrap();
        assert!(input.read().is_err());
        assert_eq!(input.read().unwrap(), 1.25);
    }
}
