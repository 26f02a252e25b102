//! Sans-IO encoding and decoding of IPMI FRU inventory data.
//!
//! Implements the parts of the *IPMI Platform Management FRU Information
//! Storage Definition v1.0 rev 1.3* ("FRU spec") that a BMC needs to serve
//! its own inventory: the Common Header (§8), the Chassis Info Area (§10),
//! the Board Info Area (§11) and the Product Info Area (§12), with
//! type/length encoded fields (§13).
//!
//! The crate does no I/O and reads no clock: [`encode`] turns a [`FruInfo`]
//! into the bytes served by Read FRU Data, and [`decode`] turns bytes (an
//! EEPROM image, a file, or what a host sent with Write FRU Data) back into
//! a [`FruInfo`], verifying every checksum on the way.
//!
//! # Layout
//!
//! ```text
//!  offset 0        8                8*c2             8*c3             8*c4
//!  +---------------+----------------+----------------+----------------+----
//!  | Common Header | (internal use) | Chassis Info   | Board Info     | ...
//!  +---------------+----------------+----------------+----------------+----
//!
//!  Common Header (FRU spec §8, Table 8-1), 8 bytes:
//!  +----+----+----+----+----+----+----+----+
//!  | 01 | iu | c2 | c3 | c4 | mr | 00 | ck |   c2..c4, mr: offset / 8,
//!  +----+----+----+----+----+----+----+----+   00h = area not present
//!   ver                           pad  zero checksum of bytes 0..7
//!
//!  Info area (FRU spec §10, §11, §12), a multiple of 8 bytes:
//!  +----+-----+-----------+-------+-------+-----+----+-------+----+
//!  | 01 | len | fixed ... | field | field | ... | C1 | 00 .. | ck |
//!  +----+-----+-----------+-------+-------+-----+----+-------+----+
//!   ver  len/8  see below   type/length fields  end   pad   zero checksum
//!
//!  fixed bytes:  chassis  [chassis type]
//!                board    [language] [mfg minutes, 3 bytes LSB first]
//!                product  [language]
//!
//!  Type/length byte (FRU spec §13.1, Table 13-1):
//!    7   6   5   4   3   2   1   0
//!  +-------+-----------------------+
//!  | type  | number of data bytes  |  type 11b = 8-bit ASCII + Latin 1
//!  +-------+-----------------------+  (English), C1h = end of fields
//! ```
//!
//! [`encode`] places the areas back to back in that order, right after
//! the header, and never emits an internal use or MultiRecord area.
//! [`decode`] accepts any area placement and trailing bytes (EEPROMs are
//! larger than their contents) and checks the MultiRecord area's
//! checksums without keeping its records.

#![forbid(unsafe_code)]

/// Chassis Info Area contents (FRU spec §10, Table 10-1).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct ChassisInfo {
    /// Chassis type, an SMBIOS "System Enclosure or Chassis Type" value,
    /// e.g. `0x17` rack mount chassis (FRU spec §10 refers to SMBIOS).
    pub chassis_type: u8,
    /// Chassis part number.
    pub part_number: String,
    /// Chassis serial number.
    pub serial_number: String,
    /// Custom chassis info fields, in order.
    pub custom: Vec<String>,
}

/// Board Info Area contents (FRU spec §11, Table 11-1).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct BoardInfo {
    /// Manufacturing date/time in minutes since 1996-01-01 00:00 UTC,
    /// 24 bits wide; 0 means unspecified (FRU spec Table 11-1).
    pub mfg_minutes: u32,
    /// Board manufacturer.
    pub manufacturer: String,
    /// Board product name.
    pub product_name: String,
    /// Board serial number.
    pub serial_number: String,
    /// Board part number.
    pub part_number: String,
    /// FRU file ID (the file used to program the FRU).
    pub fru_file_id: String,
    /// Custom board info fields, in order.
    pub custom: Vec<String>,
}

impl BoardInfo {
    /// Converts Unix seconds to [`BoardInfo::mfg_minutes`], rounding down
    /// to the minute; `None` before 1996 or after the 24-bit range ends.
    pub fn mfg_minutes_from_unix_secs(secs: u64) -> Option<u32> {
        let minutes = secs.checked_sub(FRU_EPOCH_UNIX_SECS)? / 60;
        u32::try_from(minutes)
            .ok()
            .filter(|m| *m <= MFG_MINUTES_MAX)
    }

    /// The manufacturing time as Unix seconds, `None` when unspecified.
    /// This is the value ipmitool's `ipmi_fru2time_t()` prints.
    pub fn mfg_unix_secs(&self) -> Option<u64> {
        (self.mfg_minutes != 0).then(|| FRU_EPOCH_UNIX_SECS + u64::from(self.mfg_minutes) * 60)
    }
}

/// Product Info Area contents (FRU spec §12, Table 12-1).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct ProductInfo {
    /// Product manufacturer.
    pub manufacturer: String,
    /// Product name.
    pub product_name: String,
    /// Product part/model number.
    pub part_number: String,
    /// Product version.
    pub version: String,
    /// Product serial number.
    pub serial_number: String,
    /// Asset tag.
    pub asset_tag: String,
    /// FRU file ID (the file used to program the FRU).
    pub fru_file_id: String,
    /// Custom product info fields, in order.
    pub custom: Vec<String>,
}

