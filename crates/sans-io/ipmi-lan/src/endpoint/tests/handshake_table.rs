//! The handshake table under pressure: floods of Open Session Requests and
//! handshakes pushed out of it.

use super::*;

/// One address flooding Open Session Requests only churns its own pending
/// handshakes: another console's handshake in progress still completes.
#[test]
fn a_flooding_peer_cannot_evict_another_peers_handshake() {
    let mut ep = endpoint();
    let now = Instant::now();
    let real: SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let flooder: SocketAddr = "198.51.100.9:50000".parse().unwrap();
    let mut handshake = Handshake::new(
        CipherSuite::SUITE_17,
        b"admin",
        b"rbmc-admin",
        Privilege::Administrator,
        0xC0C0_0002,
        [0x22; 16],
    );
    let open = reply(drive(&mut ep, now, real, &handshake.open_session_request()));
    let rakp1 = handshake.on_open_session_response(&open).unwrap();
    for i in 0..50u32 {
        let flood = Handshake::new(
            CipherSuite::SUITE_17,
            b"x",
            b"y",
            Privilege::User,
            1000 + i,
            [0; 16],
        );
        let _ = drive(&mut ep, now, flooder, &flood.open_session_request());
    }
    assert!(ep.session_count() <= 1 + ep.config().max_handshakes_per_address);
    let rakp2 = reply(drive(&mut ep, now, real, &rakp1));
    let rakp3 = handshake.on_rakp2(&rakp2).unwrap();
    let rakp4 = reply(drive(&mut ep, now, real, &rakp3));
    assert!(handshake.on_rakp4(&rakp4).is_ok());
}

/// Issue 16, point 7: a handshake pushed out of the table after it was sent
/// RAKP 2 (the BMC's code for the password, what an offline guesser
/// collects: CVE-2013-4786) used to vanish without a trace; it is reported
/// as an abandoned login, with its source, like one that timed out.
#[test]
fn handshakes_pushed_out_after_rakp2_are_reported() {
    let mut ep = endpoint();
    let now = Instant::now();
    let collector: SocketAddr = "198.51.100.9:50000".parse().unwrap();
    let limit = u32::try_from(ep.config().max_handshakes_per_address).unwrap();
    for i in 0..=limit {
        let mut handshake = Handshake::new(
            CipherSuite::SUITE_17,
            b"admin",
            b"a guess",
            Privilege::Administrator,
            2000 + i,
            [0x33; 16],
        );
        let open = reply(drive(
            &mut ep,
            now,
            collector,
            &handshake.open_session_request(),
        ));
        let rakp1 = handshake.on_open_session_response(&open).unwrap();
        let _rakp2 = reply(drive(&mut ep, now, collector, &rakp1));
    }
    // Each one pushed out (by the address's limit or the full table) is
    // reported once; those still in the table are not (yet).
    let events = ep.take_login_events();
    let pushed_out = usize::try_from(limit).unwrap() + 1 - ep.session_count();
    assert!(pushed_out >= 1);
    assert_eq!(events.len(), pushed_out, "{events:?}");
    assert!(
        events.iter().all(
            |event| matches!(event, LoginEvent::Abandoned { user, peer: Some(ip) }
            if user == "admin" && *ip == collector.ip())
        ),
        "{events:?}"
    );
}
