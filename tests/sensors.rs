//! Sensors, SDR and FRU through ipmitool, against the simulated hwmon tree.
//! Expected readings are computed from the sysfs files themselves (found by
//! device name, as a reader of sysfs would), never from the daemon.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use nix::sys::signal::Signal;
use rbmc_config::{SensorEntry, SensorKind, Source};
use rbmc_contracts::sensor::{sensor_path, CriticalProxy};
use rbmc_e2e::{dev_config, done_or, text, wait_for, Suite};

/// The file behind a sensor, found the way a reader of sysfs finds it.
fn sysfs_file(root: &Path, entry: &SensorEntry) -> PathBuf {
    let Source::Hwmon {
        name,
        input,
        device,
    } = &entry.source
    else {
        panic!("dev sensors are hwmon");
    };
    for dir in std::fs::read_dir(root.join("class/hwmon"))
        .unwrap()
        .flatten()
    {
        let dir = dir.path();
        let found = std::fs::read_to_string(dir.join("name")).unwrap_or_default();
        let real = std::fs::canonicalize(&dir).unwrap();
        if found.trim() == name
            && device
                .as_ref()
                .is_none_or(|d| real.to_string_lossy().contains(d.as_str()))
        {
            // A PWM output is `pwmN` itself (sysfs-interface.rst).
            return match entry.kind {
                SensorKind::Pwm => dir.join(input),
                _ => dir.join(format!("{input}_input")),
            };
        }
    }
    panic!("no hwmon device for {}", entry.name.0);
}

/// The value in the sensor's unit, from the file.
fn file_value(root: &Path, entry: &SensorEntry) -> f64 {
    let raw: f64 = std::fs::read_to_string(sysfs_file(root, entry))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let per_unit = match entry.kind {
        SensorKind::Temperature | SensorKind::Voltage | SensorKind::Current => 1000.0,
        SensorKind::Fan => 1.0,
        SensorKind::Power => 1_000_000.0,
        // 0-255 is 0-100 %.
        SensorKind::Pwm => 2.55,
    };
    raw / per_unit
}

/// One row of `ipmitool sensor list`: name, value, unit, status.
fn sensor_rows(output: &str) -> Vec<(String, String, String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            (cols.len() >= 4).then(|| {
                (
                    cols[0].to_owned(),
                    cols[1].to_owned(),
                    cols[2].to_owned(),
                    cols[3].to_owned(),
                )
            })
        })
        .collect()
}

fn row<'a>(
    rows: &'a [(String, String, String, String)],
    name: &str,
) -> &'a (String, String, String, String) {
    rows.iter()
        .find(|r| r.0 == name)
        .unwrap_or_else(|| panic!("{name} not listed"))
}

/// One count of an 8-bit conversion over the sensor's configured range.
fn resolution(entry: &SensorEntry) -> f64 {
    (entry.range[1] - entry.range[0]) / 255.0
}

/// Whether `shown`, as ipmitool prints it, is the value in the file.
fn shows_file_value(root: &Path, entry: &SensorEntry, shown: &str) -> bool {
    shown
        .parse::<f64>()
        .is_ok_and(|shown| (shown - file_value(root, entry)).abs() <= resolution(entry) + 1e-3)
}

