use super::*;

const POLL: Duration = Duration::from_secs(1);

fn pid() -> ControllerSettings {
    ControllerSettings::Pid(PidSettings {
        setpoint: 70.0,
        kp: 3.0,
        ki: 0.3,
        kd: 0.0,
        output_min: 0.0,
        output_max: 100.0,
    })
}

fn settings() -> ZoneSettings {
    ZoneSettings {
        min_pwm: 20.0,
        max_pwm: 100.0,
        failsafe_pwm: 100.0,
        slew_up: 10.0,
        slew_down: 5.0,
        stale_after: Duration::from_secs(3),
        power_on_pwm: 60.0,
        power_on_hold: Duration::from_secs(5),
        stopped_rpm: 200.0,
        spin_up: Duration::from_secs(3),
        inputs: vec![pid()],
        fans: 2,
    }
}

/// A first-order thermal plant: 25 degrees ambient, heat from load, cooling
/// that grows with PWM; 20 s time constant at full airflow.
struct Plant {
    temperature: f64,
    load: f64,
}

impl Plant {
    fn step(&mut self, pwm: f64, dt: Duration) {
        let airflow = 0.15 + 0.85 * pwm / 100.0;
        let equilibrium = 25.0 + (20.0 + 60.0 * self.load) * 0.5 / airflow;
        let tau = 20.0 / airflow;
        let follow = 1.0 - (-dt.as_secs_f64() / tau).exp();
        self.temperature += (equilibrium - self.temperature) * follow;
    }

    fn rpm(pwm: f64) -> f64 {
        pwm * 100.0
    }
}

struct Run {
    zone: Zone,
    now: Duration,
    host_on: bool,
    critical: Vec<bool>,
    failed_outputs: Vec<bool>,
}

impl Run {
    fn new(settings: ZoneSettings) -> Self {
        Self {
            zone: Zone::new(settings),
            now: Duration::ZERO,
            host_on: true,
            critical: Vec::new(),
            failed_outputs: Vec::new(),
        }
    }

    fn poll(&mut self, inputs: &[Reading], tachs: &[Option<Reading>]) -> Decision {
        let decision = self.zone.poll(&Poll {
            now: self.now,
            host_on: self.host_on,
            inputs,
            tachs,
            critical: &self.critical,
            failed_outputs: &self.failed_outputs,
        });
        self.now += POLL;
        decision
    }

    /// Polls with every fan's tachometer as its PWM makes it spin.
    fn poll_healthy(&mut self, temperature: f64) -> Decision {
        let tachs: Vec<_> = self
            .zone
            .pwm()
            .iter()
            .map(|pwm| Some(Reading::Value(Plant::rpm(*pwm))))
            .collect();
        self.poll(&[Reading::Value(temperature)], &tachs)
    }
}

#[test]
fn a_load_step_settles_at_the_setpoint() {
    let mut run = Run::new(settings());
    let mut plant = Plant {
        temperature: 45.0,
        load: 0.2,
    };
    // Settle at light load, then a step to full load.
    for _ in 0..600 {
        let d = run.poll_healthy(plant.temperature);
        plant.step(d.pwm[0], POLL);
    }
    plant.load = 1.0;
    let mut peak: f64 = 0.0;
    let mut last_outside = Duration::ZERO;
    let step_at = run.now;
    for _ in 0..900 {
        let d = run.poll_healthy(plant.temperature);
        assert!(d.failsafe.is_empty(), "{:?}", d.failsafe);
        plant.step(d.pwm[0], POLL);
        peak = peak.max(plant.temperature);
        if (plant.temperature - 70.0).abs() > 2.0 {
            last_outside = run.now;
        }
    }
    assert!(
        (plant.temperature - 70.0).abs() < 0.5,
        "ends at {}",
        plant.temperature
    );
    assert!(peak < 80.0, "overshoot to {peak}");
    let settling = last_outside.saturating_sub(step_at);
    assert!(settling < Duration::from_secs(300), "{settling:?}");
}

