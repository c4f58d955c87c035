//! [`Session`]: the template state of a collector: templates per (exporter, observation
//! domain), withdrawals, lifetimes, limits and counters; data that arrives before its
//! template; sequence tracking; and what options data tells about the exporter (sampling,
//! system init time, interface names, RFC 5610 type information).
//!
//! The templates live in flowwire-record's bounded
//! [`TemplateStore`], keyed by
//! [`ExporterKey`]. Whether the UDP source port is part of the key is a policy
//! ([`KeyPolicy`]): RFC 7011 §8.4 scopes templates to the transport session (address and
//! port), which is the default; exporters that send from a new source port now and then
//! (some routers after a restart of their export process, NAT in between) need
//! [`KeyPolicy::AddressOnly`].
//!
//! Template withdrawals (RFC 7011 §8.1) are honoured whatever the transport: RFC 7011 forbids
//! sending them over UDP, but an exporter that does means it. A template refused as invalid
//! (no fields, zero-length records, too many fields, a bad scope count, records larger than
//! a message) is reported to the [`Visitor`] and counted, and the sets after it still decode.
//!
//! Time is passed in (`now`): a capture replays with the template lifetimes it had.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use flowwire_record::mapping::TimeContext;
use flowwire_record::pending::{PendingBuffer, PendingLimits, PendingStats};
use flowwire_record::registry::{CustomElement, FieldId, Registry};
use flowwire_record::sampling::SamplingElements;
use flowwire_record::sequence::{SequenceEvent, SequenceTracker};
use flowwire_record::template_store::{
    Domain, Insert, StoreLimits, StoreStats, TemplateCost, TemplateStore,
};
use flowwire_record::{DataType, FlowRecord, ProtocolKind, Semantics, Timestamp, Units, Value};

use crate::error::{Error, TemplateProblem};
use crate::template::{DEFAULT_MAX_FIELDS, Template};
use crate::wire::data::{DataRecord, RecordIter};
use crate::wire::message::{Message, MessageIter};
use crate::wire::set::{OPTIONS_TEMPLATE_SET_ID, SetKind, TEMPLATE_SET_ID};
use crate::wire::template::TemplateRecord;

/// Whether the exporter's UDP source port is part of the template key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyPolicy {
    /// Address and port (RFC 7011's transport session; Wireshark, goflow2, libfixbuf).
    #[default]
    AddressAndPort,
    /// Address only (pmacct, nfdump, akvorado): survives exporters changing source port.
    AddressOnly,
}

/// The exporter part of the template key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExporterKey {
    /// Address and port.
    Socket(SocketAddr),
    /// Address only.
    Addr(IpAddr),
}

impl KeyPolicy {
    /// The key of an exporter under this policy.
    pub fn key(self, exporter: SocketAddr) -> ExporterKey {
        match self {
            KeyPolicy::AddressAndPort => ExporterKey::Socket(exporter),
            KeyPolicy::AddressOnly => ExporterKey::Addr(exporter.ip()),
        }
    }
}

/// Configuration of a [`Session`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// How exporters are told apart.
    pub key_policy: KeyPolicy,
    /// Template store limits, including the template lifetime (default 30 minutes).
    pub limits: StoreLimits,
    /// Fields per template; templates with more are rejected.
    pub max_fields_per_template: usize,
    /// Keep data sets that arrive before their template, within these limits, and decode
    /// them when it comes. `None` (the default): drop and count them.
    pub pending: Option<PendingLimits>,
    /// Interface names kept per domain.
    pub max_interfaces_per_domain: usize,
    /// Sampler / selector rates kept per domain.
    pub max_samplers_per_domain: usize,
    /// Elements learned from RFC 5610 type information, in all.
    pub max_learned_elements: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            key_policy: KeyPolicy::default(),
            limits: StoreLimits::default(),
            max_fields_per_template: DEFAULT_MAX_FIELDS,
            pending: None,
            max_interfaces_per_domain: 4096,
            max_samplers_per_domain: 256,
            max_learned_elements: 4096,
        }
    }
}

/// A template as stored: shared, so that decoding a data set does not hold the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate(pub Arc<Template>);

impl TemplateCost for StoredTemplate {
    fn heap_bytes(&self) -> usize {
        // The Arc's allocation: its two counters and the template, then the template's own.
        2 * core::mem::size_of::<usize>() + core::mem::size_of::<Template>() + self.0.heap_bytes()
    }
}

