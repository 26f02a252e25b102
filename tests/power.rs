//! Chassis power with ipmitool against the simulated host board. Every
//! check reads the simulated host (`org.rbmc.SimulatedHost` on the bus), not
//! only ipmitool's reply.

use std::time::Duration;

use nix::sys::signal::Signal;
use rbmc_e2e::{done_or, text, wait_for, Suite};

fn host(suite: &Suite, property: &str) -> String {
    let shown = suite.busctl(&[
        "get-property",
        "org.rbmc.Powerd",
        "/org/rbmc/SimulatedHost",
        "org.rbmc.SimulatedHost",
        property,
    ]);
    shown
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the simulated host's `property` reads `wanted`.
fn wait_host(suite: &Suite, what: &str, limit: Duration, property: &str, wanted: &str) {
    wait_for(what, limit, || {
        let seen = host(suite, property);
        done_or(seen == wanted, format!("{property} = {seen}"))
    });
}

/// `CurrentHostState`, the last part of it: `Running`, `Off`,
/// `TransitioningToRunning` or `TransitioningToOff`.
fn host_state(suite: &Suite) -> String {
    let shown = suite.busctl(&[
        "get-property",
        "xyz.openbmc_project.State.Host",
        "/xyz/openbmc_project/state/host0",
        "xyz.openbmc_project.State.Host",
        "CurrentHostState",
    ]);
    shown
        .trim()
        .trim_end_matches('"')
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// How many times rbmc-powerd has logged that it applied the restore
/// policy (once per start, once it owns its names).
fn powerd_starts(suite: &Suite) -> usize {
    suite
        .log_text()
        .matches("rbmc_powerd: restore policy applied")
        .count()
}

/// Kills rbmc-powerd and waits until the launcher has started it again, the
/// new one has reached the restore policy, and it answers ipmitool.
fn restart_powerd(suite: &Suite) {
    let old = suite.pid_of("rbmc-powerd");
    let starts = powerd_starts(suite);
    suite.signal("rbmc-powerd", Signal::SIGKILL);
    wait_for("powerd back", Duration::from_secs(15), || {
        let now = suite.pid_of("rbmc-powerd");
        let out = suite.ipmitool(17, &["chassis", "power", "status"]);
        done_or(
            now != old && powerd_starts(suite) > starts && out.status.success(),
            format!("pid {now} (was {old}): {}", text(&out)),
        )
    });
}

fn ipmi_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    text(&out)
}

fn power_on(suite: &Suite) {
    ipmi_ok(suite, &["chassis", "power", "on"]);
    wait_host(
        suite,
        "host on",
        Duration::from_secs(5),
        "PowerGood",
        "true",
    );
}

#[test]
fn power_control_drives_the_host() {
    let suite = Suite::start();
    assert_eq!(host(&suite, "PowerGood"), "false");
    assert!(ipmi_ok(&suite, &["chassis", "power", "status"]).contains("Chassis Power is off"));

    power_on(&suite);
    assert!(ipmi_ok(&suite, &["chassis", "power", "status"]).contains("Chassis Power is on"));
    // The event names its sensor: the event-only sensors have compact SDR
    // records (sensor type 22h, entity 23 = system chassis).
    wait_for(
        "the power-on event in the SEL",
        Duration::from_secs(5),
        || {
            let shown = text(&suite.ipmitool(17, &["sel", "elist"]));
            done_or(
                shown.contains(
                    "System ACPI Power State ACPI Power State | S0/G0: working | Asserted",
                ),
                shown,
            )
        },
    );
    let acpi = ipmi_ok(&suite, &["sdr", "type", "0x22"]);
    assert!(
        acpi.contains("ACPI Power State | E0h |") && acpi.contains("| 23.1 |"),
        "{acpi}"
    );
    for (kind, name) in [
        ("0x09", "Power Unit       | E1h"),
        ("0x23", "Watchdog         | E2h"),
        ("0x2a", "Session Audit    | E3h"),
    ] {
        let shown = ipmi_ok(&suite, &["sdr", "type", kind]);
        assert!(shown.contains(name), "{kind}: {shown}");
    }
    let status = ipmi_ok(&suite, &["chassis", "status"]);
    assert!(status.contains("System Power         : on"), "{status}");
    assert!(
        status.contains("Last Power Event     : command"),
        "{status}"
    );
    assert!(
        ipmi_ok(&suite, &["chassis", "restart_cause"]).contains("chassis power control command")
    );

    ipmi_ok(&suite, &["chassis", "power", "reset"]);
    wait_host(&suite, "reset pulse", Duration::from_secs(3), "Resets", "1");
    ipmi_ok(&suite, &["chassis", "power", "diag"]);
    wait_host(&suite, "NMI pulse", Duration::from_secs(3), "Nmis", "1");

    // A cycle: the host goes off, then comes back.
    ipmi_ok(&suite, &["chassis", "power", "cycle"]);
    wait_host(
        &suite,
        "off in the cycle",
        Duration::from_secs(4),
        "PowerGood",
        "false",
    );
    wait_host(
        &suite,
        "on after the cycle",
        Duration::from_secs(6),
        "PowerGood",
        "true",
    );

    // ACPI soft off: a short press, the OS shuts down.
    ipmi_ok(&suite, &["chassis", "power", "soft"]);
    wait_host(
        &suite,
        "soft off",
        Duration::from_secs(4),
        "PowerGood",
        "false",
    );

    // Hard off from on.
    power_on(&suite);
    ipmi_ok(&suite, &["chassis", "power", "off"]);
    wait_host(
        &suite,
        "forced off",
        Duration::from_secs(4),
        "PowerGood",
        "false",
    );
    // Off when off is fine; a reset when off is refused (D5h).
    ipmi_ok(&suite, &["chassis", "power", "off"]);
    let out = suite.ipmitool(17, &["chassis", "power", "reset"]);
    assert!(!out.status.success(), "{}", text(&out));

    ipmi_ok(&suite, &["chassis", "identify", "5"]);
    assert_eq!(host(&suite, "IdentifyLed"), "true");
    wait_host(
        &suite,
        "identify off after 5 s",
        Duration::from_secs(8),
        "IdentifyLed",
        "false",
    );
    ipmi_ok(&suite, &["chassis", "identify", "force"]);
    assert_eq!(host(&suite, "IdentifyLed"), "true");
    ipmi_ok(&suite, &["chassis", "identify", "0"]);
    assert_eq!(host(&suite, "IdentifyLed"), "false");

    assert!(ipmi_ok(&suite, &["chassis", "poh"]).contains("POH Counter"));
}

#[test]
fn busctl_drives_power_through_openbmc_objects() {
    let suite = Suite::start();
    suite.busctl(&[
        "set-property",
        "xyz.openbmc_project.State.Host",
        "/xyz/openbmc_project/state/host0",
        "xyz.openbmc_project.State.Host",
        "RequestedHostTransition",
        "s",
        "xyz.openbmc_project.State.Host.Transition.On",
    ]);
    wait_host(
        &suite,
        "host on",
        Duration::from_secs(5),
        "PowerGood",
        "true",
    );
    let state = suite.busctl(&[
        "get-property",
        "xyz.openbmc_project.State.Chassis",
        "/xyz/openbmc_project/state/chassis0",
        "xyz.openbmc_project.State.Chassis",
        "CurrentPowerState",
    ]);
    assert_eq!(
        state.trim(),
        "s \"xyz.openbmc_project.State.Chassis.PowerState.On\""
    );
}

#[test]
fn restore_policy_applies_when_the_daemon_restarts() {
    let suite = Suite::start();
    // (policy, host on before, host on after the restart)
    for (policy, before, after) in [
        ("always-off", true, false),
        ("previous", true, true),
        ("previous", false, false),
        ("always-on", false, true),
    ] {
        ipmi_ok(&suite, &["chassis", "policy", policy]);
        if before {
            if host(&suite, "PowerGood") != "true" {
                power_on(&suite);
            }
        } else if host(&suite, "PowerGood") == "true" {
            ipmi_ok(&suite, &["chassis", "power", "off"]);
            wait_host(&suite, "off", Duration::from_secs(4), "PowerGood", "false");
        }
        // The power state reaches the disk in the background; the AC loss
        // below comes once it has (a loss within those milliseconds would
        // restore the state before).
        let stored = suite.state_dir.join("rbmc-powerd/power.toml");
        wait_for("the power state stored", Duration::from_secs(5), || {
            let text = std::fs::read_to_string(&stored).unwrap_or_default();
            done_or(text.contains(&format!("host-on = {before}")), text)
        });
        // Killing the daemon drops the simulated board with it: to the host
        // this is AC power going away and coming back.
        restart_powerd(&suite);
        let expected = if after { "true" } else { "false" };
        wait_host(
            &suite,
            &format!("{policy}: host on = {after}"),
            Duration::from_secs(5),
            "PowerGood",
            expected,
        );
        // Stays that way (no late action). powerd applies the policy right
        // after it logs that it serves, which restart_powerd waited for; a
        // power-on or -off it started shows as a transition until power-good
        // follows. Once the host is in none, nothing more is coming.
        wait_for("no transition", Duration::from_secs(5), || {
            let state = host_state(&suite);
            done_or(!state.starts_with("Transitioning"), state)
        });
        assert_eq!(host(&suite, "PowerGood"), expected, "{policy} {before}");
        if after {
            let cause = ipmi_ok(&suite, &["chassis", "restart_cause"]);
            assert!(cause.contains("polic"), "{policy}: {cause}");
        }
    }
}

#[test]
fn user_privilege_cannot_power_off_but_operator_can() {
    let suite = Suite::start();
    power_on(&suite);
    let out = suite.ipmitool(17, &["-L", "USER", "chassis", "power", "off"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Insufficient privilege level"),
        "{}",
        text(&out)
    );
    assert_eq!(host(&suite, "PowerGood"), "true");
    // USER may still read.
    let out = suite.ipmitool(17, &["-L", "USER", "chassis", "power", "status"]);
    assert!(text(&out).contains("Chassis Power is on"), "{}", text(&out));
    let out = suite.ipmitool(17, &["-L", "OPERATOR", "chassis", "power", "off"]);
    assert!(out.status.success(), "{}", text(&out));
    wait_host(&suite, "off", Duration::from_secs(4), "PowerGood", "false");
}

#[test]
fn power_good_never_arriving_ends_in_a_fault_state() {
    let suite = Suite::start();
    suite.busctl(&[
        "call",
        "org.rbmc.Powerd",
        "/org/rbmc/SimulatedHost",
        "org.rbmc.SimulatedHost",
        "Inject",
        "s",
        "no-power-good",
    ]);
    ipmi_ok(&suite, &["chassis", "power", "on"]);
    // dev.toml: power-on-timeout-ms = 2000 after a 200 ms press.
    wait_for("power control fault", Duration::from_secs(4), || {
        let status = ipmi_ok(&suite, &["chassis", "status"]);
        done_or(status.contains("Power Control Fault  : true"), status)
    });
    let status = ipmi_ok(&suite, &["chassis", "status"]);
    assert!(status.contains("System Power         : off"), "{status}");
    assert!(
        suite.log_text().contains("PowerOnFailed"),
        "{}",
        suite.log_text()
    );
}

#[test]
fn boot_device_persists_and_shows_on_dbus() {
    let suite = Suite::start();
    ipmi_ok(&suite, &["chassis", "bootdev", "pxe", "options=persistent"]);
    let check = |suite: &Suite| {
        let shown = ipmi_ok(suite, &["chassis", "bootparam", "get", "5"]);
        assert!(
            shown.contains("Boot Device Selector : Force PXE"),
            "{shown}"
        );
        assert!(
            shown.contains("Options apply to all future boots"),
            "{shown}"
        );
        let source = suite.busctl(&[
            "get-property",
            "org.rbmc.Powerd",
            "/xyz/openbmc_project/control/host0/boot",
            "xyz.openbmc_project.Control.Boot.Source",
            "BootSource",
        ]);
        assert!(source.contains("Sources.Network"), "{source}");
    };
    check(&suite);
    // Survives a restart of the daemon.
    restart_powerd(&suite);
    check(&suite);
    // Back to no override.
    ipmi_ok(&suite, &["chassis", "bootdev", "none"]);
    let shown = ipmi_ok(&suite, &["chassis", "bootparam", "get", "5"]);
    assert!(shown.contains("No override"), "{shown}");
}

#[test]
fn watchdog_expiry_acts_on_the_host_and_is_logged() {
    let suite = Suite::start();
    power_on(&suite);
    let shown = ipmi_ok(&suite, &["mc", "watchdog", "get"]);
    assert!(shown.contains("Stopped"), "{shown}");
    // A reset before any Set is refused (80h).
    let out = suite.ipmitool(17, &["mc", "watchdog", "reset"]);
    assert!(!out.status.success(), "{}", text(&out));

    // SMS/OS timer, hard reset on expiry, 2.0 s (20 x 100 ms); Reset starts it.
    ipmi_ok(
        &suite,
        &[
            "raw", "0x06", "0x24", "0x04", "0x01", "0x00", "0x10", "0x14", "0x00",
        ],
    );
    ipmi_ok(&suite, &["mc", "watchdog", "reset"]);
    let shown = ipmi_ok(&suite, &["mc", "watchdog", "get"]);
    assert!(shown.contains("Started/Running"), "{shown}");
    assert!(shown.contains("Hard Reset"), "{shown}");
    wait_host(
        &suite,
        "watchdog reset the host",
        Duration::from_secs(6),
        "Resets",
        "1",
    );
    assert!(ipmi_ok(&suite, &["chassis", "restart_cause"]).contains("watchdog"));
    let shown = ipmi_ok(&suite, &["mc", "watchdog", "get"]);
    assert!(shown.contains("SMS/OS"), "expiration flag: {shown}");
    wait_for("watchdog event in the SEL", Duration::from_secs(3), || {
        let shown = text(&suite.ipmitool(17, &["sel", "elist"]));
        done_or(
            shown.contains("Watchdog2 Watchdog | Hard reset | Asserted"),
            shown,
        )
    });

    // Power down on expiry.
    ipmi_ok(
        &suite,
        &[
            "raw", "0x06", "0x24", "0x04", "0x02", "0x00", "0x10", "0x0A", "0x00",
        ],
    );
    ipmi_ok(&suite, &["mc", "watchdog", "reset"]);
    wait_host(
        &suite,
        "watchdog powered the host down",
        Duration::from_secs(6),
        "PowerGood",
        "false",
    );

    // And off: a stopped timer does nothing.
    power_on(&suite);
    ipmi_ok(
        &suite,
        &[
            "raw", "0x06", "0x24", "0x04", "0x02", "0x00", "0x10", "0x0A", "0x00",
        ],
    );
    ipmi_ok(&suite, &["mc", "watchdog", "reset"]);
    assert!(ipmi_ok(&suite, &["mc", "watchdog", "off"]).contains("timer stopped"));
    // Had the timer kept running, it would have expired 1.0 s after the reset
    // above, and powerd would have begun the power-down at its next 100 ms
    // tick: the host shows TransitioningToOff during the 1.2 s force-off
    // press, then Off. The identify LED, set for 2 s now, goes off on the
    // same tick loop: once it is off, an expiry would have been acted on a
    // second ago at least.
    ipmi_ok(&suite, &["chassis", "identify", "2"]);
    wait_host(
        &suite,
        "identify off after 2 s",
        Duration::from_secs(8),
        "IdentifyLed",
        "false",
    );
    assert_eq!(host(&suite, "PowerGood"), "true");
    assert_eq!(host_state(&suite), "Running");
}

/// Issue 14, point 5: a request that arrives while a cycle is under way is
/// queued and carried out when the cycle ends, never lost; a third one
/// while one waits is refused as busy, with a message.
#[test]
fn a_reset_during_a_cycle_runs_once_the_host_is_back() {
    let suite = Suite::start();
    power_on(&suite);
    let ipmipower = |action: &str| {
        let out = suite.freeipmi("ipmipower", &[action]);
        assert!(out.status.success(), "{action}: {}", text(&out));
        text(&out)
    };
    assert!(ipmipower("--cycle").contains(": ok"));
    assert!(ipmipower("--reset").contains(": ok"));
    // The reset waits behind the cycle: the host must not be reset now.
    assert_eq!(host(&suite, "Resets"), "0");
    let busy = suite.ipmitool(17, &["chassis", "power", "off"]);
    assert!(
        !busy.status.success() && text(&busy).contains("Node busy"),
        "{}",
        text(&busy)
    );
    wait_host(
        &suite,
        "off in the cycle",
        Duration::from_secs(8),
        "PowerGood",
        "false",
    );
    assert_eq!(host(&suite, "Resets"), "0");
    wait_host(
        &suite,
        "on after the cycle",
        Duration::from_secs(8),
        "PowerGood",
        "true",
    );
    wait_host(
        &suite,
        "the queued reset",
        Duration::from_secs(3),
        "Resets",
        "1",
    );
    assert!(
        suite
            .log_text()
            .contains("queued power request runs now request=Reset"),
        "{}",
        suite.log_text()
    );
    // A reset behind a power-off makes no sense: refused at once (D5h).
    ipmi_ok(&suite, &["chassis", "power", "off"]);
    let refused = suite.freeipmi("ipmipower", &["--reset"]);
    assert!(!text(&refused).contains(": ok"), "{}", text(&refused));
    wait_host(
        &suite,
        "forced off",
        Duration::from_secs(8),
        "PowerGood",
        "false",
    );
    assert_eq!(host(&suite, "Resets"), "1");
}
