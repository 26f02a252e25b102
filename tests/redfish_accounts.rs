//! Accounts through Redfish (issue 18): the AccountService creates,
//! changes and deletes the same users rbmc-userd serves to IPMI, so an
//! account made with DMTF's `redfish` library logs in with ipmitool, and
//! its role limits it in both protocols. A locked account is refused with
//! 401, and the attempt is in the audit trail.

use std::time::Duration;

use rbmc_e2e::{
    redfish::{curl, message_id, redfish, redfish_as, url},
    text, wait_for, Suite, PASSWORD, USER,
};
use serde_json::Value;

const ACCOUNTS: &str = "/redfish/v1/AccountService/Accounts";

fn status(reply: &Value) -> u64 {
    reply["status"].as_u64().unwrap_or(0)
}

/// ipmitool as `user` at the Operator level (ipmitool asks for
/// Administrator unless told).
fn ipmitool_operator(suite: &Suite, user: &str, password: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["-L", "OPERATOR"];
    all.extend_from_slice(args);
    let output = suite.ipmitool_as(user, password, 17, &all);
    (output.status.success(), text(&output))
}

#[test]
fn an_operator_made_in_redfish_logs_in_over_ipmi_and_may_not_change_users_in_either() {
    let suite = Suite::start();
    let created = redfish(
        &suite,
        &[
            "post",
            ACCOUNTS,
            r#"{"UserName": "op1", "Password": "op1-pass-2026", "RoleId": "Operator"}"#,
        ],
    );
    assert_eq!(status(&created), 201, "{created}");
    assert_eq!(created["body"]["RoleId"], "Operator", "{created}");
    assert_eq!(created["body"]["Enabled"], true, "{created}");
    // The same name again: refused, and nothing changes.
    let again = redfish(
        &suite,
        &[
            "post",
            ACCOUNTS,
            r#"{"UserName": "op1", "Password": "other-pass-2026", "RoleId": "Administrator"}"#,
        ],
    );
    assert_eq!(status(&again), 409, "{again}");
    assert!(
        again.to_string().contains("ResourceAlreadyExists"),
        "{again}"
    );

    // ipmitool sees the account and logs in with it, at Operator and no
    // higher.
    let list = text(&suite.ipmitool(17, &["user", "list"]));
    let row = list
        .lines()
        .find(|l| l.contains(" op1 "))
        .unwrap_or_else(|| panic!("op1 is not in ipmitool's user list:\n{list}"));
    assert!(row.contains("OPERATOR"), "{row}");
    let (ok, seen) = ipmitool_operator(&suite, "op1", "op1-pass-2026", &["chassis", "status"]);
    assert!(ok, "op1 could not log in over IPMI: {seen}");
    let as_admin = suite.ipmitool_as("op1", "op1-pass-2026", 17, &["chassis", "status"]);
    assert!(!as_admin.status.success(), "op1 got Administrator");
    // A user change over IPMI is refused (insufficient privilege).
    let (ok, seen) = ipmitool_operator(
        &suite,
        "op1",
        "op1-pass-2026",
        &["user", "set", "name", "9", "mallory"],
    );
    assert!(!ok, "op1 renamed a user over IPMI: {seen}");
    assert!(
        !text(&suite.ipmitool(17, &["user", "list"])).contains("mallory"),
        "a user was renamed"
    );
    // ...and over Redfish: 403, for another's account and for a new one.
    let promote = redfish_as(
        &suite,
        "op1",
        "op1-pass-2026",
        &[
            "patch",
            &format!("{ACCOUNTS}/op1"),
            r#"{"RoleId": "Administrator"}"#,
        ],
    )
    .expect("op1 logs in to Redfish");
    assert_eq!(status(&promote), 403, "{promote}");
    assert!(
        promote.to_string().contains("InsufficientPrivilege"),
        "{promote}"
    );
    let other = redfish_as(
        &suite,
        "op1",
        "op1-pass-2026",
        &[
            "patch",
            &format!("{ACCOUNTS}/{USER}"),
            r#"{"Enabled": false}"#,
        ],
    )
    .expect("op1 logs in to Redfish");
    assert_eq!(status(&other), 403, "{other}");
    let made = redfish_as(
        &suite,
        "op1",
        "op1-pass-2026",
        &[
            "post",
            ACCOUNTS,
            r#"{"UserName": "op2", "Password": "op2-pass-2026", "RoleId": "Operator"}"#,
        ],
    )
    .expect("op1 logs in to Redfish");
    assert_eq!(status(&made), 403, "{made}");
    // Its own password it may change (ConfigureSelf), and IPMI takes the
    // new one.
    let own = redfish_as(
        &suite,
        "op1",
        "op1-pass-2026",
        &[
            "patch",
            &format!("{ACCOUNTS}/op1"),
            r#"{"Password": "op1-newpass-26"}"#,
        ],
    )
    .expect("op1 logs in to Redfish");
    assert!(matches!(status(&own), 200 | 204), "{own}");
    let (ok, seen) = ipmitool_operator(&suite, "op1", "op1-newpass-26", &["chassis", "status"]);
    assert!(ok, "the new password does not log in over IPMI: {seen}");

    // The administrator demotes it; ipmitool's list follows.
    let demoted = redfish(
        &suite,
        &[
            "patch",
            &format!("{ACCOUNTS}/op1"),
            r#"{"RoleId": "ReadOnly"}"#,
        ],
    );
    assert!(matches!(status(&demoted), 200 | 204), "{demoted}");
    let list = text(&suite.ipmitool(17, &["user", "list"]));
    assert!(
        list.lines()
            .any(|l| l.contains(" op1 ") && l.contains("USER")),
        "{list}"
    );
    // Deleted, it is gone from both.
    let deleted = redfish(&suite, &["delete", &format!("{ACCOUNTS}/op1")]);
    assert_eq!(status(&deleted), 204, "{deleted}");
    let gone = redfish(&suite, &["get", &format!("{ACCOUNTS}/op1")]);
    assert_eq!(status(&gone), 404, "{gone}");
    wait_for(
        "op1 to leave ipmitool's list",
        Duration::from_secs(5),
        || {
            let list = text(&suite.ipmitool(17, &["user", "list"]));
            rbmc_e2e::done_or(!list.contains(" op1 "), list)
        },
    );
    let (ok, _) = ipmitool_operator(&suite, "op1", "op1-newpass-26", &["chassis", "status"]);
    assert!(!ok, "a deleted user logged in over IPMI");
}

