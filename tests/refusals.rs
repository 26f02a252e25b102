//! What the network bridge refuses, each with the client's normal error,
//! and the daemon serving the next good call:
//! - cipher suite 0 (no authentication): Open Session answers "invalid
//!   authentication algorithm" because suite 0 is never configured;
//! - a wrong password: RAKP 2 is keyed with the real password, so the console
//!   cannot verify it and gives up;
//! - an unknown user: RAKP 2 answers "unauthorized name";
//! - IPMI v1.5 (`-I lan`): Get Channel Authentication Capabilities offers no
//!   v1.5 authentication type, so the client cannot start a session.

use rbmc_e2e::{run, text, Suite};

#[test]
fn refused_logins_leave_the_bridge_serving() {
    let suite = Suite::start();
    let netipmid = suite.pid_of("rbmc-netipmid");

    let out = suite.ipmitool(0, &["mc", "info"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("invalid authentication algorithm"),
        "{}",
        text(&out)
    );

    for (user, password) in [("admin", "not-the-password"), ("nobody", "rbmc-admin")] {
        let out = suite.ipmitool_as(user, password, 17, &["mc", "info"]);
        assert!(!out.status.success(), "{user} logged in: {}", text(&out));
        assert!(
            text(&out).contains("Unable to establish IPMI v2 / RMCP+ session"),
            "{}",
            text(&out)
        );
    }
    // With -v ipmitool names the RAKP 2 status for the unknown user.
    let out = suite.ipmitool_as("nobody", "rbmc-admin", 17, &["-v", "mc", "info"]);
    assert!(text(&out).contains("nauthorized name"), "{}", text(&out));

    let port = suite.port.to_string();
    let out = run(
        "ipmitool",
        &[
            "-I",
            "lan",
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "admin",
            "-P",
            "rbmc-admin",
            "-N",
            "1",
            "-R",
            "1",
            "mc",
            "info",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Unable to establish IPMI v1.5 / RMCP session"),
        "{}",
        text(&out)
    );

    let out = suite.ipmitool(17, &["mc", "info"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        suite.pid_of("rbmc-netipmid"),
        netipmid,
        "the bridge restarted"
    );

    // The audit trail names refused logins and why, and never a password.
    let log = suite.log_text();
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("login refused"))
        .collect();
    assert!(
        refused
            .iter()
            .any(|l| l.contains("\"nobody\"") && l.contains("nauthorized name")),
        "{log}"
    );
    // (A wrong password shows at the console, which gives up after RAKP 2;
    // the BMC logs that as an abandoned login at the setup timeout, 10 s,
    // shown in ipmi-lan's endpoint tests rather than waited for here.)
    assert!(log.contains("session opened"), "{log}");
    assert!(!log.contains("not-the-password"), "a password in the log");
}

/// `[network] allow`: a source outside the list gets no answer at all
/// (ipmitool gives up), one inside it logs in as usual.
#[test]
fn sources_outside_the_allow_list_get_no_answer() {
    let dev = std::fs::read_to_string(rbmc_e2e::repo_root().join("configs/dev.toml"))
        .expect("configs/dev.toml");
    let config = dev.replacen("[network]\n", "[network]\nallow = [\"127.0.0.2/32\"]\n", 1);
    assert_ne!(config, dev, "dev.toml has a [network] section");
    let path = std::env::temp_dir().join(format!("rbmc-allow-{}.toml", std::process::id()));
    std::fs::write(&path, &config).expect("write the config");
    let suite = Suite::start_with(&["--config", path.to_str().expect("utf-8 path")]);

    // ipmitool sends from 127.0.0.1: dropped before any work.
    let out = suite.ipmitool(17, &["mc", "info"]);
    assert!(
        !out.status.success(),
        "answered from 127.0.0.1: {}",
        text(&out)
    );

    // A console bound to 127.0.0.2 gets in.
    let mut console = rbmc_e2e::Console::login_from(
        [127, 0, 0, 2].into(),
        suite.port,
        ipmi_wire::crypto::CipherSuite::SUITE_17,
        rbmc_e2e::USER,
        rbmc_e2e::PASSWORD,
    )
    .expect("login from 127.0.0.2");
    let response = console
        .call(ipmi_wire::NetFn::APP, 0x01, &[])
        .expect("Get Device ID from 127.0.0.2");
    assert_eq!(response.completion.0, 0);
    let _ = std::fs::remove_file(&path);
}
