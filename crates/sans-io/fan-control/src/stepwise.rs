//! A stepwise (table) controller: each temperature step has a fan demand,
//! as a board's fan table in its thermal design guide gives it.
//!
//! The demand is that of the highest step the reading has reached. Going
//! down, it waits until the reading is `hysteresis` below the step it
//! leaves, so a reading that hovers at a step edge does not make the fans
//! hunt.

use serde::Deserialize;

/// A stepwise controller's table, from the zone's config.
///
/// ```toml
/// stepwise = { points = [[25.0, 20.0], [30.0, 35.0], [35.0, 60.0]], hysteresis = 1.0 }
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StepwiseSettings {
    /// `[temperature, percent]` pairs, temperatures rising: at or above
    /// each temperature, that demand. Below the first, no demand (the
    /// zone's minimum applies).
    pub points: Vec<[f64; 2]>,
    /// Degrees the reading must fall below a step before its demand goes.
    #[serde(default)]
    pub hysteresis: f64,
}

/// Why a stepwise table cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StepwiseSettingsError {
    /// The table is empty.
    #[error("the step table is empty")]
    Empty,
    /// Temperatures do not rise strictly, or a number is not finite.
    #[error("step temperatures must be finite and rise strictly")]
    NotRising,
    /// A demand is outside 0-100 %.
    #[error("step demands must be 0-100 %")]
    BadDemand,
    /// The hysteresis is negative or not finite.
    #[error("hysteresis must be a finite number of at least 0")]
    BadHysteresis,
}

impl StepwiseSettings {
    /// Checks the table.
    pub fn check(&self) -> Result<(), StepwiseSettingsError> {
        if self.points.is_empty() {
            return Err(StepwiseSettingsError::Empty);
        }
        if self.points.iter().any(|[t, _]| !t.is_finite())
            || self.points.windows(2).any(|w| w[0][0] >= w[1][0])
        {
            return Err(StepwiseSettingsError::NotRising);
        }
        if self
            .points
            .iter()
            .any(|[_, pwm]| !(0.0..=100.0).contains(pwm))
        {
            return Err(StepwiseSettingsError::BadDemand);
        }
        if !self.hysteresis.is_finite() || self.hysteresis < 0.0 {
            return Err(StepwiseSettingsError::BadHysteresis);
        }
        Ok(())
    }

    /// The demand of the highest step `reading` has reached.
    fn step(&self, reading: f64) -> f64 {
        self.points
            .iter()
            .rev()
            .find(|[t, _]| reading >= *t)
            .map_or(0.0, |[_, pwm]| *pwm)
    }
}

/// A stepwise controller's state: the demand it last gave.
#[derive(Clone, Debug)]
pub struct Stepwise {
    settings: StepwiseSettings,
    last: Option<f64>,
}

impl Stepwise {
    /// A controller that has given no demand yet.
    pub fn new(settings: StepwiseSettings) -> Self {
        Self {
            settings,
            last: None,
        }
    }

    /// Forgets the last demand.
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// The demand for `reading`, in percent.
    pub fn update(&mut self, reading: f64) -> f64 {
        let rising = self.settings.step(reading);
        let demand = match self.last {
            Some(last) if rising < last => {
                // Falling: as if the reading were `hysteresis` warmer, never
                // above where it was.
                let held = self.settings.step(reading + self.settings.hysteresis);
                held.min(last).max(rising)
            }
            _ => rising,
        };
        self.last = Some(demand);
        demand
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> StepwiseSettings {
        StepwiseSettings {
            points: vec![[25.0, 20.0], [30.0, 40.0], [35.0, 70.0]],
            hysteresis: 2.0,
        }
    }

    #[test]
    fn the_highest_step_reached_decides() {
        let mut c = Stepwise::new(table());
        assert_eq!(c.update(10.0), 0.0);
        assert_eq!(c.update(25.0), 20.0);
        assert_eq!(c.update(31.0), 40.0);
        assert_eq!(c.update(80.0), 70.0);
    }

    #[test]
    fn going_down_waits_for_the_hysteresis() {
        let mut c = Stepwise::new(table());
        assert_eq!(c.update(36.0), 70.0);
        // Just under the step: held.
        assert_eq!(c.update(34.0), 70.0);
        assert_eq!(c.update(33.5), 70.0);
        assert_eq!(c.update(32.9), 40.0);
        // Back up past the step edge rises at once.
        assert_eq!(c.update(35.0), 70.0);
        // A fall of several steps lands where the hysteresis allows.
        assert_eq!(c.update(20.0), 0.0);
        c.reset();
        assert_eq!(c.update(29.0), 20.0);
    }

    #[test]
    fn tables_are_checked() {
        assert!(table().check().is_ok());
        let empty = StepwiseSettings {
            points: vec![],
            hysteresis: 0.0,
        };
        assert_eq!(empty.check(), Err(StepwiseSettingsError::Empty));
        let falling = StepwiseSettings {
            points: vec![[30.0, 20.0], [30.0, 40.0]],
            hysteresis: 0.0,
        };
        assert_eq!(falling.check(), Err(StepwiseSettingsError::NotRising));
        let too_much = StepwiseSettings {
            points: vec![[30.0, 120.0]],
            hysteresis: 0.0,
        };
        assert_eq!(too_much.check(), Err(StepwiseSettingsError::BadDemand));
        let parsed: StepwiseSettings =
            toml::from_str("points = [[20.0, 10.0], [40.0, 100.0]]").unwrap();
        assert_eq!(parsed.hysteresis, 0.0);
    }
}
