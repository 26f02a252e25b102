//! The PEF configuration parameters (IPMI v2.0 §30.3, Table 30-6) and
//! Set/Get PEF Configuration Parameters (commands 12h/13h).
//!
//! [`PefSettings`] is what persists. [`get`] answers a Get's data (the
//! revision byte first; indexed parameters echo their set selector, as
//! ipmitool checks). [`PefSettings::set`] checks a Set whole before it
//! changes anything: a wrong length is C7h, a selector outside its table
//! C9h, a reserved bit set CCh, a read-only parameter 82h, an unknown one
//! 80h.
//!
//! Parameter 0 (set in progress) is volatile and kept by the caller
//! ([`SetInProgress`]). Writes take effect at once; "commit write" only
//! ends the set, and no write is rolled back (IPMI makes rollback
//! optional; neither ipmitool's PEF commands nor FreeIPMI use parameter
//! 0). Parameter 7 is byte 1 of parameter 6's entry, one storage.
//! Parameters 14 and 15 (group control) are not supported, nor is
//! parameter 1's bit 1 (a SEL event for each PEF action): setting it is
//! CCh rather than a setting that does nothing.

use ipmi_wire::CompletionCode;
use serde::{Deserialize, Serialize};

use crate::filter::{Actions, FilterEntry};

/// Entries in the event filter table (parameter 5, and Get PEF
/// Capabilities).
pub const FILTER_COUNT: u8 = 16;
/// Entries in the alert policy table (parameter 8).
pub const POLICY_COUNT: u8 = 16;
/// Non-volatile alert strings (parameter 11), besides the volatile string
/// 0.
pub const ALERT_STRING_COUNT: u8 = 4;
/// 16-byte blocks of one alert string: 64 bytes, the NUL included.
pub const ALERT_STRING_BLOCKS: u8 = 4;
/// The parameters' revision: 1.1, compatible back to 1.1.
pub const REVISION: u8 = 0x11;

const BLOCK: usize = 16;
const STRING_BYTES: usize = BLOCK * ALERT_STRING_BLOCKS as usize;

/// Why a Set or Get is refused; each maps to its completion code.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ParamError {
    /// 80h: the parameter is not supported.
    NotSupported,
    /// 81h: set in progress was asked while a set is in progress.
    SetInProgress,
    /// 82h: the parameter is read-only.
    ReadOnly,
    /// C7h: the data is not the parameter's length.
    Length,
    /// C9h: a set or block selector outside its table.
    OutOfRange,
    /// CCh: a reserved bit or value.
    InvalidField,
}

impl From<ParamError> for CompletionCode {
    fn from(err: ParamError) -> Self {
        match err {
            ParamError::NotSupported => CompletionCode(0x80),
            ParamError::SetInProgress => CompletionCode(0x81),
            ParamError::ReadOnly => CompletionCode(0x82),
            ParamError::Length => CompletionCode::REQUEST_DATA_LENGTH_INVALID,
            ParamError::OutOfRange => CompletionCode::PARAMETER_OUT_OF_RANGE,
            ParamError::InvalidField => CompletionCode::INVALID_DATA_FIELD,
        }
    }
}

/// One alert policy entry: parameter 9's three bytes (policy number,
/// enable and type; channel and destination; alert string key).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
pub struct PolicyEntry(pub [u8; 3]);

impl PolicyEntry {
    /// The policy number (set) it belongs to: byte 1 bits \[7:4\].
    pub fn policy_number(&self) -> u8 {
        self.0[0] >> 4
    }

    /// Whether it is enabled: byte 1 bit 3.
    pub fn enabled(&self) -> bool {
        self.0[0] & 0x08 != 0
    }

    /// Its policy type: byte 1 bits \[2:0\] (0 always send, 1 next entry
    /// if the previous one failed, 2 stop if the previous one succeeded, 3
    /// and 4 next entry on another channel or destination type).
    pub fn policy_type(&self) -> u8 {
        self.0[0] & 0x07
    }

    /// The channel: byte 2 bits \[7:4\].
    pub fn channel(&self) -> u8 {
        self.0[1] >> 4
    }

    /// The destination selector: byte 2 bits \[3:0\].
    pub fn destination(&self) -> u8 {
        self.0[1] & 0x0F
    }

