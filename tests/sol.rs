//! Serial over LAN with ipmitool on a real pseudo-terminal: the simulated
//! host's console shows its login prompt, keystrokes reach it (it echoes
//! them), `~.` ends the session, a second console is refused (or takes
//! over when configured), and the SOL parameters and payload access are
//! set with ipmitool.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rbmc_e2e::{done_or, repo_root, text, wait_for, Suite, Terminal, PASSWORD, USER};

const PROMPT: &str = "rbmc-sim login: ";
const WAIT: Duration = Duration::from_secs(15);

fn ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

fn sol_terminal(suite: &Suite, user: &str, password: &str) -> Terminal {
    suite.sol_terminal(user, password, "ADMINISTRATOR")
}

#[test]
fn sol_activate_shows_the_console_and_carries_keystrokes() {
    let suite = Suite::start();
    let mut first = sol_terminal(&suite, USER, PASSWORD);
    first.wait_for("[SOL Session operational", WAIT);
    first.wait_for(PROMPT, WAIT);
    // Typed characters go to the host and come back as its echo.
    first.type_bytes(b"root");
    first.wait_for(&format!("{PROMPT}root"), WAIT);
    first.type_bytes(b"\r");
    first.wait_until("a second prompt", WAIT, |screen| {
        screen.matches(PROMPT).count() >= 2
    });

    // A second console, in another session, is refused: 80h.
    let second = suite.ipmitool(17, &["sol", "activate"]);
    assert!(!second.status.success());
    assert!(
        text(&second).contains("SOL payload already active on another session"),
        "{}",
        text(&second)
    );
    let status = ok(&suite, &["sol", "info", "1"]);
    assert!(
        status.contains("Enabled                         : true"),
        "{status}"
    );

    // ~. (after a newline) ends it, and deactivates the payload.
    first.type_bytes(b"\r~.");
    let exit = first.wait_exit(WAIT).expect("ipmitool left after ~.");
    assert!(exit.success(), "{exit:?}: {}", first.screen());
    let again = suite.ipmitool(17, &["sol", "deactivate"]);
    assert!(
        text(&again).contains("SOL payload already de-activated"),
        "{}",
        text(&again)
    );

    // sol deactivate from another session ends an active console.
    let third = sol_terminal(&suite, USER, PASSWORD);
    third.wait_for("[SOL Session operational", WAIT);
    ok(&suite, &["sol", "deactivate"]);
    let again = suite.ipmitool(17, &["sol", "deactivate"]);
    assert!(
        text(&again).contains("already de-activated"),
        "{}",
        text(&again)
    );
}

