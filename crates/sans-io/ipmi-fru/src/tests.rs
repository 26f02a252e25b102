//! Known-answer FRU images, round trips, rejection of corrupt or truncated
//! data, and decoding checked against ipmitool's `fru print`.

use super::{Area::*, FruError::*, *};
use proptest::{collection::vec, prelude::*, sample::Index};

fn full_info() -> FruInfo {
    FruInfo {
        chassis: Some(ChassisInfo {
            chassis_type: 0x17,
            part_number: "CH-PN-0001".into(),
            serial_number: "CHSN123".into(),
            custom: vec!["rack 4".into(), "U12".into()],
        }),
        board: Some(BoardInfo {
            mfg_minutes: 14_726_880, // 2024-01-01 00:00 UTC
            manufacturer: "Acme Corp".into(),
            product_name: "rbmc-board".into(),
            serial_number: "BSN0001".into(),
            part_number: "BPN-42".into(),
            fru_file_id: "board.bin".into(),
            custom: vec!["rev B".into()],
        }),
        product: Some(ProductInfo {
            manufacturer: "Acme Corp".into(),
            product_name: "rbmc server".into(),
            part_number: "PPN-7".into(),
            version: "1".into(),
            serial_number: "PSN9".into(),
            asset_tag: String::new(),
            fru_file_id: "prod.bin".into(),
            custom: vec![String::new(), "x".into()],
        }),
    }
}

/// Recomputes the header checksum and the checksum of every info area
/// that lies inside `data`, so decode gets past the checksums.
fn fix_checksums(data: &mut [u8]) {
    data[7] = zero_checksum(&data[..7]);
    for index in 2..=4 {
        let start = usize::from(data[index]) * 8;
        let Some(&len) = data.get(start + 1).filter(|_| start != 0) else {
            continue;
        };
        let end = start + usize::from(len) * 8;
        if end > start && end <= data.len() {
            data[end - 1] = zero_checksum(&data[start..end - 1]);
        }
    }
}

/// A chassis-only image around `content` (version, length placeholder,
/// chassis type, fields): pads it and appends the checksum.
fn chassis_image(content: &[u8]) -> Vec<u8> {
    let mut data = vec![0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00];
    data.extend_from_slice(content);
    data.resize((data.len() + 1).next_multiple_of(8), 0);
    data[9] = u8::try_from((data.len() - 8) / 8).unwrap();
    fix_checksums(&mut data);
    data
}

#[test]
fn known_answer_chassis_and_board() {
    let info = FruInfo {
        chassis: Some(ChassisInfo {
            chassis_type: 0x17,
            part_number: "P1".into(),
            serial_number: "S".into(),
            custom: vec![],
        }),
        board: Some(BoardInfo {
            mfg_minutes: 0x12_3456,
            manufacturer: "AC".into(),
            ..BoardInfo::default()
        }),
        product: None,
    };
    #[rustfmt::skip]
    let expected = [
        // Common header (§8): version 01, no internal use area,
        // chassis at 8 / 8 = 01, board at 24 / 8 = 03, no product,
        // no multirecord, pad 00.
        // Sum 01 + 01 + 03 = 05, checksum 100h - 05h = FBh.
        0x01, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0xFB,
        // Chassis area (§10): version 01, length 02 (16 bytes),
        // type 17h rack mount,
        0x01, 0x02, 0x17,
        // C2h = type 11b | length 2, "P1",
        0xC2, b'P', b'1',
        // "S" padded with a NUL: type 11b needs two bytes (§13.1),
        0xC2, b'S', 0x00,
        // end of fields; 10 bytes + 1 checksum round up to 16: 5 pad,
        0xC1, 0x00, 0x00, 0x00, 0x00, 0x00,
        // 01+02+17+C2+50+31+C2+53+00+C1 = 333h, checksum 100h - 33h.
        0xCD,
        // Board area (§11): version 01, length 02, language 0 English,
        // mfg minutes 123456h least significant byte first,
        0x01, 0x02, 0x00, 0x56, 0x34, 0x12,
        // manufacturer "AC", then empty product name, serial, part
        // number and FRU file ID as C0h each,
        0xC2, b'A', b'C', 0xC0, 0xC0, 0xC0, 0xC0,
        // end of fields; 14 bytes + 1 checksum round up to 16: 1 pad,
        0xC1, 0x00,
        // 01+02+00+56+34+12+C2+41+43+4*C0+C1 = 5A6h, 100h - A6h = 5Ah.
        0x5A,
    ];
    assert_eq!(encode(&info).unwrap(), expected);
    assert_eq!(decode(&expected).unwrap(), info);
}

