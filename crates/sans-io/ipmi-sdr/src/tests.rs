//! Record bytes against Table 43-1, 43-7 and 43-8, the code tables, and the
//! conversion factors against the spec's formula and ipmitool's decoder.

use super::*;
use crate::factors::{scale, COVER_SLACK};
use proptest::prelude::*;

/// 0-based index of a Table 43-1 field, from its 1-based spec byte
/// number. Offsets are the spec's, not the encoder's.
#[rustfmt::skip]
mod full {
    const fn at(spec_byte: usize) -> usize { spec_byte - 1 }
    pub const LENGTH: usize = at(5);
    pub const INIT: usize = at(11);
    pub const CAPABILITIES: usize = at(12);
    pub const ASSERT: usize = at(15);
    pub const DEASSERT: usize = at(17);
    pub const READABLE: usize = at(19);
    pub const SETTABLE: usize = at(20);
    pub const UNITS_1: usize = at(21);
    pub const M_LS: usize = at(25);
    pub const M_MS: usize = at(26);
    pub const B_LS: usize = at(27);
    pub const B_MS: usize = at(28);
    pub const EXPS: usize = at(30);
    pub const UNR: usize = at(37);
    pub const UCR: usize = at(38);
    pub const UNC: usize = at(39);
    pub const LNR: usize = at(40);
    pub const LCR: usize = at(41);
    pub const LNC: usize = at(42);
    pub const ID_TYPE_LEN: usize = at(48);
    pub const ID: usize = at(49);
}

fn cpu_temp() -> FullSensorRecord {
    FullSensorRecord {
        percentage: false,
        record_id: 1,
        owner_id: BMC_SLAVE_ADDRESS,
        owner_lun: 0,
        sensor_number: 1,
        entity_id: EntityId::PROCESSOR.0,
        entity_instance: 1,
        sensor_type: SensorType::TEMPERATURE.0,
        event_reading_type: EventReadingType::THRESHOLD.0,
        base_unit: Unit::DEGREES_C.0,
        factors: LinearFactors::new(1, 0, 0, 0, false).unwrap(),
        nominal: Some(40),
        sensor_min: 0,
        sensor_max: 0xFF,
        thresholds: Thresholds {
            unc: Some(80),
            ucr: Some(90),
            unr: Some(100),
            ..Thresholds::default()
        },
        settable: 0b0011_1000,
        positive_hysteresis: 2,
        negative_hysteresis: 2,
        events_enabled: true,
        id_string: "CPU Temp".into(),
    }
}