/// A whole FRU inventory image: the three info areas, each optional.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct FruInfo {
    /// Chassis Info Area, if present.
    pub chassis: Option<ChassisInfo>,
    /// Board Info Area, if present.
    pub board: Option<BoardInfo>,
    /// Product Info Area, if present.
    pub product: Option<ProductInfo>,
}

/// The part of a FRU image an error refers to, in FRU spec §8 order.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Area {
    /// The 8-byte Common Header (FRU spec §8).
    CommonHeader,
    /// The Chassis Info Area (FRU spec §10).
    Chassis,
    /// The Board Info Area (FRU spec §11).
    Board,
    /// The Product Info Area (FRU spec §12).
    Product,
    /// The MultiRecord Area (FRU spec §16).
    MultiRecord,
}

/// Errors from [`encode`] and [`decode`].
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FruError {
    /// Decode: an area (or a MultiRecord header or record) does not sum
    /// to zero with its checksum byte.
    #[error("bad {0:?} area checksum")]
    AreaChecksum(Area),
    /// Decode: an info area's length byte is zero.
    #[error("{0:?} area length is zero")]
    BadAreaLength(Area),
    /// Encode: a field is longer than the 63 bytes a type/length byte can
    /// express (FRU spec §13.1).
    #[error("field is {len} bytes, at most 63 fit")]
    FieldTooLong {
        /// Length of the rejected field in bytes.
        len: usize,
    },
    /// Decode: the Common Header does not sum to zero.
    #[error("bad common header checksum")]
    HeaderChecksum,
    /// Encode: the board manufacturing date does not fit in 24 bits.
    #[error("board mfg date {0} minutes does not fit in 24 bits")]
    MfgDateOutOfRange(u32),
    /// Decode: the fields run into the area's checksum byte without an
    /// end-of-fields marker (C1h).
    #[error("{0:?} area fields are not terminated by C1h")]
    MissingEndOfFields(Area),
    /// Decode: the end-of-fields marker appears where a mandatory field is
    /// required.
    #[error("{0:?} area ends before its mandatory fields")]
    MissingField(Area),
    /// Encode: a field holds a character outside 7-bit ASCII.
    #[error("field holds non-ASCII character {0:?}")]
    NonAscii(char),
    /// Encode: a field holds NUL, which is the pad byte of one-character
    /// fields and would end the string for C readers such as ipmitool.
    #[error("field holds a NUL character")]
    NulInField,
    /// Encode: an area is longer than 255 × 8 bytes, or starts beyond the
    /// offset 255 × 8 that the Common Header can express.
    #[error("{0:?} area is too large or starts too far in")]
    TooLarge(Area),
    /// Decode: the data ends inside the given area or header.
    #[error("data ends inside the {0:?} area")]
    Truncated(Area),
    /// Decode: a board or product area has a language code other than
    /// English (0 or 25), whose 11b fields would be UTF-16 (FRU spec §15).
    #[error("{area:?} area language code {code} is not English")]
    UnsupportedLanguage {
        /// The area with the foreign language code.
        area: Area,
        /// The language code found.
        code: u8,
    },
    /// Decode: an unsupported format version (01h for the header and info
    /// areas, 02h for MultiRecord records).
    #[error("{area:?} format version {version:#04x} is not supported")]
    UnsupportedVersion {
        /// The area with the unexpected version.
        area: Area,
        /// The version byte found.
        version: u8,
    },
}

/// Encodes `info` as a FRU image: the Common Header followed by the
/// present chassis, board and product areas, in that order.
///
/// Each area ends with the end-of-fields marker C1h, zero padding (FRU spec
/// §10-§12 "00h - any remaining unused space") and its zero checksum. Every
/// field is 8-bit ASCII (type 11b); board and product areas use language
/// code 0 (English). An empty string becomes C0h. A one-character string
/// becomes `C2h c 00h`, because §13.1 requires at least two data bytes for
/// type 11b (C1h being the end marker); [`decode`] and ipmitool stop at
/// the NUL.
pub fn encode(info: &FruInfo) -> Result<Vec<u8>, FruError> {
    let chassis = info.chassis.as_ref().map(encode_chassis).transpose()?;
    let board = info.board.as_ref().map(encode_board).transpose()?;
    let product = info.product.as_ref().map(encode_product).transpose()?;
    let mut out = vec![0; HEADER_LEN];
    out[0] = FORMAT_VERSION;
    for (index, area, bytes) in [
        (2, Area::Chassis, chassis),
        (3, Area::Board, board),
        (4, Area::Product, product),
    ] {
        if let Some(bytes) = bytes {
            out[index] = u8::try_from(out.len() / BLOCK).map_err(|_| FruError::TooLarge(area))?;
            out.extend_from_slice(&bytes);
        }
    }
    out[HEADER_LEN - 1] = zero_checksum(&out[..HEADER_LEN - 1]);
    Ok(out)
}

