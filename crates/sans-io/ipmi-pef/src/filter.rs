//! The event filter table's matching (IPMI v2.0 §17.7, Table 17-2) and
//! what a matched event asks for.
//!
//! An entry is the 20 bytes of PEF parameter 6. Each field is compared
//! only when it is not its "any" value (FFh, or FFFFh for the offset
//! mask). Event data bytes are compared under their AND mask: bits whose
//! compare-1 bit is set must equal compare-2 exactly; of the other masked
//! bits, at least one must equal its compare-2 bit. An AND mask of 00h
//! matches anything.

use serde::{Deserialize, Serialize};

/// An event as a system event record holds it (IPMI v2.0 §32.1).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Event {
    /// The SEL record ID it was logged under.
    pub record_id: u16,
    /// Its timestamp (IPMI seconds).
    pub timestamp: u32,
    /// Generator ID: byte 1 (slave address or software ID) low, byte 2
    /// (channel and LUN) high.
    pub generator_id: u16,
    /// Event message format revision.
    pub evm_rev: u8,
    /// Sensor type.
    pub sensor_type: u8,
    /// Sensor number.
    pub sensor_number: u8,
    /// Event direction (bit 7: 1 = deassertion) and event/reading type.
    pub dir_type: u8,
    /// Event data 1-3.
    pub data: [u8; 3],
}

impl Event {
    /// The event of a 16-byte system event record (type 02h); `None` for
    /// an OEM record, which PEF does not filter.
    pub fn from_sel_record(record: &[u8; 16]) -> Option<Self> {
        (record[2] == 0x02).then(|| Self {
            record_id: u16::from_le_bytes([record[0], record[1]]),
            timestamp: u32::from_le_bytes([record[3], record[4], record[5], record[6]]),
            generator_id: u16::from_le_bytes([record[7], record[8]]),
            evm_rev: record[9],
            sensor_type: record[10],
            sensor_number: record[11],
            dir_type: record[12],
            data: [record[13], record[14], record[15]],
        })
    }

    /// The event/reading type, without the direction.
    pub fn event_type(&self) -> u8 {
        self.dir_type & 0x7F
    }

    /// Whether this is a deassertion.
    pub fn is_deassertion(&self) -> bool {
        self.dir_type & 0x80 != 0
    }

    /// The offset: event data 1 bits \[3:0\].
    pub fn offset(&self) -> u8 {
        self.data[0] & 0x0F
    }
}

/// A set of PEF actions, as the event filter action byte (Table 17-2 byte
/// 2), PEF parameter 2 and Get PEF Capabilities carry them.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Actions(u8);

impl Actions {
    /// Send an alert (run the filter's alert policy).
    pub const ALERT: Self = Self(0x01);
    /// Power down.
    pub const POWER_DOWN: Self = Self(0x02);
    /// Reset.
    pub const RESET: Self = Self(0x04);
    /// Power cycle.
    pub const POWER_CYCLE: Self = Self(0x08);
    /// OEM action (not carried out here).
    pub const OEM: Self = Self(0x10);
    /// Diagnostic interrupt.
    pub const DIAGNOSTIC_INTERRUPT: Self = Self(0x20);
    /// Group control operation (not carried out here).
    pub const GROUP_CONTROL: Self = Self(0x40);
    /// The actions this PEF carries out.
    pub const SUPPORTED: Self = Self(0x2F);
    /// No action.
    pub const NONE: Self = Self(0);

    /// From the wire byte.
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The wire byte.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every action of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Both sets together.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Those of `self` also in `other`.
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether there is none.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The one power action carried out when several are asked for, by
    /// PEF's priorities (IPMI v2.0 §17.6): power down, then power cycle,
    /// then reset, then the diagnostic interrupt.
    pub fn power_action(self) -> Option<PowerAction> {
        [
            (Self::POWER_DOWN, PowerAction::PowerDown),
            (Self::POWER_CYCLE, PowerAction::PowerCycle),
            (Self::RESET, PowerAction::Reset),
            (Self::DIAGNOSTIC_INTERRUPT, PowerAction::DiagnosticInterrupt),
        ]
        .into_iter()
        .find_map(|(bit, action)| self.contains(bit).then_some(action))
    }
}

