//! The PEF commands rbmc-pefd owns (Sensor/Event NetFn), in one
//! [`CommandTable`] with their least privilege (IPMI v2.0 Appendix G).

use std::sync::Arc;

use ipmi_pef::cmd;
use ipmi_router::owner::CommandTable;
use ipmi_wire::{CompletionCode, NetFn, Privilege};

use crate::{
    alerts::Alerter,
    owner::{Command, PefHandle},
};

/// What the commands reach.
pub struct Pefd {
    /// The PEF task.
    pub pef: PefHandle,
    /// The alerts.
    pub alerter: Arc<Alerter>,
}

/// The PEF commands.
pub fn command_table(pef: PefHandle, alerter: Arc<Alerter>) -> CommandTable<Pefd> {
    use Privilege::{Administrator as Admin, Callback, Operator, User};
    let mut table = CommandTable::new(Pefd { pef, alerter });
    table
        .add(
            NetFn::SENSOR_EVENT,
            cmd::GET_PEF_CAPABILITIES,
            User,
            |_: Arc<Pefd>, request| async move {
                if !request.data.is_empty() {
                    return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
                }
                Ok(ipmi_pef::capabilities())
            },
        )
        .expect("each command is listed once");
    let owned = [
        (cmd::ARM_POSTPONE_TIMER, Admin, Command::ArmPostpone),
        (cmd::SET_PEF_CONFIG, Admin, Command::SetConfig),
        (cmd::GET_PEF_CONFIG, Operator, Command::GetConfig),
        (cmd::SET_LAST_PROCESSED, Admin, Command::SetLastProcessed),
        (cmd::GET_LAST_PROCESSED, Admin, Command::GetLastProcessed),
    ];
    for (code, privilege, command) in owned {
        table
            .add(
                NetFn::SENSOR_EVENT,
                code,
                privilege,
                move |pefd: Arc<Pefd>, request| async move {
                    pefd.pef.command(command, request.data).await
                },
            )
            .expect("each command is listed once");
    }
    table
        .add(
            NetFn::SENSOR_EVENT,
            cmd::ALERT_IMMEDIATE,
            Admin,
            |pefd: Arc<Pefd>, request| async move {
                pefd.alerter.alert_immediate(&request.data).await
            },
        )
        .expect("each command is listed once");
    // A trap receiver sends it outside any session (rbmc-netipmid lets it
    // through): it can only stop an alert's retries.
    table
        .add(
            NetFn::SENSOR_EVENT,
            cmd::PET_ACKNOWLEDGE,
            Callback,
            |pefd: Arc<Pefd>, request| async move { pefd.alerter.acknowledge(&request.data) },
        )
        .expect("each command is listed once");
    table
}
