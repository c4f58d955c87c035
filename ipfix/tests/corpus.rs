//! Decodes every IPFIX capture of the shared corpus and compares the records with tshark's
//! (when tshark is installed): record counts, and per record the 5-tuple, octets and
//! packets. Captures whose templates are in another capture get that one first, through the
//! same session. Prints a table of figures; run with `--nocapture` to see it.
//!
//! Skips with a message when the corpus is absent; compares with the manifest's record
//! counts when tshark is absent.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use flowwire_ipfix::Error;
use flowwire_ipfix::record::FlowRecord;
use flowwire_ipfix::record::codec::OptionsRecord;
use flowwire_ipfix::session::{RecordContext, Session, SessionConfig, Visitor};
use flowwire_ipfix::wire::data::DataRecord;

/// The compared part of a record, as text (tshark's `show` form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rec {
    frame: usize,
    pos: usize,
    src: Option<String>,
    dst: Option<String>,
    sport: Option<String>,
    dport: Option<String>,
    proto: Option<String>,
    octets: Option<String>,
    packets: Option<String>,
    in_if: Option<String>,
    out_if: Option<String>,
    tcp_flags: Option<String>,
    /// Absolute start and end, Unix nanoseconds.
    start: Option<String>,
    end: Option<String>,
    /// In a message after the first of its datagram (tshark does not split those).
    later_message: bool,
}

impl Rec {
    fn values(&self) -> [(&'static str, &Option<String>); 12] {
        [
            ("src", &self.src),
            ("dst", &self.dst),
            ("sport", &self.sport),
            ("dport", &self.dport),
            ("proto", &self.proto),
            ("octets", &self.octets),
            ("packets", &self.packets),
            ("in_if", &self.in_if),
            ("out_if", &self.out_if),
            ("tcp_flags", &self.tcp_flags),
            ("start", &self.start),
            ("end", &self.end),
        ]
    }
}

struct Collect {
    frame: usize,
    first_message_len: usize,
    payload_offset: usize,
    flow: FlowRecord,
    recs: Vec<Rec>,
    errors: Vec<Error>,
    /// Data sets dropped for want of a template (tshark does not decode them either).
    missing: usize,
    /// RFC 6313 lists opened, nested records and elements read.
    lists: (usize, usize),
}

/// Opens every list of a record, recursively, with the exporter's templates.
fn walk_lists(
    ctx: &RecordContext<'_>,
    record: &DataRecord<'_, '_>,
    lists: &mut (usize, usize),
    errors: &mut Vec<Error>,
) {
    use flowwire_ipfix::record::DataType;
    for f in record.raw_fields() {
        match f.data_type {
            DataType::BasicList => match f.basic_list() {
                Ok(l) => {
                    lists.0 += 1;
                    for v in l.elements(ctx.registry) {
                        match v {
                            Ok(_) => lists.1 += 1,
                            Err(e) => errors.push(e),
                        }
                    }
                }
                Err(e) => errors.push(e),
            },
            DataType::SubTemplateList => match f.sub_template_list() {
                Ok(l) => {
                    lists.0 += 1;
                    if let Some(t) = ctx.template(l.template_id()) {
                        for r in l.records(t) {
                            match r {
                                Ok(r) => {
                                    lists.1 += 1;
                                    walk_lists(ctx, &r, lists, errors);
                                }
                                Err(e) => errors.push(e),
                            }
                        }
                    }
                }
                Err(e) => errors.push(e),
            },
            DataType::SubTemplateMultiList => match f.sub_template_multi_list() {
                Ok(l) => {
                    lists.0 += 1;
                    for g in l.groups() {
                        match g {
                            Ok(g) => {
                                if let Some(t) = ctx.template(g.template_id()) {
                                    for r in g.records(t) {
                                        match r {
                                            Ok(r) => {
                                                lists.1 += 1;
                                                walk_lists(ctx, &r, lists, errors);
                                            }
                                            Err(e) => errors.push(e),
                                        }
                                    }
                                }
                            }
                            Err(e) => errors.push(e),
                        }
                    }
                }
                Err(e) => errors.push(e),
            },
            _ => {}
        }
    }
}

impl Visitor for Collect {
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        walk_lists(ctx, record, &mut self.lists, &mut self.errors);
        // tshark shows options records as flows too: compared the same way.
        ctx.flow_record_into(record, &mut self.flow);
        let f = &self.flow;
        let s = |v: Option<String>| v;
        self.recs.push(Rec {
            frame: self.frame,
            pos: self.payload_offset + record.offset(),
            src: s(f.src_addr().map(|a| a.to_string())),
            dst: s(f.dst_addr().map(|a| a.to_string())),
            sport: f.src_port().map(|v| v.to_string()),
            dport: f.dst_port().map(|v| v.to_string()),
            proto: f.protocol().map(|v| v.to_string()),
            octets: f.octets().map(|v| v.to_string()),
            packets: f.packets().map(|v| v.to_string()),
            in_if: f.in_if().map(|v| v.to_string()),
            out_if: f.out_if().map(|v| v.to_string()),
            tcp_flags: f.tcp_flags().map(|v| v.to_string()),
            start: f.start().map(|v| v.unix_nanos().to_string()),
            end: f.end().map(|v| v.unix_nanos().to_string()),
            later_message: record.offset() >= self.first_message_len,
        });
    }
    fn error(&mut self, error: &Error) {
        match error {
            Error::MissingTemplate { .. } => self.missing += 1,
            e => self.errors.push(*e),
        }
    }
}

