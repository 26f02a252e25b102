//! Boot option parameter 5, the boot flags, as typed values (IPMI v2.0 §28.13,
//! Table 28-14 parameter 5).
//!
//! ```text
//!          7          6          5        4        3        2        1        0
//! data 1 [ valid  ][persistent][  EFI  ][               reserved                ]
//! data 2 [CMOS clr][lock kbd ][       device selector (5:2)     ][blank  ][lock rst]
//! data 3 [lock pwr][ verbosity (6:5)   ][ PET   ][pw bypass][lock slp][console 1:0]
//! data 4 [           reserved (7:4)            ][shared ][ mux override (2:0)    ]
//! data 5 [     reserved (7:5)        ][      device instance selector (4:0)      ]
//! ```
//!
//! Reserved bits are ignored on write and read back as 0. Reserved *values* of
//! a field (a device selector of 1010b, verbosity 11b, ...) are refused with
//! completion code CCh, so a stored [`BootRequest`] always re-encodes to the
//! bytes that were accepted.

use ipmi_wire::{code_set, CompletionCode};

code_set! {
    /// The boot device selector, data byte 2 bits 5:2 (IPMI v2.0 Table 28-14
    /// parameter 5). 1010b and 1100b-1110b are reserved.
    #[derive(Default)]
    pub enum BootDevice {
        /// 0000b: no override; the firmware keeps its own boot order.
        #[default]
        NoOverride = 0x0, "No override";
        /// 0001b: force PXE (ipmitool `pxe`).
        Pxe = 0x1, "Force PXE";
        /// 0010b: force boot from the default hard drive (ipmitool `disk`).
        Disk = 0x2, "Force boot from default Hard-drive";
        /// 0011b: default hard drive, request Safe Mode (ipmitool `safe`).
        DiskSafeMode = 0x3, "Force boot from default Hard-drive, request Safe Mode";
        /// 0100b: force boot from the default diagnostic partition (`diag`).
        Diagnostic = 0x4, "Force boot from default Diagnostic Partition";
        /// 0101b: force boot from the default CD/DVD (ipmitool `cdrom`).
        CdDvd = 0x5, "Force boot from default CD/DVD";
        /// 0110b: force boot into BIOS setup (ipmitool `bios`).
        BiosSetup = 0x6, "Force boot into BIOS Setup";
        /// 0111b: remotely connected (redirected) floppy/primary removable media.
        RemoteFloppy = 0x7, "Force boot from remotely connected Floppy/primary removable media";
        /// 1000b: remotely connected (redirected) CD/DVD.
        RemoteCdDvd = 0x8, "Force boot from remotely connected CD/DVD";
        /// 1001b: primary remote media.
        RemotePrimaryMedia = 0x9, "Force boot from primary remote media";
        /// 1011b: remotely connected (redirected) hard drive.
        RemoteDisk = 0xB, "Force boot from remotely connected Hard Drive";
        /// 1111b: floppy/primary removable media (ipmitool `floppy`).
        Floppy = 0xF, "Force boot from Floppy/primary removable media";
    }
}

code_set! {
    /// Firmware (BIOS) verbosity, data byte 3 bits 6:5. 11b is reserved.
    #[derive(Default)]
    pub enum Verbosity {
        /// 00b: system default.
        #[default]
        SystemDefault = 0, "System default";
        /// 01b: request quiet display.
        Quiet = 1, "Request quiet display";
        /// 10b: request verbose display.
        Verbose = 2, "Request verbose display";
    }
}

code_set! {
    /// Console redirection control, data byte 3 bits 1:0. 11b is reserved.
    #[derive(Default)]
    pub enum ConsoleRedirection {
        /// 00b: redirection occurs per the BIOS configuration setting.
        #[default]
        BiosSetting = 0, "Console redirection occurs per BIOS configuration setting";
        /// 01b: suppress (skip) console redirection if enabled.
        Suppress = 1, "Suppress (skip) console redirection if enabled";
        /// 10b: request console redirection be enabled.
        Enable = 2, "Request console redirection be enabled";
    }
}

code_set! {
    /// BIOS mux control override, data byte 4 bits 2:0. 011b-111b are reserved.
    #[derive(Default)]
    pub enum MuxOverride {
        /// 000b: BIOS uses the recommended mux setting at the end of POST.
        #[default]
        Recommended = 0, "BIOS uses recommended setting of the mux at the end of POST";
        /// 001b: force the mux to the BMC at the end of POST.
        ForceBmc = 1, "Requests BIOS to force mux to BMC at conclusion of POST";
        /// 010b: force the mux to the system at the end of POST.
        ForceSystem = 2, "Requests BIOS to force mux to system at conclusion of POST";
    }
}

