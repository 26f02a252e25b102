//! Who asked, for the audit trail: a D-Bus caller is named by its uid, as
//! the bus daemon vouches for it (`GetConnectionUnixUser`), never by what
//! it says of itself. The uid is asked before the change is made, while
//! the caller is surely still connected.

use zbus::message::Header;

use crate::audit;

/// The caller of `header`: `uid N`, or its bus name if the bus daemon
/// cannot say.
pub async fn who(conn: &zbus::Connection, header: &Header<'_>) -> String {
    let Some(sender) = header.sender().map(|s| s.to_owned()) else {
        return String::new();
    };
    let uid = async {
        zbus::fdo::DBusProxy::new(conn)
            .await?
            .get_connection_unix_user(sender.clone().into())
            .await
            .map_err(zbus::Error::from)
    };
    match uid.await {
        Ok(uid) => format!("uid {uid}"),
        Err(_) => format!("bus name {sender}"),
    }
}

/// Records `action` by `who` with its outcome, off the caller's path (the
/// reply does not wait for the trail).
pub fn audit_call<T, E: std::fmt::Display>(
    conn: &zbus::Connection,
    who: String,
    action: String,
    outcome: &Result<T, E>,
) {
    let conn = conn.clone();
    let result = match outcome {
        Ok(_) => "ok".to_owned(),
        Err(err) => format!("refused: {err}"),
    };
    tokio::spawn(async move {
        audit::audit_as(&conn, "dbus", &who, 0, &action, &result).await;
    });
}
