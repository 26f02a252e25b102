//! The RMCP+ endpoint: a table of sessions and what to do with each datagram.
//!
//! A datagram goes through these steps, and the first that fails decides:
//! RMCP header → ASF ping (answered) or IPMI → v1.5 sessionless (only Get
//! Channel Authentication Capabilities is answered) or v2.0 → session setup
//! payloads (Open Session, RAKP 1, RAKP 3) or an IPMI payload in an active
//! session: integrity check, replay window, decryption, message checksums.
//! Only then is the request answered locally (session commands) or handed
//! out for routing. Malformed, forged and replayed datagrams are dropped with
//! a [`DropReason`] the service logs.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use ipmi_wire::{
    crypto::{CipherSuite, SessionKeys},
    message::{self, Request, Response},
    rakp::{OpenSessionRequest, OpenSessionResponse, Rakp1, RakpReply},
    rmcp::{self, AsfHeader, MessageClass, RmcpHeader},
    session::{V15Packet, V20Header, V20Packet, AUTH_TYPE_RMCP_PLUS},
    CompletionCode, NetFn, PayloadType, Privilege, RakpStatus, WireError,
};

use crate::{
    commands::{self, CloseTarget, CommandResult},
    handshake::{ExpectRakp1, ExpectRakp3},
    sol::{self, HostState, SolConfig, SolLink, SolPacket},
    window::ReplayWindow,
};

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

/// Settings of an endpoint.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// This LAN channel's number (1 on most BMCs).
    pub channel: u8,
    /// The BMC's GUID, sent in RAKP 2.
    pub guid: [u8; 16],
    /// The suites offered, in order of preference.
    pub cipher_suites: Vec<CipherSuite>,
    /// How many sessions (set up or being set up) may exist at once.
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
        peer: Option<std::net::IpAddr>,
        /// The RMCP+ status sent back.
        status: RakpStatus,
    },
    /// A handshake stopped after RAKP 2: the console could not verify the
    /// BMC's code, which is what a wrong password looks like from here.
    Abandoned {
        /// The name the console gave.
        user: String,
        /// Where it came from, if known.
        peer: Option<std::net::IpAddr>,
    },
    /// A session was established.
    Opened {
        /// The user's name.
        user: String,
        /// Where it came from, if known.
        peer: Option<std::net::IpAddr>,
        /// The BMC's session ID.
        session_id: u32,
        /// The privilege limit negotiated.
        privilege: Privilege,
    },
}

/// Pending handshakes one source address may hold at once.
pub const MAX_PENDING_PER_PEER: usize = 4;

/// What the service should do with a datagram.
#[derive(Debug)]
pub enum Action {
    /// Send these bytes back to the sender.
    Reply(Vec<u8>),
    /// Route this request; then call [`Endpoint::respond`].
    Dispatch(PendingRequest),
    /// SOL characters the remote console typed, for the host console. The
    /// acknowledgement is in the outbox ([`Endpoint::take_outbox`]).
    Sol {
        /// Characters for the host.
        to_host: Vec<u8>,
        /// The console asked for a serial break.
        send_break: bool,
    },
    /// Send nothing; log the reason.
    Drop(DropReason),
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

/// The session context a command runs with.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RequestContext {
    /// Channel the request arrived on.
    pub channel: u8,
    /// The BMC's ID for the session.
    pub session_id: u32,
    /// The authenticated user's ID.
    pub user_id: u8,
    /// The session's present privilege level.
    pub privilege: Privilege,
}

/// A request waiting for its owner's answer.
#[derive(Clone, Debug)]
pub struct PendingRequest {
    /// The decoded request.
    pub request: Request,
    /// Who sent it and with what authority.
    pub context: RequestContext,
}

#[derive(Debug)]
enum Slot {
    ExpectRakp1(ExpectRakp1, Instant),
    ExpectRakp3(ExpectRakp3, Instant),
    Active(Box<ActiveSession>),
}

#[derive(Debug)]
struct ActiveSession {
    console_session_id: u32,
    peer: SocketAddr,
    handle: u8,
    keys: SessionKeys,
    user: User,
    privilege_limit: Privilege,
    privilege: Privilege,
    inbound: ReplayWindow,
    outbound_sequence: u32,
    last_activity: Instant,
}

impl ActiveSession {
    fn next_sequence(&mut self) -> u32 {
        // Starts at 1 and skips 0 on wrap (§6.12.13; FreeIPMI expects 1..8
        // for the first packet).
        self.outbound_sequence = self.outbound_sequence.wrapping_add(1).max(1);
        self.outbound_sequence
    }
}

/// The SOL payload instance and the session it is active on.
#[derive(Debug)]
struct ActiveSol {
    session_id: u32,
    link: SolLink,
}

/// An RMCP+ endpoint for one LAN channel.
#[derive(Debug)]
pub struct Endpoint<U> {
    config: EndpointConfig,
    users: U,
    sessions: HashMap<u32, Slot>,
    next_handle: u8,
    sol: Option<ActiveSol>,
    sol_host: HostState,
    /// Logins since the last [`Endpoint::take_login_events`].
    login_events: Vec<LoginEvent>,
    /// Where each pending handshake came from, and when (a counter).
    pending_peers: HashMap<u32, (std::net::IpAddr, u64)>,
    opened: u64,
    outbox: Vec<(SocketAddr, Vec<u8>)>,
}

