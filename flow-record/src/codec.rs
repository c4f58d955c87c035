//! The contract every flowwire codec keeps: one shape for decoding and one for exporting,
//! whatever the protocol.
//!
//! - A [`Decoder`] (`flowwire_netflow::Session`, `flowwire_ipfix::Session`,
//!   `flowwire_sflow::Session`) takes datagrams — `decode(exporter, now, datagram, sink)`,
//!   always in that order — keeps what it must remember per exporter, and hands everything it
//!   finds to a [`Sink`]: flows as [`FlowRecord`]s, options data as [`OptionsRecord`]s, sFlow
//!   counter samples as [`CounterSample`]s, template events, and errors with their byte offset
//!   and exporter. It returns one [`Summary`].
//! - An [`Exporter`] (NetFlow v5, NetFlow v9, IPFIX, sFlow) takes [`FlowRecord`]s —
//!   `push(flow, now, out)` — and hands each datagram to `out` as it fills; `flush` sends what
//!   is left. What a protocol cannot carry is counted in [`ExportStats`] (or refused, in strict
//!   mode), and [`Exporter::restrict`] says what a collector will decode.
//!
//! A closure `FnMut(&FlowRecord)` is a [`Sink`] that takes the flows and ignores the rest.
//!
//! ```
//! use std::net::SocketAddr;
//! use flowwire_record::codec::{Decoder, Sink, Summary};
//! use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};
//!
//! // A toy decoder: one flow per datagram, its length as octets.
//! #[derive(Default)]
//! struct Lengths;
//! impl Decoder for Lengths {
//!     fn accepts(datagram: &[u8]) -> bool { !datagram.is_empty() }
//!     fn decode<S: Sink + ?Sized>(
//!         &mut self, exporter: SocketAddr, _now: Timestamp, datagram: &[u8], sink: &mut S,
//!     ) -> Summary {
//!         let mut flow = FlowRecord::new(ProtocolKind::Ipfix);
//!         flow.set_exporter(Some(exporter));
//!         flow.set_octets(Some(datagram.len() as u64));
//!         sink.flow(&flow);
//!         Summary { messages: 1, flows: 1, ..Summary::default() }
//!     }
//! }
//!
//! // Code written against the contract works with any codec.
//! fn count<D: Decoder + Default>(datagrams: &[&[u8]]) -> usize {
//!     let mut decoder = D::default();
//!     let mut flows = 0;
//!     for d in datagrams {
//!         decoder.decode("192.0.2.1:2055".parse().unwrap(), Timestamp::now(), d, &mut |_: &FlowRecord| flows += 1);
//!     }
//!     flows
//! }
//! assert_eq!(count::<Lengths>(&[b"abc", b"de"]), 2);
//! ```

use core::any::Any;
use core::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::record::{ExtraField, FlowRecord, ProtocolKind};
use crate::time::Timestamp;

/// Where a decoder hands what it finds. Only [`Sink::flow`] must be written; the other
/// methods ignore what they get unless overridden. Everything is borrowed for the call: copy
/// what you keep.
pub trait Sink {
    /// A flow record.
    fn flow(&mut self, flow: &FlowRecord);

    /// An options data record (NetFlow v9, IPFIX): what an exporter says about itself —
    /// sampling, interface names, statistics. The decoder has already learned what it
    /// applies to later flows.
    fn options(&mut self, options: &OptionsRecord) {
        let _ = options;
    }

    /// A counter sample (sFlow): interface and system counters, not tied to a flow.
    fn counters(&mut self, counters: &CounterSample<'_>) {
        let _ = counters;
    }

    /// A template was learned, refreshed, replaced, refused or withdrawn.
    fn template(&mut self, event: &TemplateEvent) {
        let _ = event;
    }

    /// A problem in the datagram, with its byte offset; decoding went on around it.
    fn error(&mut self, error: &DecodeError<'_>) {
        let _ = error;
    }
}

impl<F: FnMut(&FlowRecord)> Sink for F {
    fn flow(&mut self, flow: &FlowRecord) {
        self(flow)
    }
}

