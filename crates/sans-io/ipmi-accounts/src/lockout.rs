//! Failed logins per user and the locks they cause. A user is locked when
//! its consecutive failures reach the policy's threshold; the lock ends
//! when the policy's unlock timeout has passed, when an administrator
//! unlocks it, or never by itself when the timeout is zero. Failures older
//! than the attempt reset interval are forgotten. The counts live in
//! memory only (as pam_faillock's do): a restart of the accounts owner
//! forgets them.

use std::{collections::BTreeMap, time::Instant};

use crate::policy::AccountPolicy;

/// One user's failures.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct Failures {
    count: u16,
    last: Instant,
    locked: Option<Lock>,
}

/// A lock in force.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Lock {
    /// Until this instant.
    Until(Instant),
    /// Until an administrator unlocks.
    UntilUnlocked,
}

/// Failed logins and locks, by user ID.
#[derive(Clone, Debug, Default)]
pub struct Lockout {
    users: BTreeMap<u8, Failures>,
}

impl Lockout {
    /// Whether user `id` is locked at `now`. A lock whose time has run
    /// out ends here, with its count.
    pub fn is_locked(&mut self, id: u8, now: Instant) -> bool {
        let Some(failures) = self.users.get(&id) else {
            return false;
        };
        match failures.locked {
            Some(Lock::UntilUnlocked) => true,
            Some(Lock::Until(until)) if now < until => true,
            Some(Lock::Until(_)) => {
                self.users.remove(&id);
                false
            }
            None => false,
        }
    }

    /// Counts a failed login of user `id`. Returns `true` when this
    /// failure locks the user. Failures while locked do not lengthen the
    /// lock.
    pub fn record_failure(&mut self, id: u8, now: Instant, policy: &AccountPolicy) -> bool {
        if policy.max_failed_logins == 0 || self.is_locked(id, now) {
            return false;
        }
        let failures = self.users.entry(id).or_insert(Failures {
            count: 0,
            last: now,
            locked: None,
        });
        let forgotten = !policy.attempt_reset_interval.is_zero()
            && now.saturating_duration_since(failures.last) >= policy.attempt_reset_interval;
        if forgotten {
            failures.count = 0;
        }
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
        if failures.count < u16::from(policy.max_failed_logins) {
            return false;
        }
        failures.locked = Some(if policy.unlock_timeout.is_zero() {
            Lock::UntilUnlocked
        } else {
            Lock::Until(now + policy.unlock_timeout)
        });
        true
    }

    /// A successful login: the user's failures are forgotten.
    pub fn record_success(&mut self, id: u8) {
        self.users.remove(&id);
    }

    /// An administrator's unlock (or the user's deletion): the lock and
    /// the count end. Returns whether the user was locked.
    pub fn unlock(&mut self, id: u8, now: Instant) -> bool {
        let was_locked = self.is_locked(id, now);
        self.users.remove(&id);
        was_locked
    }

    /// The users locked at `now`.
    pub fn locked_users(&mut self, now: Instant) -> Vec<u8> {
        let ids: Vec<u8> = self.users.keys().copied().collect();
        ids.into_iter()
            .filter(|id| self.is_locked(*id, now))
            .collect()
    }

    /// When the next timed lock ends.
    pub fn next_unlock(&self) -> Option<Instant> {
        self.users
            .values()
            .filter_map(|f| match f.locked {
                Some(Lock::Until(until)) => Some(until),
                _ => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn policy(threshold: u8, unlock_secs: u64, reset_secs: u64) -> AccountPolicy {
        AccountPolicy {
            max_failed_logins: threshold,
            unlock_timeout: Duration::from_secs(unlock_secs),
            attempt_reset_interval: Duration::from_secs(reset_secs),
            ..AccountPolicy::default()
        }
    }

    #[test]
    fn the_threshold_locks_and_the_timeout_unlocks() {
        let policy = policy(3, 60, 0);
        let t0 = Instant::now();
        let mut lockout = Lockout::default();
        assert!(!lockout.record_failure(2, t0, &policy));
        assert!(!lockout.record_failure(2, t0, &policy));
        assert!(!lockout.is_locked(2, t0));
        assert!(lockout.record_failure(2, t0, &policy));
        assert!(lockout.is_locked(2, t0 + Duration::from_secs(59)));
        assert_eq!(lockout.next_unlock(), Some(t0 + Duration::from_secs(60)));
        // More failures while locked do not lengthen the lock.
        assert!(!lockout.record_failure(2, t0 + Duration::from_secs(30), &policy));
        assert!(!lockout.is_locked(2, t0 + Duration::from_secs(60)));
        // The count started again with the lock's end.
        assert!(!lockout.record_failure(2, t0 + Duration::from_secs(61), &policy));
        assert!(!lockout.is_locked(3, t0));
    }

    #[test]
    fn success_and_unlock_forget_failures() {
        let policy = policy(2, 60, 0);
        let t0 = Instant::now();
        let mut lockout = Lockout::default();
        lockout.record_failure(2, t0, &policy);
        lockout.record_success(2);
        assert!(!lockout.record_failure(2, t0, &policy));
        assert!(lockout.record_failure(2, t0, &policy));
        assert_eq!(lockout.locked_users(t0), vec![2]);
        assert!(lockout.unlock(2, t0));
        assert!(!lockout.is_locked(2, t0));
        assert!(!lockout.unlock(2, t0));
    }

    #[test]
    fn zero_timeout_locks_until_unlocked_and_zero_threshold_never_locks() {
        let t0 = Instant::now();
        let mut lockout = Lockout::default();
        assert!(lockout.record_failure(2, t0, &policy(1, 0, 0)));
        assert!(lockout.is_locked(2, t0 + Duration::from_secs(1_000_000)));
        assert_eq!(lockout.next_unlock(), None);
        for _ in 0..1000 {
            assert!(!lockout.record_failure(3, t0, &policy(0, 60, 0)));
        }
        assert!(!lockout.is_locked(3, t0));
    }

    #[test]
    fn old_failures_are_forgotten_after_the_reset_interval() {
        let policy = policy(2, 60, 100);
        let t0 = Instant::now();
        let mut lockout = Lockout::default();
        lockout.record_failure(2, t0, &policy);
        assert!(!lockout.record_failure(2, t0 + Duration::from_secs(100), &policy));
        assert!(lockout.record_failure(2, t0 + Duration::from_secs(150), &policy));
    }
}
