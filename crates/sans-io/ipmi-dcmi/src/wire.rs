//! DCMI's framing (DCMI v1.5 §6): every request's first data byte and every
//! reply's first byte after the completion code is the defining body code
//! DCh; multi-byte fields are least significant byte first.

use ipmi_wire::CompletionCode;

/// The group extension's defining body code.
pub const GROUP: u8 = 0xDC;

/// Get DCMI Capabilities Info.
pub const GET_CAPABILITIES: u8 = 0x01;
/// Get Power Reading.
pub const GET_POWER_READING: u8 = 0x02;
/// Get Power Limit.
pub const GET_POWER_LIMIT: u8 = 0x03;
/// Set Power Limit.
pub const SET_POWER_LIMIT: u8 = 0x04;
/// Activate/Deactivate Power Limit.
pub const ACTIVATE_POWER_LIMIT: u8 = 0x05;
/// Get DCMI Sensor Info.
pub const GET_SENSOR_INFO: u8 = 0x07;
/// Get Temperature Readings.
pub const GET_TEMPERATURE_READINGS: u8 = 0x10;
/// Get Asset Tag.
pub const GET_ASSET_TAG: u8 = 0x06;
/// Set Asset Tag.
pub const SET_ASSET_TAG: u8 = 0x08;
/// Get Management Controller Identifier String.
pub const GET_CONTROLLER_ID: u8 = 0x09;
/// Set Management Controller Identifier String.
pub const SET_CONTROLLER_ID: u8 = 0x0A;

/// Get Power Limit: no power limit is active (the settings still follow).
pub const CC_NO_ACTIVE_LIMIT: CompletionCode = CompletionCode(0x80);
/// Set Power Limit: the limit is out of range.
pub const CC_LIMIT_OUT_OF_RANGE: CompletionCode = CompletionCode(0x84);
/// Set Power Limit: the correction time is out of range.
pub const CC_CORRECTION_TIME_OUT_OF_RANGE: CompletionCode = CompletionCode(0x85);
/// Set Power Limit: the statistics reporting period is out of range.
pub const CC_SAMPLING_PERIOD_OUT_OF_RANGE: CompletionCode = CompletionCode(0x89);

/// The request's bytes after the DCh byte, if it has exactly `len` of
/// them: a missing or short request is C7h, a wrong body code C1h (this
/// group has no such command), a longer one C7h.
pub fn body(data: &[u8], len: usize) -> Result<&[u8], CompletionCode> {
    match data.split_first() {
        None => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        Some((&group, _)) if group != GROUP => Err(CompletionCode::INVALID_COMMAND),
        Some((_, rest)) if rest.len() != len => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        Some((_, rest)) => Ok(rest),
    }
}

/// A reply: DCh, then `fields`.
pub fn reply(fields: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + fields.len());
    out.push(GROUP);
    out.extend_from_slice(fields);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_begin_with_the_group_and_have_their_length() {
        assert_eq!(body(&[0xDC, 1, 2], 2), Ok(&[1u8, 2][..]));
        assert_eq!(
            body(&[], 2),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(body(&[0x00, 1, 2], 2), Err(CompletionCode::INVALID_COMMAND));
        assert_eq!(
            body(&[0xDC, 1], 2),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(
            body(&[0xDC, 1, 2, 3], 2),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(reply(&[5]), [0xDC, 5]);
    }
}
