//! The settings an endpoint is built with.

use std::time::Duration;

use ipmi_wire::crypto::CipherSuite;

/// Settings of an endpoint.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// This LAN channel's number (1 on most BMCs).
    pub channel: u8,
    /// The BMC's GUID, sent in RAKP 2.
    pub guid: [u8; 16],
    /// The suites offered, in order of preference.
    pub cipher_suites: Vec<CipherSuite>,
    /// How many sessions may be active at once (handshakes under way are
    /// kept apart and bounded on their own: `crate::pending`).
    pub max_sessions: usize,
    /// An active session with no valid packet for this long is closed.
    pub idle_timeout: Duration,
    /// A session still being set up after this long is discarded.
    pub setup_timeout: Duration,
    /// The BMC key Kg; `None` uses Kuid, as the spec's "one-key login".
    pub kg: Option<Vec<u8>>,
    /// Active sessions one user may hold at once (0: no limit beyond
    /// `max_sessions`).
    pub max_sessions_per_user: usize,
    /// Handshakes one source address may have under way at once: past
    /// that its own oldest gives way (see `crate::pending`).
    pub max_handshakes_per_address: usize,
    /// Failed logins one source address may make in a row (see
    /// `crate::guess_limit`).
    pub failed_login_burst: u32,
    /// Past the burst, one more failed login per this interval (zero: no
    /// limit).
    pub failed_login_interval: Duration,
}
