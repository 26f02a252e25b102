//! RMCP+ session setup messages: Open Session Request/Response and RAKP
//! messages 1-4 (IPMI v2.0 §13.17-13.23).
//!
//! ```text
//! Open Session Request (Table 13-9), 32 bytes:
//! | tag | max priv | rsvd 2 | console session ID 4 | auth 8 | integrity 8 | conf 8 |
//! algorithm payload: | type (0/1/2) | rsvd 2 | length 08h | algorithm | rsvd 3 |
//! Open Session Response (Table 13-10), 36 bytes (8 on error):
//! | tag | status | max priv | rsvd | console SID 4 | BMC SID 4 | auth 8 | integrity 8 | conf 8 |
//! RAKP 1 (Table 13-11): | tag | rsvd 3 | BMC SID 4 | Rm 16 | role | rsvd 2 | name len | name 0-16 |
//! RAKP 2 (Table 13-12): | tag | status | rsvd 2 | console SID 4 | Rc 16 | GUIDc 16 | code 0-32 |
//! RAKP 3 (Table 13-13): | tag | status | rsvd 2 | BMC SID 4 | code 0-32 |
//! RAKP 4 (Table 13-14): | tag | status | rsvd 2 | console SID 4 | ICV 0-16 |
//! ```
//! Session IDs and multi-byte fields are little-endian.

use crate::{
    AuthAlgorithm, ConfidentialityAlgorithm, IntegrityAlgorithm, RakpStatus, Reader, WireError,
};

/// Longest user name RAKP 1 can carry (§13.20: 16 bytes).
pub const MAX_USERNAME_LEN: usize = 16;

/// An Open Session Request.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct OpenSessionRequest {
    /// Message tag, echoed in the response.
    pub tag: u8,
    /// Requested maximum privilege (low nibble; 0 = highest the suite allows).
    pub max_privilege: u8,
    /// The console's session ID (SIDm); the BMC sends packets with it.
    pub console_session_id: u32,
    /// Proposed authentication algorithm.
    pub auth: AuthAlgorithm,
    /// Proposed integrity algorithm.
    pub integrity: IntegrityAlgorithm,
    /// Proposed confidentiality algorithm.
    pub confidentiality: ConfidentialityAlgorithm,
}

impl OpenSessionRequest {
    /// Length of the request.
    pub const LEN: usize = 32;

    /// Parses an Open Session Request.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "Open Session Request");
        let tag = r.u8()?;
        let max_privilege = r.u8()? & 0x0F;
        let _reserved = r.take(2)?;
        let console_session_id = r.u32_le()?;
        let auth = AuthAlgorithm(parse_algorithm(&mut r, 0x00)?);
        let integrity = IntegrityAlgorithm(parse_algorithm(&mut r, 0x01)?);
        let confidentiality = ConfidentialityAlgorithm(parse_algorithm(&mut r, 0x02)?);
        r.finish()?;
        Ok(Self {
            tag,
            max_privilege,
            console_session_id,
            auth,
            integrity,
            confidentiality,
        })
    }

    /// Encodes the request.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.max_privilege, 0, 0];
        out.extend_from_slice(&self.console_session_id.to_le_bytes());
        emit_algorithm(&mut out, 0x00, self.auth.0);
        emit_algorithm(&mut out, 0x01, self.integrity.0);
        emit_algorithm(&mut out, 0x02, self.confidentiality.0);
        out
    }
}

fn parse_algorithm(r: &mut Reader<'_>, expected_type: u8) -> Result<u8, WireError> {
    let payload_type = r.u8()?;
    if payload_type != expected_type {
        return Err(WireError::InvalidField {
            field: "algorithm payload type",
            value: payload_type.into(),
        });
    }
    let _reserved = r.take(2)?;
    let len = r.u8()?;
    if len != 0x08 {
        return Err(WireError::InvalidField {
            field: "algorithm payload length",
            value: len.into(),
        });
    }
    let algorithm = r.u8()? & 0x3F;
    let _reserved = r.take(3)?;
    Ok(algorithm)
}

fn emit_algorithm(out: &mut Vec<u8>, payload_type: u8, algorithm: u8) {
    out.extend_from_slice(&[payload_type, 0, 0, 0x08, algorithm & 0x3F, 0, 0, 0]);
}

