//! The BMC's channels and the channel commands, sans-IO.
//!
//! | NetFn | Cmd | Name                          | Spec    |
//! |-------|-----|-------------------------------|---------|
//! | App   | 40h | Set Channel Access            | §22.22  |
//! | App   | 41h | Get Channel Access            | §22.23  |
//! | App   | 42h | Get Channel Info              | §22.24  |
//! | App   | 4Eh | Get Channel Payload Support   | §24.8   |
//! | App   | 4Fh | Get Channel Payload Version   | §24.9   |
//!
//! rbmc has a LAN channel (802.3, RMCP+ only, multi-session) and, when a KCS
//! interface is configured, the system interface (channel Fh, session-less).
//! Channel access has a non-volatile copy (persisted by the service) and a
//! volatile copy (what is in force, reset from the non-volatile one at
//! start).

use std::collections::BTreeMap;

use ipmi_wire::{code_set, CompletionCode, Privilege};

use crate::commands::{resolve_channel, CommandResult};

/// Set Channel Access.
pub const CMD_SET_CHANNEL_ACCESS: u8 = 0x40;
/// Get Channel Access.
pub const CMD_GET_CHANNEL_ACCESS: u8 = 0x41;
/// Get Channel Info (re-exported from [`crate::commands`]).
pub const CMD_GET_CHANNEL_INFO: u8 = crate::commands::CMD_GET_CHANNEL_INFO;
/// Get Channel Payload Support.
pub const CMD_GET_CHANNEL_PAYLOAD_SUPPORT: u8 = 0x4E;
/// Get Channel Payload Version.
pub const CMD_GET_CHANNEL_PAYLOAD_VERSION: u8 = 0x4F;
/// The system interface's channel number.
pub const SYSTEM_INTERFACE: u8 = 0x0F;
/// The IPMI Forum's IANA number, LS byte first.
const IPMI_FORUM_IANA: [u8; 3] = [0xF2, 0x1B, 0x00];
/// Set/Get Channel Access 82h: not supported for the selected channel
/// (it is session-less).
pub const CC_SET_NOT_SUPPORTED: CompletionCode = CompletionCode(0x82);
/// Set Channel Access 83h: access mode not supported.
pub const CC_ACCESS_MODE_NOT_SUPPORTED: CompletionCode = CompletionCode(0x83);
/// Get Channel Payload Version 80h: payload type not available.
pub const CC_PAYLOAD_NOT_AVAILABLE: CompletionCode = CompletionCode(0x80);

code_set! {
    /// A channel's access mode (IPMI v2.0 Table 22-21, bits 2:0); 4-7 are
    /// reserved and refused with CCh.
    pub enum AccessMode {
        /// No IPMI messages on the channel.
        Disabled = 0, "disabled";
        /// Only while the host is in pre-boot.
        PreBootOnly = 1, "pre-boot only";
        /// Always available.
        AlwaysAvailable = 2, "always available";
        /// Shared with the host's network traffic.
        Shared = 3, "shared";
    }
}

/// One copy (volatile or non-volatile) of a channel's access settings.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ChannelSettings {
    /// Access mode.
    pub access_mode: AccessMode,
    /// PEF alerting disabled.
    pub alerting_disabled: bool,
    /// Per-message authentication disabled (meaningless for RMCP+ here:
    /// every packet is authenticated).
    pub per_message_auth_disabled: bool,
    /// User-level authentication disabled (likewise).
    pub user_level_auth_disabled: bool,
    /// The channel's privilege limit.
    pub privilege_limit: Privilege,
}

impl Default for ChannelSettings {
    fn default() -> Self {
        Self {
            access_mode: AccessMode::AlwaysAvailable,
            alerting_disabled: false,
            per_message_auth_disabled: false,
            user_level_auth_disabled: false,
            privilege_limit: Privilege::Administrator,
        }
    }
}

impl ChannelSettings {
    fn access_byte(self) -> u8 {
        u8::from(self.alerting_disabled) << 5
            | u8::from(self.per_message_auth_disabled) << 4
            | u8::from(self.user_level_auth_disabled) << 3
            | self.access_mode.code()
    }
}

/// The kind of a channel.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ChannelKind {
    /// 802.3 LAN with RMCP+ sessions.
    Lan,
    /// The system interface (KCS).
    SystemInterface,
}

