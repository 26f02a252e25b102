//! Parsing the shared configuration from inline TOML: a good file, an empty
//! one, and errors that name the file, line and field.

use super::*;

const GOOD: &str = r#"
[bmc]
manufacturer-id = 32473
product-id = 0x0102
firmware-revision = "1.23"
guid = "7d0fa3b2-5f3c-4f6e-9a51-0c2b8d1e4f60"
device-support = ["sensor", "chassis"]

[network]
listen = "127.0.0.1:6230"
cipher-suites = [17, 3]

[[users]]
id = 2
name = "admin"
password = "rbmc-admin"
privilege = "administrator"
"#;

#[test]
fn parses_a_good_file() {
    let config = Config::from_toml(GOOD, "good.toml").unwrap();
    assert_eq!(config.bmc.manufacturer_id, ManufacturerId(32473));
    assert_eq!(config.bmc.firmware_revision.minor_bcd(), 0x23);
    assert_eq!(config.network.listen.port(), 6230);
    assert_eq!(config.users[0].privilege.0, Privilege::Administrator);
    assert_eq!(config.network.suites()[0].id, 17);
    assert_eq!(
        config.bmc.guid.unwrap().ipmi_bytes()[..8],
        [0x60, 0x4F, 0x1E, 0x8D, 0x2B, 0x0C, 0x51, 0x9A]
    );
    assert_eq!(DeviceSupport::Chassis.bit(), 0x80);
    assert_eq!(DeviceSupport::Sensor.bit(), 0x01);
}

#[test]
fn empty_file_has_no_users() {
    let config = Config::from_toml("", "empty.toml").unwrap();
    assert!(config.users.is_empty());
    assert_eq!(config.network.listen.port(), 623);
}

fn error(text: &str) -> String {
    Config::from_toml(text, "bad.toml").unwrap_err().to_string()
}

#[test]
fn errors_name_file_line_and_field() {
    let e = error("[network]\ncipher-suites = [3, 0]\n");
    assert!(e.starts_with("bad.toml: "), "{e}");
    assert!(e.contains("line 2"), "{e}");
    assert!(e.contains("cipher suite 0"), "{e}");
    assert!(e.contains("field `cipher-suites`"), "{e}");

    let e = error("[bmc]\nfirmware-revision = \"1.100\"\n");
    assert!(
        e.contains("line 2") && e.contains("firmware revision"),
        "{e}"
    );

    let e = error("[bmc]\nmanufaturer-id = 5\n");
    assert!(
        e.contains("unknown field") && e.contains("manufaturer-id"),
        "{e}"
    );

    let e = error("[[users]]\nid = 1\nname = \"x\"\npassword = \"y\"\nprivilege = \"user\"\n");
    assert!(e.contains("line 2") && e.contains("null user"), "{e}");

    let e = error("[[users]]\nid = 2\nname = \"x\"\npassword = \"123456789012345678901\"\nprivilege = \"user\"\n");
    assert!(e.contains("password must be 1-20 bytes"), "{e}");
    assert!(!e.contains("12345678901234567890"), "password echoed: {e}");
}

#[test]
fn duplicate_users_are_refused() {
    let user = "[[users]]\nid = 2\nname = \"a\"\npassword = \"p\"\nprivilege = \"user\"\n";
    let e = error(&format!("{user}{user}"));
    assert!(e.contains("used twice"), "{e}");
}

#[test]
fn network_allow_lists_ranges_and_names_a_bad_one() {
    let config = Config::from_toml(
        "[network]\nallow = [\"127.0.0.0/8\", \"192.0.2.7\"]\n",
        "t.toml",
    )
    .unwrap();
    assert!(config.network.allows("127.0.0.1".parse().unwrap()));
    assert!(config.network.allows("192.0.2.7".parse().unwrap()));
    assert!(!config.network.allows("192.0.2.8".parse().unwrap()));
    // No list: every source.
    let open = Config::from_toml("", "t.toml").unwrap();
    assert!(open.network.allows("203.0.113.1".parse().unwrap()));
    let e = error("[network]\nallow = [\"127.0.0.1/8\"]\n");
    assert!(e.contains("host bits") && e.contains("line 2"), "{e}");
}

