//! Sans-IO IPMI System Boot Options: the state a BMC keeps for Set System Boot
//! Options (IPMI v2.0 §28.12) and Get System Boot Options (§28.13), and the
//! exact request and response bytes of both, as ipmitool 1.8.19 exercises them
//! (`chassis bootdev`, `chassis bootparam get|set`).
//!
//! No sockets, files or clock reads: [`BootOptions::set`] and
//! [`BootOptions::get`] take request data and return response data or a
//! completion code; host restarts arrive as [`BootOptions::on_host_reset`] and
//! [`BootOptions::on_host_boot`]; time arrives as [`BootOptions::tick`], and
//! [`BootOptions::timeout_remaining`] is the next deadline to arm a timer for.
//!
//! # Layout
//! - [`BootOptions`]: parameters 0-6 of Table 28-14, the set-in-progress
//!   rules, the valid-bit clearing rules and the 60 s timeout, and a compact
//!   byte form for the daemon's state directory.
//! - [`flags`]: parameter 5 as typed values: [`BootRequest`], [`BootDevice`]
//!   and the other field codes.
//! - [`BootParameter`], [`SetState`]: the parameter selectors and the set in
//!   progress states, as `ipmi_wire::code_set!` tables.
#![forbid(unsafe_code)]

pub mod flags;

use std::time::Duration;

pub use flags::{BootDevice, BootRequest, ConsoleRedirection, MuxOverride, Verbosity};
use ipmi_wire::{code_set, CompletionCode};

/// All boot option parameter state a BMC keeps (IPMI v2.0 Table 28-14).
///
/// Supported parameters: 0 set in progress, 1 service partition selector,
/// 2 service partition scan, 3 BMC boot flag valid bit clearing, 4 boot info
/// acknowledge, 5 boot flags, 6 boot initiator info. Parameter 7 (boot
/// initiator mailbox), the reserved 8-95 and the OEM 96-127 answer 80h.
///
/// The "invalid/locked" bit that a Set request carries in bit 7 of its
/// parameter selector is kept per parameter and returned by Get. A locked
/// parameter refuses data writes with 82h ("read-only") until a Set with no
/// data and bit 7 clear unlocks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootOptions {
    /// Parameter 0 is 01b ("set in progress") rather than 00b ("set complete").
    in_progress: bool,
    /// Bit n set: parameter n is marked invalid/locked.
    locked: u8,
    service_partition_selector: u8,
    service_partition_scan: u8,
    valid_bit_clearing: u8,
    boot_info_ack: u8,
    flags_valid: bool,
    flags: BootRequest,
    initiator: BootInitiator,
    /// Time left before a next-boot-only request's valid bit is cleared.
    timeout: Option<Duration>,
}

