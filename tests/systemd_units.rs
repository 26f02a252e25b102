//! The image's systemd units pass `systemd-analyze verify` (with ExecStart
//! pointed at the binaries this build made, since verify checks they
//! exist), template units verified through an instance; and the D-Bus
//! policy file is accepted by dbus-daemon.

use std::{path::PathBuf, process::Command};

use rbmc_e2e::{bin_dir, repo_root, run, text};

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbmc-units-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_unit_passes_systemd_analyze_verify() {
    let dir = scratch("verify");
    let bins = bin_dir();
    let mut units = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("systemd"))
        .unwrap()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".service") || name.ends_with(".socket") || name.ends_with(".target")) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())
            .unwrap()
            .replace("/usr/bin/rbmc-", &format!("{}/rbmc-", bins.display()));
        // Templates are verified as an instance, with the instance name
        // substituted (verify does not expand %i for a unit loaded from a
        // path).
        // The KCS template's instance is the escaped device name, as
        // `systemd-escape ipmi-kcs3` gives it; %I is the unescaped one.
        let (instance, unescaped) = if name.starts_with("rbmc-kcsd@") {
            ("ipmi\\x2dkcs3", "ipmi-kcs3")
        } else {
            ("eth0", "eth0")
        };
        let name = name.replace("@.", &format!("@{instance}."));
        let text = text
            .replace("rbmc-netipmid@%i", &format!("rbmc-netipmid@{instance}"))
            .replace("%i", instance)
            .replace("%I", unescaped);
        std::fs::write(dir.join(&name), text).unwrap();
        units.push(dir.join(&name));
    }
    assert!(units.len() >= 7, "found {} units", units.len());
    let mut args: Vec<String> = vec!["verify".into()];
    args.extend(units.iter().map(|u| u.display().to_string()));
    let out = Command::new("systemd-analyze")
        .args(&args)
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .expect("systemd-analyze (install systemd)");
    let shown = text(&out);
    // Units outside this repository (dbus.service, multi-user.target) may be
    // missing on a build machine; anything about our own units is an error.
    let ours: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("rbmc"))
        .filter(|l| !l.contains("dev-ipmi\\x2dkcs3.device"))
        .collect();
    assert!(ours.is_empty(), "systemd-analyze verify:\n{shown}");
}

#[test]
fn the_dbus_policy_is_accepted_by_dbus_daemon() {
    let dir = scratch("policy");
    let policy = repo_root().join("systemd/dbus-1/system.d/org.rbmc.conf");
    let socket = dir.join("bus.sock");
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/></policy>
  <include>{}</include>
</busconfig>
"#,
            socket.display(),
            policy.display()
        ),
    )
    .unwrap();
    // --print-address returns once the configuration has loaded.
    let mut child = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--print-address"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dbus-daemon (install dbus)");
    let mut address = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut address,
    )
    .unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        address.starts_with("unix:path="),
        "dbus-daemon refused the policy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = run("true", &[]);
}
