//! A full disk never makes the suite lie (issue 16, point 5): with the
//! state directory on a small tmpfs filled to the last byte, every setting
//! an operator changes with ipmitool is refused with an error completion
//! code, reads back as it was, leaves no temporary file behind, and after
//! a restart with the space back, the suite reports what it reported
//! before. Needs root (to mount the tmpfs); skips with a message
//! otherwise.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use rbmc_e2e::{text, Suite};

/// A tmpfs mounted for the test, unmounted on drop.
struct SmallDisk {
    mount_point: PathBuf,
}

impl SmallDisk {
    fn mount(tag: &str, size: &str) -> Self {
        let mount_point =
            std::env::temp_dir().join(format!("rbmc-full-disk-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&mount_point).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&mount_point)
            .output()
            .expect("run mount");
        assert!(out.status.success(), "mount: {}", text(&out));
        Self { mount_point }
    }

    /// Writes a filler file until the file system has no byte left.
    fn fill(&self) -> PathBuf {
        let filler = self.mount_point.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(err) = file.write_all(&chunk) {
                assert_eq!(err.raw_os_error(), Some(28), "{err}");
                break;
            }
        }
        // The last partial chunk, byte by byte in larger steps.
        for size in [4096usize, 512, 1] {
            while file.write_all(&vec![0u8; size]).is_ok() {}
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.mount_point)
            .output();
        let _ = std::fs::remove_dir(&self.mount_point);
    }
}

/// Every `*.tmp` file under `dir`.
fn temporary_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(temporary_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "tmp") {
            found.push(path);
        }
    }
    found
}

fn ok(suite: &Suite, args: &[&str]) -> String {
    let out = suite.ipmitool(17, args);
    assert!(out.status.success(), "ipmitool {args:?}: {}", text(&out));
    text(&out)
}

/// What the operator reads back of each setting the test changes.
fn readings(suite: &Suite) -> Vec<String> {
    let line_of = |out: String, key: &str| {
        out.lines()
            .find(|line| line.contains(key))
            .unwrap_or_else(|| panic!("no {key:?} in {out}"))
            .to_owned()
    };
    vec![
        line_of(ok(suite, &["chassis", "status"]), "Power Restore Policy"),
        line_of(
            ok(suite, &["chassis", "bootparam", "get", "5"]),
            "Boot Device Selector",
        ),
        line_of(ok(suite, &["user", "list", "1"]), "3   "),
        ok(suite, &["sensor", "get", "PSU1 Temp"])
            .lines()
            .filter(|line| line.contains("Upper Critical"))
            .collect(),
        line_of(ok(suite, &["sol", "info", "1"]), "Retry Count"),
        // The SEL clock runs: compare the date only.
        ok(suite, &["sel", "time", "get"])
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    ]
}

/// Whether ipmitool reported the change refused for the reason: C4h,
/// "out of space".
fn refused(out: &Output) -> bool {
    text(out).contains("Out of space")
}

#[test]
fn under_a_full_disk_every_reply_matches_what_survives_a_restart() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root, to mount a small tmpfs as the state directory");
        return;
    }
    let disk = SmallDisk::mount("state", "64m");
    let suite = Suite::start_with_state_dir(disk.mount_point.clone(), &[]);
    // A user to change, made while there is room.
    ok(&suite, &["user", "set", "name", "3", "carol"]);
    ok(&suite, &["user", "set", "password", "3", "carols-pw-1"]);
    ok(&suite, &["user", "enable", "3"]);
    let before = readings(&suite);
    assert!(
        before.iter().all(|reading| !reading.is_empty()),
        "{before:?}"
    );

    let filler = disk.fill();
    let changes: [&[&str]; 7] = [
        &["chassis", "policy", "always-on"],
        &["chassis", "bootdev", "pxe"],
        &["user", "set", "password", "3", "carols-new-pw"],
        &["user", "set", "name", "3", "mallory"],
        &["sensor", "thresh", "PSU1 Temp", "ucr", "99"],
        &["sol", "set", "retry-count", "5", "1"],
        &["sel", "time", "set", "01/01/20 00:00:00"],
    ];
    let mut acknowledged = Vec::new();
    for change in changes {
        let out = suite.ipmitool(17, change);
        if !refused(&out) {
            acknowledged.push(format!("{change:?}: {}", text(&out)));
        }
    }
    assert!(
        acknowledged.is_empty(),
        "acknowledged on a full disk: {acknowledged:#?}"
    );
    // Memory is as it was: the same readings, the old password.
    assert_eq!(readings(&suite), before, "a refused change took effect");
    let test_old = suite.ipmitool(17, &["user", "test", "3", "16", "carols-pw-1"]);
    assert!(text(&test_old).contains("Success"), "{}", text(&test_old));
    assert_eq!(temporary_files(&disk.mount_point), Vec::<PathBuf>::new());

    // Space back and a restart: the suite reports what it did before.
    std::fs::remove_file(filler).unwrap();
    let suite = suite.restart();
    assert_eq!(readings(&suite), before, "after the restart");
    // And with room, a change is kept.
    ok(&suite, &["chassis", "policy", "always-on"]);
    let suite = suite.restart();
    assert!(readings(&suite)[0].contains("always-on"));
    drop(suite);
    drop(disk);
}
