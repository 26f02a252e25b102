//! The commands about sessions themselves, run against the session table:
//!
//! | NetFn | Cmd | Name                        | Spec             |
//! |-------|-----|-----------------------------|------------------|
//! | App   | 3Bh | Set Session Privilege Level | §22.18           |
//! | App   | 3Ch | Close Session               | §22.19           |
//! | App   | 3Dh | Get Session Info            | §22.20, T. 22-26 |

use std::net::{Ipv4Addr, SocketAddr};

use ipmi_wire::{CompletionCode, Privilege};

use crate::{commands::CommandResult, session::SessionTable};

/// Set Session Privilege Level.
pub const CMD_SET_SESSION_PRIVILEGE: u8 = 0x3B;
/// Close Session.
pub const CMD_CLOSE_SESSION: u8 = 0x3C;
/// Get Session Info.
pub const CMD_GET_SESSION_INFO: u8 = 0x3D;

/// Close Session 87h: invalid session ID in request.
pub const CC_INVALID_SESSION_ID: CompletionCode = CompletionCode(0x87);
/// Close Session 88h: invalid session handle in request.
pub const CC_INVALID_SESSION_HANDLE: CompletionCode = CompletionCode(0x88);
/// Set Session Privilege Level 81h: the level exceeds the user's or the
/// channel's limit.
pub const CC_PRIVILEGE_ABOVE_LIMIT: CompletionCode = CompletionCode(0x81);

/// Set Session Privilege Level for session `session_id`.
pub(crate) fn set_session_privilege(
    sessions: &mut SessionTable,
    session_id: u32,
    data: &[u8],
) -> CommandResult {
    let session = sessions
        .active_mut(session_id)
        // Only a session has a privilege level to set.
        .ok_or(CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE)?;
    let level = parse_session_privilege(data, session.privilege, session.privilege_limit)?;
    session.privilege = level;
    Ok(vec![level.level()])
}

/// The level Set Session Privilege Level asks for, checked against the
/// session's `current` level and its `limit`.
pub fn parse_session_privilege(
    data: &[u8],
    current: Privilege,
    limit: Privilege,
) -> Result<Privilege, CompletionCode> {
    let [requested] = data else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if requested & 0xF0 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    if requested & 0x0F == 0 {
        // 0h: no change, just report the present level.
        return Ok(current);
    }
    // Callback cannot be set, and OEM is not offered (Table 22-23).
    let requested = match Privilege::from_level(*requested) {
        Some(level @ (Privilege::User | Privilege::Operator | Privilege::Administrator)) => level,
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    };
    if requested > limit {
        return Err(CC_PRIVILEGE_ABOVE_LIMIT);
    }
    Ok(requested)
}

/// Which session Close Session names.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum CloseTarget {
    /// By the BMC's session ID.
    Id(u32),
    /// By session handle (ID field zero).
    Handle(u8),
}

/// Parses Close Session's request data (Table 22-24).
pub fn parse_close_session(data: &[u8]) -> Result<CloseTarget, CompletionCode> {
    match data {
        [a, b, c, d] => {
            let id = u32::from_le_bytes([*a, *b, *c, *d]);
            if id == 0 {
                Err(CC_INVALID_SESSION_ID)
            } else {
                Ok(CloseTarget::Id(id))
            }
        }
        [0, 0, 0, 0, handle] => Ok(CloseTarget::Handle(*handle)),
        [_, _, _, _, _] => Err(CompletionCode::INVALID_DATA_FIELD),
        _ => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
    }
}

/// Close Session asked by session `own_id` at `own_privilege` (0 and the
/// system interface's privilege when not in a session): the session to
/// end. Closing someone else's session takes Administrator (§22.19).
pub(crate) fn close_session_target(
    sessions: &SessionTable,
    own_id: u32,
    own_privilege: Privilege,
    data: &[u8],
) -> Result<u32, CompletionCode> {
    let id = match parse_close_session(data)? {
        CloseTarget::Id(id) => id,
        CloseTarget::Handle(handle) => sessions
            .by_handle(handle)
            .ok_or(CC_INVALID_SESSION_HANDLE)?,
    };
    if !sessions.contains(id) {
        return Err(CC_INVALID_SESSION_ID);
    }
    if id != own_id && own_privilege < Privilege::Administrator {
        return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
    }
    Ok(id)
}

/// Get Session Info (§22.20, Table 22-26), asked from session
/// `own_session_id` (0 when not in a session) on `channel`. `mac_of` looks
/// the remote console's MAC address up (zeros when unknown).
pub(crate) fn session_info(
    sessions: &SessionTable,
    channel: u8,
    own_session_id: u32,
    data: &[u8],
    mac_of: &dyn Fn(Ipv4Addr) -> [u8; 6],
) -> CommandResult {
    let mut active: Vec<_> = sessions.active_sessions().collect();
    active.sort_by_key(|(_, session)| session.handle);
    let found = match data {
        [0x00] => active.iter().find(|(id, _)| *id == own_session_id),
        [index @ 0x01..=0x3F] => active.get(usize::from(*index) - 1),
        [0xFE, handle] => active.iter().find(|(_, s)| s.handle == *handle),
        [0xFF, a, b, c, d] => {
            let id = u32::from_le_bytes([*a, *b, *c, *d]);
            active.iter().find(|(sid, _)| *sid == id)
        }
        [0xFE] | [0xFF, ..] => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        [_] => return Err(CompletionCode::INVALID_DATA_FIELD),
        _ => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
    };
    let possible = u8::try_from(sessions.max_sessions().min(0x3F)).unwrap_or(0x3F);
    let count = u8::try_from(active.len().min(0x3F)).unwrap_or(0x3F);
    let Some((_, session)) = found else {
        // No such session: the handle field says so (00h).
        return Ok(vec![0x00, possible, count]);
    };
    let mut out = vec![
        session.handle,
        possible,
        count,
        session.user.id & 0x3F,
        session.privilege.level(),
        // Auxiliary data 1h: IPMI v2.0/RMCP+; then the channel.
        0x10 | (channel & 0x0F),
    ];
    let (ip, port) = match session.peer {
        SocketAddr::V4(v4) => (*v4.ip(), v4.port()),
        SocketAddr::V6(v6) => (
            v6.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
            v6.port(),
        ),
    };
    out.extend_from_slice(&ip.octets());
    out.extend_from_slice(&mac_of(ip));
    out.extend_from_slice(&port.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_session_privilege_rules() {
        use Privilege::*;
        assert_eq!(
            parse_session_privilege(&[0x04], User, Administrator),
            Ok(Administrator)
        );
        assert_eq!(
            parse_session_privilege(&[0x00], Operator, Administrator),
            Ok(Operator)
        );
        assert_eq!(
            parse_session_privilege(&[0x04], User, Operator),
            Err(CompletionCode(0x81))
        );
        assert_eq!(
            parse_session_privilege(&[0x01], User, Operator),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            parse_session_privilege(&[], User, Operator),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }

    #[test]
    fn close_session_targets() {
        assert_eq!(parse_close_session(&[1, 0, 0, 0]), Ok(CloseTarget::Id(1)));
        assert_eq!(
            parse_close_session(&[0, 0, 0, 0, 3]),
            Ok(CloseTarget::Handle(3))
        );
        assert!(parse_close_session(&[0, 0, 0, 0]).is_err());
        assert!(parse_close_session(&[1, 0]).is_err());
    }
}
