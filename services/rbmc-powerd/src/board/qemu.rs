//! [`Board`] for a QEMU virtual machine on rbmc-kcsd's `ipmi-bmc-extern`
//! link (`org.rbmc.Kcsd.Host`, [`rbmc_contracts::kcsd`]), so development
//! power control acts on a real guest.
//!
//! Power-good is "a VM is connected". A power button press held past half
//! the force-off time is a power off, a short press a graceful shutdown
//! request (the VM protocol cannot power a VM on: a new QEMU does that);
//! the reset button resets the VM and NMI sends one. The link's state is
//! read every 250 ms: this is a development backend, not GPIO, and rbmc-kcsd
//! may come and go.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rbmc_contracts::{kcsd::KcsdHostProxy, CommonError};
use tokio::sync::watch;
use tracing::warn;
use zbus::proxy::CacheProperties;

use super::{Board, BoardError, Inputs, Line};

/// The VM as power hardware.
pub struct QemuBoard {
    conn: zbus::Connection,
    inputs: watch::Sender<Inputs>,
    pressed_at: Mutex<Option<Instant>>,
    force_off: Duration,
}

/// Which VM operation to run.
#[derive(Clone, Copy, Debug)]
enum Operation {
    PowerOff,
    Shutdown,
    Reset,
    Nmi,
}

impl QemuBoard {
    /// Follows the link on `conn`.
    pub fn open(conn: zbus::Connection, force_off: Duration) -> Arc<Self> {
        let (inputs, _) = watch::channel(Inputs::default());
        let board = Arc::new(Self {
            conn,
            inputs,
            pressed_at: Mutex::new(None),
            force_off,
        });
        let watcher = board.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tick.tick().await;
                // Asked afresh each time (no cache): rbmc-kcsd may have
                // restarted since.
                let query = async {
                    KcsdHostProxy::builder(&watcher.conn)
                        .cache_properties(CacheProperties::No)
                        .build()
                        .await?
                        .connected()
                        .await
                };
                let connected = match tokio::time::timeout(Duration::from_secs(1), query).await {
                    Ok(Ok(connected)) => connected,
                    Ok(Err(err)) => {
                        tracing::debug!(cause = %err, "VM link state unknown; taken as off");
                        false
                    }
                    Err(_) => {
                        tracing::debug!("VM link state query timed out; taken as off");
                        false
                    }
                };
                watcher.inputs.send_if_modified(|i| {
                    let changed = i.power_good != connected;
                    i.power_good = connected;
                    changed
                });
            }
        });
        board
    }

    fn run(&self, operation: Operation) {
        let conn = self.conn.clone();
        tokio::spawn(async move {
            let result: Result<(), CommonError> = async {
                let vm = KcsdHostProxy::builder(&conn)
                    .cache_properties(CacheProperties::No)
                    .build()
                    .await?;
                match operation {
                    Operation::PowerOff => vm.power_off().await,
                    Operation::Shutdown => vm.graceful_shutdown().await,
                    Operation::Reset => vm.reset().await,
                    Operation::Nmi => vm.send_nmi().await,
                }
            }
            .await;
            if let Err(err) = result {
                warn!(?operation, cause = %err, "VM operation failed");
            }
        });
    }
}

impl Board for QemuBoard {
    fn set(&self, line: Line, asserted: bool) -> Result<(), BoardError> {
        let on = self.inputs.borrow().power_good;
        match (line, asserted) {
            (Line::PowerButton, true) => {
                *self.pressed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            }
            (Line::PowerButton, false) => {
                let held = self
                    .pressed_at
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .map(|at| at.elapsed())
                    .unwrap_or_default();
                if on {
                    self.run(if held >= self.force_off / 2 {
                        Operation::PowerOff
                    } else {
                        Operation::Shutdown
                    });
                } else {
                    warn!("the VM is off: start it again with QEMU (the link cannot power it on)");
                }
            }
            (Line::ResetButton, false) if on => self.run(Operation::Reset),
            (Line::Nmi, true) if on => self.run(Operation::Nmi),
            _ => {}
        }
        Ok(())
    }

    fn inputs(&self) -> watch::Receiver<Inputs> {
        self.inputs.subscribe()
    }
}
