//! Walking an alert policy (IPMI v2.0 §17.11, Table 30-9): which
//! destinations an alert goes to, in what order, given how the previous
//! one went.
//!
//! The entries of one policy number that are enabled are taken in table
//! order. Each entry's type says what to do when the alert to the
//! previous destination succeeded:
//! - 0: send to this one anyway;
//! - 1: skip it and go on to the next entry;
//! - 2: skip it and stop;
//! - 3: skip it and go on to the next entry on another channel;
//! - 4: skip it and go on to the next entry of another destination type.
//!
//! When the previous alert failed (or there was none), every type sends.

use crate::params::PolicyEntry;

/// One step of a walk: send to this entry's channel and destination.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Step {
    /// The entry's number in the table (1-based).
    pub entry: u8,
    /// The entry.
    pub policy: PolicyEntry,
}

/// A walk through one policy's entries.
#[derive(Clone, Debug)]
pub struct PolicyWalk {
    entries: Vec<Step>,
    next: usize,
    previous: Option<(Step, bool)>,
}

impl PolicyWalk {
    /// The enabled entries of policy `number` in `table` (numbered from
    /// 1).
    pub fn new(table: &[PolicyEntry], number: u8) -> Self {
        let entries = (1u8..)
            .zip(table)
            .filter(|(_, p)| p.enabled() && p.policy_number() == number)
            .map(|(entry, policy)| Step {
                entry,
                policy: *policy,
            })
            .collect();
        Self {
            entries,
            next: 0,
            previous: None,
        }
    }

    /// Whether the policy has no enabled entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How the alert to the step last returned went.
    pub fn report(&mut self, step: Step, succeeded: bool) {
        self.previous = Some((step, succeeded));
    }

    /// The next destination to send to; `destination_type` gives an
    /// entry's destination type (LAN parameter 18) for type 4.
    pub fn next_step(&mut self, destination_type: impl Fn(&PolicyEntry) -> u8) -> Option<Step> {
        while let Some(&step) = self.entries.get(self.next) {
            self.next += 1;
            let previous_succeeded = self.previous.is_some_and(|(_, ok)| ok);
            if !previous_succeeded {
                return Some(step);
            }
            let policy = step.policy;
            match policy.policy_type() {
                0 => return Some(step),
                2 => {
                    self.next = self.entries.len();
                    return None;
                }
                3 => self.skip_while(|p| p.channel() == policy.channel()),
                4 => {
                    let kind = destination_type(&policy);
                    self.skip_while(|p| destination_type(p) == kind);
                }
                // 1, and the reserved types a Set never stores.
                _ => {}
            }
        }
        None
    }

    fn skip_while(&mut self, same: impl Fn(&PolicyEntry) -> bool) {
        while self
            .entries
            .get(self.next)
            .is_some_and(|step| same(&step.policy))
        {
            self.next += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Policy 1, enabled, `kind`, to channel `channel` destination `dest`.
    fn entry(kind: u8, channel: u8, dest: u8) -> PolicyEntry {
        PolicyEntry([0x18 | kind, channel << 4 | dest, 0])
    }

    fn walk(table: &[PolicyEntry], outcomes: &[bool]) -> Vec<u8> {
        let mut walk = PolicyWalk::new(table, 1);
        let mut sent = Vec::new();
        let mut outcomes = outcomes.iter();
        while let Some(step) = walk.next_step(|p| p.destination() % 2) {
            sent.push(step.entry);
            walk.report(step, *outcomes.next().unwrap_or(&true));
        }
        sent
    }

    #[test]
    fn always_send_sends_to_every_entry() {
        let table = [entry(0, 1, 1), entry(0, 1, 2), entry(0, 1, 3)];
        assert_eq!(walk(&table, &[true, true, true]), [1, 2, 3]);
    }

    #[test]
    fn other_policies_and_disabled_entries_are_not_walked() {
        let mut table = [entry(0, 1, 1), entry(0, 1, 2), entry(0, 1, 3)];
        table[1].0[0] &= !0x08; // disabled
        table[2].0[0] = 0x28; // policy 2
        assert_eq!(walk(&table, &[true]), [1]);
        assert!(PolicyWalk::new(&table, 3).is_empty());
    }

    #[test]
    fn next_entry_is_a_fallback_when_the_previous_failed() {
        let table = [entry(0, 1, 1), entry(1, 1, 2), entry(1, 1, 3)];
        // The first succeeds: the fallbacks are skipped.
        assert_eq!(walk(&table, &[true]), [1]);
        // It fails: the second is tried, succeeds, the third is skipped.
        assert_eq!(walk(&table, &[false, true]), [1, 2]);
    }

    #[test]
    fn stop_ends_the_set_after_a_success() {
        let table = [entry(0, 1, 1), entry(2, 1, 2), entry(0, 1, 3)];
        assert_eq!(walk(&table, &[true]), [1]);
        assert_eq!(walk(&table, &[false, true, true]), [1, 2, 3]);
    }

    #[test]
    fn different_channel_and_type_skip_alike_entries() {
        let table = [
            entry(0, 1, 1),
            entry(3, 1, 2),
            entry(0, 1, 3),
            entry(0, 2, 4),
        ];
        // After a success, entry 2 skips the rest of channel 1.
        assert_eq!(walk(&table, &[true, true]), [1, 4]);
        // Destination types here: odd selectors 1, even 0.
        let table = [
            entry(0, 1, 1),
            entry(4, 1, 3),
            entry(0, 1, 5),
            entry(0, 1, 2),
        ];
        assert_eq!(walk(&table, &[true, true]), [1, 4]);
    }
}
