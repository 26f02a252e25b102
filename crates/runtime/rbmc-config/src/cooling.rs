//! `[cooling]`: rbmc-fand's fan zones.
//!
//! ```toml
//! [cooling]
//! poll-ms = 1000
//!
//! [[cooling.zones]]
//! id = 0
//! min-pwm = 25.0            # percent, while the host is on
//! failsafe-pwm = 100.0
//! fans = [{ pwm = "FAN1 PWM", tach = "FAN1" }]
//!
//! [[cooling.zones.inputs]]
//! sensor = "CPU0 Temp"
//! pid = { setpoint = 70.0, kp = 3.0, ki = 0.15 }
//!
//! [[cooling.zones.inputs]]
//! sensor = "Inlet Temp"
//! stepwise = { points = [[30.0, 40.0], [35.0, 70.0]], hysteresis = 1.0 }
//! ```
//!
//! Inputs name temperature sensors of `[[sensors]]`, fans name a `pwm`
//! sensor (the output: its hwmon `pwmN`) and optionally a `fan` sensor (its
//! tachometer). A name that is not a sensor of the right kind, or a PWM
//! that two zones share, is an error.

use std::time::Duration;

use fan_control::{ControllerSettings, PidSettings, StepwiseSettings, ZoneSettings};
use serde::Deserialize;

use crate::sensors::{SensorEntry, SensorKind, Source};

/// `[cooling]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Cooling {
    /// How often every zone reads its inputs and sets its fans, in ms.
    pub poll_ms: u64,
    /// The zones; none: rbmc-fand drives no fan.
    pub zones: Vec<FanZone>,
}

impl Default for Cooling {
    fn default() -> Self {
        Self {
            // 1 Hz, as phosphor-pid-control's thermal loop and the sensors'
            // default poll.
            poll_ms: 1000,
            zones: Vec::new(),
        }
    }
}

/// One zone.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FanZone {
    /// The zone number: its D-Bus object (`zone<id>`) and its IPMI number.
    pub id: u8,
    /// The lowest PWM while the host is on, percent.
    #[serde(default = "default_min_pwm")]
    pub min_pwm: f64,
    /// The highest PWM the controllers ask for, percent.
    #[serde(default = "hundred")]
    pub max_pwm: f64,
    /// The PWM in failsafe, percent.
    #[serde(default = "hundred")]
    pub failsafe_pwm: f64,
    /// The fastest rise, percent per second.
    #[serde(default = "default_slew_up")]
    pub slew_up: f64,
    /// The fastest fall, percent per second.
    #[serde(default = "default_slew_down")]
    pub slew_down: f64,
    /// An input unanswered this long is stale, ms.
    #[serde(default = "default_stale_after_ms")]
    pub stale_after_ms: u64,
    /// The ramp at host power-on.
    #[serde(default)]
    pub power_on: PowerOnRamp,
    /// A driven fan below this many RPM has stopped.
    #[serde(default = "default_stopped_rpm")]
    pub stopped_rpm: f64,
    /// How long a fan may take to spin up before its tachometer counts, ms.
    #[serde(default = "default_spin_up_ms")]
    pub spin_up_ms: u64,
    /// The fans.
    pub fans: Vec<ZoneFan>,
    /// The temperature inputs and their controllers.
    #[serde(default)]
    pub inputs: Vec<ZoneInput>,
}

fn default_min_pwm() -> f64 {
    25.0
}
fn hundred() -> f64 {
    100.0
}
fn default_slew_up() -> f64 {
    10.0
}
fn default_slew_down() -> f64 {
    2.0
}
fn default_stale_after_ms() -> u64 {
    5000
}
fn default_stopped_rpm() -> f64 {
    100.0
}
fn default_spin_up_ms() -> u64 {
    5000
}

/// `power-on = { pwm = 80.0, hold-ms = 10000 }`: the PWM right after the
/// host powers on, and for how long.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PowerOnRamp {
    /// Percent.
    pub pwm: f64,
    /// Milliseconds.
    pub hold_ms: u64,
}

