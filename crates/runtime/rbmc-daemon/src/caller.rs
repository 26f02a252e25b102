//! Who may change a daemon's state over D-Bus, and the audit record of each
//! change (issue 16, point 1).
//!
//! The system bus's policy is the first gate; this is the second, in the
//! daemon, so a policy mistake cannot hand the host's power to any local
//! user. A caller is named by its uid as the bus daemon vouches for it
//! (`GetConnectionUnixUser`), never by what it says of itself, and may
//! change state only if that uid is root, the daemon's own (the
//! developer's suite runs every daemon and its clients as one user), or the
//! Redfish bridge's (`rbmc-redfishd`, which authenticates its own callers
//! and checks their Redfish privilege before it asks, as the IPMI bridges
//! do before they route a command). Each
//! change asked for, allowed or not, is recorded in the audit trail
//! (`org.rbmc.Audit` on rbmc-seld) with the caller's uid and the outcome.

use std::os::unix::fs::MetadataExt as _;

use rbmc_contracts::{audit::AuditProxy, CommonError};
use tracing::{debug, warn};
use zbus::message::Header;

/// A caller the bus daemon vouched for.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Caller {
    /// Its uid, if the bus daemon could say.
    pub uid: Option<u32>,
    /// Its unique bus name.
    pub bus_name: String,
}

impl Caller {
    /// How the audit trail names it.
    pub fn describe(&self) -> String {
        match self.uid {
            Some(uid) => format!("uid {uid}"),
            None => format!("bus name {}", self.bus_name),
        }
    }
}

/// Who sent the message of `header`, asked of the bus daemon.
pub async fn caller(conn: &zbus::Connection, header: Option<&Header<'_>>) -> Caller {
    let Some(sender) = header.and_then(|h| h.sender()).map(|s| s.to_owned()) else {
        return Caller {
            uid: None,
            bus_name: String::new(),
        };
    };
    let uid = async {
        zbus::fdo::DBusProxy::new(conn)
            .await?
            .get_connection_unix_user(sender.clone().into())
            .await
            .map_err(zbus::Error::from)
    };
    Caller {
        uid: uid.await.ok(),
        bus_name: sender.to_string(),
    }
}

/// The daemons that may change other daemons' state: the Redfish bridge,
/// which checks its callers' privilege itself and then changes state for
/// them, and rbmc-pefd, whose event filters (set by an Administrator over
/// IPMI) power the host down, cycle or reset it.
pub const TRUSTED_BRIDGE_USERS: [&str; 2] = ["rbmc-redfishd", "rbmc-pefd"];

/// The uids that may change state: root, this process's own, and the
/// [`TRUSTED_BRIDGE_USERS`] that exist here (`/etc/passwd`).
pub fn trusted_uids() -> Vec<u32> {
    let own = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    let mut uids = vec![0];
    uids.extend(own.filter(|uid| *uid != 0));
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    uids.extend(passwd_uids(&passwd, &TRUSTED_BRIDGE_USERS));
    uids
}

/// The uids of `names` in a passwd file's text.
fn passwd_uids(passwd: &str, names: &[&str]) -> Vec<u32> {
    passwd
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let uid = fields.nth(1)?.parse().ok()?;
            names.contains(&name).then_some(uid)
        })
        .collect()
}

/// Whether `caller` may change state: its uid is known and trusted.
pub fn is_trusted(caller: &Caller, trusted: &[u32]) -> bool {
    caller.uid.is_some_and(|uid| trusted.contains(&uid))
}

/// Checks the caller of a state-changing call: `Ok` with the caller if it
/// is trusted, otherwise `InsufficientPermission` (and the refusal is
/// audited). `action` names the change for the trail.
pub async fn authorize(
    conn: &zbus::Connection,
    header: Option<&Header<'_>>,
    action: &str,
) -> Result<Caller, CommonError> {
    let who = caller(conn, header).await;
    if is_trusted(&who, &trusted_uids()) {
        return Ok(who);
    }
    let refusal = CommonError::InsufficientPermission(format!(
        "{} may not change this (only root and the daemon's own user may)",
        who.describe()
    ));
    warn!(caller = %who.describe(), action, "state change refused: caller not trusted");
    audit(conn, &who, action, &Err::<(), _>(&refusal));
    Err(refusal)
}

/// A state change asked over D-Bus, whole: checks the caller
/// ([`authorize`]), makes the change, and audits it with its outcome.
pub async fn checked<T, F>(
    conn: &zbus::Connection,
    header: Option<&Header<'_>>,
    action: &str,
    change: impl FnOnce() -> F,
) -> Result<T, CommonError>
where
    F: std::future::Future<Output = Result<T, CommonError>>,
{
    let who = authorize(conn, header, action).await?;
    let outcome = change().await;
    audit(conn, &who, action, &outcome);
    outcome
}

/// Records `action` by `who` and its outcome in the audit trail, off the
/// caller's path (the reply does not wait for the trail).
pub fn audit<T, E: std::fmt::Display>(
    conn: &zbus::Connection,
    who: &Caller,
    action: &str,
    outcome: &Result<T, E>,
) {
    let result = match outcome {
        Ok(_) => "ok".to_owned(),
        Err(err) => format!("refused: {err}"),
    };
    let (conn, who, action) = (conn.clone(), who.describe(), action.to_owned());
    tokio::spawn(async move {
        record_audit(&conn, "dbus", &who, "", 0, &action, &result).await;
    });
}

/// Appends one record to the audit trail kept by rbmc-seld
/// (`org.rbmc.Audit`), waiting at most 2 s: a missing or slow logger is
/// logged, never fatal. `source` names who saw the event (`dbus`, a
/// daemon), `address` where it came from, `channel` the IPMI channel (0
/// when none).
pub async fn record_audit(
    conn: &zbus::Connection,
    source: &str,
    user: &str,
    address: &str,
    channel: u8,
    action: &str,
    result: &str,
) {
    let recorded = async {
        AuditProxy::new(conn)
            .await?
            .record(source, user, address, channel, action, result)
            .await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(2), recorded).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => debug!(%err, "audit record not written"),
        Err(_) => debug!("audit record not written: rbmc-seld did not answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_bridges_are_read_from_passwd() {
        let passwd = "root:x:0:0::/root:/bin/sh\n\
                      rbmc-redfishd:x:991:991::/nonexistent:/bin/false\n\
                      rbmc-redfishd-evil:x:992:992::/:/bin/false\n\
                      nobody:x:65534:65534::/:/bin/false\n\
                      broken line\n";
        assert_eq!(passwd_uids(passwd, &TRUSTED_BRIDGE_USERS), vec![991]);
        assert!(passwd_uids("", &TRUSTED_BRIDGE_USERS).is_empty());
    }

    #[test]
    fn only_root_and_the_daemons_own_uid_are_trusted() {
        let trusted = [0, 1000];
        let with = |uid| Caller {
            uid,
            bus_name: ":1.7".into(),
        };
        assert!(is_trusted(&with(Some(0)), &trusted));
        assert!(is_trusted(&with(Some(1000)), &trusted));
        assert!(!is_trusted(&with(Some(65534)), &trusted));
        assert!(!is_trusted(&with(None), &trusted), "unknown is untrusted");
        assert_eq!(with(Some(65534)).describe(), "uid 65534");
    }

    #[test]
    fn the_trusted_set_holds_root_and_this_process() {
        let trusted = trusted_uids();
        assert_eq!(trusted[0], 0);
        let own = std::fs::metadata("/proc/self").unwrap().uid();
        assert!(trusted.contains(&own));
    }
}
