//! The watchdog against Table 27-7 and 27-8 byte for byte, driven with
//! explicit instants (never the clock), and handlers that never panic.

use super::*;
use proptest::{collection::vec, prelude::*};
use PreTimeoutInterrupt as I;
use TimeoutAction as A;
use TimerUse as U;

/// What `ipmitool mc watchdog off` sends (ipmi_mc_shutoff_watchdog):
/// SMS/OS and stop, no action, no pre-timeout, clear the SMS/OS flag,
/// 3000 counts (5 minutes).
const IPMITOOL_OFF: [u8; 6] = [0x04, 0x00, 0x00, 0x10, 0xB8, 0x0B];
/// SMS/OS, don't stop, NMI 2 s before a hard reset at 10 s, clear all.
const SMS_NMI_RESET: [u8; 6] = [0x44, 0x21, 0x02, 0x3E, 0x64, 0x00];
const CC_C7: CompletionCode = CompletionCode::REQUEST_DATA_LENGTH_INVALID;
const CC_CC: CompletionCode = CompletionCode::INVALID_DATA_FIELD;
const CC_D5: CompletionCode = CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Set request data: timer use byte, actions byte, pre-timeout, clear
/// mask, countdown.
fn req(use_byte: u8, actions: u8, pre: u8, clear: u8, counts: u16) -> [u8; 6] {
    let [ls, ms] = counts.to_le_bytes();
    [use_byte, actions, pre, clear, ls, ms]
}

/// A watchdog configured with `request` and started at the returned time.
fn started(request: &[u8]) -> (Watchdog, Instant) {
    let (t0, mut wd) = (Instant::now(), Watchdog::new());
    wd.set(t0, request).unwrap();
    wd.reset(t0, &[]).unwrap();
    (wd, t0)
}

fn expired(action: A, interrupt: I, timer_use: U, log: bool) -> WatchdogEvent {
    WatchdogEvent::Expired {
        action,
        interrupt,
        timer_use,
        log,
    }
}

#[test]
fn codes_match_table_27_7() {
    for (code, flag, timer_use) in [
        (0, 0x00, U(0)),
        (1, 0x02, U::BIOS_FRB2),
        (2, 0x04, U::BIOS_POST),
        (3, 0x08, U::OS_LOAD),
        (4, 0x10, U::SMS_OS),
        (5, 0x20, U::OEM),
        (6, 0x00, U(6)),
        (7, 0x00, U(7)),
    ] {
        assert_eq!(U::from(code), timer_use);
        assert_eq!(U::from_code(code).is_some(), flag != 0, "reserved {code}");
        assert_eq!(
            (timer_use.code(), timer_use.expiration_flag()),
            (code, flag)
        );
    }
    for (code, interrupt, action) in [
        (0, I::None, A::NoAction),
        (1, I::Smi, A::HardReset),
        (2, I::Nmi, A::PowerDown),
        (3, I::MessagingInterrupt, A::PowerCycle),
    ] {
        assert_eq!(I::from_code(code), Some(interrupt));
        assert_eq!(A::from_code(code), Some(action));
        assert_eq!((interrupt.code(), action.code()), (code, code));
    }
    for code in 4..=255 {
        assert_eq!((I::from_code(code), A::from_code(code)), (None, None));
    }
    assert_eq!(CC_UNINITIALIZED.0, 0x80);
    assert_eq!(SENSOR_TYPE_WATCHDOG_2, 0x23);
    assert_eq!(SEL_OFFSET_TIMER_INTERRUPT, 0x08);
    for (action, offset) in [
        (A::NoAction, Watchdog2Offset::TIMER_EXPIRED),
        (A::HardReset, Watchdog2Offset::HARD_RESET),
        (A::PowerDown, Watchdog2Offset::POWER_DOWN),
        (A::PowerCycle, Watchdog2Offset::POWER_CYCLE),
    ] {
        assert_eq!(action.code(), offset.code(), "{action:?}");
    }
}

