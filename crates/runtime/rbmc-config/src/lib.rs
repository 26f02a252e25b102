//! The suite's configuration: one TOML file, shared by every daemon, parsed
//! into types that cannot hold a bad value.
//!
//! Each daemon reads the sections it needs; unknown keys anywhere are an
//! error, so a typo never passes silently. Errors name the file, the line and
//! column, and the field. A value that needs checking beyond its TOML type
//! (a firmware revision, a GUID, a privilege name) is a newtype whose
//! `TryFrom` runs during deserialisation, so its error carries the position
//! too.
//!
//! There are no default users: a file without `[[users]]` lets nobody log in.
//! Only `configs/dev.toml` carries the development password.
#![forbid(unsafe_code)]

mod audit;
mod cidr;
mod cooling;
mod dcmi;
mod fru;
mod i2c;
mod lan;
mod network;
mod pef;
mod power;
mod redfish;
mod sensors;

pub use audit::{Audit, AuditCapacity};
pub use cidr::Cidr;
pub use cooling::{Cooling, FanZone, PowerOnRamp, ZoneFan, ZoneInput};
pub use dcmi::Dcmi;
pub use fru::{Fru, FruBoard, FruChassis, FruDate, FruProduct};
pub use i2c::{I2c, I2cAllow, I2cBackend};
pub use lan::{BitRate, ConsoleSource, Lan, MacAddress, Networkd, Sol, VlanId};
pub use network::{Network, SuiteId};
pub use pef::Pef;
pub use power::{LineConfig, Power, PowerBackend, RestorePolicyName, SimulatedHost};
pub use redfish::Redfish;
pub use sensors::{
    Hwmon, PmbusReading, SensorEntry, SensorKind, SensorName, SensorNumber, Simulation, Source,
    ThresholdValues,
};

use std::{net::SocketAddr, path::Path, time::Duration};

use ipmi_wire::Privilege;
use serde::Deserialize;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the schema.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// toml's message, with line, column and field.
        message: String,
    },
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    /// The BMC's identity (Get Device ID and friends).
    #[serde(default)]
    pub bmc: BmcIdentity,
    /// The RMCP+ network bridge.
    #[serde(default)]
    pub network: Network,
    /// How bridges reach the command owners.
    #[serde(default)]
    pub routing: Routing,
    /// Users who may log in over the network.
    #[serde(default)]
    pub users: Vec<UserEntry>,
    /// Where hwmon devices are found.
    #[serde(default)]
    pub hwmon: Hwmon,
    /// The IPMI sensors.
    #[serde(default)]
    pub sensors: Vec<SensorEntry>,
    /// The BMC's FRU inventory device.
    #[serde(default)]
    pub fru: Fru,
    /// Power control.
    #[serde(default)]
    pub power: Power,
    /// The System Event Log.
    #[serde(default)]
    pub sel: Sel,
    /// The audit trail (rbmc-seld).
    #[serde(default)]
    pub audit: Audit,
    /// The KCS host interface.
    #[serde(default)]
    pub kcs: Kcs,
    /// The LAN channel's interface, as LAN Configuration Parameters report
    /// it.
    #[serde(default)]
    pub lan: Lan,
    /// Serial over LAN.
    #[serde(default)]
    pub sol: Sol,
    /// How Master Write-Read reaches the buses.
    #[serde(default)]
    pub i2c: I2c,
    /// What Master Write-Read may reach; nothing unless listed.
    #[serde(default)]
    pub i2c_allow: Vec<I2cAllow>,
    /// The Redfish service.
    #[serde(default)]
    pub redfish: Redfish,
    /// DCMI power management.
    #[serde(default)]
    pub dcmi: Dcmi,
    /// PEF's alerts.
    #[serde(default)]
    pub pef: Pef,
    /// Fan control (rbmc-fand).
    #[serde(default)]
    pub cooling: Cooling,
}

/// `[kcs]`: where the host's requests come from.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Kcs {
    /// The BMC-side KCS character device (ASPEED `kcs_bmc_cdev_ipmi`), e.g.
    /// `/dev/ipmi-kcs3`.
    pub device: Option<std::path::PathBuf>,
    /// Listen for QEMU's `ipmi-bmc-extern` link here (development).
    pub qemu_listen: Option<SocketAddr>,
}

/// `[sel]`: the System Event Log's size and what happens when it is full.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Sel {
    /// How many records it holds.
    pub capacity: u16,
    /// When full: `stop` refuses new entries (and reports overflow in Get
    /// SEL Info), `wrap` drops the oldest.
    pub full_policy: SelFullPolicy,
}

impl Default for Sel {
    fn default() -> Self {
        Self {
            // 3000 x 16 bytes: a typical BMC SEL, and the size the bench
            // lists.
            capacity: 3000,
            full_policy: SelFullPolicy::Stop,
        }
    }
}

/// What a full SEL does.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum SelFullPolicy {
    /// Refuse new entries (IPMI's default behaviour).
    Stop,
    /// Drop the oldest entry.
    Wrap,
}

