//! Records in the audit trail kept by rbmc-seld (`org.rbmc.Audit`): what
//! userd itself saw (lockouts) and the changes asked of it over D-Bus. A
//! missing or slow logger is logged, never fatal, and waited for at most
//! 2 s.

use rbmc_contracts::audit::AuditProxy;
use tracing::debug;

/// Records an account event in the audit trail kept by rbmc-seld; a
/// missing logger is logged, never fatal.
pub async fn audit(conn: &zbus::Connection, user: &str, channel: u8, action: &str, result: &str) {
    audit_as(conn, "userd", user, channel, action, result).await;
}

/// Records an event seen by `source` in the audit trail.
pub async fn audit_as(
    conn: &zbus::Connection,
    source: &str,
    user: &str,
    channel: u8,
    action: &str,
    result: &str,
) {
    let recorded = async {
        let proxy = AuditProxy::new(conn).await.map_err(|e| e.to_string())?;
        proxy
            .record(source, user, "", channel, action, result)
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(2), recorded).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => debug!(%err, "audit record not written"),
        Err(_) => debug!("audit record not written: rbmc-seld did not answer"),
    }
}