impl<U: UserDirectory> Endpoint<U> {
    /// A new endpoint with no sessions.
    pub fn new(config: EndpointConfig, users: U) -> Self {
        Self {
            config,
            users,
            sessions: HashMap::new(),
            next_handle: 0,
            sol: None,
            sol_host: HostState::Ready,
            pending_peers: HashMap::new(),
            login_events: Vec::new(),
            opened: 0,
            outbox: Vec::new(),
        }
    }

    /// Logins since the last call, to be logged (bounded: at most one per
    /// handshake message handled).
    pub fn take_login_events(&mut self) -> Vec<LoginEvent> {
        std::mem::take(&mut self.login_events)
    }

    fn peer_of(&self, session_id: u32) -> Option<std::net::IpAddr> {
        self.pending_peers.get(&session_id).map(|(peer, _)| *peer)
    }

    /// Tells the endpoint whether the host console can take SOL characters
    /// now; inbound SOL data is NACKed while it cannot.
    pub fn set_sol_host(&mut self, host: HostState) {
        self.sol_host = host;
    }

    /// The user directory.
    pub fn users(&self) -> &U {
        &self.users
    }

    /// Datagrams to send that no request answers directly: SOL
    /// acknowledgements and data, and the notice to a console whose SOL was
    /// taken over. Drain after every call into the endpoint.
    pub fn take_outbox(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        std::mem::take(&mut self.outbox)
    }

    /// How many sessions exist, including those being set up.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// How many sessions are active.
    pub fn active_session_count(&self) -> usize {
        self.sessions
            .values()
            .filter(|slot| matches!(slot, Slot::Active(_)))
            .count()
    }

    /// Handles one datagram received at `now` from an unknown peer (tests).
    pub fn handle(&mut self, now: Instant, datagram: &[u8], rng: &mut dyn Random) -> Action {
        self.handle_from(now, datagram, SocketAddr::from(([0, 0, 0, 0], 0)), rng)
    }

    /// Handles one datagram received at `now` from `peer`.
    pub fn handle_from(
        &mut self,
        now: Instant,
        datagram: &[u8],
        peer: SocketAddr,
        rng: &mut dyn Random,
    ) -> Action {
        match self.try_handle(now, datagram, peer, rng) {
            Ok(action) => action,
            Err(reason) => Action::Drop(reason),
        }
    }

    fn try_handle(
        &mut self,
        now: Instant,
        datagram: &[u8],
        peer: SocketAddr,
        rng: &mut dyn Random,
    ) -> Result<Action, DropReason> {
        let (rmcp_header, rest) = RmcpHeader::parse(datagram)?;
        if rmcp_header.is_ack {
            return Err(DropReason::Unsupported("RMCP ACK"));
        }
        match rmcp_header.class {
            MessageClass::Asf => {
                let (asf, _data) = AsfHeader::parse(rest)?;
                if asf.iana == rmcp::ASF_IANA && asf.message_type == rmcp::ASF_PRESENCE_PING {
                    Ok(Action::Reply(rmcp::presence_pong(&rmcp_header, asf.tag)))
                } else {
                    Err(DropReason::Unsupported(
                        "ASF message other than presence ping",
                    ))
                }
            }
            MessageClass::Ipmi => match rest.first() {
                Some(&AUTH_TYPE_RMCP_PLUS) => self.handle_v20(now, rest, peer, rng),
                Some(_) => self.handle_v15(rest),
                None => Err(WireError::Truncated {
                    what: "IPMI session header",
                    needed: 1,
                    available: 0,
                }
                .into()),
            },
            _ => Err(DropReason::Unsupported("RMCP class")),
        }
    }

    /// IPMI v1.5 packets: only sessionless Get Channel Authentication
    /// Capabilities is answered (it is how RMCP+ clients discover us, and how
    /// v1.5 clients learn that no v1.5 authentication type is offered).
    fn handle_v15(&mut self, bytes: &[u8]) -> Result<Action, DropReason> {
        let packet = V15Packet::parse(bytes)?;
        if packet.session_id != 0 || packet.auth_type != 0 {
            return Err(DropReason::Unsupported("IPMI v1.5 session"));
        }
        let request = Request::parse(packet.message)?;
        let data = self.sessionless_command(&request)?;
        let response = respond_bytes(&request, data);
        let mut out = Vec::with_capacity(64);
        RmcpHeader::IPMI.emit(&mut out);
        V15Packet::emit_sessionless(&response, &mut out)?;
        Ok(Action::Reply(out))
    }

    /// Commands answered outside a session.
    fn sessionless_command(
        &self,
        request: &Request,
    ) -> Result<Result<Vec<u8>, CompletionCode>, DropReason> {
        if request.netfn != NetFn::APP {
            return Err(DropReason::Unsupported("sessionless command"));
        }
        match request.cmd {
            commands::CMD_GET_CHANNEL_AUTH_CAPABILITIES => {
                Ok(commands::cmd_get_channel_auth_capabilities(
                    &request.data,
                    self.config.channel,
                    self.config.kg.is_some(),
                ))
            }
            commands::CMD_GET_CHANNEL_CIPHER_SUITES => Ok(commands::cmd_get_channel_cipher_suites(
                &request.data,
                self.config.channel,
                &self.config.cipher_suites,
            )),
            // IPMI v1.5 session activation is not offered.
            commands::CMD_GET_SESSION_CHALLENGE => Ok(Err(CompletionCode::INVALID_COMMAND)),
            _ => Err(DropReason::Unsupported("sessionless command")),
        }
    }

