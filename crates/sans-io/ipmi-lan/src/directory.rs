//! What the session engine asks of the service that owns it: who the users
//! are and what they may do, the SOL policy, and a source of randomness.
//! The engine never stores any of it; it asks at each login and each SOL
//! activation, so a change the owner makes applies to the next one.

use ipmi_wire::Privilege;

use crate::sol::SolConfig;

/// A user as the session layer needs it. Its `Debug` leaves the password
/// out.
#[derive(Clone, Eq, PartialEq)]
pub struct User {
    /// IPMI user ID (1-based; 1 is the reserved null user).
    pub id: u8,
    /// User name.
    pub name: Vec<u8>,
    /// Kuid: the password, the key of the RAKP HMACs.
    pub password: Vec<u8>,
    /// The highest privilege this user may have on this channel.
    pub max_privilege: Privilege,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("max_privilege", &self.max_privilege)
            .finish_non_exhaustive()
    }
}

/// Where the endpoint looks users and channel policy up.
pub trait UserDirectory {
    /// The user with this name, if it may log in on this channel, with its
    /// privilege limit there (already capped by the channel's limit).
    fn find(&self, name: &[u8]) -> Option<User>;

    /// The highest privilege a session on cipher suite `suite_id` may have
    /// (LAN parameter 24).
    fn suite_limit(&self, _suite_id: u8) -> Privilege {
        Privilege::Administrator
    }

    /// Whether the channel takes new sessions (its access mode).
    fn accepts_sessions(&self) -> bool {
        true
    }

    /// SOL policy for user `user_id`; `None` when SOL is not offered.
    fn sol(&self, _user_id: u8) -> Option<SolPolicy> {
        None
    }
}

/// What decides whether a session may activate SOL, and how SOL runs.
#[derive(Clone, Debug)]
pub struct SolPolicy {
    /// The SOL configuration parameters.
    pub config: SolConfig,
    /// Whether the user has SOL in its payload access.
    pub user_allowed: bool,
    /// A second activation takes the console over (else it gets 80h).
    pub takeover: bool,
    /// The UDP port SOL runs on (the port this endpoint serves).
    pub port: u16,
}

/// A source of random bytes (session IDs, RAKP random numbers, IVs).
pub trait Random {
    /// Fills `buf` with cryptographically strong random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

/// A fresh 16-byte initialization vector or random number.
pub(crate) fn random16(rng: &mut dyn Random) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    bytes
}
