//! `[pef]`: Platform Event Filtering's alerts (rbmc-pefd).

use serde::Deserialize;

/// `[pef]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Pef {
    /// The UDP port PET traps are sent to at each destination's address:
    /// SNMP's trap port, 162. LAN parameter 19 names no port; a
    /// development box whose trap receiver cannot bind 162 moves it here.
    pub trap_port: u16,
}

impl Default for Pef {
    fn default() -> Self {
        Self { trap_port: 162 }
    }
}
