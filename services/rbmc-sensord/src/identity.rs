//! The BMC's own identity (IPMI v2.0 §20): Get Device ID (App 01h), Get Self
//! Test Results (App 04h), Get Device GUID (App 08h) and Get System GUID (App
//! 37h). The sensor daemon owns these because the identity describes the
//! management controller whose SDR and FRU it also serves; see
//! docs/ARCHITECTURE.md.

use ipmi_router::{owner::DuplicateCommand, CommandTable, HandlerResult, IpmiRequest};
use ipmi_wire::{CompletionCode, NetFn, Privilege};
use rbmc_config::BmcIdentity;

/// Get Device ID.
pub const CMD_GET_DEVICE_ID: u8 = 0x01;
/// Get Self Test Results.
pub const CMD_GET_SELF_TEST_RESULTS: u8 = 0x04;
/// Get Device GUID.
pub const CMD_GET_DEVICE_GUID: u8 = 0x08;
/// Get System GUID.
pub const CMD_GET_SYSTEM_GUID: u8 = 0x37;

/// The answers, computed once from config.
#[derive(Clone, Debug)]
pub struct Identity {
    device_id: Vec<u8>,
    guid: [u8; 16],
}

impl Identity {
    /// Encodes the `[bmc]` section.
    pub fn from_config(bmc: &BmcIdentity) -> Self {
        let manufacturer = bmc.manufacturer_id.0.to_le_bytes();
        let mut device_id = vec![
            bmc.device_id,
            // bit 7: provides device SDRs; bits 3:0 device revision.
            if bmc.provides_device_sdrs { 0x80 } else { 0 } | bmc.device_revision.0,
            // bit 7 clear: normal operation (not in update or self-init).
            bmc.firmware_revision.major & 0x7F,
            bmc.firmware_revision.minor_bcd(),
            // IPMI version 2.0, BCD with the minor digit in bits 7:4.
            0x02,
            bmc.device_support.iter().fold(0, |bits, s| bits | s.bit()),
            manufacturer[0],
            manufacturer[1],
            manufacturer[2] & 0x0F,
        ];
        device_id.extend_from_slice(&bmc.product_id.to_le_bytes());
        if let Some(aux) = bmc.aux_firmware_revision {
            device_id.extend_from_slice(&aux);
        }
        Self {
            device_id,
            guid: bmc.guid.map(|g| g.ipmi_bytes()).unwrap_or([0; 16]),
        }
    }
}

impl AsRef<Identity> for Identity {
    fn as_ref(&self) -> &Identity {
        self
    }
}

/// Adds the identity commands to `table`.
pub fn register<S>(table: &mut CommandTable<S>) -> Result<(), DuplicateCommand>
where
    S: AsRef<Identity> + Send + Sync + 'static,
{
    let user = Privilege::User;
    table
        .add_sync(NetFn::APP, CMD_GET_DEVICE_ID, user, |s, r| {
            cmd_get_device_id(s.as_ref(), r)
        })?
        .add_sync(NetFn::APP, CMD_GET_SELF_TEST_RESULTS, user, |s, r| {
            cmd_get_self_test_results(s.as_ref(), r)
        })?
        .add_sync(NetFn::APP, CMD_GET_DEVICE_GUID, user, |s, r| {
            cmd_get_guid(s.as_ref(), r)
        })?
        .add_sync(NetFn::APP, CMD_GET_SYSTEM_GUID, user, |s, r| {
            cmd_get_guid(s.as_ref(), r)
        })?;
    Ok(())
}

fn no_data(request: &IpmiRequest) -> Result<(), CompletionCode> {
    if request.data.is_empty() {
        Ok(())
    } else {
        Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
    }
}

/// Get Device ID (§20.1, Table 20-2).
pub fn cmd_get_device_id(identity: &Identity, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    Ok(identity.device_id.clone())
}

/// Get Self Test Results (§20.4, Table 20-4): 55h, 00h = no error. The
/// daemon answering at all is the test: it serves from validated config.
pub fn cmd_get_self_test_results(_: &Identity, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    Ok(vec![0x55, 0x00])
}

/// Get Device GUID (§20.8) and Get System GUID (§22.14): the same GUID, as
/// this BMC is the system's only management controller.
pub fn cmd_get_guid(identity: &Identity, request: &IpmiRequest) -> HandlerResult {
    no_data(request)?;
    Ok(identity.guid.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipmi_router::Context;
    use rbmc_config::Config;

    fn identity() -> Identity {
        let config = Config::from_toml(
            r#"
[bmc]
device-id = 0x20
device-revision = 3
firmware-revision = "2.15"
manufacturer-id = 0x0ABCDE
product-id = 0x1234
provides-device-sdrs = true
device-support = ["sensor", "sdr-repository", "sel", "fru-inventory", "chassis"]
aux-firmware-revision = [1, 2, 3, 4]
guid = "00112233-4455-6677-8899-aabbccddeeff"
"#,
            "t.toml",
        )
        .unwrap();
        Identity::from_config(&config.bmc)
    }

    fn request(data: &[u8]) -> IpmiRequest {
        IpmiRequest {
            netfn: NetFn::APP,
            lun: 0,
            cmd: 0,
            data: data.to_vec(),
            context: Context {
                channel: 1,
                privilege: Privilege::User,
                user_id: 2,
                session_id: 1,
            },
        }
    }

    #[test]
    fn device_id_layout_follows_table_20_2() {
        assert_eq!(
            cmd_get_device_id(&identity(), &request(&[])).unwrap(),
            [0x20, 0x83, 0x02, 0x15, 0x02, 0x8F, 0xDE, 0xBC, 0x0A, 0x34, 0x12, 1, 2, 3, 4]
        );
        assert_eq!(
            cmd_get_device_id(&identity(), &request(&[0])),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
    }

    #[test]
    fn guid_is_sent_in_ipmi_order() {
        assert_eq!(
            cmd_get_guid(&identity(), &request(&[])).unwrap(),
            [
                0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                0x11, 0x00
            ]
        );
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(
            cmd_get_self_test_results(&identity(), &request(&[])).unwrap(),
            [0x55, 0x00]
        );
    }
}
