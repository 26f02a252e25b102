//! `rbmc-bench compare`: rbmc beside OpenIPMI's `ipmi_sim` in one run.
//!
//! ```text
//! rbmc-bench compare [--sessions 16] [--seconds 10] [--rounds 2] [--idle-seconds 30]
//!     [--write FILE]
//! ```
//!
//! Starts the suite as the image runs it (`footprint.rs`: the multi-call
//! `rbmc` under `dbus-daemon`), makes ipmi_sim its twin (`peer.rs`: the
//! same SDRs, readings, thresholds and FRU), measures both idle side by
//! side (`--idle-seconds`, 30: CPU, memory, descriptors), then drives both
//! with the same load (`load.rs`), alternating, `--rounds` times. Each
//! figure is the median over the rounds, with the ratio rbmc / ipmi_sim.
//! Cipher suite 3 for the ratio (ipmi_sim has no suite 17); suite 17 for
//! rbmc alone. Also: one SDR walk with readings (a client's `sensor list`
//! by hand), memory under load, the sizes on flash, and the machine it
//! ran on. With `--write` the tables go to a Markdown page
//! (`docs/BENCHMARKS.md`) and the latency plot beside it
//! (`benchmarks-latency.png`, `plot.rs`). Build with `--release`: `bash
//! tests/bench/compare.sh` does it all.

use std::{
    fmt::Write as _,
    net::SocketAddr,
    time::{Duration, Instant},
};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{PASSWORD, USER};

use crate::{
    footprint::{self, ImageSuite},
    load::{self, memory_kib, Plan, Report, Session},
    micros, peer, plot,
};

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

/// What the page says about where a routed request's CPU goes, from the
/// profiles taken with `perf` (the commands are on the page). A profile is
/// not taken in every run: it needs the `profiling` build and root.
const PROFILE: &str = "\
Where a routed request's server CPU goes, from `perf record -g` on the \
`profiling` build (release code with symbols) and `rbmc-bench load` \
(Get Sensor Reading only, 16 sessions, rbmc-dev), step by step; the last \
two are medians of eight alternating runs, which vary by a fifth:

| step | server CPU per request | rbmc-netipmid | the owner (rbmc-sensord) | the broker (busd) |
|---|---|---|---|---|
| through the broker, OpenBMC's `execute` | 136 µs | 38% | 31% | 31% |
| direct route, the same `a{sv}` options | 50 µs | 61% | 38% | under 1% |
| direct route, a struct of eight fields; answered in place | 42 µs | 63% | 36% | under 1% |
| direct route, one packed byte array each way | 36 µs | 66% | 33% | under 1% |

Before, the broker forwarded four messages a request, and D-Bus's \
variant-typed `a{sv}` options cost more to encode and decode than the \
request itself: signature parsing (`zvariant` and `winnow`) led the \
owner's profile. The direct route (a peer-to-peer D-Bus connection per \
bridge and owner, opened through the bus: docs/ARCHITECTURE.md) took the \
broker off the path; packing the request and the answer into one byte \
array each left the least for zvariant to parse; handlers that answer at \
once are answered without a task.

What is left, in rbmc-netipmid: a third is the kernel's loopback UDP send \
and receive and the wake-ups of a current-thread runtime (epoll, futex), \
about a tenth the RMCP+ crypto (SHA-1 HMAC, AES), and the rest zbus's \
message building, its socket-reader task and allocation. In the owner: \
the same D-Bus message work on the other side. ipmi_sim does all of it \
in one process with no second hop; rbmc pays for a process boundary per \
request, which is what lets an owner die, restart and be upgraded alone.

Reproduce: `cargo build --profile profiling --bin rbmc-dev`, run \
`target/profiling/rbmc-dev --port 6240`, then `perf record -F 1999 -g -p \
<pids of rbmc-dev, rbmc-netipmid, rbmc-sensord>` while `rbmc-bench load \
--target 127.0.0.1:6240 --mix sensor=1 --sensors 1,2,3` runs, and `perf \
report --sort pid,dso,sym`.";

