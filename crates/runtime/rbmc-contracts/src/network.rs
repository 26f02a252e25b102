//! The BMC's LAN channel interface with OpenBMC's network interfaces,
//! served by rbmc-netipmid (the owner of the LAN channel's
//! configuration, on `org.rbmc.Netipmid`; OpenBMC's network daemon
//! serves the same shapes) under [`NETWORK_ROOT`], with an ObjectManager
//! there:
//!
//! - at [`interface_path`]: `xyz.openbmc_project.Network.EthernetInterface`
//!   ([`EthernetInterfaceProxy`]) and `xyz.openbmc_project.Network.MACAddress`
//!   ([`MacAddressProxy`]);
//! - at [`ipv4_path`]: `xyz.openbmc_project.Network.IP` ([`IpProxy`]), the
//!   interface's IPv4 address.
//!
//! Each property reads what is in effect now: the same values Get LAN
//! Configuration Parameters answers (with an address from DHCP, the
//! lease's). They are read-only here; IPMI's Set LAN Configuration
//! Parameters changes them.
//!
//! The LAN channel's alert destinations (LAN parameters 16-19), which
//! rbmc-pefd sends PEF's alerts to, are at [`ALERT_DESTINATIONS_PATH`]
//! (`org.rbmc.Lan.AlertDestinations`, [`AlertDestinationsProxy`]), also
//! read-only.

/// Where the network objects are (and their ObjectManager).
pub const NETWORK_ROOT: &str = "/xyz/openbmc_project/network";

/// `EthernetInterface.DHCPEnabled` for an address from DHCP (v4).
pub const DHCP_V4: &str = "xyz.openbmc_project.Network.EthernetInterface.DHCPConf.v4";
/// `EthernetInterface.DHCPEnabled` for a static address.
pub const DHCP_NONE: &str = "xyz.openbmc_project.Network.EthernetInterface.DHCPConf.none";
/// `IP.Origin` of a static address.
pub const ORIGIN_STATIC: &str = "xyz.openbmc_project.Network.IP.AddressOrigin.Static";
/// `IP.Origin` of an address from DHCP.
pub const ORIGIN_DHCP: &str = "xyz.openbmc_project.Network.IP.AddressOrigin.DHCP";
/// `IP.Type` of an IPv4 address.
pub const IPV4: &str = "xyz.openbmc_project.Network.IP.Protocol.IPv4";

/// The object of the interface named `name` (as D-Bus path elements allow:
/// other characters become `_`).
pub fn interface_path(name: &str) -> String {
    let element: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{NETWORK_ROOT}/{element}")
}

/// The object of that interface's IPv4 address.
pub fn ipv4_path(name: &str) -> String {
    format!("{}/ipv4/address", interface_path(name))
}

/// Client of `xyz.openbmc_project.Network.EthernetInterface`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Network.EthernetInterface",
    default_service = "org.rbmc.Netipmid"
)]
pub trait EthernetInterface {
    /// The kernel's name for it (or, with no interface configured, the
    /// channel's: `channel1`).
    #[zbus(property)]
    fn interface_name(&self) -> zbus::Result<String>;

    /// [`DHCP_V4`] or [`DHCP_NONE`].
    #[zbus(property, name = "DHCPEnabled")]
    fn dhcp_enabled(&self) -> zbus::Result<String>;

    /// The IPv4 default gateway (`0.0.0.0`: none).
    #[zbus(property)]
    fn default_gateway(&self) -> zbus::Result<String>;
}

/// Client of `xyz.openbmc_project.Network.MACAddress`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Network.MACAddress",
    default_service = "org.rbmc.Netipmid"
)]
pub trait MacAddress {
    /// `aa:bb:cc:dd:ee:ff`.
    #[zbus(property, name = "MACAddress")]
    fn mac_address(&self) -> zbus::Result<String>;
}

/// Client of `xyz.openbmc_project.Network.IP`.
#[zbus::proxy(
    interface = "xyz.openbmc_project.Network.IP",
    default_service = "org.rbmc.Netipmid"
)]
pub trait Ip {
    /// The address (`0.0.0.0`: none yet).
    #[zbus(property)]
    fn address(&self) -> zbus::Result<String>;

    /// Its prefix length.
    #[zbus(property)]
    fn prefix_length(&self) -> zbus::Result<u8>;

    /// [`ORIGIN_STATIC`] or [`ORIGIN_DHCP`].
    #[zbus(property)]
    fn origin(&self) -> zbus::Result<String>;

    /// The gateway (`0.0.0.0`: none).
    #[zbus(property)]
    fn gateway(&self) -> zbus::Result<String>;

    /// [`IPV4`].
    #[zbus(property, name = "Type")]
    fn type_(&self) -> zbus::Result<String>;
}

/// Where the LAN channel's alert destinations are.
pub const ALERT_DESTINATIONS_PATH: &str = "/org/rbmc/Netipmid/AlertDestinations";

/// One alert destination as `Destination` answers it: the community
/// string (LAN parameter 16, without its padding), the destination type
/// (parameter 18 bits 2:0: 0 a PET trap, 6 and 7 OEM), whether it is
/// acknowledged, the acknowledgement timeout (seconds), the retries, and
/// the IPv4 address (parameter 19).
pub type AlertDestination = (Vec<u8>, u8, bool, u8, u8, String);

/// Client of `org.rbmc.Lan.AlertDestinations`.
#[zbus::proxy(
    interface = "org.rbmc.Lan.AlertDestinations",
    default_service = "org.rbmc.Netipmid",
    default_path = "/org/rbmc/Netipmid/AlertDestinations"
)]
pub trait AlertDestinations {
    /// The LAN channel's number (what an alert policy entry names).
    #[zbus(property)]
    fn channel(&self) -> zbus::Result<u8>;

    /// Destination `selector` (0, the volatile one, to the number LAN
    /// parameter 17 gives); [`crate::CommonError::InvalidArgument`] past
    /// them.
    fn destination(&self, selector: u8) -> Result<AlertDestination, crate::CommonError>;
}
