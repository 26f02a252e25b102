//! The BMC's IPMI user table and the user commands, sans-IO.
//!
//! | NetFn | Cmd | Name                        | Spec    |
//! |-------|-----|-----------------------------|---------|
//! | App   | 43h | Set User Access             | §22.26  |
//! | App   | 44h | Get User Access             | §22.27  |
//! | App   | 45h | Set User Name               | §22.28  |
//! | App   | 46h | Get User Name               | §22.29  |
//! | App   | 47h | Set User Password           | §22.30  |
//! | App   | 4Ch | Set User Payload Access     | §24.6   |
//! | App   | 4Dh | Get User Payload Access     | §24.7   |
//!
//! User IDs run 1..=[`MAX_USERS`]; ID 1 is the null user, whose name is fixed
//! (empty) and which can never be enabled: rbmc offers no anonymous login.
//! A user may log in on a channel only when it is enabled, has a name and a
//! password, has IPMI messaging enabled and a privilege limit on that
//! channel. The table knows nothing of files: each command is one `cmd_*`
//! function, and the service persists the table after a command that
//! changed it, before it answers.

use std::collections::BTreeMap;

use ipmi_wire::{CompletionCode, Privilege};

use crate::{resolve_channel, CommandResult};

/// Set User Access.
pub const CMD_SET_USER_ACCESS: u8 = 0x43;
/// Get User Access.
pub const CMD_GET_USER_ACCESS: u8 = 0x44;
/// Set User Name.
pub const CMD_SET_USER_NAME: u8 = 0x45;
/// Get User Name.
pub const CMD_GET_USER_NAME: u8 = 0x46;
/// Set User Password.
pub const CMD_SET_USER_PASSWORD: u8 = 0x47;
/// Set User Payload Access.
pub const CMD_SET_USER_PAYLOAD_ACCESS: u8 = 0x4C;
/// Get User Payload Access.
pub const CMD_GET_USER_PAYLOAD_ACCESS: u8 = 0x4D;

/// How many user IDs the BMC has (1 is the null user).
pub const MAX_USERS: u8 = 15;
/// The null user's ID.
pub const NULL_USER: u8 = 1;
/// Longest user name (Table 22-30).
pub const NAME_LEN: usize = 16;
/// Longest password (the 20-byte form of Set User Password).
pub const PASSWORD_LEN: usize = 20;
/// Bit of the standard payload enables for Serial over LAN (Table 24-9).
pub const PAYLOAD_SOL: u8 = 0x02;

/// Set User Password completion code 80h: password test failed.
pub const CC_PASSWORD_TEST_FAILED: CompletionCode = CompletionCode(0x80);
/// Set User Password completion code 81h: wrong password size.
pub const CC_PASSWORD_WRONG_SIZE: CompletionCode = CompletionCode(0x81);

/// A user's access on one channel (Table 22-27).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct ChannelAccess {
    /// Highest privilege on the channel; `None` is "no access" (0Fh).
    pub privilege_limit: Option<Privilege>,
    /// May the user send IPMI messages (and so log in) on the channel.
    pub ipmi_messaging: bool,
    /// Link authentication (PPP/serial; kept, not used on LAN).
    pub link_auth: bool,
    /// Callback only.
    pub callback_only: bool,
}

impl ChannelAccess {
    fn byte(self) -> u8 {
        u8::from(self.callback_only) << 6
            | u8::from(self.link_auth) << 5
            | u8::from(self.ipmi_messaging) << 4
            | self.privilege_limit.map_or(0x0F, Privilege::level)
    }
}

/// One user ID's record. Its `Debug` leaves the password out.
#[derive(Clone, Default, Eq, PartialEq)]
pub struct UserRecord {
    /// Login name; empty when unset.
    pub name: Vec<u8>,
    /// Password with trailing NULs removed; empty when unset. RAKP keys
    /// HMAC with it, and HMAC pads a key with zeros, so stripping is exact.
    pub password: Vec<u8>,
    /// Whether the password was set with the 20-byte form.
    pub password_20: bool,
    /// Enabled by Set User Password; `None` until first set.
    pub enabled: Option<bool>,
    /// Access per channel number.
    pub access: BTreeMap<u8, ChannelAccess>,
    /// Standard payload enables per channel (bit 1: SOL).
    pub payloads: BTreeMap<u8, u8>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("has_password", &!self.password.is_empty())
            .field("enabled", &self.enabled)
            .field("access", &self.access)
            .field("payloads", &self.payloads)
            .finish_non_exhaustive()
    }
}

