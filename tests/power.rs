//! Chassis power with ipmitool against the simulated host board. Every
//! check reads the simulated host (`org.rbmc.SimulatedHost` on the bus), not
//! only ipmitool's reply.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rbmc_contracts::{control::BootSourceProxy, simulator::SimulatedHostProxy};
use rbmc_e2e::{text, Suite};
use zbus::proxy::CacheProperties;

/// What the simulated host saw.
struct Host {
    power_good: bool,
    resets: u32,
    nmis: u32,
    identify_led: bool,
}

/// Reads the simulated host through its contract.
fn host(suite: &Suite) -> Host {
    on_bus(suite, async |conn| {
        let host = SimulatedHostProxy::builder(conn)
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        zbus::Result::Ok(Host {
            power_good: host.power_good().await?,
            resets: host.resets().await?,
            nmis: host.nmis().await?,
            identify_led: host.identify_led().await?,
        })
    })
}

/// Runs `f` on a fresh connection to the suite's bus: the shared proxies
/// (`rbmc-contracts`) are async, the tests are not.
fn on_bus<T, E: From<zbus::Error> + std::fmt::Display>(
    suite: &Suite,
    f: impl AsyncFnOnce(&zbus::Connection) -> Result<T, E>,
) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(async {
            let conn = zbus::connection::Builder::address(suite.bus_address().as_str())?
                .build()
                .await?;
            f(&conn).await
        })
        .unwrap_or_else(|err| panic!("on the bus: {err}"))
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ipmi_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    text(&out)
}

fn power_on(suite: &Suite) {
    ipmi_ok(suite, &["chassis", "power", "on"]);
    wait_until("host on", Duration::from_secs(5), || host(suite).power_good);
}

#[test]
fn power_control_drives_the_host() {
    let suite = Suite::start();
    assert!(!host(&suite).power_good);
    assert!(ipmi_ok(&suite, &["chassis", "power", "status"]).contains("Chassis Power is off"));

    power_on(&suite);
    assert!(ipmi_ok(&suite, &["chassis", "power", "status"]).contains("Chassis Power is on"));
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
    wait_until("reset pulse", Duration::from_secs(3), || {
        host(&suite).resets == 1
    });
    ipmi_ok(&suite, &["chassis", "power", "diag"]);
    wait_until("NMI pulse", Duration::from_secs(3), || {
        host(&suite).nmis == 1
    });

    // A cycle: the host goes off, then comes back.
    ipmi_ok(&suite, &["chassis", "power", "cycle"]);
    wait_until("off in the cycle", Duration::from_secs(4), || {
        !host(&suite).power_good
    });
    wait_until("on after the cycle", Duration::from_secs(6), || {
        host(&suite).power_good
    });

    // ACPI soft off: a short press, the OS shuts down.
    ipmi_ok(&suite, &["chassis", "power", "soft"]);
    wait_until("soft off", Duration::from_secs(4), || {
        !host(&suite).power_good
    });

    // Hard off from on.
    power_on(&suite);
    ipmi_ok(&suite, &["chassis", "power", "off"]);
    wait_until("forced off", Duration::from_secs(4), || {
        !host(&suite).power_good
    });
    // Off when off is fine; a reset when off is refused (D5h).
    ipmi_ok(&suite, &["chassis", "power", "off"]);
    let out = suite.ipmitool(17, &["chassis", "power", "reset"]);
    assert!(!out.status.success(), "{}", text(&out));

    ipmi_ok(&suite, &["chassis", "identify", "5"]);
    assert!(host(&suite).identify_led);
    wait_until("identify off after 5 s", Duration::from_secs(8), || {
        !host(&suite).identify_led
    });
    ipmi_ok(&suite, &["chassis", "identify", "force"]);
    assert!(host(&suite).identify_led);
    ipmi_ok(&suite, &["chassis", "identify", "0"]);
    assert!(!host(&suite).identify_led);

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
    wait_until("host on", Duration::from_secs(5), || {
        host(&suite).power_good
    });
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
            if !host(&suite).power_good {
                power_on(&suite);
            }
        } else if host(&suite).power_good {
            ipmi_ok(&suite, &["chassis", "power", "off"]);
            wait_until("off", Duration::from_secs(4), || !host(&suite).power_good);
        }
        // Killing the daemon drops the simulated board with it: to the host
        // this is AC power going away and coming back.
        let old = suite.pid_of("rbmc-powerd");
        suite.signal("rbmc-powerd", Signal::SIGKILL);
        wait_until("powerd back", Duration::from_secs(15), || {
            suite.pid_of("rbmc-powerd") != old
                && suite
                    .ipmitool(17, &["chassis", "power", "status"])
                    .status
                    .success()
        });
        wait_until(
            &format!("{policy}: host on = {after}"),
            Duration::from_secs(5),
            || host(&suite).power_good == after,
        );
        // Stays that way (no late action).
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(host(&suite).power_good, after, "{policy} {before}");
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
    assert!(host(&suite).power_good);
    // USER may still read.
    let out = suite.ipmitool(17, &["-L", "USER", "chassis", "power", "status"]);
    assert!(text(&out).contains("Chassis Power is on"), "{}", text(&out));
    let out = suite.ipmitool(17, &["-L", "OPERATOR", "chassis", "power", "off"]);
    assert!(out.status.success(), "{}", text(&out));
    wait_until("off", Duration::from_secs(4), || !host(&suite).power_good);
}

