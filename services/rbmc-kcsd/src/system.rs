//! The commands the system interface owns (IPMI v2.0 §22, App NetFn 06h),
//! answered by rbmc-kcsd itself.
//!
//! | Cmd | command                              |
//! |-----|--------------------------------------|
//! | 2Eh | Set BMC Global Enables               |
//! | 2Fh | Get BMC Global Enables               |
//! | 30h | Clear Message Flags                  |
//! | 31h | Get Message Flags                    |
//! | 33h | Get Message                          |
//! | 35h | Read Event Message Buffer            |
//! | 57h | Get System Interface Capabilities    |
//! | 58h | Set System Info Parameters           |
//! | 59h | Get System Info Parameters           |
//!
//! Get BMC Global Enables and Set/Get System Info Parameters are also
//! served on the bus as an owner ([`register_shared`]), so a console on the
//! LAN reads what the host wrote (`ipmitool mc getsysinfo`, bmc-info's
//! System Information); the rest is the host's own interface.
//!
//! System info parameters the host writes (firmware version, system name,
//! OS name and version) persist in `<state>/system-info.toml`. A write is
//! acknowledged once it is durable; the file is written on the blocking
//! pool, never on the runtime's thread, and a failed write changes nothing
//! (C4h for a full disk, FFh otherwise).

use std::{
    collections::{BTreeMap, VecDeque},
    path::Path,
    sync::{Arc, Mutex},
};

use ipmi_router::{owner::DuplicateCommand, CommandTable, HandlerResult, IpmiRequest};
use ipmi_wire::{CompletionCode, NetFn, Privilege};
use rbmc_daemon::durable::{self, DurableFile};
use tracing::warn;

/// "Data not available" for Get Message and Read Event Message Buffer
/// (§22.6, §22.8).
pub const CC_NO_DATA: CompletionCode = CompletionCode(0x80);
/// "Parameter not supported" (§22.14a).
pub const CC_PARAMETER_NOT_SUPPORTED: CompletionCode = CompletionCode(0x80);

/// Message flag bits (§22.4, Table 22-3).
pub mod flags {
    /// Receive message available.
    pub const RECEIVE_MESSAGE: u8 = 0x01;
    /// Event message buffer full.
    pub const EVENT_BUFFER_FULL: u8 = 0x02;
    /// Watchdog pre-timeout interrupt occurred.
    pub const WATCHDOG_PRETIMEOUT: u8 = 0x08;
}

#[derive(Debug, Default)]
struct State {
    enables: u8,
    flags: u8,
    receive_queue: VecDeque<Vec<u8>>,
    event_buffer: Option<[u8; 16]>,
    info: BTreeMap<u8, Vec<u8>>,
}

/// The system interface's own state.
#[derive(Debug)]
pub struct SystemInterface {
    state: Mutex<State>,
    info_file: DurableFile,
}

