//! [`Session`]: the collector's state, and the decoder of the
//! [codec contract](flowwire_record::codec): templates per (exporter, observation domain),
//! withdrawals, lifetimes, limits and counters; data that arrives before its template;
//! sequence tracking; and what options data tells about the exporter (sampling, system init
//! time, interface names, RFC 5610 [type information](crate::type_info)).
//!
//! Two ways in:
//!
//! - [`Decoder::decode`]`(exporter, now, datagram, sink)` hands everything to a [`Sink`]:
//!   flows as [`FlowRecord`]s (one reused scratch record, with the exporter's sampling
//!   applied), options data as [`OptionsRecord`]s (scope fields in `scope`, the others in
//!   `fields`), template events, and errors with their offsets. Options records never reach
//!   [`Sink::flow`].
//! - [`Session::decode_records`]`(exporter, now, datagram, visitor)` hands the zero-copy
//!   [`DataRecord`]s (of data and options templates alike) to a [`Visitor`], with a
//!   [`RecordContext`] that converts them ([`RecordContext::flow_record_into`],
//!   [`RecordContext::options_record_into`]) and finds the templates that RFC 6313
//!   subTemplateLists name ([`RecordContext::template`]). `Decoder::decode` is written on it.
//!
//! The templates live in flowwire-record's bounded [`TemplateStore`], keyed by the socket
//! address [`KeyPolicy::key`] gives: RFC 7011 §8.4 scopes templates to the transport session
//! (address and port), the default; exporters that send from a new source port now and then
//! (some routers after a restart of their export process, NAT in between) need
//! [`KeyPolicy::AddressOnly`].
//!
//! Data sets whose template is not known yet are kept (by default, within
//! [`PendingLimits`]) and decoded when the template comes; with
//! [`SessionConfig::pending`] `None`, or when the buffer refuses them, they are reported as
//! [`Error::MissingTemplate`]. Data decoded later keeps the offsets of the datagram it came
//! in.
//!
//! Template withdrawals (RFC 7011 §8.1) are honoured whatever the transport: RFC 7011 forbids
//! sending them over UDP, but an exporter that does means it. A template refused as invalid
//! (no fields, zero-length records, too many fields, a bad scope count, records larger than
//! a message) is reported as an error and a [`TemplateAction::Invalid`] event, counted, and
//! the sets after it still decode.
//!
//! Time is passed in (`now`): a capture replays with the template lifetimes it had.

use std::net::SocketAddr;
use std::sync::Arc;

use flowwire_record::codec::{
    DecodeError, Decoder, OptionsRecord, Sink, Summary, TemplateAction, TemplateEvent,
};
use flowwire_record::mapping::TimeContext;
use flowwire_record::options::{ExporterOptions, OptionsLimits, OptionsValues};
use flowwire_record::pending::{PendingBuffer, PendingLimits, PendingStats};
use flowwire_record::registry::{FieldId, Registry, ie};
use flowwire_record::sequence::{SequenceEvent, SequenceTracker};
use flowwire_record::snapshot::{
    self, FieldSnapshot, Restored, SessionSnapshot, SnapshotError, TemplateSnapshot, TemplateSpecs,
};
use flowwire_record::template_store::{
    Domain, Insert, StoreLimits, StoreStats, TemplateCost, TemplateStore,
};
use flowwire_record::{ExtraField, FlowRecord, ProtocolKind, Timestamp};

pub use flowwire_record::codec::KeyPolicy;

use crate::error::{Error, TemplateProblem};
use crate::template::{DEFAULT_MAX_FIELDS, Template};
use crate::type_info::TypeInfo;
pub use crate::type_info::{data_type_code, data_type_from_code};
use crate::wire::data::{DataRecord, RecordIter};
use crate::wire::message::{HEADER_LEN, Message, MessageIter, VERSION};
use crate::wire::set::{OPTIONS_TEMPLATE_SET_ID, SetKind, TEMPLATE_SET_ID};
use crate::wire::template::{FieldSpec, TemplateRecord};

