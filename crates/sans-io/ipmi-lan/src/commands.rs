//! The commands that describe how to log in to the LAN channel, answered
//! before a session exists (and inside one), and the command codes of the
//! session layer (the commands on sessions are in
//! [`crate::session_commands`]):
//!
//! | NetFn | Cmd | Name                                     | Spec      |
//! |-------|-----|------------------------------------------|-----------|
//! | App   | 38h | Get Channel Authentication Capabilities  | §22.13    |
//! | App   | 54h | Get Channel Cipher Suites                | §22.15    |

use ipmi_wire::{crypto::CipherSuite, CompletionCode, Privilege};

/// Get Channel Authentication Capabilities.
pub const CMD_GET_CHANNEL_AUTH_CAPABILITIES: u8 = 0x38;
/// Get Session Challenge (IPMI v1.5 only; refused).
pub const CMD_GET_SESSION_CHALLENGE: u8 = 0x39;
/// Get Channel Cipher Suites.
pub const CMD_GET_CHANNEL_CIPHER_SUITES: u8 = 0x54;
/// Get Channel Info.
pub const CMD_GET_CHANNEL_INFO: u8 = 0x42;
/// "Present channel": the channel the request arrived on (§6.3).
pub const PRESENT_CHANNEL: u8 = 0x0E;

/// A command result: the completion code is `Err` so `?` can be used.
pub type CommandResult = Result<Vec<u8>, CompletionCode>;

/// The channel a request's channel field (bits 3:0) names, with "present
/// channel" (Eh) resolved to the channel the request arrived on.
pub fn resolve_channel(field: u8, present: u8) -> u8 {
    match field & 0x0F {
        PRESENT_CHANNEL => present,
        other => other,
    }
}

fn channel_matches(requested: u8, channel: u8) -> bool {
    requested == PRESENT_CHANNEL || requested == channel
}

/// Get Channel Authentication Capabilities (§22.13, Table 22-15) for an
/// RMCP+-only channel: no IPMI v1.5 authentication types, non-null user
/// names only, no anonymous login, IPMI v2.0 only.
pub fn cmd_get_channel_auth_capabilities(data: &[u8], channel: u8, kg_set: bool) -> CommandResult {
    let [channel_byte, privilege] = data else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    // Byte 1: bit 7 asks for v2.0 data, bits 6:4 reserved, 3:0 channel.
    if channel_byte & 0x70 != 0 || !channel_matches(channel_byte & 0x0F, channel) {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    // Byte 2: bits 7:4 reserved, 3:0 a privilege level 1..5.
    if privilege & 0xF0 != 0 || Privilege::from_level(*privilege).is_none() {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let extended = channel_byte & 0x80 != 0;
    Ok(vec![
        channel,
        // bit 7: v2.0 extended capabilities; bits 5:0: v1.5 auth types (none).
        if extended { 0x80 } else { 0x00 },
        // bit 5: Kg set; bit 2: non-null user names enabled.
        0x04 | if kg_set { 0x20 } else { 0 },
        // bit 1: IPMI v2.0 connections supported; bit 0 (v1.5) clear.
        0x02,
        0x00,
        0x00,
        0x00, // OEM IANA
        0x00, // OEM auxiliary data
    ])
}

/// Get Channel Cipher Suites (§22.15, Table 22-18): pages of 16 bytes of
/// cipher suite records (Table 22-19).
pub fn cmd_get_channel_cipher_suites(
    data: &[u8],
    channel: u8,
    suites: &[CipherSuite],
) -> CommandResult {
    let [channel_byte, payload_type, list] = data else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if channel_byte & 0xF0 != 0 || !channel_matches(channel_byte & 0x0F, channel) {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    // IPMI (00h) and SOL (01h) run over the same suites; other payload
    // types are not offered.
    if !matches!(payload_type, 0x00 | 0x01) || list & 0x40 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let mut records = Vec::new();
    if list & 0x80 != 0 {
        for suite in suites {
            records.extend_from_slice(&[
                0xC0,
                suite.id,
                suite.auth.0,
                0x40 | suite.integrity.0,
                0x80 | suite.confidentiality.0,
            ]);
        }
    } else {
        // "List supported algorithms": each algorithm once, tagged by kind.
        let mut push_unique = |byte: u8| {
            if !records.contains(&byte) {
                records.push(byte);
            }
        };
        for suite in suites {
            push_unique(suite.auth.0);
        }
        for suite in suites {
            push_unique(0x40 | suite.integrity.0);
        }
        for suite in suites {
            push_unique(0x80 | suite.confidentiality.0);
        }
    }
    let start = usize::from(list & 0x3F) * 16;
    let mut out = vec![channel];
    if let Some(page) = records.get(start..) {
        out.extend_from_slice(&page[..page.len().min(16)]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_caps_for_rmcp_plus_only() {
        assert_eq!(
            cmd_get_channel_auth_capabilities(&[0x8E, 0x04], 1, false).unwrap(),
            [0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0]
        );
        // A v1.5 client asks without bit 7 and sees no auth type it can use.
        assert_eq!(
            cmd_get_channel_auth_capabilities(&[0x0E, 0x04], 1, false).unwrap()[1],
            0x00
        );
        for bad in [
            &[0x8E, 0x00][..],
            &[0x8E, 0x06],
            &[0xCE, 0x04],
            &[0x85, 0x04],
        ] {
            assert_eq!(
                cmd_get_channel_auth_capabilities(bad, 1, false),
                Err(CompletionCode::INVALID_DATA_FIELD),
                "{bad:x?}"
            );
        }
        assert_eq!(
            cmd_get_channel_auth_capabilities(&[0x8E], 1, false),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }

    #[test]
    fn cipher_suite_records() {
        let suites = CipherSuite::SUPPORTED;
        assert_eq!(
            cmd_get_channel_cipher_suites(&[0x0E, 0x00, 0x80], 1, &suites).unwrap(),
            [0x01, 0xC0, 0x03, 0x01, 0x41, 0x81, 0xC0, 0x11, 0x03, 0x44, 0x81]
        );
        assert_eq!(
            cmd_get_channel_cipher_suites(&[0x0E, 0x00, 0x81], 1, &suites).unwrap(),
            [0x01]
        );
        assert_eq!(
            cmd_get_channel_cipher_suites(&[0x0E, 0x01, 0x80], 1, &suites).unwrap()[..3],
            [0x01, 0xC0, 0x03]
        );
        assert_eq!(
            cmd_get_channel_cipher_suites(&[0x0E, 0x02, 0x80], 1, &suites),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            cmd_get_channel_cipher_suites(&[0x0E, 0x00, 0x00], 1, &suites).unwrap(),
            [0x01, 0x01, 0x03, 0x41, 0x44, 0x81]
        );
    }
}
