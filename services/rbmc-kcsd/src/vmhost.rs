//! `org.rbmc.Kcsd.Host` at `/org/rbmc/Kcsd/Host`: the VM behind the QEMU
//! link as power hardware, for rbmc-powerd's `qemu` backend.
//!
//! - `Connected` (b): a VM is on the link — to the power controller, the
//!   host has power;
//! - `PowerOff()`, `Reset()`, `SendNmi()`, `GracefulShutdown()`: the VM
//!   protocol's hardware operations, sent on the live link.

use tokio::sync::{mpsc, watch};
use zbus::{fdo, object_server::SignalEmitter};

use ipmi_vm::op;

/// The VM host object.
pub struct VmHostObject {
    /// Operations to send.
    pub ops: mpsc::UnboundedSender<u8>,
    /// Whether a VM is connected.
    pub connected: watch::Receiver<bool>,
}

impl VmHostObject {
    fn send(&self, operation: u8) -> fdo::Result<()> {
        if !*self.connected.borrow() {
            return Err(fdo::Error::Failed(
                "no VM is connected to the QEMU link".into(),
            ));
        }
        self.ops
            .send(operation)
            .map_err(|_| fdo::Error::Failed("the QEMU link is not running".into()))
    }
}

#[zbus::interface(name = "org.rbmc.Kcsd.Host")]
impl VmHostObject {
    /// Whether a VM is connected (and so powered).
    #[zbus(property)]
    fn connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Powers the VM off.
    fn power_off(&self) -> fdo::Result<()> {
        self.send(op::POWER_OFF)
    }

    /// Resets the VM.
    fn reset(&self) -> fdo::Result<()> {
        self.send(op::RESET)
    }

    /// Sends the VM an NMI.
    fn send_nmi(&self) -> fdo::Result<()> {
        self.send(op::SEND_NMI)
    }

    /// Asks the guest to shut down.
    fn graceful_shutdown(&self) -> fdo::Result<()> {
        self.send(op::GRACEFUL_SHUTDOWN)
    }
}

/// Emits `Connected` changes until the link goes away.
pub async fn publish_connected(
    emitter: SignalEmitter<'static>,
    object: zbus::object_server::InterfaceRef<VmHostObject>,
    mut connected: watch::Receiver<bool>,
) {
    while connected.changed().await.is_ok() {
        let obj = object.get().await;
        let _ = obj.connected_changed(&emitter).await;
    }
}