#[test]
fn codes_match_spec_tables() {
    use device_capabilities as dc;
    use EntityId as entity;
    use EventReadingType as ert;
    use RecordType as record;
    use SensorType as sensor;
    #[rustfmt::skip]
    let pinned: &[(u8, u8)] = &[
        // Record types, IPMI v2.0 §43.
        (0x01, record::FULL_SENSOR.0), (0x02, record::COMPACT_SENSOR.0),
        (0x03, record::EVENT_ONLY.0), (0x08, record::ENTITY_ASSOCIATION.0),
        (0x10, record::GENERIC_DEVICE_LOCATOR.0), (0x11, record::FRU_DEVICE_LOCATOR.0),
        (0x12, record::MC_DEVICE_LOCATOR.0), (0xC0, record::OEM.0),
        // Sensor types, Table 42-3.
        (0x01, sensor::TEMPERATURE.0), (0x02, sensor::VOLTAGE.0),
        (0x03, sensor::CURRENT.0), (0x04, sensor::FAN.0),
        (0x05, sensor::PHYSICAL_SECURITY.0), (0x07, sensor::PROCESSOR.0),
        (0x08, sensor::POWER_SUPPLY.0), (0x09, sensor::POWER_UNIT.0),
        (0x0A, sensor::COOLING_DEVICE.0), (0x0B, sensor::OTHER_UNITS_BASED.0),
        (0x0C, sensor::MEMORY.0), (0x10, sensor::EVENT_LOGGING_DISABLED.0),
        (0x12, sensor::SYSTEM_EVENT.0), (0x14, sensor::BUTTON_SWITCH.0),
        (0x22, sensor::SYSTEM_ACPI_POWER_STATE.0), (0x23, sensor::WATCHDOG_2.0),
        (0x25, sensor::ENTITY_PRESENCE.0), (0x28, sensor::MANAGEMENT_SUBSYSTEM_HEALTH.0),
        (0x29, sensor::BATTERY.0),
        // Event/reading types, Table 42-1.
        (0x00, ert::UNSPECIFIED.0), (0x01, ert::THRESHOLD.0), (0x02, ert::USAGE_STATE.0),
        (0x03, ert::DIGITAL_DISCRETE.0), (0x04, ert::PREDICTIVE_FAILURE.0), (0x05, ert::LIMIT.0),
        (0x08, ert::PRESENCE.0), (0x09, ert::ENABLED.0), (0x0B, ert::REDUNDANCY.0),
        (0x6F, ert::SENSOR_SPECIFIC.0),
        // Units, Table 43-15.
        (0, Unit::UNSPECIFIED.0), (1, Unit::DEGREES_C.0), (2, Unit::DEGREES_F.0),
        (3, Unit::DEGREES_K.0), (4, Unit::VOLTS.0), (5, Unit::AMPS.0), (6, Unit::WATTS.0),
        (7, Unit::JOULES.0), (17, Unit::CFM.0), (18, Unit::RPM.0), (19, Unit::HZ.0),
        (22, Unit::SECOND.0),
        // Entity IDs, Table 43-13.
        (0x00, entity::UNSPECIFIED.0), (0x03, entity::PROCESSOR.0),
        (0x06, entity::SYSTEM_MANAGEMENT_MODULE.0), (0x07, entity::SYSTEM_BOARD.0),
        (0x08, entity::MEMORY_MODULE.0), (0x0A, entity::POWER_SUPPLY.0),
        (0x17, entity::SYSTEM_CHASSIS.0), (0x1D, entity::FAN.0),
        (0x1E, entity::COOLING_UNIT.0), (0x20, entity::MEMORY_DEVICE.0),
        (0x37, entity::AIR_INLET.0),
        // MC device capabilities, Table 43-8 byte 9.
        (0x01, dc::SENSOR_DEVICE), (0x02, dc::SDR_REPOSITORY), (0x04, dc::SEL),
        (0x08, dc::FRU_INVENTORY), (0x10, dc::IPMB_EVENT_RECEIVER),
        (0x20, dc::IPMB_EVENT_GENERATOR), (0x40, dc::BRIDGE), (0x80, dc::CHASSIS),
        // Fixed values: Table 43-1 byte 3, BMC address, Table 43-12.
        (0x51, SDR_VERSION), (0x20, BMC_SLAVE_ADDRESS), (0x10, FruDeviceLocator::DEVICE_TYPE),
    ];
    for &(expected, code) in pinned {
        assert_eq!(expected, code);
    }
    // Every named code is pinned above.
    let named = [
        RecordType::KNOWN.len(),
        SensorType::KNOWN.len(),
        EventReadingType::KNOWN.len(),
        Unit::KNOWN.len(),
        EntityId::KNOWN.len(),
    ];
    assert_eq!(named, [8, 19, 10, 12, 11]);
}

#[test]
fn threshold_mask_bits() {
    #[rustfmt::skip]
    let setters: [fn(&mut Thresholds); 6] = [
        |t| t.lnc = Some(0), |t| t.lcr = Some(0), |t| t.lnr = Some(0),
        |t| t.unc = Some(0), |t| t.ucr = Some(0), |t| t.unr = Some(0),
    ];
    for (bit, set) in setters.iter().enumerate() {
        let mut t = Thresholds::default();
        set(&mut t);
        assert_eq!(t.mask(), 1 << bit);
    }
    assert_eq!(Thresholds::default().mask(), 0);
}

