//! Nothing on the wire is lost: every element of every NetFlow v9 and IPFIX data record of
//! every capture (`testdata/captures` and the shared corpus) is read with the zero-copy views
//! and looked up in the `FlowRecord` the session decoded: each `(pen, id, value)` is in its
//! typed field (in the element's own form, `mapping::typed_value`) or in `extra` (each extra
//! used once), and every typed field and extra of the record is accounted for by an element.
//!
//! Where the mapping derives a field instead of keeping the element, the derivation is listed
//! here and checked; nothing else may differ:
//!
//! - `flowStartSysUpTime` / `flowEndSysUpTime` (22/21): the absolute start / end, from the
//!   message's export time and sysUptime (v9) or the exporter's system init time (IPFIX);
//! - `flowStartDeltaMicroseconds` / `flowEndDeltaMicroseconds` (158/159): the export time less
//!   the delta;
//! - octets and packets from `octetTotalCount` / `packetTotalCount` (85/86) or initiator +
//!   responder counts (231+232, 298+299), elements kept in `extra`, when the record has no
//!   delta count;
//! - the sampling interval and algorithm: from RFC 5477 elements kept in `extra`
//!   (305/306, 309/310), or from the exporter's options data (not in the record at all);
//! - `mpls_label`: the label of `mplsTopLabelStackSection` (70), kept whole in `extra`.
//!
//! The figures (records, elements, typed, extra, per derivation) print with `--nocapture`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flowwire::capture::CaptureReader;
use flowwire::record::mapping::{self, Targets, TimeContext, TypedField};
use flowwire::record::registry::{FieldId, ie};
use flowwire::record::sampling::SamplingElements;
use flowwire::record::template_store::StoreLimits;
use flowwire::record::{FlowRecord, Timestamp, Value};

#[derive(Debug, Default)]
struct Figures {
    records: usize,
    elements: usize,
    typed: usize,
    extra: usize,
    derived: BTreeMap<&'static str, usize>,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.records += other.records;
        self.elements += other.elements;
        self.typed += other.typed;
        self.extra += other.extra;
        for (k, v) in &other.derived {
            *self.derived.entry(k).or_default() += v;
        }
    }
}

/// Whether two values say the same thing (a reduced-size integer equals the full-size one).
fn same(a: &Value<'_>, b: &Value<'_>) -> bool {
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_ip(), b.as_ip()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_timestamp(), b.as_timestamp()) {
        return x == y;
    }
    a == b
}

