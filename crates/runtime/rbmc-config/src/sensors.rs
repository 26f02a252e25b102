//! `[hwmon]`, `[[sensors]]` and `[fru]`: what rbmc-sensord reads and serves.
//!
//! ```toml
//! [[sensors]]
//! name = "CPU0 Temp"            # SDR ID string and D-Bus object name
//! number = 0x01                 # IPMI sensor number, unique
//! kind = "temperature"          # temperature | voltage | current | fan | power | pwm
//! entity-id = 0x03              # IPMI entity (Table 43-13): 03h processor
//! entity-instance = 1
//! range = [0.0, 127.0]          # readings the SDR conversion must cover
//! source = { type = "hwmon", name = "coretemp", input = "temp1" }
//! thresholds = { unc = 80.0, ucr = 90.0, unr = 100.0 }
//! hysteresis = 2.0
//! ```

use std::path::PathBuf;

use serde::Deserialize;

/// `[hwmon]`: where the hwmon class lives.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Hwmon {
    /// Root of sysfs; devices are found under `<root>/class/hwmon/*`.
    pub sysfs_root: PathBuf,
}

impl Default for Hwmon {
    fn default() -> Self {
        Self {
            sysfs_root: PathBuf::from("/sys"),
        }
    }
}

/// One IPMI sensor.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SensorEntry {
    /// Name: the SDR ID string (at most 16 bytes) and the D-Bus object name.
    pub name: SensorName,
    /// IPMI sensor number (0-254; FFh is reserved), unique within its LUN.
    pub number: SensorNumber,
    /// The BMC LUN the sensor is on: 0, or the OEM LUNs 1 and 3 for more
    /// than 255 sensors (IPMI v2.0 §7.2: LUN 2 is the SMS message LUN).
    #[serde(default)]
    pub lun: u8,
    /// What it measures.
    pub kind: SensorKind,
    /// IPMI entity ID (IPMI v2.0 Table 43-13).
    pub entity_id: u8,
    /// Entity instance, 0-127.
    #[serde(default = "one")]
    pub entity_instance: u8,
    /// Readings the SDR's 8-bit conversion must cover: [min, max].
    pub range: [f64; 2],
    /// Where readings come from.
    pub source: Source,
    /// How often to read, in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Threshold values in the sensor's unit.
    #[serde(default)]
    pub thresholds: ThresholdValues,
    /// Hysteresis in the sensor's unit, both directions.
    #[serde(default)]
    pub hysteresis: f64,
    /// The step of one raw count, in the sensor's unit (the SDR's
    /// M x 10^Rexp). Without it, the finest step that covers `range` and on
    /// which every threshold and the hysteresis are exact.
    #[serde(default)]
    pub resolution: Option<f64>,
    /// How the development simulator animates this sensor (ignored on real
    /// hardware).
    #[serde(default)]
    pub simulate: Option<Simulation>,
}

fn one() -> u8 {
    1
}

fn default_poll_ms() -> u64 {
    // 1 Hz: what OpenBMC's hwmon daemons default to.
    1000
}

/// A sensor name: 1-16 printable ASCII characters (the SDR ID string limit,
/// IPMI v2.0 Table 43-1 byte 48).
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq)]
#[serde(try_from = "String")]
pub struct SensorName(pub String);

impl TryFrom<String> for SensorName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        if name.is_empty()
            || name.len() > 16
            || !name.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(format!(
                "sensor name {name:?} must be 1-16 printable ASCII characters"
            ));
        }
        Ok(Self(name))
    }
}

impl SensorName {
    /// The name as a D-Bus object path element: spaces become underscores,
    /// anything else outside `[A-Za-z0-9_]` too (OpenBMC's convention).
    pub fn object_name(&self) -> String {
        self.0
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }
}

/// A sensor number 0-254.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq)]
#[serde(try_from = "u8")]
pub struct SensorNumber(pub u8);

impl TryFrom<u8> for SensorNumber {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        if n == 0xFF {
            Err("sensor number 255 is reserved".into())
        } else {
            Ok(Self(n))
        }
    }
}