/// Configuration of a [`Session`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// How exporters are told apart (default: address and port).
    pub key_policy: KeyPolicy,
    /// Template store limits, including the template lifetime (default 30 minutes).
    pub limits: StoreLimits,
    /// Keep data sets that arrive before their template, within these limits, and decode
    /// them when it comes (default: `Some(PendingLimits::default())`). `None`: report them
    /// as [`Error::MissingTemplate`] and drop them.
    pub pending: Option<PendingLimits>,
    /// Samplers and interface names remembered per (exporter, domain).
    pub options: OptionsLimits,
    /// Fields per template; templates with more are refused (default 1,024).
    pub max_fields_per_template: usize,
    /// Elements learned from RFC 5610 type information, in all (default 4,096).
    pub max_learned_elements: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            key_policy: KeyPolicy::default(),
            limits: StoreLimits::default(),
            pending: Some(PendingLimits::default()),
            options: OptionsLimits::default(),
            max_fields_per_template: DEFAULT_MAX_FIELDS,
            max_learned_elements: 4096,
        }
    }
}

/// A template as stored: shared, so that decoding a data set does not hold the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate(pub Arc<Template>);

impl TemplateSpecs for StoredTemplate {
    fn to_snapshot(&self, received: Timestamp) -> TemplateSnapshot {
        let t = &self.0;
        TemplateSnapshot {
            id: t.id(),
            options: t.is_options(),
            scope_fields: t.scope_field_count(),
            fields: t
                .fields()
                .iter()
                .map(|f| FieldSnapshot {
                    id: f.spec.id,
                    pen: f.spec.pen,
                    length: f.spec.length,
                })
                .collect(),
            received,
        }
    }
}

impl TemplateCost for StoredTemplate {
    fn heap_bytes(&self) -> usize {
        // The Arc's allocation: its two counters and the template, then the template's own.
        2 * core::mem::size_of::<usize>() + core::mem::size_of::<Template>() + self.0.heap_bytes()
    }
}

/// What a session knows of one (exporter, observation domain) besides its templates.
#[derive(Debug, Default)]
pub struct DomainState {
    /// Sequence tracking (IPFIX counts data records). After a message with data sets that
    /// could not be decoded (no template), tracking restarts at the next message, since
    /// how many records those sets held is unknown.
    pub sequence: SequenceTracker,
    /// What options data announced: sampling (per sampler / selector and domain-wide),
    /// interface names, systemInitTimeMilliseconds (160) for flowStart/EndSysUpTime (22/21).
    pub options: ExporterOptions,
    /// The last message had data sets without a template: how far it advanced the sequence
    /// is unknown.
    sequence_unknown: bool,
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
    /// Data sets that arrived with no template for them (kept pending or dropped).
    pub sets_without_template: u64,
    /// Errors reported (and skipped).
    pub errors: u64,
    /// Field values kept leniently because their length did not suit their type.
    pub lenient_values: u64,
    /// Element types learned from RFC 5610 type-information records.
    pub elements_learned: u64,
    /// Templates re-resolved because type information for their elements came after them
    /// (also counted as replaced by the template store; not reported as template events).
    pub templates_retyped: u64,
    /// Options records whose sampler or interface was not remembered, because the domain
    /// already had [`OptionsLimits`]' worth.
    pub options_over_limit: u64,
    /// Messages whose sequence number showed a gap.
    pub sequence_gaps: u64,
}

/// The low-level receiver of [`Session::decode_records`]: zero-copy data records as they
/// are decoded, errors that were skipped, template events. Only [`Visitor::data`] must be
/// written.
///
/// Closures `FnMut(&RecordContext, &DataRecord)` are visitors that ignore errors and events.
pub trait Visitor {
    /// A data record, of a data template or an options template
    /// (`record.template().is_options()` tells). Convert it with
    /// [`RecordContext::flow_record_into`] or [`RecordContext::options_record_into`], or read
    /// its fields directly.
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>);

    /// An error that was reported and skipped (the rest of the datagram still decodes).
    fn error(&mut self, error: &Error) {
        let _ = error;
    }

    /// A template was learned, refreshed, replaced, refused or withdrawn.
    fn template(&mut self, event: &TemplateEvent) {
        let _ = event;
    }
}

