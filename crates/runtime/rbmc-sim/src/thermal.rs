//! The simulated chassis's physics, as pure functions of the present state
//! and the elapsed time.
//!
//! A temperature is a first-order system: heat `P` comes in (from the
//! host's load, while it has power), and leaves through a conductance
//! `G(airflow)` toward the ambient air:
//!
//! ```text
//! C dT/dt = P - G(airflow) (T - ambient)        G(a) = g0 + (1 - g0) a
//! ```
//!
//! so it settles at `ambient + P / G` with time constant `C / G`: more
//! airflow, a cooler part that also answers faster. The config quotes each
//! temperature at [`REFERENCE_AIRFLOW`] (`nominal + load-gain x load`), which
//! fixes `P`; with no fan zone the airflow stays at the reference and the
//! readings are the config's. A fan's RPM follows its PWM duty with a lag of
//! its own.

use std::time::Duration;

/// The room's air, in degrees Celsius.
pub const AMBIENT: f64 = 22.0;

/// The fans' share of full airflow at which a sensor's `nominal` and
/// `load-gain` are quoted (the fans' speed when no zone drives them).
pub const REFERENCE_AIRFLOW: f64 = 0.4;

/// Conductance with the fans stopped, as a share of that at full airflow
/// (natural convection and the chassis's own conduction).
const STILL_AIR: f64 = 0.15;

/// A temperature's time constant at the reference airflow.
const TIME_CONSTANT: Duration = Duration::from_secs(20);

/// A fan's time constant: how fast its RPM follows its PWM.
const FAN_TIME_CONSTANT: Duration = Duration::from_secs(1);

/// The conductance at `airflow` (0-1), relative to full airflow.
fn conductance(airflow: f64) -> f64 {
    STILL_AIR + (1.0 - STILL_AIR) * airflow.clamp(0.0, 1.0)
}

/// A temperature `dt` on from `present`, heading for what the config quotes
/// at the reference airflow (`quoted`), while the fans give `airflow`.
pub fn temperature_step(present: f64, quoted: f64, airflow: f64, dt: Duration) -> f64 {
    let cooling = conductance(airflow) / conductance(REFERENCE_AIRFLOW);
    let settles_at = AMBIENT + (quoted - AMBIENT) / cooling;
    let time_constant = TIME_CONSTANT.as_secs_f64() / cooling;
    present + (settles_at - present) * (1.0 - (-dt.as_secs_f64() / time_constant).exp())
}

/// A fan's RPM `dt` on from `present`, heading for `target`.
pub fn fan_step(present: f64, target: f64, dt: Duration) -> f64 {
    let follow = 1.0 - (-dt.as_secs_f64() / FAN_TIME_CONSTANT.as_secs_f64()).exp();
    present + (target - present) * follow
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settle(quoted: f64, airflow: f64) -> f64 {
        temperature_step(AMBIENT, quoted, airflow, Duration::from_secs(3600))
    }

    #[test]
    fn at_the_reference_airflow_a_temperature_settles_where_the_config_says() {
        assert!((settle(60.0, REFERENCE_AIRFLOW) - 60.0).abs() < 1e-9);
        // One time constant closes 63 % of the gap.
        let after = temperature_step(22.0, 60.0, REFERENCE_AIRFLOW, TIME_CONSTANT);
        assert!((after - (22.0 + 38.0 * 0.632)).abs() < 0.01, "{after}");
    }

    #[test]
    fn more_airflow_cools_and_less_heats() {
        let full = settle(60.0, 1.0);
        let still = settle(60.0, 0.0);
        assert!(full < 60.0 && full > AMBIENT, "{full}");
        assert!(still > 60.0, "{still}");
        // Full airflow halves the rise over ambient of the reference.
        let expected = AMBIENT + 38.0 * conductance(REFERENCE_AIRFLOW);
        assert!((full - expected).abs() < 1e-9);
        // Nothing ever drops below the room's air.
        assert!(settle(AMBIENT, 1.0) >= AMBIENT - 1e-9);
    }

    #[test]
    fn a_fan_follows_its_target_with_a_lag() {
        let after = fan_step(0.0, 6000.0, FAN_TIME_CONSTANT);
        assert!((after - 6000.0 * 0.632).abs() < 1.0, "{after}");
        let later = fan_step(after, 6000.0, Duration::from_secs(10));
        assert!((later - 6000.0).abs() < 1.0);
    }
}
