//! Set and Get System Boot Options as ipmitool sends them, the parameter
//! rules of Table 28-14, the valid-bit timeout and the stored form.

use super::*;
use proptest::prelude::*;

const OK: Result<Vec<u8>, CompletionCode> = Ok(Vec::new());

/// Sends each request and expects every one to succeed.
fn send(options: &mut BootOptions, requests: &[&[u8]]) {
    for request in requests {
        assert_eq!(options.set(request), OK, "request {request:02x?}");
    }
}

/// The Set requests ipmitool 1.8.19 sends for `chassis bootdev <dev>`
/// (lib/ipmi_chassis.c ipmi_chassis_set_bootdev): set in progress
/// (chassis_bootparam_set_in_progress), clear the BIOS/POST ack
/// (chassis_bootparam_clear_ack(BIOS_POST_ACK): mask 01h, data 01h), boot
/// flags with the valid bit OR-ed into data 1, commit write, set complete.
fn ipmitool_bootdev(flags: [u8; 5]) -> Vec<Vec<u8>> {
    vec![
        vec![0x00, 0x01],
        vec![0x04, 0x01, 0x01],
        [&[0x05][..], &flags].concat(),
        vec![0x00, 0x02],
        vec![0x00, 0x00],
    ]
}

fn run(options: &mut BootOptions, requests: &[Vec<u8>]) {
    let requests: Vec<&[u8]> = requests.iter().map(Vec::as_slice).collect();
    send(options, &requests);
}

#[test]
fn chassis_bootdev_pxe() {
    let mut options = BootOptions::default();
    let requests = ipmitool_bootdev([0x80, 0x04, 0x00, 0x00, 0x00]);
    assert_eq!(requests[2], [0x05, 0x80, 0x04, 0x00, 0x00, 0x00]);
    run(&mut options, &requests);
    // `chassis bootparam get 5` (ipmi_chassis_get_bootparam sends
    // param & 7Fh, set selector 0, block selector 0).
    let rsp = options.get(&[0x05, 0x00, 0x00]);
    assert_eq!(rsp, Ok(vec![0x01, 0x05, 0x80, 0x04, 0x00, 0x00, 0x00]));
    assert_eq!(
        options.get(&[0x04, 0x00, 0x00]),
        Ok(vec![0x01, 0x04, 0x00, 0x01])
    );
    assert_eq!(options.get(&[0x00, 0x00, 0x00]), Ok(vec![0x01, 0x00, 0x00]));
    let expected = BootRequest {
        device: BootDevice::Pxe,
        ..BootRequest::default()
    };
    assert_eq!(options.boot_request(), Some(expected));
}

#[test]
fn chassis_bootdev_disk_options_persistent() {
    // bootdev_parse_options("persistent") sets data 1 bit 6 (BF1_PERSIST).
    let mut options = BootOptions::default();
    run(
        &mut options,
        &ipmitool_bootdev([0xC0, 0x08, 0x00, 0x00, 0x00]),
    );
    let rsp = options.get(&[0x05, 0x00, 0x00]);
    assert_eq!(rsp, Ok(vec![0x01, 0x05, 0xC0, 0x08, 0x00, 0x00, 0x00]));
    let request = options.boot_request().unwrap();
    assert_eq!(
        (request.device, request.persistent, request.efi),
        (BootDevice::Disk, true, false)
    );
}

#[test]
fn chassis_bootdev_pxe_options_efiboot() {
    // bootdev_parse_options("efiboot") sets data 1 bit 5 (BF1_BOOT_TYPE_EFI).
    let mut options = BootOptions::default();
    run(
        &mut options,
        &ipmitool_bootdev([0xA0, 0x04, 0x00, 0x00, 0x00]),
    );
    let rsp = options.get(&[0x05, 0x00, 0x00]);
    assert_eq!(rsp, Ok(vec![0x01, 0x05, 0xA0, 0x04, 0x00, 0x00, 0x00]));
    let request = options.boot_request().unwrap();
    assert_eq!(
        (request.device, request.persistent, request.efi),
        (BootDevice::Pxe, false, true)
    );
}

