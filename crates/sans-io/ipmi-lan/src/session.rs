//! The session table: sessions being set up and active, each active
//! session's replay window and outbound numbering, the session handles,
//! which address each pending handshake came from (so one flooding address
//! cannot evict another's login), expiry, and the sealing of outgoing
//! packets under a session's keys.

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
    window::ReplayWindow,
};

/// Pending handshakes one source address may hold at once, by default:
/// enough for an automation host logging 32 sessions in in parallel.
pub const MAX_PENDING_PER_PEER: usize = 32;

/// One entry of the table.
#[derive(Debug)]
pub(crate) enum Slot {
    /// Open Session answered; waiting for RAKP 1.
    ExpectRakp1(ExpectRakp1, Instant),
    /// RAKP 1 taken; waiting for the accounts owner's RAKP 2 code (the
    /// console's address, for the reply).
    AwaitRakp2(AwaitRakp2, Instant, SocketAddr),
    /// RAKP 2 sent; waiting for RAKP 3.
    ExpectRakp3(ExpectRakp3, Instant),
    /// RAKP 3 taken; waiting for the accounts owner's check and key.
    AwaitRakp4(AwaitRakp4, Instant, SocketAddr),
    /// Established.
    Active(Box<ActiveSession>),
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

/// Every session of one endpoint.
#[derive(Debug)]
pub(crate) struct SessionTable {
    limits: Limits,
    slots: HashMap<u32, Slot>,
    /// Where each pending handshake came from, and when (a counter).
    pending_peers: HashMap<u32, (IpAddr, u64)>,
    opened: u64,
    next_handle: u8,
}

impl SessionTable {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            slots: HashMap::new(),
            pending_peers: HashMap::new(),
            opened: 0,
            next_handle: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn active_count(&self) -> usize {
        self.active_sessions().count()
    }

    pub fn max_sessions(&self) -> usize {
        self.limits.max_sessions
    }

    pub fn contains(&self, id: u32) -> bool {
        self.slots.contains_key(&id)
    }

    pub fn active(&self, id: u32) -> Option<&ActiveSession> {
        match self.slots.get(&id) {
            Some(Slot::Active(session)) => Some(session),
            _ => None,
        }
    }

    pub fn active_mut(&mut self, id: u32) -> Option<&mut ActiveSession> {
        match self.slots.get_mut(&id) {
            Some(Slot::Active(session)) => Some(session),
            _ => None,
        }
    }

    /// Active sessions with their IDs, in no particular order.
    pub fn active_sessions(&self) -> impl Iterator<Item = (u32, &ActiveSession)> {
        self.slots.iter().filter_map(|(id, slot)| match slot {
            Slot::Active(session) => Some((*id, &**session)),
            _ => None,
        })
    }

    /// The ID of the active session holding `handle`.
    pub fn by_handle(&self, handle: u8) -> Option<u32> {
        self.active_sessions()
            .find(|(_, session)| session.handle == handle)
            .map(|(id, _)| id)
    }

    /// Where pending handshake `id` came from.
    pub fn peer_of(&self, id: u32) -> Option<IpAddr> {
        self.pending_peers.get(&id).map(|(peer, _)| *peer)
    }

    /// A fresh, non-zero session ID no slot uses.
    pub fn new_session_id(&self, rng: &mut dyn Random) -> u32 {
        loop {
            let mut bytes = [0u8; 4];
            rng.fill(&mut bytes);
            let id = u32::from_le_bytes(bytes);
            if id != 0 && !self.slots.contains_key(&id) {
                return id;
            }
        }
    }

