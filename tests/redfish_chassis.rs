//! The chassis through Redfish (issue 18): its asset data is the FRU that
//! `ipmitool fru print` reads, and follows an operator's `fru edit`; its
//! `LocationIndicatorActive` is the identify LED that IPMI's Chassis
//! Identify drives, both ways.

use rbmc_e2e::{redfish::redfish, text, Suite};
use serde_json::Value;

const CHASSIS: &str = "/redfish/v1/Chassis/chassis";

/// The value of `field` in `ipmitool fru print 0`.
fn fru_field(suite: &Suite, field: &str) -> String {
    let printed = text(&suite.ipmitool(17, &["fru", "print", "0"]));
    printed
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name.trim() == field).then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {field:?} in:\n{printed}"))
}

/// Whether the simulated board's identify LED is lit.
fn led_lit(suite: &Suite) -> bool {
    let shown = suite.busctl(&[
        "get-property",
        "org.rbmc.Powerd",
        "/org/rbmc/SimulatedHost",
        "org.rbmc.SimulatedHost",
        "IdentifyLed",
    ]);
    shown.split_whitespace().nth(1) == Some("true")
}

fn chassis(suite: &Suite) -> Value {
    let reply = redfish(suite, &["get", CHASSIS]);
    assert_eq!(reply["status"], 200, "{reply}");
    reply["body"].clone()
}

#[test]
fn asset_data_is_the_fru_ipmitool_reads_and_follows_a_write() {
    let suite = Suite::start();
    let body = chassis(&suite);
    for (property, field) in [
        ("SerialNumber", "Chassis Serial"),
        ("PartNumber", "Chassis Part Number"),
        ("Manufacturer", "Product Manufacturer"),
        ("Model", "Product Part Number"),
    ] {
        assert_eq!(
            body[property].as_str(),
            Some(fru_field(&suite, field).as_str()),
            "{property}: {body}"
        );
    }
    // An operator rewrites the chassis serial number over IPMI (the same
    // length, as ipmitool's field edit wants): Redfish follows.
    let old = fru_field(&suite, "Chassis Serial");
    let new: String = old.chars().rev().collect();
    let edit = suite.ipmitool(17, &["fru", "edit", "0", "field", "c", "1", &new]);
    assert!(edit.status.success(), "{}", text(&edit));
    assert_eq!(fru_field(&suite, "Chassis Serial"), new);
    assert_eq!(chassis(&suite)["SerialNumber"], new.as_str());
}

#[test]
fn location_indicator_is_the_identify_led_both_ways() {
    let suite = Suite::start();
    assert_eq!(chassis(&suite)["LocationIndicatorActive"], false);
    // IPMI lights it; Redfish sees it.
    let forced = suite.ipmitool(17, &["chassis", "identify", "force"]);
    assert!(forced.status.success(), "{}", text(&forced));
    assert!(led_lit(&suite));
    assert_eq!(chassis(&suite)["LocationIndicatorActive"], true);
    // Redfish turns it off; the LED and Get Chassis Status follow (its
    // misc. chassis state, the third data byte,
    // bits 5:4: identify state, 00b off, 10b on indefinitely).
    let off = redfish(
        &suite,
        &["patch", CHASSIS, r#"{"LocationIndicatorActive": false}"#],
    );
    assert_eq!(off["status"], 200, "{off}");
    assert_eq!(off["body"]["LocationIndicatorActive"], false, "{off}");
    assert!(!led_lit(&suite));
    let status = |suite: &Suite| {
        let raw = text(&suite.ipmitool(17, &["raw", "0", "1"]));
        let bytes: Vec<u8> = raw
            .split_whitespace()
            .filter_map(|b| u8::from_str_radix(b, 16).ok())
            .collect();
        bytes.get(2).map(|misc| misc & 0x30)
    };
    assert_eq!(status(&suite), Some(0x00));
    let on = redfish(
        &suite,
        &["patch", CHASSIS, r#"{"LocationIndicatorActive": true}"#],
    );
    assert_eq!(on["status"], 200, "{on}");
    assert!(led_lit(&suite));
    assert_eq!(status(&suite), Some(0x20));
    // Not a boolean, or a property that is not its to change: 400.
    let bad = redfish(
        &suite,
        &["patch", CHASSIS, r#"{"LocationIndicatorActive": "on"}"#],
    );
    assert_eq!(bad["status"], 400, "{bad}");
    assert!(bad.to_string().contains("PropertyValueTypeError"), "{bad}");
    let serial = redfish(&suite, &["patch", CHASSIS, r#"{"SerialNumber": "X"}"#]);
    assert_eq!(serial["status"], 400, "{serial}");
    assert!(
        serial.to_string().contains("PropertyNotWritable"),
        "{serial}"
    );
}
