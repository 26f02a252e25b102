//! Bytes inside an authentic, encrypted session: past the integrity check
//! and the replay window, what the endpoint parses next. The first byte
//! picks the payload: an IPMI message (the requests the endpoint routes or
//! answers itself: session privilege, Close Session, Get Session Info, the
//! payload commands) or a SOL packet; the rest is its plaintext.

#![no_main]

use std::time::Instant;

use ipmi_wire::{crypto::CipherSuite, PayloadType};
use libfuzzer_sys::fuzz_target;

#[path = "bmc.rs"]
mod bmc;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, plain)) = data.split_first() else {
        return;
    };
    let now = Instant::now();
    let mut endpoint = bmc::endpoint();
    let suite = if selector & 0x80 == 0 {
        CipherSuite::SUITE_17
    } else {
        CipherSuite::SUITE_3
    };
    let mut session = bmc::login(&mut endpoint, now, suite);
    let payload_type = if selector & 1 == 0 {
        PayloadType::IPMI
    } else {
        PayloadType::SOL
    };
    // The same plaintext twice: a second packet meets what the first left.
    for _ in 0..2 {
        let datagram = session.seal(payload_type, plain, [0x5A; 16]);
        let _ = endpoint.handle(now, bmc::peer(), &datagram);
        bmc::settle(&mut endpoint, now);
    }
});