/// Checks one record: `fields` are the wire elements in order, `time` what relative times are
/// relative to.
fn check(
    fields: &[(FieldId, Value<'_>)],
    time: &TimeContext,
    rec: &FlowRecord,
    fig: &mut Figures,
) -> Result<(), String> {
    let mut used_extra = vec![false; rec.extra.len()];
    let mut taken = Targets::NONE;
    let derive = |fig: &mut Figures, what: &'static str| *fig.derived.entry(what).or_default() += 1;
    fig.records += 1;
    'fields: for (field, value) in fields {
        fig.elements += 1;
        let targets = mapping::targets(*field);
        let free = !targets.is_empty() && !targets.intersects(taken);
        // The listed derivations first.
        if free && field.pen == 0 {
            let derived = match field.id {
                ie::FLOW_START_SYS_UP_TIME | ie::FLOW_END_SYS_UP_TIME => value
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .and_then(|v| time.from_uptime_ms(v))
                    .map(|t| ("sysUpTime time made absolute", t)),
                ie::FLOW_START_DELTA_MICROSECONDS | ie::FLOW_END_DELTA_MICROSECONDS => value
                    .as_u64()
                    .and_then(|v| i64::try_from(v).ok())
                    .and_then(|us| Some(time.export_time?.add_nanos(-us * 1000)))
                    .map(|t| ("delta microseconds made absolute", t)),
                _ => None,
            };
            if let Some((what, t)) = derived {
                let typed = if field.id == ie::FLOW_START_SYS_UP_TIME
                    || field.id == ie::FLOW_START_DELTA_MICROSECONDS
                {
                    rec.start()
                } else {
                    rec.end()
                };
                if typed == Some(t) {
                    taken = taken.union(targets);
                    derive(fig, what);
                    continue 'fields;
                }
            }
            if let Some(typed) = mapping::typed_value(rec, *field)
                && same(&typed, value)
            {
                taken = taken.union(targets);
                fig.typed += 1;
                continue 'fields;
            }
        }
        for (i, e) in rec.extra.iter().enumerate() {
            if !used_extra[i] && e.field == *field && same(&e.value.as_value(), value) {
                used_extra[i] = true;
                fig.extra += 1;
                continue 'fields;
            }
        }
        return Err(format!(
            "element {field} = {value:?} is neither in its typed field nor in extra"
        ));
    }
    if let Some((i, _)) = used_extra.iter().enumerate().find(|(_, used)| !**used) {
        return Err(format!(
            "extra {:?} is not an element of the record",
            rec.extra[i]
        ));
    }
    // Every typed field the elements did not fill is a listed derivation.
    let extra_u64 = |id: u16| {
        rec.extra_field(FieldId::iana(id))
            .and_then(|v| v.as_value().as_u64())
    };
    let sum = |a: u16, b: u16| match (extra_u64(a), extra_u64(b)) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(0) + y.unwrap_or(0)),
    };
    let untaken = |f: TypedField| f.is_set(rec) && !taken.intersects(f.bit());
    if untaken(TypedField::Octets) {
        let want = extra_u64(ie::OCTET_TOTAL_COUNT)
            .or_else(|| sum(ie::INITIATOR_OCTETS, ie::RESPONDER_OCTETS));
        if rec.octets() != want {
            return Err(format!(
                "octets {:?} not derived from the extras",
                rec.octets()
            ));
        }
        derive(fig, "octets from total / initiator+responder counts");
    }
    if untaken(TypedField::Packets) {
        let want = extra_u64(ie::PACKET_TOTAL_COUNT)
            .or_else(|| sum(ie::INITIATOR_PACKETS, ie::RESPONDER_PACKETS));
        if rec.packets() != want {
            return Err(format!(
                "packets {:?} not derived from the extras",
                rec.packets()
            ));
        }
        derive(fig, "packets from total / initiator+responder counts");
    }
    if untaken(TypedField::SamplingInterval) {
        let mut s = SamplingElements::default();
        for e in &rec.extra {
            s.observe(e.field, &e.value.as_value());
        }
        match s.interval() {
            Some(i) if rec.sampling_interval() == Some(i) => {
                derive(fig, "sampling interval from RFC 5477 elements")
            }
            Some(i) => {
                return Err(format!(
                    "sampling interval {:?}, the record's elements say {i}",
                    rec.sampling_interval()
                ));
            }
            None => derive(fig, "sampling interval from options data"),
        }
    }
    if untaken(TypedField::SamplingAlgorithm) {
        derive(fig, "sampling algorithm from options data");
    }
    if untaken(TypedField::MplsLabel) {
        let label = rec
            .extra_field(FieldId::iana(ie::MPLS_TOP_LABEL_STACK_SECTION))
            .and_then(|v| match v.as_value().as_bytes() {
                Some([a, b, c]) => {
                    Some((u32::from(*a) << 12) | (u32::from(*b) << 4) | (u32::from(*c) >> 4))
                }
                _ => None,
            });
        if rec.mpls_label() != label {
            return Err(format!(
                "mpls_label {:?} is not element 70's",
                rec.mpls_label()
            ));
        }
        derive(fig, "MPLS label of the stack entry (70)");
    }
    // Every typed field but those the mapping derives (checked above): counters from totals,
    // sampling from options data, the MPLS label from its stack entry.
    let set_fields = TypedField::ALL.into_iter().filter(|f| {
        !matches!(
            f,
            TypedField::Octets
                | TypedField::Packets
                | TypedField::SamplingInterval
                | TypedField::SamplingAlgorithm
                | TypedField::MplsLabel
        )
    });
    if let Some(f) = set_fields.into_iter().find(|f| untaken(*f)) {
        return Err(format!("typed field {f:?} is set but no element filled it"));
    }
    Ok(())
}

