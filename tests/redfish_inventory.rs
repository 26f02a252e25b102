//! The rest of the Redfish tree (issue 18), each part checked against a
//! second real client of the same daemons:
//! - ThermalSubsystem: each fan's speed (its duty and RPM) and every
//!   temperature in ThermalMetrics is what ipmitool's `sensor list` shows;
//! - PowerSubsystem: each power supply's metrics are its entity's sensors,
//!   as ipmitool reads them;
//! - Managers/bmc/EthernetInterfaces: the LAN channel as `ipmitool lan
//!   print` shows it, from rbmc-netipmid's OpenBMC-shaped network objects;
//! - Registries: every MessageId the service sends is in the registry it
//!   publishes, with the same text;
//! - SSE `Last-Event-ID`: a reconnecting stream gets the events it missed.

use std::{collections::HashMap, time::Duration};

use rbmc_e2e::{
    redfish::{curl, message_id, redfish, url},
    text, wait_for, Suite, PASSWORD, USER,
};
use serde_json::Value;

const THERMAL: &str = "/redfish/v1/Chassis/chassis/ThermalSubsystem";
const POWER: &str = "/redfish/v1/Chassis/chassis/PowerSubsystem";

fn get(suite: &Suite, path: &str) -> Value {
    let reply = redfish(suite, &["get", path]);
    assert_eq!(reply["status"], 200, "{path}: {reply}");
    reply["body"].clone()
}

/// ipmitool's `sensor list`: name to (reading, one step of its SDR
/// conversion over the sensor's range, twice).
fn ipmitool_readings(suite: &Suite) -> HashMap<String, f64> {
    let output = suite.ipmitool(17, &["sensor", "list"]);
    assert!(output.status.success(), "{}", text(&output));
    text(&output)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('|').map(str::trim).collect();
            Some((fields.first()?.to_string(), fields.get(1)?.parse().ok()?))
        })
        .collect()
}

/// Whether `over_redfish` is ipmitool's reading of `name` within the SDR's
/// resolution (its 8-bit conversion of `range`, two steps).
fn agrees(
    readings: &HashMap<String, f64>,
    name: &str,
    over_redfish: &Value,
    range: f64,
) -> Result<(), String> {
    let ipmi = readings
        .get(name)
        .ok_or_else(|| format!("ipmitool lists no {name:?}"))?;
    let redfish = over_redfish
        .as_f64()
        .ok_or_else(|| format!("{name}: no Redfish reading ({over_redfish})"))?;
    let resolution = range / 255.0 * 2.0;
    if (redfish - ipmi).abs() > resolution {
        return Err(format!("{name}: Redfish {redfish}, ipmitool {ipmi}"));
    }
    Ok(())
}

#[test]
fn fans_and_temperatures_are_the_sensors_ipmitool_lists() {
    let suite = Suite::start();
    suite.simulator("Pause", "b", &["true"]);
    let thermal = get(&suite, THERMAL);
    assert_eq!(thermal["Fans"]["@odata.id"], format!("{THERMAL}/Fans"));
    let fans = get(&suite, &format!("{THERMAL}/Fans"));
    assert_eq!(fans["Members@odata.count"], 6, "{fans}");
    wait_for(
        "Redfish's fans and temperatures to agree with ipmitool",
        Duration::from_secs(20),
        || {
            let readings = ipmitool_readings(&suite);
            for member in fans["Members"].as_array().expect("Members") {
                let fan = get(&suite, member["@odata.id"].as_str().expect("id"));
                let name = fan["Name"].as_str().expect("Name");
                agrees(&readings, name, &fan["SpeedPercent"]["SpeedRPM"], 15300.0)?;
                // A fan a zone drives: its duty from its PWM sensor, which
                // the excerpt links.
                let duty = format!("{name} PWM");
                agrees(&readings, &duty, &fan["SpeedPercent"]["Reading"], 100.0)?;
                let source = fan["SpeedPercent"]["DataSourceUri"].as_str().expect("uri");
                assert_eq!(get(&suite, source)["ReadingUnits"], "%");
            }
            let metrics = get(&suite, &format!("{THERMAL}/ThermalMetrics"));
            let temperatures = metrics["TemperatureReadingsCelsius"]
                .as_array()
                .expect("readings");
            if temperatures.len() < 7 {
                return Err(format!("only {} temperatures", temperatures.len()));
            }
            for temperature in temperatures {
                let name = temperature["DeviceName"].as_str().expect("DeviceName");
                agrees(&readings, name, &temperature["Reading"], 127.0)?;
            }
            let intake = &metrics["TemperatureSummaryCelsius"]["Intake"];
            agrees(&readings, "Inlet Temp", &intake["Reading"], 127.0)
        },
    );
}

