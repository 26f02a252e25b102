//! `rbmc-bench`: the cost of the D-Bus hop, measured end to end.
//!
//! Starts the suite (as the tests do), holds one RMCP+ session and times
//! sequential requests two ways:
//! - Get Device ID, which goes bridge → D-Bus (the direct route) → rbmc-sensord → back;
//! - Get Channel Authentication Capabilities inside the same session, which
//!   the bridge answers in-process: the same UDP, crypto and session path
//!   without the D-Bus hop.
//!
//! The difference is what routing over D-Bus costs. Build with `--release`
//! for figures worth recording: `cargo build --release --workspace &&
//! target/release/rbmc-bench --requests 3000`.
//!
//! `rbmc-bench sensors [N] [SECONDS]` measures instead what polling N
//! sensors at 1 Hz costs rbmc-sensord (see `sensors.rs`), and `rbmc-bench
//! sel` the SEL's durable add rate and `sel list` time (see `sel.rs`),
//! `rbmc-bench alert-storm [N]` that add rate while PEF sends an alert
//! for every record (see `alert_storm.rs`), and
//! `rbmc-bench sol [BYTES]` Serial over LAN's throughput and keystroke
//! latency (see `sol.rs`), and `rbmc-bench concurrent [SESSIONS]
//! [REQUESTS]` many sessions at once (see `concurrent.rs`). `rbmc-bench
//! load --target HOST:PORT ...` is the load generator for any RMCP+ BMC,
//! rbmc or a peer (see `load.rs`), and `rbmc-bench compare` runs rbmc
//! beside OpenIPMI's ipmi_sim, its twin, in one run (see `compare.rs`).
//! `rbmc-bench redfish [REQUESTS]` times Redfish GETs beside nginx serving
//! the same bodies (see `redfish.rs`). `rbmc-bench fan-step [CONFIG]` is the
//! cooling loop's step response on virtual time, with its plot (see
//! `fan_step.rs`).

use std::time::{Duration, Instant};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::Suite;

mod alert_storm;
mod compare;
mod concurrent;
mod fan_step;
mod footprint;
mod load;
mod peer;
mod plot;
mod redfish;
mod sel;
mod sensors;
mod sol;

fn main() {
    if std::env::args().nth(1).as_deref() == Some("compare") {
        let args: Vec<String> = std::env::args().skip(2).collect();
        compare::main(&args);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("fan-step") {
        let args: Vec<String> = std::env::args().skip(2).collect();
        fan_step::main(&args);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("load") {
        let args: Vec<String> = std::env::args().skip(2).collect();
        load::main(&args);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("concurrent") {
        let sessions = std::env::args()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or(16);
        let requests = std::env::args()
            .nth(3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        concurrent::run_bench(sessions, requests, CipherSuite::SUITE_17);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("sol") {
        let bytes = std::env::args()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1 << 20);
        sol::run_bench(bytes);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("redfish") {
        let requests = std::env::args()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        redfish::run_bench(requests);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("alert-storm") {
        let count = std::env::args()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        alert_storm::run_bench(count);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("sel") {
        sel::run_bench();
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("sensors") {
        let count = std::env::args()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or(500);
        let seconds = std::env::args()
            .nth(3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(30);
        sensors::run(count, seconds);
        return;
    }
    let mut requests = 3000usize;
    let mut suite_id = 17u8;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" => requests = args.next().and_then(|v| v.parse().ok()).unwrap_or(requests),
            "--cipher-suite" => suite_id = args.next().and_then(|v| v.parse().ok()).unwrap_or(17),
            _ => {
                eprintln!(
                    "usage: rbmc-bench [--requests N] [--cipher-suite 3|17] | rbmc-bench sensors [N] [SECONDS] | rbmc-bench sel | rbmc-bench fan-step [CONFIG] | rbmc-bench alert-storm [N] | rbmc-bench sol [BYTES] | rbmc-bench concurrent [SESSIONS] [REQUESTS] | rbmc-bench load --target HOST:PORT [...]"
                );
                std::process::exit(64);
            }
        }
    }
    let cipher = CipherSuite::by_id(suite_id).unwrap_or(CipherSuite::SUITE_17);
    let suite = Suite::start();
    let mut console = suite.console(cipher);

    let mut measure = |cmd: u8, data: &[u8]| -> Vec<Duration> {
        for _ in 0..100 {
            console.call(NetFn::APP, cmd, data).expect("warm-up call");
        }
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let started = Instant::now();
            let response = console.call(NetFn::APP, cmd, data).expect("call");
            times.push(started.elapsed());
            assert_eq!(response.completion.0, 0, "completion code");
        }
        times.sort();
        times
    };
    let routed = measure(0x01, &[]);
    let local = measure(0x38, &[0x8E, 0x04]);

    println!("rbmc-bench: {requests} sequential requests, cipher suite {suite_id}, one session");
    println!();
    println!("| path | p50 | p90 | p99 | mean |");
    println!("|---|---|---|---|---|");
    for (name, times) in [
        ("Get Device ID: bridge → D-Bus → rbmc-sensord", &routed),
        ("Get Channel Auth Caps: answered in the bridge", &local),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} |",
            micros(percentile(times, 50)),
            micros(percentile(times, 90)),
            micros(percentile(times, 99)),
            micros(times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(1)),
        );
    }
    println!();
    println!(
        "D-Bus hop (p50 difference): {}",
        micros(percentile(&routed, 50).saturating_sub(percentile(&local, 50)))
    );
}

fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    let index = (sorted.len() * pct / 100).min(sorted.len().saturating_sub(1));
    sorted.get(index).copied().unwrap_or_default()
}

fn micros(d: Duration) -> String {
    format!("{} µs", d.as_micros())
}