fn long_lived() -> StoreLimits {
    StoreLimits {
        template_lifetime: Some(Duration::from_secs(10 * 365 * 86_400)),
        ..StoreLimits::default()
    }
}

/// The UDP datagrams of a capture: (source, time, payload).
fn datagrams(path: &Path) -> Vec<(SocketAddr, Timestamp, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(mut r) = CaptureReader::open(path) else {
        return out;
    };
    while let Some(d) = r.next_datagram() {
        if let Ok(d) = d {
            out.push((d.src, d.time, d.payload.to_vec()));
        }
    }
    out
}

mod v9 {
    use super::*;
    use flowwire::netflow::session::{RecordContext, Session, SessionConfig, Visitor};
    use flowwire::netflow::wire::v9_data::DataRecord;

    struct Checker<'a> {
        fig: &'a mut Figures,
        failure: Option<String>,
        flow: FlowRecord,
        on: bool,
    }

    impl Visitor for Checker<'_> {
        fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
            if !self.on || self.failure.is_some() || record.template().is_options() {
                return;
            }
            ctx.flow_record_into(record, &mut self.flow);
            let fields: Vec<(FieldId, Value<'_>)> = record
                .fields()
                .filter(|(spec, _)| !spec.scope)
                .map(|(spec, v)| (FieldId::iana(spec.field_type), v))
                .collect();
            if let Err(e) = check(&fields, &ctx.time, &self.flow, self.fig) {
                self.failure = Some(format!("{e}\n{:?}", self.flow));
            }
        }
    }

    /// Decodes `files` in order through one session; checks the records of the last.
    pub(super) fn check_files(files: &[PathBuf]) -> Result<Figures, String> {
        let mut session = Session::new(SessionConfig {
            limits: long_lived(),
            ..SessionConfig::default()
        });
        let mut fig = Figures::default();
        for (n, path) in files.iter().enumerate() {
            let mut checker = Checker {
                fig: &mut fig,
                failure: None,
                flow: FlowRecord::default(),
                on: n + 1 == files.len(),
            };
            for (frame, (src, now, payload)) in datagrams(path).into_iter().enumerate() {
                session.decode_records(src, now, &payload, &mut checker);
                if let Some(e) = checker.failure.take() {
                    return Err(format!("{}: frame {}: {e}", path.display(), frame + 1));
                }
            }
        }
        Ok(fig)
    }
}

mod ipfix {
    use super::*;
    use flowwire::ipfix::session::{RecordContext, Session, SessionConfig, Visitor};
    use flowwire::ipfix::wire::data::DataRecord;

    struct Checker<'a> {
        fig: &'a mut Figures,
        failure: Option<String>,
        flow: FlowRecord,
        on: bool,
    }

    impl Visitor for Checker<'_> {
        fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
            if !self.on || self.failure.is_some() || record.template().is_options() {
                return;
            }
            ctx.flow_record_into(record, &mut self.flow);
            let mut time = ctx.time;
            if let Some(t) = record
                .get(FieldId::iana(ie::SYSTEM_INIT_TIME_MILLISECONDS))
                .and_then(|v| v.as_timestamp())
            {
                time.system_init_time = Some(t);
            }
            let fields: Vec<(FieldId, Value<'_>)> = record
                .raw_fields()
                .map(|f| (f.spec.field_id(), f.value()))
                .collect();
            if let Err(e) = check(&fields, &time, &self.flow, self.fig) {
                self.failure = Some(format!("{e}\n{:?}", self.flow));
            }
        }
    }

    pub(super) fn check_files(files: &[PathBuf]) -> Result<Figures, String> {
        let mut session = Session::new(SessionConfig {
            limits: long_lived(),
            ..SessionConfig::default()
        });
        let mut fig = Figures::default();
        for (n, path) in files.iter().enumerate() {
            let mut checker = Checker {
                fig: &mut fig,
                failure: None,
                flow: FlowRecord::default(),
                on: n + 1 == files.len(),
            };
            for (frame, (src, now, payload)) in datagrams(path).into_iter().enumerate() {
                session.decode_records(src, now, &payload, &mut checker);
                if let Some(e) = checker.failure.take() {
                    return Err(format!("{}: frame {}: {e}", path.display(), frame + 1));
                }
            }
        }
        Ok(fig)
    }
}

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    dir.join("MANIFEST.tsv").exists().then_some(dir)
}

