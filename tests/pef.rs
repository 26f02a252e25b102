//! Platform Event Filtering and alerts (issue 19), end to end: rbmc-pefd
//! with ipmitool's `pef` and `lan alert`, FreeIPMI's `ipmi-pef-config`
//! and `ipmi-pet`, and net-snmp's snmptrapd as the monitoring system.
//!
//! - Both clients read and write the PEF settings and the LAN alert
//!   destinations, FreeIPMI's checkout/commit round-trips every section,
//!   and everything is kept across a restart.
//! - A threshold crossing injected through the simulator arrives at
//!   snmptrapd as a Platform Event Trap, which snmptrapd and FreeIPMI's
//!   `ipmi-pet` decode to the sensor and event the SEL holds; so does a
//!   Platform Event Message a console sends.
//! - A filter with the power-down action powers the simulated host down on
//!   its event, and does nothing while disabled.
//! - An acknowledged destination gets the trap again until FreeIPMI sends
//!   PET Acknowledge (outside any session), or its retries run out and the
//!   alert is given up and logged.
//! - Bad requests get their completion codes and change nothing.

use std::time::{Duration, Instant};

use rbmc_e2e::{done_or, text, trap_receiver::TrapReceiver, wait_for, Suite};

fn ipmitool_ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

fn pef_config(suite: &Suite, args: &[&str]) -> String {
    let out = suite.freeipmi("ipmi-pef-config", args);
    assert!(
        out.status.success(),
        "ipmi-pef-config {args:?}: {}",
        text(&out)
    );
    text(&out)
}

