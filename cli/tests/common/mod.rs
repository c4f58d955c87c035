//! Helpers shared by the CLI's end-to-end tests.
#![allow(dead_code)] // each test binary uses its own part

use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Output};

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

/// Runs `flowwire generate ARGS`; it must succeed.
pub(crate) fn generate(args: &[&str]) {
    let out = flowwire()
        .arg("generate")
        .args(args)
        .output()
        .expect("running flowwire generate");
    assert!(
        out.status.success(),
        "generate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for a `flowwire` run to end and checks it succeeded.
pub(crate) fn finish(child: Child) -> Output {
    let out = child.wait_with_output().expect("waiting for flowwire");
    assert!(
        out.status.success(),
        "flowwire: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
