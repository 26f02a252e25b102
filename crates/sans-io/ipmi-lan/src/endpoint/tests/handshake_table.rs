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

/// Issue 16, point 4: Open Session needs no reply, so a flood of them
/// from many (spoofable) addresses costs nothing. It must not crowd out a
/// console that carries its handshake on: 199 addresses send Open Session
/// Requests between each of the console's steps, a thousand times its
/// round trip's worth, and the console still logs in every time.
#[test]
fn a_many_address_handshake_flood_cannot_crowd_out_a_login() {
    let mut ep = endpoint();
    let now = Instant::now();
    let console: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let mut flood_id = 0u32;
    let mut flood = |ep: &mut Ep, count: u32| {
        for _ in 0..count {
            flood_id += 1;
            let source = SocketAddr::from(([127, 0, 0, 2 + (flood_id % 199) as u8], 623));
            let open = Handshake::new(
                CipherSuite::SUITE_17,
                b"x",
                b"y",
                Privilege::Administrator,
                flood_id,
                [0; 16],
            );
            let _ = drive(ep, now, source, &open.open_session_request());
        }
    };
    for attempt in 0..10u32 {
        let mut handshake = Handshake::new(
            CipherSuite::SUITE_17,
            b"admin",
            b"rbmc-admin",
            Privilege::Administrator,
            0xC0C0_0000 + attempt,
            [0x22; 16],
        );
        flood(&mut ep, 1000);
        let open = reply(drive(
            &mut ep,
            now,
            console,
            &handshake.open_session_request(),
        ));
        let rakp1 = handshake.on_open_session_response(&open).unwrap();
        flood(&mut ep, 1000);
        let rakp2 = reply(drive(&mut ep, now, console, &rakp1));
        let rakp3 = handshake.on_rakp2(&rakp2).unwrap();
        flood(&mut ep, 1000);
        let rakp4 = reply(drive(&mut ep, now, console, &rakp3));
        let mut session = handshake
            .on_rakp4(&rakp4)
            .unwrap_or_else(|err| panic!("attempt {attempt}: {err}"));
        // Close Session, so the next attempt finds a free slot.
        let id = session.bmc_session_id.to_le_bytes();
        let close = session.request(NetFn::APP, 0x3C, &id, [7; 16]);
        let _ = reply(drive(&mut ep, now, console, &close));
        assert_eq!(ep.active_session_count(), 0);
    }
}

/// Handshakes never take an active session's place: with every session
/// slot taken, Open Session says so at once, and a handshake that was
/// already under way when the last slot went is refused at RAKP 4.
#[test]
fn no_handshake_takes_an_active_sessions_place() {
    let mut ep = endpoint();
    let now = Instant::now();
    let late: SocketAddr = "192.0.2.9:40000".parse().unwrap();
    let mut under_way = Handshake::new(
        CipherSuite::SUITE_17,
        b"admin",
        b"rbmc-admin",
        Privilege::Administrator,
        0xC0C0_0003,
        [0x22; 16],
    );
    let open = reply(drive(&mut ep, now, late, &under_way.open_session_request()));
    let rakp1 = under_way.on_open_session_response(&open).unwrap();
    let rakp2 = reply(drive(&mut ep, now, late, &rakp1));
    let rakp3 = under_way.on_rakp2(&rakp2).unwrap();
    let max = ep.config().max_sessions;
    for _ in 0..max {
        login(&mut ep, CipherSuite::SUITE_17, b"rbmc-admin").unwrap();
    }
    let rakp4 = reply(drive(&mut ep, now, late, &rakp3));
    assert!(matches!(
        under_way.on_rakp4(&rakp4),
        Err(ConsoleError::Refused(RakpStatus::INSUFFICIENT_RESOURCES))
    ));
    let mut refused = Handshake::new(
        CipherSuite::SUITE_17,
        b"admin",
        b"rbmc-admin",
        Privilege::Administrator,
        0xC0C0_0004,
        [0x22; 16],
    );
    let open = reply(drive(&mut ep, now, late, &refused.open_session_request()));
    assert!(matches!(
        refused.on_open_session_response(&open),
        Err(ConsoleError::Refused(RakpStatus::INSUFFICIENT_RESOURCES))
    ));
    assert_eq!(ep.active_session_count(), max);
}

/// Issue 16, point 6: each refused or abandoned login costs its source one
/// failure; past its burst an address starts no handshake until its budget
/// refills. An offline guesser collecting RAKP 2 codes gets its share of
/// handshakes plus its burst, then one per interval, and nobody else is
/// charged for it.
#[test]
fn a_guessing_source_is_limited_per_address() {
    let mut ep = endpoint();
    let now = Instant::now();
    let guesser: SocketAddr = "198.51.100.66:50000".parse().unwrap();
    let collect = |ep: &mut Ep, at: Instant, i: u32| -> Result<(), ConsoleError> {
        let mut handshake = Handshake::new(
            CipherSuite::SUITE_17,
            b"admin",
            b"a guess",
            Privilege::Administrator,
            3000 + i,
            [0x33; 16],
        );
        let open = reply(drive(ep, at, guesser, &handshake.open_session_request()));
        let rakp1 = handshake.on_open_session_response(&open)?;
        let _rakp2 = reply(drive(ep, at, guesser, &rakp1));
        Ok(())
    };
    let mut collected = 0;
    let refused = loop {
        match collect(&mut ep, now, collected) {
            Ok(()) => collected += 1,
            Err(err) => break err,
        }
        assert!(collected < 100, "never limited");
    };
    assert!(matches!(
        refused,
        ConsoleError::Refused(RakpStatus::INSUFFICIENT_RESOURCES)
    ));
    let config = ep.config().clone();
    let share = u32::try_from(config.max_handshakes_per_address).unwrap();
    assert_eq!(collected, share + config.failed_login_burst);
    // Another console is not charged for it.
    login(&mut ep, CipherSuite::SUITE_17, b"rbmc-admin").unwrap();
    // One more per interval.
    let later = now + config.failed_login_interval;
    collect(&mut ep, later, 1000).unwrap();
    assert!(collect(&mut ep, later, 1001).is_err());
}
