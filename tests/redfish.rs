//! Redfish beside IPMI (issue 18): rbmc-redfishd serves the same BMC over
//! HTTPS, driven by DMTF's python `redfish` library (in the venv
//! tests/run.sh makes) and checked against what ipmitool sees of the same
//! daemons. Refusals are checked with curl, a second real client, for
//! their status and Base registry message, and the daemon keeps serving
//! after each. DMTF's service validator crawls the whole service against
//! DMTF's schemas and must find no error.

use std::{process::Command, time::Duration};

use rbmc_e2e::{
    redfish::{curl, message_id, redfish, url},
    repo_root, text, wait_for, Suite, PASSWORD, USER,
};

fn ipmitool_ok(suite: &Suite, args: &[&str]) -> String {
    let output = suite.ipmitool(17, args);
    assert!(
        output.status.success(),
        "ipmitool {args:?}: {}",
        text(&output)
    );
    text(&output)
}

#[test]
fn a_session_reads_every_sensor_as_ipmitool_does() {
    let suite = Suite::start();
    // Stop simulated time: the readings hold still while both clients read.
    suite.simulator("Pause", "b", &["true"]);
    wait_for(
        "both clients to read the same values",
        Duration::from_secs(20),
        || {
            let redfish = redfish(&suite, &["sensors"]);
            let list = ipmitool_ok(&suite, &["sensor", "list"]);
            let mut compared = 0;
            for line in list.lines() {
                let fields: Vec<&str> = line.split('|').map(str::trim).collect();
                let (Some(name), Some(Ok(reading))) =
                    (fields.first(), fields.get(1).map(|r| r.parse::<f64>()))
                else {
                    continue;
                };
                let Some(sensor) = redfish.get(*name) else {
                    return Err(format!("Redfish has no sensor {name:?}: {redfish}"));
                };
                let over_redfish = sensor["Reading"]
                    .as_f64()
                    .ok_or_else(|| format!("{name}: no Redfish reading in {sensor}"))?;
                let span = sensor["ReadingRangeMax"].as_f64().unwrap_or(255.0)
                    - sensor["ReadingRangeMin"].as_f64().unwrap_or(0.0);
                // One step of the SDR's 8-bit conversion over the range, twice:
                // ipmitool shows the reading as the SDR converts it.
                let resolution = span / 255.0 * 2.0;
                if (over_redfish - reading).abs() > resolution {
                    return Err(format!(
                    "{name}: Redfish {over_redfish}, ipmitool {reading} (resolution {resolution})"
                ));
                }
                compared += 1;
            }
            if compared < 10 {
                return Err(format!("only {compared} sensors compared:\n{list}"));
            }
            Ok(())
        },
    );
}