/// The BMC's channels and their access settings.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Channels {
    kinds: BTreeMap<u8, ChannelKind>,
    /// Settings in force.
    volatile: BTreeMap<u8, ChannelSettings>,
    /// Settings restored at start.
    non_volatile: BTreeMap<u8, ChannelSettings>,
    /// The most sessions the LAN channel allows.
    max_sessions: u8,
}

impl Channels {
    /// The LAN channel `lan` (with its non-volatile settings) and, if
    /// `system_interface`, channel Fh.
    pub fn new(
        lan: u8,
        lan_settings: ChannelSettings,
        system_interface: bool,
        max_sessions: usize,
    ) -> Self {
        let mut kinds = BTreeMap::from([(lan, ChannelKind::Lan)]);
        let mut settings = BTreeMap::from([(lan, lan_settings)]);
        if system_interface {
            kinds.insert(SYSTEM_INTERFACE, ChannelKind::SystemInterface);
            settings.insert(SYSTEM_INTERFACE, ChannelSettings::default());
        }
        Self {
            kinds,
            volatile: settings.clone(),
            non_volatile: settings,
            max_sessions: u8::try_from(max_sessions.min(63)).unwrap_or(63),
        }
    }

    /// The settings in force on `channel`.
    pub fn settings(&self, channel: u8) -> Option<ChannelSettings> {
        self.volatile.get(&channel).copied()
    }

    /// The non-volatile settings of `channel` (what the service persists).
    pub fn non_volatile(&self, channel: u8) -> Option<ChannelSettings> {
        self.non_volatile.get(&channel).copied()
    }

    fn resolve(&self, byte: u8, present: u8) -> Result<(u8, ChannelKind), CompletionCode> {
        let channel = resolve_channel(byte, present);
        self.kinds
            .get(&channel)
            .map(|kind| (channel, *kind))
            .ok_or(CompletionCode::INVALID_DATA_FIELD)
    }

    /// Get Channel Info (Table 22-28).
    pub fn cmd_get_channel_info(
        &self,
        data: &[u8],
        present: u8,
        active_sessions: usize,
    ) -> CommandResult {
        let [requested] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if requested & 0xF0 != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let (channel, kind) = self.resolve(*requested, present)?;
        let (medium, protocol, sessions) = match kind {
            // 802.3 LAN, IPMB-1.0 framing, multi-session with the count.
            ChannelKind::Lan => {
                let count = u8::try_from(active_sessions.min(0x3F)).unwrap_or(0x3F);
                (0x04, 0x01, 0x80 | count)
            }
            // System interface, KCS, session-less.
            ChannelKind::SystemInterface => (0x0C, 0x05, 0x00),
        };
        let mut out = vec![channel, medium, protocol, sessions];
        out.extend_from_slice(&IPMI_FORUM_IANA);
        // Auxiliary info: for the system interface, the SMS and event
        // message buffer interrupts (FFh: unspecified); reserved for LAN.
        out.extend_from_slice(match kind {
            ChannelKind::Lan => &[0x00, 0x00],
            ChannelKind::SystemInterface => &[0xFF, 0xFF],
        });
        Ok(out)
    }

    /// Get Channel Access (Table 22-22).
    pub fn cmd_get_channel_access(&self, data: &[u8], present: u8) -> CommandResult {
        let [requested, which] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if requested & 0xF0 != 0 || which & 0x3F != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let (channel, kind) = self.resolve(*requested, present)?;
        if kind == ChannelKind::SystemInterface {
            return Err(CC_SET_NOT_SUPPORTED);
        }
        let settings = match which >> 6 {
            0b01 => self.non_volatile.get(&channel),
            0b10 => self.volatile.get(&channel),
            _ => return Err(CompletionCode::INVALID_DATA_FIELD),
        }
        .ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        Ok(vec![
            settings.access_byte(),
            settings.privilege_limit.level(),
        ])
    }