impl Config {
    /// Reads and validates `path`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let config: Config = toml::from_str(text).map_err(|e| invalid(describe(&e, text)))?;
        config.check_users().map_err(invalid)?;
        config.sol.validate().map_err(invalid)?;
        config.network.validate().map_err(invalid)?;
        config.lan.validate().map_err(invalid)?;
        config.redfish.validate().map_err(invalid)?;
        for allow in &config.i2c_allow {
            allow.validate().map_err(invalid)?;
        }
        sensors::check_sensors(&config.sensors, &sensors::table_lines(text)).map_err(invalid)?;
        config.dcmi.validate(&config.sensors).map_err(invalid)?;
        config.cooling.validate(&config.sensors).map_err(invalid)?;
        Ok(config)
    }

    /// Rules that span several entries.
    fn check_users(&self) -> Result<(), String> {
        for (i, user) in self.users.iter().enumerate() {
            for other in &self.users[..i] {
                if other.id == user.id {
                    return Err(format!("users: user id {} is used twice", user.id.0));
                }
                if other.name == user.name {
                    return Err(format!("users: user name {:?} is used twice", user.name.0));
                }
            }
        }
        Ok(())
    }

    /// Warnings worth logging at start: risky but legal settings.
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let mut out = Vec::new();
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o002 != 0 {
                out.push(format!("{} is world-writable", path.display()));
            }
            if mode & 0o004 != 0 && !self.users.is_empty() {
                out.push(format!(
                    "{} holds passwords and is world-readable",
                    path.display()
                ));
            }
        }
        out
    }
}

/// Places a TOML error: line, column and the key on that line. The offending
/// line itself is not quoted, because it may hold a password.
fn describe(error: &toml::de::Error, text: &str) -> String {
    let Some(span) = error.span() else {
        return error.message().to_owned();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let key = line_text
        .split_once('=')
        .map(|(key, _)| key.trim())
        .filter(|key| !key.is_empty() && !key.starts_with('['));
    match key {
        Some(key) => format!(
            "line {line}, column {column}, field `{key}`: {}",
            error.message()
        ),
        None => format!("line {line}, column {column}: {}", error.message()),
    }
}

/// `[bmc]`: what Get Device ID, Get Device GUID and Get System GUID report
/// (IPMI v2.0 §20.1, §20.8, §22.14).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct BmcIdentity {
    /// Device ID (00h = unspecified).
    pub device_id: u8,
    /// Device revision, 0-15.
    pub device_revision: DeviceRevision,
    /// Firmware revision "MAJOR.MINOR": major 0-127, minor 0-99 (sent as BCD).
    pub firmware_revision: FirmwareRevision,
    /// IANA enterprise number of the manufacturer (20 bits).
    pub manufacturer_id: ManufacturerId,
    /// Product ID.
    pub product_id: u16,
    /// Auxiliary firmware revision, four bytes, sent when present.
    pub aux_firmware_revision: Option<[u8; 4]>,
    /// The GUID, in the usual text form; `None`: all zeros ("not set").
    pub guid: Option<Guid>,
    /// Whether the device provides device SDRs.
    pub provides_device_sdrs: bool,
    /// The "additional device support" bits of Get Device ID.
    pub device_support: Vec<DeviceSupport>,
}

impl Default for BmcIdentity {
    fn default() -> Self {
        Self {
            // 20h: the BMC's own slave address is the usual device ID.
            device_id: 0x20,
            device_revision: DeviceRevision(0),
            firmware_revision: FirmwareRevision { major: 0, minor: 1 },
            // 0: "unspecified" (IPMI v2.0 §20.1 note on manufacturer ID).
            manufacturer_id: ManufacturerId(0),
            product_id: 0,
            aux_firmware_revision: None,
            guid: None,
            provides_device_sdrs: false,
            device_support: Vec::new(),
        }
    }
}

/// A device revision (4 bits).
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "u8")]
pub struct DeviceRevision(pub u8);

impl TryFrom<u8> for DeviceRevision {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, String> {
        if value <= 0x0F {
            Ok(Self(value))
        } else {
            Err(format!("device revision {value} is out of range 0-15"))
        }
    }
}

/// A firmware revision as Get Device ID encodes it.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct FirmwareRevision {
    /// Major revision, 0-127 (7 bits).
    pub major: u8,
    /// Minor revision, 0-99 (two BCD digits).
    pub minor: u8,
}

impl FirmwareRevision {
    /// The minor revision in BCD, as byte 4 of Get Device ID carries it.
    pub fn minor_bcd(self) -> u8 {
        ((self.minor / 10) << 4) | (self.minor % 10)
    }
}

impl TryFrom<String> for FirmwareRevision {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let bad = || {
            format!("firmware revision {text:?} is not MAJOR.MINOR with major 0-127 and minor 0-99")
        };
        let (major, minor) = text.split_once('.').ok_or_else(bad)?;
        let major: u8 = major.parse().map_err(|_| bad())?;
        let minor: u8 = minor.parse().map_err(|_| bad())?;
        if major > 127 || minor > 99 {
            return Err(bad());
        }
        Ok(Self { major, minor })
    }
}

