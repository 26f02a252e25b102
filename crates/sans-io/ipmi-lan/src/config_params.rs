//! The framing the configuration-parameter commands share: Get/Set LAN
//! Configuration Parameters (§23.1-23.2) and Get/Set SOL Configuration
//! Parameters (§26.2-26.3) address a channel and a parameter the same way,
//! answer with the same revision byte, and have the same set-in-progress
//! parameter (0).

use ipmi_wire::CompletionCode;

use crate::commands::{resolve_channel, CommandResult};

/// Parameter revision of both parameter sets (Tables 23-2, 26-4: 11h).
pub const REVISION: u8 = 0x11;
/// 80h: parameter not supported.
pub const CC_PARAMETER_NOT_SUPPORTED: CompletionCode = CompletionCode(0x80);
/// 81h: set already in progress.
pub const CC_SET_IN_PROGRESS: CompletionCode = CompletionCode(0x81);
/// 82h: attempt to write a read-only parameter.
pub const CC_READ_ONLY_PARAMETER: CompletionCode = CompletionCode(0x82);

fn check_channel(byte: u8, channel: u8, present: u8) -> Result<(), CompletionCode> {
    if resolve_channel(byte, present) == channel {
        Ok(())
    } else {
        Err(CompletionCode::INVALID_DATA_FIELD)
    }
}

/// A Get request for `channel`: the parameter, and whether only the
/// revision is wanted (channel byte bit 7). Set and block selectors are not
/// used by the parameters rbmc offers.
pub fn parse_get(data: &[u8], channel: u8, present: u8) -> Result<(u8, bool), CompletionCode> {
    let [channel_byte, parameter, _set, _block] = data else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if channel_byte & 0x70 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    check_channel(*channel_byte, channel, present)?;
    Ok((*parameter, channel_byte & 0x80 != 0))
}

/// A Get response: the revision, then the value unless only the revision
/// was asked for.
pub fn get_response(revision_only: bool, value: Vec<u8>) -> Vec<u8> {
    let mut out = vec![REVISION];
    if !revision_only {
        out.extend(value);
    }
    out
}

/// A Set request for `channel`: the parameter and its value bytes.
pub fn parse_set(data: &[u8], channel: u8, present: u8) -> Result<(u8, &[u8]), CompletionCode> {
    let [channel_byte, parameter, value @ ..] = data else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if channel_byte & 0xF0 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    check_channel(*channel_byte, channel, present)?;
    Ok((*parameter, value))
}

/// Parameter 0, set-in-progress: 00b set complete, 01b set in progress
/// (81h if one already is), 10b commit write (parameters here take effect
/// as they are set, so it only succeeds).
pub fn set_in_progress(in_progress: &mut bool, value: &[u8]) -> CommandResult {
    let [state] = value else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    match state {
        0 => *in_progress = false,
        1 if *in_progress => return Err(CC_SET_IN_PROGRESS),
        1 => *in_progress = true,
        2 => {}
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_and_set_in_progress() {
        assert_eq!(parse_get(&[0x0E, 3, 0, 0], 1, 1), Ok((3, false)));
        assert_eq!(parse_get(&[0x81, 3, 0, 0], 1, 1), Ok((3, true)));
        assert_eq!(
            parse_get(&[0x02, 3, 0, 0], 1, 1),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            parse_get(&[0x01, 3, 0], 1, 1),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(parse_set(&[0x01, 5, 7], 1, 1), Ok((5, &[7u8][..])));
        assert_eq!(get_response(true, vec![1, 2]), [REVISION]);
        let mut flag = false;
        assert_eq!(set_in_progress(&mut flag, &[1]), Ok(vec![]));
        assert_eq!(set_in_progress(&mut flag, &[1]), Err(CC_SET_IN_PROGRESS));
        assert_eq!(set_in_progress(&mut flag, &[2]), Ok(vec![]));
        assert_eq!(set_in_progress(&mut flag, &[0]), Ok(vec![]));
        assert!(!flag);
        assert_eq!(
            set_in_progress(&mut flag, &[0x41]),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }
}
