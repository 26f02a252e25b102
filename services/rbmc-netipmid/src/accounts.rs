//! The state rbmc-netipmid owns besides sessions: users, channel access,
//! LAN and SOL parameters. [`Accounts`] is the [`UserDirectory`] the RMCP+
//! endpoint asks at login and SOL activation; the engine task owns it
//! inside the endpoint, so nothing locks it. A change runs on a copy that
//! replaces it only once the store holds it (`engine`).

use ipmi_lan::{
    channels::{self, Channels},
    lan_params::LanParameters,
    sol::{self, SolParameters},
    users::{self, UserTable, PAYLOAD_SOL},
    SolPolicy, User, UserDirectory,
};
use ipmi_wire::Privilege;
use rbmc_config::Config;
use tracing::info;

use crate::store::{Persisted, Store, StoreError};

/// Users, channels and parameters.
#[derive(Clone, Debug)]
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
    pub fn persisted(&self) -> Persisted {
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

impl UserDirectory for Accounts {
    fn find(&self, name: &[u8]) -> Option<User> {
        let login = self.users.login(name, self.lan_channel)?;
        let channel_limit = self
            .channels
            .settings(self.lan_channel)
            .map_or(Privilege::Administrator, |s| s.privilege_limit);
        Some(User {
            id: login.id,
            name: name.to_vec(),
            password: login.password,
            max_privilege: login.privilege_limit.min(channel_limit),
        })
    }

    fn suite_limit(&self, suite_id: u8) -> Privilege {
        self.lan
            .suite_limit(suite_id)
            .unwrap_or(Privilege::Administrator)
    }

    fn accepts_sessions(&self) -> bool {
        self.channels
            .settings(self.lan_channel)
            .is_none_or(|s| s.access_mode != channels::AccessMode::Disabled)
    }

    fn sol(&self, user_id: u8) -> Option<SolPolicy> {
        Some(SolPolicy {
            config: self.sol.config.clone(),
            user_allowed: self
                .users
                .payload_allowed(user_id, self.lan_channel, PAYLOAD_SOL),
            takeover: self.sol_takeover,
            port: self.sol.port,
        })
    }
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
