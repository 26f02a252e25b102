//! The remote console's side of RMCP+, sans-IO: what a client such as
//! ipmitool does, written from the spec. The suite's own tests and the
//! latency bench drive the BMC with it; it is never the proof that a feature
//! works (ipmitool is), but it can time one request exactly and send what a
//! well-behaved client never would.

use ipmi_wire::{
    crypto::{CipherSuite, RakpTranscript, SessionKeys},
    message::{Request, Response},
    rakp::{OpenSessionRequest, OpenSessionResponse, Rakp1, RakpReply},
    rmcp::RmcpHeader,
    session::{V20Header, V20Packet},
    NetFn, PayloadType, Privilege, RakpStatus, WireError,
};

/// Why a console step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// The BMC's message does not parse.
    #[error("malformed reply: {0}")]
    Malformed(#[from] WireError),
    /// The BMC refused with an RMCP+ status code.
    #[error("BMC refused: {0}")]
    Refused(RakpStatus),
    /// The BMC's RAKP 2 code or RAKP 4 ICV is wrong (or our password is).
    #[error("BMC failed to authenticate (wrong password?)")]
    BadBmcAuth,
    /// A reply of the wrong payload type.
    #[error("unexpected payload type {0:?}")]
    Unexpected(PayloadType),
}

/// A handshake in progress.
#[derive(Debug)]
pub struct Handshake {
    suite: CipherSuite,
    console_session_id: u32,
    console_random: [u8; 16],
    role: u8,
    username: Vec<u8>,
    password: Vec<u8>,
    bmc_session_id: u32,
    transcript: Option<RakpTranscript>,
}

impl Handshake {
    /// Prepares a login; `console_random` must be fresh random bytes.
    pub fn new(
        suite: CipherSuite,
        username: &[u8],
        password: &[u8],
        privilege: Privilege,
        console_session_id: u32,
        console_random: [u8; 16],
    ) -> Self {
        Self {
            suite,
            console_session_id,
            console_random,
            // Name-only lookup (bit 4), as ipmitool and FreeIPMI send it.
            role: 0x10 | privilege.level(),
            username: username.to_vec(),
            password: password.to_vec(),
            bmc_session_id: 0,
            transcript: None,
        }
    }

    /// The Open Session Request datagram.
    pub fn open_session_request(&self) -> Vec<u8> {
        let request = OpenSessionRequest {
            tag: 0,
            max_privilege: self.role & 0x0F,
            console_session_id: self.console_session_id,
            auth: self.suite.auth,
            integrity: self.suite.integrity,
            confidentiality: self.suite.confidentiality,
        };
        sessionless(PayloadType::OPEN_SESSION_REQUEST, &request.emit())
    }

    /// Reads the Open Session Response; returns the RAKP 1 datagram.
    pub fn on_open_session_response(&mut self, datagram: &[u8]) -> Result<Vec<u8>, ConsoleError> {
        let body = payload(datagram, PayloadType::OPEN_SESSION_RESPONSE)?;
        let response = OpenSessionResponse::parse(&body)?;
        if response.status != RakpStatus::NO_ERRORS {
            return Err(ConsoleError::Refused(response.status));
        }
        self.bmc_session_id = response.bmc_session_id;
        let rakp1 = Rakp1 {
            tag: 1,
            bmc_session_id: response.bmc_session_id,
            console_random: self.console_random,
            role: self.role,
            username: self.username.clone(),
        };
        Ok(sessionless(PayloadType::RAKP1, &rakp1.emit()))
    }

    /// Reads RAKP 2 and checks the BMC knows the password; returns RAKP 3.
    pub fn on_rakp2(&mut self, datagram: &[u8]) -> Result<Vec<u8>, ConsoleError> {
        let body = payload(datagram, PayloadType::RAKP2)?;
        let rakp2 = RakpReply::parse(&body)?;
        if rakp2.status != RakpStatus::NO_ERRORS {
            return Err(ConsoleError::Refused(rakp2.status));
        }
        if rakp2.body.len() != 32 + self.suite.rakp_code_len() {
            return Err(ConsoleError::BadBmcAuth);
        }
        let mut bmc_random = [0u8; 16];
        bmc_random.copy_from_slice(&rakp2.body[..16]);
        let mut bmc_guid = [0u8; 16];
        bmc_guid.copy_from_slice(&rakp2.body[16..32]);
        let transcript = RakpTranscript {
            console_session_id: self.console_session_id,
            bmc_session_id: self.bmc_session_id,
            console_random: self.console_random,
            bmc_random,
            bmc_guid,
            role: self.role,
            username: self.username.clone(),
        };
        if rakp2.body[32..] != transcript.rakp2_code(&self.suite, &self.password)[..] {
            return Err(ConsoleError::BadBmcAuth);
        }
        let rakp3 = RakpReply {
            tag: 2,
            status: RakpStatus::NO_ERRORS,
            session_id: self.bmc_session_id,
            body: transcript.rakp3_code(&self.suite, &self.password),
        };
        self.transcript = Some(transcript);
        Ok(sessionless(PayloadType::RAKP3, &rakp3.emit()))
    }

