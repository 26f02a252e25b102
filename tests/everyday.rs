//! The everyday commands of issue 14, point 7, over LAN with the client
//! that sends each (ipmitool, FreeIPMI's bmc-device and ipmi-chassis), and
//! their short, long and reserved-bit errors as raw bytes:
//! Get/Set System Info Parameters and Get BMC Global Enables (answered by
//! rbmc-kcsd, as an owner on the bus), Get/Set ACPI Power State and Set
//! Power Cycle Interval (rbmc-powerd), Get SDR Repository Time (rbmc-seld,
//! which keeps the BMC's clock), Get IP/UDP/RMCP Statistics
//! (rbmc-netipmid), BMC Warm Reset and Cold Reset (rbmc-sensord, which
//! has the daemons restarted), Get NetFn Support (rbmc-netipmid, from the
//! live command map), Master Write-Read (rbmc-sensord, to the allowlist).

use std::time::{Duration, Instant};

use rbmc_e2e::{done_or, text, wait_for, Suite};

fn ipmitool_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

fn freeipmi_ok(suite: &Suite, tool: &str, args: &[&str]) -> String {
    let out = suite.freeipmi(tool, args);
    assert!(out.status.success(), "{tool} {args:?}: {}", text(&out));
    text(&out)
}

/// `ipmitool raw` with `bytes`, and the completion code it reports
/// (`00` when it succeeded).
fn raw_code(suite: &Suite, bytes: &[&str]) -> String {
    let mut args = vec!["raw"];
    args.extend_from_slice(bytes);
    let out = suite.ipmitool(17, &args);
    if out.status.success() {
        return "00".into();
    }
    let shown = text(&out);
    shown
        .split("rsp=0x")
        .nth(1)
        .map(|rest| rest[..2].to_owned())
        .unwrap_or(shown)
}

