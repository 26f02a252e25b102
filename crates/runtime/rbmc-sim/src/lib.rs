//! Virtual hardware for development.
//!
//! The simulator writes a fake hwmon sysfs tree — `class/hwmon/hwmonN/name`,
//! `<input>_input`, `<input>_label` — under a root directory, the same seam
//! rbmc-sensord reads on a real BMC, so everything above it runs the code
//! that ships. It animates every sensor whose source is hwmon:
//! temperatures follow a slowly varying load with thermal lag, fans speed up
//! with load, rails carry noise, currents and power follow load. Faults are
//! injected by sensor name: a fan stops, a temperature runs past its
//! critical threshold, a source disappears.
//!
//! With fan zones in `[cooling]`, the board has physics ([`thermal`]): each
//! fan zone's PWM outputs are `pwmN` files that rbmc-fand writes, a fan's
//! RPM follows its PWM with a lag, and every fan-cooled temperature is a
//! first-order lag toward ambient plus heat from load (while the host has
//! power) minus cooling that grows with the fans' airflow. Without zones the
//! fans follow load, as before, and temperatures sit where the config says.
//!
//! The simulator is deterministic for a given seed and step sequence, so
//! tests can rely on it; it reads no clock (the caller passes elapsed time),
//! so it runs on virtual time as readily as on the wall clock.

pub mod thermal;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use rbmc_config::{Config, SensorEntry, SensorKind, Source};

/// A fault to inject into one sensor.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Fault {
    /// The value drops to zero (a fan stops, a rail collapses).
    Stop,
    /// The value runs past the upper critical threshold (or near the top of
    /// the range when there is none).
    RunAway,
    /// The attribute file disappears: the source is gone.
    Remove,
}

impl std::str::FromStr for Fault {
    type Err = SimError;
    fn from_str(s: &str) -> Result<Self, SimError> {
        match s {
            "stop" => Ok(Self::Stop),
            "runaway" => Ok(Self::RunAway),
            "remove" => Ok(Self::Remove),
            other => Err(SimError::UnknownFault(other.to_owned())),
        }
    }
}

/// Why a simulator request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No simulated sensor has that name.
    #[error("no simulated sensor named {0:?}")]
    UnknownSensor(String),
    /// The fault name is not one of stop, runaway, remove.
    #[error("unknown fault {0:?} (use stop, runaway or remove)")]
    UnknownFault(String),
    /// Writing the tree failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

#[derive(Debug)]
struct SimSensor {
    name: String,
    kind: SensorKind,
    attribute: PathBuf,
    scale: f64,
    nominal: f64,
    noise: f64,
    load_gain: f64,
    standby: Option<f64>,
    runaway_target: f64,
    value: f64,
    fault: Option<Fault>,
    /// A fan's: the PWM sensor (index) that drives it.
    driven_by: Option<usize>,
    /// A fan's speed at full duty.
    max_rpm: f64,
    /// A temperature's: whether the fans' airflow cools it.
    fan_cooled: bool,
}

/// The simulated board.
#[derive(Debug)]
pub struct Simulator {
    root: PathBuf,
    sensors: Vec<SimSensor>,
    elapsed: Duration,
    load_override: Option<f64>,
    host_powered: bool,
    rng: u64,
}

