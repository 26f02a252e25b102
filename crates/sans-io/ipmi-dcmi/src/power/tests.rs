use super::*;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn u16_at(reply: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([reply[at], reply[at + 1]])
}

fn u32_at(reply: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([reply[at], reply[at + 1], reply[at + 2], reply[at + 3]])
}

#[test]
fn period_bytes_name_their_span() {
    assert_eq!(period_span(0x05), secs(5));
    assert_eq!(period_span(0x41), secs(60));
    assert_eq!(period_span(0x5E), secs(1800));
    assert_eq!(period_span(0x81), secs(3600));
    assert_eq!(period_span(0xC1), secs(86_400));
    assert!(PERIODS.iter().all(|p| period_span(*p) <= KEPT));
}

#[test]
fn a_reading_reports_current_min_max_average_and_its_period() {
    let mut stats = PowerStatistics::default();
    for (at, watts) in [(10, 100.0), (11, 300.4), (12, 200.0)] {
        stats.record(secs(at), watts);
    }
    let reply = get_power_reading(&stats, &[0xDC, 1, 0, 0], secs(12), 0x1234_5678).unwrap();
    assert_eq!(reply.len(), 18);
    assert_eq!(reply[0], 0xDC);
    assert_eq!(u16_at(&reply, 1), 200, "current");
    assert_eq!(u16_at(&reply, 3), 100, "minimum");
    assert_eq!(u16_at(&reply, 5), 300, "maximum");
    assert_eq!(u16_at(&reply, 7), 200, "average");
    assert_eq!(u32_at(&reply, 9), 0x1234_5678, "timestamp");
    assert_eq!(u32_at(&reply, 13), 2000, "period in ms");
    assert_eq!(reply[17], 0x40, "measuring");
}

