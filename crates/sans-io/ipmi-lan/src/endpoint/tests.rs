//! The endpoint driven by a console written from the spec with the wire
//! crate's primitives, in memory and with a fixed clock. A small
//! dispatcher stands in for the service's command table.

use std::time::Duration;

use super::*;
use crate::{
    console::{ConsoleError, ConsoleSession, Handshake},
    sol::SolConfig,
    AuthAnswer, AuthRequest, AuthStep, LoginEvent, Rakp2Answer, SolPolicy,
};
use ipmi_wire::{
    crypto::CipherSuite, rakp::RakpReply, session::V20Header, AuthAlgorithm,
    ConfidentialityAlgorithm, IntegrityAlgorithm, NetFn, RakpStatus,
};
use proptest::prelude::*;

mod sol_notice;

/// A deterministic stand-in for the random source (a 64-bit LCG: its
/// session IDs do not repeat within any table's worth).
struct Counter(u64);

impl Random for Counter {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *b = (self.0 >> 56) as u8;
        }
    }
}

struct Users;

impl ChannelPolicy for Users {
    fn sol(&self) -> Option<SolPolicy> {
        Some(SolPolicy {
            config: SolConfig::default(),
            takeover: false,
            port: 623,
        })
    }
}

/// The accounts owner's part, for one user: admin / rbmc-admin.
fn accounts_answer(request: &AuthRequest) -> Option<AuthAnswer> {
    const PASSWORD: &[u8] = b"rbmc-admin";
    let known = request.transcript.username == b"admin";
    match &request.step {
        AuthStep::Rakp2 => Some(AuthAnswer::Rakp2(if known {
            Ok(Rakp2Answer {
                user_id: 2,
                privilege_limit: Privilege::Administrator,
                sol_allowed: true,
                code: request.transcript.rakp2_code(&request.suite, PASSWORD),
            })
        } else {
            Err(RakpStatus::UNAUTHORIZED_NAME)
        })),
        AuthStep::Rakp3 { code } => Some(AuthAnswer::Rakp3(
            if known
                && request
                    .transcript
                    .verify_rakp3(&request.suite, PASSWORD, code)
            {
                Ok(request.transcript.sik(&request.suite, PASSWORD))
            } else {
                Err(RakpStatus::INVALID_INTEGRITY_CHECK_VALUE)
            },
        )),
        AuthStep::ConsoleRefused { .. } => None,
    }
}

/// The endpoint, and the events the stand-in table did not consume.
struct Ep {
    endpoint: Endpoint<Users>,
    seen: Vec<Event>,
}

impl std::ops::Deref for Ep {
    type Target = Endpoint<Users>;
    fn deref(&self) -> &Self::Target {
        &self.endpoint
    }
}

impl std::ops::DerefMut for Ep {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.endpoint
    }
}

impl Ep {
    /// Login events seen since the last call.
    fn take_login_events(&mut self) -> Vec<LoginEvent> {
        let mut logins = Vec::new();
        self.seen.retain(|event| match event {
            Event::Login(login) => {
                logins.push(login.clone());
                false
            }
            _ => true,
        });
        logins
    }

    /// Datagrams queued and not yet sent.
    fn take_outbox(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.endpoint.poll_transmit()).collect()
    }

    /// Runs the timers at `now` and returns the sessions that ended.
    fn expire(&mut self, now: Instant) -> Vec<u32> {
        self.endpoint.handle_timeout(now);
        let mut closed = Vec::new();
        while let Some(event) = self.endpoint.poll_event() {
            match event {
                Event::SessionClosed { session_id, .. } => closed.push(session_id),
                other => self.seen.push(other),
            }
        }
        closed
    }
}

fn endpoint() -> Ep {
    let endpoint = Endpoint::new(
        EndpointConfig {
            channel: 1,
            guid: [0x42; 16],
            cipher_suites: CipherSuite::SUPPORTED.to_vec(),
            max_sessions: 2,
            idle_timeout: Duration::from_secs(60),
            setup_timeout: Duration::from_secs(10),
            kg: None,
            max_sessions_per_user: 0,
            max_handshakes_per_address: 4,
            failed_login_burst: 16,
            failed_login_interval: Duration::from_secs(2),
        },
        Users,
        Box::new(Counter(0)),
    );
    Ep {
        endpoint,
        seen: Vec::new(),
    }
}

