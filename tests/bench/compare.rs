//! `rbmc-bench compare`: rbmc beside OpenIPMI's `ipmi_sim` in one run.
//!
//! ```text
//! rbmc-bench compare [--sessions 16] [--seconds 10] [--rounds 2] [--write FILE]
//! ```
//!
//! Starts the suite, freezes its simulated sensors, makes ipmi_sim its twin
//! (`peer.rs`: the same SDRs, readings, thresholds and FRU), and drives
//! both with the same load (`load.rs`), alternating, `--rounds` times. Each
//! figure is the median over the rounds, with the ratio rbmc / ipmi_sim.
//! Cipher suite 3 for the ratio (ipmi_sim has no suite 17); suite 17 for
//! rbmc alone. Also: one SDR walk with readings (a client's `sensor list`
//! by hand), each side's memory at idle, and the machine it ran on. With
//! `--write` the tables go to a Markdown page (`docs/BENCHMARKS.md`).
//! Build with `--release`: `bash tests/bench/compare.sh` does it all.

use std::{
    fmt::Write as _,
    net::SocketAddr,
    time::{Duration, Instant},
};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{Suite, PASSWORD, USER};

use crate::{
    load::{self, memory_kib, Plan, Report, Session},
    micros, peer,
};

const DAEMONS: [&str; 6] = [
    "rbmc-netipmid",
    "rbmc-sensord",
    "rbmc-powerd",
    "rbmc-seld",
    "rbmc-userd",
    "rbmc-kcsd",
];

/// The parent of `pid` (rbmc-dev, which also carries the bus).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// One SDR walk with readings, as `sensor list` does it: every record (a
/// reservation, the header, the body in 16-byte chunks), and a reading for
/// each sensor.
fn sdr_walk(target: SocketAddr, suite: CipherSuite) -> Result<Duration, String> {
    let mut session = Session::login(target, suite, USER, PASSWORD)?;
    let started = Instant::now();
    let mut next = [0u8, 0];
    while next != [0xFF, 0xFF] {
        let (following, record) = peer::read_sdr(&mut session, next)?;
        next = following;
        if matches!(record.get(3), Some(1 | 2)) && record.len() > 7 {
            session.call(NetFn::SENSOR_EVENT, 0x2D, &[record[7]])?;
        }
    }
    Ok(started.elapsed())
}

/// A row of the table: its name, its figure, and whether higher is better.
type Row<'a> = (&'a str, &'a dyn Fn(&Report) -> f64, bool);

fn median<T: Copy + PartialOrd>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values[values.len() / 2]
}

/// The machine, for the page.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores, {cpu}, Linux {}", kernel.trim())
}

