//! What every rbmc daemon does the same way: command-line arguments,
//! logging, loading the config (exiting with `EX_CONFIG` on error so systemd's
//! `RestartPreventExitStatus=78` stops a crash loop), joining the bus in
//! order, telling systemd it is ready, waiting for a stop signal, and
//! writing state without blocking the runtime.
//!
//! # Layout
//! - [`startup`]: connect, serve objects, claim names, `READY=1`, serve
//!   until shutdown ([`Startup`]); owners and bridges alike.
//! - [`durable`]: writes on the blocking pool, one change per file at a
//!   time, and the completion code for a failed write.
//! - this file: `main`, config, logging, readiness, signals,
//!   [`write_atomic`].
#![forbid(unsafe_code)]

pub mod caller;
pub mod durable;
pub mod hwmon;
pub mod startup;

pub use startup::{Named, Running, Startup};

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use rbmc_config::Config;
use tracing::{error, info, warn};

/// Exit codes from sysexits.h, so supervisors can tell failures apart.
pub mod exit {
    /// EX_USAGE: bad command line.
    pub const USAGE: u8 = 64;
    /// EX_UNAVAILABLE: a needed service (the bus, a device) is missing.
    pub const UNAVAILABLE: u8 = 69;
    /// EX_SOFTWARE: an internal error.
    pub const SOFTWARE: u8 = 70;
    /// EX_CONFIG: the configuration is wrong; restarting will not help.
    pub const CONFIG: u8 = 78;
}

/// A problem that restarting will not mend (a path the config names that
/// does not exist, a key that does not open the store): a daemon returns
/// it, inside its `anyhow` error, to exit with [`exit::CONFIG`] (78), so
/// systemd's `RestartPreventExitStatus=78` stops instead of looping.
#[derive(Debug)]
pub struct ConfigProblem(pub String);

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigProblem {}

/// The exit code for a daemon's failure: 78 for a [`ConfigProblem`]
/// anywhere in its chain, else 69 (a service it needs is unavailable).
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.chain().any(|cause| cause.is::<ConfigProblem>()) {
        exit::CONFIG
    } else {
        exit::UNAVAILABLE
    }
}

/// Arguments every daemon takes.
#[derive(Clone, Debug, clap::Args)]
pub struct CommonArgs {
    /// The suite's configuration file.
    #[arg(long, default_value = "/etc/rbmc/rbmc.toml")]
    pub config: PathBuf,
    /// Directory for this daemon's persistent state.
    #[arg(long, default_value = "/var/lib/rbmc")]
    pub state_dir: PathBuf,
}

/// The body of every daemon's `main`: logging, config, a tokio runtime, then
/// `serve(config)` until it ends; errors become sysexits codes.
pub fn main<F, Fut>(common: &CommonArgs, serve: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    init_tracing();
    let config = match load_config(&common.config) {
        Ok(config) => config,
        Err(code) => return code,
    };
    // One thread per daemon: a BMC has one or two cores, every daemon's
    // work is short and I/O-bound, and each extra thread costs a malloc arena
    // and a stack (measured: see the sensor bench in README.md).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            error!(cause = %err, "cannot start the async runtime");
            return ExitCode::from(exit::SOFTWARE);
        }
    };
    start_deadline(START_DEADLINE);
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            error!("{err:#}");
            let code = exit_code_for(&err);
            if code == exit::CONFIG {
                eprintln!("configuration error: {err:#}");
            }
            ExitCode::from(code)
        }
    }
}

/// How long a daemon may take from start to serving (`READY=1`).
pub const START_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// Set once the daemon serves ([`startup::Named::ready`]).
static READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Marks the daemon as serving.
pub(crate) fn mark_ready() {
    READY.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Ends the process if it is not serving within `deadline`: a start-up that
/// hangs (a bus call nobody answers, say) then becomes an exit, which the
/// supervisor (systemd, rbmc-dev) answers with a fresh start, rather than
/// a daemon that holds its place and serves nobody. A thread of its own,
/// so a stuck runtime cannot hold it up.
fn start_deadline(deadline: std::time::Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(deadline);
        if !READY.load(std::sync::atomic::Ordering::Relaxed) {
            error!(
                ?deadline,
                "start-up did not finish in time; exiting to be started again"
            );
            std::process::exit(i32::from(exit::UNAVAILABLE));
        }
    });
}

