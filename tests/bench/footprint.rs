//! The suite as the image runs it, for `rbmc-bench compare`: the
//! multi-call `rbmc` executable (each daemon `rbmc <name>`), started
//! directly under a real `dbus-daemon` as systemd would start them, with no
//! dev launcher and no simulator process. What a dev box lacks is stood in
//! for at the same seams the image's code reads: rbmc-sensord reads a hwmon
//! tree written once by `rbmc_sim` (then left alone, so the readings hold
//! still), rbmc-powerd drives its simulated board (no GPIO lines here) and
//! rbmc-kcsd waits on its QEMU link (no `/dev/ipmi-kcsN`). The config is
//! `configs/dev.toml`: the same sensors, users and routing.
//!
//! [`ImageSuite`] starts and stops it; [`sample`], [`cpu_share`] and
//! [`stripped_size`] measure it.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{bin_dir, repo_root, PASSWORD, USER};

use crate::load::{cpu_time, memory_kib, Session};

/// The daemons, in the order systemd's dependencies start them.
const DAEMONS: [&str; 6] = ["sensord", "powerd", "seld", "userd", "kcsd", "netipmid"];

/// A running suite in the image's shape; stopped when dropped.
pub struct ImageSuite {
    dir: PathBuf,
    bus: Child,
    daemons: Vec<(String, Child)>,
    /// Where rbmc-netipmid listens.
    pub target: SocketAddr,
}

/// One process's memory and descriptors.
pub struct Sample {
    /// The daemon's name (or the broker's).
    pub name: String,
    /// Resident set, KiB.
    pub rss_kib: u64,
    /// Proportional set (shared pages divided among their users), KiB.
    pub pss_kib: u64,
    /// Open file descriptors.
    pub fds: usize,
}

impl ImageSuite {
    /// Starts the bus and the six daemons, and returns once a login and a
    /// routed command (Get Device ID, through rbmc-sensord) succeed.
    pub fn start() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("rbmc-bench-image-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let config_text = std::fs::read_to_string(repo_root().join("configs/dev.toml"))
            .map_err(|e| format!("configs/dev.toml: {e}"))?;
        let config_path = dir.join("rbmc.toml");
        std::fs::write(&config_path, &config_text).map_err(|e| e.to_string())?;
        let config: rbmc_config::Config =
            rbmc_config::Config::from_file(&config_path).map_err(|e| e.to_string())?;
        let sysfs = dir.join("sys");
        rbmc_sim::Simulator::new(&config, &sysfs).map_err(|e| format!("hwmon tree: {e}"))?;

        let (bus, socket) = rbmc_e2e::start_private_dbus_daemon(&dir)?;
        let mut suite = Self {
            dir: dir.clone(),
            bus,
            daemons: Vec::new(),
            target: ([127, 0, 0, 1], rbmc_e2e::free_udp_port()).into(),
        };
        let address = format!("unix:path={}", socket.display());
        let qemu = format!("127.0.0.1:{}", rbmc_e2e::free_tcp_port());
        let console = format!("unix:{}", dir.join("console.sock").display());
        let rbmc = bin_dir().join("rbmc");
        for daemon in DAEMONS {
            let extra: Vec<String> = match daemon {
                "sensord" => vec!["--sysfs-root".into(), sysfs.display().to_string()],
                "powerd" => vec!["--power-backend".into(), "simulated".into()],
                "kcsd" => vec!["--qemu-listen".into(), qemu.clone()],
                "netipmid" => vec![
                    "--listen".into(),
                    suite.target.to_string(),
                    "--sol-console".into(),
                    console.clone(),
                ],
                _ => vec![],
            };
            let log = std::fs::File::create(dir.join(format!("{daemon}.log")))
                .map_err(|e| e.to_string())?;
            let child = Command::new(&rbmc)
                .arg(daemon)
                .arg("--config")
                .arg(&config_path)
                .arg("--state-dir")
                .arg(dir.join(daemon))
                .args(&extra)
                .env("DBUS_SYSTEM_BUS_ADDRESS", &address)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(|e| format!("{}: {e}", rbmc.display()))?;
            suite.daemons.push((format!("rbmc-{daemon}"), child));
        }
        let target = suite.target;
        wait(Duration::from_secs(20), || {
            Session::login(target, CipherSuite::SUITE_3, USER, PASSWORD)
                .and_then(|mut session| session.call(NetFn::APP, 0x01, &[]))
                .is_ok_and(|code| code == 0)
        })
        .map_err(|()| format!("the suite did not answer; logs in {}", dir.display()))?;
        Ok(suite)
    }

