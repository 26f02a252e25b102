//! The host's half of the emulated AST2600's KCS3 (IPMI v2.0 §9): what a
//! host's `ipmi_si` driver does at I/O ports CA2h/CA3h, played from outside
//! QEMU. A byte from the host is `qom-set /machine/soc/lpc idr3` (which sets
//! IBF and interrupts the BMC) after the status register's C/D bit says
//! whether it is a command or data; QEMU 7.2 ignores C/D from QMP, so that
//! bit is written through qtest, as a bus write to STR3. A byte to the host
//! is `qom-get odr3`, which clears OBF, as the host's read of the data port
//! does.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::board::EmulatedBoard;

/// The LPC controller's registers (AST2600 datasheet, LPC: KCS channel 3).
const LPC_BASE: u32 = 0x1E78_9000;
/// HICR2: bit 3 enables KCS3's input-buffer-full interrupt, which the
/// kernel's driver sets while `/dev/ipmi-kcs3` is open.
const HICR2: u32 = LPC_BASE + 0x08;
const HICR2_IBFIE3: u32 = 1 << 3;
const STR3: u32 = LPC_BASE + 0x44;
const LPC: &str = "/machine/soc/lpc";

/// Status register bits (IPMI v2.0 Table 9-1).
const OBF: u32 = 1 << 0;
const IBF: u32 = 1 << 1;
const COMMAND_DATA: u32 = 1 << 3;

/// Control codes (IPMI v2.0 Table 9-3).
const WRITE_START: u8 = 0x61;
const WRITE_END: u8 = 0x62;
const READ: u8 = 0x68;

/// The interface's state, STR bits 7:6 (IPMI v2.0 Table 9-2).
#[derive(Debug, PartialEq)]
enum State {
    Idle,
    Read,
    Write,
    Error,
}

impl State {
    fn of(status: u32) -> Self {
        match (status >> 6) & 3 {
            0 => Self::Idle,
            1 => Self::Read,
            2 => Self::Write,
            _ => Self::Error,
        }
    }
}

impl EmulatedBoard {
    /// Sends one request over KCS3 as the host does, `[NetFn << 2 | LUN,
    /// cmd, data...]`, and returns the response `[NetFn << 2 | LUN, cmd,
    /// completion code, data...]`. Waits first for the BMC's side to have
    /// the device open.
    pub fn kcs_request(&mut self, request: &[u8]) -> Result<Vec<u8>, String> {
        let (last, body) = request.split_last().ok_or("an empty KCS request")?;
        crate::poll_until(Duration::from_secs(30), || match self.qtest.readl(HICR2) {
            Ok(hicr2) if hicr2 & HICR2_IBFIE3 != 0 => Ok(()),
            Ok(hicr2) => Err(format!(
                "nothing in the guest has /dev/ipmi-kcs3 open (HICR2 {hicr2:#010x})"
            )),
            Err(err) => Err(err),
        })?;
        self.wait_status(IBF, 0)?;
        self.host_read()?;
        self.host_write(WRITE_START, true)?;
        self.expect_state(State::Write)?;
        for byte in body {
            self.host_write(*byte, false)?;
            self.expect_state(State::Write)?;
        }
        self.host_write(WRITE_END, true)?;
        self.expect_state(State::Write)?;
        self.host_write(*last, false)?;
        let mut response = Vec::new();
        loop {
            let status = self.wait_status(IBF, 0)?;
            match State::of(status) {
                State::Read => {
                    self.wait_status(OBF, OBF)?;
                    response.push(self.host_read()?);
                    self.host_write(READ, false)?;
                }
                State::Idle => {
                    // The BMC's last byte is a dummy that ends the read.
                    self.wait_status(OBF, OBF)?;
                    self.host_read()?;
                    return Ok(response);
                }
                state => {
                    return Err(format!(
                        "KCS3 went to {state:?} (STR3 {status:#04x}) after {response:02x?}"
                    ))
                }
            }
        }
    }

    fn status(&mut self) -> Result<u32, String> {
        Ok(self.qtest.readl(STR3)? & 0xFF)
    }

    /// Waits until the status bits in `mask` equal `want`.
    /// Register reads are cheap and a transfer takes a few per byte, so
    /// this polls every millisecond rather than at [`crate::poll_until`]'s
    /// pace.
    fn wait_status(&mut self, mask: u32, want: u32) -> Result<u32, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = self.status()?;
            if status & mask == want {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "KCS3 status {status:#04x} did not get {want:#04x} under mask {mask:#04x} within 10 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// After a byte of the write phase: the BMC took it and is in `state`.
    /// It also leaves a byte in ODR each time, which the host reads away.
    fn expect_state(&mut self, state: State) -> Result<(), String> {
        let status = self.wait_status(IBF, 0)?;
        if State::of(status) != state {
            return Err(format!(
                "KCS3 is in {:?} (STR3 {status:#04x}), not {state:?}",
                State::of(status)
            ));
        }
        if state == State::Write {
            self.host_read()?;
        }
        Ok(())
    }

    /// The host writes `byte` to the command port (`command`) or the data
    /// port.
    fn host_write(&mut self, byte: u8, command: bool) -> Result<(), String> {
        let status = self.qtest.readl(STR3)?;
        let wanted = if command {
            status | COMMAND_DATA
        } else {
            status & !COMMAND_DATA
        };
        if wanted != status {
            self.qtest.writel(STR3, wanted)?;
        }
        self.qom_set(LPC, "idr3", json!(byte))
    }

    /// The host reads the data port.
    fn host_read(&mut self) -> Result<u8, String> {
        let value = self.qom_get(LPC, "odr3")?;
        value
            .as_u64()
            .and_then(|v| u8::try_from(v & 0xFF).ok())
            .ok_or_else(|| format!("odr3 is {value}"))
    }
}