    fn handle_v20(
        &mut self,
        now: Instant,
        bytes: &[u8],
        peer: SocketAddr,
        rng: &mut dyn Random,
    ) -> Result<Action, DropReason> {
        let packet = V20Packet::parse(bytes)?;
        let header = packet.header;
        if header.session_id == 0 {
            if header.authenticated || header.encrypted {
                return Err(DropReason::NotProtected);
            }
            return match header.payload_type {
                PayloadType::OPEN_SESSION_REQUEST => {
                    Ok(self.on_open_session(now, packet.payload, peer, rng))
                }
                PayloadType::RAKP1 => self.on_rakp1(packet.payload, rng),
                PayloadType::RAKP3 => self.on_rakp3(now, packet.payload, peer),
                PayloadType::IPMI => {
                    let request = Request::parse(packet.payload)?;
                    let data = self.sessionless_command(&request)?;
                    let response = respond_bytes(&request, data);
                    Ok(Action::Reply(sessionless_v20(
                        PayloadType::IPMI,
                        &response,
                    )?))
                }
                _ => Err(DropReason::Unsupported("sessionless payload type")),
            };
        }
        self.on_session_packet(now, &packet, peer, rng)
    }

    fn on_open_session(
        &mut self,
        now: Instant,
        payload: &[u8],
        peer: SocketAddr,
        rng: &mut dyn Random,
    ) -> Action {
        let request = match OpenSessionRequest::parse(payload) {
            Ok(request) => request,
            Err(err) => {
                // Answer what we can: the tag and console ID if present.
                let tag = payload.first().copied().unwrap_or(0);
                let console_session_id = payload
                    .get(4..8)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                return match reject_open(tag, console_session_id, RakpStatus::ILLEGAL_PARAMETER) {
                    Ok(bytes) => Action::Reply(bytes),
                    Err(_) => Action::Drop(err.into()),
                };
            }
        };
        self.expire(now);
        if !self.users.accepts_sessions() {
            // The channel's access mode is "disabled".
            return reply_or_drop(reject_open(
                request.tag,
                request.console_session_id,
                RakpStatus::INSUFFICIENT_RESOURCES,
            ));
        }
        let bmc_session_id = self.new_session_id(rng);
        // Validate first: a request that will be refused must not cost a
        // real login its slot.
        let (state, mut response) =
            match ExpectRakp1::open(&request, &self.config.cipher_suites, bmc_session_id) {
                Ok(accepted) => accepted,
                Err(err) => {
                    return reply_or_drop(reject_open(
                        request.tag,
                        request.console_session_id,
                        err.status,
                    ))
                }
            };
        // Half-open handshakes cost a peer nothing to create, so a flood of
        // Open Session Requests must not lock out real users. One address
        // holds at most MAX_PENDING_PER_PEER of them: past that its own
        // oldest gives way. When the table is full, the oldest handshake of
        // the address holding the most gives way, so a flooder churns its
        // own. Active sessions never do.
        let own: Vec<(u64, u32)> = self.pending(|from| from == peer.ip());
        if own.len() >= MAX_PENDING_PER_PEER {
            if let Some((_, id)) = own.iter().min() {
                self.remove_pending(*id);
            }
        } else if self.sessions.len() >= self.config.max_sessions {
            if let Some(id) = self.pending_of_busiest_peer() {
                self.remove_pending(id);
            }
        }
        if self.sessions.len() >= self.config.max_sessions {
            return reply_or_drop(reject_open(
                request.tag,
                request.console_session_id,
                RakpStatus::INSUFFICIENT_RESOURCES,
            ));
        }
        // The highest privilege this suite allows (LAN parameter 24) caps
        // what the response offers; RAKP 1 enforces it.
        response.max_privilege = response
            .max_privilege
            .min(self.users.suite_limit(state.suite.id).level());
        self.sessions
            .insert(bmc_session_id, Slot::ExpectRakp1(state, now));
        self.opened += 1;
        self.pending_peers
            .insert(bmc_session_id, (peer.ip(), self.opened));
        reply_or_drop(sessionless_v20(
            PayloadType::OPEN_SESSION_RESPONSE,
            &response.emit(),
        ))
    }

