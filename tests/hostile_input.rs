//! Hostile datagrams at the RMCP+ port: random and truncated packets, a
//! replayed request and a forged one. None gets an answer it should not,
//! and the bridge keeps serving ipmitool without restarting.

use std::{
    net::UdpSocket,
    time::{Duration, Instant},
};

use ipmi_lan::{console::sessionless, endpoint::sessionless_v15_message};
use ipmi_wire::{crypto::CipherSuite, message::Response, NetFn, PayloadType};
use rbmc_e2e::{text, Console, Suite};

/// Reads what arrives on `socket` until `is_marker` accepts a datagram,
/// sending `marker()` now and again each second (a datagram can be lost
/// when the bridge's receive queue overflows). The bridge answers in
/// order, so everything owed to datagrams sent before the marker arrives
/// before the marker's answer: no fixed wait for silence. Returns what came
/// before the marker.
fn until_marker(
    socket: &UdpSocket,
    mut marker: impl FnMut() -> Vec<u8>,
    is_marker: impl Fn(&[u8]) -> bool,
) -> Vec<Vec<u8>> {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut before = Vec::new();
    let mut buf = [0u8; 2048];
    let mut next_send = Instant::now();
    loop {
        assert!(Instant::now() < deadline, "the marker was never answered");
        if Instant::now() >= next_send {
            socket.send(&marker()).unwrap();
            next_send = Instant::now() + Duration::from_secs(1);
        }
        let Ok(len) = socket.recv(&mut buf) else {
            continue;
        };
        if is_marker(&buf[..len]) {
            return before;
        }
        before.push(buf[..len].to_vec());
    }
}

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
    // The marker: Get Channel Auth Capabilities with its own rqSeq (3Ch).
    let marker = [
        0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xC8, 0x81, 0xF0,
        0x38, 0x8E, 0x04, 0xC5,
    ];
    let is_marker = |datagram: &[u8]| {
        sessionless_v15_message(datagram)
            .ok()
            .and_then(|message| Response::parse(&message).ok())
            .is_some_and(|response| response.rq_seq == 0x3C)
    };
    let replies = until_marker(&socket, || marker.to_vec(), is_marker);
    for reply in &replies {
        assert_eq!(
            reply[..reply.len().min(1)],
            [0x06],
            "reply that is not RMCP"
        );
    }
    assert!(
        !replies.is_empty(),
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
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 2048];

    // A genuine request, captured as an eavesdropper would, gets answered...
    let captured = console.raw_request(NetFn::APP, 0x01, &[]);
    socket.send(&captured).unwrap();
    assert!(
        socket.recv(&mut buf).is_ok(),
        "the genuine request was not answered"
    );
    // ...but replaying it does not (IPMI v2.0 §6.12.13 sequence window);
    // and a forged one does not either: any flipped bit breaks the HMAC.
    socket.send(&captured).unwrap();
    let mut forged = console.raw_request(NetFn::APP, 0x01, &[]);
    let middle = forged.len() / 2;
    forged[middle] ^= 0x01;
    socket.send(&forged).unwrap();
    // The marker: a genuine Get Self Test Results, which goes the same way
    // (to rbmc-sensord) as the Get Device ID above, so an answer to either
    // would arrive before it.
    let shared = std::cell::RefCell::new(&mut console);
    let answers = until_marker(
        &socket,
        || shared.borrow_mut().raw_request(NetFn::APP, 0x04, &[]),
        |datagram| reply_to(&shared.borrow(), datagram) == Some(0x04),
    );
    let answered: Vec<_> = answers
        .iter()
        .map(|datagram| reply_to(&console, datagram))
        .collect();
    assert!(
        answered.is_empty(),
        "a replayed or forged request was answered: {answered:x?}"
    );

    // The session itself is unharmed.
    let response = console.call(NetFn::APP, 0x01, &[]).unwrap();
    assert_eq!(response.completion.0, 0);
}

/// The command a datagram answers, if it is a response of this session.
fn reply_to(console: &Console, datagram: &[u8]) -> Option<u8> {
    console
        .read_reply(datagram)
        .ok()
        .map(|response| response.cmd)
}
