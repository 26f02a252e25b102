//! The chassis commands (IPMI v2.0 §28, Chassis NetFn 00h).
//!
//! | Cmd | command                      | privilege |
//! |-----|------------------------------|-----------|
//! | 00h | Get Chassis Capabilities     | User      |
//! | 01h | Get Chassis Status           | User      |
//! | 02h | Chassis Control              | Operator  |
//! | 04h | Chassis Identify             | Operator  |
//! | 06h | Set Power Restore Policy     | Operator  |
//! | 07h | Get System Restart Cause     | User      |
//! | 0Fh | Get POH Counter              | User      |

use std::time::{Duration, Instant};

use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::CompletionCode;
use power_sequencer::{Refused, Request};

use crate::{
    control::{cause, Identify},
    Powerd,
};

/// Get Chassis Capabilities.
pub const CMD_GET_CHASSIS_CAPABILITIES: u8 = 0x00;
/// Get Chassis Status.
pub const CMD_GET_CHASSIS_STATUS: u8 = 0x01;
/// Chassis Control.
pub const CMD_CHASSIS_CONTROL: u8 = 0x02;
/// Chassis Identify.
pub const CMD_CHASSIS_IDENTIFY: u8 = 0x04;
/// Set Power Restore Policy.
pub const CMD_SET_POWER_RESTORE_POLICY: u8 = 0x06;
/// Get System Restart Cause.
pub const CMD_GET_SYSTEM_RESTART_CAUSE: u8 = 0x07;
/// Get POH Counter.
pub const CMD_GET_POH_COUNTER: u8 = 0x0F;

/// The BMC's address, for every device address Get Chassis Capabilities
/// reports.
const BMC_ADDRESS: u8 = 0x20;
/// Chassis Identify's default interval (§28.5: 15 seconds).
const DEFAULT_IDENTIFY: Duration = Duration::from_secs(15);
/// POH counter granularity reported: minutes per count.
const MINUTES_PER_COUNT: u8 = 60;

fn no_data(request: &IpmiRequest) -> Result<(), CompletionCode> {
    if request.data.is_empty() {
        Ok(())
    } else {
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    }
}

/// Get Chassis Capabilities (§28.1): a diagnostic interrupt and, when the
/// line exists, an intrusion sensor; every device is the BMC itself.
pub fn cmd_get_chassis_capabilities(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    let mut flags = 0x04;
    if p.has_intrusion {
        flags |= 0x01;
    }
    Ok(vec![
        flags,
        BMC_ADDRESS,
        BMC_ADDRESS,
        BMC_ADDRESS,
        BMC_ADDRESS,
    ])
}

/// Get Chassis Status (§28.2, Table 28-4).
pub fn cmd_get_chassis_status(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    let state = p.control.lock();
    let policy = state.policy(p.control.default_policy);
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    // Bit 3: main power fault, from rbmc-sensord's supply rails.
    let power = u8::from(state.sequencer.is_on())
        | u8::from(p.faults.power.load(relaxed)) << 3
        | if state.sequencer.control_fault() {
            0x10
        } else {
            0
        }
        | (policy & 0x03) << 5;
    let identify = match state.identify {
        Identify::Off => 0b00,
        Identify::Until(_) => 0b01,
        Identify::Forever => 0b10,
    };
    // Bit 6: identify command and state supported; bit 3: cooling/fan
    // fault, from rbmc-sensord's fans.
    let cooling = p.faults.cooling.load(relaxed);
    let misc = 0x40 | identify << 4 | u8::from(cooling) << 3 | u8::from(state.intrusion);
    Ok(vec![power, state.last_power_event, misc])
}

/// rbmc-sensord's faults, as last signalled (none until it signals).
#[derive(Debug, Default)]
pub struct SensorFaults {
    /// `CoolingFault`: Get Chassis Status byte 3 bit 3.
    pub cooling: std::sync::atomic::AtomicBool,
    /// `PowerFault`: Get Chassis Status byte 1 bit 3 (main power fault).
    pub power: std::sync::atomic::AtomicBool,
}

