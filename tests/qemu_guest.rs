//! A real host: a minimal Linux guest under QEMU, whose KCS interface
//! (`isa-ipmi-kcs` on `ipmi-bmc-extern`) is linked to rbmc-kcsd, and whose
//! second serial port is the Serial over LAN console. Its init
//! loads the kernel's `ipmi_si` driver and runs `ipmitool -I open`; then
//! `ipmitool -I lanplus ... chassis power off` over the network powers the
//! VM off through the same link (rbmc-powerd's `qemu` backend).
//!
//! Needs qemu-system-x86, a Debian kernel (linux-image-amd64), busybox-static
//! and ipmitool: tests/run.sh installs them.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use rbmc_e2e::{cpio::Cpio, done_or, text, wait_for, Suite, PASSWORD, USER};

const INIT: &str = r#"#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
insmod /lib/ipmi/ipmi_msghandler.ko
insmod /lib/ipmi/ipmi_devintf.ko
insmod /lib/ipmi/ipmi_si.ko
# Until the driver has found the KCS interface, for at most 10 s.
n=0
while [ ! -e /dev/ipmi0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
for c in "mc info" "sdr list" "sel list" "chassis status" "user list 1" "channel info"; do
  echo "RBMC-GUEST: begin $c"
  ipmitool -I open $c 2>&1
  echo "RBMC-GUEST: end $c"
done
# The second serial port is the SOL console: a getty-like line every second
# (a pace, not a wait), and an open reader so the kernel's line discipline
# echoes what is typed.
cat /dev/ttyS1 > /dev/null &
( while true; do echo "RBMC-GUEST ttyS1 login:"; sleep 1; done ) > /dev/ttyS1 &
echo "RBMC-GUEST: waiting for power off"
# Not a wait for anything: the guest's own limit, should the power off never
# come (the test fails if this marker shows).
sleep 120
echo "RBMC-GUEST: timeout"
poweroff -f
"#;

fn kernel() -> (PathBuf, PathBuf) {
    let vmlinuz = std::fs::read_dir("/boot")
        .expect("/boot: install linux-image-amd64")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vmlinuz-")
        })
        .max()
        .expect("no /boot/vmlinuz-*: install linux-image-amd64");
    let version = vmlinuz.file_name().unwrap().to_string_lossy()["vmlinuz-".len()..].to_owned();
    let modules = PathBuf::from(format!("/lib/modules/{version}/kernel/drivers/char/ipmi"));
    (vmlinuz, modules)
}