/// (protocol, files to decode in order: templates first, then the capture checked).
fn corpus_cases(dir: &Path) -> Vec<(String, Vec<PathBuf>)> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(proto), Some(notes)) = (cols.first(), cols.get(1), cols.get(11))
        else {
            continue;
        };
        if *proto != "ipfix" && *proto != "netflow9" {
            continue;
        }
        let mut files = Vec::new();
        if let Some(i) = notes.find("templates are in ") {
            let rest = &notes[i + "templates are in ".len()..];
            let end = rest.find(';').unwrap_or(rest.len());
            for t in rest[..end]
                .split([',', ' '])
                .filter(|t| t.ends_with(".pcap"))
            {
                files.push(dir.join(proto).join(t.trim()));
            }
        }
        files.push(dir.join(file));
        out.push((proto.to_string(), files));
    }
    out
}

fn run(cases: Vec<(String, Vec<PathBuf>)>) -> Figures {
    let mut total = Figures::default();
    let mut failures = Vec::new();
    for (proto, files) in cases {
        let result = if proto == "ipfix" {
            ipfix::check_files(&files)
        } else {
            v9::check_files(&files)
        };
        match result {
            Ok(fig) => {
                println!(
                    "{:<70} records {:>6} elements {:>7} typed {:>7} extra {:>6} derived {:?}",
                    files
                        .last()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default(),
                    fig.records,
                    fig.elements,
                    fig.typed,
                    fig.extra,
                    fig.derived
                );
                total.add(&fig);
            }
            Err(e) => failures.push(e),
        }
    }
    println!(
        "TOTAL records {} elements {} typed {} extra {} derived {:?}",
        total.records, total.elements, total.typed, total.extra, total.derived
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    total
}

#[test]
fn every_element_of_our_captures_is_kept() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
    let mut cases = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    names.sort();
    for p in names {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.contains("ipfix") || name.contains("psamp") {
            cases.push(("ipfix".to_string(), vec![p]));
        } else if name.contains("netflow9") {
            cases.push(("netflow9".to_string(), vec![p]));
        }
    }
    let total = run(cases);
    assert!(
        total.records > 100,
        "too few records checked: {}",
        total.records
    );
}

#[test]
fn every_element_of_the_corpus_is_kept() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: ../shared/corpus is absent, so the corpus is not checked");
        return;
    };
    let total = run(corpus_cases(&dir));
    assert!(
        total.records > 1000,
        "too few records checked: {}",
        total.records
    );
}

/// Arbitrary templates with repeated elements and both address families: decode keeps every
/// element (the check above), and decode → `FlowRecord` → export → decode gives the same
/// record, for NetFlow v9 and IPFIX.
mod arbitrary_templates {
    use super::*;
    use flowwire::ipfix::exporter::{Exporter as IpfixExporter, ExporterConfig as IpfixConfig};
    use flowwire::ipfix::session::{
        RecordContext, Session as IpfixSession, Visitor as IpfixVisitor,
    };
    use flowwire::ipfix::wire::data::DataRecord;
    use flowwire::netflow::exporter::{V9Exporter, V9ExporterConfig as V9Config};
    use flowwire::netflow::session::{Session as V9Session, SessionConfig as V9SessionConfig};
    use flowwire::record::mapping::TimeEncoding;
    use flowwire::{Decoder, Exporter};
    use proptest::prelude::*;

