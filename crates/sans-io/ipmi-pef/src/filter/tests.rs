use super::*;

/// An upper critical going-high threshold event of temperature sensor 1,
/// logged by the BMC (generator 20h), record 7.
fn upper_critical() -> Event {
    Event::from_sel_record(&[
        7, 0, 0x02, 1, 0, 0, 0, 0x20, 0, 0x04, 0x01, 0x01, 0x01, 0x59, 0x5F, 0x5A,
    ])
    .expect("a system event record")
}

fn enabled(actions: Actions) -> FilterEntry {
    let mut entry = FilterEntry::default();
    entry.0[0] = 0x80;
    entry.0[1] = actions.bits();
    entry.0[2] = 0x01;
    entry.0[3] = 0x10;
    entry
}

#[test]
fn a_record_becomes_an_event() {
    let event = upper_critical();
    assert_eq!(event.record_id, 7);
    assert_eq!(event.timestamp, 1);
    assert_eq!(event.generator_id, 0x0020);
    assert_eq!((event.sensor_type, event.sensor_number), (0x01, 0x01));
    assert_eq!((event.event_type(), event.offset()), (0x01, 0x09));
    assert!(!event.is_deassertion());
    let oem = [8, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(Event::from_sel_record(&oem), None);
}

#[test]
fn the_default_entry_matches_anything_but_is_disabled() {
    let entry = FilterEntry::default();
    assert!(entry.matches(&upper_critical()));
    assert!(!entry.enabled());
    let verdict = evaluate(&[entry], Actions::SUPPORTED, &upper_critical());
    assert_eq!(verdict, Verdict::default());
}

#[test]
fn each_field_narrows_the_match() {
    let event = upper_critical();
    let cases: [(usize, u8, bool); 9] = [
        (4, 0x20, true),  // generator byte 1
        (4, 0x41, false), // another generator
        (5, 0x00, true),  // channel 0, LUN 0
        (5, 0x01, false), // LUN 1
        (6, 0x01, true),  // temperature
        (6, 0x04, false), // fan
        (7, 0x02, false), // another sensor
        (8, 0x01, true),  // threshold
        (8, 0x6F, false), // sensor-specific
    ];
    for (at, value, matches) in cases {
        let mut entry = FilterEntry::default();
        entry.0[at] = value;
        assert_eq!(
            entry.matches(&event),
            matches,
            "byte {} = {value:#04x}",
            at + 1
        );
    }
}

#[test]
fn the_offset_mask_is_least_significant_byte_first() {
    let event = upper_critical(); // offset 9
    let mut entry = FilterEntry::default();
    entry.0[9] = 0x00;
    entry.0[10] = 0x02; // bit 9
    assert!(entry.matches(&event));
    entry.0[9] = 0x02;
    entry.0[10] = 0x00; // bit 1
    assert!(!entry.matches(&event));
}

#[test]
fn event_data_compares_exact_and_any_bits() {
    // AND 00h: anything (FreeIPMI's catch-all writes compare-1 FFh).
    assert!(data_matches(0x59, 0x00, 0xFF, 0x00));
    // Exact: the masked bits must all equal compare-2.
    assert!(data_matches(0x59, 0x0F, 0x0F, 0x09));
    assert!(!data_matches(0x59, 0x0F, 0x0F, 0x08));
    // Loose: at least one masked bit equals compare-2.
    assert!(data_matches(0b0101, 0b0011, 0x00, 0b0001));
    assert!(!data_matches(0b0101, 0b0011, 0x00, 0b0010));
    // Both at once.
    assert!(data_matches(0b1101, 0b1100, 0b1000, 0b1100));
    assert!(!data_matches(0b1001, 0b1100, 0b1000, 0b1100));
    assert!(!data_matches(0b0101, 0b1100, 0b1000, 0b1100));
}

#[test]
fn verdicts_union_allowed_actions_and_list_alerts() {
    let filters = [
        enabled(Actions::ALERT),
        FilterEntry::default(),
        enabled(Actions::POWER_DOWN.union(Actions::RESET)),
    ];
    let verdict = evaluate(&filters, Actions::SUPPORTED, &upper_critical());
    assert_eq!(verdict.matched, vec![1, 3]);
    assert_eq!(verdict.actions.bits(), 0x07);
    assert_eq!(verdict.actions.power_action(), Some(PowerAction::PowerDown));
    assert_eq!(
        verdict.alerts,
        vec![AlertRequest {
            filter: 1,
            policy: 1,
            severity: 0x10
        }]
    );
    // Global control allows only alerts: the power actions are dropped.
    let verdict = evaluate(&filters, Actions::ALERT, &upper_critical());
    assert_eq!(verdict.actions, Actions::ALERT);
    assert_eq!(verdict.actions.power_action(), None);
    // Nothing allowed: no alert either.
    let verdict = evaluate(&filters, Actions::NONE, &upper_critical());
    assert!(verdict.alerts.is_empty() && verdict.actions.is_empty());
}

#[test]
fn power_actions_follow_pef_priorities() {
    let all = Actions::from_bits(0x3E);
    assert_eq!(all.power_action(), Some(PowerAction::PowerDown));
    let no_down = Actions::from_bits(0x3C);
    assert_eq!(no_down.power_action(), Some(PowerAction::PowerCycle));
    assert_eq!(
        Actions::from_bits(0x24).power_action(),
        Some(PowerAction::Reset)
    );
    assert_eq!(
        Actions::DIAGNOSTIC_INTERRUPT.power_action(),
        Some(PowerAction::DiagnosticInterrupt)
    );
    assert_eq!(Actions::ALERT.power_action(), None);
}
