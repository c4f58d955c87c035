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
//! The crate keeps flowwire's codec contract ([`record::codec`]): [`Session`] is a
//! [`Decoder`](record::codec::Decoder) — datagrams in, [`FlowRecord`](record::FlowRecord)s,
//! counter samples and errors out to a [`Sink`](record::codec::Sink) — and
//! [`encode::Exporter`] an [`Exporter`](record::codec::Exporter) — records in, datagrams out.
//!
//! # Layout
//!
//! - [`session`]: [`Session`], the decoder: it walks each datagram, converts flow and
//!   discarded-packet samples into one reused `FlowRecord` (no allocation per sample in
//!   steady state) and counter samples into a reused [`Counters`], and tracks datagram and
//!   sample sequence numbers per agent and source, bounded ([`SessionConfig`]).
//! - [`encode`]: [`encode::Exporter`], which turns records into flow samples with a raw
//!   header synthesised from their fields and packs them into datagrams; its module docs
//!   have the table of which record fields sFlow carries.
//! - [`convert`]: the conversions the session uses, for callers that walk the views
//!   themselves: [`convert::flow_record_into`], [`convert::discarded_record_into`],
//!   [`convert::counters_into`]; and [`convert::decode`], a session-less convenience that
//!   returns owned values.
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
//! - [`error`]: the one error type, [`Error`], with absolute byte offsets; it implements
//!   [`CodecError`](record::codec::CodecError).
//!
//! # Example
//!
//! ```
//! use flowwire_sflow::encode::{Exporter, ExporterConfig};
//! use flowwire_sflow::record::codec::{Decoder, Exporter as _};
//! use flowwire_sflow::record::{FlowRecord, ProtocolKind, Timestamp};
//! use flowwire_sflow::xdr::Address;
//! use flowwire_sflow::Session;
//!
//! // Agent side: a flow becomes a flow sample with a raw packet header, packed in a datagram.
//! let boot = Timestamp::from_unix_secs(1_700_000_000);
//! let mut exporter = Exporter::new(ExporterConfig {
//!     agent: Address::V4("10.0.0.1".parse()?),
//!     boot,
//!     ..ExporterConfig::default()
//! });
//! let flow = FlowRecord::new(ProtocolKind::Sflow5)
//!     .with_src_addr("192.0.2.1".parse()?)
//!     .with_dst_addr("198.51.100.7".parse()?)
//!     .with_protocol(6)
//!     .with_src_port(49152)
//!     .with_dst_port(443)
//!     .with_tcp_flags(0x02)
//!     .with_octets(74)
//!     .with_sampling_interval(512)
//!     .with_in_if(3);
//! let now = boot.add_millis(60_000);
//! let mut datagrams = Vec::new();
//! exporter.push(&flow, now, &mut |d: &[u8]| datagrams.push(d.to_vec()))?;
//! exporter.flush(now, &mut |d: &[u8]| datagrams.push(d.to_vec()))?;
//!
//! // Collector side: the session hands each flow to the sink (here a closure).
//! let mut session = Session::default();
//! let mut flows = Vec::new();
//! let from = "10.0.0.1:6343".parse()?;
//! for d in &datagrams {
//!     let summary = session.decode(from, now, d, &mut |f: &FlowRecord| flows.push(f.clone()));
//!     assert_eq!(summary.errors, 0);
//! }
//! let got = &flows[0];
//! assert_eq!(got.agent(), Some("10.0.0.1".parse()?));
//! assert_eq!((got.src_addr(), got.dst_port()), (flow.src_addr(), Some(443)));
//! assert_eq!(got.scaled_octets(), Some(74 * 512));
//! // What the exporter says a collector gets back, less the message context.
//! let mut bare = got.clone();
//! bare.set_kind(None);
//! bare.set_exporter(None);
//! bare.set_agent(None);
//! bare.set_domain(None);
//! bare.set_sequence(None);
//! assert_eq!(bare, exporter.restrict(&flow, now));
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
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod header;
pub mod repr;
pub mod session;
pub mod wire;
pub mod xdr;

pub use convert::{Counters, Decoded, decode};
pub use encode::{Exporter, ExporterConfig};
pub use error::{Error, Result};
pub use flowwire_record as record;
pub use repr::{CounterData, DatagramRepr, FlowData, Sample};
pub use session::{Session, SessionConfig};
pub use wire::Datagram;
pub use xdr::Xdr;

#[cfg(test)]
mod tests;