impl Simulator {
    /// Lays out the tree under `root` for every hwmon-sourced sensor of
    /// `config` and writes the first values.
    pub fn new(config: &Config, root: &Path) -> Result<Self, SimError> {
        let mut devices: BTreeMap<(String, Option<String>), PathBuf> = BTreeMap::new();
        let mut sensors = Vec::new();
        for entry in &config.sensors {
            let Source::Hwmon {
                name,
                input,
                device,
            } = &entry.source
            else {
                continue;
            };
            let next = devices.len();
            let dir = devices
                .entry((name.clone(), device.clone()))
                .or_insert_with(|| {
                    // Start at hwmon3 and leave gaps: nothing may rely on
                    // the index.
                    let mut dir = root.join(format!("class/hwmon/hwmon{}", 3 + 2 * next));
                    if let Some(device) = device {
                        dir = root.join(format!("devices/{device}/hwmon/hwmon{}", 3 + 2 * next));
                    }
                    dir
                })
                .clone();
            write(&dir.join("name"), &format!("{name}\n"))?;
            write(
                &dir.join(format!("{input}_label")),
                &format!("{}\n", entry.name.0),
            )?;
            let attribute = dir.join(entry.kind.hwmon_attribute(input));
            if entry.kind == SensorKind::Pwm {
                // Full duty, as a board's firmware leaves its fans until
                // the BMC takes over. rbmc-fand writes it from then on.
                write(&attribute, "255\n")?;
            }
            sensors.push(SimSensor::new(entry, attribute));
        }
        // Each fan zone's tachometers follow their PWM outputs.
        for fan in config.cooling.zones.iter().flat_map(|z| &z.fans) {
            let index = |name: &str| sensors.iter().position(|s| s.name == name);
            if let (Some(tach), Some(pwm)) = (fan.tach.as_deref().and_then(index), index(&fan.pwm))
            {
                sensors[tach].driven_by = Some(pwm);
            }
        }
        // Devices with a device path live under devices/ and are linked from
        // class/hwmon, as in real sysfs.
        for ((_, device), dir) in &devices {
            if device.is_some() {
                let link = root
                    .join("class/hwmon")
                    .join(dir.file_name().unwrap_or_default());
                std::fs::create_dir_all(root.join("class/hwmon")).map_err(|source| {
                    SimError::Io {
                        path: link.clone(),
                        source,
                    }
                })?;
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(dir, &link)
                    .map_err(|source| SimError::Io { path: link, source })?;
            }
        }
        let mut sim = Self {
            root: root.to_path_buf(),
            sensors,
            elapsed: Duration::ZERO,
            load_override: None,
            host_powered: true,
            rng: 0x9E37_79B9_7F4A_7C15,
        };
        // Temperatures start where the config quotes them.
        let load = sim.load();
        for s in &mut sim.sensors {
            if s.kind == SensorKind::Temperature {
                s.value = s.nominal + s.load_gain * load;
            }
        }
        sim.step(Duration::ZERO)?;
        Ok(sim)
    }

    /// The sysfs root the simulator writes.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Names of the simulated sensors.
    pub fn sensor_names(&self) -> impl Iterator<Item = &str> {
        self.sensors.iter().map(|s| s.name.as_str())
    }

    /// The system load, 0.0 to 1.0: a slow wave unless overridden.
    pub fn load(&self) -> f64 {
        self.load_override.unwrap_or_else(|| {
            let t = self.elapsed.as_secs_f64();
            0.35 + 0.25 * (t / 60.0 * std::f64::consts::TAU).sin()
        })
    }

    /// Fixes the load (0.0-1.0), or returns to the slow wave with `None`.
    pub fn set_load(&mut self, load: Option<f64>) {
        self.load_override = load.map(|l| l.clamp(0.0, 1.0));
    }

    /// Says whether the simulated host has power: while it has none, a
    /// sensor with a standby level reads that instead of its load.
    pub fn set_host_powered(&mut self, powered: bool) {
        self.host_powered = powered;
    }

    /// Injects a fault into one sensor.
    pub fn inject(&mut self, sensor: &str, fault: Fault) -> Result<(), SimError> {
        let s = self.find(sensor)?;
        s.fault = Some(fault);
        if fault == Fault::Remove {
            let _ = std::fs::remove_file(&s.attribute);
        }
        Ok(())
    }

    /// Clears a sensor's fault; it returns to normal behaviour.
    pub fn clear(&mut self, sensor: &str) -> Result<(), SimError> {
        let s = self.find(sensor)?;
        s.fault = None;
        if s.kind != SensorKind::Fan {
            s.value = s.nominal;
        }
        Ok(())
    }

    fn find(&mut self, sensor: &str) -> Result<&mut SimSensor, SimError> {
        self.sensors
            .iter_mut()
            .find(|s| s.name == sensor)
            .ok_or_else(|| SimError::UnknownSensor(sensor.to_owned()))
    }

    /// The attribute file behind a sensor (what rbmc-sensord reads, and for
    /// a PWM output what rbmc-fand writes).
    pub fn attribute(&self, sensor: &str) -> Option<&Path> {
        self.sensors
            .iter()
            .find(|s| s.name == sensor)
            .map(|s| s.attribute.as_path())
    }

    /// A sensor's present value (without noise), in its unit.
    pub fn value(&self, sensor: &str) -> Option<f64> {
        self.sensors
            .iter()
            .find(|s| s.name == sensor)
            .map(|s| s.value)
    }

    /// The fans' share of full airflow that cools the board, 0-1: the mean
    /// of the driven fans' speeds, or [`thermal::REFERENCE_AIRFLOW`] when no
    /// fan is driven by a PWM.
    pub fn airflow(&self) -> f64 {
        let driven: Vec<f64> = self
            .sensors
            .iter()
            .filter(|s| s.driven_by.is_some() && s.max_rpm > 0.0)
            .map(|s| s.value / s.max_rpm)
            .collect();
        if driven.is_empty() {
            return thermal::REFERENCE_AIRFLOW;
        }
        #[allow(clippy::cast_precision_loss)]
        let count = driven.len() as f64;
        driven.iter().sum::<f64>() / count
    }