/// An interface's name and description, from options data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// interfaceName (82).
    pub name: Option<String>,
    /// interfaceDescription (83).
    pub description: Option<String>,
}

/// A sampling rate an exporter announced in options data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sampling {
    /// One packet in this many.
    pub interval: u32,
    /// Sampling algorithm / sampler mode, when given (35 or 49).
    pub algorithm: Option<u8>,
}

/// What a session knows of one (exporter, observation domain) besides its templates.
#[derive(Debug, Default)]
pub struct DomainState {
    /// Sequence tracking (IPFIX counts data records). After a message with data sets that
    /// could not be decoded (no template), tracking restarts at the next message, since
    /// how many records those sets held is unknown.
    pub sequence: SequenceTracker,
    /// systemInitTimeMilliseconds (160), for flowStart/EndSysUpTime (22/21).
    pub system_init_time: Option<Timestamp>,
    /// The domain's sampling, from options data without a sampler/selector scope, or the last
    /// one announced.
    pub sampling: Option<Sampling>,
    samplers: HashMap<u64, Sampling>,
    interfaces: HashMap<u32, InterfaceInfo>,
    /// The last message had data sets without a template: how far it advanced the sequence
    /// is unknown.
    sequence_unknown: bool,
}

impl DomainState {
    /// The sampling of a sampler (samplerId 48) or selector (selectorId 302).
    pub fn sampler(&self, id: u64) -> Option<Sampling> {
        self.samplers.get(&id).copied()
    }

    /// The name and description of an interface.
    pub fn interface(&self, if_index: u32) -> Option<&InterfaceInfo> {
        self.interfaces.get(&if_index)
    }

    /// Every interface known.
    pub fn interfaces(&self) -> impl Iterator<Item = (u32, &InterfaceInfo)> {
        self.interfaces.iter().map(|(k, v)| (*k, v))
    }
}

/// Counters of a [`Session`] (template counters are in [`Session::store_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionStats {
    /// Messages decoded.
    pub messages: u64,
    /// Sets seen.
    pub sets: u64,
    /// Data records decoded (data templates).
    pub data_records: u64,
    /// Data records decoded (options templates).
    pub options_records: u64,
    /// Template and options template records refused as invalid.
    pub templates_rejected: u64,
    /// Data sets that arrived with no template for them (dropped or buffered).
    pub sets_without_template: u64,
    /// Errors reported (and skipped).
    pub errors: u64,
    /// Field values kept leniently because their length did not suit their type.
    pub lenient_values: u64,
    /// Element types learned from RFC 5610 type-information records.
    pub elements_learned: u64,
    /// Templates re-resolved because type information for their elements came after them
    /// (also counted as replaced by the template store).
    pub templates_retyped: u64,
    /// Messages whose sequence number showed a gap.
    pub sequence_gaps: u64,
}

/// A template event, reported to [`Visitor::template`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateEvent {
    /// A template was stored (learned, replaced or refreshed) or refused by a limit.
    Defined {
        /// Template id.
        id: u16,
        /// Whether it is an options template.
        options: bool,
        /// What the store did.
        outcome: Insert,
    },
    /// A template (or all of a kind, `all`) was withdrawn.
    Withdrawn {
        /// Template id (2 or 3 for all data or all options templates).
        id: u16,
        /// How many were removed.
        removed: usize,
    },
}

/// What a message's decoding hands to its caller, as it goes: records, errors that were
/// skipped, template events. Every method but [`Visitor::record`] has an empty default.
///
/// Closures `FnMut(&RecordContext, &DataRecord)` are visitors that ignore errors.
pub trait Visitor {
    /// A data record (of a data or options template).
    fn record(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>);
    /// An error that was reported and skipped (the rest of the message still decodes).
    fn error(&mut self, error: Error) {
        let _ = error;
    }
    /// A template was defined or withdrawn.
    fn template(&mut self, event: TemplateEvent) {
        let _ = event;
    }
}

impl<F: FnMut(&RecordContext<'_>, &DataRecord<'_, '_>)> Visitor for F {
    fn record(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        self(ctx, record)
    }
}

