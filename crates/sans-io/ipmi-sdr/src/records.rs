//! The record encoders: [`FullSensorRecord`], [`McDeviceLocator`] and
//! [`FruDeviceLocator`], their shared [`SdrHeader`] and ID string rules, and
//! the [`Thresholds`] a Full Sensor Record carries.

use crate::{
    LinearFactors, RecordType, SdrError, Unit, BMC_SLAVE_ADDRESS, HEADER_LEN, ID_STRING_MAX,
    SDR_VERSION,
};

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
    /// Entity ID ([`EntityId`](crate::EntityId) code).
    pub entity_id: u8,
    /// Entity instance (bit 7 set: logical container).
    pub entity_instance: u8,
    /// Sensor type ([`SensorType`](crate::SensorType) code).
    pub sensor_type: u8,
    /// Event/reading type
    /// ([`EventReadingType::THRESHOLD`](crate::EventReadingType::THRESHOLD)
    /// for this record).
    pub event_reading_type: u8,
    /// Base unit ([`Unit`]).
    pub base_unit: u8,
    /// The reading is a percentage of the base unit (Sensor Units 1 bit 0):
    /// a fan's PWM duty is a percentage with the base unit unspecified.
    pub percentage: bool,
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
        // Analog format (7:6), no rate (5:3), no modifier (2:1), % (0).
        let units_1 = if f.signed { 0b10 << 6 } else { 0 } | u8::from(self.percentage);
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
            units_1, self.base_unit, Unit::UNSPECIFIED.0,                // 21-23
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
        with_header(self.record_id, RecordType::FULL_SENSOR, body)
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
    /// Capability bits ([`device_capabilities`](crate::device_capabilities)).
    pub device_capabilities: u8,
    /// Entity ID ([`EntityId`](crate::EntityId) code).
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
        with_header(self.record_id, RecordType::MC_DEVICE_LOCATOR, body)
    }
}

/// Compact Sensor Record for an event-only, sensor-specific sensor at the
/// BMC (type 02h, IPMI v2.0 §43.2, Table 43-2): it gives the sensor a name
/// and entity, so clients can name the events logged against it.
///
/// ```text
/// byte  field (1-based)
///  1-5  header: record ID, 51h, 02h, length
///    6  sensor owner: 20h (the BMC)       7  owner LUN (channel 0)
///    8  sensor number                     9  entity ID
///   10  entity instance                  11  initialization: 21h (events
///                                            and scanning enabled)
///   12  capabilities: 41h (auto re-arm, entire-sensor event control)
///   13  sensor type                      14  event/reading type
/// 15-16 assertion event mask        17-18  deassertion event mask
/// 19-20 discrete reading mask       21-23  units: none
/// 24-25 record sharing: none        26-27  hysteresis: none
/// 28-30 reserved                         31  OEM
///   32  ID string type/length       33:48  ID string bytes
/// ```
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CompactSensorRecord {
    /// Record ID.
    pub record_id: u16,
    /// Sensor owner LUN (0-3).
    pub lun: u8,
    /// Sensor number.
    pub number: u8,
    /// Entity ID ([`EntityId`](crate::EntityId) code).
    pub entity_id: u8,
    /// Entity instance.
    pub entity_instance: u8,
    /// Sensor type code (Table 42-3).
    pub sensor_type: u8,
    /// Event/reading type code (Table 42-1/42-2).
    pub event_reading_type: u8,
    /// The offsets the sensor asserts (bit n: offset n).
    pub offsets: u16,
    /// Sensor name, printable ASCII, at most 16 bytes.
    pub id_string: String,
}

impl CompactSensorRecord {
    /// Encodes the record.
    pub fn emit(&self) -> Vec<u8> {
        let [mask_lo, mask_hi] = (self.offsets & 0x7FFF).to_le_bytes();
        #[rustfmt::skip]
        let mut body = vec![
            BMC_SLAVE_ADDRESS, self.lun & 0x03, self.number,           // 6-8
            self.entity_id, self.entity_instance & 0x7F,               // 9-10
            0x21, 0x41,                                                // 11-12
            self.sensor_type, self.event_reading_type,                 // 13-14
            mask_lo, mask_hi, 0x00, 0x00, mask_lo, mask_hi,            // 15-20
            0x00, 0x00, 0x00,                                          // 21-23
            0x00, 0x00, 0x00, 0x00,                                    // 24-27
            0x00, 0x00, 0x00, 0x00,                                    // 28-31
        ];
        push_id_string(&mut body, &self.id_string);
        with_header(self.record_id, RecordType::COMPACT_SENSOR, body)
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
    /// Entity ID ([`EntityId`](crate::EntityId) code).
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
        with_header(self.record_id, RecordType::FRU_DEVICE_LOCATOR, body)
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
    /// Record type.
    pub record_type: RecordType,
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
            record_type: RecordType(record_type),
            length,
        })
    }

    /// Encodes the header.
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let [id_ls, id_ms] = self.record_id.to_le_bytes();
        [id_ls, id_ms, self.version, self.record_type.0, self.length]
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
fn with_header(record_id: u16, record_type: RecordType, body: Vec<u8>) -> Vec<u8> {
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
