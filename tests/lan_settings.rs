//! LAN settings that apply (issue 14, point 2): `ipmitool lan set` and a
//! FreeIPMI `ipmi-config` round trip change the BMC's interface through a
//! real systemd-networkd, in a network namespace of the test's own, and
//! `ip` inside the namespace agrees with what the clients print. The
//! interface's OpenBMC-shaped D-Bus objects (what Redfish's
//! EthernetInterfaces reads) follow each change too.

use std::time::Duration;

use rbmc_e2e::{
    done_or,
    netns::{PrivateNetwork, INTERFACE},
    text, wait_for, Suite,
};

fn ipmitool_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

fn lan_print(suite: &Suite) -> String {
    ipmitool_ok(suite, &["lan", "print", "1"])
}

/// A property of rbmc-netipmid's network object at `path` (under
/// `/xyz/openbmc_project/network/bmc0`), as busctl prints it.
fn network_property(suite: &Suite, path: &str, interface: &str, property: &str) -> String {
    suite.busctl(&[
        "get-property",
        "org.rbmc.Netipmid",
        &format!("/xyz/openbmc_project/network/{INTERFACE}{path}"),
        &format!("xyz.openbmc_project.Network.{interface}"),
        property,
    ])
}

fn start() -> (PrivateNetwork, Suite) {
    let network = PrivateNetwork::start();
    let config = network.suite_config();
    let suite = Suite::start_in(&network.name, &["--config", config.to_str().unwrap()]);
    (network, suite)
}

#[test]
fn ipmitool_lan_set_changes_the_interface_through_networkd() {
    let (network, suite) = start();
    for args in [
        &["lan", "set", "1", "ipsrc", "static"][..],
        &["lan", "set", "1", "ipaddr", "192.0.2.50"],
        &["lan", "set", "1", "netmask", "255.255.255.0"],
        &["lan", "set", "1", "defgw", "ipaddr", "192.0.2.1"],
        &["lan", "set", "1", "defgw", "macaddr", "02:00:5e:00:53:99"],
    ] {
        ipmitool_ok(&suite, args);
    }
    let addresses = network.ip(&format!("-4 addr show {INTERFACE}"));
    assert!(addresses.contains("inet 192.0.2.50/24"), "{addresses}");
    let routes = network.ip("-4 route");
    assert!(
        routes.contains(&format!("default via 192.0.2.1 dev {INTERFACE}")),
        "{routes}"
    );
    let neighbour = network.ip("neigh show 192.0.2.1");
    assert!(
        neighbour.contains("lladdr 02:00:5e:00:53:99") && neighbour.contains("PERMANENT"),
        "{neighbour}"
    );
    let shown = lan_print(&suite);
    for expected in [
        "Set in Progress         : Set Complete",
        "IP Address Source       : Static Address",
        "IP Address              : 192.0.2.50",
        "Subnet Mask             : 255.255.255.0",
        "Default Gateway IP      : 192.0.2.1",
        "Default Gateway MAC     : 02:00:5e:00:53:99",
    ] {
        assert!(shown.contains(expected), "{expected:?} in {shown}");
    }
    let address = network_property(&suite, "/ipv4/address", "IP", "Address");
    assert_eq!(address.trim(), "s \"192.0.2.50\"");
    let origin = network_property(&suite, "/ipv4/address", "IP", "Origin");
    assert!(origin.contains("AddressOrigin.Static"), "{origin}");
    let prefix = network_property(&suite, "/ipv4/address", "IP", "PrefixLength");
    assert_eq!(prefix.trim(), "y 24");
    // The MAC is the hardware's: read-only (82h), and nothing changes.
    let mac = suite.ipmitool(
        17,
        &[
            "raw", "0x0c", "0x01", "1", "5", "2", "0", "0", "0", "0", "9",
        ],
    );
    assert!(
        text(&mac).contains("rsp=0x82"),
        "{:?} {}",
        mac.status,
        text(&mac)
    );

    // A VLAN: on a kernel with 802.1q the address moves to bmc0.100; on
    // one without, networkd fails the link, the change is refused with
    // D5h, and the interface, the files and `lan print` are as before.
    let vlan = suite.ipmitool(17, &["raw", "0x0c", "0x01", "1", "20", "100", "0x80"]);
    if network.kernel_has_vlans() {
        assert!(vlan.status.success(), "{}", text(&vlan));
        let link = network.ip(&format!("-d link show {INTERFACE}.100"));
        assert!(link.contains("vlan protocol 802.1Q id 100"), "{link}");
        assert!(lan_print(&suite).contains("802.1q VLAN ID          : 100"));
    } else {
        assert!(
            text(&vlan).contains("rsp=0xd5"),
            "{}\n{}",
            text(&vlan),
            suite.log_text()
        );
        assert!(lan_print(&suite).contains("802.1q VLAN ID          : Disabled"));
        let files: Vec<String> = std::fs::read_dir(network.config_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!files.iter().any(|f| f.ends_with(".netdev")), "{files:?}");
        wait_for("the address back", Duration::from_secs(5), || {
            let now = network.ip(&format!("-4 addr show {INTERFACE}"));
            done_or(now.contains("inet 192.0.2.50/24"), now)
        });
    }

    // Kept across a restart: the file networkd reads is the record.
    let suite = suite.restart();
    let shown = lan_print(&suite);
    assert!(
        shown.contains("IP Address              : 192.0.2.50"),
        "{shown}"
    );

    // DHCP, from the server on the other end of the wire.
    ipmitool_ok(&suite, &["lan", "set", "1", "ipsrc", "dhcp"]);
    wait_for("a DHCP lease", Duration::from_secs(15), || {
        let shown = lan_print(&suite);
        done_or(
            shown.contains("IP Address Source       : DHCP Address")
                && shown.contains("IP Address              : 10.9.0.1"),
            shown,
        )
    });
    let addresses = network.ip(&format!("-4 addr show {INTERFACE}"));
    assert!(addresses.contains("inet 10.9.0.1"), "{addresses}");
    let dhcp = network_property(&suite, "", "EthernetInterface", "DHCPEnabled");
    assert!(dhcp.contains("DHCPConf.v4"), "{dhcp}");
    // The lease's address, as ipmitool prints it.
    let shown = lan_print(&suite);
    let leased = shown
        .lines()
        .find_map(|l| l.strip_prefix("IP Address              : "))
        .expect("IP Address")
        .trim();
    let address = network_property(&suite, "/ipv4/address", "IP", "Address");
    assert_eq!(address.trim(), format!("s \"{leased}\""));

    // DCMI's Activate DHCP restarts the client through networkd, which
    // gets its lease again.
    let activated = suite.ipmitool(17, &["dcmi", "set_conf_param", "activate_dhcp"]);
    assert!(!text(&activated).contains("failed"), "{}", text(&activated));
    assert!(
        suite.log_text().contains("DHCP restarted"),
        "{}",
        suite.log_text()
    );
    wait_for("the lease again", Duration::from_secs(15), || {
        let shown = lan_print(&suite);
        done_or(shown.contains("IP Address              : 10.9.0.1"), shown)
    });
}

