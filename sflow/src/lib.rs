//! sFlow version 5 codec: samples, records, raw packet headers, encode.
//!
//! sFlow v5 is XDR: big-endian, every item padded to 4 bytes, and every sample and record
//! carries its own length. This crate trusts none of it: every length and count is checked
//! against the bytes that remain before anything is sliced, nothing is allocated from a wire
//! count, and a sample or record whose content does not match its declared length is
//! reported and skipped by that length while the rest of the datagram still decodes (Huawei,
//! Brocade and Juniper agents send such records). Bytes after the declared samples are
//! ignored and counted, not an error.
//!
//! # Layout
//!
//! - [`wire`]: zero-copy views. [`wire::Datagram`] over any `AsRef<[u8]>`, its samples as
//!   [`wire::SampleRef`] (tag, length, borrowed body) and [`wire::SampleView`] (flow 0:1 and
//!   expanded 0:3, counters 0:2 and 0:4, discarded packet 0:5 with its expanded source id), and
//!   their records as [`wire::RecordRef`]. Iterators yield `Result` items.
//! - [`repr`]: owned values for the datagram ([`repr::DatagramRepr`]), every sample type
//!   ([`repr::Sample`]) and every record type ([`repr::FlowData`]: 53 flow record formats;
//!   [`repr::CounterData`]: 35 counter record formats, including Open vSwitch's 1004, 1005,
//!   2203 and 2207 and the hsflowd host records), each with [`xdr::Xdr`]'s `parse`,
//!   `buffer_len`, `emit` and `emit_buf` (a [`bytes::BufMut`] convenience). Unknown samples
//!   and records are kept as `(enterprise, format, bytes)`, so decode → encode is lossless.
//! - [`header`]: the sampled packet header decoded with `etherparse`'s lax slicing (Ethernet,
//!   802.1Q/QinQ, MPLS, IPv4, IPv6 and its extension headers, TCP, UDP, ICMP, and one level of
//!   VXLAN / Geneve / GRE / IP-in-IP inner headers); a cut header yields what it holds.
//! - [`convert`]: flow samples to [`record::FlowRecord`] (allocation-free into a reused
//!   record: [`convert::flow_record_into`]) and counter samples to [`convert::Counters`];
//!   [`convert::decode`] does a whole datagram.
//! - [`session`]: datagram and sample sequence tracking per agent and source, bounded.
//! - [`encode`]: [`record::FlowRecord`] to a flow sample with a raw header built from its
//!   fields, and [`encode::Exporter`], which packs samples into datagrams up to an MTU.
//! - [`error`]: the one error type, [`Error`], with absolute byte offsets.
//!
//! # Example
//!
//! ```
//! use flowwire_sflow::encode::{self, Exporter};
//! use flowwire_sflow::record::{FlowRecord, ProtocolKind};
//! use flowwire_sflow::repr::Sample;
//! use flowwire_sflow::session::SampleKind;
//! use flowwire_sflow::wire::SourceId;
//! use flowwire_sflow::xdr::Address;
//!
//! // Agent side: a flow becomes a flow sample with a raw packet header, packed in a datagram.
//! let flow = FlowRecord {
//!     src_addr: Some("192.0.2.1".parse()?),
//!     dst_addr: Some("198.51.100.7".parse()?),
//!     protocol: Some(6),
//!     src_port: Some(49152),
//!     dst_port: Some(443),
//!     tcp_flags: Some(0x02),
//!     octets: Some(74),
//!     sampling_interval: Some(512),
//!     in_if: Some(3),
//!     ..FlowRecord::new(ProtocolKind::Sflow5)
//! };
//! let mut exporter = Exporter::new(Address::V4("10.0.0.1".parse()?), 0, Exporter::DEFAULT_MTU);
//! let source = SourceId { class: 0, index: 3 };
//! let seq = exporter.next_sample_sequence(SampleKind::Flow, source);
//! let sample = encode::flow_sample(&flow, seq, source, encode::DEFAULT_HEADER_BYTES)?;
//! assert!(exporter.push(Sample::Flow(sample), 60_000)?.is_none());
//! let datagram = exporter.flush(60_000)?.expect("one sample is pending");
//!
//! // Collector side.
//! let decoded = flowwire_sflow::convert::decode(&datagram)?;
//! assert!(decoded.errors.is_empty());
//! let got = &decoded.flows[0];
//! assert_eq!(got.agent, Some("10.0.0.1".parse()?));
//! assert_eq!((got.src_addr, got.dst_port), (flow.src_addr, Some(443)));
//! assert_eq!(got.scaled_octets(), Some(74 * 512));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Zero-copy iteration, for collectors that want the raw views:
//!
//! ```
//! use flowwire_sflow::wire::{Datagram, SampleView};
//! # let datagram = flowwire_sflow::xdr::Xdr::to_bytes(&flowwire_sflow::repr::DatagramRepr::default())?;
//! let d = Datagram::new_checked(&datagram[..])?;
//! for sample in d.samples() {
//!     match sample?.view()? {
//!         SampleView::Flow(f) => {
//!             for record in f.records {
//!                 let record = record?;
//!                 println!("flow record {}:{} ({} bytes)", record.enterprise, record.format, record.data.len());
//!             }
//!         }
//!         SampleView::Counters(c) => println!("counters of {:?}", c.source),
//!         _ => {}
//!     }
//! }
//! # Ok::<(), flowwire_sflow::Error>(())
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

pub mod convert;
pub mod encode;
pub mod error;
pub mod header;
pub mod repr;
pub mod session;
pub mod wire;
pub mod xdr;

pub use convert::{Counters, Decoded, decode};
pub use error::{Error, Result};
pub use flowwire_record as record;
pub use repr::{CounterData, DatagramRepr, FlowData, Sample};
pub use session::{Session, SessionConfig};
pub use wire::Datagram;
pub use xdr::Xdr;

#[cfg(test)]
mod tests;