#[test]
fn every_ipmitool_bootdev_argument() {
    // ipmi_chassis_set_bootdev: argument -> flags[1]; `clear-cmos=yes`
    // adds data 2 bit 7.
    for (arg, data2, device) in [
        ("none", 0x00, BootDevice::NoOverride),
        ("pxe", 0x04, BootDevice::Pxe),
        ("disk", 0x08, BootDevice::Disk),
        ("safe", 0x0C, BootDevice::DiskSafeMode),
        ("diag", 0x10, BootDevice::Diagnostic),
        ("cdrom", 0x14, BootDevice::CdDvd),
        ("bios", 0x18, BootDevice::BiosSetup),
        ("floppy", 0x3C, BootDevice::Floppy),
        ("pxe clear-cmos=yes", 0x84, BootDevice::Pxe),
    ] {
        let mut options = BootOptions::default();
        run(&mut options, &ipmitool_bootdev([0x80, data2, 0, 0, 0]));
        let request = options.boot_request().expect(arg);
        assert_eq!(request.device, device, "{arg}");
        assert_eq!(request.clear_cmos, data2 & 0x80 != 0, "{arg}");
        assert_eq!(options.get(&[5, 0, 0]).unwrap()[3], data2, "{arg}");
    }
}

#[test]
fn chassis_bootparam_set_bootflag_options_timeout() {
    // `bootparam set bootflag force_pxe options=timeout`: the bootdev
    // sequence, then ipmi_chassis_set_bootvalid reads parameter 3
    // (ipmi_chassis_get_bootvalid) and writes it back with the "timeout"
    // bit (08h) cleared, between set in progress and commit/complete.
    let mut options = BootOptions::default();
    send(&mut options, &[&[0x03, 0x1F]]);
    run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
    send(&mut options, &[&[0x00, 0x01], &[0x04, 0x01, 0x01]]);
    assert_eq!(options.get(&[0x03, 0x00, 0x00]), Ok(vec![0x01, 0x03, 0x1F]));
    send(
        &mut options,
        &[&[0x03, 0x1F & !0x08], &[0x00, 0x02], &[0x00, 0x00]],
    );
    assert_eq!(options.valid_bit_clearing(), 0x17);
    assert_eq!(options.timeout_remaining(), Some(VALID_BIT_TIMEOUT));
}

