//! Platform Event Traps (PET 1.0): the SNMPv1 trap an alert sends to a
//! LAN destination, and the PET Acknowledge that answers it.
//!
//! - The trap is enterprise-specific (generic trap 6) under the IPMI
//!   enterprise OID [`ENTERPRISE`]; its specific trap number is the
//!   sensor type, event type, direction and offset ([`specific_trap`]).
//! - It carries one variable binding, [`VARBIND_OID`], an OCTET STRING
//!   of [`PetFields`] with every multi-byte field most significant byte
//!   first, ended by the C1h that closes the OEM custom fields.
//! - The message is SNMPv1 (RFC 1157), encoded as BER by yasna (DER is
//!   BER).
//!
//! A PET Acknowledge (Sensor/Event command 17h) names a trap by its
//! sequence number, timestamp, event source, sensor device, sensor number
//! and event data, least significant byte first ([`PetFields::ack_key`]).

use yasna::{models::ObjectIdentifier, Tag};

use crate::filter::Event;

/// The IPMI PET enterprise OID: iso.org.dod.internet.private.enterprises.
/// wired-for-management(3183).PET(1).version(1).
pub const ENTERPRISE: [u64; 9] = [1, 3, 6, 1, 4, 1, 3183, 1, 1];
/// The OID of the PET variable binding.
pub const VARBIND_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 3183, 1, 1, 1];
/// SNMPv1's enterpriseSpecific generic trap.
pub const GENERIC_ENTERPRISE_SPECIFIC: i64 = 6;
/// Seconds from 1970-01-01 to 1998-01-01, PET's epoch.
pub const PET_EPOCH_UNIX: u64 = 883_612_800;
/// The trap and event source type of an IPMI BMC (PET Table 7).
pub const SOURCE_IPMI: u8 = 0x20;
/// English, the FRU language code 25.
pub const LANGUAGE_ENGLISH: u8 = 0x19;

/// The specific trap number of `event` (PET 1.0 §3.3): sensor type in
/// bits 23-16, event/reading type in 15-8, 1 in bit 7 for a deassertion,
/// the offset in 3-0.
pub fn specific_trap(event: &Event) -> u32 {
    u32::from(event.sensor_type) << 16
        | u32::from(event.event_type()) << 8
        | u32::from(event.is_deassertion()) << 7
        | u32::from(event.offset())
}

/// The seconds since PET's epoch of a Unix time (0, "unspecified",
/// before it).
pub fn pet_timestamp(unix_seconds: u64) -> u32 {
    u32::try_from(unix_seconds.saturating_sub(PET_EPOCH_UNIX)).unwrap_or(u32::MAX)
}

/// The fields of the PET variable binding (PET 1.0 Table 5).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PetFields {
    /// The system GUID, as Get System GUID gives it.
    pub guid: [u8; 16],
    /// The sequence number (a cookie: here the SEL record ID).
    pub sequence: u16,
    /// Seconds since 1998-01-01 ([`pet_timestamp`]); 0 unspecified.
    pub timestamp: u32,
    /// UTC offset in minutes; FFFFh unspecified.
    pub utc_offset: u16,
    /// Trap source type ([`SOURCE_IPMI`]).
    pub trap_source: u8,
    /// Event source type ([`SOURCE_IPMI`]).
    pub event_source: u8,
    /// Event severity (the matching filter's).
    pub severity: u8,
    /// Sensor device: the event's generator ID byte 1.
    pub sensor_device: u8,
    /// Sensor number.
    pub sensor_number: u8,
    /// Entity ID (00h unspecified).
    pub entity: u8,
    /// Entity instance.
    pub entity_instance: u8,
    /// Event data 1-8 (4-8 unused, 00h).
    pub event_data: [u8; 8],
    /// Language code.
    pub language: u8,
    /// The manufacturer's IANA number.
    pub manufacturer_id: u32,
    /// The system (product) ID.
    pub system_id: u16,
    /// The alert string, sent as an OEM custom field if not empty.
    pub alert_string: Vec<u8>,
}

