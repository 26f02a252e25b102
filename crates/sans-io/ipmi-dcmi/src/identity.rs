//! Get/Set Asset Tag and Get/Set Management Controller Identifier String
//! (DCMI v1.5 §6.4.2-6.4.6): a short string read and written in chunks of
//! at most 16 bytes.
//!
//! - The asset tag holds up to 63 bytes, no terminator. A write sets the
//!   tag to what it had before `offset` and the chunk (what followed is
//!   dropped), and answers the new length.
//! - The identifier string holds up to 63 characters and a NUL (64 bytes).
//!   A chunk that carries the NUL is the last: the string ends there. A
//!   write answers the last offset written (offset + count).
//!
//! Reads answer the whole length, then at most the bytes asked for: a
//! count of 0 reads only the length (what clients ask first), and a read
//! past the end answers what remains. Writes may start at any offset up to
//! the current length (pyghmi writes 15-byte chunks), never past it.

use ipmi_wire::CompletionCode;

use crate::wire::{body, reply, GROUP};

/// The most bytes one chunk carries.
pub const MAX_CHUNK: usize = 16;

/// Which string a command is about.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Field {
    /// The asset tag: up to 63 bytes.
    AssetTag,
    /// The management controller identifier string: up to 63 characters
    /// and a NUL.
    ControllerId,
}

impl Field {
    /// The most bytes of content.
    pub const fn max_len(self) -> usize {
        63
    }

    /// The highest offset + count a request may name.
    const fn max_end(self) -> usize {
        match self {
            Self::AssetTag => 63,
            Self::ControllerId => 64,
        }
    }
}

fn length_byte(value: &[u8]) -> u8 {
    u8::try_from(value.len()).unwrap_or(u8::MAX)
}

/// Get Asset Tag or Get Management Controller Identifier String.
pub fn get(field: Field, value: &[u8], data: &[u8]) -> Result<Vec<u8>, CompletionCode> {
    let request = body(data, 2)?;
    let (offset, count) = (usize::from(request[0]), usize::from(request[1]));
    if count > MAX_CHUNK || offset + count > field.max_end() {
        return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
    }
    let start = offset.min(value.len());
    let end = (offset + count).min(value.len());
    let mut fields = vec![length_byte(value)];
    fields.extend_from_slice(&value[start..end]);
    Ok(reply(&fields))
}

/// Set Asset Tag or Set Management Controller Identifier String: the new
/// value and the reply, once the owner has stored it.
pub fn set(field: Field, value: &[u8], data: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CompletionCode> {
    let (&group, rest) = data
        .split_first()
        .ok_or(CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
    if group != GROUP {
        return Err(CompletionCode::INVALID_COMMAND);
    }
    let [offset, count, chunk @ ..] = rest else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let (offset, count) = (usize::from(*offset), usize::from(*count));
    if chunk.len() != count {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    if count > MAX_CHUNK || offset + count > field.max_end() || offset > value.len() {
        return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
    }
    let mut next = value[..offset].to_vec();
    match field {
        Field::AssetTag => {
            next.extend_from_slice(chunk);
            let reply_fields = [length_byte(&next)];
            Ok((next, reply(&reply_fields)))
        }
        Field::ControllerId => {
            let text = chunk.split(|b| *b == 0).next().unwrap_or_default();
            next.extend_from_slice(text);
            // The 64th byte can only be the terminator.
            if next.len() > field.max_len() {
                return Err(CompletionCode::PARAMETER_OUT_OF_RANGE);
            }
            let written = u8::try_from(offset + count).unwrap_or(u8::MAX);
            Ok((next, reply(&[written])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_answer_the_length_then_what_was_asked_and_remains() {
        let tag = b"rack 7 slot 3";
        assert_eq!(
            get(Field::AssetTag, tag, &[0xDC, 0, 0]).unwrap(),
            [0xDC, 13]
        );
        let chunk = get(Field::AssetTag, tag, &[0xDC, 5, 16]).unwrap();
        assert_eq!(&chunk[2..], b"7 slot 3");
        // Empty: the length 0 and nothing, not an error.
        assert_eq!(
            get(Field::AssetTag, b"", &[0xDC, 0, 16]).unwrap(),
            [0xDC, 0]
        );
        assert_eq!(
            get(Field::AssetTag, tag, &[0xDC, 0, 17]),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        assert_eq!(
            get(Field::AssetTag, tag, &[0xDC, 48, 16]),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        assert!(get(Field::ControllerId, tag, &[0xDC, 48, 16]).is_ok());
    }

    #[test]
    fn an_asset_tag_write_replaces_from_its_offset() {
        let (tag, answer) =
            set(Field::AssetTag, b"old tag", &[0xDC, 0, 3, b'n', b'e', b'w']).unwrap();
        assert_eq!((tag.as_slice(), answer), (&b"new"[..], vec![0xDC, 3]));
        // pyghmi's 15-byte chunks: offset 15 follows 15 bytes.
        let first = [0xDC, 0, 15]
            .iter()
            .copied()
            .chain(*b"abcdefghijklmno")
            .collect::<Vec<_>>();
        let (tag, _) = set(Field::AssetTag, b"", &first).unwrap();
        let (tag, answer) = set(Field::AssetTag, &tag, &[0xDC, 15, 2, b'p', b'q']).unwrap();
        assert_eq!(tag, b"abcdefghijklmnopq");
        assert_eq!(answer, [0xDC, 17]);
        // Past the end, over 63 bytes, a count that is not the data's.
        assert_eq!(
            set(Field::AssetTag, b"ab", &[0xDC, 3, 1, b'x']),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        let long = [0xDC, 48]
            .iter()
            .copied()
            .chain([16])
            .chain([b'x'; 16])
            .collect::<Vec<_>>();
        assert_eq!(
            set(Field::AssetTag, &[b'y'; 48], &long),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        assert_eq!(
            set(Field::AssetTag, b"", &[0xDC, 0, 2, b'x']),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(
            set(Field::AssetTag, b"", &[0xDD, 0, 1, b'x']),
            Err(CompletionCode::INVALID_COMMAND)
        );
    }

    #[test]
    fn an_identifier_ends_at_its_nul_and_answers_the_last_offset_written() {
        let mut chunk = vec![0xDC, 0, 16];
        chunk.extend_from_slice(b"bmc-rack7-slot3x");
        let (id, answer) = set(Field::ControllerId, b"", &chunk).unwrap();
        assert_eq!(answer, [0xDC, 16]);
        let (id, answer) = set(Field::ControllerId, &id, &[0xDC, 16, 1, 0]).unwrap();
        assert_eq!(
            (id.as_slice(), answer),
            (&b"bmc-rack7-slot3x"[..], vec![0xDC, 17])
        );
        assert_eq!(
            get(Field::ControllerId, &id, &[0xDC, 0, 1]).unwrap(),
            [0xDC, 16, b'b']
        );
        // A 64th character cannot be stored: only the NUL goes there.
        let full = vec![b'a'; 48];
        let mut last = vec![0xDC, 48, 16];
        last.extend_from_slice(&[b'z'; 16]);
        assert_eq!(
            set(Field::ControllerId, &full, &last),
            Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
        );
        last[3 + 15] = 0;
        assert_eq!(set(Field::ControllerId, &full, &last).unwrap().0.len(), 63);
    }
}
