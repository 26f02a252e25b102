//! DCMI power management (issue 19), end to end with three clients:
//! ipmitool's `dcmi`, FreeIPMI's `ipmi-dcmi` and pyghmi agree on the power
//! reading, which is the simulated PSU input (`Total Power`, following the
//! simulated host's power and the injected load); a power limit below the
//! load powers the host off after its correction time and logs it in the
//! SEL, and is kept across a restart; bad requests get DCMI's and IPMI's
//! completion codes. The asset tag is the FRU's product asset tag, and the
//! three clients write and read it and the controller identifier string
//! (ipmitool in 16-byte chunks, pyghmi in 15-byte ones).

use std::time::Duration;

use rbmc_e2e::{text, wait_for, Suite, PASSWORD, USER};

fn ipmitool_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

fn freeipmi_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.freeipmi("ipmi-dcmi", args);
    assert!(out.status.success(), "ipmi-dcmi {args:?}: {}", text(&out));
    text(&out)
}

/// pyghmi's `get_system_power_watts`.
fn pyghmi_watts(suite: &Suite) -> Result<f64, String> {
    let root = rbmc_e2e::repo_root();
    let python = root.join("target/pyghmi-venv/bin/python");
    assert!(
        python.exists(),
        "tests/run.sh installs pyghmi into target/pyghmi-venv"
    );
    let script = root.join("tests/clients/pyghmi_power.py");
    let port = suite.port.to_string();
    let out = rbmc_e2e::run(
        python.to_str().expect("utf-8"),
        &[script.to_str().expect("utf-8"), &port, USER, PASSWORD],
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    shown
        .trim()
        .parse()
        .map_err(|_| format!("pyghmi printed {shown:?}: {}", text(&out)))
}

/// The number after `label` (up to its colon) in a client's output.
fn number_after(shown: &str, label: &str) -> Option<f64> {
    shown.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == label).then(|| value.split_whitespace().next()?.parse().ok())?
    })
}

/// `Total Power` as ipmitool's `sensor list` reads it.
fn sensor_watts(suite: &Suite) -> Option<f64> {
    ipmitool_ok(suite, &["sensor", "list"])
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split('|').map(str::trim).collect();
            (fields.first() == Some(&"Total Power")).then(|| fields.get(1)?.parse().ok())?
        })
}

fn power_on(suite: &Suite) {
    ipmitool_ok(suite, &["chassis", "power", "on"]);
    wait_for("the host on", Duration::from_secs(10), || {
        let shown = ipmitool_ok(suite, &["chassis", "power", "status"]);
        rbmc_e2e::done_or(shown.contains("is on"), shown)
    });
}