#[test]
fn sel_event_data_matches_table_42_3() {
    let pre = WatchdogEvent::PreTimeout {
        interrupt: I::Nmi,
        timer_use: U::BIOS_POST,
        log: false,
    };
    for (data, event) in [
        (
            [0xC0, 0x04, 0xFF],
            expired(A::NoAction, I::None, U::SMS_OS, true),
        ),
        (
            [0xC1, 0x21, 0xFF],
            expired(A::HardReset, I::Nmi, U::BIOS_FRB2, true),
        ),
        (
            [0xC2, 0x13, 0xFF],
            expired(A::PowerDown, I::Smi, U::OS_LOAD, false),
        ),
        (
            [0xC3, 0x35, 0xFF],
            expired(A::PowerCycle, I::MessagingInterrupt, U::OEM, true),
        ),
        ([0xC8, 0x22, 0xFF], pre),
    ] {
        assert_eq!(event.sel_event_data(), data, "{event:?}");
    }
}

#[test]
fn power_on_state() {
    let (t0, mut wd) = (Instant::now(), Watchdog::default());
    assert_eq!(wd.get(t0, &[]), Ok(vec![0; 8]));
    assert_eq!(wd.next_deadline(), None);
    assert_eq!(wd.reset(t0, &[]), Err(CC_UNINITIALIZED));
    assert!(wd.poll(t0 + ms(1_000_000)).is_empty());
}

#[test]
fn ipmitool_off_get_reset_sequence() {
    // A running SMS/OS timer that has expired once and was restarted.
    let (mut wd, t0) = started(&req(0x04, 0x00, 0, 0, 10));
    assert_eq!(wd.poll(t0 + ms(1_000)).len(), 1);
    assert_eq!(wd.expiration_flags(), 0x10);
    wd.reset(t0 + ms(1_000), &[]).unwrap();
    // `mc watchdog off` stops the timer and clears the SMS/OS flag.
    assert_eq!(wd.set(t0 + ms(1_500), &IPMITOOL_OFF), Ok(vec![]));
    assert_eq!(wd.next_deadline(), None);
    // `mc watchdog get` sends no data.
    let stopped = vec![0x04, 0x00, 0x00, 0x00, 0xB8, 0x0B, 0xB8, 0x0B];
    assert_eq!(wd.get(t0 + ms(9_000), &[]), Ok(stopped));
    // `mc watchdog reset` sends no data and starts the countdown.
    let t1 = t0 + ms(10_000);
    assert_eq!(wd.reset(t1, &[]), Ok(vec![]));
    let running = vec![0x44, 0x00, 0x00, 0x00, 0xB8, 0x0B, 0xB8, 0x0B];
    assert_eq!(wd.get(t1, &[]), Ok(running));
    let later = vec![0x44, 0x00, 0x00, 0x00, 0xB8, 0x0B, 0xAE, 0x0B];
    assert_eq!(wd.get(t1 + ms(1_000), &[]), Ok(later));
    assert_eq!(wd.next_deadline(), Some(t1 + ms(300_000)));
}

#[test]
fn set_request_parses_and_emits() {
    let request = SetRequest::parse(&SMS_NMI_RESET).unwrap();
    let expected = SetRequest {
        dont_log: false,
        dont_stop: true,
        timer_use: U::SMS_OS,
        interrupt: I::Nmi,
        action: A::HardReset,
        pre_timeout_secs: 2,
        clear_flags: 0x3E,
        initial_countdown: 100,
    };
    assert_eq!(request, expected);
    assert_eq!(request.emit(), SMS_NMI_RESET);
    assert_eq!(
        SetRequest::parse(&IPMITOOL_OFF).unwrap().emit(),
        IPMITOOL_OFF
    );
}

#[test]
fn lengths_are_checked() {
    let (t0, mut wd) = (Instant::now(), Watchdog::new());
    assert_eq!(wd.set(t0, &IPMITOOL_OFF[..5]), Err(CC_C7));
    assert_eq!(wd.set(t0, &[&IPMITOOL_OFF[..], &[0]].concat()), Err(CC_C7));
    assert_eq!(wd.set(t0, &[]), Err(CC_C7));
    assert_eq!(wd.get(t0, &[0]), Err(CC_C7));
    assert_eq!(wd.reset(t0, &[0]), Err(CC_C7));
}

