//! The development launcher.
//!
//! It starts a private D-Bus bus (the `busd` broker, embedded: no root and no
//! system packages needed), then every daemon of the suite from the same
//! directory as itself, all with one config and one state directory. It
//! reports and restarts a child that dies, and stops them all on Ctrl-C or
//! SIGTERM. Once every daemon holds its bus name it prints a line starting
//! with [`READY_LINE`] and the ipmitool command to try.
//!
//! Layout of the state directory:
//! - `bus.sock`: the private bus (`DBUS_SYSTEM_BUS_ADDRESS` for children).
//! - `run/<daemon>.pid`: each child's current PID.
//! - `sim/sys/`: the simulated sysfs tree rbmc-sensord reads (see
//!   [`rbmc_sim`]); faults are injected over D-Bus on `org.rbmc.Simulator`.
//! - `run/host-console.sock`: the simulated host's serial console, which
//!   Serial over LAN connects to (with `--power-backend qemu`, the QEMU
//!   guest's serial port is expected at `run/vm-console.sock` instead).
//! - `<daemon>/`: each daemon's own persistent state.

use std::{
    path::{Path, PathBuf},
    process::{ExitCode, Stdio},
    time::{Duration, Instant},
};

pub mod host_console;
mod simulate;

use anyhow::Context as _;
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::{process::Command, sync::watch, task::JoinSet};

/// The line printed once the suite serves; tests wait for it.
pub const READY_LINE: &str = "rbmc-dev: ready";
/// The development config, built in so a fresh checkout needs nothing else.
const DEV_CONFIG: &str = include_str!("../../../configs/dev.toml");
/// How long the suite may take to come up before rbmc-dev gives up.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);
/// How long a child has to stop after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Command line.
#[derive(Clone, Debug, clap::Parser)]
#[command(version, about = "Run the whole rbmc suite with virtual hardware")]
pub struct Args {
    /// UDP port for RMCP+ on 127.0.0.1.
    #[arg(long, default_value_t = 6230)]
    pub port: u16,
    /// Directory for the bus socket, configs and daemon state (default: a
    /// new directory under the system temp dir, printed at start).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Config file for every daemon (default: the built-in configs/dev.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// TCP port on 127.0.0.1 for Redfish (HTTPS).
    #[arg(long, default_value_t = 8443)]
    pub redfish_port: u16,
    /// TCP port on 127.0.0.1 where rbmc-kcsd waits for a QEMU VM's
    /// `ipmi-bmc-extern` link.
    #[arg(long, default_value_t = 9002)]
    pub qemu_port: u16,
    /// Where host power goes: `simulated` (the simulated board) or `qemu`
    /// (a VM on the QEMU link: `chassis power off` stops it).
    #[arg(long, default_value = "simulated")]
    pub power_backend: String,
    /// The host console for Serial over LAN (`unix:/path`, `unix:@name` or
    /// `tty:/dev/NAME`), instead of the simulated host's console (or, with
    /// `--power-backend qemu`, the VM's serial socket `run/vm-console.sock`).
    #[arg(long)]
    pub sol_console: Option<String>,
    /// Kept so scripts that pass it keep working; it changes nothing. The
    /// daemons are built into rbmc-dev itself (it runs each as a child
    /// process of itself), so `cargo run --bin rbmc-dev` builds everything
    /// in one go and there is nothing else to build.
    #[arg(long)]
    pub no_build: bool,
}

/// A daemon of the suite and the bus name that shows it is serving.
struct Daemon {
    binary: &'static str,
    bus_name: &'static str,
    extra_args: Vec<String>,
}

/// Runs the suite until a stop signal.
pub async fn run(args: Args) -> ExitCode {
    match start(args).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("rbmc-dev: {err:#}");
            ExitCode::from(69)
        }
    }
}

