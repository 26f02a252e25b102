//! `ipmitool -I lanplus ... mc info | mc guid | mc selftest` over cipher
//! suites 17 and 3, and FreeIPMI's `bmc-info` as a second, stricter client.
//! Expected values are read from configs/dev.toml, not from the daemon.

use rbmc_e2e::{dev_config, run, text, Suite, PASSWORD, USER};

fn guid_text() -> String {
    let g = dev_config().bmc.guid.expect("dev.toml sets a guid").0;
    let hex: String = g.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[test]
fn mc_info_guid_and_selftest_over_suites_17_and_3() {
    let bmc = dev_config().bmc;
    let suite = Suite::start();
    for cipher in [17, 3] {
        let out = suite.ipmitool(cipher, &["mc", "info"]);
        let shown = text(&out);
        assert!(out.status.success(), "suite {cipher}: {shown}");
        for expected in [
            format!("Device ID                 : {}", bmc.device_id),
            format!("Device Revision           : {}", bmc.device_revision.0),
            format!(
                "Firmware Revision         : {}.{:02}",
                bmc.firmware_revision.major, bmc.firmware_revision.minor
            ),
            "IPMI Version              : 2.0".to_owned(),
            format!("Manufacturer ID           : {}", bmc.manufacturer_id.0),
            format!(
                "Product ID                : {} (0x{:04x})",
                bmc.product_id, bmc.product_id
            ),
        ] {
            assert!(
                shown.contains(&expected),
                "suite {cipher}: missing {expected:?} in\n{shown}"
            );
        }

        let out = suite.ipmitool(cipher, &["mc", "guid"]);
        let shown = text(&out);
        assert!(out.status.success(), "{shown}");
        assert!(
            shown.contains(&format!("System GUID   : {}", guid_text())),
            "{shown}"
        );
        // ipmitool checks the byte order against IPMI v2.0 §20.8.
        assert!(shown.contains("GUID Encoding : IPMI\n"), "{shown}");

        let out = suite.ipmitool(cipher, &["mc", "selftest"]);
        assert!(text(&out).contains("Selftest: passed"), "{}", text(&out));
    }
}

#[test]
fn freeipmi_bmc_info_reads_identity_and_guid() {
    let bmc = dev_config().bmc;
    let suite = Suite::start();
    let host = format!("127.0.0.1:{}", suite.port);
    let bmc_info = |cipher: &str, what: &str| {
        let out = run(
            "bmc-info",
            &[
                "-h", &host, "-D", "LAN_2_0", "-u", USER, "-p", PASSWORD, "-I", cipher, "-l",
                "ADMIN", what,
            ],
        );
        let shown = text(&out);
        assert!(out.status.success(), "suite {cipher}: {shown}");
        shown
    };
    for cipher in ["17", "3"] {
        let shown = bmc_info(cipher, "--get-device-id");
        assert!(shown.contains("IPMI Version          : 2.0"), "{shown}");
        assert!(
            shown.contains(&format!("({})", bmc.manufacturer_id.0)),
            "{shown}"
        );
        // These print the bare GUID.
        for what in ["--get-system-guid", "--get-device-guid"] {
            let shown = bmc_info(cipher, what);
            assert_eq!(shown.trim(), guid_text(), "{what}");
        }
    }
}