fn anywhere() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 0))
}

/// What one datagram led to, once the stand-in table has run the
/// commands the session layer answers.
#[derive(Debug)]
enum Outcome {
    /// A datagram back.
    Reply(Vec<u8>),
    /// A request for an owner.
    Routed(PendingRequest),
    /// Nothing (with the endpoint's reason).
    Dropped(DropReason),
    /// Nothing sent and nothing routed (SOL traffic, events only).
    Quiet,
}

/// The commands netipmid's table sends back into the endpoint.
fn serve_locally(ep: &mut Ep, pending: &PendingRequest) -> Option<CommandResult> {
    let data = &pending.request.data;
    let context = &pending.context;
    if pending.request.netfn != NetFn::APP {
        return None;
    }
    Some(match pending.request.cmd {
        0x38 => crate::commands::cmd_get_channel_auth_capabilities(data, 1, false),
        0x3B => ep.set_session_privilege(context, data),
        0x3C => ep.close_session(context, data),
        _ => return None,
    })
}

fn drive(ep: &mut Ep, now: Instant, peer: SocketAddr, datagram: &[u8]) -> Outcome {
    if let Err(reason) = ep.handle(now, peer, datagram) {
        return Outcome::Dropped(reason);
    }
    let mut routed = None;
    while let Some(event) = ep.poll_event() {
        match event {
            Event::Request(pending) => match serve_locally(ep, &pending) {
                Some(result) => ep.respond(Instant::now(), &pending, result),
                None => routed = Some(pending),
            },
            Event::Authenticate(request) => {
                if let Some(answer) = accounts_answer(&request) {
                    ep.authenticated(now, request.session_id, answer);
                }
            }
            other => ep.seen.push(other),
        }
    }
    if let Some(transmit) = ep.poll_transmit() {
        return Outcome::Reply(transmit.contents);
    }
    routed.map_or(Outcome::Quiet, Outcome::Routed)
}

fn handle(ep: &mut Ep, now: Instant, datagram: &[u8]) -> Outcome {
    drive(ep, now, anywhere(), datagram)
}

