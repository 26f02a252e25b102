//! The chassis power state machine, sans-IO.
//!
//! # Contract
//! This crate touches no GPIO line, no file and no socket, reads no clock
//! and runs no task (no tokio): requests and power-good edges go in with
//! the time (`now`), [`Action`]s come out (press a button for so long,
//! pulse NMI, report an event), and [`Sequencer::next_deadline`] says when
//! to call [`Sequencer::poll`] for timeouts. The driver (rbmc-powerd's
//! controller) owns one [`Sequencer`], carries out its actions on the board
//! and feeds it the board's power-good edges. Every transition that waits
//! for the host has a deadline, so a host that never answers ends in a
//! defined state with an event, never a hang (as x86-power-control does).
//!
//! ```text
//!            On request (press)          power-good rises
//!   Off ────────────────────────▶ PoweringOn ───────────────▶ On
//!    ▲   timeout: PowerOnFailed ◀──────┘                      │
//!    │                                                         │ Off (hold) / Soft (press)
//!    │       power-good falls                                  ▼
//!    └──────────────────────────────────────────────── PoweringOff
//!             timeout: PowerOffFailed, state stays On
//! ```
//!
//! # A request during a transition
//! Chassis Control answers before the transition ends, so a second request
//! can arrive while the first is under way (`ipmipower --cycle` then
//! `--reset`). It is never dropped silently. It is judged against the
//! state the transition is heading for: one that makes no sense there (a
//! reset behind a power-off) is refused at once as [`Refused::WrongState`];
//! one already satisfied there (on behind a power-on) succeeds with nothing
//! to do; any other is queued, and runs as soon as the transition ends
//! ([`Action::Dequeued`], then its presses). One request can wait: a
//! further one is refused as [`Refused::Busy`] (IPMI C0h, node busy) until
//! the queue is free. Should the transition fail, the queued request is
//! judged against the state the host is really in, and a refusal is
//! reported in [`Action::Dequeued`].
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

/// A button the sequencer can press.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Button {
    /// The power button.
    Power,
    /// The reset button.
    Reset,
    /// The NMI (diagnostic interrupt) line.
    Nmi,
}

/// What the executor must do.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Action {
    /// Assert the button's line for `hold`, then release it.
    Press {
        /// Which line.
        button: Button,
        /// How long.
        hold: Duration,
    },
    /// Something worth a log entry and a SEL event happened.
    Event(PowerEvent),
    /// The request queued behind the transition that just ended now runs
    /// (its actions follow), or was refused against the state the
    /// transition left.
    Dequeued {
        /// What was queued.
        request: Request,
        /// Why it cannot run now, if it cannot.
        refused: Option<Refused>,
    },
}

/// Events the sequencer reports.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PowerEvent {
    /// Power-good rose.
    PoweredOn,
    /// Power-good fell after an off request.
    PoweredOff,
    /// Power-good fell with no request: the host lost power on its own.
    PowerLost,
    /// Power-good never came after a power-on press.
    PowerOnFailed,
    /// Power-good never fell after an off request.
    PowerOffFailed,
    /// A reset pulse was sent.
    Reset,
    /// A diagnostic interrupt was sent.
    DiagnosticInterrupt,
}

