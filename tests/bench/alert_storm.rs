//! `rbmc-bench alert-storm [N]`: whether PEF's alerts hold up the SEL.
//! N durable Add SEL Entry requests (each fsynced before its reply) are
//! timed three ways in one run, against one suite:
//!
//! 1. every event filter disabled (the baseline: PEF sees each record and
//!    matches nothing);
//! 2. a catch-all filter alerting to an unacknowledged destination, a real
//!    snmptrapd: one PET per record;
//! 3. the same to an acknowledged destination that never acknowledges
//!    (1 s timeout, 7 retries): every alert holds a delivery slot for 8 s,
//!    so the alert queue fills and alerts are dropped and logged.
//!
//! It prints the add rate of each, the traps snmptrapd received and the
//! alerts rbmc-pefd dropped.

use std::time::{Duration, Instant};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{trap_receiver::TrapReceiver, Console, Suite};

fn config_with_trap_port(trap_port: u16) -> std::path::PathBuf {
    let dev = std::fs::read_to_string(rbmc_e2e::repo_root().join("configs/dev.toml"))
        .expect("configs/dev.toml");
    let text = dev.replace("trap-port = 16162", &format!("trap-port = {trap_port}"));
    let path = std::env::temp_dir().join(format!("rbmc-bench-storm-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("bench config");
    path
}

/// The suite and a session to it.
struct Bench {
    suite: Suite,
    console: Console,
}

impl Bench {
    /// One request that must succeed; if it goes unanswered, the suite's
    /// log is kept for a look.
    fn ok(&mut self, netfn: NetFn, cmd: u8, data: &[u8]) -> Vec<u8> {
        let response = match self.console.call(netfn, cmd, data) {
            Ok(response) => response,
            Err(err) => {
                let log = std::env::temp_dir().join("rbmc-bench-storm.log");
                std::fs::write(&log, self.suite.log_text()).ok();
                panic!(
                    "{netfn:?}/{cmd:#04x} unanswered: {err}; the suite's log: {}",
                    log.display()
                );
            }
        };
        if response.completion.0 != 0 {
            let log = std::env::temp_dir().join("rbmc-bench-storm.log");
            std::fs::write(&log, self.suite.log_text()).ok();
            panic!(
                "{netfn:?}/{cmd:#04x} refused: {:?}; the suite's log: {}",
                response.completion,
                log.display()
            );
        }
        response.data
    }

    fn clear_sel(&mut self) {
        let reserve = self.ok(NetFn::STORAGE, 0x42, &[]);
        self.ok(
            NetFn::STORAGE,
            0x47,
            &[reserve[0], reserve[1], b'C', b'L', b'R', 0xAA],
        );
    }

    /// Adds `count` records; entries per second.
    fn add_records(&mut self, count: usize) -> f64 {
        let record = [
            0, 0, 0x02, 0, 0, 0, 0, 0x41, 0, 0x04, 0x12, 0x01, 0x6F, 0x00, 0xFF, 0xFF,
        ];
        let started = Instant::now();
        for _ in 0..count {
            self.ok(NetFn::STORAGE, 0x44, &record);
        }
        count as f64 / started.elapsed().as_secs_f64()
    }

    /// Filter 1 (parameter 6): catch-all, alert, policy 1; enabled or not.
    fn catch_all(&mut self, enabled: bool) {
        let mut data = vec![
            0x06,
            0x01,
            if enabled { 0x80 } else { 0x00 },
            0x01,
            0x01,
            0x10,
        ];
        data.extend([0xFF; 7]);
        data.extend([0u8; 9]);
        self.ok(NetFn::SENSOR_EVENT, 0x12, &data);
    }

    /// Destination 1: 127.0.0.1, acknowledged or not (1 s, 7 retries).
    fn destination(&mut self, acknowledged: bool) {
        let kind = if acknowledged { 0x80 } else { 0x00 };
        self.ok(NetFn::TRANSPORT, 0x01, &[0x01, 18, 1, kind, 1, 7]);
        self.ok(
            NetFn::TRANSPORT,
            0x01,
            &[0x01, 19, 1, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        );
    }
}

/// Runs the benchmark and prints a Markdown table.
pub fn run_bench(count: usize) {
    let receiver = TrapReceiver::start();
    let config = config_with_trap_port(receiver.port);
    let suite = Suite::start_with(&["--config", config.to_str().expect("utf-8")]);
    let console = suite.console(CipherSuite::SUITE_17);
    let mut bench = Bench { suite, console };
    // Policy 1, entry 1: enabled, always send, channel 1, destination 1.
    bench.ok(NetFn::SENSOR_EVENT, 0x12, &[0x09, 0x01, 0x18, 0x11, 0x00]);
    bench.destination(false);

    bench.clear_sel();
    bench.catch_all(false);
    let baseline = bench.add_records(count);

    bench.clear_sel();
    bench.catch_all(true);
    let traps_before = receiver.traps().len();
    let unacknowledged = bench.add_records(count);
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.traps().len() - traps_before < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let traps = receiver.traps().len() - traps_before;

    bench.clear_sel();
    bench.destination(true);
    // rbmc-pefd reuses a destination it read up to 1 s ago.
    std::thread::sleep(Duration::from_millis(1500));
    let dropped_before = bench.suite.log_text().matches("PEF alert dropped").count();
    let acknowledged = bench.add_records(count);
    let dropped = bench.suite.log_text().matches("PEF alert dropped").count() - dropped_before;

    println!("rbmc-bench alert-storm: {count} Add SEL Entry requests per row, one session, fsync per entry");
    println!();
    println!("| PEF | SEL adds/s | vs. no alerts |");
    println!("|---|---|---|");
    println!("| no filter enabled | {baseline:.0} | 1.00 |");
    println!(
        "| a PET per record, unacknowledged ({traps} of {count} received by snmptrapd) | {unacknowledged:.0} | {:.2} |",
        unacknowledged / baseline
    );
    println!(
        "| a PET per record, acknowledged, never acknowledged ({dropped} alerts dropped and logged) | {acknowledged:.0} | {:.2} |",
        acknowledged / baseline
    );
}
