//! net-snmp's `snmptrapd`, run unprivileged on a free 127.0.0.1 port, as
//! the monitoring system that receives PEF's Platform Event Traps. Its own
//! decoding (the default SNMPv1 format, numeric OIDs, hex strings) is what
//! the tests read: community, enterprise, specific trap number and the PET
//! variable binding's bytes.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::{free_udp_port, wait_for};

/// One trap as snmptrapd printed it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ReceivedTrap {
    /// The community string.
    pub community: String,
    /// The enterprise OID, numeric with a leading dot.
    pub enterprise: String,
    /// The specific trap number.
    pub specific: u32,
    /// The name of the one variable binding.
    pub varbind_oid: String,
    /// Its octets.
    pub varbind: Vec<u8>,
}

/// A running snmptrapd, stopped on drop.
pub struct TrapReceiver {
    child: Child,
    /// The UDP port it listens on.
    pub port: u16,
    dir: PathBuf,
}

impl TrapReceiver {
    /// Starts snmptrapd and waits until it says it is running.
    pub fn start() -> Self {
        let port = free_udp_port();
        let dir = std::env::temp_dir().join(format!("rbmc-traps-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("trap receiver directory");
        let conf = dir.join("snmptrapd.conf");
        std::fs::write(
            &conf,
            "disableAuthorization yes\ndoNotRetainNotificationLogs yes\n",
        )
        .expect("snmptrapd.conf");
        let log = std::fs::File::create(dir.join("traps.log")).expect("traps.log");
        let child = Command::new("snmptrapd")
            .env("SNMP_PERSISTENT_DIR", dir.join("persist"))
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(&conf)
            .args(["-n", "-m", "", "-On", "-Ox"])
            .arg(format!("udp:127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("snmptrapd (tests/run.sh installs it)");
        let receiver = Self { child, port, dir };
        wait_for("snmptrapd to start", Duration::from_secs(10), || {
            let text = receiver.log();
            crate::done_or(text.contains("NET-SNMP version"), text)
        });
        receiver
    }

    /// Everything it printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("traps.log")).unwrap_or_default()
    }

    /// The traps received so far, in order.
    pub fn traps(&self) -> Vec<ReceivedTrap> {
        parse(&self.log())
    }
}

impl Drop for TrapReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// snmptrapd's default v1 output: a header line with the community, a
/// TAB line with the enterprise and `Enterprise Specific Trap (N)`, then
/// TAB lines of variable bindings whose hex strings wrap onto lines
/// without a TAB.
fn parse(text: &str) -> Vec<ReceivedTrap> {
    let mut traps = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((_, community)) = line.split_once("TRAP, SNMP v1, community ") else {
            continue;
        };
        let Some(header) = lines.next() else { break };
        let header = header.trim();
        let enterprise = header.split_whitespace().next().unwrap_or("").to_owned();
        let specific = header
            .split_once("Enterprise Specific Trap (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or(u32::MAX);
        let mut varbind_oid = String::new();
        let mut varbind = Vec::new();
        if let Some(binding) = lines.next() {
            if let Some((oid, value)) = binding.trim().split_once(" = Hex-STRING: ") {
                varbind_oid = oid.to_owned();
                let mut hex = value.to_owned();
                while let Some(more) = lines.peek() {
                    if more.starts_with('\t')
                        || more.trim().is_empty()
                        || more.contains("TRAP, SNMP")
                    {
                        break;
                    }
                    hex.push(' ');
                    hex.push_str(more);
                    lines.next();
                }
                varbind = hex
                    .split_whitespace()
                    .filter_map(|b| u8::from_str_radix(b, 16).ok())
                    .collect();
            }
        }
        traps.push(ReceivedTrap {
            community: community.trim().to_owned(),
            enterprise,
            specific,
            varbind_oid,
            varbind,
        });
    }
    traps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmptrapds_output_parses() {
        let text = "NET-SNMP version 5.9.3\n\
2026-12-02 16:26:55 10.0.0.5 [10.0.0.5] (via UDP: [127.0.0.1]:34740->[127.0.0.1]:16202) TRAP, SNMP v1, community notpublic\n\
\t.1.3.6.1.4.1.3183.1.1 Enterprise Specific Trap (356224) Uptime: 0:00:00.42\n\
\t.1.3.6.1.4.1.3183.1.1.1 = Hex-STRING: 44 45 4C 4C 50 00 10 59 80 43 B2 C0 4F 33 33 58 \n\
00 42 19 EE AB 64 FF FF 20 20 00 41 73 18 00 80 \n\
01 FF 00 00 00 00 00 19 00 00 02 A2 01 00 C1 \n";
        let traps = parse(text);
        assert_eq!(traps.len(), 1);
        assert_eq!(traps[0].community, "notpublic");
        assert_eq!(traps[0].enterprise, ".1.3.6.1.4.1.3183.1.1");
        assert_eq!(traps[0].specific, 356_224);
        assert_eq!(traps[0].varbind_oid, ".1.3.6.1.4.1.3183.1.1.1");
        assert_eq!(traps[0].varbind.len(), 47);
        assert_eq!(traps[0].varbind[46], 0xC1);
    }
}