/// Decodes a FRU image, verifying the Common Header checksum, every info
/// area checksum and every MultiRecord header and record checksum.
///
/// Bytes after the last area are ignored. Fields of every type code are
/// accepted (FRU spec §13): 8-bit ASCII + Latin 1 up to the first NUL (as
/// ipmitool prints it), 6-bit packed ASCII and BCD plus as text, binary as
/// lowercase hex (as ipmitool prints it). The internal use area is not
/// interpreted; an encoded-then-decoded [`FruInfo`] compares equal.
pub fn decode(data: &[u8]) -> Result<FruInfo, FruError> {
    let header = data
        .get(..HEADER_LEN)
        .ok_or(FruError::Truncated(Area::CommonHeader))?;
    // ipmitool checks the checksum before the version, so do we.
    if sum(header) != 0 {
        return Err(FruError::HeaderChecksum);
    }
    check_version(Area::CommonHeader, header[0], FORMAT_VERSION)?;
    let chassis = area_body(data, header[2], Area::Chassis)?
        .map(decode_chassis)
        .transpose()?;
    let board = area_body(data, header[3], Area::Board)?
        .map(decode_board)
        .transpose()?;
    let product = area_body(data, header[4], Area::Product)?
        .map(decode_product)
        .transpose()?;
    if header[5] != 0 {
        check_multirecord(data, usize::from(header[5]) * BLOCK)?;
    }
    Ok(FruInfo {
        chassis,
        board,
        product,
    })
}

fn encode_chassis(c: &ChassisInfo) -> Result<Vec<u8>, FruError> {
    let fixed = [&c.part_number, &c.serial_number];
    encode_area(Area::Chassis, &[c.chassis_type], fixed, &c.custom)
}

fn encode_board(b: &BoardInfo) -> Result<Vec<u8>, FruError> {
    if b.mfg_minutes > MFG_MINUTES_MAX {
        return Err(FruError::MfgDateOutOfRange(b.mfg_minutes));
    }
    // FRU spec Table 11-1: three bytes, LSbyte first.
    let [m0, m1, m2, _] = b.mfg_minutes.to_le_bytes();
    let fixed = [
        &b.manufacturer,
        &b.product_name,
        &b.serial_number,
        &b.part_number,
        &b.fru_file_id,
    ];
    encode_area(Area::Board, &[LANG_ENGLISH, m0, m1, m2], fixed, &b.custom)
}

fn encode_product(p: &ProductInfo) -> Result<Vec<u8>, FruError> {
    let fixed = [
        &p.manufacturer,
        &p.product_name,
        &p.part_number,
        &p.version,
        &p.serial_number,
        &p.asset_tag,
        &p.fru_file_id,
    ];
    encode_area(Area::Product, &[LANG_ENGLISH], fixed, &p.custom)
}

/// Builds one info area: version, length, `fixed` bytes, fields, C1h,
/// zero padding and checksum, padded to a multiple of 8 bytes.
fn encode_area<'a>(
    area: Area,
    fixed: &[u8],
    fields: impl IntoIterator<Item = &'a String>,
    custom: &'a [String],
) -> Result<Vec<u8>, FruError> {
    let mut out = vec![FORMAT_VERSION, 0];
    out.extend_from_slice(fixed);
    for field in fields.into_iter().chain(custom) {
        push_field(&mut out, field)?;
    }
    out.push(END_OF_FIELDS);
    // One byte is reserved for the checksum; the total is a multiple of 8.
    let total = (out.len() + 1).next_multiple_of(BLOCK);
    out.resize(total - 1, PAD);
    out[1] = u8::try_from(total / BLOCK).map_err(|_| FruError::TooLarge(area))?;
    out.push(zero_checksum(&out));
    Ok(out)
}

/// Appends one 8-bit ASCII field (type 11b) with its type/length byte.
fn push_field(out: &mut Vec<u8>, field: &str) -> Result<(), FruError> {
    if let Some(c) = field.chars().find(|c| !c.is_ascii()) {
        return Err(FruError::NonAscii(c));
    }
    if field.contains('\0') {
        return Err(FruError::NulInField);
    }
    let len = field.len();
    let too_long = FruError::FieldTooLong { len };
    if len > MAX_FIELD_LEN {
        return Err(too_long);
    }
    // FRU spec §13.1: type 11b needs at least two data bytes, and C1h is
    // the end-of-fields marker, so a single character gets a NUL pad.
    let padded = usize::from(len == 1);
    out.push(TYPE_8BIT_ASCII | u8::try_from(len + padded).map_err(|_| too_long)?);
    out.extend_from_slice(field.as_bytes());
    out.extend(std::iter::repeat_n(0, padded));
    Ok(())
}

/// Returns the area at `offset` (in 8-byte units) without its checksum
/// byte, after checking its version, bounds and checksum; `None` when the
/// header says the area is absent.
fn area_body(data: &[u8], offset: u8, area: Area) -> Result<Option<&[u8]>, FruError> {
    if offset == 0 {
        return Ok(None);
    }
    let start = usize::from(offset) * BLOCK;
    let head = data
        .get(start..start + 2)
        .ok_or(FruError::Truncated(area))?;
    check_version(area, head[0], FORMAT_VERSION)?;
    let len = usize::from(head[1]) * BLOCK;
    if len == 0 {
        return Err(FruError::BadAreaLength(area));
    }
    let bytes = data
        .get(start..start + len)
        .ok_or(FruError::Truncated(area))?;
    if sum(bytes) != 0 {
        return Err(FruError::AreaChecksum(area));
    }
    Ok(Some(&bytes[..len - 1]))
}

// The bodies below are at least 7 bytes long (the area length is a nonzero
// multiple of 8, minus the checksum), so the fixed-byte indexing is in
// bounds.

fn decode_chassis(body: &[u8]) -> Result<ChassisInfo, FruError> {
    // The chassis area has no language code; its fields are English.
    let mut f = Fields::new(Area::Chassis, body, 3);
    Ok(ChassisInfo {
        chassis_type: body[2],
        part_number: f.fixed()?,
        serial_number: f.fixed()?,
        custom: f.custom()?,
    })
}

