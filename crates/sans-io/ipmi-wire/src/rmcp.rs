//! The RMCP header and ASF presence ping/pong.
//!
//! ```text
//! RMCP header (IPMI v2.0 §13.1.3, Table 13-1):
//!  0        1          2          3
//! +--------+----------+----------+---------------------------+
//! | ver 06 | reserved | sequence | class: b7 ack, b4:0 class |
//! +--------+----------+----------+---------------------------+
//! ASF message (DSP0136 §3.2.2.3, IPMI v2.0 §13.2.3):
//! | IANA 4542 (4, MSB first) | type | tag | reserved | data length | data |
//! ```

use crate::{Reader, WireError};

/// RMCP version 1.0 (IPMI v2.0 Table 13-1: "06h = RMCP Version 1.0").
pub const RMCP_VERSION: u8 = 0x06;
/// Sequence number meaning "do not send an RMCP ACK" (IPMI v2.0 §13.1.3).
pub const SEQUENCE_NO_ACK: u8 = 0xFF;
/// The ASF IANA enterprise number, 4542 (DSP0136).
pub const ASF_IANA: u32 = 4542;
/// ASF message type Presence Ping.
pub const ASF_PRESENCE_PING: u8 = 0x80;
/// ASF message type Presence Pong.
pub const ASF_PRESENCE_PONG: u8 = 0x40;
/// Length of the RMCP header.
pub const HEADER_LEN: usize = 4;

/// The RMCP message class (IPMI v2.0 Table 13-1, byte 4 bits 4:0).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum MessageClass {
    /// ASF (06h).
    Asf,
    /// IPMI (07h).
    Ipmi,
    /// OEM-defined (08h).
    Oem,
    /// Any other class value.
    Unknown(u8),
}

impl MessageClass {
    fn from_bits(bits: u8) -> Self {
        match bits {
            0x06 => Self::Asf,
            0x07 => Self::Ipmi,
            0x08 => Self::Oem,
            other => Self::Unknown(other),
        }
    }

    fn bits(self) -> u8 {
        match self {
            Self::Asf => 0x06,
            Self::Ipmi => 0x07,
            Self::Oem => 0x08,
            Self::Unknown(other) => other & 0x1F,
        }
    }
}

/// A parsed RMCP header.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct RmcpHeader {
    /// RMCP sequence number; 0xFF means no ACK is wanted.
    pub sequence: u8,
    /// Whether this is an RMCP ACK message (class bit 7).
    pub is_ack: bool,
    /// The message class.
    pub class: MessageClass,
}

impl RmcpHeader {
    /// The header IPMI packets carry: version 1.0, no ACK, class IPMI.
    pub const IPMI: Self = Self {
        sequence: SEQUENCE_NO_ACK,
        is_ack: false,
        class: MessageClass::Ipmi,
    };

    /// Splits a datagram into its RMCP header and the rest.
    pub fn parse(datagram: &[u8]) -> Result<(Self, &[u8]), WireError> {
        let mut r = Reader::new(datagram, "RMCP header");
        let version = r.u8()?;
        if version != RMCP_VERSION {
            return Err(WireError::InvalidField {
                field: "RMCP version",
                value: version.into(),
            });
        }
        let _reserved = r.u8()?;
        let sequence = r.u8()?;
        let class = r.u8()?;
        Ok((
            Self {
                sequence,
                is_ack: class & 0x80 != 0,
                class: MessageClass::from_bits(class & 0x1F),
            },
            r.rest(),
        ))
    }

    /// Appends the four header bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[
            RMCP_VERSION,
            0x00,
            self.sequence,
            self.class.bits() | if self.is_ack { 0x80 } else { 0 },
        ]);
    }
}

/// An ASF message header (DSP0136 §3.2.2.3).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct AsfHeader {
    /// The IANA enterprise number (4542 for ASF's own messages).
    pub iana: u32,
    /// Message type (80h ping, 40h pong).
    pub message_type: u8,
    /// Tag that the reply echoes.
    pub tag: u8,
    /// Length of the data that follows.
    pub data_len: u8,
}

impl AsfHeader {
    /// Parses the ASF header and checks that `data_len` bytes follow.
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), WireError> {
        let mut r = Reader::new(bytes, "ASF message");
        let iana = u32::from_be_bytes(r.array()?);
        let message_type = r.u8()?;
        let tag = r.u8()?;
        let _reserved = r.u8()?;
        let data_len = r.u8()?;
        let data = r.take(data_len.into())?;
        Ok((
            Self {
                iana,
                message_type,
                tag,
                data_len,
            },
            data,
        ))
    }
}

/// Builds the RMCP datagram answering a Presence Ping with `tag`: a Presence
/// Pong that says IPMI is supported (DSP0136 §3.2.4.3, IPMI v2.0 §13.2.3).
pub fn presence_pong(ping_rmcp: &RmcpHeader, tag: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 8 + 16);
    RmcpHeader {
        sequence: ping_rmcp.sequence,
        is_ack: false,
        class: MessageClass::Asf,
    }
    .emit(&mut out);
    out.extend_from_slice(&ASF_IANA.to_be_bytes());
    out.extend_from_slice(&[ASF_PRESENCE_PONG, tag, 0x00, 0x10]);
    // Pong data: IANA (4542: no OEM extensions), OEM-defined (0), supported
    // entities (81h: IPMI supported, ASF version 1.0), supported interactions
    // (0: no RMCP security extensions or DASH), 6 reserved bytes.
    out.extend_from_slice(&ASF_IANA.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&[0x81, 0x00]);
    out.extend_from_slice(&[0; 6]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Presence Ping as DSP0136 Table 10 lays it out (tag 0x42).
    const PING: [u8; 12] = [
        0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x42, 0x00, 0x00,
    ];

    #[test]
    fn deconstruct_ping() {
        let (rmcp, rest) = RmcpHeader::parse(&PING).unwrap();
        assert_eq!(rmcp.class, MessageClass::Asf);
        assert_eq!(rmcp.sequence, 0xFF);
        let (asf, data) = AsfHeader::parse(rest).unwrap();
        assert_eq!(asf.iana, 4542);
        assert_eq!(asf.message_type, ASF_PRESENCE_PING);
        assert_eq!(asf.tag, 0x42);
        assert!(data.is_empty());
    }

    #[test]
    fn construct_pong() {
        let (rmcp, _) = RmcpHeader::parse(&PING).unwrap();
        let pong = presence_pong(&rmcp, 0x42);
        assert_eq!(
            pong,
            [
                0x06, 0x00, 0xFF, 0x06, // RMCP, class ASF
                0x00, 0x00, 0x11, 0xBE, 0x40, 0x42, 0x00, 0x10, // ASF pong, 16 data bytes
                0x00, 0x00, 0x11, 0xBE, 0x00, 0x00, 0x00, 0x00, // IANA, OEM
                0x81, 0x00, 0, 0, 0, 0, 0, 0, // entities, interactions, reserved
            ]
        );
    }

    #[test]
    fn rejects_other_versions_and_short_asf() {
        assert!(RmcpHeader::parse(&[0x07, 0, 0xFF, 0x07]).is_err());
        assert!(RmcpHeader::parse(&[0x06, 0]).is_err());
        // data length claims 5 bytes, none follow
        assert!(AsfHeader::parse(&[0, 0, 0x11, 0xBE, 0x80, 1, 0, 5]).is_err());
    }

    #[test]
    fn emit_ipmi_header() {
        let mut out = Vec::new();
        RmcpHeader::IPMI.emit(&mut out);
        assert_eq!(out, [0x06, 0x00, 0xFF, 0x07]);
    }
}