struct Ours {
    recs: Vec<Rec>,
    errors: Vec<Error>,
    frames_before: usize,
    ports: Vec<u16>,
    stats: flowwire_ipfix::session::SessionStats,
    templates: u64,
    lists: (usize, usize),
}

fn decode_ours(dir: &Path, files: &[String]) -> Ours {
    // The captures stitch together datagrams recorded days apart (template in one file, data
    // in another); tshark keeps templates for ever, so the comparison does too. tshark
    // decodes no data before its template: neither does the comparison.
    let mut config = SessionConfig::default();
    config.limits.template_lifetime = None;
    config.pending = None;
    let mut session = Session::new(config);
    let mut c = Collect {
        frame: 0,
        first_message_len: 0,
        payload_offset: 0,
        flow: FlowRecord::default(),
        recs: Vec::new(),
        errors: Vec::new(),
        missing: 0,
        lists: (0, 0),
    };
    let mut frames_before = 0;
    let mut ports = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let bytes = std::fs::read(dir.join(file)).expect("read capture");
        let datagrams = common::udp_datagrams(&bytes);
        let last = i + 1 == files.len();
        if !last {
            c.recs.clear();
        }
        for d in &datagrams {
            if !ports.contains(&d.dst_port) {
                ports.push(d.dst_port);
            }
            c.frame = frames_before + d.frame;
            c.payload_offset = d.payload_offset;
            c.first_message_len = d
                .payload
                .get(2..4)
                .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
            session.decode_records(d.src, d.ts, &d.payload, &mut c);
        }
        if !last {
            frames_before += bytes_frames(&bytes);
            c.errors.clear();
            c.recs.clear();
        }
    }
    // Pending off: every data set without its template is reported, once.
    assert_eq!(c.missing as u64, session.stats().sets_without_template);
    Ours {
        recs: c.recs,
        errors: c.errors,
        frames_before,
        ports,
        stats: *session.stats(),
        templates: session.store_stats().learned,
        lists: c.lists,
    }
}

fn bytes_frames(bytes: &[u8]) -> usize {
    pcap_parser::PcapCapture::from_file(bytes)
        .map(|c| c.blocks.len())
        .unwrap_or(0)
}

/// tshark's absolute time text ("Oct  5, 2009 06:06:07.492059999 UTC") as Unix nanoseconds.
fn tshark_time_nanos(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [mon, day, year, time, "UTC"] = parts[..] else {
        return None;
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months.iter().position(|x| *x == mon)? as i64 + 1;
    let d: i64 = day.trim_end_matches(',').parse().ok()?;
    let y: i64 = year.parse().ok()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut hms = hms.split(':').map(|x| x.parse::<i64>());
    let (h, mi, se) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
    let nanos: i64 = format!("{frac:0<9}")[..9].parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3_600 + mi * 60 + se) * 1_000_000_000) + nanos)
}