#[test]
fn the_power_reading_is_the_simulated_psu_in_all_three_clients() {
    let suite = Suite::start();
    // The host off: the supply's standby draw (18 W at rest in dev.toml).
    wait_for("a standby reading", Duration::from_secs(15), || {
        let shown = ipmitool_ok(&suite, &["dcmi", "power", "reading"]);
        let watts = number_after(&shown, "Instantaneous power reading").unwrap_or(-1.0);
        rbmc_e2e::done_or(
            shown.contains("Power reading state is:                   activated")
                && (0.0..60.0).contains(&watts),
            shown,
        )
    });
    power_on(&suite);
    suite.simulator("SetLoad", "d", &["0.5"]);
    // Hold the simulated readings still, then every client reads the one
    // value (each within the SDR's resolution, 16 W on a 4080 W range, of
    // the sensor ipmitool lists).
    wait_for("the loaded reading", Duration::from_secs(15), || {
        let watts = sensor_watts(&suite).unwrap_or(0.0);
        rbmc_e2e::done_or(watts > 700.0, watts)
    });
    suite.simulator("Pause", "b", &["true"]);
    wait_for("three clients to agree", Duration::from_secs(15), || {
        let sensor = sensor_watts(&suite).ok_or("no Total Power")?;
        let ipmitool = ipmitool_ok(&suite, &["dcmi", "power", "reading"]);
        let ipmitool = number_after(&ipmitool, "Instantaneous power reading")
            .ok_or(format!("ipmitool: {ipmitool}"))?;
        let freeipmi = freeipmi_ok(&suite, &["--get-system-power-statistics"]);
        let freeipmi =
            number_after(&freeipmi, "Current Power").ok_or(format!("FreeIPMI: {freeipmi}"))?;
        let pyghmi = pyghmi_watts(&suite)?;
        for (client, watts) in [
            ("ipmitool", ipmitool),
            ("FreeIPMI", freeipmi),
            ("pyghmi", pyghmi),
        ] {
            if (watts - sensor).abs() > 32.0 {
                return Err(format!("{client} {watts} W, the sensor {sensor} W"));
            }
        }
        Ok::<(), String>(())
    });
    // The capabilities say power management is here, with its periods.
    let discovered = ipmitool_ok(&suite, &["dcmi", "discover"]);
    assert!(
        discovered.contains("Power management available"),
        "{discovered}"
    );
    let capabilities = freeipmi_ok(&suite, &["--get-dcmi-capability-info"]);
    assert!(
        capabilities.contains("DCMI Specification Conformance                     : 1.5"),
        "{capabilities}"
    );
    assert_eq!(
        capabilities
            .matches("Available Rolling Average Time Period")
            .count(),
        9
    );
    let minute = ipmitool_ok(&suite, &["dcmi", "power", "reading", "1_min"]);
    assert!(minute.contains("1_min"), "{minute}");
}

#[test]
fn a_power_limit_below_the_load_powers_the_host_off_and_is_logged() {
    let suite = Suite::start();
    // Never set: "no active power limit", with the settings all the same.
    let unset = ipmitool_ok(&suite, &["dcmi", "power", "get_limit"]);
    assert!(unset.contains("No Active Power Limit"), "{unset}");
    ipmitool_ok(
        &suite,
        &[
            "dcmi",
            "power",
            "set_limit",
            "action",
            "power_off",
            "limit",
            "500",
            "correction",
            "2000",
            "sample",
            "5",
        ],
    );
    let inactive = freeipmi_ok(&suite, &["--get-power-limit"]);
    assert!(
        inactive.contains("Power Limit Requested                             : 500 watts"),
        "{inactive}"
    );
    // Deactivated, the limit does nothing: the draw stays above it for
    // longer than the correction time (every reading of the last 5 s, in
    // the 5 s rolling period), and the host stays on.
    power_on(&suite);
    suite.simulator("SetLoad", "d", &["1.0"]);
    wait_for(
        "5 s of readings over the limit",
        Duration::from_secs(20),
        || {
            let shown = ipmitool_ok(&suite, &["dcmi", "power", "reading", "5_sec"]);
            let minimum = number_after(&shown, "Minimum during sampling period").unwrap_or(0.0);
            rbmc_e2e::done_or(minimum > 500.0, shown)
        },
    );
    let status = ipmitool_ok(&suite, &["chassis", "power", "status"]);
    assert!(status.contains("is on"), "{status}");
    // Activated, the host goes off after the correction time, and the SEL
    // says why: an OEM record (C0h) with DCh, the action, watts and limit.
    let activated = ipmitool_ok(&suite, &["dcmi", "power", "activate"]);
    assert!(activated.contains("successfully activated"), "{activated}");
    wait_for("the host off", Duration::from_secs(10), || {
        let shown = ipmitool_ok(&suite, &["chassis", "power", "status"]);
        rbmc_e2e::done_or(shown.contains("is off"), shown)
    });
    let sel = ipmitool_ok(&suite, &["sel", "list"]);
    let record = sel
        .lines()
        .find(|l| l.contains("OEM record c0"))
        .unwrap_or_else(|| panic!("no OEM record in:\n{sel}"));
    assert!(record.contains("| dc01"), "{record}");
    assert!(
        record.trim_end().ends_with("f401"),
        "the 500 W limit: {record}"
    );
    // Kept across a restart of every daemon.
    let suite = suite.restart();
    let kept = ipmitool_ok(&suite, &["dcmi", "power", "get_limit"]);
    assert!(kept.contains("Power Limit Active"), "{kept}");
    assert!(kept.contains("500 Watts"), "{kept}");
}

