//! The log lines of logins, bounded. Every login reaches the audit trail;
//! the log (journald, a serial console) gets each refused or abandoned
//! login in full only up to [`LINES_PER_WINDOW`] in a [`WINDOW`], so a
//! guesser or a collector of RAKP 2 codes (CVE-2013-4786) cannot turn its
//! flood into a flood of lines. Past the budget, logins are counted by kind
//! and source, and one summary line at the end of the window names each
//! source and its count: the signal of an attack survives, the flood does
//! not. Sessions opened are always logged (the session limits bound them).
//!
//! Sans-IO: it takes the time and returns what to log; the engine owns it
//! and wakes at [`LoginLog::summary_due`].

use std::{collections::BTreeMap, net::IpAddr};

use ipmi_lan::LoginEvent;
use tokio::time::{Duration, Instant};
use tracing::{info, warn};

/// The window over which the budget of lines is counted.
pub const WINDOW: Duration = Duration::from_secs(10);

/// How many refused or abandoned logins a window logs in full.
pub const LINES_PER_WINDOW: u32 = 10;

/// The budget, and what was held back.
#[derive(Debug, Default)]
pub struct LoginLog {
    /// When the present window ends (none running: the first line starts
    /// one).
    window_ends: Option<Instant>,
    /// Lines logged in full in this window.
    lines: u32,
    /// Held back in this window: (what, source) and how many.
    held: BTreeMap<(&'static str, Option<IpAddr>), u64>,
}

/// What to write for one login.
#[derive(Debug, Eq, PartialEq)]
pub enum Line {
    /// The login in full.
    Full(LoginEvent),
    /// Nothing now: counted for the summary.
    Held,
}

impl LoginLog {
    /// Decides about one login at `now`.
    pub fn record(&mut self, now: Instant, event: LoginEvent) -> Line {
        let kind = match &event {
            LoginEvent::Opened { .. } => return Line::Full(event),
            LoginEvent::Refused { .. } => "refused",
            LoginEvent::Abandoned { .. } => "abandoned after RAKP 2",
        };
        if self.window_ends.is_none_or(|ends| now >= ends) && self.held.is_empty() {
            self.window_ends = Some(now + WINDOW);
            self.lines = 0;
        }
        if self.lines < LINES_PER_WINDOW {
            self.lines += 1;
            return Line::Full(event);
        }
        let source = match &event {
            LoginEvent::Refused { peer, .. } | LoginEvent::Abandoned { peer, .. } => *peer,
            LoginEvent::Opened { .. } => None,
        };
        *self.held.entry((kind, source)).or_default() += 1;
        Line::Held
    }

    /// When the summary of what was held back is due, if anything was.
    pub fn summary_due(&self) -> Option<Instant> {
        self.window_ends.filter(|_| !self.held.is_empty())
    }

    /// The summary once it is due, and a fresh window: (what, source,
    /// count), sources in order.
    pub fn take_summary(&mut self, now: Instant) -> Vec<(&'static str, Option<IpAddr>, u64)> {
        if self.summary_due().is_none_or(|due| now < due) {
            return Vec::new();
        }
        self.window_ends = None;
        self.lines = 0;
        std::mem::take(&mut self.held)
            .into_iter()
            .map(|((kind, source), count)| (kind, source, count))
            .collect()
    }
}

/// Writes one login in full. Names are printed escaped; passwords never
/// reach this point.
pub fn write(event: &LoginEvent) {
    match event {
        LoginEvent::Refused { user, peer, status } => {
            warn!(user = ?user, peer = ?peer, %status, "login refused");
        }
        LoginEvent::Abandoned { user, peer } => {
            warn!(user = ?user, peer = ?peer,
                "login abandoned after RAKP 2 (a wrong password at the console, or its code collected)");
        }
        LoginEvent::Opened {
            user,
            peer,
            session_id,
            privilege,
        } => {
            info!(user = ?user, peer = ?peer, session = format_args!("{session_id:#010x}"),
                privilege = privilege.name(), "session opened");
        }
    }
}

/// Writes the summary of a window's held-back logins.
pub fn write_summary(summary: &[(&'static str, Option<IpAddr>, u64)]) {
    for (kind, source, count) in summary {
        warn!(logins = count, what = kind, peer = ?source,
            window_s = WINDOW.as_secs(), "more logins, not logged one by one");
    }
}

#[cfg(test)]
mod tests {
    use ipmi_wire::RakpStatus;

    use super::*;

    fn refused(from: [u8; 4]) -> LoginEvent {
        LoginEvent::Refused {
            user: "admin".into(),
            peer: Some(IpAddr::from(from)),
            status: RakpStatus::UNAUTHORIZED_NAME,
        }
    }

    /// Issue 16, point 6: each refusal was a line, so 5,000 guesses a
    /// second were 5,000 lines a second.
    #[test]
    fn a_flood_of_refusals_is_bounded_and_summed_by_source() {
        let mut log = LoginLog::default();
        let start = Instant::now();
        let mut full = 0;
        for i in 0..5000u32 {
            let from = if i % 2 == 0 {
                [192, 0, 2, 1]
            } else {
                [192, 0, 2, 2]
            };
            if matches!(log.record(start, refused(from)), Line::Full(_)) {
                full += 1;
            }
        }
        assert_eq!(full, LINES_PER_WINDOW);
        // Sessions opened are never held back.
        let opened = LoginEvent::Opened {
            user: "admin".into(),
            peer: None,
            session_id: 1,
            privilege: ipmi_wire::Privilege::User,
        };
        assert!(matches!(log.record(start, opened), Line::Full(_)));
        assert_eq!(log.summary_due(), Some(start + WINDOW));
        assert!(log.take_summary(start + WINDOW / 2).is_empty());
        let summary = log.take_summary(start + WINDOW);
        assert_eq!(
            summary,
            [
                ("refused", Some(IpAddr::from([192, 0, 2, 1])), 2495),
                ("refused", Some(IpAddr::from([192, 0, 2, 2])), 2495),
            ]
        );
        // The next window logs in full again.
        assert_eq!(log.summary_due(), None);
        let later = start + WINDOW * 2;
        assert!(matches!(
            log.record(later, refused([192, 0, 2, 1])),
            Line::Full(_)
        ));
    }
}
