//! Collector-side session state: templates per (exporter, source id), options data
//! (sampling, interface names), sequence tracking, and decode into [`FlowRecord`]s.
//!
//! One [`Session`] decodes NetFlow v5 and v9 datagrams from any number of exporters:
//!
//! - templates live in the shared bounded [`TemplateStore`], keyed by exporter (socket
//!   address, or IP address only: [`ExporterKeyPolicy`]), source id and template id, with its
//!   limits, lifetime and counters ([`Session::store_stats`]);
//! - templates that fail validation (no fields, zero-length records, id < 256) are rejected
//!   and counted, never stored;
//! - data that arrives before its template is kept in an optional bounded
//!   [`PendingBuffer`] and decoded when the template comes;
//! - options data sets the exporter's sampling interval and algorithm (field types 34/35 and
//!   48-50, per sampler id where one is sent) and interface names (82);
//! - sequence numbers are tracked per (exporter, source id) for v9 (which counts packets) and
//!   per (exporter, engine) for v5 (which counts flows).
//!
//! Decoding calls back with a reused [`FlowRecord`]: for templates whose fields all have a
//! typed slot in `FlowRecord`, steady-state decoding allocates nothing.

use std::collections::HashMap;
use std::net::SocketAddr;

use flowwire_record::mapping::{self, TimeContext};
use flowwire_record::pending::{PendingBuffer, PendingLimits, PendingStats};
use flowwire_record::registry::{FieldId, Registry};
use flowwire_record::sampling::SamplingElements;
use flowwire_record::sequence::{SequenceEvent, SequenceTracker};
use flowwire_record::template_store::{Insert, StoreLimits, StoreStats, TemplateStore};
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

use crate::error::{Error, Result};
use crate::repr::v5::V5Context;
use crate::template::Template;
use crate::wire::read_u16;
use crate::wire::v5_packet::{self, V5Packet};
use crate::wire::v9_data::DataRecord;
use crate::wire::v9_flowset::{FlowSet, FlowSetKind};
use crate::wire::v9_packet::{self, V9Packet};
use crate::wire::v9_template::scope;

/// Whether the UDP source port is part of an exporter's identity.
///
/// Peers disagree: goflow2, Wireshark and libfixbuf key templates by address and port;
/// pmacct, nfdump and akvorado by address only. With the port, an exporter that restarts on a
/// new source port starts with no templates; without it, two exporters behind one NAT
/// address share (and clobber) template ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExporterKeyPolicy {
    /// Key by IP address and UDP source port (the default).
    #[default]
    SocketAddr,
    /// Key by IP address only (the port is stored as 0).
    IpAddr,
}

impl ExporterKeyPolicy {
    /// The store key of an exporter under this policy.
    pub fn key(self, exporter: SocketAddr) -> SocketAddr {
        match self {
            ExporterKeyPolicy::SocketAddr => exporter,
            ExporterKeyPolicy::IpAddr => SocketAddr::new(exporter.ip(), 0),
        }
    }
}

/// A session's configuration.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Template store limits (exporters, domains, templates, bytes, lifetime).
    pub limits: StoreLimits,
    /// How exporters are told apart.
    pub key_policy: ExporterKeyPolicy,
    /// Buffer data FlowSets that arrive before their template (`None`: report them as
    /// [`Error::MissingTemplate`] and drop them).
    pub pending: Option<PendingLimits>,
    /// The element registry field types are decoded by (add vendor types here).
    pub registry: Registry,
    /// Sampler ids remembered per (exporter, source id).
    pub max_samplers: usize,
    /// Interface names remembered per (exporter, source id).
    pub max_interface_names: usize,
    /// v5 sequence trackers kept (one per exporter and engine); beyond it they start over.
    pub max_v5_sequences: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            limits: StoreLimits::default(),
            key_policy: ExporterKeyPolicy::default(),
            pending: Some(PendingLimits::default()),
            registry: Registry::new(),
            max_samplers: 256,
            max_interface_names: 4096,
            max_v5_sequences: 10_000,
        }
    }
}

/// A sampling configuration learned from options data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sampling {
    /// 1 in `interval` packets.
    pub interval: u32,
    /// Sampler mode / algorithm (1 deterministic, 2 random), if sent.
    pub algorithm: Option<u8>,
}

