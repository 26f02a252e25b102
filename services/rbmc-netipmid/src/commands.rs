//! Every command rbmc-netipmid answers, in one [`CommandTable`] with its
//! least privilege (IPMI v2.0 Appendix G), and which of them are answered
//! before a session exists. The same table serves the network (as the
//! bridge's local commands) and the bus (as the owner `org.rbmc.Netipmid`,
//! so the host's KCS requests reach users and channels too).
//!
//! Handlers that need sessions or accounts send a command to the engine
//! task and await its reply ([`EngineHandle`]); nothing here locks. LAN
//! parameter 26, Bad Password Threshold, is the account policy's, so it is
//! read and written at rbmc-userd.

use std::sync::Arc;

use ipmi_lan::{
    channels, commands, config_params, lan_addressing, lan_params, lan_stats, netfn_support,
    session_commands, sol, Endpoint,
};
use ipmi_router::{
    owner::{CommandTable, Execute as _},
    HandlerResult, IpmiRequest,
};
use ipmi_wire::{crypto::CipherSuite, CompletionCode, NetFn, Privilege};
use rbmc_contracts::{user::AuthenticatorProxy, CommonError};

use crate::{
    accounts::Accounts,
    engine::{lan_context, EngineHandle, Facts},
    lan_info,
    network::NetworkHandle,
};

/// LAN parameter 26 (1Ah): Bad Password Threshold.
pub const BAD_PASSWORD_THRESHOLD: u8 = 26;

/// What the handlers reach.
pub struct Owner {
    engine: EngineHandle,
    /// rbmc-userd, once the bus is up.
    userd: std::sync::OnceLock<AuthenticatorProxy<'static>>,
    network: NetworkHandle,
    lan_channel: u8,
    suites: Vec<CipherSuite>,
    /// The bridge's router (for the live command map), once started.
    router: std::sync::OnceLock<ipmi_router::Router>,
    /// The NetFns of this daemon's own table.
    own_netfns: std::sync::OnceLock<Vec<u8>>,
}

impl Owner {
    /// The handlers' state.
    pub fn new(
        engine: EngineHandle,
        network: NetworkHandle,
        lan_channel: u8,
        suites: Vec<CipherSuite>,
    ) -> Self {
        Self {
            engine,
            userd: std::sync::OnceLock::new(),
            network,
            lan_channel,
            suites,
            router: std::sync::OnceLock::new(),
            own_netfns: std::sync::OnceLock::new(),
        }
    }

    /// The router whose command map Get NetFn Support reads.
    pub fn set_router(&self, router: ipmi_router::Router) {
        let _ = self.router.set(router);
    }

    /// Where parameter 26 is read and written.
    pub fn set_userd(&self, proxy: AuthenticatorProxy<'static>) {
        let _ = self.userd.set(proxy);
    }

    fn userd(&self) -> Result<&AuthenticatorProxy<'static>, CompletionCode> {
        self.userd.get().ok_or(CompletionCode::NODE_BUSY)
    }

    /// The LAN channel a "present channel" field names: from the host
    /// (channel Fh) it names no LAN channel at all.
    fn lan_channel_for(&self, request: &IpmiRequest) -> Result<u8, CompletionCode> {
        let present = request.context.channel;
        match request.data.first() {
            Some(field)
                if field & 0x0F == commands::PRESENT_CHANNEL && present != self.lan_channel =>
            {
                Err(CompletionCode::INVALID_DATA_FIELD)
            }
            _ => Ok(self.lan_channel),
        }
    }
}

/// A command on the accounts, run by the engine on a copy.
type AccountsCommand = fn(&mut Accounts, &IpmiRequest, &Facts) -> HandlerResult;
/// A command on the sessions, run by the engine on the endpoint.
type SessionCommand = fn(&mut Endpoint<Accounts>, &IpmiRequest) -> HandlerResult;