#[test]
fn reserved_fields_are_rejected() {
    let t0 = Instant::now();
    for (why, request) in [
        ("use 0", req(0x00, 0x00, 0, 0, 10)),
        ("use 6", req(0x06, 0x00, 0, 0, 10)),
        ("use 7", req(0x07, 0x00, 0, 0, 10)),
        ("byte 1 bit 3", req(0x0C, 0x00, 0, 0, 10)),
        ("byte 1 bit 5", req(0x24, 0x00, 0, 0, 10)),
        ("byte 2 bit 7", req(0x04, 0x80, 0, 0, 10)),
        ("byte 2 bit 3", req(0x04, 0x08, 0, 0, 10)),
        ("interrupt 4", req(0x04, 0x40, 0, 0, 10)),
        ("action 4", req(0x04, 0x04, 0, 0, 10)),
        ("clear bit 0", req(0x04, 0x00, 0, 0x01, 10)),
        ("clear bit 6", req(0x04, 0x00, 0, 0x40, 10)),
        ("clear bit 7", req(0x04, 0x00, 0, 0x80, 10)),
        ("pre-timeout 2 s > 1.9 s", req(0x04, 0x10, 2, 0, 19)),
    ] {
        let mut wd = Watchdog::new();
        assert_eq!(wd.set(t0, &request), Err(CC_CC), "{why}");
        assert_eq!(wd.reset(t0, &[]), Err(CC_UNINITIALIZED), "{why}");
    }
    for (why, request) in [
        ("pre-timeout = countdown", req(0x04, 0x10, 2, 0, 20)),
        ("pre-timeout without interrupt", req(0x04, 0x01, 255, 0, 1)),
        ("every valid bit", req(0xC5, 0x33, 0, 0x3E, 0xFFFF)),
    ] {
        assert_eq!(Watchdog::new().set(t0, &request), Ok(vec![]), "{why}");
    }
}

#[test]
fn countdown_counts_100_ms_rounding_up() {
    let (mut wd, t0) = started(&req(0x04, 0x00, 0, 0, 100));
    for (elapsed, present) in [
        (0, 100),
        (50, 100),
        (100, 99),
        (101, 99),
        (2_500, 75),
        (9_950, 1),
        (10_000, 0),
    ] {
        let data = wd.get(t0 + ms(elapsed), &[]).unwrap();
        assert_eq!(
            u16::from_le_bytes([data[6], data[7]]),
            present,
            "{elapsed} ms"
        );
    }
    assert_eq!(wd.next_deadline(), Some(t0 + ms(10_000)));
    assert!(wd.poll(t0 + ms(9_999)).is_empty());
    assert_eq!(wd.poll(t0 + ms(10_000)).len(), 1);
}

#[test]
fn countdown_zero_expires_at_once() {
    let (mut wd, t0) = started(&req(0x01, 0x02, 0, 0, 0));
    assert_eq!(wd.next_deadline(), Some(t0));
    assert_eq!(
        wd.poll(t0),
        [expired(A::PowerDown, I::None, U::BIOS_FRB2, true)]
    );
}

#[test]
fn pre_timeout_fires_interval_before_expiry() {
    let (t0, mut wd) = (Instant::now(), Watchdog::new());
    wd.set(t0, &SMS_NMI_RESET).unwrap();
    assert_eq!(
        wd.next_deadline(),
        None,
        "don't stop leaves a stopped timer stopped"
    );
    wd.reset(t0, &[]).unwrap();
    assert_eq!(wd.next_deadline(), Some(t0 + ms(8_000)));
    // Reset before the pre-timeout restarts the countdown.
    wd.reset(t0 + ms(1_000), &[]).unwrap();
    assert_eq!(wd.next_deadline(), Some(t0 + ms(9_000)));
    assert!(wd.poll(t0 + ms(8_999)).is_empty());
    let pre = WatchdogEvent::PreTimeout {
        interrupt: I::Nmi,
        timer_use: U::SMS_OS,
        log: true,
    };
    assert_eq!(wd.poll(t0 + ms(9_000)), [pre]);
    assert_eq!(wd.next_deadline(), Some(t0 + ms(11_000)));
    // §27.5: once the pre-timeout was reached, Reset no longer restarts.
    assert_eq!(wd.reset(t0 + ms(10_000), &[]), Err(CC_D5));
    let expiry = expired(A::HardReset, I::Nmi, U::SMS_OS, true);
    assert_eq!(wd.poll(t0 + ms(11_000)), [expiry]);
    // After expiry Reset starts it again, with the interrupt re-armed.
    wd.reset(t0 + ms(12_000), &[]).unwrap();
    assert_eq!(wd.next_deadline(), Some(t0 + ms(20_000)));
}