impl BootOptions {
    /// Restores what [`Self::to_bytes`] stored, or `None` if the bytes are not
    /// such a record. Each parameter goes through the same checks as a Set
    /// request, so a restored next-boot-only request gets a fresh 60 s.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != STORE_LEN {
            return None;
        }
        let (head, tail) = bytes.split_at(6);
        let (flags, initiator) = tail.split_at(5);
        let [version, locked, selector, scan, clearing, ack] = exactly::<6>(head).ok()?;
        if version != STORE_VERSION || locked & 0x80 != 0 {
            return None;
        }
        let mut options = Self::default();
        let mut restore =
            |param: BootParameter, data: &[u8]| options.set(&[&[param.code()], data].concat()).ok();
        restore(BootParameter::ServicePartitionSelector, &[selector])?;
        restore(BootParameter::ServicePartitionScan, &[scan])?;
        restore(BootParameter::ValidBitClearing, &[clearing])?;
        restore(BootParameter::BootInfoAck, &[0xFF, ack])?;
        restore(BootParameter::BootFlags, flags)?;
        restore(BootParameter::BootInitiatorInfo, initiator)?;
        options.locked = locked;
        Some(options)
    }

    /// Handles Set System Boot Options (NetFn Chassis, Cmd 08h; IPMI v2.0
    /// §28.12) request data. The response data is empty on success.
    ///
    /// ```text
    /// byte 0    [7] 1b = mark parameter invalid/locked, 0b = valid/unlocked
    ///           [6:0] parameter selector
    /// byte 1..  parameter data; none at all changes only the bit 7 mark
    /// ```
    ///
    /// Completion codes: 80h parameter not supported, 81h "set in progress"
    /// written while not in "set complete", 82h data written to a locked
    /// parameter, C7h wrong data length, CCh a reserved field value.
    pub fn set(&mut self, request: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let (&selector, data) = request
            .split_first()
            .ok_or(CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
        let param = BootParameter::from_code(selector & 0x7F).ok_or(CC_PARAMETER_NOT_SUPPORTED)?;
        let mark = param.lock_bit();
        if !data.is_empty() {
            if self.locked & mark != 0 {
                return Err(CC_PARAMETER_READ_ONLY);
            }
            self.write(param, data)?;
        }
        if selector & 0x80 != 0 {
            self.locked |= mark;
        } else {
            self.locked &= !mark;
        }
        Ok(Vec::new())
    }

    /// Handles Get System Boot Options (NetFn Chassis, Cmd 09h; IPMI v2.0
    /// §28.13). No supported parameter uses the set or block selector, so
    /// both are ignored, as is reserved bit 7 of the parameter selector.
    ///
    /// ```text
    /// request   [param selector] [set selector] [block selector]
    /// response  [01h parameter version]
    ///           [7: 1b = invalid/locked][6:0 parameter selector]
    ///           [parameter data ...]
    /// ```
    pub fn get(&self, request: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [selector, _set, _block] = exactly::<3>(request)?;
        let param = BootParameter::from_code(selector & 0x7F).ok_or(CC_PARAMETER_NOT_SUPPORTED)?;
        let mut response = vec![PARAMETER_VERSION, param.code()];
        match param {
            BootParameter::SetInProgress => response.push(u8::from(self.in_progress)),
            BootParameter::ServicePartitionSelector => {
                response.push(self.service_partition_selector);
            }
            BootParameter::ServicePartitionScan => response.push(self.service_partition_scan),
            BootParameter::ValidBitClearing => response.push(self.valid_bit_clearing),
            // Data 1, the write mask, is write-only and reads back as 00h.
            BootParameter::BootInfoAck => response.extend([0x00, self.boot_info_ack]),
            BootParameter::BootFlags => response.extend(self.flags.to_flags(self.flags_valid)),
            BootParameter::BootInitiatorInfo => response.extend(self.initiator.to_bytes()),
        }
        if self.locked & param.lock_bit() != 0 {
            response[1] |= 0x80;
        }
        Ok(response)
    }

    /// What the host's next boot should use: the boot flags, or `None` while
    /// their valid bit (parameter 5 data 1 bit 7) is clear.
    pub fn boot_request(&self) -> Option<BootRequest> {
        self.flags_valid.then_some(self.flags)
    }

    /// The boot flags as stored, valid or not: their mode (EFI) and
    /// persistence stay set while no override is in force, so that a
    /// later override (from D-Bus or Redfish) uses them.
    pub fn stored_flags(&self) -> BootRequest {
        self.flags
    }

    /// Changes the stored flags without making them valid or not (the
    /// boot type or persistence, from the BMC's own side).
    pub fn set_stored_flags(&mut self, mut flags: BootRequest) {
        flags.device_instance &= 0x1F;
        self.flags = flags;
    }

    /// Sets or clears the boot flags from the BMC's own side (D-Bus, Redfish),
    /// as an IPMI write of parameter 5 would, but regardless of its lock.
    pub fn set_boot_request(&mut self, request: Option<BootRequest>) {
        if let Some(mut request) = request {
            request.device_instance &= 0x1F;
            self.flags = request;
        }
        self.flags_valid = request.is_some();
        self.arm_timeout();
    }

    /// The boot the flags were set for has started and the firmware has taken
    /// them (the daemon calls this once POST has read the flags, or, if it
    /// hands [`Self::boot_request`] to the host itself, right after reading
    /// it). A next-boot-only request is used up: its valid bit is cleared
    /// (Table 28-14 parameter 5 data 1 bit 6, "options apply to next boot
    /// only"). A persistent request stays valid.
    pub fn on_host_boot(&mut self) {
        self.in_progress = false;
        self.timeout = None;
        if !self.flags.persistent {
            self.flags_valid = false;
        }
    }

    /// The host was powered up, reset or power cycled. Applies parameter 3:
    /// a next-boot-only request is cleared unless the "don't clear" bit for
    /// this cause is set. A Chassis Control command never clears it (it is the
    /// restart the flags wait for) but stops the 60 s countdown (§28.12).
    /// Either way a pending "set in progress" returns to "set complete"
    /// (Table 28-14 parameter 0).
    pub fn on_host_reset(&mut self, cause: ResetCause) {
        self.in_progress = false;
        let keep_bit = match cause {
            ResetCause::ChassisControl => {
                self.timeout = None;
                return;
            }
            ResetCause::PowerButtonOrWake => KEEP_ON_POWER_BUTTON,
            ResetCause::ResetButtonOrSoft => KEEP_ON_RESET_BUTTON,
            ResetCause::Watchdog => KEEP_ON_WATCHDOG,
            ResetCause::Pef => KEEP_ON_PEF,
        };
        if self.valid_bit_clearing & keep_bit == 0 && !self.flags.persistent {
            self.flags_valid = false;
            self.timeout = None;
        }
    }

    /// Advances the valid-bit countdown by `elapsed`, the time since the
    /// previous `tick` (or since the flags were set). When a next-boot-only
    /// request has stood 60 s without a Chassis Control command, its valid
    /// bit is cleared (§28.12), unless parameter 3 bit 3 says not to.
    pub fn tick(&mut self, elapsed: Duration) {
        let Some(remaining) = self.timeout_remaining() else {
            return;
        };
        match remaining.checked_sub(elapsed) {
            Some(left) if !left.is_zero() => self.timeout = Some(left),
            _ => {
                self.flags_valid = false;
                self.timeout = None;
            }
        }
    }

    /// How long until [`Self::tick`] clears the valid bit, or `None` if no
    /// countdown is running: the deadline for the daemon's timer.
    pub fn timeout_remaining(&self) -> Option<Duration> {
        let enabled = self.valid_bit_clearing & KEEP_ON_TIMEOUT == 0;
        self.timeout
            .filter(|_| enabled && self.flags_valid && !self.flags.persistent)
    }

    /// Parameter 0: whether some party has marked a set "in progress".
    pub fn set_in_progress(&self) -> bool {
        self.in_progress
    }

    /// Parameter 1: the service partition selector, 00h = unspecified.
    pub fn service_partition_selector(&self) -> u8 {
        self.service_partition_selector
    }

    /// Parameter 2: bit 1 = request BIOS to scan, bit 0 = partition discovered.
    pub fn service_partition_scan(&self) -> u8 {
        self.service_partition_scan
    }

    /// Parameter 3: bits 4:0 are the "don't clear the valid bit" conditions
    /// (4 PEF, 3 timeout, 2 watchdog, 1 reset button, 0 power button/wake).
    pub fn valid_bit_clearing(&self) -> u8 {
        self.valid_bit_clearing
    }

    /// Parameter 4 data 2: bit n = 0b once a party has handled the boot info
    /// (4 OEM, 3 SMS, 2 OS/service partition, 1 OS loader, 0 BIOS/POST).
    pub fn boot_info_ack(&self) -> u8 {
        self.boot_info_ack
    }

    /// Parameter 5 as stored, whether or not its valid bit is set.
    pub fn boot_flags(&self) -> BootRequest {
        self.flags
    }

    /// Parameter 6: who initiated the boot request.
    pub fn boot_initiator(&self) -> BootInitiator {
        self.initiator
    }

    /// Whether parameter `param` is marked invalid/locked.
    pub fn is_locked(&self, param: u8) -> bool {
        BootParameter::from_code(param).is_some_and(|param| self.locked & param.lock_bit() != 0)
    }

    /// The compact form the daemon keeps in its state directory. The spec
    /// makes these parameters semi-volatile (kept across host resets, lost on
    /// a BMC reset); storing them makes a daemon restart invisible to the host.
    /// Parameter 0 is volatile and not stored.
    ///
    /// ```text
    /// byte 0       format version, 01h
    /// byte 1       invalid/locked marks, bit n = parameter n
    /// bytes 2-5    parameters 1, 2, 3 and 4 (data 2)
    /// bytes 6-10   parameter 5 data 1-5, as Get returns them
    /// bytes 11-19  parameter 6 data 1-9
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![STORE_VERSION, self.locked];
        bytes.extend([
            self.service_partition_selector,
            self.service_partition_scan,
            self.valid_bit_clearing,
            self.boot_info_ack,
        ]);
        bytes.extend(self.flags.to_flags(self.flags_valid));
        bytes.extend(self.initiator.to_bytes());
        bytes
    }

    /// Writes one parameter's data; the caller has checked selector and lock.
    fn write(&mut self, param: BootParameter, data: &[u8]) -> Result<(), CompletionCode> {
        match param {
            BootParameter::SetInProgress => {
                let [value] = exactly::<1>(data)?;
                let state =
                    SetState::from_code(value & 0x03).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
                match state {
                    SetState::SetComplete => self.in_progress = false,
                    SetState::SetInProgress if self.in_progress => {
                        return Err(CC_SET_IN_PROGRESS_ACTIVE)
                    }
                    SetState::SetInProgress => self.in_progress = true,
                    // Writes take effect at once and there is no rollback,
                    // so a commit has nothing left to do and ends the set.
                    SetState::CommitWrite => self.in_progress = false,
                }
            }
            BootParameter::ServicePartitionSelector => {
                [self.service_partition_selector] = exactly::<1>(data)?;
            }
            BootParameter::ServicePartitionScan => {
                self.service_partition_scan = exactly::<1>(data)?[0] & 0x03;
            }
            BootParameter::ValidBitClearing => {
                self.valid_bit_clearing = exactly::<1>(data)?[0] & 0x1F;
            }
            BootParameter::BootInfoAck => {
                let [mask, value] = exactly::<2>(data)?;
                self.boot_info_ack = ((self.boot_info_ack & !mask) | (value & mask)) & 0x1F;
            }
            BootParameter::BootFlags => {
                let data = exactly::<5>(data)?;
                self.flags = BootRequest::from_flags(data)?;
                self.flags_valid = data[0] & 0x80 != 0;
                self.arm_timeout();
            }
            BootParameter::BootInitiatorInfo => {
                self.initiator = BootInitiator::from_bytes(exactly::<9>(data)?);
            }
        }
        Ok(())
    }

    /// Starts the 60 s countdown for a next-boot-only request. A persistent
    /// request is the BMC-held form of a BIOS setting, so it never times out.
    fn arm_timeout(&mut self) {
        self.timeout = (self.flags_valid && !self.flags.persistent).then_some(VALID_BIT_TIMEOUT);
    }
}