#[test]
fn sol_parameters_and_payload_access() {
    let suite = Suite::start();
    let info = ok(&suite, &["sol", "info", "1"]);
    for expected in [
        "Force Encryption                : true",
        "Privilege Level                 : USER",
        "Retry Count                     : 7",
        "Payload Channel                 : 1 (0x01)",
        &format!("Payload Port                    : {}", suite.port),
    ] {
        assert!(info.contains(expected), "{expected:?} in {info}");
    }
    ok(&suite, &["sol", "set", "retry-count", "5", "1"]);
    ok(
        &suite,
        &["sol", "set", "character-send-threshold", "64", "1"],
    );
    // SOL without encryption is refused: every payload here is encrypted.
    let plain = suite.ipmitool(17, &["sol", "set", "force-encryption", "false", "1"]);
    assert!(!plain.status.success(), "{}", text(&plain));
    // The payload port is read-only (82h).
    let port = suite.ipmitool(17, &["sol", "set", "payload-port", "700", "1"]);
    assert!(!port.status.success(), "{}", text(&port));

    // A user without SOL payload access cannot activate; with it, can.
    ok(&suite, &["user", "set", "name", "3", "bob"]);
    ok(&suite, &["user", "set", "password", "3", "bob-pw-1234"]);
    ok(&suite, &["user", "priv", "3", "2", "1"]);
    ok(&suite, &["user", "enable", "3"]);
    assert!(ok(&suite, &["sol", "payload", "status", "1", "3"]).contains("disabled"));
    let refused = suite.ipmitool_as("bob", "bob-pw-1234", 17, &["-L", "USER", "sol", "activate"]);
    assert!(
        text(&refused).contains("Insufficient privilege level"),
        "{}",
        text(&refused)
    );
    ok(&suite, &["sol", "payload", "enable", "1", "3"]);
    assert!(ok(&suite, &["sol", "payload", "status", "1", "3"]).contains("enabled"));

    // While the administrator's console is active, bob can neither take it
    // nor end it: only the same user or an Administrator may.
    let mut admin = sol_terminal(&suite, USER, PASSWORD);
    admin.wait_for(PROMPT, WAIT);
    let bob_ends = suite.ipmitool_as(
        "bob",
        "bob-pw-1234",
        17,
        &["-L", "USER", "sol", "deactivate"],
    );
    assert!(
        text(&bob_ends).contains("Insufficient privilege level"),
        "{}",
        text(&bob_ends)
    );
    let bob_takes = suite.ipmitool_as("bob", "bob-pw-1234", 17, &["-L", "USER", "sol", "activate"]);
    assert!(
        text(&bob_takes).contains("already active on another session"),
        "{}",
        text(&bob_takes)
    );
    admin.type_bytes(b"still-mine");
    admin.wait_for("still-mine", WAIT);
    admin.type_bytes(b"\r~.");
    assert!(admin.wait_exit(WAIT).is_some_and(|s| s.success()));

    // Disabled SOL: 81h, named by ipmitool.
    ok(&suite, &["sol", "set", "enabled", "false", "1"]);
    let disabled = suite.ipmitool(17, &["sol", "activate"]);
    assert!(
        text(&disabled).contains("SOL payload disabled"),
        "{}",
        text(&disabled)
    );

    // All of it survives a restart.
    let suite = suite.restart();
    let info = ok(&suite, &["sol", "info", "1"]);
    assert!(
        info.contains("Enabled                         : false"),
        "{info}"
    );
    assert!(
        info.contains("Retry Count                     : 5"),
        "{info}"
    );
    assert!(
        info.contains("Character Send Threshold        : 64"),
        "{info}"
    );
    ok(&suite, &["sol", "set", "enabled", "true", "1"]);
    let bob = suite.sol_terminal("bob", "bob-pw-1234", "USER");
    bob.wait_for(PROMPT, WAIT);
}

