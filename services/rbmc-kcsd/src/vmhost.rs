//! `org.rbmc.Kcsd.Host` at `/org/rbmc/Kcsd/Host`: the VM behind the QEMU
//! link as power hardware, for rbmc-powerd's `qemu` backend (the contract
//! and its client are [`rbmc_contracts::kcsd`]).
//!
//! - `Connected` (b): a VM is on the link — to the power controller, the
//!   host has power;
//! - `PowerOff()`, `Reset()`, `SendNmi()`, `GracefulShutdown()`: the VM
//!   protocol's hardware operations, sent on the live link; `Unavailable`
//!   without a VM, `InternalFailure` once the link task has stopped.

use rbmc_contracts::CommonError;
use tokio::sync::{mpsc, watch};
use zbus::object_server::SignalEmitter;

use ipmi_vm::op;

/// The VM host object.
pub struct VmHostObject {
    /// Operations to send.
    pub ops: mpsc::UnboundedSender<u8>,
    /// Whether a VM is connected.
    pub connected: watch::Receiver<bool>,
}

impl VmHostObject {
    fn send(&self, operation: u8) -> Result<(), CommonError> {
        if !*self.connected.borrow() {
            return Err(CommonError::Unavailable(
                "no VM is connected to the QEMU link".into(),
            ));
        }
        self.ops
            .send(operation)
            .map_err(|_| CommonError::InternalFailure("the QEMU link is not running".into()))
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
    fn power_off(&self) -> Result<(), CommonError> {
        self.send(op::POWER_OFF)
    }

    /// Resets the VM.
    fn reset(&self) -> Result<(), CommonError> {
        self.send(op::RESET)
    }

    /// Sends the VM an NMI.
    fn send_nmi(&self) -> Result<(), CommonError> {
        self.send(op::SEND_NMI)
    }

    /// Asks the guest to shut down.
    fn graceful_shutdown(&self) -> Result<(), CommonError> {
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

#[cfg(test)]
mod tests {
    use rbmc_contracts::kcsd::{KcsdHostProxy, HOST_PATH};
    use zbus::connection;

    use super::*;

    #[tokio::test]
    async fn the_contract_over_a_peer_to_peer_connection() {
        let (ops, mut sent) = mpsc::unbounded_channel();
        let (link, connected) = watch::channel(false);
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let server = connection::Builder::unix_stream(a)
            .server(zbus::Guid::generate())
            .unwrap()
            .p2p()
            .serve_at(HOST_PATH, VmHostObject { ops, connected })
            .unwrap()
            .build();
        let client = connection::Builder::unix_stream(b).p2p().build();
        let (_server, client) = tokio::try_join!(server, client).unwrap();
        let host = KcsdHostProxy::builder(&client)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .unwrap();

        // No VM: the typed error, and nothing reaches the link.
        assert!(!host.connected().await.unwrap());
        assert!(matches!(
            host.reset().await,
            Err(CommonError::Unavailable(_))
        ));
        assert!(sent.try_recv().is_err());

        link.send(true).unwrap();
        assert!(host.connected().await.unwrap());
        host.power_off().await.unwrap();
        host.graceful_shutdown().await.unwrap();
        host.send_nmi().await.unwrap();
        for expected in [op::POWER_OFF, op::GRACEFUL_SHUTDOWN, op::SEND_NMI] {
            assert_eq!(sent.try_recv(), Ok(expected));
        }

        // The link task is gone.
        drop(sent);
        assert!(matches!(
            host.reset().await,
            Err(CommonError::InternalFailure(_))
        ));
    }
}
