//! IPFIX (RFC 7011) codec: zero-copy decode, template state, structured data (RFC 6313),
//! type information (RFC 5610), stream and file framing (RFC 5655), and encode.
//!
//! # Layers
//!
//! - [`wire`]: zero-copy views over the bytes, one module per wire unit: the
//!   [message](wire::message) header, [sets](wire::set), [template
//!   records](wire::template) and their field specifiers, [data records](wire::data)
//!   resolved against a [`Template`] and [lists](wire::list). Views borrow the input and allocate nothing; iterators yield
//!   `Result`s, report the absolute byte offset of what is wrong and stop there.
//! - [`session`]: the collector's state. A [`Session`] holds templates per (exporter,
//!   observation domain) in flowwire-record's bounded
//!   [`TemplateStore`](record::template_store::TemplateStore) (lifetimes, withdrawals, limits,
//!   counters), keeps data that arrives before its template until the template comes (by
//!   default; bounded), tracks sequence numbers, and learns what options data says (sampling, system init time, interface
//!   names, RFC 5610 [element types](type_info)). Records convert to
//!   [`FlowRecord`](record::FlowRecord)s and [`OptionsRecord`](record::codec::OptionsRecord)s.
//! - [`repr`]: owned messages, sets, templates, records and lists with `parse`,
//!   `buffer_len()` and `emit`; decoding then encoding gives back the same bytes.
//! - [`exporter`]: packs records (`FlowRecord`s, or raw values of templates you define)
//!   into messages that fit a size limit, with sequence numbers and template (re)sending.
//!
//! Errors are one [`Error`] enum with absolute byte offsets and the offending values
//! (implementing [`CodecError`](record::codec::CodecError)). Nothing
//! panics on any input: a bad set, template or record is reported and skipped by its length,
//! and the rest of the message still decodes.
//!
//! # Decoding
//!
//! [`Session`] is the crate's [`Decoder`]: `decode(exporter, now, datagram, sink)` hands
//! flows, options data, template events and errors to a [`Sink`]. A closure over
//! `&FlowRecord` is a sink that takes the flows; [`Collect`] keeps everything.
//!
//! ```
//! use flowwire_ipfix::record::codec::{DecodeError, OptionsRecord, Sink};
//! use flowwire_ipfix::record::{FlowRecord, Timestamp};
//! use flowwire_ipfix::{Decoder, Session};
//!
//! // One message: a template set defining template 256 (sourceIPv4Address, 4 octets;
//! // octetDeltaCount reduced to 4 octets; interfaceName, variable length), then a data set
//! // with two records, the second with an empty interface name.
//! let msg: &[u8] = &[
//!     0, 10, 0, 62, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1, // header: length 62, domain 1
//!     0, 2, 0, 20, 1, 0, 0, 3, // template set: template 256, 3 fields
//!     0, 8, 0, 4, 0, 1, 0, 4, 0, 82, 0xff, 0xff, //
//!     1, 0, 0, 26, // data set 256, 26 octets
//!     192, 0, 2, 1, 0, 0, 5, 220, 4, b'e', b't', b'h', b'0', // 192.0.2.1, 1500, "eth0"
//!     192, 0, 2, 2, 0, 0, 0, 40, 0, // 192.0.2.2, 40, ""
//! ];
//!
//! #[derive(Default)]
//! struct Totals {
//!     octets: u64,
//!     flows: usize,
//!     options: usize,
//!     errors: usize,
//! }
//! impl Sink for Totals {
//!     fn flow(&mut self, flow: &FlowRecord) {
//!         self.octets += flow.octets().unwrap_or(0);
//!         self.flows += 1;
//!     }
//!     fn options(&mut self, _: &OptionsRecord) {
//!         self.options += 1;
//!     }
//!     fn error(&mut self, e: &DecodeError<'_>) {
//!         eprintln!("{e} at offset {:?}", e.offset());
//!         self.errors += 1;
//!     }
//! }
//!
//! let mut session = Session::default();
//! let mut totals = Totals::default();
//! let exporter = "192.0.2.9:4739".parse()?;
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! let summary = session.decode(exporter, now, msg, &mut totals);
//! assert_eq!((totals.flows, totals.octets, totals.options, totals.errors), (2, 1540, 0, 0));
//! assert_eq!((summary.messages, summary.flows, summary.templates), (1, 2, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For the zero-copy records (to read fields a `FlowRecord` does not type, or RFC 6313
//! lists), [`Session::decode_records`] hands each [`DataRecord`] to a [`Visitor`] with a
//! [`RecordContext`], which converts it on demand:
//!
//! ```
//! use flowwire_ipfix::record::{FlowRecord, Timestamp, Value};
//! use flowwire_ipfix::record::registry::FieldId;
//! use flowwire_ipfix::{DataRecord, RecordContext, Session};
//! # let msg: &[u8] = &[
//! #     0, 10, 0, 62, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1,
//! #     0, 2, 0, 20, 1, 0, 0, 3, 0, 8, 0, 4, 0, 1, 0, 4, 0, 82, 0xff, 0xff,
//! #     1, 0, 0, 26, 192, 0, 2, 1, 0, 0, 5, 220, 4, b'e', b't', b'h', b'0',
//! #     192, 0, 2, 2, 0, 0, 0, 40, 0,
//! # ];
//! let mut session = Session::default();
//! let mut flow = FlowRecord::default(); // reused: no allocation per record
//! let mut seen = Vec::new();
//! let exporter = "192.0.2.9:4739".parse()?;
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! session.decode_records(exporter, now, msg, &mut |ctx: &RecordContext<'_>, rec: &DataRecord<'_, '_>| {
//!     if rec.template().is_options() {
//!         return;
//!     }
//!     let name = rec.get(FieldId::iana(82)); // borrowed from the datagram
//!     ctx.flow_record_into(rec, &mut flow);
//!     seen.push((flow.src_addr().unwrap().to_string(), name == Some(Value::String(b"eth0"))));
//! });
//! assert_eq!(seen, [("192.0.2.1".to_string(), true), ("192.0.2.2".to_string(), false)]);
//! assert_eq!(session.store_stats().learned, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same bytes with the views alone, given the template:
//!
//! ```
//! use flowwire_ipfix::record::{registry::Registry, Value};
//! use flowwire_ipfix::template::Template;
//! use flowwire_ipfix::wire::{data::RecordIter, message::Message, set::SetKind};
//! # let msg: &[u8] = &[
//! #     0, 10, 0, 62, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1,
//! #     0, 2, 0, 20, 1, 0, 0, 3, 0, 8, 0, 4, 0, 1, 0, 4, 0, 82, 0xff, 0xff,
//! #     1, 0, 0, 26, 192, 0, 2, 1, 0, 0, 5, 220, 4, b'e', b't', b'h', b'0',
//! #     192, 0, 2, 2, 0, 0, 0, 40, 0,
//! # ];
//! let m = Message::new_checked(msg)?;
//! let mut template = None;
//! for set in m.sets() {
//!     let set = set?;
//!     match set.kind() {
//!         SetKind::Template => {
//!             let rec = set.templates().next().unwrap()?;
//!             template = Some(Template::from_record(&rec, &Registry::new(), 64)?);
//!         }
//!         SetKind::Data(256) => {
//!             let t = template.as_ref().unwrap();
//!             let names: Vec<_> = RecordIter::new(set.body(), set.body_offset(), t)
//!                 .map(|r| r.unwrap().fields().nth(2).unwrap().1)
//!                 .collect();
//!             assert_eq!(names, [Value::String(b"eth0"), Value::String(b"")]);
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok::<(), flowwire_ipfix::Error>(())
//! ```
//!
//! # Streams and files
//!
//! A datagram may hold several messages back to back, and so does an IPFIX file (RFC 5655):
//! [`Decoder::decode`] decodes them all. For TCP (RFC 7011 §10.4), or a file read in chunks,
//! [`StreamBuffer`] reassembles messages split across reads in a fixed buffer; hand each
//! message to `decode`, and over TCP forget the connection's templates when it closes
//! ([`Session::remove_exporter`]): they live as long as their transport session.
//!
//! # Encoding
//!
//! [`Exporter`] implements the contract's
//! [`Exporter`](flowwire_record::codec::Exporter): `push(flow, now, out)` and
//! `flush(now, out)` hand each finished message to `out`. See [`exporter`] for what it
//! carries and the raw-template API.
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

pub mod error;
pub mod exporter;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod repr;
pub mod session;
pub mod stream;
pub mod template;
pub mod type_info;
pub mod wire;

pub use error::{Error, TemplateProblem};
pub use exporter::{Exporter, ExporterConfig};
pub use flowwire_record as record;
pub use flowwire_record::codec::{Decoder, Sink, Summary};
pub use session::{
    Collect, DomainState, KeyPolicy, RecordContext, Session, SessionConfig, SessionStats, Visitor,
};
pub use stream::StreamBuffer;
pub use template::Template;
pub use wire::data::DataRecord;
pub use wire::template::FieldSpec;
