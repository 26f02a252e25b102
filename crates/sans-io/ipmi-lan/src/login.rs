//! Session set-up on the wire: the Open Session Request and RAKP 1 and 3
//! messages, run through the [`crate::handshake`] states against the
//! session table, with their replies (including the error forms of
//! Tables 13-10, 13-12 and 13-14) and the audit events each produces.
//! RAKP 1 and 3 each ask the accounts owner ([`Event::Authenticate`]) for
//! the password's part; its answer ([`Setup::on_answer`]) sends RAKP 2 or
//! 4.

use std::{
    collections::VecDeque,
    net::{IpAddr, SocketAddr},
    time::Instant,
};

use ipmi_wire::{
    rakp::{OpenSessionRequest, OpenSessionResponse, Rakp1, RakpReply},
    rmcp::RmcpHeader,
    session::V20Header,
    PayloadType, RakpStatus, WireError,
};

use crate::{
    config::EndpointConfig,
    directory::{random16, ChannelPolicy, Random},
    event::{AuthAnswer, AuthRequest, AuthStep, DropReason, Event, LoginEvent, Transmit},
    guess_limit::FailureBudget,
    handshake::ExpectRakp1,
    pending::Handshake,
    session::{NewSession, Proving, SessionTable},
};

/// What set-up works with: the time, the table, the sources' failure
/// budgets, the directory, the settings, and where audit events go.
pub(crate) struct Setup<'a, U> {
    pub now: Instant,
    pub sessions: &'a mut SessionTable,
    pub failures: &'a mut FailureBudget,
    pub policy: &'a U,
    pub config: &'a EndpointConfig,
    pub rng: &'a mut dyn Random,
    pub events: &'a mut VecDeque<Event>,
}

