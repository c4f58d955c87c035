//! The collector side: [`Session`], a [`Decoder`] of NetFlow v5 and v9 datagrams from any
//! number of exporters.
//!
//! - Templates live in the shared bounded [`TemplateStore`], keyed by exporter (socket
//!   address, or address only: [`KeyPolicy`]), source id and template id, with its limits,
//!   lifetime and counters ([`Session::store_stats`]). Templates that fail validation (no
//!   fields, zero-length records, id < 256) are reported, counted and never stored.
//! - Data that arrives before its template is kept in a bounded [`PendingBuffer`] (on by
//!   default) and decoded when the template comes; data that cannot be kept is reported as
//!   [`Error::MissingTemplate`].
//! - Options data is learned once, the way IPFIX learns it
//!   ([`flowwire_record::options`]): sampling per sampler id and for the domain, interface
//!   names. Flows without a sampling interval of their own get the one their exporter
//!   announced.
//! - Sequence numbers are tracked per (exporter, source id) for v9 (which counts packets) and
//!   per (exporter, engine) for v5 (which counts flows).
//!
//! [`Decoder::decode`] hands everything to a [`Sink`]: flows through one reused
//! [`FlowRecord`] (for templates whose fields all have a typed slot, steady-state decoding
//! allocates nothing), options records, template events and errors with their offsets.
//! [`Session::decode_records`] hands out the zero-copy records instead, with a
//! [`RecordContext`] to convert them.
//!
//! ```
//! use flowwire_netflow::Session;
//! use flowwire_netflow::record::{Decoder, FlowRecord, Timestamp};
//!
//! // Version 9, count 2, sysUptime 1 s, export time, sequence 42, source id 7; a template
//! // FlowSet (template 256: sourceIPv4Address, destinationIPv4Address, octetDeltaCount, 4
//! // bytes each) and a data FlowSet with one record.
//! let datagram = [
//!     0, 9, 0, 2, 0, 0, 0x03, 0xe8, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 42, 0, 0, 0, 7, //
//!     0, 0, 0, 20, 1, 0, 0, 3, 0, 8, 0, 4, 0, 12, 0, 4, 0, 1, 0, 4, //
//!     1, 0, 0, 16, 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 5, 220,
//! ];
//! let mut session = Session::default();
//! let mut octets = Vec::new();
//! let summary = session.decode(
//!     "192.0.2.1:2055".parse()?,
//!     Timestamp::now(),
//!     &datagram,
//!     &mut |flow: &FlowRecord| octets.push((flow.src_addr(), flow.octets())),
//! );
//! assert_eq!((summary.flows, summary.templates, summary.errors), (1, 1, 0));
//! assert_eq!(octets, [(Some("10.0.0.1".parse()?), Some(1500))]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use flowwire_record::codec::{
    DecodeError, Decoder, KeyPolicy, OptionsRecord, Sink, Summary, TemplateAction, TemplateEvent,
};
use flowwire_record::mapping::{self, TimeContext};
use flowwire_record::options::{ExporterOptions, OptionsLimits, OptionsValues};
use flowwire_record::pending::{PendingBuffer, PendingLimits, PendingStats};
use flowwire_record::registry::{FieldId, Registry, ie};
use flowwire_record::sequence::{SequenceEvent, SequenceTracker};
use flowwire_record::snapshot::{
    self, FieldSnapshot, Restored, SessionSnapshot, SnapshotError, TemplateSnapshot, TemplateSpecs,
};
use flowwire_record::template_store::{
    Insert, StoreLimits, StoreStats, TemplateCost, TemplateStore,
};
use flowwire_record::{ExtraField, FlowRecord, ProtocolKind, Timestamp};

use crate::error::Error;
use crate::repr::v5::V5Context;
use crate::template::{FieldSpec, Template};
use crate::wire::read_u16;
use crate::wire::v5_packet::{self, V5Packet};
use crate::wire::v5_record::V5Record;
use crate::wire::v9_data::{DataRecord, DataRecords};
use crate::wire::v9_flowset::{FlowSet, FlowSetKind};
use crate::wire::v9_packet::{self, V9Packet};
use crate::wire::v9_template::scope;

