//! Carries the LAN channel's network settings out through systemd-networkd,
//! the interface's owner: writes the interface's files
//! ([`ipmi_lan::lan_addressing::render`]) into networkd's configuration
//! directory, asks it over D-Bus (`org.freedesktop.network1`) to reload and
//! reconfigure the link, and waits until it has taken them. A change networkd
//! fails (the link goes `failed`) is rolled back: the previous files are
//! written again and reloaded, and the change is refused.

use std::{
    io,
    net::Ipv4Addr,
    path::{Path, PathBuf},
    time::Duration,
};

use ipmi_lan::lan_addressing::{self, AddressSource, NetworkSettings};
use ipmi_wire::CompletionCode;
use rbmc_daemon::durable;
use tokio::sync::OnceCell;
use tracing::{info, warn};
use zbus::zvariant::OwnedObjectPath;

use crate::lan_info::LanSource;

#[zbus::proxy(
    interface = "org.freedesktop.network1.Manager",
    default_service = "org.freedesktop.network1",
    default_path = "/org/freedesktop/network1"
)]
trait NetworkManager {
    fn reload(&self) -> zbus::Result<()>;
    fn reconfigure_link(&self, ifindex: i32) -> zbus::Result<()>;
    fn get_link_by_name(&self, name: &str) -> zbus::Result<(i32, OwnedObjectPath)>;
}

#[zbus::proxy(
    interface = "org.freedesktop.network1.Link",
    default_service = "org.freedesktop.network1"
)]
trait NetworkLink {
    #[zbus(property)]
    fn administrative_state(&self) -> zbus::Result<String>;
}

