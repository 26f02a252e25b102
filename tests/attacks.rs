//! The attacker suite (issue 16): the real daemons under attack from
//! loopback (127.0.0.0/8 only), each attack bounded in time. Each test
//! counts what was refused and checks that the suite still serves a real
//! client afterwards.
//!
//! - A handshake flood from 199 addresses, paced as the issue found it
//!   (200 Open Session Requests a second) and 25 times faster, while a
//!   console with a 30 ms round trip logs in ten times: at least nine
//!   logins succeed within 2 s each.
//! - A guesser collecting RAKP 2 codes from one address: slowed to its
//!   share and burst, every failure audited, at most ten logged in full.
//! - Session ID guessing: no answer to ten thousand guesses.
//! - A local user's D-Bus calls to change power and boot: refused by the
//!   daemon itself, and audited.
//!
//! Replayed, forged and malformed packets are in `hostile_input.rs`, the
//! full disk in `full_disk.rs`, the image's policy in `system_bus.rs`.

use std::{
    net::{IpAddr, Ipv4Addr, UdpSocket},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use ipmi_lan::console::Handshake;
use ipmi_wire::{crypto::CipherSuite, Privilege};
use rbmc_e2e::{random, text, Suite, PASSWORD, USER};

/// How fast the flood sends: this many Open Session Requests a second,
/// spread over the addresses.
#[derive(Clone, Copy, Debug)]
struct Pace(u32);

/// A flood of Open Session Requests from 127.0.0.2-200, each from a fresh
/// console session ID; nobody answers the BMC's responses. Stops on drop.
struct HandshakeFlood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    worker: Option<thread::JoinHandle<()>>,
}

impl HandshakeFlood {
    /// Sends `prefill` requests at once, then floods at `pace`.
    fn start(port: u16, prefill: u32, pace: Pace) -> Self {
        let sockets: Vec<UdpSocket> = (2..=200u8)
            .map(|host| {
                let socket = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, host), 0))
                    .expect("bind a loopback address");
                socket.connect(("127.0.0.1", port)).unwrap();
                socket.set_nonblocking(true).unwrap();
                socket
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let worker = {
            let (stop, sent) = (stop.clone(), sent.clone());
            thread::spawn(move || {
                let started = Instant::now();
                let mut count: u64 = 0;
                let send_one = |count: &mut u64| {
                    let socket = &sockets[usize::try_from(*count).unwrap_or(0) % sockets.len()];
                    let request = Handshake::new(
                        CipherSuite::SUITE_17,
                        USER.as_bytes(),
                        b"never sent",
                        Privilege::Administrator,
                        u32::from_le_bytes(random()) | 1,
                        [0; 16],
                    )
                    .open_session_request();
                    // A full send queue just drops this one, as a real
                    // flood's would be.
                    let _ = socket.send(&request);
                    // The BMC's answers are read and thrown away, so the
                    // sockets' queues stay open.
                    let mut buf = [0u8; 512];
                    while socket.recv(&mut buf).is_ok() {}
                    *count += 1;
                    sent.store(*count, Ordering::Relaxed);
                };
                for _ in 0..prefill {
                    send_one(&mut count);
                }
                while !stop.load(Ordering::Relaxed) {
                    let due = started
                        + Duration::from_secs_f64(
                            (count - u64::from(prefill)) as f64 / f64::from(pace.0),
                        );
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                    send_one(&mut count);
                }
            })
        };
        Self {
            stop,
            sent,
            worker: Some(worker),
        }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for HandshakeFlood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// One login by a console whose round trip is `rtt` (it waits that long
/// after each answer before sending its next message, as the BMC sees a
/// distant console), resending a message unanswered for 500 ms as ipmitool
/// does. `Ok` with the time it took, if within `budget`.
fn login_with_round_trip(port: u16, rtt: Duration, budget: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let socket = UdpSocket::bind((IpAddr::from([127, 0, 0, 1]), 0)).map_err(|e| e.to_string())?;
    socket.connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut handshake = Handshake::new(
        CipherSuite::SUITE_17,
        USER.as_bytes(),
        PASSWORD.as_bytes(),
        Privilege::Administrator,
        u32::from_le_bytes(random()) | 1,
        random(),
    );
    let exchange = |datagram: &[u8], accept: &dyn Fn(&[u8]) -> bool| -> Result<Vec<u8>, String> {
        thread::sleep(rtt);
        loop {
            if started.elapsed() > budget {
                return Err(format!("no answer within {budget:?}"));
            }
            socket.send(datagram).map_err(|e| e.to_string())?;
            let mut buf = [0u8; 1024];
            let until = Instant::now() + Duration::from_millis(500);
            while Instant::now() < until {
                if let Ok(len) = socket.recv(&mut buf) {
                    if accept(&buf[..len]) {
                        return Ok(buf[..len].to_vec());
                    }
                }
            }
        }
    };
    let open = exchange(&handshake.open_session_request(), &|_| true)?;
    let rakp1 = handshake
        .on_open_session_response(&open)
        .map_err(|e| format!("Open Session: {e}"))?;
    let rakp2 = exchange(&rakp1, &|_| true)?;
    let rakp3 = handshake
        .on_rakp2(&rakp2)
        .map_err(|e| format!("RAKP 2: {e}"))?;
    let rakp4 = exchange(&rakp3, &|_| true)?;
    handshake
        .on_rakp4(&rakp4)
        .map_err(|e| format!("RAKP 4: {e}"))?;
    let took = started.elapsed();
    if took > budget {
        return Err(format!("logged in after {took:?}"));
    }
    Ok(took)
}

/// Ten logins with a 30 ms round trip during `flood`; how many got in
/// within 2 s, and what the others met.
fn logins_during(suite: &Suite) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut succeeded = 0;
    for _ in 0..10 {
        match login_with_round_trip(
            suite.port,
            Duration::from_millis(30),
            Duration::from_secs(2),
        ) {
            Ok(_) => succeeded += 1,
            Err(err) => failures.push(err),
        }
    }
    (succeeded, failures)
}