/// A session's configuration.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// How exporters are told apart.
    pub key_policy: KeyPolicy,
    /// Template store limits (exporters, domains, templates, bytes, lifetime).
    pub limits: StoreLimits,
    /// Keep data FlowSets that arrive before their template, within these limits, and decode
    /// them when it comes (the default). `None`: report them as [`Error::MissingTemplate`].
    pub pending: Option<PendingLimits>,
    /// What options data may make the session remember per (exporter, source id).
    pub options: OptionsLimits,
    /// The element registry field types are decoded by (add vendor types here).
    pub registry: Registry,
    /// v5 sequence trackers kept (one per exporter and engine); beyond it they start over.
    pub max_v5_sequences: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            key_policy: KeyPolicy::default(),
            limits: StoreLimits::default(),
            pending: Some(PendingLimits::default()),
            options: OptionsLimits::default(),
            registry: Registry::new(),
            max_v5_sequences: 10_000,
        }
    }
}

/// What a session knows of one (exporter, source id) besides its templates.
#[derive(Debug, Clone, Default)]
pub struct DomainState {
    /// Packet sequence tracking.
    pub sequence: SequenceTracker,
    /// What its options data announced: sampling, interface names.
    pub options: ExporterOptions,
}

/// A template as stored: shared, so that decoding a FlowSet does not hold the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate(pub Arc<Template>);

impl TemplateSpecs for StoredTemplate {
    fn to_snapshot(&self, received: Timestamp) -> TemplateSnapshot {
        let t = &self.0;
        TemplateSnapshot {
            id: t.id(),
            options: t.is_options(),
            scope_fields: u16::try_from(t.scope_fields().len()).unwrap_or(u16::MAX),
            fields: t
                .fields()
                .iter()
                .map(|f| FieldSnapshot {
                    id: f.field_type,
                    pen: None,
                    length: f.length,
                })
                .collect(),
            received,
        }
    }
}

/// The most fields a v9 template can have: its FlowSet (at most 65,535 octets, 4 of them the
/// FlowSet header, 4 the template header) holds 4 octets per field.
const MAX_V9_FIELDS: usize = (65_535 - 8) / 4;

/// Rebuilds a template from its snapshot with the checks of one received on the wire.
fn template_from_snapshot(
    t: &TemplateSnapshot,
    registry: &Registry,
) -> Result<StoredTemplate, String> {
    let scope = usize::from(t.scope_fields);
    if t.fields.len() > MAX_V9_FIELDS {
        return Err(format!(
            "{} fields, more than a FlowSet holds",
            t.fields.len()
        ));
    }
    if scope > t.fields.len() || (!t.options && scope > 0) {
        return Err(format!(
            "{scope} scope fields in a {} template of {} fields",
            if t.options { "options" } else { "data" },
            t.fields.len()
        ));
    }
    if t.fields.iter().any(|f| f.pen.is_some()) {
        return Err("an enterprise number, which NetFlow v9 does not have".into());
    }
    let fields = t
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i < scope {
                FieldSpec::scope(f.id, f.length)
            } else {
                FieldSpec::field(f.id, f.length, registry)
            }
        })
        .collect();
    match Template::new(t.id, fields, t.options, 0) {
        Ok(t) => Ok(StoredTemplate(Arc::new(t))),
        Err(Error::BadTemplate { problem, .. }) => Err(problem.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

impl TemplateCost for StoredTemplate {
    fn heap_bytes(&self) -> usize {
        // The Arc's allocation (two counters and the template), then the template's own.
        2 * size_of::<usize>() + size_of::<Template>() + self.0.heap_bytes()
    }
}

/// Counters of a session beyond the template store's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionStats {
    /// Datagrams decoded.
    pub datagrams: u64,
    /// Export messages decoded (a datagram may hold several).
    pub messages: u64,
    /// Flow records delivered.
    pub flow_records: u64,
    /// Options data records delivered (and learned from).
    pub options_records: u64,
    /// Data FlowSets whose template was unknown when they arrived.
    pub data_sets_without_template: u64,
    /// Errors reported.
    pub errors: u64,
    /// Sequence numbers lost, in all domains (v9: packets, v5: flows).
    pub sequence_lost: u64,
    /// Messages that arrived after a later one.
    pub sequence_reordered: u64,
    /// v9 messages whose header `count` differs from the records found (advisory: the
    /// records are decoded by the FlowSet lengths regardless). Messages with data held for a
    /// template are not checked.
    pub count_mismatches: u64,
    /// Sampler or interface announcements ignored because of [`SessionConfig::options`].
    pub options_over_limit: u64,
}

/// Where a data record came from and what the session knows of its exporter: what
/// [`Visitor::data`] gets, to convert the record.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'s> {
    /// The exporter's socket address.
    pub exporter: SocketAddr,
    /// The packet's source id.
    pub domain: u32,
    /// The packet's sequence number.
    pub sequence: u32,
    /// The header's export time and sysUptime.
    pub time: TimeContext,
    /// The registry field types were decoded by.
    pub registry: &'s Registry,
    state: Option<&'s DomainState>,
}

