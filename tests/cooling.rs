//! Closed-loop cooling end to end: rbmc-fand drives the simulated chassis's
//! fans from rbmc-sensord's temperatures, and the chassis's temperatures
//! answer the fans (rbmc-sim's thermal model), in real time through the real
//! daemons on the dev bus.
//!
//! - A load step on the powered host settles `CPU0 Temp` within ±2 °C of
//!   its 70 °C setpoint, within the bound README.md names; the fans'
//!   PWM and RPM show in ipmitool's and FreeIPMI's sensor lists, and the
//!   zone ramps at host power-on.
//! - A fan stopped through the simulator puts its zone in failsafe within
//!   two of fand's polls (plus sensord's, which reads the tachometer), with
//!   a SEL entry; clearing it leaves failsafe with another.
//! - Manual mode over D-Bus pins the PWM whatever the temperature (short
//!   of a critical one, which lifts it to failsafe), and going back to
//!   automatic resumes control; the same mode through the OEM
//!   IPMI command (phosphor-pid-control's bytes), and Redfish's view of it
//!   (the zone's `Control`: `ControlMode`, failsafe as `Critical`).
//! - A config naming an unknown sensor, or a PWM output that does not
//!   exist, stops rbmc-fand at start with 78 and a message naming it.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use rbmc_e2e::{bin_dir, done_or, redfish::redfish, text, wait_for, Suite};

const ZONE: &str = "/xyz/openbmc_project/settings/fanctrl/zone0";
const FAN1_PWM: &str = "/xyz/openbmc_project/control/fanpwm/FAN1_PWM";
const CPU0: &str = "/xyz/openbmc_project/sensors/temperature/CPU0_Temp";
const REDFISH_ZONE: &str = "/redfish/v1/Chassis/chassis/Controls/FanZone0";

