//! SOL packets, the retry and accumulate rules of the payload engine, the
//! SOL configuration parameters and the activation response.

use super::*;

/// The dispatcher the service's command table replaces: one
/// entry per command, for these tests.
impl SolParameters {
    /// Runs Get or Set SOL Configuration Parameters; `None` for another
    /// command. The flag says whether the configuration changed.
    fn execute(&mut self, cmd: u8, data: &[u8], present: u8) -> Option<(CommandResult, bool)> {
        match cmd {
            CMD_GET_SOL_CONFIG => Some((self.cmd_get_sol_config(data, present), false)),
            CMD_SET_SOL_CONFIG => {
                let before = self.config.clone();
                let result = self.cmd_set_sol_config(data, present);
                Some((result, self.config != before))
            }
            _ => None,
        }
    }
}

fn link() -> (SolLink, Instant) {
    (SolLink::new(SolConfig::default()), Instant::now())
}

fn ack(sequence: u8, accepted: u8) -> SolPacket {
    SolPacket {
        sequence: 0,
        ack_sequence: sequence,
        accepted,
        flags: 0,
        data: vec![],
    }
}

#[test]
fn packets_round_trip_and_reserved_bits_are_ignored() {
    let p = SolPacket::parse(&[0xF3, 0x02, 5, 0x40, b'h', b'i']).unwrap();
    assert_eq!((p.sequence, p.ack_sequence, p.accepted), (3, 2, 5));
    assert_eq!(p.data, b"hi");
    assert_eq!(SolPacket::parse(&p.emit()).unwrap(), p);
    assert_eq!(SolPacket::parse(&[1, 2, 3]), None);
}

#[test]
fn output_waits_for_the_accumulate_interval_or_the_threshold() {
    let (mut l, t0) = link();
    assert!(l.push_output(t0, b"login: ").is_empty());
    assert_eq!(l.next_deadline(), Some(t0 + Duration::from_millis(50)));
    let sent = l.poll(t0 + Duration::from_millis(50));
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].sequence, &sent[0].data[..]), (1, &b"login: "[..]));
    // A full threshold goes at once (after the outstanding packet).
    l.on_packet(t0, &ack(1, 7), HostState::Ready);
    let sent = l.push_output(t0, &[b'x'; 96]);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].sequence, 2);
}

#[test]
fn unacknowledged_packets_are_retried_then_given_up() {
    let (mut l, t0) = link();
    l.push_output(t0, &[b'a'; 100]);
    let mut t = t0;
    for _ in 0..7 {
        t += Duration::from_millis(500);
        let again = l.poll(t);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].sequence, 1, "a retry keeps its sequence number");
    }
    t += Duration::from_millis(500);
    assert!(l.poll(t).is_empty());
    assert!(l.is_idle());
    // The next packet says characters were lost.
    let sent = l.push_output(t, &[b'b'; 96]);
    assert_eq!(sent[0].flags & STATUS_OVERRUN, STATUS_OVERRUN);
    assert_eq!(sent[0].sequence, 2);
}

#[test]
fn room_shrinks_as_output_waits() {
    let (mut l, t0) = link();
    assert_eq!(l.room(), MAX_BUFFERED);
    l.push_output(t0, &[b'a'; 1000]);
    // One packet went out; the rest waits for its ACK.
    assert_eq!(l.room(), MAX_BUFFERED - (1000 - MAX_CHARS));
    l.push_output(t0, &vec![b'b'; MAX_BUFFERED]);
    assert_eq!(l.room(), 0);
}

#[test]
fn a_partial_ack_resends_the_rest_in_a_new_packet() {
    let (mut l, t0) = link();
    l.push_output(t0, &[b'z'; 100]);
    let input = l.on_packet(t0, &ack(1, 40), HostState::Ready);
    assert_eq!(input.replies.len(), 1);
    assert_eq!(input.replies[0].sequence, 2);
    assert_eq!(input.replies[0].data.len(), 60);
}