impl RecordContext<'_> {
    /// The state of the record's (exporter, source id): sampling, interface names, sequence.
    pub fn domain_state(&self) -> Option<&DomainState> {
        self.state
    }

    /// Fills `out` (cleared first; its `extra` keeps its capacity, so a template whose fields
    /// all have typed slots decodes without allocating) from a data record: the header
    /// context, the fields through the template's compiled
    /// [`RecordPlan`](flowwire_record::plan::RecordPlan) (what [`mapping::apply`] per field
    /// then [`mapping::finish`] give), then the sampling its exporter announced where the
    /// record carries none.
    #[inline]
    pub fn flow_record_into(&self, record: &DataRecord<'_, '_>, out: &mut FlowRecord) {
        out.clear_with_context(
            ProtocolKind::Netflow9,
            Some(self.exporter),
            Some(self.domain),
            Some(self.sequence),
            self.time.export_time,
        );
        match record.template().plan() {
            // The record was split by this template's lengths, so the plan cannot run short;
            // were it to, the fields decoded so far are kept.
            Some(plan) => {
                let _ = plan.decode(record.tail(), &self.time, out);
            }
            None => {
                for (spec, value) in record.fields() {
                    if !spec.scope {
                        mapping::apply(out, FieldId::iana(spec.field_type), value, &self.time);
                    }
                }
                mapping::finish(out);
            }
        }
        if let Some(state) = self.state {
            state.options.apply(out);
        }
    }

    /// Fills `out` (cleared first) from an options data record: scope fields (keyed by
    /// their scope type, named `System`, `Interface`, ...) and the other fields.
    pub fn options_record_into(&self, record: &DataRecord<'_, '_>, out: &mut OptionsRecord) {
        out.clear();
        out.kind = Some(ProtocolKind::Netflow9);
        out.exporter = Some(self.exporter);
        out.domain = Some(self.domain);
        out.template_id = record.template().id();
        for (spec, value) in record.fields() {
            let e = ExtraField::new(FieldId::iana(spec.field_type), value.to_owned_value());
            if spec.scope {
                // v9 scope types (system, interface, ...) are not element ids.
                out.scope.push(ExtraField {
                    name: Some(scope_name(spec.field_type).into()),
                    ..e
                });
            } else {
                out.fields.push(e);
            }
        }
    }
}

/// The name of a NetFlow v9 options scope type (RFC 3954 §6.1).
fn scope_name(scope_type: u16) -> &'static str {
    match scope_type {
        scope::SYSTEM => "System",
        scope::INTERFACE => "Interface",
        scope::LINE_CARD => "Line Card",
        scope::CACHE => "Cache",
        scope::TEMPLATE => "Template",
        _ => "scope",
    }
}

