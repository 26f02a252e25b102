//! Serial over LAN, sans-IO: the SOL payload's packets (IPMI v2.0 §15.9,
//! Table 15-2), the flow control of one active SOL payload instance, the
//! SOL configuration parameters (§26.2-26.3, Table 26-5) and the payload
//! commands' data formats (§24.1-24.5).
//!
//! [`SolLink`] is the BMC's side of one activated SOL payload. Characters
//! from the host console go in with [`SolLink::push_output`] and leave in
//! packets numbered 1..=15; a packet stays outstanding until the console
//! acknowledges it, and is sent again every retry interval up to the retry
//! count. Characters the console sends are acknowledged at once with the
//! count accepted; a retransmission of a packet already taken is
//! acknowledged again but not passed to the host twice.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use ipmi_wire::{CompletionCode, Privilege};

use crate::{commands::CommandResult, config_params};

/// Activate Payload.
pub const CMD_ACTIVATE_PAYLOAD: u8 = 0x48;
/// Deactivate Payload.
pub const CMD_DEACTIVATE_PAYLOAD: u8 = 0x49;
/// Get Payload Activation Status.
pub const CMD_GET_PAYLOAD_ACTIVATION_STATUS: u8 = 0x4A;
/// Get Payload Instance Info.
pub const CMD_GET_PAYLOAD_INSTANCE_INFO: u8 = 0x4B;
/// Set SOL Configuration Parameters (NetFn Transport).
pub const CMD_SET_SOL_CONFIG: u8 = 0x21;
/// Get SOL Configuration Parameters (NetFn Transport).
pub const CMD_GET_SOL_CONFIG: u8 = 0x22;

/// Activate Payload 80h: already active on another session.
pub const CC_PAYLOAD_ALREADY_ACTIVE: CompletionCode = CompletionCode(0x80);
/// Deactivate Payload 80h: payload already deactivated.
pub const CC_PAYLOAD_ALREADY_DEACTIVATED: CompletionCode = CompletionCode(0x80);
/// Activate/Deactivate Payload 81h: the payload type is disabled.
pub const CC_PAYLOAD_DISABLED: CompletionCode = CompletionCode(0x81);
/// Activate Payload 84h: cannot activate the payload without encryption.
pub const CC_ENCRYPTION_REQUIRED: CompletionCode = CompletionCode(0x84);
pub use crate::config_params::{
    CC_PARAMETER_NOT_SUPPORTED, CC_READ_ONLY_PARAMETER, CC_SET_IN_PROGRESS,
};

/// The only SOL instance: the host has one console.
pub const SOL_INSTANCE: u8 = 1;
/// Largest SOL payload either side may send, header included.
pub const MAX_PAYLOAD: u16 = 204;
/// Characters per outbound packet.
const MAX_CHARS: usize = MAX_PAYLOAD as usize - 4;
/// Console output kept while the remote console is slow; older bytes go.
const MAX_BUFFERED: usize = 64 * 1024;

/// Console → BMC operation bit: NACK (the packet's ACK field is a NACK).
const OP_NACK: u8 = 0x40;
/// Console → BMC operation bit: generate a break.
const OP_BREAK: u8 = 0x10;
/// BMC → console status bit: NACK (characters not accepted).
const STATUS_NACK: u8 = 0x40;
/// BMC → console status bit: character transfer unavailable.
const STATUS_TRANSFER_UNAVAILABLE: u8 = 0x20;
/// BMC → console status bit: SOL deactivated.
const STATUS_DEACTIVATED: u8 = 0x10;
/// BMC → console status bit: characters were lost (transmit overrun).
const STATUS_OVERRUN: u8 = 0x08;

/// One SOL packet (Table 15-2), without the session wrapping.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SolPacket {
    /// Packet sequence number 1-15; 0 for an ACK-only packet.
    pub sequence: u8,
    /// The sequence number acknowledged, or 0.
    pub ack_sequence: u8,
    /// Characters accepted from the acknowledged packet.
    pub accepted: u8,
    /// Operation (console → BMC) or status (BMC → console) bits.
    pub flags: u8,
    /// Character data.
    pub data: Vec<u8>,
}

