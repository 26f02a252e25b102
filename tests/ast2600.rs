//! The BMC on QEMU's emulated AST2600 (issue 17): the image that
//! `tests/ast2600/image.sh` assembles (the test command runs it first) boots
//! in `qemu-system-arm -M ast2600-evb` on Debian's armmp kernel, and the
//! armv7 daemons serve the board through the kernel's own drivers: hwmon
//! (lm75, tmp421, the MAX31785 fan controller), iio (the SoC's ADCs), the
//! GPIO character device (power control), `/dev/ipmi-kcs3` and eth0. The
//! host's side is played through QEMU (tests/harness/board.rs): sensor
//! values and GPIO inputs over QMP, KCS through the LPC controller's
//! registers, ipmitool over the forwarded UDP port.
//!
//! One boot serves every check, in order; the first that fails ends the
//! test with the guest's console and daemon logs. Nothing here is a fixed
//! sleep except the idle window the CPU figures are measured over.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use rbmc_e2e::{board::EmulatedBoard, text, PASSWORD, USER};
use serde_json::json;

/// How long the boot may take, to the daemons started (about 10 s here).
const BOOT_LIMIT: Duration = Duration::from_secs(120);
/// The sensors' poll period in configs/qemu-ast2600-evb.toml.
const POLL: Duration = Duration::from_secs(1);
/// What an ipmitool round trip through QEMU's user network may add to a
/// wait measured in polls.
const ROUND_TRIP: Duration = Duration::from_millis(1500);
/// The idle window over which the daemons' CPU use is measured.
const IDLE_WINDOW: Duration = Duration::from_secs(20);

type Check = fn(&mut EmulatedBoard) -> Result<(), String>;

#[test]
fn the_bmc_serves_the_emulated_ast2600_through_its_real_drivers() {
    let started = Instant::now();
    let mut board = EmulatedBoard::boot(BOOT_LIMIT).unwrap_or_else(|err| panic!("{err}"));
    eprintln!(
        "the emulated AST2600 booted to its daemons in {:?}",
        started.elapsed()
    );
    let checks: [(&str, Check); 9] = [
        ("the daemons answer over eth0", lan_answers),
        ("the armv7 build reports itself", armv7_in_guest),
        (
            "temperatures follow QMP, and a crossing reaches the SEL",
            temperatures,
        ),
        (
            "Redfish on TCP 443 reads the same driver",
            redfish_reads_the_driver,
        ),
        (
            "power control drives and reads the GPIO lines",
            power_control,
        ),
        ("a fan PWM moves the MAX31785's tachometer", fans),
        ("the ADC rails read in range", adc_rails),
        ("KCS answers as LAN does", kcs_agrees_with_lan),
        ("idle memory and CPU", idle_footprint),
    ];
    for (name, check) in checks {
        let began = Instant::now();
        if let Err(err) = check(&mut board).and_then(|()| board.healthy()) {
            let logs = board.guest_logs();
            panic!("{name}: {err}\n--- the guest's daemon logs ---\n{logs}");
        }
        eprintln!("ok: {name} ({:?})", began.elapsed());
    }
    // Last, as it leaves a daemon dead: a failure in the guest is a failing
    // check that carries the daemon's log, and the others keep serving.
    if let Err(err) = a_dead_daemon_is_reported(&mut board) {
        let logs = board.guest_logs();
        panic!("a dead daemon: {err}\n--- the guest's daemon logs ---\n{logs}");
    }
    eprintln!(
        "all checks on the emulated AST2600 in {:?}",
        started.elapsed()
    );
}

fn ipmitool(board: &EmulatedBoard, args: &[&str]) -> Result<String, String> {
    let output = board.ipmitool(args);
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("ipmitool {}: {}", args.join(" "), text(&output)))
    }
}