#[test]
fn full_sensor_record_bytes() {
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x01, 0x00, 0x51, 0x01, 51,        // header: 48 + 8 - 5 bytes follow
        0x20, 0x00, 0x01, 0x03, 0x01,      // owner, LUN, number, entity
        0x7F, 0x68, 0x01, 0x01,            // init, capabilities, types
        0x80, 0x0A, 0x80, 0x7A,            // UNC/UCR/UNR going high; upper reading mask
        0x38, 0x38,                        // readable, settable
        0x00, 0x01, 0x00, 0x00,            // unsigned, degrees C, linear
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // M=1, B=0, exps 0
        0x01, 40, 0x00, 0x00, 0xFF, 0x00,  // nominal 40, sensor max/min
        100, 90, 80, 0, 0, 0,              // UNR UCR UNC LNR LCR LNC
        0x02, 0x02, 0x00, 0x00, 0x00,      // hysteresis, reserved, OEM
        0xC8, b'C', b'P', b'U', b' ', b'T', b'e', b'm', b'p',
    ];
    assert_eq!(cpu_temp().emit(), expected);
}

#[test]
fn full_sensor_record_lower_thresholds_and_flags() {
    let mut rec = cpu_temp();
    rec.thresholds = Thresholds {
        lnc: Some(10),
        lcr: Some(5),
        lnr: Some(1),
        ..Thresholds::default()
    };
    rec.settable = 0;
    rec.events_enabled = false;
    rec.nominal = None;
    rec.factors.signed = true;
    let bytes = rec.emit();
    assert_eq!(bytes[full::INIT], 0x5D);
    assert_eq!(bytes[full::CAPABILITIES], 0x64, "threshold access readable");
    // LNC/LCR/LNR going low: bits 0, 2, 4; lower reading mask bits 14:12.
    assert_eq!(&bytes[full::ASSERT..full::ASSERT + 2], &[0x15, 0x70]);
    assert_eq!(&bytes[full::DEASSERT..full::DEASSERT + 2], &[0x15, 0x00]);
    assert_eq!(bytes[full::READABLE], 0x07);
    assert_eq!(bytes[full::SETTABLE], 0x00);
    assert_eq!(bytes[full::UNITS_1] >> 6, 0b10, "2's complement");
    assert_eq!(
        [bytes[full::LNR], bytes[full::LCR], bytes[full::LNC]],
        [1, 5, 10]
    );
    rec.thresholds = Thresholds::default();
    assert_eq!(rec.emit()[full::CAPABILITIES], 0x60, "no thresholds");
}

#[test]
fn mc_device_locator_bytes() {
    let rec = McDeviceLocator {
        record_id: 2,
        slave_address: BMC_SLAVE_ADDRESS,
        channel: 0,
        device_capabilities: 0xBF,
        entity_id: EntityId::SYSTEM_MANAGEMENT_MODULE.0,
        entity_instance: 1,
        id_string: "rbmc".into(),
    };
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x02, 0x00, 0x51, 0x12, 15,
        0x20, 0x00, 0x00, 0xBF, 0x00, 0x00, 0x00, 0x06, 0x01, 0x00,
        0xC4, b'r', b'b', b'm', b'c',
    ];
    assert_eq!(rec.emit(), expected);
}

#[test]
fn fru_device_locator_bytes() {
    let rec = FruDeviceLocator {
        record_id: 0x0103,
        device_id: 1,
        entity_id: EntityId::SYSTEM_BOARD.0,
        entity_instance: 1,
        id_string: "Board".into(),
    };
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x03, 0x01, 0x51, 0x11, 16,
        0x20, 0x01, 0x80, 0x00, 0x00, 0x10, 0x00, 0x07, 0x01, 0x00,
        0xC5, b'B', b'o', b'a', b'r', b'd',
    ];
    assert_eq!(rec.emit(), expected);
}

