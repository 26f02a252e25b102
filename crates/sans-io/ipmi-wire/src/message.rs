//! The IPMI message carried in a LAN (RMCP) packet: IPMI v2.0 §13.8,
//! Table 13-4 (request) and Table 13-5 (response). The same framing is used on
//! IPMB.
//!
//! ```text
//! request:   rsAddr | netFn<<2|rsLUN | chk1 | rqAddr | rqSeq<<2|rqLUN | cmd | data... | chk2
//! response:  rqAddr | netFn<<2|rqLUN | chk1 | rsAddr | rqSeq<<2|rsLUN | cmd | cc | data... | chk2
//! ```
//! `chk1` covers the first two bytes; `chk2` covers everything from the fourth
//! byte to the end of the data. Both are two's-complement sums.

use crate::{CompletionCode, NetFn, Reader, WireError};

/// The BMC's slave address on IPMB and in LAN messages (IPMI v2.0 §5.3 note).
pub const BMC_SLAVE_ADDRESS: u8 = 0x20;
/// Software ID of a remote console (IPMI v2.0 §5.5, Table 5-4: 81h).
pub const REMOTE_CONSOLE_SWID: u8 = 0x81;
/// The largest IPMI message we accept or send, headers included. Large enough
/// for any command in the spec with room to spare; it bounds peer-controlled
/// allocation.
pub const MAX_MESSAGE_LEN: usize = 1024;

/// Two's-complement checksum: the byte that makes `bytes` sum to zero.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_add(*b))
        .wrapping_neg()
}

/// An IPMI request message.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Request {
    /// Responder (BMC) slave address.
    pub rs_addr: u8,
    /// Network function (even).
    pub netfn: NetFn,
    /// Responder LUN.
    pub rs_lun: u8,
    /// Requester address or software ID.
    pub rq_addr: u8,
    /// Requester's sequence number (6 bits), echoed in the response.
    pub rq_seq: u8,
    /// Requester LUN.
    pub rq_lun: u8,
    /// Command code.
    pub cmd: u8,
    /// Request data.
    pub data: Vec<u8>,
}

impl Request {
    /// Parses a request and verifies both checksums.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(WireError::TooLong {
                what: "IPMI message",
                len: bytes.len(),
                max: MAX_MESSAGE_LEN,
            });
        }
        // 7 = header (3) + rqAddr, rqSeq, cmd + trailing checksum.
        if bytes.len() < 7 {
            return Err(WireError::Truncated {
                what: "IPMI request",
                needed: 7,
                available: bytes.len(),
            });
        }
        verify_checksums(bytes)?;
        let mut r = Reader::new(&bytes[..bytes.len() - 1], "IPMI request");
        let rs_addr = r.u8()?;
        let netfn_lun = r.u8()?;
        let _chk1 = r.u8()?;
        let rq_addr = r.u8()?;
        let seq_lun = r.u8()?;
        let cmd = r.u8()?;
        Ok(Self {
            rs_addr,
            netfn: NetFn(netfn_lun >> 2),
            rs_lun: netfn_lun & 0x03,
            rq_addr,
            rq_seq: seq_lun >> 2,
            rq_lun: seq_lun & 0x03,
            cmd,
            data: r.rest().to_vec(),
        })
    }

    /// Encodes the request with both checksums.
    pub fn emit(&self) -> Vec<u8> {
        frame(
            [self.rs_addr, (self.netfn.0 << 2) | (self.rs_lun & 3)],
            [
                self.rq_addr,
                (self.rq_seq << 2) | (self.rq_lun & 3),
                self.cmd,
            ],
            None,
            &self.data,
        )
    }
}

/// An IPMI response message.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Response {
    /// Requester address (where the response goes).
    pub rq_addr: u8,
    /// Network function (odd: request NetFn + 1).
    pub netfn: NetFn,
    /// Requester LUN.
    pub rq_lun: u8,
    /// Responder address.
    pub rs_addr: u8,
    /// The requester's sequence number, echoed.
    pub rq_seq: u8,
    /// Responder LUN.
    pub rs_lun: u8,
    /// Command code, echoed.
    pub cmd: u8,
    /// Completion code.
    pub completion: CompletionCode,
    /// Response data after the completion code.
    pub data: Vec<u8>,
}

