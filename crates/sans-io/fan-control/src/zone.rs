//! A fan zone: the fans that cool one part of the chassis, the temperature
//! inputs that decide how fast they run, and the rules between them.
//!
//! At each poll the owner hands the zone what it read — every input's
//! reading, every fan's tachometer, whether the host has power — and the
//! time; the zone answers with each fan's PWM and whether it is in
//! failsafe. The rules, in the order they apply:
//!
//! 1. **Failsafe.** While the host is on: an input that failed (its sensor
//!    has no reading; it stays failed until it reads again), one that has
//!    not answered for `stale_after`, or a fan whose tachometer reads below
//!    `stopped_rpm` while it is driven (the fan's PWM above zero for at
//!    least `spin_up`), sends every fan of the zone to at least
//!    `failsafe_pwm` at once, with no slew limit (a floor: a hot input that
//!    still reads may ask for more). The zone leaves failsafe when every
//!    cause has cleared, and then slews down. While the host is off the
//!    inputs are not judged: many lose power with it. In any power state
//!    and mode, an input past its critical threshold (its owner's alarm)
//!    or a PWM output that cannot be written is a cause too.
//! 2. **Manual mode.** The operator's per-fan targets, unchanged (but never
//!    below `failsafe_pwm` while in failsafe).
//! 3. **Host off.** `min_pwm`; the controllers forget their state.
//! 4. **Host power-on.** At least `power_on.pwm` for `power_on.hold`, from
//!    the first poll that sees the host on (including the daemon's first
//!    poll); then the controllers take over through the slew limits.
//! 5. **Automatic.** The highest demand of the controllers, within
//!    `min_pwm`..`max_pwm`, moved toward at most `slew_up` percent per
//!    second up and `slew_down` down.
//!
//! Time is the caller's: a monotonic [`Duration`] since any fixed start, so
//! tests and the benchmark run the zone on virtual time.

use std::time::Duration;

use crate::{
    pid::{Pid, PidSettings, PidSettingsError},
    stepwise::{Stepwise, StepwiseSettings, StepwiseSettingsError},
};

/// The controller of one temperature input.
#[derive(Clone, Debug, PartialEq)]
pub enum ControllerSettings {
    /// A PID loop toward a setpoint.
    Pid(PidSettings),
    /// A step table.
    Stepwise(StepwiseSettings),
}

/// A zone's settings (from its config).
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneSettings {
    /// The lowest PWM while the host is on, in percent.
    pub min_pwm: f64,
    /// The highest PWM in automatic mode, in percent.
    pub max_pwm: f64,
    /// The PWM in failsafe, in percent.
    pub failsafe_pwm: f64,
    /// The fastest rise in automatic mode, percent per second.
    pub slew_up: f64,
    /// The fastest fall in automatic mode, percent per second.
    pub slew_down: f64,
    /// An input that has not answered for this long is stale.
    pub stale_after: Duration,
    /// The PWM right after the host powers on, in percent.
    pub power_on_pwm: f64,
    /// How long `power_on_pwm` holds.
    pub power_on_hold: Duration,
    /// A driven fan whose tachometer reads below this has stopped, in RPM.
    pub stopped_rpm: f64,
    /// How long a fan may take to spin up after its PWM rises from zero or
    /// the host powers on, before a low tachometer counts.
    pub spin_up: Duration,
    /// Each temperature input's controller, in the order of the readings.
    pub inputs: Vec<ControllerSettings>,
    /// How many fans the zone drives.
    pub fans: usize,
}