async fn start(args: Args) -> anyhow::Result<ExitCode> {
    let state_dir = match &args.state_dir {
        Some(dir) => dir.clone(),
        None => fresh_state_dir()?,
    };
    std::fs::create_dir_all(state_dir.join("run"))
        .with_context(|| format!("creating {}", state_dir.display()))?;
    let state_dir = state_dir.canonicalize()?;
    println!("rbmc-dev: state directory {}", state_dir.display());

    let config_path = match &args.config {
        Some(path) => path
            .canonicalize()
            .with_context(|| format!("config {}", path.display()))?,
        None => {
            // Outside the state directory: the dev config carries a
            // password, and the state directory never holds one in the
            // clear (the users' store seals them).
            let path = std::env::temp_dir().join(format!("rbmc-dev-{}.toml", std::process::id()));
            write_private(&path, DEV_CONFIG).context("writing the dev config")?;
            path
        }
    };
    let _remove_dev_config = RemoveOnDrop(args.config.is_none().then(|| config_path.clone()));
    // The config is checked once here (below), so a mistake is one clear
    // message rather than five daemons in a restart loop.

    let config = match rbmc_config::Config::from_file(&config_path) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("rbmc-dev: configuration error: {err}");
            return Ok(ExitCode::from(78));
        }
    };
    let sysfs_root = state_dir.join("sim/sys");
    let _ = std::fs::remove_dir_all(&sysfs_root);
    let simulator = rbmc_sim::Simulator::new(&config, &sysfs_root)
        .map_err(|e| anyhow::anyhow!("starting the simulator: {e}"))?;
    println!(
        "rbmc-dev: simulated sysfs at {} ({} sensors)",
        sysfs_root.display(),
        simulator.sensor_names().count()
    );

    let socket = state_dir.join("bus.sock");
    let _ = std::fs::remove_file(&socket);
    let address = format!("unix:path={}", socket.display());
    let mut bus = busd::bus::Bus::for_address(Some(&address))
        .await
        .map_err(|e| anyhow::anyhow!("starting the private bus: {e:#}"))?;
    tokio::spawn(async move {
        if let Err(err) = bus.run().await {
            eprintln!("rbmc-dev: the private bus stopped: {err:#}");
        }
    });
    println!("rbmc-dev: private bus at {address}");

    // Each daemon is this executable started under the daemon's name.
    let launcher = std::env::current_exe().context("locating rbmc-dev")?;
    let listen = format!("127.0.0.1:{}", args.port);
    // A port another program holds would leave a daemon in a restart loop
    // and the launcher waiting; say so at once instead.
    if let Err(err) = std::net::UdpSocket::bind(&listen) {
        eprintln!(
            "rbmc-dev: UDP {listen} (RMCP+) is not free: {err}; is another rbmc-dev running? \
             Pick another port with --port N"
        );
        return Ok(ExitCode::from(69));
    }
    let qemu_listen = format!("127.0.0.1:{}", args.qemu_port);
    if let Err(err) = std::net::TcpListener::bind(&qemu_listen) {
        eprintln!(
            "rbmc-dev: TCP {qemu_listen} (the QEMU KCS link) is not free: {err}; pick another \
             port with --qemu-port N"
        );
        return Ok(ExitCode::from(69));
    }
    let redfish_listen = format!("127.0.0.1:{}", args.redfish_port);
    if let Err(err) = std::net::TcpListener::bind(&redfish_listen) {
        eprintln!(
            "rbmc-dev: TCP {redfish_listen} (Redfish) is not free: {err}; pick another port \
             with --redfish-port N"
        );
        return Ok(ExitCode::from(69));
    }
    // Serial over LAN's host console: the simulated host's, or the VM's
    // serial port (QEMU: -chardev socket,id=sol,path=<this>,server=on,wait=off
    // -serial chardev:sol).
    let _host_console;
    let sol_console = if let Some(spec) = &args.sol_console {
        _host_console = None;
        spec.clone()
    } else if args.power_backend == "qemu" {
        _host_console = None;
        format!("unix:{}", state_dir.join("run/vm-console.sock").display())
    } else {
        let path = state_dir.join("run/host-console.sock");
        _host_console = Some(host_console::serve(&path).context("serving the host console")?);
        format!("unix:{}", path.display())
    };
    let daemons = [
        Daemon {
            binary: "rbmc-sensord",
            bus_name: "org.rbmc.Sensord",
            extra_args: vec!["--sysfs-root".into(), sysfs_root.display().to_string()],
        },
        Daemon {
            binary: "rbmc-powerd",
            bus_name: "org.rbmc.Powerd",
            extra_args: vec!["--power-backend".into(), args.power_backend.clone()],
        },
        Daemon {
            binary: "rbmc-seld",
            bus_name: "org.rbmc.Seld",
            extra_args: vec![],
        },
        Daemon {
            binary: "rbmc-userd",
            bus_name: "org.rbmc.Userd",
            // The users of a state directory made before rbmc-userd.
            extra_args: vec![
                "--migrate-from".into(),
                state_dir.join("rbmc-netipmid").display().to_string(),
            ],
        },
        Daemon {
            binary: "rbmc-pefd",
            bus_name: "org.rbmc.Pefd",
            extra_args: vec![],
        },
        Daemon {
            binary: "rbmc-fand",
            bus_name: "org.rbmc.Fand",
            extra_args: vec!["--sysfs-root".into(), sysfs_root.display().to_string()],
        },
        Daemon {
            binary: "rbmc-kcsd",
            bus_name: "org.rbmc.Kcsd",
            extra_args: vec![
                "--qemu-listen".into(),
                format!("127.0.0.1:{}", args.qemu_port),
            ],
        },
        Daemon {
            binary: "rbmc-netipmid",
            bus_name: "org.rbmc.Netipmid",
            extra_args: vec![
                "--listen".into(),
                listen,
                "--sol-console".into(),
                sol_console,
            ],
        },
        Daemon {
            binary: "rbmc-redfishd",
            bus_name: "org.rbmc.Redfishd",
            extra_args: vec!["--listen".into(), redfish_listen],
        },
    ];

    let _simulator = simulate::serve(simulator, &address)
        .await
        .context("serving the simulator on the bus")?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut supervisors = JoinSet::new();
    for daemon in &daemons {
        let child = ChildSpec {
            binary: launcher.clone(),
            name: daemon.binary,
            args: [
                vec![
                    "--config".to_owned(),
                    config_path.display().to_string(),
                    "--state-dir".to_owned(),
                    state_dir.join(daemon.binary).display().to_string(),
                ],
                daemon.extra_args.clone(),
            ]
            .concat(),
            bus_address: address.clone(),
            pid_file: state_dir.join("run").join(format!("{}.pid", daemon.binary)),
        };
        supervisors.spawn(supervise(child, stop_rx.clone()));
    }

    let names: Vec<&str> = daemons.iter().map(|d| d.bus_name).collect();
    let bridges = ["org.rbmc.Netipmid", "org.rbmc.Kcsd"];
    let owners = config.routing.owners.clone();
    let stopped_early = tokio::select! {
        ready = wait_until_ready(&address, &names, &bridges, &owners) => { match ready {
            Ok(()) => {
                println!("{READY_LINE}: all {} daemons on the bus", names.len());
                println!(
                    "rbmc-dev: try: ipmitool -I lanplus -H 127.0.0.1 -p {} -U admin -P rbmc-admin -C 17 mc info",
                    args.port
                );
                println!(
                    "rbmc-dev: Redfish at https://127.0.0.1:{port}/redfish/v1 (self-signed); try: \
                     curl -k -u admin:rbmc-admin https://127.0.0.1:{port}/redfish/v1/Systems/system",
                    port = args.redfish_port
                );
            }
            Err(err) => eprintln!("rbmc-dev: suite did not come up: {err:#}"),
        }; false }
        () = stop_signal() => true,
    };
    if !stopped_early {
        stop_signal().await;
    }
    println!("rbmc-dev: stopping");
    let _ = stop_tx.send(true);
    while supervisors.join_next().await.is_some() {}
    let _ = std::fs::remove_file(&socket);
    println!("rbmc-dev: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Removes a file when dropped.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes a file only its owner can read: the dev config holds a password.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(contents.as_bytes())
}