#[test]
fn power_good_never_arriving_ends_in_a_fault_state() {
    let suite = Suite::start();
    on_bus(&suite, async |conn| {
        SimulatedHostProxy::new(conn)
            .await?
            .inject("no-power-good")
            .await
    });
    ipmi_ok(&suite, &["chassis", "power", "on"]);
    // dev.toml: power-on-timeout-ms = 2000 after a 200 ms press.
    wait_until("power control fault", Duration::from_secs(4), || {
        ipmi_ok(&suite, &["chassis", "status"]).contains("Power Control Fault  : true")
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
        let source = on_bus(suite, async |conn| {
            BootSourceProxy::builder(conn)
                .cache_properties(CacheProperties::No)
                .build()
                .await?
                .boot_source()
                .await
        });
        assert_eq!(
            source,
            "xyz.openbmc_project.Control.Boot.Source.Sources.Network"
        );
    };
    check(&suite);
    // Survives a restart of the daemon.
    let old = suite.pid_of("rbmc-powerd");
    suite.signal("rbmc-powerd", Signal::SIGKILL);
    wait_until("powerd back", Duration::from_secs(15), || {
        suite.pid_of("rbmc-powerd") != old
            && suite
                .ipmitool(17, &["chassis", "power", "status"])
                .status
                .success()
    });
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
    wait_until("watchdog reset the host", Duration::from_secs(6), || {
        host(&suite).resets == 1
    });
    assert!(ipmi_ok(&suite, &["chassis", "restart_cause"]).contains("watchdog"));
    let shown = ipmi_ok(&suite, &["mc", "watchdog", "get"]);
    assert!(shown.contains("SMS/OS"), "expiration flag: {shown}");
    wait_until("watchdog event in the SEL", Duration::from_secs(3), || {
        let shown = text(&suite.ipmitool(17, &["sel", "elist"]));
        shown.contains("Watchdog2 #0xe2 | Hard reset | Asserted")
    });

    // Power down on expiry.
    ipmi_ok(
        &suite,
        &[
            "raw", "0x06", "0x24", "0x04", "0x02", "0x00", "0x10", "0x0A", "0x00",
        ],
    );
    ipmi_ok(&suite, &["mc", "watchdog", "reset"]);
    wait_until(
        "watchdog powered the host down",
        Duration::from_secs(6),
        || !host(&suite).power_good,
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
    std::thread::sleep(Duration::from_millis(2500));
    assert!(host(&suite).power_good);
}