    /// Advances time by `dt` and rewrites every attribute but the PWM
    /// outputs, which it reads.
    pub fn step(&mut self, dt: Duration) -> Result<(), SimError> {
        self.elapsed += dt;
        let load = self.load();
        // PWM outputs first, then the fans they drive, then what the fans
        // cool.
        for s in &mut self.sensors {
            if s.kind == SensorKind::Pwm {
                if let Some(raw) = read_raw(&s.attribute) {
                    s.value = raw / s.scale;
                }
            }
        }
        let duties: Vec<f64> = self.sensors.iter().map(|s| s.value / 100.0).collect();
        for i in 0..self.sensors.len() {
            if self.sensors[i].kind == SensorKind::Fan {
                let noise = self.noise();
                self.update(i, load, thermal::REFERENCE_AIRFLOW, &duties, dt, noise)?;
            }
        }
        let airflow = self.airflow();
        for i in 0..self.sensors.len() {
            if !matches!(self.sensors[i].kind, SensorKind::Fan | SensorKind::Pwm) {
                let noise = self.noise();
                self.update(i, load, airflow, &duties, dt, noise)?;
            }
        }
        Ok(())
    }

    /// Moves sensor `i` on by `dt` and writes it.
    fn update(
        &mut self,
        i: usize,
        load: f64,
        airflow: f64,
        duties: &[f64],
        dt: Duration,
        noise: f64,
    ) -> Result<(), SimError> {
        let host_powered = self.host_powered;
        let s = &mut self.sensors[i];
        let target = match s.fault {
            Some(Fault::Stop) => 0.0,
            Some(Fault::RunAway) => s.runaway_target,
            Some(Fault::Remove) => return Ok(()),
            None => match (s.driven_by, s.standby) {
                (Some(pwm), _) => s.max_rpm * duties[pwm].clamp(0.0, 1.0),
                (None, Some(standby)) if !host_powered => standby,
                _ => s.nominal + s.load_gain * load,
            },
        };
        s.value = match (s.kind, s.fault) {
            // Faults show at once so tests need not wait for the lag.
            (_, Some(_)) => target,
            // dt 0 (a fault injected or cleared) leaves it where it is.
            (SensorKind::Temperature, None) => {
                let airflow = if s.fan_cooled {
                    airflow
                } else {
                    thermal::REFERENCE_AIRFLOW
                };
                thermal::temperature_step(s.value, target, airflow, dt)
            }
            (SensorKind::Fan, None) if s.driven_by.is_some() => {
                thermal::fan_step(s.value, target, dt)
            }
            _ => target,
        };
        let shown = if s.fault.is_some() {
            s.value
        } else {
            s.value + s.noise * noise
        };
        let raw = (shown * s.scale).round();
        write(&s.attribute, &format!("{raw}\n"))?;
        Ok(())
    }

    /// Uniform noise in [-1, 1] from a xorshift generator.
    fn noise(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The top 53 bits give an exact f64 in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        unit * 2.0 - 1.0
    }
}

impl SimSensor {
    fn new(entry: &SensorEntry, attribute: PathBuf) -> Self {
        let [min, max] = entry.range;
        let t = &entry.thresholds;
        let simulate = entry.simulate;
        let nominal = simulate.map(|s| s.nominal).unwrap_or_else(|| {
            match (t.lnc.or(t.lcr), t.unc.or(t.ucr)) {
                (Some(low), Some(high)) => (low + high) / 2.0,
                (None, Some(high)) => min + (high - min) * 0.5,
                (Some(low), None) => low + (max - low) * 0.3,
                (None, None) => min + (max - min) * 0.4,
            }
        });
        let runaway_target = match (t.ucr, t.unr) {
            (Some(ucr), Some(unr)) => (ucr + unr) / 2.0,
            (Some(ucr), None) => ucr + (max - ucr) / 2.0,
            (None, Some(unr)) => unr,
            (None, None) => max - (max - min) * 0.02,
        };
        Self {
            name: entry.name.0.clone(),
            kind: entry.kind,
            attribute,
            scale: entry.kind.hwmon_scale(),
            nominal,
            noise: simulate.map(|s| s.noise).unwrap_or(0.0),
            load_gain: simulate.map(|s| s.load_gain).unwrap_or(0.0),
            standby: simulate.and_then(|s| s.standby),
            runaway_target,
            value: nominal,
            fault: None,
            driven_by: None,
            max_rpm: simulate
                .and_then(|s| s.max_rpm)
                .unwrap_or(nominal + simulate.map_or(0.0, |s| s.load_gain)),
            fan_cooled: simulate.is_none_or(|s| s.fan_cooled),
        }
    }
}

