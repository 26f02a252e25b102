//! A PID controller that turns one temperature into a fan demand in percent
//! PWM.
//!
//! It is reverse-acting, as cooling is: a reading above the setpoint asks
//! for more airflow. The derivative acts on the reading, not on the error,
//! so a change of setpoint gives no kick. Anti-windup is conditional
//! integration: while the output sits at a limit, the integral does not grow
//! further past it, so the output leaves the limit as soon as the error
//! turns, not after the accumulated surplus has been paid back. (The limits
//! are the controller's own: while its zone holds the fans elsewhere, in
//! failsafe, manual mode or under a lower `max-pwm`, it keeps integrating
//! within them.)

use std::time::Duration;

use serde::Deserialize;

/// A PID controller's tuning, from the zone's config.
///
/// ```toml
/// pid = { setpoint = 70.0, kp = 3.0, ki = 0.15, kd = 0.0 }
/// ```
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PidSettings {
    /// The temperature to hold, in degrees Celsius.
    pub setpoint: f64,
    /// Proportional gain: percent PWM per degree above the setpoint.
    pub kp: f64,
    /// Integral gain: percent PWM per degree-second above the setpoint.
    #[serde(default)]
    pub ki: f64,
    /// Derivative gain: percent PWM per degree-per-second of rise.
    #[serde(default)]
    pub kd: f64,
    /// The lowest demand, in percent.
    #[serde(default)]
    pub output_min: f64,
    /// The highest demand, in percent.
    #[serde(default = "hundred")]
    pub output_max: f64,
}

fn hundred() -> f64 {
    100.0
}

/// Why PID settings cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PidSettingsError {
    /// A gain or the setpoint is not a finite number, or a gain is
    /// negative (cooling is reverse-acting by construction: gains are
    /// magnitudes).
    #[error("{0} must be a finite number of at least 0")]
    BadGain(&'static str),
    /// The output range is empty or outside 0-100 %.
    #[error("output-min and output-max must satisfy 0 <= min <= max <= 100")]
    BadOutputRange,
}

impl PidSettings {
    /// Checks the settings.
    pub fn check(&self) -> Result<(), PidSettingsError> {
        if !self.setpoint.is_finite() {
            return Err(PidSettingsError::BadGain("setpoint"));
        }
        for (name, gain) in [("kp", self.kp), ("ki", self.ki), ("kd", self.kd)] {
            if !gain.is_finite() || gain < 0.0 {
                return Err(PidSettingsError::BadGain(name));
            }
        }
        if !(0.0..=100.0).contains(&self.output_min)
            || !(0.0..=100.0).contains(&self.output_max)
            || self.output_min > self.output_max
        {
            return Err(PidSettingsError::BadOutputRange);
        }
        Ok(())
    }
}

/// A PID controller's state.
#[derive(Clone, Debug)]
pub struct Pid {
    settings: PidSettings,
    integral: f64,
    last_input: Option<f64>,
}

impl Pid {
    /// A controller at rest: no integral, no previous reading.
    pub fn new(settings: PidSettings) -> Self {
        Self {
            settings,
            integral: 0.0,
            last_input: None,
        }
    }

    /// The tuning.
    pub fn settings(&self) -> &PidSettings {
        &self.settings
    }

    /// Forgets the integral and the previous reading (the host went off).
    pub fn reset(&mut self) {
        self.integral = 0.0;
        self.last_input = None;
    }

    /// The integral term, in percent.
    pub fn integral(&self) -> f64 {
        self.integral
    }