fn decode_board(body: &[u8]) -> Result<BoardInfo, FruError> {
    check_language(Area::Board, body[2])?;
    let mut f = Fields::new(Area::Board, body, 6);
    Ok(BoardInfo {
        mfg_minutes: u32::from_le_bytes([body[3], body[4], body[5], 0]),
        manufacturer: f.fixed()?,
        product_name: f.fixed()?,
        serial_number: f.fixed()?,
        part_number: f.fixed()?,
        fru_file_id: f.fixed()?,
        custom: f.custom()?,
    })
}

fn decode_product(body: &[u8]) -> Result<ProductInfo, FruError> {
    check_language(Area::Product, body[2])?;
    let mut f = Fields::new(Area::Product, body, 3);
    Ok(ProductInfo {
        manufacturer: f.fixed()?,
        product_name: f.fixed()?,
        part_number: f.fixed()?,
        version: f.fixed()?,
        serial_number: f.fixed()?,
        asset_tag: f.fixed()?,
        fru_file_id: f.fixed()?,
        custom: f.custom()?,
    })
}

/// Cursor over the type/length fields of one area body.
struct Fields<'a> {
    area: Area,
    body: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(area: Area, body: &'a [u8], pos: usize) -> Self {
        Self { area, body, pos }
    }

    /// The next field, or `None` at the end-of-fields marker.
    fn next(&mut self) -> Result<Option<String>, FruError> {
        let missing_end = FruError::MissingEndOfFields(self.area);
        let type_length = *self.body.get(self.pos).ok_or(missing_end.clone())?;
        if type_length == END_OF_FIELDS {
            return Ok(None);
        }
        let start = self.pos + 1;
        let end = start + usize::from(type_length & LENGTH_MASK);
        let bytes = self.body.get(start..end).ok_or(missing_end)?;
        self.pos = end;
        Ok(Some(field_to_string(type_length >> 6, bytes)))
    }

    fn fixed(&mut self) -> Result<String, FruError> {
        self.next()?.ok_or(FruError::MissingField(self.area))
    }

    fn custom(mut self) -> Result<Vec<String>, FruError> {
        let mut custom = Vec::new();
        while let Some(field) = self.next()? {
            custom.push(field);
        }
        Ok(custom)
    }
}

/// Interprets field data by its type code (FRU spec §13.1, Table 13-1),
/// the way ipmitool's `get_fru_area_str()` does.
fn field_to_string(type_code: u8, bytes: &[u8]) -> String {
    match type_code {
        // 00b binary or unspecified: ipmitool prints hex.
        0 => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        // 01b BCD plus, high nibble first; ipmitool maps the reserved
        // digits Dh-Fh to ':', ',' and '_'.
        1 => bytes
            .iter()
            .flat_map(|b| [b >> 4, b & 0x0F])
            .map(|nibble| char::from(BCD_PLUS[usize::from(nibble)]))
            .collect(),
        // 10b 6-bit packed ASCII: characters are 6-bit values plus 20h,
        // packed least significant bits first (FRU spec §13.2).
        2 => {
            let (mut acc, mut bits, mut out) = (0_u32, 0, String::new());
            for b in bytes {
                acc |= u32::from(*b) << bits;
                bits += 8;
                while bits >= 6 {
                    out.extend(char::from_u32(0x20 + (acc & 0x3F)));
                    acc >>= 6;
                    bits -= 6;
                }
            }
            out
        }
        // 11b 8-bit ASCII + Latin 1 (English), a C string for ipmitool.
        _ => bytes
            .iter()
            .take_while(|b| **b != 0)
            .map(|b| char::from(*b))
            .collect(),
    }
}

/// Walks the MultiRecord area (FRU spec §16.1) checking each record's
/// header checksum, format version and record checksum.
fn check_multirecord(data: &[u8], mut pos: usize) -> Result<(), FruError> {
    let area = Area::MultiRecord;
    loop {
        //  +------+-------------+-----+-----------+-----------+-------+
        //  | type | EOL|rsv|ver | len | record ck | header ck | data  |
        //  +------+-------------+-----+-----------+-----------+-------+
        let header = data
            .get(pos..pos + MULTIRECORD_HEADER_LEN)
            .ok_or(FruError::Truncated(area))?;
        if sum(header) != 0 {
            return Err(FruError::AreaChecksum(area));
        }
        check_version(area, header[1] & 0x0F, MULTIRECORD_VERSION)?;
        let start = pos + MULTIRECORD_HEADER_LEN;
        let end = start + usize::from(header[2]);
        let record = data.get(start..end).ok_or(FruError::Truncated(area))?;
        if sum(record).wrapping_add(header[3]) != 0 {
            return Err(FruError::AreaChecksum(area));
        }
        if header[1] & MULTIRECORD_END_OF_LIST != 0 {
            return Ok(());
        }
        pos = end;
    }
}

fn check_version(area: Area, version: u8, expected: u8) -> Result<(), FruError> {
    if version == expected {
        Ok(())
    } else {
        Err(FruError::UnsupportedVersion { area, version })
    }
}

fn check_language(area: Area, code: u8) -> Result<(), FruError> {
    if code == LANG_ENGLISH || code == LANG_ENGLISH_ALT {
        Ok(())
    } else {
        Err(FruError::UnsupportedLanguage { area, code })
    }
}

