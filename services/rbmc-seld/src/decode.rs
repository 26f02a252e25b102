//! Names for SEL records, for the JSON export: sensor types (IPMI v2.0 Table
//! 42-3) and event offsets (Tables 42-2 and 42-3) of the events this suite
//! generates; anything else is shown by its code.

use sel_journal::Record;

/// The name of a sensor type.
pub fn sensor_type(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "Temperature",
        0x02 => "Voltage",
        0x03 => "Current",
        0x04 => "Fan",
        0x05 => "Physical Security",
        0x07 => "Processor",
        0x08 => "Power Supply",
        0x09 => "Power Unit",
        0x0A => "Cooling Device",
        0x0C => "Memory",
        0x10 => "Event Logging Disabled",
        0x12 => "System Event",
        0x1D => "System Boot Initiated",
        0x22 => "System ACPI Power State",
        0x23 => "Watchdog 2",
        _ => return None,
    })
}

/// The name of an event offset for a reading type and sensor type.
pub fn event(reading_type: u8, sensor_type: u8, offset: u8) -> Option<&'static str> {
    const THRESHOLD: [&str; 12] = [
        "Lower Non-critical going low",
        "Lower Non-critical going high",
        "Lower Critical going low",
        "Lower Critical going high",
        "Lower Non-recoverable going low",
        "Lower Non-recoverable going high",
        "Upper Non-critical going low",
        "Upper Non-critical going high",
        "Upper Critical going low",
        "Upper Critical going high",
        "Upper Non-recoverable going low",
        "Upper Non-recoverable going high",
    ];
    match (reading_type, sensor_type, offset) {
        (0x01, _, o) => THRESHOLD.get(usize::from(o)).copied(),
        // Digital discrete (Table 42-2): rbmc-fand's Fan Failsafe.
        (0x03, _, 0x00) => Some("State Deasserted"),
        (0x03, _, 0x01) => Some("State Asserted"),
        (0x6F, 0x23, 0x00) => Some("Timer expired"),
        (0x6F, 0x23, 0x01) => Some("Hard reset"),
        (0x6F, 0x23, 0x02) => Some("Power down"),
        (0x6F, 0x23, 0x03) => Some("Power cycle"),
        (0x6F, 0x23, 0x08) => Some("Timer interrupt"),
        (0x6F, 0x22, 0x00) => Some("S0/G0 working"),
        (0x6F, 0x22, 0x05) => Some("G2/S5 soft-off"),
        (0x6F, 0x09, 0x00) => Some("Power off/down"),
        (0x6F, 0x09, 0x04) => Some("AC lost"),
        (0x6F, 0x09, 0x05) => Some("Soft power control failure"),
        (0x6F, 0x09, 0x06) => Some("Power unit failure"),
        _ => None,
    }
}

/// One record as a JSON object on one line.
pub fn json_line(r: &Record) -> String {
    let id = u16::from_le_bytes([r[0], r[1]]);
    let data: Vec<String> = r[13..16].iter().map(|b| b.to_string()).collect();
    if r[2] != 0x02 {
        let raw: Vec<String> = r[3..].iter().map(|b| b.to_string()).collect();
        return format!(
            "{{\"id\":{id},\"record_type\":{},\"oem_data\":[{}]}}",
            r[2],
            raw.join(",")
        );
    }
    let timestamp = u32::from_le_bytes([r[3], r[4], r[5], r[6]]);
    let generator = u16::from_le_bytes([r[7], r[8]]);
    let (sensor_type_code, number, dir_type) = (r[10], r[11], r[12]);
    let reading_type = dir_type & 0x7F;
    let offset = r[13] & 0x0F;
    let quote = |s: Option<&str>| s.map(|s| format!("\"{s}\"")).unwrap_or("null".into());
    format!(
        "{{\"id\":{id},\"timestamp\":{timestamp},\"generator_id\":{generator},\"sensor_type\":{},\"sensor_type_code\":{sensor_type_code},\"sensor_number\":{number},\"event_reading_type\":{reading_type},\"event\":{},\"assertion\":{},\"event_data\":[{}]}}",
        quote(sensor_type(sensor_type_code)),
        quote(event(reading_type, sensor_type_code, offset)),
        dir_type & 0x80 == 0,
        data.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_event_decodes() {
        let record = [7, 0, 2, 1, 0, 0, 0, 0x20, 0, 4, 1, 1, 1, 0x59, 0x5F, 0x5A];
        let line = json_line(&record);
        assert!(line.contains("\"sensor_type\":\"Temperature\""), "{line}");
        assert!(
            line.contains("\"event\":\"Upper Critical going high\""),
            "{line}"
        );
        assert!(line.contains("\"assertion\":true"), "{line}");
        assert!(line.starts_with("{\"id\":7,"), "{line}");
    }
}
