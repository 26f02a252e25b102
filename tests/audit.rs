//! The audit trail (`org.rbmc.Audit` on rbmc-seld) on the suite's bus: a
//! record made with busctl is exported with its fields and a timestamp,
//! reaches the daemon's log, is refused when a field could forge a line,
//! and survives SIGKILL of rbmc-seld with its sequence number never given
//! again.

use std::time::Duration;

use nix::sys::signal::Signal;
use rbmc_contracts::{audit::AuditProxy, CommonError};
use rbmc_e2e::{done_or, run, text, wait_for, Suite};

const AUDIT: [&str; 3] = ["org.rbmc.Seld", "/org/rbmc/Audit", "org.rbmc.Audit"];

/// Records one action with busctl; its sequence number.
fn record_with_busctl(suite: &Suite, user: &str, action: &str) -> u64 {
    let mut args = vec!["call"];
    args.extend(AUDIT);
    args.extend([
        "Record",
        "sssyss",
        "rmcp+",
        user,
        "192.0.2.7",
        "1",
        action,
        "ok",
    ]);
    let out = suite.busctl(&args);
    out.trim()
        .strip_prefix("t ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("Record answered {out:?}"))
}

/// The exported line of record `sequence`.
fn line_of(export: &str, sequence: u64) -> Option<String> {
    let prefix = format!("{{\"sequence\":{sequence},");
    export
        .lines()
        .find(|line| line.starts_with(&prefix))
        .map(str::to_owned)
}

#[test]
fn a_record_is_exported_and_survives_sigkill() {
    let suite = Suite::start();
    let sequence = record_with_busctl(&suite, "admin", "login");
    let exported = suite.audit_export();
    let line = line_of(&exported, sequence).unwrap_or_else(|| panic!("{exported}"));
    assert!(line.contains(",\"time\":\"20"), "{line}");
    assert!(line.contains("Z\",\"source\":\"rmcp+\",\"user\":\"admin\",\"address\":\"192.0.2.7\",\"channel\":1,\"action\":\"login\",\"result\":\"ok\"}"), "{line}");
    // The record is also an event of the daemon's log.
    wait_for("the audit event in the log", Duration::from_secs(5), || {
        let log = suite.log_text();
        let event = log
            .lines()
            .any(|l| l.contains("rbmc_audit") && l.contains(&format!("sequence={sequence} ")));
        done_or(event, log)
    });

    // A field that would forge a second line is refused, and nothing is
    // kept.
    let refused = suite.on_bus(async |conn| {
        let audit = AuditProxy::new(conn).await?;
        Ok::<_, CommonError>(
            audit
                .record("rmcp+", "admin\n{\"sequence\":1}", "", 1, "login", "ok")
                .await,
        )
    });
    assert!(
        matches!(refused, Err(CommonError::InvalidArgument(_))),
        "{refused:?}"
    );

    // SIGKILL: the acknowledged record is there when seld is back.
    let pid = suite.pid_of("rbmc-seld");
    suite.signal("rbmc-seld", Signal::SIGKILL);
    wait_for("seld restarted", Duration::from_secs(15), || {
        let now = suite.pid_of("rbmc-seld");
        done_or(now != pid, format!("pid {now} (was {pid})"))
    });
    // A call sent while the bus still routes the name to the dead process
    // is lost; a short timeout lets the next check try again.
    let address = format!("--address={}", suite.bus_address());
    wait_for(
        "seld serving the audit trail again",
        Duration::from_secs(15),
        || {
            let mut args = vec![address.as_str(), "--no-pager", "--timeout=2", "call"];
            args.extend(AUDIT);
            args.push("ExportJsonLines");
            let out = run("busctl", &args);
            done_or(out.status.success(), text(&out))
        },
    );
    let after = suite.audit_export();
    assert_eq!(line_of(&after, sequence), Some(line), "{after}");
    assert!(
        suite.log_text().contains("rbmc-seld died"),
        "{}",
        suite.log_text()
    );
    // Numbering goes on after the restart.
    let next = record_with_busctl(&suite, "operator", "chassis power on");
    assert!(next > sequence, "{next} after {sequence}");
    let after = suite.audit_export();
    let next_line = line_of(&after, next).unwrap_or_else(|| panic!("{after}"));
    assert!(
        next_line.contains("\"user\":\"operator\"")
            && next_line.contains("\"action\":\"chassis power on\""),
        "{next_line}"
    );
}