    /// One step: `input` was read `dt` after the previous step. Returns the
    /// demand in percent, within the output range.
    pub fn update(&mut self, input: f64, dt: Duration) -> f64 {
        let s = self.settings;
        let dt = dt.as_secs_f64();
        let error = input - s.setpoint;
        let derivative = match self.last_input {
            Some(previous) if dt > 0.0 => (input - previous) / dt,
            _ => 0.0,
        };
        self.last_input = Some(input);
        let proportional = s.kp * error;
        let damping = s.kd * derivative;
        let integral = self.integral + s.ki * error * dt;
        let unlimited = proportional + integral + damping;
        // Conditional integration: integrate unless the output is at a limit
        // and the error pushes it further out. The integral alone never
        // leaves the output range either.
        let winding_up = unlimited > s.output_max && error > 0.0;
        let winding_down = unlimited < s.output_min && error < 0.0;
        if !winding_up && !winding_down {
            self.integral = integral.clamp(s.output_min - s.output_max, s.output_max);
        }
        (proportional + self.integral + damping).clamp(s.output_min, s.output_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn settings(kp: f64, ki: f64, kd: f64) -> PidSettings {
        PidSettings {
            setpoint: 70.0,
            kp,
            ki,
            kd,
            output_min: 0.0,
            output_max: 100.0,
        }
    }

    #[test]
    fn a_step_above_the_setpoint_asks_for_proportional_then_growing_output() {
        let mut pid = Pid::new(settings(4.0, 0.5, 0.0));
        assert_eq!(pid.update(70.0, SECOND), 0.0);
        // A 5-degree step: 20 % at once, then 2.5 % more each second.
        let first = pid.update(75.0, SECOND);
        assert!((first - 22.5).abs() < 1e-9, "{first}");
        let second = pid.update(75.0, SECOND);
        assert!((second - 25.0).abs() < 1e-9, "{second}");
        // Below the setpoint the demand falls.
        let cooler = pid.update(69.0, SECOND);
        assert!(cooler < second);
    }

    #[test]
    fn the_output_saturates_at_its_limits() {
        let mut pid = Pid::new(PidSettings {
            output_min: 20.0,
            output_max: 80.0,
            ..settings(10.0, 0.0, 0.0)
        });
        assert_eq!(pid.update(100.0, SECOND), 80.0);
        assert_eq!(pid.update(20.0, SECOND), 20.0);
    }

    #[test]
    fn anti_windup_leaves_saturation_as_soon_as_the_error_turns() {
        let mut pid = Pid::new(settings(2.0, 1.0, 0.0));
        // Ten minutes far above the setpoint: saturated at 100 % within a
        // minute, and held there.
        for second in 0..600 {
            let output = pid.update(90.0, SECOND);
            if second >= 60 {
                assert_eq!(output, 100.0, "at {second} s");
            }
        }
        // Without anti-windup the integral would be 12 000 %; it stops
        // growing once the output is at the limit.
        assert!(pid.integral() <= 100.0, "{}", pid.integral());
        // One degree below the setpoint: off the limit within a few steps,
        // not after thousands.
        let mut steps = 0;
        while pid.update(69.0, SECOND) >= 100.0 {
            steps += 1;
            assert!(steps < 5, "still saturated after {steps} steps");
        }
    }

    #[test]
    fn the_derivative_acts_on_the_reading_and_damps_a_rise() {
        let mut with_d = Pid::new(settings(1.0, 0.0, 10.0));
        let mut without_d = Pid::new(settings(1.0, 0.0, 0.0));
        for pid in [&mut with_d, &mut without_d] {
            pid.update(72.0, SECOND);
        }
        // Rising 1 degree a second: the derivative adds 10 %.
        let damped = with_d.update(73.0, SECOND);
        let plain = without_d.update(73.0, SECOND);
        assert!((damped - plain - 10.0).abs() < 1e-9, "{damped} vs {plain}");
        // A reset forgets the previous reading: no derivative kick.
        with_d.reset();
        assert_eq!(with_d.update(80.0, SECOND), 10.0);
    }

    #[test]
    fn settings_are_checked() {
        assert!(settings(1.0, 0.1, 0.0).check().is_ok());
        assert_eq!(
            settings(-1.0, 0.0, 0.0).check(),
            Err(PidSettingsError::BadGain("kp"))
        );
        assert_eq!(
            settings(1.0, f64::NAN, 0.0).check(),
            Err(PidSettingsError::BadGain("ki"))
        );
        let inverted = PidSettings {
            output_min: 60.0,
            output_max: 40.0,
            ..settings(1.0, 0.0, 0.0)
        };
        assert_eq!(inverted.check(), Err(PidSettingsError::BadOutputRange));
        let parsed: PidSettings = toml::from_str("setpoint = 65.0\nkp = 3.0").unwrap();
        assert_eq!(parsed.output_max, 100.0);
        assert_eq!(parsed.ki, 0.0);
    }
}
