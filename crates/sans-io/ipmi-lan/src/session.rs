//! The session table: active sessions, each one's replay window and
//! outbound numbering, the session handles, the handshakes under way (in
//! two tiers of [`crate::pending`], apart from the active sessions, so no
//! flood of them can take a session's place or crowd out a console that
//! answers), expiry, and the sealing of outgoing packets under a
//! session's keys.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use ipmi_wire::{
    crypto::{CipherSuite, RakpTranscript, SessionKeys},
    rmcp::RmcpHeader,
    session::{V20Header, V20Packet},
    PayloadType, Privilege, WireError,
};

use crate::{
    directory::{random16, Random, User},
    event::{CloseReason, DropReason},
    handshake::{AwaitRakp2, AwaitRakp4, ExpectRakp1, ExpectRakp3},
    pending::{Handshake, Tier},
    window::ReplayWindow,
};

/// Pending handshakes one source address may hold in each tier, by
/// default: enough for an automation host logging 32 sessions in in
/// parallel.
pub const MAX_PENDING_PER_PEER: usize = 32;

/// Handshakes that answered Open Session and wait for RAKP 1, at most: an
/// entry is a few dozen bytes, and the more there are, the longer a
/// console's handshake outlives a flood from more addresses than it holds.
pub const MAX_OPENING_HANDSHAKES: usize = 1024;

/// Handshakes past RAKP 1 (their console receives at its address), at
/// most.
pub const MAX_PROVING_HANDSHAKES: usize = 64;

/// A handshake past RAKP 1.
#[derive(Debug)]
pub(crate) enum Proving {
    /// RAKP 1 taken; waiting for the accounts owner's RAKP 2 code (the
    /// console's address, for the reply).
    AwaitRakp2(AwaitRakp2, SocketAddr),
    /// RAKP 2 sent; waiting for RAKP 3.
    ExpectRakp3(ExpectRakp3),
    /// RAKP 3 taken; waiting for the accounts owner's check and key.
    AwaitRakp4(AwaitRakp4, SocketAddr),
}

impl Proving {
    /// The name the console logs in as, once RAKP 2 went to it (the BMC's
    /// code for its password: a capture worth a log line, CVE-2013-4786).
    fn name_after_rakp2(&self) -> Option<String> {
        let name = match self {
            Proving::AwaitRakp2(..) => return None,
            Proving::ExpectRakp3(state) => state.user_name(),
            Proving::AwaitRakp4(state, _) => state.user_name(),
        };
        Some(String::from_utf8_lossy(name).into_owned())
    }
}

/// An established session.
#[derive(Debug)]
pub(crate) struct ActiveSession {
    pub console_session_id: u32,
    /// Where its last authentic packet came from (replies go there).
    pub peer: SocketAddr,
    /// The session handle (Get Session Info, Close Session by handle).
    pub handle: u8,
    pub keys: SessionKeys,
    pub user: User,
    pub privilege_limit: Privilege,
    pub privilege: Privilege,
    inbound: ReplayWindow,
    outbound_sequence: u32,
    last_activity: Instant,
    /// Close Session was accepted for it: it takes no new request, and ends
    /// once every request it had in flight is answered (the Close Session
    /// reply included), each sealed under its keys.
    pub closing: bool,
    /// Requests handed out and not yet answered.
    pub in_flight: u32,
}

impl ActiveSession {
    fn next_sequence(&mut self) -> u32 {
        // Starts at 1 and skips 0 on wrap (§6.12.13; FreeIPMI expects 1..8
        // for the first packet).
        self.outbound_sequence = self.outbound_sequence.wrapping_add(1).max(1);
        self.outbound_sequence
    }

    /// Checks an inbound packet of this session: protected, authentic, and
    /// not a replay. Only an authentic packet moves the window, refreshes
    /// the idle timer and the peer.
    pub fn accept(
        &mut self,
        now: Instant,
        packet: &V20Packet<'_>,
        peer: SocketAddr,
    ) -> Result<(), DropReason> {
        let header = packet.header;
        // Our suites all have integrity and confidentiality: anything less
        // is a downgrade attempt.
        if !header.authenticated || !header.encrypted {
            return Err(DropReason::NotProtected);
        }
        packet
            .verify_integrity(&self.keys)
            .map_err(|_| DropReason::Forged)?;
        if !self.inbound.accept(header.sequence) {
            return Err(DropReason::Replayed(header.sequence));
        }
        self.last_activity = now;
        self.peer = peer;
        Ok(())
    }

    /// Encrypts and signs `plain` as a `payload_type` packet of this
    /// session, in an RMCP datagram.
    pub fn seal(
        &mut self,
        payload_type: PayloadType,
        plain: &[u8],
        rng: &mut dyn Random,
    ) -> Result<Vec<u8>, WireError> {
        let payload = self.keys.encrypt(random16(rng), plain);
        let header = V20Header {
            encrypted: true,
            authenticated: true,
            payload_type,
            oem: None,
            session_id: self.console_session_id,
            sequence: self.next_sequence(),
        };
        let mut out = Vec::with_capacity(payload.len() + 40);
        RmcpHeader::IPMI.emit(&mut out);
        header.emit(&payload, Some(&self.keys), &mut out)?;
        Ok(out)
    }
}

