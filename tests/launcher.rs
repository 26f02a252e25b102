//! rbmc-dev's own refusals: a busy RMCP+ port is named at once, not after
//! a daemon has failed to bind it for half a minute; and a daemon whose
//! start-up hangs exits, to be started again.

use std::process::{Command, Stdio};

use rbmc_e2e::{bin_dir, free_tcp_port, text};

#[test]
fn a_busy_port_is_named_at_once() {
    let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let state = std::env::temp_dir().join(format!("rbmc-launcher-{}", std::process::id()));
    let out = Command::new(bin_dir().join("rbmc-dev"))
        .args(["--port", &port.to_string()])
        .args(["--qemu-port", &free_tcp_port().to_string()])
        .arg("--state-dir")
        .arg(&state)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&state);
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("UDP 127.0.0.1:{port} (RMCP+) is not free")),
        "{}",
        text(&out)
    );
}

/// A daemon whose start-up hangs (here: a bus that accepts the connection
/// and never says a word) exits after `rbmc_daemon::START_DEADLINE` with a
/// message, so its supervisor starts it afresh instead of keeping a daemon
/// that serves nobody.
#[test]
fn a_start_up_that_hangs_ends_in_an_exit() {
    let dir = std::env::temp_dir().join(format!("rbmc-hang-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("silent.sock");
    let silent = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Accept and hold every connection, answering nothing.
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(held);
    });
    let started = std::time::Instant::now();
    let out = Command::new(bin_dir().join("rbmc-seld"))
        .arg("--config")
        .arg(rbmc_e2e::repo_root().join("configs/dev.toml"))
        .arg("--state-dir")
        .arg(&dir)
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            format!("unix:path={}", socket.display()),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    assert!(
        text(&out).contains("start-up did not finish in time"),
        "{}",
        text(&out)
    );
    assert!(
        started.elapsed() >= start_deadline(),
        "exited before the deadline"
    );
}

/// `rbmc_daemon::START_DEADLINE`, which the test crate does not link.
fn start_deadline() -> std::time::Duration {
    std::time::Duration::from_secs(20)
}
