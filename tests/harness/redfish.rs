//! Redfish clients for the end-to-end tests: DMTF's python `redfish`
//! library (tests/clients/redfish_client.py, in the venv tests/run.sh
//! makes) and curl, a second real client, for what a library hides
//! (status lines, headers, bodies it refuses to send).

use std::process::Command;

use serde_json::Value;

use crate::{repo_root, text, Suite, PASSWORD, USER};

/// Runs tests/clients/redfish_client.py as `user`; its JSON output, or
/// what it printed when it failed.
pub fn redfish_as(
    suite: &Suite,
    user: &str,
    password: &str,
    args: &[&str],
) -> Result<Value, String> {
    let python = repo_root().join("target/redfish-venv/bin/python");
    assert!(
        python.exists(),
        "DMTF's redfish library is missing: tests/run.sh installs it into target/redfish-venv"
    );
    let output = Command::new(python)
        .arg(repo_root().join("tests/clients/redfish_client.py"))
        .arg(suite.redfish_port.to_string())
        .args([user, password])
        .args(args)
        .output()
        .expect("python");
    if !output.status.success() {
        return Err(text(&output));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{e}: {}", text(&output)))
}

/// [`redfish_as`] the dev administrator; panics if the client fails.
pub fn redfish(suite: &Suite, args: &[&str]) -> Value {
    redfish_as(suite, USER, PASSWORD, args).unwrap_or_else(|e| panic!("redfish {args:?}: {e}"))
}

/// curl against the service: `(status, headers, body)`.
pub fn curl(args: &[&str]) -> (u16, String, String) {
    let output = Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    let all = String::from_utf8_lossy(&output.stdout).into_owned();
    let (rest, status) = all.rsplit_once('\n').unwrap_or((&all, "0"));
    let (headers, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    (
        status.trim().parse().unwrap_or(0),
        headers.to_owned(),
        body.to_owned(),
    )
}

/// The service's URL for `path`.
pub fn url(suite: &Suite, path: &str) -> String {
    format!("https://127.0.0.1:{}{path}", suite.redfish_port)
}

/// The first Base registry `MessageId` of an error body (or why there is
/// none).
pub fn message_id(body: &str) -> String {
    serde_json::from_str::<Value>(body).map_or_else(
        |e| format!("not JSON ({e}): {body}"),
        |v| {
            v["error"]["@Message.ExtendedInfo"][0]["MessageId"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        },
    )
}
