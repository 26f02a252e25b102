//! The RMCP+ endpoint: a sans-IO state machine in the shape of
//! quinn-proto's. Its driver feeds it datagrams ([`Endpoint::handle`]),
//! answers to requests ([`Endpoint::respond`]) and timer expiries
//! ([`Endpoint::handle_timeout`]), then drains [`Endpoint::poll_transmit`]
//! and [`Endpoint::poll_event`] and re-arms one timer at
//! [`Endpoint::poll_timeout`]. It opens no socket and reads no clock.
//!
//! A datagram goes through these steps, and the first that fails decides:
//! RMCP header → ASF ping (answered) or IPMI → v1.5 sessionless or v2.0 →
//! session set-up payloads (Open Session, RAKP 1, RAKP 3: `login`)
//! or a payload in an active session: integrity check, replay window,
//! decryption (`session`) → SOL (`payload`) or an IPMI
//! request. Every IPMI request, in a session or not, becomes an
//! [`Event::Request`]: the endpoint never decides what a command does, the
//! driver's command table does. The table reaches back in through the
//! command methods here (session privilege, Close Session, Get Session
//! Info, the SOL payload commands).

use std::{
    collections::VecDeque,
    net::{Ipv4Addr, SocketAddr},
    time::Instant,
};

use ipmi_wire::{
    message::{self, Request, Response},
    rmcp::{self, AsfHeader, MessageClass, RmcpHeader},
    session::{V15Packet, V20Packet, AUTH_TYPE_RMCP_PLUS},
    CompletionCode, NetFn, PayloadType, Privilege, RakpStatus, WireError,
};

use crate::{
    commands::CommandResult,
    config::EndpointConfig,
    directory::{ChannelPolicy, Random},
    event::{
        AuthAnswer, AuthRequest, AuthStep, CloseReason, DropReason, Event, PendingRequest,
        ReplyRoute, RequestContext, Transmit,
    },
    guess_limit::FailureBudget,
    lan_stats::{Counters, LanStatistics},
    login::{sessionless_v20, Setup},
    payload::{Io, SolEngine},
    session::{Limits, SessionTable},
    session_commands,
    sol::HostState,
};

/// An RMCP+ endpoint for one LAN channel.
pub struct Endpoint<U> {
    config: EndpointConfig,
    policy: U,
    rng: Box<dyn Random + Send>,
    sessions: SessionTable,
    failures: FailureBudget,
    sol: SolEngine,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    /// Datagrams with a valid RMCP header, for the LAN statistics.
    rmcp_valid: u64,
    statistics: LanStatistics,
}

impl<U> std::fmt::Debug for Endpoint<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("channel", &self.config.channel)
            .field("sessions", &self.sessions.len())
            .field("sol_active", &self.sol.is_active())
            .finish_non_exhaustive()
    }
}

impl<U: ChannelPolicy> Endpoint<U> {
    /// A new endpoint with no sessions, asking `policy` at each login and
    /// drawing session IDs, random numbers and IVs from `rng`.
    pub fn new(config: EndpointConfig, policy: U, rng: Box<dyn Random + Send>) -> Self {
        let limits = Limits {
            max_sessions: config.max_sessions,
            max_sessions_per_user: config.max_sessions_per_user,
            max_pending_per_peer: config.max_handshakes_per_address,
            idle_timeout: config.idle_timeout,
            setup_timeout: config.setup_timeout,
        };
        Self {
            policy,
            rng,
            sessions: SessionTable::new(limits),
            failures: FailureBudget::new(config.failed_login_burst, config.failed_login_interval),
            sol: SolEngine::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            rmcp_valid: 0,
            statistics: LanStatistics::new(config.channel),
            config,
        }
    }

    /// The channel policy.
    pub fn policy(&self) -> &U {
        &self.policy
    }

    /// The channel policy, to change (the next login sees the change).
    pub fn policy_mut(&mut self) -> &mut U {
        &mut self.policy
    }

    /// The accounts owner's answer to [`Event::Authenticate`] for the
    /// handshake of `session_id`: sends RAKP 2 or 4. An answer for a
    /// handshake that has ended meanwhile (timed out, evicted) is dropped.
    pub fn authenticated(&mut self, now: Instant, session_id: u32, answer: AuthAnswer) {
        let mut setup = self.setup(now);
        if let Some(transmit) = setup.on_answer(session_id, answer) {
            self.transmits.push_back(transmit);
        }
    }

