//! The image's users and D-Bus policy under a real system bus (issue 16,
//! points 1 and 3).
//!
//! The users come from `systemd/sysusers.d/rbmc.conf`, made by the real
//! `systemd-sysusers` into a copy of `/etc`. A real `dbus-daemon` runs with
//! Debian's own `system.conf` (its default policy: no method call unless a
//! rule allows it) and the shipped `org.rbmc.conf`, in a mount namespace
//! where that copy of `/etc/passwd` and `/etc/group` is the real one, so the
//! policy's user names resolve as on the image. The seven daemons run, each
//! as its own user, as the image's units run them (the multi-call `rbmc`,
//! simulated hardware at the usual seams). Then:
//!
//! - the bus loaded the policy without an unknown user, each daemon owns its
//!   names under its own uid, and the suite answers a login;
//! - as an unprivileged local user (uid 65534), every method of every rbmc
//!   object, and every writable property, is refused ("Access denied", by
//!   the bus policy or by the daemon's own check of the caller), except
//!   the reads everyone may make; reads still answer.
//!
//! What is not here: systemd as PID 1 starting the units (this machine's
//! tests run in a container); `systemd-analyze verify` checks the units in
//! `tests/systemd_units.rs`.
//!
//! Needs root, `systemd-sysusers`, `dbus-daemon`, `unshare` and `setpriv`;
//! skips with a message otherwise.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::{bin_dir, done_or, repo_root, run, text, wait_for, Console, PASSWORD, USER};

/// The daemons with their well-known names, in start order.
const DAEMONS: [(&str, &[&str]); 8] = [
    ("sensord", &["org.rbmc.Sensord"]),
    (
        "powerd",
        &[
            "org.rbmc.Powerd",
            "xyz.openbmc_project.State.Host",
            "xyz.openbmc_project.State.Chassis",
        ],
    ),
    (
        "seld",
        &["org.rbmc.Seld", "xyz.openbmc_project.Logging.IPMI"],
    ),
    (
        "userd",
        &["org.rbmc.Userd", "xyz.openbmc_project.User.Manager"],
    ),
    ("pefd", &["org.rbmc.Pefd"]),
    (
        "fand",
        &["org.rbmc.Fand", "xyz.openbmc_project.State.FanCtrl"],
    ),
    ("kcsd", &["org.rbmc.Kcsd"]),
    ("netipmid", &["org.rbmc.Netipmid"]),
];

/// Methods anyone may call: reading, introspection, the bus basics, and
/// the SEL's export (IPMI lets any user read the SEL).
/// `Properties.Set` is checked property by property instead.
const PUBLIC_METHODS: [(&str, &str); 9] = [
    ("org.freedesktop.DBus.Properties", "Set"),
    ("org.rbmc.Sel", "ExportJsonLines"),
    ("org.rbmc.Sel", "Newest"),
    ("org.freedesktop.DBus.Properties", "Get"),
    ("org.freedesktop.DBus.Properties", "GetAll"),
    ("org.freedesktop.DBus.Introspectable", "Introspect"),
    ("org.freedesktop.DBus.Peer", "Ping"),
    ("org.freedesktop.DBus.Peer", "GetMachineId"),
    ("org.freedesktop.DBus.ObjectManager", "GetManagedObjects"),
];

/// The bus, the daemons and their files; everything stopped on drop.
struct Image {
    dir: PathBuf,
    bus: Child,
    address: String,
    daemons: Vec<Child>,
    /// Each rbmc user's uid.
    uids: BTreeMap<String, u32>,
    target: SocketAddr,
}

