use super::*;
use crate::filter::FilterEntry;

const SECOND: Duration = Duration::from_secs(1);

fn event(record_id: u16) -> Event {
    Event {
        record_id,
        timestamp: 100 + u32::from(record_id),
        generator_id: 0x20,
        evm_rev: 4,
        sensor_type: 0x01,
        sensor_number: 1,
        dir_type: 0x01,
        data: [0x59, 0x5F, 0x5A],
    }
}

/// PEF on, every action allowed, filter 1 catches all with power down and
/// alert (policy 2, critical).
fn catch_all() -> PefSettings {
    let mut settings = PefSettings {
        action_global_control: 0x3F,
        ..PefSettings::default()
    };
    let mut entry = FilterEntry::default();
    entry.0[0] = 0x80;
    entry.0[1] = 0x03;
    entry.0[2] = 0x02;
    entry.0[3] = 0x10;
    settings.filters[0] = entry;
    settings
}

fn ids(out: &[Output]) -> Vec<(u16, &'static str)> {
    out.iter()
        .map(|o| match o {
            Output::Act { event, .. } => (event.record_id, "act"),
            Output::Alert { event, .. } => (event.record_id, "alert"),
        })
        .collect()
}

#[test]
fn an_event_is_acted_on_and_alerted_at_once() {
    let settings = catch_all();
    let mut pef = Processor::new();
    let out = pef.event_added(Duration::ZERO, &settings, event(1));
    assert_eq!(
        out[0],
        Output::Act {
            event: event(1),
            action: PowerAction::PowerDown,
            actions: Actions::from_bits(0x03)
        }
    );
    assert!(
        matches!(out[1], Output::Alert { request, .. } if request.policy == 2 && request.severity == 0x10)
    );
    assert_eq!(pef.last_processed(), [101, 0, 0, 0, 1, 0, 0xFF, 0xFF, 1, 0]);
}

#[test]
fn nothing_happens_while_pef_is_disabled() {
    let mut settings = catch_all();
    settings.control = 0;
    let mut pef = Processor::new();
    assert!(pef
        .event_added(Duration::ZERO, &settings, event(1))
        .is_empty());
    // The addition is still reported; nothing was processed.
    assert_eq!(
        pef.last_processed(),
        [101, 0, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF]
    );
    assert_eq!(Processor::new().last_processed(), [0xFF; 10]);
}

#[test]
fn the_startup_delay_holds_events_and_the_alert_delay_holds_alerts() {
    let mut settings = catch_all();
    settings.control = 0x0D; // PEF, startup delay, alert startup delay
    settings.startup_delay = 5;
    settings.alert_startup_delay = 10;
    let mut pef = Processor::new();
    pef.system_started(Duration::ZERO, &settings);
    assert!(pef.event_added(SECOND, &settings, event(1)).is_empty());
    assert_eq!(pef.poll_timeout(), Some(5 * SECOND));
    assert!(pef.handle_timeout(4 * SECOND, &settings).is_empty());
    // At 5 s the action runs; the alert waits for 10 s.
    assert_eq!(
        ids(&pef.handle_timeout(5 * SECOND, &settings)),
        [(1, "act")]
    );
    assert_eq!(pef.poll_timeout(), Some(10 * SECOND));
    assert_eq!(
        ids(&pef.event_added(6 * SECOND, &settings, event(2))),
        [(2, "act")]
    );
    assert_eq!(
        ids(&pef.handle_timeout(10 * SECOND, &settings)),
        [(1, "alert"), (2, "alert")]
    );
    assert_eq!(pef.poll_timeout(), None);
    // Delays not enabled: nothing is held.
    let mut pef = Processor::new();
    pef.system_started(Duration::ZERO, &catch_all());
    assert_eq!(pef.event_added(SECOND, &catch_all(), event(3)).len(), 2);
}

#[test]
fn the_postpone_timer_holds_events_until_it_runs_out() {
    let settings = catch_all();
    let mut pef = Processor::new();
    let (countdown, out) = pef.arm_postpone(Duration::ZERO, &settings, &[10]).unwrap();
    assert_eq!((countdown, out), (10, vec![]));
    assert!(pef.event_added(SECOND, &settings, event(1)).is_empty());
    assert!(pef.event_added(2 * SECOND, &settings, event(2)).is_empty());
    assert!(pef.event_added(3 * SECOND, &settings, event(3)).is_empty());
    let read = pef.arm_postpone(Duration::from_millis(3500), &settings, &[0xFF]);
    assert_eq!(read.unwrap().0, 7);
    // Software processed records 1 and 2 meanwhile.
    pef.set_last_processed(&[0, 2, 0]).unwrap();
    assert_eq!(pef.poll_timeout(), Some(10 * SECOND));
    let out = pef.handle_timeout(10 * SECOND, &settings);
    assert_eq!(ids(&out), [(3, "act"), (3, "alert")]);
    assert_eq!(pef.last_processed()[6..], [2, 0, 3, 0]);
}

#[test]
fn temporary_disable_lasts_until_disarmed() {
    let settings = catch_all();
    let mut pef = Processor::new();
    assert_eq!(
        pef.arm_postpone(Duration::ZERO, &settings, &[0xFE])
            .unwrap()
            .0,
        0xFE
    );
    assert!(pef.event_added(SECOND, &settings, event(1)).is_empty());
    assert_eq!(pef.poll_timeout(), None);
    assert!(pef.handle_timeout(1000 * SECOND, &settings).is_empty());
    let (countdown, out) = pef.arm_postpone(1001 * SECOND, &settings, &[0]).unwrap();
    assert_eq!(countdown, 0);
    assert_eq!(ids(&out), [(1, "act"), (1, "alert")]);
}

#[test]
fn a_full_hold_drops_the_oldest() {
    let settings = catch_all();
    let mut pef = Processor::new();
    pef.arm_postpone(Duration::ZERO, &settings, &[0xFE])
        .unwrap();
    for id in 1..=(u16::try_from(HOLD_LIMIT).unwrap() + 3) {
        pef.event_added(SECOND, &settings, event(id));
    }
    assert_eq!(pef.dropped(), 3);
    let (_, out) = pef.arm_postpone(2 * SECOND, &settings, &[0]).unwrap();
    assert_eq!(out.len(), 2 * HOLD_LIMIT);
    assert_eq!(ids(&out)[0], (4, "act"));
}

#[test]
fn bad_requests_are_refused() {
    let settings = catch_all();
    let mut pef = Processor::new();
    assert!(pef.arm_postpone(Duration::ZERO, &settings, &[]).is_err());
    assert!(pef.set_last_processed(&[2, 0, 0]).is_err());
    assert!(pef.set_last_processed(&[0, 0]).is_err());
    pef.set_last_processed(&[1, 0x34, 0x12]).unwrap();
    assert_eq!(pef.last_processed()[8..], [0x34, 0x12]);
}