/// Issue 16, point 4: Open Session needs no reply, so its source can be
/// spoofed, and 199 addresses flooding it used to crowd every login out
/// (0 of 10). The handshakes a console carries on are kept apart from
/// those that only opened: at least 9 of 10 logins succeed within 2 s,
/// paced as found (200 a second, after filling the table) and 25 times
/// faster. (Past what the bridge can read, about 10,000 a second in a
/// debug build, the kernel drops the console's datagrams with the flood's
/// before the bridge sees them: only filtering upstream, or the `allow`
/// list, which drops before any work, helps then.)
#[test]
fn a_many_address_handshake_flood_cannot_lock_out_a_login() {
    let suite = Suite::start();
    for pace in [Pace(200), Pace(5000)] {
        let flood = HandshakeFlood::start(suite.port, 1200, pace);
        // The flood is under way (the prefill sent) before the first login.
        let started = Instant::now();
        while flood.sent() < 1200 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the flood did not start"
            );
            thread::sleep(Duration::from_millis(10));
        }
        let (succeeded, failures) = logins_during(&suite);
        let sent = flood.sent();
        drop(flood);
        eprintln!("{pace:?}: {succeeded}/10 logins within 2 s, {sent} Open Session Requests flooded; failures: {failures:?}");
        assert!(
            succeeded >= 9,
            "{pace:?}: {succeeded}/10 logins within 2 s during the flood: {failures:?}"
        );
    }
    // And a real client after it.
    let out = suite.ipmitool(17, &["mc", "info"]);
    assert!(out.status.success(), "{}\n{}", text(&out), suite.log_text());
}

/// Runs busctl on the suite's bus as uid/gid 65534 (nobody).
fn busctl_as_nobody(suite: &Suite, args: &[&str]) -> std::process::Output {
    let address = format!("--address={}", suite.bus_address());
    let mut all = vec![
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "busctl",
        address.as_str(),
        "--no-pager",
    ];
    all.extend_from_slice(args);
    rbmc_e2e::run("setpriv", &all)
}