    /// The alert string key: byte 3 (bit 7 event-specific, bits \[6:0\] the
    /// string set or selector).
    pub fn string_key(&self) -> u8 {
        self.0[2]
    }
}

/// An alert string: its key (parameter 12: event filter number, string
/// set) and its 64 bytes (parameter 13), NUL-padded.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
pub struct AlertString {
    /// Parameter 12's two bytes.
    pub key: [u8; 2],
    /// The text, NUL-terminated and padded.
    pub text: Vec<u8>,
}

impl Default for AlertString {
    fn default() -> Self {
        Self {
            key: [0; 2],
            text: vec![0; STRING_BYTES],
        }
    }
}

impl AlertString {
    /// The text up to its NUL.
    pub fn text(&self) -> &[u8] {
        let end = self.text.iter().position(|&b| b == 0);
        &self.text[..end.unwrap_or(self.text.len())]
    }
}

/// The PEF settings that persist (all but parameter 0 and the volatile
/// alert string 0).
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PefSettings {
    /// Parameter 1: \[3\] alert startup delay, \[2\] startup delay, \[1\] event
    /// messages for PEF actions, \[0\] PEF.
    pub control: u8,
    /// Parameter 2: the actions PEF may take.
    pub action_global_control: u8,
    /// Parameter 3, seconds.
    pub startup_delay: u8,
    /// Parameter 4, seconds.
    pub alert_startup_delay: u8,
    /// Parameter 6: the event filter table.
    pub filters: Vec<FilterEntry>,
    /// Parameter 9: the alert policy table.
    pub policies: Vec<PolicyEntry>,
    /// Parameter 10: \[0\] use the GUID that follows in PETs, then the
    /// GUID.
    pub system_guid: Vec<u8>,
    /// Parameters 12 and 13 for strings 1 to [`ALERT_STRING_COUNT`].
    pub alert_strings: Vec<AlertString>,
    /// Alert string 0, volatile.
    #[serde(skip)]
    pub volatile_string: AlertString,
}

impl Default for PefSettings {
    /// PEF on with no startup delays; only alerts allowed globally (a
    /// power action must be allowed here and asked by a filter); every
    /// filter and policy disabled (see [`PefSettings::for_lan_channel`]).
    fn default() -> Self {
        Self {
            control: 0x01,
            action_global_control: Actions::ALERT.bits(),
            startup_delay: 60,
            alert_startup_delay: 60,
            filters: vec![FilterEntry::default(); usize::from(FILTER_COUNT)],
            policies: vec![PolicyEntry::default(); usize::from(POLICY_COUNT)],
            system_guid: vec![0; 17],
            alert_strings: vec![AlertString::default(); usize::from(ALERT_STRING_COUNT)],
            volatile_string: AlertString::default(),
        }
    }
}

impl PefSettings {
    /// The defaults, with every (disabled) alert policy entry naming LAN
    /// channel `channel`'s destination 0, so clients that follow an entry
    /// to its channel (ipmitool's `pef policy list`) find a LAN channel.
    pub fn for_lan_channel(channel: u8) -> Self {
        let mut settings = Self::default();
        for policy in &mut settings.policies {
            policy.0[1] = (channel & 0x0F) << 4;
        }
        settings
    }
}

/// Parameter 0, set in progress: volatile.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct SetInProgress(u8);

impl SetInProgress {
    /// Its Get data.
    pub fn get(self) -> u8 {
        self.0
    }

    /// A Set of parameter 0: 00h ends a set, 01h starts one (81h if one
    /// is under way), 02h commits (and ends it); 03h is reserved.
    pub fn set(&mut self, data: &[u8]) -> Result<(), ParamError> {
        let [value] = data else {
            return Err(ParamError::Length);
        };
        match value {
            0x00 | 0x02 => self.0 = 0,
            0x01 if self.0 == 1 => return Err(ParamError::SetInProgress),
            0x01 => self.0 = 1,
            _ => return Err(ParamError::InvalidField),
        }
        Ok(())
    }
}

/// A 1-based selector into a table of `count` entries: its index.
fn entry(selector: u8, count: usize) -> Result<usize, ParamError> {
    let index = usize::from(selector & 0x7F);
    if index == 0 || index > count || selector & 0x80 != 0 {
        return Err(ParamError::OutOfRange);
    }
    Ok(index - 1)
}