impl SolPacket {
    /// Parses a decrypted SOL payload. Reserved bits are ignored, as the
    /// spec asks of a receiver.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let [sequence, ack_sequence, accepted, flags, data @ ..] = bytes else {
            return None;
        };
        Some(Self {
            sequence: sequence & 0x0F,
            ack_sequence: ack_sequence & 0x0F,
            accepted: *accepted,
            flags: *flags,
            data: data.to_vec(),
        })
    }

    /// The payload bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![self.sequence, self.ack_sequence, self.accepted, self.flags];
        out.extend_from_slice(&self.data);
        out
    }
}

/// The SOL configuration parameters rbmc keeps (Table 26-5).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SolConfig {
    /// Parameter 1: SOL enable.
    pub enabled: bool,
    /// Parameter 2 bit 7: force encryption.
    pub force_encryption: bool,
    /// Parameter 2 bit 6: force authentication.
    pub force_authentication: bool,
    /// Parameter 2 bits 3:0: least privilege to activate SOL.
    pub privilege: Privilege,
    /// Parameter 3 byte 1: character accumulate interval, in 5 ms units.
    pub accumulate_5ms: u8,
    /// Parameter 3 byte 2: character send threshold.
    pub send_threshold: u8,
    /// Parameter 4 byte 1 bits 2:0: retry count.
    pub retry_count: u8,
    /// Parameter 4 byte 2: retry interval, in 10 ms units.
    pub retry_10ms: u8,
    /// Parameter 5: non-volatile bit rate code (6 = 9600 ... Ah = 115200).
    pub bit_rate_nv: u8,
    /// Parameter 6: volatile bit rate code.
    pub bit_rate: u8,
}

impl Default for SolConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            force_encryption: true,
            force_authentication: true,
            privilege: Privilege::User,
            // 50 ms, 96 characters, 7 retries every 500 ms: the values most
            // BMCs ship and ipmitool's examples show.
            accumulate_5ms: 10,
            send_threshold: 96,
            retry_count: 7,
            retry_10ms: 50,
            bit_rate_nv: 0x0A,
            bit_rate: 0x0A,
        }
    }
}

impl SolConfig {
    /// The accumulate interval.
    pub fn accumulate_interval(&self) -> Duration {
        Duration::from_millis(5 * u64::from(self.accumulate_5ms.max(1)))
    }

    /// The retry interval.
    pub fn retry_interval(&self) -> Duration {
        Duration::from_millis(10 * u64::from(self.retry_10ms.max(1)))
    }
}

/// Bit rate codes of parameters 5 and 6: 0 = serial setting, 6-Ah.
fn valid_bit_rate(code: u8) -> bool {
    matches!(code, 0 | 6..=0x0A)
}

/// The SOL configuration of one LAN channel and the commands on it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SolParameters {
    /// The parameters.
    pub config: SolConfig,
    /// The LAN channel carrying SOL.
    pub channel: u8,
    /// The UDP port SOL runs on (the RMCP+ port).
    pub port: u16,
    set_in_progress: bool,
}

impl SolParameters {
    /// Parameters for `channel`, on UDP `port`.
    pub fn new(config: SolConfig, channel: u8, port: u16) -> Self {
        Self {
            config,
            channel,
            port,
            set_in_progress: false,
        }
    }

    /// Get SOL Configuration Parameters (Table 26-4).
    pub fn cmd_get_sol_config(&self, data: &[u8], present: u8) -> CommandResult {
        let (parameter, revision_only) = config_params::parse_get(data, self.channel, present)?;
        let c = &self.config;
        let value = match parameter {
            0 => vec![u8::from(self.set_in_progress)],
            1 => vec![u8::from(c.enabled)],
            2 => vec![
                u8::from(c.force_encryption) << 7
                    | u8::from(c.force_authentication) << 6
                    | c.privilege.level(),
            ],
            3 => vec![c.accumulate_5ms, c.send_threshold],
            4 => vec![c.retry_count, c.retry_10ms],
            5 => vec![c.bit_rate_nv],
            6 => vec![c.bit_rate],
            7 => vec![self.channel],
            8 => self.port.to_le_bytes().to_vec(),
            _ => return Err(CC_PARAMETER_NOT_SUPPORTED),
        };
        Ok(config_params::get_response(revision_only, value))
    }

