//! The peer of the side-by-side benchmark: OpenIPMI's `ipmi_sim` (Debian
//! `openipmi`) made a twin of a running rbmc, so both serve the same
//! records and every walk sends the same packets to both.
//!
//! [`capture`] reads from rbmc over RMCP+ what a client can see: Get Device
//! ID, the System GUID, Get SEL Info, every SDR record (raw), the FRU
//! image and each sensor's raw reading. [`start_twin`] turns that into
//! ipmi_sim's `lan.conf` and emulator command file:
//! - the device ID, GUID and SEL geometry;
//! - each sensor added and its raw reading set *before* its thresholds
//!   (ipmi_sim re-checks thresholds on a value change comparing raw bytes
//!   unsigned, which is wrong for signed sensors), then its thresholds,
//!   hysteresis, event enables and state bits as rbmc reports them;
//!   sensors rbmc reads as unavailable become event-only, so both answer
//!   "no reading";
//! - every SDR record, raw, in rbmc's order (ipmi_sim renumbers them from 1,
//!   as rbmc does), and the FRU image.
//!
//! ipmi_sim has no SHA-256, so it offers no cipher suite 17: the ratio is
//! taken on suite 3. It runs with `-n -p`: no console, no persistence.

use std::{
    fmt::Write as _,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ipmi_wire::NetFn;

use crate::load::Session;

/// What a client sees of a BMC.
#[derive(Debug, Default)]
pub struct Capture {
    /// Get Device ID's data.
    pub device_id: Vec<u8>,
    /// Get System GUID's data.
    pub guid: Vec<u8>,
    /// Get SEL Info's data.
    pub sel_info: Vec<u8>,
    /// Every SDR record, header included.
    pub sdrs: Vec<Vec<u8>>,
    /// FRU device 0.
    pub fru: Vec<u8>,
    /// Get Sensor Reading's data per sensor number (`None`: refused).
    pub readings: Vec<(u8, Option<Vec<u8>>)>,
}

fn data(session: &mut Session, netfn: NetFn, cmd: u8, request: &[u8]) -> Result<Vec<u8>, String> {
    let (code, data) = session.call_data(netfn, cmd, request)?;
    if code == 0 {
        Ok(data)
    } else {
        Err(format!(
            "netfn {netfn:?} cmd {cmd:#04x}: completion {code:#04x}"
        ))
    }
}

/// Reads everything the twin needs from the BMC behind `session`.
pub fn capture(session: &mut Session) -> Result<Capture, String> {
    let mut capture = Capture {
        device_id: data(session, NetFn::APP, 0x01, &[])?,
        guid: data(session, NetFn::APP, 0x37, &[])?,
        sel_info: data(session, NetFn::STORAGE, 0x40, &[])?,
        ..Capture::default()
    };
    let mut next = [0u8, 0];
    while next != [0xFF, 0xFF] {
        let (following, record) = read_sdr(session, next)?;
        next = following;
        capture.sdrs.push(record);
    }
    let area = data(session, NetFn::STORAGE, 0x10, &[0])?;
    let size = usize::from(u16::from_le_bytes([area[0], area[1]]));
    while capture.fru.len() < size {
        let offset = u16::try_from(capture.fru.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        let count = u8::try_from((size - capture.fru.len()).min(16)).unwrap_or(16);
        let chunk = data(
            session,
            NetFn::STORAGE,
            0x11,
            &[0, offset[0], offset[1], count],
        )?;
        capture.fru.extend_from_slice(&chunk[1..]);
    }
    for record in &capture.sdrs {
        if matches!(record.get(3), Some(1 | 2)) {
            let number = record[7];
            let reading = data(session, NetFn::SENSOR_EVENT, 0x2D, &[number]).ok();
            capture.readings.push((number, reading));
        }
    }
    Ok(capture)
}

/// Reads SDR record `id` as a client does: a reservation, the 5-byte
/// header, then the body 16 bytes at a time. Returns the next record's ID
/// and the record.
pub fn read_sdr(session: &mut Session, id: [u8; 2]) -> Result<([u8; 2], Vec<u8>), String> {
    let reservation = data(session, NetFn::STORAGE, 0x22, &[])?;
    let mut read = |offset: u8, count: u8| {
        let request = [reservation[0], reservation[1], id[0], id[1], offset, count];
        data(session, NetFn::STORAGE, 0x23, &request)
    };
    let header = read(0, 5)?;
    if header.len() < 7 {
        return Err("Get SDR answered a short header".into());
    }
    let next = [header[0], header[1]];
    let mut record = header[2..].to_vec();
    let total = 5 + usize::from(record[4]);
    while record.len() < total {
        let offset = u8::try_from(record.len()).map_err(|_| "record too long".to_owned())?;
        let count = u8::try_from((total - record.len()).min(16)).unwrap_or(16);
        let chunk = read(offset, count)?;
        record.extend_from_slice(chunk.get(2..).unwrap_or_default());
    }
    Ok((next, record))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// ipmi_sim's bit-mask strings: the highest bit first.
fn bits(mask: u16, count: u32) -> String {
    (0..count)
        .rev()
        .map(|i| if mask >> i & 1 == 1 { '1' } else { '0' })
        .collect()
}

/// The BMC's address, as ipmi_sim names MCs.
const BMC: u8 = 0x20;

/// The emulator command file for `capture`.
pub fn emu_file(capture: &Capture) -> Result<String, String> {
    let d = &capture.device_id;
    if d.len() < 11 {
        return Err("Get Device ID answered fewer than 11 bytes".into());
    }
    let mut e = String::new();
    let w = |e: &mut String, line: String| {
        e.push_str(&line);
        e.push('\n');
    };
    w(
        &mut e,
        "# Generated by rbmc-bench from a running rbmc.".into(),
    );
    w(&mut e, format!("mc_setbmc 0x{BMC:02x}"));
    let manufacturer = u32::from_le_bytes([d[6], d[7], d[8], 0]);
    let product = u16::from_le_bytes([d[9], d[10]]);
    w(
        &mut e,
        format!(
            "mc_add 0x{BMC:02x} 0x{:02x} {} 0x{:02x} 0x{:02x} 0x{:02x} 0x{:02x} 0x{manufacturer:06x} 0x{product:04x}",
            d[0],
            if d[1] & 0x80 != 0 { "has-device-sdrs" } else { "no-device-sdrs" },
            d[1] & 0x0F,
            d[2] & 0x7F,
            d[3],
            d[5],
        ),
    );
    if capture.guid.len() == 16 {
        let guid: String = capture.guid.iter().map(|b| format!("{b:02x}")).collect();
        w(&mut e, format!("mc_set_guid 0x{BMC:02x} {guid}"));
    }
    if d[5] & 0x04 != 0 {
        let s = &capture.sel_info;
        let (count, free, flags) = if s.len() >= 14 {
            (
                usize::from(u16::from_le_bytes([s[1], s[2]])),
                usize::from(u16::from_le_bytes([s[3], s[4]])),
                s[13],
            )
        } else {
            (0, 16_000, 0x0B)
        };
        w(
            &mut e,
            format!("sel_enable 0x{BMC:02x} {} 0x{flags:02x}", free / 16 + count),
        );
    }
    for record in &capture.sdrs {
        sensor_lines(&mut e, record, capture);
    }
    for record in &capture.sdrs {
        w(&mut e, format!("main_sdr_add 0x{BMC:02x} {}", hex(record)));
    }
    w(
        &mut e,
        format!(
            "mc_add_fru_data 0x{BMC:02x} 0 {} data {}",
            capture.fru.len(),
            hex(&capture.fru)
        ),
    );
    w(&mut e, format!("mc_enable 0x{BMC:02x}"));
    Ok(e)
}

/// The lines that add and set up the sensor of SDR `record`, if it is one.
fn sensor_lines(e: &mut String, r: &[u8], capture: &Capture) {
    let kind = r.get(3).copied();
    if !matches!(kind, Some(1 | 2)) || r.len() < 20 || r[5] != BMC {
        return;
    }
    let (lun, number, sensor_type, reading_type) = (r[6] & 3, r[7], r[12], r[13]);
    let (init, caps) = (r[10], r[11]);
    let reading = capture
        .readings
        .iter()
        .find(|(n, _)| *n == number)
        .and_then(|(_, reading)| reading.clone());
    let unavailable = reading
        .as_ref()
        .is_none_or(|rd| rd.get(1).is_some_and(|b| b & 0x20 != 0));
    let _ = writeln!(
        e,
        "sensor_add 0x{BMC:02x} {lun} 0x{number:02x} 0x{sensor_type:02x} 0x{reading_type:02x}{}",
        if unavailable { " event-only" } else { "" }
    );
    let threshold = reading_type == 0x01;
    if let (false, true, Some(rd)) = (unavailable, threshold, &reading) {
        let _ = writeln!(
            e,
            "sensor_set_value 0x{BMC:02x} {lun} 0x{number:02x} 0x{:02x} 0",
            rd[0]
        );
    }
    if kind == Some(1) && threshold && r.len() >= 44 {
        let support = (caps >> 2) & 3;
        if support != 0 {
            let readable = u16::from(r[18] & 0x3F);
            let _ = writeln!(
                e,
                "sensor_set_threshold 0x{BMC:02x} {lun} 0x{number:02x} {support} {} {}",
                bits(readable, 6),
                hex(&r[36..42])
            );
        }
        let hysteresis = (caps >> 4) & 3;
        if hysteresis != 0 {
            let _ = writeln!(
                e,
                "sensor_set_hysteresis 0x{BMC:02x} {lun} 0x{number:02x} {hysteresis} 0x{:02x} 0x{:02x}",
                r[42], r[43]
            );
        }
    }
    // Bits 12-14 of a threshold sensor's masks are reading masks, not events.
    let event_bits = if threshold { 0x0FFF } else { 0x7FFF };
    let assert_mask = u16::from_le_bytes([r[14], r[15]]) & event_bits;
    let deassert_mask = u16::from_le_bytes([r[16], r[17]]) & event_bits;
    let (events, scanning) = match &reading {
        Some(rd) if rd.len() >= 2 => (rd[1] >> 7 & 1, rd[1] >> 6 & 1),
        _ => (init >> 1 & 1, init & 1),
    };
    let _ = writeln!(
        e,
        "sensor_set_event_support 0x{BMC:02x} {lun} 0x{number:02x} {} {} {} {} {} {} {}",
        if events == 1 { "enable" } else { "disable" },
        if scanning == 1 {
            "scanning"
        } else {
            "no-scanning"
        },
        caps & 3,
        bits(assert_mask, 15),
        bits(deassert_mask, 15),
        bits(assert_mask, 15),
        bits(deassert_mask, 15)
    );
    if let (false, Some(rd)) = (unavailable, &reading) {
        let state = u16::from_le_bytes([
            rd.get(2).copied().unwrap_or(0),
            rd.get(3).copied().unwrap_or(0) & 0x7F,
        ]);
        for bit in (0..15).filter(|bit| state >> bit & 1 == 1) {
            let _ = writeln!(
                e,
                "sensor_set_bit 0x{BMC:02x} {lun} 0x{number:02x} {bit} 1 0"
            );
        }
    }
}

/// ipmi_sim's LAN config: one channel on `listen`, one administrator.
pub fn lan_conf(listen: SocketAddr, user: &str, password: &str, guid: &[u8]) -> String {
    let mut lan = format!(
        "name \"rbmc-twin\"\nset_working_mc 0x{BMC:02x}\n  startlan 1\n    addr {} {}\n    priv_limit admin\n    allowed_auths_admin md5\n",
        listen.ip(),
        listen.port()
    );
    if guid.len() == 16 {
        let guid: String = guid.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(lan, "    guid {guid}");
    }
    let _ = writeln!(
        lan,
        "  endlan\n  user 2 true \"{user}\" \"{password}\" admin 63 md5"
    );
    lan
}

/// A running ipmi_sim; stopped when dropped.
pub struct Peer {
    child: Child,
    dir: PathBuf,
}

impl Peer {
    /// Its process ID.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(0)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes the twin of `capture` into `dir` and starts ipmi_sim on
/// `listen`; returns once it takes logins.
pub fn start_twin(
    capture: &Capture,
    dir: &Path,
    listen: SocketAddr,
    user: &str,
    password: &str,
) -> Result<Peer, String> {
    let state = dir.join("state");
    std::fs::create_dir_all(&state).map_err(|e| e.to_string())?;
    let (lan, emu) = (dir.join("lan.conf"), dir.join("twin.emu"));
    std::fs::write(&lan, lan_conf(listen, user, password, &capture.guid))
        .map_err(|e| e.to_string())?;
    std::fs::write(&emu, emu_file(capture)?).map_err(|e| e.to_string())?;
    let child = Command::new("ipmi_sim")
        .arg("-n")
        .arg("-p")
        .arg("-s")
        .arg(&state)
        .arg("-c")
        .arg(&lan)
        .arg("-f")
        .arg(&emu)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start ipmi_sim (apt-get install openipmi): {e}"))?;
    let peer = Peer {
        child,
        dir: dir.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Session::login(
            listen,
            ipmi_wire::crypto::CipherSuite::SUITE_3,
            user,
            password,
        ) {
            Ok(_) => return Ok(peer),
            Err(err) if Instant::now() > deadline => {
                return Err(format!("ipmi_sim did not take a login: {err}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
