//! The emulated AST2600 from the host's side (issue 17): boots the image
//! that `tests/ast2600/image.sh` assembles in `qemu-system-arm -M
//! ast2600-evb`, with the parts the board config names (a TMP421 and a
//! MAX31785 on I2C bus 3, eth0 on QEMU's user network with UDP 623
//! forwarded to a host port), and gives a test the host's hands:
//!
//! - QMP, to set sensor values and GPIO inputs and read GPIO outputs
//!   (`qom-set /machine/peripheral/tmp421 temperature0 ...`,
//!   `qom-get /machine/soc/gpio gpioB1`);
//! - the host's half of KCS3 ([`EmulatedBoard::kcs_request`], in
//!   `host_kcs.rs`);
//! - ipmitool over the forwarded port;
//! - the guest's console: its `RBMC-GUEST:` lines and the commands of
//!   `tests/ast2600/init.sh`.
//!
//! A daemon that exits in the guest says so on the console;
//! [`EmulatedBoard::healthy`] turns that into an error carrying the
//! console's tail, so a failure is a failing test with the guest's log.

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::{cpio::Cpio, free_udp_port, repo_root, PASSWORD, USER};

/// The image's files, in `target/ast2600`.
const IMAGE_FILES: [&str; 3] = ["vmlinuz", "ast2600-evb.dtb", "initrd.gz"];

/// The emulated board, powered off (QEMU killed) on drop.
pub struct EmulatedBoard {
    qemu: Mutex<Child>,
    console_in: ChildStdin,
    console: Arc<Mutex<Vec<String>>>,
    qmp: Qmp,
    pub(crate) qtest: Qtest,
    /// The host port forwarded to the guest's UDP 623.
    pub ipmi_port: u16,
    /// The host port forwarded to the guest's TCP 443 (Redfish).
    pub redfish_port: u16,
    dir: PathBuf,
}

