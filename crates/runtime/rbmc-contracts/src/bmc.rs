//! The BMC as a whole: BMC Warm Reset and Cold Reset (IPMI v2.0 §20.2-20.3).
//!
//! rbmc-sensord, which answers for the management controller itself, emits
//! `org.rbmc.Bmc.ResetRequested(as daemons)` from `/org/rbmc/Bmc` once it
//! has answered the command. Every daemon follows the signal (from
//! rbmc-sensord's name only, so no other bus client can restart the
//! suite) and exits when its own name is listed; its supervisor (systemd's
//! `Restart=always` on the image, rbmc-dev's supervisor on a dev box)
//! starts it again. A warm reset restarts the communication interfaces, the
//! two bridges; a cold reset restarts every daemon. Settings are on disk
//! either way; what a reset loses is volatile: sessions, SOL, the watchdog
//! and the message queues.
//!
//! The same resets are asked for over D-Bus with `org.rbmc.Bmc.Reset(s
//! kind)` at [`BMC_PATH`] ([`BmcProxy`]): `warm` or `cold`, for root,
//! rbmc-sensord's own user and the Redfish bridge (its `Manager.Reset`);
//! refused with `InvalidArgument` for another kind.

use crate::{names, CommonError};

/// The object the signal comes from.
pub const BMC_PATH: &str = "/org/rbmc/Bmc";
/// Its interface.
pub const BMC_INTERFACE: &str = "org.rbmc.Bmc";
/// The signal: `ResetRequested(as daemons)`.
pub const RESET_REQUESTED: &str = "ResetRequested";

/// What a warm reset restarts: the communication interfaces (the
/// bridges).
pub const WARM_RESET: [&str; 3] = [names::NETIPMID, names::KCSD, names::REDFISHD];

/// What a cold reset restarts: every daemon.
pub const COLD_RESET: [&str; 7] = [
    names::NETIPMID,
    names::KCSD,
    names::REDFISHD,
    names::POWERD,
    names::SELD,
    names::USERD,
    names::SENSORD,
];

/// Client of `org.rbmc.Bmc` (rbmc-sensord).
#[zbus::proxy(
    interface = "org.rbmc.Bmc",
    default_service = "org.rbmc.Sensord",
    default_path = "/org/rbmc/Bmc"
)]
pub trait Bmc {
    /// Asks for a `warm` or `cold` reset; answers before the restarts.
    fn reset(&self, kind: &str) -> Result<(), CommonError>;
}