#[test]
fn readings_match_the_sysfs_files() {
    let config = dev_config();
    let suite = Suite::start();
    suite.simulator("Pause", "b", &["true"]);
    // Until every sensor has read the frozen values (within two poll
    // intervals).
    let rows = wait_for("the frozen values listed", Duration::from_secs(10), || {
        let out = suite.ipmitool(17, &["sensor", "list"]);
        let rows = sensor_rows(&text(&out));
        let frozen = out.status.success()
            && config.sensors.iter().all(|entry| {
                rows.iter().any(|(name, value, _, status)| {
                    *name == entry.name.0
                        && status == "ok"
                        && shows_file_value(&suite.sysfs_root(), entry, value)
                })
            });
        done_or(frozen, text(&out)).map(|()| rows)
    });
    for entry in &config.sensors {
        let (_, value, _, status) = row(&rows, &entry.name.0);
        let shown: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("{}: {value}", entry.name.0));
        let expected = file_value(&suite.sysfs_root(), entry);
        let resolution = resolution(entry);
        assert!(
            (shown - expected).abs() <= resolution + 1e-3,
            "{}: ipmitool shows {shown}, sysfs has {expected} (resolution {resolution})",
            entry.name.0
        );
        assert_eq!(status, "ok", "{}", entry.name.0);
    }

    // Every sensor is in the SDR, with its number and entity.
    let out = suite.ipmitool(3, &["sdr", "elist", "full"]);
    let shown = text(&out);
    for entry in &config.sensors {
        let expected = format!(
            "{:02X}h | ok  | {:>2}.{}",
            entry.number.0, entry.entity_id, entry.entity_instance
        );
        let line = shown
            .lines()
            .find(|l| l.starts_with(&entry.name.0))
            .unwrap_or_else(|| panic!("{} missing from sdr elist:\n{shown}", entry.name.0));
        assert!(line.contains(&expected), "{line:?} lacks {expected:?}");
    }
    let out = suite.ipmitool(17, &["sdr", "type", "Temperature"]);
    let listed = text(&out).lines().count();
    let temperatures = config
        .sensors
        .iter()
        .filter(|s| s.kind == SensorKind::Temperature)
        .count();
    assert_eq!(listed, temperatures, "{}", text(&out));
    // The config's sensors, and the five event-only sensors of powerd,
    // userd and fand (compact records: no reading of their own).
    let out = suite.ipmitool(17, &["sdr", "list"]);
    let shown = text(&out);
    assert_eq!(shown.lines().count(), config.sensors.len() + 5, "{shown}");
    for name in [
        "ACPI Power State",
        "Power Unit",
        "Watchdog",
        "Session Audit",
        "Fan Failsafe",
    ] {
        assert!(
            shown
                .lines()
                .any(|l| l.starts_with(name) && l.contains("Not Readable")),
            "{name}: {shown}"
        );
    }
}

#[test]
fn thresholds_set_with_ipmitool_survive_a_restart() {
    let suite = Suite::start();
    let out = suite.ipmitool(17, &["sensor", "thresh", "CPU0 Temp", "unc", "80"]);
    assert!(out.status.success(), "{}", text(&out));
    let unc = |suite: &Suite| -> f64 {
        let out = suite.ipmitool(17, &["sensor", "get", "CPU0 Temp"]);
        let shown = text(&out);
        shown
            .lines()
            .find(|l| l.trim_start().starts_with("Upper Non-Critical"))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no UNC in {shown}"))
    };
    assert!((unc(&suite) - 80.0).abs() <= 0.5, "{}", unc(&suite));

    let before = suite.pid_of("rbmc-sensord");
    suite.signal("rbmc-sensord", Signal::SIGKILL);
    wait_for("sensord back", Duration::from_secs(15), || {
        let out = suite.ipmitool(17, &["sensor", "get", "CPU0 Temp"]);
        let now = suite.pid_of("rbmc-sensord");
        done_or(out.status.success() && now != before, text(&out))
    });
    assert!(
        (unc(&suite) - 80.0).abs() <= 0.5,
        "after restart: {}",
        unc(&suite)
    );
}

