//! The audit trail on D-Bus (rbmc-seld): who did what, from where, with
//! what result. Bridges and rbmc-userd record; operators export.
//!
//! `org.rbmc.Audit` at [`AUDIT_PATH`] on [`crate::names::SELD`]
//! ([`AuditProxy`]):
//! - `Record(s source, s user, s address, y channel, s action, s result) ->
//!   t sequence`: appends one record and answers only once it is durable.
//!   `source` is who saw it (`rmcp+`, `kcs`, `userd`, `redfish`), `user` the
//!   account name (empty when none), `address` the client's address (empty
//!   for the host side), `channel` the IPMI channel (0 when none), `action`
//!   what was asked (`login`, `NetFn 00h Cmd 02h`, a D-Bus method name), and
//!   `result` how it ended (`ok`, a completion code, an RMCP+ status). No
//!   field ever holds a secret. Fails with
//!   [`crate::CommonError::InvalidArgument`] for an over-long field and
//!   [`crate::CommonError::InternalFailure`] when it cannot be stored.
//! - `ExportJsonLines() -> s`: every record kept, oldest first, one JSON
//!   object per line (`sequence`, `time` in RFC 3339 UTC, and the fields
//!   above).

use crate::CommonError;

/// The audit trail's object path.
pub const AUDIT_PATH: &str = "/org/rbmc/Audit";

/// Client of `org.rbmc.Audit`.
#[zbus::proxy(
    interface = "org.rbmc.Audit",
    default_service = "org.rbmc.Seld",
    default_path = "/org/rbmc/Audit"
)]
pub trait Audit {
    /// Appends one record; returns its sequence number once it is durable.
    fn record(
        &self,
        source: &str,
        user: &str,
        address: &str,
        channel: u8,
        action: &str,
        result: &str,
    ) -> Result<u64, CommonError>;

    /// Every record kept, oldest first, as one JSON object per line.
    fn export_json_lines(&self) -> Result<String, CommonError>;
}