fn attr<'l>(line: &'l str, name: &str) -> Option<&'l str> {
    let key = format!(" {name}=\"");
    let i = line.find(&key)? + key.len();
    let rest = &line[i..];
    Some(&rest[..rest.find('"')?])
}

/// tshark's records (frame, position, values) from its PDML output.
fn tshark_records(dir: &Path, files: &[String], ports: &[u16]) -> Option<Vec<Rec>> {
    if Command::new("tshark").arg("-v").output().is_err() {
        return None;
    }
    let input = if files.len() == 1 {
        dir.join(&files[0])
    } else {
        let out = std::env::temp_dir().join(format!(
            "flowwire-ipfix-merged-{}-{}.pcap",
            std::process::id(),
            files.last()?.replace('/', "_")
        ));
        let mut cmd = Command::new("mergecap");
        cmd.arg("-a").arg("-w").arg(&out);
        for f in files {
            cmd.arg(dir.join(f));
        }
        run_ok(&mut cmd);
        out
    };
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&input).arg("-T").arg("pdml");
    for p in ports {
        cmd.arg("-d").arg(format!("udp.port=={p},cflow"));
    }
    let out = run_ok(&mut cmd);
    let pdml = String::from_utf8_lossy(&out.stdout);
    let mut recs = Vec::new();
    let mut frame = 0usize;
    let mut current: Option<(usize, Rec)> = None;
    let mut v6: (Option<String>, Option<String>) = (None, None);
    let mut relative_times = false;
    let unspecified = |a: &Option<String>| matches!(a.as_deref(), None | Some("0.0.0.0" | "::"));
    for line in pdml.lines() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        if t.starts_with("<packet>") {
            frame += 1;
            continue;
        }
        if let Some((ind, rec)) = &mut current {
            if indent == *ind && t.starts_with("</field>") {
                let mut rec = current.take()?.1;
                if relative_times {
                    // tshark shows a relative (sysUpTime) start of 0 as "abstimestart".
                    rec.start = None;
                    rec.end = None;
                }
                relative_times = false;
                // Both families in one template: the unused one is zeros.
                if unspecified(&rec.src) && !unspecified(&v6.0) {
                    rec.src = v6.0.take();
                }
                if unspecified(&rec.dst) && !unspecified(&v6.1) {
                    rec.dst = v6.1.take();
                }
                rec.src = rec.src.or(v6.0.take());
                rec.dst = rec.dst.or(v6.1.take());
                v6 = (None, None);
                recs.push(rec);
                continue;
            }
            let name = attr(t, "name").unwrap_or_default();
            if name == "cflow.timestart" || name == "cflow.timeend" {
                relative_times = true;
            }
            // Times sit inside tshark's duration subtree; the rest are direct children.
            let nested_time = name.starts_with("cflow.abstime") && indent > *ind;
            if (indent == *ind + 2 || nested_time) && t.starts_with("<field ") {
                if attr(t, "showname").is_some_and(|s| s.contains("(Reverse")) {
                    continue;
                }
                let show = attr(t, "show").map(str::to_string);
                let slot = match attr(t, "name").unwrap_or_default() {
                    "cflow.srcaddr" => &mut rec.src,
                    "cflow.dstaddr" => &mut rec.dst,
                    "cflow.srcaddrv6" => &mut v6.0,
                    "cflow.dstaddrv6" => &mut v6.1,
                    "cflow.srcport" => &mut rec.sport,
                    "cflow.dstport" => &mut rec.dport,
                    "cflow.protocol" => &mut rec.proto,
                    "cflow.octets" => &mut rec.octets,
                    "cflow.packets" => &mut rec.packets,
                    "cflow.inputint" => &mut rec.in_if,
                    "cflow.outputint" => &mut rec.out_if,
                    "cflow.tcpflags" => {
                        if rec.tcp_flags.is_none() {
                            rec.tcp_flags = attr(t, "show")
                                .and_then(|s| {
                                    u16::from_str_radix(s.trim_start_matches("0x"), 16).ok()
                                })
                                .map(|v| v.to_string());
                        }
                        continue;
                    }
                    "cflow.abstimestart" | "cflow.abstimeend" => {
                        let nanos = attr(t, "show").and_then(tshark_time_nanos);
                        let slot = if attr(t, "name") == Some("cflow.abstimestart") {
                            &mut rec.start
                        } else {
                            &mut rec.end
                        };
                        if slot.is_none() {
                            *slot = nanos.map(|n| n.to_string());
                        }
                        continue;
                    }
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = show;
                }
            }
            continue;
        }
        if t.starts_with("<field name=\"\" show=\"Flow ") {
            let pos = attr(t, "pos").and_then(|p| p.parse().ok()).unwrap_or(0);
            let rec = Rec {
                frame,
                pos,
                ..Rec::default()
            };
            if t.ends_with("/>") {
                recs.push(rec);
            } else {
                current = Some((indent, rec));
            }
        }
    }
    Some(recs)
}