/// Sum of `bytes` modulo 256; a region with a valid zero checksum sums to 0.
fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc.wrapping_add(*b))
}

/// The byte that makes `bytes` plus itself sum to zero (FRU spec §8
/// "Common Header Checksum (zero checksum)").
fn zero_checksum(bytes: &[u8]) -> u8 {
    sum(bytes).wrapping_neg()
}

/// Longest field a type/length byte can describe: 6 length bits (FRU spec
/// §13.1).
pub const MAX_FIELD_LEN: usize = 63;

/// Largest [`BoardInfo::mfg_minutes`]: the field is 3 bytes (FRU spec
/// Table 11-1).
pub const MFG_MINUTES_MAX: u32 = 0xFF_FFFF;

/// 1996-01-01 00:00 UTC as Unix seconds, the board mfg date epoch (FRU spec
/// Table 11-1; ipmitool `secs_from_1970_1996`).
pub const FRU_EPOCH_UNIX_SECS: u64 = 820_454_400;

/// Offsets and area lengths count 8-byte blocks (FRU spec §8, §10-§12).
const BLOCK: usize = 8;
/// Common Header length (FRU spec Table 8-1).
const HEADER_LEN: usize = 8;
/// Format version of the header and every info area, bits 3:0 = 1h, bits
/// 7:4 reserved 0 (FRU spec Tables 8-1, 10-1, 11-1, 12-1); ipmitool rejects
/// any other header byte.
const FORMAT_VERSION: u8 = 0x01;
/// Type/length byte for end of fields: type 11b, length 1 (FRU spec §13.1).
const END_OF_FIELDS: u8 = 0xC1;
/// Type code 11b in bits 7:6, 8-bit ASCII + Latin 1 (FRU spec Table 13-1).
const TYPE_8BIT_ASCII: u8 = 0b11 << 6;
/// Length bits 5:0 of a type/length byte (FRU spec Table 13-1).
const LENGTH_MASK: u8 = 0x3F;
/// Unused area space is 00h (FRU spec Tables 10-1, 11-1, 12-1).
const PAD: u8 = 0x00;
/// Language code English (FRU spec §15, Table 15-1, code 0).
const LANG_ENGLISH: u8 = 0;
/// Language code 25, also "en" (FRU spec Table 15-1).
const LANG_ENGLISH_ALT: u8 = 25;
/// MultiRecord header length (FRU spec §16.1, Table 16-1).
const MULTIRECORD_HEADER_LEN: usize = 5;
/// MultiRecord record format version, bits 3:0 = 2h (FRU spec Table 16-1).
const MULTIRECORD_VERSION: u8 = 0x02;
/// MultiRecord "end of list" flag, bit 7 of byte 1 (FRU spec Table 16-1).
const MULTIRECORD_END_OF_LIST: u8 = 0x80;
/// BCD plus digits (FRU spec §13.1: 0-9, space, dash, period), with the
/// reserved codes as ipmitool prints them.
const BCD_PLUS: &[u8; 16] = b"0123456789 -.:,_";

#[cfg(test)]
mod tests {
    use super::{Area::*, FruError::*, *};
    use proptest::{collection::vec, prelude::*, sample::Index};

    fn full_info() -> FruInfo {
        FruInfo {
            chassis: Some(ChassisInfo {
                chassis_type: 0x17,
                part_number: "CH-PN-0001".into(),
                serial_number: "CHSN123".into(),
                custom: vec!["rack 4".into(), "U12".into()],
            }),
            board: Some(BoardInfo {
                mfg_minutes: 14_726_880, // 2024-01-01 00:00 UTC
                manufacturer: "Acme Corp".into(),
                product_name: "rbmc-board".into(),
                serial_number: "BSN0001".into(),
                part_number: "BPN-42".into(),
                fru_file_id: "board.bin".into(),
                custom: vec!["rev B".into()],
            }),
            product: Some(ProductInfo {
                manufacturer: "Acme Corp".into(),
                product_name: "rbmc server".into(),
                part_number: "PPN-7".into(),
                version: "1".into(),
                serial_number: "PSN9".into(),
                asset_tag: String::new(),
                fru_file_id: "prod.bin".into(),
                custom: vec![String::new(), "x".into()],
            }),
        }
    }

    /// Recomputes the header checksum and the checksum of every info area
    /// that lies inside `data`, so decode gets past the checksums.
    fn fix_checksums(data: &mut [u8]) {
        data[7] = zero_checksum(&data[..7]);
        for index in 2..=4 {
            let start = usize::from(data[index]) * 8;
            let Some(&len) = data.get(start + 1).filter(|_| start != 0) else {
                continue;
            };
            let end = start + usize::from(len) * 8;
            if end > start && end <= data.len() {
                data[end - 1] = zero_checksum(&data[start..end - 1]);
            }
        }
    }

    /// A chassis-only image around `content` (version, length placeholder,
    /// chassis type, fields): pads it and appends the checksum.
    fn chassis_image(content: &[u8]) -> Vec<u8> {
        let mut data = vec![0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00];
        data.extend_from_slice(content);
        data.resize((data.len() + 1).next_multiple_of(8), 0);
        data[9] = u8::try_from((data.len() - 8) / 8).unwrap();
        fix_checksums(&mut data);
        data
    }