impl Default for BootOptions {
    /// The state after the BMC powers up (IPMI v2.0 Table 28-14): set
    /// complete; service partition 00h "unspecified" and no scan; parameter 3
    /// "Default = 0000b" (clear the valid bit on every cause); boot info
    /// acknowledge "initialized to 00h when the management controller is first
    /// powered up"; boot flags all zero, so not valid; no initiator.
    fn default() -> Self {
        Self {
            in_progress: false,
            locked: 0,
            service_partition_selector: 0,
            service_partition_scan: 0,
            valid_bit_clearing: 0,
            boot_info_ack: 0,
            flags_valid: false,
            flags: BootRequest::default(),
            initiator: BootInitiator::default(),
            timeout: None,
        }
    }
}

/// Parameter 6, boot initiator info (IPMI v2.0 Table 28-14): who asked for
/// the boot, so the firmware can send progress traps back to that session.
///
/// ```text
/// data 1    [7:4] reserved  [3:0] channel number
/// data 2-5  session ID, LS byte first (0 = none)
/// data 6-9  boot info timestamp, seconds, LS byte first
/// ```
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct BootInitiator {
    /// Channel number the request came in on (4 bits).
    pub channel: u8,
    /// Session ID of the requesting session.
    pub session_id: u32,
    /// When the boot info was set, IPMI timestamp seconds.
    pub timestamp: u32,
}

