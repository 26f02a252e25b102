//! The LAN channel as ipmitool sees it: channel info and access, cipher
//! suites (for IPMI and SOL), LAN configuration parameters, cipher suite
//! privilege caps, and the session table; and the same commands reachable
//! by the host's bridge over the bus.

use rbmc_contracts::{
    ipmi::{IpmiServerProxy, RouterProxy},
    names,
};
use rbmc_e2e::{text, Suite};
use zbus::{proxy::CacheProperties, zvariant::Value};

fn ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

#[test]
fn channel_info_access_and_cipher_suites() {
    let suite = Suite::start();
    let info = ok(&suite, &["channel", "info", "1"]);
    for expected in [
        "802.3 LAN",
        "multi-session",
        "Active Session Count  : 1",
        "Access Mode         : always available",
    ] {
        assert!(info.contains(expected), "{expected:?} in {info}");
    }
    let access = ok(&suite, &["channel", "getaccess", "1", "2"]);
    assert!(access.contains("User Name            : admin"), "{access}");
    assert!(
        access.contains("Privilege Level      : ADMINISTRATOR"),
        "{access}"
    );
    assert!(
        access.contains("IPMI Messaging       : enabled"),
        "{access}"
    );
    for payload in ["ipmi", "sol"] {
        let ciphers = ok(&suite, &["channel", "getciphers", payload, "1"]);
        let ids: Vec<&str> = ciphers
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(ids, ["17", "3"], "{ciphers}");
    }
    // A channel that does not exist: CCh, named.
    let none = suite.ipmitool(17, &["channel", "info", "5"]);
    assert!(!none.status.success(), "{}", text(&none));
}

#[test]
fn lan_print_reports_the_configured_interface_and_refuses_address_changes() {
    let suite = Suite::start();
    let lan = ok(&suite, &["lan", "print", "1"]);
    for expected in [
        "IP Address Source       : Static Address",
        "IP Address              : 192.0.2.10",
        "Subnet Mask             : 255.255.255.0",
        "MAC Address             : 02:00:5e:00:53:01",
        "Default Gateway IP      : 192.0.2.1",
        "RMCP+ Cipher Suites     : 17,3",
        "Cipher Suite Priv Max   : XXXaXXXXXXXXXXX",
    ] {
        assert!(lan.contains(expected), "{expected:?} in {lan}");
    }
    // The address belongs to the system's network configuration: 82h.
    let set = suite.ipmitool(17, &["lan", "set", "1", "ipaddr", "192.0.2.99"]);
    assert!(!set.status.success(), "{}", text(&set));
    assert!(
        ok(&suite, &["lan", "print", "1"]).contains("IP Address              : 192.0.2.10"),
        "{}",
        text(&set)
    );

    // Suite 3 capped at USER (character 3 is suite 3's): an administrator
    // login on it is refused, a user-level one works, and suite 17 (which
    // has no field) still allows administrators.
    ok(
        &suite,
        &["lan", "set", "1", "cipher_privs", "XXXuXXXXXXXXXXX"],
    );
    assert!(
        ok(&suite, &["lan", "print", "1"]).contains("Cipher Suite Priv Max   : XXXuXXXXXXXXXXX")
    );
    // A level for a suite that is not offered (here 0), or none for an
    // offered one, does not fit: CCh, and nothing changes.
    // (Raw, because ipmitool's `cipher_privs` only reports, after a
    // minute of reading back, that the value did not stick.)
    for levels in [["0x04", "0x20"], ["0x00", "0x00"]] {
        let mut args = vec!["raw", "0x0c", "0x01", "1", "24", "0"];
        args.extend(levels);
        args.extend(["0"; 6]);
        let raw = suite.ipmitool(17, &args);
        assert!(
            text(&raw).contains("rsp=0xcc"),
            "{levels:?}: {}",
            text(&raw)
        );
    }
    assert!(
        ok(&suite, &["lan", "print", "1"]).contains("Cipher Suite Priv Max   : XXXuXXXXXXXXXXX")
    );
    let capped = suite.ipmitool(3, &["-L", "ADMINISTRATOR", "mc", "info"]);
    assert!(!capped.status.success(), "{}", text(&capped));
    let user = suite.ipmitool(3, &["-L", "USER", "mc", "info"]);
    assert!(user.status.success(), "{}", text(&user));
    ok(&suite, &["-L", "ADMINISTRATOR", "chassis", "status"]);
    // Kept across a restart.
    let suite = suite.restart();
    let capped = suite.ipmitool(3, &["-L", "ADMINISTRATOR", "mc", "info"]);
    assert!(!capped.status.success(), "{}", text(&capped));
}

