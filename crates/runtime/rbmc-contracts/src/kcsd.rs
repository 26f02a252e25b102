//! `org.rbmc.Kcsd.Host` at [`HOST_PATH`] on rbmc-kcsd ([`KcsdHostProxy`]):
//! the VM behind the QEMU link as power hardware, for rbmc-powerd's `qemu`
//! backend. Served only while rbmc-kcsd runs with `[kcs] qemu-listen`.
//!
//! - `Connected` (b): a VM is on the link; to the power controller, the host
//!   has power.
//! - `PowerOff()`, `Reset()`, `SendNmi()`, `GracefulShutdown()`: the VM
//!   protocol's hardware operations, sent on the live link. Each fails with
//!   [`CommonError::Unavailable`] when no VM is connected (the VM protocol
//!   cannot start one) and [`CommonError::InternalFailure`] when the link
//!   task has stopped.

use crate::CommonError;

/// The VM host object.
pub const HOST_PATH: &str = "/org/rbmc/Kcsd/Host";

/// Client of `org.rbmc.Kcsd.Host`.
#[zbus::proxy(
    interface = "org.rbmc.Kcsd.Host",
    default_service = "org.rbmc.Kcsd",
    default_path = "/org/rbmc/Kcsd/Host"
)]
pub trait KcsdHost {
    /// Whether a VM is connected (and so powered).
    #[zbus(property)]
    fn connected(&self) -> zbus::Result<bool>;

    /// Powers the VM off.
    fn power_off(&self) -> Result<(), CommonError>;

    /// Resets the VM.
    fn reset(&self) -> Result<(), CommonError>;

    /// Sends the VM an NMI.
    fn send_nmi(&self) -> Result<(), CommonError>;

    /// Asks the guest to shut down.
    fn graceful_shutdown(&self) -> Result<(), CommonError>;
}
