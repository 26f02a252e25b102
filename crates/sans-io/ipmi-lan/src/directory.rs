//! What the session engine asks of the service that owns it: the channel's
//! policy (its privilege caps, whether it takes sessions, SOL) and a source
//! of randomness. The engine never stores the policy; it asks at each login
//! and each SOL activation, so a change the owner makes applies to the next
//! one. Users and their passwords are not here at all: a login asks the
//! accounts owner through [`crate::Event::Authenticate`].

use ipmi_wire::Privilege;

use crate::sol::SolConfig;

/// The user of a session, as the accounts owner described it at login.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct User {
    /// IPMI user ID (1-based; 1 is the reserved null user).
    pub id: u8,
    /// User name.
    pub name: Vec<u8>,
    /// The highest privilege this user may have on this channel (already
    /// capped by the channel's and the suite's limits).
    pub max_privilege: Privilege,
    /// Whether the user may activate SOL.
    pub sol_allowed: bool,
}

/// The channel policy the endpoint applies.
pub trait ChannelPolicy {
    /// The highest privilege a session on cipher suite `suite_id` may have:
    /// the channel's limit and the suite's (LAN parameter 24).
    fn privilege_cap(&self, _suite_id: u8) -> Privilege {
        Privilege::Administrator
    }

    /// Whether the channel takes new sessions (its access mode).
    fn accepts_sessions(&self) -> bool {
        true
    }

    /// The SOL policy; `None` when SOL is not offered.
    fn sol(&self) -> Option<SolPolicy> {
        None
    }
}

/// What decides whether a session may activate SOL, and how SOL runs.
#[derive(Clone, Debug)]
pub struct SolPolicy {
    /// The SOL configuration parameters.
    pub config: SolConfig,
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
