//! A blocking RMCP+ console over UDP, written on the sans-IO client of
//! `ipmi_lan::console`: what tests use to time single requests, send
//! crafted datagrams and SOL packets, and what `rbmc-bench` drives load
//! with.

use std::{
    net::UdpSocket,
    time::{Duration, Instant},
};

use ipmi_lan::console::{ConsoleSession, Handshake};
use ipmi_wire::{crypto::CipherSuite, message::Response, NetFn, Privilege};

use crate::random;

/// A blocking RMCP+ console over UDP (for timing single requests).
pub struct Console {
    socket: UdpSocket,
    session: ConsoleSession,
}

impl Console {
    /// Opens a session.
    pub fn login(
        port: u16,
        suite: CipherSuite,
        user: &str,
        password: &str,
    ) -> Result<Self, String> {
        Self::login_from([127, 0, 0, 1].into(), port, suite, user, password)
    }

    /// Opens a session from the local address `source` (any address in
    /// 127.0.0.0/8 is this machine's).
    pub fn login_from(
        source: std::net::IpAddr,
        port: u16,
        suite: CipherSuite,
        user: &str,
        password: &str,
    ) -> Result<Self, String> {
        let socket = UdpSocket::bind((source, 0)).map_err(|e| e.to_string())?;
        socket
            .connect(("127.0.0.1", port))
            .map_err(|e| e.to_string())?;
        Self::handshake(socket, suite, user, password)
    }

    /// Opens a session with the BMC at `target` (this suite's or another).
    pub fn login_to(
        target: std::net::SocketAddr,
        suite: CipherSuite,
        user: &str,
        password: &str,
    ) -> Result<Self, String> {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
        socket.connect(target).map_err(|e| e.to_string())?;
        Self::handshake(socket, suite, user, password)
    }

    /// How long [`Console::call`] waits for an answer.
    pub fn set_timeout(&self, timeout: Duration) -> Result<(), String> {
        self.socket
            .set_read_timeout(Some(timeout))
            .map_err(|e| e.to_string())
    }

    /// The RAKP handshake on a connected `socket`, then Administrator.
    fn handshake(
        socket: UdpSocket,
        suite: CipherSuite,
        user: &str,
        password: &str,
    ) -> Result<Self, String> {
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut handshake = Handshake::new(
            suite,
            user.as_bytes(),
            password.as_bytes(),
            Privilege::Administrator,
            u32::from_le_bytes(random()),
            random(),
        );
        let exchange = |datagram: &[u8]| -> Result<Vec<u8>, String> {
            socket.send(datagram).map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; 2048];
            let len = socket.recv(&mut buf).map_err(|e| e.to_string())?;
            buf.truncate(len);
            Ok(buf)
        };
        let reply = exchange(&handshake.open_session_request())?;
        let rakp1 = handshake
            .on_open_session_response(&reply)
            .map_err(|e| e.to_string())?;
        let rakp2 = exchange(&rakp1)?;
        let rakp3 = handshake.on_rakp2(&rakp2).map_err(|e| e.to_string())?;
        let rakp4 = exchange(&rakp3)?;
        let session = handshake.on_rakp4(&rakp4).map_err(|e| e.to_string())?;
        let mut console = Self { socket, session };
        // Raise the session to Administrator, as ipmitool does.
        let response = console.call(NetFn::APP, 0x3B, &[0x04])?;
        if response.completion.0 != 0 {
            return Err(format!(
                "Set Session Privilege Level: {}",
                response.completion
            ));
        }
        Ok(console)
    }

    /// Builds the datagram of a request without sending it, advancing the
    /// session's sequence number as if it had been sent.
    pub fn raw_request(&mut self, netfn: NetFn, cmd: u8, data: &[u8]) -> Vec<u8> {
        self.session.request(netfn, cmd, data, random())
    }

    /// Sends a SOL packet (the four SOL header bytes and the characters).
    pub fn send_sol(&mut self, payload: &[u8]) -> Result<(), String> {
        let datagram = self.session.sol(payload, random());
        self.socket
            .send(&datagram)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The next SOL packet's payload from the BMC, skipping anything else;
    /// `None` after `timeout` without one.
    pub fn recv_sol(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 2048];
        while Instant::now() < deadline {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(left)).ok()?;
            let Ok(len) = self.socket.recv(&mut buf) else {
                break;
            };
            if let Ok(payload) = self.session.read_sol(&buf[..len]) {
                self.socket
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .ok()?;
                return Some(payload);
            }
        }
        self.socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .ok()?;
        None
    }

    /// Decodes a response datagram of this session (from any socket).
    pub fn read_reply(&self, datagram: &[u8]) -> Result<Response, String> {
        self.session
            .read_response(datagram)
            .map_err(|e| e.to_string())
    }

    /// Sends one request and waits for its response (a late answer to an
    /// earlier request is skipped).
    pub fn call(&mut self, netfn: NetFn, cmd: u8, data: &[u8]) -> Result<Response, String> {
        let datagram = self.session.request(netfn, cmd, data, random());
        self.socket.send(&datagram).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 2048];
        loop {
            let len = self.socket.recv(&mut buf).map_err(|e| e.to_string())?;
            let response = self
                .session
                .read_response(&buf[..len])
                .map_err(|e| e.to_string())?;
            if response.cmd == cmd {
                return Ok(response);
            }
        }
    }

    /// The BMC's ID of this session.
    pub fn session_id(&self) -> u32 {
        self.session.bmc_session_id
    }
}