/// FreeIPMI's `ipmi-config`: the core sections it can round-trip check out
/// and commit back unchanged with exit code 0, and read back equal; a
/// changed address commits and reaches the interface.
#[test]
fn ipmi_config_round_trips_the_lan_sections() {
    let (network, suite) = start();
    let sections = [
        "Lan_Channel",
        "Lan_Conf",
        "Lan6_Conf",
        "Lan_Conf_Misc",
        "Lan_Conf_User_Security",
        "SOL_Conf",
        "User2",
    ];
    let mut selected = vec!["--category=core"];
    for section in &sections {
        selected.extend(["-S", section]);
    }
    let checkout = |suite: &Suite| {
        let mut args = selected.clone();
        args.push("--checkout");
        let out = suite.freeipmi("ipmi-config", &args);
        assert!(out.status.success(), "checkout: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // A first address, so the round trip carries real values.
    for args in [
        &["lan", "set", "1", "ipaddr", "198.51.100.20"][..],
        &["lan", "set", "1", "netmask", "255.255.255.128"],
        &["lan", "set", "1", "defgw", "ipaddr", "198.51.100.1"],
    ] {
        ipmitool_ok(&suite, args);
    }
    let before = checkout(&suite);
    assert!(
        before.contains("IP_Address                                    198.51.100.20"),
        "{before}"
    );
    let file = network.dir.join("core.conf");
    std::fs::write(&file, &before).unwrap();
    let mut commit = selected.clone();
    let file_arg = file.to_str().unwrap();
    commit.extend(["--commit", "--filename", file_arg]);
    let out = suite.freeipmi("ipmi-config", &commit);
    assert!(out.status.success(), "commit: {}", text(&out));
    assert_eq!(checkout(&suite), before);

    let out = suite.freeipmi(
        "ipmi-config",
        &[
            "--category=core",
            "--commit",
            "-e",
            "Lan_Conf:IP_Address=198.51.100.30",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let addresses = network.ip(&format!("-4 addr show {INTERFACE}"));
    assert!(addresses.contains("inet 198.51.100.30/25"), "{addresses}");
    assert!(lan_print(&suite).contains("IP Address              : 198.51.100.30"));
}
