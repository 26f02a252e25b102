//! Master Write-Read (IPMI v2.0 §22.11, App NetFn 06h, cmd 52h),
//! Administrator only (stricter than the spec's Operator, as OpenBMC: raw
//! bus access reaches parts the BMC depends on), and only to the private
//! buses and addresses `[[i2c-allow]]` lists (D6h otherwise, as a firmware
//! firewall answers). An address listed without `writes = true` takes at
//! most a one-byte register pointer. There is no public bus (IPMB): a
//! request for one is CCh.
//!
//! Request: byte 1 bits 7:4 channel, 3:1 bus ID, 0 bus type (1 =
//! private); byte 2 the 7-bit address in bits 7:1 (bit 0 reserved); byte
//! 3 the read count; then the bytes to write. One I2C_RDWR transaction:
//! the write, then the read. Bus failures answer the command's own codes:
//! 81h lost arbitration, 82h bus error, 83h NAK on write; FFh otherwise.

use std::{collections::HashMap, sync::Mutex};

use i2cdev::{
    core::{I2CMessage as _, I2CTransfer as _},
    linux::{LinuxI2CBus, LinuxI2CError, LinuxI2CMessage},
};
use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::CompletionCode;
use rbmc_config::{I2cAllow, I2cBackend};

/// Master Write-Read.
pub const CMD_MASTER_WRITE_READ: u8 = 0x52;
/// The most bytes one request may read (ipmitool's own limit; the spec
/// asks for at least 34).
pub const MAX_READ: usize = 64;

/// 81h: lost arbitration.
const CC_LOST_ARBITRATION: CompletionCode = CompletionCode(0x81);
/// 82h: bus error.
const CC_BUS_ERROR: CompletionCode = CompletionCode(0x82);
/// 83h: NAK on write.
const CC_NAK_ON_WRITE: CompletionCode = CompletionCode(0x83);
/// D6h: the request is not allowed here (the allowlist).
const CC_NOT_ALLOWED: CompletionCode = CompletionCode(0xD6);

/// Why a transaction failed.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum TransferError {
    /// Another master won the bus.
    #[error("lost arbitration")]
    LostArbitration,
    /// The bus misbehaved (timeout, stuck line).
    #[error("bus error")]
    BusError,
    /// Nobody acknowledged the address or a byte.
    #[error("no acknowledge")]
    Nak,
    /// The bus cannot be opened.
    #[error("no such bus")]
    NoBus,
    /// Anything else.
    #[error("transfer failed")]
    Other,
}

impl TransferError {
    fn completion_code(self) -> CompletionCode {
        match self {
            Self::LostArbitration => CC_LOST_ARBITRATION,
            Self::BusError => CC_BUS_ERROR,
            Self::Nak => CC_NAK_ON_WRITE,
            Self::NoBus => CompletionCode::INVALID_DATA_FIELD,
            Self::Other => CompletionCode::UNSPECIFIED,
        }
    }
}

/// One write-then-read on a private bus.
pub trait Buses: Send + Sync {
    /// Writes `write` to `address` on `bus`, then reads `read` bytes.
    fn write_read(
        &self,
        bus: u8,
        address: u8,
        write: &[u8],
        read: usize,
    ) -> Result<Vec<u8>, TransferError>;
}

/// The kernel's i2c-dev buses.
#[derive(Debug, Default)]
pub struct KernelBuses;

impl Buses for KernelBuses {
    fn write_read(
        &self,
        bus: u8,
        address: u8,
        write: &[u8],
        read: usize,
    ) -> Result<Vec<u8>, TransferError> {
        let mut device =
            LinuxI2CBus::new(format!("/dev/i2c-{bus}")).map_err(|_| TransferError::NoBus)?;
        let mut data = vec![0u8; read];
        let address = u16::from(address);
        let mut messages = Vec::new();
        if !write.is_empty() {
            messages.push(LinuxI2CMessage::write(write).with_address(address));
        }
        if read > 0 {
            messages.push(LinuxI2CMessage::read(&mut data).with_address(address));
        }
        device.transfer(&mut messages).map_err(|err| match err {
            LinuxI2CError::Errno(errno) => match nix::errno::Errno::from_raw(errno) {
                nix::errno::Errno::ENXIO | nix::errno::Errno::EREMOTEIO => TransferError::Nak,
                nix::errno::Errno::EAGAIN => TransferError::LostArbitration,
                nix::errno::Errno::EIO | nix::errno::Errno::ETIMEDOUT => TransferError::BusError,
                _ => TransferError::Other,
            },
            LinuxI2CError::Io(_) => TransferError::Other,
        })?;
        Ok(data)
    }
}

/// Simulated parts for a dev box: a 256-byte EEPROM (24C02-like: the first
/// byte written sets the address pointer, the rest is stored from there;
/// reads continue from the pointer) at each allowed address; anything else
/// does not acknowledge.
#[derive(Debug)]
pub struct SimulatedBuses {
    parts: Mutex<HashMap<(u8, u8), Eeprom>>,
}

#[derive(Debug)]
struct Eeprom {
    memory: [u8; 256],
    pointer: u8,
}

impl SimulatedBuses {
    /// An EEPROM at each of `allowed`.
    pub fn new(allowed: &[I2cAllow]) -> Self {
        let parts = allowed
            .iter()
            .map(|a| {
                let eeprom = Eeprom {
                    memory: [0xFF; 256],
                    pointer: 0,
                };
                ((a.bus, a.address), eeprom)
            })
            .collect();
        Self {
            parts: Mutex::new(parts),
        }
    }
}

