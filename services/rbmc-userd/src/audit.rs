//! Records in the audit trail kept by rbmc-seld (`org.rbmc.Audit`): what
//! userd itself saw (lockouts) and the changes asked of it over D-Bus. A
//! missing or slow logger is logged, never fatal, and waited for at most
//! 2 s.

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
    rbmc_daemon::caller::record_audit(conn, source, user, "", channel, action, result).await;
}
