//! When PEF processes an event (IPMI v2.0 §17.3-17.5, §30.2-30.5).
//!
//! Every event added to the SEL comes here ([`Processor::event_added`]).
//! It is processed at once unless PEF is held back, and then kept (at
//! most [`HOLD_LIMIT`], the oldest dropped first and counted) and
//! processed when the hold ends ([`Processor::handle_timeout`]):
//! - the **startup delay** after the system starts (power-on or reset), if
//!   parameter 1 enables it;
//! - the **postpone timer** (Arm PEF Postpone Timer, 01h-FDh seconds) or a
//!   temporary disable (FEh) until software disarms it (00h). When it ends,
//!   events software has already processed (Set Last Processed Event ID)
//!   are not processed again.
//!
//! The **alert startup delay** holds only alerts: actions run, alerts wait
//! for it. An event that arrives while PEF is disabled (parameter 1 bit 0)
//! is not processed, then or later.

use std::{collections::VecDeque, time::Duration};

use crate::{
    filter::{self, Actions, AlertRequest, Event, PowerAction},
    params::PefSettings,
};

/// The most events held while PEF is delayed or postponed.
pub const HOLD_LIMIT: usize = 64;

/// The postpone timer's state.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Postpone {
    /// Not armed.
    Idle,
    /// Armed until then.
    Until(Duration),
    /// PEF temporarily disabled (FEh) until disarmed.
    Disabled,
}

/// What the driver carries out.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Output {
    /// Take this host action for this event (at most one per event).
    Act {
        /// The event.
        event: Event,
        /// The action, by PEF's priorities.
        action: PowerAction,
        /// Every action the matched filters asked for (and were allowed).
        actions: Actions,
    },
    /// Send this alert for this event.
    Alert {
        /// The event.
        event: Event,
        /// The filter, policy and severity.
        request: AlertRequest,
    },
}

/// The processing state.
#[derive(Debug)]
pub struct Processor {
    postpone: Postpone,
    startup_until: Option<Duration>,
    alert_startup_until: Option<Duration>,
    held_events: VecDeque<Event>,
    held_alerts: VecDeque<(Event, AlertRequest)>,
    dropped: u64,
    last_added: Option<(u16, u32)>,
    last_software_processed: u16,
    last_bmc_processed: u16,
}

impl Default for Processor {
    fn default() -> Self {
        Self::new()
    }
}

impl Processor {
    /// Nothing processed yet, nothing held.
    pub fn new() -> Self {
        Self {
            postpone: Postpone::Idle,
            startup_until: None,
            alert_startup_until: None,
            held_events: VecDeque::new(),
            held_alerts: VecDeque::new(),
            dropped: 0,
            last_added: None,
            last_software_processed: 0xFFFF,
            last_bmc_processed: 0xFFFF,
        }
    }

    /// The SEL's newest record when the driver started (ID, timestamp),
    /// unless an addition has been seen since.
    pub fn set_last_added(&mut self, record_id: u16, timestamp: u32) {
        self.last_added.get_or_insert((record_id, timestamp));
    }

    /// The system started (powered on or reset): the startup delays begin,
    /// if parameter 1 enables them.
    pub fn system_started(&mut self, now: Duration, settings: &PefSettings) {
        let after = |secs: Option<u8>| secs.map(|s| now + Duration::from_secs(s.into()));
        self.startup_until = after(settings.startup_delay());
        self.alert_startup_until = after(settings.alert_startup_delay());
    }