/// The commands rbmc-netipmid owns.
pub fn command_table(owner: Owner) -> CommandTable<Owner> {
    use Privilege::{Administrator as Admin, Callback, Operator, User as Usr};
    let mut table = CommandTable::new(owner);
    let app = NetFn::APP;
    let transport = NetFn::TRANSPORT;
    let accounts: &[(NetFn, u8, Privilege, AccountsCommand)] = &[
        (app, channels::CMD_SET_CHANNEL_ACCESS, Admin, |a, r, _| {
            a.channels
                .cmd_set_channel_access(&r.data, r.context.channel)
        }),
        (app, channels::CMD_GET_CHANNEL_ACCESS, Usr, |a, r, _| {
            a.channels
                .cmd_get_channel_access(&r.data, r.context.channel)
        }),
        (app, channels::CMD_GET_CHANNEL_INFO, Usr, |a, r, facts| {
            a.channels
                .cmd_get_channel_info(&r.data, r.context.channel, facts.active_sessions)
        }),
        (
            app,
            channels::CMD_GET_CHANNEL_PAYLOAD_SUPPORT,
            Usr,
            |a, r, _| {
                a.channels
                    .cmd_get_channel_payload_support(&r.data, r.context.channel)
            },
        ),
        (
            app,
            channels::CMD_GET_CHANNEL_PAYLOAD_VERSION,
            Usr,
            |a, r, _| {
                a.channels
                    .cmd_get_channel_payload_version(&r.data, r.context.channel)
            },
        ),
        (transport, sol::CMD_SET_SOL_CONFIG, Admin, |a, r, _| {
            a.sol.cmd_set_sol_config(&r.data, r.context.channel)
        }),
        (transport, sol::CMD_GET_SOL_CONFIG, Usr, |a, r, _| {
            a.sol.cmd_get_sol_config(&r.data, r.context.channel)
        }),
    ];
    for &(netfn, cmd, privilege, command) in accounts {
        table
            .add(
                netfn,
                cmd,
                privilege,
                move |owner: Arc<Owner>, request| async move {
                    let change = Box::new(move |accounts: &mut Accounts, facts: &Facts| {
                        command(accounts, &request, facts)
                    });
                    owner.engine.accounts(change).await
                },
            )
            .expect("each command is listed once");
    }
    let sessions: &[(NetFn, u8, Privilege, SessionCommand)] = &[
        (
            app,
            session_commands::CMD_SET_SESSION_PRIVILEGE,
            Callback,
            |e, r| e.set_session_privilege(&lan_context(&r.context), &r.data),
        ),
        (
            app,
            session_commands::CMD_CLOSE_SESSION,
            Callback,
            |e, r| e.close_session(&lan_context(&r.context), &r.data),
        ),
        (app, sol::CMD_ACTIVATE_PAYLOAD, Usr, |e, r| {
            e.activate_sol(std::time::Instant::now(), &lan_context(&r.context), &r.data)
        }),
        (app, sol::CMD_DEACTIVATE_PAYLOAD, Usr, |e, r| {
            e.deactivate_sol(std::time::Instant::now(), &lan_context(&r.context), &r.data)
        }),
        (app, sol::CMD_GET_PAYLOAD_ACTIVATION_STATUS, Usr, |e, r| {
            e.sol_activation_status(&r.data)
        }),
        (app, sol::CMD_GET_PAYLOAD_INSTANCE_INFO, Usr, |e, r| {
            e.sol_instance_info(&r.data)
        }),
    ];
    for &(netfn, cmd, privilege, command) in sessions {
        table
            .add(
                netfn,
                cmd,
                privilege,
                move |owner: Arc<Owner>, request| async move {
                    owner
                        .engine
                        .session(Box::new(move |endpoint| command(endpoint, &request)))
                        .await
                },
            )
            .expect("each command is listed once");
    }
    table
        .add(
            app,
            session_commands::CMD_GET_SESSION_INFO,
            Usr,
            cmd_get_session_info,
        )
        .and_then(|t| {
            t.add(
                transport,
                lan_params::CMD_GET_LAN_CONFIG,
                Operator,
                cmd_get_lan_config,
            )
        })
        .and_then(|t| {
            t.add(
                transport,
                lan_params::CMD_SET_LAN_CONFIG,
                Admin,
                cmd_set_lan_config,
            )
        })
        .and_then(|t| {
            t.add(
                transport,
                lan_stats::CMD_GET_LAN_STATISTICS,
                Usr,
                cmd_get_lan_statistics,
            )
        })
        // DCMI's DHCP discovery settings (DCMI v1.5 Table 6-1's
        // privileges): the LAN channel's address is this daemon's.
        .and_then(|t| {
            t.add_sync(
                NetFn::GROUP_EXTENSION,
                ipmi_dcmi::config::GET_CONFIG,
                Usr,
                |_, r| ipmi_dcmi::config::get(&r.data, &DHCP_CLIENT),
            )
        })
        .and_then(|t| {
            t.add(
                NetFn::GROUP_EXTENSION,
                ipmi_dcmi::config::SET_CONFIG,
                Admin,
                cmd_set_dcmi_config,
            )
        })
        .and_then(|t| {
            t.add_sync(
                app,
                netfn_support::CMD_GET_NETFN_SUPPORT,
                Usr,
                cmd_get_netfn_support,
            )
        })
        .and_then(|t| {
            t.add_sync(
                app,
                commands::CMD_GET_CHANNEL_AUTH_CAPABILITIES,
                Callback,
                cmd_get_channel_auth_capabilities,
            )
        })
        .and_then(|t| {
            t.add_sync(
                app,
                commands::CMD_GET_CHANNEL_CIPHER_SUITES,
                Callback,
                cmd_get_channel_cipher_suites,
            )
        })
        .and_then(|t| {
            t.add_sync(
                app,
                commands::CMD_GET_SESSION_CHALLENGE,
                Callback,
                cmd_get_session_challenge,
            )
        })
        .expect("each command is listed once");
    // What a console may ask before it has a session (§13.5, Appendix G).
    table
        .allow_pre_session(app, commands::CMD_GET_CHANNEL_AUTH_CAPABILITIES)
        .allow_pre_session(app, commands::CMD_GET_CHANNEL_CIPHER_SUITES)
        .allow_pre_session(app, commands::CMD_GET_SESSION_CHALLENGE);
    let mut own: Vec<u8> = table.specs().iter().map(|spec| spec.netfn.0).collect();
    own.dedup();
    let _ = table.state().own_netfns.set(own);
    table
}