/// Sessions removed by [`SessionTable::expire`].
#[derive(Debug, Default)]
pub(crate) struct Expired {
    /// Each session removed, with the reason.
    pub removed: Vec<(u32, CloseReason)>,
    /// Handshakes that stopped after RAKP 2: the name, where from, and
    /// (when RAKP 2 reached the console) the session ID, suite and
    /// transcript, so the accounts owner can count a failed login.
    pub abandoned: Vec<(String, Option<IpAddr>, Option<AskedAt>)>,
}

/// What the accounts owner was asked at RAKP 2: the session ID, suite and
/// transcript.
pub(crate) type AskedAt = (u32, CipherSuite, RakpTranscript);

/// Limits of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_sessions: usize,
    pub max_sessions_per_user: usize,
    pub max_pending_per_peer: usize,
    pub idle_timeout: Duration,
    pub setup_timeout: Duration,
}

/// Every session of one endpoint: the active ones, and the handshakes in
/// two tiers apart from them ([`crate::pending`]).
#[derive(Debug)]
pub(crate) struct SessionTable {
    limits: Limits,
    active: HashMap<u32, Box<ActiveSession>>,
    opening: Tier<ExpectRakp1>,
    proving: Tier<Proving>,
    next_handle: u8,
}

impl SessionTable {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            active: HashMap::new(),
            opening: Tier::new(MAX_OPENING_HANDSHAKES, limits.max_pending_per_peer),
            proving: Tier::new(MAX_PROVING_HANDSHAKES, limits.max_pending_per_peer),
            next_handle: 0,
        }
    }

    /// Sessions, active or being set up.
    pub fn len(&self) -> usize {
        self.active.len() + self.opening.len() + self.proving.len()
    }

    pub fn active_count(&self) -> usize {
        self.active.len()
    }

    pub fn max_sessions(&self) -> usize {
        self.limits.max_sessions
    }

    pub fn contains(&self, id: u32) -> bool {
        self.active.contains_key(&id) || self.opening.contains(id) || self.proving.contains(id)
    }

    pub fn active(&self, id: u32) -> Option<&ActiveSession> {
        self.active.get(&id).map(|session| &**session)
    }

    pub fn active_mut(&mut self, id: u32) -> Option<&mut ActiveSession> {
        self.active.get_mut(&id).map(|session| &mut **session)
    }

    /// Active sessions with their IDs, in no particular order.
    pub fn active_sessions(&self) -> impl Iterator<Item = (u32, &ActiveSession)> {
        self.active.iter().map(|(id, session)| (*id, &**session))
    }

    /// The ID of the active session holding `handle`.
    pub fn by_handle(&self, handle: u8) -> Option<u32> {
        self.active_sessions()
            .find(|(_, session)| session.handle == handle)
            .map(|(id, _)| id)
    }

    /// A fresh, non-zero session ID no session or handshake uses.
    pub fn new_session_id(&self, rng: &mut dyn Random) -> u32 {
        loop {
            let mut bytes = [0u8; 4];
            rng.fill(&mut bytes);
            let id = u32::from_le_bytes(bytes);
            if id != 0 && !self.contains(id) {
                return id;
            }
        }
    }

    /// Whether another session could become active now. A handshake is
    /// not started when none could (Open Session answers "insufficient
    /// resources"), nor completed (RAKP 4 does).
    pub fn has_room_for_active(&self) -> bool {
        self.active.len() < self.limits.max_sessions
    }

    /// Adds a handshake that answered Open Session. If its address holds
    /// its share, or the opening tier is full, another gives way (see
    /// [`crate::pending`]); it had not had RAKP 2, so nothing to report.
    pub fn insert_opening(&mut self, id: u32, state: ExpectRakp1, now: Instant, from: IpAddr) {
        self.opening.insert(
            id,
            Handshake {
                state,
                started: now,
                from,
            },
        );
    }

    /// Takes the handshake `id` out if it waits for RAKP 1; anything else
    /// (an active session above all) is left alone.
    pub fn take_expect_rakp1(&mut self, id: u32) -> Option<Handshake<ExpectRakp1>> {
        self.opening.remove(id)
    }

    /// Puts a handshake in the proving tier. The one that gives way, if
    /// its address holds its share or the tier is full, is returned when
    /// it had been sent RAKP 2: its name and address, for the log.
    pub fn insert_proving(&mut self, id: u32, handshake: Handshake<Proving>) -> Option<Pushed> {
        let (_, pushed) = self.proving.insert(id, handshake)?;
        let name = pushed.state.name_after_rakp2()?;
        Some((name, Some(pushed.from)))
    }

    /// Takes the handshake `id` out if it waits for RAKP 2's code.
    pub fn take_await_rakp2(&mut self, id: u32) -> Option<(Handshake<AwaitRakp2>, SocketAddr)> {
        let taken = self
            .proving
            .remove_if(id, |state| matches!(state, Proving::AwaitRakp2(..)))?;
        let Proving::AwaitRakp2(state, reply_to) = taken.state else {
            return None;
        };
        Some((
            Handshake {
                state,
                started: taken.started,
                from: taken.from,
            },
            reply_to,
        ))
    }

    /// Takes the handshake `id` out if it waits for RAKP 3.
    pub fn take_expect_rakp3(&mut self, id: u32) -> Option<Handshake<ExpectRakp3>> {
        let taken = self
            .proving
            .remove_if(id, |state| matches!(state, Proving::ExpectRakp3(..)))?;
        let Proving::ExpectRakp3(state) = taken.state else {
            return None;
        };
        Some(Handshake {
            state,
            started: taken.started,
            from: taken.from,
        })
    }

    /// Takes the handshake `id` out if it waits for RAKP 3's check.
    pub fn take_await_rakp4(&mut self, id: u32) -> Option<(Handshake<AwaitRakp4>, SocketAddr)> {
        let taken = self
            .proving
            .remove_if(id, |state| matches!(state, Proving::AwaitRakp4(..)))?;
        let Proving::AwaitRakp4(state, reply_to) = taken.state else {
            return None;
        };
        Some((
            Handshake {
                state,
                started: taken.started,
                from: taken.from,
            },
            reply_to,
        ))
    }

    /// Establishes session `id`.
    pub fn activate(&mut self, id: u32, now: Instant, peer: SocketAddr, done: NewSession) {
        let handle = self.new_handle();
        self.active.insert(
            id,
            Box::new(ActiveSession {
                console_session_id: done.console_session_id,
                peer,
                handle,
                keys: done.keys,
                // Sessions start at User or their limit, if lower (§13.17).
                privilege: done.privilege_limit.min(Privilege::User),
                privilege_limit: done.privilege_limit,
                user: done.user,
                inbound: ReplayWindow::default(),
                outbound_sequence: 0,
                last_activity: now,
                closing: false,
                in_flight: 0,
            }),
        );
    }

    /// Whether `user_id` already holds its share of active sessions.
    pub fn user_at_session_limit(&self, user_id: u8) -> bool {
        let limit = self.limits.max_sessions_per_user;
        limit != 0
            && self
                .active_sessions()
                .filter(|(_, session)| session.user.id == user_id)
                .count()
                >= limit
    }

    /// Removes any session or handshake `id`.
    pub fn remove(&mut self, id: u32) {
        self.active.remove(&id);
        self.opening.remove(id);
        self.proving.remove(id);
    }

    /// When the next session or handshake runs out of time.
    pub fn next_deadline(&self) -> Option<Instant> {
        let setup = [self.opening.earliest_start(), self.proving.earliest_start()]
            .into_iter()
            .flatten()
            .min()
            .map(|started| started + self.limits.setup_timeout);
        let idle = self
            .active
            .values()
            .map(|session| session.last_activity + self.limits.idle_timeout)
            .min();
        [setup, idle].into_iter().flatten().min()
    }

    /// Closes sessions idle past the timeout and handshakes that stalled.
    pub fn expire(&mut self, now: Instant) -> Expired {
        let mut expired = Expired::default();
        let idle: Vec<u32> = self
            .active
            .iter()
            .filter(|(_, session)| now >= session.last_activity + self.limits.idle_timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            self.active.remove(&id);
            expired.removed.push((id, CloseReason::Idle));
        }
        let Some(cutoff) = now.checked_sub(self.limits.setup_timeout) else {
            return expired;
        };
        for (id, _) in self.opening.remove_started_by(cutoff) {
            expired.removed.push((id, CloseReason::SetupTimeout));
        }
        for (id, stalled) in self.proving.remove_started_by(cutoff) {
            let from = Some(stalled.from);
            match stalled.state {
                Proving::ExpectRakp3(state) => {
                    let name = String::from_utf8_lossy(state.user_name()).into_owned();
                    let asked = (id, state.suite, state.transcript.clone());
                    expired.abandoned.push((name, from, Some(asked)));
                }
                Proving::AwaitRakp4(state, _) => {
                    let name = String::from_utf8_lossy(state.user_name()).into_owned();
                    expired.abandoned.push((name, from, None));
                }
                Proving::AwaitRakp2(..) => {}
            }
            expired.removed.push((id, CloseReason::SetupTimeout));
        }
        expired
    }

    fn new_handle(&mut self) -> u8 {
        // Handles are 1..=255, and never one an active session holds (the
        // session limit is far below 255, so a free one exists).
        for _ in 0..255 {
            self.next_handle = self.next_handle.wrapping_add(1).max(1);
            let candidate = self.next_handle;
            if self.by_handle(candidate).is_none() {
                break;
            }
        }
        self.next_handle
    }
}

/// A handshake pushed out after RAKP 2 went to it: its name and address.
pub type Pushed = (String, Option<IpAddr>);

/// What a completed handshake hands the table.
#[derive(Debug)]
pub(crate) struct NewSession {
    pub console_session_id: u32,
    pub keys: SessionKeys,
    pub user: User,
    pub privilege_limit: Privilege,
}