    #[test]
    fn known_answer_chassis_and_board() {
        let info = FruInfo {
            chassis: Some(ChassisInfo {
                chassis_type: 0x17,
                part_number: "P1".into(),
                serial_number: "S".into(),
                custom: vec![],
            }),
            board: Some(BoardInfo {
                mfg_minutes: 0x12_3456,
                manufacturer: "AC".into(),
                ..BoardInfo::default()
            }),
            product: None,
        };
        #[rustfmt::skip]
        let expected = [
            // Common header (§8): version 01, no internal use area,
            // chassis at 8 / 8 = 01, board at 24 / 8 = 03, no product,
            // no multirecord, pad 00.
            // Sum 01 + 01 + 03 = 05, checksum 100h - 05h = FBh.
            0x01, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0xFB,
            // Chassis area (§10): version 01, length 02 (16 bytes),
            // type 17h rack mount,
            0x01, 0x02, 0x17,
            // C2h = type 11b | length 2, "P1",
            0xC2, b'P', b'1',
            // "S" padded with a NUL: type 11b needs two bytes (§13.1),
            0xC2, b'S', 0x00,
            // end of fields; 10 bytes + 1 checksum round up to 16: 5 pad,
            0xC1, 0x00, 0x00, 0x00, 0x00, 0x00,
            // 01+02+17+C2+50+31+C2+53+00+C1 = 333h, checksum 100h - 33h.
            0xCD,
            // Board area (§11): version 01, length 02, language 0 English,
            // mfg minutes 123456h least significant byte first,
            0x01, 0x02, 0x00, 0x56, 0x34, 0x12,
            // manufacturer "AC", then empty product name, serial, part
            // number and FRU file ID as C0h each,
            0xC2, b'A', b'C', 0xC0, 0xC0, 0xC0, 0xC0,
            // end of fields; 14 bytes + 1 checksum round up to 16: 1 pad,
            0xC1, 0x00,
            // 01+02+00+56+34+12+C2+41+43+4*C0+C1 = 5A6h, 100h - A6h = 5Ah.
            0x5A,
        ];
        assert_eq!(encode(&info).unwrap(), expected);
        assert_eq!(decode(&expected).unwrap(), info);
    }

    #[test]
    fn round_trips_full_and_partial_infos() {
        let full = full_info();
        // Every combination of present and absent areas.
        for mask in 0..8 {
            let info = FruInfo {
                chassis: full.chassis.clone().filter(|_| mask & 1 != 0),
                board: full.board.clone().filter(|_| mask & 2 != 0),
                product: full.product.clone().filter(|_| mask & 4 != 0),
            };
            let mut bytes = encode(&info).unwrap();
            assert_eq!(bytes.len() % 8, 0);
            assert_eq!(decode(&bytes).unwrap(), info);
            // An EEPROM is larger than its contents: trailing bytes are ignored.
            bytes.extend([0xFF; 64]);
            assert_eq!(decode(&bytes).unwrap(), info);
        }
        let empty = [0x01, 0, 0, 0, 0, 0, 0, 0xFF];
        assert_eq!(encode(&FruInfo::default()).unwrap(), empty);
    }

    #[test]
    fn corrupted_checksums_are_detected() {
        let good = encode(&full_info()).unwrap();
        let mut bad = good.clone();
        bad[7] ^= 0x01;
        assert_eq!(decode(&bad), Err(HeaderChecksum));
        for (index, area) in [(2, Chassis), (3, Board), (4, Product)] {
            let start = usize::from(good[index]) * 8;
            let checksum_at = start + usize::from(good[start + 1]) * 8 - 1;
            for at in [start + 2, start + 5, checksum_at] {
                let mut bad = good.clone();
                bad[at] = bad[at].wrapping_add(1);
                assert_eq!(decode(&bad), Err(AreaChecksum(area)));
            }
        }
    }

    #[test]
    fn bad_versions_lengths_and_languages_are_rejected() {
        let good = encode(&full_info()).unwrap();
        let corrupt = |at: usize, value: u8| {
            let mut bad = good.clone();
            bad[at] = value;
            fix_checksums(&mut bad);
            decode(&bad)
        };
        let version = |area, version| Err(UnsupportedVersion { area, version });
        let board = usize::from(good[3]) * 8;
        assert_eq!(corrupt(0, 0x02), version(CommonHeader, 0x02));
        assert_eq!(corrupt(board, 0x11), version(Board, 0x11));
        assert_eq!(corrupt(board + 1, 0), Err(BadAreaLength(Board)));
        let language = UnsupportedLanguage {
            area: Board,
            code: 1,
        };
        assert_eq!(corrupt(board + 2, 1), Err(language));
    }

    #[test]
    fn truncated_and_unterminated_data_is_rejected() {
        let good = encode(&full_info()).unwrap();
        assert_eq!(decode(&good[..7]), Err(Truncated(CommonHeader)));
        let last = good.len() - 1;
        assert_eq!(decode(&good[..last]), Err(Truncated(Product)));
        for len in 0..good.len() {
            assert!(decode(&good[..len]).is_err());
        }
        // No C1h: 00h reads as empty binary fields until the checksum.
        let unterminated = chassis_image(&[0x01, 0, 0x17, 0xC0, 0xC0, 0xC0]);
        assert_eq!(decode(&unterminated), Err(MissingEndOfFields(Chassis)));
        let short = chassis_image(&[0x01, 0, 0x17, 0xC0, 0xC1]);
        assert_eq!(decode(&short), Err(MissingField(Chassis)));
    }

