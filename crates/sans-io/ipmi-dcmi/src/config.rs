//! Get/Set DCMI Configuration Parameters (DCMI v1.5 §6.1.2-6.1.3): how
//! the management controller finds its address with DHCP.
//!
//! | # | parameter | here |
//! |---|---|---|
//! | 1 | Activate DHCP | writing 01h restarts DHCP on the LAN channel's interface ([`Change::RestartDhcp`]); reads 00h |
//! | 2 | discovery configuration | 00h: no option 12 (the identifier string as host name), no option 60/43 (DCMI's vendor class), no random back-off; only 00h is written |
//! | 3 | DHCP timing 1: initial timeout, seconds | the DHCP client's own ([`DhcpClient`]); written only as it is |
//! | 4 | DHCP timing 2: server contact timeout, seconds (2 bytes) | likewise |
//! | 5 | DHCP timing 3: server contact retry interval, seconds (2 bytes) | likewise |
//!
//! What the client does is not settable here, so a write of another value
//! is refused (CCh) rather than stored and ignored. A Get answers DCh, the
//! DCMI version 1.5 (01h 05h), the parameter revision 01h, then the value.

use ipmi_wire::CompletionCode;

use crate::wire::{reply, GROUP};

/// Set DCMI Configuration Parameters.
pub const SET_CONFIG: u8 = 0x12;
/// Get DCMI Configuration Parameters.
pub const GET_CONFIG: u8 = 0x13;

/// What the BMC's DHCP client does (parameters 3 to 5).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct DhcpClient {
    /// Seconds before the first retransmission.
    pub initial_timeout_s: u8,
    /// Seconds before it stops trying a server; FFFFh: it never stops.
    pub server_contact_timeout_s: u16,
    /// Seconds between its attempts once backed off.
    pub retry_interval_s: u16,
}

impl DhcpClient {
    /// systemd-networkd's DHCPv4 client (systemd 247 and later, RFC 2131
    /// §4.1): the first retransmission after 4 s, doubling up to 64 s, and
    /// it never gives up on the server.
    pub const NETWORKD: Self = Self {
        initial_timeout_s: 4,
        server_contact_timeout_s: 0xFFFF,
        retry_interval_s: 64,
    };
}

/// What a Set asks the owner to do.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Change {
    /// Nothing: the value written is the one in effect.
    None,
    /// Restart DHCP on the LAN interface.
    RestartDhcp,
}

/// The request's parameter and set selector (00h), and what follows.
fn request(data: &[u8]) -> Result<(u8, &[u8]), CompletionCode> {
    match data {
        [] | [_] | [_, _] => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        [group, ..] if *group != GROUP => Err(CompletionCode::INVALID_COMMAND),
        [_, _, set, ..] if *set != 0 => Err(CompletionCode::INVALID_DATA_FIELD),
        [_, parameter, _, rest @ ..] => Ok((*parameter, rest)),
    }
}

/// The value of `parameter`.
fn value(parameter: u8, client: &DhcpClient) -> Result<Vec<u8>, CompletionCode> {
    Ok(match parameter {
        1 | 2 => vec![0x00],
        3 => vec![client.initial_timeout_s],
        4 => client.server_contact_timeout_s.to_le_bytes().to_vec(),
        5 => client.retry_interval_s.to_le_bytes().to_vec(),
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    })
}

