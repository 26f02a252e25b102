//! Each audit record also goes to the systemd journal in journald's native
//! protocol (systemd's "Native Journal Protocol": one datagram of
//! `KEY=VALUE` lines to `/run/systemd/journal/socket`), so `journalctl
//! SYSLOG_IDENTIFIER=rbmc-audit` lists the trail with its fields as
//! `AUDIT_*`. Best effort: without a journal, or when it is busy, the record
//! is only in the audit log and the daemon's own log.

use std::{
    os::unix::net::UnixDatagram,
    path::{Path, PathBuf},
};

use audit_journal::{record::rfc3339, Record};
use tracing::debug;

/// journald's native socket.
pub const SOCKET: &str = "/run/systemd/journal/socket";

/// A sender to journald's native socket.
#[derive(Debug)]
pub struct Journald {
    socket: Option<UnixDatagram>,
    path: PathBuf,
}

impl Journald {
    /// A sender to the socket at `path`, if it exists now; otherwise every
    /// send does nothing.
    pub fn new(path: &Path) -> Self {
        let socket = path
            .exists()
            .then(|| {
                UnixDatagram::unbound()
                    // Never wait for a busy journal: the record is durable
                    // in the audit log already.
                    .and_then(|socket| socket.set_nonblocking(true).map(|()| socket))
                    .inspect_err(|err| debug!(cause = %err, "no socket for the journal"))
                    .ok()
            })
            .flatten();
        Self {
            socket,
            path: path.to_path_buf(),
        }
    }

    /// Sends `record`; a failure is only logged (debug).
    pub fn send(&self, record: &Record) {
        let Some(socket) = &self.socket else {
            return;
        };
        if let Err(err) = socket.send_to(datagram(record).as_bytes(), &self.path) {
            debug!(cause = %err, sequence = record.sequence, "audit record not sent to the journal");
        }
    }
}

/// The record as native-protocol fields. The values hold no control
/// character (the fields were checked), so each fits the simple
/// `KEY=VALUE\n` form.
pub fn datagram(record: &Record) -> String {
    let f = &record.fields;
    let message = format!(
        "audit #{}: {} {} by {:?} from {:?} on channel {}: {}",
        record.sequence, f.source, f.action, f.user, f.address, f.channel, f.result
    );
    let lines = [
        ("MESSAGE", message),
        // 6: informational (syslog severity, RFC 5424 §6.2.1).
        ("PRIORITY", "6".to_owned()),
        ("SYSLOG_IDENTIFIER", "rbmc-audit".to_owned()),
        ("AUDIT_SEQUENCE", record.sequence.to_string()),
        ("AUDIT_TIME", rfc3339(record.time_ms)),
        ("AUDIT_SOURCE", f.source.clone()),
        ("AUDIT_USER", f.user.clone()),
        ("AUDIT_ADDRESS", f.address.clone()),
        ("AUDIT_CHANNEL", f.channel.to_string()),
        ("AUDIT_ACTION", f.action.clone()),
        ("AUDIT_RESULT", f.result.clone()),
    ];
    lines
        .iter()
        .map(|(key, value)| format!("{key}={value}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use audit_journal::Fields;

    use super::*;

    fn record() -> Record {
        Record {
            sequence: 9,
            time_ms: 0,
            fields: Fields {
                source: "rmcp+".into(),
                user: "admin".into(),
                address: "192.0.2.7".into(),
                channel: 1,
                action: "login".into(),
                result: "ok".into(),
            },
        }
    }

    #[test]
    fn a_record_reaches_a_listening_journal_as_key_value_lines() {
        let dir = std::env::temp_dir().join(format!("rbmc-journald-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("socket");
        let journal = UnixDatagram::bind(&path).unwrap();
        Journald::new(&path).send(&record());
        let mut buf = [0u8; 2048];
        let len = journal.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..len]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("MESSAGE=audit #9: rmcp+ login by \"admin\""));
        for line in [
            "SYSLOG_IDENTIFIER=rbmc-audit",
            "AUDIT_SEQUENCE=9",
            "AUDIT_TIME=1970-01-01T00:00:00.000Z",
            "AUDIT_USER=admin",
            "AUDIT_ADDRESS=192.0.2.7",
            "AUDIT_CHANNEL=1",
            "AUDIT_ACTION=login",
            "AUDIT_RESULT=ok",
        ] {
            assert!(lines.contains(&line), "{line} missing: {text}");
        }
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn without_a_journal_sending_does_nothing() {
        let sender = Journald::new(Path::new("/nonexistent/journal/socket"));
        assert!(sender.socket.is_none());
        sender.send(&record());
    }
}