    /// Makes room for a handshake from `peer`, and says whether there is
    /// room now.
    ///
    /// Half-open handshakes cost a peer nothing to create, so a flood of
    /// Open Session Requests must not lock out real users. One address
    /// holds at most `max_handshakes_per_address` of them (by default
    /// [`MAX_PENDING_PER_PEER`]): past that its own
    /// oldest gives way. When the table is full, the oldest handshake of
    /// the address holding the most gives way, so a flooder churns its
    /// own. Active sessions never do.
    pub fn make_room_for(&mut self, peer: IpAddr) -> Room {
        let own = self.pending(|from| from == peer);
        let victim = if own.len() >= self.limits.max_pending_per_peer.max(1) {
            own.iter().min().map(|(_, id)| *id)
        } else if self.slots.len() >= self.limits.max_sessions {
            self.pending_of_busiest_peer()
        } else {
            None
        };
        let abandoned = victim.and_then(|id| self.evict(id));
        Room {
            available: self.slots.len() < self.limits.max_sessions,
            abandoned,
        }
    }

    /// Removes the handshake `id` to make room; the console's name and
    /// address if it had been sent RAKP 2 (the BMC's code for its
    /// password: a capture worth a log line, CVE-2013-4786).
    fn evict(&mut self, id: u32) -> Option<(String, Option<IpAddr>)> {
        let peer = self.peer_of(id);
        let name = match self.slots.remove(&id)? {
            Slot::ExpectRakp3(state, _) => Some(state.user_name().to_vec()),
            Slot::AwaitRakp4(state, _, _) => Some(state.user_name().to_vec()),
            _ => None,
        };
        self.pending_peers.remove(&id);
        name.map(|name| (String::from_utf8_lossy(&name).into_owned(), peer))
    }

    /// Adds a handshake that answered Open Session.
    pub fn insert_pending(&mut self, id: u32, state: ExpectRakp1, now: Instant, peer: IpAddr) {
        self.slots.insert(id, Slot::ExpectRakp1(state, now));
        self.opened += 1;
        self.pending_peers.insert(id, (peer, self.opened));
    }

    /// Takes the handshake `id` out if it waits for RAKP 1; anything else
    /// (an active session above all) is left alone.
    pub fn take_expect_rakp1(&mut self, id: u32) -> Option<(ExpectRakp1, Instant)> {
        match self.slots.remove(&id) {
            Some(Slot::ExpectRakp1(state, started)) => Some((state, started)),
            Some(other) => {
                self.slots.insert(id, other);
                None
            }
            None => None,
        }
    }

    /// Takes the handshake `id` out if it waits for RAKP 3.
    pub fn take_expect_rakp3(&mut self, id: u32) -> Option<(ExpectRakp3, Instant)> {
        match self.slots.remove(&id) {
            Some(Slot::ExpectRakp3(state, started)) => Some((state, started)),
            Some(other) => {
                self.slots.insert(id, other);
                None
            }
            None => None,
        }
    }

    /// Puts a handshake back in the table while the accounts owner works
    /// out RAKP 2.
    pub fn insert_await_rakp2(
        &mut self,
        id: u32,
        state: AwaitRakp2,
        started: Instant,
        peer: SocketAddr,
    ) {
        self.slots
            .insert(id, Slot::AwaitRakp2(state, started, peer));
    }

    /// Takes the handshake `id` out if it waits for RAKP 2's code.
    pub fn take_await_rakp2(&mut self, id: u32) -> Option<(AwaitRakp2, Instant, SocketAddr)> {
        match self.slots.remove(&id) {
            Some(Slot::AwaitRakp2(state, started, peer)) => Some((state, started, peer)),
            Some(other) => {
                self.slots.insert(id, other);
                None
            }
            None => None,
        }
    }

    /// Puts a handshake back in the table while the accounts owner checks
    /// RAKP 3.
    pub fn insert_await_rakp4(
        &mut self,
        id: u32,
        state: AwaitRakp4,
        started: Instant,
        peer: SocketAddr,
    ) {
        self.slots
            .insert(id, Slot::AwaitRakp4(state, started, peer));
    }

    /// Takes the handshake `id` out if it waits for RAKP 3's check.
    pub fn take_await_rakp4(&mut self, id: u32) -> Option<(AwaitRakp4, SocketAddr)> {
        match self.slots.remove(&id) {
            Some(Slot::AwaitRakp4(state, _, peer)) => Some((state, peer)),
            Some(other) => {
                self.slots.insert(id, other);
                None
            }
            None => None,
        }
    }

