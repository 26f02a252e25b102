//! End-to-end test harness: starts the real suite through `rbmc-dev` (its
//! private bus, every daemon) and runs real clients against it.
//!
//! The binaries must be built first (`cargo build --workspace`); the harness
//! finds them in the same target directory as the running test.
//!
//! Tests never sleep for a fixed time to let something happen: they wait for
//! the condition itself with [`wait_for`] (or [`poll_until`]).

use std::{
    fmt::Display,
    io::{BufRead, BufReader},
    net::UdpSocket,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

use ipmi_wire::crypto::CipherSuite;
use nix::{sys::signal::Signal, unistd::Pid};
use ring::rand::SecureRandom;

pub mod board;
mod console;
pub mod cpio;
mod host_kcs;
pub mod netns;
pub mod redfish;
pub mod trap_receiver;

pub use console::Console;

/// The dev user every test logs in as (configs/dev.toml).
pub const USER: &str = "admin";
/// The dev password.
pub const PASSWORD: &str = "rbmc-admin";

/// The shortest pause between two checks of a condition.
const POLL_MIN: Duration = Duration::from_millis(50);
/// The longest pause between two checks of a condition.
const POLL_MAX: Duration = Duration::from_millis(200);

/// Checks `check` until it returns `Ok`, or until `timeout` has passed: then
/// the `Err` of the last check, which describes what it observed. `check` runs
/// at least once, and a last time at the deadline.
///
/// Between checks it pauses as long as the last check took, within 50-200 ms:
/// a cheap check (a file, a log line) reacts within tens of ms, and one that
/// runs ipmitool does not keep the daemons busy all the time.
pub fn poll_until<T, E>(
    timeout: Duration,
    mut check: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let deadline = Instant::now() + timeout;
    loop {
        let started = Instant::now();
        let last = match check() {
            Ok(value) => return Ok(value),
            Err(last) => last,
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(last);
        }
        let pause = now.duration_since(started).clamp(POLL_MIN, POLL_MAX);
        std::thread::sleep(pause.min(deadline - now));
    }
}

/// Waits until `check` returns `Ok` and returns its value; after `timeout`,
/// fails the test naming `what` and showing the `Err` of the last check (what
/// it observed instead).
pub fn wait_for<T, E: Display>(
    what: &str,
    timeout: Duration,
    check: impl FnMut() -> Result<T, E>,
) -> T {
    poll_until(timeout, check)
        .unwrap_or_else(|last| panic!("{what}: not within {timeout:?}; last seen:\n{last}"))
}

/// `Ok(())` if `done`, else `Err(seen)`: a [`wait_for`] check from a
/// condition and the state it was computed from.
pub fn done_or<E>(done: bool, seen: E) -> Result<(), E> {
    if done {
        Ok(())
    } else {
        Err(seen)
    }
}

/// Starts a private `dbus-daemon` (a system-type bus on which everyone may
/// own and call anything) listening at `dir/bus.sock`, and returns it and
/// its socket once the socket exists (within 5 s). The caller stops it.
pub fn start_private_dbus_daemon(dir: &Path) -> Result<(Child, PathBuf), String> {
    let socket = dir.join("bus.sock");
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n \
             \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig>\n\
             <type>system</type>\n<listen>unix:path={}</listen>\n<auth>EXTERNAL</auth>\n\
             <policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>\
             <allow send_destination=\"*\"/><allow receive_sender=\"*\"/></policy>\n</busconfig>\n",
            socket.display()
        ),
    )
    .map_err(|e| format!("{}: {e}", config.display()))?;
    let mut daemon = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--nopidfile"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("dbus-daemon (is the dbus package installed?): {e}"))?;
    let listening = poll_until(Duration::from_secs(5), || {
        done_or(socket.exists(), "no socket yet")
    });
    if listening.is_err() {
        let _ = daemon.kill();
        let _ = daemon.wait();
        return Err("dbus-daemon did not listen within 5 s".into());
    }
    Ok((daemon, socket))
}

