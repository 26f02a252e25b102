//! The BMC through Redfish (issue 18): `Manager.Reset` is IPMI's cold
//! reset, asked of rbmc-sensord over D-Bus: every daemon of the suite, the
//! Redfish bridge too, exits cleanly and is started again, and both
//! protocols answer after it. Only ConfigureManager may ask.

use std::time::Duration;

use rbmc_e2e::{
    redfish::{redfish, redfish_as},
    wait_for, Suite,
};

const DAEMONS: [&str; 7] = [
    "rbmc-netipmid",
    "rbmc-kcsd",
    "rbmc-redfishd",
    "rbmc-powerd",
    "rbmc-seld",
    "rbmc-userd",
    "rbmc-sensord",
];
const RESET: &str = "/redfish/v1/Managers/bmc/Actions/Manager.Reset";

#[test]
fn manager_reset_restarts_every_daemon_and_both_protocols_answer_after() {
    let suite = Suite::start();
    let created = redfish(
        &suite,
        &[
            "post",
            "/redfish/v1/AccountService/Accounts",
            r#"{"UserName": "op1", "Password": "op1-pass-2026", "RoleId": "Operator"}"#,
        ],
    );
    assert_eq!(created["status"], 201, "{created}");
    let refused =
        redfish_as(&suite, "op1", "op1-pass-2026", &["post", RESET, "{}"]).expect("op1 logs in");
    assert_eq!(refused["status"], 403, "{refused}");
    let bad = redfish(&suite, &["post", RESET, r#"{"ResetType": "PowerCycle"}"#]);
    assert_eq!(bad["status"], 400, "{bad}");
    assert!(
        bad.to_string().contains("ActionParameterValueNotInList"),
        "{bad}"
    );
    let info = redfish(&suite, &["get", "/redfish/v1/Managers/bmc/ResetActionInfo"]);
    assert_eq!(
        info["body"]["Parameters"][0]["AllowableValues"],
        serde_json::json!(["GracefulRestart", "ForceRestart"]),
        "{info}"
    );

    let before: Vec<Option<i32>> = DAEMONS.iter().map(|d| suite.try_pid_of(d)).collect();
    let reset = redfish(
        &suite,
        &["post", RESET, r#"{"ResetType": "GracefulRestart"}"#],
    );
    assert_eq!(reset["status"], 204, "{reset}");
    wait_for("every daemon restarted", Duration::from_secs(30), || {
        let now: Vec<Option<i32>> = DAEMONS.iter().map(|d| suite.try_pid_of(d)).collect();
        let restarted = before.iter().zip(&now).all(|(b, n)| n.is_some() && b != n);
        let answers = restarted
            && suite.ipmitool(17, &["mc", "info"]).status.success()
            && redfish_as(
                &suite,
                "admin",
                "rbmc-admin",
                &["get", "/redfish/v1/Managers/bmc"],
            )
            .is_ok_and(|r| r["status"] == 200);
        rbmc_e2e::done_or(answers, format!("{before:?} -> {now:?}"))
    });
    assert!(suite
        .log_text()
        .contains("BMC reset requested kind=\"cold\""));
}
