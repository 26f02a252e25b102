//! The state rbmc-netipmid owns besides sessions (users, channel access,
//! LAN and SOL parameters), the commands on it, and the policy the RMCP+
//! endpoint asks at login and SOL activation.
//!
//! The same command table serves the network (as the bridge's local
//! commands) and the bus (as the owner `org.rbmc.Netipmid`, so the host's
//! KCS requests reach the users and channels too). Every command that
//! changes persisted state saves the store before it answers: a success
//! the client saw is on disk.

use std::sync::{Arc, Mutex};

use ipmi_lan::{
    channels::{self, Channels},
    commands,
    lan_params::{self, LanParameters},
    sol::{self, SolParameters},
    users::{self, UserTable, PAYLOAD_SOL},
    Endpoint, SolPolicy, User, UserDirectory,
};
use ipmi_router::{owner::CommandTable, HandlerResult, IpmiRequest};
use ipmi_wire::{crypto::CipherSuite, CompletionCode, NetFn, Privilege};
use rbmc_config::Config;
use tokio::sync::Notify;
use tracing::{error, info};

use crate::{
    lan_info::{self, LanSource},
    store::{Persisted, Store, StoreError},
    SystemRandom,
};

/// Users, channels and parameters, behind one lock.
#[derive(Debug)]
pub struct Accounts {
    /// The user table.
    pub users: UserTable,
    /// Channel settings.
    pub channels: Channels,
    /// LAN configuration parameters IPMI owns.
    pub lan: LanParameters,
    /// SOL configuration parameters.
    pub sol: SolParameters,
    /// The LAN channel.
    pub lan_channel: u8,
    /// A second SOL activation takes over.
    pub sol_takeover: bool,
}

impl Accounts {
    /// The persisted part.
    fn persisted(&self) -> Persisted {
        Persisted {
            users: self.users.clone(),
            lan_access: self
                .channels
                .non_volatile(self.lan_channel)
                .unwrap_or_default(),
            sol: self.sol.config.clone(),
            suite_privileges: self.lan.suite_limits(),
        }
    }
}

/// The accounts, shared by the endpoint and the command handlers.
#[derive(Clone, Debug)]
pub struct SharedAccounts(pub Arc<Mutex<Accounts>>);

impl SharedAccounts {
    /// Locks the accounts. A panic while locked aborts the process
    /// (panic = "abort"), so poisoning is not observable in release builds.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Accounts> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl UserDirectory for SharedAccounts {
    fn find(&self, name: &[u8]) -> Option<User> {
        let accounts = self.lock();
        let login = accounts.users.login(name, accounts.lan_channel)?;
        let channel_limit = accounts
            .channels
            .settings(accounts.lan_channel)
            .map_or(Privilege::Administrator, |s| s.privilege_limit);
        Some(User {
            id: login.id,
            name: name.to_vec(),
            password: login.password,
            max_privilege: login.privilege_limit.min(channel_limit),
        })
    }

    fn suite_limit(&self, suite_id: u8) -> Privilege {
        self.lock()
            .lan
            .suite_limit(suite_id)
            .unwrap_or(Privilege::Administrator)
    }

    fn accepts_sessions(&self) -> bool {
        let accounts = self.lock();
        accounts
            .channels
            .settings(accounts.lan_channel)
            .is_none_or(|s| s.access_mode != channels::AccessMode::Disabled)
    }

    fn sol(&self, user_id: u8) -> Option<SolPolicy> {
        let accounts = self.lock();
        Some(SolPolicy {
            config: accounts.sol.config.clone(),
            user_allowed: accounts.users.payload_allowed(
                user_id,
                accounts.lan_channel,
                PAYLOAD_SOL,
            ),
            takeover: accounts.sol_takeover,
            port: accounts.sol.port,
        })
    }
}

/// The endpoint, shared by the datagram loop, the SOL console task and the
/// payload commands.
pub type SharedEndpoint = Arc<Mutex<Endpoint<SharedAccounts>>>;

