//! Users over RMCP+ with ipmitool: created, given a privilege and enabled
//! by the administrator, then logging in with exactly that privilege; kept
//! across a restart of the whole suite, with no password in the clear on
//! disk.

use rbmc_e2e::{text, Suite, PASSWORD};

const BOB_PASSWORD: &str = "b0b-Secret-77";

fn ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

/// The issue's acceptance sequence, then a restart.
#[test]
fn an_administrator_creates_a_user_who_keeps_to_his_privilege_across_restarts() {
    let suite = Suite::start();
    let list = ok(&suite, &["user", "list", "1"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("2 ") && l.contains("admin") && l.contains("ADMINISTRATOR")),
        "{list}"
    );
    ok(&suite, &["user", "set", "name", "3", "bob"]);
    ok(&suite, &["user", "set", "password", "3", BOB_PASSWORD]);
    ok(&suite, &["user", "priv", "3", "2", "1"]);
    ok(&suite, &["user", "enable", "3"]);
    let list = ok(&suite, &["user", "list", "1"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("3 ") && l.contains("bob") && l.contains("USER")),
        "{list}"
    );
    // The password test operation of Set User Password.
    assert!(ok(&suite, &["user", "test", "3", "16", BOB_PASSWORD]).contains("Success"));
    let wrong = suite.ipmitool(17, &["user", "test", "3", "16", "not-his"]);
    assert!(!wrong.status.success(), "{}", text(&wrong));

    let bob_reads_sensors_but_cannot_power_off = |suite: &Suite| {
        for cipher in [17, 3] {
            let sensors =
                suite.ipmitool_as("bob", BOB_PASSWORD, cipher, &["-L", "USER", "sdr", "list"]);
            assert!(sensors.status.success(), "{}", text(&sensors));
            assert!(text(&sensors).contains("CPU0 Temp"), "{}", text(&sensors));
        }
        let off = suite.ipmitool_as(
            "bob",
            BOB_PASSWORD,
            17,
            &["-L", "USER", "chassis", "power", "off"],
        );
        assert!(!off.status.success());
        assert!(
            text(&off).contains("Insufficient privilege level"),
            "{}",
            text(&off)
        );
        // Asking for more than his limit fails at login (RAKP 2: unauthorized role).
        let admin = suite.ipmitool_as(
            "bob",
            BOB_PASSWORD,
            17,
            &["-L", "ADMINISTRATOR", "mc", "info"],
        );
        assert!(!admin.status.success(), "{}", text(&admin));
    };
    let power_before = ok(&suite, &["chassis", "power", "status"]);
    bob_reads_sensors_but_cannot_power_off(&suite);
    assert_eq!(ok(&suite, &["chassis", "power", "status"]), power_before);

    let suite = suite.restart();
    bob_reads_sensors_but_cannot_power_off(&suite);
    let list = ok(&suite, &["user", "list", "1"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("3 ") && l.contains("bob") && l.contains("USER")),
        "{list}"
    );

    // No password, the set one nor the config's, is on disk in the clear.
    let grep = std::process::Command::new("grep")
        .args(["-r", "-a", "-l", "-e", BOB_PASSWORD, "-e", PASSWORD])
        .arg(&suite.state_dir)
        .output()
        .expect("grep");
    assert_eq!(grep.status.code(), Some(1), "found in: {}", text(&grep));
    // ...and the store is there, so the grep looked at the right place.
    let store = std::fs::read_to_string(suite.state_dir.join("rbmc-userd/userd.toml"))
        .expect("the user store");
    assert!(store.contains("name = \"bob\""), "{store}");
}

/// Disabled users, wrong passwords and the null user.
#[test]
fn refusals_name_the_problem() {
    let suite = Suite::start();
    ok(&suite, &["user", "set", "name", "4", "carol"]);
    // The 20-byte form of Set User Password.
    let twenty = "carol-has-20-chars!!";
    ok(&suite, &["user", "set", "password", "4", twenty, "20"]);
    ok(&suite, &["user", "priv", "4", "3", "1"]);
    ok(&suite, &["user", "enable", "4"]);
    let status = suite.ipmitool_as(
        "carol",
        twenty,
        17,
        &["-L", "OPERATOR", "chassis", "status"],
    );
    assert!(status.status.success(), "{}", text(&status));
    // Testing a 20-byte password with the 16-byte form: wrong size (81h).
    let wrong_size = suite.ipmitool(17, &["user", "test", "4", "16", "carol-has-20-cha"]);
    assert!(!wrong_size.status.success(), "{}", text(&wrong_size));

    ok(&suite, &["user", "disable", "4"]);
    let disabled = suite.ipmitool_as("carol", twenty, 17, &["mc", "info"]);
    assert!(!disabled.status.success(), "{}", text(&disabled));

    // The null user's name is fixed: no anonymous login can be made.
    let null = suite.ipmitool(17, &["user", "set", "name", "1", "anon"]);
    assert!(!null.status.success(), "{}", text(&null));
    assert!(
        text(&null).contains("Invalid data field"),
        "{}",
        text(&null)
    );
    // Names are unique.
    let twin = suite.ipmitool(17, &["user", "set", "name", "5", "admin"]);
    assert!(!twin.status.success(), "{}", text(&twin));
}