/// Which of a bridge's own commands other bridges may call.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum LocalCommands {
    /// Only this bridge's own requests reach them (the system interface's
    /// commands in rbmc-kcsd).
    Private,
    /// They are also served on the bus as an owner (rbmc-netipmid's users
    /// and channels, which the host reaches through rbmc-kcsd).
    Owned,
}

/// Replaces `path` with `bytes` so that a crash or power loss at any moment
/// leaves either the old file or the new one, whole: write a temporary file
/// in the same directory, fsync it, rename it over `path`, fsync the
/// directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let staged = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(err) = staged {
        // A full disk must not leave a half-written file behind.
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    std::fs::File::open(dir)?.sync_all()
}

/// The datagram socket systemd passed by socket activation (`LISTEN_FDS`
/// for this process), if any. The `listenfd` crate does the descriptor
/// handling, so this crate stays free of unsafe code.
pub fn activated_udp_socket() -> Option<std::net::UdpSocket> {
    listenfd::ListenFd::from_env()
        .take_udp_socket(0)
        .ok()
        .flatten()
}

/// The stream socket systemd passed by socket activation, if any (the
/// Redfish service's TCP 443 on the image).
pub fn activated_tcp_listener() -> Option<std::net::TcpListener> {
    listenfd::ListenFd::from_env()
        .take_tcp_listener(0)
        .ok()
        .flatten()
}

/// Resolves when the bus stops answering. A daemon cut off from its bus can
/// serve nobody; exiting lets its supervisor start it against a new bus
/// (and keeps an orphan from lingering after a killed dev launcher).
pub async fn bus_lost(conn: &zbus::Connection) {
    let Ok(dbus) = zbus::fdo::DBusProxy::new(conn).await else {
        return;
    };
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let answered =
            tokio::time::timeout(std::time::Duration::from_secs(10), dbus.get_id()).await;
        if !matches!(answered, Ok(Ok(_))) {
            error!("the bus stopped answering");
            return;
        }
    }
}

/// Starts logging to stderr, filtered by `RUST_LOG` (default `info`). Each
/// line carries the program's name, since under `rbmc-dev` five daemons share
/// one terminal.
pub fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let program = std::env::args()
        .next()
        .and_then(|arg0| {
            Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "rbmc".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_timer(TimeAndProgram(program))
        .init();
}

/// Log line prefix: the UTC time, then the program's name.
struct TimeAndProgram(String);

impl tracing_subscriber::fmt::time::FormatTime for TimeAndProgram {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        tracing_subscriber::fmt::time::SystemTime.format_time(w)?;
        write!(w, " {}", self.0)
    }
}

/// Loads the config, logging its warnings; on error logs it and returns the
/// exit code to use.
pub fn load_config(path: &Path) -> Result<Config, ExitCode> {
    match Config::from_file(path) {
        Ok(config) => {
            for warning in config.warnings(path) {
                warn!("{warning}");
            }
            Ok(config)
        }
        Err(err) => {
            error!("configuration error: {err}");
            eprintln!("configuration error: {err}");
            Err(ExitCode::from(exit::CONFIG))
        }
    }
}

/// A connection builder for the bus the daemons share: the system bus, whose
/// address `DBUS_SYSTEM_BUS_ADDRESS` overrides (the dev launcher sets it to
/// its private bus).
pub fn bus_builder() -> zbus::Result<zbus::connection::Builder<'static>> {
    zbus::connection::Builder::system()
}

/// Tells systemd the daemon is ready (`READY=1` on `$NOTIFY_SOCKET`); does
/// nothing when not started by systemd.
pub fn notify_ready() {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let result = (|| -> std::io::Result<()> {
        let sock = std::os::unix::net::UnixDatagram::unbound()?;
        let bytes = socket.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sock.send_to_addr(b"READY=1", &addr)?;
        } else {
            sock.send_to(b"READY=1", Path::new(&socket))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => info!("told systemd we are ready"),
        Err(err) => warn!(cause = %err, "could not notify systemd"),
    }
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM: shutting down"),
        _ = int.recv() => info!("SIGINT: shutting down"),
    }
}