/// The host action PEF carries out for an event (at most one per event).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PowerAction {
    /// Power the host down (hard).
    PowerDown,
    /// Power cycle the host.
    PowerCycle,
    /// Reset the host.
    Reset,
    /// Pulse the diagnostic interrupt (NMI).
    DiagnosticInterrupt,
}

/// One event filter table entry: PEF parameter 6's 20 bytes.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize, Deserialize)]
pub struct FilterEntry(pub [u8; 20]);

impl Default for FilterEntry {
    /// A disabled, software-configurable entry that would match any event
    /// (so enabling it with an action is all a catch-all needs).
    fn default() -> Self {
        let mut entry = [0u8; 20];
        // Generator, sensor type, sensor number and trigger: any.
        entry[4..9].fill(0xFF);
        // Any offset.
        entry[9] = 0xFF;
        entry[10] = 0xFF;
        Self(entry)
    }
}

impl FilterEntry {
    /// Whether the entry is enabled (byte 1 bit 7).
    pub fn enabled(&self) -> bool {
        self.0[0] & 0x80 != 0
    }

    /// The actions it asks for (byte 2).
    pub fn actions(&self) -> Actions {
        Actions(self.0[1] & 0x7F)
    }

    /// The alert policy number it starts (byte 3 bits \[3:0\]).
    pub fn policy_number(&self) -> u8 {
        self.0[2] & 0x0F
    }

    /// The event severity it gives an alert (byte 4).
    pub fn severity(&self) -> u8 {
        self.0[3]
    }

    /// Whether `event` matches every field of the entry (enabled or not).
    pub fn matches(&self, event: &Event) -> bool {
        let e = &self.0;
        let any_or = |field: u8, value: u8| field == 0xFF || field == value;
        let [generator_1, generator_2] = event.generator_id.to_le_bytes();
        let offset_mask = u16::from_le_bytes([e[9], e[10]]);
        any_or(e[4], generator_1)
            // Byte 2 of the generator: channel [7:4] and LUN [1:0].
            && (e[5] == 0xFF || e[5] & 0xF3 == generator_2 & 0xF3)
            && any_or(e[6], event.sensor_type)
            && any_or(e[7], event.sensor_number)
            && any_or(e[8], event.event_type())
            && offset_mask & (1 << event.offset()) != 0
            && (0..3).all(|i| {
                let at = 11 + 3 * i;
                data_matches(event.data[i], e[at], e[at + 1], e[at + 2])
            })
    }
}

/// An event data byte under its AND mask and two compare bytes.
fn data_matches(value: u8, and_mask: u8, compare_1: u8, compare_2: u8) -> bool {
    let exact = and_mask & compare_1;
    let loose = and_mask & !compare_1;
    let differs = value ^ compare_2;
    differs & exact == 0 && (loose == 0 || !differs & loose != 0)
}

/// An alert an event starts: the filter that matched, its policy number
/// and the severity it gives.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct AlertRequest {
    /// The event filter number (1-based).
    pub filter: u8,
    /// The alert policy number (the set of policy entries to run).
    pub policy: u8,
    /// The event severity for the trap.
    pub severity: u8,
}

/// What the filter table asks for one event.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Verdict {
    /// The union of the matched entries' actions, as the global control
    /// allows them.
    pub actions: Actions,
    /// The filter numbers that matched (1-based), enabled ones only.
    pub matched: Vec<u8>,
    /// The alerts to send, one per matching filter with the alert action
    /// (if alerts are allowed).
    pub alerts: Vec<AlertRequest>,
}

/// Runs `event` through every enabled entry of `filters` (numbered from
/// 1). `allowed` is PEF parameter 2 (action global control).
pub fn evaluate(filters: &[FilterEntry], allowed: Actions, event: &Event) -> Verdict {
    let mut verdict = Verdict::default();
    let allowed = allowed.intersection(Actions::SUPPORTED);
    for (number, entry) in (1u8..).zip(filters) {
        if !entry.enabled() || !entry.matches(event) {
            continue;
        }
        verdict.matched.push(number);
        let actions = entry.actions().intersection(allowed);
        verdict.actions = verdict.actions.union(actions);
        if actions.contains(Actions::ALERT) {
            verdict.alerts.push(AlertRequest {
                filter: number,
                policy: entry.policy_number(),
                severity: entry.severity(),
            });
        }
    }
    verdict
}

#[cfg(test)]
mod tests;
