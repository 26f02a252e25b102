//! The armv7 build on QEMU's emulated AST2600 (issue 17, step 1): the image
//! that `tests/ast2600/image.sh` assembles (the test command runs it first)
//! boots in `qemu-system-arm -M ast2600-evb` on Debian's armmp kernel and
//! the board's own device tree, and the static armv7 `rbmc` runs there.
//! A guest that fails shows its console's tail, never a hang: the boot is
//! bounded.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use rbmc_e2e::repo_root;

/// How long the boot and the checks may take (about 13 s here).
const BOOT_LIMIT: Duration = Duration::from_secs(120);

#[test]
fn the_armv7_build_runs_on_the_emulated_ast2600() {
    let image = repo_root().join("target/ast2600");
    for file in ["vmlinuz", "ast2600-evb.dtb", "initrd.gz"] {
        assert!(
            image.join(file).exists(),
            "{} is missing: run `bash tests/ast2600/image.sh` (tests/run.sh does)",
            image.join(file).display()
        );
    }
    let started = Instant::now();
    let mut qemu = Command::new("qemu-system-arm")
        .args(["-M", "ast2600-evb", "-m", "1G", "-nographic", "-no-reboot"])
        .arg("-kernel")
        .arg(image.join("vmlinuz"))
        .arg("-dtb")
        .arg(image.join("ast2600-evb.dtb"))
        .arg("-initrd")
        .arg(image.join("initrd.gz"))
        .args(["-append", "console=ttyS4,115200n8 rdinit=/init"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-arm (tests/ast2600/image.sh installs it)");
    let (lines_tx, lines) = mpsc::channel();
    let stdout = qemu.stdout.take().expect("the console");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut console = Vec::new();
    let finished = loop {
        let left = BOOT_LIMIT.saturating_sub(started.elapsed());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains("RBMC-GUEST: done");
                console.push(line);
                if done {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    let took = started.elapsed();
    let _ = qemu.kill();
    let _ = qemu.wait();
    let tail = console[console.len().saturating_sub(40)..].join("\n");
    assert!(
        finished,
        "the guest did not finish within {BOOT_LIMIT:?}:\n{tail}"
    );
    let ran = console
        .iter()
        .find(|line| line.contains("RBMC-GUEST: rbmc runs"))
        .unwrap_or_else(|| panic!("rbmc did not run in the guest:\n{tail}"));
    assert!(
        ran.contains("rbmc-netipmid") && ran.contains("rbmc-kcsd"),
        "{ran}"
    );
    assert!(
        console
            .iter()
            .any(|line| line.contains("RBMC-GUEST: up on armv7l")),
        "{tail}"
    );
    eprintln!("the emulated AST2600 booted and ran rbmc in {took:?}");
}