impl Buses for SimulatedBuses {
    fn write_read(
        &self,
        bus: u8,
        address: u8,
        write: &[u8],
        read: usize,
    ) -> Result<Vec<u8>, TransferError> {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        let part = parts.get_mut(&(bus, address)).ok_or(TransferError::Nak)?;
        if let Some((&pointer, data)) = write.split_first() {
            part.pointer = pointer;
            for &byte in data {
                part.memory[usize::from(part.pointer)] = byte;
                part.pointer = part.pointer.wrapping_add(1);
            }
        }
        let mut out = Vec::with_capacity(read);
        for _ in 0..read {
            out.push(part.memory[usize::from(part.pointer)]);
            part.pointer = part.pointer.wrapping_add(1);
        }
        Ok(out)
    }
}

/// The command's state: the allowlist and the buses.
pub struct MasterWriteRead {
    allowed: Vec<I2cAllow>,
    buses: Box<dyn Buses>,
}

impl std::fmt::Debug for MasterWriteRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterWriteRead")
            .field("allowed", &self.allowed)
            .finish_non_exhaustive()
    }
}

/// A request, checked against the allowlist.
#[derive(Debug, Eq, PartialEq)]
pub struct Transaction {
    /// The private bus.
    pub bus: u8,
    /// The 7-bit address.
    pub address: u8,
    /// What to write.
    pub write: Vec<u8>,
    /// How many bytes to read.
    pub read: usize,
}

impl MasterWriteRead {
    /// Allowing `allowed`, on `backend`.
    pub fn new(allowed: Vec<I2cAllow>, backend: I2cBackend) -> Self {
        let buses: Box<dyn Buses> = match backend {
            I2cBackend::Kernel => Box::new(KernelBuses),
            I2cBackend::Simulated => Box::new(SimulatedBuses::new(&allowed)),
        };
        Self { allowed, buses }
    }

    /// Parses `data` and checks it against the allowlist.
    pub fn check(&self, data: &[u8]) -> Result<Transaction, CompletionCode> {
        let [bus_byte, address_byte, read, write @ ..] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if address_byte & 0x01 != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        // Only private buses: there is no IPMB.
        if bus_byte & 0x01 == 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let read = usize::from(*read);
        if read > MAX_READ || (read == 0 && write.is_empty()) {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let (bus, address) = ((bus_byte >> 1) & 0x07, address_byte >> 1);
        let allowed = self
            .allowed
            .iter()
            .find(|a| a.bus == bus && a.address == address)
            .ok_or(CC_NOT_ALLOWED)?;
        if write.len() > 1 && !allowed.writes {
            return Err(CC_NOT_ALLOWED);
        }
        Ok(Transaction {
            bus,
            address,
            write: write.to_vec(),
            read,
        })
    }

    /// Carries out a checked transaction (blocking: the caller runs it off
    /// the runtime's threads).
    pub fn run(&self, t: &Transaction) -> HandlerResult {
        self.buses
            .write_read(t.bus, t.address, &t.write, t.read)
            .map_err(TransferError::completion_code)
    }
}

/// The command: checked at once, carried out on the blocking pool.
pub async fn cmd_master_write_read(
    state: std::sync::Arc<crate::Sensord>,
    request: IpmiRequest,
) -> HandlerResult {
    let transaction = state.master_write_read.check(&request.data)?;
    tokio::task::spawn_blocking(move || state.master_write_read.run(&transaction))
        .await
        .map_err(|_| CompletionCode::UNSPECIFIED)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> MasterWriteRead {
        MasterWriteRead::new(
            vec![
                I2cAllow {
                    bus: 1,
                    address: 0x50,
                    writes: true,
                },
                I2cAllow {
                    bus: 1,
                    address: 0x51,
                    writes: false,
                },
            ],
            I2cBackend::Simulated,
        )
    }

    fn run(m: &MasterWriteRead, data: &[u8]) -> HandlerResult {
        m.run(&m.check(data)?)
    }

    #[test]
    fn an_allowed_eeprom_is_written_and_read_back() {
        let m = allow();
        assert_eq!(run(&m, &[0x03, 0xA0, 0, 0x10, 0xDE, 0xAD]), Ok(vec![]));
        assert_eq!(run(&m, &[0x03, 0xA0, 2, 0x10]), Ok(vec![0xDE, 0xAD]));
        // Read-only: a register pointer, then reads.
        assert_eq!(run(&m, &[0x03, 0xA2, 1, 0x00]), Ok(vec![0xFF]));
    }

    #[test]
    fn what_the_allowlist_does_not_name_is_refused() {
        let m = allow();
        for (data, code) in [
            (&[0x03, 0xA4, 1][..], CC_NOT_ALLOWED),
            (&[0x05, 0xA0, 1], CC_NOT_ALLOWED),
            (&[0x03, 0xA2, 0, 0x00, 0x01], CC_NOT_ALLOWED),
            (&[0x02, 0xA0, 1], CompletionCode::INVALID_DATA_FIELD),
            (&[0x03, 0xA1, 1], CompletionCode::INVALID_DATA_FIELD),
            (&[0x03, 0xA0, 65], CompletionCode::INVALID_DATA_FIELD),
            (&[0x03, 0xA0, 0], CompletionCode::INVALID_DATA_FIELD),
            (&[0x03, 0xA0], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        ] {
            assert_eq!(m.check(data), Err(code), "{data:02x?}");
        }
    }
}