impl Default for PowerOnRamp {
    fn default() -> Self {
        Self {
            pwm: 80.0,
            hold_ms: 10_000,
        }
    }
}

/// One fan of a zone.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ZoneFan {
    /// The `pwm` sensor that is its output.
    pub pwm: String,
    /// The `fan` sensor that is its tachometer, if it has one.
    #[serde(default)]
    pub tach: Option<String>,
}

/// One temperature input: a sensor and exactly one controller.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ZoneInput {
    /// The temperature sensor.
    pub sensor: String,
    /// A PID loop toward a setpoint.
    #[serde(default)]
    pub pid: Option<PidSettings>,
    /// A step table.
    #[serde(default)]
    pub stepwise: Option<StepwiseSettings>,
}

impl ZoneInput {
    /// The input's controller (checked to be exactly one).
    pub fn controller(&self) -> ControllerSettings {
        match (&self.pid, &self.stepwise) {
            (Some(pid), _) => ControllerSettings::Pid(*pid),
            (None, Some(table)) => ControllerSettings::Stepwise(table.clone()),
            // Refused by validation; an empty table asks for nothing.
            (None, None) => ControllerSettings::Stepwise(StepwiseSettings {
                points: vec![[f64::MAX, 0.0]],
                hysteresis: 0.0,
            }),
        }
    }
}

impl FanZone {
    /// The controller's settings.
    pub fn settings(&self) -> ZoneSettings {
        ZoneSettings {
            min_pwm: self.min_pwm,
            max_pwm: self.max_pwm,
            failsafe_pwm: self.failsafe_pwm,
            slew_up: self.slew_up,
            slew_down: self.slew_down,
            stale_after: Duration::from_millis(self.stale_after_ms),
            power_on_pwm: self.power_on.pwm,
            power_on_hold: Duration::from_millis(self.power_on.hold_ms),
            stopped_rpm: self.stopped_rpm,
            spin_up: Duration::from_millis(self.spin_up_ms),
            inputs: self.inputs.iter().map(ZoneInput::controller).collect(),
            fans: self.fans.len(),
        }
    }
}

impl Cooling {
    /// Checks every zone against the sensors.
    pub(crate) fn validate(&self, sensors: &[SensorEntry]) -> Result<(), String> {
        if self.poll_ms == 0 {
            return Err("cooling.poll-ms must be at least 1".into());
        }
        let mut pwm_owners: Vec<(&str, u8)> = Vec::new();
        for (i, zone) in self.zones.iter().enumerate() {
            let at = format!("cooling.zones[{i}] (zone {})", zone.id);
            if self.zones[..i].iter().any(|z| z.id == zone.id) {
                return Err(format!("{at}: zone id {} is used twice", zone.id));
            }
            let sensor = |name: &str, kind: SensorKind, role: &str| match sensors
                .iter()
                .find(|s| s.name.0 == name)
            {
                None => Err(format!("{at}: {role} {name:?}: no sensor has that name")),
                Some(s) if s.kind != kind => Err(format!(
                    "{at}: {role} {name:?} is a {:?} sensor, not {kind:?}",
                    s.kind
                )),
                Some(s) => Ok(s),
            };
            for input in &zone.inputs {
                sensor(&input.sensor, SensorKind::Temperature, "input")?;
                if input.pid.is_some() == input.stepwise.is_some() {
                    return Err(format!(
                        "{at}: input {:?} needs exactly one of pid and stepwise",
                        input.sensor
                    ));
                }
            }
            for fan in &zone.fans {
                let output = sensor(&fan.pwm, SensorKind::Pwm, "fan pwm")?;
                if !matches!(output.source, Source::Hwmon { .. }) {
                    return Err(format!(
                        "{at}: fan pwm {:?} must have a hwmon source (its pwmN)",
                        fan.pwm
                    ));
                }
                if let Some((_, owner)) = pwm_owners.iter().find(|(name, _)| *name == fan.pwm) {
                    return Err(format!(
                        "{at}: fan pwm {:?} is already driven by zone {owner}",
                        fan.pwm
                    ));
                }
                pwm_owners.push((&fan.pwm, zone.id));
                if let Some(tach) = &fan.tach {
                    sensor(tach, SensorKind::Fan, "fan tach")?;
                }
            }
            zone.settings()
                .check()
                .map_err(|err| format!("{at}: {err}"))?;
        }
        Ok(())
    }