fn fresh_state_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for n in 0..1000u32 {
        let dir = base.join(format!("rbmc-dev-{}-{n}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    anyhow::bail!("cannot create a state directory under {}", base.display())
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// Polls the bus until every daemon holds its name and every bridge has
/// read every owner's command declarations.
async fn wait_until_ready(
    address: &str,
    names: &[&str],
    bridges: &[&str],
    owners: &[String],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + STARTUP_LIMIT;
    let conn = loop {
        match zbus::connection::Builder::address(address)?.build().await {
            Ok(conn) => break conn,
            Err(err) if Instant::now() > deadline => return Err(err.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let dbus = zbus::fdo::DBusProxy::new(&conn).await?;
    for name in names {
        loop {
            let bus_name = zbus::names::BusName::try_from(*name)?;
            if dbus.name_has_owner(bus_name).await? {
                break;
            }
            if Instant::now() > deadline {
                anyhow::bail!("{name} did not appear on the bus");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for bridge in bridges {
        // A bridge that is also an owner serves itself locally.
        let mut wanted: Vec<String> = owners.iter().filter(|o| o != bridge).cloned().collect();
        wanted.sort();
        let proxy = rbmc_contracts::ipmi::RouterProxy::builder(&conn)
            .destination(*bridge)?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        loop {
            let loaded = proxy.loaded_owners().await.unwrap_or_default();
            if loaded == wanted {
                break;
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "{bridge} has not learned the commands of {wanted:?} (has {loaded:?})"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

struct ChildSpec {
    binary: PathBuf,
    name: &'static str,
    args: Vec<String>,
    bus_address: String,
    pid_file: PathBuf,
}

/// Keeps one daemon running until `stop` turns true.
async fn supervise(child: ChildSpec, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let started = Instant::now();
        let mut process = match Command::new(&child.binary)
            .arg0(child.name)
            .args(&child.args)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &child.bus_address)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(process) => process,
            Err(err) => {
                eprintln!(
                    "rbmc-dev: cannot start {} ({}): {err}",
                    child.name,
                    child.binary.display()
                );
                return;
            }
        };
        let pid = process.id();
        if let Some(pid) = pid {
            write_pid(&child.pid_file, pid);
        }
        tokio::select! {
            status = process.wait() => {
                let status = match status {
                    Ok(status) => status,
                    Err(err) => {
                        eprintln!("rbmc-dev: lost track of {}: {err}", child.name);
                        return;
                    }
                };
                if *stop.borrow() {
                    return;
                }
                if status.code() == Some(78) {
                    eprintln!("rbmc-dev: {} exited with a configuration error; not restarting", child.name);
                    return;
                }
                if started.elapsed() > Duration::from_secs(10) {
                    backoff = Duration::from_millis(200);
                }
                eprintln!("rbmc-dev: {} died ({status}); restarting in {backoff:?}", child.name);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            _ = stop.changed() => {
                stop_child(&mut process, pid, child.name).await;
                let _ = std::fs::remove_file(&child.pid_file);
                return;
            }
        }
    }
}

fn write_pid(path: &Path, pid: u32) {
    // Write and rename, so a reader never sees an empty or partial file.
    let tmp = path.with_extension("pid.tmp");
    let result =
        std::fs::write(&tmp, format!("{pid}\n")).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(err) = result {
        eprintln!("rbmc-dev: cannot write {}: {err}", path.display());
    }
}

async fn stop_child(process: &mut tokio::process::Child, pid: Option<u32>, name: &str) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    if tokio::time::timeout(STOP_GRACE, process.wait())
        .await
        .is_err()
    {
        eprintln!("rbmc-dev: {name} ignored SIGTERM; killing it");
        let _ = process.kill().await;
    }
}
