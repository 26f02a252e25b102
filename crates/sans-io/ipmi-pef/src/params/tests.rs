use super::*;

fn get_data(settings: &PefSettings, request: &[u8]) -> Result<Vec<u8>, ParamError> {
    get(settings, SetInProgress::default(), request)
}

#[test]
fn counts_and_lengths_are_what_clients_check() {
    let settings = PefSettings::default();
    assert!(settings.is_well_formed());
    assert_eq!(
        get_data(&settings, &[5, 0, 0]),
        Ok(vec![0x11, FILTER_COUNT])
    );
    assert_eq!(crate::capabilities()[2], FILTER_COUNT);
    assert_eq!(
        get_data(&settings, &[8, 0, 0]),
        Ok(vec![0x11, POLICY_COUNT])
    );
    assert_eq!(get_data(&settings, &[11, 0, 0]).unwrap().len(), 2);
    // ipmitool: param 6 is 22 bytes with the revision, 7 is 3, 9 is 5, 10 is 18.
    let expected = [(6, 22), (7, 3), (9, 5), (10, 18), (12, 4)];
    for (parameter, len) in expected {
        let data = get_data(&settings, &[parameter, 1, 0]).unwrap();
        assert_eq!(data.len(), len, "parameter {parameter}");
        if parameter != 10 {
            assert_eq!(data[1], 1, "parameter {parameter} echoes its set");
        }
    }
    assert_eq!(get_data(&settings, &[13, 2, 1]).unwrap().len(), 19);
    // Revision only.
    assert_eq!(get_data(&settings, &[0x86, 1, 0]), Ok(vec![0x11]));
}

#[test]
fn selectors_outside_their_tables_are_c9h() {
    let settings = PefSettings::default();
    for request in [
        [6, 0, 0],
        [6, 17, 0],
        [9, 0, 0],
        [12, 5, 0],
        [13, 1, 0],
        [13, 1, 5],
    ] {
        assert_eq!(
            get_data(&settings, &request),
            Err(ParamError::OutOfRange),
            "{request:?}"
        );
    }
    // String 0, the volatile one, exists.
    assert!(get_data(&settings, &[13, 0, 1]).is_ok());
    assert_eq!(
        get_data(&settings, &[14, 0, 0]),
        Err(ParamError::NotSupported)
    );
    assert_eq!(
        get_data(&settings, &[96, 0, 0]),
        Err(ParamError::NotSupported)
    );
    assert_eq!(get_data(&settings, &[1, 0]), Err(ParamError::Length));
}

#[test]
fn parameter_7_is_byte_1_of_the_filter_entry() {
    let mut settings = PefSettings::default();
    settings.set(7, &[3, 0x80]).unwrap();
    assert!(settings.filters[2].enabled());
    assert_eq!(get_data(&settings, &[6, 3, 0]).unwrap()[2], 0x80);
    let mut entry = get_data(&settings, &[6, 3, 0]).unwrap()[1..].to_vec();
    entry[1] = 0x00; // disabled through parameter 6
    settings.set(6, &entry).unwrap();
    assert_eq!(get_data(&settings, &[7, 3, 0]), Ok(vec![0x11, 3, 0x00]));
}

#[test]
fn a_bad_set_changes_nothing() {
    let mut settings = PefSettings::default();
    let before = settings.clone();
    let refused: [(u8, &[u8], ParamError); 13] = [
        (1, &[0x10], ParamError::InvalidField),
        (1, &[0x03], ParamError::InvalidField),
        (1, &[1, 1], ParamError::Length),
        (2, &[0x40], ParamError::InvalidField),
        (5, &[3], ParamError::ReadOnly),
        (8, &[3], ParamError::ReadOnly),
        (11, &[3], ParamError::ReadOnly),
        (6, &[1; 20], ParamError::Length),
        (6, &[0; 21], ParamError::OutOfRange),
        (7, &[1, 0x81], ParamError::InvalidField),
        (9, &[1, 0x0D, 0x11, 0], ParamError::InvalidField),
        (10, &[2; 17], ParamError::InvalidField),
        (13, &[1, 1], ParamError::Length),
    ];
    for (parameter, data, err) in refused {
        assert_eq!(
            settings.set(parameter, data),
            Err(err),
            "{parameter} {data:?}"
        );
    }
    assert_eq!(settings.set(15, &[1]), Err(ParamError::NotSupported));
    assert_eq!(settings, before);
}

#[test]
fn alert_strings_are_written_by_block() {
    let mut settings = PefSettings::default();
    // FreeIPMI's way: 16 bytes, then a short last block with the NUL.
    settings
        .set(13, &[[1, 1].as_slice(), b"Temperature is c"].concat())
        .unwrap();
    settings
        .set(13, &[[1, 2].as_slice(), b"ritical\0"].concat())
        .unwrap();
    assert_eq!(
        settings.alert_string(1).unwrap().text(),
        b"Temperature is critical"
    );
    let block_2 = get_data(&settings, &[13, 1, 2]).unwrap();
    assert_eq!(&block_2[..3], &[0x11, 1, 2]);
    assert_eq!(&block_2[3..], b"ritical\0\0\0\0\0\0\0\0\0");
    settings.set(12, &[1, 3, 1]).unwrap();
    assert_eq!(get_data(&settings, &[12, 1, 0]), Ok(vec![0x11, 1, 3, 1]));
}

#[test]
fn set_in_progress_refuses_a_second_start() {
    let mut state = SetInProgress::default();
    state.set(&[1]).unwrap();
    assert_eq!(state.get(), 1);
    assert_eq!(state.set(&[1]), Err(ParamError::SetInProgress));
    state.set(&[2]).unwrap();
    assert_eq!(state.get(), 0);
    assert_eq!(state.set(&[3]), Err(ParamError::InvalidField));
    assert_eq!(set_request(&[0x81, 1]), Err(ParamError::InvalidField));
    assert_eq!(set_request(&[0, 1]), Ok(SetRequest::InProgress(&[1])));
    assert_eq!(set_request(&[]), Err(ParamError::Length));
}

#[test]
fn settings_survive_toml() {
    let mut settings = PefSettings::default();
    settings.set(7, &[2, 0x80]).unwrap();
    settings.set(13, &[2, 1, b'x']).unwrap();
    settings.set(13, &[0, 1, b'v']).unwrap();
    let text = toml::to_string(&settings).unwrap();
    let back: PefSettings = toml::from_str(&text).unwrap();
    assert!(back.is_well_formed());
    assert_eq!(back.filters, settings.filters);
    assert_eq!(back.alert_strings, settings.alert_strings);
    // The volatile string is not kept.
    assert_eq!(back.alert_string(0).unwrap().text(), b"");
}