impl Response {
    /// Builds the response to `request`, swapping addresses and echoing the
    /// sequence number and command as IPMI v2.0 §5.3 requires.
    pub fn to_request(request: &Request, completion: CompletionCode, data: Vec<u8>) -> Self {
        Self {
            rq_addr: request.rq_addr,
            netfn: request.netfn.response(),
            rq_lun: request.rq_lun,
            rs_addr: request.rs_addr,
            rq_seq: request.rq_seq,
            rs_lun: request.rs_lun,
            cmd: request.cmd,
            completion,
            data,
        }
    }

    /// Parses a response and verifies both checksums.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() < 8 {
            return Err(WireError::Truncated {
                what: "IPMI response",
                needed: 8,
                available: bytes.len(),
            });
        }
        verify_checksums(bytes)?;
        let mut r = Reader::new(&bytes[..bytes.len() - 1], "IPMI response");
        let rq_addr = r.u8()?;
        let netfn_lun = r.u8()?;
        let _chk1 = r.u8()?;
        let rs_addr = r.u8()?;
        let seq_lun = r.u8()?;
        let cmd = r.u8()?;
        let completion = CompletionCode(r.u8()?);
        Ok(Self {
            rq_addr,
            netfn: NetFn(netfn_lun >> 2),
            rq_lun: netfn_lun & 0x03,
            rs_addr,
            rq_seq: seq_lun >> 2,
            rs_lun: seq_lun & 0x03,
            cmd,
            completion,
            data: r.rest().to_vec(),
        })
    }

    /// Encodes the response with both checksums.
    pub fn emit(&self) -> Vec<u8> {
        frame(
            [self.rq_addr, (self.netfn.0 << 2) | (self.rq_lun & 3)],
            [
                self.rs_addr,
                (self.rq_seq << 2) | (self.rs_lun & 3),
                self.cmd,
            ],
            Some(self.completion.0),
            &self.data,
        )
    }
}

fn frame(header: [u8; 2], body: [u8; 3], completion: Option<u8>, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&header);
    out.push(checksum(&header));
    out.extend_from_slice(&body);
    out.extend(completion);
    out.extend_from_slice(data);
    out.push(checksum(&out[3..]));
    out
}

fn verify_checksums(bytes: &[u8]) -> Result<(), WireError> {
    if checksum(&bytes[..3]) != 0 {
        return Err(WireError::BadChecksum { which: "header" });
    }
    if checksum(&bytes[3..]) != 0 {
        return Err(WireError::BadChecksum { which: "data" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Get Device ID from a remote console (SWID 81h), rqSeq 0x05. The
    /// checksums were computed by hand: C8h = -(20h + 18h), 6Ah = -(81h + 14h +
    /// 01h).
    const GET_DEVICE_ID: [u8; 7] = [0x20, 0x18, 0xC8, 0x81, 0x14, 0x01, 0x6A];

    #[test]
    fn deconstruct_get_device_id() {
        let req = Request::parse(&GET_DEVICE_ID).unwrap();
        assert_eq!(req.rs_addr, 0x20);
        assert_eq!(req.netfn, NetFn::APP);
        assert_eq!(req.rs_lun, 0);
        assert_eq!(req.rq_addr, 0x81);
        assert_eq!(req.rq_seq, 0x05);
        assert_eq!(req.cmd, 0x01);
        assert!(req.data.is_empty());
        assert_eq!(req.emit(), GET_DEVICE_ID);
    }

    #[test]
    fn response_echoes_request_and_checksums() {
        let req = Request::parse(&GET_DEVICE_ID).unwrap();
        let rsp = Response::to_request(&req, CompletionCode::SUCCESS, vec![0x55, 0x00]);
        let bytes = rsp.emit();
        // rqAddr, netFn 07h << 2, chk1, rsAddr, seq, cmd, cc, data, chk2.
        assert_eq!(bytes[..7], [0x81, 0x1C, 0x63, 0x20, 0x14, 0x01, 0x00]);
        assert_eq!(checksum(&bytes[..3]), 0);
        assert_eq!(checksum(&bytes[3..]), 0);
        assert_eq!(Response::parse(&bytes).unwrap(), rsp);
    }

    #[test]
    fn rejects_bad_checksums_and_short_input() {
        let mut bad = GET_DEVICE_ID;
        bad[2] ^= 1;
        assert_eq!(
            Request::parse(&bad),
            Err(WireError::BadChecksum { which: "header" })
        );
        let mut bad = GET_DEVICE_ID;
        bad[6] ^= 1;
        assert_eq!(
            Request::parse(&bad),
            Err(WireError::BadChecksum { which: "data" })
        );
        assert!(matches!(
            Request::parse(&GET_DEVICE_ID[..5]),
            Err(WireError::Truncated { .. })
        ));
    }
}
