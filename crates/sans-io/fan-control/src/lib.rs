//! Closed-loop fan control without I/O.
//!
//! - [`pid`]: a PID controller from one temperature to a fan demand, with
//!   anti-windup.
//! - [`stepwise`]: a step-table controller with hysteresis.
//! - [`zone`]: a fan zone: its inputs' controllers, the highest demand,
//!   the minimum PWM, slew limits, the ramp at host power-on, failsafe on a
//!   failed, stale or stopped part, and manual mode.
//!
//! Readings, time and the host's power state come in; PWM percentages and
//! failsafe causes go out. Time is the caller's: a monotonic
//! [`std::time::Duration`] since any fixed start, so the controllers run on
//! virtual time in tests and in the step-response benchmark.
#![forbid(unsafe_code)]

pub mod pid;
pub mod stepwise;
pub mod zone;

pub use pid::{Pid, PidSettings};
pub use stepwise::{Stepwise, StepwiseSettings};
pub use zone::{
    ControllerSettings, Decision, FailsafeCause, Mode, Poll, Reading, TargetError, Zone,
    ZoneSettings,
};
