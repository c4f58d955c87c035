//! flowwire: decode and encode the network flow export protocols — NetFlow v5 and v9, IPFIX
//! and sFlow v5 — with one dependency.
//!
//! - [`Collector`]: give it `(exporter, datagram)` pairs from a UDP socket or a capture; it
//!   recognises the protocol, keeps template state per exporter (bounded, expiring, counted)
//!   and hands out [`FlowRecord`]s, sFlow counter samples, options data and typed errors.
//! - [`capture`] (feature `pcap`): read pcap/pcapng files in tests and tools;
//!   [`collector::read_capture`] decodes a whole capture in one call.
//! - [`export::Exporter`]: [`FlowRecord`]s in, export datagrams of any of the four protocols
//!   out; [`synth::FlowGenerator`] makes realistic test flows.
//! - The codecs themselves, for zero-copy views and owned representations: [`netflow`],
//!   [`ipfix`], [`sflow`] (each a default-on feature), and the protocol-neutral core
//!   [`record`].
//!
//! A collector in a few lines:
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use flowwire::{Collector, Event, Timestamp};
//!
//! let socket = UdpSocket::bind("0.0.0.0:2055")?;
//! let mut collector = Collector::default();
//! let mut buf = [0u8; 65_535];
//! loop {
//!     let (n, exporter) = socket.recv_from(&mut buf)?;
//!     collector.feed(exporter, Timestamp::now(), &buf[..n], |event| match event {
//!         Event::Flow(flow) => println!("{}", serde_json::to_string(flow).unwrap()),
//!         Event::Error(e) => eprintln!("{e}"),
//!         _ => {}
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Checking an exporter in a test, and making export traffic:
//!
//! ```
//! use flowwire::export::Exporter;
//! use flowwire::synth::FlowGenerator;
//! use flowwire::{Collector, Event, ProtocolKind, Timestamp};
//!
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! let flows: Vec<_> = FlowGenerator::new(ProtocolKind::Netflow9, 1, now).take(100).collect();
//! let mut exporter = Exporter::new(ProtocolKind::Netflow9, now);
//! let mut datagrams = Vec::new();
//! for f in &flows {
//!     exporter.push(f, now, &mut datagrams)?;
//! }
//! exporter.flush(now, &mut datagrams)?;
//!
//! let mut collector = Collector::default();
//! let mut decoded = 0;
//! for d in &datagrams {
//!     collector.feed("192.0.2.1:2055".parse().unwrap(), now, d, |e| {
//!         if let Event::Flow(_) = e {
//!             decoded += 1;
//!         }
//!     });
//! }
//! assert_eq!(decoded, 100);
//! # Ok::<(), flowwire::export::ExportError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Decoders face hostile bytes: outside tests, no unwrap, expect, panic or unchecked index,
// and `forbid` so that no local `allow` can bring one back.
#![cfg_attr(
    not(test),
    forbid(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(feature = "pcap")]
pub mod capture;
pub mod collector;
pub mod export;
pub mod synth;

pub use collector::{Collector, CollectorConfig, CollectorError, Event};
pub use flowwire_record as record;
pub use flowwire_record::{FlowRecord, ProtocolKind, Timestamp, Value};

/// The IPFIX codec.
#[cfg(feature = "ipfix")]
pub use flowwire_ipfix as ipfix;
/// The NetFlow v5/v9 codec.
#[cfg(feature = "netflow")]
pub use flowwire_netflow as netflow;
/// The sFlow v5 codec.
#[cfg(feature = "sflow")]
pub use flowwire_sflow as sflow;