impl<F: FnMut(&RecordContext<'_>, &DataRecord<'_, '_>)> Visitor for F {
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        self(ctx, record)
    }
}

/// A [`Sink`] that keeps everything it is handed, owned: flows, options records, template
/// events, and errors as this crate's [`Error`]. The simple way to decode when allocating
/// per record is fine (tests, tools, small captures). flowwire-record's
/// [`Collect`](flowwire_record::codec::Collect) for IPFIX.
///
/// ```
/// use flowwire_ipfix::record::Timestamp;
/// use flowwire_ipfix::{Collect, Decoder, Session};
///
/// let msg: &[u8] = &[
///     0, 10, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // header
///     0, 2, 0, 12, 1, 0, 0, 1, 0, 2, 0, 1, // template 256: packetDeltaCount in 1 octet
///     1, 0, 0, 8, 3, 4, 5, 6, // four records
/// ];
/// let mut got = Collect::default();
/// let mut session = Session::default();
/// session.decode("192.0.2.1:4739".parse()?, Timestamp::from_unix_secs(0), msg, &mut got);
/// let packets: Vec<_> = got.flows.iter().map(|f| f.packets().unwrap()).collect();
/// assert_eq!(packets, [3, 4, 5, 6]);
/// assert!(got.errors.is_empty() && got.options.is_empty());
/// assert_eq!(got.templates.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Collect = flowwire_record::codec::Collect<Error>;

type DomainOf = Domain<StoredTemplate, DomainState>;

/// The context of a data record: where it came from and what the session knows of its
/// exporter, for converting it and for decoding its lists.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'s> {
    /// The exporter's socket address.
    pub exporter: SocketAddr,
    /// Observation domain id.
    pub domain: u32,
    /// The message's sequence number.
    pub sequence: u32,
    /// The message's export time.
    pub export_time: Timestamp,
    /// The times relative times are relative to.
    pub time: TimeContext,
    /// The session's registry (built-in, registered and learned elements).
    pub registry: &'s Registry,
    state: Option<&'s DomainOf>,
}