#[test]
fn reset_powers_the_host_off_and_on_as_ipmitool_sees_it() {
    let suite = Suite::start();
    let reset = "/redfish/v1/Systems/system/Actions/ComputerSystem.Reset";
    for (reset_type, status) in [("On", "on"), ("ForceOff", "off"), ("On", "on")] {
        let reply = redfish(
            &suite,
            &[
                "post",
                reset,
                &format!(r#"{{"ResetType": "{reset_type}"}}"#),
            ],
        );
        assert_eq!(reply["status"], 204, "{reset_type}: {reply}");
        wait_for(
            &format!("chassis power {status} after {reset_type}"),
            Duration::from_secs(20),
            || {
                let seen = ipmitool_ok(&suite, &["chassis", "power", "status"]);
                rbmc_e2e::done_or(seen.contains(&format!("is {status}")), seen)
            },
        );
        let system = redfish(&suite, &["get", "/redfish/v1/Systems/system"]);
        let want = if status == "on" { "On" } else { "Off" };
        wait_for(
            "Redfish's PowerState to follow",
            Duration::from_secs(10),
            || {
                let system = redfish(&suite, &["get", "/redfish/v1/Systems/system"]);
                let state = system["body"]["PowerState"].clone();
                rbmc_e2e::done_or(state == want, system)
            },
        );
        let _ = system;
    }
    let bad = redfish(&suite, &["post", reset, r#"{"ResetType": "Explode"}"#]);
    assert_eq!(bad["status"], 400, "{bad}");
    assert!(
        bad.to_string().contains("ActionParameterValueNotInList"),
        "{bad}"
    );
}

#[test]
fn a_one_time_pxe_override_is_what_ipmitool_reads_in_boot_flags() {
    let suite = Suite::start();
    let patched = redfish(
        &suite,
        &[
            "patch",
            "/redfish/v1/Systems/system",
            r#"{"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once", "BootSourceOverrideMode": "UEFI"}}"#,
        ],
    );
    assert_eq!(patched["status"], 200, "{patched}");
    let boot = &patched["body"]["Boot"];
    assert_eq!(boot["BootSourceOverrideTarget"], "Pxe", "{patched}");
    assert_eq!(boot["BootSourceOverrideEnabled"], "Once", "{patched}");
    assert_eq!(boot["BootSourceOverrideMode"], "UEFI", "{patched}");
    let flags = ipmitool_ok(&suite, &["chassis", "bootparam", "get", "5"]);
    assert!(flags.contains("Boot Flag Valid"), "{flags}");
    assert!(flags.contains("Force PXE"), "{flags}");
    assert!(flags.contains("Options apply to only next boot"), "{flags}");
    assert!(flags.contains("BIOS EFI boot"), "{flags}");
    // And back: no override.
    let cleared = redfish(
        &suite,
        &[
            "patch",
            "/redfish/v1/Systems/system",
            r#"{"Boot": {"BootSourceOverrideEnabled": "Disabled"}}"#,
        ],
    );
    assert_eq!(
        cleared["body"]["Boot"]["BootSourceOverrideEnabled"], "Disabled",
        "{cleared}"
    );
    // The flags' valid bit is clear: the next boot is a normal one.
    let flags = ipmitool_ok(&suite, &["chassis", "bootparam", "get", "5"]);
    assert!(flags.contains("Boot Flag Invalid"), "{flags}");
}

#[test]
fn refusals_carry_their_status_and_base_message_and_the_service_goes_on() {
    let suite = Suite::start();
    let system = url(&suite, "/redfish/v1/Systems/system");
    let admin = format!("{USER}:{PASSWORD}");
    // No credentials: 401, with how to authenticate.
    let (status, headers, body) = curl(&[&system]);
    assert_eq!(status, 401, "{body}");
    assert!(
        headers.to_lowercase().contains("www-authenticate: basic"),
        "{headers}"
    );
    assert_eq!(message_id(&body), "Base.1.20.0.NoValidSession");
    // Wrong password: 401 too, and neither it nor a token is echoed.
    let (status, _, body) = curl(&["-u", "admin:wrong-password", &system]);
    assert_eq!(status, 401);
    assert!(!body.contains("wrong-password"), "{body}");
    let patch = |body: &str| {
        curl(&[
            "-u",
            &admin,
            "-X",
            "PATCH",
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            &system,
        ])
    };
    let (status, _, body) = patch("{\"Boot\": ");
    assert_eq!(
        (status, message_id(&body).as_str()),
        (400, "Base.1.20.0.MalformedJSON"),
        "{body}"
    );
    let (status, _, body) = patch(r#"{"BogusProp": 1}"#);
    assert_eq!(
        (status, message_id(&body).as_str()),
        (400, "Base.1.20.0.PropertyUnknown"),
        "{body}"
    );
    assert!(body.contains("BogusProp"), "{body}");
    let (status, _, body) = patch(r#"{"PowerState": "On"}"#);
    assert_eq!(
        (status, message_id(&body).as_str()),
        (400, "Base.1.20.0.PropertyNotWritable"),
        "{body}"
    );
    // A body past max-body-bytes (64 KiB): 413.
    let big = format!(
        r#"{{"Boot": {{"BootSourceOverrideTarget": "{}"}}}}"#,
        "x".repeat(70_000)
    );
    let (status, _, body) = patch(&big);
    assert_eq!(
        (status, message_id(&body).as_str()),
        (413, "Base.1.20.0.PayloadTooLarge"),
        "{body}"
    );
    // A change against a stale version: 412, and nothing changes; against
    // the current one it goes through.
    let (status, headers, _) = curl(&["-u", &admin, &system]);
    assert_eq!(status, 200);
    let etag = headers
        .lines()
        .find_map(|l| {
            l.to_lowercase()
                .starts_with("etag:")
                .then(|| l[5..].trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no ETag in {headers}"));
    let conditional = |etag: &str| {
        curl(&[
            "-u",
            &admin,
            "-X",
            "PATCH",
            "-H",
            "Content-Type: application/json",
            "-H",
            &format!("If-Match: {etag}"),
            "-d",
            r#"{"Boot": {"BootSourceOverrideTarget": "Hdd", "BootSourceOverrideEnabled": "Once"}}"#,
            &system,
        ])
    };
    let (status, _, body) = conditional("\"0123456789abcdef\"");
    assert_eq!(
        (status, message_id(&body).as_str()),
        (412, "Base.1.20.0.PreconditionFailed"),
        "{body}"
    );
    let flags = ipmitool_ok(&suite, &["chassis", "bootparam", "get", "5"]);
    assert!(
        !flags.contains("Force Boot from default Hard-Drive"),
        "{flags}"
    );
    let (status, _, body) = conditional(&etag);
    assert_eq!(status, 200, "{body}");
    let flags = ipmitool_ok(&suite, &["chassis", "bootparam", "get", "5"]);
    assert!(
        flags.contains("Force Boot from default Hard-Drive"),
        "{flags}"
    );
    // A method the resource does not have: 405 naming those it does.
    let (status, headers, _) = curl(&["-u", &admin, "-X", "DELETE", &system]);
    assert_eq!(status, 405);
    assert!(
        headers.contains("Allow: GET, HEAD, PATCH") || headers.contains("allow: GET, HEAD, PATCH"),
        "{headers}"
    );
    // Plain HTTP is refused, never served.
    let plain = Command::new("curl")
        .args([
            "-s",
            &format!("http://127.0.0.1:{}/redfish/v1", suite.redfish_port),
        ])
        .output()
        .expect("curl");
    assert!(text(&plain).contains("HTTPS only"), "{}", text(&plain));
    // A ReadOnly account (IPMI privilege User) may read but not change.
    for args in [
        &["user", "set", "name", "3", "viewer"][..],
        &["user", "set", "password", "3", "viewer-pw-2026"],
        &["user", "priv", "3", "2", "1"],
        &["user", "enable", "3"],
    ] {
        ipmitool_ok(&suite, args);
    }
    let (status, _, body) = curl(&["-u", "viewer:viewer-pw-2026", &system]);
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = curl(&[
        "-u",
        "viewer:viewer-pw-2026",
        "-X",
        "PATCH",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"Boot": {"BootSourceOverrideTarget": "Pxe"}}"#,
        &system,
    ]);
    assert_eq!(
        (status, message_id(&body).as_str()),
        (403, "Base.1.20.0.InsufficientPrivilege"),
        "{body}"
    );
    // After all of it the service answers.
    let root = redfish(&suite, &["get", "/redfish/v1"]);
    assert_eq!(root["status"], 200, "{root}");
}

/// DMTF's schema bundle (`../shared/redfish-csdl` beside the repository,
/// or `RBMC_REDFISH_CSDL`).
fn csdl_bundle() -> std::path::PathBuf {
    let bundle = std::env::var_os("RBMC_REDFISH_CSDL").map_or_else(
        || repo_root().join("../shared/redfish-csdl"),
        std::path::PathBuf::from,
    );
    assert!(
        bundle.join("ServiceRoot_v1.xml").exists(),
        "DMTF's CSDL bundle is not at {} (set RBMC_REDFISH_CSDL)",
        bundle.display()
    );
    bundle
}

#[test]
fn dmtfs_service_validator_finds_no_error() {
    let suite = Suite::start();
    // A SEL entry, so the crawl checks a LogEntry too.
    ipmitool_ok(&suite, &["event", "1"]);
    let logs = suite.state_dir.join("service-validator");
    let validator = repo_root().join("target/redfish-venv/bin/rf_service_validator");
    // --skipschema: validate against the bundle as it is; the validator
    // would otherwise fetch schemas the $metadata names into it.
    let output = Command::new(validator)
        .current_dir(&suite.state_dir)
        .args(["-r", &url(&suite, ""), "-u", USER, "-p", PASSWORD])
        .args(["--authtype", "Session", "--skipschema"])
        .arg("--schema_directory")
        .arg(csdl_bundle())
        .arg("--logdir")
        .arg(&logs)
        .output()
        .expect("rf_service_validator");
    let report = text(&output);
    // Its exit status is 1 when any check failed (or the login did).
    assert!(
        output.status.success(),
        "the service validator failed:\n{report}"
    );
    let totals = report
        .lines()
        .skip_while(|l| !l.contains("PASS"))
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!("{totals}");
}

#[test]
fn dmtfs_protocol_validator_finds_no_failure() {
    let suite = Suite::start();
    let reports = suite.state_dir.join("protocol-validator");
    let validator = repo_root().join("target/redfish-venv/bin/rf_protocol_validator");
    // With a CA bundle in the environment, python's requests verifies the
    // self-signed certificate despite --no-cert-check.
    let output = Command::new(validator)
        .current_dir(&suite.state_dir)
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .args(["-r", &url(&suite, ""), "-u", USER, "-p", PASSWORD])
        .args(["--no-cert-check", "--avoid-http-redirect"])
        .arg("--report-dir")
        .arg(&reports)
        .output()
        .expect("rf_protocol_validator");
    let report = text(&output);
    let summary = report
        .lines()
        .find(|l| l.starts_with("Summary"))
        .unwrap_or_default()
        .to_owned();
    // Its exit status is 1 when any assertion failed. What it could not
    // test (event subscriptions, SSE, SSDP, account changes) is listed in
    // docs/REDFISH.md.
    assert!(
        output.status.success(),
        "the protocol validator failed: {summary}\n{report}"
    );
    assert!(summary.contains("FAIL: 0"), "{summary}");
    eprintln!("{summary}");
}