    /// Events dropped because too many were held.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn held_back(&self, now: Duration) -> bool {
        self.postpone != Postpone::Idle || self.startup_until.is_some_and(|end| now < end)
    }

    /// An event was added to the SEL (`event.record_id`).
    pub fn event_added(
        &mut self,
        now: Duration,
        settings: &PefSettings,
        event: Event,
    ) -> Vec<Output> {
        self.last_added = Some((event.record_id, event.timestamp));
        if !settings.enabled() {
            return Vec::new();
        }
        if self.held_back(now) {
            if self.held_events.len() == HOLD_LIMIT {
                self.held_events.pop_front();
                self.dropped += 1;
            }
            self.held_events.push_back(event);
            return Vec::new();
        }
        self.process(now, settings, event)
    }

    fn process(&mut self, now: Duration, settings: &PefSettings, event: Event) -> Vec<Output> {
        let allowed = Actions::from_bits(settings.action_global_control);
        let verdict = filter::evaluate(&settings.filters, allowed, &event);
        self.last_bmc_processed = event.record_id;
        let mut out = Vec::new();
        if let Some(action) = verdict.actions.power_action() {
            out.push(Output::Act {
                event,
                action,
                actions: verdict.actions,
            });
        }
        let alerts_wait = self.alert_startup_until.is_some_and(|end| now < end);
        for request in verdict.alerts {
            if alerts_wait {
                if self.held_alerts.len() == HOLD_LIMIT {
                    self.held_alerts.pop_front();
                    self.dropped += 1;
                }
                self.held_alerts.push_back((event, request));
            } else {
                out.push(Output::Alert { event, request });
            }
        }
        out
    }

    /// When [`Self::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let postpone = match self.postpone {
            Postpone::Until(end) => Some(end),
            _ => None,
        };
        let startup = self.startup_until.filter(|_| !self.held_events.is_empty());
        let alerts = self
            .alert_startup_until
            .filter(|_| !self.held_alerts.is_empty());
        [postpone, startup, alerts].into_iter().flatten().min()
    }

    /// Ends the holds that are over and processes what they held.
    pub fn handle_timeout(&mut self, now: Duration, settings: &PefSettings) -> Vec<Output> {
        if let Postpone::Until(end) = self.postpone {
            if now >= end {
                self.postpone = Postpone::Idle;
                self.skip_software_processed();
            }
        }
        if self.startup_until.is_some_and(|end| now >= end) {
            self.startup_until = None;
        }
        let mut out = Vec::new();
        if self.alert_startup_until.is_some_and(|end| now >= end) {
            self.alert_startup_until = None;
            out.extend(
                self.held_alerts
                    .drain(..)
                    .map(|(event, request)| Output::Alert { event, request }),
            );
        }
        if !self.held_back(now) {
            while let Some(event) = self.held_events.pop_front() {
                // PEF disabled meanwhile: what was held is not processed.
                if settings.enabled() {
                    out.extend(self.process(now, settings, event));
                }
            }
        }
        out
    }

    /// Drops held events up to the one software says it processed.
    fn skip_software_processed(&mut self) {
        let id = self.last_software_processed;
        if let Some(at) = self.held_events.iter().position(|e| e.record_id == id) {
            self.held_events.drain(..=at);
        }
    }

    /// Arm PEF Postpone Timer (data after the command): 00h disarms, 01h-
    /// FDh arms for that many seconds, FEh disables PEF until disarmed,
    /// FFh only reads. Answers the present countdown (FEh while disabled)
    /// and what disarming releases.
    pub fn arm_postpone(
        &mut self,
        now: Duration,
        settings: &PefSettings,
        data: &[u8],
    ) -> Result<(u8, Vec<Output>), crate::params::ParamError> {
        let [value] = data else {
            return Err(crate::params::ParamError::Length);
        };
        let mut out = Vec::new();
        match value {
            0x00 => {
                self.postpone = Postpone::Idle;
                self.skip_software_processed();
                out = self.handle_timeout(now, settings);
            }
            0x01..=0xFD => {
                self.postpone = Postpone::Until(now + Duration::from_secs(u64::from(*value)))
            }
            0xFE => self.postpone = Postpone::Disabled,
            0xFF => {}
        }
        let countdown = match self.postpone {
            Postpone::Idle => 0,
            Postpone::Disabled => 0xFE,
            Postpone::Until(end) => {
                let left = end.saturating_sub(now);
                let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                u8::try_from(secs).unwrap_or(0xFD)
            }
        };
        Ok((countdown, out))
    }

    /// Set Last Processed Event ID (data after the command): byte 1 bit 0
    /// says whose (0 software, 1 the BMC), then the record ID.
    pub fn set_last_processed(&mut self, data: &[u8]) -> Result<(), crate::params::ParamError> {
        let [which, low, high] = data else {
            return Err(crate::params::ParamError::Length);
        };
        if which & 0xFE != 0 {
            return Err(crate::params::ParamError::InvalidField);
        }
        let id = u16::from_le_bytes([*low, *high]);
        if which & 1 == 0 {
            self.last_software_processed = id;
        } else {
            self.last_bmc_processed = id;
        }
        Ok(())
    }

    /// Get Last Processed Event ID's ten bytes: the newest addition's
    /// timestamp (FFFFFFFFh if none), the last record ID (FFFFh when
    /// none), the last processed by software and by the BMC.
    pub fn last_processed(&self) -> Vec<u8> {
        let (last_id, timestamp) = self.last_added.unwrap_or((0xFFFF, 0xFFFF_FFFF));
        let mut data = timestamp.to_le_bytes().to_vec();
        data.extend(last_id.to_le_bytes());
        data.extend(self.last_software_processed.to_le_bytes());
        data.extend(self.last_bmc_processed.to_le_bytes());
        data
    }

    /// The SEL was cleared: no record is newest any more.
    pub fn sel_cleared(&mut self) {
        self.last_added = None;
    }
}

#[cfg(test)]
mod tests;