/// Locks the endpoint (see [`SharedAccounts::lock`] on poisoning).
pub fn lock_endpoint(
    endpoint: &SharedEndpoint,
) -> std::sync::MutexGuard<'_, Endpoint<SharedAccounts>> {
    endpoint.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the command handlers reach.
pub struct Owner {
    accounts: SharedAccounts,
    endpoint: SharedEndpoint,
    store: Store,
    lan_source: LanSource,
    suites: Vec<CipherSuite>,
    /// Wakes the SOL console task after an activation or deactivation.
    pub sol_changed: Arc<Notify>,
    /// Held from snapshot to rename, so saves land in the order of the
    /// changes they carry.
    persist_lock: Mutex<()>,
}

/// Builds the accounts: from the store, or on first start from the
/// config's `[[users]]` (then saved at once, passwords sealed).
pub fn load_accounts(config: &Config, store: &Store, port: u16) -> Result<Accounts, StoreError> {
    let lan_channel = config.network.channel;
    // The suite always has its host interface (rbmc-kcsd is part of every
    // image; its device may come from the unit's command line rather than
    // the config), so channel Fh is always described.
    let system_interface = true;
    let user_channels = [lan_channel];
    let persisted = match store.load(&user_channels)? {
        Some(persisted) => {
            info!("users and channel settings loaded from the store");
            persisted
        }
        None => {
            let persisted = seed(config, &user_channels);
            store.save(&persisted)?;
            info!(
                users = config.users.len(),
                "first start: users seeded from the config and stored"
            );
            persisted
        }
    };
    let suites: Vec<u8> = config.network.suites().iter().map(|s| s.id).collect();
    Ok(Accounts {
        users: persisted.users,
        channels: Channels::new(
            lan_channel,
            persisted.lan_access,
            system_interface,
            config.network.max_sessions,
        ),
        lan: LanParameters::new(lan_channel, suites, &persisted.suite_privileges),
        sol: SolParameters::new(persisted.sol, lan_channel, port),
        lan_channel,
        sol_takeover: config.sol.takeover,
    })
}

fn seed(config: &Config, channels: &[u8]) -> Persisted {
    let lan = config.network.channel;
    let mut users = UserTable::new(channels);
    for entry in &config.users {
        let Some(record) = users.get_mut(entry.id.0) else {
            continue;
        };
        record.name = entry.name.0.as_bytes().to_vec();
        record.password = entry.password.0.as_bytes().to_vec();
        record.password_20 = entry.password.0.len() > 16;
        record.enabled = Some(entry.enabled);
        record.access.insert(
            lan,
            users::ChannelAccess {
                privilege_limit: Some(entry.privilege.0),
                ipmi_messaging: true,
                link_auth: false,
                callback_only: false,
            },
        );
        if entry.sol {
            record.payloads.insert(lan, PAYLOAD_SOL);
        }
    }
    let s = &config.sol;
    Persisted {
        users,
        lan_access: channels::ChannelSettings::default(),
        sol: sol::SolConfig {
            enabled: s.enabled,
            force_encryption: true,
            force_authentication: true,
            privilege: s.privilege.0,
            accumulate_5ms: u8::try_from(s.accumulate_interval_ms / 5).unwrap_or(u8::MAX),
            send_threshold: s.send_threshold,
            retry_count: s.retry_count,
            retry_10ms: u8::try_from(s.retry_interval_ms / 10).unwrap_or(u8::MAX),
            bit_rate_nv: s.bit_rate.code(),
            bit_rate: s.bit_rate.code(),
        },
        suite_privileges: Vec::new(),
    }
}

impl Owner {
    /// The handlers' state.
    pub fn new(
        accounts: SharedAccounts,
        endpoint: SharedEndpoint,
        store: Store,
        config: &Config,
    ) -> Self {
        Self {
            accounts,
            endpoint,
            store,
            lan_source: LanSource::from_config(&config.lan),
            suites: config.network.suites(),
            sol_changed: Arc::new(Notify::new()),
            persist_lock: Mutex::new(()),
        }
    }

