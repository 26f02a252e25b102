//! The SOL payload engine: which session holds the one SOL instance, its
//! flow control ([`SolLink`]), the payload commands (Activate/Deactivate
//! Payload, Get Payload Activation Status and Instance Info, IPMI v2.0
//! §24.1-24.5) and the SOL packets in and out, sealed under the holder's
//! session keys.

use std::{collections::VecDeque, time::Instant};

use ipmi_wire::{CompletionCode, PayloadType, Privilege, WireError};

use crate::{
    commands::CommandResult,
    directory::{ChannelPolicy, Random},
    event::{DropReason, Event, Transmit},
    session::SessionTable,
    sol::{self, HostState, SolLink, SolPacket},
};

/// The SOL payload instance and the session it is active on.
#[derive(Debug)]
struct ActiveSol {
    session_id: u32,
    link: SolLink,
}

/// The "SOL deactivating" notice owed to a console whose SOL was taken
/// over or ended by another session: resent every retry interval until the
/// console acknowledges it, closes its session, or the retries run out.
/// Then its session is closed too: ipmitool ignores the notice's status
/// bit, and only a closed session makes it end ("SOL session closed by
/// BMC"); ipmiconsole ends on the notice itself ("SOL session stolen").
#[derive(Debug)]
struct Deactivating {
    session_id: u32,
    notice: SolPacket,
    sent_at: Instant,
    retries: u8,
    config: sol::SolConfig,
}

/// What the payload engine works with.
pub(crate) struct Io<'a> {
    pub sessions: &'a mut SessionTable,
    pub rng: &'a mut dyn Random,
    pub transmits: &'a mut VecDeque<Transmit>,
    pub events: &'a mut VecDeque<Event>,
}

impl Io<'_> {
    /// Seals SOL `packet` for session `session_id` and queues it.
    fn send(&mut self, session_id: u32, packet: &SolPacket) {
        let Some(session) = self.sessions.active_mut(session_id) else {
            return;
        };
        if let Ok(contents) = session.seal(PayloadType::SOL, &packet.emit(), self.rng) {
            self.transmits.push_back(Transmit {
                destination: session.peer,
                contents,
            });
        }
    }
}

/// The BMC's one SOL payload instance.
#[derive(Debug, Default)]
pub(crate) struct SolEngine {
    active: Option<ActiveSol>,
    deactivating: Option<Deactivating>,
    /// A session the notice is done with, for the endpoint to close.
    notified: Option<u32>,
    host: HostState,
}

impl SolEngine {
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    pub fn set_host(&mut self, host: HostState) {
        self.host = host;
    }

    /// How many host characters SOL can take now (0 when inactive).
    pub fn room(&self) -> usize {
        self.active.as_ref().map_or(0, |sol| sol.link.room())
    }