/// What [`Session::decode_records`] hands out: the zero-copy records, errors and template
/// events. Only [`Visitor::data`] must be written.
pub trait Visitor {
    /// A v9 data record, of a data or an options template (`record.template().is_options()`
    /// tells; the session has already learned from an options record).
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>);

    /// A v5 record, with its header's context ([`V5Context::flow_record_into`] converts it).
    fn v5(&mut self, ctx: &V5Context, record: &V5Record<&[u8]>) {
        let _ = (ctx, record);
    }

    /// A problem, with its offset in the datagram; decoding went on around it.
    fn error(&mut self, error: &Error) {
        let _ = error;
    }

    /// A template was learned, refreshed, replaced or refused.
    fn template(&mut self, event: &TemplateEvent) {
        let _ = event;
    }
}

#[derive(Debug, Clone, Copy)]
struct MessageCtx {
    exporter: SocketAddr,
    source_id: u32,
    sequence: u32,
    time: TimeContext,
}

type PendingKey = (SocketAddr, u32, u16);

/// The collector-side NetFlow v5/v9 session; see the module docs.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    store: TemplateStore<SocketAddr, StoredTemplate, DomainState>,
    pending: Option<PendingBuffer<PendingKey, (MessageCtx, usize)>>,
    v5_sequences: HashMap<(SocketAddr, u32), SequenceTracker>,
    stats: SessionStats,
    flow: FlowRecord,
    options: OptionsRecord,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionConfig::default())
    }
}

impl Session {
    /// A session with this configuration.
    pub fn new(config: SessionConfig) -> Self {
        Session {
            store: TemplateStore::new(config.limits),
            pending: config.pending.map(PendingBuffer::new),
            config,
            v5_sequences: HashMap::new(),
            stats: SessionStats::default(),
            flow: FlowRecord::default(),
            options: OptionsRecord::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }
    /// The session's own counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }
    /// The template store's counters (learned, replaced, refreshed, expired, evicted,
    /// rejected by a limit or as invalid).
    pub fn store_stats(&self) -> &StoreStats {
        self.store.stats()
    }
    /// The pending buffer's counters, if it is enabled.
    pub fn pending_stats(&self) -> Option<&PendingStats> {
        self.pending.as_ref().map(PendingBuffer::stats)
    }
    /// The template store, for inspection.
    pub fn store(&self) -> &TemplateStore<SocketAddr, StoredTemplate, DomainState> {
        &self.store
    }
    /// A template held for (exporter, source id, template id), without checking its lifetime.
    pub fn template(&self, exporter: SocketAddr, source_id: u32, id: u16) -> Option<&Template> {
        let key = self.config.key_policy.key(exporter);
        self.store
            .domain(&key, source_id)?
            .peek(id)
            .map(|t| t.0.as_ref())
    }
    /// The state of (exporter, source id): sequence, sampling, interface names.
    pub fn domain_state(&self, exporter: SocketAddr, source_id: u32) -> Option<&DomainState> {
        let key = self.config.key_policy.key(exporter);
        self.store.domain(&key, source_id).map(|d| &d.state)
    }
    /// The v5 sequence tracker of (exporter, engine type << 8 | engine id).
    pub fn v5_sequence(&self, exporter: SocketAddr, domain: u32) -> Option<&SequenceTracker> {
        self.v5_sequences
            .get(&(self.config.key_policy.key(exporter), domain))
    }
    /// The learned state (templates with the time each was last received, what options data
    /// announced) of every exporter and source id, to save and [`restore`](Self::restore)
    /// after a restart; see [`flowwire_record::snapshot`].
    pub fn snapshot(&self) -> SessionSnapshot {
        snapshot::snapshot_store(&self.store, ProtocolKind::Netflow9, |d| &d.options)
    }

    /// Replaces the session's learned state with a snapshot's, as of `now`: templates past
    /// their lifetime are left out, each template is checked as one received on the wire,
    /// and the session's limits apply (what they refuse is counted). On an error the session
    /// is left without templates or options state. Data waiting for a template, sequence
    /// tracking and counters are not part of a snapshot and are left as they are.
    pub fn restore(
        &mut self,
        snapshot: &SessionSnapshot,
        now: Timestamp,
    ) -> Result<Restored, SnapshotError> {
        let registry = &self.config.registry;
        snapshot::restore_store(
            &mut self.store,
            snapshot,
            ProtocolKind::Netflow9,
            &self.config.options,
            now,
            |t| template_from_snapshot(t, registry),
            |state, options| state.options = options,
        )
    }

    /// Forgets an exporter: its templates and the state of all its source ids. Returns whether
    /// it was known.
    pub fn remove_exporter(&mut self, exporter: SocketAddr) -> bool {
        let key = self.config.key_policy.key(exporter);
        self.store.remove_exporter(&key)
    }

    /// Decodes one UDP payload from `exporter` received at `now` (template lifetimes and the
    /// pending buffer follow it: pass the capture time when replaying a capture), handing
    /// the zero-copy records to `visitor`. Handles v5 and v9, and several export messages
    /// concatenated in one payload.
    pub fn decode_records<V: Visitor + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        visitor: &mut V,
    ) -> Summary {
        let mut summary = Summary::default();
        self.stats.datagrams += 1;
        let mut base = 0usize;
        // Each message is at least a header long, so this loop ends.
        while let Some(rest) = datagram.get(base..) {
            if rest.is_empty() || (base > 0 && rest.iter().all(|&b| b == 0)) {
                break;
            }
            summary.messages += 1;
            self.stats.messages += 1;
            let mut run = Run {
                visitor: &mut *visitor,
                summary: &mut summary,
            };
            let consumed = match read_u16(rest, 0) {
                v5_packet::VERSION => self.decode_v5(exporter, rest, base, &mut run),
                v9_packet::VERSION => self.decode_v9(exporter, now, rest, base, &mut run),
                version if rest.len() >= 2 => {
                    run.error(Error::BadVersion {
                        offset: base,
                        version,
                    });
                    None
                }
                _ => {
                    run.error(crate::error::truncated(base, 2, rest.len(), "version"));
                    None
                }
            };
            match consumed {
                Some(n) if n > 0 => base += n,
                _ => break,
            }
        }
        self.stats.errors += summary.errors as u64;
        summary
    }