/// The boot flags of parameter 5 as typed values: what the host firmware is
/// asked to do on its next boot (all boots, if `persistent`). The valid bit is
/// not part of it; [`crate::BootOptions::boot_request`] is `None` when it is
/// clear.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct BootRequest {
    /// Data 2 bits 5:2: the device to boot from.
    pub device: BootDevice,
    /// Data 1 bit 6: apply to all future boots, not just the next one.
    pub persistent: bool,
    /// Data 1 bit 5: EFI boot rather than PC-compatible (legacy) boot.
    pub efi: bool,
    /// Data 2 bit 7: clear CMOS.
    pub clear_cmos: bool,
    /// Data 2 bit 6: lock the keyboard.
    pub lock_keyboard: bool,
    /// Data 2 bit 1: blank the screen.
    pub screen_blank: bool,
    /// Data 2 bit 0: lock out the reset buttons.
    pub lock_reset_button: bool,
    /// Data 3 bit 7: lock out power off/sleep requests via the power button.
    pub lock_power_button: bool,
    /// Data 3 bits 6:5: firmware verbosity.
    pub verbosity: Verbosity,
    /// Data 3 bit 4: force progress event (PET) traps.
    pub force_progress_traps: bool,
    /// Data 3 bit 3: bypass the user password.
    pub password_bypass: bool,
    /// Data 3 bit 2: lock out the sleep button.
    pub lock_sleep_button: bool,
    /// Data 3 bits 1:0: console redirection control.
    pub console_redirection: ConsoleRedirection,
    /// Data 4 bit 3: BIOS shared mode override.
    pub shared_mode_override: bool,
    /// Data 4 bits 2:0: BIOS mux control override.
    pub mux_override: MuxOverride,
    /// Data 5 bits 4:0: device instance selector, 0 = unspecified (only the
    /// low five bits are encoded).
    pub device_instance: u8,
}

impl BootRequest {
    /// Decodes the five data bytes of parameter 5, ignoring the valid bit and
    /// reserved bits. A reserved field value is refused with CCh.
    pub fn from_flags(data: [u8; 5]) -> Result<Self, CompletionCode> {
        let bad = CompletionCode::INVALID_DATA_FIELD;
        let [d1, d2, d3, d4, d5] = data;
        let bit = |byte: u8, n: u8| byte & (1 << n) != 0;
        Ok(Self {
            device: BootDevice::from_code((d2 >> 2) & 0x0F).ok_or(bad)?,
            persistent: bit(d1, 6),
            efi: bit(d1, 5),
            clear_cmos: bit(d2, 7),
            lock_keyboard: bit(d2, 6),
            screen_blank: bit(d2, 1),
            lock_reset_button: bit(d2, 0),
            lock_power_button: bit(d3, 7),
            verbosity: Verbosity::from_code((d3 >> 5) & 0x03).ok_or(bad)?,
            force_progress_traps: bit(d3, 4),
            password_bypass: bit(d3, 3),
            lock_sleep_button: bit(d3, 2),
            console_redirection: ConsoleRedirection::from_code(d3 & 0x03).ok_or(bad)?,
            shared_mode_override: bit(d4, 3),
            mux_override: MuxOverride::from_code(d4 & 0x07).ok_or(bad)?,
            device_instance: d5 & 0x1F,
        })
    }