/// A [`Sink`] that keeps everything it gets, errors as the codec's own type `E`
/// (`flowwire_netflow::Error`, ...): the simple way to decode when allocating per record is
/// fine, in tests above all. Counter samples are counted, not kept (their detail is borrowed).
#[derive(Debug, Clone)]
pub struct Collect<E> {
    /// The flows, in order.
    pub flows: Vec<FlowRecord>,
    /// The options records, in order.
    pub options: Vec<OptionsRecord>,
    /// Counter samples seen.
    pub counters: usize,
    /// The template events, in order.
    pub templates: Vec<TemplateEvent>,
    /// The errors of type `E`, in order.
    pub errors: Vec<E>,
}

impl<E> Default for Collect<E> {
    fn default() -> Self {
        Collect {
            flows: Vec::new(),
            options: Vec::new(),
            counters: 0,
            templates: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl<E: std::error::Error + Clone + 'static> Sink for Collect<E> {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows.push(flow.clone());
    }
    fn options(&mut self, options: &OptionsRecord) {
        self.options.push(options.clone());
    }
    fn counters(&mut self, _: &CounterSample<'_>) {
        self.counters += 1;
    }
    fn template(&mut self, event: &TemplateEvent) {
        self.templates.push(*event);
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        if let Some(e) = error.downcast_ref::<E>() {
            self.errors.push(e.clone());
        }
    }
}

/// A decoder of one protocol family, keeping per-exporter state (templates, sequence numbers,
/// what options data said). See the module docs.
pub trait Decoder {
    /// Whether a datagram is one this decoder reads (by its version field): how a
    /// multi-protocol collector picks the decoder.
    fn accepts(datagram: &[u8]) -> bool
    where
        Self: Sized;

    /// Decodes one datagram from `exporter`, received at `now`, handing everything found to
    /// `sink`. `now` drives template lifetimes and buffered data: pass the capture time when
    /// replaying a capture. Bad parts are reported to [`Sink::error`] and skipped; the rest
    /// still decodes.
    fn decode<S: Sink + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        sink: &mut S,
    ) -> Summary
    where
        Self: Sized;

    /// Drops state that outlived its lifetime (templates, data waiting for a template) as of
    /// `now`; returns how many templates went. Decoding checks lifetimes as it goes; call this
    /// now and then to free the memory of exporters that went quiet.
    fn expire(&mut self, now: Timestamp) -> usize {
        let _ = now;
        0
    }
}

/// What one [`Decoder::decode`] call found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Summary {
    /// Export messages (NetFlow/IPFIX messages, sFlow datagrams) decoded.
    pub messages: usize,
    /// Flow records handed to [`Sink::flow`] (data held for a template and decoded now
    /// included).
    pub flows: usize,
    /// Options data records handed to [`Sink::options`].
    pub options: usize,
    /// Counter samples handed to [`Sink::counters`].
    pub counters: usize,
    /// Templates learned, replaced or refreshed.
    pub templates: usize,
    /// Templates withdrawn.
    pub withdrawn: usize,
    /// Data sets whose template was unknown (held for it, or dropped and reported).
    pub missing_templates: usize,
    /// Errors handed to [`Sink::error`].
    pub errors: usize,
}

impl core::ops::AddAssign for Summary {
    fn add_assign(&mut self, o: Summary) {
        self.messages += o.messages;
        self.flows += o.flows;
        self.options += o.options;
        self.counters += o.counters;
        self.templates += o.templates;
        self.withdrawn += o.withdrawn;
        self.missing_templates += o.missing_templates;
        self.errors += o.errors;
    }
}