fn one_byte(data: &[u8], reserved: u8) -> Result<u8, ParamError> {
    match data {
        [value] if value & reserved != 0 => Err(ParamError::InvalidField),
        [value] => Ok(*value),
        _ => Err(ParamError::Length),
    }
}

impl PefSettings {
    /// Alert string `selector` (0 the volatile one).
    pub fn alert_string(&self, selector: u8) -> Option<&AlertString> {
        match selector {
            0 => Some(&self.volatile_string),
            n => self.alert_strings.get(usize::from(n) - 1),
        }
    }

    fn alert_string_mut(&mut self, selector: u8) -> Result<&mut AlertString, ParamError> {
        match selector & 0x7F {
            _ if selector & 0x80 != 0 => Err(ParamError::OutOfRange),
            0 => Ok(&mut self.volatile_string),
            n => self
                .alert_strings
                .get_mut(usize::from(n) - 1)
                .ok_or(ParamError::OutOfRange),
        }
    }

    /// The data of a Get of `parameter` (1-127; 0 is [`SetInProgress`]),
    /// without the revision byte.
    pub fn get(&self, parameter: u8, set: u8, block: u8) -> Result<Vec<u8>, ParamError> {
        Ok(match parameter {
            1 => vec![self.control],
            2 => vec![self.action_global_control],
            3 => vec![self.startup_delay],
            4 => vec![self.alert_startup_delay],
            5 => vec![FILTER_COUNT],
            6 => {
                let index = entry(set, self.filters.len())?;
                [&[set][..], &self.filters[index].0].concat()
            }
            7 => vec![set, self.filters[entry(set, self.filters.len())?].0[0]],
            8 => vec![POLICY_COUNT],
            9 => {
                let index = entry(set, self.policies.len())?;
                [&[set][..], &self.policies[index].0].concat()
            }
            10 => self.system_guid.clone(),
            11 => vec![ALERT_STRING_COUNT],
            12 => {
                let string = self.alert_string(set).ok_or(ParamError::OutOfRange)?;
                vec![set, string.key[0], string.key[1]]
            }
            13 => {
                let string = self.alert_string(set).ok_or(ParamError::OutOfRange)?;
                if block == 0 || block > ALERT_STRING_BLOCKS {
                    return Err(ParamError::OutOfRange);
                }
                let start = usize::from(block - 1) * BLOCK;
                [&[set, block][..], &string.text[start..start + BLOCK]].concat()
            }
            _ => return Err(ParamError::NotSupported),
        })
    }

    /// A Set of `parameter` (1-127) with `data` (what follows the
    /// parameter selector). Nothing changes unless it succeeds.
    pub fn set(&mut self, parameter: u8, data: &[u8]) -> Result<(), ParamError> {
        match parameter {
            // Bit 1, event messages for PEF actions, is not offered.
            1 => self.control = one_byte(data, 0xF2)?,
            2 => self.action_global_control = one_byte(data, 0xC0)?,
            3 => self.startup_delay = one_byte(data, 0)?,
            4 => self.alert_startup_delay = one_byte(data, 0)?,
            5 | 8 | 11 => return Err(ParamError::ReadOnly),
            6 => {
                let [set, bytes @ ..] = data else {
                    return Err(ParamError::Length);
                };
                let entry_bytes: [u8; 20] = bytes.try_into().map_err(|_| ParamError::Length)?;
                let index = entry(*set, self.filters.len())?;
                // Configuration [4:0] and action bit 7 are reserved.
                if entry_bytes[0] & 0x1F != 0 || entry_bytes[1] & 0x80 != 0 {
                    return Err(ParamError::InvalidField);
                }
                self.filters[index] = FilterEntry(entry_bytes);
            }
            7 => {
                let [set, config] = data else {
                    return Err(ParamError::Length);
                };
                let index = entry(*set, self.filters.len())?;
                if config & 0x1F != 0 {
                    return Err(ParamError::InvalidField);
                }
                self.filters[index].0[0] = *config;
            }
            9 => {
                let [set, b1, b2, b3] = data else {
                    return Err(ParamError::Length);
                };
                let index = entry(*set, self.policies.len())?;
                // Policy types 5-7 are reserved.
                if b1 & 0x07 > 4 {
                    return Err(ParamError::InvalidField);
                }
                self.policies[index] = PolicyEntry([*b1, *b2, *b3]);
            }
            10 => {
                if data.len() != 17 {
                    return Err(ParamError::Length);
                }
                if data[0] & 0xFE != 0 {
                    return Err(ParamError::InvalidField);
                }
                self.system_guid = data.to_vec();
            }
            12 => {
                let [set, filter, string_set] = data else {
                    return Err(ParamError::Length);
                };
                if string_set & 0x80 != 0 {
                    return Err(ParamError::InvalidField);
                }
                self.alert_string_mut(*set)?.key = [*filter, *string_set];
            }
            13 => {
                let [set, block, text @ ..] = data else {
                    return Err(ParamError::Length);
                };
                if text.is_empty() || text.len() > BLOCK {
                    return Err(ParamError::Length);
                }
                if *block == 0 || *block > ALERT_STRING_BLOCKS {
                    return Err(ParamError::OutOfRange);
                }
                let start = usize::from(block - 1) * BLOCK;
                let string = self.alert_string_mut(*set)?;
                // A short block (the string's last) clears the rest of it.
                string.text[start..start + BLOCK].fill(0);
                string.text[start..start + text.len()].copy_from_slice(text);
            }
            _ => return Err(ParamError::NotSupported),
        }
        Ok(())
    }