/// A [`Visitor`] that keeps every data record as a [`FlowRecord`] and every error
/// reported: the simple way to decode when allocating per record is fine.
///
/// ```
/// use flowwire_ipfix::session::{FlowCollector, Session, SessionConfig};
/// use flowwire_ipfix::record::Timestamp;
/// let msg: &[u8] = &[
///     0, 10, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // header
///     0, 2, 0, 12, 1, 0, 0, 1, 0, 2, 0, 1, // template 256: packetDeltaCount in 1 octet
///     1, 0, 0, 8, 3, 4, 5, 6, // four records
/// ];
/// let mut flows = FlowCollector::default();
/// let mut session = Session::new(SessionConfig::default());
/// session.decode("192.0.2.1:4739".parse()?, msg, Timestamp::from_unix_secs(0), &mut flows)?;
/// let packets: Vec<_> = flows.flows.iter().map(|f| f.packets.unwrap()).collect();
/// assert_eq!(packets, [3, 4, 5, 6]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct FlowCollector {
    /// The records, in order.
    pub flows: Vec<FlowRecord>,
    /// The errors reported.
    pub errors: Vec<Error>,
    /// Also keep records of options templates (sampling, interface tables...).
    pub include_options: bool,
}

impl Visitor for FlowCollector {
    fn record(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        if record.template().is_options() && !self.include_options {
            return;
        }
        let mut f = FlowRecord::default();
        ctx.to_flow_record(record, &mut f);
        self.flows.push(f);
    }
    fn error(&mut self, error: Error) {
        self.errors.push(error);
    }
}

type DomainOf = Domain<StoredTemplate, DomainState>;

/// The context of a data record: where it came from and what the session knows of its
/// exporter, for converting it to a [`FlowRecord`] and for decoding its lists.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'s> {
    /// The exporter's socket address.
    pub exporter: SocketAddr,
    /// Observation domain id.
    pub domain: u32,
    /// The message's sequence number.
    pub sequence: u32,
    /// The message's export time (Unix seconds).
    pub export_time: u32,
    /// The times relative times are relative to.
    pub time: TimeContext,
    /// The session's registry (built-in and learned elements).
    pub registry: &'s Registry,
    state: Option<&'s DomainOf>,
}