/// Follows rbmc-sensord's `CoolingFault` and `PowerFault` into `faults`,
/// for as long as the bus lasts. The match is on the object's path and interface, not on the
/// sender's name, so a sensord that starts (or restarts) later is heard;
/// until it signals, there is no fault.
pub async fn follow_sensor_faults(conn: zbus::Connection, faults: std::sync::Arc<SensorFaults>) {
    use futures_util::StreamExt as _;
    use rbmc_contracts::sensor::HEALTH_PATH;
    use std::sync::atomic::Ordering;
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .interface("org.freedesktop.DBus.Properties")
        .and_then(|b| b.member("PropertiesChanged"))
        .and_then(|b| b.path(HEALTH_PATH))
        .map(|b| b.build());
    let stream = match rule {
        Ok(rule) => zbus::MessageStream::for_match_rule(rule, &conn, None).await,
        Err(err) => Err(err),
    };
    let mut stream = match stream {
        Ok(stream) => stream,
        Err(err) => {
            tracing::warn!(%err, "cannot follow the sensors' health: no cooling or power fault in chassis status");
            return;
        }
    };
    let initial = async {
        let health = rbmc_contracts::sensor::HealthProxy::builder(&conn)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        Ok::<_, zbus::Error>((health.cooling_fault().await?, health.power_fault().await?))
    };
    // Bounded: a call to a name nobody owns yet may go unanswered.
    if let Ok(Ok((cooling, power))) =
        tokio::time::timeout(std::time::Duration::from_secs(1), initial).await
    {
        faults.cooling.store(cooling, Ordering::Relaxed);
        faults.power.store(power, Ordering::Relaxed);
    }
    while let Some(message) = stream.next().await {
        let Ok(message) = message else { continue };
        let body = message.body();
        let Ok((interface, changed, _)) = body.deserialize::<(
            String,
            std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
            Vec<String>,
        )>() else {
            continue;
        };
        if interface != "org.rbmc.Sensord.Health" {
            continue;
        }
        if let Some(Ok(fault)) = changed.get("CoolingFault").map(bool::try_from) {
            faults.cooling.store(fault, Ordering::Relaxed);
        }
        if let Some(Ok(fault)) = changed.get("PowerFault").map(bool::try_from) {
            faults.power.store(fault, Ordering::Relaxed);
        }
    }
}

/// Chassis Control (§28.3): 0 power down, 1 power up, 2 power cycle, 3 hard
/// reset, 4 diagnostic interrupt, 5 soft shutdown. During a transition a
/// request is queued and runs when it ends (`power_sequencer`'s rule): D5h
/// if it makes no sense where the transition heads, C0h (busy) if another
/// already waits. An action that needs power while off answers D5h.
pub fn cmd_chassis_control(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let [control] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    let action = match control & 0x0F {
        0 => Request::Off,
        1 => Request::On,
        2 => Request::Cycle,
        3 => Request::Reset,
        4 => Request::Diagnostic,
        5 => Request::SoftOff,
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    };
    if control & 0xF0 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    p.control
        .request(action, cause::CHASSIS_CONTROL)
        .map_err(|err| match err {
            Refused::Busy => CompletionCode::NODE_BUSY,
            Refused::WrongState(_) => CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE,
        })?;
    Ok(Vec::new())
}

/// Set Power Cycle Interval (§28.9).
pub const CMD_SET_POWER_CYCLE_INTERVAL: u8 = 0x0B;

/// Set Power Cycle Interval (§28.9): one byte, seconds the host stays off
/// in a power cycle. Persisted before it applies.
pub async fn cmd_set_power_cycle_interval(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let [seconds] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    p.control
        .change_setting(|stored, _| {
            stored.power_cycle_interval_s = Some(seconds);
            Ok(())
        })
        .await?;
    p.control
        .lock()
        .sequencer
        .set_cycle_off(crate::control::cycle_interval(seconds));
    Ok(Vec::new())
}