    /// Set Channel Access (Table 22-21).
    pub fn cmd_set_channel_access(&mut self, data: &[u8], present: u8) -> CommandResult {
        let [requested, access, privilege] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if requested & 0xF0 != 0 || privilege & 0x30 != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let (channel, kind) = self.resolve(*requested, present)?;
        let access_target = access >> 6;
        let privilege_target = privilege >> 6;
        if access_target == 0b11 || privilege_target == 0b11 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let mode =
            AccessMode::from_code(access & 0x07).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        if kind == ChannelKind::SystemInterface && (access_target != 0 || privilege_target != 0) {
            // The host's interface is session-less and always available.
            return Err(CC_SET_NOT_SUPPORTED);
        }
        if access_target != 0 && !matches!(mode, AccessMode::Disabled | AccessMode::AlwaysAvailable)
        {
            // Pre-boot-only and shared would need the host's state and a
            // shared NIC: not offered rather than stored and ignored.
            return Err(CC_ACCESS_MODE_NOT_SUPPORTED);
        }
        let limit = if privilege_target != 0 {
            match Privilege::from_level(privilege & 0x0F) {
                Some(level @ (Privilege::Callback | Privilege::User | Privilege::Operator)) => {
                    Some(level)
                }
                Some(Privilege::Administrator) => Some(Privilege::Administrator),
                _ => return Err(CompletionCode::INVALID_DATA_FIELD),
            }
        } else {
            None
        };
        let apply = |settings: &mut ChannelSettings, set_access: bool, set_limit: bool| {
            if set_access {
                settings.alerting_disabled = access & 0x20 != 0;
                settings.per_message_auth_disabled = access & 0x10 != 0;
                settings.user_level_auth_disabled = access & 0x08 != 0;
                settings.access_mode = mode;
            }
            if let (true, Some(limit)) = (set_limit, limit) {
                settings.privilege_limit = limit;
            }
        };
        if let Some(settings) = self.non_volatile.get_mut(&channel) {
            apply(settings, access_target == 0b01, privilege_target == 0b01);
        }
        if let Some(settings) = self.volatile.get_mut(&channel) {
            apply(settings, access_target == 0b10, privilege_target == 0b10);
        }
        Ok(Vec::new())
    }

    /// Get Channel Payload Support (Table 24-10).
    pub fn cmd_get_channel_payload_support(&self, data: &[u8], present: u8) -> CommandResult {
        let [requested] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if requested & 0xF0 != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let (_, kind) = self.resolve(*requested, present)?;
        Ok(match kind {
            // IPMI and SOL; Open Session, RAKP 1-4 (payloads 10h-15h).
            ChannelKind::Lan => vec![0x03, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00],
            // The system interface has no payloads beyond IPMI messages.
            ChannelKind::SystemInterface => vec![0x01, 0, 0, 0, 0, 0, 0, 0],
        })
    }

    /// Get Channel Payload Version (Table 24-11).
    pub fn cmd_get_channel_payload_version(&self, data: &[u8], present: u8) -> CommandResult {
        let [requested, payload] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if requested & 0xF0 != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let (_, kind) = self.resolve(*requested, present)?;
        match (kind, payload) {
            // Version 1.0 of both formats.
            // IPMI, SOL and the session setup payloads 10h-15h.
            (ChannelKind::Lan, 0x00 | 0x01 | 0x10..=0x15)
            | (ChannelKind::SystemInterface, 0x00) => Ok(vec![0x10]),
            _ => Err(CC_PAYLOAD_NOT_AVAILABLE),
        }
    }