/// The directory holding the workspace's binaries.
pub fn bin_dir() -> PathBuf {
    // target/<profile>/deps/<test> -> target/<profile>
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// The dev config, as the daemons read it.
pub fn dev_config() -> rbmc_config::Config {
    rbmc_config::Config::from_file(&repo_root().join("configs/dev.toml")).expect("dev.toml")
}

/// A free UDP port on 127.0.0.1.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A free UDP port on 127.0.0.1 below 32768, for clients that refuse
/// higher ones (ipmiconsole calls `host:45000` an invalid hostname).
pub fn free_low_udp_port() -> u16 {
    let start = 20_000 + u16::try_from(std::process::id() % 10_000).unwrap_or(0);
    (start..32_768)
        .chain(20_000..start)
        .find(|port| UdpSocket::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free UDP port below 32768")
}

/// A free TCP port on 127.0.0.1.
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A running suite, stopped on drop.
pub struct Suite {
    child: Child,
    /// RMCP+ port on 127.0.0.1.
    pub port: u16,
    /// The QEMU link's TCP port on 127.0.0.1.
    pub qemu_port: u16,
    /// Redfish's TCP port on 127.0.0.1.
    pub redfish_port: u16,
    /// The suite's state directory.
    pub state_dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    extra_args: Vec<String>,
    /// The network namespace the suite and its clients run in, if any.
    netns: Option<String>,
}

impl Suite {
    /// Starts `rbmc-dev` on a free port and waits until it says it is ready.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`Suite::start`], with more `rbmc-dev` arguments (e.g.
    /// `--config FILE`).
    pub fn start_with(extra_args: &[&str]) -> Self {
        Self::start_on(free_udp_port(), extra_args)
    }

    /// Like [`Suite::start_with`], with RMCP+ on `port`.
    pub fn start_on(port: u16, extra_args: &[&str]) -> Self {
        let qemu_port = free_tcp_port();
        let state_dir =
            std::env::temp_dir().join(format!("rbmc-e2e-{}-{}", std::process::id(), port));
        let _ = std::fs::remove_dir_all(&state_dir);
        let extra_args: Vec<String> = extra_args.iter().map(|a| (*a).to_owned()).collect();
        Self::launch(
            [port, qemu_port, free_tcp_port()],
            state_dir,
            extra_args,
            None,
        )
    }

    /// Like [`Suite::start_with`], with the state in `state_dir` as it is
    /// (a directory the test prepared, a small file system's mount point).
    pub fn start_with_state_dir(state_dir: PathBuf, extra_args: &[&str]) -> Self {
        let extra_args: Vec<String> = extra_args.iter().map(|a| (*a).to_owned()).collect();
        Self::launch(
            [free_udp_port(), free_tcp_port(), free_tcp_port()],
            state_dir,
            extra_args,
            None,
        )
    }

    /// Like [`Suite::start_with`], with the suite inside network namespace
    /// `netns` (the clients this suite runs go there too).
    pub fn start_in(netns: &str, extra_args: &[&str]) -> Self {
        let port = free_udp_port();
        let qemu_port = free_tcp_port();
        let state_dir =
            std::env::temp_dir().join(format!("rbmc-e2e-{}-{}", std::process::id(), port));
        let _ = std::fs::remove_dir_all(&state_dir);
        let extra_args: Vec<String> = extra_args.iter().map(|a| (*a).to_owned()).collect();
        Self::launch(
            [port, qemu_port, free_tcp_port()],
            state_dir,
            extra_args,
            Some(netns.to_owned()),
        )
    }

    /// Runs a client program where the suite is (its network namespace).
    pub fn client(&self, program: &str, args: &[&str]) -> Output {
        match &self.netns {
            Some(netns) => {
                let mut all = vec!["netns", "exec", netns.as_str(), program];
                all.extend_from_slice(args);
                run("ip", &all)
            }
            None => run(program, args),
        }
    }

    /// Stops the whole suite (SIGTERM to the launcher, which stops every
    /// daemon) and starts it again on the same ports and state directory:
    /// what a reboot of the BMC keeps, it must keep.
    pub fn restart(mut self) -> Self {
        self.stop_launcher();
        let ports = [self.port, self.qemu_port, self.redfish_port];
        let state_dir = std::mem::take(&mut self.state_dir);
        let extra_args = std::mem::take(&mut self.extra_args);
        let netns = self.netns.take();
        std::mem::forget(self);
        Self::launch(ports, state_dir, extra_args, netns)
    }

    fn stop_launcher(&mut self) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0));
        let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
        let exited = poll_until(Duration::from_secs(10), || match self.child.try_wait() {
            Ok(Some(_)) => Ok(()),
            _ => Err(()),
        });
        if exited.is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Starts rbmc-dev with RMCP+, the QEMU link and Redfish on `ports`.
    fn launch(
        [port, qemu_port, redfish_port]: [u16; 3],
        state_dir: PathBuf,
        extra_args: Vec<String>,
        netns: Option<String>,
    ) -> Self {
        let launcher = bin_dir().join("rbmc-dev");
        assert!(
            launcher.exists(),
            "{} is missing: run `cargo build --workspace` first",
            launcher.display()
        );
        // `ip netns exec` execs the launcher, so the child is still it.
        let mut command = match &netns {
            Some(netns) => {
                let mut ip = Command::new("ip");
                ip.args(["netns", "exec", netns]).arg(&launcher);
                ip
            }
            None => Command::new(&launcher),
        };
        let mut child = command
            .arg("--port")
            .arg(port.to_string())
            .arg("--state-dir")
            .arg(&state_dir)
            // The test command built everything once already.
            .arg("--no-build")
            .arg("--qemu-port")
            .arg(qemu_port.to_string())
            .arg("--redfish-port")
            .arg(redfish_port.to_string())
            .args(&extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rbmc-dev");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let log = log.clone();
            let ready_tx = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.starts_with("rbmc-dev: ready") {
                        let _ = ready_tx.send(());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let suite = Self {
            child,
            port,
            qemu_port,
            redfish_port,
            state_dir,
            log,
            extra_args,
            netns,
        };
        if ready_rx.recv_timeout(Duration::from_secs(30)).is_err() {
            panic!("suite did not come up:\n{}", suite.log_text());
        }
        suite
    }

    /// Everything the suite printed so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The private bus address (for busctl).
    pub fn bus_address(&self) -> String {
        format!("unix:path={}", self.state_dir.join("bus.sock").display())
    }

    /// Runs `f` on a fresh connection to the suite's bus: the shared
    /// proxies (`rbmc-contracts`) are async, the tests are not.
    pub fn on_bus<T, E: From<zbus::Error> + std::fmt::Display>(
        &self,
        f: impl AsyncFnOnce(&zbus::Connection) -> Result<T, E>,
    ) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the bus client");
        runtime
            .block_on(async {
                let conn = zbus::connection::Builder::address(self.bus_address().as_str())?
                    .build()
                    .await?;
                f(&conn).await
            })
            .unwrap_or_else(|err| panic!("on the bus: {err}"))
    }

    /// The audit trail as rbmc-seld exports it: one JSON object a line.
    pub fn audit_export(&self) -> String {
        self.on_bus(async |conn| {
            rbmc_contracts::audit::AuditProxy::new(conn)
                .await?
                .export_json_lines()
                .await
        })
    }

    /// The current PID of one daemon, from the launcher's pid file.
    /// The PID of `daemon`, if its PID file is there and whole (a daemon
    /// being restarted may have none for a moment).
    pub fn try_pid_of(&self, daemon: &str) -> Option<i32> {
        let path = self.state_dir.join("run").join(format!("{daemon}.pid"));
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// The PID of `daemon`, from the launcher's PID file.
    pub fn pid_of(&self, daemon: &str) -> i32 {
        let path = self.state_dir.join("run").join(format!("{daemon}.pid"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .parse()
            .expect("pid")
    }

    /// Sends `signal` to one daemon.
    pub fn signal(&self, daemon: &str, signal: Signal) {
        nix::sys::signal::kill(Pid::from_raw(self.pid_of(daemon)), signal).expect("kill");
    }

    /// Stops one daemon with SIGSTOP and waits until the kernel reports it
    /// stopped, so the next request surely meets a hung owner.
    pub fn freeze(&self, daemon: &str) {
        let pid = self.pid_of(daemon);
        self.signal(daemon, Signal::SIGSTOP);
        let stat = format!("/proc/{pid}/stat");
        wait_for(&format!("{daemon} stopped"), Duration::from_secs(5), || {
            let state = std::fs::read_to_string(&stat).unwrap_or_default();
            // The state letter follows the parenthesised command name.
            let stopped = state
                .rsplit(") ")
                .next()
                .is_some_and(|rest| rest.starts_with('T'));
            done_or(stopped, state)
        });
    }

    /// Runs busctl on the suite's bus; fails the test if busctl fails.
    ///
    /// One retry when busctl's own connection to the dev bus drops
    /// ("Transport endpoint is not connected"): seen once in many runs
    /// with eight suites starting at once, before any daemon was involved.
    /// Every call the tests make this way may be repeated.
    pub fn busctl(&self, args: &[&str]) -> String {
        let address = format!("--address={}", self.bus_address());
        let mut all = vec![address.as_str(), "--no-pager"];
        all.extend_from_slice(args);
        let mut out = run("busctl", &all);
        if !out.status.success() && text(&out).contains("Transport endpoint is not connected") {
            out = run("busctl", &all);
        }
        assert!(out.status.success(), "busctl {args:?}: {}", text(&out));
        text(&out)
    }

    /// Calls a method of the dev launcher's simulator (`org.rbmc.Simulator`).
    pub fn simulator(&self, method: &str, signature: &str, args: &[&str]) -> String {
        let mut all = vec![
            "call",
            "org.rbmc.Simulator",
            "/org/rbmc/Simulator",
            "org.rbmc.Simulator",
            method,
        ];
        if !signature.is_empty() {
            all.push(signature);
        }
        all.extend_from_slice(args);
        self.busctl(&all)
    }

    /// The simulated sysfs root.
    pub fn sysfs_root(&self) -> PathBuf {
        self.state_dir.join("sim/sys")
    }

    /// Runs `ipmitool -I lanplus` as the dev admin with cipher suite `suite`.
    pub fn ipmitool(&self, suite: u8, args: &[&str]) -> Output {
        self.ipmitool_as(USER, PASSWORD, suite, args)
    }

    /// Runs `ipmitool -I lanplus` with the given credentials.
    pub fn ipmitool_as(&self, user: &str, password: &str, suite: u8, args: &[&str]) -> Output {
        let mut all = self.lanplus_args(user, password, suite);
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        self.client("ipmitool", &all)
    }

    /// Runs a FreeIPMI `tool` (`ipmi-config`, `ipmipower`, `bmc-info`...)
    /// as the dev admin over IPMI 2.0 with cipher suite 17.
    pub fn freeipmi(&self, tool: &str, args: &[&str]) -> Output {
        let host = format!("127.0.0.1:{}", self.port);
        let mut all = vec![
            "-h", &host, "-D", "LAN_2_0", "-u", USER, "-p", PASSWORD, "-I", "17",
        ];
        all.extend_from_slice(args);
        self.client(tool, &all)
    }

    /// ipmitool's arguments for a lanplus session to this suite (1 s
    /// timeout, 2 retries), before the command's own.
    pub fn lanplus_args(&self, user: &str, password: &str, suite: u8) -> Vec<String> {
        let port = self.port.to_string();
        let suite = suite.to_string();
        [
            "-I",
            "lanplus",
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            user,
            "-P",
            password,
            "-C",
            &suite,
            "-N",
            "1",
            "-R",
            "2",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect()
    }

    /// `ipmitool ... sol activate` as `user` at `privilege`, on a terminal.
    pub fn sol_terminal(&self, user: &str, password: &str, privilege: &str) -> Terminal {
        let mut args = self.lanplus_args(user, password, 17);
        args.extend(["-L", privilege, "sol", "activate"].map(str::to_owned));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Terminal::spawn("ipmitool", &args)
    }

    /// Logs in with the test console over UDP.
    pub fn console(&self, suite: CipherSuite) -> Console {
        Console::login(self.port, suite, USER, PASSWORD).expect("console login")
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        self.stop_launcher();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// A program running on a pseudo-terminal, as an operator's `ipmitool sol
/// activate` runs in a terminal: raw mode, escapes and all.
pub struct Terminal {
    child: Child,
    master: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    /// Starts `program args` with a new pty as its stdin, stdout and stderr.
    pub fn spawn(program: &str, args: &[&str]) -> Self {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let slave = std::fs::File::from(pty.slave);
        let child = Command::new(program)
            .args(args)
            .stdin(slave.try_clone().expect("dup pty"))
            .stdout(slave.try_clone().expect("dup pty"))
            .stderr(slave)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let master = std::fs::File::from(pty.master);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup pty master");
        let sink = screen.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            // EIO once the child closes its side ends the loop.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self {
            child,
            master,
            screen,
        }
    }

    /// Types `bytes` on the terminal.
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.master.write_all(bytes).expect("write to the pty");
    }

    /// Everything the program has written so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until the screen contains `needle`; panics with the screen
    /// after `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) {
        self.wait_until(&format!("{needle:?} on the terminal"), timeout, |screen| {
            screen.contains(needle)
        });
    }

    /// Waits until `done` holds for the screen; panics naming `what`, with
    /// the screen, after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) {
        wait_for(what, timeout, || {
            let screen = self.screen();
            done_or(done(&screen), screen)
        });
    }

    /// Waits for the program to exit; its status, or `None` after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        poll_until(timeout, || match self.child.try_wait() {
            Ok(Some(status)) => Ok(status),
            _ => Err(()),
        })
        .ok()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client program, failing clearly if it is not installed.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"))
}

/// stdout and stderr of an output, for assertions and messages.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Fresh random bytes.
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .expect("random");
    out
}