impl<'s> RecordContext<'s> {
    /// A template of the same (exporter, domain), e.g. for a subTemplateList.
    pub fn template(&self, id: u16) -> Option<&'s Template> {
        self.state.and_then(|d| d.peek(id)).map(|s| &*s.0)
    }

    /// The domain's state (sampling, interfaces, sequence).
    pub fn domain_state(&self) -> Option<&'s DomainState> {
        self.state.map(|d| &d.state)
    }

    /// The sampling that applies to a record: its own sampler/selector's, else the domain's.
    pub fn sampling_for(&self, record: &DataRecord<'_, '_>) -> Option<Sampling> {
        let state = self.domain_state()?;
        if !state.samplers.is_empty() {
            for f in record.raw_fields() {
                let id = f.spec.field_id();
                let found = (id == FieldId::iana(48) || id == FieldId::iana(302))
                    .then(|| f.value().as_u64().and_then(|v| state.sampler(v)))
                    .flatten();
                if found.is_some() {
                    return found;
                }
            }
        }
        state.sampling
    }

    /// Converts a data record into `out` (cleared first; its `extra` capacity is reused, so
    /// a template whose fields all have typed slots decodes without allocating).
    ///
    /// Every field goes through the template's compiled
    /// [`RecordPlan`](flowwire_record::plan::RecordPlan) (as [`flowwire_record::mapping::apply`]
    /// then [`flowwire_record::mapping::finish`] would); kind, exporter,
    /// domain, sequence and export time are set, and the exporter's sampling applies when
    /// the record carries none.
    pub fn to_flow_record(&self, record: &DataRecord<'_, '_>, out: &mut FlowRecord) {
        out.clear();
        out.kind = Some(ProtocolKind::Ipfix);
        out.exporter = Some(self.exporter);
        out.domain = Some(self.domain);
        out.sequence = Some(self.sequence);
        out.export_time = Some(Timestamp::from_unix_secs(self.export_time));
        let mut time = self.time;
        if let Some(t) = record
            .template()
            .has_system_init_time()
            .then(|| record.get(FieldId::iana(160)))
            .flatten()
            .and_then(|v| v.as_timestamp())
        {
            time.system_init_time = Some(t);
        }
        // The template's compiled plan gives what [`mapping::apply`](flowwire_record::mapping::apply) per field and
        // `mapping::finish` give (a template with both address families keeps the unused
        // family's zeros in the extras), without per-field lookups. The record was split by
        // this template, so the plan cannot run short.
        let _ = record
            .template()
            .plan()
            .decode(record.as_bytes(), &time, out);
        let sampling = match out.sampling_interval {
            None => self.sampling_for(record),
            Some(_) => None,
        };
        if let Some(s) = sampling {
            out.sampling_interval = Some(s.interval);
            out.sampling_algorithm = out.sampling_algorithm.or(s.algorithm);
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct PendingMeta {
    exporter: SocketAddr,
    export_time: u32,
    sequence: u32,
    offset: usize,
}

type PendingKey = (ExporterKey, u32, u16);

/// What [`Session::decode`] did with one datagram / chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeSummary {
    /// Messages decoded.
    pub messages: usize,
    /// Records handed to the visitor (data and options, replayed ones included).
    pub records: usize,
    /// Errors reported to the visitor.
    pub errors: usize,
    /// Data sets without a template.
    pub sets_without_template: usize,
}

/// The IPFIX collector state: templates and per-domain state for every exporter.
///
/// ```
/// use flowwire_ipfix::session::{RecordContext, Session, SessionConfig};
/// use flowwire_ipfix::wire::data::DataRecord;
/// use flowwire_ipfix::record::{FlowRecord, Timestamp};
///
/// let msg: &[u8] = &[
///     0, 10, 0, 40, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1, // header, 40 bytes
///     0, 2, 0, 12, 1, 0, 0, 1, 0, 8, 0, 4, // template 256: sourceIPv4Address
///     1, 0, 0, 12, 192, 0, 2, 1, 192, 0, 2, 2, // two records
/// ];
/// let mut session = Session::new(SessionConfig::default());
/// let mut flow = FlowRecord::default();
/// let mut sources = Vec::new();
/// let now = Timestamp::from_unix_secs(1_700_000_000);
/// session.decode("192.0.2.9:4739".parse()?, msg, now, &mut |ctx: &RecordContext<'_>, rec: &DataRecord<'_, '_>| {
///     ctx.to_flow_record(rec, &mut flow);
///     sources.push(flow.src_addr.unwrap());
/// })?;
/// assert_eq!(sources.len(), 2);
/// assert_eq!(session.store_stats().learned, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    store: TemplateStore<ExporterKey, StoredTemplate, DomainState>,
    registry: Registry,
    pending: Option<PendingBuffer<PendingKey, PendingMeta>>,
    stats: SessionStats,
}

impl Session {
    /// A session with no templates.
    pub fn new(config: SessionConfig) -> Self {
        Session {
            store: TemplateStore::new(config.limits),
            pending: config.pending.map(PendingBuffer::new),
            registry: Registry::new(),
            stats: SessionStats::default(),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The session's counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// The template store's counters: learned, replaced, refreshed, withdrawn, expired,
    /// evicted, rejected by a limit or as invalid.
    pub fn store_stats(&self) -> &StoreStats {
        self.store.stats()
    }

    /// The pending buffer's counters, when data before templates is kept.
    pub fn pending_stats(&self) -> Option<&PendingStats> {
        self.pending.as_ref().map(|p| p.stats())
    }

    /// The registry: built-in elements plus those learned from RFC 5610 type information.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry, for registering vendor elements before decoding (they apply to
    /// templates learned afterwards).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The template store (for inspection).
    pub fn store(&self) -> &TemplateStore<ExporterKey, StoredTemplate, DomainState> {
        &self.store
    }

    /// The state of an exporter's domain, if the session has seen it.
    pub fn domain_state(&self, exporter: SocketAddr, domain: u32) -> Option<&DomainState> {
        let key = self.config.key_policy.key(exporter);
        self.store.domain(&key, domain).map(|d| &d.state)
    }

    /// A template of an exporter's domain, if held (lifetime not checked).
    pub fn template(&self, exporter: SocketAddr, domain: u32, id: u16) -> Option<&Template> {
        let key = self.config.key_policy.key(exporter);
        self.store
            .domain(&key, domain)
            .and_then(|d| d.peek(id))
            .map(|s| &*s.0)
    }

    /// Forgets an exporter: its templates and the state of all its domains (after a
    /// restart announced out of band, say). Returns whether it was known.
    pub fn remove_exporter(&mut self, exporter: SocketAddr) -> bool {
        let key = self.config.key_policy.key(exporter);
        self.store.remove_exporter(&key)
    }

    /// Drops templates past their lifetime (and pending data past its age); returns how
    /// many templates. [`Session::decode`] checks lifetimes on its own as it looks templates
    /// up; call this now and then to free memory of exporters that went quiet.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        if let Some(p) = &mut self.pending {
            p.expire(now);
        }
        self.store.expire(now)
    }