#[test]
fn session_info_lists_the_console() {
    let suite = Suite::start();
    let active = ok(&suite, &["session", "info", "active"]);
    for expected in [
        "user id                       : 2",
        "privilege level               : ADMINISTRATOR",
        "session type                  : IPMIv2/RMCP+",
        "channel number                : 0x01",
        "console ip                    : 127.0.0.1",
        "slot count                    : 48",
    ] {
        assert!(active.contains(expected), "{expected:?} in {active}");
    }
    let all = ok(&suite, &["session", "info", "all"]);
    assert!(
        all.contains("console ip                    : 127.0.0.1"),
        "{all}"
    );
    // A user session: ipmitool -L USER is the operating privilege.
    let user = suite.ipmitool(17, &["-L", "USER", "session", "info", "active"]);
    assert!(
        text(&user).contains("privilege level               : USER"),
        "{}",
        text(&user)
    );
}

/// The host reaches the users and channels through its own bridge: kcsd's
/// command map names rbmc-userd as the users' owner and netipmid as the
/// LAN channel's, and userd's `execute` answers a system-interface
/// request.
#[test]
fn host_bridge_routes_user_and_lan_commands_to_their_owners() {
    let suite = Suite::start();
    let map = suite.on_bus(async |conn| {
        RouterProxy::builder(conn)
            .destination(names::KCSD)?
            .cache_properties(CacheProperties::No)
            .build()
            .await?
            .command_map()
            .await
    });
    // Get User Access (44h) at Operator; Get LAN Config (0Ch/02h).
    for (netfn, cmd, owner) in [(0x06, 0x44, names::USERD), (0x0C, 0x02, names::NETIPMID)] {
        let route = (netfn, cmd, 3, owner.to_owned());
        assert!(map.contains(&route), "{route:?} in {map:?}");
    }
    // Get User Name (46h = 70) of user 2, as the host asks it (channel Fh,
    // Administrator): the 16-byte name "admin".
    let (netfn, lun, cmd, cc, data) = suite.on_bus(async |conn| {
        let options = [
            ("privilege", Value::from(4i32)),
            ("channel", Value::from(0x0Fu8)),
        ];
        IpmiServerProxy::builder(conn)
            .destination(names::USERD)?
            .build()
            .await?
            .execute(0x06, 0, 0x46, &[2], options.into_iter().collect())
            .await
    });
    assert_eq!((netfn, lun, cmd, cc), (0x07, 0, 0x46, 0));
    assert_eq!(data.len(), 16, "{data:?}");
    assert!(data.starts_with(b"admin\0"), "{data:?}");
}

/// One user holds at most `max-sessions-per-user` sessions (32 in the dev
/// config); the next login is refused, and another user still gets in.
#[test]
fn per_user_session_limit() {
    use ipmi_wire::crypto::CipherSuite;
    use rbmc_e2e::{Console, PASSWORD, USER};
    let suite = Suite::start();
    let limit = rbmc_e2e::dev_config().network.max_sessions_per_user;
    assert_eq!(limit, 32);
    for args in [
        &["user", "set", "name", "3", "bob"][..],
        &["user", "set", "password", "3", "bob-pw-1234"],
        &["user", "priv", "3", "2", "1"],
        &["user", "enable", "3"],
    ] {
        ok(&suite, args);
    }
    let held: Vec<Console> = (0..limit)
        .map(|_| Console::login(suite.port, CipherSuite::SUITE_17, USER, PASSWORD).unwrap())
        .collect();
    let refused = Console::login(suite.port, CipherSuite::SUITE_17, USER, PASSWORD);
    assert!(refused.is_err(), "a 33rd session for one user");
    let bob = suite.ipmitool_as("bob", "bob-pw-1234", 17, &["-L", "USER", "mc", "info"]);
    assert!(bob.status.success(), "{}", text(&bob));
    drop(held);
}