    fn on_rakp1(&mut self, payload: &[u8], rng: &mut dyn Random) -> Result<Action, DropReason> {
        let message = Rakp1::parse(payload)?;
        // Look before taking: a RAKP 1 naming an active session must not
        // disturb it.
        if !matches!(
            self.sessions.get(&message.bmc_session_id),
            Some(Slot::ExpectRakp1(..))
        ) {
            return Err(DropReason::NoSession(message.bmc_session_id));
        }
        let Some(Slot::ExpectRakp1(state, started)) = self.sessions.remove(&message.bmc_session_id)
        else {
            return Err(DropReason::NoSession(message.bmc_session_id));
        };
        let console_session_id = state.console_session_id;
        let suite_limit = self.users.suite_limit(state.suite.id);
        let user = self.users.find(&message.username).map(|mut user| {
            user.max_privilege = user.max_privilege.min(suite_limit);
            user
        });
        let mut bmc_random = [0u8; 16];
        rng.fill(&mut bmc_random);
        match state.on_rakp1(&message, user, bmc_random, self.config.guid) {
            Ok((next, rakp2)) => {
                self.sessions
                    .insert(message.bmc_session_id, Slot::ExpectRakp3(next, started));
                Ok(Action::Reply(sessionless_v20(
                    PayloadType::RAKP2,
                    &rakp2.emit(),
                )?))
            }
            Err(err) => {
                self.login_events.push(LoginEvent::Refused {
                    user: String::from_utf8_lossy(&message.username).into_owned(),
                    peer: self.peer_of(message.bmc_session_id),
                    status: err.status,
                });
                Ok(Action::Reply(rakp_error(
                    PayloadType::RAKP2,
                    message.tag,
                    err.status,
                    console_session_id,
                )?))
            }
        }
    }

    fn on_rakp3(
        &mut self,
        now: Instant,
        payload: &[u8],
        peer: SocketAddr,
    ) -> Result<Action, DropReason> {
        let message = RakpReply::parse(payload)?;
        if !matches!(
            self.sessions.get(&message.session_id),
            Some(Slot::ExpectRakp3(..))
        ) {
            return Err(DropReason::NoSession(message.session_id));
        }
        let Some(Slot::ExpectRakp3(state, _)) = self.sessions.remove(&message.session_id) else {
            return Err(DropReason::NoSession(message.session_id));
        };
        let console_session_id = state.console_session_id;
        let console_gave_up = message.status != RakpStatus::NO_ERRORS;
        let user_name = String::from_utf8_lossy(state.user_name()).into_owned();
        let from = self.peer_of(message.session_id);
        let refused = |status| LoginEvent::Refused {
            user: user_name.clone(),
            peer: from,
            status,
        };
        match state.on_rakp3(&message, self.config.kg.as_deref()) {
            Ok(done) if self.user_at_session_limit(done.user.id) => {
                self.login_events
                    .push(refused(RakpStatus::INSUFFICIENT_RESOURCES));
                Ok(Action::Reply(rakp_error(
                    PayloadType::RAKP4,
                    message.tag,
                    RakpStatus::INSUFFICIENT_RESOURCES,
                    console_session_id,
                )?))
            }
            Ok(done) => {
                let handle = self.new_handle();
                let rakp4 = sessionless_v20(PayloadType::RAKP4, &done.rakp4.emit())?;
                self.sessions.insert(
                    message.session_id,
                    Slot::Active(Box::new(ActiveSession {
                        console_session_id,
                        peer,
                        handle,
                        keys: done.keys,
                        privilege: done.privilege_limit.min(Privilege::User),
                        privilege_limit: done.privilege_limit,
                        user: done.user,
                        inbound: ReplayWindow::default(),
                        outbound_sequence: 0,
                        last_activity: now,
                    })),
                );
                self.login_events.push(LoginEvent::Opened {
                    user: user_name.clone(),
                    peer: from,
                    session_id: message.session_id,
                    privilege: done.privilege_limit,
                });
                Ok(Action::Reply(rakp4))
            }
            Err(_) if console_gave_up => {
                self.login_events.push(refused(message.status));
                Err(DropReason::Unsupported("RAKP 3 with error status"))
            }
            Err(err) => {
                self.login_events.push(refused(err.status));
                Ok(Action::Reply(rakp_error(
                    PayloadType::RAKP4,
                    message.tag,
                    err.status,
                    console_session_id,
                )?))
            }
        }
    }