/// The kind of a decode error, the same for every protocol: for counting errors by kind
/// (metrics labels) without their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A structure runs past the end of the datagram.
    Truncated,
    /// A version the decoder does not read.
    Version,
    /// A length or count that does not fit what holds it.
    Length,
    /// A template refused as invalid.
    Template,
    /// Data whose template is unknown, dropped.
    MissingTemplate,
    /// A reserved or unknown id (set id, address type...).
    Reserved,
    /// A field value that does not decode.
    Value,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// How many kinds there are.
    pub const COUNT: usize = 8;

    /// Every kind, in [`index`](Self::index) order.
    pub const ALL: [ErrorKind; ErrorKind::COUNT] = [
        ErrorKind::Truncated,
        ErrorKind::Version,
        ErrorKind::Length,
        ErrorKind::Template,
        ErrorKind::MissingTemplate,
        ErrorKind::Reserved,
        ErrorKind::Value,
        ErrorKind::Other,
    ];

    /// The kind's position in [`ALL`](Self::ALL) (for counting by kind in an array).
    pub const fn index(self) -> usize {
        match self {
            ErrorKind::Truncated => 0,
            ErrorKind::Version => 1,
            ErrorKind::Length => 2,
            ErrorKind::Template => 3,
            ErrorKind::MissingTemplate => 4,
            ErrorKind::Reserved => 5,
            ErrorKind::Value => 6,
            ErrorKind::Other => 7,
        }
    }

    /// A stable snake_case name (`truncated`, `version`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Truncated => "truncated",
            ErrorKind::Version => "version",
            ErrorKind::Length => "length",
            ErrorKind::Template => "template",
            ErrorKind::MissingTemplate => "missing_template",
            ErrorKind::Reserved => "reserved",
            ErrorKind::Value => "value",
            ErrorKind::Other => "other",
        }
    }
}

/// Errors counted by [`ErrorKind`] (what a metrics page shows per exporter). Serializes as a
/// map from the kinds' names to their counts, the kinds never seen left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts([u64; ErrorKind::COUNT]);

impl ErrorCounts {
    /// Errors of `kind`.
    pub fn get(&self, kind: ErrorKind) -> u64 {
        self.0.get(kind.index()).copied().unwrap_or(0)
    }

    /// Counts `n` more errors of `kind`.
    pub fn add(&mut self, kind: ErrorKind, n: u64) {
        if let Some(c) = self.0.get_mut(kind.index()) {
            *c = c.saturating_add(n);
        }
    }

    /// Adds every count of `other`.
    pub fn add_all(&mut self, other: &ErrorCounts) {
        for k in ErrorKind::ALL {
            self.add(k, other.get(k));
        }
    }

    /// Every kind with its count (zeros included), in [`ErrorKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
        ErrorKind::ALL.into_iter().map(|k| (k, self.get(k)))
    }

    /// Errors of every kind.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ErrorCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (k, n) in self.iter().filter(|(_, n)| *n > 0) {
            m.serialize_entry(k.name(), &n)?;
        }
        m.end()
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What every codec's error type tells besides its text: where and what kind.
pub trait CodecError: std::error::Error + Send + Sync + 'static {
    /// The byte offset of the problem in the datagram, for decode errors.
    fn offset(&self) -> Option<usize>;
    /// The protocol-neutral kind.
    fn kind(&self) -> ErrorKind;
}

/// A decode error as a [`Sink`] gets it: the protocol, the exporter, and the codec's own
/// typed error (downcast with [`DecodeError::downcast_ref`] to match on its variants).
#[derive(Clone, Copy)]
pub struct DecodeError<'a> {
    /// The protocol being decoded (`None`: a datagram of no protocol the decoder knows).
    pub protocol: Option<ProtocolKind>,
    /// The exporter the datagram came from.
    pub exporter: SocketAddr,
    /// The codec's error.
    pub error: &'a (dyn CodecError + 'static),
}

impl<'a> DecodeError<'a> {
    /// The byte offset of the problem in the datagram.
    pub fn offset(&self) -> Option<usize> {
        self.error.offset()
    }

    /// The protocol-neutral kind.
    pub fn kind(&self) -> ErrorKind {
        self.error.kind()
    }

    /// The codec's error as its own type (`flowwire_netflow::Error`, ...).
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&'a T> {
        let e: &'a (dyn std::error::Error + 'static) = self.error;
        e.downcast_ref()
    }
}

impl fmt::Debug for DecodeError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("protocol", &self.protocol)
            .field("exporter", &self.exporter)
            .field("error", &self.error)
            .finish()
    }
}

impl fmt::Display for DecodeError<'_> {
    /// `EXPORTER: PROTOCOL: ERROR` (without the protocol when it is unknown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            Some(p) => write!(f, "{}: {p}: {}", self.exporter, self.error),
            None => write!(f, "{}: {}", self.exporter, self.error),
        }
    }
}