    /// Set SOL Configuration Parameters (Table 26-3).
    pub fn cmd_set_sol_config(&mut self, data: &[u8], present: u8) -> CommandResult {
        let (parameter, value) = config_params::parse_set(data, self.channel, present)?;
        let mut next = self.config.clone();
        match (parameter, value) {
            (0, _) => return config_params::set_in_progress(&mut self.set_in_progress, value),
            (1, [enable]) if enable & 0xFE == 0 => next.enabled = *enable == 1,
            (2, [auth]) if auth & 0x30 == 0 => {
                next.privilege = match Privilege::from_level(auth & 0x0F) {
                    Some(
                        level @ (Privilege::User | Privilege::Operator | Privilege::Administrator),
                    ) => level,
                    _ => return Err(CompletionCode::INVALID_DATA_FIELD),
                };
                // Sessions are always authenticated and encrypted here, so
                // SOL may not be configured to run without either.
                if auth & 0xC0 != 0xC0 {
                    return Err(CompletionCode::INVALID_DATA_FIELD);
                }
            }
            (3, [interval, threshold]) if *interval != 0 && *threshold != 0 => {
                next.accumulate_5ms = *interval;
                next.send_threshold = *threshold;
            }
            (4, [count, interval]) if count & 0xF8 == 0 => {
                next.retry_count = *count;
                next.retry_10ms = *interval;
            }
            (5, [rate]) if valid_bit_rate(rate & 0x0F) && rate & 0xF0 == 0 => {
                next.bit_rate_nv = *rate;
            }
            (6, [rate]) if valid_bit_rate(rate & 0x0F) && rate & 0xF0 == 0 => {
                next.bit_rate = *rate;
            }
            (7 | 8, _) => return Err(CC_READ_ONLY_PARAMETER),
            (1..=6, []) => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
            (1..=6, _) => {
                // Parameters 3 and 4 are two bytes, the others one: a wrong
                // length is C7h, a right length with a bad value CCh.
                let expected = if matches!(parameter, 3 | 4) { 2 } else { 1 };
                return Err(if value.len() == expected {
                    CompletionCode::INVALID_DATA_FIELD
                } else {
                    CompletionCode::REQUEST_DATA_LENGTH_INVALID
                });
            }
            _ => return Err(CC_PARAMETER_NOT_SUPPORTED),
        }
        self.config = next;
        Ok(Vec::new())
    }
}

/// A packet sent and not yet acknowledged.
#[derive(Clone, Debug)]
struct Outstanding {
    sequence: u8,
    data: Vec<u8>,
    sent_at: Instant,
    retries: u8,
}

/// Whether the host console can take characters now.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum HostState {
    /// Connected, with room.
    #[default]
    Ready,
    /// Connected, but its queue is full: NACK, the console retries.
    Busy,
    /// No console connection: NACK with "character transfer unavailable".
    Unavailable,
}

/// What an inbound SOL packet produced.
#[derive(Debug, Default, Eq, PartialEq)]
pub struct SolInput {
    /// Packets to send back (the ACK, then any data now due).
    pub replies: Vec<SolPacket>,
    /// Characters for the host console.
    pub to_host: Vec<u8>,
    /// The console asked for a break on the serial line.
    pub send_break: bool,
}

/// When host characters may start to flow on a new link.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Hold {
    /// Not before the Activate Payload response is out.
    UntilAnswered,
    /// Not before this time.
    Until(Instant),
    /// Flowing.
    Open,
}

/// The least time host characters are held after the Activate Payload
/// response: a console that deactivates at once (ipmitool's `sol
/// looptest`) takes the first datagram after each request as its answer,
/// so no SOL packet may come between the two responses.
pub const FIRST_DATA_HOLD: Duration = Duration::from_millis(100);

/// The BMC's side of one active SOL payload instance.
#[derive(Debug)]
pub struct SolLink {
    config: SolConfig,
    hold: Hold,
    next_sequence: u8,
    outstanding: Option<Outstanding>,
    pending: VecDeque<u8>,
    pending_since: Option<Instant>,
    overrun: bool,
    last_inbound: Option<(u8, u8)>,
}

impl SolLink {
    /// A link with the configured timing, sending at once.
    pub fn new(config: SolConfig) -> Self {
        Self::with_hold(config, Hold::Open)
    }

    /// A link for a payload being activated: host characters are buffered
    /// until [`SolLink::answered`] and then for the accumulate interval
    /// (at least [`FIRST_DATA_HOLD`]), so the Activate Payload response,
    /// and the answer to a Deactivate sent at once after it, go first.
    pub fn held_until_answered(config: SolConfig) -> Self {
        Self::with_hold(config, Hold::UntilAnswered)
    }