#[test]
fn late_poll_returns_both_events_in_order() {
    let (mut wd, t0) = started(&SMS_NMI_RESET);
    let events = wd.poll(t0 + ms(60_000));
    assert!(matches!(
        events.as_slice(),
        [
            WatchdogEvent::PreTimeout { .. },
            WatchdogEvent::Expired { .. }
        ]
    ));
}

#[test]
fn expiry_stops_sets_flag_and_clears_dont_log() {
    // Don't log, OS Load, power cycle after 1 s.
    let (mut wd, t0) = started(&req(0x83, 0x03, 0, 0, 10));
    assert_eq!(wd.get(t0, &[]).unwrap()[0], 0xC3, "don't log + running");
    let events = wd.poll(t0 + ms(1_000));
    assert_eq!(events, [expired(A::PowerCycle, I::None, U::OS_LOAD, false)]);
    assert!(!wd.is_running());
    assert_eq!(wd.next_deadline(), None);
    let data = vec![0x03, 0x03, 0x00, 0x08, 0x0A, 0x00, 0x00, 0x00];
    assert_eq!(wd.get(t0 + ms(5_000), &[]), Ok(data));
    assert!(
        wd.poll(t0 + ms(5_000)).is_empty(),
        "expiry is reported once"
    );
}

#[test]
fn a_due_expiry_is_seen_by_get_and_kept_for_poll() {
    let (mut wd, t0) = started(&req(0x02, 0x01, 0, 0, 10));
    let data = vec![0x02, 0x01, 0x00, 0x04, 0x0A, 0x00, 0x00, 0x00];
    assert_eq!(wd.get(t0 + ms(2_000), &[]), Ok(data));
    // A Set that arrives before the service polled keeps the expiry.
    wd.set(t0 + ms(3_000), &req(0x02, 0x00, 0, 0, 10)).unwrap();
    assert_eq!(wd.next_deadline(), Some(t0 + ms(1_000)), "poll at once");
    let events = wd.poll(t0 + ms(3_000));
    assert_eq!(events, [expired(A::HardReset, I::None, U::BIOS_POST, true)]);
    assert_eq!(wd.expiration_flags(), 0x04);
}

#[test]
fn dont_stop_bit() {
    let (t0, mut wd) = (Instant::now(), Watchdog::new());
    // Stopped + don't stop: stays stopped.
    wd.set(t0, &req(0x44, 0x00, 0, 0, 50)).unwrap();
    assert!(!wd.is_running());
    wd.reset(t0, &[]).unwrap();
    // Running + don't stop: keeps running, from the new countdown.
    wd.set(t0 + ms(1_000), &req(0x44, 0x00, 0, 0, 30)).unwrap();
    assert!(wd.is_running());
    assert_eq!(wd.next_deadline(), Some(t0 + ms(4_000)));
    assert_eq!(wd.get(t0 + ms(1_000), &[]).unwrap()[6..], [30, 0]);
    // Running, no don't stop: stops, and the countdown reloads.
    wd.set(t0 + ms(2_000), &req(0x04, 0x00, 0, 0, 30)).unwrap();
    assert!(!wd.is_running());
    assert_eq!(wd.get(t0 + ms(9_000), &[]).unwrap()[6..], [30, 0]);
    assert!(wd.poll(t0 + ms(9_000)).is_empty());
}

#[test]
fn dont_stop_set_rearms_a_fired_pre_timeout() {
    let (mut wd, t0) = started(&SMS_NMI_RESET);
    assert_eq!(wd.poll(t0 + ms(8_000)).len(), 1);
    assert_eq!(wd.reset(t0 + ms(8_000), &[]), Err(CC_D5));
    wd.set(t0 + ms(8_500), &SMS_NMI_RESET).unwrap();
    assert_eq!(wd.next_deadline(), Some(t0 + ms(16_500)));
    assert_eq!(wd.reset(t0 + ms(9_000), &[]), Ok(vec![]));
}

