//! The KCS bridge's QEMU link, driven by a client that speaks OpenIPMI's VM
//! protocol as QEMU's `ipmi-bmc-extern` does. (Booting a real guest under
//! QEMU is the next step of this issue; this test proves the link, the
//! routing with the system interface's context and the system-interface
//! commands, and that malformed frames never stop the daemon.)

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use ipmi_vm::{encode_message, op, Decoder, Frame};
use rbmc_contracts::simulator::SimulatedHostProxy;
use rbmc_e2e::{done_or, wait_for, Suite};

struct Vm {
    stream: TcpStream,
    decoder: Decoder,
    seq: u8,
}

impl Vm {
    fn connect(suite: &Suite) -> Self {
        let stream = wait_for("the QEMU link", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", suite.qemu_port))
        });
        stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let mut vm = Self {
            stream,
            decoder: Decoder::new(),
            seq: 0,
        };
        // The BMC starts by announcing the protocol version.
        assert_eq!(vm.next_frame(), Some(Frame::Command(vec![op::VERSION, 1])));
        vm
    }

    fn next_frame(&mut self) -> Option<Frame> {
        let mut buf = [0u8; 512];
        loop {
            let n = self.stream.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            if let Some(frame) = self.decoder.feed(&buf[..n]).into_iter().flatten().next() {
                return Some(frame);
            }
        }
    }

    /// Sends a request; returns (completion code, data).
    fn request(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> (u8, Vec<u8>) {
        self.seq = self.seq.wrapping_add(1);
        let mut body = vec![netfn << 2, cmd];
        body.extend_from_slice(data);
        self.stream
            .write_all(&encode_message(self.seq, &body))
            .unwrap();
        match self.next_frame() {
            Some(Frame::Message { seq, body }) => {
                assert_eq!(seq, self.seq, "sequence echoed");
                assert_eq!(body[0], (netfn | 1) << 2, "response netFn");
                assert_eq!(body[1], cmd, "command echoed");
                (body[2], body[3..].to_vec())
            }
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

#[test]
fn host_requests_are_routed_with_system_interface_authority() {
    let suite = Suite::start();
    let mut vm = Vm::connect(&suite);
    // Get Device ID, answered by rbmc-sensord over D-Bus.
    let (cc, data) = vm.request(0x06, 0x01, &[]);
    assert_eq!(cc, 0);
    assert_eq!(data[0], 0x20);
    // System-interface commands answered by rbmc-kcsd itself.
    assert_eq!(vm.request(0x06, 0x2F, &[]), (0, vec![0x08]));
    assert_eq!(vm.request(0x06, 0x2E, &[0x0C]), (0, vec![]));
    assert_eq!(vm.request(0x06, 0x2F, &[]), (0, vec![0x0C]));
    assert_eq!(vm.request(0x06, 0x31, &[]), (0, vec![0x00]));
    assert_eq!(vm.request(0x06, 0x33, &[]).0, 0x80, "no message queued");
    assert_eq!(vm.request(0x06, 0x57, &[0x01]), (0, vec![0x00]));
    // The host writes its OS name; it reads back.
    let mut set = vec![0x04, 0x00, 0x00, 0x05];
    set.extend_from_slice(b"Linux");
    set.resize(18, 0);
    assert_eq!(vm.request(0x06, 0x58, &set).0, 0);
    let (cc, data) = vm.request(0x06, 0x59, &[0x00, 0x04, 0x00, 0x00]);
    assert_eq!(cc, 0);
    assert_eq!(&data[4..9], b"Linux");
    // The host may control power (Administrator): the simulated host comes on.
    assert_eq!(vm.request(0x00, 0x02, &[0x01]).0, 0);
    wait_for("host powered on", Duration::from_secs(5), || {
        let on = suite.on_bus(async |conn| {
            SimulatedHostProxy::builder(conn)
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await?
                .power_good()
                .await
        });
        done_or(on, on)
    });
    // Unknown commands get C1h.
    assert_eq!(vm.request(0x2C, 0x00, &[0x00]).0, 0xC1);
}

#[test]
fn malformed_frames_are_dropped_and_the_link_carries_on() {
    let suite = Suite::start();
    let kcsd = suite.pid_of("rbmc-kcsd");
    let mut vm = Vm::connect(&suite);
    let mut garbage = Vec::new();
    garbage.extend_from_slice(&[0x05, 0x18, 0x01, 0x00, ipmi_vm::MSG_CHAR]); // bad checksum
    garbage.extend_from_slice(&[0x05, ipmi_vm::MSG_CHAR]); // too short
    garbage.extend(std::iter::repeat_n(0x11, 2000)); // oversize
    garbage.push(ipmi_vm::MSG_CHAR);
    garbage.extend_from_slice(&[0xAA, 0x05, ipmi_vm::MSG_CHAR]); // bad escape
    garbage.extend_from_slice(&encode_message(0x42, &[0x18])); // no command byte
    vm.stream.write_all(&garbage).unwrap();
    // None of those is answered; the next good request is.
    let (cc, data) = vm.request(0x06, 0x01, &[]);
    assert_eq!((cc, data[0]), (0, 0x20));
    assert_eq!(suite.pid_of("rbmc-kcsd"), kcsd);
    let log = suite.log_text();
    assert!(log.contains("malformed frame from the VM"), "{log}");
}

/// Every administrator locked out for good (lockout interval 0: until an
/// administrator unlocks) does not lock out the host: over KCS, at the
/// system interface's authority, it sets a new password and enables the
/// user, which also ends the lock.
#[test]
fn the_host_recovers_a_locked_out_administrator() {
    let suite = Suite::start();
    let lan = |args: &[&str]| {
        let out = suite.ipmitool(17, args);
        assert!(out.status.success(), "{args:?}: {}", rbmc_e2e::text(&out));
    };
    // Two failures lock; no reset interval; locked until unlocked.
    lan(&["lan", "set", "1", "bad_pass_thresh", "2", "0", "0", "0"]);
    for _ in 0..2 {
        let wrong = suite.ipmitool_as("admin", "not-the-password", 17, &["mc", "guid"]);
        assert!(!wrong.status.success());
    }
    wait_for("admin locked", Duration::from_secs(30), || {
        let locked = suite.busctl(&[
            "get-property",
            "org.rbmc.Userd",
            "/xyz/openbmc_project/user/admin",
            "xyz.openbmc_project.User.Attributes",
            "UserLockedForFailedAttempt",
        ]);
        done_or(locked.trim() == "b true", locked)
    });
    assert!(!suite.ipmitool(17, &["mc", "guid"]).status.success());

    let mut vm = Vm::connect(&suite);
    let mut set = vec![0x02, 0x02];
    let mut password = b"recovered-pw-1".to_vec();
    password.resize(16, 0);
    set.extend(password);
    assert_eq!(vm.request(0x06, 0x47, &set), (0, vec![]), "set password");
    assert_eq!(vm.request(0x06, 0x47, &[0x02, 0x01]), (0, vec![]), "enable");
    let back = suite.ipmitool_as("admin", "recovered-pw-1", 17, &["mc", "guid"]);
    assert!(back.status.success(), "{}", rbmc_e2e::text(&back));
}

/// The everyday commands of issue 14, point 7, from the host's side: what
/// the host sets over KCS a LAN console reads (system name, ACPI state),
/// and the commands owned elsewhere answer the host as they answer the LAN.
#[test]
fn everyday_commands_answer_the_host_too() {
    let suite = Suite::start();
    let mut vm = Vm::connect(&suite);
    // The host names itself; ipmitool on the LAN reads it.
    let mut set = vec![0x02, 0x00, 0x00, 0x07];
    set.extend_from_slice(b"host-42");
    set.resize(18, 0);
    assert_eq!(vm.request(0x06, 0x58, &set).0, 0);
    let name = suite.ipmitool(17, &["mc", "getsysinfo", "system_name"]);
    assert_eq!(rbmc_e2e::text(&name).trim(), "host-42");
    // System software reports S0 and D0; the LAN reads them.
    assert_eq!(vm.request(0x06, 0x06, &[0x80, 0x80]), (0, vec![]));
    assert_eq!(vm.request(0x06, 0x07, &[]), (0, vec![0x00, 0x00]));
    let acpi = suite.freeipmi("bmc-device", &["--get-acpi-power-state"]);
    assert!(
        rbmc_e2e::text(&acpi).contains("ACPI System Power State : S0/G0"),
        "{}",
        rbmc_e2e::text(&acpi)
    );
    // NetFn support for the channel the host is on (Fh).
    let (cc, data) = vm.request(0x06, 0x09, &[0x0E]);
    assert_eq!((cc, &data[..2]), (0, &[0x01, 0x6D][..]));
    // SDR repository time, LAN statistics of channel 1, the power cycle
    // interval and Master Write-Read, as on the LAN.
    let (cc, data) = vm.request(0x0A, 0x28, &[]);
    assert_eq!((cc, data.len()), (0, 4));
    let (cc, data) = vm.request(0x0C, 0x04, &[0x01, 0x00]);
    assert_eq!((cc, data.len()), (0, 18));
    assert_eq!(vm.request(0x00, 0x0B, &[5]), (0, vec![]));
    assert_eq!(
        vm.request(0x06, 0x52, &[0x03, 0xA0, 0, 0x20, 0x5A]),
        (0, vec![])
    );
    assert_eq!(
        vm.request(0x06, 0x52, &[0x03, 0xA0, 1, 0x20]),
        (0, vec![0x5A])
    );
    assert_eq!(vm.request(0x06, 0x52, &[0x03, 0xA4, 1]).0, 0xD6);
}
