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
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OK: Result<Vec<u8>, CompletionCode> = Ok(Vec::new());

    /// Sends each request and expects every one to succeed.
    fn send(options: &mut BootOptions, requests: &[&[u8]]) {
        for request in requests {
            assert_eq!(options.set(request), OK, "request {request:02x?}");
        }
    }

    /// The Set requests ipmitool 1.8.19 sends for `chassis bootdev <dev>`
    /// (lib/ipmi_chassis.c ipmi_chassis_set_bootdev): set in progress
    /// (chassis_bootparam_set_in_progress), clear the BIOS/POST ack
    /// (chassis_bootparam_clear_ack(BIOS_POST_ACK): mask 01h, data 01h), boot
    /// flags with the valid bit OR-ed into data 1, commit write, set complete.
    fn ipmitool_bootdev(flags: [u8; 5]) -> Vec<Vec<u8>> {
        vec![
            vec![0x00, 0x01],
            vec![0x04, 0x01, 0x01],
            [&[0x05][..], &flags].concat(),
            vec![0x00, 0x02],
            vec![0x00, 0x00],
        ]
    }

    fn run(options: &mut BootOptions, requests: &[Vec<u8>]) {
        let requests: Vec<&[u8]> = requests.iter().map(Vec::as_slice).collect();
        send(options, &requests);
    }

    #[test]
    fn chassis_bootdev_pxe() {
        let mut options = BootOptions::default();
        let requests = ipmitool_bootdev([0x80, 0x04, 0x00, 0x00, 0x00]);
        assert_eq!(requests[2], [0x05, 0x80, 0x04, 0x00, 0x00, 0x00]);
        run(&mut options, &requests);
        // `chassis bootparam get 5` (ipmi_chassis_get_bootparam sends
        // param & 7Fh, set selector 0, block selector 0).
        let rsp = options.get(&[0x05, 0x00, 0x00]);
        assert_eq!(rsp, Ok(vec![0x01, 0x05, 0x80, 0x04, 0x00, 0x00, 0x00]));
        assert_eq!(
            options.get(&[0x04, 0x00, 0x00]),
            Ok(vec![0x01, 0x04, 0x00, 0x01])
        );
        assert_eq!(options.get(&[0x00, 0x00, 0x00]), Ok(vec![0x01, 0x00, 0x00]));
        let expected = BootRequest {
            device: BootDevice::Pxe,
            ..BootRequest::default()
        };
        assert_eq!(options.boot_request(), Some(expected));
    }

    #[test]
    fn chassis_bootdev_disk_options_persistent() {
        // bootdev_parse_options("persistent") sets data 1 bit 6 (BF1_PERSIST).
        let mut options = BootOptions::default();
        run(
            &mut options,
            &ipmitool_bootdev([0xC0, 0x08, 0x00, 0x00, 0x00]),
        );
        let rsp = options.get(&[0x05, 0x00, 0x00]);
        assert_eq!(rsp, Ok(vec![0x01, 0x05, 0xC0, 0x08, 0x00, 0x00, 0x00]));
        let request = options.boot_request().unwrap();
        assert_eq!(
            (request.device, request.persistent, request.efi),
            (BootDevice::Disk, true, false)
        );
    }

    #[test]
    fn chassis_bootdev_pxe_options_efiboot() {
        // bootdev_parse_options("efiboot") sets data 1 bit 5 (BF1_BOOT_TYPE_EFI).
        let mut options = BootOptions::default();
        run(
            &mut options,
            &ipmitool_bootdev([0xA0, 0x04, 0x00, 0x00, 0x00]),
        );
        let rsp = options.get(&[0x05, 0x00, 0x00]);
        assert_eq!(rsp, Ok(vec![0x01, 0x05, 0xA0, 0x04, 0x00, 0x00, 0x00]));
        let request = options.boot_request().unwrap();
        assert_eq!(
            (request.device, request.persistent, request.efi),
            (BootDevice::Pxe, false, true)
        );
    }

    #[test]
    fn every_ipmitool_bootdev_argument() {
        // ipmi_chassis_set_bootdev: argument -> flags[1]; `clear-cmos=yes`
        // adds data 2 bit 7.
        for (arg, data2, device) in [
            ("none", 0x00, BootDevice::NoOverride),
            ("pxe", 0x04, BootDevice::Pxe),
            ("disk", 0x08, BootDevice::Disk),
            ("safe", 0x0C, BootDevice::DiskSafeMode),
            ("diag", 0x10, BootDevice::Diagnostic),
            ("cdrom", 0x14, BootDevice::CdDvd),
            ("bios", 0x18, BootDevice::BiosSetup),
            ("floppy", 0x3C, BootDevice::Floppy),
            ("pxe clear-cmos=yes", 0x84, BootDevice::Pxe),
        ] {
            let mut options = BootOptions::default();
            run(&mut options, &ipmitool_bootdev([0x80, data2, 0, 0, 0]));
            let request = options.boot_request().expect(arg);
            assert_eq!(request.device, device, "{arg}");
            assert_eq!(request.clear_cmos, data2 & 0x80 != 0, "{arg}");
            assert_eq!(options.get(&[5, 0, 0]).unwrap()[3], data2, "{arg}");
        }
    }

    #[test]
    fn chassis_bootparam_set_bootflag_options_timeout() {
        // `bootparam set bootflag force_pxe options=timeout`: the bootdev
        // sequence, then ipmi_chassis_set_bootvalid reads parameter 3
        // (ipmi_chassis_get_bootvalid) and writes it back with the "timeout"
        // bit (08h) cleared, between set in progress and commit/complete.
        let mut options = BootOptions::default();
        send(&mut options, &[&[0x03, 0x1F]]);
        run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        send(&mut options, &[&[0x00, 0x01], &[0x04, 0x01, 0x01]]);
        assert_eq!(options.get(&[0x03, 0x00, 0x00]), Ok(vec![0x01, 0x03, 0x1F]));
        send(
            &mut options,
            &[&[0x03, 0x1F & !0x08], &[0x00, 0x02], &[0x00, 0x00]],
        );
        assert_eq!(options.valid_bit_clearing(), 0x17);
        assert_eq!(options.timeout_remaining(), Some(VALID_BIT_TIMEOUT));
    }

    #[test]
    fn power_on_defaults() {
        let options = BootOptions::default();
        for (param, expected) in [
            (0, vec![0x01, 0x00, 0x00]),
            (1, vec![0x01, 0x01, 0x00]),
            (2, vec![0x01, 0x02, 0x00]),
            (3, vec![0x01, 0x03, 0x00]),
            (4, vec![0x01, 0x04, 0x00, 0x00]),
            (5, vec![0x01, 0x05, 0, 0, 0, 0, 0]),
            (6, vec![0x01, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ] {
            assert_eq!(options.get(&[param, 0, 0]), Ok(expected), "param {param}");
        }
        assert_eq!(options.boot_request(), None);
        assert_eq!(options.timeout_remaining(), None);
    }

    #[test]
    fn set_in_progress_rules() {
        let mut options = BootOptions::default();
        send(&mut options, &[&[0x00, 0x01]]);
        assert!(options.set_in_progress());
        // Another party claiming the set while one is in progress: 81h.
        assert_eq!(options.set(&[0x00, 0x01]), Err(CC_SET_IN_PROGRESS_ACTIVE));
        // Commit write ends the set; a new party may then claim it.
        send(&mut options, &[&[0x00, 0x02], &[0x00, 0x01]]);
        assert_eq!(
            options.set(&[0x00, 0x03]),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        // Reserved bits 7:2 are ignored: FCh is "set complete".
        send(&mut options, &[&[0x00, 0xFC]]);
        assert!(!options.set_in_progress());
        // A host reset while in progress returns to "set complete".
        send(&mut options, &[&[0x00, 0x01]]);
        options.on_host_reset(ResetCause::ResetButtonOrSoft);
        assert_eq!(options.get(&[0, 0, 0]), Ok(vec![0x01, 0x00, 0x00]));
    }

    #[test]
    fn locked_parameter_is_read_only() {
        let mut options = BootOptions::default();
        run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        // Selector bit 7 with no data marks parameter 5 invalid/locked.
        send(&mut options, &[&[0x85]]);
        assert!(options.is_locked(5));
        assert_eq!(options.get(&[5, 0, 0]).unwrap()[1], 0x85);
        assert_eq!(
            options.set(&[0x05, 0x80, 0x08, 0, 0, 0]),
            Err(CC_PARAMETER_READ_ONLY)
        );
        assert_eq!(
            options.set(&[0x85, 0x80, 0x08, 0, 0, 0]),
            Err(CC_PARAMETER_READ_ONLY)
        );
        assert_eq!(options.boot_request().unwrap().device, BootDevice::Pxe);
        // No data and bit 7 clear unlocks; then writes go through.
        send(&mut options, &[&[0x05], &[0x05, 0x80, 0x08, 0, 0, 0]]);
        assert_eq!(options.get(&[5, 0, 0]).unwrap()[1], 0x05);
        assert_eq!(options.boot_request().unwrap().device, BootDevice::Disk);
        // Writing data with bit 7 set writes, then locks.
        send(&mut options, &[&[0x81, 0x07]]);
        assert_eq!(options.get(&[1, 0, 0]), Ok(vec![0x01, 0x81, 0x07]));
    }

    #[test]
    fn unsupported_parameters_answer_80h() {
        let mut options = BootOptions::default();
        for param in [7u8, 8, 0x5F, 0x60, 0x7F] {
            assert_eq!(options.set(&[param, 0x00]), Err(CC_PARAMETER_NOT_SUPPORTED));
            assert_eq!(
                options.set(&[param | 0x80]),
                Err(CC_PARAMETER_NOT_SUPPORTED)
            );
            assert_eq!(options.get(&[param, 0, 0]), Err(CC_PARAMETER_NOT_SUPPORTED));
        }
        assert_eq!(options, BootOptions::default());
    }

    #[test]
    fn parameter_selectors_match_table_28_14() {
        use BootParameter as P;
        for (expected, param) in [
            (0, P::SetInProgress),
            (1, P::ServicePartitionSelector),
            (2, P::ServicePartitionScan),
            (3, P::ValidBitClearing),
            (4, P::BootInfoAck),
            (5, P::BootFlags),
            (6, P::BootInitiatorInfo),
        ] {
            assert_eq!(
                (param.code(), P::from_code(expected)),
                (expected, Some(param))
            );
        }
        assert_eq!(P::KNOWN.len(), 7);
        for (expected, state) in [
            (0b00, SetState::SetComplete),
            (0b01, SetState::SetInProgress),
            (0b10, SetState::CommitWrite),
        ] {
            assert_eq!(state.code(), expected, "{state:?}");
        }
        assert_eq!(SetState::from_code(0b11), None);
    }

    #[test]
    fn bad_lengths_and_fields() {
        let c7 = Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        let cc = Err(CompletionCode::INVALID_DATA_FIELD);
        let mut options = BootOptions::default();
        for request in [
            &[][..],
            &[0x00, 0x01, 0x00],
            &[0x01, 0x01, 0x02],
            &[0x04, 0x01],
            &[0x05, 0x80, 0x04, 0x00, 0x00],
            &[0x05, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00],
            &[0x06, 0x01],
        ] {
            assert_eq!(options.set(request), c7, "{request:02x?}");
        }
        assert_eq!(options.set(&[0x05, 0x80, 0x28, 0, 0, 0]), cc);
        assert_eq!(options.set(&[0x05, 0x80, 0x00, 0x60, 0, 0]), cc);
        assert_eq!(options, BootOptions::default());
        for request in [&[][..], &[0x05], &[0x05, 0x00], &[0x05, 0x00, 0x00, 0x00]] {
            assert_eq!(options.get(request), c7, "{request:02x?}");
        }
    }

    #[test]
    fn boot_info_ack_honours_the_write_mask() {
        let mut options = BootOptions::default();
        send(&mut options, &[&[0x04, 0xFF, 0xFF], &[0x04, 0x01, 0x00]]);
        // Reserved bits 7:5 read back as 0; only bit 0 was written as 0b.
        assert_eq!(options.get(&[4, 0, 0]), Ok(vec![0x01, 0x04, 0x00, 0x1E]));
        send(&mut options, &[&[0x04, 0x00, 0x00]]);
        assert_eq!(options.boot_info_ack(), 0x1E);
    }

    #[test]
    fn boot_initiator_info_is_little_endian() {
        let mut options = BootOptions::default();
        let data = [0xF1, 0x78, 0x56, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01];
        send(&mut options, &[&[&[0x06][..], &data].concat()]);
        let initiator = options.boot_initiator();
        assert_eq!(
            (initiator.channel, initiator.session_id),
            (0x01, 0x1234_5678)
        );
        assert_eq!(initiator.timestamp, 0x0102_0304);
        let rsp = options.get(&[6, 0, 0]).unwrap();
        assert_eq!(
            rsp[2..],
            [0x01, 0x78, 0x56, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01]
        );
    }

    #[test]
    fn on_host_boot_uses_up_next_boot_only_requests() {
        let mut once = BootOptions::default();
        run(&mut once, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        once.on_host_boot();
        assert_eq!(once.boot_request(), None);
        assert_eq!(
            once.get(&[5, 0, 0]),
            Ok(vec![0x01, 0x05, 0x00, 0x04, 0, 0, 0])
        );

        let mut persistent = BootOptions::default();
        run(&mut persistent, &ipmitool_bootdev([0xC0, 0x08, 0, 0, 0]));
        for _ in 0..3 {
            persistent.on_host_boot();
            assert_eq!(
                persistent.boot_request().map(|r| r.device),
                Some(BootDevice::Disk)
            );
        }
    }

    #[test]
    fn host_resets_follow_parameter_3() {
        for (cause, keep_bit) in [
            (ResetCause::PowerButtonOrWake, 0x01),
            (ResetCause::ResetButtonOrSoft, 0x02),
            (ResetCause::Watchdog, 0x04),
            (ResetCause::Pef, 0x10),
        ] {
            let mut options = BootOptions::default();
            run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
            options.on_host_reset(cause);
            assert_eq!(options.boot_request(), None, "{cause:?} clears by default");

            send(
                &mut options,
                &[&[0x03, keep_bit], &[0x05, 0x80, 0x04, 0, 0, 0]],
            );
            options.on_host_reset(cause);
            assert!(
                options.boot_request().is_some(),
                "{cause:?} kept by {keep_bit:#04x}"
            );
        }
        let mut options = BootOptions::default();
        run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        options.on_host_reset(ResetCause::ChassisControl);
        assert!(options.boot_request().is_some());
        assert_eq!(options.timeout_remaining(), None);
    }

    #[test]
    fn valid_bit_clears_60_s_after_set() {
        let mut options = BootOptions::default();
        run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        assert_eq!(options.timeout_remaining(), Some(Duration::from_secs(60)));
        options.tick(Duration::from_secs(59));
        assert_eq!(options.timeout_remaining(), Some(Duration::from_secs(1)));
        assert!(options.boot_request().is_some());
        options.tick(Duration::from_secs(1));
        assert_eq!(options.boot_request(), None);
        assert_eq!(options.timeout_remaining(), None);
        assert_eq!(options.get(&[5, 0, 0]).unwrap()[2], 0x00);
    }

    #[test]
    fn valid_bit_timeout_exceptions() {
        // Parameter 3 bit 3 disables the timeout.
        let mut options = BootOptions::default();
        send(&mut options, &[&[0x03, 0x08]]);
        run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        options.tick(Duration::from_secs(3600));
        assert!(options.boot_request().is_some());
        // A Chassis Control command stops the countdown.
        let mut options = BootOptions::default();
        run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        options.tick(Duration::from_secs(30));
        options.on_host_reset(ResetCause::ChassisControl);
        options.tick(Duration::from_secs(3600));
        assert!(options.boot_request().is_some());
        // Persistent requests never time out; a rewrite restarts the count.
        let mut options = BootOptions::default();
        run(&mut options, &ipmitool_bootdev([0xC0, 0x08, 0, 0, 0]));
        assert_eq!(options.timeout_remaining(), None);
        options.tick(Duration::from_secs(3600));
        assert!(options.boot_request().is_some());
        send(&mut options, &[&[0x05, 0x80, 0x04, 0, 0, 0]]);
        options.tick(Duration::from_secs(40));
        send(&mut options, &[&[0x05, 0x80, 0x14, 0, 0, 0]]);
        options.tick(Duration::from_secs(40));
        assert_eq!(
            options.boot_request().map(|r| r.device),
            Some(BootDevice::CdDvd)
        );
    }

    #[test]
    fn set_boot_request_from_the_bmc_side() {
        let mut options = BootOptions::default();
        send(&mut options, &[&[0x85]]);
        let request = BootRequest {
            device: BootDevice::RemoteCdDvd,
            device_instance: 0xFF,
            ..BootRequest::default()
        };
        options.set_boot_request(Some(request));
        assert_eq!(
            options.get(&[5, 0, 0]),
            Ok(vec![0x01, 0x85, 0x80, 0x20, 0, 0, 0x1F])
        );
        assert_eq!(options.boot_request().unwrap().device_instance, 0x1F);
        assert_eq!(options.timeout_remaining(), Some(VALID_BIT_TIMEOUT));
        options.set_boot_request(None);
        assert_eq!(options.boot_request(), None);
    }

    #[test]
    fn store_round_trip() {
        let mut options = BootOptions::default();
        run(
            &mut options,
            &ipmitool_bootdev([0xE0, 0xBC, 0xCA, 0x09, 0x03]),
        );
        let initiator = [0x06, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        send(&mut options, &[&[0x81, 0x02], &[0x02, 0x02], &[0x03, 0x1F]]);
        send(&mut options, &[&[&[0x86][..], &initiator].concat()]);
        let bytes = options.to_bytes();
        assert_eq!(
            bytes,
            [
                0x01, 0x42, 0x02, 0x02, 0x1F, 0x01, 0xE0, 0xBC, 0xCA, 0x09, 0x03, 0x06, 0x01, 0x02,
                0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            ]
        );
        assert_eq!(BootOptions::from_bytes(&bytes), Some(options));
    }

    #[test]
    fn store_rejects_foreign_bytes() {
        let good = BootOptions::default().to_bytes();
        assert!(BootOptions::from_bytes(&good).is_some());
        assert_eq!(BootOptions::from_bytes(&good[..19]), None);
        assert_eq!(
            BootOptions::from_bytes(&[good.as_slice(), &[0]].concat()),
            None
        );
        for (index, value) in [(0, 0x02), (1, 0x80), (7, 0x28), (8, 0x60)] {
            let mut bad = good.clone();
            bad[index] = value;
            assert_eq!(
                BootOptions::from_bytes(&bad),
                None,
                "byte {index} = {value:#04x}"
            );
        }
    }

    proptest! {
        #[test]
        fn set_and_get_never_panic(requests in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..12), 0..16)
        ) {
            let mut options = BootOptions::default();
            for request in &requests {
                let _ = options.set(request);
                let _ = options.get(request);
                options.tick(Duration::from_secs(7));
            }
            // Whatever was accepted survives the state directory, except
            // volatile parameter 0 and the countdown.
            let restored = BootOptions::from_bytes(&options.to_bytes());
            prop_assert!(restored.is_some());
            let restored = restored.unwrap_or_default();
            for param in 1..=6u8 {
                prop_assert_eq!(restored.get(&[param, 0, 0]), options.get(&[param, 0, 0]));
            }
        }
    }
}