    /// Ends every session of user `user_id` (the user was deleted or
    /// disabled): they take no more requests, and their SOL ends.
    pub fn close_sessions_of_user(&mut self, user_id: u8) {
        let ids: Vec<u32> = self
            .sessions
            .active_sessions()
            .filter(|(_, session)| session.user.id == user_id)
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            self.sessions.remove(id);
            self.session_ended(id, CloseReason::Closed);
        }
    }

    /// The settings.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// How many sessions exist, including those being set up.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// How many sessions are active.
    pub fn active_session_count(&self) -> usize {
        self.sessions.active_count()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event to act on.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Endpoint::handle_timeout`] next has work: a session or
    /// handshake running out of time, or a SOL retransmission or batch.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.sessions.next_deadline(), self.sol.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs what is due at `now`: closes sessions idle past the timeout
    /// and handshakes that stalled, retransmits SOL data and sends
    /// accumulated SOL characters.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired = self.sessions.expire(now);
        for (user, peer, asked) in expired.abandoned {
            // ipmitool, on a wrong password, stops after RAKP 2 without a
            // RAKP 3: the accounts owner counts it as a failed login.
            if let (Some((session_id, suite, transcript)), Some(ip)) = (asked, peer) {
                self.events.push_back(Event::Authenticate(AuthRequest {
                    session_id,
                    peer: SocketAddr::new(ip, 0),
                    suite,
                    transcript,
                    step: AuthStep::ConsoleRefused {
                        status: RakpStatus::INVALID_INTEGRITY_CHECK_VALUE,
                    },
                }));
            }
            if let Some(from) = peer {
                self.failures.spend(from, now);
            }
            self.events
                .push_back(Event::Login(crate::LoginEvent::Abandoned { user, peer }));
        }
        for (session_id, reason) in expired.removed {
            self.session_ended(session_id, reason);
        }
        let (sol, mut io, _) = self.sol_parts();
        sol.poll(now, &mut io);
        self.end_notified_session();
    }

    /// Closes the session a SOL deactivation notice is done with.
    fn end_notified_session(&mut self) {
        if let Some(session_id) = self.sol.take_notified() {
            self.end_session(session_id, CloseReason::SolTakenOver);
        }
    }

    /// Handles one datagram received at `now` from `peer`. What it causes
    /// is queued for [`Endpoint::poll_transmit`] and
    /// [`Endpoint::poll_event`]; a datagram dropped without a reply says
    /// why.
    pub fn handle(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), DropReason> {
        let (rmcp_header, rest) = RmcpHeader::parse(datagram)?;
        self.rmcp_valid += 1;
        if rmcp_header.is_ack {
            return Err(DropReason::Unsupported("RMCP ACK"));
        }
        match rmcp_header.class {
            MessageClass::Asf => {
                let (asf, _data) = AsfHeader::parse(rest)?;
                if asf.iana != rmcp::ASF_IANA || asf.message_type != rmcp::ASF_PRESENCE_PING {
                    return Err(DropReason::Unsupported(
                        "ASF message other than presence ping",
                    ));
                }
                self.send(peer, rmcp::presence_pong(&rmcp_header, asf.tag));
                Ok(())
            }
            MessageClass::Ipmi => match rest.first() {
                Some(&AUTH_TYPE_RMCP_PLUS) => self.handle_v20(now, rest, peer),
                Some(_) => self.handle_v15(rest, peer),
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

    /// IPMI v1.5 packets: only sessionless requests are taken (it is how
    /// RMCP+ clients discover us, and how v1.5 clients learn that no v1.5
    /// authentication type is offered).
    fn handle_v15(&mut self, bytes: &[u8], peer: SocketAddr) -> Result<(), DropReason> {
        let packet = V15Packet::parse(bytes)?;
        if packet.session_id != 0 || packet.auth_type != 0 {
            return Err(DropReason::Unsupported("IPMI v1.5 session"));
        }
        let request = Request::parse(packet.message)?;
        self.sessionless_request(request, peer, true);
        Ok(())
    }

    fn handle_v20(
        &mut self,
        now: Instant,
        bytes: &[u8],
        peer: SocketAddr,
    ) -> Result<(), DropReason> {
        let packet = V20Packet::parse(bytes)?;
        let header = packet.header;
        if header.session_id != 0 {
            return self.on_session_packet(now, &packet, peer);
        }
        if header.authenticated || header.encrypted {
            return Err(DropReason::NotProtected);
        }
        if header.payload_type == PayloadType::IPMI {
            let request = Request::parse(packet.payload)?;
            self.sessionless_request(request, peer, false);
            return Ok(());
        }
        if header.payload_type == PayloadType::OPEN_SESSION_REQUEST {
            // Stale handshakes give way before the table is counted.
            self.handle_timeout(now);
        }
        let mut setup = self.setup(now);
        let reply = match header.payload_type {
            PayloadType::OPEN_SESSION_REQUEST => {
                setup.on_open_session(packet.payload, peer).map(Some)
            }
            PayloadType::RAKP1 => setup.on_rakp1(packet.payload, peer),
            PayloadType::RAKP3 => setup.on_rakp3(packet.payload, peer),
            _ => Err(DropReason::Unsupported("sessionless payload type")),
        }?;
        if let Some(reply) = reply {
            self.send(peer, reply);
        }
        Ok(())
    }

    /// A request outside a session: handed out with the least authority;
    /// the command table decides whether it is answered before login.
    fn sessionless_request(&mut self, request: Request, peer: SocketAddr, v15: bool) {
        let context = RequestContext {
            channel: self.config.channel,
            session_id: 0,
            user_id: 0,
            privilege: Privilege::Callback,
        };
        self.events.push_back(Event::Request(PendingRequest {
            request,
            context,
            peer,
            user_name: Vec::new(),
            route: ReplyRoute::Sessionless { peer, v15 },
        }));
    }

    fn on_session_packet(
        &mut self,
        now: Instant,
        packet: &V20Packet<'_>,
        peer: SocketAddr,
    ) -> Result<(), DropReason> {
        let session_id = packet.header.session_id;
        let session = self
            .sessions
            .active_mut(session_id)
            .ok_or(DropReason::NoSession(session_id))?;
        session.accept(now, packet, peer)?;
        let plain = session.keys.decrypt(packet.payload)?;
        match packet.header.payload_type {
            PayloadType::SOL => {
                let (sol, mut io, _) = self.sol_parts();
                let result = sol.on_packet(now, session_id, &plain, &mut io);
                self.end_notified_session();
                result
            }
            PayloadType::IPMI => {
                let request = Request::parse(&plain)?;
                if session.closing {
                    return Err(DropReason::NoSession(session_id));
                }
                session.in_flight += 1;
                let context = RequestContext {
                    channel: self.config.channel,
                    session_id,
                    user_id: session.user.id,
                    privilege: session.privilege,
                };
                let user_name = session.user.name.clone();
                self.events.push_back(Event::Request(PendingRequest {
                    request,
                    context,
                    peer,
                    user_name,
                    route: ReplyRoute::Session(session_id),
                }));
                Ok(())
            }
            _ => Err(DropReason::Unsupported("session payload type")),
        }
    }

    /// Queues the answer to `pending`: the response message, sealed for
    /// its session (or framed as the sessionless request was). Nothing is
    /// sent if the session has gone meanwhile. A closing session ends with
    /// the last answer it owes, sealed under its keys. A successful
    /// Activate Payload answered at `now` lets its SOL data flow after a
    /// hold ([`crate::sol::SolLink::held_until_answered`]).
    pub fn respond(
        &mut self,
        now: Instant,
        pending: &PendingRequest,
        result: impl Into<ipmi_wire::Answer>,
    ) {
        let ipmi_wire::Answer { code, data } = result.into();
        let activated = code == CompletionCode::SUCCESS
            && pending.request.netfn == NetFn::APP
            && pending.request.cmd == crate::sol::CMD_ACTIVATE_PAYLOAD;
        let response = Response::to_request(&pending.request, code, data).emit();
        match pending.route {
            ReplyRoute::Session(session_id) => {
                let Some(session) = self.sessions.active_mut(session_id) else {
                    return;
                };
                session.in_flight = session.in_flight.saturating_sub(1);
                let ends = session.closing && session.in_flight == 0;
                if let Ok(contents) = session.seal(PayloadType::IPMI, &response, &mut *self.rng) {
                    let destination = session.peer;
                    self.send(destination, contents);
                }
                if activated {
                    self.sol.activation_answered(now, session_id);
                }
                if ends {
                    self.end_session(session_id, CloseReason::Closed);
                }
            }
            ReplyRoute::Sessionless { peer, v15 } => {
                let framed = if v15 {
                    let mut out = Vec::with_capacity(64);
                    RmcpHeader::IPMI.emit(&mut out);
                    V15Packet::emit_sessionless(&response, &mut out).map(|()| out)
                } else {
                    sessionless_v20(PayloadType::IPMI, &response)
                };
                if let Ok(contents) = framed {
                    self.send(peer, contents);
                }
            }
        }
    }

    /// Set Session Privilege Level for the session `context` names.
    pub fn set_session_privilege(
        &mut self,
        context: &RequestContext,
        data: &[u8],
    ) -> CommandResult {
        session_commands::set_session_privilege(&mut self.sessions, context.session_id, data)
    }

    /// Close Session asked in `context`. The caller's own session takes no
    /// new request and ends once this reply, and any other it still owes,
    /// is sealed ([`Endpoint::respond`]); another session ends at once.
    pub fn close_session(&mut self, context: &RequestContext, data: &[u8]) -> CommandResult {
        let target = session_commands::close_session_target(
            &self.sessions,
            context.session_id,
            context.privilege,
            data,
        )?;
        if target == context.session_id {
            if let Some(own) = self.sessions.active_mut(target) {
                own.closing = true;
            }
        } else {
            self.end_session(target, CloseReason::Closed);
        }
        Ok(Vec::new())
    }

    /// Get IP/UDP/RMCP Statistics asked in `context`, with the kernel's IP
    /// and UDP counters `ip` (this endpoint counts the RMCP packets).
    pub fn lan_statistics(
        &mut self,
        context: &RequestContext,
        data: &[u8],
        ip: Counters,
    ) -> CommandResult {
        let now = Counters {
            rmcp_valid: self.rmcp_valid,
            ..ip
        };
        self.statistics
            .cmd_get(data, context.channel, context.privilege, now)
    }

    /// Get Session Info asked in `context`; `mac_of` looks a remote
    /// console's MAC address up.
    pub fn session_info(
        &self,
        context: &RequestContext,
        data: &[u8],
        mac_of: &dyn Fn(Ipv4Addr) -> [u8; 6],
    ) -> CommandResult {
        session_commands::session_info(
            &self.sessions,
            self.config.channel,
            context.session_id,
            data,
            mac_of,
        )
    }

    /// Activate Payload (SOL) asked in `context` at `now`.
    pub fn activate_sol(
        &mut self,
        now: Instant,
        context: &RequestContext,
        data: &[u8],
    ) -> CommandResult {
        let (sol, mut io, policy) = self.sol_parts();
        let result = sol.activate(now, context.session_id, data, policy, &mut io);
        self.end_notified_session();
        result
    }

    /// Deactivate Payload (SOL) asked in `context` at `now`.
    pub fn deactivate_sol(
        &mut self,
        now: Instant,
        context: &RequestContext,
        data: &[u8],
    ) -> CommandResult {
        let (sol, mut io, _) = self.sol_parts();
        let result = sol.deactivate(now, context.session_id, context.privilege, data, &mut io);
        self.end_notified_session();
        result
    }

    /// Get Payload Activation Status (SOL).
    pub fn sol_activation_status(&self, data: &[u8]) -> CommandResult {
        self.sol.activation_status(data)
    }

    /// Get Payload Instance Info (SOL).
    pub fn sol_instance_info(&self, data: &[u8]) -> CommandResult {
        self.sol.instance_info(data)
    }

    /// Whether a SOL payload is active.
    pub fn sol_active(&self) -> bool {
        self.sol.is_active()
    }

    /// How many host characters SOL can take now (0 when inactive): the
    /// console side stops reading at 0 (backpressure).
    pub fn sol_room(&self) -> usize {
        self.sol.room()
    }

    /// Tells the endpoint whether the host console can take SOL characters
    /// now; inbound SOL data is NACKed while it cannot.
    pub fn set_sol_host(&mut self, host: HostState) {
        self.sol.set_host(host);
    }

    /// Characters from the host console for the active SOL session
    /// (dropped if none); packets now due are queued.
    pub fn sol_output(&mut self, now: Instant, bytes: &[u8]) {
        let (sol, mut io, _) = self.sol_parts();
        sol.push_output(now, bytes, &mut io);
    }

    /// The SOL engine, with what it works on, and the channel policy.
    fn sol_parts(&mut self) -> (&mut SolEngine, Io<'_>, &U) {
        let Self {
            sessions,
            rng,
            transmits,
            events,
            sol,
            policy,
            ..
        } = self;
        let io = Io {
            sessions,
            rng: &mut **rng,
            transmits,
            events,
        };
        (sol, io, policy)
    }

    fn end_session(&mut self, session_id: u32, reason: CloseReason) {
        self.sessions.remove(session_id);
        self.session_ended(session_id, reason);
    }

    /// Session set-up over the table, the policy and the event queue.
    fn setup(&mut self, now: Instant) -> Setup<'_, U> {
        Setup {
            now,
            sessions: &mut self.sessions,
            failures: &mut self.failures,
            policy: &self.policy,
            config: &self.config,
            rng: &mut *self.rng,
            events: &mut self.events,
        }
    }

    fn session_ended(&mut self, session_id: u32, reason: CloseReason) {
        self.sol.session_ended(session_id, &mut self.events);
        self.events
            .push_back(Event::SessionClosed { session_id, reason });
    }

    fn send(&mut self, destination: SocketAddr, contents: Vec<u8>) {
        self.transmits.push_back(Transmit {
            destination,
            contents,
        });
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