    /// When [`SolEngine::poll`] next has work.
    pub fn deadline(&self) -> Option<Instant> {
        let link = self
            .active
            .as_ref()
            .and_then(|sol| sol.link.next_deadline());
        let notice = self
            .deactivating
            .as_ref()
            .map(|d| d.sent_at + d.config.retry_interval());
        match (link, notice) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The session a deactivation notice is done with (acknowledged or
    /// given up), which the endpoint now closes.
    pub fn take_notified(&mut self) -> Option<u32> {
        self.notified.take()
    }

    /// The Activate Payload response of session `session_id` went out at
    /// `now`: its host characters may follow, after a hold.
    pub fn activation_answered(&mut self, now: Instant, session_id: u32) {
        if let Some(active) = self
            .active
            .as_mut()
            .filter(|sol| sol.session_id == session_id)
        {
            active.link.answered(now);
        }
    }

    /// Session `session_id` is gone: its SOL ends with it.
    pub fn session_ended(&mut self, session_id: u32, events: &mut VecDeque<Event>) {
        if self
            .deactivating
            .as_ref()
            .is_some_and(|d| d.session_id == session_id)
        {
            self.deactivating = None;
        }
        if self
            .active
            .as_ref()
            .is_some_and(|sol| sol.session_id == session_id)
        {
            self.active = None;
            events.push_back(Event::SolActive(false));
        }
    }

    /// An authentic, decrypted SOL packet of session `session_id`.
    pub fn on_packet(
        &mut self,
        now: Instant,
        session_id: u32,
        plain: &[u8],
        io: &mut Io<'_>,
    ) -> Result<(), DropReason> {
        if let Some(deactivating) = self
            .deactivating
            .as_ref()
            .filter(|d| d.session_id == session_id)
        {
            // Only the acknowledgement of the notice matters now.
            if SolPacket::parse(plain)
                .is_some_and(|p| p.ack_sequence == deactivating.notice.sequence)
            {
                self.deactivating = None;
                self.notified = Some(session_id);
            }
            return Ok(());
        }
        let Some(active) = self
            .active
            .as_mut()
            .filter(|sol| sol.session_id == session_id)
        else {
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
        let input = active.link.on_packet(now, &packet, self.host);
        for reply in &input.replies {
            io.send(session_id, reply);
        }
        if !input.to_host.is_empty() || input.send_break {
            io.events.push_back(Event::ToHost {
                characters: input.to_host,
                send_break: input.send_break,
            });
        }
        Ok(())
    }

    /// Queues characters from the host console (dropped if SOL is not
    /// active), sending the packets now due.
    pub fn push_output(&mut self, now: Instant, bytes: &[u8], io: &mut Io<'_>) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let session_id = active.session_id;
        for packet in active.link.push_output(now, bytes) {
            io.send(session_id, &packet);
        }
    }

    /// Runs SOL timers: retransmissions, accumulated characters, and the
    /// deactivation notice.
    pub fn poll(&mut self, now: Instant, io: &mut Io<'_>) {
        if let Some(d) = self.deactivating.as_mut() {
            if now.duration_since(d.sent_at) >= d.config.retry_interval() {
                if d.retries < d.config.retry_count {
                    d.retries += 1;
                    d.sent_at = now;
                    let (session_id, notice) = (d.session_id, d.notice.clone());
                    io.send(session_id, &notice);
                } else {
                    self.notified = Some(d.session_id);
                    self.deactivating = None;
                }
            }
        }
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let session_id = active.session_id;
        for packet in active.link.poll(now) {
            io.send(session_id, &packet);
        }
    }

    /// Activate Payload (§24.1) for SOL, asked by session `session_id`.
    pub fn activate(
        &mut self,
        now: Instant,
        session_id: u32,
        data: &[u8],
        policy: &dyn ChannelPolicy,
        io: &mut Io<'_>,
    ) -> CommandResult {
        sol::parse_sol_instance(data, 6)?;
        let session = io
            .sessions
            .active(session_id)
            // Payloads exist only in RMCP+ sessions.
            .ok_or(CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE)?;
        let (user_allowed, privilege) = (session.user.sol_allowed, session.privilege);
        let policy = policy.sol().ok_or(sol::CC_PAYLOAD_DISABLED)?;
        if !policy.config.enabled {
            return Err(sol::CC_PAYLOAD_DISABLED);
        }
        if privilege < policy.config.privilege || !user_allowed {
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
        if let Some(active) = &self.active {
            if active.session_id == session_id || !policy.takeover {
                return Err(sol::CC_PAYLOAD_ALREADY_ACTIVE);
            }
            // Taking over needs at least the holder's privilege (or being
            // the same user).
            if !may_end_sol_of(io.sessions, active.session_id, session_id, privilege) {
                return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
            }
            self.deactivate_with_notice(now, io);
        }
        self.active = Some(ActiveSol {
            session_id,
            link: SolLink::held_until_answered(policy.config),
        });
        io.events.push_back(Event::SolActive(true));
        Ok(sol::activate_response(policy.port))
    }

    /// Deactivate Payload (§24.2) for SOL: by its own session, by the same
    /// user, or by an Administrator (the host's system interface included);
    /// another session's console is told.
    pub fn deactivate(
        &mut self,
        now: Instant,
        session_id: u32,
        caller_privilege: Privilege,
        data: &[u8],
        io: &mut Io<'_>,
    ) -> CommandResult {
        sol::parse_sol_instance(data, 6)?;
        if data[2..] != [0, 0, 0, 0] {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let Some(active) = &self.active else {
            return Err(sol::CC_PAYLOAD_ALREADY_DEACTIVATED);
        };
        if active.session_id == session_id {
            self.active = None;
        } else {
            if !may_end_sol_of(io.sessions, active.session_id, session_id, caller_privilege) {
                return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
            }
            self.deactivate_with_notice(now, io);
        }
        io.events.push_back(Event::SolActive(false));
        Ok(Vec::new())
    }

    fn deactivate_with_notice(&mut self, now: Instant, io: &mut Io<'_>) {
        if let Some(mut old) = self.active.take() {
            let notice = old.link.deactivated_notice();
            io.send(old.session_id, &notice);
            // A console still owed an older notice: its session ends now.
            if let Some(earlier) = self.deactivating.take() {
                self.notified = Some(earlier.session_id);
            }
            self.deactivating = Some(Deactivating {
                session_id: old.session_id,
                notice,
                sent_at: now,
                retries: 0,
                config: old.link.config().clone(),
            });
        }
    }

    /// Get Payload Activation Status (§24.4) for SOL.
    pub fn activation_status(&self, data: &[u8]) -> CommandResult {
        sol::parse_sol_instance(data, 1)?;
        Ok(vec![0x01, u8::from(self.active.is_some()), 0x00])
    }

    /// Get Payload Instance Info (§24.5) for SOL.
    pub fn instance_info(&self, data: &[u8]) -> CommandResult {
        sol::parse_sol_instance(data, 2)?;
        let session_id = self.active.as_ref().map_or(0, |sol| sol.session_id);
        let mut out = session_id.to_le_bytes().to_vec();
        // Payload-specific data: the serial port number (1), then reserved.
        out.extend_from_slice(&[if session_id == 0 { 0 } else { 1 }, 0, 0, 0, 0, 0, 0, 0]);
        Ok(out)
    }
}

/// Whether the caller (session `caller`, or with no session the system
/// interface at `caller_privilege`) may end the SOL held by session
/// `holder`: the same user, or a privilege at least the holder's and never
/// below Administrator for another user's console.
fn may_end_sol_of(
    sessions: &SessionTable,
    holder: u32,
    caller: u32,
    caller_privilege: Privilege,
) -> bool {
    let Some(holder) = sessions.active(holder) else {
        return true;
    };
    match sessions.active(caller) {
        Some(caller) => {
            caller.user.id == holder.user.id
                || (caller.privilege >= holder.privilege
                    && caller.privilege >= Privilege::Administrator)
        }
        None => caller_privilege >= Privilege::Administrator,
    }
}
