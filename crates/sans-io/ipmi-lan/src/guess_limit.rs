//! The per-source budget of failed logins (issue 16, point 6; the Redfish
//! service keeps one of its own for its password logins): each
//! refused or abandoned login costs its source address one failure; an
//! address that spent its burst starts no handshake (Open Session answers
//! "insufficient resources") until its budget refills, one failure per
//! interval. A brute-force guesser is slowed from thousands of guesses a
//! second to one per interval, while a console that logs in right spends
//! nothing.
//!
//! Spending needs a failure after RAKP 1, which needs the BMC's random
//! session ID from an Open Session Response: a spoofed source cannot spend
//! another address's budget.

use std::{
    collections::HashMap,
    net::IpAddr,
    time::{Duration, Instant},
};

/// Entries kept before full ones are dropped.
const PRUNE_ABOVE: usize = 1024;

/// Failed logins per source address, as a debt that drains with time.
#[derive(Debug)]
pub struct FailureBudget {
    burst: u32,
    interval: Duration,
    /// When each address's budget is full again.
    full_at: HashMap<IpAddr, Instant>,
}

impl FailureBudget {
    /// `burst` failures in a row, then one per `interval` (an interval of
    /// zero: no limit).
    pub fn new(burst: u32, interval: Duration) -> Self {
        Self {
            burst: burst.max(1),
            interval,
            full_at: HashMap::new(),
        }
    }

    /// Charges one failed login to `from`.
    pub fn spend(&mut self, from: IpAddr, now: Instant) {
        if self.interval.is_zero() {
            return;
        }
        if self.full_at.len() >= PRUNE_ABOVE {
            self.full_at.retain(|_, full_at| *full_at > now);
        }
        let full_at = self.full_at.entry(from).or_insert(now);
        *full_at = (*full_at).max(now) + self.interval;
    }

    /// Whether `from` has spent its burst and may not start a handshake:
    /// one more failure would take it past the burst. (Not "the debt is a
    /// whole burst": time runs between failures, so the debt after the
    /// last of a burst is a hair under it.)
    pub fn exhausted(&self, from: IpAddr, now: Instant) -> bool {
        self.full_at.get(&from).is_some_and(|full_at| {
            full_at.saturating_duration_since(now) > self.interval * (self.burst - 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source may fail `burst` times in a row, then once per interval;
    /// another source is not charged for it.
    #[test]
    fn a_source_fails_its_burst_then_once_per_interval() {
        let now = Instant::now();
        let guesser: IpAddr = "192.0.2.66".parse().unwrap();
        let other: IpAddr = "192.0.2.1".parse().unwrap();
        let mut budget = FailureBudget::new(4, Duration::from_secs(2));
        for _ in 0..4 {
            assert!(!budget.exhausted(guesser, now));
            budget.spend(guesser, now);
        }
        assert!(budget.exhausted(guesser, now));
        assert!(!budget.exhausted(other, now));
        let later = now + Duration::from_secs(2);
        assert!(
            !budget.exhausted(guesser, later),
            "one more after an interval"
        );
        budget.spend(guesser, later);
        assert!(budget.exhausted(guesser, later));
        assert!(!budget.exhausted(guesser, later + Duration::from_secs(8)));
    }

    /// Failures spread a little in time still spend the whole burst.
    #[test]
    fn a_burst_spread_over_time_is_still_a_burst() {
        let start = Instant::now();
        let guesser: IpAddr = "192.0.2.66".parse().unwrap();
        let mut budget = FailureBudget::new(16, Duration::from_secs(2));
        let mut at = start;
        for _ in 0..16 {
            assert!(!budget.exhausted(guesser, at));
            budget.spend(guesser, at);
            at += Duration::from_millis(10);
        }
        assert!(budget.exhausted(guesser, at));
    }

    #[test]
    fn an_interval_of_zero_is_no_limit() {
        let now = Instant::now();
        let source: IpAddr = "192.0.2.66".parse().unwrap();
        let mut budget = FailureBudget::new(1, Duration::ZERO);
        for _ in 0..100 {
            budget.spend(source, now);
        }
        assert!(!budget.exhausted(source, now));
    }

    #[test]
    fn full_budgets_are_forgotten() {
        let now = Instant::now();
        let mut budget = FailureBudget::new(2, Duration::from_secs(1));
        for host in 0..=u32::try_from(PRUNE_ABOVE).unwrap() {
            budget.spend(host_ip(host), now);
        }
        let later = now + Duration::from_secs(5);
        budget.spend(host_ip(1), later);
        assert_eq!(budget.full_at.len(), 1);
    }

    fn host_ip(host: u32) -> IpAddr {
        IpAddr::from((0x0A00_0000 + host).to_be_bytes())
    }
}