/// The dev config with PET traps sent to `trap_port`, as a file.
fn config_with_trap_port(trap_port: u16) -> std::path::PathBuf {
    let dev = std::fs::read_to_string(rbmc_e2e::repo_root().join("configs/dev.toml")).unwrap();
    let text = dev.replace("trap-port = 16162", &format!("trap-port = {trap_port}"));
    assert_ne!(text, dev, "dev.toml sets [pef] trap-port");
    let path =
        std::env::temp_dir().join(format!("rbmc-pef-{}-{trap_port}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the suite with its traps going to a fresh snmptrapd.
fn suite_with_receiver() -> (Suite, TrapReceiver) {
    let receiver = TrapReceiver::start();
    let config = config_with_trap_port(receiver.port);
    let suite = Suite::start_with(&["--config", config.to_str().unwrap()]);
    (suite, receiver)
}

/// `CPU0 Temp`'s sensor number and entity, from the dev config.
fn cpu0_temp() -> (u8, (u8, u8)) {
    let config = rbmc_e2e::dev_config();
    let sensor = config
        .sensors
        .iter()
        .find(|s| s.name.0 == "CPU0 Temp")
        .expect("dev.toml has CPU0 Temp");
    (sensor.number.0, (sensor.entity_id, sensor.entity_instance))
}

fn hex(byte: u8) -> String {
    format!("0x{byte:02x}")
}

/// Sets event filter 1 (Set PEF Configuration Parameters, parameter 6):
/// enabled or not, `actions`, policy 1, critical, for CPU0 Temp's upper
/// critical going-high crossing (a threshold event, offset 9).
fn set_cpu0_filter(suite: &Suite, enabled: bool, actions: u8) {
    let (number, _) = cpu0_temp();
    let config = if enabled { 0x80 } else { 0x00 };
    let mut bytes = vec![0x04, 0x12, 0x06, 0x01, config, actions, 0x01, 0x10];
    // Any generator; temperature; CPU0 Temp; threshold; offset 9.
    bytes.extend([0xFF, 0xFF, 0x01, number, 0x01, 0x00, 0x02]);
    bytes.extend([0u8; 9]);
    let args: Vec<String> = bytes.into_iter().map(hex).collect();
    let mut all = vec!["raw"];
    all.extend(args.iter().map(String::as_str));
    ipmitool_ok(suite, &all);
}

/// `pef status`'s "Last BMC processed ID".
fn last_bmc_processed(suite: &Suite) -> String {
    let shown = ipmitool_ok(suite, &["-v", "pef", "status"]);
    shown
        .lines()
        .find_map(|l| {
            l.strip_prefix("Last BMC processed ID")
                .map(|v| v.trim_start_matches([' ', ':']).trim().to_owned())
        })
        .unwrap_or_default()
}

/// Waits for the SEL record of CPU0 Temp's upper critical crossing
/// (`deasserted` for its end) and returns its ID.
fn wait_for_cpu0_crossing(suite: &Suite, deasserted: bool) -> u16 {
    let direction = if deasserted { "Deasserted" } else { "Asserted" };
    wait_for(
        "CPU0 Temp's upper critical crossing in the SEL",
        Duration::from_secs(20),
        || {
            let shown = ipmitool_ok(suite, &["sel", "elist"]);
            let found = shown.lines().rev().find(|l| {
                l.contains("CPU0 Temp")
                    && l.contains("Upper Critical going high")
                    && l.contains(direction)
            });
            match found {
                Some(line) => {
                    Ok(u16::from_str_radix(line.split('|').next().unwrap().trim(), 16).unwrap())
                }
                None => Err(shown),
            }
        },
    )
}

/// Waits until PEF's last processed record is `record` or a later one
/// (other daemons log too: a critical temperature also puts the fans in
/// failsafe, which rbmc-fand logs next).
fn wait_until_processed(suite: &Suite, record: u16) {
    wait_for("PEF to process the record", Duration::from_secs(10), || {
        let shown = last_bmc_processed(suite);
        let processed = shown
            .strip_prefix("0x")
            .and_then(|hex| u16::from_str_radix(hex, 16).ok());
        done_or(processed.is_some_and(|id| id >= record), shown)
    });
}

fn power_status(suite: &Suite) -> String {
    ipmitool_ok(suite, &["chassis", "power", "status"])
}

#[test]
fn ipmitool_and_freeipmi_read_and_write_pef_and_alert_destinations() {
    let suite = Suite::start();
    // Capabilities: version 1.5, 16 filters and policies, the actions.
    let info = ipmitool_ok(&suite, &["-v", "pef", "info"]);
    assert!(info.contains("Version                  : 0x51"), "{info}");
    assert!(info.contains("PEF Event Filter count   : 16"), "{info}");
    assert!(info.contains("PEF Alert Policy Table size : 16"), "{info}");
    for (action, support) in [
        ("Power-off", "supported"),
        ("Diagnostic-interrupt", "supported"),
        ("OEM-defined", "unsupported"),
    ] {
        assert!(
            info.lines()
                .any(|l| l.starts_with(action) && l.ends_with(support)),
            "{action}: {info}"
        );
    }
    let status = ipmitool_ok(&suite, &["-v", "pef", "status"]);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("PEF ") && l.ends_with("enabled")),
        "{status}"
    );
    let filters = ipmitool_ok(&suite, &["pef", "filter", "list"]);
    assert_eq!(
        filters.matches("disabled, configurable").count(),
        16,
        "{filters}"
    );

    // LAN alert destinations through ipmitool, read back by both.
    for args in [
        &["lan", "alert", "set", "1", "1", "ipaddr", "127.0.0.1"][..],
        &["lan", "alert", "set", "1", "1", "ack", "on"],
        &["lan", "alert", "set", "1", "1", "time", "2"],
        &["lan", "alert", "set", "1", "1", "retry", "3"],
        &["lan", "set", "1", "snmp", "rbmc-alerts"],
    ] {
        ipmitool_ok(&suite, args);
    }
    let print = ipmitool_ok(&suite, &["lan", "alert", "print", "1", "1"]);
    for line in [
        "Alert IP Address        : 127.0.0.1",
        "Alert Acknowledge       : Acknowledged",
        "Acknowledge Timeout     : 2",
        "Number of Retries       : 3",
    ] {
        assert!(print.contains(line), "{line}: {print}");
    }
    let lan = ipmitool_ok(&suite, &["lan", "print", "1"]);
    assert!(
        lan.contains("SNMP Community String   : rbmc-alerts"),
        "{lan}"
    );

    // FreeIPMI: changes in every kind of section, read back by both.
    pef_config(
        &suite,
        &[
            "--commit",
            "-e",
            "PEF_Conf:Enable_Power_Down_Action=Yes",
            "-e",
            "Community_String:Community_String=rbmc-freeipmi",
            "-e",
            "Lan_Alert_Destination_3:Alert_IP_Address=10.0.0.3",
            "-e",
            "Lan_Alert_Destination_3:Alert_Gateway=Backup",
            "-e",
            "Alert_String_1:Alert_String=CPU-overheat:check-the-fans",
            "-e",
            "Alert_Policy_2:Policy_Enabled=Yes",
            "-e",
            "Alert_Policy_2:Destination_Selector=3",
            "-e",
            "Alert_Policy_2:Channel_Number=1",
            "-e",
            "Event_Filter_2:Enable_Filter=Yes",
            "-e",
            "Event_Filter_2:Event_Filter_Action_Power_Off=Yes",
            "-e",
            "Event_Filter_2:Sensor_Type=Temperature",
        ],
    );
    let checkout = pef_config(&suite, &["--checkout"]);
    for (section, key, value) in [
        ("PEF_Conf", "Enable_Power_Down_Action", "Yes"),
        ("Community_String", "Community_String", "rbmc-freeipmi"),
        ("Lan_Alert_Destination_3", "Alert_IP_Address", "10.0.0.3"),
        ("Lan_Alert_Destination_3", "Alert_Gateway", "Backup"),
        (
            "Alert_String_1",
            "Alert_String",
            "CPU-overheat:check-the-fans",
        ),
        ("Alert_Policy_2", "Destination_Selector", "3"),
        ("Event_Filter_2", "Event_Filter_Action_Power_Off", "Yes"),
        ("Event_Filter_2", "Sensor_Type", "Temperature"),
    ] {
        assert_eq!(
            value_in(&checkout, section, key).as_deref(),
            Some(value),
            "{section}:{key}"
        );
    }
    let filters = ipmitool_ok(&suite, &["-v", "pef", "filter", "list"]);
    assert!(filters.contains("Power-off"), "{filters}");
    // ipmitool follows policy entry 2 to its LAN destination.
    let policies = ipmitool_ok(&suite, &["-v", "pef", "policy", "list"]);
    let entry_2 = policies
        .split("Alert policy table entry : ")
        .find(|entry| entry.starts_with("2\n"))
        .unwrap_or_else(|| panic!("{policies}"));
    for line in [
        "State                    : enabled",
        "Channel medium           : 802.3 LAN",
        "IP address               : 10.0.0.3",
        "PET Community            : rbmc-freeipmi",
    ] {
        assert!(entry_2.contains(line), "{line}: {entry_2}");
    }
    // The postpone timer: armed for 10 s, read back, disarmed.
    let raw = |value: &str| {
        ipmitool_ok(&suite, &["raw", "0x04", "0x11", value])
            .trim()
            .to_owned()
    };
    assert_eq!(raw("0x0a"), "0a");
    let left = u8::from_str_radix(&raw("0xff"), 16).unwrap();
    assert!((1..=10).contains(&left), "{left}");
    assert_eq!(raw("0x00"), "00");
    let print = ipmitool_ok(&suite, &["lan", "alert", "print", "1", "3"]);
    assert!(
        print.contains("10.0.0.3") && print.contains("Alert Gateway           : Backup"),
        "{print}"
    );

    // The whole checkout commits back unchanged.
    let file = suite.state_dir.join("pef-checkout.conf");
    std::fs::write(&file, &checkout).unwrap();
    pef_config(&suite, &["--commit", "--filename", file.to_str().unwrap()]);
    assert_eq!(pef_config(&suite, &["--checkout"]), checkout);
    pef_config(&suite, &["--diff", "--filename", file.to_str().unwrap()]);

    // Kept across a restart (destination 0 is volatile; 1-4 are not).
    let suite = suite.restart();
    assert_eq!(pef_config(&suite, &["--checkout"]), checkout);
    let print = ipmitool_ok(&suite, &["lan", "alert", "print", "1", "1"]);
    assert!(print.contains("127.0.0.1"), "{print}");
}

/// The value of `key` in `section` of an ipmi-config checkout.
fn value_in(checkout: &str, section: &str, key: &str) -> Option<String> {
    let start = checkout.find(&format!("Section {section}\n"))?;
    let body = &checkout[start..];
    let body = &body[..body.find("EndSection")?];
    body.lines().find_map(|line| {
        let line = line.trim();
        let rest = line.strip_prefix(key)?;
        rest.starts_with(char::is_whitespace)
            .then(|| rest.trim().to_owned())
    })
}

#[test]
fn a_threshold_crossing_reaches_snmptrapd_as_a_platform_event_trap() {
    let (suite, receiver) = suite_with_receiver();
    let (number, (entity, instance)) = cpu0_temp();
    ipmitool_ok(
        &suite,
        &["lan", "alert", "set", "1", "1", "ipaddr", "127.0.0.1"],
    );
    ipmitool_ok(&suite, &["lan", "set", "1", "snmp", "rbmc-alerts"]);
    // Policy 1, entry 1: enabled, always send, channel 1, destination 1.
    ipmitool_ok(
        &suite,
        &[
            "raw", "0x04", "0x12", "0x09", "0x01", "0x18", "0x11", "0x00",
        ],
    );
    set_cpu0_filter(&suite, true, 0x01);
    // A fan crossing matches no filter: no trap for it.
    suite.simulator("Inject", "ss", &["FAN1", "stop"]);
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    let record = wait_for_cpu0_crossing(&suite, false);
    let seen = Instant::now();
    let trap = wait_for("the PET at snmptrapd", Duration::from_secs(2), || {
        let traps = receiver.traps();
        match traps.first() {
            Some(trap) => Ok(trap.clone()),
            None => Err(receiver.log()),
        }
    });
    eprintln!(
        "trap received {:?} after the SEL showed the record",
        seen.elapsed()
    );
    assert_eq!(trap.community, "rbmc-alerts");
    assert_eq!(trap.enterprise, ".1.3.6.1.4.1.3183.1.1");
    assert_eq!(trap.varbind_oid, ".1.3.6.1.4.1.3183.1.1.1");
    // Temperature (01h), threshold (01h), assertion, offset 9.
    assert_eq!(trap.specific, 0x01_01_09);
    let v = &trap.varbind;
    assert_eq!(v.len(), 47, "{v:02x?}");
    let config = rbmc_e2e::dev_config();
    assert_eq!(v[..16], config.bmc.guid.expect("dev.toml has a GUID").0);
    assert_eq!(
        u16::from_be_bytes([v[16], v[17]]),
        record,
        "the sequence is the record ID"
    );
    assert_eq!(
        u16::from_be_bytes([v[22], v[23]]),
        0xFFFF,
        "UTC offset unspecified"
    );
    assert_eq!(
        (v[24], v[25], v[26], v[27], v[28]),
        (0x20, 0x20, 0x10, 0x20, number)
    );
    assert_eq!((v[29], v[30]), (entity, instance));
    assert_eq!(v[31] & 0x0F, 0x09);
    assert_eq!(
        u32::from_be_bytes([v[40], v[41], v[42], v[43]]),
        config.bmc.manufacturer_id.0
    );
    assert_eq!(u16::from_be_bytes([v[44], v[45]]), config.bmc.product_id);
    assert_eq!(v[46], 0xC1);
    // FreeIPMI decodes it against the BMC's own SDR: the sensor and event.
    let bytes: Vec<String> = v.iter().map(|b| format!("{b:02X}")).collect();
    let specific = trap.specific.to_string();
    let mut args = vec![
        "--sdr-cache-directory",
        suite.state_dir.to_str().unwrap(),
        specific.as_str(),
    ];
    args.extend(bytes.iter().map(String::as_str));
    let decoded = suite.freeipmi("ipmi-pet", &args);
    let shown = text(&decoded);
    assert!(decoded.status.success(), "{shown}");
    assert!(
        shown.contains("CPU0 Temp") && shown.contains("Upper Critical - going high"),
        "{shown}"
    );
    // The fan's crossing was processed too, and sent nothing.
    suite.simulator("Clear", "s", &["CPU0 Temp"]);
    let cleared = wait_for_cpu0_crossing(&suite, true);
    wait_until_processed(&suite, cleared);
    let sent = receiver.traps();
    assert!(
        sent.iter().all(|t| t.specific >> 16 == 0x01),
        "only temperature traps: {sent:?}"
    );
    // A Platform Event Message from a console (generator 81h) matching
    // filter 2 (physical security, sensor-specific): the same path.
    let mut filter_2 = vec![
        "raw", "0x04", "0x12", "0x06", "0x02", "0x80", "0x01", "0x01", "0x08",
    ];
    filter_2.extend(["0xff", "0xff", "0x05", "0xff", "0x6f", "0xff", "0xff"]);
    filter_2.extend(["0"; 9]);
    ipmitool_ok(&suite, &filter_2);
    let before = receiver.traps().len();
    ipmitool_ok(
        &suite,
        &[
            "raw", "0x04", "0x02", "0x04", "0x05", "0x73", "0x6f", "0x00", "0xff", "0xff",
        ],
    );
    let trap = wait_for("the intrusion PET", Duration::from_secs(5), || {
        receiver.traps().get(before).cloned().ok_or(receiver.log())
    });
    // Physical security (05h), sensor-specific (6Fh), assertion, offset 0:
    // the specific trap of FreeIPMI's Dell example.
    assert_eq!(trap.specific, 356_096);
    assert_eq!(
        (trap.varbind[26], trap.varbind[27], trap.varbind[28]),
        (0x08, 0x81, 0x73)
    );
}

#[test]
fn a_power_down_filter_acts_on_its_event_only_while_enabled() {
    let suite = Suite::start();
    ipmitool_ok(&suite, &["chassis", "power", "on"]);
    wait_for("the host on", Duration::from_secs(10), || {
        let shown = power_status(&suite);
        done_or(shown.contains("is on"), shown)
    });
    // Power down allowed globally; filter 1 asks for it, disabled.
    ipmitool_ok(&suite, &["raw", "0x04", "0x12", "0x02", "0x03"]);
    set_cpu0_filter(&suite, false, 0x02);
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    let record = wait_for_cpu0_crossing(&suite, false);
    wait_until_processed(&suite, record);
    assert!(
        power_status(&suite).contains("is on"),
        "a disabled filter does nothing"
    );
    suite.simulator("Clear", "s", &["CPU0 Temp"]);
    let cleared = wait_for_cpu0_crossing(&suite, true);
    wait_until_processed(&suite, cleared);
    // ipmitool enables it (parameter 7); the next crossing powers down.
    ipmitool_ok(&suite, &["pef", "filter", "enable", "1"]);
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    wait_for(
        "the host powered down by PEF",
        Duration::from_secs(15),
        || {
            let shown = power_status(&suite);
            done_or(shown.contains("is off"), shown)
        },
    );
    assert!(
        suite.log_text().contains("PEF action taken"),
        "{}",
        suite.log_text()
    );
}

/// A counter of the simulated host (`Resets`, `Nmis`).
fn host_count(suite: &Suite, property: &str) -> u32 {
    let shown = suite.busctl(&[
        "get-property",
        "org.rbmc.Powerd",
        "/org/rbmc/SimulatedHost",
        "org.rbmc.SimulatedHost",
        property,
    ]);
    shown
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{property}: {shown}"))
}

#[test]
fn reset_and_diagnostic_interrupt_filters_act_through_powerd() {
    let suite = Suite::start();
    ipmitool_ok(&suite, &["chassis", "power", "on"]);
    wait_for("the host on", Duration::from_secs(10), || {
        let shown = power_status(&suite);
        done_or(shown.contains("is on"), shown)
    });
    // Every action allowed; filter 1 resets the host on CPU0's crossing.
    ipmitool_ok(&suite, &["raw", "0x04", "0x12", "0x02", "0x3f"]);
    set_cpu0_filter(&suite, true, 0x04);
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    wait_for("a reset pulse from PEF", Duration::from_secs(15), || {
        let resets = host_count(&suite, "Resets");
        done_or(resets >= 1, resets)
    });
    suite.simulator("Clear", "s", &["CPU0 Temp"]);
    let cleared = wait_for_cpu0_crossing(&suite, true);
    wait_until_processed(&suite, cleared);
    // Now the diagnostic interrupt, on the next crossing.
    set_cpu0_filter(&suite, true, 0x20);
    let nmis = host_count(&suite, "Nmis");
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    wait_for("an NMI from PEF", Duration::from_secs(15), || {
        let now = host_count(&suite, "Nmis");
        done_or(now > nmis, now)
    });
    assert!(
        power_status(&suite).contains("is on"),
        "neither powers the host off"
    );
}

/// Alert Immediate to destination 2 and its status (get).
fn alert_immediate(suite: &Suite) {
    ipmitool_ok(suite, &["raw", "0x04", "0x16", "0x01", "0x02", "0x00"]);
}

fn alert_immediate_status(suite: &Suite) -> String {
    ipmitool_ok(suite, &["raw", "0x04", "0x16", "0x01", "0x42", "0x00"])
        .trim()
        .to_owned()
}

#[test]
fn an_acknowledged_alert_is_retried_until_acknowledged_or_given_up() {
    let (suite, receiver) = suite_with_receiver();
    for args in [
        &["lan", "alert", "set", "1", "2", "ipaddr", "127.0.0.1"][..],
        &["lan", "alert", "set", "1", "2", "ack", "on"],
        &["lan", "alert", "set", "1", "2", "time", "1"],
        &["lan", "alert", "set", "1", "2", "retry", "2"],
    ] {
        ipmitool_ok(&suite, args);
    }
    // Nobody acknowledges: the trap, then two retries, then given up.
    alert_immediate(&suite);
    wait_for("the alert given up", Duration::from_secs(10), || {
        let status = alert_immediate_status(&suite);
        done_or(status == "03", status)
    });
    let traps = receiver.traps();
    assert_eq!(traps.len(), 3, "{traps:?}");
    assert!(
        traps.iter().all(|t| t == &traps[0]),
        "the same trap each time"
    );
    assert!(suite.log_text().contains("never acknowledged: given up"));

    // FreeIPMI acknowledges the first trap (sessionless, IPMI v1.5): no
    // retry follows. A 3 s timeout leaves the client time to answer.
    ipmitool_ok(&suite, &["lan", "alert", "set", "1", "2", "time", "3"]);
    ipmitool_ok(&suite, &["raw", "0x04", "0x16", "0x01", "0x82", "0x00"]);
    alert_immediate(&suite);
    let trap = wait_for("the next trap", Duration::from_secs(5), || {
        let traps = receiver.traps();
        traps.get(3).cloned().ok_or(traps.len())
    });
    let bytes: Vec<String> = trap.varbind.iter().map(|b| format!("{b:02X}")).collect();
    let specific = trap.specific.to_string();
    let host = format!("127.0.0.1:{}", suite.port);
    let mut args = vec!["--pet-acknowledge", "-h", host.as_str(), specific.as_str()];
    args.extend(bytes.iter().map(String::as_str));
    let acked = rbmc_e2e::run("ipmi-pet", &args);
    assert!(acked.status.success(), "{}", text(&acked));
    wait_for("the alert acknowledged", Duration::from_secs(5), || {
        let status = alert_immediate_status(&suite);
        done_or(status == "01", status)
    });
    assert_eq!(
        receiver.traps().len(),
        4,
        "no retry after the acknowledgement"
    );
}

#[test]
fn bad_requests_get_their_completion_codes_and_change_nothing() {
    let suite = Suite::start();
    let before = pef_config(&suite, &["--checkout"]);
    let raw = |bytes: &[&str]| {
        let mut args = vec!["raw"];
        args.extend_from_slice(bytes);
        text(&suite.ipmitool(17, &args))
    };
    for (request, code) in [
        // Get PEF Config: filter 0, an unsupported parameter, short.
        (&["0x04", "0x13", "0x06", "0x00", "0x00"][..], "rsp=0xc9"),
        (&["0x04", "0x13", "0x0e", "0x00", "0x00"], "rsp=0x80"),
        (&["0x04", "0x13", "0x06", "0x01"], "rsp=0xc7"),
        // Set PEF Config: read-only, a reserved bit, no data, a reserved
        // selector bit, a reserved policy type.
        (&["0x04", "0x12", "0x05", "0x01"], "rsp=0x82"),
        (&["0x04", "0x12", "0x01", "0x11"], "rsp=0xcc"),
        (&["0x04", "0x12", "0x01"], "rsp=0xc7"),
        (&["0x04", "0x12", "0x81", "0x01"], "rsp=0xcc"),
        (
            &["0x04", "0x12", "0x09", "0x01", "0x1d", "0x11", "0x00"],
            "rsp=0xcc",
        ),
        // Arm Postpone Timer and Set Last Processed Event ID, malformed.
        (&["0x04", "0x11"], "rsp=0xc7"),
        (&["0x04", "0x14", "0x02", "0x00", "0x00"], "rsp=0xcc"),
        // Alert Immediate: a destination past the table, a reserved
        // operation, another channel.
        (&["0x04", "0x16", "0x01", "0x05", "0x00"], "rsp=0xc9"),
        (&["0x04", "0x16", "0x01", "0xc1", "0x00"], "rsp=0xcc"),
        (&["0x04", "0x16", "0x02", "0x01", "0x00"], "rsp=0xcc"),
        // PET Acknowledge: 11 bytes.
        (
            &[
                "0x04", "0x17", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0",
            ],
            "rsp=0xc7",
        ),
        // LAN alert parameters: a destination past the table, the count is
        // read-only, an address format other than IPv4.
        (
            &[
                "0x0c", "0x01", "0x01", "0x12", "0x05", "0x00", "0x00", "0x00",
            ],
            "rsp=0xc9",
        ),
        (&["0x0c", "0x01", "0x01", "0x11", "0x02"], "rsp=0x82"),
        (
            &[
                "0x0c", "0x01", "0x01", "0x13", "0x01", "0x10", "0x00", "1", "2", "3", "4", "0",
                "0", "0", "0", "0", "0",
            ],
            "rsp=0xcc",
        ),
    ] {
        let shown = raw(request);
        assert!(shown.contains(code), "{request:?}: {shown}");
    }
    // Set in progress twice: 81h the second time.
    raw(&["0x04", "0x12", "0x00", "0x01"]);
    assert!(raw(&["0x04", "0x12", "0x00", "0x01"]).contains("rsp=0x81"));
    raw(&["0x04", "0x12", "0x00", "0x00"]);
    assert_eq!(pef_config(&suite, &["--checkout"]), before);
}