    /// Every process of the suite, the broker last: (name, pid).
    pub fn processes(&self) -> Vec<(String, i32)> {
        let pid = |child: &Child| i32::try_from(child.id()).unwrap_or(0);
        self.daemons
            .iter()
            .map(|(name, child)| (name.clone(), pid(child)))
            .chain([("dbus-daemon".to_owned(), pid(&self.bus))])
            .collect()
    }

    /// The process IDs, for the load generator's CPU accounting.
    pub fn pids(&self) -> Vec<i32> {
        self.processes().into_iter().map(|(_, pid)| pid).collect()
    }
}

impl Drop for ImageSuite {
    fn drop(&mut self) {
        for (_, child) in &mut self.daemons {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `ready` every 20 ms until it holds or `timeout` passes.
fn wait(timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<(), ()> {
    let deadline = Instant::now() + timeout;
    while !ready() {
        if Instant::now() >= deadline {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Memory and descriptors of each process.
pub fn sample(processes: &[(String, i32)]) -> Vec<Sample> {
    processes
        .iter()
        .map(|(name, pid)| {
            let (rss_kib, pss_kib) = memory_kib(*pid);
            Sample {
                name: name.clone(),
                rss_kib,
                pss_kib,
                fds: std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count),
            }
        })
        .collect()
}

/// The CPU the processes use together over `window` while nobody asks
/// them anything, in percent of one core (from the scheduler's own count,
/// every thread included).
pub fn cpu_share(pids: &[i32], window: Duration) -> f64 {
    let total = |pids: &[i32]| pids.iter().map(|pid| on_cpu(*pid)).sum::<Duration>();
    let before = total(pids);
    let started = Instant::now();
    std::thread::sleep(window);
    let used = total(pids).saturating_sub(before);
    100.0 * used.as_secs_f64() / started.elapsed().as_secs_f64()
}

/// The time `pid`'s threads have run, from the scheduler's count per
/// thread (`se.sum_exec_runtime` in /proc/PID/task/TID/sched, in ms with
/// µs decimals; /proc/PID/stat counts 10 ms ticks, too coarse for an idle
/// process, and this kernel leaves schedstat at 0); /proc/PID/stat's ticks
/// where the kernel has no such file.
fn on_cpu(pid: i32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let mut total = Duration::ZERO;
    for task in tasks.flatten() {
        let millis = std::fs::read_to_string(task.path().join("sched"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("se.sum_exec_runtime"))
                    .and_then(|rest| {
                        rest.trim_start_matches([' ', ':'])
                            .trim()
                            .parse::<f64>()
                            .ok()
                    })
            });
        match millis {
            Some(millis) => total += Duration::from_secs_f64(millis / 1000.0),
            None => return cpu_time(pid),
        }
    }
    total
}

/// The size of `path` on disk, in KiB (the release build strips symbols).
pub fn stripped_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len() / 1024)
}

/// What ipmi_sim needs on flash: its executable and the OpenIPMI
/// libraries it maps (read from the running process), in KiB.
pub fn peer_size(pid: i32) -> u64 {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let mut files: Vec<&str> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.contains("ipmi_sim") || path.contains("libOpenIPMI"))
        .collect();
    files.sort_unstable();
    files.dedup();
    files
        .iter()
        .map(|path| stripped_size(Path::new(path)))
        .sum()
}
