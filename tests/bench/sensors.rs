//! `rbmc-bench sensors`: what polling costs rbmc-sensord.
//!
//! Generates a config with N simulated hwmon sensors (default 500) polled
//! at 1 Hz, spread over LUNs 0, 1 and 3 as IPMI needs beyond 255 sensors,
//! starts the suite with it, lets it settle, then reads the daemon's CPU
//! time and memory from /proc over a fixed window.

use std::{fmt::Write as _, time::Duration};

use rbmc_e2e::{repo_root, Suite};

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ; 100 on every
/// Linux architecture rbmc targets).
const USER_HZ: f64 = 100.0;

/// A config with the dev config's identity and `sensors` simulated
/// temperature sensors.
pub fn config(sensors: usize) -> String {
    let dev = std::fs::read_to_string(repo_root().join("configs/dev.toml")).expect("dev.toml");
    // Keep the identity, network, routing and users of the dev config.
    let base = dev.split("[[sensors]]").next().unwrap_or_default();
    let mut out = base.to_owned();
    for i in 0..sensors {
        let lun = [0u8, 1, 3][i / 250];
        let number = i % 250 + 1;
        let device = i / 10;
        let channel = i % 10 + 1;
        writeln!(
            out,
            r#"[[sensors]]
name = "BENCH{i}"
number = {number}
lun = {lun}
kind = "temperature"
entity-id = 3
range = [0.0, 127.0]
source = {{ type = "hwmon", name = "bench{device}", input = "temp{channel}" }}
thresholds = {{ unc = 85.0, ucr = 95.0 }}
hysteresis = 1.0
simulate = {{ nominal = 40.0, noise = 0.5, load-gain = 20.0 }}
"#
        )
        .expect("write to string");
    }
    out
}

fn proc_stat(pid: i32) -> (f64, u64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
    // After the command name: state is field 3, utime 14, stime 15.
    let ticks = fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (ticks, kib("VmRSS:"), kib("VmHWM:"), kib("RssAnon:"))
}

/// Runs the benchmark and prints a Markdown table.
pub fn run(sensors: usize, seconds: u64) {
    let path = std::env::temp_dir().join(format!("rbmc-bench-sensors-{}.toml", std::process::id()));
    std::fs::write(&path, config(sensors)).expect("write config");
    let suite = Suite::start_with(&["--config", path.to_str().expect("utf-8 path")]);
    let pid = suite.pid_of("rbmc-sensord");
    std::thread::sleep(Duration::from_secs(5));
    let (t0, _, _, _) = proc_stat(pid);
    std::thread::sleep(Duration::from_secs(seconds));
    let (t1, rss, hwm, anon) = proc_stat(pid);
    #[allow(clippy::cast_precision_loss)]
    let cpu = (t1 - t0) / USER_HZ / seconds as f64 * 100.0;
    let _ = std::fs::remove_file(&path);
    println!("rbmc-bench sensors: {sensors} hwmon sensors at 1 Hz, {seconds} s window");
    println!();
    println!(
        "| sensors | CPU (% of one core) | RSS | of which anonymous (heap, stacks) | peak RSS |"
    );
    println!("|---|---|---|---|---|");
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "| {sensors} | {cpu:.2} % | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
        mib(rss),
        mib(anon),
        mib(hwm)
    );
}
