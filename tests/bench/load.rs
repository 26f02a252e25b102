//! `rbmc-bench load`: a load generator for any RMCP+ BMC, so that rbmc and
//! a peer (OpenIPMI's `ipmi_sim`) can be driven the same way in one run.
//!
//! ```text
//! rbmc-bench load --target 127.0.0.1:623 [--sessions 16] [--seconds 10]
//!     [--suite 3|17] [--mix device-id=1,sensor=4,sdr=2,sel=1,chassis=1]
//!     [--rate REQUESTS_PER_SECOND] [--user admin --password rbmc-admin]
//!     [--sensors 1,2,3] [--pids PID,PID]
//! ```
//!
//! Each session is a thread with its own socket and a blocking RMCP+
//! client (the harness's `Console`, on `ipmi_lan::console`: a few
//! microseconds of client CPU a request, so the client is not what is
//! measured). Closed loop by
//! default: each session sends its next request when the last is
//! answered. With `--rate` the load is open loop: requests are due at a
//! fixed pace and latency counts from when a request was due, so a slow
//! server is not hidden by a client that waits (coordinated omission).
//! The command mix is weighted: Get Device ID, Get Sensor Reading (the
//! sensors given, round robin), Get SDR (a 16-byte chunk of the first),
//! Get SEL Entry (the first) and Get Chassis Status.
//!
//! It reports throughput, latency p50/p99/p99.9, errors (no answer within
//! a second, or a completion code other than 00h; CBh for Get SEL Entry on
//! an empty SEL is an answer), the session setup rate
//! (full handshakes a second, all sessions logging in at once), and, for
//! the server processes named with `--pids`, the CPU time they used per
//! request (from /proc) and their memory.

use std::{
    net::SocketAddr,
    sync::{Arc, Barrier},
    time::{Duration, Instant},
};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::Console;

use crate::{micros, percentile};

/// The commands of the mix.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Kind {
    /// Get Device ID (App 01h).
    DeviceId,
    /// Get Sensor Reading (S/E 2Dh).
    Sensor,
    /// Get SDR (Storage 23h), a whole record from offset 0.
    Sdr,
    /// Get SEL Entry (Storage 43h), the first.
    Sel,
    /// Get Chassis Status (Chassis 01h).
    Chassis,
}