    /// Decodes a datagram (or a chunk of a file or stream holding whole messages) from
    /// `exporter` received at `now`: learns its templates and hands every data record to the
    /// visitor.
    ///
    /// A bad first message header is the returned error. Anything else that is wrong (a bad
    /// set, template or record, bytes after the last message) is reported to
    /// [`Visitor::error`] and skipped by its length; the rest still decodes.
    pub fn decode<V: Visitor + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        datagram: &[u8],
        now: Timestamp,
        visitor: &mut V,
    ) -> Result<DecodeSummary, Error> {
        let mut summary = DecodeSummary::default();
        if datagram.is_empty() {
            return Err(Error::Truncated {
                offset: 0,
                needed: crate::wire::message::HEADER_LEN,
                available: 0,
                what: "message header",
            });
        }
        for (i, m) in MessageIter::new(datagram, 0).enumerate() {
            match m {
                Ok(m) => self.decode_message(exporter, &m, now, visitor, &mut summary),
                Err(e) if i == 0 => return Err(e),
                Err(e) => self.report(visitor, &mut summary, e),
            }
        }
        Ok(summary)
    }

    fn report<V: Visitor + ?Sized>(&mut self, v: &mut V, s: &mut DecodeSummary, e: Error) {
        self.stats.errors += 1;
        s.errors += 1;
        v.error(e);
    }

    fn decode_message<V: Visitor + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        m: &Message<&[u8]>,
        now: Timestamp,
        visitor: &mut V,
        summary: &mut DecodeSummary,
    ) {
        self.stats.messages += 1;
        summary.messages += 1;
        let key = self.config.key_policy.key(exporter);
        let domain = m.observation_domain_id();
        let header = Header {
            exporter,
            key,
            domain,
            export_time: m.export_time(),
            sequence: m.sequence_number(),
            now,
        };
        let mut records = 0usize;
        let unknown_before = summary.sets_without_template;
        for set in m.sets() {
            self.stats.sets += 1;
            let set = match set {
                Ok(s) => s,
                Err(e) => {
                    self.report(visitor, summary, e);
                    continue;
                }
            };
            match set.kind() {
                SetKind::Template | SetKind::OptionsTemplate => {
                    for rec in set.templates() {
                        match rec {
                            Ok(rec) => self.template_record(&header, &rec, now, visitor, summary),
                            Err(e) => self.report(visitor, summary, e),
                        }
                    }
                }
                SetKind::Data(id) => {
                    let template = self.store.get(&key, domain, id, now).map(|s| s.0.clone());
                    match template {
                        Some(t) => {
                            records += self.data_set(
                                &header,
                                &t,
                                set.body(),
                                set.body_offset(),
                                visitor,
                                summary,
                            );
                        }
                        None => {
                            self.stats.sets_without_template += 1;
                            summary.sets_without_template += 1;
                            if let Some(p) = &mut self.pending {
                                let meta = PendingMeta {
                                    exporter,
                                    export_time: header.export_time,
                                    sequence: header.sequence,
                                    offset: set.body_offset(),
                                };
                                p.push((key, domain, id), meta, set.body(), now);
                            }
                        }
                    }
                }
                SetKind::Reserved(set_id) => {
                    let e = Error::ReservedSetId {
                        offset: set.offset(),
                        set_id,
                    };
                    self.report(visitor, summary, e);
                }
            }
        }
        let unknown = summary.sets_without_template > unknown_before;
        if let Some(d) = self.store.domain_mut(&key, domain) {
            let st = &mut d.state;
            if st.sequence_unknown {
                // The previous message had records we could not count: start over from
                // this one, keeping the counters.
                let old = st.sequence;
                let mut fresh = SequenceTracker::new();
                fresh.received = old.received;
                fresh.lost = old.lost;
                fresh.reordered = old.reordered;
                fresh.resets = old.resets;
                st.sequence = fresh;
            }
            let advance = u32::try_from(records).unwrap_or(u32::MAX);
            if let SequenceEvent::Gap(_) = st.sequence.observe(header.sequence, advance) {
                self.stats.sequence_gaps += 1;
            }
            st.sequence_unknown = unknown;
        }
    }

    fn template_record<V: Visitor + ?Sized>(
        &mut self,
        h: &Header,
        rec: &TemplateRecord<'_>,
        now: Timestamp,
        visitor: &mut V,
        summary: &mut DecodeSummary,
    ) {
        let id = rec.template_id();
        if rec.is_withdrawal() {
            let all = if rec.is_options() {
                OPTIONS_TEMPLATE_SET_ID
            } else {
                TEMPLATE_SET_ID
            };
            let removed = if id == all {
                let options = rec.is_options();
                self.store
                    .withdraw_all(&h.key, h.domain, |t| t.0.is_options() == options)
            } else if id >= 256 {
                usize::from(self.store.withdraw(&h.key, h.domain, id))
            } else {
                let problem = if id == TEMPLATE_SET_ID || id == OPTIONS_TEMPLATE_SET_ID {
                    TemplateProblem::WithdrawalMismatch
                } else {
                    TemplateProblem::ReservedId
                };
                let e = Error::BadTemplate {
                    offset: rec.offset(),
                    template_id: id,
                    problem,
                };
                self.report(visitor, summary, e);
                return;
            };
            visitor.template(TemplateEvent::Withdrawn { id, removed });
            return;
        }
        let template =
            match Template::from_record(rec, &self.registry, self.config.max_fields_per_template) {
                Ok(t) => t,
                Err(e) => {
                    self.stats.templates_rejected += 1;
                    self.store.note_invalid();
                    self.report(visitor, summary, e);
                    return;
                }
            };
        let options = template.is_options();
        let template = Arc::new(template);
        let outcome = self
            .store
            .insert(h.key, h.domain, id, StoredTemplate(template.clone()), now);
        visitor.template(TemplateEvent::Defined {
            id,
            options,
            outcome,
        });
        if matches!(outcome, Insert::Learned | Insert::Replaced) {
            self.replay(h, &template, visitor, summary);
        }
    }

    fn replay<V: Visitor + ?Sized>(
        &mut self,
        h: &Header,
        template: &Template,
        visitor: &mut V,
        summary: &mut DecodeSummary,
    ) {
        let Some(p) = &mut self.pending else {
            return;
        };
        let waiting = p.take(&(h.key, h.domain, template.id()));
        for (meta, bytes) in waiting {
            let old = Header {
                exporter: meta.exporter,
                key: h.key,
                domain: h.domain,
                export_time: meta.export_time,
                sequence: meta.sequence,
                now: h.now,
            };
            self.data_set(&old, template, &bytes, meta.offset, visitor, summary);
        }
    }

    /// Decodes one data set; returns the records decoded.
    fn data_set<V: Visitor + ?Sized>(
        &mut self,
        h: &Header,
        template: &Template,
        body: &[u8],
        offset: usize,
        visitor: &mut V,
        summary: &mut DecodeSummary,
    ) -> usize {
        if template.is_options() {
            let mut learned = Vec::new();
            for rec in RecordIter::new(body, offset, template).flatten() {
                learned.extend(self.learn_options(h, &rec));
            }
            if !learned.is_empty() {
                self.retype(h, &learned);
            }
        }
        let mut n = 0usize;
        let mut errors = 0usize;
        let mut lenient = 0u64;
        {
            let state = self.store.domain(&h.key, h.domain);
            let ctx = RecordContext {
                exporter: h.exporter,
                domain: h.domain,
                sequence: h.sequence,
                export_time: h.export_time,
                time: TimeContext {
                    export_time: Some(Timestamp::from_unix_secs(h.export_time)),
                    sys_uptime_ms: None,
                    system_init_time: state.and_then(|d| d.state.system_init_time),
                },
                registry: &self.registry,
                state,
            };
            for rec in RecordIter::new(body, offset, template) {
                match rec {
                    Ok(rec) => {
                        n += 1;
                        if template.has_lenient_risk() {
                            lenient += rec.lenient_fields() as u64;
                        }
                        visitor.record(&ctx, &rec);
                    }
                    Err(e) => {
                        errors += 1;
                        visitor.error(e);
                    }
                }
            }
        }
        self.stats.errors += errors as u64;
        summary.errors += errors;
        self.stats.lenient_values += lenient;
        if template.is_options() {
            self.stats.options_records += n as u64;
        } else {
            self.stats.data_records += n as u64;
        }
        summary.records += n;
        n
    }

    /// Re-resolves the domain's templates that use elements just described by RFC 5610
    /// type information, so that their values decode with the announced types.
    fn retype(&mut self, h: &Header, learned: &[FieldId]) {
        let Some(d) = self.store.domain(&h.key, h.domain) else {
            return;
        };
        let max = self.config.max_fields_per_template;
        let mut redo = Vec::new();
        for id in d.template_ids() {
            let Some(t) = d.peek(id) else { continue };
            let uses =
                t.0.fields()
                    .iter()
                    .any(|f| learned.contains(&f.spec.field_id()));
            if !uses {
                continue;
            }
            let specs = t.0.fields().iter().map(|f| f.spec);
            let scope = t.0.scope_field_count();
            let retyped = Template::new(id, t.0.is_options(), scope, specs, &self.registry, max);
            redo.extend(retyped.ok().filter(|n| n != &*t.0));
        }
        for t in redo {
            let id = t.id();
            let outcome =
                self.store
                    .insert(h.key, h.domain, id, StoredTemplate(Arc::new(t)), h.now);
            if outcome.is_stored() {
                self.stats.templates_retyped += 1;
            }
        }
    }

    /// Learns what an options record says; returns the element it described, if it is new
    /// or changed.
    fn learn_options(&mut self, h: &Header, rec: &DataRecord<'_, '_>) -> Option<FieldId> {
        let mut sampling_elements = SamplingElements::default();
        let mut init_time = None;
        let mut if_index: Option<u32> = None;
        let mut if_name: Option<&[u8]> = None;
        let mut if_descr: Option<&[u8]> = None;
        let mut ie = TypeInfo::default();
        for f in rec.raw_fields() {
            let id = f.spec.field_id();
            if id.pen != 0 {
                continue;
            }
            let v = f.value();
            if sampling_elements.observe(id, &v) {
                continue;
            }
            match id.id {
                160 => init_time = v.as_timestamp(),
                10 | 14 => {
                    if_index = if_index.or_else(|| v.as_u64().and_then(|x| u32::try_from(x).ok()));
                }
                82 => if_name = v.as_bytes(),
                83 => if_descr = v.as_bytes(),
                303 => ie.id = v.as_u64().and_then(|x| u16::try_from(x).ok()),
                346 => ie.pen = v.as_u64().and_then(|x| u32::try_from(x).ok()),
                339 => ie.data_type = v.as_u64(),
                341 => ie.name = v.as_bytes(),
                344 => ie.semantics = v.as_u64(),
                345 => ie.units = v.as_u64(),
                _ => {}
            }
        }
        let sampler_id = sampling_elements.sampler_id;
        let sampling = sampling_elements.interval().map(|interval| Sampling {
            interval,
            algorithm: sampling_elements.algorithm,
        });
        let has_sampling = sampling.is_some();
        let sampling = sampling.unwrap_or_default();
        let room = self.registry.custom_len() < self.config.max_learned_elements;
        let mut learned = None;
        if let Some(info) = ie
            .element()
            .filter(|i| room || self.registry.get(i.field).is_some())
        {
            let field = info.field;
            let changed = self.registry.register(info.clone()).as_ref() != Some(&info);
            if changed {
                self.stats.elements_learned += 1;
                learned = Some(field);
            }
        }
        if !(has_sampling || init_time.is_some() || if_name.is_some() || if_descr.is_some()) {
            return learned;
        }
        let max_if = self.config.max_interfaces_per_domain;
        let max_samplers = self.config.max_samplers_per_domain;
        let Some(d) = self.store.domain_mut(&h.key, h.domain) else {
            return learned;
        };
        let st = &mut d.state;
        if let Some(t) = init_time {
            st.system_init_time = Some(t);
        }
        if has_sampling && sampling.interval > 0 {
            st.sampling = Some(sampling);
            let room = st.samplers.len() < max_samplers;
            if let Some(id) = sampler_id.filter(|id| room || st.samplers.contains_key(id)) {
                st.samplers.insert(id, sampling);
            }
        }
        let room = st.interfaces.len() < max_if;
        let named = if_name.is_some() || if_descr.is_some();
        if let Some(ix) = if_index.filter(|ix| named && (room || st.interfaces.contains_key(ix))) {
            let text = |b: &[u8]| Value::String(b).as_str().map(str::to_owned);
            let e = st.interfaces.entry(ix).or_default();
            if let Some(n) = if_name {
                e.name = text(n);
            }
            if let Some(n) = if_descr {
                e.description = text(n);
            }
        }
        learned
    }
}