    /// Saves after a change; a failed save is the client's error too
    /// (the change would not survive a restart).
    fn persist(&self, result: HandlerResult, changed: bool) -> HandlerResult {
        if changed && result.is_ok() {
            let _order = self.persist_lock.lock().unwrap_or_else(|e| e.into_inner());
            let snapshot = self.accounts.lock().persisted();
            if let Err(err) = self.store.save(&snapshot) {
                error!(cause = %err, "could not save users and channel settings");
                return Err(CompletionCode::UNSPECIFIED);
            }
        }
        result
    }

    fn users(&self, request: &IpmiRequest) -> HandlerResult {
        let outcome =
            self.accounts
                .lock()
                .users
                .execute(request.cmd, &request.data, request.context.channel);
        let (result, changed) = outcome.unwrap_or((Err(CompletionCode::INVALID_COMMAND), false));
        if changed && result.is_ok() {
            info!(
                cmd = format_args!("{:#04x}", request.cmd),
                user_id = request.context.user_id,
                "user table changed"
            );
        }
        self.persist(result, changed)
    }

    fn channels(&self, request: &IpmiRequest) -> HandlerResult {
        let sessions = self.active_sessions();
        let outcome = self.accounts.lock().channels.execute(
            request.cmd,
            &request.data,
            request.context.channel,
            sessions,
        );
        let (result, changed) = outcome.unwrap_or((Err(CompletionCode::INVALID_COMMAND), false));
        self.persist(result, changed)
    }

    fn active_sessions(&self) -> usize {
        lock_endpoint(&self.endpoint).active_session_count()
    }

    fn lan_parameters(&self, request: &IpmiRequest) -> HandlerResult {
        // Only a Get reports the interface; a Set never reads it.
        let live = if request.cmd == lan_params::CMD_GET_LAN_CONFIG {
            self.lan_source.snapshot()
        } else {
            lan_params::LanSnapshot::default()
        };
        let outcome = self.accounts.lock().lan.execute(
            request.cmd,
            &request.data,
            request.context.channel,
            &live,
        );
        let (result, changed) = outcome.unwrap_or((Err(CompletionCode::INVALID_COMMAND), false));
        self.persist(result, changed)
    }

    fn sol_parameters(&self, request: &IpmiRequest) -> HandlerResult {
        let outcome =
            self.accounts
                .lock()
                .sol
                .execute(request.cmd, &request.data, request.context.channel);
        let (result, changed) = outcome.unwrap_or((Err(CompletionCode::INVALID_COMMAND), false));
        self.persist(result, changed)
    }

