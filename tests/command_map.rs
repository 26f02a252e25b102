//! The routing contract as standard D-Bus tools see it: each owner's
//! declared commands, the bridge's live command map, and `execute` called by
//! hand, with the privilege checked by the owner itself.

use rbmc_e2e::{run, text, Suite};

fn busctl(suite: &Suite, args: &[&str]) -> String {
    let address = format!("--address={}", suite.bus_address());
    let mut all = vec![address.as_str(), "--no-pager"];
    all.extend_from_slice(args);
    let out = run("busctl", &all);
    assert!(out.status.success(), "busctl {args:?}: {}", text(&out));
    text(&out)
}

const OWNER: &str = "org.rbmc.Sensord";
const PATH: &str = "/xyz/openbmc_project/Ipmi";

#[test]
fn command_map_is_readable_with_busctl() {
    let suite = Suite::start();
    let shown = busctl(&suite, &["introspect", OWNER, PATH]);
    assert!(shown.contains("xyz.openbmc_project.Ipmi.Server"), "{shown}");
    assert!(shown.contains(".execute"), "{shown}");
    assert!(shown.contains("org.rbmc.Ipmi.CommandOwner"), "{shown}");

    // Get Device ID (06h/01h), Self Test (04h), Device GUID (08h) and System
    // GUID (37h = 55), each at User privilege (2).
    let shown = busctl(
        &suite,
        &[
            "get-property",
            OWNER,
            PATH,
            "org.rbmc.Ipmi.CommandOwner",
            "Commands",
        ],
    );
    assert_eq!(shown.trim(), "a(yyy) 4 6 1 2 6 4 2 6 8 2 6 55 2");

    let shown = busctl(
        &suite,
        &[
            "get-property",
            "org.rbmc.Netipmid",
            "/org/rbmc/Ipmi/Router",
            "org.rbmc.Ipmi.Router",
            "CommandMap",
        ],
    );
    assert!(shown.contains("6 1 2 \"org.rbmc.Sensord\""), "{shown}");
}

#[test]
fn execute_by_hand_checks_privilege_at_the_owner() {
    let suite = Suite::start();
    let execute = |options: &[&str]| {
        let mut args = vec![
            "call",
            OWNER,
            PATH,
            "xyz.openbmc_project.Ipmi.Server",
            "execute",
            "yyyaya{sv}",
            "6",
            "0",
            "1",
            "0",
        ];
        args.extend_from_slice(options);
        busctl(&suite, &args)
    };
    // No context at all: the lowest privilege, refused with D4h (212).
    assert_eq!(execute(&["0"]).trim(), "yyyyay 7 0 1 212 0");
    // Callback is below Get Device ID's User minimum.
    assert_eq!(
        execute(&["1", "privilege", "i", "1"]).trim(),
        "yyyyay 7 0 1 212 0"
    );
    // User may: completion 0 and the 15-byte Device ID.
    let shown = execute(&["1", "privilege", "i", "2"]);
    assert!(shown.starts_with("yyyyay 7 0 1 0 11 32 1"), "{shown}");
    // An unknown command: C1h (193).
    let args = [
        "call",
        OWNER,
        PATH,
        "xyz.openbmc_project.Ipmi.Server",
        "execute",
        "yyyaya{sv}",
        "6",
        "0",
        "2",
        "0",
        "1",
        "privilege",
        "i",
        "4",
    ];
    let shown = busctl(&suite, &args);
    assert_eq!(shown.trim(), "yyyyay 7 0 2 193 0");
}