impl EmulatedBoard {
    /// Boots the image with a first administrator ([`USER`], [`PASSWORD`])
    /// provisioned the way the image allows (a one-time `provision.toml` in
    /// rbmc-userd's state directory, added as a second initramfs archive),
    /// and waits until the guest has started its daemons.
    pub fn boot(limit: Duration) -> Result<Self, String> {
        let image = repo_root().join("target/ast2600");
        for file in IMAGE_FILES {
            if !image.join(file).exists() {
                return Err(format!(
                    "{} is missing: run `bash tests/ast2600/image.sh` (tests/run.sh does)",
                    image.join(file).display()
                ));
            }
        }
        let dir = std::env::temp_dir().join(format!("rbmc-ast2600-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let initrd = dir.join("initrd");
        write_initrd(&image.join("initrd.gz"), &initrd)?;
        let qmp_socket = dir.join("qmp.sock");
        let qtest_socket = dir.join("qtest.sock");
        let ipmi_port = free_udp_port();
        let redfish_port = crate::free_tcp_port();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut qemu = Command::new("qemu-system-arm")
            .args(["-M", "ast2600-evb", "-m", "1G", "-no-reboot"])
            .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
            .arg("-kernel")
            .arg(image.join("vmlinuz"))
            .arg("-dtb")
            .arg(image.join("ast2600-evb.dtb"))
            .arg("-initrd")
            .arg(&initrd)
            .arg("-append")
            .arg(format!(
                "console=ttyS4,115200n8 rdinit=/init rbmc.time={now}"
            ))
            .args([
                "-device",
                "tmp421,id=tmp421,bus=aspeed.i2c.bus.3,address=0x4c",
            ])
            .args([
                "-device",
                "max31785,id=fans,bus=aspeed.i2c.bus.3,address=0x52",
            ])
            .arg("-nic")
            .arg(format!(
                "user,model=ftgmac100,hostfwd=udp:127.0.0.1:{ipmi_port}-:623,hostfwd=tcp:127.0.0.1:{redfish_port}-:443"
            ))
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp_socket.display()))
            .arg("-chardev")
            .arg(format!(
                "socket,id=qtest,path={},server=on,wait=off",
                qtest_socket.display()
            ))
            .args(["-object", "qtest,id=qtest0,chardev=qtest,log=/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("qemu-system-arm (tests/ast2600/image.sh installs it): {e}"))?;
        let console = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            qemu.stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            qemu.stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let console = Arc::clone(&console);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let line = line.trim_end_matches('\r').to_owned();
                    console.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        let console_in = qemu.stdin.take().ok_or("QEMU's stdin")?;
        let started = Instant::now();
        let connect = |path: &Path| {
            crate::poll_until(Duration::from_secs(10), || {
                UnixStream::connect(path).map_err(|e| format!("{}: {e}", path.display()))
            })
        };
        let qmp = Qmp::open(connect(&qmp_socket)?)?;
        let qtest = Qtest::open(connect(&qtest_socket)?);
        let board = Self {
            qemu: Mutex::new(qemu),
            console_in,
            console,
            qmp,
            qtest,
            ipmi_port,
            redfish_port,
            dir,
        };
        board.wait_console(
            "RBMC-GUEST: daemons started",
            limit.saturating_sub(started.elapsed()),
        )?;
        Ok(board)
    }

    /// Every console line so far.
    pub fn console_lines(&self) -> Vec<String> {
        self.console
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The console's last `lines` lines.
    pub fn console_tail(&self, lines: usize) -> String {
        let all = self.console_lines();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Waits for a console line containing `needle` (one that arrived after
    /// `from` lines); the line, or an error with the console's tail.
    pub fn wait_console_from(
        &self,
        from: usize,
        needle: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.console_lines();
            if let Some(line) = lines.iter().skip(from).find(|l| l.contains(needle)) {
                return Ok(line.clone());
            }
            self.healthy()?;
            if let Ok(Some(status)) = self.qemu_status() {
                return Err(format!(
                    "QEMU ended ({status}) before the console said {needle:?}:\n{}",
                    self.console_tail(60)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the console did not say {needle:?} within {timeout:?}:\n{}",
                    self.console_tail(60)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// [`Self::wait_console_from`] the start.
    pub fn wait_console(&self, needle: &str, timeout: Duration) -> Result<String, String> {
        self.wait_console_from(0, needle, timeout)
    }

    fn qemu_status(&self) -> std::io::Result<Option<std::process::ExitStatus>> {
        self.qemu
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_wait()
    }

    /// An error naming every daemon that exited in the guest, with the
    /// console's tail (its log is there), or `Ok`.
    pub fn healthy(&self) -> Result<(), String> {
        let exited = |lines: &[String]| -> Vec<String> {
            lines
                .iter()
                .filter(|l| l.starts_with("RBMC-GUEST: rbmc-") && l.contains(" exited "))
                .cloned()
                .collect()
        };
        let found = exited(&self.console_lines());
        if found.is_empty() {
            return Ok(());
        }
        // The log's tail follows the exit line: wait for its end (init.sh
        // says "log ends").
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let lines = self.console_lines();
            let ends = lines.iter().filter(|l| l.ends_with(" log ends")).count();
            if ends >= exited(&lines).len() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "{} in the guest:\n{}",
            exited(&self.console_lines()).join("; "),
            self.console_tail(80)
        ))
    }

    /// Sends one command line to the guest's console
    /// (`tests/ast2600/init.sh` lists them) and waits for the reply line
    /// containing `reply`.
    pub fn console_command(&mut self, line: &str, reply: &str) -> Result<String, String> {
        let from = self.console_lines().len();
        self.send_console(line)?;
        self.wait_console_from(from, reply, Duration::from_secs(20))
    }

    /// Sends one command line to the guest's console without waiting for
    /// its reply (a command that kills a daemon: its exit may reach the
    /// console before the reply, which [`Self::console_command`] would take
    /// for a failure).
    pub fn send_console(&mut self, line: &str) -> Result<(), String> {
        writeln!(self.console_in, "{line}").map_err(|e| format!("console: {e}"))?;
        self.console_in.flush().map_err(|e| format!("console: {e}"))
    }

    /// The guest's daemon logs (the console's `logs` command), for a
    /// failure's message.
    pub fn guest_logs(&mut self) -> String {
        let from = self.console_lines().len();
        match self.console_command("logs", "RBMC-GUEST: logs end") {
            Ok(_) => self.console_lines()[from..].join("\n"),
            Err(err) => err,
        }
    }

    /// One QMP command's `return` value.
    pub fn qmp(&mut self, execute: &str, arguments: Value) -> Result<Value, String> {
        self.qmp.execute(execute, arguments)
    }

    /// `qom-get path property`.
    pub fn qom_get(&mut self, path: &str, property: &str) -> Result<Value, String> {
        self.qmp("qom-get", json!({ "path": path, "property": property }))
    }

    /// `qom-set path property value`.
    pub fn qom_set(&mut self, path: &str, property: &str, value: Value) -> Result<(), String> {
        self.qmp(
            "qom-set",
            json!({ "path": path, "property": property, "value": value }),
        )
        .map(drop)
    }

    /// The QOM path of the board model's own device of type `type_name`
    /// (e.g. the `tmp105` that ast2600-evb puts on I2C bus 8 at 4Dh).
    pub fn board_device(&mut self, type_name: &str) -> Result<String, String> {
        let children = self.qmp("qom-list", json!({ "path": "/machine/unattached" }))?;
        let wanted = format!("child<{type_name}>");
        children
            .as_array()
            .into_iter()
            .flatten()
            .find(|child| child["type"] == wanted.as_str())
            .and_then(|child| child["name"].as_str())
            .map(|name| format!("/machine/unattached/{name}"))
            .ok_or_else(|| format!("the board has no {type_name}"))
    }

    /// A GPIO line of the SoC's controller as QEMU sees it (`gpioB1`).
    pub fn gpio(&mut self, line: &str) -> Result<bool, String> {
        self.qom_get("/machine/soc/gpio", line)?
            .as_bool()
            .ok_or_else(|| format!("{line} is not a boolean"))
    }

    /// Drives a GPIO input of the SoC (the host's side of a line).
    pub fn set_gpio(&mut self, line: &str, level: bool) -> Result<(), String> {
        self.qom_set("/machine/soc/gpio", line, json!(level))
    }

    /// Runs ipmitool against the board over the forwarded port, as the
    /// provisioned administrator, with cipher suite 17.
    pub fn ipmitool(&self, args: &[&str]) -> Output {
        let port = self.ipmi_port.to_string();
        Command::new("ipmitool")
            .args(["-I", "lanplus", "-H", "127.0.0.1", "-p", &port])
            .args(["-U", USER, "-P", PASSWORD, "-C", "17", "-N", "2", "-R", "3"])
            .args(args)
            .output()
            .expect("ipmitool")
    }
}

impl Drop for EmulatedBoard {
    fn drop(&mut self) {
        let qemu = self.qemu.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = qemu.kill();
        let _ = qemu.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The image's initramfs with a second archive after it: the first
/// administrator's one-time provisioning file. The kernel unpacks
/// concatenated archives in order, skipping zero padding between them.
fn write_initrd(image_initrd: &Path, out: &Path) -> Result<(), String> {
    let mut bytes =
        std::fs::read(image_initrd).map_err(|e| format!("{}: {e}", image_initrd.display()))?;
    while bytes.len() % 4 != 0 {
        bytes.push(0);
    }
    let provision = format!(
        "[[users]]\nid = 2\nname = \"{USER}\"\npassword = \"{PASSWORD}\"\n\
         privilege = \"administrator\"\nsol = true\n"
    );
    let mut overlay = Cpio::default();
    for dir in ["var", "var/lib", "var/lib/rbmc", "var/lib/rbmc/userd"] {
        overlay.dir(dir);
    }
    overlay.entry(
        "var/lib/rbmc/userd/provision.toml",
        0o100_600,
        provision.as_bytes(),
    );
    bytes.extend_from_slice(&overlay.finish());
    std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))
}

/// A QMP connection (QEMU's JSON machine protocol): one command at a time,
/// events skipped.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    fn open(stream: UnixStream) -> Result<Self, String> {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        let mut qmp = Self {
            reader: BufReader::new(stream),
            writer,
        };
        let mut greeting = String::new();
        qmp.reader
            .read_line(&mut greeting)
            .map_err(|e| format!("QMP greeting: {e}"))?;
        qmp.execute("qmp_capabilities", json!({}))?;
        Ok(qmp)
    }

    fn execute(&mut self, execute: &str, arguments: Value) -> Result<Value, String> {
        let request = json!({ "execute": execute, "arguments": arguments });
        writeln!(self.writer, "{request}").map_err(|e| format!("QMP: {e}"))?;
        loop {
            let mut line = String::new();
            self.reader
                .read_line(&mut line)
                .map_err(|e| format!("QMP {execute}: {e}"))?;
            if line.is_empty() {
                return Err(format!("QMP {execute}: QEMU closed the connection"));
            }
            let reply: Value =
                serde_json::from_str(&line).map_err(|e| format!("QMP {execute}: {e}: {line}"))?;
            if let Some(value) = reply.get("return") {
                return Ok(value.clone());
            }
            if let Some(error) = reply.get("error") {
                return Err(format!("QMP {execute} {request}: {error}"));
            }
        }
    }
}

/// QEMU's qtest protocol on a socket beside the running machine: physical
/// memory reads and writes through the bus, as the SoC's CPU would do
/// them (the one way to set a KCS status register's C/D bit from outside
/// in QEMU 7.2).
pub(crate) struct Qtest {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qtest {
    fn open(stream: UnixStream) -> Self {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let writer = stream.try_clone().expect("clone a Unix stream");
        Self {
            reader: BufReader::new(stream),
            writer,
        }
    }

    fn command(&mut self, line: &str) -> Result<String, String> {
        writeln!(self.writer, "{line}").map_err(|e| format!("qtest: {e}"))?;
        loop {
            let mut reply = String::new();
            self.reader
                .read_line(&mut reply)
                .map_err(|e| format!("qtest {line}: {e}"))?;
            if reply.is_empty() {
                return Err(format!("qtest {line}: QEMU closed the connection"));
            }
            let reply = reply.trim();
            if let Some(rest) = reply.strip_prefix("OK") {
                return Ok(rest.trim().to_owned());
            }
            if reply.starts_with("FAIL") || reply.starts_with("ERR") {
                return Err(format!("qtest {line}: {reply}"));
            }
        }
    }

    /// A 32-bit physical read.
    pub(crate) fn readl(&mut self, address: u32) -> Result<u32, String> {
        let text = self.command(&format!("readl {address:#x}"))?;
        u32::from_str_radix(text.trim_start_matches("0x"), 16)
            .map_err(|e| format!("qtest readl {address:#x}: {text:?}: {e}"))
    }

    /// A 32-bit physical write.
    pub(crate) fn writel(&mut self, address: u32, value: u32) -> Result<(), String> {
        self.command(&format!("writel {address:#x} {value:#x}"))
            .map(drop)
    }
}
