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
//! - [`LinearFactors`]: `y = (M*x + B*10^Bexp) * 10^Rexp` (IPMI v2.0 §36.3),
//!   plus [`LinearFactors::for_range`], which picks the finest factors for a
//!   value range.
//! - [`Thresholds`]: raw threshold values and their mask.
//! - [`FullSensorRecord`] (type 01h, IPMI v2.0 §43.1, Table 43-1),
//!   [`FruDeviceLocator`] (type 11h, §43.8, Table 43-7) and
//!   [`McDeviceLocator`] (type 12h, §43.9, Table 43-8): record encoders.
//! - [`SdrHeader`]: the 5-byte header that every record starts with.
//! - Code sets: [`record_type`], [`sensor_type`], [`event_reading_type`],
//!   [`unit`](mod@unit), [`entity_id`], [`device_capabilities`].
//!
//! ID strings are written as 8-bit ASCII + Latin 1 (type/length byte `C0h |
//! len`, IPMI v2.0 §43.15). The encoders do not fail: characters outside
//! printable ASCII become `?`, and strings are cut to 16 bytes. Use
//! [`validate_id_string`] to reject such strings when loading configuration.
#![forbid(unsafe_code)]

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

/// Defines a module of documented `u8` code constants, one per line.
macro_rules! codes {
    ($(#[$meta:meta])* $module:ident { $($name:ident = $value:literal, $doc:literal;)* }) => {
        $(#[$meta])*
        pub mod $module {
            $(#[doc = $doc] pub const $name: u8 = $value;)*
        }
    };
}

codes! {
    /// SDR record type codes (IPMI v2.0 §43; header byte 4).
    record_type {
        FULL_SENSOR = 0x01, "Full Sensor Record (IPMI v2.0 §43.1, Table 43-1).";
        COMPACT_SENSOR = 0x02, "Compact Sensor Record (IPMI v2.0 §43.2, Table 43-2).";
        EVENT_ONLY = 0x03, "Event-Only Record (IPMI v2.0 §43.3, Table 43-3).";
        ENTITY_ASSOCIATION = 0x08, "Entity Association Record (IPMI v2.0 §43.4, Table 43-4).";
        GENERIC_DEVICE_LOCATOR = 0x10, "Generic Device Locator Record (IPMI v2.0 §43.7).";
        FRU_DEVICE_LOCATOR = 0x11, "FRU Device Locator Record (IPMI v2.0 §43.8, Table 43-7).";
        MC_DEVICE_LOCATOR = 0x12, "Management Controller Device Locator (IPMI v2.0 §43.9, Table 43-8).";
        OEM = 0xC0, "OEM record (IPMI v2.0 §43).";
    }
}

codes! {
    /// Sensor type codes (IPMI v2.0 §42.2, Table 42-3).
    sensor_type {
        TEMPERATURE = 0x01, "Temperature.";
        VOLTAGE = 0x02, "Voltage.";
        CURRENT = 0x03, "Current.";
        FAN = 0x04, "Fan.";
        PHYSICAL_SECURITY = 0x05, "Physical security (chassis intrusion).";
        PROCESSOR = 0x07, "Processor.";
        POWER_SUPPLY = 0x08, "Power supply.";
        POWER_UNIT = 0x09, "Power unit.";
        COOLING_DEVICE = 0x0A, "Cooling device.";
        OTHER_UNITS_BASED = 0x0B, "Other units-based sensor (e.g. power in watts).";
        MEMORY = 0x0C, "Memory.";
        EVENT_LOGGING_DISABLED = 0x10, "Event logging disabled.";
        SYSTEM_EVENT = 0x12, "System event.";
        BUTTON_SWITCH = 0x14, "Button / switch.";
        SYSTEM_ACPI_POWER_STATE = 0x22, "System ACPI power state.";
        WATCHDOG_2 = 0x23, "Watchdog 2.";
        ENTITY_PRESENCE = 0x25, "Entity presence.";
        MANAGEMENT_SUBSYSTEM_HEALTH = 0x28, "Management subsystem health.";
        BATTERY = 0x29, "Battery.";
    }
}

codes! {
    /// Event/reading type codes (IPMI v2.0 §42.1, Table 42-1).
    event_reading_type {
        UNSPECIFIED = 0x00, "Unspecified.";
        THRESHOLD = 0x01, "Threshold-based sensor.";
        USAGE_STATE = 0x02, "Generic discrete: DMI-based usage state.";
        DIGITAL_DISCRETE = 0x03, "Generic discrete: state deasserted / asserted.";
        PREDICTIVE_FAILURE = 0x04, "Generic discrete: predictive failure.";
        LIMIT = 0x05, "Generic discrete: limit not exceeded / exceeded.";
        PRESENCE = 0x08, "Generic discrete: device removed / inserted.";
        ENABLED = 0x09, "Generic discrete: device disabled / enabled.";
        REDUNDANCY = 0x0B, "Generic discrete: redundancy states.";
        SENSOR_SPECIFIC = 0x6F, "Sensor-specific: offsets from the sensor type (Table 42-3).";
    }
}

codes! {
    /// Sensor unit type codes (IPMI v2.0 §43.17, Table 43-15).
    unit {
        UNSPECIFIED = 0, "Unspecified.";
        DEGREES_C = 1, "Degrees C.";
        DEGREES_F = 2, "Degrees F.";
        DEGREES_K = 3, "Degrees K.";
        VOLTS = 4, "Volts.";
        AMPS = 5, "Amps.";
        WATTS = 6, "Watts.";
        JOULES = 7, "Joules.";
        CFM = 17, "CFM (cubic feet per minute).";
        RPM = 18, "RPM.";
        HZ = 19, "Hz.";
        SECOND = 22, "Seconds.";
    }
}

codes! {
    /// Entity ID codes (IPMI v2.0 §43.14, Table 43-13).
    entity_id {
        UNSPECIFIED = 0x00, "Unspecified.";
        PROCESSOR = 0x03, "Processor.";
        SYSTEM_MANAGEMENT_MODULE = 0x06, "System management module (e.g. the BMC).";
        SYSTEM_BOARD = 0x07, "System board.";
        MEMORY_MODULE = 0x08, "Memory module.";
        POWER_SUPPLY = 0x0A, "Power supply.";
        SYSTEM_CHASSIS = 0x17, "System chassis.";
        FAN = 0x1D, "Fan / cooling device.";
        COOLING_UNIT = 0x1E, "Cooling unit / cooling domain.";
        MEMORY_DEVICE = 0x20, "Memory device.";
        AIR_INLET = 0x37, "Air inlet.";
    }
}

codes! {
    /// Device capability bits of the MC Device Locator (IPMI v2.0 Table 43-8 byte 9).
    device_capabilities {
        SENSOR_DEVICE = 0x01, "Sensor device: accepts sensor commands.";
        SDR_REPOSITORY = 0x02, "SDR repository device.";
        SEL = 0x04, "SEL device.";
        FRU_INVENTORY = 0x08, "FRU inventory device: FRU commands to device 0 at LUN 00b.";
        IPMB_EVENT_RECEIVER = 0x10, "IPMB event receiver.";
        IPMB_EVENT_GENERATOR = 0x20, "IPMB event generator.";
        BRIDGE = 0x40, "Bridge: responds to Bridge NetFn commands.";
        CHASSIS = 0x80, "Chassis device (per the ICMB spec).";
    }
}

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

/// Linear conversion factors of a Full Sensor Record (IPMI v2.0 §36.3):
/// `y = (M*x + B*10^Bexp) * 10^Rexp`, where `x` is the raw reading.
///
/// They are stored in Table 43-1 bytes 25-30 (1-based, as the spec counts):
///
/// ```text
///        7   6   5   4   3   2   1   0
///      +-------------------------------+
///  25  |            M [7:0]            |
///      +-------+-----------------------+
///  26  |M [9:8]|    tolerance [5:0]    |
///      +-------------------------------+
///  27  |            B [7:0]            |
///      +-------+-----------------------+
///  28  |B [9:8]|    accuracy [5:0]     |
///      +---------------+-------+-------+
///  29  | accuracy [9:6]|acc exp|  dir  |
///      +---------------+-------+-------+
///  30  |     R exp     |     B exp     |
///      +---------------+---------------+
/// ```
///
/// M and B are 10-bit and the exponents 4-bit 2's complement numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearFactors {
    /// Multiplier M, 10-bit signed (-512..=511).
    pub m: i16,
    /// Offset B, 10-bit signed (-512..=511).
    pub b: i16,
    /// B exponent, 4-bit signed (-8..=7).
    pub b_exp: i8,
    /// Result exponent, 4-bit signed (-8..=7).
    pub r_exp: i8,
    /// The raw reading is 2's complement (analog data format 10b, Table 43-1
    /// byte 21 bits 7:6); otherwise it is unsigned (00b).
    pub signed: bool,
}

impl LinearFactors {
    /// Factors from their fields, checking each fits its bit width.
    pub fn new(m: i16, b: i16, b_exp: i8, r_exp: i8, signed: bool) -> Result<Self, SdrError> {
        let ten_bits = -512..=511;
        let four_bits = -8..=7;
        if ten_bits.contains(&m)
            && ten_bits.contains(&b)
            && four_bits.contains(&b_exp)
            && four_bits.contains(&r_exp)
        {
            Ok(Self {
                m,
                b,
                b_exp,
                r_exp,
                signed,
            })
        } else {
            Err(SdrError::FactorOutOfRange)
        }
    }

    /// Best resolution (smallest step) 8-bit encoding covering `[min, max]`.
    ///
    /// The raw reading is unsigned (0..=255) when `min >= 0`, otherwise 2's
    /// complement (-128..=127). M is kept in 1..=511; among equal steps the
    /// smallest M wins, and B is the representable offset nearest zero.
    /// Coverage holds to within `1e-9 * (max - min)` of floating-point slack.
    pub fn for_range(min: f64, max: f64) -> Result<Self, SdrError> {
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(SdrError::InvalidRange { min, max });
        }
        let span = max - min;
        if !span.is_finite() {
            return Err(SdrError::Unrepresentable { min, max });
        }
        let signed = min < 0.0;
        let (lo, hi) = raw_bounds(signed);
        let mut best: Option<Self> = None;
        // Large exponents first, so that of two equal steps (M=1, R=0 and
        // M=10, R=-1) the smaller M is found first and kept.
        for r_exp in (-8..=7).rev() {
            for m in 1..=511 {
                let step = scale(f64::from(m), i32::from(r_exp));
                if step * f64::from(hi - lo) < span * (1.0 - COVER_SLACK) {
                    continue;
                }
                if best.is_some_and(|b| step >= b.resolution() * (1.0 - 1e-12)) {
                    break;
                }
                if let Some(found) = Self::with_offset(m, r_exp, signed, min, max) {
                    best = Some(found);
                    break;
                }
            }
        }
        best.ok_or(SdrError::Unrepresentable { min, max })
    }

    /// The physical value of a raw reading.
    pub fn to_value(&self, raw: u8) -> f64 {
        let x = if self.signed {
            f64::from(i8::from_ne_bytes([raw]))
        } else {
            f64::from(raw)
        };
        let offset = scale(f64::from(self.b), i32::from(self.b_exp));
        scale(f64::from(self.m) * x + offset, i32::from(self.r_exp))
    }

    /// Nearest raw value, clamped to the raw range. NaN maps to the lowest
    /// raw value (0 unsigned, -128 signed).
    pub fn to_raw(&self, value: f64) -> u8 {
        let (lo, hi) = raw_bounds(self.signed);
        let offset = scale(f64::from(self.b), i32::from(self.b_exp));
        let x = (scale(value, -i32::from(self.r_exp)) - offset) / f64::from(self.m);
        let x = if x.is_nan() {
            f64::from(lo)
        } else {
            x.round().clamp(f64::from(lo), f64::from(hi))
        };
        // The low byte of an i16 in -128..=127 is its i8 encoding, and in
        // 0..=255 its u8 encoding.
        f64_to_i16(x).to_le_bytes()[0]
    }

    /// Value difference of one raw step: `|M| * 10^Rexp`.
    pub fn resolution(&self) -> f64 {
        scale(f64::from(self.m.unsigned_abs()), i32::from(self.r_exp))
    }

    /// Finds B and B exp that put `[min, max]` inside the raw range for this
    /// M and R exp, or `None`.
    fn with_offset(m: i16, r_exp: i8, signed: bool, min: f64, max: f64) -> Option<Self> {
        let (lo, hi) = raw_bounds(signed);
        let step = scale(f64::from(m), i32::from(r_exp));
        // The offset O = B * 10^(Bexp+Rexp) must give O + lo*step <= min and
        // O + hi*step >= max.
        let (o_lo, o_hi) = (max - f64::from(hi) * step, min - f64::from(lo) * step);
        // Coarsest offset unit first: fewest significant digits in B.
        for b_exp in (-8..=7).rev() {
            let unit = scale(1.0, i32::from(b_exp) + i32::from(r_exp));
            let b_lo = (o_lo / unit).ceil().max(-512.0);
            let b_hi = (o_hi / unit).floor().min(511.0);
            if b_lo > b_hi {
                continue;
            }
            let b = f64_to_i16(0.0_f64.clamp(b_lo, b_hi));
            let b_exp = if b == 0 { 0 } else { b_exp };
            let found = Self {
                m,
                b,
                b_exp,
                r_exp,
                signed,
            };
            if found.covers(min, max) {
                return Some(found);
            }
        }
        None
    }

    /// Whether the raw range reaches `min` and `max`, up to float slack.
    fn covers(&self, min: f64, max: f64) -> bool {
        let slack = (max - min) * COVER_SLACK;
        let (lo, hi) = raw_bounds(self.signed);
        let [lo, hi] = [lo, hi].map(|x| x.to_le_bytes()[0]);
        self.to_value(lo) <= min + slack && self.to_value(hi) >= max - slack
    }
}

/// Relative floating-point slack allowed when checking range coverage.
const COVER_SLACK: f64 = 1e-9;

/// Raw reading bounds: 2's complement or unsigned 8-bit.
fn raw_bounds(signed: bool) -> (i16, i16) {
    if signed {
        (-128, 127)
    } else {
        (0, 255)
    }
}

/// `v * 10^e`, dividing for negative `e` so that exact decimals stay exact.
fn scale(v: f64, e: i32) -> f64 {
    if e >= 0 {
        v * 10_f64.powi(e)
    } else {
        v / 10_f64.powi(-e)
    }
}

/// Converts an integral, range-checked float. `as` saturates, so even a
/// wrong caller cannot cause undefined values, only a clamped one.
#[allow(
    clippy::cast_possible_truncation,
    reason = "callers round and clamp into the i16 range first"
)]
fn f64_to_i16(x: f64) -> i16 {
    x as i16
}