/// A 20-bit IANA enterprise number.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "u32")]
pub struct ManufacturerId(pub u32);

impl TryFrom<u32> for ManufacturerId {
    type Error = String;
    fn try_from(value: u32) -> Result<Self, String> {
        // 0FFFFFh is reserved (IPMI v2.0 §20.1).
        if value < 0x0F_FFFF {
            Ok(Self(value))
        } else {
            Err(format!(
                "manufacturer id {value:#x} does not fit 20 bits (0FFFFFh is reserved)"
            ))
        }
    }
}

/// A GUID in its text form; [`Guid::ipmi_bytes`] gives the wire order.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The GUID as IPMI sends it (IPMI v2.0 §20.8, Table 20-10): node first,
    /// then clock sequence, time high, time mid and time low, every field
    /// least significant byte first. That is the text form's 16 bytes in
    /// reverse (not SMBIOS order, which only swaps the time fields).
    pub fn ipmi_bytes(&self) -> [u8; 16] {
        let mut bytes = self.0;
        bytes.reverse();
        bytes
    }
}

impl TryFrom<String> for Guid {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let bad =
            || format!("guid {text:?} is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
        let groups: Vec<&str> = text.split('-').collect();
        if groups.iter().map(|g| g.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
            return Err(bad());
        }
        let hex: String = groups.concat();
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
                .map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

/// One "additional device support" bit of Get Device ID (IPMI v2.0 Table
/// 20-2, byte 7).
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceSupport {
    /// Bit 0: sensor device.
    Sensor,
    /// Bit 1: SDR repository device.
    SdrRepository,
    /// Bit 2: SEL device.
    Sel,
    /// Bit 3: FRU inventory device.
    FruInventory,
    /// Bit 4: IPMB event receiver.
    EventReceiver,
    /// Bit 5: IPMB event generator.
    EventGenerator,
    /// Bit 6: bridge.
    Bridge,
    /// Bit 7: chassis device.
    Chassis,
}

impl DeviceSupport {
    /// The bit in byte 7 of Get Device ID.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// `[routing]`: how bridges reach the owners.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Routing {
    /// Bus names of the command owners.
    pub owners: Vec<String>,
    /// Milliseconds a bridge waits for an owner before answering 0xC3.
    pub timeout_ms: u64,
}

impl Default for Routing {
    fn default() -> Self {
        Self {
            owners: vec![
                "org.rbmc.Sensord".into(),
                "org.rbmc.Powerd".into(),
                "org.rbmc.Seld".into(),
                "org.rbmc.Userd".into(),
            ],
            // 1 s: below ipmitool's 2 s retransmit interval, so a console
            // gets our 0xC3 before it resends.
            timeout_ms: 1000,
        }
    }
}

impl Routing {
    /// The call timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// `[[users]]`: one network user.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct UserEntry {
    /// IPMI user ID, 2-15 (1 is the null user, which is never enabled).
    pub id: UserId,
    /// Login name, 1-16 bytes.
    pub name: UserName,
    /// Password, 1-20 bytes.
    pub password: Password,
    /// Highest privilege on the LAN channel.
    pub privilege: PrivilegeName,
    /// Whether the user may log in.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Whether the user may activate Serial over LAN (payload access).
    #[serde(default)]
    pub sol: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// A user ID 2-15 (the BMC has 15 user IDs; 1 is the null user).
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "u8")]
pub struct UserId(pub u8);

impl TryFrom<u8> for UserId {
    type Error = String;
    fn try_from(id: u8) -> Result<Self, String> {
        if (2..=15).contains(&id) {
            Ok(Self(id))
        } else {
            Err(format!(
                "user id {id} is out of range 2-15 (1 is the reserved null user)"
            ))
        }
    }
}

/// A user name of 1-16 printable ASCII bytes.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct UserName(pub String);

impl TryFrom<String> for UserName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        if name.is_empty() || name.len() > 16 || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "user name {name:?} must be 1-16 printable ASCII characters"
            ));
        }
        Ok(Self(name))
    }
}

/// A password of 1-20 bytes (the IPMI 2.0 maximum).
#[derive(Clone, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl TryFrom<String> for Password {
    type Error = String;
    fn try_from(password: String) -> Result<Self, String> {
        if password.is_empty() || password.len() > 20 {
            // Do not echo the password in the error.
            return Err(format!(
                "password must be 1-20 bytes, this one has {}",
                password.len()
            ));
        }
        Ok(Self(password))
    }
}

/// A privilege level by name: callback, user, operator, administrator.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct PrivilegeName(pub Privilege);

impl TryFrom<String> for PrivilegeName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Ok(Self(match name.as_str() {
            "callback" => Privilege::Callback,
            "user" => Privilege::User,
            "operator" => Privilege::Operator,
            "administrator" => Privilege::Administrator,
            _ => {
                return Err(format!(
                    "privilege {name:?} is not one of callback, user, operator, administrator"
                ))
            }
        }))
    }
}

#[cfg(test)]
mod tests;
