use super::*;

fn live() -> LanSnapshot {
    LanSnapshot {
        ip: Ipv4Addr::new(192, 0, 2, 10),
        source: IpSource::Static,
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        mac: [0x02, 0, 0, 0, 0, 0x01],
        gateway: Ipv4Addr::new(192, 0, 2, 1),
        gateway_mac: [0; 6],
        vlan: None,
    }
}

fn addressing() -> LanAddressing {
    LanAddressing::new(1, NetworkSettings::from_live(&live()), true)
}

fn set(a: &mut LanAddressing, parameter: u8, value: &[u8]) -> Result<SetOutcome, CompletionCode> {
    let mut data = vec![1, parameter];
    data.extend_from_slice(value);
    a.cmd_set(&data, 1, &live())
}

fn get(a: &LanAddressing, parameter: u8) -> Vec<u8> {
    a.cmd_get(&[1, parameter, 0, 0], 1, &live()).unwrap()[1..].to_vec()
}

#[test]
fn an_equal_value_succeeds_and_applies_nothing() {
    let mut a = addressing();
    for (parameter, value) in [
        (3, &[192, 0, 2, 10][..]),
        (4, &[1]),
        (5, &[0x02, 0, 0, 0, 0, 0x01]),
        (6, &[255, 255, 255, 0]),
        (12, &[192, 0, 2, 1]),
        (13, &[0; 6]),
        (14, &[0; 4]),
        (15, &[0; 6]),
        (20, &[0, 0]),
        (21, &[0]),
    ] {
        assert_eq!(
            set(&mut a, parameter, value),
            Ok(SetOutcome::Done),
            "{parameter}"
        );
        assert_eq!(get(&a, parameter), value, "{parameter}");
    }
    // Read-only without a managed interface, but equal values still pass.
    let mut fixed = LanAddressing::new(1, NetworkSettings::from_live(&live()), false);
    assert_eq!(set(&mut fixed, 3, &[192, 0, 2, 10]), Ok(SetOutcome::Done));
    assert_eq!(
        set(&mut fixed, 3, &[192, 0, 2, 11]),
        Err(CC_READ_ONLY_PARAMETER)
    );
}

#[test]
fn a_change_outside_a_set_applies_at_once_and_only_once_acknowledged() {
    let mut a = addressing();
    let Ok(SetOutcome::Apply(next)) = set(&mut a, 3, &[198, 51, 100, 7]) else {
        panic!("expected an apply");
    };
    assert_eq!(next.ip, Ipv4Addr::new(198, 51, 100, 7));
    // Not applied yet: reads still show the old address.
    assert_eq!(get(&a, 3), [192, 0, 2, 10]);
    a.applied(next);
    assert_eq!(get(&a, 3), [198, 51, 100, 7]);
}

#[test]
fn a_set_in_progress_stages_and_commit_applies_the_whole_change() {
    let mut a = addressing();
    assert_eq!(set(&mut a, 0, &[1]), Ok(SetOutcome::Done));
    assert_eq!(set(&mut a, 0, &[1]), Err(CC_SET_IN_PROGRESS));
    assert_eq!(set(&mut a, 3, &[10, 1, 2, 3]), Ok(SetOutcome::Done));
    assert_eq!(set(&mut a, 6, &[255, 255, 0, 0]), Ok(SetOutcome::Done));
    assert_eq!(set(&mut a, 12, &[10, 1, 0, 1]), Ok(SetOutcome::Done));
    // The client's read-back sees what it wrote; nothing is applied.
    assert_eq!(get(&a, 0), [1]);
    assert_eq!(get(&a, 3), [10, 1, 2, 3]);
    assert_eq!(a.settings().ip, Ipv4Addr::new(192, 0, 2, 10));
    let Ok(SetOutcome::Apply(next)) = set(&mut a, 0, &[2]) else {
        panic!("commit applies");
    };
    assert_eq!(
        (next.ip, next.netmask, next.gateway),
        (
            Ipv4Addr::new(10, 1, 2, 3),
            Ipv4Addr::new(255, 255, 0, 0),
            Ipv4Addr::new(10, 1, 0, 1)
        )
    );
    // A failed apply (the driver never calls `applied`) drops the set.
    assert_eq!(get(&a, 0), [0]);
    assert_eq!(get(&a, 3), [192, 0, 2, 10]);
    assert_eq!(set(&mut a, 0, &[0]), Ok(SetOutcome::Done));
}