impl<'s> RecordContext<'s> {
    /// A template of the same (exporter, domain): for the records of a subTemplateList or
    /// subTemplateMultiList (RFC 6313).
    pub fn template(&self, id: u16) -> Option<&'s Template> {
        self.state.and_then(|d| d.peek(id)).map(|s| &*s.0)
    }

    /// The domain's state (sequence tracking, what options data announced).
    pub fn domain_state(&self) -> Option<&'s DomainState> {
        self.state.map(|d| &d.state)
    }

    /// Converts a data record into `out` (cleared first; its `extra` capacity is reused, so
    /// a template whose fields all have typed slots converts without allocating).
    ///
    /// Every field goes through the template's compiled
    /// [`RecordPlan`](flowwire_record::plan::RecordPlan) (as
    /// [`mapping::apply`](flowwire_record::mapping::apply) then
    /// [`mapping::finish`](flowwire_record::mapping::finish) would, the repeated-element rule
    /// included); kind, exporter, domain, sequence and export time are set, and the
    /// exporter's announced sampling applies ([`ExporterOptions::apply`]) when the record
    /// carries none. Meant for records of data templates; an options record converts too,
    /// as if it were a flow.
    #[inline]
    pub fn flow_record_into(&self, record: &DataRecord<'_, '_>, out: &mut FlowRecord) {
        out.clear_with_context(
            ProtocolKind::Ipfix,
            Some(self.exporter),
            Some(self.domain),
            Some(self.sequence),
            Some(self.export_time),
        );
        let mut time = self.time;
        if let Some(t) = record
            .template()
            .has_system_init_time()
            .then(|| record.get(FieldId::iana(ie::SYSTEM_INIT_TIME_MILLISECONDS)))
            .flatten()
            .and_then(|v| v.as_timestamp())
        {
            time.system_init_time = Some(t);
        }
        // The record was cut by this template, so the plan cannot run short: an error would
        // only leave fields unset.
        let _ = record.template().plan().decode(record.tail(), &time, out);
        if let Some(state) = self.domain_state() {
            state.options.apply(out);
        }
    }

    /// Converts an options data record into `out` (cleared first): kind, exporter, domain
    /// and template id, the scope fields in [`OptionsRecord::scope`], the others in
    /// [`OptionsRecord::fields`], each as an [`ExtraField`] with its owned value. Allocates
    /// the values (options data is rare next to flows).
    pub fn options_record_into(&self, record: &DataRecord<'_, '_>, out: &mut OptionsRecord) {
        out.clear();
        out.kind = Some(ProtocolKind::Ipfix);
        out.exporter = Some(self.exporter);
        out.domain = Some(self.domain);
        out.template_id = record.template().id();
        let scope = usize::from(record.template().scope_field_count());
        for (i, f) in record.raw_fields().enumerate() {
            let e = ExtraField::new(f.spec.field_id(), f.value().to_owned_value());
            if i < scope {
                out.scope.push(e);
            } else {
                out.fields.push(e);
            }
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

type PendingKey = (SocketAddr, u32, u16);

/// The IPFIX decoder: templates and per-domain state for every exporter. See the module
/// docs. `decode`, `accepts` and `expire` are the [`Decoder`] trait's (re-exported at the
/// crate root): bring it into scope to call them.
///
/// ```
/// use flowwire_ipfix::record::{FlowRecord, Timestamp};
/// use flowwire_ipfix::{Decoder, Session};
///
/// let msg: &[u8] = &[
///     0, 10, 0, 40, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1, // header, 40 bytes
///     0, 2, 0, 12, 1, 0, 0, 1, 0, 8, 0, 4, // template 256: sourceIPv4Address
///     1, 0, 0, 12, 192, 0, 2, 1, 192, 0, 2, 2, // two records
/// ];
/// let mut session = Session::default();
/// let mut sources = Vec::new();
/// let now = Timestamp::from_unix_secs(1_700_000_000);
/// let summary = session.decode("192.0.2.9:4739".parse()?, now, msg, &mut |f: &FlowRecord| {
///     sources.push(f.src_addr().unwrap());
/// });
/// assert_eq!((summary.flows, summary.templates, summary.errors), (2, 1, 0));
/// assert_eq!(sources.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    store: TemplateStore<SocketAddr, StoredTemplate, DomainState>,
    registry: Registry,
    pending: Option<PendingBuffer<PendingKey, PendingMeta>>,
    stats: SessionStats,
    /// Reused by [`Decoder::decode`] for every flow: no allocation per record.
    flow: FlowRecord,
    /// Reused by [`Decoder::decode`] for every options record.
    options: OptionsRecord,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionConfig::default())
    }
}