/// Threshold values by name, raw. `None` means the sensor has no such
/// threshold.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Thresholds {
    /// Lower non-critical.
    pub lnc: Option<u8>,
    /// Lower critical.
    pub lcr: Option<u8>,
    /// Lower non-recoverable.
    pub lnr: Option<u8>,
    /// Upper non-critical.
    pub unc: Option<u8>,
    /// Upper critical.
    pub ucr: Option<u8>,
    /// Upper non-recoverable.
    pub unr: Option<u8>,
}

impl Thresholds {
    /// Bit mask as in Get/Set Sensor Thresholds (IPMI v2.0 §35.8, §35.9) and
    /// the SDR readable/settable masks (Table 43-1 bytes 19-20): bit0 LNC,
    /// bit1 LCR, bit2 LNR, bit3 UNC, bit4 UCR, bit5 UNR.
    pub fn mask(&self) -> u8 {
        self.in_mask_order()
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some())
            .fold(0, |acc, (bit, _)| acc | 1 << bit)
    }

    /// The thresholds in mask bit order (LNC, LCR, LNR, UNC, UCR, UNR), the
    /// order of the Get Sensor Thresholds response body.
    pub fn in_mask_order(&self) -> [Option<u8>; 6] {
        [self.lnc, self.lcr, self.lnr, self.unc, self.ucr, self.unr]
    }
}