impl Kind {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "device-id" => Self::DeviceId,
            "sensor" => Self::Sensor,
            "sdr" => Self::Sdr,
            "sel" => Self::Sel,
            "chassis" => Self::Chassis,
            _ => return None,
        })
    }

    /// Whether `code` answers this kind's request (an empty SEL answers
    /// Get SEL Entry with CBh, "requested data not present", on any BMC).
    fn answered_by(self, code: u8) -> bool {
        code == 0 || (self == Self::Sel && code == 0xCB)
    }

    /// The request for the `n`th use of this kind.
    fn request(self, n: usize, sensors: &[u8]) -> (NetFn, u8, Vec<u8>) {
        match self {
            Self::DeviceId => (NetFn::APP, 0x01, vec![]),
            Self::Sensor => {
                let number = sensors.get(n % sensors.len().max(1)).copied().unwrap_or(1);
                (NetFn::SENSOR_EVENT, 0x2D, vec![number])
            }
            // The first 16 bytes of the first record, as a client reads
            // in chunks (reservation 0000h is allowed at offset 0).
            Self::Sdr => (NetFn::STORAGE, 0x23, vec![0, 0, 0, 0, 0, 16]),
            Self::Sel => (NetFn::STORAGE, 0x43, vec![0, 0, 0, 0, 0, 0xFF]),
            Self::Chassis => (NetFn::CHASSIS, 0x01, vec![]),
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The BMC.
    pub target: SocketAddr,
    /// Concurrent sessions.
    pub sessions: usize,
    /// How long to load it.
    pub duration: Duration,
    /// Cipher suite.
    pub suite: CipherSuite,
    /// The weighted mix, expanded: one entry per weight unit.
    pub mix: Vec<Kind>,
    /// Open loop: requests a second over all sessions.
    pub rate: Option<f64>,
    /// Credentials.
    pub user: String,
    /// Credentials.
    pub password: String,
    /// Sensor numbers for Get Sensor Reading.
    pub sensors: Vec<u8>,
    /// Server processes whose CPU and memory to report.
    pub pids: Vec<i32>,
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct Report {
    /// Requests answered with 00h.
    pub answered: usize,
    /// No answer, or another completion code.
    pub errors: usize,
    /// Wall time of the load.
    pub elapsed: Duration,
    /// Sorted latencies of the answered requests.
    pub latencies: Vec<Duration>,
    /// Full handshakes a second while all sessions logged in at once.
    pub setups_per_second: f64,
    /// Server CPU time over the load, all `pids` together.
    pub server_cpu: Duration,
}

impl Report {
    /// Requests a second.
    pub fn throughput(&self) -> f64 {
        (self.answered + self.errors) as f64 / self.elapsed.as_secs_f64()
    }

    /// Server CPU per request.
    pub fn cpu_per_request(&self) -> Duration {
        self.server_cpu / u32::try_from((self.answered + self.errors).max(1)).unwrap_or(u32::MAX)
    }

    /// The latency at `pct` per mille (990 = p99, 999 = p99.9).
    pub fn latency_per_mille(&self, per_mille: usize) -> Duration {
        let index =
            (self.latencies.len() * per_mille / 1000).min(self.latencies.len().saturating_sub(1));
        self.latencies.get(index).copied().unwrap_or_default()
    }
}

/// One blocking RMCP+ session (the test harness's console), closed when
/// dropped so a peer's slots are free for the next run.
pub struct Session {
    console: Console,
}

impl Session {
    /// Logs in to `target` as `user`, at Administrator; requests then wait
    /// a second for their answer.
    pub fn login(
        target: SocketAddr,
        suite: CipherSuite,
        user: &str,
        password: &str,
    ) -> Result<Self, String> {
        let console = Console::login_to(target, suite, user, password)?;
        console.set_timeout(Duration::from_secs(1))?;
        Ok(Self { console })
    }

    /// One request; its completion code.
    pub fn call(&mut self, netfn: NetFn, cmd: u8, data: &[u8]) -> Result<u8, String> {
        self.call_data(netfn, cmd, data).map(|(code, _)| code)
    }

    /// One request; its completion code and data.
    pub fn call_data(
        &mut self,
        netfn: NetFn,
        cmd: u8,
        data: &[u8],
    ) -> Result<(u8, Vec<u8>), String> {
        let response = self.console.call(netfn, cmd, data)?;
        Ok((response.completion.0, response.data))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let id = self.console.session_id().to_le_bytes();
        let _ = self.console.call(NetFn::APP, 0x3C, &id);
    }
}

/// CPU time (user + system) `pid` has used, from /proc.
pub fn cpu_time(pid: i32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// Resident and proportional set size of `pid`, in KiB.
pub fn memory_kib(pid: i32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("Rss:"), field("Pss:"))
}

/// Runs `plan` and reports.
pub fn run(plan: &Plan) -> Report {
    // Every session logs in at once: the setup rate.
    let barrier = Arc::new(Barrier::new(plan.sessions));
    let setup_started = Instant::now();
    let logins: Vec<_> = (0..plan.sessions)
        .map(|_| {
            let (plan, barrier) = (plan.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                Session::login(plan.target, plan.suite, &plan.user, &plan.password)
            })
        })
        .collect();
    let sessions: Vec<Session> = logins
        .into_iter()
        .map(|login| login.join().expect("login thread").expect("login"))
        .collect();
    let setups_per_second = plan.sessions as f64 / setup_started.elapsed().as_secs_f64();

    let cpu_before: Duration = plan.pids.iter().map(|pid| cpu_time(*pid)).sum();
    let start = Arc::new(Barrier::new(plan.sessions + 1));
    let workers: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(index, mut session)| {
            let (plan, start) = (plan.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let began = Instant::now();
                let interval = plan
                    .rate
                    .map(|rate| Duration::from_secs_f64(plan.sessions as f64 / rate));
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut n = index;
                while began.elapsed() < plan.duration {
                    let due = match interval {
                        Some(every) => {
                            let due = began + every * u32::try_from(n - index).unwrap_or(0);
                            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                            due
                        }
                        None => Instant::now(),
                    };
                    let kind = plan.mix[n % plan.mix.len()];
                    let (netfn, cmd, data) = kind.request(n / plan.mix.len(), &plan.sensors);
                    match session.call(netfn, cmd, &data) {
                        Ok(code) if kind.answered_by(code) => latencies.push(due.elapsed()),
                        _ => errors += 1,
                    }
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mut seen, failed) = worker.join().expect("load thread");
        latencies.append(&mut seen);
        errors += failed;
    }
    let elapsed = began.elapsed();
    let cpu_after: Duration = plan.pids.iter().map(|pid| cpu_time(*pid)).sum();
    latencies.sort();
    Report {
        answered: latencies.len(),
        errors,
        elapsed,
        latencies,
        setups_per_second,
        server_cpu: cpu_after.saturating_sub(cpu_before),
    }
}

/// Parses `--mix device-id=1,sensor=4,...` into one entry per weight unit.
pub fn parse_mix(text: &str) -> Result<Vec<Kind>, String> {
    let mut mix = Vec::new();
    for part in text.split(',') {
        let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
        let kind = Kind::parse(name).ok_or_else(|| format!("unknown command {name:?} in --mix"))?;
        let weight: usize = weight
            .parse()
            .map_err(|_| format!("weight {weight:?} of {name} is not a number"))?;
        mix.extend(std::iter::repeat_n(kind, weight));
    }
    if mix.is_empty() {
        return Err("--mix names no command".into());
    }
    Ok(mix)
}

/// Appends a one-row table of `report` to `out`.
pub fn print_to(out: &mut String, name: &str, sessions: usize, suite: u8, report: &Report) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "| run | sessions | suite | requests/s | p50 | p99 | p99.9 | errors | setups/s | server CPU/request |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    let _ = writeln!(
        out,
        "| {name} | {sessions} | {suite} | {:.0} | {} | {} | {} | {} | {:.0} | {} |",
        report.throughput(),
        micros(percentile(&report.latencies, 50)),
        micros(report.latency_per_mille(990)),
        micros(report.latency_per_mille(999)),
        report.errors,
        report.setups_per_second,
        micros(report.cpu_per_request()),
    );
}