/// The user table, IDs 1..=[`MAX_USERS`].
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct UserTable {
    users: Vec<UserRecord>,
    channels: Vec<u8>,
}

/// A user able to log in on a channel. Its `Debug` leaves the password out.
#[derive(Clone, Eq, PartialEq)]
pub struct LoginUser {
    /// User ID.
    pub id: u8,
    /// The password (Kuid).
    pub password: Vec<u8>,
    /// The user's privilege limit on the channel.
    pub privilege_limit: Privilege,
}

impl std::fmt::Debug for LoginUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginUser")
            .field("id", &self.id)
            .field("privilege_limit", &self.privilege_limit)
            .finish_non_exhaustive()
    }
}

/// What Set User Password does (Table 22-30, byte 2 bits 1:0).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PasswordOperation {
    /// 00b: disable the user.
    Disable,
    /// 01b: enable the user.
    Enable,
    /// 10b: set the password.
    Set,
    /// 11b: test the password.
    Test,
}

/// A decoded Set User Password request. Its `Debug` leaves the password
/// out.
#[derive(Clone, Eq, PartialEq)]
pub struct PasswordRequest {
    /// The user ID.
    pub user_id: u8,
    /// What to do.
    pub operation: PasswordOperation,
    /// The password with trailing NULs removed (empty for enable and
    /// disable).
    pub password: Vec<u8>,
    /// The 20-byte form was used.
    pub form_20: bool,
}

impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequest")
            .field("user_id", &self.user_id)
            .field("operation", &self.operation)
            .field("form_20", &self.form_20)
            .finish_non_exhaustive()
    }
}

impl PasswordRequest {
    /// Decodes the request bytes: the user ID with the 20-byte flag, the
    /// operation, and the 16- or 20-byte password field.
    pub fn parse(data: &[u8]) -> Result<Self, CompletionCode> {
        let [user, operation, password @ ..] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        let form_20 = user & 0x80 != 0;
        if user & 0x40 != 0 || operation & 0xFC != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let user_id = UserTable::user_id(user & 0x3F)?;
        let size = if form_20 { PASSWORD_LEN } else { 16 };
        let operation = match operation & 0x03 {
            0b00 => PasswordOperation::Disable,
            0b01 => PasswordOperation::Enable,
            0b10 => PasswordOperation::Set,
            _ => PasswordOperation::Test,
        };
        let needs_password = matches!(operation, PasswordOperation::Set | PasswordOperation::Test);
        // Enable and disable may carry a (ignored) password field or none.
        if password.len() != size && (needs_password || !password.is_empty()) {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        }
        let password = if needs_password {
            let end = password.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            password[..end].to_vec()
        } else {
            Vec::new()
        };
        Ok(Self {
            user_id,
            operation,
            password,
            form_20,
        })
    }
}

impl UserTable {
    /// An empty table for users of the given channels (the per-user access
    /// settings exist only for these).
    pub fn new(channels: &[u8]) -> Self {
        Self {
            users: vec![UserRecord::default(); usize::from(MAX_USERS)],
            channels: channels.to_vec(),
        }
    }

    /// The channels with per-user access.
    pub fn channels(&self) -> &[u8] {
        &self.channels
    }

    /// The record of user `id` (1-based).
    pub fn get(&self, id: u8) -> Option<&UserRecord> {
        self.users.get(usize::from(id).checked_sub(1)?)
    }

    /// The record of user `id` (1-based), to change.
    pub fn get_mut(&mut self, id: u8) -> Option<&mut UserRecord> {
        self.users.get_mut(usize::from(id).checked_sub(1)?)
    }