/// A threshold-based Full Sensor Record (type 01h, IPMI v2.0 §43.1).
///
/// ```text
/// byte  field (Table 43-1, 1-based)        byte  field
///  1-2  record ID (LS first)               25-30 M, B, exponents (LinearFactors)
///    3  SDR version 51h                       31 analog characteristic flags
///    4  record type 01h                       32 nominal reading
///    5  record length (bytes after 5)      33-34 normal max / min (unused, 0)
///    6  sensor owner ID                    35-36 sensor max / min reading
///    7  [7:4] channel, [1:0] owner LUN     37-39 UNR, UCR, UNC thresholds
///    8  sensor number                      40-42 LNR, LCR, LNC thresholds
/// 9-10  entity ID, entity instance         43-44 positive/negative hysteresis
///   11  sensor initialization              45-46 reserved
///   12  sensor capabilities                   47 OEM
///13-14  sensor type, event/reading type       48 ID string type/length
///15-16  assertion mask | lower reading     49:64 ID string bytes
///17-18  deassertion mask | upper reading
///   19  readable threshold mask
///   20  settable threshold mask
///21-23  units 1 (analog format), base unit, modifier unit
///   24  linearization (00h linear)
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FullSensorRecord {
    /// Record ID (0000h and FFFFh are reserved by Get SDR).
    pub record_id: u16,
    /// Sensor owner: IPMB slave address, normally [`BMC_SLAVE_ADDRESS`].
    pub owner_id: u8,
    /// Sensor owner LUN (2 bits).
    pub owner_lun: u8,
    /// Sensor number, unique per owner and LUN.
    pub sensor_number: u8,
    /// Entity ID ([`entity_id`]).
    pub entity_id: u8,
    /// Entity instance (bit 7 set: logical container).
    pub entity_instance: u8,
    /// Sensor type ([`sensor_type`]).
    pub sensor_type: u8,
    /// Event/reading type ([`event_reading_type::THRESHOLD`] for this record).
    pub event_reading_type: u8,
    /// Base unit ([`unit`](mod@unit)).
    pub base_unit: u8,
    /// Raw-to-value conversion.
    pub factors: LinearFactors,
    /// Nominal reading, raw.
    pub nominal: Option<u8>,
    /// Lowest raw reading the sensor produces.
    pub sensor_min: u8,
    /// Highest raw reading the sensor produces.
    pub sensor_max: u8,
    /// Threshold values, raw; present ones are readable.
    pub thresholds: Thresholds,
    /// Settable threshold mask, same bits as [`Thresholds::mask`].
    pub settable: u8,
    /// Positive-going threshold hysteresis, raw counts.
    pub positive_hysteresis: u8,
    /// Negative-going threshold hysteresis, raw counts.
    pub negative_hysteresis: u8,
    /// Event generation enabled at power-up.
    pub events_enabled: bool,
    /// Sensor name, printable ASCII, at most 16 bytes.
    pub id_string: String,
}

