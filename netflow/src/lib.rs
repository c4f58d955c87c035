//! NetFlow v5 and v9 (RFC 3954): zero-copy decode, bounded template sessions, encode — one of
//! flowwire's three codecs, with the same shape as the others (`flowwire-ipfix`,
//! `flowwire-sflow`): a [`Session`] that is a [`Decoder`](flowwire_record::codec::Decoder)
//! handing everything to a [`Sink`](flowwire_record::codec::Sink), and exporters that are
//! [`Exporter`](flowwire_record::codec::Exporter)s.
//!
//! - [`wire`]: zero-copy views over the bytes, one module per wire unit (v5 header and
//!   record; v9 header, FlowSet, template and options template records, data records
//!   resolved against a [`Template`] and iterated as `(field, Value<'a>)` without
//!   allocating). Every length and count from the wire is checked before use; iterators
//!   yield `Result`s whose errors carry absolute byte offsets.
//! - [`repr`]: owned representations with `parse`, `buffer_len` and `emit` into exactly
//!   `buffer_len` bytes, plus a [`bytes::BufMut`] convenience.
//! - [`session`]: the collector side: templates per (exporter, source id) in the shared
//!   bounded [`TemplateStore`](flowwire_record::template_store::TemplateStore), data that
//!   arrives before its template, options data (sampling, interface names), sequence
//!   tracking, and decode into a reused [`FlowRecord`] (no allocation in steady state when
//!   every field has a typed slot).
//! - [`exporter`]: [`FlowRecord`]s into NetFlow v9 packets (templates (re)sent at an
//!   interval) and NetFlow v5 datagrams, each with the table of what it carries.
//!
//! What real exporters send and this crate tolerates: a v5 `count` beyond the datagram (the
//! records present are decoded and [`Error::CountMismatch`] reported); a v9 `count` that does
//! not match (advisory only); FlowSet padding of any length; a zero-filled datagram tail;
//! field lengths that differ from the registry's (8-byte FIRST_SWITCHED or counters, 16-byte
//! octet counts: decoded by the template's length); zero-length fields; vendor field types
//! (Cisco ASA NSEL 33000-40005 and unknown ones, kept as typed or octet-array extras);
//! H3C/Huawei variable-length (65535) fields; several export messages in one UDP payload.
//! Templates with no fields or zero-length records are rejected and counted.
//!
//! # Decoding
//!
//! ```
//! use flowwire_netflow::Session;
//! use flowwire_netflow::record::{Decoder, FlowRecord, Timestamp};
//!
//! // NetFlow v5. Header: version 5, count 1, sysUptime 10 s, 2023-11-14T22:13:20Z,
//! // sequence 7, engine 0/0, sampling 1 in 100 (mode 1); then one 48-byte record.
//! let mut datagram = vec![
//!     0, 5, 0, 1, 0, 0, 0x27, 0x10, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0x40,
//!     100,
//! ];
//! datagram.extend_from_slice(&[
//!     10, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, // src, dst, next hop
//!     0, 1, 0, 2, // input, output interface
//!     0, 0, 0, 3, 0, 0, 0x05, 0xdc, // 3 packets, 1500 octets
//!     0, 0, 0x1f, 0x40, 0, 0, 0x23, 0x28, // first 8 s, last 9 s (uptime)
//!     0xc3, 0x50, 0, 80, 0, 0x1b, 6, 0, // ports 50000 -> 80, flags, TCP, ToS
//!     0, 0, 0, 0, 24, 24, 0, 0, // AS numbers, masks, padding
//! ]);
//!
//! let mut session = Session::default();
//! let mut flows = Vec::new();
//! let summary = session.decode(
//!     "192.0.2.1:2055".parse()?,
//!     Timestamp::now(),
//!     &datagram,
//!     &mut |flow: &FlowRecord| flows.push(flow.clone()),
//! );
//! assert_eq!((summary.flows, summary.errors), (1, 0));
//! assert_eq!(flows[0].octets(), Some(1500));
//! assert_eq!(flows[0].sampling_interval(), Some(100));
//! assert_eq!(flows[0].start().unwrap().to_string(), "2023-11-14T22:13:18Z");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! NetFlow v9 decodes the same way; the [`session`] docs have an example with a template, and
//! [`Session::decode_records`] hands out the zero-copy records instead of `FlowRecord`s.
//!
//! # Encoding
//!
//! ```
//! use flowwire_netflow::{V9Exporter, V9ExporterConfig};
//! use flowwire_netflow::record::{Exporter, FlowRecord, Timestamp};
//!
//! let mut exporter = V9Exporter::new(V9ExporterConfig::default());
//! let record = FlowRecord::default()
//!     .with_src_addr("10.0.0.1".parse()?)
//!     .with_dst_addr("10.0.0.2".parse()?)
//!     .with_octets(1500);
//! let mut packets = Vec::new();
//! let now = Timestamp::from_unix_secs(1_700_000_005);
//! exporter.push(&record, now, &mut |p| packets.push(p.to_vec()))?;
//! exporter.flush(now, &mut |p| packets.push(p.to_vec()))?;
//! assert_eq!(packets.len(), 1); // template FlowSet + data FlowSet
//! # Ok::<(), Box<dyn std::error::Error>>(())
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

pub use flowwire_record as record;

pub mod error;
pub mod exporter;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod repr;
pub mod session;
pub mod template;
pub mod wire;

pub use error::{Error, Result, TemplateProblem};
pub use exporter::{V5Exporter, V5ExporterConfig, V9Exporter, V9ExporterConfig};
pub use flowwire_record::FlowRecord;
pub use repr::v5::{V5Context, V5RecordRepr, V5Repr, decode_v5};
pub use repr::v9::{FlowSetRepr, V9Repr};
pub use session::{DomainState, RecordContext, Session, SessionConfig, Visitor};
pub use template::{FieldSpec, Template};
pub use wire::v5_packet::V5Packet;
pub use wire::v5_record::V5Record;
pub use wire::v9_packet::V9Packet;