/// Why zone settings cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneSettingsError {
    /// A PWM setting is outside 0-100 %, the minimum exceeds the maximum,
    /// or the failsafe PWM is below the minimum.
    #[error("{0} must be 0-100 % (and min-pwm <= max-pwm, min-pwm <= failsafe-pwm)")]
    BadPwm(&'static str),
    /// A slew limit is not a positive number.
    #[error("{0} must be a positive number of percent per second")]
    BadSlew(&'static str),
    /// The zone drives no fan.
    #[error("a zone needs at least one fan")]
    NoFans,
    /// Input `index`'s PID settings are wrong.
    #[error("input {index}: {error}")]
    Pid {
        /// The input's position.
        index: usize,
        /// What is wrong.
        error: PidSettingsError,
    },
    /// Input `index`'s step table is wrong.
    #[error("input {index}: {error}")]
    Stepwise {
        /// The input's position.
        index: usize,
        /// What is wrong.
        error: StepwiseSettingsError,
    },
}

impl ZoneSettings {
    /// Checks the settings.
    pub fn check(&self) -> Result<(), ZoneSettingsError> {
        for (name, pwm) in [
            ("min-pwm", self.min_pwm),
            ("max-pwm", self.max_pwm),
            ("failsafe-pwm", self.failsafe_pwm),
            ("power-on pwm", self.power_on_pwm),
        ] {
            if !(0.0..=100.0).contains(&pwm) {
                return Err(ZoneSettingsError::BadPwm(name));
            }
        }
        if self.min_pwm > self.max_pwm {
            return Err(ZoneSettingsError::BadPwm("min-pwm"));
        }
        if self.failsafe_pwm < self.min_pwm {
            return Err(ZoneSettingsError::BadPwm("failsafe-pwm"));
        }
        for (name, slew) in [("slew-up", self.slew_up), ("slew-down", self.slew_down)] {
            if !(slew.is_finite() && slew > 0.0) {
                return Err(ZoneSettingsError::BadSlew(name));
            }
        }
        if self.fans == 0 {
            return Err(ZoneSettingsError::NoFans);
        }
        for (index, input) in self.inputs.iter().enumerate() {
            match input {
                ControllerSettings::Pid(pid) => pid
                    .check()
                    .map_err(|error| ZoneSettingsError::Pid { index, error })?,
                ControllerSettings::Stepwise(table) => table
                    .check()
                    .map_err(|error| ZoneSettingsError::Stepwise { index, error })?,
            }
        }
        Ok(())
    }
}

/// One poll's reading of an input or a tachometer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reading {
    /// A fresh value.
    Value(f64),
    /// The sensor answered that it has no reading (no object, NaN, not
    /// functional): failed.
    Failed,
    /// Nobody answered this time (the owner is gone or slow): the last
    /// value holds until it is stale.
    Unanswered,
}

/// Why a zone is in failsafe.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum FailsafeCause {
    /// Temperature input `n` has no reading.
    InputFailed(usize),
    /// Temperature input `n` has not answered for `stale_after`.
    InputStale(usize),
    /// Fan `n` reads below `stopped_rpm` while driven.
    FanStopped(usize),
    /// Fan `n`'s tachometer has no reading while the fan is driven.
    TachFailed(usize),
    /// Temperature input `n` is past its critical threshold (its owner's
    /// alarm): in every mode, manual too.
    InputCritical(usize),
    /// Fan `n`'s PWM output could not be written.
    OutputFailed(usize),
}

/// Automatic or manual control.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Mode {
    /// The controllers decide.
    Automatic,
    /// The operator's per-fan targets hold.
    Manual,
}

/// Why a manual target was refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The zone is in automatic mode: its controllers own the PWM.
    #[error("the zone is in automatic mode; set Manual first")]
    NotManual,
    /// No such fan in the zone.
    #[error("the zone has no fan {0}")]
    NoSuchFan(usize),
    /// The PWM is outside 0-100 % or not a number.
    #[error("a PWM target must be 0-100 %")]
    OutOfRange,
}

/// What one poll saw.
#[derive(Clone, Copy, Debug)]
pub struct Poll<'a> {
    /// The time, on the caller's monotonic clock.
    pub now: Duration,
    /// Whether the host has power.
    pub host_on: bool,
    /// Each temperature input's reading, in the order of the settings.
    pub inputs: &'a [Reading],
    /// Each fan's tachometer, `None` for a fan without one.
    pub tachs: &'a [Option<Reading>],
    /// Which temperature inputs are past their critical threshold (their
    /// owner's alarm); missing entries are not.
    pub critical: &'a [bool],
    /// Which fans' PWM outputs failed to take their last write; missing
    /// entries did not.
    pub failed_outputs: &'a [bool],
}

/// What the zone decided at a poll.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Each fan's PWM, in percent.
    pub pwm: Vec<f64>,
    /// Why the zone is in failsafe; empty when it is not.
    pub failsafe: Vec<FailsafeCause>,
    /// `Some(true)` when the zone entered failsafe at this poll,
    /// `Some(false)` when it left.
    pub failsafe_changed: Option<bool>,
    /// The highest controller demand (before slew limits), in percent.
    pub demand: f64,
}

enum Controller {
    Pid(Pid),
    Stepwise(Stepwise),
}

impl Controller {
    fn new(settings: &ControllerSettings) -> Self {
        match settings {
            ControllerSettings::Pid(s) => Self::Pid(Pid::new(*s)),
            ControllerSettings::Stepwise(s) => Self::Stepwise(Stepwise::new(s.clone())),
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Pid(pid) => pid.reset(),
            Self::Stepwise(table) => table.reset(),
        }
    }