    /// Encodes as the five data bytes of parameter 5, with the given valid bit.
    pub fn to_flags(&self, valid: bool) -> [u8; 5] {
        let bit = |set: bool, n: u8| u8::from(set) << n;
        [
            bit(valid, 7) | bit(self.persistent, 6) | bit(self.efi, 5),
            bit(self.clear_cmos, 7)
                | bit(self.lock_keyboard, 6)
                | self.device.code() << 2
                | bit(self.screen_blank, 1)
                | bit(self.lock_reset_button, 0),
            bit(self.lock_power_button, 7)
                | self.verbosity.code() << 5
                | bit(self.force_progress_traps, 4)
                | bit(self.password_bypass, 3)
                | bit(self.lock_sleep_button, 2)
                | self.console_redirection.code(),
            bit(self.shared_mode_override, 3) | self.mux_override.code(),
            self.device_instance & 0x1F,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn boot_device_codes_match_table_28_14() {
        for (code, device) in [
            (0b0000, BootDevice::NoOverride),
            (0b0001, BootDevice::Pxe),
            (0b0010, BootDevice::Disk),
            (0b0011, BootDevice::DiskSafeMode),
            (0b0100, BootDevice::Diagnostic),
            (0b0101, BootDevice::CdDvd),
            (0b0110, BootDevice::BiosSetup),
            (0b0111, BootDevice::RemoteFloppy),
            (0b1000, BootDevice::RemoteCdDvd),
            (0b1001, BootDevice::RemotePrimaryMedia),
            (0b1011, BootDevice::RemoteDisk),
            (0b1111, BootDevice::Floppy),
        ] {
            assert_eq!(device.code(), code, "{device:?}");
            assert_eq!(BootDevice::from_code(code), Some(device));
        }
        for reserved in [0b1010, 0b1100, 0b1101, 0b1110, 0x10, 0xFF] {
            assert_eq!(BootDevice::from_code(reserved), None, "{reserved:#x}");
        }
        assert_eq!(BootDevice::KNOWN.len(), 12);
    }

    #[test]
    fn field_codes_match_table_28_14() {
        for (code, v) in [
            (0, Verbosity::SystemDefault),
            (1, Verbosity::Quiet),
            (2, Verbosity::Verbose),
        ] {
            assert_eq!((v.code(), Verbosity::from_code(code)), (code, Some(v)));
        }
        for (code, c) in [
            (0, ConsoleRedirection::BiosSetting),
            (1, ConsoleRedirection::Suppress),
            (2, ConsoleRedirection::Enable),
        ] {
            assert_eq!(
                (c.code(), ConsoleRedirection::from_code(code)),
                (code, Some(c))
            );
        }
        for (code, m) in [
            (0, MuxOverride::Recommended),
            (1, MuxOverride::ForceBmc),
            (2, MuxOverride::ForceSystem),
        ] {
            assert_eq!((m.code(), MuxOverride::from_code(code)), (code, Some(m)));
        }
        assert_eq!(Verbosity::from_code(3), None);
        assert_eq!(ConsoleRedirection::from_code(3), None);
        assert_eq!(MuxOverride::from_code(3), None);
    }

    #[test]
    fn every_flag_bit_lands_where_table_28_14_puts_it() {
        let all = BootRequest {
            device: BootDevice::Floppy,
            persistent: true,
            efi: true,
            clear_cmos: true,
            lock_keyboard: true,
            screen_blank: true,
            lock_reset_button: true,
            lock_power_button: true,
            verbosity: Verbosity::Verbose,
            force_progress_traps: true,
            password_bypass: true,
            lock_sleep_button: true,
            console_redirection: ConsoleRedirection::Enable,
            shared_mode_override: true,
            mux_override: MuxOverride::ForceSystem,
            device_instance: 0x1F,
        };
        let bytes = all.to_flags(true);
        assert_eq!(bytes, [0xE0, 0xFF, 0xDE, 0x0A, 0x1F]);
        assert_eq!(BootRequest::from_flags(bytes), Ok(all));
        assert_eq!(BootRequest::default().to_flags(false), [0; 5]);
    }

    #[test]
    fn reserved_field_values_are_refused_with_cc() {
        let cc = Err(CompletionCode::INVALID_DATA_FIELD);
        assert_eq!(BootRequest::from_flags([0x80, 0x28, 0, 0, 0]), cc); // device 1010b
        assert_eq!(BootRequest::from_flags([0x80, 0x30, 0, 0, 0]), cc); // device 1100b
        assert_eq!(BootRequest::from_flags([0x80, 0, 0x60, 0, 0]), cc); // verbosity 11b
        assert_eq!(BootRequest::from_flags([0x80, 0, 0x03, 0, 0]), cc); // console 11b
        assert_eq!(BootRequest::from_flags([0x80, 0, 0, 0x03, 0]), cc); // mux 011b
    }

    proptest! {
        #[test]
        fn accepted_flags_reencode_without_reserved_bits(data in any::<[u8; 5]>()) {
            if let Ok(request) = BootRequest::from_flags(data) {
                let valid = data[0] & 0x80 != 0;
                let masks = [0xE0, 0xFF, 0xFF, 0x0F, 0x1F];
                let expected: Vec<u8> = data.iter().zip(masks).map(|(d, m)| d & m).collect();
                prop_assert_eq!(request.to_flags(valid).to_vec(), expected);
            }
        }
    }
}