    /// All records with their IDs.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &UserRecord)> {
        (1..=MAX_USERS).zip(self.users.iter())
    }

    /// The user named `name` if it may log in on `channel`.
    pub fn login(&self, name: &[u8], channel: u8) -> Option<LoginUser> {
        if name.is_empty() {
            return None;
        }
        let (id, user) = self.iter().find(|(_, u)| u.name == name)?;
        let access = user.access.get(&channel)?;
        if id == NULL_USER
            || user.enabled != Some(true)
            || user.password.is_empty()
            || !access.ipmi_messaging
        {
            return None;
        }
        let limit = access.privilege_limit?;
        Some(LoginUser {
            id,
            password: user.password.clone(),
            // "Callback only": the limit applies to callback connections; a
            // LAN session is not one, so it runs at Callback (§22.26).
            privilege_limit: if access.callback_only {
                Privilege::Callback
            } else {
                limit
            },
        })
    }

    /// Whether user `id` may activate payloads whose enable bit is `bit` on
    /// `channel` (Table 24-9).
    pub fn payload_allowed(&self, id: u8, channel: u8, bit: u8) -> bool {
        self.get(id)
            .and_then(|u| u.payloads.get(&channel))
            .is_some_and(|enables| enables & bit != 0)
    }

    /// How many users are enabled.
    fn enabled_count(&self) -> u8 {
        let count = self
            .users
            .iter()
            .filter(|u| u.enabled == Some(true))
            .count();
        u8::try_from(count).unwrap_or(MAX_USERS)
    }

    fn channel(&self, byte: u8, present: u8) -> Result<u8, CompletionCode> {
        let channel = resolve_channel(byte, present);
        if self.channels.contains(&channel) {
            Ok(channel)
        } else {
            Err(CompletionCode::INVALID_DATA_FIELD)
        }
    }

    fn user_id(byte: u8) -> Result<u8, CompletionCode> {
        let id = byte & 0x3F;
        if byte & 0xC0 != 0 || !(1..=MAX_USERS).contains(&id) {
            // Out of range IDs are invalid data (ipmitool stops there).
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        Ok(id)
    }

    /// Set User Access (Table 22-26).
    pub fn cmd_set_user_access(&mut self, data: &[u8], present: u8) -> CommandResult {
        let (flags, user, limit, session_limit) = match data {
            [flags, user, limit] => (*flags, *user, *limit, None),
            [flags, user, limit, session_limit] => (*flags, *user, *limit, Some(*session_limit)),
            _ => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        };
        let channel = self.channel(flags, present)?;
        let id = Self::user_id(user)?;
        // A per-user session limit is not offered here (the config's
        // max-sessions-per-user applies to every user): only 0, "no limit".
        if limit & 0xF0 != 0 || session_limit.is_some_and(|s| s != 0) {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let privilege_limit = match limit & 0x0F {
            0x0F => None,
            level => Some(match Privilege::from_level(level) {
                Some(p @ (Privilege::Callback | Privilege::User | Privilege::Operator)) => p,
                Some(Privilege::Administrator) => Privilege::Administrator,
                // OEM and reserved values are not offered.
                _ => return Err(CompletionCode::INVALID_DATA_FIELD),
            }),
        };
        if id == NULL_USER && privilege_limit.is_some() {
            // The null user can never log in; giving it a privilege would
            // only mislead.
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let record = self.get_mut(id).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        let access = record
            .access
            .entry(channel)
            .or_insert_with(|| ChannelAccess {
                // New users may send IPMI messages once they have a privilege
                // limit: "user priv" alone then enables a login, as on most BMCs.
                ipmi_messaging: true,
                ..ChannelAccess::default()
            });
        // Bit 7: the access bits 6:4 are to be changed too.
        if flags & 0x80 != 0 {
            access.callback_only = flags & 0x40 != 0;
            access.link_auth = flags & 0x20 != 0;
            access.ipmi_messaging = flags & 0x10 != 0;
        }
        access.privilege_limit = privilege_limit;
        Ok(Vec::new())
    }

    /// The channel and user a Get User Access or Get User Payload Access
    /// request names: byte 1 the channel, byte 2 the user ID.
    fn channel_and_user(
        &self,
        data: &[u8],
        present: u8,
    ) -> Result<(u8, &UserRecord), CompletionCode> {
        let [channel, user] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if channel & 0xF0 != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let channel = self.channel(*channel, present)?;
        let id = Self::user_id(*user)?;
        let record = self.get(id).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        Ok((channel, record))
    }

    /// Get User Access (Table 22-27).
    pub fn cmd_get_user_access(&self, data: &[u8], present: u8) -> CommandResult {
        let (channel, record) = self.channel_and_user(data, present)?;
        let status = match record.enabled {
            None => 0x00,
            Some(true) => 0x40,
            Some(false) => 0x80,
        };
        let access = record.access.get(&channel).copied().unwrap_or_default();
        Ok(vec![
            MAX_USERS,
            status | self.enabled_count(),
            // One user ID with a fixed name: the null user.
            0x01,
            access.byte(),
        ])
    }

    /// Set User Name (Table 22-28).
    pub fn cmd_set_user_name(&mut self, data: &[u8]) -> CommandResult {
        let Some((&user, name)) = data.split_first() else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if name.len() != NAME_LEN {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        }
        let id = Self::user_id(user)?;
        if id == NULL_USER {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let end = name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        let (name, padding) = name.split_at(end);
        // Printable ASCII, then only NUL padding.
        if !name.iter().all(u8::is_ascii_graphic) || padding.iter().any(|&b| b != 0) {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        if !name.is_empty() && self.iter().any(|(other, u)| other != id && u.name == name) {
            // Names identify users at login; two alike would be ambiguous.
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let record = self.get_mut(id).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        record.name = name.to_vec();
        Ok(Vec::new())
    }

    /// Get User Name (Table 22-29).
    pub fn cmd_get_user_name(&self, data: &[u8]) -> CommandResult {
        let [user] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        let id = Self::user_id(*user)?;
        let record = self.get(id).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        let mut name = record.name.clone();
        name.resize(NAME_LEN, 0);
        Ok(name)
    }

    /// Set User Password (Table 22-30): disable, enable, set or test.
    pub fn cmd_set_user_password(&mut self, data: &[u8]) -> CommandResult {
        let request = PasswordRequest::parse(data)?;
        let record = self
            .get_mut(request.user_id)
            .ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        match request.operation {
            PasswordOperation::Disable => record.enabled = Some(false),
            PasswordOperation::Enable => {
                if request.user_id == NULL_USER {
                    // No anonymous login: the null user stays disabled.
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
                record.enabled = Some(true);
            }
            PasswordOperation::Set => {
                record.password = request.password;
                record.password_20 = request.form_20;
            }
            PasswordOperation::Test => {
                // The size a password was set with is part of it: testing
                // it in the other form fails with 81h (§22.30).
                if record.password_20 != request.form_20 {
                    return Err(CC_PASSWORD_WRONG_SIZE);
                }
                if !constant_time_eq(&record.password, &request.password) {
                    return Err(CC_PASSWORD_TEST_FAILED);
                }
            }
        }
        Ok(Vec::new())
    }

    /// Set User Payload Access (Table 24-8).
    pub fn cmd_set_user_payload_access(&mut self, data: &[u8], present: u8) -> CommandResult {
        let [channel, user, standard, standard_hi, oem_lo, oem_hi] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if channel & 0xF0 != 0 || standard & 0x01 != 0 || *standard_hi != 0 || *oem_hi != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let channel = self.channel(*channel, present)?;
        let enable = match user >> 6 {
            0b00 => true,
            0b01 => false,
            _ => return Err(CompletionCode::INVALID_DATA_FIELD),
        };
        let id = Self::user_id(user & 0x3F)?;
        // Only SOL exists among the standard payloads a user can be given;
        // OEM payloads are not offered.
        if standard & !PAYLOAD_SOL != 0 || *oem_lo != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let record = self.get_mut(id).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
        let enables = record.payloads.entry(channel).or_default();
        if enable {
            *enables |= standard;
        } else {
            *enables &= !standard;
        }
        Ok(Vec::new())
    }

    /// Get User Payload Access (Table 24-9).
    pub fn cmd_get_user_payload_access(&self, data: &[u8], present: u8) -> CommandResult {
        let (channel, record) = self.channel_and_user(data, present)?;
        let enables = record.payloads.get(&channel).copied().unwrap_or(0);
        Ok(vec![enables, 0, 0, 0])
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests;
