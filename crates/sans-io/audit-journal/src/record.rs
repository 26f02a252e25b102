//! One audit record: its fields and their rules, its frame on disk, and
//! its JSON line.
//!
//! # Frame
//! ```text
//!  0      2     3     4                  8
//! +------+-----+-----+------------------+-----------------+----------------+
//! | "AU" | 01h | 00h | body length (LE) | body            | CRC-32 (4, LE) |
//! +------+-----+-----+------------------+-----------------+----------------+
//! ```
//! The CRC-32 (IEEE) covers the 8 header bytes and the body.
//!
//! ```text
//! body:
//!  0                8                 16        17
//! +----------------+-----------------+---------+--------+------+---------+--------+--------+
//! | sequence (LE)  | time (LE)       | channel | source | user | address | action | result |
//! +----------------+-----------------+---------+--------+------+---------+--------+--------+
//! ```
//! `time` is milliseconds since the Unix epoch (UTC); each text field is a
//! 2-byte length (LE) and that many bytes of UTF-8.

use std::fmt::Write as _;

/// The most bytes a text field may hold (UTF-8).
pub const MAX_FIELD_LEN: usize = 256;
/// Bytes of a frame's header (magic, version, reserved, body length).
pub const HEADER_LEN: usize = 8;
/// Bytes of a frame's trailer (the CRC-32).
pub const TRAILER_LEN: usize = 4;
/// The fixed part of a body: sequence, time, channel.
const FIXED_LEN: usize = 17;
/// Text fields per record.
const TEXT_FIELDS: usize = 5;
/// The longest body a valid record can have.
pub const MAX_BODY_LEN: usize = FIXED_LEN + TEXT_FIELDS * (2 + MAX_FIELD_LEN);

const MAGIC: [u8; 2] = *b"AU";
const VERSION: u8 = 0x01;

/// Why a field is refused.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// The field is longer than [`MAX_FIELD_LEN`] bytes.
    #[error("{field} is {len} bytes long; at most {MAX_FIELD_LEN} are kept")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The field holds a control character (a line break, an escape): an
    /// audit line must not be able to forge another line or a terminal
    /// sequence.
    #[error("{field} holds a control character")]
    ControlCharacter {
        /// The field's name.
        field: &'static str,
    },
}

/// What a caller records: who saw it, who did what, from where, how it
/// ended (the `org.rbmc.Audit.Record` arguments).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Fields {
    /// Who saw it (`rmcp+`, `kcs`, `userd`, `redfish`).
    pub source: String,
    /// The account name, empty when none.
    pub user: String,
    /// The client's address, empty for the host side.
    pub address: String,
    /// The IPMI channel, 0 when none.
    pub channel: u8,
    /// What was asked.
    pub action: String,
    /// How it ended.
    pub result: String,
}

/// A record as it is kept: its fields, the sequence number the journal gave
/// it and the time the driver read from its clock.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Record {
    /// Its sequence number: counts up from 1 and never repeats.
    pub sequence: u64,
    /// Milliseconds since the Unix epoch, UTC.
    pub time_ms: u64,
    /// What was recorded.
    pub fields: Fields,
}

impl Fields {
    /// Checks every text field: at most [`MAX_FIELD_LEN`] bytes, no control
    /// character.
    pub fn check(&self) -> Result<(), FieldError> {
        for (field, text) in self.texts() {
            if text.len() > MAX_FIELD_LEN {
                return Err(FieldError::TooLong {
                    field,
                    len: text.len(),
                });
            }
            if text.chars().any(char::is_control) {
                return Err(FieldError::ControlCharacter { field });
            }
        }
        Ok(())
    }

    /// The text fields with their names, in frame order.
    fn texts(&self) -> [(&'static str, &str); TEXT_FIELDS] {
        [
            ("source", &self.source),
            ("user", &self.user),
            ("address", &self.address),
            ("action", &self.action),
            ("result", &self.result),
        ]
    }
}

impl Record {
    /// Appends the record's frame to `out`. The fields must have passed
    /// [`Fields::check`] (a [`crate::Batch`] sees to it).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(0);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&self.time_ms.to_le_bytes());
        out.push(self.fields.channel);
        for (_, text) in self.fields.texts() {
            // Checked fields are at most MAX_FIELD_LEN bytes.
            let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        let body = u32::try_from(out.len() - start - HEADER_LEN).unwrap_or(u32::MAX);
        out[start + 4..start + 8].copy_from_slice(&body.to_le_bytes());
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
    }

    /// The record's frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Decodes the frame at the start of `bytes`: the record and the
    /// frame's length, or `None` if the frame is short, has a bad magic,
    /// version, length or checksum, or its body does not hold a valid
    /// record.
    pub fn decode(bytes: &[u8]) -> Option<(Self, usize)> {
        let header = bytes.get(..HEADER_LEN)?;
        if header[..2] != MAGIC || header[2] != VERSION || header[3] != 0 {
            return None;
        }
        let body_len = usize::try_from(u32::from_le_bytes(header[4..8].try_into().ok()?)).ok()?;
        if !(FIXED_LEN..=MAX_BODY_LEN).contains(&body_len) {
            return None;
        }
        let frame_len = HEADER_LEN + body_len + TRAILER_LEN;
        let frame = bytes.get(..frame_len)?;
        let (covered, crc) = frame.split_at(HEADER_LEN + body_len);
        if crc32fast::hash(covered) != u32::from_le_bytes(crc.try_into().ok()?) {
            return None;
        }
        let record = Self::decode_body(&covered[HEADER_LEN..])?;
        Some((record, frame_len))
    }