/// The suite with `[sol] takeover = true` (on a port below 32768, which
/// ipmiconsole needs), and the directory of its config.
fn suite_with_takeover(name: &str) -> (Suite, std::path::PathBuf) {
    let dev = std::fs::read_to_string(repo_root().join("configs/dev.toml")).unwrap();
    let config = dev.replace("takeover = false", "takeover = true");
    assert_ne!(config, dev, "dev.toml sets takeover");
    let dir = std::env::temp_dir().join(format!("rbmc-sol-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("takeover.toml");
    std::fs::write(&path, config).unwrap();
    let port = rbmc_e2e::free_low_udp_port();
    (
        Suite::start_on(port, &["--config", path.to_str().unwrap()]),
        dir,
    )
}

/// With `[sol] takeover = true`, a second console takes the host console
/// over and the first is told it was deactivated: ipmitool ignores the
/// notice's status bit, so once the notice is acknowledged its session is
/// closed, and its next keystroke ends it with "SOL session closed by BMC".
#[test]
fn takeover_when_configured() {
    let (suite, dir) = suite_with_takeover("takeover");

    let mut first = sol_terminal(&suite, USER, PASSWORD);
    first.wait_for(PROMPT, WAIT);
    let mut second = sol_terminal(&suite, USER, PASSWORD);
    second.wait_for("[SOL Session operational", WAIT);
    second.type_bytes(b"taken");
    second.wait_for("taken", WAIT);
    // The first console must not get the echo. Nothing is sent to it any
    // more that could mark "it would be here by now", so take the host's
    // next output on the second console instead: the BMC sends it after
    // the echo (and only once the second console acknowledged the echo),
    // so a stray copy to the first was sent earlier still.
    second.type_bytes(b"\r");
    second.wait_until("the prompt after \"taken\"", WAIT, |screen| {
        screen
            .split_once("taken")
            .is_some_and(|(_, after)| after.contains(PROMPT))
    });
    assert!(!first.screen().contains("taken"), "{}", first.screen());
    first.type_bytes(b"x");
    first.wait_for("SOL session closed by BMC", Duration::from_secs(30));
    assert!(first.wait_exit(WAIT).is_some());
    assert!(
        suite.log_text().contains("reason=\"SOL taken over\""),
        "{}",
        suite.log_text()
    );
    second.type_bytes(b"\r~.");
    assert!(second.wait_exit(WAIT).is_some_and(|s| s.success()));
    let _ = std::fs::remove_dir_all(dir);
}

/// FreeIPMI's ipmiconsole ends on the notice itself.
#[test]
fn ipmiconsole_is_told_its_console_was_taken() {
    let (suite, dir) = suite_with_takeover("stolen");
    let host = format!("127.0.0.1:{}", suite.port);
    let mut first = Terminal::spawn(
        "ipmiconsole",
        &["-h", &host, "-u", USER, "-p", PASSWORD, "-I", "17"],
    );
    first.wait_for("[SOL established]", WAIT);
    let mut second = sol_terminal(&suite, USER, PASSWORD);
    second.wait_for("[SOL Session operational", WAIT);
    first.wait_for("[SOL session stolen]", WAIT);
    assert!(first.wait_exit(WAIT).is_some());
    second.type_bytes(b"\r~.");
    assert!(second.wait_exit(WAIT).is_some_and(|s| s.success()));
    let _ = std::fs::remove_dir_all(dir);
}

/// ipmitool's `sol looptest` activates and at once deactivates, and takes
/// the first datagram after each request as its answer: host characters
/// (the simulated console prints its boot log to every new connection)
/// must not come between the two answers.
#[test]
fn sol_looptest_passes() {
    let suite = Suite::start();
    ok(&suite, &["chassis", "power", "on"]);
    let out = ok(&suite, &["sol", "looptest", "5"]);
    assert_eq!(out.matches("[SOL Session operational").count(), 5, "{out}");
    assert!(!out.contains("failed"), "{out}");
    // The console still works after the loop.
    let mut console = sol_terminal(&suite, USER, PASSWORD);
    console.wait_for(PROMPT, WAIT);
    console.type_bytes(b"\r~.");
    assert!(console.wait_exit(WAIT).is_some_and(|s| s.success()));
}

/// The console on a terminal device (a UART on a BMC; a pty here), opened
/// by rbmc-netipmid itself in raw mode: bytes go both ways unchanged.
#[test]
fn a_tty_console_carries_bytes_both_ways() {
    use std::{
        io::{Read, Write},
        os::fd::AsRawFd,
    };
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave_path = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .expect("the pty's path");
    let console = format!("tty:{}", slave_path.display());
    let suite = Suite::start_with(&["--sol-console", &console]);
    let mut uart = std::fs::File::from(pty.master);

    let mut terminal = sol_terminal(&suite, USER, PASSWORD);
    terminal.wait_for("[SOL Session operational", WAIT);
    // Host → SOL. Written again every 300 ms until it shows: netipmid may
    // not have opened the device yet, and bytes written before that are not
    // buffered by a pty without a reader.
    let mut written = None::<Instant>;
    wait_for("the UART's line on the SOL console", WAIT, || {
        if written.is_none_or(|at| at.elapsed() >= Duration::from_millis(300)) {
            uart.write_all(b"uart-says-hi\r\n").unwrap();
            written = Some(Instant::now());
        }
        let screen = terminal.screen();
        done_or(screen.contains("uart-says-hi"), screen)
    });
    // SOL → host: typed bytes arrive raw (no echo added, no CR mapping).
    let got = Arc::new(Mutex::new(Vec::new()));
    {
        let got = got.clone();
        let mut uart = uart.try_clone().expect("dup the pty");
        std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            // Ends (EIO) once netipmid and this test have closed the tty.
            while let Ok(n @ 1..) = uart.read(&mut buf) {
                got.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
    }
    terminal.type_bytes(b"typed\r");
    wait_for("the typed bytes on the UART", WAIT, || {
        let got = got.lock().unwrap().clone();
        assert!(got.len() < 4096, "{got:?}");
        done_or(got.ends_with(b"typed\r"), format!("{got:?}"))
    });
    terminal.type_bytes(b"\r~.");
    assert!(terminal.wait_exit(WAIT).is_some_and(|s| s.success()));
}
