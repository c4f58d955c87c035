//! Helpers shared by the CLI's end-to-end tests.
#![allow(dead_code)] // each test binary uses its own part

use std::net::{TcpListener, UdpSocket};
use std::process::Command;

/// The `flowwire` binary under test.
pub(crate) fn flowwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowwire"))
}

/// A loopback UDP port free a moment ago.
pub(crate) fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// A loopback TCP port free a moment ago.
pub(crate) fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free TCP port")
}
