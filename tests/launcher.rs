//! rbmc-dev's own refusals: a busy RMCP+ port is named at once, not after
//! a daemon has failed to bind it for half a minute.

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
