//! Log services through Redfish (issue 18): the host's EventLog is the
//! same SEL ipmitool reads, entry for entry; `LogService.ClearLog` clears
//! it for both; the BMC's AuditLog shows the audit trail, to
//! administrators only.

use std::time::Duration;

use rbmc_e2e::{
    redfish::{redfish, redfish_as},
    text, wait_for, Suite,
};
use serde_json::Value;

const EVENT_LOG: &str = "/redfish/v1/Systems/system/LogServices/EventLog";
const AUDIT_LOG: &str = "/redfish/v1/Managers/bmc/LogServices/AuditLog";

/// One `ipmitool sel list` row: record ID, sensor number, event, and
/// whether it was asserted.
#[derive(Debug, PartialEq)]
struct Row {
    id: u64,
    sensor_number: u64,
    event: String,
    asserted: bool,
}

fn ipmitool_rows(suite: &Suite) -> Vec<Row> {
    let output = suite.ipmitool(17, &["sel", "list"]);
    assert!(output.status.success(), "sel list: {}", text(&output));
    text(&output)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('|').map(str::trim).collect();
            let [id, _date, _time, sensor, event, direction] = fields.as_slice() else {
                return None;
            };
            let number = sensor.rsplit_once("#0x")?.1;
            Some(Row {
                id: u64::from_str_radix(id, 16).ok()?,
                sensor_number: u64::from_str_radix(number, 16).ok()?,
                event: (*event).to_owned(),
                asserted: *direction == "Asserted",
            })
        })
        .collect()
}

fn redfish_rows(entries: &Value) -> Vec<Row> {
    entries["body"]["Members"]
        .as_array()
        .unwrap_or_else(|| panic!("no Members in {entries}"))
        .iter()
        .map(|entry| {
            let message = entry["Message"].as_str().unwrap_or_default();
            let (_, event) = message.split_once("): ").unwrap_or(("", message));
            let (event, direction) = event.rsplit_once(' ').unwrap_or((event, ""));
            Row {
                id: entry["Id"]
                    .as_str()
                    .and_then(|i| i.parse().ok())
                    .unwrap_or(0),
                sensor_number: entry["SensorNumber"].as_u64().unwrap_or(999),
                event: event.to_owned(),
                asserted: direction == "asserted",
            }
        })
        .collect()
}

#[test]
fn the_event_log_is_the_sel_ipmitool_lists_and_clearlog_clears_it_for_both() {
    let suite = Suite::start();
    // Events from two sources: a platform event ipmitool sends (a
    // temperature crossing Upper Critical), and rbmc-powerd's ACPI state
    // change when the host powers on.
    let sent = suite.ipmitool(17, &["event", "1"]);
    assert!(sent.status.success(), "{}", text(&sent));
    let on = suite.ipmitool(17, &["chassis", "power", "on"]);
    assert!(on.status.success(), "{}", text(&on));
    wait_for("both events in the SEL", Duration::from_secs(20), || {
        let rows = ipmitool_rows(&suite);
        rbmc_e2e::done_or(rows.len() >= 2, format!("{rows:?}"))
    });
    let listed = ipmitool_rows(&suite);
    let entries = redfish(&suite, &["get", &format!("{EVENT_LOG}/Entries")]);
    let over_redfish = redfish_rows(&entries);
    assert_eq!(
        over_redfish.len(),
        listed.len(),
        "ipmitool {listed:?}\nRedfish {entries}"
    );
    for (redfish_row, ipmitool_row) in over_redfish.iter().zip(&listed) {
        assert_eq!(redfish_row.id, ipmitool_row.id, "{entries}");
        assert_eq!(
            redfish_row.sensor_number, ipmitool_row.sensor_number,
            "{entries}"
        );
        assert_eq!(redfish_row.asserted, ipmitool_row.asserted, "{entries}");
    }
    // The threshold event reads the same in both.
    let crossing = listed
        .iter()
        .find(|r| r.event == "Upper Critical going high")
        .unwrap_or_else(|| panic!("no crossing in {listed:?}"));
    let same = over_redfish
        .iter()
        .find(|r| r.id == crossing.id)
        .expect("the crossing over Redfish");
    assert_eq!(same.event, crossing.event);
    let entry = redfish(
        &suite,
        &["get", &format!("{EVENT_LOG}/Entries/{}", crossing.id)],
    );
    assert_eq!(entry["body"]["Severity"], "Critical", "{entry}");
    assert_eq!(entry["body"]["SensorType"], "Temperature", "{entry}");
    assert_eq!(
        entry["body"]["EntryCode"], "Upper Critical - going high",
        "{entry}"
    );

    // A ReadOnly account may read the log but not clear it, nor read the
    // audit trail.
    let created = redfish(
        &suite,
        &[
            "post",
            "/redfish/v1/AccountService/Accounts",
            r#"{"UserName": "viewer", "Password": "viewer-pw-2026", "RoleId": "ReadOnly"}"#,
        ],
    );
    assert_eq!(created["status"], 201, "{created}");
    let viewer = |args: &[&str]| {
        redfish_as(&suite, "viewer", "viewer-pw-2026", args).expect("viewer logs in")
    };
    let read = viewer(&["get", &format!("{EVENT_LOG}/Entries")]);
    assert_eq!(read["status"], 200, "{read}");
    let clear = format!("{EVENT_LOG}/Actions/LogService.ClearLog");
    let refused = viewer(&["post", &clear, "{}"]);
    assert_eq!(refused["status"], 403, "{refused}");
    let audit = viewer(&["get", &format!("{AUDIT_LOG}/Entries")]);
    assert_eq!(audit["status"], 403, "{audit}");
    assert_eq!(ipmitool_rows(&suite).len(), listed.len());

    // The administrator clears it: ipmitool sees an empty SEL.
    let cleared = redfish(&suite, &["post", &clear, "{}"]);
    assert_eq!(cleared["status"], 204, "{cleared}");
    let after = text(&suite.ipmitool(17, &["sel", "list"]));
    assert!(ipmitool_rows(&suite).is_empty(), "{after}");
    let entries = redfish(&suite, &["get", &format!("{EVENT_LOG}/Entries")]);
    assert_eq!(entries["body"]["Members@odata.count"], 0, "{entries}");
    // ...and the audit trail, over Redfish, names the clear.
    wait_for("the clear in the AuditLog", Duration::from_secs(5), || {
        let audit = redfish(&suite, &["get", &format!("{AUDIT_LOG}/Entries")]);
        let found = audit["body"]["Members"].as_array().is_some_and(|members| {
            members.iter().any(|m| {
                m["Message"]
                    .as_str()
                    .is_some_and(|text| text.contains("Sel.Clear: ok"))
            })
        });
        rbmc_e2e::done_or(found, audit)
    });
}