    /// Decodes a v5 message at `base`; returns the bytes it spans when another message may
    /// follow.
    fn decode_v5<V: Visitor + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        bytes: &[u8],
        base: usize,
        run: &mut Run<'_, V>,
    ) -> Option<usize> {
        let p = match V5Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => {
                run.error(e.shifted(base));
                return None;
            }
        };
        let ctx = V5Context::new(&p, Some(exporter));
        let key = (self.config.key_policy.key(exporter), ctx.domain);
        if !self.v5_sequences.contains_key(&key)
            && self.v5_sequences.len() >= self.config.max_v5_sequences
        {
            self.v5_sequences.clear();
        }
        let tracker = self.v5_sequences.entry(key).or_default();
        note_sequence(
            &mut self.stats,
            tracker.observe(p.flow_sequence(), u32::from(p.count())),
            p.count().into(),
        );
        for r in p.records() {
            match r {
                Ok(r) => {
                    run.visitor.v5(&ctx, &r);
                    run.summary.flows += 1;
                    self.stats.flow_records += 1;
                }
                Err(e) => run.error(e.shifted(base)),
            }
        }
        let len = p.message_len();
        let rest = bytes.get(len..).unwrap_or_default();
        (rest.len() >= v5_packet::HEADER_LEN && read_u16(rest, 0) == v5_packet::VERSION)
            .then_some(len)
    }

    /// Decodes a v9 message at `base`; returns the bytes it spans when another message
    /// follows.
    fn decode_v9<V: Visitor + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        bytes: &[u8],
        base: usize,
        run: &mut Run<'_, V>,
    ) -> Option<usize> {
        let p = match V9Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => {
                run.error(e.shifted(base));
                return None;
            }
        };
        let key = self.config.key_policy.key(exporter);
        let ctx = MessageCtx {
            exporter,
            source_id: p.source_id(),
            sequence: p.sequence(),
            time: TimeContext {
                export_time: Some(Timestamp::from_unix_secs(i64::from(p.unix_secs()))),
                sys_uptime_ms: Some(p.sys_uptime()),
                system_init_time: None,
            },
        };
        if let Some(d) = self.store.domain_mut(&key, ctx.source_id) {
            let ev = d.state.sequence.observe(ctx.sequence, 1);
            note_sequence(&mut self.stats, ev, 1);
        }
        let mut sets = p.flowsets();
        // Records found, for the advisory count check; `None` once data went to pending.
        let mut seen = Some(0usize);
        loop {
            // Another message concatenated after this one: FlowSet id 9 is reserved, and is
            // the version number of a v9 header.
            let rest = sets.remaining();
            if rest.len() >= 2 && read_u16(rest, 0) == v9_packet::VERSION {
                self.check_count(seen, p.count());
                return Some(sets.position());
            }
            let Some(set) = sets.next() else { break };
            match set {
                Ok(set) => {
                    let n = self.flowset(key, now, &ctx, &set, base, run);
                    seen = seen.zip(n).map(|(a, b)| a + b);
                }
                Err(e) => run.error(e.shifted(base)),
            }
        }
        self.check_count(seen, p.count());
        None
    }

    fn check_count(&mut self, seen: Option<usize>, count: u16) {
        if seen.is_some_and(|n| n != usize::from(count)) {
            self.stats.count_mismatches += 1;
        }
    }

    /// Handles one FlowSet; returns the records it held, or `None` when its data went to the
    /// pending buffer (or was dropped).
    fn flowset<V: Visitor + ?Sized>(
        &mut self,
        key: SocketAddr,
        now: Timestamp,
        ctx: &MessageCtx,
        set: &FlowSet<'_>,
        base: usize,
        run: &mut Run<'_, V>,
    ) -> Option<usize> {
        let sid = ctx.source_id;
        match set.kind() {
            FlowSetKind::Template | FlowSetKind::OptionsTemplate => {
                let options = set.kind() == FlowSetKind::OptionsTemplate;
                let registry = &self.config.registry;
                let parsed: Vec<Result<Template, Error>> = if options {
                    set.options_templates()
                        .map(|r| r.and_then(|r| Template::from_options_record(&r, registry)))
                        .collect()
                } else {
                    set.templates()
                        .map(|r| r.and_then(|r| Template::from_record(&r, registry)))
                        .collect()
                };
                let seen = parsed.len();
                for t in parsed {
                    match t {
                        Ok(t) => {
                            let id = t.id();
                            let outcome =
                                self.store
                                    .insert(key, sid, id, StoredTemplate(Arc::new(t)), now);
                            if outcome.is_stored() {
                                run.summary.templates += 1;
                            }
                            run.visitor.template(&TemplateEvent {
                                protocol: ProtocolKind::Netflow9,
                                exporter: ctx.exporter,
                                domain: sid,
                                template_id: id,
                                options,
                                action: outcome.into(),
                            });
                            if matches!(outcome, Insert::Learned | Insert::Replaced) {
                                self.replay(key, now, sid, id, run);
                            }
                        }
                        Err(e) => {
                            if let Error::BadTemplate { template_id, .. } = e {
                                self.store.note_invalid();
                                run.visitor.template(&TemplateEvent {
                                    protocol: ProtocolKind::Netflow9,
                                    exporter: ctx.exporter,
                                    domain: sid,
                                    template_id,
                                    options,
                                    action: TemplateAction::Invalid,
                                });
                            }
                            run.error(e.shifted(base));
                        }
                    }
                }
                Some(seen)
            }
            FlowSetKind::Data(id) => {
                let template = self.store.get(&key, sid, id, now).map(|t| t.0.clone());
                let Some(template) = template else {
                    self.stats.data_sets_without_template += 1;
                    run.summary.missing_templates += 1;
                    let kept = match self.pending.as_mut() {
                        Some(p) => p.push(
                            (key, sid, id),
                            (*ctx, base + set.body_offset()),
                            set.body(),
                            now,
                        ),
                        None => false,
                    };
                    if !kept {
                        run.error(Error::MissingTemplate {
                            offset: base + set.offset(),
                            template_id: id,
                        });
                    }
                    return None;
                };
                Some(self.data(
                    key,
                    ctx,
                    &template,
                    set.body(),
                    base + set.body_offset(),
                    run,
                ))
            }
            FlowSetKind::Reserved(set_id) => {
                run.error(Error::ReservedSetId {
                    offset: base + set.offset(),
                    set_id,
                });
                Some(0)
            }
        }
    }

    /// Decodes the data held for a template that just came.
    fn replay<V: Visitor + ?Sized>(
        &mut self,
        key: SocketAddr,
        now: Timestamp,
        sid: u32,
        id: u16,
        run: &mut Run<'_, V>,
    ) {
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        p.expire(now);
        let waiting = p.take(&(key, sid, id));
        let Some(template) = self
            .store
            .domain(&key, sid)
            .and_then(|d| d.peek(id))
            .map(|t| t.0.clone())
        else {
            return;
        };
        for ((ctx, offset), body) in waiting {
            self.data(key, &ctx, &template, &body, offset, run);
        }
    }

    /// Decodes a data FlowSet body (at absolute `offset`) of `template`; returns the records
    /// decoded.
    fn data<V: Visitor + ?Sized>(
        &mut self,
        key: SocketAddr,
        ctx: &MessageCtx,
        template: &Template,
        body: &[u8],
        offset: usize,
        run: &mut Run<'_, V>,
    ) -> usize {
        if template.is_options() {
            for r in DataRecords::new(body, offset, template).flatten() {
                self.learn(key, ctx.source_id, &r);
            }
        }
        // The domain's state is looked up once per set, not per record.
        let state = self.store.domain(&key, ctx.source_id).map(|d| &d.state);
        let rctx = RecordContext {
            exporter: ctx.exporter,
            domain: ctx.source_id,
            sequence: ctx.sequence,
            time: ctx.time,
            registry: &self.config.registry,
            state,
        };
        let mut n = 0;
        for r in DataRecords::new(body, offset, template) {
            match r {
                Ok(r) => {
                    n += 1;
                    run.visitor.data(&rctx, &r);
                }
                Err(e) => run.error(e),
            }
        }
        if template.is_options() {
            run.summary.options += n;
            self.stats.options_records += n as u64;
        } else {
            run.summary.flows += n;
            self.stats.flow_records += n as u64;
        }
        n
    }

    /// Learns what an options record says (sampling, interface names).
    fn learn(&mut self, key: SocketAddr, source_id: u32, r: &DataRecord<'_, '_>) {
        let mut values = OptionsValues::default();
        for (spec, v) in r.fields() {
            let field = match (spec.scope, spec.field_type) {
                // The interface scope names the interface the record describes.
                (true, scope::INTERFACE) => FieldId::iana(ie::INGRESS_INTERFACE),
                (true, _) => continue,
                (false, t) => FieldId::iana(t),
            };
            values.observe(field, &v);
        }
        let limits = self.config.options;
        if let Some(d) = self.store.domain_mut(&key, source_id) {
            let learned = d.state.options.learn(&values, &limits);
            if learned.over_limit {
                self.stats.options_over_limit += 1;
            }
        }
    }
}

