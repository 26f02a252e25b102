//! Thresholds read back exactly as configured (issue 14, point 1): the SDR
//! factors put every configured threshold and hysteresis on the sensor's
//! grid, so ipmitool and FreeIPMI show the config's numbers for every
//! sensor kind, and a value a client sets on that grid reads back as set,
//! in both clients and in a FreeIPMI checkout/commit round trip.

use rbmc_e2e::{dev_config, text, Suite};

fn freeipmi(suite: &Suite, tool: &str, args: &[&str]) -> String {
    let mut all = vec!["-l", "ADMIN"];
    all.extend_from_slice(args);
    let out = suite.freeipmi(tool, &all);
    assert!(out.status.success(), "{tool} {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// FreeIPMI's threshold columns (Lower NR, C, NC, Upper NC, C, NR) of a
/// sensor, as printed.
fn freeipmi_thresholds(listing: &str, name: &str) -> Vec<String> {
    let line = listing
        .lines()
        .find(|l| l.split(',').nth(1) == Some(name))
        .unwrap_or_else(|| panic!("{name} missing: {listing}"));
    line.split(',').skip(5).take(6).map(str::to_owned).collect()
}

fn shown(value: Option<f64>) -> String {
    value.map_or("N/A".to_owned(), |v| format!("{v:.2}"))
}

#[test]
fn every_kind_of_sensor_shows_its_configured_thresholds_exactly() {
    let suite = Suite::start();
    let listing = freeipmi(
        &suite,
        "ipmi-sensors",
        &[
            "--output-sensor-thresholds",
            "--comma-separated-output",
            "--no-header-output",
        ],
    );
    let config = dev_config();
    let mut kinds = std::collections::BTreeSet::new();
    for sensor in &config.sensors {
        let t = &sensor.thresholds;
        let expected: Vec<String> = [t.lnr, t.lcr, t.lnc, t.unc, t.ucr, t.unr]
            .into_iter()
            .map(shown)
            .collect();
        assert_eq!(
            freeipmi_thresholds(&listing, &sensor.name.0),
            expected,
            "{}",
            sensor.name.0
        );
        kinds.insert(format!("{:?}", sensor.kind));
    }
    assert!(kinds.len() >= 5, "every kind of sensor: {kinds:?}");
    // ipmitool agrees, with the hysteresis.
    let out = suite.ipmitool(17, &["sensor", "get", "CPU0 Temp"]);
    let got = text(&out);
    for line in [
        "Upper Non-Critical    : 85.000",
        "Upper Critical        : 95.000",
        "Upper Non-Recoverable : 105.000",
        "Positive Hysteresis   : 2.000",
    ] {
        assert!(got.contains(line), "{line} in {got}");
    }
    let out = suite.ipmitool(17, &["sensor", "get", "Inlet Temp"]);
    assert!(
        text(&out).contains("Lower Critical        : 0.000"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_threshold_set_on_the_grid_reads_back_as_set() {
    let suite = Suite::start();
    // FreeIPMI commits 80 and reads back 80, and so does ipmitool.
    freeipmi(
        &suite,
        "ipmi-config",
        &[
            "--category=sensors",
            "--commit",
            "--key-pair=2_CPU0_Temp:Upper_Non_Critical_Threshold=80",
        ],
    );
    let section = freeipmi(
        &suite,
        "ipmi-config",
        &["--category=sensors", "--checkout", "--section=2_CPU0_Temp"],
    );
    assert!(
        section
            .lines()
            .any(|l| l.contains("Upper_Non_Critical_Threshold")
                && l.trim_end().ends_with("80.000000")),
        "{section}"
    );
    let got = text(&suite.ipmitool(17, &["sensor", "get", "CPU0 Temp"]));
    assert!(got.contains("Upper Non-Critical    : 80.000"), "{got}");
    // ipmitool sets 90.5 (on the 0.5 grid); FreeIPMI reads it.
    let out = suite.ipmitool(17, &["sensor", "thresh", "CPU0 Temp", "ucr", "90.5"]);
    assert!(out.status.success(), "{}", text(&out));
    let listing = freeipmi(
        &suite,
        "ipmi-sensors",
        &[
            "--output-sensor-thresholds",
            "--comma-separated-output",
            "--no-header-output",
        ],
    );
    assert_eq!(freeipmi_thresholds(&listing, "CPU0 Temp")[4], "90.50");
    // A whole checkout commits back unchanged with exit code 0.
    let dir = std::env::temp_dir().join(format!("rbmc-sensors-{}.conf", std::process::id()));
    let checkout = freeipmi(&suite, "ipmi-config", &["--category=sensors", "--checkout"]);
    std::fs::write(&dir, &checkout).unwrap();
    freeipmi(
        &suite,
        "ipmi-config",
        &[
            "--category=sensors",
            "--commit",
            &format!("--filename={}", dir.display()),
        ],
    );
    let again = freeipmi(&suite, "ipmi-config", &["--category=sensors", "--checkout"]);
    let _ = std::fs::remove_file(&dir);
    assert_eq!(again, checkout);
}