impl BootInitiator {
    fn from_bytes(data: [u8; 9]) -> Self {
        let [channel, s0, s1, s2, s3, t0, t1, t2, t3] = data;
        Self {
            channel: channel & 0x0F,
            session_id: u32::from_le_bytes([s0, s1, s2, s3]),
            timestamp: u32::from_le_bytes([t0, t1, t2, t3]),
        }
    }

    fn to_bytes(self) -> [u8; 9] {
        let mut data = [0; 9];
        data[0] = self.channel & 0x0F;
        data[1..5].copy_from_slice(&self.session_id.to_le_bytes());
        data[5..].copy_from_slice(&self.timestamp.to_le_bytes());
        data
    }
}

/// Why the host restarted, for the valid-bit clearing rules of parameter 3
/// (IPMI v2.0 Table 28-14 parameter 3).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum ResetCause {
    /// A Chassis Control command (power up, cycle, hard reset): the restart
    /// the boot flags were set for. Stops the 60 s countdown.
    ChassisControl,
    /// Power up via the power push button or a wake event (bit 0 keeps).
    PowerButtonOrWake,
    /// Push-button reset or soft reset such as Ctrl-Alt-Del (bit 1 keeps).
    ResetButtonOrSoft,
    /// Reset or power cycle by the watchdog timer (bit 2 keeps).
    Watchdog,
    /// Reset or power cycle by a PEF action (bit 4 keeps).
    Pef,
}

