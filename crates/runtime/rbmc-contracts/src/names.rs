//! The suite's well-known bus names. They are stable: scripts, the D-Bus
//! policy (`systemd/dbus-1/system.d/org.rbmc.conf`) and the systemd units
//! use them.

/// rbmc-sensord: sensors, SDR, FRU and the BMC's own identity.
pub const SENSORD: &str = "org.rbmc.Sensord";
/// rbmc-powerd: chassis, power, boot options, watchdog.
pub const POWERD: &str = "org.rbmc.Powerd";
/// rbmc-seld: the System Event Log.
pub const SELD: &str = "org.rbmc.Seld";
/// rbmc-netipmid: the RMCP+ network bridge.
pub const NETIPMID: &str = "org.rbmc.Netipmid";
/// rbmc-pefd: Platform Event Filtering and alerts.
pub const PEFD: &str = "org.rbmc.Pefd";
/// rbmc-fand: fan control, the owner of the fans' PWM outputs.
pub const FAND: &str = "org.rbmc.Fand";
/// rbmc-fand's second name, OpenBMC's (phosphor-pid-control's).
pub const FAN_CTRL: &str = "xyz.openbmc_project.State.FanCtrl";
/// rbmc-userd: accounts, their policy and the password side of logins.
pub const USERD: &str = "org.rbmc.Userd";
/// rbmc-userd's second name, OpenBMC's (phosphor-user-manager's).
pub const USER_MANAGER: &str = "xyz.openbmc_project.User.Manager";
/// rbmc-kcsd: the KCS host interface.
pub const KCSD: &str = "org.rbmc.Kcsd";
/// rbmc-powerd's second name, OpenBMC's for the host state object.
pub const STATE_HOST: &str = "xyz.openbmc_project.State.Host";
/// rbmc-powerd's third name, OpenBMC's for the chassis state object.
pub const STATE_CHASSIS: &str = "xyz.openbmc_project.State.Chassis";
/// rbmc-seld's second name, OpenBMC's (phosphor-sel-logger's) SEL logger.
pub const SEL_LOGGER: &str = "xyz.openbmc_project.Logging.IPMI";
/// rbmc-redfishd: the Redfish service (HTTPS), a bridge like the IPMI ones.
pub const REDFISHD: &str = "org.rbmc.Redfishd";
/// rbmc-dev's simulator, on the development bus only.
pub const SIMULATOR: &str = "org.rbmc.Simulator";
