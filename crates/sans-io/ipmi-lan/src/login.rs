//! Session set-up on the wire: the Open Session Request and RAKP 1 and 3
//! messages, run through the [`crate::handshake`] states against the
//! session table, with their replies (including the error forms of
//! Tables 13-10, 13-12 and 13-14) and the audit events each produces.

use std::{collections::VecDeque, net::SocketAddr, time::Instant};

use ipmi_wire::{
    rakp::{OpenSessionRequest, OpenSessionResponse, Rakp1, RakpReply},
    rmcp::RmcpHeader,
    session::V20Header,
    PayloadType, RakpStatus, WireError,
};

use crate::{
    config::EndpointConfig,
    directory::{random16, Random, UserDirectory},
    event::{DropReason, Event, LoginEvent},
    handshake::ExpectRakp1,
    session::{NewSession, SessionTable},
};

/// What set-up works with: the table, the directory, the settings, and
/// where audit events go.
pub(crate) struct Setup<'a, U> {
    pub sessions: &'a mut SessionTable,
    pub users: &'a U,
    pub config: &'a EndpointConfig,
    pub rng: &'a mut dyn Random,
    pub events: &'a mut VecDeque<Event>,
}

impl<U: UserDirectory> Setup<'_, U> {
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
        if !self.users.accepts_sessions() {
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
        if !self.sessions.make_room_for(peer.ip()) {
            return refuse(RakpStatus::INSUFFICIENT_RESOURCES);
        }
        // The highest privilege this suite allows (LAN parameter 24) caps
        // what the response offers; RAKP 1 enforces it.
        response.max_privilege = response
            .max_privilege
            .min(self.users.suite_limit(state.suite.id).level());
        self.sessions
            .insert_pending(bmc_session_id, state, now, peer.ip());
        Ok(sessionless_v20(
            PayloadType::OPEN_SESSION_RESPONSE,
            &response.emit(),
        )?)
    }

    /// RAKP 1 (§13.20): RAKP 2, with the BMC's code or an error status.
    pub fn on_rakp1(&mut self, payload: &[u8]) -> Result<Vec<u8>, DropReason> {
        let message = Rakp1::parse(payload)?;
        // Take only a handshake waiting for RAKP 1: a RAKP 1 naming an
        // active session must not disturb it.
        let (state, started) = self
            .sessions
            .take_expect_rakp1(message.bmc_session_id)
            .ok_or(DropReason::NoSession(message.bmc_session_id))?;
        let console_session_id = state.console_session_id;
        let suite_limit = self.users.suite_limit(state.suite.id);
        let user = self.users.find(&message.username).map(|mut user| {
            user.max_privilege = user.max_privilege.min(suite_limit);
            user
        });
        match state.on_rakp1(&message, user, random16(self.rng), self.config.guid) {
            Ok((next, rakp2)) => {
                self.sessions
                    .insert_expect_rakp3(message.bmc_session_id, next, started);
                Ok(sessionless_v20(PayloadType::RAKP2, &rakp2.emit())?)
            }
            Err(err) => {
                self.events.push_back(Event::Login(LoginEvent::Refused {
                    user: String::from_utf8_lossy(&message.username).into_owned(),
                    peer: self.sessions.peer_of(message.bmc_session_id),
                    status: err.status,
                }));
                self.sessions.remove(message.bmc_session_id);
                Ok(rakp_error(
                    PayloadType::RAKP2,
                    message.tag,
                    err.status,
                    console_session_id,
                )?)
            }
        }
    }

    /// RAKP 3 (§13.22): RAKP 4, and the session is established.
    pub fn on_rakp3(
        &mut self,
        now: Instant,
        payload: &[u8],
        peer: SocketAddr,
    ) -> Result<Vec<u8>, DropReason> {
        let message = RakpReply::parse(payload)?;
        let id = message.session_id;
        let from = self.sessions.peer_of(id);
        let state = self
            .sessions
            .take_expect_rakp3(id)
            .ok_or(DropReason::NoSession(id))?;
        let console_session_id = state.console_session_id;
        let console_gave_up = message.status != RakpStatus::NO_ERRORS;
        let user = String::from_utf8_lossy(state.user_name()).into_owned();
        let outcome = state.on_rakp3(&message, self.config.kg.as_deref());
        let status = match outcome {
            Ok(done) if !self.sessions.user_at_session_limit(done.user.id) => {
                let rakp4 = sessionless_v20(PayloadType::RAKP4, &done.rakp4.emit())?;
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
                return Ok(rakp4);
            }
            Ok(_) => RakpStatus::INSUFFICIENT_RESOURCES,
            Err(_) if console_gave_up => message.status,
            Err(err) => err.status,
        };
        self.sessions.remove(id);
        self.events.push_back(Event::Login(LoginEvent::Refused {
            user,
            peer: from,
            status,
        }));
        if console_gave_up {
            return Err(DropReason::Unsupported("RAKP 3 with error status"));
        }
        Ok(rakp_error(
            PayloadType::RAKP4,
            message.tag,
            status,
            console_session_id,
        )?)
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