/// `rbmc-bench load ...` from the command line.
pub fn main(args: &[String]) {
    let mut plan = Plan {
        target: "127.0.0.1:623".parse().expect("address"),
        sessions: 16,
        duration: Duration::from_secs(10),
        suite: CipherSuite::SUITE_3,
        mix: parse_mix("device-id=1,sensor=4,sdr=2,sel=1,chassis=1").expect("default mix"),
        rate: None,
        user: rbmc_e2e::USER.into(),
        password: rbmc_e2e::PASSWORD.into(),
        sensors: vec![1],
        pids: Vec::new(),
    };
    let mut args = args.iter();
    let fail = |message: String| -> ! {
        eprintln!("rbmc-bench load: {message}");
        std::process::exit(64)
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| fail(format!("{flag} needs a value")));
        let number = |what: &str| -> f64 {
            value
                .parse()
                .unwrap_or_else(|_| fail(format!("{what} {value:?} is not a number")))
        };
        let whole = |what: &str| -> usize {
            value
                .parse()
                .unwrap_or_else(|_| fail(format!("{what} {value:?} is not a whole number")))
        };
        match flag.as_str() {
            "--target" => {
                plan.target = value
                    .parse()
                    .unwrap_or_else(|_| fail(format!("--target {value:?} is not HOST:PORT")));
            }
            "--sessions" => plan.sessions = whole("--sessions").max(1),
            "--seconds" => plan.duration = Duration::from_secs_f64(number("--seconds")),
            "--suite" => {
                plan.suite = u8::try_from(whole("--suite"))
                    .ok()
                    .and_then(CipherSuite::by_id)
                    .unwrap_or_else(|| fail(format!("cipher suite {value} is not 3 or 17")));
            }
            "--mix" => plan.mix = parse_mix(value).unwrap_or_else(|e| fail(e)),
            "--rate" => plan.rate = Some(number("--rate")),
            "--user" => plan.user.clone_from(value),
            "--password" => plan.password.clone_from(value),
            "--sensors" => {
                plan.sensors = value
                    .split(',')
                    .map(|n| n.parse().unwrap_or_else(|_| fail(format!("sensor {n:?}"))))
                    .collect();
            }
            "--pids" => {
                plan.pids = value
                    .split(',')
                    .map(|n| n.parse().unwrap_or_else(|_| fail(format!("pid {n:?}"))))
                    .collect();
            }
            other => fail(format!("unknown flag {other}")),
        }
    }
    let report = run(&plan);
    let mut table = String::new();
    print_to(
        &mut table,
        &plan.target.to_string(),
        plan.sessions,
        plan.suite.id,
        &report,
    );
    print!("{table}");
    for pid in &plan.pids {
        let (rss, pss) = memory_kib(*pid);
        println!("pid {pid}: RSS {rss} KiB, PSS {pss} KiB");
    }
}