/// With `[lan] interface` the parameters are read from the live interface
/// (here the loopback device, which every machine has).
#[test]
fn lan_print_reads_a_live_interface() {
    let dev = std::fs::read_to_string(rbmc_e2e::repo_root().join("configs/dev.toml")).unwrap();
    let start = dev.find("[lan]").unwrap();
    let end = start + dev[start..].find("\n\n").unwrap();
    let config = format!("{}[lan]\ninterface = \"lo\"{}", &dev[..start], &dev[end..]);
    let path = std::env::temp_dir().join(format!("rbmc-lan-live-{}.toml", std::process::id()));
    std::fs::write(&path, config).unwrap();
    let suite = Suite::start_with(&["--config", path.to_str().unwrap()]);
    let lan = ok(&suite, &["lan", "print", "1"]);
    assert!(lan.contains("IP Address              : 127.0.0.1"), "{lan}");
    assert!(lan.contains("Subnet Mask             : 255.0.0.0"), "{lan}");
    assert!(
        lan.contains("MAC Address             : 00:00:00:00:00:00"),
        "{lan}"
    );
    let _ = std::fs::remove_file(path);
}

/// FreeIPMI reads parameter 24 by cipher suite ID as ipmitool does: its
/// `Rmcpplus_Conf_Privilege` section shows suite 3's level, commits a new
/// one, and reads it back. (Its checkout of this section exits 1 on any BMC
/// that does not offer every suite 0-15: FreeIPMI reports each absent ID
/// as a failed key. The values are what is checked.)
#[test]
fn freeipmi_reads_and_commits_suite_privileges() {
    let suite = Suite::start();
    let section = |suite: &Suite| {
        let out = suite.freeipmi(
            "ipmi-config",
            &[
                "--category=core",
                "--checkout",
                "-S",
                "Rmcpplus_Conf_Privilege",
            ],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let line = |shown: &str| {
        shown
            .lines()
            .find(|l| {
                l.trim_start()
                    .starts_with("Maximum_Privilege_Cipher_Suite_Id_3")
            })
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no suite 3 line in {shown}"))
    };
    assert_eq!(line(&section(&suite)), "Administrator");
    let out = suite.freeipmi(
        "ipmi-config",
        &[
            "--category=core",
            "--commit",
            "-e",
            "Rmcpplus_Conf_Privilege:Maximum_Privilege_Cipher_Suite_Id_3=User",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(line(&section(&suite)), "User");
    assert!(
        ok(&suite, &["lan", "print", "1"]).contains("Cipher Suite Priv Max   : XXXuXXXXXXXXXXX")
    );
}

/// Fleet automation logs many sessions in from one address at once: 32
/// parallel logins of one administrator all get in at their first attempt
/// (ipmitool with one try: a handshake that had to give way to another
/// would fail it), within `max-handshakes-per-address` and
/// `max-sessions-per-user` (32 each in the dev config).
#[test]
fn parallel_logins_from_one_address_all_get_in() {
    use rbmc_e2e::{PASSWORD, USER};
    let suite = Suite::start();
    let port = suite.port.to_string();
    let logins: Vec<_> = (0..32)
        .map(|_| {
            let port = port.clone();
            std::thread::spawn(move || {
                rbmc_e2e::run(
                    "ipmitool",
                    &[
                        "-I",
                        "lanplus",
                        "-H",
                        "127.0.0.1",
                        "-p",
                        &port,
                        "-U",
                        USER,
                        "-P",
                        PASSWORD,
                        "-C",
                        "3",
                        "-R",
                        "1",
                        "-N",
                        "5",
                        "mc",
                        "info",
                    ],
                )
            })
        })
        .collect();
    for login in logins {
        let out = login.join().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
}
