//! `rbmc-bench sol [BYTES]`: Serial over LAN, end to end through the
//! real bridge. The host console is a pty (`--sol-console tty:...`); the
//! remote console is the test client, which ACKs every packet at once.
//! - Throughput: BYTES written by the "host" into the pty until all of them
//!   have arrived at the remote console in SOL packets.
//! - Keystroke latency: one character sent in a SOL packet until it comes
//!   out of the pty on the host side, 200 times.

use std::{
    io::{Read, Write},
    os::fd::AsRawFd,
    time::{Duration, Instant},
};

use ipmi_wire::{crypto::CipherSuite, NetFn};
use rbmc_e2e::Suite;

/// Runs the benchmark and prints a Markdown table.
pub fn run_bench(bytes: usize) {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .expect("the pty's path");
    let console_arg = format!("tty:{}", slave.display());
    let suite = Suite::start_with(&["--sol-console", &console_arg]);
    let mut uart = std::fs::File::from(pty.master);
    let mut console = suite.console(CipherSuite::SUITE_17);
    let activated = console
        .call(NetFn::APP, 0x48, &[1, 1, 0xC6, 0, 0, 0])
        .expect("activate SOL");
    assert_eq!(activated.completion.0, 0, "activation refused");

    // Wait until netipmid has the pty open: a marker gets through.
    let mut received = 0usize;
    let mut last_sequence = 0u8;
    let mut ack = |console: &mut rbmc_e2e::Console, packet: &[u8]| -> usize {
        let (sequence, data) = (packet[0] & 0x0F, &packet[4..]);
        if sequence == 0 {
            return 0;
        }
        let count = u8::try_from(data.len()).unwrap_or(u8::MAX);
        console.send_sol(&[0, sequence, count, 0]).expect("ack");
        if sequence == last_sequence {
            return 0; // a retransmission
        }
        last_sequence = sequence;
        data.len()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    'marker: loop {
        assert!(Instant::now() < deadline, "the SOL console never connected");
        uart.write_all(b"~").unwrap();
        while let Some(packet) = console.recv_sol(Duration::from_millis(200)) {
            if ack(&mut console, &packet) > 0 {
                break 'marker;
            }
        }
    }
    // Drain what is left of the marker.
    while let Some(packet) = console.recv_sol(Duration::from_millis(300)) {
        ack(&mut console, &packet);
    }

    let mut writer = uart.try_clone().unwrap();
    let started = Instant::now();
    let host = std::thread::spawn(move || {
        let chunk = vec![b'x'; 4096];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            writer.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
    });
    while received < bytes {
        let packet = console
            .recv_sol(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("SOL stalled after {received} of {bytes} bytes"));
        received += ack(&mut console, &packet);
    }
    let elapsed = started.elapsed();
    host.join().unwrap();

    let mut latencies = Vec::new();
    let mut byte = [0u8; 1];
    for i in 0..200u32 {
        let sequence = u8::try_from(i % 15 + 1).unwrap();
        let started = Instant::now();
        console
            .send_sol(&[sequence, 0, 0, 0, b'k'])
            .expect("keystroke");
        uart.read_exact(&mut byte).unwrap();
        latencies.push(started.elapsed());
        // The BMC's ACK for it.
        let _ = console.recv_sol(Duration::from_millis(500));
    }
    latencies.sort();
    let at = |q: f64| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let index = ((latencies.len() - 1) as f64 * q) as usize;
        latencies[index]
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = bytes as f64 / elapsed.as_secs_f64();
    println!("| measurement | result |");
    println!("|---|---|");
    println!(
        "| host → remote console, {bytes} bytes | {:.2} s, {:.0} KiB/s ({:.0}x a 115200 baud line) |",
        elapsed.as_secs_f64(),
        rate / 1024.0,
        rate / 11_520.0
    );
    println!(
        "| keystroke → host, 200 single characters | p50 {:?}, p99 {:?} |",
        at(0.5),
        at(0.99)
    );
}
