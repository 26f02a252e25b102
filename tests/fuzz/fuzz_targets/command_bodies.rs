//! The request bodies of the owned commands, at the sans-IO layers their
//! owners hand them to: users and account policy (rbmc-userd), boot options
//! and the watchdog (rbmc-powerd), channels, LAN, SOL and session commands
//! (rbmc-netipmid, the LAN alert destinations among them), SDR and FRU
//! records (rbmc-sensord), the SEL and audit journals (rbmc-seld, which
//! replays them from disk), and PEF's parameters and processing
//! (rbmc-pefd). The first byte
//! picks the command; the rest is its data, applied twice to the same state
//! (a set that half-applied would show on the second).

#![no_main]

use std::time::Instant;

use ipmi_accounts::{users::UserTable, AccountPolicy};
use ipmi_boot::BootOptions;
use ipmi_lan::{
    channels::{ChannelSettings, Channels},
    commands, config_params,
    lan_addressing::{LanAddressing, NetworkSettings},
    lan_params::{LanParameters, LanSnapshot},
    session_commands,
    sol::{self, SolConfig, SolPacket, SolParameters},
};
use ipmi_watchdog::Watchdog;
use ipmi_wire::{crypto::CipherSuite, Privilege};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&which, data)) = input.split_first() else {
        return;
    };
    let now = Instant::now();
    let present = 1;
    match which % 27 {
        0 => {
            let mut users = UserTable::new(&[1, 0x0F]);
            for _ in 0..2 {
                let _ = users.cmd_set_user_access(data, present);
                let _ = users.cmd_get_user_access(data, present);
            }
        }
        1 => {
            let mut users = UserTable::new(&[1, 0x0F]);
            for _ in 0..2 {
                let _ = users.cmd_set_user_name(data);
                let _ = users.cmd_get_user_name(data);
            }
        }
        2 => {
            let mut users = UserTable::new(&[1, 0x0F]);
            for _ in 0..2 {
                let _ = users.cmd_set_user_password(data);
            }
        }
        3 => {
            let mut users = UserTable::new(&[1, 0x0F]);
            for _ in 0..2 {
                let _ = users.cmd_set_user_payload_access(data, present);
                let _ = users.cmd_get_user_payload_access(data, present);
            }
        }
        4 => {
            let mut policy = AccountPolicy::default();
            let _ = policy.set_bad_password_threshold(data);
        }
        5 => {
            let mut boot = BootOptions::default();
            for _ in 0..2 {
                let _ = boot.set(data);
                let _ = boot.get(data);
            }
        }
        6 => {
            let _ = BootOptions::from_bytes(data);
        }
        7 => {
            let mut watchdog = Watchdog::new();
            for _ in 0..2 {
                let _ = watchdog.set(now, data);
                let _ = watchdog.get(now, data);
                let _ = watchdog.reset(now, data);
                let _ = watchdog.poll(now + std::time::Duration::from_secs(7000));
            }
        }
        8 => {
            let mut channels = Channels::new(1, ChannelSettings::default(), true, 4);
            for _ in 0..2 {
                let _ = channels.cmd_get_channel_info(data, present, 1);
                let _ = channels.cmd_set_channel_access(data, present);
                let _ = channels.cmd_get_channel_access(data, present);
                let _ = channels.cmd_get_channel_payload_support(data, present);
                let _ = channels.cmd_get_channel_payload_version(data, present);
            }
        }
        9 => {
            let mut lan = LanParameters::new(1, vec![3, 17], &[(3, Privilege::Operator)]);
            for _ in 0..2 {
                let _ = lan.cmd_set_lan_config(data, present);
                let _ = lan.cmd_get_lan_config(data, present);
            }
        }
        10 => {
            let mut addressing = LanAddressing::new(1, NetworkSettings::default(), true);
            let live = LanSnapshot::default();
            for _ in 0..2 {
                let _ = addressing.cmd_set(data, present, &live);
                let _ = addressing.cmd_get(data, present, &live);
            }
        }
        11 => {
            let mut sol = SolParameters::new(SolConfig::default(), 1, 623);
            for _ in 0..2 {
                let _ = sol.cmd_set_sol_config(data, present);
                let _ = sol.cmd_get_sol_config(data, present);
            }
        }
        12 => {
            let _ = SolPacket::parse(data);
            for length in [data.len(), 1, 2, 6] {
                let _ = sol::parse_sol_instance(data, length);
            }
        }
        13 => {
            let _ = commands::cmd_get_channel_auth_capabilities(data, 1, false);
            let _ = commands::cmd_get_channel_cipher_suites(data, 1, &CipherSuite::SUPPORTED);
        }
        14 => {
            let _ = config_params::parse_get(data, 1, present);
            let _ = config_params::parse_set(data, 1, present);
        }
        15 => {
            let _ = session_commands::parse_session_privilege(
                data,
                Privilege::User,
                Privilege::Operator,
            );
            let _ = session_commands::parse_close_session(data);
        }
        16 => {
            let _ = ipmi_sdr::SdrHeader::parse(data);
        }
        17 => {
            let _ = ipmi_fru::decode(data);
        }
        18 => {
            let _ = sel_journal::Journal::recover(data);
        }
        19 => {
            let _ = audit_journal::Journal::recover(data, 16);
            let _ = audit_journal::Record::decode(data);
        }
        20 => {
            let _ = ipmi_wire::message::Request::parse(data);
            let _ = ipmi_wire::message::Response::parse(data);
        }
        21 => {
            let _ = ipmi_accounts::users::PasswordRequest::parse(data);
        }
        22 => {
            let _ = ipmi_watchdog::SetRequest::parse(data);
        }
        23 => {
            // Set and Get PEF Configuration Parameters (rbmc-pefd): a refused
            // set must leave the settings as they were.
            let mut settings = ipmi_pef::params::PefSettings::for_lan_channel(1);
            let mut in_progress = ipmi_pef::params::SetInProgress::default();
            for _ in 0..2 {
                let before = settings.clone();
                match ipmi_pef::params::set_request(data) {
                    Ok(ipmi_pef::params::SetRequest::Stored(parameter, value)) => {
                        if settings.set(parameter, value).is_err() {
                            assert_eq!(settings, before, "a refused set changed the settings");
                        }
                    }
                    Ok(ipmi_pef::params::SetRequest::InProgress(value)) => {
                        let _ = in_progress.set(value);
                    }
                    Err(_) => {}
                }
                let _ = ipmi_pef::params::get(&settings, in_progress, data);
                assert!(settings.is_well_formed());
            }
        }
        24 => {
            // PEF's processing (rbmc-pefd): the postpone timer, the last
            // processed IDs, and an event from a record of the data.
            let settings = ipmi_pef::params::PefSettings::default();
            let mut pef = ipmi_pef::processor::Processor::new();
            let now = std::time::Duration::from_secs(1);
            let _ = pef.arm_postpone(now, &settings, data);
            let _ = pef.set_last_processed(data);
            if let Ok(record) = <[u8; 16]>::try_from(data.get(..16).unwrap_or_default()) {
                if let Some(event) = ipmi_pef::filter::Event::from_sel_record(&record) {
                    let _ = pef.event_added(now, &settings, event);
                    let fields = ipmi_pef::pet::PetFields::for_event(&event, 0x10, 0);
                    let _ = fields.varbind();
                }
            }
            let _ = pef.handle_timeout(now * 300, &settings);
            assert_eq!(pef.last_processed().len(), 10);
        }
        25 => {
            // LAN alert destinations (rbmc-netipmid, parameters 16-19).
            let mut alerts = ipmi_lan::lan_alerts::LanAlerts::default();
            if let Some((&parameter, value)) = data.split_first() {
                let before = alerts.clone();
                if alerts.set(parameter, value).is_err() {
                    assert_eq!(alerts, before, "a refused set changed the destinations");
                }
                let _ = alerts.get(parameter, value.first().copied().unwrap_or(0));
            }
        }
        _ => {
            let _ = ipmi_lan::lan_addressing::parse_rendered(&String::from_utf8_lossy(data));
        }
    }
});
