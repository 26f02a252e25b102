//! The PEF settings across restarts, in `<state>/pef.toml`, replaced
//! atomically through one [`DurableFile`]. A file that does not parse, or
//! holds tables of the wrong size, stops the daemon (a config problem,
//! exit 78) rather than being replaced by defaults: the operator's filters
//! are never silently lost.

use std::path::Path;

use ipmi_pef::params::PefSettings;
use rbmc_daemon::{durable::DurableFile, ConfigProblem};

/// The settings file.
#[derive(Debug)]
pub struct Store {
    file: DurableFile,
}

impl Store {
    /// The file in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            file: DurableFile::new(state_dir.join("pef.toml")),
        }
    }

    /// The stored settings, or the defaults for LAN channel `channel` when
    /// there are none yet.
    pub fn load(&self, channel: u8) -> anyhow::Result<PefSettings> {
        let path = self.file.path();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(PefSettings::for_lan_channel(channel))
            }
            Err(err) => {
                return Err(anyhow::Error::new(err).context(format!("reading {}", path.display())))
            }
        };
        let settings: PefSettings = toml::from_str(&text)
            .map_err(|err| ConfigProblem(format!("{}: {err}", path.display())))?;
        if !settings.is_well_formed() {
            return Err(ConfigProblem(format!(
                "{}: the PEF tables are not the sizes this daemon serves",
                path.display()
            ))
            .into());
        }
        Ok(settings)
    }

    /// Writes `settings`; returns once they are durable.
    pub async fn save(&self, settings: &PefSettings) -> std::io::Result<()> {
        let text = toml::to_string(settings).map_err(std::io::Error::other)?;
        self.file.begin().await.write(text.into_bytes()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_round_trip_and_a_bad_file_is_a_config_problem() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.load(1).unwrap(), PefSettings::for_lan_channel(1));
        let mut settings = PefSettings::default();
        settings.set(7, &[4, 0x80]).unwrap();
        store.save(&settings).await.unwrap();
        assert_eq!(store.load(1).unwrap(), settings);
        std::fs::write(dir.path().join("pef.toml"), "control = 1\n").unwrap();
        let err = store.load(1).unwrap_err();
        assert_eq!(rbmc_daemon::exit_code_for(&err), 78, "{err:#}");
    }
}