#[test]
fn power_on_defaults() {
    let options = BootOptions::default();
    for (param, expected) in [
        (0, vec![0x01, 0x00, 0x00]),
        (1, vec![0x01, 0x01, 0x00]),
        (2, vec![0x01, 0x02, 0x00]),
        (3, vec![0x01, 0x03, 0x00]),
        (4, vec![0x01, 0x04, 0x00, 0x00]),
        (5, vec![0x01, 0x05, 0, 0, 0, 0, 0]),
        (6, vec![0x01, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ] {
        assert_eq!(options.get(&[param, 0, 0]), Ok(expected), "param {param}");
    }
    assert_eq!(options.boot_request(), None);
    assert_eq!(options.timeout_remaining(), None);
}

#[test]
fn set_in_progress_rules() {
    let mut options = BootOptions::default();
    send(&mut options, &[&[0x00, 0x01]]);
    assert!(options.set_in_progress());
    // Another party claiming the set while one is in progress: 81h.
    assert_eq!(options.set(&[0x00, 0x01]), Err(CC_SET_IN_PROGRESS_ACTIVE));
    // Commit write ends the set; a new party may then claim it.
    send(&mut options, &[&[0x00, 0x02], &[0x00, 0x01]]);
    assert_eq!(
        options.set(&[0x00, 0x03]),
        Err(CompletionCode::INVALID_DATA_FIELD)
    );
    // Reserved bits 7:2 are ignored: FCh is "set complete".
    send(&mut options, &[&[0x00, 0xFC]]);
    assert!(!options.set_in_progress());
    // A host reset while in progress returns to "set complete".
    send(&mut options, &[&[0x00, 0x01]]);
    options.on_host_reset(ResetCause::ResetButtonOrSoft);
    assert_eq!(options.get(&[0, 0, 0]), Ok(vec![0x01, 0x00, 0x00]));
}

#[test]
fn locked_parameter_is_read_only() {
    let mut options = BootOptions::default();
    run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
    // Selector bit 7 with no data marks parameter 5 invalid/locked.
    send(&mut options, &[&[0x85]]);
    assert!(options.is_locked(5));
    assert_eq!(options.get(&[5, 0, 0]).unwrap()[1], 0x85);
    assert_eq!(
        options.set(&[0x05, 0x80, 0x08, 0, 0, 0]),
        Err(CC_PARAMETER_READ_ONLY)
    );
    assert_eq!(
        options.set(&[0x85, 0x80, 0x08, 0, 0, 0]),
        Err(CC_PARAMETER_READ_ONLY)
    );
    assert_eq!(options.boot_request().unwrap().device, BootDevice::Pxe);
    // No data and bit 7 clear unlocks; then writes go through.
    send(&mut options, &[&[0x05], &[0x05, 0x80, 0x08, 0, 0, 0]]);
    assert_eq!(options.get(&[5, 0, 0]).unwrap()[1], 0x05);
    assert_eq!(options.boot_request().unwrap().device, BootDevice::Disk);
    // Writing data with bit 7 set writes, then locks.
    send(&mut options, &[&[0x81, 0x07]]);
    assert_eq!(options.get(&[1, 0, 0]), Ok(vec![0x01, 0x81, 0x07]));
}

#[test]
fn unsupported_parameters_answer_80h() {
    let mut options = BootOptions::default();
    for param in [7u8, 8, 0x5F, 0x60, 0x7F] {
        assert_eq!(options.set(&[param, 0x00]), Err(CC_PARAMETER_NOT_SUPPORTED));
        assert_eq!(
            options.set(&[param | 0x80]),
            Err(CC_PARAMETER_NOT_SUPPORTED)
        );
        assert_eq!(options.get(&[param, 0, 0]), Err(CC_PARAMETER_NOT_SUPPORTED));
    }
    assert_eq!(options, BootOptions::default());
}

#[test]
fn parameter_selectors_match_table_28_14() {
    use BootParameter as P;
    for (expected, param) in [
        (0, P::SetInProgress),
        (1, P::ServicePartitionSelector),
        (2, P::ServicePartitionScan),
        (3, P::ValidBitClearing),
        (4, P::BootInfoAck),
        (5, P::BootFlags),
        (6, P::BootInitiatorInfo),
    ] {
        assert_eq!(
            (param.code(), P::from_code(expected)),
            (expected, Some(param))
        );
    }
    assert_eq!(P::KNOWN.len(), 7);
    for (expected, state) in [
        (0b00, SetState::SetComplete),
        (0b01, SetState::SetInProgress),
        (0b10, SetState::CommitWrite),
    ] {
        assert_eq!(state.code(), expected, "{state:?}");
    }
    assert_eq!(SetState::from_code(0b11), None);
}

#[test]
fn bad_lengths_and_fields() {
    let c7 = Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    let cc = Err(CompletionCode::INVALID_DATA_FIELD);
    let mut options = BootOptions::default();
    for request in [
        &[][..],
        &[0x00, 0x01, 0x00],
        &[0x01, 0x01, 0x02],
        &[0x04, 0x01],
        &[0x05, 0x80, 0x04, 0x00, 0x00],
        &[0x05, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00],
        &[0x06, 0x01],
    ] {
        assert_eq!(options.set(request), c7, "{request:02x?}");
    }
    assert_eq!(options.set(&[0x05, 0x80, 0x28, 0, 0, 0]), cc);
    assert_eq!(options.set(&[0x05, 0x80, 0x00, 0x60, 0, 0]), cc);
    assert_eq!(options, BootOptions::default());
    for request in [&[][..], &[0x05], &[0x05, 0x00], &[0x05, 0x00, 0x00, 0x00]] {
        assert_eq!(options.get(request), c7, "{request:02x?}");
    }
}

#[test]
fn boot_info_ack_honours_the_write_mask() {
    let mut options = BootOptions::default();
    send(&mut options, &[&[0x04, 0xFF, 0xFF], &[0x04, 0x01, 0x00]]);
    // Reserved bits 7:5 read back as 0; only bit 0 was written as 0b.
    assert_eq!(options.get(&[4, 0, 0]), Ok(vec![0x01, 0x04, 0x00, 0x1E]));
    send(&mut options, &[&[0x04, 0x00, 0x00]]);
    assert_eq!(options.boot_info_ack(), 0x1E);
}

#[test]
fn boot_initiator_info_is_little_endian() {
    let mut options = BootOptions::default();
    let data = [0xF1, 0x78, 0x56, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01];
    send(&mut options, &[&[&[0x06][..], &data].concat()]);
    let initiator = options.boot_initiator();
    assert_eq!(
        (initiator.channel, initiator.session_id),
        (0x01, 0x1234_5678)
    );
    assert_eq!(initiator.timestamp, 0x0102_0304);
    let rsp = options.get(&[6, 0, 0]).unwrap();
    assert_eq!(
        rsp[2..],
        [0x01, 0x78, 0x56, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01]
    );
}

#[test]
fn on_host_boot_uses_up_next_boot_only_requests() {
    let mut once = BootOptions::default();
    run(&mut once, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
    once.on_host_boot();
    assert_eq!(once.boot_request(), None);
    assert_eq!(
        once.get(&[5, 0, 0]),
        Ok(vec![0x01, 0x05, 0x00, 0x04, 0, 0, 0])
    );

    let mut persistent = BootOptions::default();
    run(&mut persistent, &ipmitool_bootdev([0xC0, 0x08, 0, 0, 0]));
    for _ in 0..3 {
        persistent.on_host_boot();
        assert_eq!(
            persistent.boot_request().map(|r| r.device),
            Some(BootDevice::Disk)
        );
    }
}

#[test]
fn host_resets_follow_parameter_3() {
    for (cause, keep_bit) in [
        (ResetCause::PowerButtonOrWake, 0x01),
        (ResetCause::ResetButtonOrSoft, 0x02),
        (ResetCause::Watchdog, 0x04),
        (ResetCause::Pef, 0x10),
    ] {
        let mut options = BootOptions::default();
        run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
        options.on_host_reset(cause);
        assert_eq!(options.boot_request(), None, "{cause:?} clears by default");

        send(
            &mut options,
            &[&[0x03, keep_bit], &[0x05, 0x80, 0x04, 0, 0, 0]],
        );
        options.on_host_reset(cause);
        assert!(
            options.boot_request().is_some(),
            "{cause:?} kept by {keep_bit:#04x}"
        );
    }
    let mut options = BootOptions::default();
    run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
    options.on_host_reset(ResetCause::ChassisControl);
    assert!(options.boot_request().is_some());
    assert_eq!(options.timeout_remaining(), None);
}

#[test]
fn valid_bit_clears_60_s_after_set() {
    let mut options = BootOptions::default();
    run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
    assert_eq!(options.timeout_remaining(), Some(Duration::from_secs(60)));
    options.tick(Duration::from_secs(59));
    assert_eq!(options.timeout_remaining(), Some(Duration::from_secs(1)));
    assert!(options.boot_request().is_some());
    options.tick(Duration::from_secs(1));
    assert_eq!(options.boot_request(), None);
    assert_eq!(options.timeout_remaining(), None);
    assert_eq!(options.get(&[5, 0, 0]).unwrap()[2], 0x00);
}

#[test]
fn valid_bit_timeout_exceptions() {
    // Parameter 3 bit 3 disables the timeout.
    let mut options = BootOptions::default();
    send(&mut options, &[&[0x03, 0x08]]);
    run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
    options.tick(Duration::from_secs(3600));
    assert!(options.boot_request().is_some());
    // A Chassis Control command stops the countdown.
    let mut options = BootOptions::default();
    run(&mut options, &ipmitool_bootdev([0x80, 0x04, 0, 0, 0]));
    options.tick(Duration::from_secs(30));
    options.on_host_reset(ResetCause::ChassisControl);
    options.tick(Duration::from_secs(3600));
    assert!(options.boot_request().is_some());
    // Persistent requests never time out; a rewrite restarts the count.
    let mut options = BootOptions::default();
    run(&mut options, &ipmitool_bootdev([0xC0, 0x08, 0, 0, 0]));
    assert_eq!(options.timeout_remaining(), None);
    options.tick(Duration::from_secs(3600));
    assert!(options.boot_request().is_some());
    send(&mut options, &[&[0x05, 0x80, 0x04, 0, 0, 0]]);
    options.tick(Duration::from_secs(40));
    send(&mut options, &[&[0x05, 0x80, 0x14, 0, 0, 0]]);
    options.tick(Duration::from_secs(40));
    assert_eq!(
        options.boot_request().map(|r| r.device),
        Some(BootDevice::CdDvd)
    );
}

#[test]
fn set_boot_request_from_the_bmc_side() {
    let mut options = BootOptions::default();
    send(&mut options, &[&[0x85]]);
    let request = BootRequest {
        device: BootDevice::RemoteCdDvd,
        device_instance: 0xFF,
        ..BootRequest::default()
    };
    options.set_boot_request(Some(request));
    assert_eq!(
        options.get(&[5, 0, 0]),
        Ok(vec![0x01, 0x85, 0x80, 0x20, 0, 0, 0x1F])
    );
    assert_eq!(options.boot_request().unwrap().device_instance, 0x1F);
    assert_eq!(options.timeout_remaining(), Some(VALID_BIT_TIMEOUT));
    options.set_boot_request(None);
    assert_eq!(options.boot_request(), None);
}

#[test]
fn store_round_trip() {
    let mut options = BootOptions::default();
    run(
        &mut options,
        &ipmitool_bootdev([0xE0, 0xBC, 0xCA, 0x09, 0x03]),
    );
    let initiator = [0x06, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
    send(&mut options, &[&[0x81, 0x02], &[0x02, 0x02], &[0x03, 0x1F]]);
    send(&mut options, &[&[&[0x86][..], &initiator].concat()]);
    let bytes = options.to_bytes();
    assert_eq!(
        bytes,
        [
            0x01, 0x42, 0x02, 0x02, 0x1F, 0x01, 0xE0, 0xBC, 0xCA, 0x09, 0x03, 0x06, 0x01, 0x02,
            0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        ]
    );
    assert_eq!(BootOptions::from_bytes(&bytes), Some(options));
}

#[test]
fn store_rejects_foreign_bytes() {
    let good = BootOptions::default().to_bytes();
    assert!(BootOptions::from_bytes(&good).is_some());
    assert_eq!(BootOptions::from_bytes(&good[..19]), None);
    assert_eq!(
        BootOptions::from_bytes(&[good.as_slice(), &[0]].concat()),
        None
    );
    for (index, value) in [(0, 0x02), (1, 0x80), (7, 0x28), (8, 0x60)] {
        let mut bad = good.clone();
        bad[index] = value;
        assert_eq!(
            BootOptions::from_bytes(&bad),
            None,
            "byte {index} = {value:#04x}"
        );
    }
}

proptest! {
    #[test]
    fn set_and_get_never_panic(requests in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..12), 0..16)
    ) {
        let mut options = BootOptions::default();
        for request in &requests {
            let _ = options.set(request);
            let _ = options.get(request);
            options.tick(Duration::from_secs(7));
        }
        // Whatever was accepted survives the state directory, except
        // volatile parameter 0 and the countdown.
        let restored = BootOptions::from_bytes(&options.to_bytes());
        prop_assert!(restored.is_some());
        let restored = restored.unwrap_or_default();
        for param in 1..=6u8 {
            prop_assert_eq!(restored.get(&[param, 0, 0]), options.get(&[param, 0, 0]));
        }
    }
}
