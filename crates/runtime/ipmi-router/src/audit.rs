//! What a bridge tells the audit trail (`org.rbmc.Audit`, kept by
//! rbmc-seld): every login, and every command that changes the BMC's or
//! the host's state, with who asked, from where, and how it ended.
//!
//! [`Auditor`] is a bounded queue drained by one task, so a bridge never
//! waits on the trail: a request is answered first, then recorded. When
//! the queue is full (a flood, or rbmc-seld away) records are dropped,
//! counted, and the count logged; nothing else slows down.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use ipmi_wire::{CompletionCode, NetFn};
use rbmc_contracts::audit::AuditProxy;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Records waiting for rbmc-seld.
const QUEUE: usize = 256;

/// The commands that change state: recorded whoever sends them. Reads,
/// reservations and session housekeeping are not (IPMI v2.0 Appendix G).
pub fn changes_state(netfn: NetFn, cmd: u8) -> bool {
    let list: &[u8] = match netfn {
        // Chassis Control, Identify, Set Power Restore Policy, Set System
        // Boot Options.
        NetFn::CHASSIS => &[0x02, 0x04, 0x06, 0x08],
        // Platform Event Message, Set Sensor Hysteresis, Thresholds,
        // Event Enable.
        NetFn::SENSOR_EVENT => &[0x02, 0x24, 0x26, 0x28],
        // Set Watchdog Timer, Set BMC Global Enables, Clear Message Flags,
        // Set Channel Access, Set User Access, Name, Password, Activate
        // and Deactivate Payload, Set User Payload Access, Set System Info.
        NetFn::APP => &[
            0x24, 0x2E, 0x30, 0x40, 0x43, 0x45, 0x47, 0x48, 0x49, 0x4C, 0x58,
        ],
        // Write FRU Data, Add, Delete and Clear SEL, Set SEL Time and UTC
        // offset.
        NetFn::STORAGE => &[0x12, 0x44, 0x46, 0x47, 0x49, 0x5D],
        // Set LAN and SOL Configuration Parameters.
        NetFn::TRANSPORT => &[0x01, 0x21],
        _ => &[],
    };
    list.contains(&cmd)
}

/// One record, as `org.rbmc.Audit.Record` takes it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AuditRecord {
    /// The bridge: `rmcp+`, `kcs`.
    pub source: &'static str,
    /// The account name (empty when none).
    pub user: String,
    /// The client's address (empty for the host side).
    pub address: String,
    /// The IPMI channel.
    pub channel: u8,
    /// What was asked.
    pub action: String,
    /// How it ended.
    pub result: String,
}

impl AuditRecord {
    /// A command and its outcome.
    pub fn command(
        source: &'static str,
        user: String,
        address: String,
        channel: u8,
        netfn: NetFn,
        cmd: u8,
        result: Result<(), CompletionCode>,
    ) -> Self {
        Self {
            source,
            user,
            address,
            channel,
            action: format!("NetFn {:02X}h Cmd {cmd:02X}h", netfn.0),
            result: match result {
                Ok(()) => "ok".to_owned(),
                Err(cc) => format!("completion code {:02X}h", cc.0),
            },
        }
    }
}

/// The way to the audit trail.
#[derive(Clone, Debug)]
pub struct Auditor {
    queue: mpsc::Sender<AuditRecord>,
    dropped: Arc<AtomicU64>,
}

impl Auditor {
    /// Starts the task that hands records to rbmc-seld over `conn`.
    pub fn spawn(conn: zbus::Connection) -> Self {
        let (queue, mut records) = mpsc::channel::<AuditRecord>(QUEUE);
        tokio::spawn(async move {
            let proxy = match AuditProxy::new(&conn).await {
                Ok(proxy) => proxy,
                Err(err) => {
                    warn!(%err, "no audit trail: records are dropped");
                    return;
                }
            };
            while let Some(r) = records.recv().await {
                let sent = proxy
                    .record(
                        r.source, &r.user, &r.address, r.channel, &r.action, &r.result,
                    )
                    .await;
                if let Err(err) = sent {
                    debug!(%err, action = %r.action, "audit record not written");
                }
            }
        });
        Self::with_queue(queue)
    }

    /// An auditor over a queue the caller drains (tests).
    pub fn with_queue(queue: mpsc::Sender<AuditRecord>) -> Self {
        Self {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues `record`, or counts it dropped when the queue is full.
    pub fn record(&self, record: AuditRecord) {
        if self.queue.try_send(record).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                warn!(dropped, "audit queue full: records dropped");
            }
        }
    }

    /// Records a command if it changes state.
    #[allow(clippy::too_many_arguments)]
    pub fn command(
        &self,
        source: &'static str,
        user: String,
        address: String,
        channel: u8,
        netfn: NetFn,
        cmd: u8,
        result: Result<(), CompletionCode>,
    ) {
        if changes_state(netfn, cmd) {
            self.record(AuditRecord::command(
                source, user, address, channel, netfn, cmd, result,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_recorded_and_reads_are_not() {
        assert!(changes_state(NetFn::CHASSIS, 0x02));
        assert!(changes_state(NetFn::APP, 0x47));
        assert!(changes_state(NetFn::TRANSPORT, 0x01));
        assert!(!changes_state(NetFn::CHASSIS, 0x01));
        assert!(!changes_state(NetFn::APP, 0x01));
        assert!(!changes_state(NetFn::STORAGE, 0x43));
    }

    #[tokio::test]
    async fn a_full_queue_drops_rather_than_waits() {
        let (queue, mut records) = mpsc::channel(1);
        let auditor = Auditor::with_queue(queue);
        let off = |user: &str| {
            AuditRecord::command(
                "rmcp+",
                user.into(),
                "127.0.0.1".into(),
                1,
                NetFn::CHASSIS,
                2,
                Ok(()),
            )
        };
        auditor.record(off("a"));
        auditor.record(off("b"));
        assert_eq!(records.recv().await.unwrap().user, "a");
        assert!(records.try_recv().is_err());
        assert_eq!(auditor.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(off("a").action, "NetFn 00h Cmd 02h");
        assert_eq!(
            AuditRecord::command(
                "kcs",
                String::new(),
                String::new(),
                15,
                NetFn::APP,
                0x47,
                Err(CompletionCode(0xCC))
            )
            .result,
            "completion code CCh"
        );
    }
}