/// What one decode call hands out and adds up.
struct Run<'r, V: ?Sized> {
    visitor: &'r mut V,
    summary: &'r mut Summary,
}

impl<V: Visitor + ?Sized> Run<'_, V> {
    fn error(&mut self, e: Error) {
        self.summary.errors += 1;
        self.visitor.error(&e);
    }
}

impl Decoder for Session {
    /// NetFlow v5 and v9: a 16-bit version 5 or 9.
    fn accepts(datagram: &[u8]) -> bool {
        matches!(datagram, [0, 5 | 9, ..])
    }

    fn decode<S: Sink + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        sink: &mut S,
    ) -> Summary {
        // The scratch records leave the session for the call, so the visitor can fill them
        // while the session decodes; taking them allocates nothing.
        let mut adapter = ToSink {
            sink,
            exporter,
            protocol: match datagram {
                [0, 5, ..] => ProtocolKind::Netflow5,
                _ => ProtocolKind::Netflow9,
            },
            flow: core::mem::take(&mut self.flow),
            options: core::mem::take(&mut self.options),
        };
        let summary = self.decode_records(exporter, now, datagram, &mut adapter);
        self.flow = adapter.flow;
        self.options = adapter.options;
        summary
    }

    fn expire(&mut self, now: Timestamp) -> usize {
        if let Some(p) = self.pending.as_mut() {
            p.expire(now);
        }
        self.store.expire(now)
    }
}