/// Get Session Info: the neighbour table is read off the engine's path.
async fn cmd_get_session_info(owner: Arc<Owner>, request: IpmiRequest) -> HandlerResult {
    let neighbours = tokio::task::spawn_blocking(lan_info::neighbour_table)
        .await
        .unwrap_or_default();
    owner
        .engine
        .session(Box::new(move |endpoint| {
            endpoint.session_info(&lan_context(&request.context), &request.data, &|ip| {
                lan_info::mac_in(&neighbours, ip)
            })
        }))
        .await
}

/// Get LAN Configuration Parameters: the address parameters from the
/// network task, parameter 26 from rbmc-userd, the rest from the accounts.
async fn cmd_get_lan_config(owner: Arc<Owner>, request: IpmiRequest) -> HandlerResult {
    match request.data.get(1) {
        Some(&BAD_PASSWORD_THRESHOLD) => {
            let (_, revision_only) = config_params::parse_get(
                &request.data,
                owner.lan_channel,
                request.context.channel,
            )?;
            let value = owner
                .userd()?
                .bad_password_threshold()
                .await
                .map_err(|err| userd_error(&err))?;
            Ok(config_params::get_response(revision_only, value))
        }
        Some(&parameter) if lan_addressing::owns(parameter) => {
            owner
                .network
                .get(request.data.clone(), request.context.channel)
                .await
        }
        _ => {
            owner
                .engine
                .accounts(Box::new(move |accounts, _| {
                    accounts
                        .lan
                        .cmd_get_lan_config(&request.data, request.context.channel)
                }))
                .await
        }
    }
}

/// Set LAN Configuration Parameters: the address parameters through the
/// network task (and systemd-networkd), parameter 26 at rbmc-userd, the
/// rest on the accounts, durably.
async fn cmd_set_lan_config(owner: Arc<Owner>, request: IpmiRequest) -> HandlerResult {
    if let Some(&parameter) = request.data.get(1) {
        if lan_addressing::owns(parameter) {
            return owner
                .network
                .set(request.data.clone(), request.context.channel)
                .await;
        }
    }
    if request.data.get(1) == Some(&BAD_PASSWORD_THRESHOLD) {
        let (_, value) =
            config_params::parse_set(&request.data, owner.lan_channel, request.context.channel)?;
        // The form is checked here, so a malformed value never leaves.
        check_bad_password_threshold(value)?;
        owner
            .userd()?
            .set_bad_password_threshold(value)
            .await
            .map_err(|err| userd_error(&err))?;
        return Ok(Vec::new());
    }
    owner
        .engine
        .accounts(Box::new(move |accounts, _| {
            accounts
                .lan
                .cmd_set_lan_config(&request.data, request.context.channel)
        }))
        .await
}

