//! The host's settings with OpenBMC's interfaces, served by rbmc-powerd
//! (on `org.rbmc.Powerd`: OpenBMC keeps them in its settings daemon, whose
//! name rbmc does not take):
//!
//! - `xyz.openbmc_project.Control.Power.RestorePolicy` at
//!   [`POWER_RESTORE_POLICY_PATH`] ([`RestorePolicyProxy`]);
//! - `xyz.openbmc_project.Control.Boot.Source` and `.Boot.Mode` at
//!   [`BOOT_PATH`] ([`BootSourceProxy`], [`BootModeProxy`]): the next boot's
//!   override, the same IPMI boot flags seen two ways.
//! - `xyz.openbmc_project.Control.Boot.Type` at [`BOOT_PATH`] and
//!   `xyz.openbmc_project.Object.Enable` at [`BOOT_ONE_TIME_PATH`]
//!   ([`BootTypeProxy`], [`BootOneTimeProxy`]): the override's EFI bit and
//!   whether it is for the next boot only;
//! - `xyz.openbmc_project.Control.Host.NMI` at [`NMI_PATH`] ([`NmiProxy`]):
//!   a diagnostic interrupt to the host now.
//! - `xyz.openbmc_project.Led.Group` at [`IDENTIFY_LED_PATH`]
//!   ([`LedGroupProxy`]): the chassis identify LED (OpenBMC's
//!   `enclosure_identify` group), the same one IPMI's Chassis Identify
//!   drives.
//!
//! Values are OpenBMC's enumeration strings; an unknown one fails the
//! property `Set` with `org.freedesktop.DBus.Error.InvalidArgs`.

/// The power restore policy object.
pub const POWER_RESTORE_POLICY_PATH: &str =
    "/xyz/openbmc_project/control/host0/power_restore_policy";
/// The boot override object.
pub const BOOT_PATH: &str = "/xyz/openbmc_project/control/host0/boot";
/// Whether the boot override is for the next boot only (OpenBMC's path).
pub const BOOT_ONE_TIME_PATH: &str = "/xyz/openbmc_project/control/host0/boot/one_time";
/// The host's diagnostic interrupt (OpenBMC's path).
pub const NMI_PATH: &str = "/xyz/openbmc_project/control/host0/nmi";
/// The chassis identify LED group (OpenBMC's path).
pub const IDENTIFY_LED_PATH: &str = "/xyz/openbmc_project/led/groups/enclosure_identify";

/// Client of `xyz.openbmc_project.Led.Group` at [`IDENTIFY_LED_PATH`].
#[zbus::proxy(
    interface = "xyz.openbmc_project.Led.Group",
    default_service = "org.rbmc.Powerd",
    default_path = "/xyz/openbmc_project/led/groups/enclosure_identify"
)]
pub trait LedGroup {
    /// Whether the LED is lit (by IPMI's Chassis Identify, for a time or
    /// until turned off, or by a `Set` of this property).
    #[zbus(property)]
    fn asserted(&self) -> zbus::Result<bool>;

    /// Lights the LED until told otherwise (true), or turns it off.
    #[zbus(property)]
    fn set_asserted(&self, value: bool) -> zbus::Result<()>;
}

/// Client of `xyz.openbmc_project.Control.Boot.Type`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Control.Boot.Type",
    default_service = "org.rbmc.Powerd",
    default_path = "/xyz/openbmc_project/control/host0/boot"
)]
pub trait BootType {
    /// `...Boot.Type.Types.` Legacy or EFI.
    #[zbus(property)]
    fn boot_type(&self) -> zbus::Result<String>;

    /// Sets the override's boot type.
    #[zbus(property)]
    fn set_boot_type(&self, value: &str) -> zbus::Result<()>;
}

/// Client of `xyz.openbmc_project.Object.Enable` at
/// [`BOOT_ONE_TIME_PATH`].
#[zbus::proxy(
    interface = "xyz.openbmc_project.Object.Enable",
    default_service = "org.rbmc.Powerd",
    default_path = "/xyz/openbmc_project/control/host0/boot/one_time"
)]
pub trait BootOneTime {
    /// Whether the override is for the next boot only.
    #[zbus(property)]
    fn enabled(&self) -> zbus::Result<bool>;

    /// Sets next boot only (true) or every boot (false).
    #[zbus(property)]
    fn set_enabled(&self, value: bool) -> zbus::Result<()>;
}

/// Client of `xyz.openbmc_project.Control.Host.NMI`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Control.Host.NMI",
    default_service = "org.rbmc.Powerd",
    default_path = "/xyz/openbmc_project/control/host0/nmi"
)]
pub trait Nmi {
    /// Pulses the host's NMI line (IPMI's diagnostic interrupt). Fails
    /// with `NotAllowed` while the host is off.
    #[zbus(name = "NMI")]
    fn nmi(&self) -> Result<(), crate::CommonError>;
}

/// Client of `xyz.openbmc_project.Control.Power.RestorePolicy`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Control.Power.RestorePolicy",
    default_service = "org.rbmc.Powerd",
    default_path = "/xyz/openbmc_project/control/host0/power_restore_policy"
)]
pub trait RestorePolicy {
    /// `...RestorePolicy.Policy.` AlwaysOff, Restore or AlwaysOn.
    #[zbus(property)]
    fn power_restore_policy(&self) -> zbus::Result<String>;

    /// Sets the policy.
    #[zbus(property)]
    fn set_power_restore_policy(&self, value: &str) -> zbus::Result<()>;
}

/// Client of `xyz.openbmc_project.Control.Boot.Source`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Control.Boot.Source",
    default_service = "org.rbmc.Powerd",
    default_path = "/xyz/openbmc_project/control/host0/boot"
)]
pub trait BootSource {
    /// `...Boot.Source.Sources.` Default, Network, Disk, ExternalMedia or
    /// RemovableMedia.
    #[zbus(property)]
    fn boot_source(&self) -> zbus::Result<String>;

    /// Sets the next boot's source.
    #[zbus(property)]
    fn set_boot_source(&self, value: &str) -> zbus::Result<()>;
}

/// Client of `xyz.openbmc_project.Control.Boot.Mode`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Control.Boot.Mode",
    default_service = "org.rbmc.Powerd",
    default_path = "/xyz/openbmc_project/control/host0/boot"
)]
pub trait BootMode {
    /// `...Boot.Mode.Modes.` Regular, Safe or Setup.
    #[zbus(property)]
    fn boot_mode(&self) -> zbus::Result<String>;

    /// Sets the next boot's mode.
    #[zbus(property)]
    fn set_boot_mode(&self, value: &str) -> zbus::Result<()>;
}
