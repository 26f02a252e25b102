//! The SessionService's sessions (DSP0266 §13.3.4 "Session-based
//! authentication"): a POST to the Sessions collection with a user name and
//! password creates one and answers its token in `X-Auth-Token`; each
//! request that carries the token refreshes it; an unused session ends
//! after the SessionTimeout; DELETE of the session ends it.
//!
//! The table keeps only a SHA-256 digest of each token and finds a session
//! by that digest, so a guessed token costs the same whether or not a
//! prefix of it matches. The caller passes the clock and the random bytes.

use std::{collections::BTreeMap, time::Duration, time::Instant};

use ring::digest;

use crate::Role;

/// Random bytes a new session needs: 8 for its ID, 16 for its token.
pub const SESSION_RANDOM_BYTES: usize = 24;

/// One session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Session {
    /// Its `Id` in the Sessions collection (16 hex digits).
    pub id: String,
    /// The user's name.
    pub user: String,
    /// The user's IPMI user ID, so its sessions end when the user goes.
    pub user_id: u8,
    /// The role the session acts with.
    pub role: Role,
    /// Where the session was created from.
    pub peer: String,
    /// When it was created.
    pub created: Instant,
    last_used: Instant,
}

/// Why a session could not be created.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// Every session slot is taken.
    #[error("the service has {0} sessions open, its maximum")]
    Full(usize),
}

/// The open sessions.
#[derive(Debug)]
pub struct SessionTable {
    sessions: BTreeMap<String, Session>,
    /// Token digest to session ID.
    by_token: BTreeMap<[u8; 32], String>,
    timeout: Duration,
    max: usize,
}

fn token_digest(token: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SessionTable {
    /// An empty table: sessions end after `timeout` unused, and at most
    /// `max` are open.
    pub fn new(timeout: Duration, max: usize) -> Self {
        Self {
            sessions: BTreeMap::new(),
            by_token: BTreeMap::new(),
            timeout,
            max,
        }
    }

    /// The idle timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Changes the idle timeout (SessionService PATCH); open sessions
    /// follow it from their last use.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Opens a session for a user who has just proved its password.
    /// Returns the session and its token (32 hex digits), which the table
    /// does not keep.
    pub fn create(
        &mut self,
        user: &str,
        user_id: u8,
        role: Role,
        peer: &str,
        now: Instant,
        random: [u8; SESSION_RANDOM_BYTES],
    ) -> Result<(Session, String), SessionError> {
        self.expire(now);
        if self.sessions.len() >= self.max {
            return Err(SessionError::Full(self.max));
        }
        let id = hex(&random[..8]);
        let token = hex(&random[8..]);
        let session = Session {
            id: id.clone(),
            user: user.to_owned(),
            user_id,
            role,
            peer: peer.to_owned(),
            created: now,
            last_used: now,
        };
        if let Some(old) = self.sessions.insert(id.clone(), session.clone()) {
            // Equal random IDs: the old session gives way, so no two share
            // an ID.
            self.by_token.retain(|_, owner| *owner != old.id);
        }
        self.by_token.insert(token_digest(&token), id);
        Ok((session, token))
    }

    /// The session whose token this is, refreshed, unless it has expired.
    pub fn authenticate(&mut self, token: &str, now: Instant) -> Option<Session> {
        let id = self.by_token.get(&token_digest(token))?.clone();
        let timeout = self.timeout;
        let session = self.sessions.get_mut(&id)?;
        if now.saturating_duration_since(session.last_used) >= timeout {
            self.remove(&id);
            return None;
        }
        session.last_used = now;
        Some(session.clone())
    }

    /// The session with this ID, if open (expired ones are gone first).
    pub fn get(&mut self, id: &str, now: Instant) -> Option<Session> {
        self.expire(now);
        self.sessions.get(id).cloned()
    }

    /// The open sessions, by ID.
    pub fn list(&mut self, now: Instant) -> Vec<Session> {
        self.expire(now);
        self.sessions.values().cloned().collect()
    }

    /// Ends a session (DELETE, or logout).
    pub fn remove(&mut self, id: &str) -> Option<Session> {
        let session = self.sessions.remove(id)?;
        self.by_token.retain(|_, owner| owner != id);
        Some(session)
    }

    /// Ends every session of a user (deleted, renamed or disabled).
    pub fn remove_user(&mut self, user_id: u8) -> Vec<Session> {
        let ids: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.user_id == user_id)
            .map(|s| s.id.clone())
            .collect();
        ids.iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Ends the sessions unused for the timeout; returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Session> {
        let timeout = self.timeout;
        let ids: Vec<String> = self
            .sessions
            .values()
            .filter(|s| now.saturating_duration_since(s.last_used) >= timeout)
            .map(|s| s.id.clone())
            .collect();
        ids.iter().filter_map(|id| self.remove(id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(seed: u8) -> [u8; SESSION_RANDOM_BYTES] {
        std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(u8::try_from(i).unwrap()))
    }

    #[test]
    fn a_token_finds_its_session_and_use_keeps_it_alive() {
        let mut table = SessionTable::new(Duration::from_secs(60), 4);
        let t0 = Instant::now();
        let (session, token) = table
            .create("admin", 2, Role::Administrator, "127.0.0.1", t0, random(1))
            .unwrap();
        assert_eq!(session.id.len(), 16);
        assert_eq!(token.len(), 32);
        let at = |s| t0 + Duration::from_secs(s);
        assert_eq!(table.authenticate(&token, at(50)).unwrap().id, session.id);
        // Used at 50 s: alive at 100 s, gone 60 s after its last use.
        assert!(table.authenticate(&token, at(100)).is_some());
        assert!(table.authenticate(&token, at(160)).is_none());
        assert!(table.list(at(160)).is_empty());
    }

    #[test]
    fn a_wrong_or_ended_token_finds_nothing() {
        let mut table = SessionTable::new(Duration::from_secs(60), 4);
        let t0 = Instant::now();
        let (session, token) = table
            .create("admin", 2, Role::Administrator, "127.0.0.1", t0, random(1))
            .unwrap();
        let mut wrong = token.clone();
        wrong.replace_range(31.., if token.ends_with('0') { "1" } else { "0" });
        assert!(table.authenticate(&wrong, t0).is_none());
        assert!(table.authenticate("", t0).is_none());
        assert_eq!(table.remove(&session.id).unwrap().user, "admin");
        assert!(table.authenticate(&token, t0).is_none());
    }

    #[test]
    fn the_table_is_bounded_and_a_users_sessions_end_with_it() {
        let mut table = SessionTable::new(Duration::from_secs(60), 2);
        let t0 = Instant::now();
        let (_, alice) = table
            .create("alice", 3, Role::Operator, "10.0.0.1", t0, random(1))
            .unwrap();
        table
            .create("bob", 4, Role::ReadOnly, "10.0.0.2", t0, random(2))
            .unwrap();
        assert_eq!(
            table.create("carol", 5, Role::ReadOnly, "10.0.0.3", t0, random(3)),
            Err(SessionError::Full(2))
        );
        assert_eq!(table.remove_user(3).len(), 1);
        assert!(table.authenticate(&alice, t0).is_none());
        // Room again.
        assert!(table
            .create("carol", 5, Role::ReadOnly, "10.0.0.3", t0, random(3))
            .is_ok());
        // Expired sessions make room too.
        let later = t0 + Duration::from_secs(60);
        assert!(table
            .create("dave", 6, Role::ReadOnly, "10.0.0.4", later, random(4))
            .is_ok());
        assert_eq!(table.list(later).len(), 1);
    }
}