#[test]
fn the_minimum_holds_when_cool_and_demand_saturates_at_the_maximum() {
    let mut run = Run::new(settings());
    // Past the power-on hold.
    for _ in 0..5 {
        run.poll_healthy(30.0);
    }
    let mut last = run.zone.pwm()[0];
    for _ in 0..30 {
        let d = run.poll_healthy(30.0);
        assert!(d.pwm[0] >= 20.0);
        last = d.pwm[0];
    }
    assert_eq!(last, 20.0);
    for _ in 0..30 {
        last = run.poll_healthy(120.0).pwm[0];
    }
    assert_eq!(last, 100.0);
}

#[test]
fn slew_limits_bound_each_step() {
    let mut run = Run::new(settings());
    for _ in 0..40 {
        run.poll_healthy(30.0);
    }
    assert_eq!(run.zone.pwm()[0], 20.0);
    // Far too hot: the demand jumps to 100 %, the PWM rises 10 %/s.
    let rising: Vec<f64> = (0..3).map(|_| run.poll_healthy(120.0).pwm[0]).collect();
    assert_eq!(rising, [30.0, 40.0, 50.0]);
    for _ in 0..10 {
        run.poll_healthy(120.0);
    }
    // Cold again: down 5 %/s.
    let falling: Vec<f64> = (0..2).map(|_| run.poll_healthy(20.0).pwm[0]).collect();
    assert_eq!(falling, [95.0, 90.0]);
}

#[test]
fn host_power_on_holds_the_ramp_then_slews_to_the_demand() {
    let mut run = Run::new(settings());
    run.host_on = false;
    // Off: the minimum, whatever the temperature.
    assert_eq!(run.poll_healthy(30.0).pwm, [20.0, 20.0]);
    run.host_on = true;
    for _ in 0..5 {
        assert_eq!(run.poll_healthy(30.0).pwm, [60.0, 60.0]);
    }
    // Then down toward the cool zone's minimum at the slew limit.
    assert_eq!(run.poll_healthy(30.0).pwm, [55.0, 55.0]);
}

#[test]
fn a_failed_input_sends_the_zone_to_failsafe_at_once_and_back() {
    let mut run = Run::new(settings());
    for _ in 0..40 {
        run.poll_healthy(30.0);
    }
    let tachs = [Some(Reading::Value(2000.0)); 2];
    let d = run.poll(&[Reading::Failed], &tachs);
    assert_eq!(d.pwm, [100.0, 100.0]);
    assert_eq!(d.failsafe, [FailsafeCause::InputFailed(0)]);
    assert_eq!(d.failsafe_changed, Some(true));
    // A NaN value is a failed reading too.
    let d = run.poll(&[Reading::Value(f64::NAN)], &tachs);
    assert_eq!(d.failsafe_changed, None);
    assert!(run.zone.in_failsafe());
    // Recovered: out of failsafe, slewing down.
    let d = run.poll(&[Reading::Value(30.0)], &tachs);
    assert_eq!(d.failsafe_changed, Some(false));
    assert_eq!(d.pwm, [95.0, 95.0]);
}

#[test]
fn an_unanswered_input_holds_its_last_value_until_stale() {
    let mut run = Run::new(settings());
    for _ in 0..40 {
        run.poll_healthy(30.0);
    }
    let tachs = [Some(Reading::Value(2000.0)); 2];
    // Silence: held for two polls, stale at the third, three seconds after
    // the last answer.
    assert!(run.poll(&[Reading::Unanswered], &tachs).failsafe.is_empty());
    assert!(run.poll(&[Reading::Unanswered], &tachs).failsafe.is_empty());
    let d = run.poll(&[Reading::Unanswered], &tachs);
    assert_eq!(d.failsafe, [FailsafeCause::InputStale(0)]);
    assert_eq!(d.pwm, [100.0, 100.0]);

    // An input that never answered is stale as long after the first poll.
    let mut fresh = Run::new(settings());
    for poll in 0..3 {
        let d = fresh.poll(&[Reading::Unanswered], &tachs);
        assert!(d.failsafe.is_empty(), "poll {poll}");
    }
    assert_eq!(
        fresh.poll(&[Reading::Unanswered], &tachs).failsafe,
        [FailsafeCause::InputStale(0)]
    );
}