/// Checks `check` every 100 ms until it gives a value, for at most
/// `limit`: the value and how long it took, or what the last check saw.
fn within<T>(
    limit: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> Result<(T, Duration), String> {
    let started = Instant::now();
    loop {
        match check() {
            Ok(value) => return Ok((value, started.elapsed())),
            Err(seen) if started.elapsed() > limit => {
                return Err(format!("not within {limit:?}: {seen}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A sensor's reading from `ipmitool sensor list` (None if "na").
fn sensor_list_reading(list: &str, name: &str) -> Option<f64> {
    list.lines()
        .find(|line| line.split('|').next().map(str::trim) == Some(name))
        .and_then(|line| line.split('|').nth(1))
        .and_then(|reading| reading.trim().parse().ok())
}

fn lan_answers(board: &mut EmulatedBoard) -> Result<(), String> {
    // The bridges learn the owners' commands as they come up.
    let (info, took) = within(Duration::from_secs(60), || {
        board.healthy()?;
        ipmitool(board, &["mc", "info"])
    })?;
    if !info.contains("IPMI Version              : 2.0") {
        return Err(format!("mc info: {info}"));
    }
    eprintln!("  mc info answered {took:?} after the daemons started");
    Ok(())
}

fn armv7_in_guest(board: &mut EmulatedBoard) -> Result<(), String> {
    let up = board.wait_console("RBMC-GUEST: up on", Duration::ZERO)?;
    if !up.contains("armv7l") {
        return Err(up);
    }
    board
        .console_command(
            "run test -c /dev/ipmi-kcs3 && test -c /dev/gpiochip0 && test -c /dev/i2c-3",
            "run ended with status 0",
        )
        .map(drop)
}

fn temperatures(board: &mut EmulatedBoard) -> Result<(), String> {
    let lm75 = board.board_device("tmp105")?;
    let limit = 2 * POLL + ROUND_TRIP;
    for (path, property, millidegrees, sensor) in [
        (lm75.as_str(), "temperature", 42_500, "Board Temp"),
        (
            "/machine/peripheral/tmp421",
            "temperature0",
            36_000,
            "TMP421 Local",
        ),
        (
            "/machine/peripheral/tmp421",
            "temperature1",
            71_000,
            "TMP421 Remote",
        ),
    ] {
        board.qom_set(path, property, json!(millidegrees))?;
        let want = f64::from(millidegrees) / 1000.0;
        let ((), took) = within(limit, || {
            let list = ipmitool(board, &["sensor", "list"])?;
            (sensor_list_reading(&list, sensor) == Some(want))
                .then_some(())
                .ok_or_else(|| format!("{sensor} is not {want} in\n{list}"))
        })?;
        eprintln!("  {sensor} read {want} °C {took:?} after QMP set it");
    }
    // Board Temp's upper non-critical threshold is 60 °C.
    board.qom_set(&lm75, "temperature", json!(65_000))?;
    let ((), took) = within(limit, || {
        let sel = ipmitool(board, &["sel", "elist"])?;
        sel.lines()
            .any(|l| l.contains("Board Temp") && l.contains("Upper Non-critical going high"))
            .then_some(())
            .ok_or_else(|| format!("no upper non-critical crossing of Board Temp in\n{sel}"))
    })?;
    eprintln!("  the crossing reached `sel elist` {took:?} after QMP set 65 °C");
    board.qom_set(&lm75, "temperature", json!(30_000))
}

/// Redfish, through `hostfwd` to the guest's TCP 443: the TMP421's local
/// temperature, set over QMP, in the expanded Sensors collection.
fn redfish_reads_the_driver(board: &mut EmulatedBoard) -> Result<(), String> {
    board.qom_set("/machine/peripheral/tmp421", "temperature0", json!(44_000))?;
    let url = format!(
        "https://127.0.0.1:{}/redfish/v1/Chassis/chassis/Sensors?$expand=.",
        board.redfish_port
    );
    // Two polls, the round trip, and the bridge's 250 ms shared read.
    let limit = 2 * POLL + ROUND_TRIP + Duration::from_millis(500);
    let (reading, took) = within(limit, || {
        let output = std::process::Command::new("curl")
            .args([
                "-skg",
                "--max-time",
                "5",
                "-u",
                &format!("{USER}:{PASSWORD}"),
                &url,
            ])
            .output()
            .map_err(|e| format!("curl: {e}"))?;
        let body: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("not JSON ({e}): {}", text(&output)))?;
        let reading = body["Members"]
            .as_array()
            .and_then(|members| members.iter().find(|m| m["Name"] == "TMP421 Local"))
            .and_then(|m| m["Reading"].as_f64());
        // The driver's own reading, unconverted by an SDR: the TMP421
        // reports in 1/16 °C steps (QEMU's 44.000 reads 43.938).
        reading
            .filter(|r| (r - 44.0).abs() <= 0.125)
            .ok_or_else(|| format!("TMP421 Local is not 44 °C over Redfish: {body}"))
    })?;
    eprintln!("  Redfish read {reading} °C {took:?} after QMP set it");
    Ok(())
}

/// The x86-power-control names image.sh gives GPIOB0-B3.
const PS_PWROK: &str = "gpioB0";
const POWER_OUT: &str = "gpioB1";

/// Waits for `chassis power <verb>` to press the (active-low) power button
/// line and let it go, and returns how long it was held.
fn watch_press(board: &mut EmulatedBoard, verb: &str) -> Result<Duration, String> {
    if !board.gpio(POWER_OUT)? {
        return Err("POWER_OUT is pressed before the command".into());
    }
    let port = board.ipmi_port.to_string();
    let mut ipmitool = Command::new("ipmitool")
        .args(["-I", "lanplus", "-H", "127.0.0.1", "-p", &port])
        .args([
            "-U", USER, "-P", PASSWORD, "-C", "17", "chassis", "power", verb,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ipmitool: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut pressed_at = None;
    let held = loop {
        let level = board.gpio(POWER_OUT)?;
        match (pressed_at, level) {
            (None, false) => pressed_at = Some(Instant::now()),
            (Some(at), true) => break Instant::now().duration_since(at),
            _ => {}
        }
        if Instant::now() > deadline {
            let _ = ipmitool.kill();
            return Err(format!(
                "chassis power {verb}: POWER_OUT {} within 10 s",
                if pressed_at.is_some() {
                    "was not released"
                } else {
                    "was never pressed"
                }
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = ipmitool.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("chassis power {verb}: {}", text(&output)));
    }
    Ok(held)
}

fn power_status_is(board: &mut EmulatedBoard, want: &str) -> Result<(), String> {
    within(Duration::from_secs(5), || {
        let status = ipmitool(board, &["chassis", "power", "status"])?;
        status
            .contains(want)
            .then_some(())
            .ok_or_else(|| format!("chassis power status says {status:?}, not {want:?}"))
    })
    .map(drop)
}

fn power_control(board: &mut EmulatedBoard) -> Result<(), String> {
    power_status_is(board, "Chassis Power is off")?;
    let held = watch_press(board, "on")?;
    eprintln!("  `chassis power on` held POWER_OUT low for {held:?} (press-ms = 200)");
    if !(Duration::from_millis(150)..Duration::from_millis(1500)).contains(&held) {
        return Err(format!(
            "the power button was held {held:?}, not about 200 ms"
        ));
    }
    // The host's supply comes up: the power-good input rises.
    board.set_gpio(PS_PWROK, true)?;
    power_status_is(board, "Chassis Power is on")?;
    // A soft off presses the button again; the supply then drops.
    let held = watch_press(board, "soft")?;
    eprintln!("  `chassis power soft` held POWER_OUT low for {held:?}");
    board.set_gpio(PS_PWROK, false)?;
    power_status_is(board, "Chassis Power is off")?;
    let sel = ipmitool(board, &["sel", "elist"])?;
    if !sel.contains("S0/G0: working") || !sel.contains("S5/G2: soft-off") {
        return Err(format!("the power changes are not in the SEL:\n{sel}"));
    }
    Ok(())
}

fn fan_reading(board: &EmulatedBoard) -> Result<Option<f64>, String> {
    Ok(sensor_list_reading(
        &ipmitool(board, &["sensor", "list"])?,
        "FAN1",
    ))
}

fn fans(board: &mut EmulatedBoard) -> Result<(), String> {
    let mut readings = Vec::new();
    for pwm in [255, 64] {
        board.console_command(&format!("pwm 1 {pwm}"), "RBMC-GUEST: pwm1 set to")?;
        let before = readings.last().copied();
        let (rpm, took) = within(2 * POLL + ROUND_TRIP, || {
            let reading = fan_reading(board)?;
            reading
                .filter(|rpm| before.is_none_or(|b| *rpm < b))
                .ok_or_else(|| {
                    format!("FAN1 reads {reading:?} after pwm1 = {pwm} (before: {before:?})")
                })
        })?;
        eprintln!("  pwm1 = {pwm}: FAN1 reads {rpm} RPM ({took:?})");
        readings.push(rpm);
    }
    if readings[0] <= 0.0 {
        return Err(format!("FAN1 does not turn at full PWM: {readings:?}"));
    }
    Ok(())
}

fn adc_rails(board: &mut EmulatedBoard) -> Result<(), String> {
    let list = ipmitool(board, &["sensor", "list"])?;
    // The ADCs measure 0 to their 2.5 V reference (10 bits, plus the
    // calibration offset the driver applies): the configured range.
    for rail in ["ADC0 CH0", "ADC0 CH1", "ADC1 CH0"] {
        let volts = sensor_list_reading(&list, rail)
            .ok_or_else(|| format!("{rail} has no reading:\n{list}"))?;
        if !(0.0..=2.55).contains(&volts) {
            return Err(format!("{rail} reads {volts} V, outside 0-2.55 V"));
        }
        eprintln!("  {rail}: {volts} V");
    }
    Ok(())
}

/// The bytes of ipmitool's `raw` output.
fn hex_bytes(output: &str) -> Vec<u8> {
    output
        .split_whitespace()
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect()
}

/// Every SDR record, read over KCS as a host would (IPMI v2.0 §33:
/// Reserve SDR Repository, then Get SDR from record 0000h until FFFFh).
fn kcs_sdr_records(board: &mut EmulatedBoard) -> Result<Vec<Vec<u8>>, String> {
    const STORAGE: u8 = 0x0A << 2;
    let reserve = board.kcs_request(&[STORAGE, 0x22])?;
    if reserve.get(2) != Some(&0) || reserve.len() < 5 {
        return Err(format!("Reserve SDR Repository over KCS: {reserve:02x?}"));
    }
    let (reservation_lo, reservation_hi) = (reserve[3], reserve[4]);
    let mut records = Vec::new();
    let mut record_id = [0u8, 0u8];
    while record_id != [0xFF, 0xFF] {
        let mut record = Vec::new();
        let mut next = record_id;
        // The 5-byte header first, then the body 16 bytes at a time, as
        // ipmitool reads.
        let mut length = 5;
        while record.len() < length {
            let offset = u8::try_from(record.len()).map_err(|e| e.to_string())?;
            let count = u8::try_from((length - record.len()).min(16)).map_err(|e| e.to_string())?;
            let response = board.kcs_request(&[
                STORAGE,
                0x23,
                reservation_lo,
                reservation_hi,
                record_id[0],
                record_id[1],
                offset,
                count,
            ])?;
            if response.get(2) != Some(&0) || response.len() < 5 {
                return Err(format!(
                    "Get SDR {record_id:02x?} over KCS: {response:02x?}"
                ));
            }
            next = [response[3], response[4]];
            record.extend_from_slice(&response[5..]);
            if record.len() >= 5 && length == 5 {
                length = 5 + usize::from(record[4]);
            }
        }
        records.push(record);
        record_id = next;
    }
    Ok(records)
}

/// The ID string of an SDR record, for the types that have one.
fn sdr_id_string(record: &[u8]) -> Option<String> {
    let at = match record.get(3)? {
        0x01 => 47,
        0x02 => 31,
        0x03 => 16,
        0x11 | 0x12 => 15,
        _ => return None,
    };
    let length = usize::from(record.get(at)? & 0x1F);
    let bytes = record.get(at + 1..at + 1 + length)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

fn kcs_agrees_with_lan(board: &mut EmulatedBoard) -> Result<(), String> {
    let started = Instant::now();
    let over_kcs = board.kcs_request(&[0x06 << 2, 0x01])?;
    eprintln!(
        "  Get Device ID over KCS in {:?}: {over_kcs:02x?}",
        started.elapsed()
    );
    if over_kcs.get(..3) != Some(&[0x07 << 2, 0x01, 0x00][..]) {
        return Err(format!("Get Device ID over KCS: {over_kcs:02x?}"));
    }
    let over_lan = hex_bytes(&ipmitool(board, &["raw", "0x06", "0x01"])?);
    if over_kcs[3..] != over_lan[..] {
        return Err(format!(
            "Get Device ID: KCS says {:02x?}, LAN {over_lan:02x?}",
            &over_kcs[3..]
        ));
    }
    let started = Instant::now();
    let records = kcs_sdr_records(board)?;
    eprintln!(
        "  {} SDR records over KCS in {:?}",
        records.len(),
        started.elapsed()
    );
    // `sdr dump` writes the repository's raw records, read over LAN.
    let dump = std::env::temp_dir().join(format!("rbmc-ast2600-sdr-{}", std::process::id()));
    ipmitool(board, &["sdr", "dump", &dump.display().to_string()])?;
    let over_lan = std::fs::read(&dump).map_err(|e| format!("{}: {e}", dump.display()))?;
    let _ = std::fs::remove_file(&dump);
    if records.concat() != over_lan {
        return Err(format!(
            "the SDR repository differs: {} bytes over KCS, {} over LAN",
            records.concat().len(),
            over_lan.len()
        ));
    }
    let names: Vec<String> = records.iter().filter_map(|r| sdr_id_string(r)).collect();
    let listed = ipmitool(board, &["sdr", "list"])?;
    for line in listed.lines() {
        let name = line.split('|').next().unwrap_or_default().trim();
        if !names.iter().any(|n| n == name) {
            return Err(format!(
                "`sdr list` over LAN shows {name:?}, which KCS's records lack ({names:?})"
            ));
        }
    }
    Ok(())
}

/// One line of the console's `report`, parsed.
struct Usage {
    rss_kib: u64,
    cpu_ticks: u64,
    ticks_per_s: u64,
}

fn report(board: &mut EmulatedBoard) -> Result<(Vec<(String, Usage)>, f64), String> {
    let from = board.console_lines().len();
    let uptime = board.console_command("report", "RBMC-GUEST: report uptime=")?;
    let uptime: f64 = uptime
        .rsplit('=')
        .next()
        .and_then(|u| u.trim().parse().ok())
        .ok_or_else(|| format!("uptime in {uptime:?}"))?;
    let mut usage = Vec::new();
    for line in &board.console_lines()[from..] {
        let Some(rest) = line.strip_prefix("RBMC-GUEST: report rbmc-") else {
            continue;
        };
        if rest.contains("not running") {
            return Err(line.clone());
        }
        let mut words = rest.split_whitespace();
        let daemon = words.next().unwrap_or_default().to_owned();
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} in {line:?}"))
        };
        usage.push((
            daemon,
            Usage {
                rss_kib: field("rss_kib=")?,
                cpu_ticks: field("cpu_ticks=")?,
                ticks_per_s: field("ticks_per_s=")?,
            },
        ));
    }
    Ok((usage, uptime))
}

fn idle_footprint(board: &mut EmulatedBoard) -> Result<(), String> {
    let (before, began) = report(board)?;
    std::thread::sleep(IDLE_WINDOW);
    let (after, ended) = report(board)?;
    if after.len() != 9 {
        return Err(format!("{} daemons report, not 9", after.len()));
    }
    let window = ended - began;
    let mut total_rss = 0;
    for (daemon, usage) in &after {
        let earlier = before
            .iter()
            .find(|(d, _)| d == daemon)
            .map_or(0, |(_, u)| u.cpu_ticks);
        #[allow(clippy::cast_precision_loss)]
        let cpu_percent =
            (usage.cpu_ticks - earlier) as f64 / usage.ticks_per_s as f64 / window * 100.0;
        eprintln!(
            "  rbmc-{daemon}: {} KiB resident, {cpu_percent:.2}% CPU idle over {window:.0} s",
            usage.rss_kib
        );
        total_rss += usage.rss_kib;
    }
    eprintln!("  all nine: {total_rss} KiB resident");
    Ok(())
}

fn a_dead_daemon_is_reported(board: &mut EmulatedBoard) -> Result<(), String> {
    // Its exit and the command's own reply reach the console in either
    // order: wait for the exit alone.
    board.send_console("run kill -9 $(pidof rbmc-seld)")?;
    board.wait_console("RBMC-GUEST: rbmc-seld exited", Duration::from_secs(10))?;
    let reported = match board.healthy() {
        Ok(()) => return Err("healthy() missed rbmc-seld's death".into()),
        Err(reported) => reported,
    };
    if !reported.contains("rbmc-seld exited with status 137") || !reported.contains("rbmc-seld: ") {
        return Err(format!("the report lacks the exit or the log:\n{reported}"));
    }
    // The SEL's owner is gone: its commands fail with a completion code,
    // and the rest of the BMC answers.
    let sel = board.ipmitool(&["sel", "info"]);
    if sel.status.success() {
        return Err(format!(
            "sel info answered without its owner: {}",
            text(&sel)
        ));
    }
    ipmitool(board, &["sensor", "list"]).map(drop)
}