/// Why a change was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The files could not be written.
    #[error("cannot write the network configuration: {0}")]
    Write(#[from] io::Error),
    /// networkd could not be asked.
    #[error("systemd-networkd did not answer: {0}")]
    Bus(#[from] zbus::Error),
    /// networkd took the files but could not configure the link.
    #[error("systemd-networkd could not configure {interface}: the link is {state}")]
    Failed {
        /// The interface.
        interface: String,
        /// Its administrative state.
        state: String,
    },
}

impl ApplyError {
    /// The completion code that names the failure: C4h for a full disk,
    /// D5h for settings the system cannot carry out, FFh otherwise.
    pub fn completion_code(&self) -> CompletionCode {
        match self {
            Self::Write(err) => durable::completion_code(err),
            Self::Bus(_) => CompletionCode::UNSPECIFIED,
            Self::Failed { .. } => CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE,
        }
    }
}

/// The files of one interface in networkd's directory: `(name, contents)`.
type FileSet = Vec<(String, String)>;

/// How often the link's state is read while waiting.
const POLL: Duration = Duration::from_millis(20);
/// How long a change to DHCP is watched for a failure before it is
/// acknowledged (the lease itself may take seconds).
const DHCP_GRACE: Duration = Duration::from_millis(300);

/// The applier for one interface.
pub struct Networkd {
    interface: String,
    directory: PathBuf,
    bus: Option<String>,
    settle: Duration,
    connection: OnceCell<zbus::Connection>,
}

impl Networkd {
    /// An applier for `interface` as `[lan.networkd]` describes it.
    pub fn new(interface: String, config: &rbmc_config::Networkd) -> Self {
        Self {
            interface,
            directory: config.directory.clone(),
            bus: config.bus.clone(),
            settle: Duration::from_millis(config.settle_timeout_ms),
            connection: OnceCell::new(),
        }
    }

    /// The settings rbmc last wrote for the interface, if it ever did.
    pub fn load(&self) -> Option<NetworkSettings> {
        let own = self.directory.join(format!(
            "{}.network",
            lan_addressing::file_prefix(&self.interface)
        ));
        lan_addressing::parse_rendered(&std::fs::read_to_string(own).ok()?)
    }

    /// Writes `settings`, has networkd apply them, and waits for it. On
    /// failure the previous files are back and reloaded.
    pub async fn apply(&self, settings: &NetworkSettings) -> Result<(), ApplyError> {
        let wanted = lan_addressing::render(settings, &self.interface).files;
        let directory = self.directory.clone();
        let prefix = lan_addressing::file_prefix(&self.interface);
        let previous = durable::blocking(move || current_files(&directory, &prefix)).await?;
        self.replace(&previous, &wanted).await?;
        match self.reload_and_settle(Some(settings)).await {
            Ok(()) => {
                info!(interface = %self.interface, ?settings, "network settings applied");
                Ok(())
            }
            Err(err) => {
                warn!(interface = %self.interface, cause = %err, "network change failed; restoring the previous settings");
                if let Err(restore) = self.replace(&wanted, &previous).await {
                    warn!(cause = %restore, "cannot restore the previous network files");
                } else if let Err(reload) = self.reload_and_settle(None).await {
                    warn!(cause = %reload, "networkd did not take the previous settings back");
                }
                Err(err)
            }
        }
    }

    /// Replaces the files of `old` with those of `new`: each of `new`
    /// written whole (atomically, readable by networkd's own user), then
    /// the ones `new` lacks removed.
    async fn replace(&self, old: &FileSet, new: &FileSet) -> io::Result<()> {
        let directory = self.directory.clone();
        let (old, new) = (old.clone(), new.clone());
        durable::blocking(move || {
            use std::os::unix::fs::PermissionsExt;
            for (name, text) in &new {
                let path = directory.join(name);
                rbmc_daemon::write_atomic(&path, text.as_bytes())?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
            }
            for (name, _) in old.iter().filter(|(n, _)| !new.iter().any(|(m, _)| m == n)) {
                match std::fs::remove_file(directory.join(name)) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
            Ok(())
        })
        .await
    }

    async fn connection(&self) -> zbus::Result<&zbus::Connection> {
        self.connection
            .get_or_try_init(|| async {
                match &self.bus {
                    Some(address) => {
                        zbus::connection::Builder::address(address.as_str())?
                            .build()
                            .await
                    }
                    None => zbus::Connection::system().await,
                }
            })
            .await
    }

    /// Restarts DHCP on the interface: networkd reconfigures the link,
    /// which drops the lease and asks for one afresh.
    pub async fn restart_dhcp(&self) -> Result<(), ApplyError> {
        let connection = self.connection().await?;
        let manager = NetworkManagerProxy::new(connection).await?;
        let (ifindex, _) = manager.get_link_by_name(&self.interface).await?;
        manager.reconfigure_link(ifindex).await?;
        info!(interface = %self.interface, "DHCP restarted (DCMI Activate DHCP)");
        Ok(())
    }

    /// Asks networkd to reload and reconfigure the interface, then waits
    /// (up to the settle time) until it has carried `expected` out, or
    /// failed the link. Carried out means: a static address is on the
    /// interface (the VLAN's, with a VLAN) with its mask and gateway and
    /// networkd calls the link configured; DHCP is started (a lease can
    /// take seconds). A link still configuring at the end (no carrier
    /// yet) is not a failure: the settings are stored and networkd carries
    /// them out when it can. Without `expected` (a rollback) it does not
    /// wait.
    async fn reload_and_settle(
        &self,
        expected: Option<&NetworkSettings>,
    ) -> Result<(), ApplyError> {
        let connection = self.connection().await?;
        let manager = NetworkManagerProxy::new(connection).await?;
        let (ifindex, _) = manager.get_link_by_name(&self.interface).await?;
        let was = self.link_state(&manager, &self.interface).await?;
        manager.reload().await?;
        // A reload passes over a failed link: only a reconfigure takes it
        // up again. A healthy one is left to the reload, whose own
        // failure (a VLAN the kernel cannot make) must not be papered over
        // by a second configuration round.
        if expected.is_none() || was.as_deref() == Some("failed") {
            manager.reconfigure_link(ifindex).await?;
        }
        let Some(expected) = expected else {
            return Ok(());
        };
        let target = match expected.vlan {
            Some(id) => format!("{}.{id}", self.interface),
            None => self.interface.clone(),
        };
        let started = tokio::time::Instant::now();
        loop {
            let own = self.link_state(&manager, &self.interface).await?;
            let target_state = if target == self.interface {
                own.clone()
            } else {
                self.link_state(&manager, &target).await?
            };
            for (interface, state) in [(&self.interface, &own), (&target, &target_state)] {
                if state.as_deref() == Some("failed") {
                    return Err(ApplyError::Failed {
                        interface: interface.clone(),
                        state: "failed".into(),
                    });
                }
            }
            let carried_out = match expected.source {
                AddressSource::Dhcp => started.elapsed() >= DHCP_GRACE,
                AddressSource::Static => {
                    target_state.as_deref() == Some("configured")
                        && kernel_shows(&target, expected).await
                }
            };
            if carried_out {
                return Ok(());
            }
            if started.elapsed() >= self.settle {
                info!(interface = %target, state = ?target_state, "networkd has the settings but has not finished configuring the link");
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The administrative state of `interface`'s link, `None` while the
    /// link does not exist (a VLAN not yet made).
    async fn link_state(
        &self,
        manager: &NetworkManagerProxy<'_>,
        interface: &str,
    ) -> Result<Option<String>, ApplyError> {
        let path = match manager.get_link_by_name(interface).await {
            Ok((_, path)) => path,
            Err(zbus::Error::MethodError(..)) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let link = NetworkLinkProxy::builder(manager.inner().connection())
            .path(path)?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        Ok(Some(link.administrative_state().await?))
    }
}

/// Whether `interface` shows `expected`'s static address, mask and gateway.
async fn kernel_shows(interface: &str, expected: &NetworkSettings) -> bool {
    let source = LanSource::Live(interface.to_owned());
    let Ok(live) = durable::blocking(move || Ok(source.snapshot())).await else {
        return false;
    };
    if expected.ip.is_unspecified() {
        return live.ip.is_unspecified();
    }
    let mask = Ipv4Addr::from(
        u32::MAX
            .checked_shl(32 - u32::from(expected.prefix()))
            .unwrap_or(0),
    );
    live.ip == expected.ip && live.netmask == mask && live.gateway == expected.gateway
}

/// The files whose names start with `prefix` in `directory`.
fn current_files(directory: &Path, prefix: &str) -> io::Result<FileSet> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("{prefix}.")) && !name.ends_with(".tmp") {
            files.push((name, std::fs::read_to_string(entry.path())?));
        }
    }
    files.sort();
    Ok(files)
}