/// An options data record: what an exporter says about itself rather than a flow. With
/// `serde`, it serializes with `"type": "options"`, the scope fields and the other fields as
/// lists in [`FlowRecord::extra`]'s form.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename = "options"))]
pub struct OptionsRecord {
    /// The protocol.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub kind: Option<ProtocolKind>,
    /// The exporter's socket address.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub exporter: Option<SocketAddr>,
    /// Observation domain / source id.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub domain: Option<u32>,
    /// The options template id.
    pub template_id: u16,
    /// The scope fields (NetFlow v9 scope types are keyed as enterprise 0 with the scope
    /// type, and named by it: `System`, `Interface`...).
    pub scope: Vec<ExtraField>,
    /// The other fields.
    pub fields: Vec<ExtraField>,
}

impl OptionsRecord {
    /// Empties the record for reuse, keeping the capacity of its lists.
    pub fn clear(&mut self) {
        self.kind = None;
        self.exporter = None;
        self.domain = None;
        self.template_id = 0;
        self.scope.clear();
        self.fields.clear();
    }
}

/// A protocol's own description of a counter sample, reachable through
/// [`CounterSample::detail`].
pub trait CounterDetail: Any + fmt::Debug + Send + Sync {}

impl<T: Any + fmt::Debug + Send + Sync> CounterDetail for T {}

/// A counter sample (sFlow): counters of an interface or of the agent, sent at intervals.
/// The protocol-neutral part is here; the whole sample (for sFlow,
/// `flowwire_sflow::convert::Counters`, re-exported as `flowwire::Counters`) is
/// [`CounterSample::detail`].
#[derive(Debug, Clone, Copy)]
pub struct CounterSample<'a> {
    /// The protocol.
    pub protocol: ProtocolKind,
    /// The exporter's socket address.
    pub exporter: SocketAddr,
    /// The agent's address, as the datagram gives it.
    pub agent: Option<IpAddr>,
    /// Sub-agent id.
    pub domain: u32,
    /// The sample's sequence number (per source).
    pub sequence: u32,
    /// The data source (sFlow: type << 24 | index).
    pub source: u32,
    /// The interface the counters are of, when they are an interface's.
    pub if_index: Option<u32>,
    /// The protocol's full sample.
    pub detail: &'a (dyn CounterDetail + 'static),
}

impl<'a> CounterSample<'a> {
    /// The full sample as the protocol's own type.
    pub fn detail<T: Any>(&self) -> Option<&'a T> {
        let d: &'a (dyn Any + 'static) = self.detail;
        d.downcast_ref()
    }
}

/// Why a template or options template record was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateProblem {
    /// A template id below 256 (IPFIX allows 2 and 3 only in withdrawals).
    ReservedId,
    /// A definition with no fields (IPFIX allows a field count of 0 only in withdrawals).
    NoFields,
    /// Every record would be 0 octets long: peers loop forever on such templates.
    ZeroLengthRecord,
    /// More fields than the configured limit.
    TooManyFields {
        /// The limit.
        max: usize,
    },
    /// An options template whose scope field count is 0 or larger than its field count.
    BadScopeCount,
    /// A NetFlow v9 options template whose scope or option length is not a multiple of 4.
    BadOptionsLength {
        /// `"scope"` or `"option"`.
        what: &'static str,
        /// The length found.
        length: u16,
    },
    /// The smallest record would not fit in a message.
    RecordTooLarge,
    /// An all-templates withdrawal id that does not match the set kind.
    WithdrawalMismatch,
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateProblem::ReservedId => f.write_str("reserved template id (below 256)"),
            TemplateProblem::NoFields => f.write_str("no fields"),
            TemplateProblem::ZeroLengthRecord => f.write_str("records would be 0 octets long"),
            TemplateProblem::TooManyFields { max } => write!(f, "more than {max} fields"),
            TemplateProblem::BadScopeCount => f.write_str("bad scope field count"),
            TemplateProblem::BadOptionsLength { what, length } => {
                write!(f, "{what} length {length} is not a multiple of 4")
            }
            TemplateProblem::RecordTooLarge => f.write_str("a record would not fit in a message"),
            TemplateProblem::WithdrawalMismatch => {
                f.write_str("all-templates withdrawal id does not match the set")
            }
        }
    }
}