/// The [`Visitor`] behind [`Decoder::decode`]: converts records and hands them to a sink.
struct ToSink<'s, S: ?Sized> {
    sink: &'s mut S,
    exporter: SocketAddr,
    protocol: ProtocolKind,
    flow: FlowRecord,
    options: OptionsRecord,
}

impl<S: Sink + ?Sized> Visitor for ToSink<'_, S> {
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        if record.template().is_options() {
            ctx.options_record_into(record, &mut self.options);
            self.sink.options(&self.options);
        } else {
            ctx.flow_record_into(record, &mut self.flow);
            self.sink.flow(&self.flow);
        }
    }

    fn v5(&mut self, ctx: &V5Context, record: &V5Record<&[u8]>) {
        ctx.flow_record_into(record, &mut self.flow);
        self.sink.flow(&self.flow);
    }

    fn error(&mut self, error: &Error) {
        self.sink.error(&DecodeError {
            protocol: Some(self.protocol),
            exporter: self.exporter,
            error,
        });
    }

    fn template(&mut self, event: &TemplateEvent) {
        self.sink.template(event);
    }
}

/// Adds a sequence event to the session-wide counters (mirroring what
/// [`SequenceTracker::observe`] does to its own: a late message was counted lost, by its
/// advance, when the gap opened).
fn note_sequence(stats: &mut SessionStats, ev: SequenceEvent, advance: u64) {
    match ev {
        SequenceEvent::Gap(n) => stats.sequence_lost += u64::from(n),
        SequenceEvent::Late => {
            stats.sequence_reordered += 1;
            stats.sequence_lost = stats.sequence_lost.saturating_sub(advance.max(1));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TemplateProblem;

    #[test]
    fn a_bad_template_is_reported_as_an_invalid_template_event() {
        // Template FlowSet with template id 255 (reserved).
        let d = [
            0, 9, 0, 1, 0, 0, 0, 1, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 1, 0, 0, 0, 0, //
            0, 0, 0, 12, 0, 255, 0, 1, 0, 8, 0, 4,
        ];
        struct Events(Vec<TemplateAction>, Vec<Error>);
        impl Visitor for Events {
            fn data(&mut self, _: &RecordContext<'_>, _: &DataRecord<'_, '_>) {}
            fn template(&mut self, e: &TemplateEvent) {
                self.0.push(e.action);
            }
            fn error(&mut self, e: &Error) {
                self.1.push(e.clone());
            }
        }
        let mut ev = Events(Vec::new(), Vec::new());
        let mut s = Session::default();
        let summary = s.decode_records(
            "192.0.2.1:2055".parse().unwrap(),
            Timestamp::from_unix_secs(1_700_000_000),
            &d,
            &mut ev,
        );
        assert_eq!(ev.0, [TemplateAction::Invalid]);
        assert!(matches!(
            ev.1[..],
            [Error::BadTemplate {
                offset: 24,
                template_id: 255,
                problem: TemplateProblem::ReservedId
            }]
        ));
        assert_eq!(summary.errors, 1);
        assert_eq!(s.store_stats().rejected_invalid, 1);
    }
}
