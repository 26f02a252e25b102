//! The load and soak run (issue 16): 40 concurrent RMCP+ sessions issue a
//! mix of commands for 60 s while a SOL session carries keystrokes one way
//! and host output the other. No request may fail, and afterwards no daemon
//! holds more file descriptors than before, nor (beyond a small margin for
//! the allocator) more memory. A warm-up round of the same load comes first,
//! so the baseline already holds what a first load allocates for good
//! (buffers, caches, lazily built tables).
//!
//! The figures it prints are in docs/HARDENING.md ("Load and soak").

use std::{
    io::{Read, Write},
    os::fd::AsRawFd,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{Console, Suite};

const SESSIONS: usize = 40;
const SECOND_USER: &str = "soak";
const SECOND_PASSWORD: &str = "soak-password-1";
const DAEMONS: [&str; 6] = [
    "rbmc-sensord",
    "rbmc-powerd",
    "rbmc-seld",
    "rbmc-userd",
    "rbmc-netipmid",
    "rbmc-kcsd",
];

/// Resident memory (KiB) and open descriptors of a process.
fn footprint(pid: i32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    (rss, fds)
}

/// Whether `file` has bytes to read within `timeout`.
fn readable(file: &std::fs::File, timeout: Duration) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
    let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    poll(&mut fds, PollTimeout::from(millis)).is_ok_and(|ready| ready > 0)
}

/// The mix: what a monitoring system and an operator ask most.
fn request(n: usize, sensor: u8) -> (NetFn, u8, Vec<u8>) {
    match n % 6 {
        0 => (NetFn::APP, 0x01, vec![]),                // Get Device ID
        1 => (NetFn::SENSOR_EVENT, 0x2D, vec![sensor]), // Get Sensor Reading
        2 => (NetFn::STORAGE, 0x20, vec![]),            // Get SDR Repository Info
        3 => (NetFn::STORAGE, 0x40, vec![]),            // Get SEL Info
        4 => (NetFn::CHASSIS, 0x01, vec![]),            // Get Chassis Status
        _ => (NetFn::APP, 0x3D, vec![0x00]),            // Get Session Info
    }
}

/// Counts of one round.
#[derive(Debug, Default)]
struct Round {
    requests: u64,
    errors: Vec<String>,
    keystrokes: u64,
    host_bytes: u64,
}

/// `SESSIONS` sessions with the mix, and a SOL session, for `length`.
fn round(suite: &Suite, uart: &mut std::fs::File, sensor: u8, length: Duration) -> Round {
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..SESSIONS)
        .map(|i| {
            let (port, stop, requests) = (suite.port, stop.clone(), requests.clone());
            thread::spawn(move || -> Vec<String> {
                // Half as admin, half as a second administrator, from four
                // consoles' addresses: a user holds at most 32 sessions and
                // an address 32 handshakes at once.
                let (user, password) = if i % 2 == 0 {
                    (rbmc_e2e::USER, rbmc_e2e::PASSWORD)
                } else {
                    (SECOND_USER, SECOND_PASSWORD)
                };
                let host = u8::try_from(2 + i % 4).unwrap_or(2);
                let source = std::net::IpAddr::from([127, 0, 0, host]);
                let mut console = match Console::login_from(
                    source,
                    port,
                    CipherSuite::SUITE_17,
                    user,
                    password,
                ) {
                    Ok(console) => console,
                    Err(err) => return vec![format!("session {i}: login: {err}")],
                };
                let mut errors = Vec::new();
                let mut n = i;
                while !stop.load(Ordering::Relaxed) {
                    let (netfn, cmd, data) = request(n, sensor);
                    match console.call(netfn, cmd, &data) {
                        Ok(response) if response.completion.0 == 0 => {}
                        Ok(response) => errors.push(format!(
                            "session {i}: {netfn:?} {cmd:02X}h: {}",
                            response.completion
                        )),
                        Err(err) => {
                            errors.push(format!("session {i}: {netfn:?} {cmd:02X}h: {err}"))
                        }
                    }
                    requests.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                    // A little think time: 40 busy consoles, not a flood.
                    thread::sleep(Duration::from_millis(10));
                }
                // Close Session, as a console does when it is done.
                let id = console.session_id().to_le_bytes();
                let _ = console.call(NetFn::APP, 0x3C, &id);
                errors
            })
        })
        .collect();

    // The SOL session, on this thread: keystrokes in, host output out.
    let mut result = Round::default();
    let mut sol = suite.console(CipherSuite::SUITE_17);
    let activated = sol
        .call(NetFn::APP, 0x48, &[1, 1, 0xC6, 0, 0, 0])
        .expect("activate SOL");
    assert_eq!(activated.completion.0, 0, "SOL activation refused");
    let started = Instant::now();
    let mut sequence = 0u8;
    let mut last_host_sequence = 0u8;
    let mut byte = [0u8; 1];
    while started.elapsed() < length {
        // A keystroke, which must come out of the host's UART. Loopback
        // UDP can drop a datagram under this load: like a console, the
        // test sends an unanswered packet again (same sequence number),
        // and never waits on the UART without a limit.
        sequence = sequence % 15 + 1;
        let mut outcome = None;
        for _ in 0..4 {
            sol.send_sol(&[sequence, 0, 0, 0, b'k']).expect("keystroke");
            if readable(uart, Duration::from_secs(1)) {
                outcome = Some(uart.read(&mut byte));
                break;
            }
        }
        match outcome {
            Some(Ok(1)) if byte[0] == b'k' => result.keystrokes += 1,
            other => result
                .errors
                .push(format!("keystroke {sequence}: {other:?}")),
        }
        // A line of host output, which must reach the console (ACKed).
        uart.write_all(b"host line\r\n").unwrap();
        let mut got = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        while got < 11 && Instant::now() < deadline {
            let Some(packet) = sol.recv_sol(Duration::from_millis(500)) else {
                continue;
            };
            let (host_sequence, data) = (packet[0] & 0x0F, &packet[4..]);
            if host_sequence == 0 {
                continue; // the BMC's ACK of a keystroke
            }
            let count = u8::try_from(data.len()).unwrap_or(u8::MAX);
            sol.send_sol(&[0, host_sequence, count, 0]).expect("ack");
            if host_sequence != last_host_sequence {
                last_host_sequence = host_sequence;
                got += data.len();
            }
        }
        if got == 11 {
            result.host_bytes += 11;
        } else {
            result
                .errors
                .push(format!("host line: {got} of 11 bytes arrived"));
        }
        thread::sleep(Duration::from_millis(50));
    }
    let _ = sol.call(NetFn::APP, 0x49, &[1, 1, 0, 0, 0, 0]); // Deactivate Payload
    let id = sol.session_id().to_le_bytes();
    let _ = sol.call(NetFn::APP, 0x3C, &id);

    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        result
            .errors
            .extend(worker.join().expect("a session thread"));
    }
    result.requests = requests.load(Ordering::Relaxed);
    result
}

