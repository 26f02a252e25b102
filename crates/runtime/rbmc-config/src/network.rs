//! `[network]`: the RMCP+ bridge's address, suites, session and
//! handshake limits, failed-login budget, user key and source allow list.

use std::{net::SocketAddr, time::Duration};

use ipmi_wire::crypto::CipherSuite;
use serde::Deserialize;

use crate::Cidr;

/// `[network]`: the RMCP+ bridge.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Network {
    /// UDP address to listen on.
    pub listen: SocketAddr,
    /// This LAN channel's number.
    pub channel: u8,
    /// Cipher suites offered; only 3 and 17 exist here, and 0 never.
    pub cipher_suites: Vec<SuiteId>,
    /// Active sessions allowed at once (handshakes under way are bounded
    /// apart from them).
    pub max_sessions: usize,
    /// Seconds of silence after which a session is closed.
    pub idle_timeout_secs: u64,
    /// Seconds a half-open session may wait for its next RAKP message.
    pub setup_timeout_secs: u64,
    /// Active sessions one user may hold at once.
    pub max_sessions_per_user: usize,
    /// Handshakes one source address may have under way at once; past
    /// that its own oldest gives way (a flood from one address churns
    /// only its own).
    pub max_handshakes_per_address: usize,
    /// Failed logins (refused, or abandoned after RAKP 2) one source
    /// address may make in a row; past that it starts no handshake until
    /// its budget refills.
    pub failed_login_burst: u32,
    /// Seconds per failed login the budget refills (0: no limit).
    pub failed_login_interval_secs: u64,
    /// The key that encrypts stored user passwords (32 random bytes,
    /// created on first start). Default: `user.key` in the state directory.
    pub user_key_file: Option<std::path::PathBuf>,
    /// Source ranges allowed to reach the bridge (`["127.0.0.0/8",
    /// "192.0.2.0/24"]`); datagrams from anywhere else are dropped before
    /// any work. Empty: every source.
    pub allow: Vec<Cidr>,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            // 623: the RMCP port (IPMI v2.0 §13.1.2).
            listen: SocketAddr::from(([0, 0, 0, 0], 623)),
            channel: 1,
            cipher_suites: vec![SuiteId(17), SuiteId(3)],
            // Bounds memory and CPU a peer can claim; 48 leaves room for 32
            // sessions of one automation account and 16 for everyone else
            // (Get Channel Info can count up to 63).
            max_sessions: 48,
            // 60 s: the spec's session inactivity timeout (IPMI v2.0 §6.12.15).
            idle_timeout_secs: 60,
            // A console that has not answered within 10 s has given up
            // (ipmitool's whole retry budget is shorter).
            setup_timeout_secs: 10,
            // 32 parallel sessions of one administrator (fleet automation),
            // and still not every slot.
            max_sessions_per_user: 32,
            max_handshakes_per_address: 32,
            // A person mistyping a password never meets it; a guesser is
            // slowed from thousands of guesses a second to one per 2 s per
            // address.
            failed_login_burst: 16,
            failed_login_interval_secs: 2,
            user_key_file: None,
            // No list: the management network's isolation is the
            // deployment's, and an empty default cannot lock anyone out.
            allow: Vec::new(),
        }
    }
}

impl Network {
    /// Whether a datagram from `source` may reach the bridge.
    pub fn allows(&self, source: std::net::IpAddr) -> bool {
        self.allow.is_empty() || self.allow.iter().any(|range| range.contains(source))
    }

    /// Rules serde cannot express.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.cipher_suites.is_empty() {
            return Err("network.cipher-suites must offer at least one suite (3 or 17)".into());
        }
        for (i, suite) in self.cipher_suites.iter().enumerate() {
            if self.cipher_suites[..i].contains(suite) {
                return Err(format!(
                    "network.cipher-suites lists suite {} twice",
                    suite.suite().id
                ));
            }
        }
        if !(1..=63).contains(&self.max_sessions) {
            return Err(format!(
                "network.max-sessions {} is out of range 1-63 (Get Channel Info counts sessions in 6 bits)",
                self.max_sessions
            ));
        }
        if self.max_handshakes_per_address == 0 {
            return Err("network.max-handshakes-per-address must be at least 1".into());
        }
        if self.failed_login_burst == 0 {
            return Err("network.failed-login-burst must be at least 1 (to lift the limit, set failed-login-interval-secs = 0)".into());
        }
        if !(1..=0x0B).contains(&self.channel) {
            return Err(format!(
                "network.channel {} is not a LAN channel number (1-11)",
                self.channel
            ));
        }
        Ok(())
    }

    /// The cipher suites as the wire crate knows them.
    pub fn suites(&self) -> Vec<CipherSuite> {
        self.cipher_suites.iter().map(|id| id.suite()).collect()
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// The session setup timeout.
    pub fn setup_timeout(&self) -> Duration {
        Duration::from_secs(self.setup_timeout_secs)
    }
}

/// A cipher suite ID this implementation supports.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "u8")]
pub struct SuiteId(u8);

impl SuiteId {
    /// The suite.
    pub fn suite(self) -> CipherSuite {
        CipherSuite::by_id(self.0).expect("validated at parse time")
    }
}

impl TryFrom<u8> for SuiteId {
    type Error = String;
    fn try_from(id: u8) -> Result<Self, String> {
        match CipherSuite::by_id(id) {
            Some(_) => Ok(Self(id)),
            None if id == 0 => Err("cipher suite 0 (no authentication) is never offered".into()),
            None => Err(format!("cipher suite {id} is not supported (use 3 or 17)")),
        }
    }
}