impl Drop for Image {
    fn drop(&mut self) {
        for child in self.daemons.iter_mut().chain([&mut self.bus]) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn missing_tool() -> Option<&'static str> {
    [
        "systemd-sysusers",
        "dbus-daemon",
        "unshare",
        "setpriv",
        "busctl",
    ]
    .into_iter()
    .find(|tool| {
        !Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// `/etc/passwd` and `/etc/group` with the image's users added by
/// `systemd-sysusers`, under `root/etc`; the uid and gid of each.
fn make_users(root: &Path) -> BTreeMap<String, (u32, u32)> {
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    for file in ["passwd", "group", "shadow", "gshadow"] {
        let _ = std::fs::copy(Path::new("/etc").join(file), etc.join(file));
    }
    let sysusers = repo_root().join("systemd/sysusers.d/rbmc.conf");
    let out = run(
        "systemd-sysusers",
        &[
            &format!("--root={}", root.display()),
            sysusers.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "systemd-sysusers: {}", text(&out));
    std::fs::read_to_string(etc.join("passwd"))
        .unwrap()
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            let name = *fields.first()?;
            name.starts_with("rbmc-").then(|| {
                (
                    name.to_owned(),
                    (fields[2].parse().unwrap(), fields[3].parse().unwrap()),
                )
            })
        })
        .collect()
}

/// Debian's `system.conf` with its address, user and includes replaced:
/// listening on `socket`, including only the shipped policy.
fn bus_config(socket: &Path) -> String {
    let system = std::fs::read_to_string("/usr/share/dbus-1/system.conf")
        .expect("/usr/share/dbus-1/system.conf (the dbus package)");
    // Drop the elements that make it *the* system bus; keep the policy.
    let drop_element = |text: &str, tag: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find(&format!("<{tag}")) {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let end = match after.find("/>") {
                Some(self_closing) if !after[..self_closing].contains('>') => self_closing + 2,
                _ => {
                    let close = format!("</{tag}>");
                    after.find(&close).map_or(after.len(), |i| i + close.len())
                }
            };
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    };
    let mut config = system;
    // `includedir` before `include`, which is its prefix.
    for tag in [
        "user",
        "fork",
        "pidfile",
        "syslog",
        "listen",
        "includedir",
        "include",
        "servicehelper",
        "standard_system_servicedirs",
    ] {
        config = drop_element(&config, tag);
    }
    let policy = repo_root().join("systemd/dbus-1/system.d/org.rbmc.conf");
    config.replace(
        "</busconfig>",
        &format!(
            "  <listen>unix:path={}</listen>\n  <include>{}</include>\n</busconfig>",
            socket.display(),
            policy.display()
        ),
    )
}

impl Image {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("rbmc-system-bus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let users = make_users(&dir.join("root"));

        let socket = dir.join("system_bus_socket");
        let config = dir.join("system.conf");
        std::fs::write(&config, bus_config(&socket)).unwrap();
        let bus_log = std::fs::File::create(dir.join("dbus-daemon.log")).unwrap();
        let etc = dir.join("root/etc");
        let bus = Command::new("unshare")
            .args(["-m", "sh", "-c"])
            .arg(format!(
                "mount --bind {0}/passwd /etc/passwd && mount --bind {0}/group /etc/group \
                 && exec dbus-daemon --config-file={1} --nofork --nopidfile",
                etc.display(),
                config.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(bus_log)
            .spawn()
            .expect("unshare");
        let address = format!("unix:path={}", socket.display());
        let mut image = Self {
            dir: dir.clone(),
            bus,
            address: address.clone(),
            daemons: Vec::new(),
            uids: users
                .iter()
                .map(|(name, (uid, _))| (name.clone(), *uid))
                .collect(),
            target: ([127, 0, 0, 1], rbmc_e2e::free_udp_port()).into(),
        };
        wait_for("the system bus's socket", Duration::from_secs(10), || {
            done_or(socket.exists(), image.bus_log())
        });

        // What the daemons read: the dev config (its sensors, and the
        // admin user it seeds) and a simulated hwmon tree, readable by all.
        let config_path = dir.join("rbmc.toml");
        std::fs::copy(repo_root().join("configs/dev.toml"), &config_path).unwrap();
        let parsed = rbmc_config::Config::from_file(&config_path).unwrap();
        let sysfs = dir.join("sys");
        rbmc_sim::Simulator::new(&parsed, &sysfs).unwrap();
        let chmod = run("chmod", &["-R", "a+rX", dir.join("sys").to_str().unwrap()]);
        assert!(chmod.status.success());
        // The PWM outputs are rbmc-fand's to write, as 70-rbmc.rules makes
        // them on a BMC (there through the hwmon-pwm group).
        let (fand_uid, _) = users["rbmc-fand"];
        for entry in parsed
            .sensors
            .iter()
            .filter(|s| s.kind == rbmc_config::SensorKind::Pwm)
        {
            let find = run(
                "sh",
                &[
                    "-c",
                    &format!(
                        "ls {}/class/hwmon/*/{}",
                        sysfs.display(),
                        match &entry.source {
                            rbmc_config::Source::Hwmon { input, .. } => input.as_str(),
                            _ => unreachable!("a PWM output is hwmon"),
                        }
                    ),
                ],
            );
            for file in text(&find).split_whitespace() {
                let chown = run("chown", &[&fand_uid.to_string(), file]);
                assert!(chown.status.success(), "{}", text(&chown));
            }
        }

        let rbmc = bin_dir().join("rbmc");
        let qemu = format!("127.0.0.1:{}", rbmc_e2e::free_tcp_port());
        for (daemon, _) in DAEMONS {
            let user = format!("rbmc-{daemon}");
            let (uid, gid) = users[&user];
            // Its state directory, its own, as StateDirectory= makes it.
            let state = dir.join(&user);
            std::fs::create_dir_all(&state).unwrap();
            std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
            let chown = run("chown", &[&format!("{uid}:{gid}"), state.to_str().unwrap()]);
            assert!(chown.status.success(), "{}", text(&chown));
            let extra: Vec<String> = match daemon {
                "sensord" | "fand" => vec!["--sysfs-root".into(), sysfs.display().to_string()],
                "powerd" => vec!["--power-backend".into(), "simulated".into()],
                "kcsd" => vec!["--qemu-listen".into(), qemu.clone()],
                "netipmid" => vec![
                    "--listen".into(),
                    image.target.to_string(),
                    "--sol-console".into(),
                    format!("unix:{}", state.join("console.sock").display()),
                ],
                _ => vec![],
            };
            let log = std::fs::File::create(dir.join(format!("{user}.log"))).unwrap();
            let child = Command::new("setpriv")
                .args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={gid}"),
                    "--clear-groups",
                ])
                .arg(&rbmc)
                .arg(daemon)
                .arg("--config")
                .arg(&config_path)
                .arg("--state-dir")
                .arg(&state)
                .args(&extra)
                .env("DBUS_SYSTEM_BUS_ADDRESS", &address)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("setpriv");
            image.daemons.push(child);
        }
        image
    }

    fn bus_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dbus-daemon.log")).unwrap_or_default()
    }

    fn logs(&self) -> String {
        DAEMONS
            .iter()
            .map(|(daemon, _)| {
                let log = std::fs::read_to_string(self.dir.join(format!("rbmc-{daemon}.log")))
                    .unwrap_or_default();
                format!("--- rbmc-{daemon}\n{log}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// busctl on the system bus, as root, or as uid/gid 65534 when `nobody`.
    fn busctl(&self, nobody: bool, args: &[&str]) -> std::process::Output {
        let address = format!("--address={}", self.address);
        let mut all: Vec<&str> = Vec::new();
        if nobody {
            all.extend(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        }
        all.extend(["busctl", address.as_str(), "--no-pager"]);
        all.extend_from_slice(args);
        if nobody {
            run("setpriv", &all)
        } else {
            run(all[0], &all[1..])
        }
    }
}

/// One member of an interface, from `busctl introspect`.
#[derive(Debug)]
struct Member {
    path: String,
    interface: String,
    name: String,
    kind: String,
    signature: String,
    writable: bool,
}

fn members(image: &Image, service: &str) -> Vec<Member> {
    let tree = image.busctl(false, &["tree", "--list", service]);
    assert!(tree.status.success(), "{}", text(&tree));
    let mut found = Vec::new();
    for path in String::from_utf8_lossy(&tree.stdout).lines() {
        let out = image.busctl(false, &["introspect", service, path]);
        let mut interface = String::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [name, "interface", ..] => interface = (*name).to_owned(),
                [name, kind @ ("method" | "property"), signature, rest @ ..] => {
                    found.push(Member {
                        path: path.to_owned(),
                        interface: interface.clone(),
                        name: name.trim_start_matches('.').to_owned(),
                        kind: (*kind).to_owned(),
                        signature: (*signature).to_owned(),
                        writable: rest.contains(&"writable"),
                    })
                }
                _ => {}
            }
        }
    }
    found
}

/// A value of `signature` for busctl, or `None` for a type this test does
/// not spell.
fn sample_value(signature: &str) -> Option<&'static str> {
    match signature {
        "s" | "o" => Some("x"),
        "b" => Some("false"),
        "y" | "n" | "q" | "i" | "u" | "x" | "t" | "d" => Some("0"),
        "as" | "ay" | "au" => Some("0"),
        _ => None,
    }
}

#[test]
fn under_the_image_s_users_and_policy_no_local_user_changes_state() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root, to make users and run daemons as them");
        return;
    }
    if let Some(tool) = missing_tool() {
        eprintln!("skipped: {tool} is missing");
        return;
    }
    let image = Image::start();

    // Every daemon came up, owns its names as its own user, and the suite
    // answers a login through the bridge.
    let target = image.target;
    wait_for("a login to the suite", Duration::from_secs(30), || {
        let answered = Console::login_to(target, CipherSuite::SUITE_17, USER, PASSWORD)
            .and_then(|mut console| console.call(NetFn::APP, 0x01, &[]))
            .is_ok_and(|response| response.completion.0 == 0);
        done_or(answered, format!("{}\n{}", image.bus_log(), image.logs()))
    });
    let bus_log = image.bus_log();
    assert!(
        !bus_log.contains("Unknown username") && !bus_log.contains("Unknown group"),
        "the policy names users the image lacks: {bus_log}"
    );
    for (daemon, names) in DAEMONS {
        let uid = image.uids[&format!("rbmc-{daemon}")];
        for name in names {
            let out = image.busctl(
                false,
                &[
                    "call",
                    "org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus",
                    "GetConnectionUnixUser",
                    "s",
                    name,
                ],
            );
            assert_eq!(text(&out).trim(), format!("u {uid}"), "owner of {name}");
        }
    }

    // As nobody: every method but the public reads, and every writable
    // property, is refused.
    let mut allowed = Vec::new();
    let mut checked = 0;
    for (daemon, names) in DAEMONS {
        let service = names[0];
        for member in members(&image, service) {
            let public = PUBLIC_METHODS
                .iter()
                .any(|(i, m)| *i == member.interface && *m == member.name);
            let out = match member.kind.as_str() {
                "method" if !public => image.busctl(
                    true,
                    &[
                        "call",
                        service,
                        &member.path,
                        &member.interface,
                        &member.name,
                    ],
                ),
                "property" if member.writable => {
                    let Some(value) = sample_value(&member.signature) else {
                        allowed.push(format!("{member:?}: no sample value for the test"));
                        continue;
                    };
                    image.busctl(
                        true,
                        &[
                            "set-property",
                            service,
                            &member.path,
                            &member.interface,
                            &member.name,
                            &member.signature,
                            value,
                        ],
                    )
                }
                _ => continue,
            };
            checked += 1;
            if !text(&out).contains("Access denied") {
                allowed.push(format!(
                    "rbmc-{daemon} {} {}.{}: {}",
                    member.path,
                    member.interface,
                    member.name,
                    text(&out).trim()
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} members found");
    assert!(
        allowed.is_empty(),
        "an unprivileged caller got through ({} of {checked}):\n{}",
        allowed.len(),
        allowed.join("\n")
    );
    // Reads answer.
    let read = image.busctl(
        true,
        &[
            "get-property",
            "xyz.openbmc_project.State.Host",
            "/xyz/openbmc_project/state/host0",
            "xyz.openbmc_project.State.Host",
            "CurrentHostState",
        ],
    );
    assert!(read.status.success(), "{}", text(&read));
}