impl FullSensorRecord {
    /// Encodes header, key and body per IPMI v2.0 Table 43-1.
    ///
    /// - Sensor initialization (byte 11): init scanning, init thresholds,
    ///   init hysteresis, init sensor type and "scanning enabled" are set
    ///   (5Dh); init events and "event generation enabled" are added when
    ///   `events_enabled` (7Fh). Bit 7 "settable sensor" stays 0: no Set
    ///   Sensor Reading and Event Status support is claimed.
    /// - Sensor capabilities (byte 12): auto re-arm (bit 6), hysteresis
    ///   readable and settable (10b), threshold access readable and settable
    ///   (10b) when `settable != 0`, readable (01b) when some threshold is
    ///   present, none (00b) otherwise; event message control per threshold
    ///   (00b, which implies whole-sensor and global disable as well).
    /// - Event masks (bytes 15-18): going-low events for present lower
    ///   thresholds and going-high for present upper ones, for both assertion
    ///   and deassertion; bits 14:12 report which lower (15-16) and upper
    ///   (17-18) threshold comparisons Get Sensor Reading returns.
    pub fn emit(&self) -> Vec<u8> {
        let f = &self.factors;
        let t = &self.thresholds;
        let readable = t.mask();
        let events = threshold_event_bits(readable);
        let assertion = events | u16::from(readable & 0x07) << 12;
        let deassertion = events | u16::from(readable >> 3 & 0x07) << 12;
        let (m_ls, m_ms) = split_10_bits(f.m);
        let (b_ls, b_ms) = split_10_bits(f.b);
        let units_1 = if f.signed { 0b10 << 6 } else { 0 }; // no rate, modifier, %
        #[rustfmt::skip]
        let mut body = vec![
            self.owner_id, self.owner_lun & 0x03, self.sensor_number,   // 6-8, channel 0
            self.entity_id, self.entity_instance,                        // 9-10
            self.initialization(), self.capabilities(),                  // 11-12
            self.sensor_type, self.event_reading_type,                   // 13-14
        ];
        body.extend_from_slice(&assertion.to_le_bytes()); // 15-16
        body.extend_from_slice(&deassertion.to_le_bytes()); // 17-18
        #[rustfmt::skip]
        body.extend_from_slice(&[
            readable, self.settable & 0x3F,                              // 19-20
            units_1, self.base_unit, unit::UNSPECIFIED,                  // 21-23
            0x00,                                                        // 24 linear
            m_ls, m_ms, b_ls, b_ms,                                      // 25-28, tol/acc 0
            0x00,                                                        // 29 acc, direction
            nibble(f.r_exp) << 4 | nibble(f.b_exp),                      // 30
            u8::from(self.nominal.is_some()),                            // 31
            self.nominal.unwrap_or(0), 0x00, 0x00,                       // 32-34 no normal
            self.sensor_max, self.sensor_min,                            // 35-36
            t.unr.unwrap_or(0), t.ucr.unwrap_or(0), t.unc.unwrap_or(0),  // 37-39
            t.lnr.unwrap_or(0), t.lcr.unwrap_or(0), t.lnc.unwrap_or(0),  // 40-42
            self.positive_hysteresis, self.negative_hysteresis,          // 43-44
            0x00, 0x00, 0x00,                                            // 45-46, 47 OEM
        ]);
        push_id_string(&mut body, &self.id_string);
        with_header(self.record_id, record_type::FULL_SENSOR, body)
    }

    /// Sensor initialization byte (Table 43-1 byte 11).
    fn initialization(&self) -> u8 {
        const INIT_SCANNING: u8 = 1 << 6;
        const INIT_EVENTS: u8 = 1 << 5;
        const INIT_THRESHOLDS: u8 = 1 << 4;
        const INIT_HYSTERESIS: u8 = 1 << 3;
        const INIT_SENSOR_TYPE: u8 = 1 << 2;
        const EVENT_GENERATION_ENABLED: u8 = 1 << 1;
        const SCANNING_ENABLED: u8 = 1 << 0;
        let always =
            INIT_SCANNING | INIT_THRESHOLDS | INIT_HYSTERESIS | INIT_SENSOR_TYPE | SCANNING_ENABLED;
        if self.events_enabled {
            always | INIT_EVENTS | EVENT_GENERATION_ENABLED
        } else {
            always
        }
    }

    /// Sensor capabilities byte (Table 43-1 byte 12).
    fn capabilities(&self) -> u8 {
        const AUTO_REARM: u8 = 1 << 6;
        const HYSTERESIS_READABLE_SETTABLE: u8 = 0b10 << 4;
        const PER_THRESHOLD_EVENT_CONTROL: u8 = 0b00;
        let access: u8 = if self.settable & 0x3F != 0 {
            0b10 // readable and settable
        } else if self.thresholds.mask() != 0 {
            0b01 // readable
        } else {
            0b00 // no thresholds
        };
        AUTO_REARM | HYSTERESIS_READABLE_SETTABLE | access << 2 | PER_THRESHOLD_EVENT_CONTROL
    }
}

/// Management Controller Device Locator (type 12h, IPMI v2.0 §43.9,
/// Table 43-8).
///
/// ```text
/// byte  field (1-based)
///  1-5  header: record ID, 51h, 12h, length
///    6  [7:1] device slave address, [0] 0
///    7  [3:0] channel number
///    8  power state notification / global init: 00h (enable event messages)
///    9  device capabilities
/// 10-12 reserved
///   13  entity ID
///   14  entity instance
///   15  OEM
///   16  ID string type/length
/// 17:32 ID string bytes
/// ```
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct McDeviceLocator {
    /// Record ID.
    pub record_id: u16,
    /// Controller's IPMB slave address, normally [`BMC_SLAVE_ADDRESS`].
    pub slave_address: u8,
    /// Channel the controller is on (0 for the BMC), 4 bits.
    pub channel: u8,
    /// Capability bits ([`device_capabilities`]).
    pub device_capabilities: u8,
    /// Entity ID ([`entity_id`]).
    pub entity_id: u8,
    /// Entity instance.
    pub entity_instance: u8,
    /// Controller name, printable ASCII, at most 16 bytes.
    pub id_string: String,
}

impl McDeviceLocator {
    /// Encodes the record. Byte 8 is 00h: no ACPI power state notification,
    /// and the initialization agent enables event message generation.
    pub fn emit(&self) -> Vec<u8> {
        #[rustfmt::skip]
        let mut body = vec![
            self.slave_address, self.channel & 0x0F, 0x00, self.device_capabilities, // 6-9
            0x00, 0x00, 0x00,                                                        // 10-12
            self.entity_id, self.entity_instance, 0x00,                              // 13-15
        ];
        push_id_string(&mut body, &self.id_string);
        with_header(self.record_id, record_type::MC_DEVICE_LOCATOR, body)
    }
}

/// FRU Device Locator for a logical FRU device at the BMC (type 11h, IPMI
/// v2.0 §43.8, Table 43-7).
///
/// ```text
/// byte  field (1-based)
///  1-5  header: record ID, 51h, 11h, length
///    6  device access address: 20h (the BMC)
///    7  FRU device ID
///    8  [7] logical = 1, [4:3] LUN 00b, [2:0] private bus 000b  -> 80h
///    9  [7:4] channel 0
///   10  reserved
///   11  device type 10h (FRU inventory behind a controller, Table 43-12)
///   12  device type modifier 00h (IPMI FRU inventory)
///   13  FRU entity ID
///   14  FRU entity instance
///   15  OEM
///   16  ID string type/length
/// 17:32 ID string bytes
/// ```
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct FruDeviceLocator {
    /// Record ID.
    pub record_id: u16,
    /// FRU device ID (logical, accessed with Read FRU Data). Device 0 is
    /// announced by the MC Device Locator instead.
    pub device_id: u8,
    /// Entity ID ([`entity_id`]).
    pub entity_id: u8,
    /// Entity instance.
    pub entity_instance: u8,
    /// FRU name, printable ASCII, at most 16 bytes.
    pub id_string: String,
}