#[test]
fn a_stopped_fan_is_caught_at_the_next_poll_once_spun_up() {
    let mut run = Run::new(settings());
    // While spinning up (first 3 s) a stopped tach does not count.
    for _ in 0..3 {
        let d = run.poll(&[Reading::Value(30.0)], &[Some(Reading::Value(0.0)); 2]);
        assert!(d.failsafe.is_empty());
    }
    for _ in 0..10 {
        run.poll_healthy(30.0);
    }
    let d = run.poll(
        &[Reading::Value(30.0)],
        &[Some(Reading::Value(2000.0)), Some(Reading::Value(0.0))],
    );
    assert_eq!(d.failsafe, [FailsafeCause::FanStopped(1)]);
    assert_eq!(d.pwm, [100.0, 100.0]);
    let d = run.poll(
        &[Reading::Value(30.0)],
        &[Some(Reading::Value(2000.0)), Some(Reading::Failed)],
    );
    assert_eq!(d.failsafe, [FailsafeCause::TachFailed(1)]);
    // A fan without a tachometer is never judged.
    let d = run.poll(
        &[Reading::Value(30.0)],
        &[Some(Reading::Value(2000.0)), None],
    );
    assert!(d.failsafe.is_empty());
    // With the host off the fans are not driven: zero RPM is expected.
    run.host_on = false;
    let d = run.poll(&[Reading::Value(30.0)], &[Some(Reading::Value(0.0)); 2]);
    assert!(d.failsafe.is_empty());
}

#[test]
fn manual_mode_pins_the_pwm_and_automatic_resumes() {
    let mut run = Run::new(settings());
    for _ in 0..40 {
        run.poll_healthy(30.0);
    }
    assert_eq!(run.zone.set_target(0, 50.0), Err(TargetError::NotManual));
    run.zone.set_mode(Mode::Manual);
    // Entering manual mode changes nothing by itself.
    assert_eq!(run.poll_healthy(30.0).pwm, [20.0, 20.0]);
    run.zone.set_target(0, 45.0).unwrap();
    run.zone.set_target(1, 75.0).unwrap();
    // At once, before the next poll.
    assert_eq!(run.zone.pwm(), [45.0, 75.0]);
    assert_eq!(run.zone.set_target(2, 50.0), Err(TargetError::NoSuchFan(2)));
    assert_eq!(run.zone.set_target(0, 101.0), Err(TargetError::OutOfRange));
    // Pinned, however hot it gets.
    for _ in 0..10 {
        assert_eq!(run.poll_healthy(95.0).pwm, [45.0, 75.0]);
    }
    // A fault still raises the floor to the failsafe PWM.
    let d = run.poll(&[Reading::Failed], &[Some(Reading::Value(5000.0)); 2]);
    assert_eq!(d.pwm, [100.0, 100.0]);
    assert_eq!(run.poll_healthy(95.0).pwm, [45.0, 75.0]);
    // Back to automatic: from the highest fan, toward the demand.
    run.zone.set_mode(Mode::Automatic);
    assert_eq!(run.poll_healthy(95.0).pwm, [85.0, 85.0]);
}

#[test]
fn a_stepwise_input_and_a_pid_input_the_highest_wins() {
    let mut s = settings();
    s.inputs
        .push(ControllerSettings::Stepwise(StepwiseSettings {
            points: vec![[25.0, 30.0], [35.0, 80.0]],
            hysteresis: 1.0,
        }));
    let mut run = Run::new(s);
    let tachs = [Some(Reading::Value(5000.0)); 2];
    let mut last = Decision {
        pwm: vec![],
        failsafe: vec![],
        failsafe_changed: None,
        demand: 0.0,
    };
    for _ in 0..40 {
        last = run.poll(&[Reading::Value(40.0), Reading::Value(30.0)], &tachs);
    }
    assert_eq!(last.demand, 30.0);
    assert_eq!(last.pwm, [30.0, 30.0]);
    for _ in 0..40 {
        last = run.poll(&[Reading::Value(40.0), Reading::Value(36.0)], &tachs);
    }
    assert_eq!(last.pwm, [80.0, 80.0]);
}

