//! The "SOL deactivating" notice to a console whose SOL another session
//! ended: resent until acknowledged, then its session closes.

use super::*;

/// A console whose SOL another session ends is told (status bit 4), again
/// each retry interval, and once it acknowledges, its session is closed.
#[test]
fn a_console_whose_sol_is_ended_is_told_until_it_acks_then_closed() {
    let (mut ep, t0) = (endpoint(), Instant::now());
    let mut first = sol_session(&mut ep);
    let second = login(&mut ep, CipherSuite::SUITE_17, b"rbmc-admin").unwrap();
    let context = RequestContext {
        channel: 1,
        session_id: second.bmc_session_id,
        user_id: 2,
        privilege: Privilege::Administrator,
    };
    ep.deactivate_sol(t0, &context, &[1, 1, 0, 0, 0, 0])
        .unwrap();
    let mut notices = Vec::new();
    for at in [t0, t0 + Duration::from_millis(500)] {
        ep.handle_timeout(at);
        notices.extend(
            ep.take_outbox()
                .iter()
                .map(|t| first.session.read_sol(&t.contents).unwrap()),
        );
    }
    assert_eq!(notices, [[1, 0, 0, 0x10], [1, 0, 0, 0x10]]);
    let ack = first.session.sol(&[0, 1, 0, 0], [3; 16]);
    ep.handle(t0, anywhere(), &ack).unwrap();
    let closed = std::iter::from_fn(|| ep.poll_event()).any(|e| {
        matches!(e, Event::SessionClosed { session_id, reason: CloseReason::SolTakenOver }
            if session_id == first.bmc_session_id)
    });
    assert!(closed, "the notified session is closed");
}
