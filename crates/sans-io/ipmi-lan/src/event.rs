//! What the endpoint hands back to its driver: datagrams to send
//! ([`Transmit`]), things that happened ([`Event`]: requests to execute,
//! keystrokes for the host, logins, closed sessions), and the reasons a
//! datagram was dropped ([`DropReason`]).

use std::net::{IpAddr, SocketAddr};

use ipmi_wire::{
    crypto::{CipherSuite, RakpTranscript},
    message::Request,
    Privilege, RakpStatus, WireError,
};

use crate::handshake::Rakp2Answer;

/// One datagram to send.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Transmit {
    /// Where it goes.
    pub destination: SocketAddr,
    /// The whole UDP payload (RMCP header first).
    pub contents: Vec<u8>,
}

/// Something the driver must act on.
#[derive(Debug)]
pub enum Event {
    /// Execute this request (in the command table or at its owner), then
    /// hand the result to [`crate::Endpoint::respond`].
    Request(PendingRequest),
    /// SOL characters the remote console typed, for the host console.
    ToHost {
        /// Characters for the host (may be empty with a break).
        characters: Vec<u8>,
        /// The console asked for a serial break.
        send_break: bool,
    },
    /// A login succeeded, was refused or was abandoned (the audit trail).
    Login(LoginEvent),
    /// A session ended.
    SessionClosed {
        /// The BMC's session ID.
        session_id: u32,
        /// Why.
        reason: CloseReason,
    },
    /// The SOL payload was activated (`true`) or ended (`false`).
    SolActive(bool),
    /// A login needs the password's part: ask the accounts owner, then
    /// hand its answer to [`crate::Endpoint::authenticated`] (for
    /// [`AuthStep::ConsoleRefused`] no answer is awaited).
    Authenticate(AuthRequest),
}

/// A question to the accounts owner during a login.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    /// The BMC's session ID of the handshake: the answer names it.
    pub session_id: u32,
    /// Where the handshake came from.
    pub peer: SocketAddr,
    /// The negotiated cipher suite.
    pub suite: CipherSuite,
    /// The public values of the exchange (the user name among them).
    pub transcript: RakpTranscript,
    /// Which step asks.
    pub step: AuthStep,
}

/// The step of a login that asks.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum AuthStep {
    /// RAKP 1 arrived: RAKP 2's code and the user's limits, please.
    Rakp2,
    /// RAKP 3 arrived: check its code and derive the session integrity key.
    Rakp3 {
        /// The console's code.
        code: Vec<u8>,
    },
    /// RAKP 3 carried an error status: the console could not verify RAKP
    /// 2, which is a failed login to count. The handshake is already over.
    ConsoleRefused {
        /// The status the console sent.
        status: RakpStatus,
    },
}

/// The accounts owner's answer.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum AuthAnswer {
    /// For [`AuthStep::Rakp2`]: the user and the code, or the status to
    /// refuse with.
    Rakp2(Result<Rakp2Answer, RakpStatus>),
    /// For [`AuthStep::Rakp3`]: the session integrity key, or the status
    /// to refuse with.
    Rakp3(Result<Vec<u8>, RakpStatus>),
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum CloseReason {
    /// Close Session, by itself or by an Administrator.
    Closed,
    /// No authentic packet for the idle timeout.
    Idle,
    /// Set-up never completed within the set-up timeout.
    SetupTimeout,
    /// Its SOL was taken over (or ended) by another session, and the
    /// console was told.
    SolTakenOver,
}

/// A login that succeeded or was refused, for the service's audit log.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum LoginEvent {
    /// RAKP 2 or 4 carried an error: unknown or disabled name, a role above
    /// the user's limit, a wrong password, too many sessions.
    Refused {
        /// The name the console gave (never a password).
        user: String,
        /// Where the handshake came from, if known.
        peer: Option<IpAddr>,
        /// The RMCP+ status sent back.
        status: RakpStatus,
    },
    /// A handshake stopped after RAKP 2: the console could not verify the
    /// BMC's code, which is what a wrong password looks like from here.
    Abandoned {
        /// The name the console gave.
        user: String,
        /// Where it came from, if known.
        peer: Option<IpAddr>,
    },
    /// A session was established.
    Opened {
        /// The user's name.
        user: String,
        /// Where it came from, if known.
        peer: Option<IpAddr>,
        /// The BMC's session ID.
        session_id: u32,
        /// The privilege limit negotiated.
        privilege: Privilege,
    },
}

/// Why a datagram was dropped without a reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// It does not parse.
    #[error("malformed: {0}")]
    Malformed(#[from] WireError),
    /// A well-formed RMCP or ASF message we do not answer.
    #[error("unsupported message: {0}")]
    Unsupported(&'static str),
    /// No such session, or not in the state the payload needs.
    #[error("unknown or inactive session {0:#010x}")]
    NoSession(u32),
    /// A session packet without the authentication or encryption it needs.
    #[error("session packet not authenticated and encrypted")]
    NotProtected,
    /// The integrity check value did not verify.
    #[error("forged packet: integrity check failed")]
    Forged,
    /// The sequence number was replayed or outside the window.
    #[error("replayed or out-of-window sequence number {0}")]
    Replayed(u32),
}

impl DropReason {
    /// A short, stable name for counting drops by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::Unsupported(_) => "unsupported",
            Self::NoSession(_) => "no-session",
            Self::NotProtected => "not-protected",
            Self::Forged => "forged",
            Self::Replayed(_) => "replayed",
        }
    }
}

/// The session context a command runs with.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RequestContext {
    /// Channel the request arrived on.
    pub channel: u8,
    /// The BMC's ID for the session; 0 for a request outside a session.
    pub session_id: u32,
    /// The authenticated user's ID (0 outside a session).
    pub user_id: u8,
    /// The session's present privilege level (Callback outside a session:
    /// the least there is).
    pub privilege: Privilege,
}

impl RequestContext {
    /// Whether the request came inside an authenticated session.
    pub fn in_session(&self) -> bool {
        self.session_id != 0
    }
}

/// How the answer to a request travels back.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum ReplyRoute {
    /// Sealed for the session (its keys, its peer of the moment).
    Session(u32),
    /// Outside a session, in the framing the request came in.
    Sessionless {
        /// The requester.
        peer: SocketAddr,
        /// IPMI v1.5 framing (else v2.0).
        v15: bool,
    },
}

/// A request waiting for its answer.
#[derive(Clone, Debug)]
pub struct PendingRequest {
    /// The decoded request.
    pub request: Request,
    /// Who sent it and with what authority.
    pub context: RequestContext,
    /// Where it came from.
    pub peer: SocketAddr,
    /// The session's user name (empty outside a session), for the audit
    /// trail.
    pub user_name: Vec<u8>,
    pub(crate) route: ReplyRoute,
}
