//! Where readings come from: the kernel's interfaces, behind one small trait.
//!
//! - [`hwmon`]: Linux hwmon sysfs attributes, the device found by its `name`.
//! - [`iio`]: Linux industrial-I/O channels (ADCs), the device found by its
//!   `name`.
//! - [`i2c`]: LM75-class and PMBus parts read directly over i2c-dev.
//!
//! Every source answers `Ok(value)` in the sensor's unit or a
//! [`SourceError`]; a failing source makes only its own sensor "no reading".

pub mod hwmon;
pub mod i2c;
pub mod iio;

use std::path::PathBuf;

/// Why a reading could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// No hwmon device has the configured name (and device path).
    #[error("no hwmon device named {name:?}{}", .device.as_ref().map(|d| format!(" at {d:?}")).unwrap_or_default())]
    DeviceNotFound {
        /// The `name` looked for.
        name: String,
        /// The device path filter, if any.
        device: Option<String>,
    },
    /// No iio device has the configured name.
    #[error("no iio device named {name:?}")]
    IioDeviceNotFound {
        /// The `name` looked for.
        name: String,
    },
    /// The attribute could not be read (missing, EIO, ENODATA...).
    #[error("{path}: {source}")]
    Read {
        /// The attribute file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The attribute did not hold a number (iio scales and offsets are
    /// decimals).
    #[error("{path}: not a number: {text:?}")]
    NotANumber {
        /// The attribute file.
        path: PathBuf,
        /// What it held (trimmed, at most 32 bytes).
        text: String,
    },
    /// The attribute did not hold an integer.
    #[error("{path}: not an integer: {text:?}")]
    Parse {
        /// The attribute file.
        path: PathBuf,
        /// What it held (trimmed, at most 32 bytes).
        text: String,
    },
}

/// A source of readings for one sensor.
pub trait ReadingSource: Send + Sync + std::fmt::Debug {
    /// Takes one reading, in the sensor's unit.
    fn read(&self) -> Result<f64, SourceError>;
}