/// Per (exporter, source id) state besides templates.
#[derive(Debug, Clone, Default)]
pub struct DomainState {
    /// Packet sequence tracking.
    pub sequence: SequenceTracker,
    /// Sampling that applies to all records (options data without a sampler id).
    pub sampling: Option<Sampling>,
    /// Sampling per sampler id (options data with field 48), applied to records that carry
    /// that sampler id.
    pub samplers: HashMap<u64, Sampling>,
    /// Interface names by ifIndex (options data with field 82).
    pub interface_names: HashMap<u32, String>,
}

/// Counters of a session beyond the template store's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionStats {
    /// Datagrams handed to [`Session::decode`].
    pub datagrams: u64,
    /// Export messages decoded (a datagram may hold several).
    pub messages: u64,
    /// Flow records delivered.
    pub flow_records: u64,
    /// Options data records applied to session state.
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
}

/// What one call to [`Session::decode`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecodeReport {
    /// Export messages found in the datagram.
    pub messages: usize,
    /// Flow records delivered.
    pub records: usize,
    /// Options data records applied.
    pub options_records: usize,
    /// Templates and options templates stored (learned, replaced or refreshed).
    pub templates: usize,
    /// Problems found, with absolute offsets into the datagram (for replayed pending data:
    /// into the datagram it came in). Decoding went on around each.
    pub errors: Vec<Error>,
}

type PendingKey = (SocketAddr, u32, u16);

/// Where an options data record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionsContext {
    /// The exporter's socket address.
    pub exporter: SocketAddr,
    /// The packet's source id.
    pub source_id: u32,
}

/// What [`Session::decode_with`] hands out. Any `FnMut(&FlowRecord)` is a visitor that
/// takes the flows and ignores options data.
pub trait Visitor {
    /// A flow record, valid for the duration of the call.
    fn flow(&mut self, record: &FlowRecord);
    /// An options data record (its template's scope fields come first; see
    /// [`Template::scope_fields`](crate::Template::scope_fields)), seen before the session
    /// applies what it says.
    fn options(&mut self, ctx: &OptionsContext, record: &DataRecord<'_, '_>) {
        let _ = (ctx, record);
    }
}

impl<F: FnMut(&FlowRecord)> Visitor for F {
    fn flow(&mut self, record: &FlowRecord) {
        self(record)
    }
}

#[derive(Debug, Clone, Copy)]
struct MessageCtx {
    exporter: SocketAddr,
    source_id: u32,
    sequence: u32,
    time: TimeContext,
}

/// The collector-side NetFlow v5/v9 session; see the module docs.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    store: TemplateStore<SocketAddr, Template, DomainState>,
    pending: Option<PendingBuffer<PendingKey, (MessageCtx, usize)>>,
    v5_sequences: HashMap<(SocketAddr, u32), SequenceTracker>,
    stats: SessionStats,
    scratch: FlowRecord,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionConfig::default())
    }
}

