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

/// The value of `key=` in a unit's text (the last one wins, as systemd
/// reads it).
fn unit_value(unit: &str, key: &str) -> Option<String> {
    unit.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
        .map(|v| v.trim().to_owned())
}

/// Under the image's units the seal key of the passwords is out of
/// rbmc-netipmid's reach: rbmc-userd runs as its own user with a 0700 state
/// directory holding `user.key` (0600), and netipmid's unit grants no path
/// into it. The kernel's answer is then shown with those modes: another
/// uid cannot read the key, its owner can.
#[test]
fn the_seal_key_is_out_of_netipmid_s_reach_under_the_image_s_units() {
    let read =
        |name: &str| std::fs::read_to_string(repo_root().join("systemd").join(name)).unwrap();
    let userd = read("rbmc-userd.service");
    let netipmid = read("rbmc-netipmid@.service");
    assert_eq!(unit_value(&userd, "User").as_deref(), Some("rbmc-userd"));
    assert_eq!(
        unit_value(&userd, "StateDirectory").as_deref(),
        Some("rbmc/userd")
    );
    assert_eq!(
        unit_value(&userd, "StateDirectoryMode").as_deref(),
        Some("0700")
    );
    assert_eq!(
        unit_value(&netipmid, "User").as_deref(),
        Some("rbmc-netipmid")
    );
    for key in [
        "ReadOnlyPaths",
        "ReadWritePaths",
        "BindPaths",
        "BindReadOnlyPaths",
        "SupplementaryGroups",
    ] {
        assert!(
            unit_value(&netipmid, key).is_none_or(|v| !v.contains("userd")),
            "netipmid's {key} reaches userd's state"
        );
    }
    // The image's config keeps the key in userd's state directory and
    // holds no password.
    let board = std::fs::read_to_string(repo_root().join("configs/ast2600-evb.toml")).unwrap();
    assert!(!board.contains("user-key-file") && !board.contains("password ="));

    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("not root: the permission check needs two uids and is skipped");
        return;
    }
    let dir = scratch("seal-key").join("userd");
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("user.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (userd_uid, netipmid_uid) = ("61001", "61002");
    let owner = run(
        "chown",
        &[
            "-R",
            &format!("{userd_uid}:{userd_uid}"),
            dir.to_str().unwrap(),
        ],
    );
    assert!(owner.status.success(), "{}", text(&owner));
    let cat_as = |uid: &str| {
        run(
            "setpriv",
            &[
                "--reuid",
                uid,
                "--regid",
                uid,
                "--clear-groups",
                "cat",
                key.to_str().unwrap(),
            ],
        )
    };
    let netipmid_read = cat_as(netipmid_uid);
    assert!(!netipmid_read.status.success());
    assert!(
        text(&netipmid_read).contains("Permission denied"),
        "{}",
        text(&netipmid_read)
    );
    assert!(
        cat_as(userd_uid).status.success(),
        "the owner reads its key"
    );
}

/// A direct route reaches the same commands as `execute`, so the bus
/// policy must grant `org.rbmc.Ipmi.DirectRoute` to exactly the users it
/// grants `xyz.openbmc_project.Ipmi.Server` to, and deny it by default.
#[test]
fn the_policy_grants_the_direct_route_with_execute() {
    let policy =
        std::fs::read_to_string(repo_root().join("systemd/dbus-1/system.d/org.rbmc.conf")).unwrap();
    let mut blocks = Vec::new();
    for block in policy.split("<policy ").skip(1) {
        let block = block.split("</policy>").next().unwrap();
        let head = block.lines().next().unwrap().trim().to_string();
        let rules = |iface: &str| -> Vec<&str> {
            block
                .lines()
                .map(str::trim)
                .filter(|line| line.contains(&format!("send_interface=\"{iface}\"")))
                .map(|line| line.split_whitespace().next().unwrap())
                .collect()
        };
        let execute = rules("xyz.openbmc_project.Ipmi.Server");
        let direct = rules("org.rbmc.Ipmi.DirectRoute");
        assert_eq!(
            execute, direct,
            "policy {head}: execute {execute:?}, direct route {direct:?}"
        );
        if !execute.is_empty() {
            blocks.push((head, execute));
        }
    }
    assert!(
        blocks
            .iter()
            .any(|(head, rules)| head.contains("default") && rules == &["<deny"]),
        "the default context must deny both: {blocks:?}"
    );
    for user in ["rbmc-netipmid", "rbmc-kcsd", "root"] {
        assert!(
            blocks
                .iter()
                .any(|(head, rules)| head.contains(user) && rules == &["<allow"]),
            "{user} must be allowed both: {blocks:?}"
        );
    }
}

/// Issue 16, point 3: the image's users are static (the bus resolves the
/// policy's user names at boot, before any unit runs), and defined twice:
/// `systemd/sysusers.d/rbmc.conf` and the Yocto recipe's useradd class.
/// Both name the same users and groups, every unit's `User=` is one of
/// them, no unit asks for a dynamic user, and every user the D-Bus policy
/// names exists.
#[test]
fn the_image_s_users_are_static_and_agree_everywhere() {
    let read = |path: &str| std::fs::read_to_string(repo_root().join(path)).unwrap();
    let sysusers = read("systemd/sysusers.d/rbmc.conf");
    let entries = |kind: &str| -> Vec<String> {
        let mut names: Vec<String> = sysusers
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                (fields.next() == Some(kind)).then(|| fields.next().unwrap().to_owned())
            })
            .collect();
        names.sort();
        names
    };
    let users = entries("u");
    let groups = entries("g");

    let recipe = read("yocto-layer/meta-rbmc/recipes-rbmc/rbmc/rbmc_git.bb");
    let mut recipe_users: Vec<String> = recipe
        .lines()
        .filter(|line| line.starts_with("USERADD_PARAM:"))
        .map(|line| {
            line.trim_end_matches('"')
                .split_whitespace()
                .last()
                .unwrap()
                .to_owned()
        })
        .collect();
    recipe_users.sort();
    assert_eq!(recipe_users, users, "the recipe's users");
    let groupadd = recipe
        .lines()
        .find(|line| line.starts_with("GROUPADD_PARAM:"))
        .unwrap();
    let mut recipe_groups: Vec<String> = groupadd
        .split_once('"')
        .unwrap()
        .1
        .trim_end_matches('"')
        .split(';')
        .map(|entry| entry.split_whitespace().last().unwrap().to_owned())
        .collect();
    recipe_groups.sort();
    assert_eq!(recipe_groups, groups, "the recipe's groups");

    for entry in std::fs::read_dir(repo_root().join("systemd")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "service") {
            continue;
        }
        let unit = std::fs::read_to_string(&path).unwrap();
        assert!(
            unit_value(&unit, "DynamicUser").is_none(),
            "{} asks for a dynamic user",
            path.display()
        );
        let user = unit_value(&unit, "User").unwrap();
        assert!(users.contains(&user), "{}: User={user}", path.display());
        if let Some(extra) = unit_value(&unit, "SupplementaryGroups") {
            for group in extra.split_whitespace() {
                assert!(groups.contains(&group.to_owned()), "{group}");
            }
        }
    }
    let policy = read("systemd/dbus-1/system.d/org.rbmc.conf");
    for named in policy.split("user=\"").skip(1) {
        let name = named.split('"').next().unwrap();
        assert!(
            name == "root" || name == "*" || users.contains(&name.to_owned()),
            "the policy names {name}, which no one makes"
        );
    }
}
