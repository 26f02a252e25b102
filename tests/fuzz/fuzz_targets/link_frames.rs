//! The host side's framing: the QEMU `ipmi-bmc-extern` link's byte stream
//! (escapes, checksums, commands and messages), fed in the chunks the
//! input's first byte sizes, and the KCS device's whole messages (netFn/LUN,
//! command, data) as rbmc-kcsd splits them.

#![no_main]

use ipmi_vm::Decoder;
use ipmi_wire::NetFn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let mut decoder = Decoder::new();
    for piece in stream.chunks(usize::from(chunk).max(1)) {
        for frame in decoder.feed(piece) {
            let _ = frame;
        }
    }
    // A KCS request: too short is no request; a response NetFn is refused.
    if let [netfn_lun, _cmd, ..] = stream {
        let netfn = NetFn(netfn_lun >> 2);
        let _ = (netfn.is_request(), netfn.response());
    }
});