/// Options data values of one record, applied to the domain after its FlowSet.
#[derive(Debug, Default)]
struct OptionsUpdate {
    sampler_id: Option<u64>,
    interval: Option<u32>,
    algorithm: Option<u8>,
    if_index: Option<u32>,
    if_name: Option<String>,
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
            scratch: FlowRecord::default(),
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
    pub fn store(&self) -> &TemplateStore<SocketAddr, Template, DomainState> {
        &self.store
    }
    /// A template held for (exporter, source id, template id), without checking its lifetime.
    pub fn template(&self, exporter: SocketAddr, source_id: u32, id: u16) -> Option<&Template> {
        let key = self.config.key_policy.key(exporter);
        self.store.domain(&key, source_id)?.peek(id)
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
    /// Drops templates past their lifetime (the store also checks on use).
    pub fn expire(&mut self, now: Timestamp) -> usize {
        if let Some(p) = self.pending.as_mut() {
            p.expire(now);
        }
        self.store.expire(now)
    }

    /// Decodes one UDP payload from `exporter` received at `now` (used for template
    /// lifetimes and the pending buffer; pass the capture time when replaying a capture),
    /// calling `on_record` with each flow record. Handles v5 and v9, and several export
    /// messages concatenated in one payload.
    pub fn decode(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        mut on_record: impl FnMut(&FlowRecord),
    ) -> DecodeReport {
        self.decode_with(exporter, now, datagram, &mut on_record)
    }

    /// Like [`Session::decode`], with a [`Visitor`] that also sees options data records
    /// (sampling, interface names, exporter statistics) as they are applied.
    pub fn decode_with(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        visitor: &mut impl Visitor,
    ) -> DecodeReport {
        let mut report = DecodeReport::default();
        self.stats.datagrams += 1;
        let mut base = 0usize;
        // Each message is at least a header long, so this loop ends.
        while let Some(rest) = datagram.get(base..) {
            if rest.is_empty() || (base > 0 && rest.iter().all(|&b| b == 0)) {
                break;
            }
            report.messages += 1;
            self.stats.messages += 1;
            let consumed = match read_u16(rest, 0) {
                v5_packet::VERSION => self.decode_v5(exporter, rest, base, &mut report, visitor),
                v9_packet::VERSION => {
                    self.decode_v9(exporter, now, rest, base, &mut report, visitor)
                }
                version if rest.len() >= 2 => {
                    report.errors.push(Error::BadVersion {
                        offset: base,
                        version,
                    });
                    None
                }
                _ => {
                    report
                        .errors
                        .push(crate::error::truncated(base, 2, rest.len(), "version"));
                    None
                }
            };
            match consumed {
                Some(n) if n > 0 => base += n,
                _ => break,
            }
        }
        self.stats.errors += report.errors.len() as u64;
        report
    }

    /// Decodes a v5 message at `base`; returns the bytes it spans when another message may
    /// follow.
    fn decode_v5(
        &mut self,
        exporter: SocketAddr,
        bytes: &[u8],
        base: usize,
        report: &mut DecodeReport,
        visitor: &mut impl Visitor,
    ) -> Option<usize> {
        let p = match V5Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => {
                report.errors.push(shift(e, base));
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
                    ctx.record_into(&r, &mut self.scratch);
                    visitor.flow(&self.scratch);
                    report.records += 1;
                    self.stats.flow_records += 1;
                }
                Err(e) => report.errors.push(shift(e, base)),
            }
        }
        let len = p.message_len();
        let rest = bytes.get(len..).unwrap_or_default();
        (rest.len() >= v5_packet::HEADER_LEN && read_u16(rest, 0) == v5_packet::VERSION)
            .then_some(len)
    }

    /// Decodes a v9 message at `base`; returns the bytes it spans when another message
    /// follows.
    fn decode_v9(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        bytes: &[u8],
        base: usize,
        report: &mut DecodeReport,
        visitor: &mut impl Visitor,
    ) -> Option<usize> {
        let p = match V9Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => {
                report.errors.push(shift(e, base));
                return None;
            }
        };
        let key = self.config.key_policy.key(exporter);
        let ctx = MessageCtx {
            exporter,
            source_id: p.source_id(),
            sequence: p.sequence(),
            time: TimeContext {
                export_time: Some(Timestamp::from_unix_secs(p.unix_secs())),
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
                    let n = self.flowset(key, now, &ctx, &set, base, report, visitor);
                    seen = seen.zip(n).map(|(a, b)| a + b);
                }
                Err(e) => report.errors.push(shift(e, base)),
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

    #[allow(clippy::too_many_arguments)]
    fn flowset(
        &mut self,
        key: SocketAddr,
        now: Timestamp,
        ctx: &MessageCtx,
        set: &FlowSet<'_>,
        base: usize,
        report: &mut DecodeReport,
        visitor: &mut impl Visitor,
    ) -> Option<usize> {
        let sid = ctx.source_id;
        match set.kind() {
            FlowSetKind::Template | FlowSetKind::OptionsTemplate => {
                let options = set.kind() == FlowSetKind::OptionsTemplate;
                let parsed: Vec<Result<Template>> = if options {
                    set.options_templates()
                        .map(|r| {
                            r.and_then(|r| Template::from_options_record(&r, &self.config.registry))
                        })
                        .collect()
                } else {
                    set.templates()
                        .map(|r| r.and_then(|r| Template::from_record(&r, &self.config.registry)))
                        .collect()
                };
                let seen = parsed.len();
                for t in parsed {
                    match t {
                        Ok(t) => {
                            let id = t.id();
                            let outcome = self.store.insert(key, sid, id, t, now);
                            if outcome.is_stored() {
                                report.templates += 1;
                            }
                            if matches!(outcome, Insert::Learned | Insert::Replaced) {
                                self.replay(key, now, sid, id, report, visitor);
                            }
                        }
                        Err(e) => {
                            if matches!(
                                e,
                                Error::BadTemplateId { .. }
                                    | Error::EmptyTemplate { .. }
                                    | Error::ZeroLengthTemplate { .. }
                                    | Error::BadOptionsLength { .. }
                            ) {
                                self.store.note_invalid();
                            }
                            report.errors.push(shift(e, base));
                        }
                    }
                }
                Some(seen)
            }
            FlowSetKind::Data(id) => {
                if self.store.get(&key, sid, id, now).is_none() {
                    self.stats.data_sets_without_template += 1;
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
                        report.errors.push(Error::MissingTemplate {
                            offset: base + set.offset(),
                            template_id: id,
                        });
                    }
                    return None;
                }
                Some(self.data(
                    key,
                    ctx,
                    set.body(),
                    base + set.body_offset(),
                    id,
                    report,
                    visitor,
                ))
            }
            FlowSetKind::Reserved(set_id) => {
                report.errors.push(Error::ReservedSetId {
                    offset: base + set.offset(),
                    set_id,
                });
                Some(0)
            }
        }
    }

    fn replay(
        &mut self,
        key: SocketAddr,
        now: Timestamp,
        sid: u32,
        id: u16,
        report: &mut DecodeReport,
        visitor: &mut impl Visitor,
    ) {
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        p.expire(now);
        for ((ctx, offset), body) in p.take(&(key, sid, id)) {
            let _ = self.data(key, &ctx, &body, offset, id, report, visitor);
        }
    }

    /// Decodes a data FlowSet body (at absolute `offset`) whose template is held; returns
    /// the records decoded.
    #[allow(clippy::too_many_arguments)]
    fn data(
        &mut self,
        key: SocketAddr,
        ctx: &MessageCtx,
        body: &[u8],
        offset: usize,
        id: u16,
        report: &mut DecodeReport,
        visitor: &mut impl Visitor,
    ) -> usize {
        let Some(domain) = self.store.domain(&key, ctx.source_id) else {
            return 0;
        };
        let Some(template) = domain.peek(id) else {
            return 0;
        };
        let mut n = 0;
        let records = crate::wire::v9_data::DataRecords::new(body, offset, template);
        if template.is_options() {
            let mut updates = Vec::new();
            let octx = OptionsContext {
                exporter: ctx.exporter,
                source_id: ctx.source_id,
            };
            for r in records {
                match r {
                    Ok(r) => {
                        visitor.options(&octx, &r);
                        updates.push(options_update(&r));
                    }
                    Err(e) => report.errors.push(e),
                }
            }
            n = updates.len();
            report.options_records += n;
            self.stats.options_records += n as u64;
            let (max_samplers, max_names) =
                (self.config.max_samplers, self.config.max_interface_names);
            if let Some(d) = self.store.domain_mut(&key, ctx.source_id) {
                for u in updates {
                    apply_options(&mut d.state, u, max_samplers, max_names);
                }
            }
            return n;
        }
        for r in records {
            match r {
                Ok(r) => {
                    flow_record_into(&r, ctx, &domain.state, &mut self.scratch);
                    visitor.flow(&self.scratch);
                    n += 1;
                    report.records += 1;
                    self.stats.flow_records += 1;
                }
                Err(e) => report.errors.push(e),
            }
        }
        n
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

/// Moves an error's offset by `base` (the message's offset in its datagram).
fn shift(e: Error, base: usize) -> Error {
    if base == 0 {
        return e;
    }
    match e {
        Error::Truncated {
            offset,
            needed,
            available,
            what,
        } => Error::Truncated {
            offset: offset + base,
            needed,
            available,
            what,
        },
        Error::BadVersion { offset, version } => Error::BadVersion {
            offset: offset + base,
            version,
        },
        Error::CountMismatch {
            offset,
            count,
            present,
        } => Error::CountMismatch {
            offset: offset + base,
            count,
            present,
        },
        Error::BadSetLength {
            offset,
            set_id,
            length,
            available,
        } => Error::BadSetLength {
            offset: offset + base,
            set_id,
            length,
            available,
        },
        Error::ReservedSetId { offset, set_id } => Error::ReservedSetId {
            offset: offset + base,
            set_id,
        },
        Error::BadTemplateId {
            offset,
            template_id,
        } => Error::BadTemplateId {
            offset: offset + base,
            template_id,
        },
        Error::EmptyTemplate {
            offset,
            template_id,
        } => Error::EmptyTemplate {
            offset: offset + base,
            template_id,
        },
        Error::ZeroLengthTemplate {
            offset,
            template_id,
        } => Error::ZeroLengthTemplate {
            offset: offset + base,
            template_id,
        },
        Error::BadOptionsLength {
            offset,
            template_id,
            what,
            length,
        } => Error::BadOptionsLength {
            offset: offset + base,
            template_id,
            what,
            length,
        },
        Error::MissingTemplate {
            offset,
            template_id,
        } => Error::MissingTemplate {
            offset: offset + base,
            template_id,
        },
        Error::BadVariableLength {
            offset,
            field_type,
            length,
        } => Error::BadVariableLength {
            offset: offset + base,
            field_type,
            length,
        },
        other => other,
    }
}

fn options_update(r: &DataRecord<'_, '_>) -> OptionsUpdate {
    let mut u = OptionsUpdate::default();
    let mut sampling = SamplingElements::default();
    for (spec, v) in r.fields() {
        if spec.scope {
            if spec.field_type == scope::INTERFACE {
                u.if_index = v.as_u64().and_then(|x| u32::try_from(x).ok());
            }
            continue;
        }
        if sampling.observe(FieldId::iana(spec.field_type), &v) {
            continue;
        }
        match spec.field_type {
            10 if u.if_index.is_none() => {
                u.if_index = v.as_u64().and_then(|x| u32::try_from(x).ok())
            }
            82 => {
                u.if_name = v
                    .as_bytes()
                    .map(|b| String::from_utf8_lossy(b).trim_end_matches('\0').to_owned())
            }
            _ => {}
        }
    }
    u.interval = sampling.interval();
    u.algorithm = sampling.algorithm;
    u.sampler_id = sampling.sampler_id;
    u
}

fn apply_options(s: &mut DomainState, u: OptionsUpdate, max_samplers: usize, max_names: usize) {
    if let Some(interval) = u.interval.filter(|&i| i > 0) {
        let sampling = Sampling {
            interval,
            algorithm: u.algorithm,
        };
        match u.sampler_id {
            Some(id) => {
                if s.samplers.len() < max_samplers || s.samplers.contains_key(&id) {
                    s.samplers.insert(id, sampling);
                }
                // The most recent sampler is also the default for records without an id.
                s.sampling = Some(sampling);
            }
            None => s.sampling = Some(sampling),
        }
    }
    if let (Some(i), Some(name)) = (u.if_index, u.if_name) {
        let room = s.interface_names.len() < max_names || s.interface_names.contains_key(&i);
        if room {
            s.interface_names.insert(i, name);
        }
    }
}

/// Fills `out` from a v9 data record: header context, the fields through the template's
/// compiled [`RecordPlan`](flowwire_record::plan::RecordPlan) (the same result as
/// [`mapping::apply`] per field then [`mapping::finish`]: NSEL initiator/responder and total
/// counters into octets and packets), then the domain's sampling where the record has none
/// of its own (by its sampler id 48 / selector id 302 when the exporter announced several).
fn flow_record_into(
    r: &DataRecord<'_, '_>,
    ctx: &MessageCtx,
    state: &DomainState,
    out: &mut FlowRecord,
) {
    out.clear();
    out.kind = Some(ProtocolKind::Netflow9);
    out.exporter = Some(ctx.exporter);
    out.domain = Some(ctx.source_id);
    out.sequence = Some(ctx.sequence);
    out.export_time = ctx.time.export_time;
    match r.template().plan() {
        // The compiled plan: no per-field lookups, nothing allocated for typed fields.
        Some(plan) => {
            // The record was split by this template's lengths, so the plan cannot run short;
            // were it to, the fields decoded so far are kept.
            let _ = plan.decode(r.bytes(), &ctx.time, out);
        }
        None => {
            for (spec, value) in r.fields() {
                if !spec.scope {
                    mapping::apply(out, FieldId::iana(spec.field_type), value, &ctx.time);
                }
            }
            mapping::finish(out);
        }
    }
    let sampler = if state.samplers.is_empty() {
        None
    } else {
        [48, 302]
            .into_iter()
            .find_map(|id| out.extra_field(FieldId::iana(id)))
            .and_then(|v| v.as_value().as_u64())
    };
    if out.sampling_interval.is_none() {
        let s = sampler
            .and_then(|id| state.samplers.get(&id))
            .or(state.sampling.as_ref());
        if let Some(s) = s {
            out.sampling_interval = Some(s.interval);
            if out.sampling_algorithm.is_none() {
                out.sampling_algorithm = s.algorithm;
            }
        }
    }
}