#[test]
fn round_trips_full_and_partial_infos() {
    let full = full_info();
    // Every combination of present and absent areas.
    for mask in 0..8 {
        let info = FruInfo {
            chassis: full.chassis.clone().filter(|_| mask & 1 != 0),
            board: full.board.clone().filter(|_| mask & 2 != 0),
            product: full.product.clone().filter(|_| mask & 4 != 0),
        };
        let mut bytes = encode(&info).unwrap();
        assert_eq!(bytes.len() % 8, 0);
        assert_eq!(decode(&bytes).unwrap(), info);
        // An EEPROM is larger than its contents: trailing bytes are ignored.
        bytes.extend([0xFF; 64]);
        assert_eq!(decode(&bytes).unwrap(), info);
    }
    let empty = [0x01, 0, 0, 0, 0, 0, 0, 0xFF];
    assert_eq!(encode(&FruInfo::default()).unwrap(), empty);
}

#[test]
fn corrupted_checksums_are_detected() {
    let good = encode(&full_info()).unwrap();
    let mut bad = good.clone();
    bad[7] ^= 0x01;
    assert_eq!(decode(&bad), Err(HeaderChecksum));
    for (index, area) in [(2, Chassis), (3, Board), (4, Product)] {
        let start = usize::from(good[index]) * 8;
        let checksum_at = start + usize::from(good[start + 1]) * 8 - 1;
        for at in [start + 2, start + 5, checksum_at] {
            let mut bad = good.clone();
            bad[at] = bad[at].wrapping_add(1);
            assert_eq!(decode(&bad), Err(AreaChecksum(area)));
        }
    }
}

#[test]
fn bad_versions_lengths_and_languages_are_rejected() {
    let good = encode(&full_info()).unwrap();
    let corrupt = |at: usize, value: u8| {
        let mut bad = good.clone();
        bad[at] = value;
        fix_checksums(&mut bad);
        decode(&bad)
    };
    let version = |area, version| Err(UnsupportedVersion { area, version });
    let board = usize::from(good[3]) * 8;
    assert_eq!(corrupt(0, 0x02), version(CommonHeader, 0x02));
    assert_eq!(corrupt(board, 0x11), version(Board, 0x11));
    assert_eq!(corrupt(board + 1, 0), Err(BadAreaLength(Board)));
    let language = UnsupportedLanguage {
        area: Board,
        code: 1,
    };
    assert_eq!(corrupt(board + 2, 1), Err(language));
}

#[test]
fn truncated_and_unterminated_data_is_rejected() {
    let good = encode(&full_info()).unwrap();
    assert_eq!(decode(&good[..7]), Err(Truncated(CommonHeader)));
    let last = good.len() - 1;
    assert_eq!(decode(&good[..last]), Err(Truncated(Product)));
    for len in 0..good.len() {
        assert!(decode(&good[..len]).is_err());
    }
    // No C1h: 00h reads as empty binary fields until the checksum.
    let unterminated = chassis_image(&[0x01, 0, 0x17, 0xC0, 0xC0, 0xC0]);
    assert_eq!(decode(&unterminated), Err(MissingEndOfFields(Chassis)));
    let short = chassis_image(&[0x01, 0, 0x17, 0xC0, 0xC1]);
    assert_eq!(decode(&short), Err(MissingField(Chassis)));
}

#[test]
fn encode_rejects_bad_fields() {
    let with_part = |part: &str| FruInfo {
        chassis: Some(ChassisInfo {
            part_number: part.into(),
            ..ChassisInfo::default()
        }),
        ..FruInfo::default()
    };
    assert!(encode(&with_part(&"x".repeat(MAX_FIELD_LEN))).is_ok());
    let too_long = FieldTooLong { len: 64 };
    assert_eq!(encode(&with_part(&"x".repeat(64))), Err(too_long));
    assert_eq!(encode(&with_part("caf\u{e9}")), Err(NonAscii('\u{e9}')));
    assert_eq!(encode(&with_part("a\0b")), Err(NulInField));
    let late = FruInfo {
        board: Some(BoardInfo {
            mfg_minutes: 1 << 24,
            ..BoardInfo::default()
        }),
        ..FruInfo::default()
    };
    assert_eq!(encode(&late), Err(MfgDateOutOfRange(1 << 24)));
    // 32 fields of 1 + 63 bytes are 2048 bytes, more than 255 * 8 = 2040.
    let huge = FruInfo {
        chassis: Some(ChassisInfo {
            custom: vec!["y".repeat(63); 32],
            ..ChassisInfo::default()
        }),
        ..FruInfo::default()
    };
    assert_eq!(encode(&huge), Err(TooLarge(Chassis)));
}

