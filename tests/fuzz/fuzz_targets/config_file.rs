//! A config file's text: TOML, then every rule rbmc-config checks (users,
//! network, LAN, SOL, i2c allow lists, sensors and their line numbers).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rbmc_config::Config::from_toml(text, "fuzz.toml");
    }
});