    #[test]
    fn encode_rejects_bad_fields() {
        let with_part = |part: &str| FruInfo {
            chassis: Some(ChassisInfo {
                part_number: part.into(),
                ..ChassisInfo::default()
            }),
            ..FruInfo::default()
        };
        assert!(encode(&with_part(&"x".repeat(MAX_FIELD_LEN))).is_ok());
        let too_long = FieldTooLong { len: 64 };
        assert_eq!(encode(&with_part(&"x".repeat(64))), Err(too_long));
        assert_eq!(encode(&with_part("caf\u{e9}")), Err(NonAscii('\u{e9}')));
        assert_eq!(encode(&with_part("a\0b")), Err(NulInField));
        let late = FruInfo {
            board: Some(BoardInfo {
                mfg_minutes: 1 << 24,
                ..BoardInfo::default()
            }),
            ..FruInfo::default()
        };
        assert_eq!(encode(&late), Err(MfgDateOutOfRange(1 << 24)));
        // 32 fields of 1 + 63 bytes are 2048 bytes, more than 255 * 8 = 2040.
        let huge = FruInfo {
            chassis: Some(ChassisInfo {
                custom: vec!["y".repeat(63); 32],
                ..ChassisInfo::default()
            }),
            ..FruInfo::default()
        };
        assert_eq!(encode(&huge), Err(TooLarge(Chassis)));
    }

    #[test]
    fn decodes_every_type_code_like_ipmitool() {
        let image = chassis_image(&[
            0x01, 0, 0x17,
            // 10b 6-bit ASCII, 3 bytes: "IPMI", the FRU spec §13.2 example.
            0x83, 0x29, 0xDC, 0xA6, // 01b BCD plus, 2 bytes: 1, 2, Ah space, Bh dash.
            0x42, 0x12, 0xAB, // 00b binary, printed as hex; 11b Latin 1 "éA".
            0x02, 0xDE, 0xAD, 0xC2, 0xE9, b'A', 0xC1,
        ]);
        let chassis = decode(&image).unwrap().chassis.unwrap();
        assert_eq!(chassis.part_number, "IPMI");
        assert_eq!(chassis.serial_number, "12 -");
        assert_eq!(chassis.custom, ["dead", "\u{e9}A"]);
    }

    #[test]
    fn multirecord_checksums_are_verified() {
        let mut good = encode(&FruInfo {
            chassis: full_info().chassis,
            ..FruInfo::default()
        })
        .unwrap();
        good[5] = u8::try_from(good.len() / 8).unwrap();
        fix_checksums(&mut good);
        // Type 00h, EOL | version 2, 2 data bytes, record checksum
        // 100h - (10h + 20h) = D0h, header checksum 100h - (82h+02h+D0h) % 100h.
        good.extend([0x00, 0x82, 0x02, 0xD0, 0xAC, 0x10, 0x20]);
        assert!(decode(&good).is_ok());
        let mut bad = good.clone();
        *bad.last_mut().unwrap() = 0x21;
        assert_eq!(decode(&bad), Err(AreaChecksum(MultiRecord)));
        let last = good.len() - 1;
        assert_eq!(decode(&good[..last]), Err(Truncated(MultiRecord)));
    }

    #[test]
    fn mfg_time_converts_from_and_to_unix_seconds() {
        // (1704067200 - 820454400) / 60 = 14726880 = E0B6E0h minutes.
        let (new_year_2024, minutes) = (1_704_067_200, 0xE0_B6E0);
        let from_unix = BoardInfo::mfg_minutes_from_unix_secs;
        assert_eq!(from_unix(new_year_2024), Some(minutes));
        let board = BoardInfo {
            mfg_minutes: minutes,
            ..BoardInfo::default()
        };
        assert_eq!(board.mfg_unix_secs(), Some(new_year_2024));
        assert_eq!(BoardInfo::default().mfg_unix_secs(), None);
        assert_eq!(from_unix(FRU_EPOCH_UNIX_SECS - 1), None);
        assert_eq!(from_unix(FRU_EPOCH_UNIX_SECS + (1 << 24) * 60), None);
    }

    /// ipmitool lib/ipmi_fru.c `get_fru_area_str()`: bits 7:6 are the type,
    /// bits 5:0 the length; when the computed size is below 1 it returns
    /// NULL after skipping the type/length byte; type 11b copies `len`
    /// bytes that the callers print with `%s`, i.e. up to the first NUL.
    fn ipmitool_area_str(data: &[u8], i: &mut usize) -> Option<String> {
        let (type_code, len) = (data[*i] >> 6, usize::from(data[*i] & 0x3F));
        *i += 1;
        let size = match type_code {
            0 | 1 => len * 2,
            // ipmitool writes ((len * 4 + 2) / 3) & ~3.
            2 => (len * 4).div_ceil(3) & !3,
            _ => len,
        };
        if size < 1 {
            return None;
        }
        assert_eq!(type_code, 3, "encode only emits 8-bit ASCII");
        let bytes = &data[*i..*i + len];
        *i += len;
        // printf("%s") stops at the first NUL.
        let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
        Some(String::from_utf8_lossy(text).into_owned())
    }