#[derive(Debug, Clone, Copy)]
struct Header {
    exporter: SocketAddr,
    key: ExporterKey,
    domain: u32,
    export_time: u32,
    sequence: u32,
    now: Timestamp,
}

#[derive(Debug, Default)]
struct TypeInfo<'a> {
    id: Option<u16>,
    pen: Option<u32>,
    data_type: Option<u64>,
    name: Option<&'a [u8]>,
    semantics: Option<u64>,
    units: Option<u64>,
}

impl TypeInfo<'_> {
    fn element(&self) -> Option<CustomElement> {
        let id = self.id?;
        let data_type = data_type_from_code(self.data_type?)?;
        let name = Value::String(self.name.unwrap_or_default())
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)?;
        Some(CustomElement {
            field: FieldId {
                pen: self.pen.unwrap_or(0),
                id,
            },
            name: name.into(),
            data_type,
            semantics: self.semantics.and_then(semantics_from_code),
            units: self.units.and_then(units_from_code),
        })
    }
}

/// The abstract data type of an RFC 5610 informationElementDataType code (IANA registry
/// "IPFIX Information Element Data Types").
pub fn data_type_from_code(code: u64) -> Option<DataType> {
    Some(match code {
        0 => DataType::OctetArray,
        1 => DataType::Unsigned8,
        2 => DataType::Unsigned16,
        3 => DataType::Unsigned32,
        4 => DataType::Unsigned64,
        5 => DataType::Signed8,
        6 => DataType::Signed16,
        7 => DataType::Signed32,
        8 => DataType::Signed64,
        9 => DataType::Float32,
        10 => DataType::Float64,
        11 => DataType::Boolean,
        12 => DataType::MacAddress,
        13 => DataType::String,
        14 => DataType::DateTimeSeconds,
        15 => DataType::DateTimeMilliseconds,
        16 => DataType::DateTimeMicroseconds,
        17 => DataType::DateTimeNanoseconds,
        18 => DataType::Ipv4Address,
        19 => DataType::Ipv6Address,
        20 => DataType::BasicList,
        21 => DataType::SubTemplateList,
        22 => DataType::SubTemplateMultiList,
        23 => DataType::Unsigned256,
        _ => return None,
    })
}