    /// The zone driving the PWM sensor `pwm`, and the fan's place in it.
    pub fn zone_of_pwm(&self, pwm: &str) -> Option<(&FanZone, usize)> {
        self.zones.iter().find_map(|zone| {
            zone.fans
                .iter()
                .position(|fan| fan.pwm == pwm)
                .map(|index| (zone, index))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    const SENSORS: &str = r#"
[[sensors]]
name = "CPU0 Temp"
number = 1
kind = "temperature"
entity-id = 3
range = [0.0, 127.0]
source = { type = "hwmon", name = "cpu", input = "temp1" }

[[sensors]]
name = "FAN1"
number = 2
kind = "fan"
entity-id = 29
range = [0.0, 15000.0]
source = { type = "hwmon", name = "fans", input = "fan1" }

[[sensors]]
name = "FAN1 PWM"
number = 3
kind = "pwm"
entity-id = 29
range = [0.0, 100.0]
source = { type = "hwmon", name = "fans", input = "pwm1" }
"#;

    fn with_zone(zone: &str) -> Result<Config, String> {
        Config::from_toml(&format!("{SENSORS}\n{zone}"), "t.toml").map_err(|e| e.to_string())
    }

    const ZONE: &str = r#"
[[cooling.zones]]
id = 0
fans = [{ pwm = "FAN1 PWM", tach = "FAN1" }]

[[cooling.zones.inputs]]
sensor = "CPU0 Temp"
pid = { setpoint = 70.0, kp = 3.0, ki = 0.1 }
"#;

    #[test]
    fn a_zone_names_its_sensors() {
        let config = with_zone(ZONE).unwrap();
        let zone = &config.cooling.zones[0];
        assert_eq!(zone.min_pwm, 25.0);
        assert_eq!(zone.settings().fans, 1);
        assert_eq!(config.cooling.zone_of_pwm("FAN1 PWM").unwrap().1, 0);
    }

    #[test]
    fn an_unknown_or_wrong_sensor_is_named() {
        let err = with_zone(&ZONE.replace("\"CPU0 Temp\"", "\"CPU9 Temp\"")).unwrap_err();
        assert!(
            err.contains("zone 0") && err.contains("\"CPU9 Temp\"") && err.contains("no sensor"),
            "{err}"
        );
        let err = with_zone(&ZONE.replace("pwm = \"FAN1 PWM\"", "pwm = \"FAN1\"")).unwrap_err();
        assert!(err.contains("fan pwm \"FAN1\" is a Fan sensor"), "{err}");
        let err = with_zone(&ZONE.replace("tach = \"FAN1\"", "tach = \"FAN7\"")).unwrap_err();
        assert!(err.contains("fan tach \"FAN7\""), "{err}");
    }

    #[test]
    fn each_input_has_one_controller_and_each_pwm_one_zone() {
        let both = ZONE.replace(
            "ki = 0.1 }",
            "ki = 0.1 }\nstepwise = { points = [[30.0, 50.0]] }",
        );
        let err = with_zone(&both).unwrap_err();
        assert!(err.contains("exactly one of pid and stepwise"), "{err}");
        let shared = format!("{ZONE}\n{}", ZONE.replace("id = 0", "id = 1"));
        let err = with_zone(&shared).unwrap_err();
        assert!(err.contains("already driven by zone 0"), "{err}");
        let twice = format!("{ZONE}\n{ZONE}");
        assert!(with_zone(&twice).unwrap_err().contains("used twice"));
        let bad_pid = ZONE.replace("kp = 3.0", "kp = -3.0");
        assert!(with_zone(&bad_pid).unwrap_err().contains("kp"));
    }
}