#[test]
fn a_new_account_is_checked_whole_and_a_refused_one_leaves_nothing() {
    let suite = Suite::start();
    let admin = format!("{USER}:{PASSWORD}");
    let post = |body: &str| {
        curl(&[
            "-u",
            &admin,
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            &url(&suite, ACCOUNTS),
        ])
    };
    for (body, want) in [
        (
            r#"{"UserName": "bob", "Password": "bob-pass-2026"}"#,
            "PropertyMissing",
        ),
        (
            r#"{"UserName": "bob", "Password": "bob-pass-2026", "RoleId": "God"}"#,
            "PropertyValueNotInList",
        ),
        (
            r#"{"UserName": "bob", "Password": "short", "RoleId": "Operator"}"#,
            "PropertyValueFormatError",
        ),
        (
            r#"{"UserName": "bob", "Password": "bob-pass-2026", "RoleId": "Operator", "Shoe": 1}"#,
            "PropertyUnknown",
        ),
    ] {
        let (code, _, reply) = post(body);
        assert_eq!(
            (code, message_id(&reply)),
            (400, format!("Base.1.20.0.{want}")),
            "{body}: {reply}"
        );
        assert!(!reply.contains("short"), "the password was echoed: {reply}");
    }
    let list = text(&suite.ipmitool(17, &["user", "list"]));
    assert!(
        !list.contains(" bob "),
        "a refused account was made:\n{list}"
    );
    // The policy is the accounts owner's: a longer minimum applies to the
    // next account at once.
    let policy = redfish(
        &suite,
        &[
            "patch",
            "/redfish/v1/AccountService",
            r#"{"MinPasswordLength": 16}"#,
        ],
    );
    assert_eq!(status(&policy), 200, "{policy}");
    assert_eq!(policy["body"]["MinPasswordLength"], 16, "{policy}");
    let (code, _, reply) =
        post(r#"{"UserName": "bob", "Password": "bob-pass-2026", "RoleId": "Operator"}"#);
    assert_eq!(code, 400, "{reply}");
    let (code, headers, reply) =
        post(r#"{"UserName": "bob", "Password": "bob-pass-2026-long", "RoleId": "Operator"}"#);
    assert_eq!(code, 201, "{reply}");
    assert!(
        headers
            .to_lowercase()
            .contains("location: /redfish/v1/accountservice/accounts/bob"),
        "{headers}"
    );
}

#[test]
fn a_locked_account_gets_401_and_the_attempt_is_audited() {
    let suite = Suite::start();
    let policy = redfish(
        &suite,
        &[
            "patch",
            "/redfish/v1/AccountService",
            r#"{"AccountLockoutThreshold": 3, "AccountLockoutDuration": 600}"#,
        ],
    );
    assert_eq!(status(&policy), 200, "{policy}");
    // Failures are forgotten no later than a lock ends (Redfish's rule for
    // the two intervals): a counter reset past the duration is refused,
    // and the policy stays as it was.
    let conflict = redfish(
        &suite,
        &[
            "patch",
            "/redfish/v1/AccountService",
            r#"{"AccountLockoutCounterResetAfter": 900}"#,
        ],
    );
    assert_eq!(status(&conflict), 400, "{conflict}");
    assert!(
        conflict.to_string().contains("PropertyValueConflict"),
        "{conflict}"
    );
    let service = redfish(&suite, &["get", "/redfish/v1/AccountService"]);
    assert_eq!(service["body"]["AccountLockoutDuration"], 600, "{service}");
    assert!(
        service["body"]["AccountLockoutCounterResetAfter"]
            .as_u64()
            .is_some_and(|reset| reset <= 600),
        "{service}"
    );
    let created = redfish(
        &suite,
        &[
            "post",
            ACCOUNTS,
            r#"{"UserName": "carol", "Password": "carol-pass-2026", "RoleId": "ReadOnly"}"#,
        ],
    );
    assert_eq!(status(&created), 201, "{created}");
    let system = url(&suite, "/redfish/v1/Systems/system");
    let (code, _, _) = curl(&["-u", "carol:carol-pass-2026", &system]);
    assert_eq!(code, 200);
    for _ in 0..3 {
        let (code, _, _) = curl(&["-u", "carol:not-her-password", &system]);
        assert_eq!(code, 401);
    }
    // Locked: the right password is refused too, with the Base message.
    let (code, _, body) = curl(&["-u", "carol:carol-pass-2026", &system]);
    assert_eq!(
        (code, message_id(&body).as_str()),
        (401, "Base.1.20.0.NoValidSession"),
        "{body}"
    );
    let account = redfish(&suite, &["get", &format!("{ACCOUNTS}/carol")]);
    assert_eq!(account["body"]["Locked"], true, "{account}");
    wait_for(
        "the refused login of a locked account in the audit trail",
        Duration::from_secs(5),
        || {
            let trail = suite.audit_export();
            let found = trail.lines().any(|line| {
                line.contains("\"carol\"")
                    && line.contains("login (basic)")
                    && line.contains("refused: locked")
            });
            rbmc_e2e::done_or(found, trail)
        },
    );
    // An administrator unlocks it through Redfish, and it logs in again.
    let unlocked = redfish(
        &suite,
        &[
            "patch",
            &format!("{ACCOUNTS}/carol"),
            r#"{"Locked": false}"#,
        ],
    );
    assert!(matches!(status(&unlocked), 200 | 204), "{unlocked}");
    let (code, _, body) = curl(&["-u", "carol:carol-pass-2026", &system]);
    assert_eq!(code, 200, "{body}");
    // The service went on serving throughout.
    let root = redfish(&suite, &["get", "/redfish/v1"]);
    assert_eq!(status(&root), 200, "{root}");
}