/// An Open Session Response.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct OpenSessionResponse {
    /// The request's tag.
    pub tag: u8,
    /// RMCP+ status code.
    pub status: RakpStatus,
    /// Maximum privilege granted to the session.
    pub max_privilege: u8,
    /// The console's session ID (SIDm).
    pub console_session_id: u32,
    /// The BMC's session ID (SIDc); zero on error.
    pub bmc_session_id: u32,
    /// Chosen authentication algorithm.
    pub auth: AuthAlgorithm,
    /// Chosen integrity algorithm.
    pub integrity: IntegrityAlgorithm,
    /// Chosen confidentiality algorithm.
    pub confidentiality: ConfidentialityAlgorithm,
}

impl OpenSessionResponse {
    /// Encodes the response: 36 bytes on success; on error only the first 8
    /// (tag, status, reserved, console session ID), as Table 13-10 marks the
    /// rest as absent when the status is not 00h.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.status.0];
        if self.status != RakpStatus::NO_ERRORS {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&self.console_session_id.to_le_bytes());
            return out;
        }
        out.extend_from_slice(&[self.max_privilege, 0]);
        out.extend_from_slice(&self.console_session_id.to_le_bytes());
        out.extend_from_slice(&self.bmc_session_id.to_le_bytes());
        emit_algorithm(&mut out, 0x00, self.auth.0);
        emit_algorithm(&mut out, 0x01, self.integrity.0);
        emit_algorithm(&mut out, 0x02, self.confidentiality.0);
        out
    }

    /// Parses a response (used by tests and the bench client).
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "Open Session Response");
        let tag = r.u8()?;
        let status = RakpStatus(r.u8()?);
        let max_privilege = r.u8()?;
        let _reserved = r.u8()?;
        let console_session_id = r.u32_le()?;
        if status != RakpStatus::NO_ERRORS {
            r.finish()?;
            return Ok(Self {
                tag,
                status,
                max_privilege: 0,
                console_session_id,
                bmc_session_id: 0,
                auth: AuthAlgorithm(0),
                integrity: IntegrityAlgorithm(0),
                confidentiality: ConfidentialityAlgorithm(0),
            });
        }
        let bmc_session_id = r.u32_le()?;
        let auth = AuthAlgorithm(parse_algorithm(&mut r, 0)?);
        let integrity = IntegrityAlgorithm(parse_algorithm(&mut r, 1)?);
        let confidentiality = ConfidentialityAlgorithm(parse_algorithm(&mut r, 2)?);
        r.finish()?;
        Ok(Self {
            tag,
            status,
            max_privilege: max_privilege & 0x0F,
            console_session_id,
            bmc_session_id,
            auth,
            integrity,
            confidentiality,
        })
    }
}

/// RAKP Message 1.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Rakp1 {
    /// Message tag.
    pub tag: u8,
    /// The BMC's session ID (SIDc) from the Open Session Response.
    pub bmc_session_id: u32,
    /// Rm: the console's random number.
    pub console_random: [u8; 16],
    /// ROLEm: requested privilege (bits 3:0) and name-only lookup (bit 4).
    pub role: u8,
    /// User name, 0-16 bytes.
    pub username: Vec<u8>,
}

impl Rakp1 {
    /// Parses RAKP Message 1. Reserved bits of the role byte (7:5) must be 0.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "RAKP Message 1");
        let tag = r.u8()?;
        let _reserved = r.take(3)?;
        let bmc_session_id = r.u32_le()?;
        let console_random = r.array()?;
        let role = r.u8()?;
        if role & 0xE0 != 0 {
            return Err(WireError::InvalidField {
                field: "RAKP 1 role reserved bits",
                value: role.into(),
            });
        }
        let _reserved = r.take(2)?;
        let len = usize::from(r.u8()?);
        if len > MAX_USERNAME_LEN {
            return Err(WireError::InvalidField {
                field: "user name length",
                value: u32::try_from(len).unwrap_or(u32::MAX),
            });
        }
        let username = r.take(len)?.to_vec();
        r.finish()?;
        Ok(Self {
            tag,
            bmc_session_id,
            console_random,
            role,
            username,
        })
    }

    /// Encodes RAKP Message 1.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![self.tag, 0, 0, 0];
        out.extend_from_slice(&self.bmc_session_id.to_le_bytes());
        out.extend_from_slice(&self.console_random);
        out.extend_from_slice(&[self.role, 0, 0]);
        // A name longer than 16 bytes cannot be built by `parse`; clamp anyway.
        let name = &self.username[..self.username.len().min(MAX_USERNAME_LEN)];
        out.push(u8::try_from(name.len()).unwrap_or(0));
        out.extend_from_slice(name);
        out
    }
}