/// Get DCMI Configuration Parameters.
pub fn get(data: &[u8], client: &DhcpClient) -> Result<Vec<u8>, CompletionCode> {
    let (parameter, rest) = request(data)?;
    if !rest.is_empty() {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    let value = value(parameter, client)?;
    let mut fields = vec![0x01, 0x05, 0x01];
    fields.extend(value);
    Ok(reply(&fields))
}

/// Set DCMI Configuration Parameters: what the owner must do, once the
/// request is checked. Its answer is [`reply`] of nothing.
pub fn set(data: &[u8], client: &DhcpClient) -> Result<Change, CompletionCode> {
    let (parameter, written) = request(data)?;
    let current = value(parameter, client)?;
    if written.len() != current.len() {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    match (parameter, written) {
        (1, [0x01]) => Ok(Change::RestartDhcp),
        (1, [0x00]) => Ok(Change::None),
        _ if written == current.as_slice() => Ok(Change::None),
        _ => Err(CompletionCode::INVALID_DATA_FIELD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: DhcpClient = DhcpClient::NETWORKD;

    #[test]
    fn gets_answer_the_version_the_revision_and_the_value() {
        // ipmitool's get_conf_param asks 2 to 5.
        assert_eq!(get(&[0xDC, 2, 0], &CLIENT), Ok(vec![0xDC, 1, 5, 1, 0x00]));
        assert_eq!(get(&[0xDC, 3, 0], &CLIENT), Ok(vec![0xDC, 1, 5, 1, 4]));
        assert_eq!(
            get(&[0xDC, 4, 0], &CLIENT),
            Ok(vec![0xDC, 1, 5, 1, 0xFF, 0xFF])
        );
        assert_eq!(get(&[0xDC, 5, 0], &CLIENT), Ok(vec![0xDC, 1, 5, 1, 64, 0]));
        assert_eq!(get(&[0xDC, 1, 0], &CLIENT), Ok(vec![0xDC, 1, 5, 1, 0x00]));
    }

    #[test]
    fn bad_gets_are_refused() {
        let refused = [
            (&[0xDC, 2][..], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (
                &[0xDC, 2, 0, 0],
                CompletionCode::REQUEST_DATA_LENGTH_INVALID,
            ),
            (&[0xDD, 2, 0], CompletionCode::INVALID_COMMAND),
            (&[0xDC, 2, 1], CompletionCode::INVALID_DATA_FIELD),
            (&[0xDC, 6, 0], CompletionCode::INVALID_DATA_FIELD),
            (&[0xDC, 0xFF, 0], CompletionCode::INVALID_DATA_FIELD),
        ];
        for (request, code) in refused {
            assert_eq!(get(request, &CLIENT), Err(code), "{request:?}");
        }
    }

    #[test]
    fn sets_restart_dhcp_or_write_only_what_is() {
        assert_eq!(set(&[0xDC, 1, 0, 1], &CLIENT), Ok(Change::RestartDhcp));
        assert_eq!(set(&[0xDC, 1, 0, 0], &CLIENT), Ok(Change::None));
        assert_eq!(set(&[0xDC, 2, 0, 0], &CLIENT), Ok(Change::None));
        assert_eq!(set(&[0xDC, 3, 0, 4], &CLIENT), Ok(Change::None));
        assert_eq!(set(&[0xDC, 5, 0, 64, 0], &CLIENT), Ok(Change::None));
        let refused = [
            // Option 12, option 60/43, random back-off: not offered.
            (&[0xDC, 2, 0, 0x01][..], CompletionCode::INVALID_DATA_FIELD),
            (&[0xDC, 2, 0, 0x80], CompletionCode::INVALID_DATA_FIELD),
            // Another timing than the client's.
            (&[0xDC, 3, 0, 8], CompletionCode::INVALID_DATA_FIELD),
            (&[0xDC, 4, 0, 120, 0], CompletionCode::INVALID_DATA_FIELD),
            (&[0xDC, 1, 0, 2], CompletionCode::INVALID_DATA_FIELD),
            // Lengths, and ipmitool's unknown name (selector FFh).
            (
                &[0xDC, 4, 0, 120],
                CompletionCode::REQUEST_DATA_LENGTH_INVALID,
            ),
            (&[0xDC, 3, 0], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (&[0xDC, 0xFF, 0, 1, 2], CompletionCode::INVALID_DATA_FIELD),
        ];
        for (request, code) in refused {
            assert_eq!(set(request, &CLIENT), Err(code), "{request:?}");
        }
    }
}
