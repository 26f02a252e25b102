//! `rbmc-bench sel`: how fast durable SEL entries are added (each one
//! fsynced before its reply), and how long `ipmitool sel list` takes on a
//! full 3,000-entry SEL.

use std::time::Instant;

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{run, Suite};

/// Runs the benchmark and prints a Markdown table.
pub fn run_bench() {
    let suite = Suite::start();
    let mut console = suite.console(CipherSuite::SUITE_17);
    let reserve = console.call(NetFn::STORAGE, 0x42, &[]).expect("reserve");
    let r = &reserve.data;
    console
        .call(NetFn::STORAGE, 0x47, &[r[0], r[1], b'C', b'L', b'R', 0xAA])
        .expect("clear");
    let record = [
        0, 0, 0x02, 0, 0, 0, 0, 0x41, 0, 0x04, 0x12, 0x01, 0x6F, 0x00, 0xFF, 0xFF,
    ];
    let started = Instant::now();
    for _ in 0..3000 {
        let response = console.call(NetFn::STORAGE, 0x44, &record).expect("add");
        assert_eq!(response.completion.0, 0, "add refused");
    }
    let elapsed = started.elapsed();
    let port = suite.port.to_string();
    let started = Instant::now();
    let out = run(
        "ipmitool",
        &[
            "-I",
            "lanplus",
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            rbmc_e2e::USER,
            "-P",
            rbmc_e2e::PASSWORD,
            "-C",
            "17",
            "sel",
            "list",
        ],
    );
    let list_time = started.elapsed();
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    println!("rbmc-bench sel: 3000 Add SEL Entry requests, one session, fsync per entry");
    println!();
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| durable adds (sequential, end to end over RMCP+) | {:.0} entries/s |",
        3000.0 / elapsed.as_secs_f64()
    );
    println!(
        "| `ipmitool sel list`, {lines} entries | {:.2} s |",
        list_time.as_secs_f64()
    );
}