    /// `__ipmi_fru_print()` and `fru_area_print_{chassis,board,product}()`
    /// at verbose 1 (so FRU file IDs print), returning the printed lines.
    fn ipmitool_fru_print(fru: &[u8]) -> Vec<String> {
        assert_eq!(fru[0], 1, "Unknown FRU header version");
        let mut lines = Vec::new();
        let sections = [
            (2, "Chassis", 3, "Part Number,Serial"),
            (3, "Board", 6, "Mfg,Product,Serial,Part Number,FRU ID"),
            (
                4,
                "Product",
                3,
                "Manufacturer,Name,Part Number,Version,Serial,Asset Tag,FRU ID",
            ),
        ];
        for (index, section, mut i, labels) in sections {
            let offset = usize::from(fru[index]) * 8;
            if offset < 8 {
                continue;
            }
            let data = &fru[offset..offset + 8 * usize::from(fru[offset + 1])];
            if index == 2 {
                // chassis_type_desc[0x17] is "Rack Mount Chassis".
                assert_eq!(data[2], 0x17);
                lines.push("Chassis Type: Rack Mount Chassis".to_string());
            } else if index == 3 {
                let minutes = u64::from(u32::from_le_bytes([data[3], data[4], data[5], 0]));
                lines.push(format!("Board Mfg Date: {}", minutes * 60 + 820_454_400));
            }
            for label in labels.split(',') {
                if let Some(s) = ipmitool_area_str(data, &mut i).filter(|s| !s.is_empty()) {
                    lines.push(format!("{section} {label}: {s}"));
                }
            }
            while i < data.len() && data[i] != 0xC1 {
                let j = i;
                if let Some(s) = ipmitool_area_str(data, &mut i).filter(|s| !s.is_empty()) {
                    lines.push(format!("{section} Extra: {s}"));
                }
                if i == j {
                    break;
                }
            }
        }
        lines
    }

    #[test]
    fn ipmitool_fru_print_shows_every_field() {
        let lines = ipmitool_fru_print(&encode(&full_info()).unwrap());
        let expected = [
            "Chassis Type: Rack Mount Chassis",
            "Chassis Part Number: CH-PN-0001",
            "Chassis Serial: CHSN123",
            "Chassis Extra: rack 4",
            "Chassis Extra: U12",
            "Board Mfg Date: 1704067200",
            "Board Mfg: Acme Corp",
            "Board Product: rbmc-board",
            "Board Serial: BSN0001",
            "Board Part Number: BPN-42",
            "Board FRU ID: board.bin",
            "Board Extra: rev B",
            "Product Manufacturer: Acme Corp",
            "Product Name: rbmc server",
            "Product Part Number: PPN-7",
            // One character, stored as C2h '1' 00h, prints as "1".
            "Product Version: 1",
            "Product Serial: PSN9",
            // The empty asset tag (C0h) and empty custom field print nothing.
            "Product FRU ID: prod.bin",
            "Product Extra: x",
        ];
        assert_eq!(lines, expected);
    }

    fn field() -> impl Strategy<Value = String> {
        r"[\x01-\x7F]{0,63}"
    }

    /// Any info: 14 fixed fields, up to 3 custom fields per area, each
    /// area present or not.
    fn fru_info() -> impl Strategy<Value = FruInfo> {
        let custom = vec(vec(field(), 0..3), 3);
        let present = any::<[bool; 3]>();
        (
            any::<u8>(),
            0..=MFG_MINUTES_MAX,
            vec(field(), 14),
            custom,
            present,
        )
            .prop_map(|(chassis_type, mfg_minutes, fields, mut custom, present)| {
                let mut c = ChassisInfo {
                    chassis_type,
                    ..ChassisInfo::default()
                };
                let mut b = BoardInfo {
                    mfg_minutes,
                    ..BoardInfo::default()
                };
                let mut p = ProductInfo::default();
                (p.custom, b.custom, c.custom) =
                    (custom.remove(2), custom.remove(1), custom.remove(0));
                #[rustfmt::skip]
                #[rustfmt::skip]
                let slots = [
                    &mut c.part_number, &mut c.serial_number, &mut b.manufacturer,
                    &mut b.product_name, &mut b.serial_number, &mut b.part_number,
                    &mut b.fru_file_id, &mut p.manufacturer, &mut p.product_name,
                    &mut p.part_number, &mut p.version, &mut p.serial_number,
                    &mut p.asset_tag, &mut p.fru_file_id,
                ];
                for (slot, value) in slots.into_iter().zip(fields) {
                    *slot = value;
                }
                let [with_c, with_b, with_p] = present;
                FruInfo {
                    chassis: with_c.then_some(c),
                    board: with_b.then_some(b),
                    product: with_p.then_some(p),
                }
            })
    }

    proptest! {
        #[test]
        fn encode_decode_round_trips(info in fru_info()) {
            let bytes = encode(&info).unwrap();
            prop_assert_eq!(decode(&bytes), Ok(info));
        }

        #[test]
        fn decode_never_panics(data in vec(any::<u8>(), 0..600)) {
            let _ = decode(&data);
        }

        #[test]
        fn decode_never_panics_past_the_header(mut data in vec(any::<u8>(), 8..600)) {
            data[0] = FORMAT_VERSION;
            for offset in &mut data[1..6] {
                *offset %= 16;
            }
            fix_checksums(&mut data);
            let _ = decode(&data);
        }

        #[test]
        fn decode_never_panics_on_mutated_images(
            info in fru_info(), at in any::<Index>(), value in any::<u8>()
        ) {
            let mut data = encode(&info).unwrap();
            let at = at.index(data.len());
            data[at] = value;
            fix_checksums(&mut data);
            let _ = decode(&data);
        }
    }
}