fn simulated_host(suite: &Suite, property: &str) -> String {
    suite
        .busctl(&[
            "get-property",
            "org.rbmc.Powerd",
            "/org/rbmc/SimulatedHost",
            "org.rbmc.SimulatedHost",
            property,
        ])
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn system_info_and_global_enables_answer_over_lan() {
    let suite = Suite::start();
    ipmitool_ok(&suite, &["mc", "setsysinfo", "system_name", "rbmc-node-7"]);
    let name = ipmitool_ok(&suite, &["mc", "getsysinfo", "system_name"]);
    assert_eq!(name.trim(), "rbmc-node-7");
    let info = freeipmi_ok(&suite, "bmc-info", &["--get-system-info"]);
    assert!(
        info.contains("System Name                   : rbmc-node-7"),
        "{info}"
    );
    let enables = ipmitool_ok(&suite, &["mc", "getenables"]);
    assert!(
        enables.contains("System Event Logging                     : enabled"),
        "{enables}"
    );
    for (bytes, code) in [
        (&["0x06", "0x59"][..], "c7"),
        (&["0x06", "0x59", "0", "2", "0", "0", "0"], "c7"),
        (&["0x06", "0x59", "0x40", "2", "0", "0"], "cc"),
        (&["0x06", "0x58", "0", "3"], "cc"),
        (&["0x06", "0x2f", "0"], "c7"),
    ] {
        assert_eq!(raw_code(&suite, bytes), code, "{bytes:?}");
    }
}

#[test]
fn acpi_power_state_follows_power_and_system_software() {
    let suite = Suite::start();
    let state = |suite: &Suite| freeipmi_ok(suite, "bmc-device", &["--get-acpi-power-state"]);
    assert!(state(&suite).contains("ACPI System Power State : S5/G2"));
    ipmitool_ok(&suite, &["chassis", "power", "on"]);
    wait_for("S0 once the host is on", Duration::from_secs(5), || {
        let shown = state(&suite);
        done_or(shown.contains("ACPI System Power State : S0/G0"), shown)
    });
    freeipmi_ok(
        &suite,
        "bmc-device",
        &[
            "--set-acpi-power-state",
            "--set-acpi-system-power-state=S1",
            "--set-acpi-device-power-state=D0",
        ],
    );
    let shown = state(&suite);
    assert!(
        shown.contains("ACPI System Power State : S1") && shown.contains("Device Power State : D0"),
        "{shown}"
    );
    for (bytes, code) in [
        (&["0x06", "0x06", "0x80"][..], "c7"),
        (&["0x06", "0x06", "0x80", "0x80", "0"], "c7"),
        (&["0x06", "0x06", "0x8b", "0x7f"], "cc"),
        (&["0x06", "0x06", "0x7f", "0x84"], "cc"),
        (&["0x06", "0x07", "0"], "c7"),
    ] {
        assert_eq!(raw_code(&suite, bytes), code, "{bytes:?}");
    }
    // A refused set changed nothing.
    assert!(state(&suite).contains("ACPI System Power State : S1"));
}

#[test]
fn the_power_cycle_interval_sets_the_off_time_and_persists() {
    let suite = Suite::start();
    freeipmi_ok(&suite, "ipmi-chassis", &["--set-power-cycle-interval=3"]);
    let suite = suite.restart();
    ipmitool_ok(&suite, &["chassis", "power", "on"]);
    wait_for("on", Duration::from_secs(5), || {
        let good = simulated_host(&suite, "PowerGood");
        done_or(good == "true", good)
    });
    ipmitool_ok(&suite, &["chassis", "power", "cycle"]);
    wait_for("off in the cycle", Duration::from_secs(5), || {
        let good = simulated_host(&suite, "PowerGood");
        done_or(good == "false", good)
    });
    let off_at = Instant::now();
    wait_for("on after the cycle", Duration::from_secs(10), || {
        let good = simulated_host(&suite, "PowerGood");
        done_or(good == "true", good)
    });
    // 3 s off (the dev config's own is 1 s), plus the press and power-good.
    let off = off_at.elapsed();
    assert!(off >= Duration::from_millis(2900), "off for {off:?}");
    for (bytes, code) in [
        (&["0x00", "0x0b"][..], "c7"),
        (&["0x00", "0x0b", "1", "2"], "c7"),
    ] {
        assert_eq!(raw_code(&suite, bytes), code, "{bytes:?}");
    }
}

#[test]
fn sdr_repository_time_is_the_bmcs_clock() {
    let suite = Suite::start();
    ipmitool_ok(&suite, &["sel", "time", "set", "01/02/30 03:04:05"]);
    let shown = freeipmi_ok(&suite, "bmc-device", &["--get-sdr-repository-time"]);
    assert!(
        shown.contains("SDR Repository Time : 01/02/2030 - 03:0"),
        "{shown}"
    );
    assert_eq!(raw_code(&suite, &["0x0a", "0x28", "0"]), "c7");
}

#[test]
fn lan_statistics_count_and_clear() {
    let suite = Suite::start();
    let stats = |suite: &Suite| freeipmi_ok(suite, "bmc-device", &["--get-lan-statistics"]);
    let valid = |shown: &str| -> u32 {
        shown
            .lines()
            .find_map(|l| l.strip_prefix("Valid RMCP Packets Received    : "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no RMCP count in {shown}"))
    };
    let before = valid(&stats(&suite));
    assert!(before > 0, "the packets of this very session count");
    ipmitool_ok(&suite, &["mc", "info"]);
    assert!(valid(&stats(&suite)) > before);
    // ipmitool reads the counters most-significant byte first, against
    // the spec's least-significant-first; it still prints them all.
    assert!(ipmitool_ok(&suite, &["lan", "stats", "get", "1"]).contains("RMCP Rx Valid"));
    // Clearing needs Operator.
    let user = suite.ipmitool(17, &["-L", "USER", "lan", "stats", "clear", "1"]);
    assert!(!user.status.success(), "{}", text(&user));
    let counted = valid(&stats(&suite));
    freeipmi_ok(&suite, "bmc-device", &["--clear-lan-statistics"]);
    let after = valid(&stats(&suite));
    assert!(
        after < counted,
        "{after} counting again from the clear, not {counted}"
    );
    for (bytes, code) in [
        (&["0x0c", "0x04", "1"][..], "c7"),
        (&["0x0c", "0x04", "1", "0", "0"], "c7"),
        (&["0x0c", "0x04", "1", "2"], "cc"),
        (&["0x0c", "0x04", "0x21", "0"], "cc"),
    ] {
        assert_eq!(raw_code(&suite, bytes), code, "{bytes:?}");
    }
}

const DAEMONS: [&str; 7] = [
    "rbmc-netipmid",
    "rbmc-kcsd",
    "rbmc-redfishd",
    "rbmc-powerd",
    "rbmc-seld",
    "rbmc-userd",
    "rbmc-sensord",
];

/// Waits until the daemons of `restarted` have new PIDs, the others the
/// same ones, and the suite answers again.
fn wait_for_restart(suite: &Suite, before: &[Option<i32>], restarted: &[&str]) {
    wait_for("the reset's restarts", Duration::from_secs(20), || {
        let now: Vec<Option<i32>> = DAEMONS.iter().map(|d| suite.try_pid_of(d)).collect();
        let as_expected = DAEMONS
            .iter()
            .zip(before.iter().zip(&now))
            .all(|(d, (b, n))| n.is_some() && (restarted.contains(d) == (b != n)));
        let answers = as_expected && suite.ipmitool(17, &["mc", "info"]).status.success();
        done_or(answers, format!("{before:?} -> {now:?}"))
    });
}

#[test]
fn warm_reset_restarts_the_bridges_and_cold_reset_every_daemon() {
    let suite = Suite::start();
    let pids = |suite: &Suite| -> Vec<Option<i32>> {
        DAEMONS.iter().map(|d| suite.try_pid_of(d)).collect()
    };
    // Administrator only.
    let operator = suite.ipmitool(17, &["-L", "OPERATOR", "mc", "reset", "warm"]);
    assert!(!operator.status.success(), "{}", text(&operator));
    // Another bus client forging the signal restarts nothing: daemons hear
    // it from rbmc-sensord's name only. (Signals arrive in order, so had
    // this one counted, the warm reset below would log a fourth restart.)
    suite.busctl(&[
        "emit",
        "/org/rbmc/Bmc",
        "org.rbmc.Bmc",
        "ResetRequested",
        "as",
        "1",
        "org.rbmc.Netipmid",
    ]);
    let before = pids(&suite);
    let sent = ipmitool_ok(&suite, &["mc", "reset", "warm"]);
    assert!(sent.contains("Sent warm reset command to MC"), "{sent}");
    wait_for_restart(
        &suite,
        &before,
        &["rbmc-netipmid", "rbmc-kcsd", "rbmc-redfishd"],
    );
    // The three bridges restart, and nothing else.
    assert_eq!(
        suite.log_text().matches("BMC reset: restarting").count(),
        3,
        "{}",
        suite.log_text()
    );
    // FreeIPMI waits for the answer, which comes before the restarts.
    let before = pids(&suite);
    freeipmi_ok(&suite, "bmc-device", &["--cold-reset"]);
    wait_for_restart(&suite, &before, &DAEMONS);
    assert!(suite
        .log_text()
        .contains("BMC reset requested kind=\"cold\""));
    for (bytes, code) in [
        (&["0x06", "0x02", "0"][..], "c7"),
        (&["0x06", "0x03", "0"], "c7"),
    ] {
        assert_eq!(raw_code(&suite, bytes), code, "{bytes:?}");
    }
}

/// Get NetFn Support, with FreeIPMI's ipmi-raw (no client has a command
/// for it): LUN 00b takes base commands, and the pairs of the NetFns the
/// owners serve are set: Chassis, S/E, App, Storage, Transport (6Dh),
/// Group Extension 2Ch (DCMI, bit 6 of the pairs 20h-2Eh byte: 40h) and
/// OEM/Group 2Eh (rbmc-fand's fan-control command, bit 7: 80h).
#[test]
fn netfn_support_lists_what_the_owners_serve() {
    let suite = Suite::start();
    for channel in ["0e", "0f"] {
        let shown = freeipmi_ok(&suite, "ipmi-raw", &["00", "06", "09", channel]);
        assert!(
            shown.contains("rcvd: 09 00 01 6D 00 C0 00 00"),
            "{channel}: {shown}"
        );
    }
    for (bytes, code) in [
        (&["0x06", "0x09"][..], "c7"),
        (&["0x06", "0x09", "1", "0"], "c7"),
        (&["0x06", "0x09", "0x11"], "cc"),
        (&["0x06", "0x09", "2"], "cc"),
    ] {
        assert_eq!(raw_code(&suite, bytes), code, "{bytes:?}");
    }
}

/// FreeIPMI's `ipmi-config --category=chassis` checks out, commits the
/// file back unchanged with exit code 0, and reads back the same; a
/// changed restore policy commits and shows in ipmitool.
#[test]
fn ipmi_config_round_trips_the_chassis() {
    let suite = Suite::start();
    let checkout =
        |suite: &Suite| freeipmi_ok(suite, "ipmi-config", &["--category=chassis", "--checkout"]);
    let before = checkout(&suite);
    assert!(before.contains("Section Chassis_Power_Conf"), "{before}");
    let file = suite.state_dir.join("chassis.conf");
    std::fs::write(&file, &before).unwrap();
    freeipmi_ok(
        &suite,
        "ipmi-config",
        &[
            "--category=chassis",
            "--commit",
            "--filename",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(checkout(&suite), before);
    freeipmi_ok(
        &suite,
        "ipmi-config",
        &[
            "--category=chassis",
            "--commit",
            "-e",
            "Chassis_Power_Conf:Power_Restore_Policy=On_State_AC_Apply",
        ],
    );
    let status = ipmitool_ok(&suite, &["chassis", "status"]);
    assert!(
        status.contains("Power Restore Policy : always-on"),
        "{status}"
    );
}

/// Master Write-Read with ipmitool's `i2c`: an allowed (simulated) EEPROM
/// on private bus 1 is written and read back; an address the allowlist
/// does not name, a write to a read-only entry, or an Operator is refused.
#[test]
fn master_write_read_reaches_only_the_allowlist() {
    let suite = Suite::start();
    ipmitool_ok(
        &suite,
        &["i2c", "bus=1", "0xa0", "0", "0x10", "0xde", "0xad"],
    );
    let read = ipmitool_ok(&suite, &["i2c", "bus=1", "0xa0", "2", "0x10"]);
    assert!(read.contains("de ad"), "{read}");
    // 0x51 is listed read-only: a pointer and a read work, a write not.
    ipmitool_ok(&suite, &["i2c", "bus=1", "0xa2", "1", "0x00"]);
    for (bytes, code) in [
        // Not listed: D6h, as a firmware firewall refuses.
        (&["0x06", "0x52", "0x03", "0xa4", "1"][..], "d6"),
        (&["0x06", "0x52", "0x05", "0xa0", "1"], "d6"),
        (&["0x06", "0x52", "0x03", "0xa2", "0", "0", "1"], "d6"),
        // No public bus, a reserved address bit, too long a read.
        (&["0x06", "0x52", "0x02", "0xa0", "1"], "cc"),
        (&["0x06", "0x52", "0x03", "0xa1", "1"], "cc"),
        (&["0x06", "0x52", "0x03", "0xa0", "65"], "cc"),
        (&["0x06", "0x52", "0x03", "0xa0"], "c7"),
    ] {
        assert_eq!(raw_code(&suite, bytes), code, "{bytes:?}");
    }
    let operator = suite.ipmitool(17, &["-L", "OPERATOR", "i2c", "bus=1", "0xa0", "1", "0x10"]);
    assert!(!operator.status.success(), "{}", text(&operator));
}