    fn update(&mut self, reading: f64, dt: Duration) -> f64 {
        match self {
            Self::Pid(pid) => pid.update(reading, dt),
            Self::Stepwise(table) => table.update(reading),
        }
    }
}

/// The last answer an input gave, and when: a value, or a failure (`value`
/// `None` with `failed`), or nothing yet (`value` `None`, the first poll's
/// time).
#[derive(Clone, Copy, Debug)]
struct LastGood {
    value: Option<f64>,
    at: Duration,
    failed: bool,
}

/// A fan zone's state.
pub struct Zone {
    settings: ZoneSettings,
    controllers: Vec<Controller>,
    last_good: Vec<Option<LastGood>>,
    mode: Mode,
    /// The PWM each fan was last given.
    pwm: Vec<f64>,
    /// The operator's targets in manual mode.
    manual: Vec<f64>,
    /// Since when each fan has been driven (PWM above zero, host on).
    driven_since: Vec<Option<Duration>>,
    host_on_since: Option<Duration>,
    last_poll: Option<Duration>,
    in_failsafe: bool,
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zone")
            .field("mode", &self.mode)
            .field("pwm", &self.pwm)
            .field("in_failsafe", &self.in_failsafe)
            .finish_non_exhaustive()
    }
}

impl Zone {
    /// A zone that has not polled yet: its fans at `failsafe_pwm` until the
    /// first poll decides.
    pub fn new(settings: ZoneSettings) -> Self {
        let fans = settings.fans;
        Self {
            controllers: settings.inputs.iter().map(Controller::new).collect(),
            last_good: vec![None; settings.inputs.len()],
            mode: Mode::Automatic,
            pwm: vec![settings.failsafe_pwm; fans],
            manual: vec![settings.failsafe_pwm; fans],
            driven_since: vec![None; fans],
            host_on_since: None,
            last_poll: None,
            in_failsafe: false,
            settings,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ZoneSettings {
        &self.settings
    }

    /// Automatic or manual.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the zone is in failsafe (as of the last poll).
    pub fn in_failsafe(&self) -> bool {
        self.in_failsafe
    }

    /// Each fan's PWM as of the last poll, in percent.
    pub fn pwm(&self) -> &[f64] {
        &self.pwm
    }

    /// Switches mode. Entering manual mode, each fan's target is its
    /// present PWM, so nothing jumps; leaving it, the controllers' demand
    /// is approached through the slew limits.
    pub fn set_mode(&mut self, mode: Mode) {
        if mode == Mode::Manual && self.mode == Mode::Automatic {
            self.manual.clone_from(&self.pwm);
        }
        self.mode = mode;
    }

    /// Sets fan `fan`'s target in manual mode. It applies at once:
    /// [`Self::pwm`] shows it (raised to the failsafe PWM while in
    /// failsafe), for the caller to write.
    pub fn set_target(&mut self, fan: usize, pwm: f64) -> Result<(), TargetError> {
        if self.mode != Mode::Manual {
            return Err(TargetError::NotManual);
        }
        if !(0.0..=100.0).contains(&pwm) {
            return Err(TargetError::OutOfRange);
        }
        let target = self
            .manual
            .get_mut(fan)
            .ok_or(TargetError::NoSuchFan(fan))?;
        *target = pwm;
        self.pwm[fan] = if self.in_failsafe {
            pwm.max(self.settings.failsafe_pwm)
        } else {
            pwm
        };
        Ok(())
    }

    /// One poll: takes what was read and returns each fan's PWM.
    pub fn poll(&mut self, poll: &Poll<'_>) -> Decision {
        let s = &self.settings;
        let dt = self
            .last_poll
            .map_or(Duration::ZERO, |last| poll.now.saturating_sub(last));
        let first_poll = self.last_poll.is_none();
        self.last_poll = Some(poll.now);

        // The host's power: an edge on restarts the power-on ramp; while off
        // the controllers forget their state.
        match (poll.host_on, self.host_on_since) {
            (true, None) => self.host_on_since = Some(poll.now),
            (false, Some(_)) => {
                self.host_on_since = None;
                for controller in &mut self.controllers {
                    controller.reset();
                }
            }
            _ => {}
        }

        let mut input_causes = Vec::new();
        let mut demand: f64 = 0.0;
        for (index, controller) in self.controllers.iter_mut().enumerate() {
            let reading = poll.inputs.get(index).copied().unwrap_or(Reading::Failed);
            let last = &mut self.last_good[index];
            let value = match reading {
                Reading::Value(v) if v.is_finite() => {
                    *last = Some(LastGood {
                        value: Some(v),
                        at: poll.now,
                        failed: false,
                    });
                    Some(v)
                }
                Reading::Value(_) | Reading::Failed => {
                    *last = Some(LastGood {
                        value: None,
                        at: poll.now,
                        failed: true,
                    });
                    input_causes.push(FailsafeCause::InputFailed(index));
                    None
                }
                Reading::Unanswered => {
                    // Never answered: stale counts from its first unanswered
                    // poll. An input whose last answer was a failure stays
                    // failed.
                    let since = *last.get_or_insert(LastGood {
                        value: None,
                        at: poll.now,
                        failed: false,
                    });
                    if since.failed {
                        input_causes.push(FailsafeCause::InputFailed(index));
                        None
                    } else if poll.now.saturating_sub(since.at) >= s.stale_after {
                        input_causes.push(FailsafeCause::InputStale(index));
                        None
                    } else {
                        since.value
                    }
                }
            };
            if let (Some(value), true) = (value, poll.host_on) {
                demand = demand.max(controller.update(value, dt));
            }
        }
        let demand = demand.clamp(s.min_pwm, s.max_pwm);
        // While the host is off its inputs are not judged: many lose power
        // with it (a processor's PECI, a DIMM's sensor), and with no heat
        // the zone holds its minimum.
        let mut causes = if poll.host_on {
            input_causes
        } else {
            Vec::new()
        };
        // Past critical, or an output that cannot be driven: whatever the
        // host's power and the mode.
        for (index, _) in poll.critical.iter().enumerate().filter(|(_, c)| **c) {
            causes.push(FailsafeCause::InputCritical(index));
        }
        for (fan, _) in poll.failed_outputs.iter().enumerate().filter(|(_, f)| **f) {
            causes.push(FailsafeCause::OutputFailed(fan));
        }

        // Fans: stopped or unreadable while driven.
        for fan in 0..s.fans {
            let driven = poll.host_on && self.pwm[fan] > 0.0;
            let since = &mut self.driven_since[fan];
            match (driven, *since) {
                (true, None) => *since = Some(poll.now),
                (false, _) => *since = None,
                _ => {}
            }
            let spun_up = since.is_some_and(|at| poll.now.saturating_sub(at) >= s.spin_up);
            if !spun_up {
                continue;
            }
            match poll.tachs.get(fan).copied().flatten() {
                Some(Reading::Value(rpm)) if rpm.is_finite() && rpm >= s.stopped_rpm => {}
                Some(Reading::Value(_)) => causes.push(FailsafeCause::FanStopped(fan)),
                Some(Reading::Failed) => causes.push(FailsafeCause::TachFailed(fan)),
                Some(Reading::Unanswered) | None => {}
            }
        }

        let failsafe = !causes.is_empty();
        let failsafe_changed = (failsafe != self.in_failsafe).then_some(failsafe);
        self.in_failsafe = failsafe;

        let zone_pwm = self.pwm.iter().copied().fold(0.0, f64::max);
        let in_power_on_hold = self
            .host_on_since
            .is_some_and(|since| poll.now.saturating_sub(since) < s.power_on_hold);
        let pwm: Vec<f64> = match self.mode {
            Mode::Manual if failsafe => self
                .manual
                .iter()
                .map(|target| target.max(s.failsafe_pwm))
                .collect(),
            Mode::Manual => self.manual.clone(),
            Mode::Automatic => {
                // Failsafe and the power-on hold are floors: a hot input
                // that still reads may ask for more.
                let target = if failsafe {
                    s.failsafe_pwm.max(demand)
                } else if !poll.host_on {
                    s.min_pwm
                } else if in_power_on_hold {
                    s.power_on_pwm.max(demand)
                } else if first_poll {
                    demand
                } else {
                    slew(zone_pwm, demand, dt, s.slew_up, s.slew_down)
                };
                vec![target; s.fans]
            }
        };
        self.pwm.clone_from(&pwm);
        Decision {
            pwm,
            failsafe: causes,
            failsafe_changed,
            demand,
        }
    }
}

/// `from` moved toward `to` by at most `up` (rising) or `down` (falling)
/// percent per second over `dt`.
fn slew(from: f64, to: f64, dt: Duration, up: f64, down: f64) -> f64 {
    let dt = dt.as_secs_f64();
    if to > from {
        to.min(from + up * dt)
    } else {
        to.max(from - down * dt)
    }
}

#[cfg(test)]
mod tests;
