//! `rbmc-bench concurrent [SESSIONS] [REQUESTS]`: many consoles at once.
//!
//! Opens SESSIONS RMCP+ sessions (16 by default), each on its own thread
//! and socket, and has each send REQUESTS sequential Get Device ID requests
//! (the routed path: bridge → D-Bus → rbmc-sensord), all at once. Reports
//! the requests per second over the whole run, the latency percentiles
//! over every request, and the errors (no answer in time, or a completion
//! code other than success).

use std::time::{Duration, Instant};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{Console, Suite, PASSWORD, USER};

use crate::{micros, percentile};

/// What one console saw.
struct Outcome {
    times: Vec<Duration>,
    errors: usize,
}

/// Runs the concurrent bench and prints its table.
pub fn run_bench(sessions: usize, requests: usize, cipher: CipherSuite) {
    // The dev config allows 8 sessions per user and 16 in all: make room
    // for every console plus the launcher's own check.
    let config = std::fs::read_to_string(rbmc_e2e::repo_root().join("configs/dev.toml"))
        .expect("configs/dev.toml");
    let limits = format!(
        "max-sessions = {}\nmax-sessions-per-user = {}\n",
        sessions + 4,
        sessions + 4
    );
    let config = config
        .lines()
        .filter(|line| {
            !line.starts_with("max-sessions =") && !line.starts_with("max-sessions-per-user =")
        })
        .map(|line| {
            if line == "[network]" {
                format!("[network]\n{limits}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config_path =
        std::env::temp_dir().join(format!("rbmc-bench-concurrent-{}.toml", std::process::id()));
    std::fs::write(&config_path, config).expect("write the bench config");
    let suite = Suite::start_with(&["--config", config_path.to_str().expect("utf-8 path")]);

    let consoles: Vec<Console> = (0..sessions)
        .map(|_| Console::login(suite.port, cipher, USER, PASSWORD).expect("console login"))
        .collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(sessions + 1));
    let workers: Vec<_> = consoles
        .into_iter()
        .map(|mut console| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let _ = console.call(NetFn::APP, 0x01, &[]);
                }
                barrier.wait();
                let mut outcome = Outcome {
                    times: Vec::with_capacity(requests),
                    errors: 0,
                };
                for _ in 0..requests {
                    let started = Instant::now();
                    match console.call(NetFn::APP, 0x01, &[]) {
                        Ok(response) if response.completion.0 == 0 => {
                            outcome.times.push(started.elapsed());
                        }
                        _ => outcome.errors += 1,
                    }
                }
                outcome
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let outcomes: Vec<Outcome> = workers
        .into_iter()
        .map(|worker| worker.join().expect("worker thread"))
        .collect();
    let elapsed = started.elapsed();
    let errors: usize = outcomes.iter().map(|o| o.errors).sum();
    let mut times: Vec<Duration> = outcomes.into_iter().flat_map(|o| o.times).collect();
    times.sort();
    let total = times.len() + errors;
    let per_second = total as f64 / elapsed.as_secs_f64();
    println!(
        "rbmc-bench concurrent: {sessions} sessions × {requests} Get Device ID, cipher suite {}",
        cipher.id
    );
    println!();
    let _ = std::fs::remove_file(&config_path);
    println!("| sessions | requests | requests/s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {sessions} | {total} | {per_second:.0} | {} | {} | {errors} |",
        micros(percentile(&times, 50)),
        micros(percentile(&times, 99)),
    );
}