/// Runs the comparison and prints (or writes) the page.
pub fn main(args: &[String]) {
    let (mut sessions, mut seconds, mut rounds, mut write) = (16usize, 10.0f64, 2usize, None);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().cloned().unwrap_or_default();
        match flag.as_str() {
            "--sessions" => sessions = value.parse().unwrap_or(sessions),
            "--seconds" => seconds = value.parse().unwrap_or(seconds),
            "--rounds" => rounds = value.parse().unwrap_or(rounds),
            "--write" => write = Some(value),
            other => {
                eprintln!("rbmc-bench compare: unknown flag {other}");
                std::process::exit(64);
            }
        }
    }
    let suite = Suite::start();
    suite.simulator("Pause", "b", &["true"]);
    let rbmc: SocketAddr = ([127, 0, 0, 1], suite.port).into();
    let capture = {
        let mut session =
            Session::login(rbmc, CipherSuite::SUITE_3, USER, PASSWORD).expect("log in to rbmc");
        peer::capture(&mut session).expect("capture rbmc's records")
    };
    let twin_dir = std::env::temp_dir().join(format!("rbmc-bench-twin-{}", std::process::id()));
    let twin_addr: SocketAddr = ([127, 0, 0, 1], rbmc_e2e::free_udp_port()).into();
    let twin = peer::start_twin(&capture, &twin_dir, twin_addr, USER, PASSWORD)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut named: Vec<(&str, i32)> = DAEMONS
        .iter()
        .filter_map(|d| Some((*d, suite.try_pid_of(d)?)))
        .collect();
    if let Some(launcher) = named.first().and_then(|(_, pid)| parent_of(*pid)) {
        named.push(("rbmc-dev (launcher and bus)", launcher));
    }
    let rbmc_pids: Vec<i32> = named.iter().map(|(_, pid)| *pid).collect();
    // Sensors with a reading (not the event-only ones, which both answer
    // without one, differently).
    let sensors: Vec<u8> = capture
        .readings
        .iter()
        .filter(|(_, reading)| {
            reading
                .as_ref()
                .is_some_and(|r| r.get(1).is_some_and(|b| b & 0x20 == 0))
        })
        .map(|(number, _)| *number)
        .collect();
    let plan = |target: SocketAddr, suite: CipherSuite, pids: Vec<i32>| Plan {
        target,
        sessions,
        duration: Duration::from_secs_f64(seconds),
        suite,
        mix: load::parse_mix("device-id=1,sensor=4,sdr=2,sel=1,chassis=1").expect("mix"),
        rate: None,
        user: USER.into(),
        password: PASSWORD.into(),
        sensors: sensors.clone(),
        pids,
    };
    let memory = |pids: &[i32]| -> (u64, u64) {
        pids.iter()
            .map(|pid| memory_kib(*pid))
            .fold((0, 0), |(r, p), (rss, pss)| (r + rss, p + pss))
    };
    let (rbmc_memory, twin_memory) = (memory(&rbmc_pids), memory(&[twin.pid()]));
    let mut ours: Vec<Report> = Vec::new();
    let mut theirs: Vec<Report> = Vec::new();
    let mut walks = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(load::run(&plan(
            rbmc,
            CipherSuite::SUITE_3,
            rbmc_pids.clone(),
        )));
        theirs.push(load::run(&plan(
            twin_addr,
            CipherSuite::SUITE_3,
            vec![twin.pid()],
        )));
        walks
            .0
            .push(sdr_walk(rbmc, CipherSuite::SUITE_3).expect("rbmc's SDR walk"));
        walks
            .1
            .push(sdr_walk(twin_addr, CipherSuite::SUITE_3).expect("ipmi_sim's SDR walk"));
    }
    let suite17 = load::run(&plan(rbmc, CipherSuite::SUITE_17, rbmc_pids.clone()));
    let one_sensor = load::run(&Plan {
        sessions: 1,
        mix: load::parse_mix("sensor").expect("mix"),
        ..plan(rbmc, CipherSuite::SUITE_3, rbmc_pids.clone())
    });

    let figure = |reports: &[Report], f: &dyn Fn(&Report) -> f64| {
        median(reports.iter().map(f).collect::<Vec<f64>>())
    };
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let rows: [Row; 6] = [
        ("requests/s", &|r| r.throughput(), true),
        (
            "p50 latency, µs",
            &|r| us(crate::percentile(&r.latencies, 50)),
            false,
        ),
        ("p99 latency, µs", &|r| us(r.latency_per_mille(990)), false),
        (
            "p99.9 latency, µs",
            &|r| us(r.latency_per_mille(999)),
            false,
        ),
        (
            "server CPU per request, µs",
            &|r| us(r.cpu_per_request()),
            false,
        ),
        ("session setups/s", &|r| r.setups_per_second, true),
    ];
    let mut page = String::new();
    let _ = writeln!(page, "# Benchmarks: rbmc beside OpenIPMI's ipmi_sim\n");
    let _ = writeln!(
        page,
        "Generated by `bash tests/bench/compare.sh` (`rbmc-bench compare`, release build). \
         Machine: {}. Load: {sessions} sessions, closed loop, {seconds} s a run, mix Get Device ID 1 : \
         Get Sensor Reading 4 : Get SDR 2 : Get SEL Entry 1 : Get Chassis Status 1, cipher suite 3 \
         (ipmi_sim has no suite 17); medians of {rounds} alternating rounds. ipmi_sim serves the \
         same SDR records, readings, thresholds and FRU, captured from rbmc.\n",
        machine()
    );
    let _ = writeln!(
        page,
        "| measure | rbmc | ipmi_sim | rbmc / ipmi_sim | better |"
    );
    let _ = writeln!(page, "|---|---|---|---|---|");
    for (name, f, higher_is_better) in rows {
        let (a, b) = (figure(&ours, f), figure(&theirs, f));
        let ratio = if b > 0.0 { a / b } else { f64::NAN };
        let better = if (a >= b) == higher_is_better {
            "rbmc"
        } else {
            "ipmi_sim"
        };
        let _ = writeln!(page, "| {name} | {a:.0} | {b:.0} | {ratio:.2} | {better} |");
    }
    let errors: usize = ours.iter().map(|r| r.errors).sum();
    let their_errors: usize = theirs.iter().map(|r| r.errors).sum();
    let _ = writeln!(
        page,
        "| errors (all rounds) | {errors} | {their_errors} | | |"
    );
    let (walk_a, walk_b) = (median(walks.0), median(walks.1));
    let _ = writeln!(
        page,
        "| SDR walk with readings ({} records) | {} | {} | {:.2} | {} |",
        capture.sdrs.len(),
        micros(walk_a),
        micros(walk_b),
        walk_a.as_secs_f64() / walk_b.as_secs_f64(),
        if walk_a <= walk_b { "rbmc" } else { "ipmi_sim" }
    );
    let _ = writeln!(
        page,
        "| memory at idle, RSS / PSS KiB (rbmc: {} processes, the dev launcher's bus included) | {} / {} | {} / {} | {:.2} (PSS) | {} |",
        rbmc_pids.len(),
        rbmc_memory.0,
        rbmc_memory.1,
        twin_memory.0,
        twin_memory.1,
        rbmc_memory.1 as f64 / twin_memory.1.max(1) as f64,
        if rbmc_memory.1 <= twin_memory.1 { "rbmc" } else { "ipmi_sim" }
    );
    let ratio = |f: &dyn Fn(&Report) -> f64| figure(&ours, f) / figure(&theirs, f);
    let throughput = ratio(&|r| r.throughput());
    let cpu = ratio(&|r| us(r.cpu_per_request()));
    let pss = rbmc_memory.1 as f64 / twin_memory.1.max(1) as f64;
    let _ = writeln!(page, "\n## Goals of issue 15, from this run\n");
    for (goal, met, figure) in [
        (
            "throughput at 16 sessions, suite 3: at least 1.5x ipmi_sim's",
            throughput >= 1.5,
            format!("{throughput:.2}x"),
        ),
        (
            "server CPU per request: no more than ipmi_sim's",
            cpu <= 1.0,
            format!("{cpu:.2}x"),
        ),
        (
            "PSS at idle: at most 2x ipmi_sim's (here the dev launcher's processes, not the image's multi-call binary)",
            pss <= 2.0,
            format!("{pss:.2}x"),
        ),
        (
            "an SDR walk with readings under 100 ms (here the dev config's records, not 100 sensors)",
            walk_a < Duration::from_millis(100),
            micros(walk_a),
        ),
        (
            "p99 of Get Sensor Reading in one session, through the owner and back: under 500 µs",
            one_sensor.latency_per_mille(990) < Duration::from_micros(500),
            micros(one_sensor.latency_per_mille(990)),
        ),
    ] {
        let verdict = if met { "met" } else { "missed" };
        let _ = writeln!(page, "- {goal}: {figure}, {verdict}.");
    }
    let _ = writeln!(
        page,
        "\nWhere the routed request's CPU goes (the profile taken when issue 15 was filed): about \
         a third in the D-Bus broker, a third in rbmc-netipmid, a quarter in the owner; RMCP+ \
         itself costs what the peer's does. The fix planned is a direct connection from each \
         bridge to each owner, with discovery still on the bus."
    );
    let _ = writeln!(
        page,
        "\nrbmc alone on cipher suite 17 (HMAC-SHA256, AES-128):\n"
    );
    load::print_to(&mut page, "rbmc, suite 17", sessions, 17, &suite17);
    let _ = writeln!(
        page,
        "\nOne session, Get Sensor Reading only (through rbmc-sensord and back), suite 3; \
         the goal is a p99 under 500 µs:\n"
    );
    load::print_to(&mut page, "rbmc, one session", 1, 3, &one_sensor);
    let _ = writeln!(
        page,
        "\nrbmc's processes at idle (the dev launcher carries the bus):\n"
    );
    let _ = writeln!(page, "| process | RSS KiB | PSS KiB | open fds |");
    let _ = writeln!(page, "|---|---|---|---|");
    for (name, pid) in &named {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
        let (rss, pss) = memory_kib(*pid);
        let _ = writeln!(page, "| {name} | {rss} | {pss} | {fds} |");
    }
    print!("{page}");
    if let Some(path) = write {
        std::fs::write(&path, &page).unwrap_or_else(|e| panic!("write {path}: {e}"));
        eprintln!("rbmc-bench compare: wrote {path}");
    }
    drop(twin);
}
