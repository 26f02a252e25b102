//! Sans-IO codec for OpenIPMI's "VM" serial protocol: the byte stream
//! between a virtual machine's IPMI interface (QEMU's `ipmi-bmc-extern`
//! device) and an external BMC (OpenIPMI `lanserv/serial_ipmi.c`, QEMU
//! `hw/ipmi/ipmi_bmc_extern.c`).
//!
//! ```text
//! message  (IPMI request or response):  | seq | netFn<<2|LUN | cmd | [cc] | data… | checksum | A0h |
//! command  (hardware operation):        | op | operand…                                | A1h |
//! escaping: A0h, A1h and AAh inside a frame are sent as AAh, (byte | 10h)
//! ```
//! The checksum makes the sum of every byte from `seq` to itself zero.
//! Commands carry no checksum. The host sends requests; the BMC answers
//! with responses echoing `seq`, and sends commands (attention, power off,
//! reset, NMI, graceful shutdown) to drive the VM.

#![forbid(unsafe_code)]

/// Ends a message.
pub const MSG_CHAR: u8 = 0xA0;
/// Ends a command.
pub const CMD_CHAR: u8 = 0xA1;
/// Escapes the next byte, which has bit 4 set.
pub const ESCAPE_CHAR: u8 = 0xAA;
/// The protocol version both ends speak.
pub const PROTOCOL_VERSION: u8 = 1;
/// The largest frame accepted, unescaped (an IPMI message plus seq and
/// checksum, with room to spare).
pub const MAX_FRAME: usize = 300;

/// Hardware operations (the first byte of a command).
pub mod op {
    /// Protocol version; one byte follows.
    pub const VERSION: u8 = 0xFF;
    /// Clear the SMS attention flag.
    pub const NO_ATTN: u8 = 0x00;
    /// Set the SMS attention flag.
    pub const ATTN: u8 = 0x01;
    /// Set attention and raise the interrupt.
    pub const ATTN_IRQ: u8 = 0x02;
    /// Power the VM off.
    pub const POWER_OFF: u8 = 0x03;
    /// Reset the VM (from the BMC), or: the VM was reset (from the VM).
    pub const RESET: u8 = 0x04;
    /// Enable the messaging interrupt.
    pub const ENABLE_IRQ: u8 = 0x05;
    /// Disable the messaging interrupt.
    pub const DISABLE_IRQ: u8 = 0x06;
    /// Send an NMI.
    pub const SEND_NMI: u8 = 0x07;
    /// Capabilities; one byte of flags follows.
    pub const CAPABILITIES: u8 = 0x08;
    /// Ask the guest to shut down (ACPI).
    pub const GRACEFUL_SHUTDOWN: u8 = 0x09;
}

/// A decoded frame.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Frame {
    /// A message: `seq`, then the IPMI bytes (checksum verified and removed).
    Message {
        /// Sequence number to echo.
        seq: u8,
        /// netFn/LUN, cmd, [completion code,] data.
        body: Vec<u8>,
    },
    /// A command: operation and operands.
    Command(Vec<u8>),
}

/// A frame that could not be used; decoding goes on with the next one.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The checksum did not sum to zero.
    #[error("message checksum mismatch")]
    BadChecksum,
    /// A message shorter than seq + netFn + cmd + checksum.
    #[error("message too short ({0} bytes)")]
    TooShort(usize),
    /// The frame grew past [`MAX_FRAME`]; its bytes were dropped.
    #[error("frame longer than {MAX_FRAME} bytes")]
    TooLong,
    /// An escape byte followed by something that was not escaped.
    #[error("bad escape sequence")]
    BadEscape,
    /// A command frame with no bytes.
    #[error("empty command")]
    EmptyCommand,
}

/// Reassembles frames from a byte stream.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    escape: bool,
    overflow: bool,
    bad_escape: bool,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns every frame (or frame error) they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                MSG_CHAR | CMD_CHAR => {
                    out.push(self.finish(b == MSG_CHAR));
                    self.buf.clear();
                    self.escape = false;
                    self.overflow = false;
                    self.bad_escape = false;
                }
                ESCAPE_CHAR => self.escape = true,
                _ => {
                    let byte = if self.escape {
                        self.escape = false;
                        if b & 0x10 == 0 {
                            self.bad_escape = true;
                        }
                        b & !0x10
                    } else {
                        b
                    };
                    if self.buf.len() >= MAX_FRAME {
                        self.overflow = true;
                    } else {
                        self.buf.push(byte);
                    }
                }
            }
        }
        out
    }

    fn finish(&self, message: bool) -> Result<Frame, FrameError> {
        if self.overflow {
            return Err(FrameError::TooLong);
        }
        if self.bad_escape || self.escape {
            return Err(FrameError::BadEscape);
        }
        if !message {
            return if self.buf.is_empty() {
                Err(FrameError::EmptyCommand)
            } else {
                Ok(Frame::Command(self.buf.clone()))
            };
        }
        if self.buf.len() < 4 {
            return Err(FrameError::TooShort(self.buf.len()));
        }
        if self.buf.iter().fold(0u8, |a, b| a.wrapping_add(*b)) != 0 {
            return Err(FrameError::BadChecksum);
        }
        Ok(Frame::Message {
            seq: self.buf[0],
            body: self.buf[1..self.buf.len() - 1].to_vec(),
        })
    }
}