/// The DHCP client that configures the LAN channel's interface: the
/// image's, systemd-networkd's.
const DHCP_CLIENT: ipmi_dcmi::config::DhcpClient = ipmi_dcmi::config::DhcpClient::NETWORKD;

/// Set DCMI Configuration Parameters: Activate DHCP restarts DHCP through
/// the network task (D5h with a static address or no networkd).
async fn cmd_set_dcmi_config(owner: Arc<Owner>, request: IpmiRequest) -> HandlerResult {
    match ipmi_dcmi::config::set(&request.data, &DHCP_CLIENT)? {
        ipmi_dcmi::config::Change::None => {}
        ipmi_dcmi::config::Change::RestartDhcp => {
            owner.network.restart_dhcp().await?;
        }
    }
    Ok(ipmi_dcmi::wire::reply(&[]))
}

/// Get NetFn Support: the NetFns of this daemon's table and of the
/// router's live command map (what the owners on the bus declare now), on
/// the LAN channel or the system interface.
fn cmd_get_netfn_support(owner: &Owner, request: &IpmiRequest) -> HandlerResult {
    let routed = owner
        .router
        .get()
        .map(ipmi_router::Router::command_map)
        .unwrap_or_default();
    let own = owner.own_netfns.get().cloned().unwrap_or_default();
    netfn_support::cmd_get_netfn_support(
        &request.data,
        request.context.channel,
        &[owner.lan_channel, channels::SYSTEM_INTERFACE],
        own.into_iter()
            .chain(routed.into_iter().map(|(netfn, ..)| netfn)),
    )
}

/// Get IP/UDP/RMCP Statistics: the kernel's counters are read off the
/// engine's path, then the endpoint adds its RMCP count.
async fn cmd_get_lan_statistics(owner: Arc<Owner>, request: IpmiRequest) -> HandlerResult {
    let ip = tokio::task::spawn_blocking(|| {
        std::fs::read_to_string("/proc/net/snmp")
            .ok()
            .and_then(|text| lan_stats::Counters::from_proc_net_snmp(&text))
            .unwrap_or_default()
    })
    .await
    .map_err(|_| CompletionCode::UNSPECIFIED)?;
    owner
        .engine
        .session(Box::new(move |endpoint| {
            endpoint.lan_statistics(&lan_context(&request.context), &request.data, ip)
        }))
        .await
}

/// Parameter 26's six bytes, with bits 7:1 of the first reserved.
fn check_bad_password_threshold(value: &[u8]) -> Result<(), CompletionCode> {
    match value {
        [flags, ..] if value.len() == 6 && flags & 0xFE == 0 => Ok(()),
        [_, ..] if value.len() == 6 => Err(CompletionCode::INVALID_DATA_FIELD),
        _ => Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
    }
}

/// rbmc-userd's typed errors, as completion codes.
fn userd_error(err: &CommonError) -> CompletionCode {
    match err {
        CommonError::InvalidArgument(_) => CompletionCode::INVALID_DATA_FIELD,
        CommonError::QuotaExceeded(_) => CompletionCode::OUT_OF_SPACE,
        CommonError::Timeout(_) => CompletionCode::TIMEOUT,
        CommonError::ZBus(_) | CommonError::Unavailable(_) | CommonError::TooManyResources(_) => {
            CompletionCode::NODE_BUSY
        }
        _ => CompletionCode::UNSPECIFIED,
    }
}

/// Get Channel Authentication Capabilities, before or in a session.
fn cmd_get_channel_auth_capabilities(owner: &Owner, request: &IpmiRequest) -> HandlerResult {
    let lan = owner.lan_channel_for(request)?;
    // No BMC key (Kg) is configured: one-key logins.
    commands::cmd_get_channel_auth_capabilities(&request.data, lan, false)
}

/// Get Channel Cipher Suites, before or in a session.
fn cmd_get_channel_cipher_suites(owner: &Owner, request: &IpmiRequest) -> HandlerResult {
    let lan = owner.lan_channel_for(request)?;
    commands::cmd_get_channel_cipher_suites(&request.data, lan, &owner.suites)
}

/// Get Session Challenge: IPMI v1.5 session activation is not offered, so
/// a v1.5 console is told at once rather than left to time out.
fn cmd_get_session_challenge(_: &Owner, _: &IpmiRequest) -> HandlerResult {
    Err(CompletionCode::INVALID_COMMAND)
}