/// The RFC 5610 informationElementDataType code of a data type.
pub fn data_type_code(t: DataType) -> u8 {
    (0u8..=23)
        .find(|&c| data_type_from_code(u64::from(c)) == Some(t))
        .unwrap_or(0)
}

fn semantics_from_code(code: u64) -> Option<Semantics> {
    Some(match code {
        0 => Semantics::Default,
        1 => Semantics::Quantity,
        2 => Semantics::TotalCounter,
        3 => Semantics::DeltaCounter,
        4 => Semantics::Identifier,
        5 => Semantics::Flags,
        6 => Semantics::List,
        7 => Semantics::SnmpCounter,
        8 => Semantics::SnmpGauge,
        _ => return None,
    })
}

fn units_from_code(code: u64) -> Option<Units> {
    Some(match code {
        1 => Units::Bits,
        2 => Units::Octets,
        3 => Units::Packets,
        4 => Units::Flows,
        5 => Units::Seconds,
        6 => Units::Milliseconds,
        7 => Units::Microseconds,
        8 => Units::Nanoseconds,
        9 => Units::FourOctetWords,
        10 => Units::Messages,
        11 => Units::Hops,
        12 => Units::Entries,
        13 => Units::Frames,
        14 => Units::Ports,
        15 => Units::Inferred,
        _ => return None,
    })
}