    fn decode_body(body: &[u8]) -> Option<Self> {
        let (fixed, mut rest) = body.split_at_checked(FIXED_LEN)?;
        let sequence = u64::from_le_bytes(fixed[0..8].try_into().ok()?);
        let time_ms = u64::from_le_bytes(fixed[8..16].try_into().ok()?);
        let mut texts: [String; TEXT_FIELDS] = Default::default();
        for text in &mut texts {
            let (len, tail) = rest.split_at_checked(2)?;
            let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
            let (bytes, tail) = tail.split_at_checked(len)?;
            *text = String::from_utf8(bytes.to_vec()).ok()?;
            rest = tail;
        }
        if !rest.is_empty() {
            return None;
        }
        let [source, user, address, action, result] = texts;
        let fields = Fields {
            source,
            user,
            address,
            channel: fixed[16],
            action,
            result,
        };
        fields.check().ok()?;
        Some(Self {
            sequence,
            time_ms,
            fields,
        })
    }

    /// The record as one JSON object on one line: `sequence`, `time` (RFC
    /// 3339, UTC), `source`, `user`, `address`, `channel`, `action`,
    /// `result`.
    pub fn json_line(&self) -> String {
        let f = &self.fields;
        let mut out = format!(
            "{{\"sequence\":{},\"time\":\"{}\"",
            self.sequence,
            rfc3339(self.time_ms)
        );
        for (name, text) in [
            ("source", &f.source),
            ("user", &f.user),
            ("address", &f.address),
        ] {
            push_string(&mut out, name, text);
        }
        let _ = write!(out, ",\"channel\":{}", f.channel);
        push_string(&mut out, "action", &f.action);
        push_string(&mut out, "result", &f.result);
        out.push('}');
        out
    }
}

/// Appends `,"name":"text"` with `text` escaped for JSON (RFC 8259 §7).
fn push_string(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, ",\"{name}\":\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC,
/// `2024-05-06T07:08:09.010Z`.
pub fn rfc3339(time_ms: u64) -> String {
    let seconds = time_ms / 1000;
    let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX / 2);
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        time_ms % 1000
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1-31 and month 1-12 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            source: "rmcp+".into(),
            user: "admin".into(),
            address: "192.0.2.7:623".into(),
            channel: 1,
            action: "login".into(),
            result: "ok".into(),
        }
    }

    fn record(sequence: u64) -> Record {
        Record {
            sequence,
            time_ms: 1_715_000_000_123,
            fields: fields(),
        }
    }

    #[test]
    fn a_frame_decodes_to_the_record_it_was_encoded_from() {
        let mut r = record(7);
        r.fields.user = "Jürgen \"the\" \\admin".into();
        let bytes = r.encode();
        assert_eq!(&bytes[..4], b"AU\x01\x00");
        let body = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
        assert_eq!(
            bytes.len(),
            HEADER_LEN + usize::try_from(body).unwrap() + TRAILER_LEN
        );
        assert_eq!(&bytes[8..16], &7u64.to_le_bytes());
        assert_eq!(Record::decode(&bytes), Some((r, bytes.len())));
    }

    #[test]
    fn a_frame_with_one_flipped_bit_or_cut_short_is_refused() {
        let bytes = record(1).encode();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert_eq!(Record::decode(&bad), None, "bit flipped in byte {i}");
        }
        for len in 0..bytes.len() {
            assert_eq!(Record::decode(&bytes[..len]), None, "cut to {len}");
        }
    }

    #[test]
    fn fields_over_256_bytes_or_with_control_characters_are_refused() {
        assert_eq!(fields().check(), Ok(()));
        let mut f = fields();
        f.action = "x".repeat(MAX_FIELD_LEN);
        assert_eq!(f.check(), Ok(()));
        f.action.push('x');
        assert_eq!(
            f.check(),
            Err(FieldError::TooLong {
                field: "action",
                len: 257
            })
        );
        for bad in ["a\nb", "\r", "\u{1b}[2J", "\u{7f}", "\u{85}", "\0"] {
            let mut f = fields();
            f.user = bad.into();
            assert_eq!(
                f.check(),
                Err(FieldError::ControlCharacter { field: "user" }),
                "{bad:?}"
            );
        }
        // Empty fields are fine: no user, no address on the host side.
        let f = Fields {
            channel: 0,
            ..Fields::default()
        };
        assert_eq!(f.check(), Ok(()));
    }

    #[test]
    fn json_line_has_every_key_escaped() {
        let mut r = record(42);
        r.fields.result = "say \"hi\" \\o/".into();
        assert_eq!(
            r.json_line(),
            "{\"sequence\":42,\"time\":\"2024-05-06T12:53:20.123Z\",\"source\":\"rmcp+\",\
             \"user\":\"admin\",\"address\":\"192.0.2.7:623\",\"channel\":1,\
             \"action\":\"login\",\"result\":\"say \\\"hi\\\" \\\\o/\"}"
        );
    }

    #[test]
    fn rfc3339_pins_known_instants() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (4_102_444_800_000, "2100-01-01T00:00:00.000Z"),
        ] {
            assert_eq!(rfc3339(ms), text, "{ms}");
        }
    }
}