/// The shared libraries a binary needs, from ldd.
fn libraries(binary: &str) -> Vec<String> {
    let out = Command::new("ldd").arg(binary).output().expect("ldd");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

fn initramfs(path: &Path, modules: &Path) {
    let mut cpio = Cpio::default();
    for dir in [
        "bin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "lib",
        "lib/ipmi",
        "usr",
        "usr/bin",
        "usr/share",
        "usr/share/misc",
    ] {
        cpio.dir(dir);
    }
    cpio.file("bin/busybox", Path::new("/bin/busybox"), true);
    for applet in ["sh", "mount", "insmod", "echo", "sleep", "poweroff", "cat"] {
        cpio.symlink(&format!("bin/{applet}"), "busybox");
    }
    cpio.file("usr/bin/ipmitool", Path::new("/usr/bin/ipmitool"), true);
    let mut dirs = std::collections::BTreeSet::new();
    let libs = libraries("/usr/bin/ipmitool");
    for lib in &libs {
        let parent = Path::new(lib)
            .parent()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches('/')
            .to_owned();
        let mut acc = String::new();
        for part in parent.split('/') {
            acc = if acc.is_empty() {
                part.to_owned()
            } else {
                format!("{acc}/{part}")
            };
            if dirs.insert(acc.clone()) && !["lib", "usr"].contains(&acc.as_str()) {
                cpio.dir(&acc);
            }
        }
    }
    for lib in &libs {
        let real = std::fs::canonicalize(lib).unwrap();
        cpio.file(lib.trim_start_matches('/'), &real, true);
    }
    cpio.file(
        "usr/share/misc/enterprise-numbers.txt",
        Path::new("/usr/share/misc/enterprise-numbers.txt"),
        false,
    );
    for module in ["ipmi_msghandler", "ipmi_devintf", "ipmi_si"] {
        cpio.file(
            &format!("lib/ipmi/{module}.ko"),
            &modules.join(format!("{module}.ko")),
            false,
        );
    }
    cpio.entry("init", 0o100_755, INIT.as_bytes());
    std::fs::write(path, cpio.finish()).unwrap();
}

struct Guest {
    child: Child,
    console: Arc<Mutex<String>>,
}

impl Guest {
    fn boot(suite: &Suite) -> Self {
        let (vmlinuz, modules) = kernel();
        let initrd = suite.state_dir.join("guest-initrd.cpio");
        initramfs(&initrd, &modules);
        let chardev = format!(
            "socket,id=ipmi0,host=127.0.0.1,port={},reconnect=10",
            suite.qemu_port
        );
        // ttyS0 on stdio (the markers this test reads), ttyS1 on the socket
        // rbmc-dev's SOL console waits for with --power-backend qemu.
        let sol = format!(
            "socket,id=sol,path={},server=on,wait=off",
            suite.state_dir.join("run/vm-console.sock").display()
        );
        let mut child = Command::new("qemu-system-x86_64")
            .args(["-m", "256", "-nographic", "-no-reboot"])
            .args([
                "-serial",
                "mon:stdio",
                "-chardev",
                &sol,
                "-serial",
                "chardev:sol",
            ])
            .arg("-kernel")
            .arg(&vmlinuz)
            .arg("-initrd")
            .arg(&initrd)
            .args([
                "-append",
                "console=ttyS0 panic=-1 quiet",
                "-chardev",
                &chardev,
            ])
            .args(["-device", "ipmi-bmc-extern,chardev=ipmi0,id=bmc0"])
            .args(["-device", "isa-ipmi-kcs,bmc=bmc0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qemu-system-x86_64 (install qemu-system-x86)");
        let console = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let console = console.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut c = console.lock().unwrap();
                    c.push_str(&line);
                    c.push('\n');
                }
            });
        }
        Self { child, console }
    }

    fn console(&self) -> String {
        self.console.lock().unwrap().clone()
    }

    fn wait_for(&self, marker: &str, limit: Duration) {
        wait_for(&format!("the guest printing {marker:?}"), limit, || {
            let console = self.console();
            done_or(console.contains(marker), console)
        });
    }

    /// What the guest printed for one command.
    fn section(&self, command: &str) -> String {
        let console = self.console();
        let begin = format!("RBMC-GUEST: begin {command}");
        let end = format!("RBMC-GUEST: end {command}");
        let start = console.find(&begin).expect("begin marker") + begin.len();
        let stop = console.find(&end).expect("end marker");
        console[start..stop].to_owned()
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_qemu_guest_reaches_the_suite_over_kcs_and_is_powered_off_over_lan() {
    let suite = Suite::start_with(&["--power-backend", "qemu"]);
    let mut guest = Guest::boot(&suite);
    guest.wait_for(
        "RBMC-GUEST: waiting for power off",
        Duration::from_secs(150),
    );

    let mc = guest.section("mc info");
    assert!(mc.contains("IPMI Version              : 2.0"), "{mc}");
    assert!(mc.contains("Manufacturer ID           : 32473"), "{mc}");
    let sdr = guest.section("sdr list");
    assert!(sdr.contains("CPU0 Temp"), "{sdr}");
    assert!(sdr.contains("degrees C"), "{sdr}");
    let sel = guest.section("sel list");
    assert!(!sel.contains("rror"), "{sel}");
    // The host reaches the users and channels through rbmc-kcsd, which
    // routes them to rbmc-netipmid on the bus.
    let users = guest.section("user list 1");
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("2 ") && l.contains("admin") && l.contains("ADMINISTRATOR")),
        "{users}"
    );
    // "channel info" asks about the present channel: the system interface.
    let channel = guest.section("channel info");
    assert!(
        channel.contains("Channel Medium Type   : System Interface"),
        "{channel}"
    );
    let chassis = guest.section("chassis status");
    // The VM is on the link, so to rbmc-powerd the host has power.
    assert!(chassis.contains("System Power         : on"), "{chassis}");

    // Serial over LAN shows the VM's second serial port, and what is typed
    // reaches it (the guest's tty echoes it back).
    let mut sol = suite.sol_terminal(USER, PASSWORD, "ADMINISTRATOR");
    sol.wait_for("RBMC-GUEST ttyS1 login:", Duration::from_secs(20));
    sol.type_bytes(b"typed-over-sol");
    sol.wait_for("typed-over-sol", Duration::from_secs(10));
    sol.type_bytes(b"\r~.");
    assert!(sol
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));

    // Over the network: power off stops the VM.
    let out = suite.ipmitool(17, &["chassis", "power", "off"]);
    assert!(out.status.success(), "{}", text(&out));
    wait_for("the VM stopped", Duration::from_secs(20), || {
        match guest.child.try_wait() {
            Ok(Some(_)) => Ok(()),
            _ => Err(guest.console.lock().unwrap().clone()),
        }
    });
    assert!(!guest.console().contains("RBMC-GUEST: timeout"));
    wait_for("power status off", Duration::from_secs(5), || {
        let out = text(&suite.ipmitool(17, &["chassis", "power", "status"]));
        done_or(out.contains("Chassis Power is off"), out)
    });
}
