use super::*;

/// The Dell trap in FreeIPMI's contrib/pet README: specific trap 356096,
/// 47 bytes of variable binding.
const DELL: [u8; 47] = [
    0x44, 0x45, 0x4C, 0x4C, 0x50, 0x00, 0x10, 0x59, 0x80, 0x43, 0xB2, 0xC0, 0x4F, 0x33, 0x33, 0x58,
    0x00, 0x42, 0x19, 0xEE, 0xAB, 0x64, 0xFF, 0xFF, 0x20, 0x20, 0x00, 0x41, 0x73, 0x18, 0x00, 0x80,
    0x01, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x02, 0xA2, 0x01, 0x00, 0xC1,
];

fn dell_event() -> Event {
    Event {
        record_id: 0x42,
        timestamp: 0,
        generator_id: 0x41,
        evm_rev: 4,
        sensor_type: 0x05,
        sensor_number: 0x73,
        dir_type: 0x6F,
        data: [0x80, 0x01, 0xFF],
    }
}

#[test]
fn the_specific_trap_number_is_type_event_direction_offset() {
    assert_eq!(specific_trap(&dell_event()), 356_096);
    let deassertion = Event {
        dir_type: 0xEF,
        ..dell_event()
    };
    assert_eq!(specific_trap(&deassertion), 356_224);
    let threshold = Event {
        sensor_type: 0x01,
        dir_type: 0x01,
        data: [0x59, 0, 0],
        ..dell_event()
    };
    assert_eq!(specific_trap(&threshold), 0x01_01_09);
}

#[test]
fn the_varbind_is_byte_for_byte_a_real_bmcs() {
    let unix = PET_EPOCH_UNIX + 0x19EE_AB64;
    let mut fields = PetFields::for_event(&dell_event(), 0x00, unix);
    fields.guid = DELL[..16].try_into().unwrap();
    fields.entity = 0x18;
    fields.manufacturer_id = 674;
    fields.system_id = 0x0100;
    assert_eq!(fields.varbind(), DELL);
    // The acknowledgement names it least significant byte first.
    assert_eq!(
        fields.ack_key(),
        [0x42, 0x00, 0x64, 0xAB, 0xEE, 0x19, 0x20, 0x41, 0x73, 0x80, 0x01, 0xFF]
    );
    fields.alert_string = b"hot".to_vec();
    let varbind = fields.varbind();
    assert_eq!(&varbind[46..], &[0xC3, b'h', b'o', b't', 0xC1]);
    assert_eq!(pet_timestamp(100), 0);
}

#[test]
fn the_trap_is_an_snmpv1_trap_pdu() {
    let varbind = DELL.to_vec();
    let trap = Trap {
        community: b"public",
        agent_addr: [10, 0, 0, 5],
        specific: 356_096,
        uptime_ticks: 42,
        varbind: &varbind,
    };
    let bytes = trap.encode();
    // SEQUENCE, version 0, "public", then the [4] IMPLICIT Trap-PDU.
    assert_eq!(bytes[0], 0x30);
    assert_eq!(
        &bytes[2..13],
        &[0x02, 0x01, 0x00, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c']
    );
    assert_eq!(bytes[13], 0xA4);
    let decoded = yasna::parse_ber(&bytes, |r| {
        r.read_sequence(|r| {
            assert_eq!(r.next().read_i64()?, 0);
            assert_eq!(r.next().read_bytes()?, b"public");
            r.next().read_tagged_implicit(Tag::context(4), |r| {
                r.read_sequence(|r| {
                    let enterprise = r.next().read_oid()?;
                    let agent = r
                        .next()
                        .read_tagged_implicit(Tag::application(0), |r| r.read_bytes())?;
                    let generic = r.next().read_i64()?;
                    let specific = r.next().read_i64()?;
                    let ticks = r
                        .next()
                        .read_tagged_implicit(Tag::application(3), |r| r.read_u32())?;
                    let (name, value) = r.next().read_sequence(|r| {
                        r.next()
                            .read_sequence(|r| Ok((r.next().read_oid()?, r.next().read_bytes()?)))
                    })?;
                    Ok((enterprise, agent, generic, specific, ticks, name, value))
                })
            })
        })
    })
    .expect("BER that parses");
    let (enterprise, agent, generic, specific, ticks, name, value) = decoded;
    assert_eq!(enterprise, ObjectIdentifier::from_slice(&ENTERPRISE));
    assert_eq!(agent, [10, 0, 0, 5]);
    assert_eq!((generic, specific, ticks), (6, 356_096, 42));
    assert_eq!(name, ObjectIdentifier::from_slice(&VARBIND_OID));
    assert_eq!(value, DELL);
}