/// Runs the comparison and prints (or writes) the page and its plot.
pub fn main(args: &[String]) {
    let (mut sessions, mut seconds, mut rounds, mut write) = (16usize, 10.0f64, 2usize, None);
    let mut idle_seconds = 30.0f64;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().cloned().unwrap_or_default();
        match flag.as_str() {
            "--sessions" => sessions = value.parse().unwrap_or(sessions),
            "--seconds" => seconds = value.parse().unwrap_or(seconds),
            "--rounds" => rounds = value.parse().unwrap_or(rounds),
            "--idle-seconds" => idle_seconds = value.parse().unwrap_or(idle_seconds),
            "--write" => write = Some(value),
            other => {
                eprintln!("rbmc-bench compare: unknown flag {other}");
                std::process::exit(64);
            }
        }
    }
    let image = ImageSuite::start().unwrap_or_else(|e| panic!("starting rbmc: {e}"));
    let rbmc = image.target;
    let processes = image.processes();
    let rbmc_pids = image.pids();
    let capture = {
        let mut session =
            Session::login(rbmc, CipherSuite::SUITE_3, USER, PASSWORD).expect("log in to rbmc");
        peer::capture(&mut session).expect("capture rbmc's records")
    };
    let twin_dir = std::env::temp_dir().join(format!("rbmc-bench-twin-{}", std::process::id()));
    let twin_addr: SocketAddr = ([127, 0, 0, 1], rbmc_e2e::free_udp_port()).into();
    let twin = peer::start_twin(&capture, &twin_dir, twin_addr, USER, PASSWORD)
        .unwrap_or_else(|e| panic!("{e}"));
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

    // Both idle, side by side in the same window.
    let idle_window = Duration::from_secs_f64(idle_seconds);
    let twin_pid = twin.pid();
    let twin_idle_cpu = std::thread::spawn(move || footprint::cpu_share(&[twin_pid], idle_window));
    let rbmc_idle_cpu = footprint::cpu_share(&rbmc_pids, idle_window);
    let twin_idle_cpu = twin_idle_cpu.join().unwrap_or(f64::NAN);
    let idle = footprint::sample(&processes);
    let twin_idle = memory_kib(twin_pid);

    let mut ours: Vec<Report> = Vec::new();
    let mut theirs: Vec<Report> = Vec::new();
    let mut walks = (Vec::new(), Vec::new());
    let (mut loaded, mut twin_loaded) = (Vec::new(), (0, 0));
    for round in 0..rounds {
        // Memory under load: sampled halfway through the first round of
        // each.
        let halfway = Duration::from_secs_f64(seconds / 2.0);
        let sampler = |pids: Vec<(String, i32)>| {
            std::thread::spawn(move || {
                std::thread::sleep(halfway);
                footprint::sample(&pids)
            })
        };
        let ours_sampler = (round == 0).then(|| sampler(processes.clone()));
        ours.push(load::run(&plan(
            rbmc,
            CipherSuite::SUITE_3,
            rbmc_pids.clone(),
        )));
        if let Some(samples) = ours_sampler.and_then(|s| s.join().ok()) {
            loaded = samples;
        }
        let twin_sampler = (round == 0).then(|| sampler(vec![("ipmi_sim".into(), twin_pid)]));
        theirs.push(load::run(&plan(
            twin_addr,
            CipherSuite::SUITE_3,
            vec![twin_pid],
        )));
        if let Some(sample) = twin_sampler
            .and_then(|s| s.join().ok())
            .and_then(|samples| samples.into_iter().next())
        {
            twin_loaded = (sample.rss_kib, sample.pss_kib);
        }
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

    let plot_path = write.as_ref().map_or_else(
        || std::env::temp_dir().join("benchmarks-latency.png"),
        |page| std::path::Path::new(page).with_file_name("benchmarks-latency.png"),
    );
    let all = |reports: &[Report]| -> Vec<Duration> {
        reports
            .iter()
            .flat_map(|r| r.latencies.iter().copied())
            .collect()
    };
    let (ours_all, theirs_all) = (all(&ours), all(&theirs));
    let plot = plot::latency_distributions(
        &plot_path,
        &format!("Latency under load: {sessions} sessions, closed loop, the mix on the page"),
        &[
            plot::Series {
                title: "rbmc, cipher suite 3".into(),
                latencies: &ours_all,
            },
            plot::Series {
                title: "ipmi_sim, cipher suite 3".into(),
                latencies: &theirs_all,
            },
            plot::Series {
                title: "rbmc, cipher suite 17".into(),
                latencies: &suite17.latencies,
            },
        ],
    );

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
         Machine: {}. rbmc runs as the image runs it: the multi-call `rbmc` executable, each \
         daemon started on its own under a real `dbus-daemon`, no dev launcher (the hwmon tree \
         its sensors read is written once and then holds still; powerd drives its simulated \
         board, there being no GPIO here). Load: {sessions} sessions, closed loop, {seconds} s a \
         run, mix Get Device ID 1 : Get Sensor Reading 4 : Get SDR 2 : Get SEL Entry 1 : Get \
         Chassis Status 1, cipher suite 3 (ipmi_sim has no suite 17); medians of {rounds} \
         alternating rounds. ipmi_sim serves the same SDR records, readings, thresholds and FRU, \
         captured from rbmc. Server CPU counts every rbmc process, the bus broker included.\n",
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
    let total = |samples: &[footprint::Sample]| {
        samples
            .iter()
            .fold((0, 0), |(r, p), s| (r + s.rss_kib, p + s.pss_kib))
    };
    let (idle_total, loaded_total) = (total(&idle), total(&loaded));
    let pss = idle_total.1 as f64 / twin_idle.1.max(1) as f64;
    let _ = writeln!(
        page,
        "| memory at idle, RSS / PSS KiB (rbmc: {} processes, the broker included) | {} / {} | {} / {} | {pss:.2} (PSS) | {} |",
        processes.len(),
        idle_total.0,
        idle_total.1,
        twin_idle.0,
        twin_idle.1,
        if idle_total.1 <= twin_idle.1 { "rbmc" } else { "ipmi_sim" }
    );
    let _ = writeln!(
        page,
        "| CPU at idle, % of one core, over {idle_seconds} s | {rbmc_idle_cpu:.3} | {twin_idle_cpu:.3} | | {} |",
        if rbmc_idle_cpu <= twin_idle_cpu { "rbmc" } else { "ipmi_sim" }
    );
    let rbmc_size = footprint::stripped_size(&rbmc_e2e::bin_dir().join("rbmc"));
    let twin_size = footprint::peer_size(twin_pid);
    let _ = writeln!(
        page,
        "| on flash, KiB (rbmc: the stripped multi-call executable; ipmi_sim: its executable and OpenIPMI libraries) | {rbmc_size} | {twin_size} | {:.2} | {} |",
        rbmc_size as f64 / twin_size.max(1) as f64,
        if rbmc_size <= twin_size { "rbmc" } else { "ipmi_sim" }
    );
    let ratio = |f: &dyn Fn(&Report) -> f64| figure(&ours, f) / figure(&theirs, f);
    let throughput = ratio(&|r| r.throughput());
    let cpu = ratio(&|r| us(r.cpu_per_request()));
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
            "p99 of Get Sensor Reading in one session, through the owner and back: under 500 µs",
            one_sensor.latency_per_mille(990) < Duration::from_micros(500),
            micros(one_sensor.latency_per_mille(990)),
        ),
        (
            "image configuration, all daemons idle: PSS at most 2x ipmi_sim's",
            pss <= 2.0,
            format!("{pss:.2}x"),
        ),
        (
            "image configuration, all daemons idle: under 0.2% of one core",
            rbmc_idle_cpu < 0.2,
            format!("{rbmc_idle_cpu:.3}%"),
        ),
        (
            "an SDR walk with readings under 100 ms (here the dev config's records, not 100 sensors)",
            walk_a < Duration::from_millis(100),
            micros(walk_a),
        ),
    ] {
        let verdict = if met { "met" } else { "missed" };
        let _ = writeln!(page, "- {goal}: {figure}, {verdict}.");
    }
    match &plot {
        Ok(()) => {
            let _ = writeln!(
                page,
                "\n![Latency distributions of rbmc and ipmi_sim under the same load](benchmarks-latency.png)"
            );
        }
        Err(err) => {
            let _ = writeln!(page, "\n(No plot in this run: {err}.)");
        }
    }
    let _ = writeln!(page, "\n## Where the time goes\n\n{PROFILE}");
    let _ = writeln!(
        page,
        "\n## More runs\n\nrbmc alone on cipher suite 17 (HMAC-SHA256, AES-128):\n"
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
        "\n## Footprint, process by process\n\nAt idle (before any load) and under load \
         (halfway through the first round); ipmi_sim is one process.\n"
    );
    let _ = writeln!(
        page,
        "| process | RSS KiB idle | PSS KiB idle | RSS KiB under load | PSS KiB under load | open fds |"
    );
    let _ = writeln!(page, "|---|---|---|---|---|---|");
    for (at_idle, busy) in idle.iter().zip(&loaded) {
        let _ = writeln!(
            page,
            "| {} | {} | {} | {} | {} | {} |",
            at_idle.name, at_idle.rss_kib, at_idle.pss_kib, busy.rss_kib, busy.pss_kib, at_idle.fds
        );
    }
    let fds: usize = idle.iter().map(|s| s.fds).sum();
    let _ = writeln!(
        page,
        "| **rbmc, all** | {} | {} | {} | {} | {fds} |",
        idle_total.0, idle_total.1, loaded_total.0, loaded_total.1
    );
    let twin_fds = std::fs::read_dir(format!("/proc/{twin_pid}/fd")).map_or(0, Iterator::count);
    let _ = writeln!(
        page,
        "| ipmi_sim | {} | {} | {} | {} | {twin_fds} |",
        twin_idle.0, twin_idle.1, twin_loaded.0, twin_loaded.1
    );
    print!("{page}");
    if let Err(err) = &plot {
        eprintln!("rbmc-bench compare: no plot: {err}");
    }
    if let Some(path) = write {
        std::fs::write(&path, &page).unwrap_or_else(|e| panic!("write {path}: {e}"));
        eprintln!(
            "rbmc-bench compare: wrote {path} and {}",
            plot_path.display()
        );
    }
    drop(twin);
    drop(image);
}
