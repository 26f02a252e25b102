//! The routing contract as standard D-Bus tools see it: each owner's
//! declared commands, the bridge's live command map, and `execute` called by
//! hand, with the privilege checked by the owner itself.

use std::time::Duration;

use rbmc_e2e::Suite;

const OWNER: &str = "org.rbmc.Sensord";
const PATH: &str = "/xyz/openbmc_project/Ipmi";

#[test]
fn command_map_is_readable_with_busctl() {
    let suite = Suite::start();
    let shown = suite.busctl(&["introspect", OWNER, PATH]);
    assert!(shown.contains("xyz.openbmc_project.Ipmi.Server"), "{shown}");
    assert!(shown.contains(".execute"), "{shown}");
    assert!(shown.contains("org.rbmc.Ipmi.CommandOwner"), "{shown}");

    // (netfn, cmd, privilege) triples, after the "a(yyy) N" prefix.
    let shown = suite.busctl(&[
        "get-property",
        OWNER,
        PATH,
        "org.rbmc.Ipmi.CommandOwner",
        "Commands",
    ]);
    let words: Vec<&str> = shown.split_whitespace().collect();
    assert_eq!(words[0], "a(yyy)");
    let triples: Vec<[u8; 3]> = words[2..]
        .chunks(3)
        .map(|c| {
            [
                c[0].parse().unwrap(),
                c[1].parse().unwrap(),
                c[2].parse().unwrap(),
            ]
        })
        .collect();
    assert_eq!(triples.len(), words[1].parse::<usize>().unwrap());
    for expected in [
        // Get Device ID, Self Test, Device GUID, System GUID (37h = 55): User.
        [6, 1, 2],
        [6, 4, 2],
        [6, 8, 2],
        [6, 55, 2],
        // Get Sensor Reading (2Dh = 45) at User, Set Sensor Thresholds (26h
        // = 38) at Operator, Get SDR (0Ah/23h) at User.
        [4, 45, 2],
        [4, 38, 3],
        [10, 35, 2],
    ] {
        assert!(
            triples.contains(&expected),
            "{expected:?} missing from {shown}"
        );
    }

    let shown = suite.busctl(&[
        "get-property",
        "org.rbmc.Netipmid",
        "/org/rbmc/Ipmi/Router",
        "org.rbmc.Ipmi.Router",
        "CommandMap",
    ]);
    assert!(shown.contains("6 1 2 \"org.rbmc.Sensord\""), "{shown}");
}

/// busctl's arguments for `execute` of App command `cmd` on the owner, with
/// `options` as busctl writes an `a{sv}` (the count, then name, type and
/// value of each).
fn execute_args<'a>(cmd: &'a str, options: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "call",
        OWNER,
        PATH,
        "xyz.openbmc_project.Ipmi.Server",
        "execute",
        "yyyaya{sv}",
        "6",
        "0",
        cmd,
        "0",
    ];
    args.extend_from_slice(options);
    args
}

#[test]
fn execute_by_hand_checks_privilege_at_the_owner() {
    let suite = Suite::start();
    let execute = |options: &[&str]| suite.busctl(&execute_args("1", options));
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
    // An unknown command (App 0Ah, Get Command Support): C1h (193).
    let shown = suite.busctl(&execute_args("10", &["1", "privilege", "i", "4"]));
    assert_eq!(shown.trim(), "yyyyay 7 0 10 193 0");
}

/// Issue 16, point 2: an `execute` whose options name a privilege that is
/// not a level (99 used to run as its low bits, Operator) or give it the
/// wrong type is refused with OpenBMC's InvalidArgument, naming the field;
/// nothing runs.
#[test]
fn execute_refuses_options_outside_their_range() {
    let suite = Suite::start();
    for (kind, value) in [("i", "99"), ("i", "0"), ("s", "4"), ("u", "4294967295")] {
        let out = std::process::Command::new("busctl")
            .arg(format!("--address={}", suite.bus_address()))
            .args(execute_args("1", &["1", "privilege", kind, value]))
            .output()
            .unwrap();
        let shown = rbmc_e2e::text(&out);
        assert!(
            !out.status.success(),
            "privilege {kind} {value} ran: {shown}"
        );
        assert!(
            shown.contains("privilege") && shown.contains("not a")
                || shown.contains("out of range"),
            "privilege {kind} {value}: {shown}"
        );
    }
}

/// Both bridges reach every owner on a direct (peer-to-peer) route once
/// they have found it on the bus, and say so on their router object; a
/// request then costs two messages instead of four and no broker wake-up
/// (docs/BENCHMARKS.md measures it).
#[test]
fn bridges_route_to_every_owner_directly() {
    let suite = Suite::start();
    let direct_routes = |bridge: &str| {
        suite.busctl(&[
            "get-property",
            bridge,
            "/org/rbmc/Ipmi/Router",
            "org.rbmc.Ipmi.Router",
            "DirectRoutes",
        ])
    };
    let owners = [
        "org.rbmc.Powerd",
        "org.rbmc.Seld",
        "org.rbmc.Sensord",
        "org.rbmc.Userd",
    ];
    for (bridge, other_bridge) in [
        ("org.rbmc.Netipmid", "org.rbmc.Kcsd"),
        ("org.rbmc.Kcsd", "org.rbmc.Netipmid"),
    ] {
        rbmc_e2e::wait_for(
            "every owner routed directly",
            Duration::from_secs(5),
            || {
                let shown = direct_routes(bridge);
                let all = owners
                    .iter()
                    .chain([&other_bridge])
                    .all(|owner| shown.contains(&format!("\"{owner}\"")));
                rbmc_e2e::done_or(all, format!("{bridge}: {shown}"))
            },
        );
    }
    // And the routed commands answer through them.
    let out = suite.ipmitool(17, &["sdr", "elist"]);
    assert!(out.status.success(), "{}", rbmc_e2e::text(&out));
}