#[test]
fn injected_faults_show_and_raise_events() {
    let suite = Suite::start();
    let sensord = suite.pid_of("rbmc-sensord");
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    suite.simulator("Inject", "ss", &["FAN1", "stop"]);
    suite.simulator("Inject", "ss", &["P12V", "remove"]);

    // Within two poll intervals (1 s each), plus ipmitool's own time.
    wait_for("faults in sensor list", Duration::from_secs(4), || {
        let shown = text(&suite.ipmitool(17, &["sensor", "list"]));
        let rows = sensor_rows(&shown);
        let cpu = row(&rows, "CPU0 Temp");
        let fan = row(&rows, "FAN1");
        let rail = row(&rows, "P12V");
        let ok = cpu.3 == "cr" && fan.1 == "0.000" && fan.3 == "cr" && rail.1 == "na";
        done_or(ok, shown)
    });
    // The other sensors carry on.
    let shown = text(&suite.ipmitool(17, &["sensor", "list"]));
    let rows = sensor_rows(&shown);
    assert_eq!(row(&rows, "CPU1 Temp").3, "ok", "{shown}");
    assert_eq!(row(&rows, "P5V").3, "ok", "{shown}");
    assert_eq!(suite.pid_of("rbmc-sensord"), sensord);

    // The threshold events reached the SEL (through IpmiSelAdd, with the
    // sensor's number and type looked up from its D-Bus object): CPU0 Temp
    // upper non-critical and critical going high, FAN1 lower critical going
    // low; names resolved through the SDR by ipmitool.
    wait_for("events in the SEL", Duration::from_secs(4), || {
        let shown = text(&suite.ipmitool(17, &["sel", "elist"]));
        let ok = shown.contains("Temperature CPU0 Temp | Upper Non-critical going high | Asserted")
            && shown.contains("Temperature CPU0 Temp | Upper Critical going high | Asserted")
            && shown.contains("Fan FAN1 | Lower Critical going low  | Asserted");
        done_or(ok, shown)
    });
    // And the OpenBMC alarm properties agree.
    let alarm = suite.on_bus(async |conn| {
        CriticalProxy::builder(conn)
            .path(sensor_path("temperature", "CPU0_Temp"))?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?
            .critical_alarm_high()
            .await
    });
    assert!(alarm);
    // The stopped fan is a cooling fault in the chassis status, and pyghmi's
    // health names it.
    wait_for("the cooling fault", Duration::from_secs(4), || {
        let shown = text(&suite.ipmitool(17, &["chassis", "status"]));
        done_or(shown.contains("Cooling/Fan Fault    : true"), shown)
    });
    let (health, bad) = pyghmi_health(&suite);
    assert!(health >= 2, "pyghmi health {health}: {bad:?}");
    assert!(bad.iter().any(|name| name == "FAN1"), "{bad:?}");

    // Clearing the fault clears the alarm and deasserts.
    suite.simulator("Clear", "s", &["FAN1"]);
    wait_for("the cooling fault to clear", Duration::from_secs(4), || {
        let shown = text(&suite.ipmitool(17, &["chassis", "status"]));
        done_or(shown.contains("Cooling/Fan Fault    : false"), shown)
    });
    suite.simulator("Clear", "s", &["CPU0 Temp"]);
    wait_for("deassertion", Duration::from_secs(4), || {
        let shown = text(&suite.ipmitool(17, &["sel", "elist"]));
        let ok = shown.contains("Temperature CPU0 Temp | Upper Critical going high | Deasserted");
        done_or(ok, shown)
    });
}