    /// Reads RAKP 4 and checks its ICV; returns the established session.
    pub fn on_rakp4(self, datagram: &[u8]) -> Result<ConsoleSession, ConsoleError> {
        let body = payload(datagram, PayloadType::RAKP4)?;
        let rakp4 = RakpReply::parse(&body)?;
        if rakp4.status != RakpStatus::NO_ERRORS {
            return Err(ConsoleError::Refused(rakp4.status));
        }
        let transcript = self.transcript.ok_or(ConsoleError::BadBmcAuth)?;
        let sik = transcript.sik(&self.suite, &self.password);
        if rakp4.body != transcript.rakp4_icv(&self.suite, &sik) {
            return Err(ConsoleError::BadBmcAuth);
        }
        Ok(ConsoleSession {
            bmc_session_id: self.bmc_session_id,
            keys: SessionKeys::derive(self.suite, &sik),
            sequence: 0,
            rq_seq: 0,
        })
    }
}

/// An established session, console side.
#[derive(Debug)]
pub struct ConsoleSession {
    /// The BMC's session ID.
    pub bmc_session_id: u32,
    keys: SessionKeys,
    sequence: u32,
    rq_seq: u8,
}

impl ConsoleSession {
    /// Builds an encrypted, signed request datagram; `iv` must be random.
    pub fn request(&mut self, netfn: NetFn, cmd: u8, data: &[u8], iv: [u8; 16]) -> Vec<u8> {
        self.rq_seq = (self.rq_seq + 1) & 0x3F;
        let message = Request {
            rs_addr: 0x20,
            netfn,
            rs_lun: 0,
            rq_addr: 0x81,
            rq_seq: self.rq_seq,
            rq_lun: 0,
            cmd,
            data: data.to_vec(),
        }
        .emit();
        self.sequence = self.sequence.wrapping_add(1).max(1);
        let mut out = Vec::with_capacity(message.len() + 64);
        RmcpHeader::IPMI.emit(&mut out);
        let header = V20Header {
            encrypted: true,
            authenticated: true,
            payload_type: PayloadType::IPMI,
            oem: None,
            session_id: self.bmc_session_id,
            sequence: self.sequence,
        };
        // Cannot fail: an encrypted IPMI request is far below the limit.
        let _ = header.emit(&self.keys.encrypt(iv, &message), Some(&self.keys), &mut out);
        out
    }

    /// Builds an encrypted, signed SOL payload datagram (the four SOL header
    /// bytes and the characters in `payload`); `iv` must be random.
    pub fn sol(&mut self, payload: &[u8], iv: [u8; 16]) -> Vec<u8> {
        self.seal(PayloadType::SOL, payload, iv)
    }

    /// Builds an encrypted, signed datagram of this session carrying
    /// `payload` as `payload_type`, whatever its bytes (the fuzz targets
    /// send arbitrary bytes this way); `iv` must be random.
    pub fn seal(&mut self, payload_type: PayloadType, payload: &[u8], iv: [u8; 16]) -> Vec<u8> {
        self.sequence = self.sequence.wrapping_add(1).max(1);
        let mut out = Vec::with_capacity(payload.len() + 64);
        RmcpHeader::IPMI.emit(&mut out);
        let header = V20Header {
            encrypted: true,
            authenticated: true,
            payload_type,
            oem: None,
            session_id: self.bmc_session_id,
            sequence: self.sequence,
        };
        // Cannot fail below the payload limit; over it, nothing is sent.
        let _ = header.emit(&self.keys.encrypt(iv, payload), Some(&self.keys), &mut out);
        out
    }

    /// Verifies and decrypts a SOL datagram from the BMC: its payload.
    pub fn read_sol(&self, datagram: &[u8]) -> Result<Vec<u8>, ConsoleError> {
        let (_, rest) = RmcpHeader::parse(datagram)?;
        let packet = V20Packet::parse(rest)?;
        if packet.header.payload_type != PayloadType::SOL {
            return Err(ConsoleError::Unexpected(packet.header.payload_type));
        }
        packet.verify_integrity(&self.keys)?;
        Ok(self.keys.decrypt(packet.payload)?)
    }

    /// Verifies, decrypts and parses a response datagram.
    pub fn read_response(&self, datagram: &[u8]) -> Result<Response, ConsoleError> {
        let (_, rest) = RmcpHeader::parse(datagram)?;
        let packet = V20Packet::parse(rest)?;
        packet.verify_integrity(&self.keys)?;
        Ok(Response::parse(&self.keys.decrypt(packet.payload)?)?)
    }
}

/// A sessionless RMCP+ datagram.
pub fn sessionless(payload_type: PayloadType, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 16);
    RmcpHeader::IPMI.emit(&mut out);
    // Cannot fail: session-setup payloads are tens of bytes.
    let _ = V20Header {
        encrypted: false,
        authenticated: false,
        payload_type,
        oem: None,
        session_id: 0,
        sequence: 0,
    }
    .emit(payload, None, &mut out);
    out
}

fn payload(datagram: &[u8], expected: PayloadType) -> Result<Vec<u8>, ConsoleError> {
    let (_, rest) = RmcpHeader::parse(datagram)?;
    let packet = V20Packet::parse(rest)?;
    if packet.header.payload_type != expected {
        return Err(ConsoleError::Unexpected(packet.header.payload_type));
    }
    Ok(packet.payload.to_vec())
}