#[test]
fn id_strings_are_cut_padded_and_sanitized() {
    let mut rec = cpu_temp();
    rec.id_string = "A".into();
    assert_eq!(&rec.emit()[full::ID_TYPE_LEN..], &[0xC2, b'A', 0]);
    rec.id_string = "Température".into();
    assert_eq!(&rec.emit()[full::ID..], b"Temp?rature");
    rec.id_string = "0123456789abcdefXYZ".into();
    let bytes = rec.emit();
    assert_eq!(bytes.len(), 64);
    assert_eq!(usize::from(bytes[full::LENGTH]), 64 - HEADER_LEN);
    assert_eq!(&bytes[full::ID_TYPE_LEN..], b"\xD00123456789abcdef");
    rec.id_string = String::new();
    assert_eq!(&rec.emit()[full::ID_TYPE_LEN..], &[0xC0]);

    assert_eq!(validate_id_string("CPU Temp"), Ok(()));
    assert_eq!(validate_id_string(""), Ok(()));
    for bad in ["0123456789abcdefX", "Température", "tab\t"] {
        assert_eq!(validate_id_string(bad), Err(SdrError::InvalidIdString));
    }
}

#[test]
fn header_parse() {
    let rec = cpu_temp().emit();
    let header = SdrHeader::parse(&rec).unwrap();
    let expected = SdrHeader {
        record_id: 1,
        version: 0x51,
        record_type: RecordType(1),
        length: 51,
    };
    assert_eq!(header, expected);
    assert_eq!(usize::from(header.length), rec.len() - HEADER_LEN);
    assert_eq!(header.emit(), rec[..HEADER_LEN]);
    let truncated = SdrError::Truncated { needed: 5, got: 4 };
    assert_eq!(SdrHeader::parse(&rec[..4]), Err(truncated));
    let old = [1, 0, 0x10, 1, 0];
    assert_eq!(
        SdrHeader::parse(&old),
        Err(SdrError::UnsupportedVersion(0x10))
    );
}

#[test]
fn for_range_pinned() {
    let f = |m, b, b_exp, r_exp, signed| LinearFactors {
        m,
        b,
        b_exp,
        r_exp,
        signed,
    };
    let cases = [
        ((0.0, 255.0), f(1, 0, 0, 0, false)),
        ((0.0, 12.0), f(471, 0, 0, -4, false)),
        ((0.0, 20000.0), f(79, 0, 0, 0, false)),
        // 0.65 * x + 43 for x in -128..=127: -40.2..=125.55.
        ((-40.0, 125.0), f(65, 43, 2, -2, true)),
    ];
    for ((min, max), expected) in cases {
        assert_eq!(
            LinearFactors::for_range(min, max),
            Ok(expected),
            "{min}..{max}"
        );
    }
}

#[test]
fn factor_errors() {
    use SdrError::{FactorOutOfRange, InvalidRange, Unrepresentable};
    assert!(LinearFactors::new(511, -512, 7, -8, false).is_ok());
    for (m, b, be, re) in [(512, 0, 0, 0), (0, -513, 0, 0), (0, 0, 8, 0), (0, 0, 0, -9)] {
        assert_eq!(
            LinearFactors::new(m, b, be, re, true),
            Err(FactorOutOfRange)
        );
    }
    let err = |min, max| LinearFactors::for_range(min, max).unwrap_err();
    for (min, max) in [
        (1.0, 1.0),
        (2.0, 1.0),
        (f64::NAN, 1.0),
        (0.0, f64::INFINITY),
    ] {
        assert!(matches!(err(min, max), InvalidRange { .. }));
    }
    assert!(matches!(err(0.0, 1e13), Unrepresentable { .. }));
    assert!(matches!(err(-f64::MAX, f64::MAX), Unrepresentable { .. }));
}

#[test]
fn to_raw_clamps_and_rounds() {
    let f = LinearFactors::for_range(-40.0, 125.0).unwrap();
    let raws = [-1000.0, 1000.0, f64::NAN, 43.0, 43.0 - 0.65].map(|v| f.to_raw(v));
    assert_eq!(raws, [0x80, 0x7F, 0x80, 0x00, 0xFF]);
    assert!((f.resolution() - 0.65).abs() < 1e-12);
    let u = LinearFactors::for_range(0.0, 255.0).unwrap();
    assert_eq!(
        [-5.0, 300.0, 41.4, 41.6].map(|v| u.to_raw(v)),
        [0, 255, 41, 42]
    );
}

