//! A private network for the LAN settings tests: a network namespace with
//! a veth pair (`bmc0`, the BMC's interface, and `bmc0p`, its wire), and a
//! real systemd-networkd managing it, on a private D-Bus bus, in a private
//! mount namespace whose `/etc/systemd/network` is a directory of the
//! test's. Nothing outside the namespace changes: networkd's state,
//! configuration and bus are the test's own, and dropping the fixture
//! stops everything and deletes the namespace.
//!
//! Needs root, `ip`, `unshare`, `dbus-daemon`, systemd-networkd and its
//! `systemd-network` user (Debian's `systemd` package), as `tests/run.sh`
//! installs them.

use std::{
    path::PathBuf,
    process::{Command, Output, Stdio},
    time::Duration,
};

use crate::{done_or, text, wait_for};

/// The BMC's interface inside the namespace.
pub const INTERFACE: &str = "bmc0";
/// Its veth peer, where the test's DHCP server answers.
pub const PEER: &str = "bmc0p";
/// The DHCP server's address on the peer.
pub const DHCP_SERVER: &str = "10.9.0.1";

/// The namespace, its bus and its networkd.
pub struct PrivateNetwork {
    /// The namespace's name (`ip netns`).
    pub name: String,
    /// The state directory: networkd's configuration (`etc-network`), its
    /// bus socket and its log.
    pub dir: PathBuf,
    dbus: u32,
    networkd: u32,
}

fn sh(script: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .output()
        .expect("run sh")
}

fn ok(script: &str) -> String {
    let out = sh(script);
    assert!(out.status.success(), "{script}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl PrivateNetwork {
    /// Sets it all up and waits until networkd owns its name. The peer
    /// runs a DHCP server (networkd's own) on 10.9.0.0/24.
    pub fn start() -> Self {
        assert!(
            nix::unistd::Uid::effective().is_root(),
            "the LAN settings tests need root (network namespaces)"
        );
        let name = format!("rbmc-{}-{}", std::process::id(), crate::free_udp_port());
        let dir = std::env::temp_dir().join(format!("{name}-net"));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["etc-network", "run-network", "lib-network"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        ok(&format!(
            "chmod 0755 {0} {0}/etc-network {0}/run-network",
            dir.display()
        ));
        std::fs::write(
            dir.join(format!("etc-network/05-{PEER}.network")),
            format!(
                "[Match]\nName={PEER}\n\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n\
                 Address={DHCP_SERVER}/24\nDHCPServer=yes\n\n[DHCPServer]\nPoolOffset=100\n\
                 PoolSize=20\nEmitRouter=yes\n"
            ),
        )
        .unwrap();
        ok(&format!("chmod 0644 {}/etc-network/*", dir.display()));
        ok(&format!(
            "ip netns add {name} && ip -n {name} link add {INTERFACE} type veth peer name {PEER} \
             && ip -n {name} link set lo up && ip -n {name} link set {PEER} up"
        ));
        let (dbus, bus) = crate::start_private_dbus_daemon(&dir).unwrap_or_else(|e| panic!("{e}"));
        let dbus = dbus.id();
        // networkd in the namespace, in a mount namespace of its own: a
        // read-only /sys (so it does not wait for udev), its own
        // /run/systemd, and the test's configuration directories.
        let networkd_pid = dir.join("networkd.pid");
        ok(&format!(
            "ip netns exec {name} unshare --mount --propagation private sh -eu -c '\
             umount /sys 2>/dev/null || true; mount -t sysfs -o ro sysfs /sys; \
             mount -t tmpfs -o mode=0755 tmpfs /run/systemd; mkdir -p /run/systemd/network; \
             mount --bind {d}/run-network /run/systemd/network; \
             mount --bind {d}/etc-network /etc/systemd/network; \
             mount --bind {d}/lib-network /usr/lib/systemd/network; \
             unset NOTIFY_SOCKET; \
             DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus} SYSTEMD_LOG_TARGET=console \
             setsid /lib/systemd/systemd-networkd </dev/null >{d}/networkd.log 2>&1 & \
             echo $! > {pid}'",
            d = dir.display(),
            bus = bus.display(),
            pid = networkd_pid.display(),
        ));
        let networkd: u32 = std::fs::read_to_string(&networkd_pid)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let network = Self {
            name,
            dir,
            dbus,
            networkd,
        };
        wait_for("networkd on its bus", Duration::from_secs(10), || {
            let owned = network.busctl(&[
                "call",
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "NameHasOwner",
                "s",
                "org.freedesktop.network1",
            ]);
            done_or(owned.contains("true"), network.log())
        });
        network
    }

    /// The bus address networkd is on.
    pub fn bus_address(&self) -> String {
        format!("unix:path={}", self.dir.join("bus.sock").display())
    }

    /// networkd's configuration directory (its `/etc/systemd/network`).
    pub fn config_dir(&self) -> PathBuf {
        self.dir.join("etc-network")
    }

    /// What networkd logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("networkd.log")).unwrap_or_default()
    }

    /// `busctl` on networkd's bus.
    pub fn busctl(&self, args: &[&str]) -> String {
        let out = Command::new("busctl")
            .arg(format!("--address={}", self.bus_address()))
            .args(args)
            .output()
            .expect("busctl");
        text(&out)
    }

    /// `ip ARGS` inside the namespace.
    pub fn ip(&self, args: &str) -> String {
        ok(&format!("ip -n {} {args}", self.name))
    }

    /// Whether the kernel in use can make 802.1q VLAN interfaces.
    pub fn kernel_has_vlans(&self) -> bool {
        let made = sh(&format!(
            "ip -n {n} link add link {PEER} name vlanprobe type vlan id 5 && ip -n {n} link del vlanprobe",
            n = self.name
        ));
        made.status.success()
    }

    /// The dev config with `[lan]` naming this namespace's interface and
    /// networkd, written to a file for `rbmc-dev --config`.
    pub fn suite_config(&self) -> PathBuf {
        let dev = std::fs::read_to_string(crate::repo_root().join("configs/dev.toml")).unwrap();
        let start = dev.find("[lan]").unwrap();
        let end = start + dev[start..].find("\n\n").unwrap();
        let lan = format!(
            "[lan]\ninterface = \"{INTERFACE}\"\n\n[lan.networkd]\ndirectory = \"{}\"\nbus = \"{}\"\n",
            self.config_dir().display(),
            self.bus_address()
        );
        let path = self.dir.join("rbmc.toml");
        std::fs::write(&path, format!("{}{lan}{}", &dev[..start], &dev[end..])).unwrap();
        path
    }
}

impl Drop for PrivateNetwork {
    fn drop(&mut self) {
        for pid in [self.networkd, self.dbus] {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(0));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
        let _ = sh(&format!(
            "for p in $(ip netns pids {n}); do kill -KILL $p; done; ip netns del {n}",
            n = self.name
        ));
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