/// A raw attribute value, if the file holds one.
fn read_raw(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let raw: i32 = text.trim().parse().ok()?;
    Some(f64::from(raw))
}

/// Writes a file whole: a reader never sees a half-written value (write to a
/// temporary name, then rename over the attribute).
fn write(path: &Path, contents: &str) -> Result<(), SimError> {
    let io = |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("rbmc-sim-tmp");
    std::fs::write(&tmp, contents).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_toml(
            r#"
[[sensors]]
name = "CPU0 Temp"
number = 1
kind = "temperature"
entity-id = 3
range = [0.0, 127.0]
source = { type = "hwmon", name = "rbmc_cpu", input = "temp1" }
thresholds = { unc = 80.0, ucr = 90.0, unr = 100.0 }
simulate = { nominal = 40.0, noise = 0.0, load-gain = 30.0 }

[[sensors]]
name = "FAN1"
number = 2
kind = "fan"
entity-id = 29
range = [0.0, 15000.0]
source = { type = "hwmon", name = "rbmc_fan", input = "fan1", device = "platform/fanctl" }
thresholds = { lcr = 500.0 }
simulate = { nominal = 4000.0, load-gain = 4000.0 }

[[sensors]]
name = "Total Power"
number = 3
kind = "power"
entity-id = 0x17
range = [0.0, 4080.0]
source = { type = "hwmon", name = "rbmc_power", input = "power1" }
simulate = { nominal = 300.0, load-gain = 1000.0, standby = 12.0 }
"#,
            "t.toml",
        )
        .unwrap()
    }

    fn root(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("rbmc-sim-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        root
    }

    fn read(root: &Path, pattern: &str) -> Option<i64> {
        for entry in std::fs::read_dir(root.join("class/hwmon")).ok()?.flatten() {
            let p = entry.path().join(pattern);
            if let Ok(text) = std::fs::read_to_string(&p) {
                return text.trim().parse().ok();
            }
        }
        None
    }

    #[test]
    fn lays_out_hwmon_devices_found_by_name() {
        let root = root("layout");
        let sim = Simulator::new(&config(), &root).unwrap();
        assert_eq!(sim.sensor_names().count(), 3);
        let names: Vec<String> = std::fs::read_dir(root.join("class/hwmon"))
            .unwrap()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path().join("name")).unwrap())
            .collect();
        assert!(names.contains(&"rbmc_cpu\n".to_owned()));
        assert!(names.contains(&"rbmc_fan\n".to_owned()));
        // The fan device is a link into devices/, like real sysfs.
        let fan_link = std::fs::read_dir(root.join("class/hwmon"))
            .unwrap()
            .flatten()
            .find(|e| std::fs::read_to_string(e.path().join("name")).unwrap() == "rbmc_fan\n")
            .unwrap();
        let target = std::fs::canonicalize(fan_link.path()).unwrap();
        assert!(target.to_string_lossy().contains("platform/fanctl"));
        assert_eq!(read(&root, "temp1_input"), Some(40_000 + 30_000 * 35 / 100));
    }

    #[test]
    fn temperature_follows_load_with_lag_and_faults_show_at_once() {
        let root = root("faults");
        let mut sim = Simulator::new(&config(), &root).unwrap();
        sim.set_load(Some(1.0));
        sim.step(Duration::from_secs(1)).unwrap();
        let after_1s = read(&root, "temp1_input").unwrap();
        assert!(after_1s > 50_500 && after_1s < 70_000, "{after_1s}");
        sim.step(Duration::from_secs(300)).unwrap();
        assert!((read(&root, "temp1_input").unwrap() - 70_000).abs() < 100);

        sim.inject("FAN1", Fault::Stop).unwrap();
        sim.inject("CPU0 Temp", Fault::RunAway).unwrap();
        sim.step(Duration::from_millis(100)).unwrap();
        assert_eq!(read(&root, "fan1_input"), Some(0));
        assert_eq!(read(&root, "temp1_input"), Some(95_000));

        sim.inject("CPU0 Temp", Fault::Remove).unwrap();
        sim.step(Duration::from_millis(100)).unwrap();
        assert_eq!(read(&root, "temp1_input"), None);
        sim.clear("CPU0 Temp").unwrap();
        sim.step(Duration::from_millis(100)).unwrap();
        assert!(read(&root, "temp1_input").is_some());

        assert!(matches!(
            sim.inject("nope", Fault::Stop),
            Err(SimError::UnknownSensor(_))
        ));
        assert!("melt".parse::<Fault>().is_err());
    }

    #[test]
    fn a_power_draw_falls_to_standby_while_the_host_is_off() {
        let root = root("standby");
        let mut sim = Simulator::new(&config(), &root).unwrap();
        sim.set_load(Some(0.5));
        sim.step(Duration::from_secs(1)).unwrap();
        assert_eq!(read(&root, "power1_input"), Some(800_000_000));
        sim.set_host_powered(false);
        sim.step(Duration::from_secs(1)).unwrap();
        assert_eq!(read(&root, "power1_input"), Some(12_000_000));
        // A sensor without a standby level does not care.
        assert_eq!(read(&root, "fan1_input"), Some(6000));
        sim.set_host_powered(true);
        sim.step(Duration::from_secs(1)).unwrap();
        assert_eq!(read(&root, "power1_input"), Some(800_000_000));
    }

    fn cooled_config() -> Config {
        Config::from_toml(
            r#"
[[sensors]]
name = "CPU0 Temp"
number = 1
kind = "temperature"
entity-id = 3
range = [0.0, 127.0]
source = { type = "hwmon", name = "rbmc_cpu", input = "temp1" }
simulate = { nominal = 40.0, load-gain = 30.0, standby = 30.0 }

[[sensors]]
name = "Inlet Temp"
number = 2
kind = "temperature"
entity-id = 0x37
range = [0.0, 127.0]
source = { type = "hwmon", name = "rbmc_cpu", input = "temp2" }
simulate = { nominal = 24.0, fan-cooled = false }

[[sensors]]
name = "FAN1"
number = 3
kind = "fan"
entity-id = 29
range = [0.0, 15000.0]
source = { type = "hwmon", name = "rbmc_fan", input = "fan1" }
simulate = { nominal = 4000.0, max-rpm = 10000.0 }

[[sensors]]
name = "FAN1 PWM"
number = 4
kind = "pwm"
entity-id = 29
range = [0.0, 100.0]
source = { type = "hwmon", name = "rbmc_fan", input = "pwm1" }

[[cooling.zones]]
id = 0
fans = [{ pwm = "FAN1 PWM", tach = "FAN1" }]
"#,
            "t.toml",
        )
        .unwrap()
    }

    fn set_pwm(root: &Path, raw: u8) {
        for entry in std::fs::read_dir(root.join("class/hwmon"))
            .unwrap()
            .flatten()
        {
            let p = entry.path().join("pwm1");
            if p.exists() {
                std::fs::write(p, format!("{raw}\n")).unwrap();
            }
        }
    }

    #[test]
    fn fans_follow_their_pwm_and_their_airflow_cools_the_board() {
        let root = root("cooled");
        let mut sim = Simulator::new(&cooled_config(), &root).unwrap();
        // The PWM starts at full duty, as firmware leaves it; nobody but
        // the fan owner writes it.
        assert_eq!(read(&root, "pwm1"), Some(255));
        sim.set_load(Some(1.0));
        for _ in 0..600 {
            sim.step(Duration::from_secs(1)).unwrap();
        }
        assert_eq!(read(&root, "pwm1"), Some(255));
        assert!((sim.value("FAN1").unwrap() - 10_000.0).abs() < 1.0);
        let cool = sim.value("CPU0 Temp").unwrap();
        // A fifth of full duty: the fan slows within seconds, the processor
        // warms over minutes.
        set_pwm(&root, 51);
        sim.step(Duration::from_secs(5)).unwrap();
        assert!((sim.value("FAN1").unwrap() - 2000.0).abs() < 100.0);
        for _ in 0..600 {
            sim.step(Duration::from_secs(1)).unwrap();
        }
        let warm = sim.value("CPU0 Temp").unwrap();
        assert!(warm > cool + 20.0, "{cool} -> {warm}");
        // The inlet reads the room whatever the fans do.
        assert!((sim.value("Inlet Temp").unwrap() - 24.0).abs() < 1e-6);
        // With the host off the heat goes: toward its standby level.
        sim.set_host_powered(false);
        for _ in 0..900 {
            sim.step(Duration::from_secs(1)).unwrap();
        }
        let off = sim.value("CPU0 Temp").unwrap();
        assert!(off < warm - 20.0, "{warm} -> {off}");
        // A stopped fan reads zero at once, whatever its PWM.
        sim.inject("FAN1", Fault::Stop).unwrap();
        sim.step(Duration::ZERO).unwrap();
        assert_eq!(read(&root, "fan1_input"), Some(0));
    }
}