/// What a sensor measures; decides the IPMI sensor type, the unit, the hwmon
/// scaling and the D-Bus path.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum SensorKind {
    /// Degrees Celsius; hwmon `temp*_input` in millidegrees.
    Temperature,
    /// Volts; hwmon `in*_input` in millivolts.
    Voltage,
    /// Amperes; hwmon `curr*_input` in milliamperes.
    Current,
    /// RPM; hwmon `fan*_input` in RPM.
    Fan,
    /// Watts; hwmon `power*_input` in microwatts.
    Power,
    /// A fan's PWM duty in percent; hwmon `pwm*` (no `_input`), 0-255.
    /// rbmc-fand writes it; rbmc-sensord only reads it.
    Pwm,
}

impl SensorKind {
    /// How many hwmon units make one unit of the sensor.
    pub fn hwmon_scale(self) -> f64 {
        match self {
            Self::Temperature | Self::Voltage | Self::Current => 1000.0,
            Self::Fan => 1.0,
            Self::Power => 1_000_000.0,
            // 255 is 100 %.
            Self::Pwm => 2.55,
        }
    }

    /// The hwmon attribute file of channel `input` (`temp1`, `pwm1`):
    /// `<input>_input` for a measurement, the channel itself for a PWM
    /// (Documentation/hwmon/sysfs-interface.rst).
    pub fn hwmon_attribute(self, input: &str) -> String {
        match self {
            Self::Pwm => input.to_owned(),
            _ => format!("{input}_input"),
        }
    }

    /// The iio channel type that measures this kind (`in_<type>N_raw`, in
    /// milli-units once scaled: ABI `sysfs-bus-iio`), if iio has one in
    /// the units [`Self::hwmon_scale`] assumes.
    pub fn iio_channel_type(self) -> Option<&'static str> {
        match self {
            Self::Temperature => Some("temp"),
            Self::Voltage => Some("voltage"),
            Self::Current => Some("current"),
            // iio has no tachometer or PWM type, and its power is in
            // milliwatts.
            Self::Fan | Self::Power | Self::Pwm => None,
        }
    }

    /// The OpenBMC D-Bus path element (`/xyz/openbmc_project/sensors/<kind>`).
    pub fn dbus_kind(self) -> &'static str {
        match self {
            Self::Temperature => "temperature",
            Self::Voltage => "voltage",
            Self::Current => "current",
            Self::Fan => "fan_tach",
            Self::Power => "power",
            Self::Pwm => "fan_pwm",
        }
    }

    /// The OpenBMC `Sensor.Value.Unit` value.
    pub fn dbus_unit(self) -> &'static str {
        match self {
            Self::Temperature => "xyz.openbmc_project.Sensor.Value.Unit.DegreesC",
            Self::Voltage => "xyz.openbmc_project.Sensor.Value.Unit.Volts",
            Self::Current => "xyz.openbmc_project.Sensor.Value.Unit.Amperes",
            Self::Fan => "xyz.openbmc_project.Sensor.Value.Unit.RPMS",
            Self::Power => "xyz.openbmc_project.Sensor.Value.Unit.Watts",
            Self::Pwm => "xyz.openbmc_project.Sensor.Value.Unit.Percent",
        }
    }
}

/// Where a sensor's readings come from.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Source {
    /// A Linux hwmon attribute.
    Hwmon {
        /// The hwmon device's `name` attribute (never the unstable hwmonN).
        name: String,
        /// The channel, e.g. `temp1`: the daemon reads `<input>_input`.
        input: String,
        /// Optional: a substring of the device's sysfs path, to tell apart
        /// devices with the same name (e.g. `3-0048`).
        #[serde(default)]
        device: Option<String>,
    },
    /// A Linux industrial-I/O channel (an ADC, e.g. the AST2600's
    /// `ast2600-adc0`): `in_<type><channel>_raw`, scaled by the device's
    /// `scale` and `offset`, where `<type>` follows the sensor's kind
    /// (`voltage`, `temp` or `current`).
    Iio {
        /// The iio device's `name` attribute (never the unstable
        /// `iio:deviceN`).
        device: String,
        /// The channel number.
        channel: u8,
    },
    /// An LM75/TMP75-class temperature sensor on i2c-dev.
    Lm75 {
        /// I2C bus number (`/dev/i2c-N`).
        bus: u8,
        /// 7-bit address.
        address: u8,
    },
    /// A PMBus device on i2c-dev.
    Pmbus {
        /// I2C bus number.
        bus: u8,
        /// 7-bit address.
        address: u8,
        /// Which reading.
        reading: PmbusReading,
    },
}

