//! The state rbmc-netipmid owns besides sessions: channel access, LAN and
//! SOL parameters. [`Accounts`] is the [`ChannelPolicy`] the RMCP+ endpoint
//! asks at login and SOL activation; the engine task owns it inside the
//! endpoint, so nothing locks it. A change runs on a copy that replaces it
//! only once the store holds it (`engine`). Users are not here: rbmc-userd
//! owns them, and their passwords never reach this process.

use ipmi_lan::{
    channels::{self, Channels},
    lan_params::LanParameters,
    sol::{self, SolParameters},
    ChannelPolicy, SolPolicy,
};
use ipmi_wire::Privilege;
use rbmc_config::Config;
use tracing::info;

use crate::store::{Persisted, Store, StoreError};

/// Channels and parameters.
#[derive(Clone, Debug)]
pub struct Accounts {
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
            lan_access: self
                .channels
                .non_volatile(self.lan_channel)
                .unwrap_or_default(),
            sol: self.sol.config.clone(),
            suite_privileges: self.lan.suite_limits(),
            alerts: {
                // Destination 0 is volatile: it is not kept.
                let mut kept = self.lan.alerts.clone();
                kept.destinations[0] = ipmi_lan::lan_alerts::AlertDestination::default();
                kept
            },
        }
    }
}

impl ChannelPolicy for Accounts {
    fn privilege_cap(&self, suite_id: u8) -> Privilege {
        let channel_limit = self
            .channels
            .settings(self.lan_channel)
            .map_or(Privilege::Administrator, |s| s.privilege_limit);
        let suite_limit = self
            .lan
            .suite_limit(suite_id)
            .unwrap_or(Privilege::Administrator);
        channel_limit.min(suite_limit)
    }

    fn accepts_sessions(&self) -> bool {
        self.channels
            .settings(self.lan_channel)
            .is_none_or(|s| s.access_mode != channels::AccessMode::Disabled)
    }

    fn sol(&self) -> Option<SolPolicy> {
        Some(SolPolicy {
            config: self.sol.config.clone(),
            takeover: self.sol_takeover,
            port: self.sol.port,
        })
    }
}

/// Builds the channel settings: from the store, or on first start from
/// the config (then saved at once).
pub fn load_accounts(config: &Config, store: &Store, port: u16) -> Result<Accounts, StoreError> {
    let lan_channel = config.network.channel;
    // The suite always has its host interface (rbmc-kcsd is part of every
    // image; its device may come from the unit's command line rather than
    // the config), so channel Fh is always described.
    let system_interface = true;
    let persisted = match store.load()? {
        Some(persisted) => {
            info!("channel settings loaded from the store");
            persisted
        }
        None => {
            let persisted = seed(config);
            store.save(&persisted)?;
            info!("first start: channel settings stored");
            persisted
        }
    };
    let suites: Vec<u8> = config.network.suites().iter().map(|s| s.id).collect();
    Ok(Accounts {
        channels: Channels::new(
            lan_channel,
            persisted.lan_access,
            system_interface,
            config.network.max_sessions,
        ),
        lan: LanParameters {
            alerts: persisted.alerts,
            ..LanParameters::new(lan_channel, suites, &persisted.suite_privileges)
        },
        sol: SolParameters::new(persisted.sol, lan_channel, port),
        lan_channel,
        sol_takeover: config.sol.takeover,
    })
}

fn seed(config: &Config) -> Persisted {
    let s = &config.sol;
    Persisted {
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
        alerts: ipmi_lan::lan_alerts::LanAlerts::default(),
    }
}