impl FruDeviceLocator {
    /// Device type "FRU inventory device behind management controller"
    /// (IPMI v2.0 §43.13, Table 43-12).
    pub const DEVICE_TYPE: u8 = 0x10;

    /// Encodes the record.
    pub fn emit(&self) -> Vec<u8> {
        #[rustfmt::skip]
        let mut body = vec![
            BMC_SLAVE_ADDRESS, self.device_id, 0x80, 0x00, 0x00, // 6-10: logical, LUN 0, bus 0
            Self::DEVICE_TYPE, 0x00,                             // 11-12: IPMI FRU inventory
            self.entity_id, self.entity_instance, 0x00,          // 13-15
        ];
        push_id_string(&mut body, &self.id_string);
        with_header(self.record_id, record_type::FRU_DEVICE_LOCATOR, body)
    }
}

/// A parsed 5-byte SDR header, for tests and clients.
///
/// ```text
///  0        1        2        3        4
/// +--------+--------+--------+--------+--------+
/// | record ID (LS)  | version| type   | length |  length = bytes after
/// +--------+--------+--------+--------+--------+  the header
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct SdrHeader {
    /// Record ID.
    pub record_id: u16,
    /// SDR version, 51h.
    pub version: u8,
    /// Record type ([`record_type`]).
    pub record_type: u8,
    /// Number of record bytes after the header.
    pub length: u8,
}

impl SdrHeader {
    /// Parses the first 5 bytes; rejects short input and versions other than
    /// 51h. Trailing bytes (the record body) are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, SdrError> {
        let Some(&[id_ls, id_ms, version, record_type, length]) = bytes.get(..HEADER_LEN) else {
            return Err(SdrError::Truncated {
                needed: HEADER_LEN,
                got: bytes.len(),
            });
        };
        if version != SDR_VERSION {
            return Err(SdrError::UnsupportedVersion(version));
        }
        Ok(Self {
            record_id: u16::from_le_bytes([id_ls, id_ms]),
            version,
            record_type,
            length,
        })
    }

    /// Encodes the header.
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let [id_ls, id_ms] = self.record_id.to_le_bytes();
        [id_ls, id_ms, self.version, self.record_type, self.length]
    }
}

/// Checks that `id` is printable ASCII of at most 16 bytes, so that the
/// encoders store it unchanged.
pub fn validate_id_string(id: &str) -> Result<(), SdrError> {
    let printable = id.bytes().all(|b| (0x20..=0x7E).contains(&b));
    if printable && id.len() <= ID_STRING_MAX {
        Ok(())
    } else {
        Err(SdrError::InvalidIdString)
    }
}

/// Prepends the header to a record body.
fn with_header(record_id: u16, record_type: u8, body: Vec<u8>) -> Vec<u8> {
    // Bodies are at most 48 fixed bytes plus a 16-byte ID string.
    let length = u8::try_from(body.len()).expect("SDR bodies are shorter than 256 bytes");
    let header = SdrHeader {
        record_id,
        version: SDR_VERSION,
        record_type,
        length,
    };
    let mut out = header.emit().to_vec();
    out.extend(body);
    out
}

/// Appends the ID string type/length byte and the string (IPMI v2.0 §43.15).
///
/// Type 11b is 8-bit ASCII + Latin 1, for which a length of 1 is reserved,
/// so a 1-character name is padded with a NUL (invisible to C clients).
fn push_id_string(out: &mut Vec<u8>, id: &str) {
    let mut bytes: Vec<u8> = id
        .chars()
        .map(|c| {
            u8::try_from(c)
                .ok()
                .filter(|b| (0x20..=0x7E).contains(b))
                .unwrap_or(b'?')
        })
        .take(ID_STRING_MAX)
        .collect();
    if bytes.len() == 1 {
        bytes.push(0);
    }
    let len = u8::try_from(bytes.len()).expect("ID strings are cut to 16 bytes");
    out.push(0b11 << 6 | len);
    out.extend(bytes);
}

/// Event mask bits for the thresholds in `mask`: for threshold `i` in mask
/// order, bit `2i` is "going low" and bit `2i+1` "going high" (Table 43-1
/// bytes 15-18). Lower thresholds get going-low events, upper ones
/// going-high.
fn threshold_event_bits(mask: u8) -> u16 {
    (0..6_u32)
        .filter(|i| mask & 1 << i != 0)
        .fold(0, |acc, i| acc | 1 << (2 * i + u32::from(i >= 3)))
}

/// LS 8 bits and `[9:8] << 6` of a 10-bit 2's complement value.
fn split_10_bits(v: i16) -> (u8, u8) {
    let [ls, ms] = v.to_le_bytes();
    (ls, (ms & 0x03) << 6)
}