#[test]
fn a_nack_keeps_the_packet_for_later() {
    let (mut l, t0) = link();
    l.push_output(t0, &[b'n'; 96]);
    let mut nack = ack(1, 0);
    nack.flags = OP_NACK;
    assert!(l.on_packet(t0, &nack, HostState::Ready).replies.is_empty());
    assert!(!l.is_idle());
    let again = l.poll(t0 + Duration::from_millis(500));
    assert_eq!(again[0].sequence, 1);
}

#[test]
fn sequence_numbers_cycle_through_1_to_15() {
    let (mut l, t0) = link();
    let mut seen = Vec::new();
    for _ in 0..16 {
        let sent = l.push_output(t0, &[b'q'; 96]);
        seen.push(sent[0].sequence);
        l.on_packet(t0, &ack(sent[0].sequence, 96), HostState::Ready);
    }
    assert_eq!(seen[..15], (1..=15).collect::<Vec<_>>()[..]);
    assert_eq!(seen[15], 1);
}

#[test]
fn console_keystrokes_are_acked_once_and_delivered_once() {
    let (mut l, t0) = link();
    let typed = SolPacket {
        sequence: 4,
        ack_sequence: 0,
        accepted: 0,
        flags: 0,
        data: b"root\r".to_vec(),
    };
    let input = l.on_packet(t0, &typed, HostState::Ready);
    assert_eq!(input.to_host, b"root\r");
    assert_eq!(input.replies, [ack(4, 5)]);
    let again = l.on_packet(t0, &typed, HostState::Ready);
    assert!(
        again.to_host.is_empty(),
        "a retransmission is not typed twice"
    );
    assert_eq!(again.replies, [ack(4, 5)]);
    let brk = SolPacket {
        sequence: 5,
        flags: OP_BREAK,
        data: vec![],
        ..typed
    };
    assert!(l.on_packet(t0, &brk, HostState::Ready).send_break);
}

#[test]
fn a_longer_repeat_delivers_only_what_it_adds() {
    let (mut l, t0) = link();
    let first = SolPacket {
        sequence: 2,
        ack_sequence: 0,
        accepted: 0,
        flags: 0,
        data: b"ab".to_vec(),
    };
    assert_eq!(l.on_packet(t0, &first, HostState::Ready).to_host, b"ab");
    let longer = SolPacket {
        data: b"abcd".to_vec(),
        ..first
    };
    let input = l.on_packet(t0, &longer, HostState::Ready);
    assert_eq!(input.to_host, b"cd");
    assert_eq!(input.replies, [ack(2, 4)]);
}

#[test]
fn characters_the_host_cannot_take_are_nacked() {
    let (mut l, t0) = link();
    let typed = SolPacket {
        sequence: 1,
        ack_sequence: 0,
        accepted: 0,
        flags: 0,
        data: b"x".to_vec(),
    };
    let busy = l.on_packet(t0, &typed, HostState::Busy);
    assert!(busy.to_host.is_empty());
    assert_eq!(
        (busy.replies[0].accepted, busy.replies[0].flags),
        (0, STATUS_NACK)
    );
    let gone = l.on_packet(t0, &typed, HostState::Unavailable);
    assert_eq!(
        gone.replies[0].flags,
        STATUS_NACK | STATUS_TRANSFER_UNAVAILABLE
    );
    // Once the host can take them, the retry is delivered.
    assert_eq!(l.on_packet(t0, &typed, HostState::Ready).to_host, b"x");
    // More than a packet's worth is capped and ACKed as such.
    let big = SolPacket {
        sequence: 3,
        data: vec![b'y'; 255],
        ..typed
    };
    let input = l.on_packet(t0, &big, HostState::Ready);
    assert_eq!(input.to_host.len(), MAX_CHARS);
    assert_eq!(usize::from(input.replies[0].accepted), MAX_CHARS);
}

