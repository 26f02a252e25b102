//! Session set-up on the wire: the Open Session Request and RAKP 1 and 3
//! messages, run through the [`crate::handshake`] states against the
//! session table, with their replies (including the error forms of
//! Tables 13-10, 13-12 and 13-14) and the audit events each produces.
//! RAKP 1 and 3 each ask the accounts owner ([`Event::Authenticate`]) for
//! the password's part; its answer ([`Setup::on_answer`]) sends RAKP 2 or
//! 4.

use std::{collections::VecDeque, net::SocketAddr, time::Instant};

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
    handshake::ExpectRakp1,
    session::{NewSession, SessionTable},
};

/// What set-up works with: the table, the directory, the settings, and
/// where audit events go.
pub(crate) struct Setup<'a, U> {
    pub sessions: &'a mut SessionTable,
    pub policy: &'a U,
    pub config: &'a EndpointConfig,
    pub rng: &'a mut dyn Random,
    pub events: &'a mut VecDeque<Event>,
}

impl<U: ChannelPolicy> Setup<'_, U> {
    /// Open Session Request (§13.17): the reply to send.
    pub fn on_open_session(
        &mut self,
        now: Instant,
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
        let bmc_session_id = self.sessions.new_session_id(self.rng);
        // Validate first: a request that will be refused must not cost a
        // real login its slot.
        let (state, mut response) =
            match ExpectRakp1::open(&request, &self.config.cipher_suites, bmc_session_id) {
                Ok(accepted) => accepted,
                Err(err) => return refuse(err.status),
            };
        let room = self.sessions.make_room_for(peer.ip());
        if let Some((user, peer)) = room.abandoned {
            // Pushed out after RAKP 2: reported like one that timed out.
            self.events
                .push_back(Event::Login(LoginEvent::Abandoned { user, peer }));
        }
        if !room.available {
            return refuse(RakpStatus::INSUFFICIENT_RESOURCES);
        }
        // The highest privilege this suite allows (LAN parameter 24) caps
        // what the response offers; RAKP 1 enforces it.
        response.max_privilege = response
            .max_privilege
            .min(self.policy.privilege_cap(state.suite.id).level());
        self.sessions
            .insert_pending(bmc_session_id, state, now, peer.ip());
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
        let (state, started) = self
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
                self.sessions
                    .insert_await_rakp2(message.bmc_session_id, awaiting, started, peer);
                Ok(None)
            }
            Err(err) => {
                self.refused(&message.username, message.bmc_session_id, err.status);
                self.sessions.remove(message.bmc_session_id);
                Ok(Some(rakp_error(
                    PayloadType::RAKP2,
                    message.tag,
                    err.status,
                    console_session_id,
                )?))
            }
        }
    }

    fn refused(&mut self, user: &[u8], session_id: u32, status: RakpStatus) {
        self.events.push_back(Event::Login(LoginEvent::Refused {
            user: String::from_utf8_lossy(user).into_owned(),
            peer: self.sessions.peer_of(session_id),
            status,
        }));
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
        let (state, started) = self
            .sessions
            .take_expect_rakp3(id)
            .ok_or(DropReason::NoSession(id))?;
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
            self.refused(state.user_name(), id, message.status);
            self.sessions.remove(id);
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
        let awaiting = state.on_rakp3(&message);
        self.sessions
            .insert_await_rakp4(id, awaiting, started, peer);
        Ok(None)
    }

    /// The accounts owner's answer for handshake `id`: RAKP 2 or RAKP 4 to
    /// send. An answer for a handshake that has since ended is dropped.
    pub fn on_answer(&mut self, now: Instant, id: u32, answer: AuthAnswer) -> Option<Transmit> {
        match answer {
            AuthAnswer::Rakp2(answer) => {
                let (state, started, peer) = self.sessions.take_await_rakp2(id)?;
                let (tag, console_session_id) = (state.tag(), state.console_session_id);
                let user = state.transcript.username.clone();
                let reply = match state.answer(answer) {
                    Ok((next, rakp2)) => {
                        self.sessions.insert_expect_rakp3(id, next, started);
                        sessionless_v20(PayloadType::RAKP2, &rakp2.emit())
                    }
                    Err(err) => {
                        self.refused(&user, id, err.status);
                        self.sessions.remove(id);
                        rakp_error(PayloadType::RAKP2, tag, err.status, console_session_id)
                    }
                };
                Some(Transmit {
                    destination: peer,
                    contents: reply.ok()?,
                })
            }
            AuthAnswer::Rakp3(sik) => {
                let (state, peer) = self.sessions.take_await_rakp4(id)?;
                let (tag, console_session_id) = (state.tag(), state.console_session_id);
                let from = self.sessions.peer_of(id);
                let user = String::from_utf8_lossy(state.user_name()).into_owned();
                let status = match state.answer(sik) {
                    Ok(done) if !self.sessions.user_at_session_limit(done.user.id) => {
                        let rakp4 = sessionless_v20(PayloadType::RAKP4, &done.rakp4.emit()).ok()?;
                        self.events.push_back(Event::Login(LoginEvent::Opened {
                            user,
                            peer: from,
                            session_id: id,
                            privilege: done.privilege_limit,
                        }));
                        self.sessions.activate(
                            id,
                            now,
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
                self.sessions.remove(id);
                self.events.push_back(Event::Login(LoginEvent::Refused {
                    user,
                    peer: from,
                    status,
                }));
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