    /// Whether the settings have the shape this PEF serves (the table
    /// sizes and lengths a stored copy must have).
    pub fn is_well_formed(&self) -> bool {
        self.filters.len() == usize::from(FILTER_COUNT)
            && self.policies.len() == usize::from(POLICY_COUNT)
            && self.system_guid.len() == 17
            && self.alert_strings.len() == usize::from(ALERT_STRING_COUNT)
            && self
                .alert_strings
                .iter()
                .all(|s| s.text.len() == STRING_BYTES)
    }

    /// Whether PEF is enabled (parameter 1 bit 0).
    pub fn enabled(&self) -> bool {
        self.control & 0x01 != 0
    }

    /// The startup delay, if enabled (parameter 1 bit 2).
    pub fn startup_delay(&self) -> Option<u8> {
        (self.control & 0x04 != 0).then_some(self.startup_delay)
    }

    /// The alert startup delay, if enabled (parameter 1 bit 3).
    pub fn alert_startup_delay(&self) -> Option<u8> {
        (self.control & 0x08 != 0).then_some(self.alert_startup_delay)
    }

    /// The GUID PETs carry when parameter 10 says to use its own.
    pub fn pet_guid(&self) -> Option<[u8; 16]> {
        let (flag, guid) = self.system_guid.split_first()?;
        (flag & 1 != 0).then(|| guid.try_into().ok()).flatten()
    }
}

/// A Get PEF Configuration Parameters request (data after the command),
/// answered with the revision first. `in_progress` is parameter 0.
pub fn get(
    settings: &PefSettings,
    in_progress: SetInProgress,
    request: &[u8],
) -> Result<Vec<u8>, ParamError> {
    let [selector, set, block] = request else {
        return Err(ParamError::Length);
    };
    let parameter = selector & 0x7F;
    if selector & 0x80 != 0 {
        return Ok(vec![REVISION]);
    }
    let data = match parameter {
        0 => vec![in_progress.get()],
        _ => settings.get(parameter, *set, *block)?,
    };
    Ok([&[REVISION][..], &data].concat())
}

/// What a Set PEF Configuration Parameters request asks for.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SetRequest<'a> {
    /// Parameter 0: set in progress.
    InProgress(&'a [u8]),
    /// A stored parameter and its data.
    Stored(u8, &'a [u8]),
}

/// Splits a Set request (data after the command): the selector's bit 7 is
/// reserved.
pub fn set_request(request: &[u8]) -> Result<SetRequest<'_>, ParamError> {
    match request {
        [] => Err(ParamError::Length),
        [selector, ..] if selector & 0x80 != 0 => Err(ParamError::InvalidField),
        [0, data @ ..] => Ok(SetRequest::InProgress(data)),
        [parameter, data @ ..] => Ok(SetRequest::Stored(*parameter, data)),
    }
}

#[cfg(test)]
mod tests;