#[test]
fn clear_mask_clears_only_its_flags() {
    let (t0, mut wd) = (Instant::now(), Watchdog::new());
    for timer_use in 1..=5 {
        wd.set(t0, &req(timer_use, 0x00, 0, 0, 0)).unwrap();
        wd.reset(t0, &[]).unwrap();
        assert_eq!(wd.poll(t0).len(), 1);
    }
    assert_eq!(wd.expiration_flags(), 0x3E);
    wd.set(t0, &req(0x01, 0x00, 0, 0x12, 0)).unwrap();
    assert_eq!(wd.expiration_flags(), 0x2C);
    wd.set(t0, &req(0x01, 0x00, 0, 0x2C, 0)).unwrap();
    assert_eq!(wd.expiration_flags(), 0x00);
}

#[test]
fn host_reset_stops_keeps_flags_and_needs_a_new_set() {
    let (mut wd, t0) = started(&req(0x04, 0x01, 0, 0, 10));
    assert_eq!(wd.poll(t0 + ms(1_000)).len(), 1);
    wd.on_host_reset();
    wd.set(t0 + ms(2_000), &req(0x81, 0x01, 0, 0, 10)).unwrap();
    wd.reset(t0 + ms(2_000), &[]).unwrap();
    wd.on_host_reset();
    assert_eq!(wd.next_deadline(), None);
    let data = vec![0x01, 0x01, 0x00, 0x10, 0x0A, 0x00, 0x0A, 0x00];
    assert_eq!(wd.get(t0 + ms(9_000), &[]), Ok(data));
    assert_eq!(wd.reset(t0 + ms(9_000), &[]), Err(CC_UNINITIALIZED));
    assert!(wd.poll(t0 + ms(60_000)).is_empty());
}

/// Request data: mostly arbitrary, a third valid Set requests with short
/// countdowns so the timer actually runs.
fn request_data() -> impl Strategy<Value = Vec<u8>> {
    let valid = (
        1u8..=5,
        0u8..4,
        0u8..4,
        0u8..4,
        any::<u8>(),
        0u16..100,
        any::<u8>(),
    );
    prop_oneof![
        2 => vec(any::<u8>(), 0..9),
        1 => valid.prop_map(|(timer_use, interrupt, action, pre, clear, counts, bits)| {
            let use_byte = timer_use | (bits & 0xC0);
            req(use_byte, (interrupt << 4) | action, pre, clear & 0x3E, counts).to_vec()
        }),
    ]
}

proptest! {
    #[test]
    fn handlers_never_panic(
        ops in vec((0u8..5, 0u64..20_000, request_data()), 0..64),
    ) {
        let (mut now, mut wd) = (Instant::now(), Watchdog::new());
        for (op, step_ms, data) in ops {
            now += ms(step_ms);
            match op {
                0 => drop(wd.set(now, &data)),
                1 => drop(wd.get(now, &data)),
                2 => drop(wd.reset(now, &data)),
                3 => wd.on_host_reset(),
                _ => drop(wd.poll(now)),
            }
            let data = wd.get(now, &[]).unwrap();
            let initial = u16::from_le_bytes([data[4], data[5]]);
            prop_assert!(u16::from_le_bytes([data[6], data[7]]) <= initial);
            if let Some(deadline) = wd.next_deadline() {
                // After a poll at the deadline, nothing is due any more.
                now = now.max(deadline);
                drop(wd.poll(now));
                prop_assert!(wd.next_deadline().is_none_or(|next| next > now));
            }
        }
    }

    #[test]
    fn poll_never_panics(
        data in request_data(),
        steps in vec(any::<u32>(), 0..64),
    ) {
        let (mut now, mut wd) = (Instant::now(), Watchdog::new());
        let _ = wd.set(now, &data);
        let _ = wd.reset(now, &[]);
        for step in steps {
            now += ms(u64::from(step));
            prop_assert!(wd.poll(now).len() <= 2);
        }
    }
}