/// The zone's Redfish `ControlMode`.
fn redfish_mode(suite: &Suite) -> String {
    let reply = redfish(suite, &["get", REDFISH_ZONE]);
    assert_eq!(reply["status"], 200, "{reply}");
    reply["body"]["ControlMode"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// How long a load step may take to settle within ±2 °C (README.md,
/// "Cooling step response"); the virtual-time bench settles its step in
/// under a minute.
const SETTLING_BOUND: Duration = Duration::from_secs(180);
/// How long the reading must stay in the band to count as settled.
const SETTLED_FOR: Duration = Duration::from_secs(20);
/// rbmc-fand's poll (`[cooling] poll-ms`) and rbmc-sensord's (`poll-ms`).
const FAND_POLL: Duration = Duration::from_secs(1);
const SENSORD_POLL: Duration = Duration::from_secs(1);

fn ipmitool_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

/// A property's value as busctl prints it, without its type letter.
fn property(suite: &Suite, service: &str, path: &str, interface: &str, name: &str) -> String {
    let out = suite.busctl(&["get-property", service, path, interface, name]);
    out.trim()
        .split_once(' ')
        .map_or(String::new(), |(_, v)| v.to_owned())
}

fn zone_pwm(suite: &Suite) -> f64 {
    property(suite, "org.rbmc.Fand", ZONE, "org.rbmc.Fand.Zone", "Pwm")
        .parse()
        .unwrap()
}

fn failsafe(suite: &Suite) -> bool {
    property(
        suite,
        "org.rbmc.Fand",
        ZONE,
        "xyz.openbmc_project.Control.Mode",
        "FailSafe",
    ) == "true"
}

fn cpu0(suite: &Suite) -> f64 {
    property(
        suite,
        "org.rbmc.Sensord",
        CPU0,
        "xyz.openbmc_project.Sensor.Value",
        "Value",
    )
    .parse()
    .unwrap()
}

/// The raw duty in the simulated `pwmN` of the nct6779 (what fand wrote).
fn pwm_file(root: &Path, n: u8) -> u8 {
    for dir in std::fs::read_dir(root.join("class/hwmon"))
        .unwrap()
        .flatten()
    {
        let file = dir.path().join(format!("pwm{n}"));
        if let Ok(value) = std::fs::read_to_string(file) {
            return value.trim().parse().unwrap();
        }
    }
    panic!("no pwm{n}");
}

/// Powers the host on and waits until the zone has left its power-on hold
/// and its fans have spun up (`spin-up-ms`), so a stopped fan counts.
fn powered_and_spun_up(suite: &Suite) {
    ipmitool_ok(suite, &["chassis", "power", "on"]);
    wait_for("the power-on ramp", Duration::from_secs(10), || {
        let pwm = zone_pwm(suite);
        done_or((pwm - 80.0).abs() < 0.01, format!("zone PWM {pwm}"))
    });
    // Hold (5 s) and spin-up (5 s) from power-on: past both.
    std::thread::sleep(Duration::from_secs(6));
    assert!(!failsafe(suite), "failsafe before any fault");
}

#[test]
fn a_load_step_settles_at_the_setpoint_and_the_fans_show_in_the_sensor_lists() {
    let suite = Suite::start();
    powered_and_spun_up(&suite);
    suite.simulator("SetLoad", "d", &["1.0"]);
    let stepped = Instant::now();
    // Settled: within ±2 °C for SETTLED_FOR without a break.
    let mut in_band_since: Option<Instant> = None;
    let settled_at = wait_for(
        "CPU0 Temp settled within ±2 °C of 70 °C",
        SETTLING_BOUND + SETTLED_FOR,
        || {
            let reading = cpu0(&suite);
            if (reading - 70.0).abs() <= 2.0 {
                let since = *in_band_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= SETTLED_FOR {
                    return Ok(since);
                }
            } else {
                in_band_since = None;
            }
            Err(format!(
                "CPU0 Temp {reading} °C, zone PWM {}",
                zone_pwm(&suite)
            ))
        },
    );
    let settling = settled_at.duration_since(stepped);
    eprintln!("cooling: load step settled in {settling:?}");
    assert!(settling <= SETTLING_BOUND, "settled after {settling:?}");
    // The fans run above the minimum to hold it.
    let pwm = zone_pwm(&suite);
    assert!(pwm > 25.0 && pwm < 100.0, "zone PWM {pwm}");

    // ipmitool lists each fan's PWM (percent) and RPM.
    let list = ipmitool_ok(&suite, &["sensor", "list"]);
    let row = |name: &str| {
        list.lines()
            .find(|l| l.split('|').next().is_some_and(|n| n.trim() == name))
            .unwrap_or_else(|| panic!("{name} not in sensor list:\n{list}"))
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect::<Vec<_>>()
    };
    let pwm_row = row("FAN1 PWM");
    assert_eq!(pwm_row[2], "percent", "{pwm_row:?}");
    let shown: f64 = pwm_row[1].parse().unwrap();
    let written = f64::from(pwm_file(&suite.sysfs_root(), 1)) / 2.55;
    assert!(
        (shown - written).abs() <= 1.0,
        "ipmitool shows {shown} %, pwm1 holds {written} %"
    );
    let rpm_row = row("FAN1");
    assert_eq!(rpm_row[2], "RPM");
    assert!(rpm_row[1].parse::<f64>().unwrap() > 1000.0, "{rpm_row:?}");
    // FreeIPMI agrees: the PWM sensor is a Fan reading in %.
    let out = suite.freeipmi("ipmi-sensors", &["--sensor-types=Fan"]);
    let freeipmi = text(&out);
    let line = freeipmi
        .lines()
        .find(|l| l.contains("FAN1 PWM"))
        .unwrap_or_else(|| panic!("FAN1 PWM not listed by ipmi-sensors:\n{freeipmi}"));
    assert!(line.contains('%'), "{line}");
}

#[test]
fn a_stopped_fan_puts_its_zone_in_failsafe_within_two_polls_with_a_sel_entry() {
    let suite = Suite::start();
    powered_and_spun_up(&suite);
    suite.simulator("Inject", "ss", &["FAN3", "stop"]);
    let stopped = Instant::now();
    wait_for("failsafe", Duration::from_secs(10), || {
        done_or(failsafe(&suite), "not in failsafe")
    });
    let took = stopped.elapsed();
    // The tachometer's zero reaches fand through sensord's next poll; fand
    // sees it at its next poll, and acts on it then.
    let bound = 2 * FAND_POLL + SENSORD_POLL;
    assert!(took <= bound, "failsafe after {took:?} (bound {bound:?})");
    eprintln!("cooling: failsafe {took:?} after the fan stopped");
    // Every fan at the failsafe PWM (100 %), the cause named.
    for n in 1..=6 {
        assert_eq!(pwm_file(&suite.sysfs_root(), n), 255, "pwm{n}");
    }
    let causes = property(
        &suite,
        "org.rbmc.Fand",
        ZONE,
        "org.rbmc.Fand.Zone",
        "FailSafeCauses",
    );
    assert!(
        causes.contains("FAN3") && causes.contains("stopped"),
        "{causes}"
    );
    let sel = ipmitool_ok(&suite, &["sel", "elist"]);
    assert!(
        sel.lines()
            .any(|l| l.contains("Fan Failsafe") && l.contains("State Asserted | Asserted")),
        "{sel}"
    );
    // The OEM command says so too (get failsafe: 01h).
    let raw = ipmitool_ok(
        &suite,
        &[
            "raw", "0x2e", "0x04", "0xcf", "0xc2", "0x00", "0x02", "0x00",
        ],
    );
    assert_eq!(raw.trim(), "cf c2 00 01");
    // Redfish: the zone's Control is critical.
    let reply = redfish(&suite, &["get", REDFISH_ZONE]);
    assert_eq!(reply["body"]["Status"]["Health"], "Critical", "{reply}");

    // The fan back: out of failsafe, logged, and slewing down from full.
    suite.simulator("Clear", "s", &["FAN3"]);
    wait_for("out of failsafe", Duration::from_secs(10), || {
        done_or(!failsafe(&suite), "still in failsafe")
    });
    wait_for("the deassertion in the SEL", Duration::from_secs(5), || {
        let sel = ipmitool_ok(&suite, &["sel", "elist"]);
        done_or(
            sel.lines()
                .any(|l| l.contains("Fan Failsafe") && l.contains("Deasserted")),
            sel,
        )
    });
}

#[test]
fn manual_mode_pins_the_pwm_and_automatic_resumes() {
    let suite = Suite::start();
    powered_and_spun_up(&suite);
    let set_target = |raw: &str| {
        let address = format!("--address={}", suite.bus_address());
        rbmc_e2e::run(
            "busctl",
            &[
                &address,
                "set-property",
                "org.rbmc.Fand",
                FAN1_PWM,
                "xyz.openbmc_project.Control.FanPwm",
                "Target",
                "t",
                raw,
            ],
        )
    };
    // In automatic mode the controllers own the PWM: refused, by name.
    let refused = set_target("100");
    assert!(!refused.status.success());
    assert!(text(&refused).contains("automatic"), "{}", text(&refused));

    suite.busctl(&[
        "set-property",
        "org.rbmc.Fand",
        ZONE,
        "xyz.openbmc_project.Control.Mode",
        "Manual",
        "b",
        "true",
    ]);
    let out = set_target("100");
    assert!(out.status.success(), "{}", text(&out));
    let out_of_range = set_target("256");
    assert!(
        text(&out_of_range).contains("outside 0-255"),
        "{}",
        text(&out_of_range)
    );
    assert_eq!(pwm_file(&suite.sysfs_root(), 1), 100);
    // Full load: the controllers would raise it; manual mode holds it for
    // several polls.
    suite.simulator("SetLoad", "d", &["1.0"]);
    for _ in 0..5 {
        std::thread::sleep(FAND_POLL);
        assert_eq!(pwm_file(&suite.sysfs_root(), 1), 100);
    }
    assert_eq!(
        property(
            &suite,
            "org.rbmc.Fand",
            FAN1_PWM,
            "xyz.openbmc_project.Control.FanPwm",
            "Target"
        ),
        "100"
    );
    // Redfish shows the zone held by an operator.
    assert_eq!(redfish_mode(&suite), "Override");
    // A processor past its critical threshold lifts even a manual zone to
    // failsafe; once it cools, the operator's PWM holds again.
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    wait_for("failsafe in manual mode", Duration::from_secs(10), || {
        let raw = pwm_file(&suite.sysfs_root(), 1);
        done_or(failsafe(&suite) && raw == 255, format!("pwm1 {raw}"))
    });
    let causes = property(
        &suite,
        "org.rbmc.Fand",
        ZONE,
        "org.rbmc.Fand.Zone",
        "FailSafeCauses",
    );
    assert!(
        causes.contains("CPU0 Temp") && causes.contains("critical"),
        "{causes}"
    );
    suite.simulator("Clear", "s", &["CPU0 Temp"]);
    wait_for("the operator's PWM again", Duration::from_secs(10), || {
        let raw = pwm_file(&suite.sysfs_root(), 1);
        done_or(!failsafe(&suite) && raw == 100, format!("pwm1 {raw}"))
    });
    // The OEM command reads the mode as manual, and gives it back.
    let oem = |args: &[&str]| {
        let mut all = vec!["raw", "0x2e", "0x04", "0xcf", "0xc2", "0x00"];
        all.extend_from_slice(args);
        ipmitool_ok(&suite, &all).trim().to_owned()
    };
    assert_eq!(oem(&["0x00", "0x00"]), "cf c2 00 01");
    assert_eq!(oem(&["0x01", "0x00", "0x00"]), "cf c2 00");
    assert_eq!(oem(&["0x00", "0x00"]), "cf c2 00 00");
    // FreeIPMI's raw client agrees on the bytes.
    let out = suite.freeipmi(
        "ipmi-raw",
        &[
            "0x00", "0x2e", "0x04", "0xcf", "0xc2", "0x00", "0x00", "0x00",
        ],
    );
    assert!(text(&out).contains("CF C2 00 00"), "{}", text(&out));
    // Back in automatic mode the controllers move the PWM again.
    wait_for("control resumed", Duration::from_secs(20), || {
        let raw = pwm_file(&suite.sysfs_root(), 1);
        done_or(raw != 100, format!("pwm1 {raw}"))
    });
    assert_eq!(
        property(
            &suite,
            "org.rbmc.Fand",
            ZONE,
            "xyz.openbmc_project.Control.Mode",
            "Manual"
        ),
        "false"
    );
    assert_eq!(redfish_mode(&suite), "Automatic");
    // Another body's command, or a zone that does not exist: refused.
    let other = suite.ipmitool(
        17,
        &[
            "raw", "0x2e", "0x04", "0x57", "0x01", "0x00", "0x00", "0x00",
        ],
    );
    assert!(text(&other).contains("rsp=0xc1"), "{}", text(&other));
    let no_zone = suite.ipmitool(
        17,
        &[
            "raw", "0x2e", "0x04", "0xcf", "0xc2", "0x00", "0x00", "0x07",
        ],
    );
    assert!(text(&no_zone).contains("rsp=0xcb"), "{}", text(&no_zone));
}

/// Runs rbmc-fand alone with `config` (and `--sysfs-root sysfs`); it must
/// stop before reaching for the bus.
fn fand_alone(config: &str, sysfs: &Path) -> std::process::Output {
    let dir = tempfile_dir("fand-alone");
    let path = dir.join("rbmc.toml");
    std::fs::write(&path, config).unwrap();
    std::process::Command::new(bin_dir().join("rbmc-fand"))
        .arg("--config")
        .arg(&path)
        .arg("--state-dir")
        .arg(&dir)
        .arg("--sysfs-root")
        .arg(sysfs)
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .expect("rbmc-fand runs")
}

fn tempfile_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rbmc-cooling-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_zone_naming_an_unknown_sensor_or_a_missing_pwm_output_stops_fand_with_78() {
    let dev = std::fs::read_to_string(rbmc_e2e::repo_root().join("configs/dev.toml")).unwrap();
    let empty_sysfs = tempfile_dir("empty-sysfs");

    let unknown = dev.replacen("sensor = \"CPU0 Temp\"", "sensor = \"CPU9 Temp\"", 1);
    assert_ne!(unknown, dev);
    let out = fand_alone(&unknown, &empty_sysfs);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("\"CPU9 Temp\""), "{}", text(&out));

    // A valid config, but the board has no such PWM output.
    let out = fand_alone(&dev, &empty_sysfs);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(
        text(&out).contains("fan pwm \"FAN1 PWM\"") && text(&out).contains("nct6779"),
        "{}",
        text(&out)
    );
}