    fn cipher_suites(&self, request: &IpmiRequest) -> HandlerResult {
        let lan = self.accounts.lock().lan_channel;
        // From the host (channel Fh), "present channel" has no suites.
        let present = request.context.channel;
        if request
            .data
            .first()
            .is_some_and(|c| c & 0x0F == commands::PRESENT_CHANNEL)
            && present != lan
        {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        commands::cmd_get_channel_cipher_suites(&request.data, lan, &self.suites)
    }

    fn payloads(&self, request: &IpmiRequest) -> HandlerResult {
        let session = request.context.session_id;
        let mut endpoint = lock_endpoint(&self.endpoint);
        let mut rng = SystemRandom::default();
        let result = match request.cmd {
            sol::CMD_ACTIVATE_PAYLOAD => endpoint.activate_sol(session, &request.data, &mut rng),
            sol::CMD_DEACTIVATE_PAYLOAD => {
                endpoint.deactivate_sol(session, request.context.privilege, &request.data, &mut rng)
            }
            sol::CMD_GET_PAYLOAD_ACTIVATION_STATUS => endpoint.sol_activation_status(&request.data),
            sol::CMD_GET_PAYLOAD_INSTANCE_INFO => endpoint.sol_instance_info(&request.data),
            _ => Err(CompletionCode::INVALID_COMMAND),
        };
        drop(endpoint);
        if result.is_ok()
            && matches!(
                request.cmd,
                sol::CMD_ACTIVATE_PAYLOAD | sol::CMD_DEACTIVATE_PAYLOAD
            )
        {
            info!(
                cmd = format_args!("{:#04x}", request.cmd),
                session = format_args!("{session:#010x}"),
                user_id = request.context.user_id,
                "SOL payload state changed"
            );
            self.sol_changed.notify_one();
        }
        result
    }

    fn session_info(&self, request: &IpmiRequest) -> HandlerResult {
        lock_endpoint(&self.endpoint).session_info(
            request.context.session_id,
            &request.data,
            &lan_info::mac_of,
        )
    }
}

/// A synchronous command handler.
type Handler = fn(&Owner, &IpmiRequest) -> HandlerResult;

/// The commands rbmc-netipmid owns, with their least privilege (IPMI v2.0
/// Appendix G).
pub fn command_table(owner: Owner) -> CommandTable<Owner> {
    use Privilege::{Administrator as Admin, Operator, User as Usr};
    let mut table = CommandTable::new(owner);
    let app: &[(u8, Privilege, Handler)] = &[
        (channels::CMD_SET_CHANNEL_ACCESS, Admin, Owner::channels),
        (channels::CMD_GET_CHANNEL_ACCESS, Usr, Owner::channels),
        (channels::CMD_GET_CHANNEL_INFO, Usr, Owner::channels),
        (
            channels::CMD_GET_CHANNEL_PAYLOAD_SUPPORT,
            Usr,
            Owner::channels,
        ),
        (
            channels::CMD_GET_CHANNEL_PAYLOAD_VERSION,
            Usr,
            Owner::channels,
        ),
        (users::CMD_SET_USER_ACCESS, Admin, Owner::users),
        (users::CMD_GET_USER_ACCESS, Operator, Owner::users),
        (users::CMD_SET_USER_NAME, Admin, Owner::users),
        (users::CMD_GET_USER_NAME, Operator, Owner::users),
        (users::CMD_SET_USER_PASSWORD, Admin, Owner::users),
        (users::CMD_SET_USER_PAYLOAD_ACCESS, Admin, Owner::users),
        (users::CMD_GET_USER_PAYLOAD_ACCESS, Operator, Owner::users),
        (sol::CMD_ACTIVATE_PAYLOAD, Usr, Owner::payloads),
        (sol::CMD_DEACTIVATE_PAYLOAD, Usr, Owner::payloads),
        (sol::CMD_GET_PAYLOAD_ACTIVATION_STATUS, Usr, Owner::payloads),
        (sol::CMD_GET_PAYLOAD_INSTANCE_INFO, Usr, Owner::payloads),
        (CMD_GET_SESSION_INFO, Usr, Owner::session_info),
        (
            commands::CMD_GET_CHANNEL_CIPHER_SUITES,
            Usr,
            Owner::cipher_suites,
        ),
    ];
    let transport: &[(u8, Privilege, Handler)] = &[
        (lan_params::CMD_SET_LAN_CONFIG, Admin, Owner::lan_parameters),
        (
            lan_params::CMD_GET_LAN_CONFIG,
            Operator,
            Owner::lan_parameters,
        ),
        (sol::CMD_SET_SOL_CONFIG, Admin, Owner::sol_parameters),
        (sol::CMD_GET_SOL_CONFIG, Usr, Owner::sol_parameters),
    ];
    for (netfn, entries) in [(NetFn::APP, app), (NetFn::TRANSPORT, transport)] {
        for &(cmd, privilege, handler) in entries {
            table
                .add_sync(netfn, cmd, privilege, handler)
                .expect("each command is listed once");
        }
    }
    table
}

/// Get Session Info.
pub const CMD_GET_SESSION_INFO: u8 = 0x3D;
