//! flowwire: decode and encode the network flow export protocols (NetFlow v5 and v9, IPFIX,
//! sFlow v5) with one dependency.
//!
//! This facade re-exports the protocol-neutral core ([`record`]) and, behind default-on
//! features, the three codecs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

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
