//! IPMI v1.5 and v2.0 (RMCP+) session headers and the RMCP+ integrity trailer.
//!
//! ```text
//! v1.5 (IPMI v2.0 §13.6, Table 13-2), auth type 00h: no AuthCode field
//! | auth type | seq (4, LE) | session ID (4, LE) | [AuthCode 16] | len (1) | message |
//!
//! v2.0 (IPMI v2.0 §13.6, Table 13-8)
//! | 06h | E A payload type | [IANA 4 | OEM payload ID 2] | session ID (4, LE) |
//! | seq (4, LE) | len (2, LE) | payload ... |
//! | integrity pad FFh (0-3) | pad length | next header 07h | AuthCode (12/16) |
//!   `- present only when A (authenticated, bit 6) is set ------------------'
//! ```
//! The AuthCode covers everything from the auth type byte through the next
//! header byte, and the pad makes that region a multiple of four bytes
//! (§13.28.4).

use crate::{crypto::SessionKeys, PayloadType, Reader, WireError};

/// Auth type byte of an IPMI v1.5 session header with no authentication.
pub const AUTH_TYPE_NONE: u8 = 0x00;
/// Auth type byte announcing an IPMI v2.0 / RMCP+ session header.
pub const AUTH_TYPE_RMCP_PLUS: u8 = 0x06;
/// The next-header byte of the integrity trailer (§13.28.4: always 07h).
pub const NEXT_HEADER: u8 = 0x07;
/// The largest v2.0 payload accepted: bounds what a peer can make us buffer.
pub const MAX_PAYLOAD_LEN: usize = 1024;

/// An IPMI v1.5 session packet (as sent before an RMCP+ session exists, and
/// by IPMI v1.5 clients).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct V15Packet<'a> {
    /// Authentication type (00h none, 01h MD2, 02h MD5, 04h password, 05h OEM).
    pub auth_type: u8,
    /// Session sequence number.
    pub sequence: u32,
    /// Session ID (0 outside a session).
    pub session_id: u32,
    /// The IPMI message.
    pub message: &'a [u8],
}

impl<'a> V15Packet<'a> {
    /// Parses a v1.5 session header and its message.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "IPMI v1.5 session header");
        let auth_type = r.u8()?;
        let sequence = r.u32_le()?;
        let session_id = r.u32_le()?;
        if auth_type != AUTH_TYPE_NONE {
            let _auth_code = r.take(16)?;
        }
        let len = r.u8()?;
        let message = r.take(len.into())?;
        // Some v1.5 consoles append a one-byte "legacy pad" (§13.6 note);
        // anything longer is garbage.
        if r.remaining() > 1 {
            r.finish()?;
        }
        Ok(Self {
            auth_type,
            sequence,
            session_id,
            message,
        })
    }

    /// Appends a sessionless v1.5 header (auth type none, sequence and
    /// session ID zero) and `message` to `out`.
    pub fn emit_sessionless(message: &[u8], out: &mut Vec<u8>) -> Result<(), WireError> {
        let len = u8::try_from(message.len()).map_err(|_| WireError::TooLong {
            what: "IPMI v1.5 message",
            len: message.len(),
            max: 255,
        })?;
        out.push(AUTH_TYPE_NONE);
        out.extend_from_slice(&[0; 8]);
        out.push(len);
        out.extend_from_slice(message);
        Ok(())
    }
}

/// The fields of an IPMI v2.0 session header.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct V20Header {
    /// Payload is encrypted (bit 7).
    pub encrypted: bool,
    /// Payload is authenticated: the integrity trailer follows (bit 6).
    pub authenticated: bool,
    /// Payload type (bits 5:0).
    pub payload_type: PayloadType,
    /// For OEM explicit payloads: the IANA number and OEM payload ID.
    pub oem: Option<(u32, u16)>,
    /// Session ID: the receiver's ID for the session (0 outside a session).
    pub session_id: u32,
    /// Session sequence number (0 outside a session).
    pub sequence: u32,
}

/// An IPMI v2.0 packet split into its parts; the integrity trailer is kept as
/// raw bytes until the caller, who knows the session's algorithm, checks it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct V20Packet<'a> {
    /// The header fields.
    pub header: V20Header,
    /// The payload as sent (still encrypted if `header.encrypted`).
    pub payload: &'a [u8],
    /// Everything from the auth type byte to the end of the payload.
    pub header_and_payload: &'a [u8],
    /// Bytes after the payload: the integrity trailer, or nothing.
    pub trailer: &'a [u8],
}