    /// How a pool element's value is drawn.
    #[derive(Debug, Clone, Copy)]
    enum Gen {
        Bytes,
        /// An address that is all zeros one time in three (the unused family of a pair).
        Addr,
        Millis,
        Secs,
        Nanos,
    }

    /// (pen, id, length, value): elements with typed fields at their usual and unusual
    /// widths, pairs of families, sampling elements, elements without a typed field.
    const POOL: &[(u32, u16, u16, Gen)] = &[
        (0, 8, 4, Gen::Addr),
        (0, 12, 4, Gen::Addr),
        (0, 27, 16, Gen::Addr),
        (0, 28, 16, Gen::Addr),
        (0, 15, 4, Gen::Addr),
        (0, 62, 16, Gen::Addr),
        (0, 225, 4, Gen::Addr),
        (0, 7, 2, Gen::Bytes),
        (0, 11, 2, Gen::Bytes),
        (0, 7, 1, Gen::Bytes),
        (0, 4, 1, Gen::Bytes),
        (0, 4, 2, Gen::Bytes),
        (0, 5, 1, Gen::Bytes),
        (0, 6, 1, Gen::Bytes),
        (0, 6, 2, Gen::Bytes),
        (0, 1, 4, Gen::Bytes),
        (0, 1, 8, Gen::Bytes),
        (0, 2, 4, Gen::Bytes),
        (0, 10, 2, Gen::Bytes),
        (0, 14, 4, Gen::Bytes),
        (0, 16, 4, Gen::Bytes),
        (0, 9, 1, Gen::Bytes),
        (0, 29, 1, Gen::Bytes),
        (0, 32, 2, Gen::Bytes),
        (0, 176, 1, Gen::Bytes),
        (0, 58, 2, Gen::Bytes),
        (0, 243, 2, Gen::Bytes),
        (0, 56, 6, Gen::Bytes),
        (0, 70, 3, Gen::Bytes),
        (0, 34, 4, Gen::Bytes),
        (0, 305, 4, Gen::Bytes),
        (0, 306, 4, Gen::Bytes),
        (0, 85, 8, Gen::Bytes),
        (0, 152, 8, Gen::Millis),
        (0, 153, 8, Gen::Millis),
        (0, 150, 4, Gen::Secs),
        (0, 151, 4, Gen::Secs),
        (0, 95, 4, Gen::Bytes),
        (0, 1, 12, Gen::Bytes),
    ];

    /// Only in IPFIX: variable-length, nanosecond times, enterprise elements.
    const IPFIX_ONLY: &[(u32, u16, u16, Gen)] = &[
        (0, 156, 8, Gen::Nanos),
        (0, 157, 8, Gen::Nanos),
        (0, 82, 65535, Gen::Bytes),
        (9, 1, 5, Gen::Bytes),
        (6876, 891, 1, Gen::Bytes),
    ];

    const NOW_SECS: u32 = 1_700_000_000;

    fn value(kind: Gen, len: u16, seed: &[u8]) -> Vec<u8> {
        let len = if len == 65535 {
            seed.len() % 20
        } else {
            usize::from(len)
        };
        let mut v: Vec<u8> = seed.iter().cycle().take(len).copied().collect();
        let ms_ago = u64::from(u32::from_be_bytes([0, seed[0], seed[1], seed[2]]));
        match kind {
            Gen::Bytes => {}
            Gen::Addr if seed[3].is_multiple_of(3) => v.iter_mut().for_each(|b| *b = 0),
            Gen::Addr => {}
            Gen::Millis => v = (u64::from(NOW_SECS) * 1000 - ms_ago).to_be_bytes().to_vec(),
            Gen::Secs => v = (NOW_SECS - (ms_ago / 1000) as u32).to_be_bytes().to_vec(),
            Gen::Nanos => {
                let t = Timestamp::from_unix_secs(NOW_SECS.into())
                    .add_nanos(-(ms_ago as i64) * 1_000_123);
                v = t.to_ntp().unwrap().to_bits().to_be_bytes().to_vec();
            }
        }
        v
    }