    fn with_hold(config: SolConfig, hold: Hold) -> Self {
        Self {
            config,
            hold,
            next_sequence: 0,
            outstanding: None,
            pending: VecDeque::new(),
            pending_since: None,
            overrun: false,
            last_inbound: None,
        }
    }

    /// The configuration the link runs with.
    pub fn config(&self) -> &SolConfig {
        &self.config
    }

    /// The Activate Payload response was sent at `now`.
    pub fn answered(&mut self, now: Instant) {
        if self.hold == Hold::UntilAnswered {
            self.hold = Hold::Until(now + self.config.accumulate_interval().max(FIRST_DATA_HOLD));
        }
    }

    /// Whether host characters are still held at `now`.
    fn held(&mut self, now: Instant) -> bool {
        match self.hold {
            Hold::UntilAnswered => true,
            Hold::Until(until) if now < until => true,
            Hold::Until(_) => {
                self.hold = Hold::Open;
                false
            }
            Hold::Open => false,
        }
    }

    /// How many more host characters the link buffers before it would drop
    /// the oldest: the console side should stop reading at 0 (backpressure).
    pub fn room(&self) -> usize {
        MAX_BUFFERED.saturating_sub(self.pending.len())
    }

    /// Whether characters wait to be sent or acknowledged.
    pub fn is_idle(&self) -> bool {
        self.outstanding.is_none() && self.pending.is_empty()
    }

    /// Queues characters from the host console, and returns the packets now
    /// due.
    pub fn push_output(&mut self, now: Instant, bytes: &[u8]) -> Vec<SolPacket> {
        if self.pending.is_empty() {
            self.pending_since = Some(now);
        }
        self.pending.extend(bytes);
        if self.pending.len() > MAX_BUFFERED {
            let excess = self.pending.len() - MAX_BUFFERED;
            self.pending.drain(..excess);
            self.overrun = true;
        }
        self.poll(now)
    }

    /// Retransmits what timed out and sends what the accumulate interval or
    /// the send threshold made due.
    pub fn poll(&mut self, now: Instant) -> Vec<SolPacket> {
        let mut out = Vec::new();
        if self.held(now) {
            return out;
        }
        if let Some(outstanding) = &mut self.outstanding {
            if now.duration_since(outstanding.sent_at) < self.config.retry_interval() {
                return out;
            }
            if outstanding.retries < self.config.retry_count {
                outstanding.retries += 1;
                outstanding.sent_at = now;
                out.push(SolPacket {
                    sequence: outstanding.sequence,
                    ack_sequence: 0,
                    accepted: 0,
                    flags: 0,
                    data: outstanding.data.clone(),
                });
                return out;
            }
            // The console never took it: give the characters up.
            self.outstanding = None;
            self.overrun = true;
        }
        let due = self.pending.len() >= usize::from(self.config.send_threshold.max(1))
            || self.pending_since.is_some_and(|since| {
                now.duration_since(since) >= self.config.accumulate_interval()
            });
        if due && !self.pending.is_empty() {
            out.push(self.send_next(now));
        }
        out
    }