fn push_escaped(out: &mut Vec<u8>, byte: u8) {
    match byte {
        MSG_CHAR | CMD_CHAR | ESCAPE_CHAR => out.extend_from_slice(&[ESCAPE_CHAR, byte | 0x10]),
        _ => out.push(byte),
    }
}

/// Encodes a message: `seq`, `body`, checksum, end marker.
pub fn encode_message(seq: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * body.len() + 4);
    let mut sum = seq;
    push_escaped(&mut out, seq);
    for &b in body {
        sum = sum.wrapping_add(b);
        push_escaped(&mut out, b);
    }
    push_escaped(&mut out, sum.wrapping_neg());
    out.push(MSG_CHAR);
    out
}

/// Encodes a command: operation, operands, end marker.
pub fn encode_command(op: u8, operands: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * operands.len() + 3);
    push_escaped(&mut out, op);
    for &b in operands {
        push_escaped(&mut out, b);
    }
    out.push(CMD_CHAR);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn get_device_id_as_qemu_sends_it() {
        // seq 05h, netFn 06h << 2 = 18h, cmd 01h; checksum -(05+18+01) = E2h.
        let wire = [0x05, 0x18, 0x01, 0xE2, MSG_CHAR];
        assert_eq!(encode_message(0x05, &[0x18, 0x01]), wire);
        let frames = Decoder::new().feed(&wire);
        assert_eq!(
            frames,
            [Ok(Frame::Message {
                seq: 5,
                body: vec![0x18, 0x01]
            })]
        );
    }

    #[test]
    fn special_bytes_are_escaped() {
        let body = [0x1C, 0x01, 0x00, 0xA0, 0xA1, 0xAA];
        let wire = encode_message(0xAA, &body);
        assert_eq!(wire[..2], [ESCAPE_CHAR, 0xBA]);
        assert_eq!(wire.iter().filter(|b| **b == MSG_CHAR).count(), 1);
        let frames = Decoder::new().feed(&wire);
        assert_eq!(
            frames,
            [Ok(Frame::Message {
                seq: 0xAA,
                body: body.to_vec()
            })]
        );
    }

    #[test]
    fn commands_and_errors_resynchronise() {
        let mut d = Decoder::new();
        let mut wire = encode_command(op::VERSION, &[PROTOCOL_VERSION]);
        wire.extend_from_slice(&[0x05, 0x18, 0x01, 0x00, MSG_CHAR]); // bad checksum
        wire.extend_from_slice(&[0x05, MSG_CHAR]); // too short
        wire.extend_from_slice(&encode_message(6, &[0x18, 0x01]));
        let frames = d.feed(&wire);
        assert_eq!(frames[0], Ok(Frame::Command(vec![0xFF, 0x01])));
        assert_eq!(frames[1], Err(FrameError::BadChecksum));
        assert_eq!(frames[2], Err(FrameError::TooShort(1)));
        assert!(matches!(frames[3], Ok(Frame::Message { seq: 6, .. })));
        // Oversize frames are dropped whole.
        let mut d = Decoder::new();
        let mut big = vec![0x11; MAX_FRAME + 10];
        big.push(MSG_CHAR);
        assert_eq!(d.feed(&big), [Err(FrameError::TooLong)]);
        assert_eq!(
            d.feed(&[0xAA, 0x05, MSG_CHAR]),
            [Err(FrameError::BadEscape)]
        );
    }

    #[test]
    fn split_reads_reassemble() {
        let wire = encode_message(9, &[0x18, 0x01, 0xA0]);
        let mut d = Decoder::new();
        let mut frames = Vec::new();
        for b in &wire {
            frames.extend(d.feed(std::slice::from_ref(b)));
        }
        assert_eq!(frames.len(), 1);
    }

    proptest! {
        #[test]
        fn round_trip_and_no_panic(seq in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 2..200), noise in proptest::collection::vec(any::<u8>(), 0..400)) {
            let frames = Decoder::new().feed(&encode_message(seq, &body));
            prop_assert_eq!(frames, vec![Ok(Frame::Message { seq, body })]);
            let _ = Decoder::new().feed(&noise);
        }
    }
}