#[test]
fn values_that_cannot_be_an_interfaces_are_refused() {
    let mut a = addressing();
    for (parameter, value, code) in [
        (3, &[0, 0, 0, 0][..], CompletionCode::INVALID_DATA_FIELD),
        (3, &[127, 0, 0, 1], CompletionCode::INVALID_DATA_FIELD),
        (3, &[224, 0, 0, 1], CompletionCode::INVALID_DATA_FIELD),
        (3, &[1, 2, 3], CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        (4, &[3], CompletionCode::INVALID_DATA_FIELD),
        (4, &[0x11], CompletionCode::INVALID_DATA_FIELD),
        (5, &[0x02, 0, 0, 0, 0, 0x02], CC_READ_ONLY_PARAMETER),
        (6, &[255, 0, 255, 0], CompletionCode::INVALID_DATA_FIELD),
        (6, &[0, 0, 0, 0], CompletionCode::INVALID_DATA_FIELD),
        (
            13,
            &[0x01, 0, 0, 0, 0, 1],
            CompletionCode::INVALID_DATA_FIELD,
        ),
        (14, &[192, 0, 2, 2], CC_READ_ONLY_PARAMETER),
        (20, &[100, 0x90], CompletionCode::INVALID_DATA_FIELD),
        (20, &[0, 0x80], CompletionCode::INVALID_DATA_FIELD),
        (21, &[8], CompletionCode::INVALID_DATA_FIELD),
        (0, &[3], CompletionCode::INVALID_DATA_FIELD),
        (7, &[64, 0x40, 0x10], CC_PARAMETER_NOT_SUPPORTED),
    ] {
        assert_eq!(
            set(&mut a, parameter, value),
            Err(code),
            "{parameter} {value:?}"
        );
    }
    assert_eq!(a.settings(), &NetworkSettings::from_live(&live()));
}

#[test]
fn vlan_and_dhcp_settings_read_back() {
    let mut a = addressing();
    let Ok(SetOutcome::Apply(next)) = set(&mut a, 20, &[0x64, 0x81]) else {
        panic!("vlan applies");
    };
    assert_eq!(next.vlan, Some(0x164));
    a.applied(next);
    assert_eq!(get(&a, 20), [0x64, 0x81]);
    let Ok(SetOutcome::Apply(next)) = set(&mut a, 4, &[2]) else {
        panic!("dhcp applies");
    };
    a.applied(next);
    assert_eq!(get(&a, 4), [2]);
    // Under DHCP the address is the interface's.
    let leased = LanSnapshot {
        ip: Ipv4Addr::new(10, 9, 0, 101),
        ..live()
    };
    assert_eq!(
        a.cmd_get(&[1, 3, 0, 0], 1, &leased).unwrap(),
        [0x11, 10, 9, 0, 101]
    );
}

#[test]
fn rendered_files_carry_the_settings_and_read_back() {
    let settings = NetworkSettings {
        source: AddressSource::Static,
        ip: Ipv4Addr::new(198, 51, 100, 20),
        netmask: Ipv4Addr::new(255, 255, 255, 128),
        gateway: Ipv4Addr::new(198, 51, 100, 1),
        gateway_mac: [0x02, 0, 0x5e, 0, 0x53, 0x99],
        vlan: None,
        vlan_priority: 0,
    };
    let files = render(&settings, "bmc0").files;
    assert_eq!(files.len(), 1);
    let (name, text) = &files[0];
    assert_eq!(name, "50-rbmc-bmc0.network");
    for line in [
        "Name=bmc0",
        "Address=198.51.100.20/25",
        "Gateway=198.51.100.1",
        "[Neighbor]",
        "LinkLayerAddress=02:00:5e:00:53:99",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    assert_eq!(parse_rendered(text), Some(settings.clone()));

    let vlan = NetworkSettings {
        vlan: Some(100),
        vlan_priority: 5,
        source: AddressSource::Dhcp,
        ..settings
    };
    let files = render(&vlan, "bmc0").files;
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "50-rbmc-bmc0.100.netdev",
            "50-rbmc-bmc0.100.network",
            "50-rbmc-bmc0.network"
        ]
    );
    assert!(files[0].1.contains("Id=100\nEgressQOSMaps=0-5\n"));
    assert!(files[1].1.contains("Name=bmc0.100\n") && files[1].1.contains("DHCP=ipv4\n"));
    assert!(files[2].1.contains("VLAN=bmc0.100\n"));
    assert_eq!(parse_rendered(&files[2].1), Some(vlan));
    assert_eq!(parse_rendered("[Match]\nName=eth0\n"), None);
}

#[test]
fn prefix_lengths() {
    assert_eq!(prefix_len(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
    assert_eq!(prefix_len(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
    assert_eq!(prefix_len(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
    assert_eq!(prefix_len(Ipv4Addr::new(255, 0, 255, 0)), None);
}

#[test]
fn in_effect_is_the_applied_settings_or_the_lease_under_dhcp() {
    let mut a = addressing();
    let shown = a.in_effect(&live());
    assert_eq!(shown.ip, Ipv4Addr::new(192, 0, 2, 10));
    assert_eq!(shown.mac, live().mac);
    assert!(!shown.dhcp);
    // A staged address is not in effect until applied.
    set(&mut a, 0, &[1]).unwrap();
    set(&mut a, 3, &[192, 0, 2, 77]).unwrap();
    assert_eq!(a.in_effect(&live()).ip, Ipv4Addr::new(192, 0, 2, 10));
    let Ok(SetOutcome::Apply(next)) = set(&mut a, 4, &[2]).and_then(|_| set(&mut a, 0, &[0]))
    else {
        panic!("dhcp applies");
    };
    a.applied(next);
    let leased = LanSnapshot {
        ip: Ipv4Addr::new(10, 9, 0, 101),
        gateway: Ipv4Addr::new(10, 9, 0, 1),
        ..live()
    };
    let shown = a.in_effect(&leased);
    assert!(shown.dhcp);
    assert_eq!(shown.ip, Ipv4Addr::new(10, 9, 0, 101));
    assert_eq!(shown.gateway, Ipv4Addr::new(10, 9, 0, 1));
    assert_eq!(shown.channel, 1);
}