impl PetFields {
    /// The fields of `event`'s trap; the system's identity and the
    /// entity are the caller's to fill.
    pub fn for_event(event: &Event, severity: u8, unix_seconds: u64) -> Self {
        let mut event_data = [0u8; 8];
        event_data[..3].copy_from_slice(&event.data);
        Self {
            guid: [0; 16],
            sequence: event.record_id,
            timestamp: pet_timestamp(unix_seconds),
            utc_offset: 0xFFFF,
            trap_source: SOURCE_IPMI,
            event_source: SOURCE_IPMI,
            severity,
            sensor_device: event.generator_id.to_le_bytes()[0],
            sensor_number: event.sensor_number,
            entity: 0,
            entity_instance: 0,
            event_data,
            language: LANGUAGE_ENGLISH,
            manufacturer_id: 0,
            system_id: 0,
            alert_string: Vec::new(),
        }
    }

    /// The variable binding's octets: 46 bytes of fields, the alert
    /// string as one OEM custom field (type/length C0h + length, at most
    /// 63 bytes), and C1h.
    pub fn varbind(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(47 + self.alert_string.len());
        out.extend(self.guid);
        out.extend(self.sequence.to_be_bytes());
        out.extend(self.timestamp.to_be_bytes());
        out.extend(self.utc_offset.to_be_bytes());
        out.extend([
            self.trap_source,
            self.event_source,
            self.severity,
            self.sensor_device,
            self.sensor_number,
            self.entity,
            self.entity_instance,
        ]);
        out.extend(self.event_data);
        out.push(self.language);
        out.extend(self.manufacturer_id.to_be_bytes());
        out.extend(self.system_id.to_be_bytes());
        let text = &self.alert_string[..self.alert_string.len().min(63)];
        if !text.is_empty() {
            // FRU type/length: 8-bit ASCII (11b), then the length.
            out.push(0xC0 | u8::try_from(text.len()).unwrap_or(63));
            out.extend(text);
        }
        out.push(0xC1);
        out
    }

    /// The twelve bytes of the PET Acknowledge that answers this trap.
    pub fn ack_key(&self) -> [u8; 12] {
        let mut key = [0u8; 12];
        key[0..2].copy_from_slice(&self.sequence.to_le_bytes());
        key[2..6].copy_from_slice(&self.timestamp.to_le_bytes());
        key[6] = self.event_source;
        key[7] = self.sensor_device;
        key[8] = self.sensor_number;
        key[9..12].copy_from_slice(&self.event_data[..3]);
        key
    }
}

/// An SNMPv1 trap message.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Trap<'a> {
    /// The community string (LAN parameter 16 without its NUL padding).
    pub community: &'a [u8],
    /// The agent address: the BMC's IPv4 address.
    pub agent_addr: [u8; 4],
    /// The specific trap number ([`specific_trap`]).
    pub specific: u32,
    /// The time stamp: hundredths of a second since the agent started.
    pub uptime_ticks: u32,
    /// The PET variable binding ([`PetFields::varbind`]).
    pub varbind: &'a [u8],
}

impl Trap<'_> {
    /// The message, BER-encoded: `SEQUENCE { version 0, community,
    /// Trap-PDU }`, the PDU `\[4\] IMPLICIT SEQUENCE { enterprise,
    /// agent-addr, generic-trap, specific-trap, time-stamp,
    /// variable-bindings }`.
    pub fn encode(&self) -> Vec<u8> {
        yasna::construct_der(|writer| {
            writer.write_sequence(|w| {
                w.next().write_i64(0);
                w.next().write_bytes(self.community);
                w.next().write_tagged_implicit(Tag::context(4), |pdu| {
                    pdu.write_sequence(|p| {
                        p.next()
                            .write_oid(&ObjectIdentifier::from_slice(&ENTERPRISE));
                        p.next().write_tagged_implicit(Tag::application(0), |a| {
                            a.write_bytes(&self.agent_addr)
                        });
                        p.next().write_i64(GENERIC_ENTERPRISE_SPECIFIC);
                        p.next().write_i64(i64::from(self.specific));
                        p.next().write_tagged_implicit(Tag::application(3), |t| {
                            t.write_u32(self.uptime_ticks)
                        });
                        p.next().write_sequence(|bindings| {
                            bindings.next().write_sequence(|binding| {
                                binding
                                    .next()
                                    .write_oid(&ObjectIdentifier::from_slice(&VARBIND_OID));
                                binding.next().write_bytes(self.varbind);
                            })
                        });
                    })
                });
            })
        })
    }
}

#[cfg(test)]
mod tests;