#[test]
fn decodes_every_type_code_like_ipmitool() {
    let image = chassis_image(&[
        0x01, 0, 0x17, // 10b 6-bit ASCII, 3 bytes: "IPMI", the FRU spec §13.2 example.
        0x83, 0x29, 0xDC, 0xA6, // 01b BCD plus, 2 bytes: 1, 2, Ah space, Bh dash.
        0x42, 0x12, 0xAB, // 00b binary, printed as hex; 11b Latin 1 "éA".
        0x02, 0xDE, 0xAD, 0xC2, 0xE9, b'A', 0xC1,
    ]);
    let chassis = decode(&image).unwrap().chassis.unwrap();
    assert_eq!(chassis.part_number, "IPMI");
    assert_eq!(chassis.serial_number, "12 -");
    assert_eq!(chassis.custom, ["dead", "\u{e9}A"]);
}

#[test]
fn multirecord_checksums_are_verified() {
    let mut good = encode(&FruInfo {
        chassis: full_info().chassis,
        ..FruInfo::default()
    })
    .unwrap();
    good[5] = u8::try_from(good.len() / 8).unwrap();
    fix_checksums(&mut good);
    // Type 00h, EOL | version 2, 2 data bytes, record checksum
    // 100h - (10h + 20h) = D0h, header checksum 100h - (82h+02h+D0h) % 100h.
    good.extend([0x00, 0x82, 0x02, 0xD0, 0xAC, 0x10, 0x20]);
    assert!(decode(&good).is_ok());
    let mut bad = good.clone();
    *bad.last_mut().unwrap() = 0x21;
    assert_eq!(decode(&bad), Err(AreaChecksum(MultiRecord)));
    let last = good.len() - 1;
    assert_eq!(decode(&good[..last]), Err(Truncated(MultiRecord)));
}

#[test]
fn mfg_time_converts_from_and_to_unix_seconds() {
    // (1704067200 - 820454400) / 60 = 14726880 = E0B6E0h minutes.
    let (new_year_2024, minutes) = (1_704_067_200, 0xE0_B6E0);
    let from_unix = BoardInfo::mfg_minutes_from_unix_secs;
    assert_eq!(from_unix(new_year_2024), Some(minutes));
    let board = BoardInfo {
        mfg_minutes: minutes,
        ..BoardInfo::default()
    };
    assert_eq!(board.mfg_unix_secs(), Some(new_year_2024));
    assert_eq!(BoardInfo::default().mfg_unix_secs(), None);
    assert_eq!(from_unix(FRU_EPOCH_UNIX_SECS - 1), None);
    assert_eq!(from_unix(FRU_EPOCH_UNIX_SECS + (1 << 24) * 60), None);
}

/// ipmitool lib/ipmi_fru.c `get_fru_area_str()`: bits 7:6 are the type,
/// bits 5:0 the length; when the computed size is below 1 it returns
/// NULL after skipping the type/length byte; type 11b copies `len`
/// bytes that the callers print with `%s`, i.e. up to the first NUL.
fn ipmitool_area_str(data: &[u8], i: &mut usize) -> Option<String> {
    let (type_code, len) = (data[*i] >> 6, usize::from(data[*i] & 0x3F));
    *i += 1;
    let size = match type_code {
        0 | 1 => len * 2,
        // ipmitool writes ((len * 4 + 2) / 3) & ~3.
        2 => (len * 4).div_ceil(3) & !3,
        _ => len,
    };
    if size < 1 {
        return None;
    }
    assert_eq!(type_code, 3, "encode only emits 8-bit ASCII");
    let bytes = &data[*i..*i + len];
    *i += len;
    // printf("%s") stops at the first NUL.
    let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
    Some(String::from_utf8_lossy(text).into_owned())
}

/// `__ipmi_fru_print()` and `fru_area_print_{chassis,board,product}()`
/// at verbose 1 (so FRU file IDs print), returning the printed lines.
fn ipmitool_fru_print(fru: &[u8]) -> Vec<String> {
    assert_eq!(fru[0], 1, "Unknown FRU header version");
    let mut lines = Vec::new();
    let sections = [
        (2, "Chassis", 3, "Part Number,Serial"),
        (3, "Board", 6, "Mfg,Product,Serial,Part Number,FRU ID"),
        (
            4,
            "Product",
            3,
            "Manufacturer,Name,Part Number,Version,Serial,Asset Tag,FRU ID",
        ),
    ];
    for (index, section, mut i, labels) in sections {
        let offset = usize::from(fru[index]) * 8;
        if offset < 8 {
            continue;
        }
        let data = &fru[offset..offset + 8 * usize::from(fru[offset + 1])];
        if index == 2 {
            // chassis_type_desc[0x17] is "Rack Mount Chassis".
            assert_eq!(data[2], 0x17);
            lines.push("Chassis Type: Rack Mount Chassis".to_string());
        } else if index == 3 {
            let minutes = u64::from(u32::from_le_bytes([data[3], data[4], data[5], 0]));
            lines.push(format!("Board Mfg Date: {}", minutes * 60 + 820_454_400));
        }
        for label in labels.split(',') {
            if let Some(s) = ipmitool_area_str(data, &mut i).filter(|s| !s.is_empty()) {
                lines.push(format!("{section} {label}: {s}"));
            }
        }
        while i < data.len() && data[i] != 0xC1 {
            let j = i;
            if let Some(s) = ipmitool_area_str(data, &mut i).filter(|s| !s.is_empty()) {
                lines.push(format!("{section} Extra: {s}"));
            }
            if i == j {
                break;
            }
        }
    }
    lines
}