#[test]
fn power_supplies_are_their_entitys_sensors() {
    let suite = Suite::start();
    suite.simulator("Pause", "b", &["true"]);
    let power = get(&suite, POWER);
    assert_eq!(power["Status"]["State"], "Enabled", "{power}");
    let supplies = get(&suite, &format!("{POWER}/PowerSupplies"));
    let ids: Vec<&str> = supplies["Members"]
        .as_array()
        .expect("Members")
        .iter()
        .filter_map(|m| m["@odata.id"].as_str()?.rsplit('/').next())
        .collect();
    assert_eq!(ids, ["PowerSupply1", "PowerSupply2"], "{supplies}");
    wait_for(
        "each supply's metrics to be what ipmitool reads",
        Duration::from_secs(20),
        || {
            let readings = ipmitool_readings(&suite);
            for n in 1..=2 {
                let supply = get(&suite, &format!("{POWER}/PowerSupplies/PowerSupply{n}"));
                let metrics_path = supply["Metrics"]["@odata.id"].as_str().expect("Metrics");
                let metrics = get(&suite, metrics_path);
                let input = &metrics["InputPowerWatts"];
                agrees(&readings, &format!("PSU{n} Pin"), &input["Reading"], 2040.0)?;
                let rail = &metrics["RailCurrentAmps"][0];
                agrees(&readings, &format!("PSU{n} Iout"), &rail["Reading"], 102.0)?;
                let source = input["DataSourceUri"].as_str().expect("DataSourceUri");
                assert_eq!(get(&suite, source)["ReadingType"], "Power");
            }
            Ok::<(), String>(())
        },
    );
    let missing = redfish(
        &suite,
        &["get", &format!("{POWER}/PowerSupplies/PowerSupply9")],
    );
    assert_eq!(missing["status"], 404, "{missing}");
}

/// `field` of `ipmitool lan print 1`.
fn lan_field(printed: &str, field: &str) -> String {
    printed
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(" : ")?;
            (name.trim() == field).then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {field:?} in:\n{printed}"))
}

#[test]
fn the_bmc_interface_is_the_lan_channel_ipmitool_prints() {
    let suite = Suite::start();
    let printed = text(&suite.ipmitool(17, &["lan", "print", "1"]));
    let interfaces = get(&suite, "/redfish/v1/Managers/bmc/EthernetInterfaces");
    assert_eq!(interfaces["Members@odata.count"], 1, "{interfaces}");
    let path = interfaces["Members"][0]["@odata.id"].as_str().expect("id");
    let interface = get(&suite, path);
    assert_eq!(interface["Id"], "channel1", "{interface}");
    assert_eq!(
        interface["MACAddress"]
            .as_str()
            .expect("MACAddress")
            .to_lowercase(),
        lan_field(&printed, "MAC Address").to_lowercase()
    );
    let address = &interface["IPv4Addresses"][0];
    assert_eq!(address["Address"], lan_field(&printed, "IP Address"));
    assert_eq!(address["SubnetMask"], lan_field(&printed, "Subnet Mask"));
    assert_eq!(
        address["Gateway"],
        lan_field(&printed, "Default Gateway IP")
    );
    assert_eq!(address["AddressOrigin"], "Static");
    assert_eq!(
        lan_field(&printed, "IP Address Source"),
        "Static Address",
        "ipmitool sees the static source Redfish shows"
    );
    assert_eq!(interface["DHCPv4"]["DHCPEnabled"], false);
    // The owner's object has OpenBMC's shape, for any other reader.
    let mac = suite.busctl(&[
        "get-property",
        "org.rbmc.Netipmid",
        "/xyz/openbmc_project/network/channel1",
        "xyz.openbmc_project.Network.MACAddress",
        "MACAddress",
    ]);
    assert!(
        mac.to_lowercase()
            .contains(&lan_field(&printed, "MAC Address").to_lowercase()),
        "{mac}"
    );
}

/// The definition of `message_id` (`Base.1.20.0.Name`) in the registry
/// the service publishes for its prefix.
fn published(suite: &Suite, message_id: &str) -> Value {
    let prefix = message_id.split('.').next().expect("prefix");
    let key = message_id.rsplit('.').next().expect("key");
    let file = get(suite, &format!("/redfish/v1/Registries/{prefix}"));
    let version = message_id
        .strip_prefix(&format!("{prefix}."))
        .and_then(|rest| rest.rsplit_once('.'))
        .map(|(version, _)| version)
        .expect("version");
    assert!(
        file["Registry"]
            .as_str()
            .is_some_and(|r| format!("{prefix}.{version}").starts_with(r)),
        "{message_id} against {file}"
    );
    let location = file["Location"][0]["Uri"].as_str().expect("Uri");
    let registry = get(suite, location);
    registry["Messages"][key].clone()
}

