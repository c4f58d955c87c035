//! flowwire: decode and encode the network flow export protocols — NetFlow v5 and v9, IPFIX
//! and sFlow v5 — with one dependency.
//!
//! Every codec keeps one contract ([`record::codec`], re-exported here):
//!
//! - a [`Decoder`] — [`netflow::Session`], [`ipfix::Session`], [`sflow::Session`], and the
//!   multi-protocol [`Collector`] that picks one by the datagram's version — takes
//!   `decode(exporter, now, datagram, sink)` and hands everything to your [`Sink`]: flows as
//!   [`FlowRecord`]s, options data, sFlow counter samples ([`Counters`]), template events and
//!   errors with their byte offsets; a closure `FnMut(&FlowRecord)` is a sink;
//! - an [`Exporter`] — NetFlow v5 and v9, IPFIX, sFlow, or [`export::AnyExporter`] — takes
//!   `push(flow, now, out)` and hands each datagram to `out`, counting (or refusing, when
//!   strict) what its protocol cannot carry.
//!
//! Also: [`capture`] (feature `pcap`) reads pcap, pcapng and IPFIX files
//! ([`capture::open_capture`]), [`collector::read_capture`] decodes a whole capture in one
//! call, [`synth`] makes realistic test flows and turns fuzzer bytes into valid export
//! datagrams.
//!
//! A collector in a few lines:
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use flowwire::{Collector, Decoder, FlowRecord, Timestamp};
//!
//! let socket = UdpSocket::bind("0.0.0.0:2055")?;
//! let mut collector = Collector::default();
//! let mut buf = [0u8; 65_535];
//! loop {
//!     let (n, exporter) = socket.recv_from(&mut buf)?;
//!     collector.decode(exporter, Timestamp::now(), &buf[..n], &mut |flow: &FlowRecord| {
//!         println!("{}", serde_json::to_string(flow).unwrap())
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Code written against the contract works for every protocol:
//!
//! ```
//! use flowwire::export::AnyExporter;
//! use flowwire::synth::FlowGenerator;
//! use flowwire::{Decoder, Exporter, FlowRecord, ProtocolKind, Timestamp};
//!
//! /// Flows decoded from `datagrams` by a fresh decoder of type `D`.
//! fn count<D: Decoder + Default>(datagrams: &[Vec<u8>], now: Timestamp) -> usize {
//!     let mut decoder = D::default();
//!     let mut flows = 0;
//!     for d in datagrams {
//!         decoder.decode("192.0.2.1:2055".parse().unwrap(), now, d, &mut |_: &FlowRecord| flows += 1);
//!     }
//!     flows
//! }
//!
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! for kind in [ProtocolKind::Netflow9, ProtocolKind::Ipfix, ProtocolKind::Sflow5] {
//!     let mut exporter = AnyExporter::new(kind, now);
//!     let mut datagrams = Vec::new();
//!     for f in FlowGenerator::new(kind, 1, now).take(100) {
//!         exporter.push(&f, now, &mut |d| datagrams.push(d.to_vec()))?;
//!     }
//!     exporter.flush(now, &mut |d| datagrams.push(d.to_vec()))?;
//!     let decoded = match kind {
//!         ProtocolKind::Netflow9 => count::<flowwire::netflow::Session>(&datagrams, now),
//!         ProtocolKind::Ipfix => count::<flowwire::ipfix::Session>(&datagrams, now),
//!         _ => count::<flowwire::sflow::Session>(&datagrams, now),
//!     };
//!     assert_eq!(decoded, 100);
//! }
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
#[cfg(feature = "serde")]
pub mod csv;
pub mod export;
#[cfg(feature = "serde")]
pub mod jsonl;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod metrics;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod pipeline;
#[cfg(feature = "protobuf")]
pub mod protobuf;
pub mod state;
pub mod synth;

pub use collector::{Collector, CollectorConfig, Renormalize};
pub use flowwire_record as record;
pub use flowwire_record::codec::{
    Collect, CounterSample, DecodeError, Decoder, ErrorCounts, ErrorKind, ExportStats, Exporter,
    KeyPolicy, OptionsRecord, Sink, Summary, TemplateAction, TemplateEvent,
};
pub use flowwire_record::{FlowRecord, ProtocolKind, Timestamp, Value};
/// An sFlow counter sample, as [`CounterSample::detail`] gives it for sFlow.
#[cfg(feature = "sflow")]
pub use flowwire_sflow::convert::Counters;

/// The IPFIX codec.
#[cfg(feature = "ipfix")]
pub use flowwire_ipfix as ipfix;
/// The NetFlow v5/v9 codec.
#[cfg(feature = "netflow")]
pub use flowwire_netflow as netflow;
/// The sFlow v5 codec.
#[cfg(feature = "sflow")]
pub use flowwire_sflow as sflow;