/// Issue 16, point 1: any local user could power the host on and change
/// boot and restore policy with `Properties.Set`. Now powerd asks the bus
/// daemon who called (`GetConnectionUnixUser`) and lets only root and its
/// own user change state, whatever the bus policy lets through; each
/// change asked for is in the audit trail with the caller's uid. Reading
/// stays open to everyone.
#[test]
fn an_unprivileged_local_user_cannot_change_power_or_boot() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root, to call as another user");
        return;
    }
    let suite = Suite::start();
    // The developer's bus socket is its user's; the image's system bus
    // lets every local user connect. Open this one the same way.
    let socket = suite.state_dir.join("bus.sock");
    std::fs::set_permissions(&socket, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let changes: [[&str; 6]; 5] = [
        [
            "xyz.openbmc_project.State.Host",
            "/xyz/openbmc_project/state/host0",
            "xyz.openbmc_project.State.Host",
            "RequestedHostTransition",
            "s",
            "xyz.openbmc_project.State.Host.Transition.On",
        ],
        [
            "xyz.openbmc_project.State.Chassis",
            "/xyz/openbmc_project/state/chassis0",
            "xyz.openbmc_project.State.Chassis",
            "RequestedPowerTransition",
            "s",
            "xyz.openbmc_project.State.Chassis.Transition.On",
        ],
        [
            "org.rbmc.Powerd",
            "/xyz/openbmc_project/control/host0/power_restore_policy",
            "xyz.openbmc_project.Control.Power.RestorePolicy",
            "PowerRestorePolicy",
            "s",
            "xyz.openbmc_project.Control.Power.RestorePolicy.Policy.AlwaysOn",
        ],
        [
            "org.rbmc.Powerd",
            "/xyz/openbmc_project/control/host0/boot",
            "xyz.openbmc_project.Control.Boot.Source",
            "BootSource",
            "s",
            "xyz.openbmc_project.Control.Boot.Source.Sources.Network",
        ],
        [
            "org.rbmc.Powerd",
            "/xyz/openbmc_project/control/host0/boot",
            "xyz.openbmc_project.Control.Boot.Mode",
            "BootMode",
            "s",
            "xyz.openbmc_project.Control.Boot.Mode.Modes.Setup",
        ],
    ];
    let read = |change: &[&str; 6]| {
        let [service, path, interface, property, _, _] = *change;
        suite.busctl(&["get-property", service, path, interface, property])
    };
    let before: Vec<String> = changes.iter().map(read).collect();
    let mut refused = 0;
    for change in &changes {
        let mut args = vec!["set-property"];
        args.extend_from_slice(change);
        let out = busctl_as_nobody(&suite, &args);
        assert!(!out.status.success(), "{change:?} was allowed");
        assert!(text(&out).contains("Access denied"), "{}", text(&out));
        refused += 1;
    }
    let after: Vec<String> = changes.iter().map(read).collect();
    assert_eq!(before, after, "a refused change took effect");
    // Reading is open to everyone.
    let [service, path, interface, _, _, _] = changes[0];
    let out = busctl_as_nobody(
        &suite,
        &["get-property", service, path, interface, "CurrentHostState"],
    );
    assert!(out.status.success(), "{}", text(&out));
    // Root may, and both are audited with the caller's uid.
    let mut args = vec!["set-property"];
    args.extend_from_slice(&changes[3]);
    suite.busctl(&args);
    assert_ne!(read(&changes[3]), before[3]);
    rbmc_e2e::wait_for("the audit records", Duration::from_secs(5), || {
        let trail = suite.audit_export();
        let by_nobody = trail.matches(r#""user":"uid 65534""#).count();
        let by_root_ok =
            trail.contains(r#""user":"uid 0","address":"","channel":0,"action":"set BootSource"#);
        rbmc_e2e::done_or(by_nobody == refused && by_root_ok, trail)
    });
}

/// Issue 16, point 6: a guesser collecting RAKP 2 codes (the offline
/// attack of CVE-2013-4786) from one address gets its 32 pending
/// handshakes and its burst of 16 failures, then nothing until its budget
/// refills; the log writes at most 10 of its failures in full (the audit
/// trail gets each), and the operator, from another address, logs in
/// throughout.
#[test]
fn a_guesser_is_slowed_and_its_failures_are_counted_not_flooded() {
    let suite = Suite::start();
    let socket = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 9), 0)).unwrap();
    socket.connect(("127.0.0.1", suite.port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let exchange = |datagram: &[u8]| -> Vec<u8> {
        socket.send(datagram).unwrap();
        let mut buf = [0u8; 1024];
        let len = socket.recv(&mut buf).expect("an answer");
        buf[..len].to_vec()
    };
    let (mut collected, mut refused) = (0u32, 0u32);
    let started = Instant::now();
    for attempt in 0..100u32 {
        let mut handshake = Handshake::new(
            CipherSuite::SUITE_17,
            USER.as_bytes(),
            b"a guess",
            Privilege::Administrator,
            0x6000_0000 + attempt,
            random(),
        );
        let open = exchange(&handshake.open_session_request());
        let Ok(rakp1) = handshake.on_open_session_response(&open) else {
            refused += 1;
            continue;
        };
        let rakp2 = exchange(&rakp1);
        // RAKP 2 arrived: its code is what an offline guesser keeps.
        assert!(handshake.on_rakp2(&rakp2).is_err(), "a guess was right");
        collected += 1;
    }
    // One more failure is allowed per 2 s the attack took.
    let refilled = u32::try_from(started.elapsed().as_secs() / 2).unwrap_or(u32::MAX);
    eprintln!("guesser: {collected} codes collected, {refused} Open Sessions refused");
    assert!(
        (48..=48 + refilled).contains(&collected),
        "{collected} collected: the share of handshakes (32) and the burst (16)"
    );
    assert_eq!(refused + collected, 100);

    // The operator is not charged for it.
    let out = suite.ipmitool(17, &["mc", "guid"]);
    assert!(out.status.success(), "{}", text(&out));

    // Those pushed out after RAKP 2 (16, and one per refill): each in the
    // audit trail, at most ten in the log one by one.
    let pushed_out = collected - 32;
    rbmc_e2e::wait_for("the audit records", Duration::from_secs(5), || {
        let trail = suite.audit_export();
        let abandoned = trail
            .matches(r#""address":"127.0.0.9","channel":1,"action":"login","result":"refused: the console gave up"#)
            .count();
        rbmc_e2e::done_or(
            u32::try_from(abandoned).unwrap_or(0) == pushed_out,
            format!("{abandoned} in {trail}"),
        )
    });
    let log = suite.log_text();
    let full_lines = log
        .lines()
        .filter(|line| line.contains("login abandoned") && line.contains("127.0.0.9"))
        .count();
    assert!(
        (1..=10).contains(&full_lines),
        "{full_lines} full lines for {pushed_out} abandoned logins"
    );
}

/// Session IDs are random 32-bit numbers: guessing one gets nothing. Ten
/// thousand encrypted-looking packets naming random sessions get no
/// answer, and a live session carries on.
#[test]
fn session_id_guessing_gets_no_answer() {
    let suite = Suite::start();
    let mut console = suite.console(CipherSuite::SUITE_17);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(("127.0.0.1", suite.port)).unwrap();
    let live = console.session_id();
    console.set_timeout(Duration::from_secs(2)).unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut sent = 0;
    for _batch in 0..20 {
        for _ in 0..500 {
            let guess = u32::from_le_bytes(random());
            if guess == live || guess == 0 {
                continue;
            }
            // RMCP, auth type RMCP+, an IPMI payload encrypted and
            // authenticated, the guessed session, a sequence, 32 bytes of
            // "ciphertext", a pad, next header and a 16-byte "integrity
            // code".
            let mut datagram = vec![0x06, 0x00, 0xFF, 0x07, 0x06, 0xC0];
            datagram.extend_from_slice(&guess.to_le_bytes());
            datagram.extend_from_slice(&1u32.to_le_bytes());
            datagram.extend_from_slice(&32u16.to_le_bytes());
            datagram.extend_from_slice(&random::<32>());
            datagram.extend_from_slice(&[0xFF, 0xFF, 0x02, 0x07]);
            datagram.extend_from_slice(&random::<16>());
            // A full queue drops this one, as the kernel would any flood's.
            let _ = socket.send(&datagram);
            sent += 1;
        }
        // The live session is answered (retrying, as a console does, if
        // the flood's datagrams filled the bridge's queue), and that answer
        // is the marker: whatever the batch drew came back before it.
        let answered = (0..5).any(|_| {
            console
                .call(ipmi_wire::NetFn::APP, 0x01, &[])
                .is_ok_and(|response| response.completion.0 == 0)
        });
        assert!(
            answered,
            "the live session got no answer after {sent} guesses"
        );
        let mut buf = [0u8; 512];
        assert!(
            socket.recv(&mut buf).is_err(),
            "a guessed session got an answer"
        );
    }
    eprintln!("session guessing: {sent} packets, 0 answers");
}