#[test]
fn bad_requests_get_their_completion_codes_and_change_nothing() {
    let suite = Suite::start();
    let raw = |bytes: &[&str]| {
        let mut args = vec!["raw", "0x2c"];
        args.extend_from_slice(bytes);
        text(&suite.ipmitool(17, &args))
    };
    for (request, code) in [
        // No DCh, a short request, another group, a reserved byte.
        (&["0x02"][..], "rsp=0xc7"),
        (&["0x02", "0xdc", "0x01"], "rsp=0xc7"),
        (&["0x02", "0xdd", "0x01", "0", "0"], "rsp=0xc1"),
        (&["0x02", "0xdc", "0x01", "0", "1"], "rsp=0xcc"),
        // A rolling period not offered, a capabilities selector unknown.
        (&["0x02", "0xdc", "0x02", "0x06", "0"], "rsp=0xcc"),
        (&["0x01", "0xdc", "0x09"], "rsp=0xcc"),
        // Activate a limit never set: nothing to enforce.
        (&["0x05", "0xdc", "0x01", "0", "0"], "rsp=0xd5"),
    ] {
        let shown = raw(request);
        assert!(shown.contains(code), "{request:?}: {shown}");
    }
    // Set Power Limit: each field out of range has DCMI's own code.
    for (limit, correction, sample, code) in [
        ("9000", "2000", "5", "(84)"),
        ("500", "5", "5", "(85)"),
        ("500", "2000", "0", "(89)"),
    ] {
        let args = [
            "dcmi",
            "power",
            "set_limit",
            "action",
            "power_off",
            "limit",
            limit,
            "correction",
            correction,
            "sample",
            sample,
        ];
        let out = suite.ipmitool(17, &args);
        assert!(!out.status.success());
        assert!(text(&out).contains(code), "{args:?}: {}", text(&out));
    }
    let unchanged = ipmitool_ok(&suite, &["dcmi", "power", "get_limit"]);
    assert!(
        unchanged.contains("Power Limit:         0 Watts"),
        "{unchanged}"
    );
}