/// A PMBus reading command (PMBus spec part II §15).
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum PmbusReading {
    /// READ_VIN (88h), LINEAR11.
    Vin,
    /// READ_VOUT (8Bh), LINEAR16 with VOUT_MODE (20h).
    Vout,
    /// READ_IOUT (8Ch), LINEAR11.
    Iout,
    /// READ_TEMPERATURE_1 (8Dh), LINEAR11.
    Temperature1,
}

/// Threshold values in the sensor's unit.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ThresholdValues {
    /// Lower non-recoverable.
    pub lnr: Option<f64>,
    /// Lower critical.
    pub lcr: Option<f64>,
    /// Lower non-critical.
    pub lnc: Option<f64>,
    /// Upper non-critical.
    pub unc: Option<f64>,
    /// Upper critical.
    pub ucr: Option<f64>,
    /// Upper non-recoverable.
    pub unr: Option<f64>,
}

/// Simulator settings for one sensor (development only).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Simulation {
    /// The value at rest (no load).
    pub nominal: f64,
    /// Random noise amplitude.
    #[serde(default)]
    pub noise: f64,
    /// How far full load moves the value above nominal.
    #[serde(default)]
    pub load_gain: f64,
    /// The value while the simulated host is off (a power draw's standby
    /// level, a processor's idle temperature); without it the host's power
    /// does not move the value.
    #[serde(default)]
    pub standby: Option<f64>,
    /// A fan driven by a fan zone's PWM: its speed at full duty (default:
    /// `nominal + load-gain`).
    #[serde(default)]
    pub max_rpm: Option<f64>,
    /// A temperature: whether the fans' airflow cools it (default true; an
    /// inlet sensor reads the room, not the board).
    #[serde(default = "yes")]
    pub fan_cooled: bool,
}

fn yes() -> bool {
    true
}

/// The line (from 1) of each `[[sensors]]` table in `text`, in order: what
/// [`check_sensors`] names a sensor by. Empty when the sensors are written
/// another way (an inline array).
pub fn table_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let compact: String = line
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            compact == "[[sensors]]"
        })
        .map(|(index, _)| index + 1)
        .collect()
}