/// Chassis Identify (§28.5): optional interval in seconds (0 turns it off,
/// default 15) and optional force-on bit.
pub fn cmd_chassis_identify(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let identify = match request.data[..] {
        [] => Identify::Until(Instant::now() + DEFAULT_IDENTIFY),
        [_, force] if force & 0xFE != 0 => return Err(CompletionCode::INVALID_DATA_FIELD),
        [_, 0x01] => Identify::Forever,
        [0] | [0, 0] => Identify::Off,
        [seconds] | [seconds, 0] => {
            Identify::Until(Instant::now() + Duration::from_secs(seconds.into()))
        }
        _ => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
    };
    p.control.identify(identify);
    Ok(Vec::new())
}

/// Set Power Restore Policy (§28.8): 0 always off, 1 previous, 2 always on,
/// 3 no change; answers the supported set (all three). Persisted before the
/// reply.
pub async fn cmd_set_power_restore_policy(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let [policy] = request.data[..] else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if policy & 0xF8 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    match policy {
        0..=2 => {
            p.control
                .change_setting(|stored, _| {
                    stored.restore_policy = Some(policy);
                    Ok(())
                })
                .await?;
        }
        3 => {}
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    }
    Ok(vec![0x07])
}

/// Get System Restart Cause (§28.11): the cause, and the channel (0).
pub fn cmd_get_system_restart_cause(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    Ok(vec![p.control.lock().stored.restart_cause & 0x0F, 0x00])
}

/// Get POH Counter (§28.14): minutes per count, then the count.
pub fn cmd_get_poh_counter(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    let minutes = p.control.lock().power_on_minutes(Instant::now());
    let count = u32::try_from(minutes / u64::from(MINUTES_PER_COUNT)).unwrap_or(u32::MAX);
    let mut out = vec![MINUTES_PER_COUNT];
    out.extend_from_slice(&count.to_le_bytes());
    Ok(out)
}

/// Set System Boot Options.
pub const CMD_SET_SYSTEM_BOOT_OPTIONS: u8 = 0x08;
/// Get System Boot Options.
pub const CMD_GET_SYSTEM_BOOT_OPTIONS: u8 = 0x09;
/// The system interface channel (IPMI v2.0 §6.3): the host's firmware.
const SYSTEM_INTERFACE: u8 = 0x0F;

/// Set System Boot Options (§28.12), persisted before the reply.
pub async fn cmd_set_system_boot_options(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    p.control
        .change_setting(|_, boot| boot.set(&request.data))
        .await
}