    /// When [`SolLink::poll`] next has work, if ever.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.hold {
            Hold::UntilAnswered => return None,
            Hold::Until(until) => return Some(until),
            Hold::Open => {}
        }
        match &self.outstanding {
            Some(o) => Some(o.sent_at + self.config.retry_interval()),
            None => self
                .pending_since
                .filter(|_| !self.pending.is_empty())
                .map(|since| since + self.config.accumulate_interval()),
        }
    }

    fn send_next(&mut self, now: Instant) -> SolPacket {
        let take = self.pending.len().min(MAX_CHARS);
        let data: Vec<u8> = self.pending.drain(..take).collect();
        self.pending_since = if self.pending.is_empty() {
            None
        } else {
            Some(now)
        };
        // Sequence numbers cycle 1..=15; 0 marks ACK-only packets.
        self.next_sequence = self.next_sequence % 15 + 1;
        self.outstanding = Some(Outstanding {
            sequence: self.next_sequence,
            data: data.clone(),
            sent_at: now,
            retries: 0,
        });
        let flags = if std::mem::take(&mut self.overrun) {
            STATUS_OVERRUN
        } else {
            0
        };
        SolPacket {
            sequence: self.next_sequence,
            ack_sequence: 0,
            accepted: 0,
            flags,
            data,
        }
    }

    /// Handles a packet from the remote console, given whether the host
    /// console can take characters.
    pub fn on_packet(&mut self, now: Instant, packet: &SolPacket, host: HostState) -> SolInput {
        let mut input = SolInput::default();
        let resend_now = packet.ack_sequence != 0 && self.on_ack(packet);
        if packet.sequence != 0 {
            let reply = self.on_characters(packet, host, &mut input);
            input.replies.push(reply);
        }
        if resend_now {
            input.replies.push(self.send_next(now));
        } else if self.outstanding.is_none() && !self.pending.is_empty() {
            input.replies.extend(self.poll(now));
        }
        input
    }

    /// Takes the characters of a data packet (at most [`MAX_CHARS`]) and
    /// builds the acknowledgement. A packet repeated with the same sequence
    /// number (our ACK was lost) delivers only what it adds; characters the
    /// host cannot take now are NACKed, not accepted and lost.
    fn on_characters(
        &mut self,
        packet: &SolPacket,
        host: HostState,
        input: &mut SolInput,
    ) -> SolPacket {
        let refuse = |flags| SolPacket {
            sequence: 0,
            ack_sequence: packet.sequence,
            accepted: 0,
            flags,
            data: Vec::new(),
        };
        match host {
            HostState::Ready => {}
            HostState::Busy if !packet.data.is_empty() => return refuse(STATUS_NACK),
            HostState::Unavailable if !packet.data.is_empty() => {
                return refuse(STATUS_NACK | STATUS_TRANSFER_UNAVAILABLE)
            }
            HostState::Busy | HostState::Unavailable => {}
        }
        let taken = &packet.data[..packet.data.len().min(MAX_CHARS)];
        let already = match self.last_inbound {
            Some((sequence, count)) if sequence == packet.sequence => usize::from(count),
            _ => 0,
        };
        input.to_host = taken.get(already..).unwrap_or_default().to_vec();
        input.send_break = already == 0 && packet.flags & OP_BREAK != 0;
        let accepted = u8::try_from(taken.len()).unwrap_or(u8::MAX);
        self.last_inbound = Some((packet.sequence, accepted));
        SolPacket {
            sequence: 0,
            ack_sequence: packet.sequence,
            accepted,
            flags: 0,
            data: Vec::new(),
        }
    }

    /// Applies an ACK or NACK; true when part of the packet must be sent
    /// again at once.
    fn on_ack(&mut self, packet: &SolPacket) -> bool {
        let Some(outstanding) = &self.outstanding else {
            return false;
        };
        if outstanding.sequence != packet.ack_sequence {
            return false;
        }
        if packet.flags & OP_NACK != 0 {
            // The console cannot take characters now: keep the packet and
            // retry after the interval, without spending a retry.
            if let Some(o) = &mut self.outstanding {
                o.retries = 0;
            }
            return false;
        }
        let accepted = usize::from(packet.accepted).min(outstanding.data.len());
        let rest = outstanding.data[accepted..].to_vec();
        self.outstanding = None;
        // A partial ACK: the rest goes again first, in a new packet.
        let partial = !rest.is_empty();
        for byte in rest.into_iter().rev() {
            self.pending.push_front(byte);
        }
        partial
    }

    /// The packet that tells a console its SOL was deactivated (taken over
    /// by another session or deactivated by command).
    pub fn deactivated_notice(&mut self) -> SolPacket {
        self.next_sequence = self.next_sequence % 15 + 1;
        SolPacket {
            sequence: self.next_sequence,
            ack_sequence: 0,
            accepted: 0,
            flags: STATUS_DEACTIVATED,
            data: Vec::new(),
        }
    }
}

/// Activate Payload's response data (Table 24-2) for SOL on `port`.
pub fn activate_response(port: u16) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0];
    out.extend_from_slice(&MAX_PAYLOAD.to_le_bytes());
    out.extend_from_slice(&MAX_PAYLOAD.to_le_bytes());
    out.extend_from_slice(&port.to_le_bytes());
    // No VLAN addressing.
    out.extend_from_slice(&[0xFF, 0xFF]);
    out
}

/// The SOL instance named by a payload command's first two bytes: type 1,
/// instance 1. Other types and instances are an invalid data field.
pub fn parse_sol_instance(data: &[u8], length: usize) -> Result<(), CompletionCode> {
    let (Some(&payload_type), true) = (data.first(), data.len() == length) else {
        return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
    };
    if payload_type & 0x3F != 0x01 || payload_type & 0xC0 != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    if length > 1 && data[1] != SOL_INSTANCE {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