    fn on_session_packet(
        &mut self,
        now: Instant,
        packet: &V20Packet<'_>,
        peer: SocketAddr,
        rng: &mut dyn Random,
    ) -> Result<Action, DropReason> {
        let header = packet.header;
        let Some(Slot::Active(session)) = self.sessions.get_mut(&header.session_id) else {
            return Err(DropReason::NoSession(header.session_id));
        };
        // Our suites all have integrity and confidentiality: anything less is
        // a downgrade attempt.
        if !header.authenticated || !header.encrypted {
            return Err(DropReason::NotProtected);
        }
        packet
            .verify_integrity(&session.keys)
            .map_err(|_| DropReason::Forged)?;
        // Only an authentic packet may move the window.
        if !session.inbound.accept(header.sequence) {
            return Err(DropReason::Replayed(header.sequence));
        }
        session.last_activity = now;
        session.peer = peer;
        if header.payload_type == PayloadType::SOL {
            let plain = session.keys.decrypt(packet.payload)?;
            return self.on_sol_packet(now, header.session_id, &plain, rng);
        }
        if header.payload_type != PayloadType::IPMI {
            return Err(DropReason::Unsupported("session payload type"));
        }
        let plain = session.keys.decrypt(packet.payload)?;
        let request = Request::parse(&plain)?;
        let context = RequestContext {
            channel: self.config.channel,
            session_id: header.session_id,
            user_id: session.user.id,
            privilege: session.privilege,
        };
        if request.netfn != NetFn::APP {
            return Ok(Action::Dispatch(PendingRequest { request, context }));
        }
        let result = match request.cmd {
            commands::CMD_GET_CHANNEL_AUTH_CAPABILITIES => {
                commands::cmd_get_channel_auth_capabilities(
                    &request.data,
                    self.config.channel,
                    self.config.kg.is_some(),
                )
            }
            commands::CMD_GET_CHANNEL_CIPHER_SUITES => commands::cmd_get_channel_cipher_suites(
                &request.data,
                self.config.channel,
                &self.config.cipher_suites,
            ),
            commands::CMD_SET_SESSION_PRIVILEGE => {
                let Some(Slot::Active(session)) = self.sessions.get_mut(&header.session_id) else {
                    return Err(DropReason::NoSession(header.session_id));
                };
                match commands::cmd_set_session_privilege(
                    &request.data,
                    session.privilege,
                    session.privilege_limit,
                ) {
                    Ok(level) => {
                        session.privilege = level;
                        Ok(vec![level.level()])
                    }
                    Err(code) => Err(code),
                }
            }
            commands::CMD_CLOSE_SESSION => {
                return Ok(self.close_session(now, header.session_id, &request, rng));
            }
            _ => return Ok(Action::Dispatch(PendingRequest { request, context })),
        };
        let pending = PendingRequest { request, context };
        Ok(match self.respond(&pending, result, rng) {
            Some(bytes) => Action::Reply(bytes),
            None => Action::Drop(DropReason::NoSession(header.session_id)),
        })
    }

    fn close_session(
        &mut self,
        _now: Instant,
        own_id: u32,
        request: &Request,
        rng: &mut dyn Random,
    ) -> Action {
        let Some(Slot::Active(own)) = self.sessions.get(&own_id) else {
            return Action::Drop(DropReason::NoSession(own_id));
        };
        let own_privilege = own.privilege;
        let target = commands::parse_close_session(&request.data).and_then(|target| {
            let id = match target {
                CloseTarget::Id(id) => id,
                CloseTarget::Handle(handle) => self
                    .sessions
                    .iter()
                    .find_map(|(id, slot)| match slot {
                        Slot::Active(s) if s.handle == handle => Some(*id),
                        _ => None,
                    })
                    .ok_or(commands::CC_INVALID_SESSION_HANDLE)?,
            };
            if !self.sessions.contains_key(&id) {
                return Err(commands::CC_INVALID_SESSION_ID);
            }
            // Closing someone else's session takes Administrator (§22.19).
            if id != own_id && own_privilege < Privilege::Administrator {
                return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
            }
            Ok(id)
        });
        let context = RequestContext {
            channel: self.config.channel,
            session_id: own_id,
            user_id: 0,
            privilege: own_privilege,
        };
        let pending = PendingRequest {
            request: request.clone(),
            context,
        };
        // The reply goes out under the closing session's keys, so build it
        // before the session is removed.
        let reply = self.respond(&pending, target.map(|_| Vec::new()), rng);
        if let Ok(id) = target {
            self.remove_session(id);
        }
        match reply {
            Some(bytes) => Action::Reply(bytes),
            None => Action::Drop(DropReason::NoSession(own_id)),
        }
    }

    /// Encodes the answer to `pending` for its session: the response message,
    /// encrypted and signed, in an RMCP datagram. `None` if the session has
    /// gone (closed or expired while the owner worked).
    pub fn respond(
        &mut self,
        pending: &PendingRequest,
        result: Result<Vec<u8>, CompletionCode>,
        rng: &mut dyn Random,
    ) -> Option<Vec<u8>> {
        let Some(Slot::Active(session)) = self.sessions.get_mut(&pending.context.session_id) else {
            return None;
        };
        let response = respond_bytes(&pending.request, result);
        let mut iv = [0u8; 16];
        rng.fill(&mut iv);
        let payload = session.keys.encrypt(iv, &response);
        let header = V20Header {
            encrypted: true,
            authenticated: true,
            payload_type: PayloadType::IPMI,
            oem: None,
            session_id: session.console_session_id,
            sequence: session.next_sequence(),
        };
        let mut out = Vec::with_capacity(payload.len() + 40);
        RmcpHeader::IPMI.emit(&mut out);
        header.emit(&payload, Some(&session.keys), &mut out).ok()?;
        Some(out)
    }

    /// Closes sessions idle past the timeout and handshakes that stalled.
    /// Returns the IDs removed.
    pub fn expire(&mut self, now: Instant) -> Vec<u32> {
        let idle = self.config.idle_timeout;
        let setup = self.config.setup_timeout;
        let mut removed = Vec::new();
        let mut abandoned = Vec::new();
        let sol_session = self.sol.as_ref().map(|sol| sol.session_id);
        self.sessions.retain(|id, slot| {
            let deadline = match slot {
                Slot::ExpectRakp1(_, started) | Slot::ExpectRakp3(_, started) => *started + setup,
                Slot::Active(session) => session.last_activity + idle,
            };
            let keep = now < deadline;
            if !keep {
                removed.push(*id);
                if let Slot::ExpectRakp3(state, _) = slot {
                    abandoned.push((*id, String::from_utf8_lossy(state.user_name()).into_owned()));
                }
            }
            keep
        });
        for (id, user) in abandoned {
            let peer = self.peer_of(id);
            self.login_events.push(LoginEvent::Abandoned { user, peer });
        }
        if sol_session.is_some_and(|id| removed.contains(&id)) {
            self.sol = None;
        }
        let sessions = &self.sessions;
        self.pending_peers.retain(|id, _| {
            matches!(
                sessions.get(id),
                Some(Slot::ExpectRakp1(..) | Slot::ExpectRakp3(..))
            )
        });
        removed
    }

