//! Any datagram at the RMCP+ port: RMCP and ASF headers, v1.5 and v2.0
//! session headers, Open Session, RAKP 1 and 3, sessionless requests, and
//! packets naming sessions that do not exist. One datagram per input, then
//! the same bytes again after a real login (so a session exists to name).

#![no_main]

use std::time::Instant;

use ipmi_wire::crypto::CipherSuite;
use libfuzzer_sys::fuzz_target;

#[path = "bmc.rs"]
mod bmc;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut endpoint = bmc::endpoint();
    let _ = endpoint.handle(now, bmc::peer(), data);
    bmc::settle(&mut endpoint, now);
    let _session = bmc::login(&mut endpoint, now, CipherSuite::SUITE_17);
    let _ = endpoint.handle(now, bmc::peer(), data);
    bmc::settle(&mut endpoint, now);
    endpoint.handle_timeout(now + std::time::Duration::from_secs(11));
});