/// Whether `text` is `template` with its `%N` filled in.
fn fills(template: &str, text: &str) -> bool {
    let parts: Vec<&str> = template
        .split('%')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.trim_start_matches(|c: char| c.is_ascii_digit())
            }
        })
        .collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        match rest.find(part) {
            Some(at) if i > 0 || at == 0 => rest = &rest[at + part.len()..],
            _ => return false,
        }
    }
    rest.is_empty()
}

#[test]
fn every_message_the_service_sends_is_in_the_registry_it_publishes() {
    let suite = Suite::start();
    let registries = get(&suite, "/redfish/v1/Registries");
    let files: Vec<&str> = registries["Members"]
        .as_array()
        .expect("Members")
        .iter()
        .filter_map(|m| m["@odata.id"].as_str())
        .collect();
    for prefix in ["Base", "ResourceEvent", "SensorEvent"] {
        assert!(
            files.contains(&format!("/redfish/v1/Registries/{prefix}").as_str()),
            "{registries}"
        );
    }
    let credentials = format!("{USER}:{PASSWORD}");
    let cases: [(&[&str], &str); 4] = [
        (
            &["-X", "PATCH", "-d", r#"{"Nope": 1}"#],
            "/redfish/v1/Chassis/chassis",
        ),
        (
            &[],
            "/redfish/v1/Chassis/chassis/ThermalSubsystem/Fans/FAN99",
        ),
        (&["-X", "DELETE"], "/redfish/v1/Chassis/chassis"),
        (
            &["-H", "Last-Event-ID: yesterday"],
            "/redfish/v1/EventService/SSE",
        ),
    ];
    for (options, path) in cases {
        let mut args = vec!["-u", &credentials];
        args.extend_from_slice(options);
        let target = url(&suite, path);
        args.push(&target);
        let (status, _, body) = curl(&args);
        assert!((400..500).contains(&status), "{path}: {status} {body}");
        let id = message_id(&body);
        let definition = published(&suite, &id);
        let error: Value = serde_json::from_str(&body).expect("JSON");
        let info = &error["error"]["@Message.ExtendedInfo"][0];
        let template = definition["Message"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} is not in the published registry: {definition}"));
        let sent = info["Message"].as_str().expect("Message");
        assert!(fills(template, sent), "{id}: {sent:?} is not {template:?}");
        assert_eq!(
            info["MessageSeverity"], definition["MessageSeverity"],
            "{id}"
        );
    }
    // The event registries carry the events' messages too.
    let test = published(&suite, "ResourceEvent.1.3.TestMessage");
    assert_eq!(test["Message"], "Test message.");
    let crossing = published(&suite, "SensorEvent.1.0.ReadingAboveUpperCriticalThreshold");
    assert_eq!(crossing["NumberOfArgs"], 4);
}

/// The events of an SSE stream opened with `Last-Event-ID: last`, read for
/// a moment (the missed ones come first, at once).
fn resumed_events(suite: &Suite, last: u64) -> Vec<Value> {
    let output = std::process::Command::new("curl")
        .args([
            "-skN",
            "--max-time",
            "3",
            "-u",
            &format!("{USER}:{PASSWORD}"),
        ])
        .args(["-H", &format!("Last-Event-ID: {last}")])
        .arg(url(suite, "/redfish/v1/EventService/SSE"))
        .output()
        .expect("curl");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l.strip_prefix("data: ")?).ok())
        .collect()
}

#[test]
fn a_reconnecting_stream_gets_the_events_it_missed() {
    let suite = Suite::start();
    for n in 1..=3 {
        let body = format!(
            r#"{{"MessageId": "ResourceEvent.1.3.ResourceStatusChangedOK",
                 "MessageArgs": ["event {n}", "OK"]}}"#
        );
        let sent = redfish(
            &suite,
            &[
                "post",
                "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent",
                &body,
            ],
        );
        assert_eq!(sent["status"], 204, "{sent}");
    }
    // From the start: all three, in order, each once.
    let all = resumed_events(&suite, 0);
    let args: Vec<&str> = all
        .iter()
        .filter_map(|e| e["Events"][0]["MessageArgs"][0].as_str())
        .collect();
    assert_eq!(args, ["event 1", "event 2", "event 3"], "{all:?}");
    let ids: Vec<u64> = all
        .iter()
        .map(|e| e["Id"].as_str().and_then(|i| i.parse().ok()).expect("Id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // A client that had the first gets the other two only.
    let missed = resumed_events(&suite, ids[0]);
    let missed_ids: Vec<u64> = missed
        .iter()
        .filter_map(|e| e["Id"].as_str()?.parse().ok())
        .collect();
    assert_eq!(missed_ids, ids[1..], "{missed:?}");
    assert!(resumed_events(&suite, ids[2]).is_empty());
}