/// The record count the manifest gives (with prerequisite templates when it says so).
fn manifest_count(dir: &Path, file: &str) -> Option<usize> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).ok()?;
    let line = text.lines().find(|l| l.starts_with(&format!("{file}\t")))?;
    let cols: Vec<&str> = line.split('\t').collect();
    let notes = cols.get(11)?;
    if let Some(i) = notes.find("tshark decodes ") {
        let n = notes[i + 15..].split_whitespace().next()?;
        return n.parse().ok();
    }
    let rec = cols.get(8)?;
    match rec.find("data records ") {
        Some(i) => rec[i + 13..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok(),
        None => Some(0),
    }
}

/// Captures the manifest does not mark malformed but that are: (file, why).
const KNOWN_MALFORMED: &[(&str, &str)] = &[(
    "ipfix/ipfixcol__enterprise-from-nfv9.pcap",
    "options template 260 declares 4 fields and 8 scope fields and runs past its set; \
     tshark's expert info: Malformed, \"More scope fields (8) than fields (4)\"",
)];

#[test]
fn corpus_matches_tshark() {
    let Some(dir) = common::corpus_dir() else {
        eprintln!("SKIP: corpus not found (../shared/corpus)");
        return;
    };
    let have_tshark = Command::new("tshark").arg("-v").output().is_ok();
    if !have_tshark {
        eprintln!("NOTE: tshark not found; comparing record counts with the manifest only");
    }
    let mut failures = Vec::new();
    let mut totals = (0usize, 0usize, 0usize);
    let mut compared: BTreeMap<&'static str, usize> = BTreeMap::new();
    println!(
        "{:<62} {:>7} {:>7} {:>6} {:>5}  notes",
        "capture", "ours", "tshark", "mism", "errs"
    );
    for (file, notes) in common::manifest(&dir) {
        let known = KNOWN_MALFORMED.iter().find(|(f, _)| *f == file);
        let malformed = common::is_malformed(&notes) || known.is_some();
        let mut files = Vec::new();
        if let Some(t) = common::template_capture(&notes) {
            files.push(t);
        }
        files.push(file.clone());
        let ours = decode_ours(&dir, &files);
        let theirs = if have_tshark {
            tshark_records(&dir, &files, &ours.ports).map(|r| {
                r.into_iter()
                    .filter(|r| r.frame > ours.frames_before)
                    .collect::<Vec<_>>()
            })
        } else {
            None
        };
        let mut mismatches = Vec::new();
        let mut later = 0usize;
        let their_count = match &theirs {
            Some(t) => {
                let by_key: BTreeMap<(usize, usize), &Rec> =
                    t.iter().map(|r| ((r.frame, r.pos), r)).collect();
                let ours_keys: BTreeMap<(usize, usize), &Rec> =
                    ours.recs.iter().map(|r| ((r.frame, r.pos), r)).collect();
                for r in &ours.recs {
                    match by_key.get(&(r.frame, r.pos)) {
                        None if r.later_message => later += 1,
                        None => mismatches.push(format!(
                            "frame {} pos {}: record not in tshark",
                            r.frame, r.pos
                        )),
                        Some(tr) => {
                            for ((name, a), (_, b)) in r.values().iter().zip(tr.values()) {
                                if b.is_some() {
                                    *compared.entry(*name).or_default() += 1;
                                }
                                // Times: within 1 µs. dateTimeMicroseconds carries microseconds
                                // (RFC 7011 §6.1.9: the fraction's low 11 bits are ignored);
                                // tshark keeps those bits and truncates, we round.
                                let close =
                                    |a: &str, b: &str| match (a.parse::<i64>(), b.parse::<i64>()) {
                                        (Ok(x), Ok(y)) => (x - y).abs() < 1_000,
                                        _ => false,
                                    };
                                let is_time = *name == "start" || *name == "end";
                                match b {
                                    Some(b)
                                        if is_time
                                            && a.as_ref() != Some(b)
                                            && a.as_deref().is_some_and(|a| close(a, b)) =>
                                    {
                                        *compared
                                            .entry("times within 1 us, not equal")
                                            .or_default() += 1;
                                    }
                                    Some(b) if a.as_ref() != Some(b) => {
                                        mismatches.push(format!(
                                            "frame {} pos {} {name}: ours {a:?} tshark {b}",
                                            r.frame, r.pos
                                        ));
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
                for tr in t {
                    if !ours_keys.contains_key(&(tr.frame, tr.pos)) {
                        mismatches.push(format!(
                            "frame {} pos {}: tshark record we did not decode",
                            tr.frame, tr.pos
                        ));
                    }
                }
                Some(t.len())
            }
            None => manifest_count(&dir, &file),
        };
        let count_ok = their_count.map(|n| n + later) == Some(ours.recs.len());
        println!(
            "{:<62} {:>7} {:>7} {:>6} {:>5}  {}{}{}{}",
            file,
            ours.recs.len(),
            their_count.map_or("?".into(), |n| n.to_string()),
            mismatches.len(),
            ours.errors.len(),
            if malformed { "malformed " } else { "" },
            {
                let s = &ours.stats;
                let mut n = format!("[tpl {} opt {}", ours.templates, s.options_records);
                if ours.lists.0 > 0 {
                    n += &format!(" lists {} (items {})", ours.lists.0, ours.lists.1);
                }
                if s.elements_learned > 0 {
                    n += &format!(" rfc5610 {}", s.elements_learned);
                }
                if s.sets_without_template > 0 {
                    n += &format!(" no-tpl sets {}", s.sets_without_template);
                }
                n + "] "
            },
            if later > 0 {
                format!("({later} records in concatenated messages tshark does not split) ")
            } else {
                String::new()
            },
            if files.len() > 1 {
                "(templates first)"
            } else {
                ""
            },
        );
        if let Some((_, why)) = known {
            println!("    known malformed: {why}");
        }
        for m in mismatches.iter().take(5) {
            println!("    {m}");
        }
        for e in ours.errors.iter().take(3) {
            println!("    error: {e}");
        }
        totals.0 += ours.recs.len();
        totals.1 += their_count.unwrap_or(0);
        totals.2 += mismatches.len();
        if !malformed {
            if !ours.errors.is_empty() {
                failures.push(format!("{file}: {} errors", ours.errors.len()));
            }
            if !count_ok {
                failures.push(format!(
                    "{file}: {} records, reference {their_count:?}",
                    ours.recs.len()
                ));
            }
            if !mismatches.is_empty() {
                failures.push(format!("{file}: {} mismatches", mismatches.len()));
            }
        }
    }
    println!(
        "total: {} records decoded, {} by the reference, {} mismatches",
        totals.0, totals.1, totals.2
    );
    println!("values compared with tshark, per field: {compared:?}");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every message of every capture that parses into an owned `MessageRepr` encodes back to
/// exactly its bytes (data sets decoded with the templates seen before them).
#[test]
fn corpus_reencodes_byte_for_byte() {
    use flowwire_ipfix::repr::MessageRepr;
    use flowwire_ipfix::template::Template;
    use flowwire_ipfix::wire::message::MessageIter;
    use std::collections::HashMap;

    let Some(dir) = common::corpus_dir() else {
        eprintln!("SKIP: corpus not found (../shared/corpus)");
        return;
    };
    let registry = flowwire_ipfix::record::registry::Registry::new();
    let (mut same, mut parse_errors, mut differ) = (0usize, 0usize, Vec::new());
    for (file, notes) in common::manifest(&dir) {
        let mut files = Vec::new();
        if let Some(t) = common::template_capture(&notes) {
            files.push(t);
        }
        files.push(file.clone());
        let mut known: HashMap<(u32, u16), Template> = HashMap::new();
        for f in &files {
            let bytes = std::fs::read(dir.join(f)).expect("read capture");
            for d in common::udp_datagrams(&bytes) {
                for m in MessageIter::new(&d.payload, 0).flatten() {
                    let domain = m.observation_domain_id();
                    match MessageRepr::parse(&m, &registry, |id| known.get(&(domain, id))) {
                        Ok(repr) => {
                            if repr.to_bytes().ok().as_deref() == Some(m.as_bytes()) {
                                same += 1;
                            } else {
                                differ.push(format!("{f} frame {}", d.frame));
                            }
                        }
                        Err(_) => parse_errors += 1,
                    }
                    for set in m.sets().flatten() {
                        for r in set.templates().flatten() {
                            if r.is_withdrawal() {
                                known.remove(&(domain, r.template_id()));
                            } else if let Ok(t) = Template::from_record(&r, &registry, 1024) {
                                known.insert((domain, t.id()), t);
                            }
                        }
                    }
                }
            }
        }
    }
    println!(
        "re-encoded byte for byte: {same} messages; {} differ; {parse_errors} did not parse (malformed)",
        differ.len()
    );
    assert!(differ.is_empty(), "{differ:#?}");
    assert!(same > 600, "{same}");
}

/// Real messages cut at every length, and with bytes overwritten, never panic the decoder
/// (the session keeps the templates of the whole capture, so data sets are decoded).
#[test]
fn corpus_truncated_and_mutated_never_panics() {
    let Some(dir) = common::corpus_dir() else {
        eprintln!("SKIP: corpus not found (../shared/corpus)");
        return;
    };
    let mut decoded = 0usize;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (file, _) in common::manifest(&dir) {
        let bytes = std::fs::read(dir.join(&file)).expect("read capture");
        let datagrams = common::udp_datagrams(&bytes);
        let mut session = Session::new(SessionConfig::default());
        let (mut f, mut o) = (FlowRecord::default(), OptionsRecord::default());
        let mut sink = |c: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
            c.flow_record_into(r, &mut f);
            c.options_record_into(r, &mut o);
            let _ = r.check();
        };
        // Learn the capture's templates first.
        for d in &datagrams {
            session.decode_records(d.src, d.ts, &d.payload, &mut sink);
        }
        for d in datagrams.iter().take(12) {
            let p = &d.payload;
            for len in 0..p.len() {
                let mut cut = p[..len].to_vec();
                if len >= 4 {
                    cut[2..4].copy_from_slice(&(len.min(65535) as u16).to_be_bytes());
                }
                session.decode_records(d.src, d.ts, &cut, &mut sink);
                decoded += 1;
            }
            for _ in 0..200 {
                let mut m = p.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % m.len().max(1);
                    if let Some(b) = m.get_mut(at) {
                        *b = next() as u8;
                    }
                }
                session.decode_records(d.src, d.ts, &m, &mut sink);
                decoded += 1;
            }
        }
    }
    println!("{decoded} truncated or mutated datagrams decoded without a panic");
}

/// Runs an external tool and returns its output; fails the test, with the tool's stderr,
/// when it cannot run or exits unsuccessfully (an empty stdout must never pass for "nothing
/// found").
fn run_ok(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} exited with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