    /// Pending handshakes (order opened, session ID) from peers `from`
    /// accepts.
    fn pending(&self, from: impl Fn(std::net::IpAddr) -> bool) -> Vec<(u64, u32)> {
        self.pending_peers
            .iter()
            .filter(|(id, _)| {
                matches!(
                    self.sessions.get(id),
                    Some(Slot::ExpectRakp1(..) | Slot::ExpectRakp3(..))
                )
            })
            .filter(|(_, (peer, _))| from(*peer))
            .map(|(id, (_, order))| (*order, *id))
            .collect()
    }

    /// The oldest pending handshake of the address holding the most of
    /// them; between equals, the address that started most recently (a
    /// console already waiting keeps its place).
    fn pending_of_busiest_peer(&self) -> Option<u32> {
        let mut by_peer: HashMap<std::net::IpAddr, Vec<(u64, u32)>> = HashMap::new();
        for (order, id) in self.pending(|_| true) {
            let peer = self.pending_peers.get(&id)?.0;
            by_peer.entry(peer).or_default().push((order, id));
        }
        let busiest = by_peer
            .into_values()
            .max_by_key(|handshakes| (handshakes.len(), handshakes.iter().min().copied()))?;
        busiest.into_iter().min().map(|(_, id)| id)
    }

    fn remove_pending(&mut self, id: u32) {
        self.sessions.remove(&id);
        self.pending_peers.remove(&id);
    }

    fn user_at_session_limit(&self, user_id: u8) -> bool {
        let limit = self.config.max_sessions_per_user;
        limit != 0
            && self
                .sessions
                .values()
                .filter(|slot| matches!(slot, Slot::Active(s) if s.user.id == user_id))
                .count()
                >= limit
    }

    fn remove_session(&mut self, id: u32) {
        self.sessions.remove(&id);
        if self.sol.as_ref().is_some_and(|sol| sol.session_id == id) {
            self.sol = None;
        }
    }

    /// Encrypts and signs SOL `packet` for session `session_id` and puts it
    /// in the outbox.
    fn send_sol(&mut self, session_id: u32, packet: &SolPacket, rng: &mut dyn Random) {
        let Some(Slot::Active(session)) = self.sessions.get_mut(&session_id) else {
            return;
        };
        let mut iv = [0u8; 16];
        rng.fill(&mut iv);
        let payload = session.keys.encrypt(iv, &packet.emit());
        let header = V20Header {
            encrypted: true,
            authenticated: true,
            payload_type: PayloadType::SOL,
            oem: None,
            session_id: session.console_session_id,
            sequence: session.next_sequence(),
        };
        let mut out = Vec::with_capacity(payload.len() + 40);
        RmcpHeader::IPMI.emit(&mut out);
        if header.emit(&payload, Some(&session.keys), &mut out).is_ok() {
            self.outbox.push((session.peer, out));
        }
    }

    fn on_sol_packet(
        &mut self,
        now: Instant,
        session_id: u32,
        plain: &[u8],
        rng: &mut dyn Random,
    ) -> Result<Action, DropReason> {
        let Some(active) = self.sol.as_mut().filter(|sol| sol.session_id == session_id) else {
            return Err(DropReason::Unsupported(
                "SOL packet without an active SOL payload",
            ));
        };
        let packet =
            SolPacket::parse(plain).ok_or(DropReason::Malformed(WireError::Truncated {
                what: "SOL packet header",
                needed: 4,
                available: plain.len(),
            }))?;
        let input = active.link.on_packet(now, &packet, self.sol_host);
        for reply in &input.replies {
            self.send_sol(session_id, reply, rng);
        }
        Ok(Action::Sol {
            to_host: input.to_host,
            send_break: input.send_break,
        })
    }

    /// Whether a SOL payload is active.
    pub fn sol_active(&self) -> bool {
        self.sol.is_some()
    }

    /// Queues characters from the host console for the active SOL session
    /// (dropped if none), putting packets now due in the outbox.
    pub fn sol_output(&mut self, now: Instant, bytes: &[u8], rng: &mut dyn Random) {
        let Some(active) = self.sol.as_mut() else {
            return;
        };
        let session_id = active.session_id;
        let packets = active.link.push_output(now, bytes);
        for packet in &packets {
            self.send_sol(session_id, packet, rng);
        }
    }

    /// Runs SOL timers: retransmissions and accumulated characters.
    pub fn poll_sol(&mut self, now: Instant, rng: &mut dyn Random) {
        let Some(active) = self.sol.as_mut() else {
            return;
        };
        let session_id = active.session_id;
        let packets = active.link.poll(now);
        for packet in &packets {
            self.send_sol(session_id, packet, rng);
        }
    }

