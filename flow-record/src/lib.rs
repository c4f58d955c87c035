//! The protocol-neutral core of flowwire.
//!
//! - [`FlowRecord`]: one flow, whatever protocol it came from (NetFlow v5/v9, IPFIX, sFlow),
//!   with typed fields for what flow users query most and every other decoded field in
//!   [`FlowRecord::extra`]. With the default `serde` feature it serializes to the stable JSON
//!   form that `flowwire decode --format jsonl` prints (schema in [`FlowRecord`]'s docs).
//! - [`registry`]: the complete IANA IPFIX information-element registry (NetFlow v9 field
//!   types 1-127 share its numbers), VMware/Open vSwitch and Cisco NSEL elements, and
//!   elements registered at run time.
//! - [`Value`] / [`OwnedValue`]: decode and encode of every abstract data type (RFC 7012),
//!   reduced-size encoding included; [`DataType`] and its semantics and units.
//! - [`mapping`]: how elements map onto `FlowRecord` fields, both ways, shared by the codecs;
//!   [`plan`]: a template compiled once into a fast, allocation-free record decoder.
//! - [`template_store`], [`pending`], [`sequence`]: the bounded, counted session state the
//!   template-based codecs share.
//!
//! ```
//! use flowwire_record::{mapping, DataType, FlowRecord, ProtocolKind, Value};
//! use flowwire_record::registry::FieldId;
//!
//! // A field as a codec would hand it over: element 8 (sourceIPv4Address), 4 octets.
//! let bytes = [192, 0, 2, 1];
//! let value = Value::decode(DataType::Ipv4Address, &bytes)?;
//!
//! let mut record = FlowRecord::new(ProtocolKind::Ipfix);
//! mapping::apply(&mut record, FieldId::iana(8), value, &Default::default());
//! mapping::apply(&mut record, FieldId::iana(1), Value::Unsigned64(1500), &Default::default());
//! assert_eq!(record.src_addr(), Some("192.0.2.1".parse().unwrap()));
//!
//! # #[cfg(feature = "serde")]
//! assert_eq!(
//!     serde_json::to_string(&record).unwrap(),
//!     r#"{"type":"flow","kind":"ipfix","src_addr":"192.0.2.1","octets":1500}"#
//! );
//! # Ok::<(), flowwire_record::ValueError>(())
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

pub mod codec;
pub mod data_type;
pub mod emit;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod mapping;
pub mod options;
pub mod pending;
pub mod plan;
mod record;
pub mod registry;
pub mod sampling;
pub mod sequence;
#[cfg(feature = "serde")]
mod serde_impl;
pub mod snapshot;
pub mod template_store;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod value;

pub use codec::{
    Collect, CounterSample, DecodeError, Decoder, ErrorCounts, ErrorKind, ExportStats, Exporter,
    KeyPolicy, OptionsRecord, Sink, Summary, TemplateEvent,
};
pub use data_type::{DataType, Semantics, Status, Units};
pub use record::{ExtraField, FlowRecord, ProtocolKind, TypedField};
pub use registry::{FieldId, InformationElement};
#[cfg(feature = "serde")]
pub use time::TimestampParseError;
pub use time::{
    MacAddr, MacAddrParseError, NTP_UNIX_OFFSET_SECS, NtpTimestamp, Rfc3339, Timestamp, two_digits,
};
pub use value::{OwnedValue, Value, ValueError};