#[test]
fn a_rolling_period_takes_only_its_readings_and_names_its_code() {
    let mut stats = PowerStatistics::default();
    stats.record(secs(0), 900.0);
    for at in 100..=110 {
        stats.record(secs(at), 100.0);
    }
    // The last 5 s: 100 W throughout.
    let reply = get_power_reading(&stats, &[0xDC, 2, 0x05, 0], secs(110), 0).unwrap();
    assert_eq!(u16_at(&reply, 5), 100);
    assert_eq!(u32_at(&reply, 13), 0x05);
    // The last hour still has the 900 W one.
    let hour = get_power_reading(&stats, &[0xDC, 2, 0x81, 0], secs(110), 0).unwrap();
    assert_eq!(u16_at(&hour, 5), 900);
    // Periods not offered, other modes, a reserved byte: CCh.
    for request in [
        [0xDC, 2, 0x06, 0],
        [0xDC, 3, 0, 0],
        [0xDC, 1, 1, 0],
        [0xDC, 1, 0, 1],
    ] {
        assert_eq!(
            get_power_reading(&stats, &request, secs(110), 0),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }
}

#[test]
fn readings_older_than_an_hour_are_dropped_and_none_means_not_measuring() {
    let mut stats = PowerStatistics::default();
    let empty = get_power_reading(&stats, &[0xDC, 1, 0, 0], secs(0), 0).unwrap();
    assert_eq!(empty[17], 0, "no measurement yet");
    assert_eq!(u16_at(&empty, 1), 0);
    stats.record(secs(0), 500.0);
    stats.record(secs(3601), 100.0);
    let summary = stats.summary(secs(3601), None).unwrap();
    assert_eq!((summary.maximum, summary.span), (100, Duration::ZERO));
    stats.record(secs(3602), f64::NAN);
    assert_eq!(stats.summary(secs(3602), None).unwrap().current, 100);
    stats.clear();
    assert_eq!(stats.summary(secs(3602), None), None);
}

fn set_request(action: u8, watts: u16, correction_ms: u32, sampling_secs: u16) -> Vec<u8> {
    let mut request = vec![0xDC, 0, 0, 0, action];
    request.extend_from_slice(&watts.to_le_bytes());
    request.extend_from_slice(&correction_ms.to_le_bytes());
    request.extend_from_slice(&[0, 0]);
    request.extend_from_slice(&sampling_secs.to_le_bytes());
    request
}

#[test]
fn a_limit_is_set_checked_field_by_field_then_activated() {
    let ranges = LimitRanges::for_sensor(4080);
    let unset = LimitSettings::default();
    // Before any limit: 80h, with the (zero) settings all the same.
    let (code, reply) = get_power_limit(&unset, &[0xDC, 0, 0]).unwrap();
    assert_eq!(code, CC_NO_ACTIVE_LIMIT);
    assert_eq!(reply.len(), 14);
    assert_eq!(
        activate_power_limit(&unset, &[0xDC, 1, 0, 0]),
        Err(CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE)
    );
    let set = set_power_limit(&unset, &ranges, &set_request(0x01, 500, 2000, 10)).unwrap();
    assert_eq!(set.action, ExceptionAction::HardPowerOff);
    assert!(!set.active);
    let active = activate_power_limit(&set, &[0xDC, 1, 0, 0]).unwrap();
    let (code, reply) = get_power_limit(&active, &[0xDC, 0, 0]).unwrap();
    assert_eq!(code, CompletionCode::SUCCESS);
    assert_eq!(reply[3], 0x01);
    assert_eq!(u16_at(&reply, 4), 500);
    assert_eq!(u32_at(&reply, 6), 2000);
    assert_eq!(u16_at(&reply, 12), 10);
    // Each field out of range has its own code; nothing changes.
    assert_eq!(
        set_power_limit(&active, &ranges, &set_request(0x01, 5000, 2000, 10)),
        Err(CC_LIMIT_OUT_OF_RANGE)
    );
    assert_eq!(
        set_power_limit(&active, &ranges, &set_request(0x01, 500, 10, 10)),
        Err(CC_CORRECTION_TIME_OUT_OF_RANGE)
    );
    assert_eq!(
        set_power_limit(&active, &ranges, &set_request(0x01, 500, 2000, 0)),
        Err(CC_SAMPLING_PERIOD_OUT_OF_RANGE)
    );
    // OEM and reserved actions, and reserved bytes: CCh.
    for action in [0x02, 0x10, 0x12] {
        assert_eq!(
            set_power_limit(&active, &ranges, &set_request(action, 500, 2000, 10)),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
    }
    let mut reserved = set_request(0x11, 500, 2000, 10);
    reserved[1] = 1;
    assert_eq!(
        set_power_limit(&active, &ranges, &reserved),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    // A change keeps the limit active.
    let logged = set_power_limit(&active, &ranges, &set_request(0x11, 600, 1000, 5)).unwrap();
    assert!(logged.active);
    assert_eq!(logged.action, ExceptionAction::LogOnly);
    assert!(
        !activate_power_limit(&logged, &[0xDC, 0, 0, 0])
            .unwrap()
            .active
    );
    assert_eq!(
        activate_power_limit(&logged, &[0xDC, 2, 0, 0]),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
}

#[test]
fn the_exception_is_due_after_the_correction_time_once_per_excursion() {
    let settings = LimitSettings {
        action: ExceptionAction::HardPowerOff,
        limit_watts: 500,
        correction_ms: 3000,
        sampling_secs: 1,
        active: true,
    };
    let mut monitor = LimitMonitor::default();
    assert_eq!(monitor.observe(&settings, secs(0), 600.0, true), None);
    assert_eq!(monitor.observe(&settings, secs(2), 600.0, true), None);
    let due = monitor.observe(&settings, secs(3), 612.4, true).unwrap();
    assert_eq!(
        (due.action, due.watts, due.limit_watts),
        (ExceptionAction::HardPowerOff, 612, 500)
    );
    assert_eq!(
        monitor.observe(&settings, secs(4), 600.0, true),
        None,
        "once"
    );
    // Back under: the next excursion starts its correction time afresh.
    assert_eq!(monitor.observe(&settings, secs(5), 400.0, true), None);
    assert_eq!(monitor.observe(&settings, secs(6), 600.0, true), None);
    assert_eq!(monitor.observe(&settings, secs(8), 600.0, true), None);
    assert!(monitor.observe(&settings, secs(9), 600.0, true).is_some());
    // A dip resets it; an inactive limit or a host that is off never acts.
    let mut monitor = LimitMonitor::default();
    monitor.observe(&settings, secs(0), 600.0, true);
    monitor.observe(&settings, secs(2), 499.0, true);
    assert_eq!(monitor.observe(&settings, secs(3), 600.0, true), None);
    let off = LimitSettings {
        active: false,
        ..settings
    };
    let mut monitor = LimitMonitor::default();
    for at in 0..10 {
        assert_eq!(monitor.observe(&off, secs(at), 900.0, true), None);
        assert_eq!(
            LimitMonitor::default().observe(&settings, secs(at), 900.0, false),
            None
        );
    }
}