impl SystemInterface {
    /// Loads stored system info parameters from `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        let info_file = DurableFile::new(state_dir.join("system-info.toml"));
        let info = std::fs::read_to_string(info_file.path())
            .ok()
            .and_then(|text| toml::from_str::<BTreeMap<String, Vec<u8>>>(&text).ok())
            .map(|stored| {
                stored
                    .into_iter()
                    .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            state: Mutex::new(State {
                // Power-on default (§22.1): event message buffer disabled,
                // system event logging enabled.
                enables: 0x08,
                info,
                ..State::default()
            }),
            info_file,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the host should see SMS attention (something to fetch).
    pub fn attention(&self) -> bool {
        self.lock().flags != 0
    }

    /// The host was reset: flags and queues clear (§22.4).
    pub fn on_host_reset(&self) {
        let mut s = self.lock();
        s.flags = 0;
        s.receive_queue.clear();
        s.event_buffer = None;
    }
}

/// The file's contents for `info`.
fn encode_info(info: &BTreeMap<u8, Vec<u8>>) -> Result<Vec<u8>, CompletionCode> {
    let stored: BTreeMap<String, Vec<u8>> = info
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    toml::to_string(&stored)
        .map(String::into_bytes)
        .map_err(|err| {
            warn!(cause = %err, "cannot encode system info parameters");
            CompletionCode::UNSPECIFIED
        })
}

/// Adds the system interface commands to `table` (the host's own).
pub fn register_handle<S>(table: &mut CommandTable<S>) -> Result<(), DuplicateCommand>
where
    S: AsRef<SystemInterface> + Send + Sync + 'static,
{
    let app = NetFn::APP;
    let admin = Privilege::Administrator;
    let user = Privilege::User;
    register_shared(table)?;
    table
        .add_sync(app, 0x2E, admin, |s, r| {
            cmd_set_global_enables(s.as_ref(), r)
        })?
        .add_sync(app, 0x30, admin, |s, r| {
            cmd_clear_message_flags(s.as_ref(), r)
        })?
        .add_sync(app, 0x31, user, |s, r| cmd_get_message_flags(s.as_ref(), r))?
        .add_sync(app, 0x33, admin, |s, r| cmd_get_message(s.as_ref(), r))?
        .add_sync(app, 0x35, admin, |s, r| {
            cmd_read_event_buffer(s.as_ref(), r)
        })?
        .add_sync(app, 0x57, user, |s, r| {
            cmd_get_interface_capabilities(s.as_ref(), r)
        })?;
    Ok(())
}

/// Adds the commands every channel may send (served on the bus too): Get
/// BMC Global Enables and Set/Get System Info Parameters.
pub fn register_shared<S>(table: &mut CommandTable<S>) -> Result<(), DuplicateCommand>
where
    S: AsRef<SystemInterface> + Send + Sync + 'static,
{
    let app = NetFn::APP;
    table
        .add_sync(app, 0x2F, Privilege::User, |s, r| {
            cmd_get_global_enables(s.as_ref(), r)
        })?
        .add(
            app,
            0x58,
            Privilege::Administrator,
            |s: Arc<S>, r| async move { cmd_set_system_info((*s).as_ref(), &r).await },
        )?
        .add_sync(app, 0x59, Privilege::User, |s, r| {
            cmd_get_system_info(s.as_ref(), r)
        })?;
    Ok(())
}

/// Set BMC Global Enables (§22.1): bits 7:5 OEM, 3 system event logging,
/// 2 event message buffer, 1 buffer-full interrupt, 0 receive interrupt;
/// bit 4 is reserved.
fn cmd_set_global_enables(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    let [enables] = r.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if enables & 0x10 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    s.lock().enables = enables;
    Ok(Vec::new())
}

/// Get BMC Global Enables (§22.2).
fn cmd_get_global_enables(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    no_data(r)?;
    Ok(vec![s.lock().enables])
}

/// Clear Message Flags (§22.3): clears the flags named in the mask (and
/// empties the queue or buffer they stand for).
fn cmd_clear_message_flags(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    let [mask] = r.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let mut state = s.lock();
    if mask & flags::RECEIVE_MESSAGE != 0 {
        state.receive_queue.clear();
    }
    if mask & flags::EVENT_BUFFER_FULL != 0 {
        state.event_buffer = None;
    }
    state.flags &= !mask;
    Ok(Vec::new())
}

/// Get Message Flags (§22.4).
fn cmd_get_message_flags(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    no_data(r)?;
    Ok(vec![s.lock().flags])
}

/// Get Message (§22.6): the oldest queued message, or 80h.
fn cmd_get_message(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    no_data(r)?;
    let mut state = s.lock();
    let message = state.receive_queue.pop_front().ok_or(CC_NO_DATA)?;
    if state.receive_queue.is_empty() {
        state.flags &= !flags::RECEIVE_MESSAGE;
    }
    Ok(message)
}

/// Read Event Message Buffer (§22.8): the 16-byte event, or 80h.
fn cmd_read_event_buffer(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    no_data(r)?;
    let mut state = s.lock();
    let event = state.event_buffer.take().ok_or(CC_NO_DATA)?;
    state.flags &= !flags::EVENT_BUFFER_FULL;
    Ok(event.to_vec())
}

/// Get System Interface Capabilities (§22.9): for KCS one reserved byte;
/// SSIF and SMIC are not this interface.
fn cmd_get_interface_capabilities(_: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    match r.data[..] {
        [0x01] => Ok(vec![0x00]),
        [_] => Err(CompletionCode::INVALID_DATA_FIELD),
        _ => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
    }
}

/// Parameters 1-5: firmware version, system name, primary OS name, OS name,
/// present OS version (§22.14a, Table 22-16a); 0 is set-in-progress.
fn parameter_supported(param: u8) -> bool {
    (1..=5).contains(&param)
}

/// Set System Info Parameters: `param, set selector, 16 data bytes` (the
/// first block of a string starts with encoding and length). Durable before
/// the reply; memory changes only once it is.
async fn cmd_set_system_info(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    let data = &r.data;
    let Some((&param, rest)) = data.split_first() else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if param == 0 {
        // Set in progress: accepted, writes apply at once; 11b and bits
        // 7:2 are reserved.
        return match rest {
            [state] if *state <= 2 => Ok(Vec::new()),
            [_] => Err(CompletionCode::INVALID_DATA_FIELD),
            _ => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        };
    }
    if !parameter_supported(param) {
        return Err(CC_PARAMETER_NOT_SUPPORTED);
    }
    let Some((&set, block)) = rest.split_first() else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if block.is_empty() || block.len() > 16 || set > 15 {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    // Only this command changes `info`, and one change runs at a time, so
    // the copy staged here is what memory holds until it is applied.
    let mut change = s.info_file.begin().await;
    let mut info = s.lock().info.clone();
    let value = info.entry(param).or_default();
    let start = usize::from(set) * 16;
    if value.len() < start + block.len() {
        value.resize(start + block.len(), 0);
    }
    value[start..start + block.len()].copy_from_slice(block);
    change.write(encode_info(&info)?).await.map_err(|err| {
        warn!(cause = %err, "cannot persist system info parameters; write refused");
        durable::completion_code(&err)
    })?;
    s.lock().info = info;
    Ok(Vec::new())
}

/// Get System Info Parameters: `get/revision, param, set selector, block
/// selector` → `revision 11h, set selector, 16 data bytes`.
fn cmd_get_system_info(s: &SystemInterface, r: &IpmiRequest) -> HandlerResult {
    let [get, param, set, _block] = r.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    // Bit 7 of the first byte: only the parameter revision is wanted; bits
    // 6:0 are reserved.
    if get & 0x7F != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    if get & 0x80 != 0 {
        return Ok(vec![0x11]);
    }
    if param == 0 {
        return Ok(vec![0x11, 0x00]);
    }
    if !parameter_supported(param) {
        return Err(CC_PARAMETER_NOT_SUPPORTED);
    }
    let state = s.lock();
    let value = state.info.get(&param).cloned().unwrap_or_default();
    let start = usize::from(set) * 16;
    let mut block = value.get(start..).unwrap_or_default().to_vec();
    block.resize(16, 0);
    let mut out = vec![0x11, set];
    out.extend_from_slice(&block);
    Ok(out)
}

fn no_data(r: &IpmiRequest) -> Result<(), CompletionCode> {
    if r.data.is_empty() {
        Ok(())
    } else {
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipmi_router::Context;

    fn request(data: &[u8]) -> IpmiRequest {
        IpmiRequest {
            netfn: NetFn::APP,
            lun: 0,
            cmd: 0,
            data: data.to_vec(),
            context: Context {
                channel: 0x0F,
                privilege: Privilege::Administrator,
                user_id: 0,
                session_id: 0,
            },
        }
    }

    fn system(tag: &str) -> SystemInterface {
        let dir = std::env::temp_dir().join(format!("rbmc-kcs-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        SystemInterface::new(&dir)
    }

    #[test]
    fn global_enables_and_flags() {
        let s = system("enables");
        assert_eq!(cmd_get_global_enables(&s, &request(&[])).unwrap(), [0x08]);
        cmd_set_global_enables(&s, &request(&[0x0D])).unwrap();
        assert_eq!(cmd_get_global_enables(&s, &request(&[])).unwrap(), [0x0D]);
        assert_eq!(
            cmd_set_global_enables(&s, &request(&[0x10])),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(cmd_get_message_flags(&s, &request(&[])).unwrap(), [0]);
        assert_eq!(cmd_get_message(&s, &request(&[])), Err(CC_NO_DATA));
        assert_eq!(cmd_read_event_buffer(&s, &request(&[])), Err(CC_NO_DATA));
        s.lock().receive_queue.push_back(vec![0x0F, 0x1C]);
        s.lock().flags |= flags::RECEIVE_MESSAGE;
        assert!(s.attention());
        assert_eq!(cmd_get_message(&s, &request(&[])).unwrap(), [0x0F, 0x1C]);
        assert!(!s.attention());
    }

    /// Set System Info Parameters for the system name (parameter 2),
    /// block 0: encoding 0 (ASCII), then the length and the text.
    fn system_name(name: &[u8]) -> Vec<u8> {
        let mut block = vec![0x02, 0x00, 0x00, u8::try_from(name.len()).unwrap()];
        block.extend_from_slice(name);
        block.resize(2 + 16, 0);
        block
    }

    #[tokio::test]
    async fn system_info_strings_round_trip_and_persist() {
        let s = system("info");
        cmd_set_system_info(&s, &request(&system_name(b"rbmc-1")))
            .await
            .unwrap();
        let got = cmd_get_system_info(&s, &request(&[0, 2, 0, 0])).unwrap();
        assert_eq!(got[..2], [0x11, 0x00]);
        assert_eq!(&got[4..10], b"rbmc-1");
        let again = SystemInterface::new(s.info_file.path().parent().unwrap());
        assert_eq!(
            cmd_get_system_info(&again, &request(&[0, 2, 0, 0])).unwrap(),
            got
        );
        assert_eq!(
            cmd_get_system_info(&s, &request(&[0, 9, 0, 0])),
            Err(CC_PARAMETER_NOT_SUPPORTED)
        );
        assert_eq!(
            cmd_get_system_info(&s, &request(&[0x80, 2, 0, 0])).unwrap(),
            [0x11]
        );
    }

    #[tokio::test]
    async fn a_failed_write_is_refused_and_changes_nothing() {
        let s = system("refused");
        cmd_set_system_info(&s, &request(&system_name(b"before")))
            .await
            .unwrap();
        let on_disk = std::fs::read(s.info_file.path()).unwrap();
        // A directory where the temporary file goes: the write fails, as on
        // a read-only or broken file system.
        let blocker = s.info_file.path().with_extension("tmp");
        std::fs::create_dir_all(&blocker).unwrap();
        assert_eq!(
            cmd_set_system_info(&s, &request(&system_name(b"after"))).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        let got = cmd_get_system_info(&s, &request(&[0, 2, 0, 0])).unwrap();
        assert_eq!(&got[4..10], b"before", "memory unchanged");
        assert_eq!(
            std::fs::read(s.info_file.path()).unwrap(),
            on_disk,
            "disk unchanged"
        );
    }
}