/// What happened to a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TemplateAction {
    /// A new template id.
    Learned,
    /// A different definition replaced the old one.
    Replaced,
    /// The same definition again; its lifetime restarted.
    Refreshed,
    /// Refused by a limit of the template store (counted there).
    Refused,
    /// Refused as invalid (the error is reported too).
    Invalid,
    /// Withdrawn by the exporter (IPFIX).
    Withdrawn,
}

impl TemplateAction {
    /// A stable snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            TemplateAction::Learned => "learned",
            TemplateAction::Replaced => "replaced",
            TemplateAction::Refreshed => "refreshed",
            TemplateAction::Refused => "refused",
            TemplateAction::Invalid => "invalid",
            TemplateAction::Withdrawn => "withdrawn",
        }
    }
}

impl From<crate::template_store::Insert> for TemplateAction {
    fn from(i: crate::template_store::Insert) -> Self {
        use crate::template_store::Insert;
        match i {
            Insert::Learned => TemplateAction::Learned,
            Insert::Replaced => TemplateAction::Replaced,
            Insert::Refreshed => TemplateAction::Refreshed,
            Insert::TooManyTemplates | Insert::TooManyDomains | Insert::TooLarge => {
                TemplateAction::Refused
            }
        }
    }
}

/// A template event, handed to [`Sink::template`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateEvent {
    /// The protocol.
    pub protocol: ProtocolKind,
    /// The exporter.
    pub exporter: SocketAddr,
    /// Observation domain / source id.
    pub domain: u32,
    /// Template id (IPFIX withdrawals of all templates: 2 or 3).
    pub template_id: u16,
    /// Whether it is an options template.
    pub options: bool,
    /// What happened.
    pub action: TemplateAction,
}

/// How sessions tell exporters apart.
///
/// Peers disagree: RFC 7011 §8.4 scopes templates to the transport session (address and
/// port), as Wireshark, goflow2 and libfixbuf do; pmacct, nfdump and akvorado key by address
/// only. With the port, an exporter that restarts on a new source port starts with no
/// templates; without it, two exporters behind one NAT address share (and clobber) template
/// ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum KeyPolicy {
    /// Address and port (the default).
    #[default]
    AddressAndPort,
    /// Address only: survives exporters changing source port.
    AddressOnly,
}

impl KeyPolicy {
    /// The key of an exporter under this policy: its socket address, with port 0 under
    /// [`KeyPolicy::AddressOnly`].
    pub fn key(self, exporter: SocketAddr) -> SocketAddr {
        match self {
            KeyPolicy::AddressAndPort => exporter,
            KeyPolicy::AddressOnly => SocketAddr::new(exporter.ip(), 0),
        }
    }
}

/// Counters of an [`Exporter`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ExportStats {
    /// Records accepted.
    pub records: u64,
    /// Records refused (nothing the protocol can carry, a value out of its range, or, in
    /// strict mode, fields it cannot carry).
    pub refused: u64,
    /// Datagrams handed out.
    pub datagrams: u64,
    /// Octets handed out.
    pub octets: u64,
    /// Accepted records that had fields the protocol cannot carry (sent without them).
    pub records_with_dropped_fields: u64,
    /// Fields left out of accepted records, in all.
    pub fields_dropped: u64,
}

/// An exporter of one protocol: [`FlowRecord`]s in, datagrams out. See the module docs.
pub trait Exporter {
    /// The exporter's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The protocol written.
    fn protocol(&self) -> ProtocolKind;

    /// Adds a flow at time `now`; each datagram that fills up is handed to `out`. A record
    /// refused (`Err`) leaves the datagram being filled as it was. Fields the protocol cannot
    /// carry are left out and counted ([`ExportStats::fields_dropped`]), or the record is
    /// refused when the exporter is strict.
    fn push(
        &mut self,
        flow: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Self::Error>;

    /// Hands out the datagram being filled, if any (stamped with `now`).
    fn flush(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) -> Result<(), Self::Error>;

    /// The counters.
    fn stats(&self) -> &ExportStats;

    /// `flow`, pushed at `now`, as a collector will decode it from this exporter's
    /// datagrams, less what the message around it says (kind, exporter, domain, sequence,
    /// export time): the fields the protocol carries, in the form it carries them (times to
    /// its precision and within the window its headers allow around `now`, values a
    /// synthesised packet header always has).
    fn restrict(&self, flow: &FlowRecord, now: Timestamp) -> FlowRecord;
}