    /// The largest number of sessions the LAN channel allows.
    pub fn max_sessions(&self) -> u8 {
        self.max_sessions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_modes_match_table_22_21() {
        for (code, mode) in [
            (0, AccessMode::Disabled),
            (1, AccessMode::PreBootOnly),
            (2, AccessMode::AlwaysAvailable),
            (3, AccessMode::Shared),
        ] {
            assert_eq!(
                (mode.code(), AccessMode::from_code(code)),
                (code, Some(mode))
            );
        }
        for reserved in 4..=7 {
            assert_eq!(AccessMode::from_code(reserved), None);
        }
    }

    /// The dispatcher the service's command table replaces: one
    /// entry per command, for these tests.
    impl Channels {
        /// Runs one channel command from `present` with `active_sessions` on
        /// the LAN channel; `None` for other commands. The flag says whether the
        /// non-volatile settings changed.
        fn execute(
            &mut self,
            cmd: u8,
            data: &[u8],
            present: u8,
            active_sessions: usize,
        ) -> Option<(CommandResult, bool)> {
            let before = self.non_volatile.clone();
            let result = match cmd {
                CMD_SET_CHANNEL_ACCESS => self.cmd_set_channel_access(data, present),
                CMD_GET_CHANNEL_ACCESS => self.cmd_get_channel_access(data, present),
                CMD_GET_CHANNEL_INFO => self.cmd_get_channel_info(data, present, active_sessions),
                CMD_GET_CHANNEL_PAYLOAD_SUPPORT => {
                    self.cmd_get_channel_payload_support(data, present)
                }
                CMD_GET_CHANNEL_PAYLOAD_VERSION => {
                    self.cmd_get_channel_payload_version(data, present)
                }
                _ => return None,
            };
            Some((result, self.non_volatile != before))
        }
    }

    fn channels() -> Channels {
        Channels::new(1, ChannelSettings::default(), true, 16)
    }

    fn run(c: &mut Channels, cmd: u8, data: &[u8], present: u8) -> CommandResult {
        c.execute(cmd, data, present, 2).unwrap().0
    }

    #[test]
    fn info_for_lan_and_system_interface() {
        let mut c = channels();
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_INFO, &[0x0E], 1).unwrap(),
            [0x01, 0x04, 0x01, 0x82, 0xF2, 0x1B, 0x00, 0x00, 0x00]
        );
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_INFO, &[0x0E], 0x0F).unwrap()[..4],
            [0x0F, 0x0C, 0x05, 0x00]
        );
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_INFO, &[0x02], 1),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }

    #[test]
    fn access_volatile_and_non_volatile_are_separate() {
        let mut c = channels();
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_ACCESS, &[1, 0x40], 1).unwrap(),
            [0x02, 0x04]
        );
        // Volatile privilege limit to Operator: non-volatile unchanged.
        let (result, changed) = c
            .execute(CMD_SET_CHANNEL_ACCESS, &[1, 0x00, 0x83], 1, 0)
            .unwrap();
        assert_eq!((result, changed), (Ok(vec![]), false));
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_ACCESS, &[1, 0x80], 1).unwrap(),
            [0x02, 0x03]
        );
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_ACCESS, &[1, 0x40], 1).unwrap(),
            [0x02, 0x04]
        );
        // Non-volatile: alerting off, always available.
        let (result, changed) = c
            .execute(CMD_SET_CHANNEL_ACCESS, &[1, 0x62, 0x00], 1, 0)
            .unwrap();
        assert_eq!((result, changed), (Ok(vec![]), true));
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_ACCESS, &[1, 0x40], 1).unwrap(),
            [0x22, 0x04]
        );
        assert_eq!(c.settings(1).unwrap().privilege_limit, Privilege::Operator);
        for bad in [&[1, 0x00][..], &[1, 0xC0], &[3, 0x40]] {
            assert!(
                run(&mut c, CMD_GET_CHANNEL_ACCESS, bad, 1).is_err(),
                "{bad:x?}"
            );
        }
        assert_eq!(
            run(&mut c, CMD_SET_CHANNEL_ACCESS, &[0x0F, 0x40, 0x00], 1),
            Err(CC_SET_NOT_SUPPORTED)
        );
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_ACCESS, &[0x0F, 0x40], 1),
            Err(CC_SET_NOT_SUPPORTED)
        );
        assert_eq!(
            run(&mut c, CMD_SET_CHANNEL_ACCESS, &[1, 0x41, 0x00], 1),
            Err(CC_ACCESS_MODE_NOT_SUPPORTED)
        );
        assert_eq!(
            run(&mut c, CMD_SET_CHANNEL_ACCESS, &[1, 0x07, 0x00], 1),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }

    #[test]
    fn payloads_of_the_lan_channel() {
        let mut c = channels();
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_PAYLOAD_SUPPORT, &[1], 1).unwrap(),
            [0x03, 0x00, 0x3F, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_PAYLOAD_VERSION, &[1, 1], 1).unwrap(),
            [0x10]
        );
        assert_eq!(
            run(&mut c, CMD_GET_CHANNEL_PAYLOAD_VERSION, &[1, 2], 1),
            Err(CC_PAYLOAD_NOT_AVAILABLE)
        );
    }
}