#[test]
fn fru_print_and_read() {
    let config = dev_config();
    let suite = Suite::start();
    let out = suite.ipmitool(17, &["fru", "print", "0"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let product = config.fru.product.as_ref().unwrap();
    assert!(
        shown.contains(&format!("Product Name          : {}", product.product_name)),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "Product Serial        : {}",
            product.serial_number
        )),
        "{shown}"
    );
    let board = config.fru.board.as_ref().unwrap();
    assert!(
        shown.contains(&format!("Board Mfg             : {}", board.manufacturer)),
        "{shown}"
    );

    let file = suite.state_dir.join("fru0-read.bin");
    let out = suite.ipmitool(17, &["fru", "read", "0", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes.len(), 1024);
    // Common header: format version 1, zero checksum (FRU spec §8).
    assert_eq!(bytes[0], 0x01);
    assert_eq!(bytes[..8].iter().fold(0u8, |a, b| a.wrapping_add(*b)), 0);
    let needle = product.product_name.as_bytes();
    assert!(bytes.windows(needle.len()).any(|w| w == needle));
}

/// pyghmi's `get_health`: the health bits and the bad sensors' names.
fn pyghmi_health(suite: &Suite) -> (u32, Vec<String>) {
    let shown = pyghmi(suite, "pyghmi_health.py", &[]);
    let mut lines = shown.lines();
    let health = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    (health, lines.map(str::to_owned).collect())
}

/// Runs `tests/clients/SCRIPT PORT USER PASSWORD EXTRA...` with pyghmi's
/// venv; its stdout.
fn pyghmi(suite: &Suite, script: &str, extra: &[&str]) -> String {
    let root = rbmc_e2e::repo_root();
    let python = root.join("target/pyghmi-venv/bin/python");
    assert!(
        python.exists(),
        "tests/run.sh installs pyghmi into target/pyghmi-venv"
    );
    let script = root.join("tests/clients").join(script);
    let port = suite.port.to_string();
    let mut args = vec![
        script.to_str().unwrap(),
        &port,
        rbmc_e2e::USER,
        rbmc_e2e::PASSWORD,
    ];
    args.extend_from_slice(extra);
    let out = rbmc_e2e::run(python.to_str().unwrap(), &args);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A supply rail past its critical threshold is a main power fault in the
/// chassis status (Table 28-4 byte 1 bit 3), and clears with it.
#[test]
fn a_dead_rail_is_a_power_fault() {
    let suite = Suite::start();
    let status = |suite: &Suite| text(&suite.ipmitool(17, &["chassis", "status"]));
    assert!(status(&suite).contains("Main Power Fault     : false"));
    suite.simulator("Inject", "ss", &["P3V3", "stop"]);
    wait_for("the power fault", Duration::from_secs(4), || {
        let shown = status(&suite);
        done_or(shown.contains("Main Power Fault     : true"), shown)
    });
    assert!(status(&suite).contains("Cooling/Fan Fault    : false"));
    suite.simulator("Clear", "s", &["P3V3"]);
    wait_for("the power fault to clear", Duration::from_secs(4), || {
        let shown = status(&suite);
        done_or(shown.contains("Main Power Fault     : false"), shown)
    });
}

/// pyghmi's `get_sensor_data` for one sensor: its value and its states.
fn pyghmi_sensor(suite: &Suite, name: &str) -> (Option<f64>, Vec<String>) {
    let shown = pyghmi(suite, "pyghmi_sensor.py", &[name]);
    let mut lines = shown.lines();
    let value = lines.next().and_then(|v| v.parse().ok());
    (value, lines.map(str::to_owned).collect())
}

/// pyghmi sees the configured thresholds exactly: with the reading frozen
/// one grid step short of a threshold no threshold is crossed, and exactly
/// at it the crossing shows, for an upper (CPU0 Temp, 85 degrees) and a
/// lower (P3V3, 3.14 V) threshold.
#[test]
fn pyghmi_sees_the_configured_thresholds_exactly() {
    let config = dev_config();
    let suite = Suite::start();
    suite.simulator("Pause", "b", &["true"]);
    for (name, short, at, state) in [
        (
            "CPU0 Temp",
            "84500",
            "85000",
            "upper non-critical threshold",
        ),
        ("P3V3", "3160", "3140", "lower non-critical threshold"),
    ] {
        let entry = config
            .sensors
            .iter()
            .find(|e| e.name.0 == name)
            .unwrap_or_else(|| panic!("{name} in the dev config"));
        let file = sysfs_file(&suite.sysfs_root(), entry);
        for (raw, crossed) in [(short, false), (at, true)] {
            std::fs::write(&file, raw).unwrap();
            let expected = raw.parse::<f64>().unwrap() / 1000.0;
            wait_for("pyghmi's reading", Duration::from_secs(6), || {
                let (value, states) = pyghmi_sensor(&suite, name);
                let ok = value.is_some_and(|v| (v - expected).abs() < 1e-6)
                    && states.iter().any(|s| s == state) == crossed;
                done_or(ok, format!("{value:?} {states:?}"))
            });
        }
    }
}