/// Sign-extends a `bits`-wide 2's complement field.
fn sign_extend(v: u16, bits: u32) -> i16 {
    let shift = 16 - bits;
    i16::from_ne_bytes((v << shift).to_ne_bytes()) >> shift
}

/// Decodes the factors from an emitted record with the Table 43-1 bit
/// layout.
fn spec_factors(rec: &[u8]) -> LinearFactors {
    let ten =
        |ls: usize, ms: usize| sign_extend(u16::from(rec[ls]) | u16::from(rec[ms] >> 6) << 8, 10);
    let exps = rec[full::EXPS];
    LinearFactors {
        m: ten(full::M_LS, full::M_MS),
        b: ten(full::B_LS, full::B_MS),
        r_exp: i8::try_from(sign_extend(u16::from(exps >> 4), 4)).unwrap(),
        b_exp: i8::try_from(sign_extend(u16::from(exps & 0x0F), 4)).unwrap(),
        signed: rec[full::UNITS_1] >> 6 == 0b10,
    }
}

/// ipmitool's `tos32` macro (include/ipmitool/ipmi_sdr.h).
fn tos32(val: i32, bits: u32) -> i32 {
    if val & (1 << (bits - 1)) != 0 {
        -(val & (1 << (bits - 1))) | val
    } else {
        val
    }
}

