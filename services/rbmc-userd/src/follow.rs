//! What follows a change of the accounts: one D-Bus object per user,
//! added, moved and removed as users come, are renamed and go; the
//! `SessionsRevoked` signal for the bridges; and, when failed logins lock a
//! user, a Session Audit event in the SEL (when the policy asks for one)
//! and a record in the audit trail.

use std::collections::BTreeMap;

use ipmi_router::events::SESSION_AUDIT;
use rbmc_contracts::user::user_path;
use tokio::sync::mpsc;
use tracing::warn;
use zbus::object_server::SignalEmitter;

use crate::{
    dbus::Authenticator,
    owner::{AccountsHandle, Changed},
    user_objects::{DeleteUser, UserAttributes, UserPassword},
};

/// The event-only Session Audit sensor (type 2Ah) lockouts are logged on.
pub const SESSION_AUDIT_PATH: &str = SESSION_AUDIT.path;
/// Offset 03h: "invalid password disable".
const INVALID_PASSWORD_DISABLE: u8 = 0x03;

/// Serves the Session Audit sensor's identity.
pub async fn serve_sensor(conn: &zbus::Connection) -> zbus::Result<()> {
    conn.object_server()
        .at(SESSION_AUDIT.path, SESSION_AUDIT.identity())
        .await?;
    Ok(())
}

/// Keeps the per-user objects and the signals in step with the accounts,
/// until the owner task ends.
pub async fn follow(
    conn: zbus::Connection,
    accounts: AccountsHandle,
    mut changes: mpsc::UnboundedReceiver<Changed>,
    lan_channel: u8,
) {
    let mut served: BTreeMap<u8, String> = BTreeMap::new();
    let mut snapshots = accounts.watch();
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        reconcile(&conn, &accounts, &mut served, &snapshot.users).await;
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() { return },
            change = changes.recv() => {
                let Some(change) = change else { return };
                act(&conn, &accounts, &change, &served, lan_channel).await;
            }
        }
    }
}

async fn reconcile(
    conn: &zbus::Connection,
    accounts: &AccountsHandle,
    served: &mut BTreeMap<u8, String>,
    users: &[(u8, String)],
) {
    let server = conn.object_server();
    let wanted: BTreeMap<u8, String> = users.iter().cloned().collect();
    let gone: Vec<(u8, String)> = served
        .iter()
        .filter(|(id, name)| wanted.get(id) != Some(name))
        .map(|(id, name)| (*id, name.clone()))
        .collect();
    for (id, name) in gone {
        let path = user_path(&name);
        let _ = server.remove::<UserAttributes, _>(path.as_str()).await;
        let _ = server.remove::<DeleteUser, _>(path.as_str()).await;
        let _ = server.remove::<UserPassword, _>(path.as_str()).await;
        served.remove(&id);
    }
    for (id, name) in wanted {
        if served.contains_key(&id) {
            continue;
        }
        let path = user_path(&name);
        let added = async {
            server
                .at(
                    path.as_str(),
                    UserAttributes {
                        id,
                        accounts: accounts.clone(),
                    },
                )
                .await?;
            server
                .at(
                    path.as_str(),
                    DeleteUser {
                        id,
                        accounts: accounts.clone(),
                    },
                )
                .await?;
            server
                .at(
                    path.as_str(),
                    UserPassword {
                        id,
                        accounts: accounts.clone(),
                    },
                )
                .await
        };
        match added.await {
            Ok(_) => {
                served.insert(id, name);
            }
            Err(err) => warn!(%err, %path, "cannot serve a user's object"),
        }
    }
}

async fn act(
    conn: &zbus::Connection,
    accounts: &AccountsHandle,
    change: &Changed,
    served: &BTreeMap<u8, String>,
    lan_channel: u8,
) {
    if let Ok(emitter) = SignalEmitter::new(conn, rbmc_contracts::user::AUTHENTICATOR_PATH) {
        for id in &change.revoked {
            if let Err(err) = Authenticator::sessions_revoked(&emitter, *id).await {
                warn!(%err, id, "cannot signal SessionsRevoked");
            }
        }
    }
    for id in &change.locked_now {
        let name = served.get(id).cloned().unwrap_or_default();
        let log_event = accounts
            .with(|a, _, _| a.policy.lockout_event)
            .await
            .unwrap_or(false);
        if log_event {
            // Sensor-specific offset 03h, data 2 the user ID, data 3 the
            // channel (Table 42-3, Session Audit).
            let data = [
                0xA0 | INVALID_PASSWORD_DISABLE,
                id & 0x3F,
                lan_channel & 0x0F,
            ];
            ipmi_router::events::log_event(
                conn,
                "user locked after failed logins",
                SESSION_AUDIT_PATH,
                &data,
                true,
            )
            .await;
        }
        crate::audit::audit(
            conn,
            &name,
            lan_channel,
            "lockout",
            "locked after failed logins",
        )
        .await;
    }
}
