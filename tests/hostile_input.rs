//! Hostile datagrams at the RMCP+ port: random and truncated packets, a
//! replayed request and a forged one. None gets an answer it should not,
//! and the bridge keeps serving ipmitool without restarting.

use std::{net::UdpSocket, time::Duration};

use ipmi_lan::console::sessionless;
use ipmi_wire::{crypto::CipherSuite, NetFn, PayloadType};
use rbmc_e2e::{text, Suite};

/// A small deterministic generator, so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

fn hostile_datagrams() -> Vec<Vec<u8>> {
    let mut rng = XorShift(0x5EED_1234_ABCD_0001);
    let mut out = Vec::new();
    let valid = [
        // ASF presence ping
        vec![
            0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x01, 0x00, 0x00,
        ],
        // Get Channel Auth Capabilities, v1.5 sessionless
        vec![
            0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xC8, 0x81,
            0x00, 0x38, 0x8E, 0x04, 0xB5,
        ],
        // Open Session Request for suite 17
        sessionless(
            PayloadType::OPEN_SESSION_REQUEST,
            &[
                0, 4, 0, 0, 1, 2, 3, 4, 0, 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 8, 4, 0, 0, 0, 2, 0, 0, 8,
                1, 0, 0, 0,
            ],
        ),
    ];
    for packet in &valid {
        for cut in 0..=packet.len() {
            out.push(packet[..cut].to_vec());
        }
    }
    for _ in 0..1500 {
        let len = usize::try_from(rng.next() % 300).unwrap_or(0);
        out.push(rng.bytes(len));
    }
    for _ in 0..500 {
        // Plausible headers with random bodies: every payload type, with and
        // without the authenticated/encrypted bits and a session ID.
        let mut packet = vec![0x06, 0x00, 0xFF, 0x07, 0x06];
        packet.push(rng.next().to_le_bytes()[0]);
        packet.extend(rng.bytes(8));
        let len = usize::try_from(rng.next() % 64).unwrap_or(0);
        packet.extend(u16::try_from(len).unwrap_or(0).to_le_bytes());
        let trailer = usize::try_from(rng.next() % 24).unwrap_or(0);
        packet.extend(rng.bytes(len + trailer));
        out.push(packet);
    }
    out.push(vec![0x06; 1400]);
    out
}

#[test]
fn a_burst_of_garbage_leaves_the_bridge_serving() {
    let suite = Suite::start();
    let netipmid = suite.pid_of("rbmc-netipmid");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(("127.0.0.1", suite.port)).unwrap();
    let datagrams = hostile_datagrams();
    for datagram in &datagrams {
        socket.send(datagram).unwrap();
    }
    // Whatever came back must be a well-formed RMCP reply (pongs, auth caps,
    // Open Session responses); count them to show the bridge kept answering.
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut replies = 0;
    let mut buf = [0u8; 2048];
    while let Ok(len) = socket.recv(&mut buf) {
        assert_eq!(buf[..len.min(1)], [0x06], "reply that is not RMCP");
        replies += 1;
    }
    assert!(
        replies > 0,
        "the bridge answered nothing, not even the valid packets"
    );

    let out = suite.ipmitool(17, &["mc", "info"]);
    assert!(out.status.success(), "{}\n{}", text(&out), suite.log_text());
    assert_eq!(
        suite.pid_of("rbmc-netipmid"),
        netipmid,
        "the bridge restarted"
    );
}

#[test]
fn replayed_and_forged_requests_get_no_answer() {
    let suite = Suite::start();
    let mut console = suite.console(CipherSuite::SUITE_17);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(("127.0.0.1", suite.port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0u8; 2048];

    // A genuine request, captured as an eavesdropper would, gets answered...
    let captured = console.raw_request(NetFn::APP, 0x01, &[]);
    socket.send(&captured).unwrap();
    assert!(
        socket.recv(&mut buf).is_ok(),
        "the genuine request was not answered"
    );
    // ...but replaying it does not (IPMI v2.0 §6.12.13 sequence window).
    socket.send(&captured).unwrap();
    assert!(
        socket.recv(&mut buf).is_err(),
        "a replayed request was answered"
    );

    // A forged one: any flipped bit breaks the HMAC.
    let mut forged = console.raw_request(NetFn::APP, 0x01, &[]);
    let middle = forged.len() / 2;
    forged[middle] ^= 0x01;
    socket.send(&forged).unwrap();
    assert!(
        socket.recv(&mut buf).is_err(),
        "a forged request was answered"
    );

    // The session itself is unharmed.
    let response = console.call(NetFn::APP, 0x01, &[]).unwrap();
    assert_eq!(response.completion.0, 0);
}