#[test]
fn settings_are_checked() {
    assert!(settings().check().is_ok());
    let mut s = settings();
    s.min_pwm = 120.0;
    assert_eq!(s.check(), Err(ZoneSettingsError::BadPwm("min-pwm")));
    let mut s = settings();
    s.slew_down = 0.0;
    assert_eq!(s.check(), Err(ZoneSettingsError::BadSlew("slew-down")));
    let mut s = settings();
    s.fans = 0;
    assert_eq!(s.check(), Err(ZoneSettingsError::NoFans));
    let mut s = settings();
    s.inputs
        .push(ControllerSettings::Stepwise(StepwiseSettings {
            points: vec![],
            hysteresis: 0.0,
        }));
    assert!(matches!(
        s.check(),
        Err(ZoneSettingsError::Stepwise { index: 1, .. })
    ));
}

#[test]
fn a_failed_input_stays_failed_while_unanswered() {
    let mut run = Run::new(settings());
    for _ in 0..40 {
        run.poll_healthy(30.0);
    }
    let tachs = [Some(Reading::Value(2000.0)); 2];
    assert_eq!(
        run.poll(&[Reading::Failed], &tachs).failsafe,
        [FailsafeCause::InputFailed(0)]
    );
    // Its owner then stops answering: the last answer was a failure, so
    // the zone stays in failsafe rather than trusting the older value.
    let d = run.poll(&[Reading::Unanswered], &tachs);
    assert_eq!(d.failsafe, [FailsafeCause::InputFailed(0)]);
    assert_eq!(d.failsafe_changed, None);
}

#[test]
fn failsafe_is_a_floor_and_inputs_are_not_judged_while_the_host_is_off() {
    let mut s = settings();
    s.failsafe_pwm = 60.0;
    s.inputs.push(pid());
    let mut run = Run::new(s);
    let tachs = [Some(Reading::Value(5000.0)); 2];
    for _ in 0..60 {
        run.poll(&[Reading::Value(30.0), Reading::Value(30.0)], &tachs);
    }
    // One input fails while the other is far too hot: failsafe, but the
    // hot input's demand wins over the failsafe PWM.
    let d = run.poll(&[Reading::Failed, Reading::Value(45.0)], &tachs);
    assert_eq!(d.failsafe, [FailsafeCause::InputFailed(0)]);
    assert_eq!(d.pwm[0], 60.0);
    let d = run.poll(&[Reading::Failed, Reading::Value(110.0)], &tachs);
    assert_eq!(d.pwm[0], 100.0);
    // Host off: a failed input is expected (its sensor lost power).
    run.host_on = false;
    let d = run.poll(&[Reading::Failed, Reading::Failed], &tachs);
    assert!(d.failsafe.is_empty(), "{:?}", d.failsafe);
    assert_eq!(d.failsafe_changed, Some(false));
    assert_eq!(d.pwm, [20.0, 20.0]);
    // A failsafe PWM under the minimum is refused.
    let mut s = settings();
    s.failsafe_pwm = 10.0;
    assert_eq!(s.check(), Err(ZoneSettingsError::BadPwm("failsafe-pwm")));
}

#[test]
fn a_critical_input_or_a_failed_output_is_a_cause_even_in_manual_mode() {
    let mut run = Run::new(settings());
    for _ in 0..40 {
        run.poll_healthy(30.0);
    }
    run.zone.set_mode(Mode::Manual);
    run.zone.set_target(0, 30.0).unwrap();
    run.zone.set_target(1, 30.0).unwrap();
    // The owner says the input is past critical: the failsafe floor lifts
    // the operator's targets.
    run.critical = vec![true];
    let d = run.poll_healthy(96.0);
    assert_eq!(d.failsafe, [FailsafeCause::InputCritical(0)]);
    assert_eq!(d.pwm, [100.0, 100.0]);
    run.critical = vec![false];
    assert_eq!(run.poll_healthy(80.0).pwm, [30.0, 30.0]);
    // A fan whose output cannot be written: the others go to failsafe.
    run.zone.set_mode(Mode::Automatic);
    run.failed_outputs = vec![false, true];
    let d = run.poll_healthy(30.0);
    assert_eq!(d.failsafe, [FailsafeCause::OutputFailed(1)]);
    assert_eq!(d.pwm, [100.0, 100.0]);
    // Host off: still causes.
    run.host_on = false;
    assert_eq!(
        run.poll_healthy(30.0).failsafe,
        [FailsafeCause::OutputFailed(1)]
    );
}