/// Get System Boot Options (§28.13). When the host's firmware reads the boot
/// flags over the system interface it has used them: a next-boot-only
/// request is then cleared, durably before the reply (or, if that cannot
/// be written, the read is refused and the request stays).
pub async fn cmd_get_system_boot_options(p: &Powerd, request: &IpmiRequest) -> HandlerResult {
    let boot_flags = request.data.first().is_some_and(|param| param & 0x7F == 5);
    if !(boot_flags && request.context.channel == SYSTEM_INTERFACE) {
        return p.control.lock().boot.get(&request.data);
    }
    p.control
        .change_setting(|_, boot| {
            let result = boot.get(&request.data)?;
            boot.on_host_boot();
            Ok(result)
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::{path::PathBuf, sync::Arc};

    use ipmi_router::Context;
    use ipmi_wire::{NetFn, Privilege};

    use super::*;
    use crate::{control::Controller, simboard::SimBoard, store::Store};

    fn powerd(tag: &str) -> (Powerd, PathBuf) {
        let dir = std::env::temp_dir().join(format!("rbmc-chassis-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = rbmc_config::Power::default();
        let board = Arc::new(SimBoard::new(config.simulated.clone()));
        let (control, _actions, _events) = Controller::new(&config, board, Store::new(&dir));
        let powerd = Powerd {
            control,
            has_intrusion: false,
            faults: std::sync::Arc::default(),
            dcmi: Arc::new(crate::dcmi::Dcmi::new(&rbmc_config::Config::default())),
        };
        (powerd, dir.join("power.toml"))
    }

    fn request(data: &[u8]) -> IpmiRequest {
        IpmiRequest {
            netfn: NetFn::CHASSIS,
            lun: 0,
            cmd: 0,
            data: data.to_vec(),
            context: Context {
                channel: 1,
                privilege: Privilege::Operator,
                user_id: 2,
                session_id: 1,
            },
        }
    }

    /// The restore policy Get Chassis Status reports (byte 1 bits 6:5).
    fn policy(p: &Powerd) -> u8 {
        cmd_get_chassis_status(p, &request(&[])).unwrap()[0] >> 5 & 0x03
    }

    /// Boot flags (parameter 5): valid, persistent, boot from PXE.
    const PXE: [u8; 6] = [0x05, 0xC0, 0x04, 0x00, 0x00, 0x00];
    /// Boot flags: valid, next boot only, boot from PXE.
    const PXE_ONCE: [u8; 6] = [0x05, 0x80, 0x04, 0x00, 0x00, 0x00];
    /// Boot flags: valid, persistent, boot from disk.
    const DISK: [u8; 6] = [0x05, 0xC0, 0x08, 0x00, 0x00, 0x00];

    #[tokio::test]
    async fn settings_are_durable_before_the_reply() {
        let (p, path) = powerd("durable");
        cmd_set_power_restore_policy(&p, &request(&[2]))
            .await
            .unwrap();
        assert_eq!(policy(&p), 2);
        cmd_set_system_boot_options(&p, &request(&PXE))
            .await
            .unwrap();
        let stored: crate::store::Stored =
            toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(stored.restore_policy, Some(2));
        assert_eq!(
            Store::new(path.parent().unwrap()).load(),
            stored,
            "a restart finds what was acknowledged"
        );
        // Reads and "no change" write nothing and wait for nothing.
        std::fs::remove_file(&path).unwrap();
        cmd_set_power_restore_policy(&p, &request(&[3]))
            .await
            .unwrap();
        cmd_get_system_boot_options(&p, &request(&[5, 0, 0]))
            .await
            .unwrap();
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_failed_write_is_refused_and_changes_nothing() {
        let (p, path) = powerd("refused");
        cmd_set_power_restore_policy(&p, &request(&[2]))
            .await
            .unwrap();
        cmd_set_system_boot_options(&p, &request(&PXE_ONCE))
            .await
            .unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        let flags = cmd_get_system_boot_options(&p, &request(&[5, 0, 0]))
            .await
            .unwrap();
        // A directory where the temporary file goes: the write fails, as on
        // a read-only or broken file system.
        std::fs::create_dir_all(path.with_extension("tmp")).unwrap();
        assert_eq!(
            cmd_set_power_restore_policy(&p, &request(&[0])).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        assert_eq!(policy(&p), 2, "memory unchanged");
        assert_eq!(
            cmd_set_system_boot_options(&p, &request(&DISK)).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        // The host's firmware reading the flags would use them up: refused
        // too, so the next boot still finds them.
        let mut firmware = request(&[5, 0, 0]);
        firmware.context.channel = SYSTEM_INTERFACE;
        assert_eq!(
            cmd_get_system_boot_options(&p, &firmware).await,
            Err(CompletionCode::UNSPECIFIED)
        );
        assert_eq!(
            cmd_get_system_boot_options(&p, &request(&[5, 0, 0]))
                .await
                .unwrap(),
            flags
        );
        assert_eq!(std::fs::read(&path).unwrap(), on_disk, "disk unchanged");
        // Once the disk takes writes again, so does the daemon.
        std::fs::remove_dir(path.with_extension("tmp")).unwrap();
        cmd_set_power_restore_policy(&p, &request(&[0]))
            .await
            .unwrap();
        assert_eq!(policy(&p), 0);
    }

    #[tokio::test]
    async fn state_the_power_path_records_is_written_in_the_background() {
        let (p, path) = powerd("background");
        tokio::spawn(p.control.clone().save_in_background());
        {
            let mut state = p.control.lock();
            state.stored.restart_cause = crate::control::cause::WATCHDOG;
            // Returns at once, with the lock held.
            p.control.persist(&state);
        }
        // Whatever the writer is doing, a change after it sees its work.
        p.control.save_now().await.unwrap();
        let stored = Store::new(path.parent().unwrap()).load();
        assert_eq!(stored.restart_cause, crate::control::cause::WATCHDOG);
    }
}
