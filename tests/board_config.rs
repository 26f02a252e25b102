//! The AST2600 evaluation board's config on a machine without that board:
//! each daemon started by hand with it stops at once with a message naming
//! what is missing (the device, or the bus), never a panic.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use rbmc_e2e::{bin_dir, poll_until, repo_root};

/// Runs `daemon` with the board config; its exit code and stderr.
fn run_with_board_config(daemon: &str) -> (Option<i32>, String) {
    let state = std::env::temp_dir().join(format!("rbmc-board-{daemon}-{}", std::process::id()));
    let mut child = Command::new(bin_dir().join(daemon))
        .arg("--config")
        .arg(repo_root().join("configs/ast2600-evb.toml"))
        .arg("--state-dir")
        .arg(&state)
        // No system bus here: the daemons must not reach a real one.
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            "unix:path=/nonexistent/rbmc-test-bus",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the daemon");
    let status = poll_until(Duration::from_secs(10), || {
        child.try_wait().expect("wait").ok_or(())
    })
    .unwrap_or_else(|()| {
        let _ = child.kill();
        panic!("{daemon} did not stop within 10 s with the AST2600 config");
    });
    let output = child.wait_with_output().expect("output");
    let _ = std::fs::remove_dir_all(&state);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (status.code(), log)
}

#[test]
fn each_daemon_fails_fast_naming_the_missing_device() {
    for (daemon, names) in [
        // The board's I2C sensors, ADCs (iio) and fan tachometers.
        (
            "rbmc-sensord",
            &["lm75", "adt7490", "ast2600-adc0", "aspeed_tach"][..],
        ),
        // The power control lines of the device tree's gpio-line-names.
        ("rbmc-powerd", &["POWER_OUT"]),
        // The BMC side of the host's KCS channel 3.
        ("rbmc-kcsd", &["/dev/ipmi-kcs3"]),
        // No device of its own: it needs the bus.
        ("rbmc-seld", &["bus"]),
    ] {
        let (code, log) = run_with_board_config(daemon);
        // 69 (EX_UNAVAILABLE): a missing device or service; not 101 (a
        // Rust panic) and not a signal.
        assert_eq!(code, Some(69), "{daemon}: {log}");
        assert!(!log.contains("panicked"), "{daemon}: {log}");
        for name in names {
            assert!(log.contains(name), "{daemon} should name {name:?}: {log}");
        }
    }
    // netipmid names the interface when the machine has no eth0, and else
    // the port it cannot bind or the bus it cannot reach.
    let (code, log) = run_with_board_config("rbmc-netipmid");
    assert_eq!(code, Some(69), "{log}");
    assert!(
        ["eth0", "623", "bus"].iter().any(|name| log.contains(name)),
        "{log}"
    );
}

/// The emulated board's config (issue 17) reads every sensor through a
/// kernel driver and drives power through GPIO lines: nothing in it is
/// simulated by rbmc. tests/ast2600.rs runs the daemons with it.
#[test]
fn the_emulated_boards_config_names_only_kernel_devices() {
    let path = repo_root().join("configs/qemu-ast2600-evb.toml");
    let config = rbmc_config::Config::from_file(&path).expect("qemu-ast2600-evb.toml");
    assert!(config.users.is_empty(), "the image's config holds no user");
    assert_eq!(config.power.backend, rbmc_config::PowerBackend::Gpio);
    assert_eq!(
        config.kcs.device.as_deref(),
        Some(std::path::Path::new("/dev/ipmi-kcs3"))
    );
    for sensor in &config.sensors {
        assert!(sensor.simulate.is_none(), "{:?} is simulated", sensor.name);
        assert!(
            matches!(
                sensor.source,
                rbmc_config::Source::Hwmon { .. } | rbmc_config::Source::Iio { .. }
            ),
            "{:?} does not read a kernel driver's sysfs",
            sensor.name
        );
    }
    let iio = config
        .sensors
        .iter()
        .filter(|s| matches!(s.source, rbmc_config::Source::Iio { .. }))
        .count();
    assert!(iio >= 2, "the ADC rails come through iio");
}