/// What an operator (IPMI Chassis Control, D-Bus) asks for.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Request {
    /// Power up.
    On,
    /// Power down now (hold the power button).
    Off,
    /// Orderly shutdown (ACPI press).
    SoftOff,
    /// Off, wait, on.
    Cycle,
    /// Hard reset.
    Reset,
    /// Pulse a diagnostic interrupt.
    Diagnostic,
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum Refused {
    /// A transition is under way and another request already waits for it.
    #[error("a power transition is under way and another request already waits for it")]
    Busy,
    /// The request makes no sense in this state (e.g. reset while off).
    #[error("not possible while the host is {0}")]
    WrongState(&'static str),
}

/// Timings, from `[power]`.
#[derive(Clone, Copy, Debug)]
pub struct Timings {
    /// Short press.
    pub press: Duration,
    /// Force-off hold.
    pub force_off: Duration,
    /// Reset pulse.
    pub reset_pulse: Duration,
    /// NMI pulse.
    pub nmi_pulse: Duration,
    /// Wait for power-good after power on.
    pub power_on_timeout: Duration,
    /// Wait for power-good to fall after a soft off.
    pub soft_off_timeout: Duration,
    /// Off time in a cycle.
    pub cycle_off: Duration,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Phase {
    Idle,
    PoweringOn { deadline: Instant },
    PoweringOff { deadline: Instant, then_on: bool },
    CycleWait { until: Instant },
}

/// The power state machine.
#[derive(Clone, Debug)]
pub struct Sequencer {
    timings: Timings,
    power_good: bool,
    phase: Phase,
    /// Set when the last transition failed (Get Chassis Status byte 1 bit 4).
    control_fault: bool,
    /// The request that waits for the transition under way.
    queued: Option<Request>,
}

impl Sequencer {
    /// A sequencer for a host whose power-good is `power_good` now.
    pub fn new(timings: Timings, power_good: bool) -> Self {
        Self {
            timings,
            power_good,
            phase: Phase::Idle,
            control_fault: false,
            queued: None,
        }
    }

    /// Sets the off time of a power cycle (Set Power Cycle Interval); a
    /// cycle already waiting keeps the time it started with.
    pub fn set_cycle_off(&mut self, cycle_off: Duration) {
        self.timings.cycle_off = cycle_off;
    }

    /// The request waiting for the transition under way, if any.
    pub fn queued(&self) -> Option<Request> {
        self.queued
    }

    /// Whether the transition under way is heading for power on.
    fn heading_on(&self) -> bool {
        match self.phase {
            Phase::Idle => self.power_good,
            Phase::PoweringOn { .. } | Phase::CycleWait { .. } => true,
            Phase::PoweringOff { then_on, .. } => then_on,
        }
    }

    /// A request that arrives during a transition (see the crate docs).
    fn enqueue(&mut self, request: Request) -> Result<Vec<Action>, Refused> {
        let heading_on = self.heading_on();
        match (request, heading_on) {
            (Request::Cycle | Request::Reset | Request::Diagnostic, false) => {
                return Err(Refused::WrongState("powering off"))
            }
            (Request::On, true) | (Request::Off | Request::SoftOff, false)
                if self.queued.is_none() =>
            {
                return Ok(Vec::new())
            }
            _ => {}
        }
        if self.queued.is_some() {
            return Err(Refused::Busy);
        }
        self.queued = Some(request);
        Ok(Vec::new())
    }

    /// Runs the queued request, if any, once the phase is idle again.
    fn run_queued(&mut self, now: Instant, mut actions: Vec<Action>) -> Vec<Action> {
        if self.phase != Phase::Idle {
            return actions;
        }
        let Some(request) = self.queued.take() else {
            return actions;
        };
        match self.request(now, request) {
            Ok(more) => {
                actions.push(Action::Dequeued {
                    request,
                    refused: None,
                });
                actions.extend(more);
            }
            Err(refused) => actions.push(Action::Dequeued {
                request,
                refused: Some(refused),
            }),
        }
        actions
    }

    /// Whether the host has power (power-good).
    pub fn is_on(&self) -> bool {
        self.power_good
    }

    /// Whether a transition is under way.
    pub fn in_transition(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// Whether the host is going towards on (for D-Bus "TransitioningToOn").
    pub fn powering_on(&self) -> bool {
        matches!(
            self.phase,
            Phase::PoweringOn { .. } | Phase::CycleWait { .. }
        )
    }

    /// Whether the last transition failed.
    pub fn control_fault(&self) -> bool {
        self.control_fault
    }

    /// Handles a request.
    pub fn request(&mut self, now: Instant, request: Request) -> Result<Vec<Action>, Refused> {
        if self.phase != Phase::Idle {
            return self.enqueue(request);
        }
        let t = self.timings;
        let press = |button, hold| Action::Press { button, hold };
        Ok(match (request, self.power_good) {
            // Already where asked: nothing to do (Chassis Control is
            // idempotent for on and off).
            (Request::On, true) | (Request::Off | Request::SoftOff, false) => Vec::new(),
            (Request::On, false) => {
                self.control_fault = false;
                self.phase = Phase::PoweringOn {
                    deadline: now + t.press + t.power_on_timeout,
                };
                vec![press(Button::Power, t.press)]
            }
            (Request::Off, true) | (Request::Cycle, true) => {
                self.control_fault = false;
                self.phase = Phase::PoweringOff {
                    deadline: now + t.force_off + t.power_on_timeout,
                    then_on: request == Request::Cycle,
                };
                vec![press(Button::Power, t.force_off)]
            }
            (Request::SoftOff, true) => {
                self.control_fault = false;
                self.phase = Phase::PoweringOff {
                    deadline: now + t.press + t.soft_off_timeout,
                    then_on: false,
                };
                vec![press(Button::Power, t.press)]
            }
            (Request::Reset, true) => vec![
                press(Button::Reset, t.reset_pulse),
                Action::Event(PowerEvent::Reset),
            ],
            (Request::Diagnostic, true) => vec![
                press(Button::Nmi, t.nmi_pulse),
                Action::Event(PowerEvent::DiagnosticInterrupt),
            ],
            (Request::Cycle | Request::Reset | Request::Diagnostic, false) => {
                return Err(Refused::WrongState("off"))
            }
        })
    }

    /// Handles a power-good edge.
    pub fn power_good(&mut self, now: Instant, level: bool) -> Vec<Action> {
        if level == self.power_good {
            return Vec::new();
        }
        self.power_good = level;
        let actions = match (self.phase, level) {
            (Phase::PoweringOn { .. }, true) => {
                self.phase = Phase::Idle;
                vec![Action::Event(PowerEvent::PoweredOn)]
            }
            (Phase::PoweringOff { then_on, .. }, false) => {
                self.phase = if then_on {
                    Phase::CycleWait {
                        until: now + self.timings.cycle_off,
                    }
                } else {
                    Phase::Idle
                };
                vec![Action::Event(PowerEvent::PoweredOff)]
            }
            // Edges nobody asked for: the host turned itself on (front
            // panel button) or lost power.
            (_, true) => vec![Action::Event(PowerEvent::PoweredOn)],
            (_, false) => {
                self.phase = Phase::Idle;
                vec![Action::Event(PowerEvent::PowerLost)]
            }
        };
        self.run_queued(now, actions)
    }

    /// Handles timeouts due at `now`.
    pub fn poll(&mut self, now: Instant) -> Vec<Action> {
        let actions = match self.phase {
            Phase::PoweringOn { deadline } if now >= deadline => {
                self.phase = Phase::Idle;
                self.control_fault = true;
                vec![Action::Event(PowerEvent::PowerOnFailed)]
            }
            Phase::PoweringOff { deadline, .. } if now >= deadline => {
                self.phase = Phase::Idle;
                self.control_fault = true;
                vec![Action::Event(PowerEvent::PowerOffFailed)]
            }
            Phase::CycleWait { until } if now >= until => {
                self.phase = Phase::Idle;
                self.request(now, Request::On).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        self.run_queued(now, actions)
    }

    /// When [`Sequencer::poll`] must next run.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Idle => None,
            Phase::PoweringOn { deadline } | Phase::PoweringOff { deadline, .. } => Some(deadline),
            Phase::CycleWait { until } => Some(until),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timings() -> Timings {
        Timings {
            press: Duration::from_millis(200),
            force_off: Duration::from_secs(6),
            reset_pulse: Duration::from_millis(500),
            nmi_pulse: Duration::from_millis(200),
            power_on_timeout: Duration::from_secs(10),
            soft_off_timeout: Duration::from_secs(60),
            cycle_off: Duration::from_secs(2),
        }
    }

    #[test]
    fn power_on_succeeds_when_power_good_follows() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), false);
        let actions = s.request(t0, Request::On).unwrap();
        assert_eq!(
            actions,
            [Action::Press {
                button: Button::Power,
                hold: Duration::from_millis(200)
            }]
        );
        assert!(s.powering_on());
        let actions = s.power_good(t0 + Duration::from_secs(1), true);
        assert_eq!(actions, [Action::Event(PowerEvent::PoweredOn)]);
        assert!(s.is_on() && !s.in_transition());
    }

    #[test]
    fn a_request_during_a_cycle_waits_for_it_and_then_runs() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), true);
        s.request(t0, Request::Cycle).unwrap();
        // Reset behind a cycle: queued; a third request is refused as busy,
        // and power on is what the cycle ends in anyway.
        assert_eq!(s.request(t0, Request::Reset), Ok(vec![]));
        assert_eq!(s.queued(), Some(Request::Reset));
        assert_eq!(s.request(t0, Request::Off), Err(Refused::Busy));
        assert_eq!(s.request(t0, Request::On), Err(Refused::Busy));
        let off_at = t0 + Duration::from_secs(6);
        assert_eq!(
            s.power_good(off_at, false),
            [Action::Event(PowerEvent::PoweredOff)]
        );
        let pressed = s.poll(off_at + Duration::from_secs(2));
        assert_eq!(pressed.len(), 1, "{pressed:?}");
        assert_eq!(
            s.queued(),
            Some(Request::Reset),
            "still waiting for power on"
        );
        let on_at = off_at + Duration::from_secs(3);
        let actions = s.power_good(on_at, true);
        assert_eq!(
            actions[..2],
            [
                Action::Event(PowerEvent::PoweredOn),
                Action::Dequeued {
                    request: Request::Reset,
                    refused: None
                }
            ]
        );
        assert!(matches!(
            actions[2],
            Action::Press {
                button: Button::Reset,
                ..
            }
        ));
        assert_eq!(actions[3], Action::Event(PowerEvent::Reset));
        assert_eq!(s.queued(), None);
    }

    #[test]
    fn a_request_during_a_transition_is_judged_against_where_it_heads() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), true);
        s.request(t0, Request::Off).unwrap();
        // Nothing to reset or cycle once off: refused now, not later.
        for request in [Request::Reset, Request::Cycle, Request::Diagnostic] {
            assert_eq!(
                s.request(t0, request),
                Err(Refused::WrongState("powering off"))
            );
        }
        // Off behind off: already satisfied.
        assert_eq!(s.request(t0, Request::SoftOff), Ok(vec![]));
        assert_eq!(s.queued(), None);
        // On behind off: queued, and it powers the host back on.
        assert_eq!(s.request(t0, Request::On), Ok(vec![]));
        let actions = s.power_good(t0 + Duration::from_secs(6), false);
        assert_eq!(
            actions[..2],
            [
                Action::Event(PowerEvent::PoweredOff),
                Action::Dequeued {
                    request: Request::On,
                    refused: None
                }
            ]
        );
        assert!(s.powering_on());
    }

    #[test]
    fn a_queued_request_after_a_failed_transition_meets_the_real_state() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), false);
        s.request(t0, Request::On).unwrap();
        s.request(t0, Request::Reset).unwrap();
        let deadline = s.next_deadline().unwrap();
        assert_eq!(
            s.poll(deadline),
            [
                Action::Event(PowerEvent::PowerOnFailed),
                Action::Dequeued {
                    request: Request::Reset,
                    refused: Some(Refused::WrongState("off"))
                }
            ]
        );
        assert!(!s.in_transition() && s.queued().is_none());
    }

    #[test]
    fn power_good_never_arriving_ends_in_a_defined_state() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), false);
        s.request(t0, Request::On).unwrap();
        let deadline = s.next_deadline().unwrap();
        assert_eq!(deadline, t0 + Duration::from_millis(10_200));
        assert!(s.poll(deadline - Duration::from_millis(1)).is_empty());
        assert_eq!(s.poll(deadline), [Action::Event(PowerEvent::PowerOnFailed)]);
        assert!(!s.is_on() && !s.in_transition() && s.control_fault());
        // A later request clears the fault.
        s.request(deadline, Request::On).unwrap();
        assert!(!s.control_fault());
    }

    #[test]
    fn cycle_goes_off_waits_then_on() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), true);
        let actions = s.request(t0, Request::Cycle).unwrap();
        assert_eq!(
            actions,
            [Action::Press {
                button: Button::Power,
                hold: Duration::from_secs(6)
            }]
        );
        let off_at = t0 + Duration::from_secs(6);
        assert_eq!(
            s.power_good(off_at, false),
            [Action::Event(PowerEvent::PoweredOff)]
        );
        assert!(s.powering_on(), "waiting to come back on");
        assert!(s.poll(off_at + Duration::from_secs(1)).is_empty());
        let actions = s.poll(off_at + Duration::from_secs(2));
        assert!(matches!(
            actions[..],
            [Action::Press {
                button: Button::Power,
                ..
            }]
        ));
        assert_eq!(
            s.power_good(off_at + Duration::from_secs(3), true),
            [Action::Event(PowerEvent::PoweredOn)]
        );
    }

    #[test]
    fn reset_and_diag_need_power_and_off_is_idempotent() {
        let t0 = Instant::now();
        let mut off = Sequencer::new(timings(), false);
        assert_eq!(
            off.request(t0, Request::Reset),
            Err(Refused::WrongState("off"))
        );
        assert_eq!(
            off.request(t0, Request::Cycle),
            Err(Refused::WrongState("off"))
        );
        assert_eq!(off.request(t0, Request::Off), Ok(vec![]));
        let mut on = Sequencer::new(timings(), true);
        let actions = on.request(t0, Request::Reset).unwrap();
        assert_eq!(actions[1], Action::Event(PowerEvent::Reset));
        let actions = on.request(t0, Request::Diagnostic).unwrap();
        assert!(matches!(
            actions[0],
            Action::Press {
                button: Button::Nmi,
                ..
            }
        ));
    }

    #[test]
    fn soft_off_that_the_host_ignores_times_out() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), true);
        s.request(t0, Request::SoftOff).unwrap();
        let deadline = s.next_deadline().unwrap();
        assert_eq!(
            s.poll(deadline),
            [Action::Event(PowerEvent::PowerOffFailed)]
        );
        assert!(s.is_on() && s.control_fault());
    }

    #[test]
    fn unrequested_edges_are_reported() {
        let t0 = Instant::now();
        let mut s = Sequencer::new(timings(), true);
        assert_eq!(
            s.power_good(t0, false),
            [Action::Event(PowerEvent::PowerLost)]
        );
        assert_eq!(
            s.power_good(t0, true),
            [Action::Event(PowerEvent::PoweredOn)]
        );
        assert!(s.power_good(t0, true).is_empty());
    }
}