    /// Puts a handshake back in the table after RAKP 2.
    pub fn insert_expect_rakp3(&mut self, id: u32, state: ExpectRakp3, started: Instant) {
        self.slots.insert(id, Slot::ExpectRakp3(state, started));
    }

    /// Establishes session `id`.
    pub fn activate(&mut self, id: u32, now: Instant, peer: SocketAddr, done: NewSession) {
        let handle = self.new_handle();
        self.pending_peers.remove(&id);
        self.slots.insert(
            id,
            Slot::Active(Box::new(ActiveSession {
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
            })),
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

    /// Removes any slot `id`.
    pub fn remove(&mut self, id: u32) {
        self.slots.remove(&id);
        self.pending_peers.remove(&id);
    }

    /// When the next session or handshake runs out of time.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots.values().map(|slot| self.deadline(slot)).min()
    }

    fn deadline(&self, slot: &Slot) -> Instant {
        match slot {
            Slot::ExpectRakp1(_, started)
            | Slot::ExpectRakp3(_, started)
            | Slot::AwaitRakp2(_, started, _)
            | Slot::AwaitRakp4(_, started, _) => *started + self.limits.setup_timeout,
            Slot::Active(session) => session.last_activity + self.limits.idle_timeout,
        }
    }

    /// Closes sessions idle past the timeout and handshakes that stalled.
    pub fn expire(&mut self, now: Instant) -> Expired {
        let mut expired = Expired::default();
        let due: Vec<u32> = self
            .slots
            .iter()
            .filter(|(_, slot)| now >= self.deadline(slot))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let peer = self.peer_of(id);
            let reason = match self.slots.remove(&id) {
                Some(Slot::Active(_)) => CloseReason::Idle,
                Some(Slot::ExpectRakp3(state, _)) => {
                    let name = String::from_utf8_lossy(state.user_name()).into_owned();
                    let asked = (id, state.suite, state.transcript.clone());
                    expired.abandoned.push((name, peer, Some(asked)));
                    CloseReason::SetupTimeout
                }
                Some(Slot::AwaitRakp4(state, _, _)) => {
                    let name = String::from_utf8_lossy(state.user_name()).into_owned();
                    expired.abandoned.push((name, peer, None));
                    CloseReason::SetupTimeout
                }
                _ => CloseReason::SetupTimeout,
            };
            self.pending_peers.remove(&id);
            expired.removed.push((id, reason));
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

    /// Pending handshakes (order opened, session ID) from peers `from`
    /// accepts.
    fn pending(&self, from: impl Fn(IpAddr) -> bool) -> Vec<(u64, u32)> {
        self.pending_peers
            .iter()
            .filter(|(_, (peer, _))| from(*peer))
            .map(|(id, (_, order))| (*order, *id))
            .collect()
    }

    /// The oldest pending handshake of the address holding the most of
    /// them; between equals, the address that started most recently (a
    /// console already waiting keeps its place).
    fn pending_of_busiest_peer(&self) -> Option<u32> {
        let mut by_peer: HashMap<IpAddr, Vec<(u64, u32)>> = HashMap::new();
        for (id, (peer, order)) in &self.pending_peers {
            by_peer.entry(*peer).or_default().push((*order, *id));
        }
        let busiest = by_peer
            .into_values()
            .max_by_key(|handshakes| (handshakes.len(), handshakes.iter().min().copied()))?;
        busiest.into_iter().min().map(|(_, id)| id)
    }
}

/// What [`SessionTable::make_room_for`] did.
#[derive(Debug, Default)]
pub struct Room {
    /// Whether a new handshake fits now.
    pub available: bool,
    /// A handshake pushed out after RAKP 2 went to it: its name and
    /// address, for the log.
    pub abandoned: Option<(String, Option<IpAddr>)>,
}

/// What a completed handshake hands the table.
#[derive(Debug)]
pub(crate) struct NewSession {
    pub console_session_id: u32,
    pub keys: SessionKeys,
    pub user: User,
    pub privilege_limit: Privilege,
}
