//! The inbound session sequence number check (IPMI v2.0 §6.12.13).
//!
//! The BMC tracks the highest sequence number it has accepted and a bitmap of
//! the ones just below it. A number is accepted once: if it is ahead of the
//! highest by at most [`AHEAD`], or behind it by at most [`BEHIND`] and not
//! yet seen (a 32-entry window, as OpenIPMI's lanserv also applies it). Zero is never valid inside a session. Everything else is a replay
//! or a forgery and is dropped.

/// How far ahead of the highest accepted number a packet may be.
pub const AHEAD: u32 = 15;
/// How far behind the highest accepted number a packet may be.
pub const BEHIND: u32 = 16;

/// A replay window for one session's inbound packets.
#[derive(Clone, Debug, Default)]
pub struct ReplayWindow {
    /// Highest sequence number accepted so far (0: none yet).
    highest: u32,
    /// Bit n set: `highest - n` has been accepted (bit 0 is `highest`).
    seen: u32,
}

impl ReplayWindow {
    /// Checks `seq` and records it if it is acceptable.
    pub fn accept(&mut self, seq: u32) -> bool {
        if seq == 0 {
            return false;
        }
        if self.highest == 0 {
            self.highest = seq;
            self.seen = 1;
            return true;
        }
        let ahead = seq.wrapping_sub(self.highest);
        if ahead != 0 && ahead <= AHEAD {
            self.seen = if ahead >= 32 { 0 } else { self.seen << ahead };
            self.seen |= 1;
            self.highest = seq;
            return true;
        }
        let behind = self.highest.wrapping_sub(seq);
        if behind <= BEHIND {
            let bit = 1u32 << behind;
            if self.seen & bit != 0 {
                return false;
            }
            self.seen |= bit;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_packets_pass_once() {
        let mut w = ReplayWindow::default();
        for seq in 1..100 {
            assert!(w.accept(seq), "seq {seq}");
            assert!(!w.accept(seq), "replay of {seq}");
        }
    }

    #[test]
    fn zero_and_far_values_are_refused() {
        let mut w = ReplayWindow::default();
        assert!(!w.accept(0));
        assert!(w.accept(100));
        assert!(!w.accept(100 + AHEAD + 1));
        assert!(!w.accept(100 - BEHIND - 1));
        assert!(w.accept(100 - BEHIND));
        assert!(w.accept(100 + AHEAD));
    }

    #[test]
    fn late_packets_inside_the_window_pass_once() {
        let mut w = ReplayWindow::default();
        assert!(w.accept(10));
        assert!(w.accept(12));
        assert!(w.accept(11));
        assert!(!w.accept(11));
        assert!(!w.accept(12));
    }

    #[test]
    fn wraps_around_u32() {
        let mut w = ReplayWindow::default();
        assert!(w.accept(u32::MAX - 1));
        assert!(w.accept(u32::MAX));
        assert!(w.accept(1));
        assert!(!w.accept(u32::MAX));
    }
}