    /// How many host characters SOL can take now (0 when inactive).
    pub fn sol_room(&self) -> usize {
        self.sol.as_ref().map_or(0, |sol| sol.link.room())
    }

    /// When [`Endpoint::poll_sol`] next has work.
    pub fn sol_deadline(&self) -> Option<Instant> {
        self.sol.as_ref()?.link.next_deadline()
    }

    fn active_session(&self, session_id: u32) -> Option<&ActiveSession> {
        match self.sessions.get(&session_id) {
            Some(Slot::Active(session)) => Some(session),
            _ => None,
        }
    }

    /// Activate Payload (§24.1) for SOL, asked by session `session_id`.
    pub fn activate_sol(
        &mut self,
        session_id: u32,
        data: &[u8],
        rng: &mut dyn Random,
    ) -> CommandResult {
        sol::parse_sol_instance(data, 6)?;
        let session = self
            .active_session(session_id)
            // Payloads exist only in RMCP+ sessions.
            .ok_or(CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE)?;
        let (user_id, privilege) = (session.user.id, session.privilege);
        let policy = self.users.sol(user_id).ok_or(sol::CC_PAYLOAD_DISABLED)?;
        if !policy.config.enabled {
            return Err(sol::CC_PAYLOAD_DISABLED);
        }
        if privilege < policy.config.privilege || !policy.user_allowed {
            return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
        }
        // Byte 3 bits 7:6 ask for encryption and authentication; this BMC
        // runs every payload with both.
        if data[2] & 0xC0 != 0xC0 {
            return Err(sol::CC_ENCRYPTION_REQUIRED);
        }
        if data[2] & 0x31 != 0 || data[3..] != [0, 0, 0] {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        if let Some(active) = &self.sol {
            if active.session_id == session_id || !policy.takeover {
                return Err(sol::CC_PAYLOAD_ALREADY_ACTIVE);
            }
            // Taking over needs at least the holder's privilege (or being
            // the same user).
            if !self.may_end_sol_of(active.session_id, session_id, privilege) {
                return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
            }
            self.deactivate_with_notice(rng);
        }
        self.sol = Some(ActiveSol {
            session_id,
            link: SolLink::new(policy.config),
        });
        Ok(sol::activate_response(policy.port))
    }

    fn deactivate_with_notice(&mut self, rng: &mut dyn Random) {
        if let Some(mut old) = self.sol.take() {
            let notice = old.link.deactivated_notice();
            self.send_sol(old.session_id, &notice, rng);
        }
    }

    /// Whether the caller (session `caller`, or with no session the
    /// system interface at `caller_privilege`) may end the SOL held by
    /// session `holder`: the same user, or a privilege at least the
    /// holder's and never below Administrator for another user's console.
    fn may_end_sol_of(&self, holder: u32, caller: u32, caller_privilege: Privilege) -> bool {
        let Some(holder) = self.active_session(holder) else {
            return true;
        };
        match self.active_session(caller) {
            Some(caller) => {
                caller.user.id == holder.user.id
                    || (caller.privilege >= holder.privilege
                        && caller.privilege >= Privilege::Administrator)
            }
            None => caller_privilege >= Privilege::Administrator,
        }
    }

    /// Deactivate Payload (§24.2) for SOL: by its own session, by the same
    /// user, or by an Administrator (the host's system interface included);
    /// another session's console is told.
    pub fn deactivate_sol(
        &mut self,
        session_id: u32,
        caller_privilege: Privilege,
        data: &[u8],
        rng: &mut dyn Random,
    ) -> CommandResult {
        sol::parse_sol_instance(data, 6)?;
        if data[2..] != [0, 0, 0, 0] {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        match &self.sol {
            None => Err(sol::CC_PAYLOAD_ALREADY_DEACTIVATED),
            Some(active) if active.session_id == session_id => {
                self.sol = None;
                Ok(Vec::new())
            }
            Some(active) => {
                if !self.may_end_sol_of(active.session_id, session_id, caller_privilege) {
                    return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
                }
                self.deactivate_with_notice(rng);
                Ok(Vec::new())
            }
        }
    }

    /// Get Payload Activation Status (§24.4) for SOL.
    pub fn sol_activation_status(&self, data: &[u8]) -> CommandResult {
        sol::parse_sol_instance(data, 1)?;
        Ok(vec![0x01, u8::from(self.sol.is_some()), 0x00])
    }

    /// Get Payload Instance Info (§24.5) for SOL.
    pub fn sol_instance_info(&self, data: &[u8]) -> CommandResult {
        sol::parse_sol_instance(data, 2)?;
        let session_id = self.sol.as_ref().map_or(0, |sol| sol.session_id);
        let mut out = session_id.to_le_bytes().to_vec();
        // Payload-specific data: the serial port number (1), then reserved.
        out.extend_from_slice(&[if session_id == 0 { 0 } else { 1 }, 0, 0, 0, 0, 0, 0, 0]);
        Ok(out)
    }

    /// Get Session Info (§22.20, Table 22-26), asked from session
    /// `own_session_id` (0 when not in a session). `mac_of` looks the
    /// remote console's MAC address up (zeros when unknown).
    pub fn session_info(
        &self,
        own_session_id: u32,
        data: &[u8],
        mac_of: &dyn Fn(Ipv4Addr) -> [u8; 6],
    ) -> CommandResult {
        let mut active: Vec<(u32, &ActiveSession)> = self
            .sessions
            .iter()
            .filter_map(|(id, slot)| match slot {
                Slot::Active(session) => Some((*id, &**session)),
                _ => None,
            })
            .collect();
        active.sort_by_key(|(_, session)| session.handle);
        let found = match data {
            [0x00] => active.iter().find(|(id, _)| *id == own_session_id),
            [index @ 0x01..=0x3F] => active.get(usize::from(*index) - 1),
            [0xFE, handle] => active.iter().find(|(_, s)| s.handle == *handle),
            [0xFF, a, b, c, d] => {
                let id = u32::from_le_bytes([*a, *b, *c, *d]);
                active.iter().find(|(sid, _)| *sid == id)
            }
            [0xFE] | [0xFF, ..] => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            [_] => return Err(CompletionCode::INVALID_DATA_FIELD),
            _ => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        };
        let possible = u8::try_from(self.config.max_sessions.min(0x3F)).unwrap_or(0x3F);
        let count = u8::try_from(active.len().min(0x3F)).unwrap_or(0x3F);
        let Some((_, session)) = found else {
            // No such session: the handle field says so (00h).
            return Ok(vec![0x00, possible, count]);
        };
        let mut out = vec![
            session.handle,
            possible,
            count,
            session.user.id & 0x3F,
            session.privilege.level(),
            // Auxiliary data 1h: IPMI v2.0/RMCP+; then the channel.
            0x10 | (self.config.channel & 0x0F),
        ];
        let (ip, port) = match session.peer {
            SocketAddr::V4(v4) => (*v4.ip(), v4.port()),
            SocketAddr::V6(v6) => (
                v6.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
                v6.port(),
            ),
        };
        out.extend_from_slice(&ip.octets());
        out.extend_from_slice(&mac_of(ip));
        out.extend_from_slice(&port.to_le_bytes());
        Ok(out)
    }

    fn new_session_id(&self, rng: &mut dyn Random) -> u32 {
        loop {
            let mut bytes = [0u8; 4];
            rng.fill(&mut bytes);
            let id = u32::from_le_bytes(bytes);
            if id != 0 && !self.sessions.contains_key(&id) {
                return id;
            }
        }
    }

    fn new_handle(&mut self) -> u8 {
        // Handles are 1..=255, and never one an active session holds (the
        // session limit is far below 255, so a free one exists).
        for _ in 0..255 {
            self.next_handle = self.next_handle.wrapping_add(1).max(1);
            let taken = self
                .sessions
                .values()
                .any(|slot| matches!(slot, Slot::Active(s) if s.handle == self.next_handle));
            if !taken {
                break;
            }
        }
        self.next_handle
    }
}

fn respond_bytes(request: &Request, result: Result<Vec<u8>, CompletionCode>) -> Vec<u8> {
    let (code, data) = match result {
        Ok(data) => (CompletionCode::SUCCESS, data),
        Err(code) => (code, Vec::new()),
    };
    Response::to_request(request, code, data).emit()
}

fn sessionless_v20(payload_type: PayloadType, payload: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(payload.len() + 20);
    RmcpHeader::IPMI.emit(&mut out);
    V20Header {
        encrypted: false,
        authenticated: false,
        payload_type,
        oem: None,
        session_id: 0,
        sequence: 0,
    }
    .emit(payload, None, &mut out)?;
    Ok(out)
}

/// A RAKP 2 or 4 carrying only an error status (Tables 13-12, 13-14).
fn rakp_error(
    payload_type: PayloadType,
    tag: u8,
    status: RakpStatus,
    console_session_id: u32,
) -> Result<Vec<u8>, WireError> {
    let reply = RakpReply {
        tag,
        status,
        session_id: console_session_id,
        body: Vec::new(),
    };
    sessionless_v20(payload_type, &reply.emit())
}

fn reject_open(tag: u8, console_session_id: u32, status: RakpStatus) -> Result<Vec<u8>, WireError> {
    let response = OpenSessionResponse {
        tag,
        status,
        max_privilege: 0,
        console_session_id,
        bmc_session_id: 0,
        auth: ipmi_wire::AuthAlgorithm(0),
        integrity: ipmi_wire::IntegrityAlgorithm(0),
        confidentiality: ipmi_wire::ConfidentialityAlgorithm(0),
    };
    sessionless_v20(PayloadType::OPEN_SESSION_RESPONSE, &response.emit())
}

fn reply_or_drop(result: Result<Vec<u8>, WireError>) -> Action {
    match result {
        Ok(bytes) => Action::Reply(bytes),
        Err(err) => Action::Drop(err.into()),
    }
}

/// Bytes of a response's IPMI message, for tests and clients: strips the RMCP
/// and session layers of a sessionless v1.5 reply.
pub fn sessionless_v15_message(datagram: &[u8]) -> Result<Vec<u8>, WireError> {
    let (_, rest) = RmcpHeader::parse(datagram)?;
    Ok(V15Packet::parse(rest)?.message.to_vec())
}

/// The largest IPMI message a request may carry (re-exported for services).
pub const MAX_MESSAGE_LEN: usize = message::MAX_MESSAGE_LEN;

#[cfg(test)]
mod tests;