/// pyghmi's asset tag and controller ID string (set first, if given).
fn pyghmi_identity(suite: &Suite, set: Option<(&str, &str)>) -> (String, String) {
    let root = rbmc_e2e::repo_root();
    let python = root.join("target/pyghmi-venv/bin/python");
    let script = root.join("tests/clients/pyghmi_dcmi.py");
    let port = suite.port.to_string();
    let mut args = vec![script.to_str().expect("utf-8"), &port, USER, PASSWORD];
    if let Some((tag, id)) = set {
        args.extend_from_slice(&[tag, id]);
    }
    let out = rbmc_e2e::run(python.to_str().expect("utf-8"), &args);
    assert!(out.status.success(), "pyghmi: {}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = shown.lines().map(str::to_owned);
    (
        lines.next().unwrap_or_default(),
        lines.next().unwrap_or_default(),
    )
}

/// `field` of `ipmitool fru print 0`.
fn fru_field(suite: &Suite, field: &str) -> String {
    let shown = ipmitool_ok(suite, &["fru", "print", "0"]);
    shown
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name.trim() == field).then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

#[test]
fn the_asset_tag_is_the_frus_and_every_client_writes_and_reads_it() {
    let suite = Suite::start();
    // ipmitool writes (16-byte chunks); the FRU and FreeIPMI read it.
    ipmitool_ok(&suite, &["dcmi", "set_asset_tag", "rack-7-slot-3"]);
    assert_eq!(fru_field(&suite, "Product Asset Tag"), "rack-7-slot-3");
    assert_eq!(
        freeipmi_ok(&suite, &["--get-asset-tag"]).trim(),
        "rack-7-slot-3"
    );
    // pyghmi writes in 15-byte chunks, past one chunk; ipmitool reads it.
    let long_tag = "pyghmi tag longer than one chunk";
    let controller = "bmc-r7s3.example.net";
    let (tag, id) = pyghmi_identity(&suite, Some((long_tag, controller)));
    assert_eq!((tag.as_str(), id.as_str()), (long_tag, controller));
    let shown = ipmitool_ok(&suite, &["dcmi", "asset_tag"]);
    assert!(shown.contains(&format!("Asset tag: {long_tag}")), "{shown}");
    let shown = ipmitool_ok(&suite, &["dcmi", "get_mc_id_string"]);
    assert!(shown.contains(controller), "{shown}");
    // FreeIPMI writes both; the FRU, ipmitool and pyghmi agree, after a
    // restart too (each write was durable before its answer).
    freeipmi_ok(&suite, &["--set-asset-tag=freeipmi-tag"]);
    freeipmi_ok(
        &suite,
        &["--set-management-controller-identifier-string=bmc-freeipmi"],
    );
    let suite = suite.restart();
    assert_eq!(fru_field(&suite, "Product Asset Tag"), "freeipmi-tag");
    assert_eq!(
        pyghmi_identity(&suite, None),
        ("freeipmi-tag".to_owned(), "bmc-freeipmi".to_owned())
    );
    // Out of range: past 63 bytes, more than 16 at once, past the end.
    for (request, code) in [
        (&["0x06", "0xdc", "48", "16"][..], "rsp=0xc9"),
        (&["0x06", "0xdc", "0", "17"], "rsp=0xc9"),
        (&["0x08", "0xdc", "40", "1", "0x41"], "rsp=0xc9"),
        (&["0x08", "0xdc", "0", "2", "0x41"], "rsp=0xc7"),
    ] {
        let mut args = vec!["raw", "0x2c"];
        args.extend_from_slice(request);
        let shown = text(&suite.ipmitool(17, &args));
        assert!(shown.contains(code), "{request:?}: {shown}");
    }
    assert_eq!(fru_field(&suite, "Product Asset Tag"), "freeipmi-tag");
}

/// The numbers (record IDs) ipmitool's `dcmi sensors` lists as
/// `Record ID 0x....`.
fn listed_record_ids(shown: &str) -> Vec<u16> {
    shown
        .split("Record ID 0x")
        .skip(1)
        .filter_map(|rest| u16::from_str_radix(rest.get(..4)?, 16).ok())
        .collect()
}

#[test]
fn dcmi_temperatures_are_the_sdrs_sensors_and_their_readings() {
    let suite = Suite::start();
    suite.simulator("Pause", "b", &["true"]);
    // ipmitool lists each entity's records, then finds each in the SDR
    // repository and prints it: the sensors dev.toml puts on the inlet
    // (37h), the processors (03h) and the baseboard (07h).
    let shown = ipmitool_ok(&suite, &["dcmi", "sensors"]);
    for expected in [
        "Inlet: 1 temperature sensor found",
        "CPU: 2 temperature sensors found",
        "Baseboard: 2 temperature sensors found",
        "Inlet Temp",
        "CPU0 Temp",
        "CPU1 Temp",
        "Outlet Temp",
        "PCH Temp",
    ] {
        assert!(shown.contains(expected), "{expected:?} in {shown}");
    }
    // FreeIPMI lists the same record IDs.
    let ids = listed_record_ids(&shown);
    let freeipmi = freeipmi_ok(&suite, &["--get-dcmi-sensor-info"]);
    let freeipmi_ids: Vec<u16> = freeipmi
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(ids.len(), 5, "{shown}");
    assert_eq!(ids, freeipmi_ids, "{freeipmi}");
    // The temperatures are the sensors' readings (whole degrees, within
    // the SDR's resolution of what ipmitool's sensor list shows).
    wait_for(
        "DCMI temperatures to match",
        Duration::from_secs(15),
        || {
            let readings = ipmitool_ok(&suite, &["dcmi", "get_temp_reading"]);
            let list = ipmitool_ok(&suite, &["sensor", "list"]);
            let listed = |name: &str| {
                list.lines().find_map(|line| {
                    let fields: Vec<&str> = line.split('|').map(str::trim).collect();
                    (fields.first() == Some(&name)).then(|| fields.get(1)?.parse::<f64>().ok())?
                })
            };
            let dcmi: Vec<f64> = readings
                .lines()
                .filter(|l| l.contains("temperature"))
                .filter_map(|l| {
                    let mut tokens = l.split_whitespace().rev();
                    (tokens.next() == Some("C")).then_some(())?;
                    tokens.next()?.parse().ok()
                })
                .collect();
            let expected: Vec<f64> = [
                "Inlet Temp",
                "CPU0 Temp",
                "CPU1 Temp",
                "Outlet Temp",
                "PCH Temp",
            ]
            .iter()
            .filter_map(|name| listed(name))
            .collect();
            let close = dcmi.len() == expected.len()
                && dcmi
                    .iter()
                    .zip(&expected)
                    .all(|(d, e)| (d - e).abs() <= 2.0);
            rbmc_e2e::done_or(close, format!("{dcmi:?} against {expected:?}:\n{readings}"))
        },
    );
    // Not a temperature, or an entity DCMI does not name: CCh.
    for request in [
        &["0x07", "0xdc", "0x02", "0x40", "0", "0"][..],
        &["0x10", "0xdc", "0x01", "0x99", "0", "0"],
    ] {
        let mut args = vec!["raw", "0x2c"];
        args.extend_from_slice(request);
        let shown = text(&suite.ipmitool(17, &args));
        assert!(shown.contains("rsp=0xcc"), "{request:?}: {shown}");
    }
}

#[test]
fn dcmi_configuration_parameters_are_the_dhcp_clients() {
    let suite = Suite::start();
    // systemd-networkd's DHCPv4 client: 4 s, then doubling to 64 s, and
    // it never gives up (the largest value).
    let shown = ipmitool_ok(&suite, &["dcmi", "get_conf_param"]);
    for line in [
        "Management Controller ID String is disabled",
        "are disabled",
        "Initial timeout interval\t: 4 seconds",
        "Server contact timeout interval\t: 65535 seconds",
        "Server contact retry interval\t: 64 seconds",
    ] {
        assert!(shown.contains(line), "{line:?}: {shown}");
    }
    // The dev box's address is not from DHCP: nothing to restart (D5h).
    // What the client does is written only as it is: another timing, or
    // option 12, is refused (CCh); the same one is accepted.
    for (args, refusal) in [
        (&["activate_dhcp"][..], Some("(d5)")),
        (&["init", "8"], Some("(cc)")),
        (&["dhcp_config", "1"], Some("(cc)")),
        (&["init", "4"], None),
        (&["retry", "64"], None),
    ] {
        let mut all = vec!["dcmi", "set_conf_param"];
        all.extend_from_slice(args);
        let shown = text(&suite.ipmitool(17, &all));
        match refusal {
            Some(code) => assert!(shown.contains(code), "{args:?}: {shown}"),
            None => assert!(!shown.contains("failed"), "{args:?}: {shown}"),
        }
    }
    // FreeIPMI reads the same: no tool of it asks these, so a raw request.
    let raw = freeipmi_raw(&suite, &["0x2c", "0x13", "0xdc", "0x05", "0x00"]);
    assert!(raw.contains("DC 01 05 01 40 00"), "{raw}");
}

/// FreeIPMI's `ipmi-raw`: NetFn, command and data.
fn freeipmi_raw(suite: &Suite, bytes: &[&str]) -> String {
    let mut args = vec!["0x00"];
    args.extend_from_slice(bytes);
    let out = suite.freeipmi("ipmi-raw", &args);
    assert!(out.status.success(), "ipmi-raw {bytes:?}: {}", text(&out));
    text(&out)
}