fn reply(outcome: Outcome) -> Vec<u8> {
    match outcome {
        Outcome::Reply(bytes) => bytes,
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn v20_payload(datagram: &[u8]) -> (V20Header, Vec<u8>) {
    let packet = V20Packet::parse(&datagram[4..]).unwrap();
    (packet.header, packet.payload.to_vec())
}

/// A console's view of an established session.
struct Console {
    bmc_session_id: u32,
    session: ConsoleSession,
}

impl Console {
    fn request(&mut self, cmd: u8, data: &[u8]) -> Vec<u8> {
        self.session.request(NetFn::APP, cmd, data, [7; 16])
    }

    fn read(&self, datagram: &[u8]) -> Response {
        self.session.read_response(datagram).unwrap()
    }
}

fn login(ep: &mut Ep, suite: CipherSuite, password: &[u8]) -> Result<Console, RakpStatus> {
    let now = Instant::now();
    let mut handshake = Handshake::new(
        suite,
        b"admin",
        password,
        Privilege::Administrator,
        0xC0C0_0001,
        [0x11; 16],
    );
    let refused = |e: ConsoleError| match e {
        ConsoleError::Refused(status) => status,
        // What a console does when the BMC's RAKP 2 does not verify.
        ConsoleError::BadBmcAuth => RakpStatus::INVALID_INTEGRITY_CHECK_VALUE,
        other => panic!("{other}"),
    };
    let reply1 = reply(handle(ep, now, &handshake.open_session_request()));
    let rakp1 = handshake
        .on_open_session_response(&reply1)
        .map_err(refused)?;
    let rakp2 = reply(handle(ep, now, &rakp1));
    assert_eq!(v20_payload(&rakp2).0.payload_type, PayloadType::RAKP2);
    let rakp3 = handshake.on_rakp2(&rakp2).map_err(refused)?;
    let rakp4 = reply(handle(ep, now, &rakp3));
    let session = handshake.on_rakp4(&rakp4).map_err(refused)?;
    Ok(Console {
        bmc_session_id: session.bmc_session_id,
        session,
    })
}

#[test]
fn both_suites_log_in_and_route_a_request() {
    for suite in CipherSuite::SUPPORTED {
        let mut ep = endpoint();
        let mut console = login(&mut ep, suite, b"rbmc-admin").unwrap();
        // The session starts at User; raise it to Administrator.
        let packet = console.request(0x3B, &[0x04]);
        let rsp = console.read(&reply(handle(&mut ep, Instant::now(), &packet)));
        assert_eq!(rsp.completion, CompletionCode::SUCCESS);
        assert_eq!(rsp.data, [0x04]);
        let Outcome::Routed(pending) = handle(&mut ep, Instant::now(), &console.request(0x01, &[]))
        else {
            panic!("Get Device ID must be routed");
        };
        assert_eq!(pending.context.privilege, Privilege::Administrator);
        assert_eq!(pending.context.user_id, 2);
        ep.respond(Instant::now(), &pending, Ok(vec![0x20, 0x01]));
        let bytes = ep.poll_transmit().unwrap().contents;
        let (header, _) = v20_payload(&bytes);
        assert_eq!(header.session_id, 0xC0C0_0001);
        assert_eq!(header.sequence, 2, "outbound numbering starts at 1");
        let rsp = console.read(&bytes);
        assert_eq!((rsp.cmd, rsp.data), (0x01, vec![0x20, 0x01]));
    }
}

#[test]
fn replayed_and_forged_packets_are_dropped() {
    let mut ep = endpoint();
    let mut console = login(&mut ep, CipherSuite::SUITE_3, b"rbmc-admin").unwrap();
    let packet = console.request(0x01, &[]);
    assert!(matches!(
        handle(&mut ep, Instant::now(), &packet),
        Outcome::Routed(_)
    ));
    assert!(matches!(
        handle(&mut ep, Instant::now(), &packet),
        Outcome::Dropped(DropReason::Replayed(1))
    ));
    let mut forged = console.request(0x01, &[]);
    let last = forged.len() - 20;
    forged[last] ^= 0x80;
    assert!(matches!(
        handle(&mut ep, Instant::now(), &forged),
        Outcome::Dropped(DropReason::Forged)
    ));
    // An unencrypted packet in the session is a downgrade and is dropped.
    let mut plain = packet.clone();
    plain[5] &= !0x80;
    assert!(matches!(
        handle(&mut ep, Instant::now(), &plain),
        Outcome::Dropped(DropReason::NotProtected)
    ));
}

#[test]
fn wrong_password_unknown_user_and_suite_zero_are_refused() {
    let mut ep = endpoint();
    assert_eq!(
        login(&mut ep, CipherSuite::SUITE_17, b"wrong").err(),
        Some(RakpStatus::INVALID_INTEGRITY_CHECK_VALUE)
    );
    let zero = CipherSuite {
        id: 0,
        auth: AuthAlgorithm::RAKP_NONE,
        integrity: IntegrityAlgorithm::NONE,
        confidentiality: ConfidentialityAlgorithm::NONE,
    };
    assert_eq!(
        login(&mut ep, zero, b"").err(),
        Some(RakpStatus::INVALID_AUTH_ALGORITHM)
    );
}

/// The BMC's own checks, not the console's: a RAKP 3 keyed with the wrong
/// password gets RAKP 4 status 0Fh and no session; an unknown name gets
/// RAKP 2 status 0Dh.
#[test]
fn the_bmc_refuses_a_wrong_rakp3_and_an_unknown_name() {
    let mut ep = endpoint();
    let now = Instant::now();
    let suite = CipherSuite::SUITE_17;
    let mut handshake = Handshake::new(
        suite,
        b"admin",
        b"rbmc-admin",
        Privilege::Administrator,
        5,
        [9; 16],
    );
    let rakp1 = handshake
        .on_open_session_response(&reply(handle(
            &mut ep,
            now,
            &handshake.open_session_request(),
        )))
        .unwrap();
    let rakp2 = reply(handle(&mut ep, now, &rakp1));
    let body = RakpReply::parse(&v20_payload(&rakp2).1).unwrap();
    // Forge RAKP 3 as someone who saw RAKP 1 and 2 but lacks the password.
    let bmc_session_id = u32::from_le_bytes(rakp1[4 + 12 + 4..4 + 12 + 8].try_into().unwrap());
    let transcript = ipmi_wire::crypto::RakpTranscript {
        console_session_id: 5,
        bmc_session_id,
        console_random: [9; 16],
        bmc_random: body.body[..16].try_into().unwrap(),
        bmc_guid: body.body[16..32].try_into().unwrap(),
        role: 0x14,
        username: b"admin".to_vec(),
    };
    let forged = RakpReply {
        tag: 2,
        status: RakpStatus::NO_ERRORS,
        session_id: bmc_session_id,
        body: transcript.rakp3_code(&suite, b"guessed"),
    };
    let rakp4 = reply(handle(
        &mut ep,
        now,
        &crate::console::sessionless(PayloadType::RAKP3, &forged.emit()),
    ));
    let rakp4 = RakpReply::parse(&v20_payload(&rakp4).1).unwrap();
    assert_eq!(rakp4.status, RakpStatus::INVALID_INTEGRITY_CHECK_VALUE);
    assert_eq!(ep.session_count(), 0, "the failed handshake is gone");

    let mut stranger = Handshake::new(suite, b"mallory", b"x", Privilege::User, 6, [1; 16]);
    let rakp1 = stranger
        .on_open_session_response(&reply(handle(
            &mut ep,
            now,
            &stranger.open_session_request(),
        )))
        .unwrap();
    let rakp2 = RakpReply::parse(&v20_payload(&reply(handle(&mut ep, now, &rakp1))).1).unwrap();
    assert_eq!(rakp2.status, RakpStatus::UNAUTHORIZED_NAME);
}

#[test]
fn session_limit_and_idle_timeout() {
    let mut ep = endpoint();
    let mut first = login(&mut ep, CipherSuite::SUITE_3, b"rbmc-admin").unwrap();
    let _second = login(&mut ep, CipherSuite::SUITE_3, b"rbmc-admin").unwrap();
    assert_eq!(
        login(&mut ep, CipherSuite::SUITE_3, b"rbmc-admin").err(),
        Some(RakpStatus::INSUFFICIENT_RESOURCES)
    );
    let later = Instant::now() + Duration::from_secs(61);
    assert_eq!(ep.expire(later).len(), 2);
    assert!(matches!(
        handle(&mut ep, later, &first.request(0x01, &[])),
        Outcome::Dropped(DropReason::NoSession(_))
    ));
}

#[test]
fn a_flood_of_half_open_sessions_does_not_lock_out_a_login() {
    let mut ep = endpoint();
    for _ in 0..10 {
        let handshake = Handshake::new(
            CipherSuite::SUITE_3,
            b"admin",
            b"x",
            Privilege::User,
            9,
            [0; 16],
        );
        let _ = reply(handle(
            &mut ep,
            Instant::now(),
            &handshake.open_session_request(),
        ));
    }
    // One address holds at most its share of handshakes; none of them
    // holds a session's place.
    assert_eq!(ep.session_count(), ep.config().max_handshakes_per_address);
    let _first = login(&mut ep, CipherSuite::SUITE_3, b"rbmc-admin").unwrap();
    let _second = login(&mut ep, CipherSuite::SUITE_3, b"rbmc-admin").unwrap();
    assert_eq!(ep.active_session_count(), 2);
}

#[test]
fn close_session_ends_it() {
    let mut ep = endpoint();
    let mut console = login(&mut ep, CipherSuite::SUITE_17, b"rbmc-admin").unwrap();
    let id = console.bmc_session_id.to_le_bytes();
    let packet = console.request(0x3C, &id);
    let rsp = console.read(&reply(handle(&mut ep, Instant::now(), &packet)));
    assert_eq!(rsp.completion, CompletionCode::SUCCESS);
    assert_eq!(ep.session_count(), 0);
}

/// A request still in flight when the session closes itself is answered
/// too, and the Close Session reply is not lost whichever answer comes
/// first; after that the session is gone and takes nothing new.
#[test]
fn close_session_with_a_request_in_flight_answers_both() {
    let mut ep = endpoint();
    let mut console = login(&mut ep, CipherSuite::SUITE_17, b"rbmc-admin").unwrap();
    let Outcome::Routed(in_flight) = handle(&mut ep, Instant::now(), &console.request(0x01, &[]))
    else {
        panic!("Get Device ID must be routed");
    };
    // Close Session is answered first.
    let id = console.bmc_session_id.to_le_bytes();
    let close = console.request(0x3C, &id);
    let rsp = console.read(&reply(handle(&mut ep, Instant::now(), &close)));
    assert_eq!((rsp.cmd, rsp.completion), (0x3C, CompletionCode::SUCCESS));
    assert_eq!(ep.session_count(), 1, "it still owes an answer");
    // A new request to the closing session is not taken.
    assert!(matches!(
        handle(&mut ep, Instant::now(), &console.request(0x01, &[])),
        Outcome::Dropped(DropReason::NoSession(_))
    ));
    // The answer it owed goes out under its keys, and then it is gone.
    ep.respond(Instant::now(), &in_flight, Ok(vec![0x20]));
    let rsp = console.read(&ep.poll_transmit().unwrap().contents);
    assert_eq!((rsp.cmd, rsp.data), (0x01, vec![0x20]));
    assert_eq!(ep.session_count(), 0);
}

#[test]
fn ping_and_auth_caps_are_answered_outside_a_session() {
    let mut ep = endpoint();
    let ping = [
        0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x07, 0x00, 0x00,
    ];
    let pong = reply(handle(&mut ep, Instant::now(), &ping));
    assert_eq!(pong[8..10], [0x40, 0x07]);
    let caps = [
        0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xC8, 0x81, 0x00,
        0x38, 0x8E, 0x04, 0xB5,
    ];
    let message = sessionless_v15_message(&reply(handle(&mut ep, Instant::now(), &caps))).unwrap();
    let rsp = Response::parse(&message).unwrap();
    assert_eq!(rsp.completion, CompletionCode::SUCCESS);
    assert_eq!(rsp.data, [0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0]);
}

/// A request outside a session is handed out with the least authority,
/// for the command table to decide; its answer goes back in the framing it
/// came in.
#[test]
fn sessionless_requests_carry_no_authority() {
    let mut ep = endpoint();
    let peer: SocketAddr = "192.0.2.1:1234".parse().unwrap();
    let caps = [
        0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xC8, 0x81, 0x00,
        0x38, 0x8E, 0x04, 0xB5,
    ];
    ep.handle(Instant::now(), peer, &caps).unwrap();
    let Some(Event::Request(pending)) = ep.poll_event() else {
        panic!("the request must be handed out");
    };
    assert!(!pending.context.in_session());
    assert_eq!(pending.context.privilege, Privilege::Callback);
    assert_eq!(pending.context.user_id, 0);
    ep.respond(
        Instant::now(),
        &pending,
        Err(CompletionCode::INVALID_COMMAND),
    );
    let transmit = ep.poll_transmit().unwrap();
    assert_eq!(transmit.destination, peer);
    let rsp = Response::parse(&sessionless_v15_message(&transmit.contents).unwrap()).unwrap();
    assert_eq!(rsp.completion, CompletionCode::INVALID_COMMAND);
}

proptest! {
    /// No datagram makes the endpoint panic, and garbage never opens or
    /// routes anything.
    #[test]
    fn random_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut ep = endpoint();
                let action = handle(&mut ep, Instant::now(), &bytes);
        prop_assert!(!matches!(action, Outcome::Routed(_)));
    }

    /// Valid-looking headers with random bodies, for each payload type.
    #[test]
    fn random_payloads_never_panic(kind in 0u8..0x16, body in proptest::collection::vec(any::<u8>(), 0..80)) {
        let mut ep = endpoint();
                let datagram = crate::console::sessionless(PayloadType(kind), &body);
        let action = handle(&mut ep, Instant::now(), &datagram);
        prop_assert!(!matches!(action, Outcome::Routed(_)));
    }
}

/// A logged-in console with SOL active.
fn sol_session(ep: &mut Ep) -> Console {
    let console = login(ep, CipherSuite::SUITE_17, b"rbmc-admin").unwrap();
    let context = RequestContext {
        channel: 1,
        session_id: console.bmc_session_id,
        user_id: 2,
        privilege: Privilege::User,
    };
    let response = ep
        .activate_sol(Instant::now(), &context, &[1, 1, 0xC6, 0, 0, 0])
        .unwrap();
    assert!(matches!(ep.poll_event(), Some(Event::SolActive(true))));
    assert_eq!(response.len(), 12);
    console
}

#[test]
fn sol_keystrokes_are_acked_in_the_outbox_and_replays_dropped() {
    let mut ep = endpoint();
    let mut console = sol_session(&mut ep);
    let datagram = console.session.sol(&[1, 0, 0, 0, b'l', b's'], [9; 16]);
    ep.handle(Instant::now(), anywhere(), &datagram).unwrap();
    let Some(Event::ToHost { characters, .. }) = ep.poll_event() else {
        panic!("the keystrokes must go to the host");
    };
    assert_eq!(characters, b"ls");
    let outbox = ep.take_outbox();
    assert_eq!(outbox.len(), 1);
    let ack = console.session.read_sol(&outbox[0].contents).unwrap();
    assert_eq!(ack, [0, 1, 2, 0]);
    // The same datagram again is a replay: dropped before SOL sees it.
    assert!(matches!(
        handle(&mut ep, Instant::now(), &datagram),
        Outcome::Dropped(DropReason::Replayed(_))
    ));
    // Closing the session ends SOL.
    let close = console.request(0x3C, &console.bmc_session_id.to_le_bytes());
    let _ = handle(&mut ep, Instant::now(), &close);
    assert!(!ep.sol_active());
}

proptest! {
    /// Authentic SOL packets with random contents never panic the endpoint,
    /// and never route anything.
    #[test]
    fn random_sol_packets_never_panic(packets in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..300), 1..8)) {
        let mut ep = endpoint();
                let mut console = sol_session(&mut ep);
        let now = Instant::now();
        for body in &packets {
            let datagram = console.session.sol(body, [5; 16]);
            let action = handle(&mut ep, now, &datagram);
            prop_assert!(!matches!(action, Outcome::Routed(_)));
            ep.sol_output(now, body);
            ep.handle_timeout(now + Duration::from_secs(1));
            let _ = ep.take_outbox();
        }
    }
}

#[test]
fn logins_are_reported_for_the_audit_log() {
    let mut ep = endpoint();
    let _ = login(&mut ep, CipherSuite::SUITE_17, b"rbmc-admin").unwrap();
    let events = ep.take_login_events();
    assert!(
        matches!(&events[..], [LoginEvent::Opened { user, privilege: Privilege::Administrator, .. }] if user == "admin"),
        "{events:?}"
    );
    // A wrong password: the console gives up after RAKP 2; at the setup
    // timeout the endpoint reports an abandoned login.
    let refused = login(&mut ep, CipherSuite::SUITE_17, b"wrong");
    assert_eq!(
        refused.err(),
        Some(RakpStatus::INVALID_INTEGRITY_CHECK_VALUE)
    );
    assert!(ep.take_login_events().is_empty());
    let _ = ep.expire(Instant::now() + Duration::from_secs(11));
    assert!(
        matches!(&ep.take_login_events()[..], [LoginEvent::Abandoned { user, .. }] if user == "admin")
    );
}

mod handshake_table;