impl<'a> V20Packet<'a> {
    /// Parses the header and payload of a v2.0 packet (input starts at the
    /// auth type byte).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "IPMI v2.0 session header");
        let auth_type = r.u8()?;
        if auth_type != AUTH_TYPE_RMCP_PLUS {
            return Err(WireError::InvalidField {
                field: "auth type",
                value: auth_type.into(),
            });
        }
        let type_byte = r.u8()?;
        let payload_type = PayloadType(type_byte & 0x3F);
        let oem = if payload_type == PayloadType::OEM_EXPLICIT {
            Some((r.u32_le()?, r.u16_le()?))
        } else {
            None
        };
        let session_id = r.u32_le()?;
        let sequence = r.u32_le()?;
        let len = usize::from(r.u16_le()?);
        if len > MAX_PAYLOAD_LEN {
            return Err(WireError::TooLong {
                what: "RMCP+ payload",
                len,
                max: MAX_PAYLOAD_LEN,
            });
        }
        let payload = r.take(len)?;
        let trailer = r.rest();
        let header = V20Header {
            encrypted: type_byte & 0x80 != 0,
            authenticated: type_byte & 0x40 != 0,
            payload_type,
            oem,
            session_id,
            sequence,
        };
        if !header.authenticated && !trailer.is_empty() {
            return Err(WireError::TrailingBytes {
                what: "unauthenticated RMCP+ packet",
                count: trailer.len(),
            });
        }
        Ok(Self {
            header,
            payload,
            header_and_payload: &bytes[..bytes.len() - trailer.len()],
            trailer,
        })
    }

    /// Checks the integrity trailer's shape and AuthCode (§13.28.4). The pad
    /// must be the minimum that makes the covered region a multiple of four,
    /// each pad byte FFh, and the next header 07h.
    pub fn verify_integrity(&self, keys: &SessionKeys) -> Result<(), WireError> {
        let code_len = keys.suite().integrity_code_len();
        let pad_len = integrity_pad_len(self.header_and_payload.len());
        if self.trailer.len() != pad_len + 2 + code_len {
            return Err(WireError::InvalidField {
                field: "integrity trailer length",
                value: u32::try_from(self.trailer.len()).unwrap_or(u32::MAX),
            });
        }
        let (pad_and_next, code) = self.trailer.split_at(pad_len + 2);
        if pad_and_next[..pad_len].iter().any(|b| *b != 0xFF)
            || usize::from(pad_and_next[pad_len]) != pad_len
            || pad_and_next[pad_len + 1] != NEXT_HEADER
        {
            return Err(WireError::InvalidField {
                field: "integrity pad",
                value: u32::from(pad_and_next[pad_len]),
            });
        }
        let mut covered = Vec::with_capacity(self.header_and_payload.len() + pad_len + 2);
        covered.extend_from_slice(self.header_and_payload);
        covered.extend_from_slice(pad_and_next);
        if keys.verify_integrity(&covered, code) {
            Ok(())
        } else {
            Err(WireError::BadAuthCode)
        }
    }
}

/// How many FFh pad bytes make `covered_len + pad + 2` a multiple of four.
pub fn integrity_pad_len(header_and_payload_len: usize) -> usize {
    (4 - (header_and_payload_len + 2) % 4) % 4
}