code_set! {
    /// A boot option parameter selector this BMC supports (IPMI v2.0 Table
    /// 28-14). A closed set here: 7 (boot initiator mailbox), the reserved
    /// 8-95 and the OEM 96-127 are refused with 80h, parameter not
    /// supported.
    pub enum BootParameter {
        /// 0: set in progress (volatile).
        SetInProgress = 0, "Set In Progress";
        /// 1: service partition selector.
        ServicePartitionSelector = 1, "Service partition selector";
        /// 2: service partition scan.
        ServicePartitionScan = 2, "Service partition scan";
        /// 3: BMC boot flag valid bit clearing.
        ValidBitClearing = 3, "BMC boot flag valid bit clearing";
        /// 4: boot info acknowledge.
        BootInfoAck = 4, "Boot info acknowledge";
        /// 5: boot flags.
        BootFlags = 5, "Boot flags";
        /// 6: boot initiator info.
        BootInitiatorInfo = 6, "Boot initiator info";
    }
}

impl BootParameter {
    /// This parameter's bit in the invalid/locked marks.
    fn lock_bit(self) -> u8 {
        1 << self.code()
    }
}

code_set! {
    /// Parameter 0 data 1 bits 1:0, set in progress (IPMI v2.0 Table
    /// 28-14); 11b is reserved.
    pub enum SetState {
        /// 00b: set complete.
        SetComplete = 0b00, "set complete";
        /// 01b: set in progress.
        SetInProgress = 0b01, "set in progress";
        /// 10b: commit write (optional).
        CommitWrite = 0b10, "commit write";
    }
}

/// Takes exactly `N` bytes of request data, or answers C7h.
fn exactly<const N: usize>(data: &[u8]) -> Result<[u8; N], CompletionCode> {
    data.try_into()
        .map_err(|_| CompletionCode::REQUEST_DATA_LENGTH_INVALID)
}

/// The parameter version Get returns in its first data byte (§28.13).
pub const PARAMETER_VERSION: u8 = 0x01;
/// How long a next-boot-only request stays valid without a Chassis Control
/// command (§28.12: 60 s ± 10 %).
pub const VALID_BIT_TIMEOUT: Duration = Duration::from_secs(60);
/// 80h: parameter not supported (§28.12, §28.13).
pub const CC_PARAMETER_NOT_SUPPORTED: CompletionCode = CompletionCode(0x80);
/// 81h: attempt to set "set in progress" when not in "set complete" (§28.12).
pub const CC_SET_IN_PROGRESS_ACTIVE: CompletionCode = CompletionCode(0x81);
/// 82h: attempt to write a read-only parameter (§28.12).
pub const CC_PARAMETER_READ_ONLY: CompletionCode = CompletionCode(0x82);

// Parameter 3 bits: 1b = don't clear the valid bit on this cause.
const KEEP_ON_POWER_BUTTON: u8 = 1 << 0;
const KEEP_ON_RESET_BUTTON: u8 = 1 << 1;
const KEEP_ON_WATCHDOG: u8 = 1 << 2;
const KEEP_ON_TIMEOUT: u8 = 1 << 3;
const KEEP_ON_PEF: u8 = 1 << 4;

/// Format version and length of [`BootOptions::to_bytes`].
const STORE_VERSION: u8 = 0x01;
const STORE_LEN: usize = 20;

#[cfg(test)]
mod tests;
