//! The IPMI command rbmc-fand owns: phosphor-pid-control's fan-control
//! mode command, with its bytes for every well-formed request, so the
//! scripts that drive an OpenBMC's fans drive these. Malformed requests get
//! IPMI's own codes (below), where phosphor-host-ipmid answers C1h to
//! everything and takes any non-zero value as manual.
//!
//! It is in NetFn 2Eh (OEM/Group), whose requests and responses begin with
//! the defining body's IANA enterprise number, least significant byte first
//! (IPMI v2.0 §5.1, Table 5-1): OpenBMC's, 49871 (`CF C2 00`). An
//! OEM/Group command names its owner in its bytes; one in the
//! controller-specific range (30h-3Fh) would take its meaning from the
//! board's manufacturer ID, which each board configures.
//!
//! ```text
//! request:  CF C2 00 | sub | zone [| value]       NetFn 2Eh, Cmd 04h
//!   sub 00h  get manual mode           -> CF C2 00 | 00h automatic, 01h manual
//!   sub 01h  set manual mode, value 00h automatic / 01h manual -> CF C2 00
//!   sub 02h  get failsafe              -> CF C2 00 | 00h no, 01h in failsafe
//! ```
//!
//! Completion codes: C1h when the enterprise number is not OpenBMC's (not a
//! command of ours), C7h for a wrong length, CCh for an unknown subcommand
//! or a value other than 00h/01h, CBh for a zone that does not exist. The
//! gets need User privilege, the set Operator (as Chassis Control: it can
//! let the host overheat, as a power-off can stop it); the command table
//! says User and the set checks Operator itself.
//!
//! ```text
//! ipmitool raw 0x2e 0x04 0xcf 0xc2 0x00 0x01 0x00 0x01   # zone 0 manual
//! ```

use std::sync::Arc;

use ipmi_router::owner::CommandTable;
use ipmi_wire::{CompletionCode, NetFn, Privilege};

use crate::owner::{ControlError, FanHandle};

/// The command's number in NetFn 2Eh.
pub const FAN_CONTROL_MODE: u8 = 0x04;
/// OpenBMC's IANA enterprise number, 49871, least significant byte first.
pub const OPENBMC_IANA: [u8; 3] = [0xCF, 0xC2, 0x00];

/// The subcommands.
mod sub {
    pub const GET_MANUAL: u8 = 0x00;
    pub const SET_MANUAL: u8 = 0x01;
    pub const GET_FAILSAFE: u8 = 0x02;
}

/// The command table.
pub fn command_table(handle: FanHandle) -> CommandTable<FanHandle> {
    let mut table = CommandTable::new(handle);
    table
        .add(
            NetFn::OEM_GROUP,
            FAN_CONTROL_MODE,
            Privilege::User,
            |handle: Arc<FanHandle>, request| async move {
                fan_control_mode(&handle, &request.data, request.context.privilege).await
            },
        )
        .expect("each command is listed once");
    table
}

/// Runs one request of the fan-control mode command.
pub async fn fan_control_mode(
    handle: &FanHandle,
    data: &[u8],
    privilege: Privilege,
) -> Result<Vec<u8>, CompletionCode> {
    let (iana, body) = data.split_at(data.len().min(3));
    if iana.len() < 3 {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    if iana != OPENBMC_IANA {
        return Err(CompletionCode::INVALID_COMMAND);
    }
    let (&subcommand, rest) = body
        .split_first()
        .ok_or(CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
    let expected = match subcommand {
        sub::GET_MANUAL | sub::GET_FAILSAFE => 1,
        sub::SET_MANUAL => 2,
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    };
    if rest.len() != expected {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    }
    let zone = rest[0];
    let state = handle.zone(zone).ok_or(CompletionCode::NOT_PRESENT)?;
    let mut response = OPENBMC_IANA.to_vec();
    match subcommand {
        sub::GET_MANUAL => response.push(u8::from(state.manual)),
        sub::GET_FAILSAFE => response.push(u8::from(state.failsafe)),
        _ => {
            if privilege < Privilege::Operator {
                return Err(CompletionCode::INSUFFICIENT_PRIVILEGE);
            }
            let manual = match rest[1] {
                0x00 => false,
                0x01 => true,
                _ => return Err(CompletionCode::INVALID_DATA_FIELD),
            };
            handle
                .set_manual(zone, manual)
                .await
                .map_err(|err| match err {
                    ControlError::NoSuchZone(_) => CompletionCode::NOT_PRESENT,
                    // The task is stopping, or something new.
                    _ => CompletionCode::NODE_BUSY,
                })?;
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::owner::{Command, ZoneState};

    fn zone0() -> ZoneState {
        ZoneState {
            id: 0,
            manual: true,
            failsafe: false,
            ..ZoneState::default()
        }
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn gets_answer_with_the_enterprise_number_then_the_state() {
        let (handle, _commands) = FanHandle::detached(vec![zone0()]);
        let ask = |data: &[u8]| run(fan_control_mode(&handle, data, Privilege::User));
        assert_eq!(
            ask(&[0xCF, 0xC2, 0x00, 0x00, 0x00]),
            Ok(vec![0xCF, 0xC2, 0x00, 0x01])
        );
        assert_eq!(
            ask(&[0xCF, 0xC2, 0x00, 0x02, 0x00]),
            Ok(vec![0xCF, 0xC2, 0x00, 0x00])
        );
    }

    #[test]
    fn wrong_requests_get_the_codes_the_module_names() {
        let (handle, _commands) = FanHandle::detached(vec![zone0()]);
        let ask = |data: &[u8]| run(fan_control_mode(&handle, data, Privilege::Administrator));
        assert_eq!(
            ask(&[0xCF, 0xC2]),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(
            ask(&[0x57, 0x01, 0x00, 0x00, 0x00]),
            Err(CompletionCode::INVALID_COMMAND)
        );
        assert_eq!(
            ask(&[0xCF, 0xC2, 0x00]),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(
            ask(&[0xCF, 0xC2, 0x00, 0x09, 0x00]),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            ask(&[0xCF, 0xC2, 0x00, 0x00, 0x00, 0x00]),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(
            ask(&[0xCF, 0xC2, 0x00, 0x00, 0x03]),
            Err(CompletionCode::NOT_PRESENT)
        );
        assert_eq!(
            ask(&[0xCF, 0xC2, 0x00, 0x01, 0x00, 0x02]),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }

    #[test]
    fn setting_the_mode_needs_operator_and_reaches_the_control_task() {
        let (handle, mut commands) = FanHandle::detached(vec![zone0()]);
        let set = [0xCF, 0xC2, 0x00, 0x01, 0x00, 0x00];
        assert_eq!(
            run(fan_control_mode(&handle, &set, Privilege::User)),
            Err(CompletionCode::INSUFFICIENT_PRIVILEGE)
        );
        let answered = run(async {
            let task = async {
                match commands.recv().await {
                    Some(Command::SetManual {
                        zone: 0,
                        manual: false,
                        reply,
                    }) => {
                        let _ = reply.send(Ok(()));
                    }
                    other => panic!("{other:?}"),
                }
            };
            let (answer, ()) =
                tokio::join!(fan_control_mode(&handle, &set, Privilege::Operator), task);
            answer
        });
        assert_eq!(answered, Ok(vec![0xCF, 0xC2, 0x00]));
    }
}