/// Checks rules that span sensors: unique numbers and names, sane ranges and
/// thresholds inside them, in order. `lines` (from [`table_lines`]) places
/// each sensor in the file, so a clash names both lines.
pub fn check_sensors(sensors: &[SensorEntry], lines: &[usize]) -> Result<(), String> {
    let place = |i: usize| {
        lines
            .get(i)
            .filter(|_| lines.len() == sensors.len())
            .map(|line| format!(", line {line}"))
            .unwrap_or_default()
    };
    for (i, s) in sensors.iter().enumerate() {
        let at = format!("sensors[{i}] ({:?}{})", s.name.0, place(i));
        for (j, other) in sensors[..i].iter().enumerate() {
            if other.number == s.number && other.lun == s.lun {
                return Err(format!(
                    "{at}: sensor number {:#04x} on LUN {} is already used by {:?}{}",
                    s.number.0,
                    s.lun,
                    other.name.0,
                    place(j).replacen(", ", " at ", 1)
                ));
            }
            if other.name == s.name {
                return Err(format!(
                    "{at}: sensor name is used twice (first{})",
                    place(j).replacen(", ", " at ", 1)
                ));
            }
        }
        if !matches!(s.lun, 0 | 1 | 3) {
            return Err(format!("{at}: lun must be 0, 1 or 3 (2 is the SMS LUN)"));
        }
        let [min, max] = s.range;
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(format!("{at}: range must be [min, max] with min < max"));
        }
        if s.entity_instance > 127 {
            return Err(format!("{at}: entity-instance must be 0-127"));
        }
        if matches!(s.source, Source::Iio { .. }) && s.kind.iio_channel_type().is_none() {
            return Err(format!(
                "{at}: an iio source reads temperature, voltage or current, not {:?}",
                s.kind
            ));
        }
        if s.poll_ms < 10 {
            return Err(format!("{at}: poll-ms must be at least 10"));
        }
        if !(s.hysteresis.is_finite() && s.hysteresis >= 0.0) {
            return Err(format!("{at}: hysteresis must be a non-negative number"));
        }
        if s.resolution.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(format!("{at}: resolution must be a positive number"));
        }
        let t = &s.thresholds;
        let ordered = [t.lnr, t.lcr, t.lnc, t.unc, t.ucr, t.unr];
        let mut last = f64::NEG_INFINITY;
        for value in ordered.into_iter().flatten() {
            if !(min..=max).contains(&value) {
                return Err(format!("{at}: threshold {value} is outside the range"));
            }
            if value < last {
                return Err(format!(
                    "{at}: thresholds must be in order lnr <= lcr <= lnc <= unc <= ucr <= unr"
                ));
            }
            last = value;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sensor(toml_text: &str) -> Result<Vec<SensorEntry>, String> {
        #[derive(Deserialize)]
        struct Wrapper {
            sensors: Vec<SensorEntry>,
        }
        let w: Wrapper = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        check_sensors(&w.sensors, &table_lines(toml_text))?;
        Ok(w.sensors)
    }

    const ONE: &str = r#"
[[sensors]]
name = "CPU0 Temp"
number = 1
kind = "temperature"
entity-id = 3
range = [0.0, 127.0]
source = { type = "hwmon", name = "coretemp", input = "temp1" }
thresholds = { unc = 80.0, ucr = 90.0 }
"#;

    #[test]
    fn parses_a_sensor() {
        let s = &sensor(ONE).unwrap()[0];
        assert_eq!(s.number, SensorNumber(1));
        assert_eq!(s.poll_ms, 1000);
        assert_eq!(s.name.object_name(), "CPU0_Temp");
        assert!(matches!(s.source, Source::Hwmon { ref input, .. } if input == "temp1"));
    }

    #[test]
    fn an_iio_source_reads_only_what_iio_measures() {
        let adc = ONE.replace(
            r#"{ type = "hwmon", name = "coretemp", input = "temp1" }"#,
            r#"{ type = "iio", device = "ast2600-adc0", channel = 3 }"#,
        );
        let s = &sensor(&adc).unwrap()[0];
        assert_eq!(
            s.source,
            Source::Iio {
                device: "ast2600-adc0".into(),
                channel: 3
            }
        );
        let fan = adc.replace(r#"kind = "temperature""#, r#"kind = "fan""#);
        let refused = sensor(&fan).unwrap_err();
        assert!(
            refused.contains("iio source") && refused.contains("Fan"),
            "{refused}"
        );
    }

    #[test]
    fn rejects_duplicates_and_bad_thresholds() {
        let twice = format!("{ONE}{}", ONE.replace("CPU0", "CPU1"));
        assert!(sensor(&twice).unwrap_err().contains("already used"));
        let bad = ONE.replace("unc = 80.0, ucr = 90.0", "unc = 95.0, ucr = 90.0");
        assert!(sensor(&bad).unwrap_err().contains("in order"));
        let outside = ONE.replace("ucr = 90.0", "ucr = 200.0");
        assert!(sensor(&outside).unwrap_err().contains("outside the range"));
        let unknown = ONE.replace("type = \"hwmon\"", "type = \"sysfs\"");
        assert!(sensor(&unknown).is_err());
        let long = ONE.replace("CPU0 Temp", "A very long sensor name");
        assert!(sensor(&long).unwrap_err().contains("1-16"));
    }

    /// Issue 16, point 8: a clash named both sensors but not where they
    /// are; a long config needs the lines.
    #[test]
    fn a_duplicate_sensor_number_names_both_lines() {
        // ONE starts with an empty line: its table is on line 2, the
        // second copy's on line 11.
        let twice = format!("{ONE}{}", ONE.replace("CPU0", "CPU1"));
        assert_eq!(table_lines(&twice), [2, 11]);
        let err = sensor(&twice).unwrap_err();
        assert!(err.contains("\"CPU1 Temp\", line 11"), "{err}");
        assert!(err.contains("\"CPU0 Temp\" at line 2"), "{err}");
        let renamed = format!("{ONE}{}", ONE.replace("number = 1", "number = 2"));
        let err = sensor(&renamed).unwrap_err();
        assert!(err.contains("used twice (first at line 2)"), "{err}");
    }
}