#[test]
fn audit_section_is_optional_and_its_capacity_checked() {
    let config = Config::from_toml("", "t.toml").unwrap();
    assert_eq!(config.audit.capacity.get(), 4096);
    let config = Config::from_toml("[audit]\ncapacity = 10\n", "t.toml").unwrap();
    assert_eq!(config.audit.capacity.get(), 10);
    let config = Config::from_toml("[audit]\n", "t.toml").unwrap();
    assert_eq!(config.audit.capacity, AuditCapacity::default());
    for bad in ["0", "65537", "-1"] {
        let e = error(&format!("[audit]\ncapacity = {bad}\n"));
        assert!(e.contains("line 2") && e.contains("capacity"), "{bad}: {e}");
    }
    let e = error("[audit]\ncapacty = 10\n");
    assert!(e.contains("unknown field"), "{e}");
}

#[test]
fn the_shipped_config_files_still_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs");
    for name in ["dev.toml", "ast2600-evb.toml"] {
        let config = Config::from_file(&root.join(name)).unwrap();
        assert_eq!(config.audit.capacity.get(), 4096, "{name}");
    }
}

#[test]
fn lan_networkd_needs_the_interface_it_configures() {
    let refused = error("[lan.networkd]\ndirectory = \"/run/x\"\n");
    assert!(
        refused.contains("lan.networkd needs lan.interface"),
        "{refused}"
    );
    let config = Config::from_toml(
        "[lan]\ninterface = \"bmc0\"\n[lan.networkd]\nbus = \"unix:path=/run/x.sock\"\n",
        "t",
    )
    .unwrap();
    let networkd = config.lan.networkd.unwrap();
    assert_eq!(networkd.directory, Path::new("/etc/systemd/network"));
    assert_eq!(networkd.bus.as_deref(), Some("unix:path=/run/x.sock"));
}

#[test]
fn i2c_allow_entries_name_a_private_bus_and_a_7_bit_address() {
    let e = error("[[i2c-allow]]\nbus = 8\naddress = 0x50\n");
    assert!(e.contains("not a private bus ID"), "{e}");
    let e = error("[[i2c-allow]]\nbus = 1\naddress = 0xa0\n");
    assert!(e.contains("not a 7-bit device address"), "{e}");
    let config = Config::from_toml("[[i2c-allow]]\nbus = 1\naddress = 0x50\n", "t").unwrap();
    assert!(!config.i2c_allow[0].writes);
    assert_eq!(config.i2c.backend, I2cBackend::Kernel);
}

#[test]
fn the_dcmi_power_sensor_must_name_a_power_sensor() {
    let sensors = r#"
[[sensors]]
name = "Total Power"
number = 0x3A
kind = "power"
entity-id = 0x17
entity-instance = 1
range = [0.0, 4080.0]
source = { type = "hwmon", name = "rbmc_power", input = "power1" }

[[sensors]]
name = "Inlet Temp"
number = 0x05
kind = "temperature"
entity-id = 0x37
entity-instance = 1
range = [-20.0, 107.0]
source = { type = "hwmon", name = "nct6779", input = "temp1" }
"#;
    let with = |name: &str| format!("{sensors}\n[dcmi]\npower-sensor = \"{name}\"\n");
    let config = Config::from_toml(&with("Total Power"), "dcmi.toml").unwrap();
    assert_eq!(
        config
            .dcmi
            .power_sensor(&config.sensors)
            .map(|s| s.number.0),
        Some(0x3A)
    );
    let missing = Config::from_toml(&with("Nope"), "dcmi.toml").unwrap_err();
    assert!(
        missing.to_string().contains("no sensor is named \"Nope\""),
        "{missing}"
    );
    let wrong = Config::from_toml(&with("Inlet Temp"), "dcmi.toml").unwrap_err();
    assert!(
        wrong.to_string().contains("is not a power sensor"),
        "{wrong}"
    );
    assert!(Config::from_toml(sensors, "none.toml")
        .unwrap()
        .dcmi
        .power_sensor
        .is_none());
}