impl V20Header {
    /// Appends the header, `payload` (already encrypted if `self.encrypted`)
    /// and, when `self.authenticated`, the integrity trailer signed with
    /// `keys`. Output starts at the auth type byte.
    pub fn emit(
        &self,
        payload: &[u8],
        keys: Option<&SessionKeys>,
        out: &mut Vec<u8>,
    ) -> Result<(), WireError> {
        let len = u16::try_from(payload.len())
            .ok()
            .filter(|len| usize::from(*len) <= MAX_PAYLOAD_LEN)
            .ok_or(WireError::TooLong {
                what: "RMCP+ payload",
                len: payload.len(),
                max: MAX_PAYLOAD_LEN,
            })?;
        let start = out.len();
        out.push(AUTH_TYPE_RMCP_PLUS);
        out.push(
            (self.payload_type.0 & 0x3F)
                | if self.encrypted { 0x80 } else { 0 }
                | if self.authenticated { 0x40 } else { 0 },
        );
        if let Some((iana, payload_id)) = self.oem {
            out.extend_from_slice(&iana.to_le_bytes());
            out.extend_from_slice(&payload_id.to_le_bytes());
        }
        out.extend_from_slice(&self.session_id.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(payload);
        if self.authenticated {
            let keys = keys.ok_or(WireError::BadAuthCode)?;
            let pad_len = integrity_pad_len(out.len() - start);
            out.extend(std::iter::repeat_n(0xFF, pad_len));
            // Always below 4.
            out.push(u8::try_from(pad_len).unwrap_or(0));
            out.push(NEXT_HEADER);
            let code = keys.integrity_code(&out[start..]);
            out.extend_from_slice(&code);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;

    /// Get Channel Authentication Capabilities as `ipmitool -I lanplus`
    /// sends it (RMCP header stripped): v1.5 header, auth none, 9-byte
    /// message asking channel 0Eh with the v2.0 bit, privilege 04h.
    const GET_AUTH_CAPS: [u8; 19] = [
        0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, // v1.5 header, len 9
        0x20, 0x18, 0xC8, 0x81, 0x00, 0x38, 0x8E, 0x04, 0xB5,
    ];

    #[test]
    fn deconstruct_v15_sessionless() {
        let p = V15Packet::parse(&GET_AUTH_CAPS).unwrap();
        assert_eq!(p.auth_type, 0);
        assert_eq!(p.session_id, 0);
        assert_eq!(p.message.len(), 9);
        let mut out = Vec::new();
        V15Packet::emit_sessionless(p.message, &mut out).unwrap();
        assert_eq!(out, GET_AUTH_CAPS);
        assert!(V15Packet::parse(&GET_AUTH_CAPS[..12]).is_err());
    }

    #[test]
    fn v20_round_trip_with_integrity() {
        let keys = SessionKeys::derive(CipherSuite::SUITE_17, b"sik");
        for payload_len in 0..8 {
            let header = V20Header {
                encrypted: true,
                authenticated: true,
                payload_type: PayloadType::IPMI,
                oem: None,
                session_id: 0x1122_3344,
                sequence: 7,
            };
            let payload = vec![0xA5; payload_len];
            let mut out = vec![0xA5; 3];
            header.emit(&payload, Some(&keys), &mut out).unwrap();
            let bytes = &out[3..];
            assert_eq!(bytes[..2], [0x06, 0xC0]);
            assert_eq!(bytes[2..6], [0x44, 0x33, 0x22, 0x11]);
            let p = V20Packet::parse(bytes).unwrap();
            assert_eq!(p.header, header);
            assert_eq!(p.payload, payload.as_slice());
            // covered region (all but the AuthCode) is a multiple of four
            assert_eq!((bytes.len() - 16) % 4, 0);
            p.verify_integrity(&keys).unwrap();
            let mut forged = bytes.to_vec();
            forged[12] ^= 0x01;
            let p = V20Packet::parse(&forged);
            if let Ok(p) = p {
                assert!(p.verify_integrity(&keys).is_err());
            }
            let other = SessionKeys::derive(CipherSuite::SUITE_17, b"other");
            assert_eq!(
                V20Packet::parse(bytes).unwrap().verify_integrity(&other),
                Err(WireError::BadAuthCode)
            );
        }
    }

    #[test]
    fn v20_unauthenticated_has_no_trailer() {
        let header = V20Header {
            encrypted: false,
            authenticated: false,
            payload_type: PayloadType::OPEN_SESSION_REQUEST,
            oem: None,
            session_id: 0,
            sequence: 0,
        };
        let mut out = Vec::new();
        header.emit(&[1, 2, 3], None, &mut out).unwrap();
        assert_eq!(out, [0x06, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 2, 3]);
        out.push(0);
        assert!(V20Packet::parse(&out).is_err());
    }

    #[test]
    fn v20_rejects_oversize_length() {
        let bytes = [0x06, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF];
        assert!(matches!(
            V20Packet::parse(&bytes),
            Err(WireError::TooLong { .. })
        ));
    }
}