#[test]
fn ipmitool_fru_print_shows_every_field() {
    let lines = ipmitool_fru_print(&encode(&full_info()).unwrap());
    let expected = [
        "Chassis Type: Rack Mount Chassis",
        "Chassis Part Number: CH-PN-0001",
        "Chassis Serial: CHSN123",
        "Chassis Extra: rack 4",
        "Chassis Extra: U12",
        "Board Mfg Date: 1704067200",
        "Board Mfg: Acme Corp",
        "Board Product: rbmc-board",
        "Board Serial: BSN0001",
        "Board Part Number: BPN-42",
        "Board FRU ID: board.bin",
        "Board Extra: rev B",
        "Product Manufacturer: Acme Corp",
        "Product Name: rbmc server",
        "Product Part Number: PPN-7",
        // One character, stored as C2h '1' 00h, prints as "1".
        "Product Version: 1",
        "Product Serial: PSN9",
        // The empty asset tag (C0h) and empty custom field print nothing.
        "Product FRU ID: prod.bin",
        "Product Extra: x",
    ];
    assert_eq!(lines, expected);
}

fn field() -> impl Strategy<Value = String> {
    r"[\x01-\x7F]{0,63}"
}

/// Any info: 14 fixed fields, up to 3 custom fields per area, each
/// area present or not.
fn fru_info() -> impl Strategy<Value = FruInfo> {
    let custom = vec(vec(field(), 0..3), 3);
    let present = any::<[bool; 3]>();
    (
        any::<u8>(),
        0..=MFG_MINUTES_MAX,
        vec(field(), 14),
        custom,
        present,
    )
        .prop_map(|(chassis_type, mfg_minutes, fields, mut custom, present)| {
            let mut c = ChassisInfo {
                chassis_type,
                ..ChassisInfo::default()
            };
            let mut b = BoardInfo {
                mfg_minutes,
                ..BoardInfo::default()
            };
            let mut p = ProductInfo::default();
            (p.custom, b.custom, c.custom) = (custom.remove(2), custom.remove(1), custom.remove(0));
            #[rustfmt::skip]
            #[rustfmt::skip]
            let slots = [
                &mut c.part_number, &mut c.serial_number, &mut b.manufacturer,
                &mut b.product_name, &mut b.serial_number, &mut b.part_number,
                &mut b.fru_file_id, &mut p.manufacturer, &mut p.product_name,
                &mut p.part_number, &mut p.version, &mut p.serial_number,
                &mut p.asset_tag, &mut p.fru_file_id,
            ];
            for (slot, value) in slots.into_iter().zip(fields) {
                *slot = value;
            }
            let [with_c, with_b, with_p] = present;
            FruInfo {
                chassis: with_c.then_some(c),
                board: with_b.then_some(b),
                product: with_p.then_some(p),
            }
        })
}

proptest! {
    #[test]
    fn encode_decode_round_trips(info in fru_info()) {
        let bytes = encode(&info).unwrap();
        prop_assert_eq!(decode(&bytes), Ok(info));
    }

    #[test]
    fn decode_never_panics(data in vec(any::<u8>(), 0..600)) {
        let _ = decode(&data);
    }

    #[test]
    fn decode_never_panics_past_the_header(mut data in vec(any::<u8>(), 8..600)) {
        data[0] = FORMAT_VERSION;
        for offset in &mut data[1..6] {
            *offset %= 16;
        }
        fix_checksums(&mut data);
        let _ = decode(&data);
    }

    #[test]
    fn decode_never_panics_on_mutated_images(
        info in fru_info(), at in any::<Index>(), value in any::<u8>()
    ) {
        let mut data = encode(&info).unwrap();
        let at = at.index(data.len());
        data[at] = value;
        fix_checksums(&mut data);
        let _ = decode(&data);
    }
}