    type Case = (Vec<(FieldId, u16)>, Vec<Vec<u8>>);

    fn case(pool: Vec<(u32, u16, u16, Gen)>) -> impl Strategy<Value = Case> {
        proptest::collection::vec(
            (0..pool.len(), proptest::collection::vec(any::<u8>(), 4..20)),
            1..16,
        )
        .prop_map(move |picks| {
            let mut fields = Vec::new();
            let mut values = Vec::new();
            for (i, seed) in picks {
                let (pen, id, len, kind) = pool[i];
                fields.push((FieldId { pen, id }, len));
                values.push(value(kind, len, &seed));
            }
            (fields, values)
        })
    }

    fn ipfix_message(fields: &[(FieldId, u16)], values: &[Vec<u8>]) -> Vec<u8> {
        let mut t = vec![0, 2, 0, 0, 1, 0];
        t.extend((fields.len() as u16).to_be_bytes());
        for (f, len) in fields {
            if f.pen == 0 {
                t.extend(f.id.to_be_bytes());
                t.extend(len.to_be_bytes());
            } else {
                t.extend((f.id | 0x8000).to_be_bytes());
                t.extend(len.to_be_bytes());
                t.extend(f.pen.to_be_bytes());
            }
        }
        let n = t.len() as u16;
        t[2..4].copy_from_slice(&n.to_be_bytes());
        let mut d = vec![1, 0, 0, 0];
        for ((_, len), v) in fields.iter().zip(values) {
            if *len == 65535 {
                d.push(v.len() as u8);
            }
            d.extend(v);
        }
        let n = d.len() as u16;
        d[2..4].copy_from_slice(&n.to_be_bytes());
        let mut m = vec![0, 10, 0, 0];
        m.extend(NOW_SECS.to_be_bytes());
        m.extend([0; 8]);
        m.extend(t);
        m.extend(d);
        let n = m.len() as u16;
        m[2..4].copy_from_slice(&n.to_be_bytes());
        m
    }

    fn v9_packet(fields: &[(FieldId, u16)], values: &[Vec<u8>], uptime: u32) -> Vec<u8> {
        let mut t = vec![0, 0, 0, 0, 1, 0];
        t.extend((fields.len() as u16).to_be_bytes());
        for (f, len) in fields {
            t.extend(f.id.to_be_bytes());
            t.extend(len.to_be_bytes());
        }
        let n = t.len() as u16;
        t[2..4].copy_from_slice(&n.to_be_bytes());
        let mut d = vec![1, 0, 0, 0];
        for v in values {
            d.extend(v);
        }
        // Padding as long as a record would read as one more record.
        let rec_len: usize = values.iter().map(Vec::len).sum();
        if (4 - d.len() % 4) % 4 < rec_len {
            while !d.len().is_multiple_of(4) {
                d.push(0);
            }
        }
        let n = d.len() as u16;
        d[2..4].copy_from_slice(&n.to_be_bytes());
        let mut m = vec![0, 9, 0, 2];
        m.extend(uptime.to_be_bytes());
        m.extend(NOW_SECS.to_be_bytes());
        m.extend([0; 8]);
        m.extend(t);
        m.extend(d);
        m
    }

    fn exporter() -> SocketAddr {
        "192.0.2.1:2055".parse().unwrap()
    }

    /// The record without what the message around it says (sequence, export time...).
    fn content(mut r: FlowRecord) -> FlowRecord {
        r.clear_context();
        r
    }

    struct Keep {
        check: bool,
        out: Vec<FlowRecord>,
        failure: Option<String>,
    }

    impl IpfixVisitor for Keep {
        fn data(&mut self, c: &RecordContext<'_>, r: &DataRecord<'_, '_>) {
            let mut f = FlowRecord::default();
            c.flow_record_into(r, &mut f);
            if self.check {
                let fields: Vec<(FieldId, Value<'_>)> = r
                    .raw_fields()
                    .map(|x| (x.spec.field_id(), x.value()))
                    .collect();
                let mut fig = Figures::default();
                if let Err(e) = check(&fields, &c.time, &f, &mut fig) {
                    self.failure = Some(e);
                }
            }
            self.out.push(f);
        }
    }

