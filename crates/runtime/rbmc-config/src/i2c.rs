//! `[i2c]` and `[[i2c-allow]]`: what Master Write-Read (IPMI v2.0 §22.11)
//! may reach. Nothing is reachable unless listed: each entry names a
//! private bus (IPMI bus ID 0-7, the kernel's `/dev/i2c-N`) and a 7-bit
//! address, and whether more than a one-byte register pointer may be
//! written there.

use serde::Deserialize;

/// `[i2c]`: how the buses are reached.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct I2c {
    /// The kernel's i2c-dev devices, or simulated parts (dev box).
    pub backend: I2cBackend,
}

/// Where Master Write-Read's transactions go.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum I2cBackend {
    /// `/dev/i2c-N` through the kernel's I2C_RDWR.
    #[default]
    Kernel,
    /// Each allowed address is a simulated 256-byte EEPROM (24C02-like).
    Simulated,
}

/// One `[[i2c-allow]]` entry.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct I2cAllow {
    /// The private bus ID, 0-7 (`/dev/i2c-<bus>`).
    pub bus: u8,
    /// The 7-bit address.
    pub address: u8,
    /// Whether data may be written (beyond a one-byte register pointer).
    #[serde(default)]
    pub writes: bool,
}

impl I2cAllow {
    /// Rules serde cannot express.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.bus > 7 {
            return Err(format!(
                "i2c-allow bus {} is not a private bus ID (0-7)",
                self.bus
            ));
        }
        if !(0x03..=0x77).contains(&self.address) {
            return Err(format!(
                "i2c-allow address {:#04x} is not a 7-bit device address (0x03-0x77)",
                self.address
            ));
        }
        Ok(())
    }
}