/// RAKP Message 2, 3 or 4: they share the layout
/// `tag | status | rsvd 2 | session ID 4 | body`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RakpReply {
    /// Message tag.
    pub tag: u8,
    /// RMCP+ status code.
    pub status: RakpStatus,
    /// The receiver's session ID (SIDm in 2 and 4, SIDc in 3).
    pub session_id: u32,
    /// The rest: Rc, GUIDc and code for RAKP 2; the code for 3; the ICV for 4.
    pub body: Vec<u8>,
}

impl RakpReply {
    /// Parses the common layout.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, "RAKP message");
        let tag = r.u8()?;
        let status = RakpStatus(r.u8()?);
        let _reserved = r.take(2)?;
        let session_id = r.u32_le()?;
        Ok(Self {
            tag,
            status,
            session_id,
            body: r.rest().to_vec(),
        })
    }

    /// Encodes the common layout; an error status carries no body (Tables
    /// 13-12 to 13-14 list the later fields only for status 00h).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.status.0, 0, 0];
        out.extend_from_slice(&self.session_id.to_le_bytes());
        if self.status == RakpStatus::NO_ERRORS {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Open Session Request for suite 17 as laid out in Table 13-9: tag 00h,
    /// privilege 04h, console session ID A0A1A2A3h.
    const OPEN_17: [u8; 32] = [
        0x00, 0x04, 0x00, 0x00, 0xA3, 0xA2, 0xA1, 0xA0, //
        0x00, 0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x00, //
        0x01, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x00, //
        0x02, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn open_session_request_round_trip() {
        let req = OpenSessionRequest::parse(&OPEN_17).unwrap();
        assert_eq!(req.console_session_id, 0xA0A1_A2A3);
        assert_eq!(req.auth, AuthAlgorithm::RAKP_HMAC_SHA256);
        assert_eq!(req.integrity, IntegrityAlgorithm::HMAC_SHA256_128);
        assert_eq!(req.confidentiality, ConfidentialityAlgorithm::AES_CBC_128);
        assert_eq!(req.emit(), OPEN_17);
        assert!(OpenSessionRequest::parse(&OPEN_17[..31]).is_err());
        let mut swapped = OPEN_17;
        swapped[8] = 0x01;
        assert!(OpenSessionRequest::parse(&swapped).is_err());
    }

    #[test]
    fn open_session_response_layouts() {
        let ok = OpenSessionResponse {
            tag: 7,
            status: RakpStatus::NO_ERRORS,
            max_privilege: 4,
            console_session_id: 0xA0A1_A2A3,
            bmc_session_id: 0x0102_0304,
            auth: AuthAlgorithm::RAKP_HMAC_SHA1,
            integrity: IntegrityAlgorithm::HMAC_SHA1_96,
            confidentiality: ConfidentialityAlgorithm::AES_CBC_128,
        };
        let bytes = ok.emit();
        assert_eq!(bytes.len(), 36);
        assert_eq!(
            bytes[..12],
            [7, 0, 4, 0, 0xA3, 0xA2, 0xA1, 0xA0, 4, 3, 2, 1]
        );
        assert_eq!(OpenSessionResponse::parse(&bytes).unwrap(), ok);
        let err = OpenSessionResponse {
            status: RakpStatus::NO_CIPHER_SUITE_MATCH,
            ..ok
        };
        assert_eq!(err.emit(), [7, 0x11, 0, 0, 0xA3, 0xA2, 0xA1, 0xA0]);
    }

    #[test]
    fn rakp1_round_trip_and_limits() {
        let msg = Rakp1 {
            tag: 1,
            bmc_session_id: 0x0102_0304,
            console_random: [9; 16],
            role: 0x14,
            username: b"admin".to_vec(),
        };
        let bytes = msg.emit();
        assert_eq!(bytes.len(), 28 + 5);
        assert_eq!(bytes[24..28], [0x14, 0, 0, 5]);
        assert_eq!(Rakp1::parse(&bytes).unwrap(), msg);
        let mut long = bytes.clone();
        long[27] = 17;
        assert!(Rakp1::parse(&long).is_err());
        let mut reserved = bytes.clone();
        reserved[24] = 0x24;
        assert!(Rakp1::parse(&reserved).is_err());
        assert!(Rakp1::parse(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn rakp_reply_error_has_no_body() {
        let reply = RakpReply {
            tag: 3,
            status: RakpStatus::UNAUTHORIZED_NAME,
            session_id: 0xA0A1_A2A3,
            body: vec![1, 2, 3],
        };
        assert_eq!(reply.emit(), [3, 0x0D, 0, 0, 0xA3, 0xA2, 0xA1, 0xA0]);
    }
}