/// ipmitool's `sdr_convert_sensor_reading` (lib/ipmi_sdr.c) on a
/// little-endian host: the packed struct overlays `uint16_t mtol` on
/// bytes 25-26 and `uint32_t bacc` on bytes 27-30, and the `__TO_*`
/// macros byte-swap them before masking.
fn ipmitool_reading(rec: &[u8], val: u8) -> f64 {
    let mtol = u16::from_le_bytes([rec[full::M_LS], rec[full::M_MS]]).swap_bytes();
    let bacc = u32::from_le_bytes(rec[full::B_LS..full::B_LS + 4].try_into().unwrap());
    let bacc = i32::from_ne_bytes(bacc.swap_bytes().to_ne_bytes());
    let m = tos32(i32::from((mtol & 0xff00) >> 8 | (mtol & 0xc0) << 2), 10);
    let b = tos32(((bacc >> 24) & 0xff) | ((bacc & 0xc0_0000) >> 14), 10);
    let k1 = tos32(bacc & 0xf, 4);
    let k2 = tos32((bacc & 0xf0) >> 4, 4);
    let x = match rec[full::UNITS_1] >> 6 {
        0 => i32::from(val),
        2 => i32::from(i8::from_ne_bytes([val])),
        _ => return 0.0,
    };
    (f64::from(m * x) + f64::from(b) * 10_f64.powf(f64::from(k1))) * 10_f64.powf(f64::from(k2))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn ipmitool_reads_the_same_temperature() {
    let mut rec = cpu_temp();
    rec.factors = LinearFactors::for_range(-40.0, 125.0).unwrap();
    rec.thresholds.ucr = Some(rec.factors.to_raw(95.0));
    let bytes = rec.emit();
    let ucr = ipmitool_reading(&bytes, bytes[full::UCR]);
    assert!(
        (ucr - 95.0).abs() <= rec.factors.resolution() / 2.0,
        "{ucr}"
    );
    assert!(close(ipmitool_reading(&bytes, 0x80), -40.2));
    assert!(close(ipmitool_reading(&bytes, 0x7F), 125.55));
    let n = usize::from(bytes[full::ID_TYPE_LEN] & 0x1f);
    assert_eq!(&bytes[full::ID..full::ID + n], b"CPU Temp");
}

/// Smallest grid step `M * 10^R` (M 1..=511, R -8..=7) covering `span`
/// with 255 raw steps.
fn finest_grid_step(span: f64) -> f64 {
    (-8..=7)
        .flat_map(|r| (1..=511).map(move |m| scale(f64::from(m), r)))
        .filter(|s| s * 255.0 >= span * (1.0 - COVER_SLACK))
        .fold(f64::INFINITY, f64::min)
}

fn range() -> impl Strategy<Value = (f64, f64)> {
    (-1000.0..1000.0_f64, -2.0..5.0_f64).prop_map(|(min, e)| (min, min + 10_f64.powf(e)))
}

proptest! {
    #[test]
    fn factors_cover_range_and_round_trip((min, max) in range(), t in 0.0..=1.0_f64) {
        let f = LinearFactors::for_range(min, max).unwrap();
        let slack = (max - min) * COVER_SLACK + 1e-12 * (1.0 + min.abs() + max.abs());
        let (lo, hi) = if f.signed { (0x80, 0x7F) } else { (0x00, 0xFF) };
        prop_assert_eq!(f.signed, min < 0.0);
        prop_assert!((1..=511).contains(&f.m));
        prop_assert!(f.to_value(lo) <= min + slack, "{:?} low end {}", f, f.to_value(lo));
        prop_assert!(f.to_value(hi) >= max - slack, "{:?} high end {}", f, f.to_value(hi));
        prop_assert!(f.resolution() * 255.0 >= (max - min) * (1.0 - COVER_SLACK));
        for v in [min, max, min + t * (max - min)] {
            let back = f.to_value(f.to_raw(v));
            prop_assert!((back - v).abs() <= f.resolution() / 2.0 + slack, "{v} -> {back}");
        }
    }

    #[test]
    fn zero_based_ranges_get_the_finest_step(max in 0.01..100_000.0_f64) {
        let f = LinearFactors::for_range(0.0, max).unwrap();
        prop_assert_eq!(f.b, 0);
        let best = finest_grid_step(max);
        prop_assert!((f.resolution() - best).abs() <= best * 1e-12, "{:?} vs {}", f, best);
    }

    #[test]
    fn emitted_factors_decode_per_spec_and_ipmitool((min, max) in range(), th in any::<[u8; 6]>()) {
        let mut rec = cpu_temp();
        rec.factors = LinearFactors::for_range(min, max).unwrap();
        let [lnc, lcr, lnr, unc, ucr, unr] = th.map(Some);
        rec.thresholds = Thresholds { lnc, lcr, lnr, unc, ucr, unr };
        let bytes = rec.emit();
        prop_assert_eq!(spec_factors(&bytes), rec.factors);
        for raw in 0..=255 {
            let (ours, theirs) = (rec.factors.to_value(raw), ipmitool_reading(&bytes, raw));
            prop_assert!(close(ours, theirs), "raw {}: {} vs {}", raw, ours, theirs);
        }
        let at = [full::LNC, full::LCR, full::LNR, full::UNC, full::UCR, full::UNR];
        prop_assert_eq!(at.map(|i| bytes[i]), th);
    }
}

#[test]
fn compact_sensor_record_bytes() {
    let rec = CompactSensorRecord {
        record_id: 0x0021,
        lun: 0,
        number: 0xE2,
        entity_id: 0x07,
        entity_instance: 1,
        sensor_type: 0x23,
        event_reading_type: 0x6F,
        offsets: 0x010F,
        id_string: "Watchdog".into(),
    };
    let bytes = rec.emit();
    const fn at(spec_byte: usize) -> usize {
        spec_byte - 1
    }
    assert_eq!(
        bytes[..5],
        [
            0x21,
            0x00,
            0x51,
            0x02,
            u8::try_from(bytes.len() - 5).unwrap()
        ]
    );
    assert_eq!(bytes[at(6)..=at(10)], [0x20, 0x00, 0xE2, 0x07, 0x01]);
    assert_eq!(bytes[at(13)..=at(14)], [0x23, 0x6F]);
    // Assertion and discrete reading masks: offsets 0-3 and 8.
    assert_eq!(bytes[at(15)..=at(20)], [0x0F, 0x01, 0x00, 0x00, 0x0F, 0x01]);
    assert_eq!(bytes[at(32)], 0xC0 | 8);
    assert_eq!(&bytes[at(33)..], b"Watchdog");
    assert_eq!(bytes.len(), 48 - 16 + 8);
    let header = SdrHeader::parse(&bytes).unwrap();
    assert_eq!(header.record_type, RecordType::COMPACT_SENSOR);
}