#[test]
fn forty_sessions_and_sol_for_a_minute_fail_nothing_and_leak_nothing() {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .expect("the pty's path");
    let console_arg = format!("tty:{}", slave.display());
    let suite = Suite::start_with(&["--sol-console", &console_arg]);
    let mut uart = std::fs::File::from(pty.master);
    let sensor = rbmc_e2e::dev_config().sensors[0].number.0;
    for args in [
        &["user", "set", "name", "3", SECOND_USER][..],
        &["user", "set", "password", "3", SECOND_PASSWORD],
        &["user", "priv", "3", "4", "1"],
        &["user", "enable", "3"],
    ] {
        let out = suite.ipmitool(17, args);
        assert!(out.status.success(), "{args:?}: {}", rbmc_e2e::text(&out));
    }

    let warm_up = round(&suite, &mut uart, sensor, Duration::from_secs(10));
    assert!(warm_up.errors.is_empty(), "warm-up: {:?}", warm_up.errors);
    let measure = || -> Vec<(u64, usize)> {
        // Sessions closed and answers sent: let the daemons settle.
        thread::sleep(Duration::from_secs(2));
        DAEMONS
            .iter()
            .map(|daemon| footprint(suite.pid_of(daemon)))
            .collect()
    };
    let before = measure();
    let started = Instant::now();
    let soak = round(&suite, &mut uart, sensor, Duration::from_secs(60));
    let took = started.elapsed();
    let after = measure();

    #[allow(clippy::cast_precision_loss)]
    let rate = soak.requests as f64 / took.as_secs_f64();
    println!(
        "soak: {SESSIONS} sessions and SOL for {:.0} s: {} requests ({rate:.0}/s), {} errors, \
         {} keystrokes and {} host bytes over SOL",
        took.as_secs_f64(),
        soak.requests,
        soak.errors.len(),
        soak.keystrokes,
        soak.host_bytes
    );
    println!("| daemon | RSS before | RSS after | fds before | fds after |");
    println!("|---|---|---|---|---|");
    for (daemon, ((rss0, fds0), (rss1, fds1))) in DAEMONS.iter().zip(before.iter().zip(&after)) {
        println!("| {daemon} | {rss0} KiB | {rss1} KiB | {fds0} | {fds1} |");
    }
    assert!(soak.errors.is_empty(), "{:#?}", soak.errors);
    assert!(soak.requests > 10_000, "only {} requests", soak.requests);
    assert!(soak.keystrokes > 100 && soak.host_bytes > 1000);
    for (daemon, ((rss0, fds0), (rss1, fds1))) in DAEMONS.iter().zip(before.iter().zip(&after)) {
        assert!(
            fds1 <= fds0,
            "{daemon}: {fds0} descriptors before, {fds1} after"
        );
        // The allocator may keep a little more after a minute of churn;
        // a leak of a session's or a request's worth each time would not
        // fit in this.
        assert!(
            *rss1 <= rss0 + rss0 / 20 + 512,
            "{daemon}: {rss0} KiB before, {rss1} KiB after"
        );
    }
}
