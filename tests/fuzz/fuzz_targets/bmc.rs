//! What the RMCP+ targets share: an endpoint with one user (admin /
//! rbmc-admin) whose accounts owner answers in memory, a fixed clock and
//! a deterministic random source, and a console that logs in to it.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use ipmi_lan::{
    console::{ConsoleSession, Handshake},
    sol::SolConfig,
    AuthAnswer, AuthStep, ChannelPolicy, Endpoint, EndpointConfig, Event, Rakp2Answer, Random,
    SolPolicy,
};
use ipmi_wire::{crypto::CipherSuite, Privilege, RakpStatus};

const PASSWORD: &[u8] = b"rbmc-admin";

/// A deterministic random source (a 64-bit LCG).
pub struct Lcg(pub u64);

impl Random for Lcg {
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

/// A channel that offers SOL.
pub struct Channel;

impl ChannelPolicy for Channel {
    fn sol(&self) -> Option<SolPolicy> {
        Some(SolPolicy {
            config: SolConfig::default(),
            takeover: false,
            port: 623,
        })
    }
}

pub fn endpoint() -> Endpoint<Channel> {
    Endpoint::new(
        EndpointConfig {
            channel: 1,
            guid: [0x42; 16],
            cipher_suites: CipherSuite::SUPPORTED.to_vec(),
            max_sessions: 4,
            idle_timeout: Duration::from_secs(60),
            setup_timeout: Duration::from_secs(10),
            kg: None,
            max_sessions_per_user: 0,
            max_handshakes_per_address: 4,
            failed_login_burst: 16,
            failed_login_interval: Duration::from_secs(2),
        },
        Channel,
        Box::new(Lcg(7)),
    )
}

pub fn peer() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 7], 40000))
}

/// Runs what the endpoint asked for: the accounts owner's answers, and an
/// empty success for every routed request (the owners are not the target).
/// Returns the datagrams it sent.
pub fn settle(endpoint: &mut Endpoint<Channel>, now: Instant) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    for _ in 0..64 {
        let mut progressed = false;
        while let Some(event) = endpoint.poll_event() {
            progressed = true;
            match event {
                Event::Authenticate(request) => {
                    let known = request.transcript.username == b"admin";
                    let answer = match &request.step {
                        AuthStep::Rakp2 => AuthAnswer::Rakp2(if known {
                            Ok(Rakp2Answer {
                                user_id: 2,
                                privilege_limit: Privilege::Administrator,
                                sol_allowed: true,
                                code: request.transcript.rakp2_code(&request.suite, PASSWORD),
                            })
                        } else {
                            Err(RakpStatus::UNAUTHORIZED_NAME)
                        }),
                        AuthStep::Rakp3 { code } => AuthAnswer::Rakp3(
                            if known
                                && request
                                    .transcript
                                    .verify_rakp3(&request.suite, PASSWORD, code)
                            {
                                Ok(request.transcript.sik(&request.suite, PASSWORD))
                            } else {
                                Err(RakpStatus::INVALID_INTEGRITY_CHECK_VALUE)
                            },
                        ),
                        AuthStep::ConsoleRefused { .. } => continue,
                    };
                    endpoint.authenticated(now, request.session_id, answer);
                }
                Event::Request(pending) => endpoint.respond(now, &pending, Ok(Vec::new())),
                _ => {}
            }
        }
        while let Some(transmit) = endpoint.poll_transmit() {
            progressed = true;
            sent.push(transmit.contents);
        }
        if !progressed {
            break;
        }
    }
    sent
}

/// Logs in as admin with `suite`; the console's session.
pub fn login(endpoint: &mut Endpoint<Channel>, now: Instant, suite: CipherSuite) -> ConsoleSession {
    let mut handshake = Handshake::new(
        suite,
        b"admin",
        PASSWORD,
        Privilege::Administrator,
        0xC0C0_0001,
        [0x11; 16],
    );
    let exchange = |endpoint: &mut Endpoint<Channel>, datagram: &[u8]| {
        let _ = endpoint.handle(now, peer(), datagram);
        settle(endpoint, now).pop().expect("an answer")
    };
    let open = exchange(endpoint, &handshake.open_session_request());
    let rakp1 = handshake.on_open_session_response(&open).expect("open");
    let rakp2 = exchange(endpoint, &rakp1);
    let rakp3 = handshake.on_rakp2(&rakp2).expect("rakp 2");
    let rakp4 = exchange(endpoint, &rakp3);
    handshake.on_rakp4(&rakp4).expect("rakp 4")
}
