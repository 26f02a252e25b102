//! Sans-IO IPMI SDR (Sensor Data Record) encoding and sensor value conversion.
//!
//! Everything here is a pure function of its inputs: no sockets, files or
//! clock reads. An SDR repository service builds its records from
//! configuration with the `emit` methods, and a sensor service converts
//! between physical values and the 8-bit raw readings IPMI carries with
//! [`LinearFactors`].
//!
//! # Layout
//!
//! - [`LinearFactors`] (module `factors`): `y = (M*x + B*10^Bexp) *
//!   10^Rexp` (IPMI v2.0 §36.3), plus [`LinearFactors::for_range`], which
//!   picks the finest factors for a value range.
//! - Module `records`: [`Thresholds`], the record encoders
//!   [`FullSensorRecord`] (type 01h, IPMI v2.0 §43.1, Table 43-1),
//!   [`FruDeviceLocator`] (type 11h, §43.8, Table 43-7) and
//!   [`McDeviceLocator`] (type 12h, §43.9, Table 43-8), and [`SdrHeader`],
//!   the 5-byte header that every record starts with.
//! - Module `codes`: the code sets, as `ipmi_wire::code_set!` tables:
//!   [`RecordType`], [`Unit`], [`EntityId`], and [`SensorType`] and
//!   [`EventReadingType`] from ipmi-wire (shared with the SEL); plus the
//!   [`device_capabilities`] bits.
//!
//! The record structs hold each code as the byte the record carries; write
//! it from the named constant, e.g. `sensor_type: SensorType::FAN.0`.
//!
//! ID strings are written as 8-bit ASCII + Latin 1 (type/length byte `C0h |
//! len`, IPMI v2.0 §43.15). The encoders do not fail: characters outside
//! printable ASCII become `?`, and strings are cut to 16 bytes. Use
//! [`validate_id_string`] to reject such strings when loading configuration.
#![forbid(unsafe_code)]

mod codes;
mod factors;
mod grid;
mod records;

pub use codes::{device_capabilities, EntityId, EventReadingType, RecordType, SensorType, Unit};
pub use factors::LinearFactors;
pub use records::{
    validate_id_string, CompactSensorRecord, FruDeviceLocator, FullSensorRecord, McDeviceLocator,
    SdrHeader, Thresholds,
};
use thiserror::Error;

/// SDR version byte: BCD "1.5" with the LS digit in bits 7:4 (IPMI v2.0
/// Table 43-1 byte 3).
pub const SDR_VERSION: u8 = 0x51;
/// Length of the SDR header: record ID (2), version, type, length (IPMI v2.0
/// Table 43-1 bytes 1-5).
pub const HEADER_LEN: usize = 5;
/// Longest ID string a Full Sensor or Device Locator record holds (IPMI v2.0
/// Table 43-1 bytes 49:64, Tables 43-7 and 43-8 bytes 17:32).
pub const ID_STRING_MAX: usize = 16;
/// IPMB slave address of the BMC (IPMB address allocation: 20h is the BMC).
pub const BMC_SLAVE_ADDRESS: u8 = 0x20;

/// Errors from choosing conversion factors and parsing SDRs.
#[derive(Clone, Copy, Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum SdrError {
    /// The range is empty, reversed or not finite.
    #[error("invalid sensor range [{min}, {max}]: need finite min < max")]
    InvalidRange {
        /// Requested lower end.
        min: f64,
        /// Requested upper end.
        max: f64,
    },
    /// No M, B and exponents within their bit widths cover the range.
    #[error("sensor range [{min}, {max}] cannot be encoded with 8-bit linear SDR factors")]
    Unrepresentable {
        /// Requested lower end.
        min: f64,
        /// Requested upper end.
        max: f64,
    },
    /// No factors covering the range have every configured value on their
    /// grid (or the resolution asked for cannot hold them).
    #[error(
        "sensor range [{min}, {max}]: no 8-bit linear factors have every configured threshold \
         and hysteresis exactly on their grid; pick values on a common step, or a resolution"
    )]
    NotExact {
        /// Requested lower end.
        min: f64,
        /// Requested upper end.
        max: f64,
    },
    /// M or B does not fit 10 bits, or an exponent 4 bits (2's complement).
    #[error("linear factor out of range: M and B are 10-bit, exponents 4-bit signed")]
    FactorOutOfRange,
    /// Fewer bytes than the structure needs.
    #[error("truncated SDR: need {needed} bytes, got {got}")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// SDR version other than 51h.
    #[error("unsupported SDR version {0:#04x}, expected 0x51")]
    UnsupportedVersion(u8),
    /// ID string longer than 16 bytes or not printable ASCII.
    #[error("ID string must be at most 16 printable ASCII characters")]
    InvalidIdString,
}

#[cfg(test)]
mod tests;