    fn decode_ipfix(msgs: &[Vec<u8>], check_with: Option<&[(FieldId, u16)]>) -> Vec<FlowRecord> {
        let mut session = IpfixSession::new(Default::default());
        let mut keep = Keep {
            check: check_with.is_some(),
            out: Vec::new(),
            failure: None,
        };
        for m in msgs {
            let s = session.decode_records(
                exporter(),
                Timestamp::from_unix_secs(NOW_SECS.into()),
                m,
                &mut keep,
            );
            assert_eq!(s.errors, 0);
        }
        assert_eq!(keep.failure, None, "{check_with:?}");
        keep.out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn ipfix_keeps_every_element_and_re_exports_the_same_record(
            (fields, values) in case(POOL.iter().chain(IPFIX_ONLY).copied().collect())
        ) {
            let first = decode_ipfix(&[ipfix_message(&fields, &values)], Some(&fields));
            prop_assert_eq!(first.len(), 1);
            let mut e = IpfixExporter::new(IpfixConfig {
                time_encoding: TimeEncoding::Nanoseconds,
                ..IpfixConfig::default()
            });
            let now = Timestamp::from_unix_secs(NOW_SECS.into());
            let mut msgs: Vec<Vec<u8>> = Vec::new();
            e.push(&first[0], now, &mut |m| msgs.push(m.to_vec())).unwrap();
            e.flush(now, &mut |m| msgs.push(m.to_vec())).unwrap();
            let again = decode_ipfix(&msgs, None);
            prop_assert_eq!(content(again[0].clone()), content(first[0].clone()));
        }

        #[test]
        fn v9_keeps_every_element_and_re_exports_the_same_record(
            (fields, values) in case(POOL.to_vec()),
            sub_ms in 0u32..1_000_000_000,
        ) {
            let uptime = 86_400_000;
            let now = Timestamp::from_unix_secs(NOW_SECS.into());
            let packet = v9_packet(&fields, &values, uptime);
            let mut session = V9Session::new(V9SessionConfig::default());
            let mut first = Vec::new();
            session.decode(exporter(), now, &packet, &mut |f: &FlowRecord| first.push(f.clone()));
            prop_assert_eq!(first.len(), 1);
            // The views' elements against the record.
            let p = flowwire::netflow::wire::v9_packet::V9Packet::new_checked(packet.as_slice()).unwrap();
            let t = session.template(exporter(), 0, 256).unwrap();
            let set = p.flowsets().nth(1).unwrap().unwrap();
            let rec = set.data_records(t).next().unwrap().unwrap();
            let wire: Vec<(FieldId, Value<'_>)> =
                rec.fields().map(|(s, v)| (FieldId::iana(s.field_type), v)).collect();
            let time = TimeContext {
                export_time: Some(now),
                sys_uptime_ms: Some(uptime),
                system_init_time: None,
            };
            let mut fig = Figures::default();
            if let Err(e) = check(&wire, &time, &first[0], &mut fig) {
                return Err(TestCaseError::fail(e));
            }
            // Re-export at any instant (sub-second parts included), decode, compare.
            let later = now.add_nanos(i64::from(sub_ms));
            let mut e = V9Exporter::new(V9Config {
                boot: Some(now.add_millis(-i64::from(uptime))),
                ..V9Config::default()
            });
            let mut out: Vec<Vec<u8>> = Vec::new();
            e.push(&first[0], later, &mut |p| out.push(p.to_vec())).unwrap();
            e.flush(later, &mut |p| out.push(p.to_vec())).unwrap();
            let mut again = Vec::new();
            for p in &out {
                session.decode("192.0.2.2:2055".parse().unwrap(), later, p, &mut |f: &FlowRecord| again.push(f.clone()));
            }
            prop_assert_eq!(again.len(), 1);
            prop_assert_eq!(content(again[0].clone()), content(first[0].clone()));
        }
    }
}