impl Session {
    /// A session with no templates.
    pub fn new(config: SessionConfig) -> Self {
        Session {
            store: TemplateStore::new(config.limits),
            pending: config.pending.map(PendingBuffer::new),
            registry: Registry::new(),
            stats: SessionStats::default(),
            flow: FlowRecord::default(),
            options: OptionsRecord::default(),
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
    /// evicted, refused by a limit or as invalid.
    pub fn store_stats(&self) -> &StoreStats {
        self.store.stats()
    }

    /// The pending buffer's counters, when data before templates is kept.
    pub fn pending_stats(&self) -> Option<&PendingStats> {
        self.pending.as_ref().map(|p| p.stats())
    }

    /// The registry: built-in elements plus those registered and learned from RFC 5610 type
    /// information.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry, for registering vendor elements before decoding (they apply to
    /// templates learned afterwards).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The template store (for inspection), keyed by [`KeyPolicy::key`] of the exporter.
    pub fn store(&self) -> &TemplateStore<SocketAddr, StoredTemplate, DomainState> {
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

    /// The learned state (templates with the time each was last received, what options data
    /// announced: sampling, interface names, the system init time) of every exporter and
    /// observation domain, to save and [`restore`](Self::restore) after a restart; see
    /// [`flowwire_record::snapshot`].
    pub fn snapshot(&self) -> SessionSnapshot {
        snapshot::snapshot_store(&self.store, ProtocolKind::Ipfix, |d| &d.options)
    }

    /// Replaces the session's learned state with a snapshot's, as of `now`: templates past
    /// their lifetime are left out, each template is checked as one received on the wire
    /// (with this session's registry and field limit), and the session's limits apply (what
    /// they refuse is counted). On an error the session is left without templates or options
    /// state. Data waiting for a template, sequence tracking, element types learned from type
    /// information (RFC 5610) and counters are not part of a snapshot and are left as they are.
    pub fn restore(
        &mut self,
        snapshot: &SessionSnapshot,
        now: Timestamp,
    ) -> Result<Restored, SnapshotError> {
        let (registry, max) = (&self.registry, self.config.max_fields_per_template);
        snapshot::restore_store(
            &mut self.store,
            snapshot,
            ProtocolKind::Ipfix,
            &self.config.options,
            now,
            |t| {
                let specs = t.fields.iter().map(|f| FieldSpec {
                    id: f.id,
                    pen: f.pen,
                    length: f.length,
                });
                Template::new(t.id, t.options, t.scope_fields, specs, registry, max)
                    .map(|t| StoredTemplate(Arc::new(t)))
                    .map_err(|p| p.to_string())
            },
            |state, options| state.options = options,
        )
    }

    /// Forgets an exporter: its templates and the state of all its domains (after a
    /// restart announced out of band, say). Returns whether it was known.
    pub fn remove_exporter(&mut self, exporter: SocketAddr) -> bool {
        let key = self.config.key_policy.key(exporter);
        self.store.remove_exporter(&key)
    }

    /// Decodes a datagram (or a chunk of a file or stream holding whole messages) from
    /// `exporter` received at `now`: learns its templates and options data, and hands every
    /// data record (of data and options templates) to `visitor` without converting it.
    ///
    /// Anything wrong (a bad message header, set, template or record, bytes after the last
    /// message) is reported to [`Visitor::error`] and skipped by its length; the rest still
    /// decodes. The [`Summary`] counts records of data templates as `flows` and of options
    /// templates as `options`.
    pub fn decode_records<V: Visitor + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        visitor: &mut V,
    ) -> Summary {
        let mut summary = Summary::default();
        if datagram.is_empty() {
            let e = Error::Truncated {
                offset: 0,
                needed: HEADER_LEN,
                available: 0,
                what: "message header",
            };
            self.report(visitor, &mut summary, e);
            return summary;
        }
        for m in MessageIter::new(datagram, 0) {
            match m {
                Ok(m) => self.decode_message(exporter, &m, now, visitor, &mut summary),
                Err(e) => self.report(visitor, &mut summary, e),
            }
        }
        summary
    }

    fn report<V: Visitor + ?Sized>(&mut self, v: &mut V, s: &mut Summary, e: Error) {
        self.stats.errors += 1;
        s.errors += 1;
        v.error(&e);
    }

    fn decode_message<V: Visitor + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        m: &Message<&[u8]>,
        now: Timestamp,
        visitor: &mut V,
        summary: &mut Summary,
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
        let mut unknown = false;
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
                            Ok(rec) => self.template_record(&header, &rec, visitor, summary),
                            Err(e) => self.report(visitor, summary, e),
                        }
                    }
                }
                SetKind::Data(id) => {
                    match self.store.get(&key, domain, id, now).map(|s| s.0.clone()) {
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
                            unknown = true;
                            self.stats.sets_without_template += 1;
                            summary.missing_templates += 1;
                            let meta = PendingMeta {
                                exporter,
                                export_time: header.export_time,
                                sequence: header.sequence,
                                offset: set.body_offset(),
                            };
                            let kept = self
                                .pending
                                .as_mut()
                                .is_some_and(|p| p.push((key, domain, id), meta, set.body(), now));
                            if !kept {
                                let e = Error::MissingTemplate {
                                    offset: set.offset(),
                                    template_id: id,
                                };
                                self.report(visitor, summary, e);
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

    fn event<V: Visitor + ?Sized>(
        h: &Header,
        visitor: &mut V,
        template_id: u16,
        options: bool,
        action: TemplateAction,
    ) {
        visitor.template(&TemplateEvent {
            protocol: ProtocolKind::Ipfix,
            exporter: h.exporter,
            domain: h.domain,
            template_id,
            options,
            action,
        });
    }

    fn template_record<V: Visitor + ?Sized>(
        &mut self,
        h: &Header,
        rec: &TemplateRecord<'_>,
        visitor: &mut V,
        summary: &mut Summary,
    ) {
        let id = rec.template_id();
        let options = rec.is_options();
        if rec.is_withdrawal() {
            let all = if options {
                OPTIONS_TEMPLATE_SET_ID
            } else {
                TEMPLATE_SET_ID
            };
            let removed = if id == all {
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
                Self::event(h, visitor, id, options, TemplateAction::Invalid);
                return;
            };
            summary.withdrawn += removed;
            Self::event(h, visitor, id, options, TemplateAction::Withdrawn);
            return;
        }
        let template =
            match Template::from_record(rec, &self.registry, self.config.max_fields_per_template) {
                Ok(t) => t,
                Err(e) => {
                    self.stats.templates_rejected += 1;
                    self.store.note_invalid();
                    self.report(visitor, summary, e);
                    Self::event(h, visitor, id, options, TemplateAction::Invalid);
                    return;
                }
            };
        let template = Arc::new(template);
        let outcome =
            self.store
                .insert(h.key, h.domain, id, StoredTemplate(template.clone()), h.now);
        if outcome.is_stored() {
            summary.templates += 1;
        }
        Self::event(h, visitor, id, options, outcome.into());
        if matches!(outcome, Insert::Learned | Insert::Replaced) {
            self.replay(h, &template, visitor, summary);
        }
    }

    /// Decodes the data sets that were waiting for `template`.
    fn replay<V: Visitor + ?Sized>(
        &mut self,
        h: &Header,
        template: &Template,
        visitor: &mut V,
        summary: &mut Summary,
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
        summary: &mut Summary,
    ) -> usize {
        if template.is_options() {
            self.learn_options(h, template, body, offset);
        }
        let mut n = 0usize;
        let mut errors = 0usize;
        let mut lenient = 0u64;
        {
            let state = self.store.domain(&h.key, h.domain);
            let export_time = Timestamp::from_unix_secs(i64::from(h.export_time));
            let ctx = RecordContext {
                exporter: h.exporter,
                domain: h.domain,
                sequence: h.sequence,
                export_time,
                time: TimeContext {
                    export_time: Some(export_time),
                    sys_uptime_ms: None,
                    system_init_time: state.and_then(|d| d.state.options.system_init_time),
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
                        visitor.data(&ctx, &rec);
                    }
                    Err(e) => {
                        errors += 1;
                        visitor.error(&e);
                    }
                }
            }
        }
        self.stats.errors += errors as u64;
        summary.errors += errors;
        self.stats.lenient_values += lenient;
        if template.is_options() {
            self.stats.options_records += n as u64;
            summary.options += n;
        } else {
            self.stats.data_records += n as u64;
            summary.flows += n;
        }
        n
    }

    /// Learns what the records of an options data set say, before they are handed out:
    /// sampling, interface names and the system init time through [`ExporterOptions::learn`],
    /// element types through RFC 5610 [`TypeInfo`] (templates that use a newly described
    /// element are re-typed).
    fn learn_options(&mut self, h: &Header, template: &Template, body: &[u8], offset: usize) {
        let mut described = Vec::new();
        for rec in RecordIter::new(body, offset, template).flatten() {
            let mut values = OptionsValues::default();
            let mut info = TypeInfo::default();
            for f in rec.raw_fields() {
                let field = f.spec.field_id();
                let value = f.value();
                if !values.observe(field, &value) {
                    info.observe(field, &value);
                }
            }
            if let Some(field) = self.learn_type(&info) {
                described.push(field);
            }
            let limits = self.config.options;
            if let Some(d) = self.store.domain_mut(&h.key, h.domain)
                && d.state.options.learn(&values, &limits).over_limit
            {
                self.stats.options_over_limit += 1;
            }
        }
        if !described.is_empty() {
            self.retype(h, &described);
        }
    }

    /// Registers the element an RFC 5610 record describes; returns it if it is new or
    /// changed.
    fn learn_type(&mut self, info: &TypeInfo<'_>) -> Option<FieldId> {
        let room = self.registry.custom_len() < self.config.max_learned_elements;
        let element = info
            .element()
            .filter(|e| room || self.registry.get(e.field).is_some())?;
        let field = element.field;
        let changed = self.registry.register(element.clone()).as_ref() != Some(&element);
        if !changed {
            return None;
        }
        self.stats.elements_learned += 1;
        Some(field)
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
}

impl Decoder for Session {
    /// An IPFIX message starts with version 10.
    fn accepts(datagram: &[u8]) -> bool {
        datagram.get(..2) == Some(&VERSION.to_be_bytes()[..])
    }

    /// Decodes through [`Session::decode_records`], converting records of data templates
    /// into the session's scratch [`FlowRecord`] for [`Sink::flow`] and records of options
    /// templates into its scratch [`OptionsRecord`] for [`Sink::options`].
    fn decode<S: Sink + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        sink: &mut S,
    ) -> Summary {
        // Taken out for the call (the visitor cannot borrow the session it is driven by) and
        // put back, so that their capacity is reused: `take` allocates nothing.
        let mut flow = core::mem::take(&mut self.flow);
        let mut options = core::mem::take(&mut self.options);
        let mut v = SinkVisitor {
            sink,
            exporter,
            flow: &mut flow,
            options: &mut options,
        };
        let summary = self.decode_records(exporter, now, datagram, &mut v);
        self.flow = flow;
        self.options = options;
        summary
    }

    /// Drops templates past their lifetime (and pending data past its age); returns how
    /// many templates. Decoding checks lifetimes on its own as it looks templates up; call
    /// this now and then to free the memory of exporters that went quiet.
    fn expire(&mut self, now: Timestamp) -> usize {
        if let Some(p) = &mut self.pending {
            p.expire(now);
        }
        self.store.expire(now)
    }
}

/// [`Decoder::decode`]'s visitor: converts and hands on to the sink.
struct SinkVisitor<'a, S: Sink + ?Sized> {
    sink: &'a mut S,
    exporter: SocketAddr,
    flow: &'a mut FlowRecord,
    options: &'a mut OptionsRecord,
}

impl<S: Sink + ?Sized> Visitor for SinkVisitor<'_, S> {
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        if record.template().is_options() {
            ctx.options_record_into(record, self.options);
            self.sink.options(self.options);
        } else {
            ctx.flow_record_into(record, self.flow);
            self.sink.flow(self.flow);
        }
    }

    fn error(&mut self, error: &Error) {
        self.sink.error(&DecodeError {
            protocol: Some(ProtocolKind::Ipfix),
            exporter: self.exporter,
            error,
        });
    }

    fn template(&mut self, event: &TemplateEvent) {
        self.sink.template(event);
    }
}

#[derive(Debug, Clone, Copy)]
struct Header {
    exporter: SocketAddr,
    key: SocketAddr,
    domain: u32,
    export_time: u32,
    sequence: u32,
    now: Timestamp,
}
