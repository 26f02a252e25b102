//! The IPMI user commands rbmc-userd owns, in one [`CommandTable`] with
//! their least privilege (IPMI v2.0 Appendix G). Reads run on the
//! accounts in place; changes run on a copy that is stored before it takes
//! effect and before the answer goes back (C4h when the disk is full).

use std::sync::Arc;

use ipmi_accounts::{users, Accounts, CommandResult, Lockout};
use ipmi_router::{owner::CommandTable, HandlerResult, IpmiRequest};
use ipmi_wire::{CompletionCode, NetFn, Privilege};
use tracing::info;

use crate::owner::{AccountsHandle, ChangeError};

/// A command that may change the accounts.
type Change = fn(&mut Accounts, &mut Lockout, std::time::Instant, &IpmiRequest) -> CommandResult;
/// A command that only reads them.
type Read = fn(&Accounts, &IpmiRequest) -> CommandResult;

/// The user commands.
pub fn command_table(accounts: AccountsHandle) -> CommandTable<AccountsHandle> {
    use Privilege::{Administrator as Admin, Operator};
    let app = NetFn::APP;
    let mut table = CommandTable::new(accounts);
    let changes: &[(u8, Change)] = &[
        (users::CMD_SET_USER_ACCESS, |a, _, _, r| {
            a.users.cmd_set_user_access(&r.data, r.context.channel)
        }),
        (users::CMD_SET_USER_NAME, |a, _, _, r| {
            a.users.cmd_set_user_name(&r.data)
        }),
        (users::CMD_SET_USER_PASSWORD, |a, lockout, now, r| {
            let (result, refusal) = a.cmd_set_user_password(lockout, now, &r.data);
            if let Some(refusal) = refusal {
                // The reason, never the password.
                info!(user = r.data.first().map(|b| b & 0x3F), %refusal, "Set User Password refused");
            }
            result
        }),
        (users::CMD_SET_USER_PAYLOAD_ACCESS, |a, _, _, r| {
            a.users
                .cmd_set_user_payload_access(&r.data, r.context.channel)
        }),
    ];
    for &(cmd, change) in changes {
        table
            .add(
                app,
                cmd,
                Admin,
                move |accounts: Arc<AccountsHandle>, request| async move {
                    let result = accounts
                        .change(move |a, lockout, now| change(a, lockout, now, &request))
                        .await;
                    match result {
                        Ok(data) => Ok(data),
                        Err(ChangeError::Refused(cc)) => Err(cc),
                        Err(ChangeError::Store(err)) => {
                            Err(rbmc_daemon::durable::completion_code(&err))
                        }
                        Err(ChangeError::Gone) => Err(CompletionCode::NODE_BUSY),
                    }
                },
            )
            .expect("each command is listed once");
    }
    let reads: &[(u8, Read)] = &[
        (users::CMD_GET_USER_ACCESS, |a, r| {
            a.users.cmd_get_user_access(&r.data, r.context.channel)
        }),
        (users::CMD_GET_USER_NAME, |a, r| {
            a.users.cmd_get_user_name(&r.data)
        }),
        (users::CMD_GET_USER_PAYLOAD_ACCESS, |a, r| {
            a.users
                .cmd_get_user_payload_access(&r.data, r.context.channel)
        }),
    ];
    for &(cmd, read) in reads {
        table
            .add(
                app,
                cmd,
                Operator,
                move |accounts: Arc<AccountsHandle>, request| async move {
                    read_command(&accounts, request, read).await
                },
            )
            .expect("each command is listed once");
    }
    table
}

async fn read_command(
    accounts: &AccountsHandle,
    request: IpmiRequest,
    read: Read,
) -> HandlerResult {
    accounts
        .with(move |a, _, _| read(a, &request))
        .await
        .unwrap_or(Err(CompletionCode::NODE_BUSY))
}
