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
mod tests;