impl<U: ChannelPolicy> Setup<'_, U> {
    /// Open Session Request (§13.17): the reply to send.
    pub fn on_open_session(
        &mut self,
        payload: &[u8],
        peer: SocketAddr,
    ) -> Result<Vec<u8>, DropReason> {
        let request = match OpenSessionRequest::parse(payload) {
            Ok(request) => request,
            Err(err) => {
                // Answer what we can: the tag and console ID if present.
                let tag = payload.first().copied().unwrap_or(0);
                let console_session_id = payload
                    .get(4..8)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                return reject_open(tag, console_session_id, RakpStatus::ILLEGAL_PARAMETER)
                    .map_err(|_| err.into());
            }
        };
        let refuse = |status| {
            Ok(reject_open(
                request.tag,
                request.console_session_id,
                status,
            )?)
        };
        if !self.policy.accepts_sessions() {
            // The channel's access mode is "disabled".
            return refuse(RakpStatus::INSUFFICIENT_RESOURCES);
        }
        if self.failures.exhausted(peer.ip(), self.now) {
            // This address failed too often of late: a guesser.
            return refuse(RakpStatus::INSUFFICIENT_RESOURCES);
        }
        let bmc_session_id = self.sessions.new_session_id(self.rng);
        // Validate first: a request that will be refused must not cost a
        // real login its slot.
        let (state, mut response) =
            match ExpectRakp1::open(&request, &self.config.cipher_suites, bmc_session_id) {
                Ok(accepted) => accepted,
                Err(err) => return refuse(err.status),
            };
        if !self.sessions.has_room_for_active() {
            // Every session slot is taken: this handshake could not end in
            // a session.
            return refuse(RakpStatus::INSUFFICIENT_RESOURCES);
        }
        // The highest privilege this suite allows (LAN parameter 24) caps
        // what the response offers; RAKP 1 enforces it.
        response.max_privilege = response
            .max_privilege
            .min(self.policy.privilege_cap(state.suite.id).level());
        self.sessions
            .insert_opening(bmc_session_id, state, self.now, peer.ip());
        Ok(sessionless_v20(
            PayloadType::OPEN_SESSION_RESPONSE,
            &response.emit(),
        )?)
    }

    /// RAKP 1 (§13.20): asks the accounts owner for RAKP 2's code; a
    /// message refused at once is answered here.
    pub fn on_rakp1(
        &mut self,
        payload: &[u8],
        peer: SocketAddr,
    ) -> Result<Option<Vec<u8>>, DropReason> {
        let message = Rakp1::parse(payload)?;
        // Take only a handshake waiting for RAKP 1: a RAKP 1 naming an
        // active session must not disturb it.
        let Handshake {
            state,
            started,
            from,
        } = self
            .sessions
            .take_expect_rakp1(message.bmc_session_id)
            .ok_or(DropReason::NoSession(message.bmc_session_id))?;
        let console_session_id = state.console_session_id;
        let cap = self.policy.privilege_cap(state.suite.id);
        match state.on_rakp1(&message, random16(self.rng), self.config.guid, cap) {
            Ok(awaiting) => {
                self.events.push_back(Event::Authenticate(AuthRequest {
                    session_id: message.bmc_session_id,
                    peer,
                    suite: awaiting.suite,
                    transcript: awaiting.transcript.clone(),
                    step: AuthStep::Rakp2,
                }));
                let proving = Handshake {
                    state: Proving::AwaitRakp2(awaiting, peer),
                    started,
                    from,
                };
                if let Some((user, peer)) = self
                    .sessions
                    .insert_proving(message.bmc_session_id, proving)
                {
                    // Pushed out after RAKP 2: reported (and charged) like
                    // one that timed out.
                    self.abandoned(user, peer);
                }
                Ok(None)
            }
            Err(err) => {
                self.refused(&message.username, Some(from), err.status);
                Ok(Some(rakp_error(
                    PayloadType::RAKP2,
                    message.tag,
                    err.status,
                    console_session_id,
                )?))
            }
        }
    }

    /// A login refused: reported, and charged to its source unless the
    /// BMC lacked room (not the console's doing).
    fn refused(&mut self, user: &[u8], from: Option<IpAddr>, status: RakpStatus) {
        if let Some(from) = from.filter(|_| status != RakpStatus::INSUFFICIENT_RESOURCES) {
            self.failures.spend(from, self.now);
        }
        self.events.push_back(Event::Login(LoginEvent::Refused {
            user: String::from_utf8_lossy(user).into_owned(),
            peer: from,
            status,
        }));
    }

    /// A login abandoned after RAKP 2: reported, and charged to its source.
    fn abandoned(&mut self, user: String, from: Option<IpAddr>) {
        if let Some(from) = from {
            self.failures.spend(from, self.now);
        }
        self.events
            .push_back(Event::Login(LoginEvent::Abandoned { user, peer: from }));
    }

    /// RAKP 3 (§13.22): asks the accounts owner to check its code. A RAKP
    /// 3 with an error status ends the handshake at once; the owner is
    /// still told, since it is a failed login.
    pub fn on_rakp3(
        &mut self,
        payload: &[u8],
        peer: SocketAddr,
    ) -> Result<Option<Vec<u8>>, DropReason> {
        let message = RakpReply::parse(payload)?;
        let id = message.session_id;
        let expecting = self
            .sessions
            .take_expect_rakp3(id)
            .ok_or(DropReason::NoSession(id))?;
        let state = &expecting.state;
        if message.status != RakpStatus::NO_ERRORS {
            self.events.push_back(Event::Authenticate(AuthRequest {
                session_id: id,
                peer,
                suite: state.suite,
                transcript: state.transcript.clone(),
                step: AuthStep::ConsoleRefused {
                    status: message.status,
                },
            }));
            self.refused(state.user_name(), Some(expecting.from), message.status);
            return Err(DropReason::Unsupported("RAKP 3 with error status"));
        }
        self.events.push_back(Event::Authenticate(AuthRequest {
            session_id: id,
            peer,
            suite: state.suite,
            transcript: state.transcript.clone(),
            step: AuthStep::Rakp3 {
                code: message.body.clone(),
            },
        }));
        let awaiting = Handshake {
            state: Proving::AwaitRakp4(expecting.state.on_rakp3(&message), peer),
            started: expecting.started,
            from: expecting.from,
        };
        // It just left the tier, so nothing gives way.
        let _ = self.sessions.insert_proving(id, awaiting);
        Ok(None)
    }

    /// The accounts owner's answer for handshake `id`: RAKP 2 or RAKP 4 to
    /// send. An answer for a handshake that has since ended is dropped.
    pub fn on_answer(&mut self, id: u32, answer: AuthAnswer) -> Option<Transmit> {
        match answer {
            AuthAnswer::Rakp2(answer) => {
                let (awaiting, peer) = self.sessions.take_await_rakp2(id)?;
                let state = awaiting.state;
                let (tag, console_session_id) = (state.tag(), state.console_session_id);
                let user = state.transcript.username.clone();
                let reply = match state.answer(answer) {
                    Ok((next, rakp2)) => {
                        let expecting = Handshake {
                            state: Proving::ExpectRakp3(next),
                            started: awaiting.started,
                            from: awaiting.from,
                        };
                        // It just left the tier, so nothing gives way.
                        let _ = self.sessions.insert_proving(id, expecting);
                        sessionless_v20(PayloadType::RAKP2, &rakp2.emit())
                    }
                    Err(err) => {
                        self.refused(&user, Some(awaiting.from), err.status);
                        rakp_error(PayloadType::RAKP2, tag, err.status, console_session_id)
                    }
                };
                Some(Transmit {
                    destination: peer,
                    contents: reply.ok()?,
                })
            }
            AuthAnswer::Rakp3(sik) => {
                let (awaiting, peer) = self.sessions.take_await_rakp4(id)?;
                let state = awaiting.state;
                let (tag, console_session_id) = (state.tag(), state.console_session_id);
                let from = Some(awaiting.from);
                let user = String::from_utf8_lossy(state.user_name()).into_owned();
                let status = match state.answer(sik) {
                    Ok(done)
                        if self.sessions.has_room_for_active()
                            && !self.sessions.user_at_session_limit(done.user.id) =>
                    {
                        let rakp4 = sessionless_v20(PayloadType::RAKP4, &done.rakp4.emit()).ok()?;
                        self.events.push_back(Event::Login(LoginEvent::Opened {
                            user,
                            peer: from,
                            session_id: id,
                            privilege: done.privilege_limit,
                        }));
                        self.sessions.activate(
                            id,
                            self.now,
                            peer,
                            NewSession {
                                console_session_id,
                                keys: done.keys,
                                user: done.user,
                                privilege_limit: done.privilege_limit,
                            },
                        );
                        return Some(Transmit {
                            destination: peer,
                            contents: rakp4,
                        });
                    }
                    Ok(_) => RakpStatus::INSUFFICIENT_RESOURCES,
                    Err(err) => err.status,
                };
                self.refused(user.as_bytes(), from, status);
                Some(Transmit {
                    destination: peer,
                    contents: rakp_error(PayloadType::RAKP4, tag, status, console_session_id)
                        .ok()?,
                })
            }
        }
    }
}

/// A v2.0 packet outside a session (set-up messages, pre-session replies).
pub(crate) fn sessionless_v20(
    payload_type: PayloadType,
    payload: &[u8],
) -> Result<Vec<u8>, WireError> {
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

/// An Open Session Response carrying only an error status (Table 13-10).
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