#[test]
fn sol_parameters_get_and_set() {
    let mut p = SolParameters::new(SolConfig::default(), 1, 623);
    let get = |p: &mut SolParameters, param: u8| {
        p.execute(CMD_GET_SOL_CONFIG, &[1, param, 0, 0], 1)
            .unwrap()
            .0
    };
    assert_eq!(get(&mut p, 1).unwrap(), [0x11, 1]);
    assert_eq!(get(&mut p, 2).unwrap(), [0x11, 0xC2]);
    assert_eq!(get(&mut p, 8).unwrap(), [0x11, 0x6F, 0x02]);
    assert_eq!(get(&mut p, 9), Err(CC_PARAMETER_NOT_SUPPORTED));
    assert_eq!(
        p.execute(CMD_GET_SOL_CONFIG, &[0x81, 1, 0, 0], 1)
            .unwrap()
            .0
            .unwrap(),
        [0x11]
    );
    let set = |p: &mut SolParameters, data: &[u8]| p.execute(CMD_SET_SOL_CONFIG, data, 1).unwrap();
    assert_eq!(set(&mut p, &[1, 1, 0]), (Ok(vec![]), true));
    assert_eq!(get(&mut p, 1).unwrap(), [0x11, 0]);
    assert_eq!(set(&mut p, &[1, 2, 0xC3]), (Ok(vec![]), true));
    assert_eq!(p.config.privilege, Privilege::Operator);
    assert_eq!(
        set(&mut p, &[1, 2, 0x03]).0,
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(
        set(&mut p, &[1, 4, 0x08, 10]).0,
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(set(&mut p, &[1, 6, 0x09]), (Ok(vec![]), true));
    assert_eq!(
        set(&mut p, &[1, 6, 0x05]).0,
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(set(&mut p, &[1, 8, 1, 2]).0, Err(CC_READ_ONLY_PARAMETER));
    assert_eq!(
        set(&mut p, &[2, 1, 1]).0,
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(set(&mut p, &[1, 0, 1]).0, Ok(vec![]));
    assert_eq!(set(&mut p, &[1, 0, 1]).0, Err(CC_SET_IN_PROGRESS));
    assert_eq!(set(&mut p, &[1, 0, 0]).0, Ok(vec![]));
}

#[test]
fn activation_response_is_12_bytes() {
    let r = activate_response(6230);
    assert_eq!(r.len(), 12);
    assert_eq!(&r[8..10], &6230u16.to_le_bytes());
    assert_eq!(parse_sol_instance(&[1, 1, 0xC6, 0, 0, 0], 6), Ok(()));
    assert_eq!(
        parse_sol_instance(&[0, 1, 0, 0, 0, 0], 6),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    assert_eq!(
        parse_sol_instance(&[1, 2, 0, 0, 0, 0], 6),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
}

#[test]
fn a_new_link_holds_output_until_answered_and_a_while_after() {
    let t0 = Instant::now();
    let mut l = SolLink::held_until_answered(SolConfig::default());
    // A boot log larger than the send threshold waits, without a deadline.
    assert!(l.push_output(t0, &[b'x'; 200]).is_empty());
    assert_eq!(l.next_deadline(), None);
    assert!(l.poll(t0 + Duration::from_secs(5)).is_empty());
    let answered = t0 + Duration::from_secs(5);
    l.answered(answered);
    assert_eq!(l.next_deadline(), Some(answered + FIRST_DATA_HOLD));
    assert!(l.poll(answered + Duration::from_millis(99)).is_empty());
    let sent = l.poll(answered + FIRST_DATA_HOLD);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].sequence, 1);
}

/// Found by the `command_bodies` fuzz target: no data at an expected
/// length of zero indexed past the end. Any length, no bytes: C7h.
#[test]
fn an_empty_payload_instance_is_a_length_error() {
    for length in [0, 1, 2, 6] {
        assert_eq!(
            parse_sol_instance(&[], length),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }
}