/// Low 4 bits of a 2's complement exponent.
fn nibble(e: i8) -> u8 {
    e.to_ne_bytes()[0] & 0x0F
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 0-based index of a Table 43-1 field, from its 1-based spec byte
    /// number. Offsets are the spec's, not the encoder's.
    #[rustfmt::skip]
    mod full {
        const fn at(spec_byte: usize) -> usize { spec_byte - 1 }
        pub const LENGTH: usize = at(5);
        pub const INIT: usize = at(11);
        pub const CAPABILITIES: usize = at(12);
        pub const ASSERT: usize = at(15);
        pub const DEASSERT: usize = at(17);
        pub const READABLE: usize = at(19);
        pub const SETTABLE: usize = at(20);
        pub const UNITS_1: usize = at(21);
        pub const M_LS: usize = at(25);
        pub const M_MS: usize = at(26);
        pub const B_LS: usize = at(27);
        pub const B_MS: usize = at(28);
        pub const EXPS: usize = at(30);
        pub const UNR: usize = at(37);
        pub const UCR: usize = at(38);
        pub const UNC: usize = at(39);
        pub const LNR: usize = at(40);
        pub const LCR: usize = at(41);
        pub const LNC: usize = at(42);
        pub const ID_TYPE_LEN: usize = at(48);
        pub const ID: usize = at(49);
    }

    fn cpu_temp() -> FullSensorRecord {
        FullSensorRecord {
            record_id: 1,
            owner_id: BMC_SLAVE_ADDRESS,
            owner_lun: 0,
            sensor_number: 1,
            entity_id: entity_id::PROCESSOR,
            entity_instance: 1,
            sensor_type: sensor_type::TEMPERATURE,
            event_reading_type: event_reading_type::THRESHOLD,
            base_unit: unit::DEGREES_C,
            factors: LinearFactors::new(1, 0, 0, 0, false).unwrap(),
            nominal: Some(40),
            sensor_min: 0,
            sensor_max: 0xFF,
            thresholds: Thresholds {
                unc: Some(80),
                ucr: Some(90),
                unr: Some(100),
                ..Thresholds::default()
            },
            settable: 0b0011_1000,
            positive_hysteresis: 2,
            negative_hysteresis: 2,
            events_enabled: true,
            id_string: "CPU Temp".into(),
        }
    }

    #[test]
    fn codes_match_spec_tables() {
        use device_capabilities as dc;
        use event_reading_type as ert;
        #[rustfmt::skip]
        let pinned: &[(u8, u8)] = &[
            // Record types, IPMI v2.0 §43.
            (0x01, record_type::FULL_SENSOR), (0x02, record_type::COMPACT_SENSOR),
            (0x03, record_type::EVENT_ONLY), (0x08, record_type::ENTITY_ASSOCIATION),
            (0x10, record_type::GENERIC_DEVICE_LOCATOR), (0x11, record_type::FRU_DEVICE_LOCATOR),
            (0x12, record_type::MC_DEVICE_LOCATOR), (0xC0, record_type::OEM),
            // Sensor types, Table 42-3.
            (0x01, sensor_type::TEMPERATURE), (0x02, sensor_type::VOLTAGE),
            (0x03, sensor_type::CURRENT), (0x04, sensor_type::FAN),
            (0x05, sensor_type::PHYSICAL_SECURITY), (0x07, sensor_type::PROCESSOR),
            (0x08, sensor_type::POWER_SUPPLY), (0x09, sensor_type::POWER_UNIT),
            (0x0A, sensor_type::COOLING_DEVICE), (0x0B, sensor_type::OTHER_UNITS_BASED),
            (0x0C, sensor_type::MEMORY), (0x10, sensor_type::EVENT_LOGGING_DISABLED),
            (0x12, sensor_type::SYSTEM_EVENT), (0x14, sensor_type::BUTTON_SWITCH),
            (0x22, sensor_type::SYSTEM_ACPI_POWER_STATE), (0x23, sensor_type::WATCHDOG_2),
            (0x25, sensor_type::ENTITY_PRESENCE), (0x28, sensor_type::MANAGEMENT_SUBSYSTEM_HEALTH),
            (0x29, sensor_type::BATTERY),
            // Event/reading types, Table 42-1.
            (0x00, ert::UNSPECIFIED), (0x01, ert::THRESHOLD), (0x02, ert::USAGE_STATE),
            (0x03, ert::DIGITAL_DISCRETE), (0x04, ert::PREDICTIVE_FAILURE), (0x05, ert::LIMIT),
            (0x08, ert::PRESENCE), (0x09, ert::ENABLED), (0x0B, ert::REDUNDANCY),
            (0x6F, ert::SENSOR_SPECIFIC),
            // Units, Table 43-15.
            (0, unit::UNSPECIFIED), (1, unit::DEGREES_C), (2, unit::DEGREES_F),
            (3, unit::DEGREES_K), (4, unit::VOLTS), (5, unit::AMPS), (6, unit::WATTS),
            (7, unit::JOULES), (17, unit::CFM), (18, unit::RPM), (19, unit::HZ),
            (22, unit::SECOND),
            // Entity IDs, Table 43-13.
            (0x00, entity_id::UNSPECIFIED), (0x03, entity_id::PROCESSOR),
            (0x06, entity_id::SYSTEM_MANAGEMENT_MODULE), (0x07, entity_id::SYSTEM_BOARD),
            (0x08, entity_id::MEMORY_MODULE), (0x0A, entity_id::POWER_SUPPLY),
            (0x17, entity_id::SYSTEM_CHASSIS), (0x1D, entity_id::FAN),
            (0x1E, entity_id::COOLING_UNIT), (0x20, entity_id::MEMORY_DEVICE),
            (0x37, entity_id::AIR_INLET),
            // MC device capabilities, Table 43-8 byte 9.
            (0x01, dc::SENSOR_DEVICE), (0x02, dc::SDR_REPOSITORY), (0x04, dc::SEL),
            (0x08, dc::FRU_INVENTORY), (0x10, dc::IPMB_EVENT_RECEIVER),
            (0x20, dc::IPMB_EVENT_GENERATOR), (0x40, dc::BRIDGE), (0x80, dc::CHASSIS),
            // Fixed values: Table 43-1 byte 3, BMC address, Table 43-12.
            (0x51, SDR_VERSION), (0x20, BMC_SLAVE_ADDRESS), (0x10, FruDeviceLocator::DEVICE_TYPE),
        ];
        for &(expected, code) in pinned {
            assert_eq!(expected, code);
        }
    }

    #[test]
    fn threshold_mask_bits() {
        #[rustfmt::skip]
        let setters: [fn(&mut Thresholds); 6] = [
            |t| t.lnc = Some(0), |t| t.lcr = Some(0), |t| t.lnr = Some(0),
            |t| t.unc = Some(0), |t| t.ucr = Some(0), |t| t.unr = Some(0),
        ];
        for (bit, set) in setters.iter().enumerate() {
            let mut t = Thresholds::default();
            set(&mut t);
            assert_eq!(t.mask(), 1 << bit);
        }
        assert_eq!(Thresholds::default().mask(), 0);
    }

    #[test]
    fn full_sensor_record_bytes() {
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x01, 0x00, 0x51, 0x01, 51,        // header: 48 + 8 - 5 bytes follow
            0x20, 0x00, 0x01, 0x03, 0x01,      // owner, LUN, number, entity
            0x7F, 0x68, 0x01, 0x01,            // init, capabilities, types
            0x80, 0x0A, 0x80, 0x7A,            // UNC/UCR/UNR going high; upper reading mask
            0x38, 0x38,                        // readable, settable
            0x00, 0x01, 0x00, 0x00,            // unsigned, degrees C, linear
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // M=1, B=0, exps 0
            0x01, 40, 0x00, 0x00, 0xFF, 0x00,  // nominal 40, sensor max/min
            100, 90, 80, 0, 0, 0,              // UNR UCR UNC LNR LCR LNC
            0x02, 0x02, 0x00, 0x00, 0x00,      // hysteresis, reserved, OEM
            0xC8, b'C', b'P', b'U', b' ', b'T', b'e', b'm', b'p',
        ];
        assert_eq!(cpu_temp().emit(), expected);
    }

    #[test]
    fn full_sensor_record_lower_thresholds_and_flags() {
        let mut rec = cpu_temp();
        rec.thresholds = Thresholds {
            lnc: Some(10),
            lcr: Some(5),
            lnr: Some(1),
            ..Thresholds::default()
        };
        rec.settable = 0;
        rec.events_enabled = false;
        rec.nominal = None;
        rec.factors.signed = true;
        let bytes = rec.emit();
        assert_eq!(bytes[full::INIT], 0x5D);
        assert_eq!(bytes[full::CAPABILITIES], 0x64, "threshold access readable");
        // LNC/LCR/LNR going low: bits 0, 2, 4; lower reading mask bits 14:12.
        assert_eq!(&bytes[full::ASSERT..full::ASSERT + 2], &[0x15, 0x70]);
        assert_eq!(&bytes[full::DEASSERT..full::DEASSERT + 2], &[0x15, 0x00]);
        assert_eq!(bytes[full::READABLE], 0x07);
        assert_eq!(bytes[full::SETTABLE], 0x00);
        assert_eq!(bytes[full::UNITS_1] >> 6, 0b10, "2's complement");
        assert_eq!(
            [bytes[full::LNR], bytes[full::LCR], bytes[full::LNC]],
            [1, 5, 10]
        );
        rec.thresholds = Thresholds::default();
        assert_eq!(rec.emit()[full::CAPABILITIES], 0x60, "no thresholds");
    }

    #[test]
    fn mc_device_locator_bytes() {
        let rec = McDeviceLocator {
            record_id: 2,
            slave_address: BMC_SLAVE_ADDRESS,
            channel: 0,
            device_capabilities: 0xBF,
            entity_id: entity_id::SYSTEM_MANAGEMENT_MODULE,
            entity_instance: 1,
            id_string: "rbmc".into(),
        };
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x02, 0x00, 0x51, 0x12, 15,
            0x20, 0x00, 0x00, 0xBF, 0x00, 0x00, 0x00, 0x06, 0x01, 0x00,
            0xC4, b'r', b'b', b'm', b'c',
        ];
        assert_eq!(rec.emit(), expected);
    }

    #[test]
    fn fru_device_locator_bytes() {
        let rec = FruDeviceLocator {
            record_id: 0x0103,
            device_id: 1,
            entity_id: entity_id::SYSTEM_BOARD,
            entity_instance: 1,
            id_string: "Board".into(),
        };
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x03, 0x01, 0x51, 0x11, 16,
            0x20, 0x01, 0x80, 0x00, 0x00, 0x10, 0x00, 0x07, 0x01, 0x00,
            0xC5, b'B', b'o', b'a', b'r', b'd',
        ];
        assert_eq!(rec.emit(), expected);
    }

    #[test]
    fn id_strings_are_cut_padded_and_sanitized() {
        let mut rec = cpu_temp();
        rec.id_string = "A".into();
        assert_eq!(&rec.emit()[full::ID_TYPE_LEN..], &[0xC2, b'A', 0]);
        rec.id_string = "Température".into();
        assert_eq!(&rec.emit()[full::ID..], b"Temp?rature");
        rec.id_string = "0123456789abcdefXYZ".into();
        let bytes = rec.emit();
        assert_eq!(bytes.len(), 64);
        assert_eq!(usize::from(bytes[full::LENGTH]), 64 - HEADER_LEN);
        assert_eq!(&bytes[full::ID_TYPE_LEN..], b"\xD00123456789abcdef");
        rec.id_string = String::new();
        assert_eq!(&rec.emit()[full::ID_TYPE_LEN..], &[0xC0]);

        assert_eq!(validate_id_string("CPU Temp"), Ok(()));
        assert_eq!(validate_id_string(""), Ok(()));
        for bad in ["0123456789abcdefX", "Température", "tab\t"] {
            assert_eq!(validate_id_string(bad), Err(SdrError::InvalidIdString));
        }
    }

    #[test]
    fn header_parse() {
        let rec = cpu_temp().emit();
        let header = SdrHeader::parse(&rec).unwrap();
        let expected = SdrHeader {
            record_id: 1,
            version: 0x51,
            record_type: 1,
            length: 51,
        };
        assert_eq!(header, expected);
        assert_eq!(usize::from(header.length), rec.len() - HEADER_LEN);
        assert_eq!(header.emit(), rec[..HEADER_LEN]);
        let truncated = SdrError::Truncated { needed: 5, got: 4 };
        assert_eq!(SdrHeader::parse(&rec[..4]), Err(truncated));
        let old = [1, 0, 0x10, 1, 0];
        assert_eq!(
            SdrHeader::parse(&old),
            Err(SdrError::UnsupportedVersion(0x10))
        );
    }

    #[test]
    fn for_range_pinned() {
        let f = |m, b, b_exp, r_exp, signed| LinearFactors {
            m,
            b,
            b_exp,
            r_exp,
            signed,
        };
        let cases = [
            ((0.0, 255.0), f(1, 0, 0, 0, false)),
            ((0.0, 12.0), f(471, 0, 0, -4, false)),
            ((0.0, 20000.0), f(79, 0, 0, 0, false)),
            // 0.65 * x + 43 for x in -128..=127: -40.2..=125.55.
            ((-40.0, 125.0), f(65, 43, 2, -2, true)),
        ];
        for ((min, max), expected) in cases {
            assert_eq!(
                LinearFactors::for_range(min, max),
                Ok(expected),
                "{min}..{max}"
            );
        }
    }

    #[test]
    fn factor_errors() {
        use SdrError::{FactorOutOfRange, InvalidRange, Unrepresentable};
        assert!(LinearFactors::new(511, -512, 7, -8, false).is_ok());
        for (m, b, be, re) in [(512, 0, 0, 0), (0, -513, 0, 0), (0, 0, 8, 0), (0, 0, 0, -9)] {
            assert_eq!(
                LinearFactors::new(m, b, be, re, true),
                Err(FactorOutOfRange)
            );
        }
        let err = |min, max| LinearFactors::for_range(min, max).unwrap_err();
        for (min, max) in [
            (1.0, 1.0),
            (2.0, 1.0),
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(matches!(err(min, max), InvalidRange { .. }));
        }
        assert!(matches!(err(0.0, 1e13), Unrepresentable { .. }));
        assert!(matches!(err(-f64::MAX, f64::MAX), Unrepresentable { .. }));
    }

    #[test]
    fn to_raw_clamps_and_rounds() {
        let f = LinearFactors::for_range(-40.0, 125.0).unwrap();
        let raws = [-1000.0, 1000.0, f64::NAN, 43.0, 43.0 - 0.65].map(|v| f.to_raw(v));
        assert_eq!(raws, [0x80, 0x7F, 0x80, 0x00, 0xFF]);
        assert!((f.resolution() - 0.65).abs() < 1e-12);
        let u = LinearFactors::for_range(0.0, 255.0).unwrap();
        assert_eq!(
            [-5.0, 300.0, 41.4, 41.6].map(|v| u.to_raw(v)),
            [0, 255, 41, 42]
        );
    }

    /// Sign-extends a `bits`-wide 2's complement field.
    fn sign_extend(v: u16, bits: u32) -> i16 {
        let shift = 16 - bits;
        i16::from_ne_bytes((v << shift).to_ne_bytes()) >> shift
    }

    /// Decodes the factors from an emitted record with the Table 43-1 bit
    /// layout.
    fn spec_factors(rec: &[u8]) -> LinearFactors {
        let ten = |ls: usize, ms: usize| {
            sign_extend(u16::from(rec[ls]) | u16::from(rec[ms] >> 6) << 8, 10)
        };
        let exps = rec[full::EXPS];
        LinearFactors {
            m: ten(full::M_LS, full::M_MS),
            b: ten(full::B_LS, full::B_MS),
            r_exp: i8::try_from(sign_extend(u16::from(exps >> 4), 4)).unwrap(),
            b_exp: i8::try_from(sign_extend(u16::from(exps & 0x0F), 4)).unwrap(),
            signed: rec[full::UNITS_1] >> 6 == 0b10,
        }
    }

    /// ipmitool's `tos32` macro (include/ipmitool/ipmi_sdr.h).
    fn tos32(val: i32, bits: u32) -> i32 {
        if val & (1 << (bits - 1)) != 0 {
            -(val & (1 << (bits - 1))) | val
        } else {
            val
        }
    }

    /// ipmitool's `sdr_convert_sensor_reading` (lib/ipmi_sdr.c) on a
    /// little-endian host: the packed struct overlays `uint16_t mtol` on
    /// bytes 25-26 and `uint32_t bacc` on bytes 27-30, and the `__TO_*`
    /// macros byte-swap them before masking.
    fn ipmitool_reading(rec: &[u8], val: u8) -> f64 {
        let mtol = u16::from_le_bytes([rec[full::M_LS], rec[full::M_MS]]).swap_bytes();
        let bacc = u32::from_le_bytes(rec[full::B_LS..full::B_LS + 4].try_into().unwrap());
        let bacc = i32::from_ne_bytes(bacc.swap_bytes().to_ne_bytes());
        let m = tos32(i32::from((mtol & 0xff00) >> 8 | (mtol & 0xc0) << 2), 10);
        let b = tos32(((bacc >> 24) & 0xff) | ((bacc & 0xc0_0000) >> 14), 10);
        let k1 = tos32(bacc & 0xf, 4);
        let k2 = tos32((bacc & 0xf0) >> 4, 4);
        let x = match rec[full::UNITS_1] >> 6 {
            0 => i32::from(val),
            2 => i32::from(i8::from_ne_bytes([val])),
            _ => return 0.0,
        };
        (f64::from(m * x) + f64::from(b) * 10_f64.powf(f64::from(k1))) * 10_f64.powf(f64::from(k2))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn ipmitool_reads_the_same_temperature() {
        let mut rec = cpu_temp();
        rec.factors = LinearFactors::for_range(-40.0, 125.0).unwrap();
        rec.thresholds.ucr = Some(rec.factors.to_raw(95.0));
        let bytes = rec.emit();
        let ucr = ipmitool_reading(&bytes, bytes[full::UCR]);
        assert!(
            (ucr - 95.0).abs() <= rec.factors.resolution() / 2.0,
            "{ucr}"
        );
        assert!(close(ipmitool_reading(&bytes, 0x80), -40.2));
        assert!(close(ipmitool_reading(&bytes, 0x7F), 125.55));
        let n = usize::from(bytes[full::ID_TYPE_LEN] & 0x1f);
        assert_eq!(&bytes[full::ID..full::ID + n], b"CPU Temp");
    }

    /// Smallest grid step `M * 10^R` (M 1..=511, R -8..=7) covering `span`
    /// with 255 raw steps.
    fn finest_grid_step(span: f64) -> f64 {
        (-8..=7)
            .flat_map(|r| (1..=511).map(move |m| scale(f64::from(m), r)))
            .filter(|s| s * 255.0 >= span * (1.0 - COVER_SLACK))
            .fold(f64::INFINITY, f64::min)
    }

    fn range() -> impl Strategy<Value = (f64, f64)> {
        (-1000.0..1000.0_f64, -2.0..5.0_f64).prop_map(|(min, e)| (min, min + 10_f64.powf(e)))
    }

    proptest! {
        #[test]
        fn factors_cover_range_and_round_trip((min, max) in range(), t in 0.0..=1.0_f64) {
            let f = LinearFactors::for_range(min, max).unwrap();
            let slack = (max - min) * COVER_SLACK + 1e-12 * (1.0 + min.abs() + max.abs());
            let (lo, hi) = if f.signed { (0x80, 0x7F) } else { (0x00, 0xFF) };
            prop_assert_eq!(f.signed, min < 0.0);
            prop_assert!((1..=511).contains(&f.m));
            prop_assert!(f.to_value(lo) <= min + slack, "{:?} low end {}", f, f.to_value(lo));
            prop_assert!(f.to_value(hi) >= max - slack, "{:?} high end {}", f, f.to_value(hi));
            prop_assert!(f.resolution() * 255.0 >= (max - min) * (1.0 - COVER_SLACK));
            for v in [min, max, min + t * (max - min)] {
                let back = f.to_value(f.to_raw(v));
                prop_assert!((back - v).abs() <= f.resolution() / 2.0 + slack, "{v} -> {back}");
            }
        }

        #[test]
        fn zero_based_ranges_get_the_finest_step(max in 0.01..100_000.0_f64) {
            let f = LinearFactors::for_range(0.0, max).unwrap();
            prop_assert_eq!(f.b, 0);
            let best = finest_grid_step(max);
            prop_assert!((f.resolution() - best).abs() <= best * 1e-12, "{:?} vs {}", f, best);
        }

        #[test]
        fn emitted_factors_decode_per_spec_and_ipmitool((min, max) in range(), th in any::<[u8; 6]>()) {
            let mut rec = cpu_temp();
            rec.factors = LinearFactors::for_range(min, max).unwrap();
            let [lnc, lcr, lnr, unc, ucr, unr] = th.map(Some);
            rec.thresholds = Thresholds { lnc, lcr, lnr, unc, ucr, unr };
            let bytes = rec.emit();
            prop_assert_eq!(spec_factors(&bytes), rec.factors);
            for raw in 0..=255 {
                let (ours, theirs) = (rec.factors.to_value(raw), ipmitool_reading(&bytes, raw));
                prop_assert!(close(ours, theirs), "raw {}: {} vs {}", raw, ours, theirs);
            }
            let at = [full::LNC, full::LCR, full::LNR, full::UNC, full::UCR, full::UNR];
            prop_assert_eq!(at.map(|i| bytes[i]), th);
        }
    }
}
