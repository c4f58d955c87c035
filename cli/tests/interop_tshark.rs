//! tshark as an oracle for `flowwire decode`, on every committed real-exporter capture
//! (`testdata/captures`) and every capture of the shared corpus (`../../shared/corpus`,
//! skipped with a message when absent).
//!
//! Per NetFlow/IPFIX data record (those with an address): source and destination address and
//! port, protocol, octets and packets. Per sFlow flow sample: agent, sample sequence number,
//! sampling rate, input and output interface (ifIndex, or absent for the "discarded" and
//! "multiple" formats); per sFlow counter sample: agent, sequence number and source index.
//! Records are compared as multisets per capture: the order of the two decoders may differ
//! (v9 data held for a later template is replayed when it comes).
//!
//! Every disagreement must be explained by one of the known causes in [`Known`], each checked
//! on evidence in the capture (not assumed); anything else fails the test:
//!
//! * tshark wrong: OVS sFlow counter records 1004/2203/2207 misparsed (the datagram is
//!   malformed for tshark; sfacctd/sfcapd decode it cleanly); only the first of concatenated
//!   v5/IPFIX messages in one payload decoded; a v9 datagram abandoned at an exception (H3C:
//!   "Trying to fetch an IPv4 address with length 2") or at the header's Count; other
//!   protocols on an sFlow port not decoded (`-d` is one protocol per port).
//! * policy (neither wrong): `tshark -2` decodes data with a template from a later frame;
//!   tshark keeps templates past the RFC 7011 lifetime that flowwire applies.
//! * Malformed on purpose (corpus MANIFEST "malformed on purpose", "negative/edge test
//!   case", or `invalid` in the name): not compared; `flowwire decode` must still exit 0.
//!
//! Absolute flow start/end times (IPFIX 150-157, where tshark shows them as absolute) are
//! compared to the nanosecond for the records both decode. Known time differences, each
//! checked: pmacct's 16-byte 154/155 (tshark shows 1970; flowwire keeps the bytes);
//! dateTimeMicroseconds printed by tshark with the sub-microsecond bits RFC 7011 §6.1.9 says
//! to ignore; the NTP fraction of dateTimeNanoseconds truncated by tshark (1 ns short, as
//! exporters.md records: flowwire truncates it too today, so they agree). NetFlow v5/v9 and
//! uptime-relative IPFIX times are not compared (tshark shows them relative).
//!
//! Prints a table per source (exporter or corpus origin): records compared, agreeing,
//! disagreements and who was right. Skips with a message when tshark is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A JSON value that keeps repeated keys in order (tshark repeats `cflow.srcport` when a
/// record has both L4_SRC_PORT (7) and TCP_SRC_PORT (182); the first is the record's port).
#[derive(Debug)]
enum Json {
    Str(String),
    Obj(Vec<(String, Json)>),
    Arr(Vec<Json>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Str(v.to_owned()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Str(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Str(v.to_string()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Json::Arr(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry()? {
                    v.push((k, x));
                }
                Ok(Json::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(v) => v.iter().find(|(k, _)| k == key).map(|(_, n)| n),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }
    fn num(&self, key: &str) -> Option<u64> {
        let s = self.str(key)?;
        match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    }
    fn entries(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(v) => v,
            _ => &[],
        }
    }
    /// Whether tshark marked this frame (or a layer of it) malformed.
    fn malformed(&self) -> bool {
        match self {
            Json::Obj(v) => v.iter().any(|(k, x)| k == "_ws.malformed" || x.malformed()),
            Json::Arr(a) => a.iter().any(Json::malformed),
            _ => false,
        }
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// One compared unit, as text: "flow src dst sport dport proto octets packets",
/// "sample agent seq rate in out" or "counters agent seq index".
type Key = String;

// ---------------------------------------------------------------- flowwire side

/// What flowwire decoded, per record.
#[derive(Debug, Default)]
struct Ours {
    keys: Vec<Key>,
    /// The `kind` of each key's record (netflow5, ipfix, sflow5...).
    kinds: Vec<String>,
    /// Counter record formats per counter key (to check the OVS evidence).
    counter_formats: BTreeMap<Key, Vec<u64>>,
    /// Flow records without any address (L2-only OVS IPFIX, ARP...): not compared.
    without_address: usize,
    /// Per NetFlow/IPFIX flow: its key, "start end" (RFC 3339, 9 fraction digits, "-" when
    /// absent), and whether it carries pmacct's 16-byte flowStart/EndMicroseconds (154/155).
    timed: Vec<(Key, String, bool)>,
}

/// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn" from flowwire's RFC 3339 (`...:14.541Z`, `...:14Z`).
fn norm_rfc3339(t: &str) -> String {
    let t = t.trim_end_matches('Z');
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    format!("{whole}.{frac:0<9}")
}

/// The same from tshark's "Nov 26, 2026 06:36:14.541000000 UTC".
fn norm_tshark_time(t: &str) -> Option<String> {
    let mut it = t.split_whitespace();
    let month = it.next()?;
    let day: u32 = it.next()?.trim_end_matches(',').parse().ok()?;
    let year: u32 = it.next()?.parse().ok()?;
    let time = it.next()?;
    let m = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|x| *x == month)?
        + 1;
    let (whole, frac) = time.split_once('.').unwrap_or((time, ""));
    Some(format!("{year:04}-{m:02}-{day:02}T{whole}.{frac:0<9}"))
}

fn flow_key(r: &serde_json::Value) -> Key {
    let s = |k: &str| {
        r.get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    format!(
        "flow {} {} {} {} {} {} {}",
        opt(s("src_addr")),
        opt(s("dst_addr")),
        opt(s("src_port")),
        opt(s("dst_port")),
        opt(s("protocol")),
        opt(s("octets")),
        opt(s("packets"))
    )
}

fn flowwire_decode(files: &[PathBuf]) -> (Ours, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["decode", "--format", "jsonl", "--quiet"])
        .args(files)
        .output()
        .unwrap();
    let mut ours = Ours::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let kind = r["kind"].as_str().unwrap_or("").to_owned();
        match r["type"].as_str() {
            Some("flow") if kind == "sflow5" => {
                ours.keys.push(format!(
                    "sample {} {} {} {} {}",
                    opt(r["agent"].as_str()),
                    opt(r["sequence"].as_u64()),
                    opt(r["sampling_interval"].as_u64()),
                    opt(r["in_if"].as_u64()),
                    opt(r["out_if"].as_u64()),
                ));
                ours.kinds.push(kind);
            }
            Some("flow") => {
                if r.get("src_addr").is_none() && r.get("dst_addr").is_none() {
                    ours.without_address += 1;
                    continue;
                }
                let key = flow_key(&r);
                let time = |k: &str| r[k].as_str().map_or_else(|| "-".into(), norm_rfc3339);
                let pmacct16 = r["extra"].as_array().is_some_and(|a| {
                    a.iter().any(|x| {
                        matches!(x["id"].as_u64(), Some(154 | 155))
                            && x["value"].as_str().is_some_and(|v| v.len() == 32)
                    })
                });
                ours.timed.push((
                    key.clone(),
                    format!("{} {}", time("start"), time("end")),
                    pmacct16,
                ));
                ours.keys.push(key);
                ours.kinds.push(kind);
            }
            Some("counters") => {
                let key = format!(
                    "counters {} {} {}",
                    opt(r["agent"].as_str()),
                    opt(r["sequence"].as_u64()),
                    opt(r["source"]["index"].as_u64()),
                );
                let formats = r["records"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_object()?.keys().next().cloned())
                            .filter_map(|name| counter_format(&name))
                            .collect()
                    })
                    .unwrap_or_default();
                ours.counter_formats.insert(key.clone(), formats);
                ours.keys.push(key);
                ours.kinds.push("sflow5".into());
            }
            _ => {}
        }
    }
    (ours, out.status.success())
}

/// The sFlow counter record format of flowwire's record name (the ones the OVS evidence needs).
fn counter_format(name: &str) -> Option<u64> {
    Some(match name {
        "interface" | "generic" => 1,
        "ethernet" => 2,
        "open_flow_port" | "openflow_port" => 1004,
        "port_name" => 1005,
        "app_resources" => 2203,
        "ovs_dp" => 2207,
        _ => return None,
    })
}

// ---------------------------------------------------------------- tshark side

/// What tshark decoded in one frame.
#[derive(Debug, Default)]
struct TsharkFrame {
    /// Capture time (s since the epoch).
    time: f64,
    /// Per data set (sFlow: one entry per datagram): tshark's `[Template Frame]`, if any,
    /// and the keys of its records.
    sets: Vec<(Option<usize>, Vec<Key>)>,
    malformed: bool,
    /// tshark's expert messages on the frame (the evidence for a malformed frame).
    expert: Vec<String>,
    /// The UDP payload is longer than the one NetFlow v5 / IPFIX message tshark shows
    /// (several messages concatenated): an upper bound on the records in the rest.
    concatenated_records: usize,
    /// NetFlow v9: records the header's Count announces that tshark does not show.
    count_shortfall: usize,
    /// Records with absolute start/end times (IPFIX 150-157): their set's template frame,
    /// key and "start end".
    timed: Vec<(Option<usize>, Key, String)>,
}

impl TsharkFrame {
    fn keys(&self) -> impl Iterator<Item = &Key> {
        self.sets.iter().flat_map(|(_, k)| k)
    }
}

fn collect_expert(j: &Json, out: &mut Vec<String>) {
    for (k, v) in j.entries() {
        if let (true, Json::Str(m)) = (k == "_ws.expert.message", v) {
            out.push(m.clone());
        }
        collect_expert(v, out);
    }
}

/// The key of a NetFlow/IPFIX record tshark shows, if it has an address.
///
/// Address choice: some exporters (Procera) fill both sourceIPv4Address with 0.0.0.0 and
/// sourceIPv6Address; tshark shows both, flowwire keeps the one that is set. The IPv6
/// address is taken here when the IPv4 one is 0.0.0.0 (representation, not a disagreement).
fn cflow_key(f: &Json) -> Option<Key> {
    let s = |k: &str| f.str(k).map(str::to_owned);
    let addr = |v4: &str, v6: &str| match (s(v4), s(v6)) {
        (Some(a), Some(b)) if a == "0.0.0.0" => Some(b),
        (a, b) => a.or(b),
    };
    let src = addr("cflow.srcaddr", "cflow.srcaddrv6");
    let dst = addr("cflow.dstaddr", "cflow.dstaddrv6");
    if src.is_none() && dst.is_none() {
        return None;
    }
    let n = |k: &str| f.num(k);
    let sum = |a: &str, b: &str| match (n(a), n(b)) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    let octets = n("cflow.octets")
        .or_else(|| n("cflow.octets64"))
        .or_else(|| n("cflow.permanent_octets"))
        .or_else(|| sum("cflow.initiator_octets", "cflow.responder_octets"));
    let packets = n("cflow.packets")
        .or_else(|| n("cflow.packets64"))
        .or_else(|| n("cflow.permanent_packets"))
        .or_else(|| sum("cflow.initiator_packets", "cflow.responder_packets"));
    Some(format!(
        "flow {} {} {} {} {} {} {}",
        opt(src),
        opt(dst),
        opt(s("cflow.srcport")),
        opt(s("cflow.dstport")),
        opt(s("cflow.protocol")),
        opt(octets),
        opt(packets)
    ))
}

fn cflow_frame(cflow: &Json, udp_len: Option<u64>, out: &mut TsharkFrame) {
    let version = cflow.num("cflow.version");
    let mut shown = 0usize;
    for (k, v) in cflow.entries() {
        // v5: "pdu N/M"; v9/IPFIX: "FlowSet N [id=...] (K flows)" / "Set N [id=...] (K flows)".
        if k.starts_with("pdu ") {
            shown += 1;
            if let Some(key) = cflow_key(v) {
                out.sets.push((None, vec![key]));
            }
        } else if k.starts_with("FlowSet ") || k.starts_with("Set ") {
            let id = v.num("cflow.flowset_id").unwrap_or(0);
            let template = v.num("cflow.template_frame").map(|n| n as usize);
            let mut keys = Vec::new();
            for (fk, f) in v.entries() {
                if fk.starts_with("Flow ") {
                    shown += usize::from(id >= 256);
                    if let Some(key) = cflow_key(f) {
                        let tree = f.get("cflow.timedelta_tree");
                        let abs = |k: &str| tree.and_then(|t| t.str(k)).and_then(norm_tshark_time);
                        if let (Some(a), Some(b)) =
                            (abs("cflow.abstimestart"), abs("cflow.abstimeend"))
                        {
                            out.timed.push((template, key.clone(), format!("{a} {b}")));
                        }
                        keys.push(key);
                    }
                }
            }
            out.sets.push((template, keys));
        }
    }
    let payload = udp_len.unwrap_or(8).saturating_sub(8) as usize;
    let count = cflow.num("cflow.count").unwrap_or(0) as usize;
    match version {
        Some(5) => {
            // 24-byte header + 48-byte records: what is left holds at most this many records.
            let one = 24 + 48 * count;
            if payload > one {
                out.concatenated_records = (payload - one) / 48;
            }
        }
        Some(10) => {
            // The IPFIX message length; tshark reads the next message's header as a set
            // with id 10 (the version number). Records are at least 1 byte.
            let len = cflow.num("cflow.len").unwrap_or(0) as usize;
            if len > 0 && payload > len {
                out.concatenated_records = payload - len;
            }
        }
        Some(9) => out.count_shortfall = count.saturating_sub(shown),
        _ => {}
    }
}

fn sflow_frame(sflow: &Json, out: &mut TsharkFrame) {
    let agent = sflow
        .str("sflow_245.agent")
        .or_else(|| sflow.str("sflow_245.agent.v6"))
        .map(str::to_owned);
    let mut keys = Vec::new();
    for (k, s) in sflow.entries() {
        if k.starts_with("Flow sample") || k.starts_with("Expanded flow sample") {
            let iface = |dir: &str| -> Option<u64> {
                let (format, value) =
                    if let Some(raw) = s.num(&format!("sflow.flow_sample.{dir}_interface")) {
                        (raw >> 30, raw & 0x3fff_ffff)
                    } else {
                        (
                            s.num(&format!("sflow.flow_sample.{dir}_interface_format"))
                                .or_else(|| {
                                    s.num(&format!("sflow.flow_sample.{dir}_interface.format"))
                                })?,
                            s.num(&format!("sflow.flow_sample.{dir}_interface_value"))?,
                        )
                    };
                (format == 0).then_some(value)
            };
            keys.push(format!(
                "sample {} {} {} {} {}",
                opt(agent.clone()),
                opt(s.num("sflow.flow_sample.sequence_number")),
                opt(s.num("sflow.flow_sample.sampling_rate")),
                opt(iface("input")),
                opt(iface("output")),
            ));
        } else if k.starts_with("Counters sample") || k.starts_with("Expanded counters sample") {
            keys.push(format!(
                "counters {} {} {}",
                opt(agent.clone()),
                opt(s.num("sflow.counters_sample.sequence_number")),
                opt(s
                    .num("sflow.counters_sample.source_id_index")
                    .or_else(|| s.num("sflow.counters_sample.index"))),
            ));
        }
    }
    out.sets.push((None, keys));
}

/// tshark's decode of `pcap`, one entry per frame.
fn tshark(pcap: &Path, ports: &[u16], sflow: bool) -> Vec<TsharkFrame> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-2", "-n", "-r"]).arg(pcap).args(["-T", "json"]);
    let proto = if sflow { "sflow" } else { "cflow" };
    for p in ports {
        cmd.arg("-d").arg(format!("udp.port=={p},{proto}"));
    }
    let out = run_ok(&mut cmd);
    let Ok(Json::Arr(frames)) = serde_json::from_slice::<Json>(&out.stdout) else {
        panic!(
            "tshark on {}: {}",
            pcap.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    frames
        .iter()
        .map(|f| {
            let layers = f.get("_source").and_then(|s| s.get("layers"));
            let mut tf = TsharkFrame {
                malformed: layers.is_some_and(Json::malformed),
                ..TsharkFrame::default()
            };
            if let Some(l) = layers {
                tf.time = l
                    .get("frame")
                    .and_then(|f| f.str("frame.time_epoch"))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0.0);
                if tf.malformed {
                    collect_expert(l, &mut tf.expert);
                }
                let udp_len = l.get("udp").and_then(|u| u.num("udp.length"));
                for (k, v) in l.entries() {
                    match k.as_str() {
                        "cflow" => cflow_frame(v, udp_len, &mut tf),
                        "sflow" => sflow_frame(v, &mut tf),
                        _ => {}
                    }
                }
            }
            tf
        })
        .collect()
}

// ---------------------------------------------------------------- cases

/// One comparison: the capture, and the files whose templates it needs (decoded first).
#[derive(Debug, Clone)]
struct Case {
    /// Row of the summary table this case adds to.
    source: String,
    label: String,
    /// Template files first, the capture last.
    files: Vec<PathBuf>,
    ports: Vec<u16>,
    sflow: bool,
    /// Why it is not compared (malformed on purpose).
    malformed: Option<String>,
}

fn manifest_ports(col: &str) -> Vec<u16> {
    // "3099>6343x7;4942>6343x10"
    let mut v: Vec<u16> = col
        .split(';')
        .filter_map(|p| p.split_once('>')?.1.split_once('x')?.0.parse().ok())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn corpus_cases(corpus: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(proto), Some(ports), Some(notes)) =
            (cols.first(), cols.get(1), cols.get(9), cols.get(11))
        else {
            continue;
        };
        let (dir, name) = file.split_once('/').unwrap();
        let mut files: Vec<PathBuf> = Vec::new();
        if let Some(i) = notes.find("templates are in ") {
            let rest = &notes[i + "templates are in ".len()..];
            let end = rest.find(';').unwrap_or(rest.len());
            files.extend(
                rest[..end]
                    .split(" + ")
                    .map(str::trim)
                    .filter(|s| s.ends_with(".pcap"))
                    .map(|s| corpus.join(dir).join(s)),
            );
        }
        files.push(corpus.join(file));
        let malformed = if notes.contains("malformed on purpose") {
            Some("malformed on purpose (MANIFEST)")
        } else if notes.contains("negative/edge test case") {
            Some("negative/edge test case (MANIFEST)")
        } else if name.contains("invalid") {
            Some("invalid (name)")
        } else {
            None
        };
        out.push(Case {
            source: format!("corpus {}/{}", proto, name.split("__").next().unwrap_or("")),
            label: (*file).to_owned(),
            files,
            ports: manifest_ports(ports),
            sflow: proto.starts_with("sflow"),
            malformed: malformed.map(str::to_owned),
        });
    }
    out
}

fn testdata_cases(dir: &Path) -> Vec<Case> {
    // MANIFEST.txt: "file port pkts decode malformed command".
    let text = std::fs::read_to_string(dir.join("MANIFEST.txt")).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (Some(file), Some(Ok(port))) = (cols.first(), cols.get(1).map(|p| p.parse::<u16>()))
        else {
            continue;
        };
        out.push(Case {
            source: format!("testdata {}", file.split('-').next().unwrap_or("")),
            label: format!("testdata/captures/{file}"),
            files: vec![dir.join(file)],
            ports: vec![port],
            sflow: file.contains("sflow"),
            malformed: None,
        });
    }
    // Every committed capture must be in the MANIFEST (so it is compared).
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".pcap") && name != "input-traffic.pcap" {
            assert!(
                out.iter().any(|c| c.label.ends_with(&format!("/{name}"))),
                "{name} is not in testdata/captures/MANIFEST.txt"
            );
        }
    }
    out
}

// ---------------------------------------------------------------- comparison

/// Multiset difference `a - b`.
fn minus(a: &[Key], b: &[Key]) -> Vec<Key> {
    let mut have: BTreeMap<&str, usize> = BTreeMap::new();
    for x in b {
        *have.entry(x).or_default() += 1;
    }
    let mut out = Vec::new();
    for x in a {
        match have.get_mut(x.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(x.clone()),
        }
    }
    out
}

/// Why flowwire and tshark may disagree on a record, each checked on evidence in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    /// tshark 4.0 does not skip unknown sFlow counter records (OVS 1004, 2203, 2207).
    /// Evidence: the frame is malformed for tshark, and flowwire decodes counter samples with
    /// those formats in exactly those frames. sfacctd and sfcapd agree with flowwire
    /// (testdata/captures/oracle/ovs-sflow5.nfdump.csv; openvswitch/ovs-issues#366).
    TsharkMisparsesOvsCounters,
    /// `-d udp.port==P,sflow` decodes every datagram on P as sFlow: NetFlow datagrams on the
    /// same port are not decoded by tshark. Evidence: flowwire's extra records are of another
    /// protocol than the one the port is decoded as.
    TsharkOneProtocolPerPort,
    /// tshark decodes only the first of several NetFlow v5 / IPFIX messages concatenated in
    /// one UDP payload (logstash's test files). Evidence: the UDP payload is longer than the
    /// message tshark shows, by at least as many records as flowwire decodes in addition.
    TsharkStopsAtFirstMessage,
    /// tshark stops a NetFlow v9 datagram at an exception (e.g. H3C: "Trying to fetch an IPv4
    /// address with length 2", a field length tshark hard-wires) or at the header's Count.
    /// Evidence: tshark's header Count announces at least the records flowwire adds, and the
    /// frame is malformed for tshark or its records stop short of the Count.
    TsharkStopsEarlyV9,
    /// pmacct's flowStart/EndMicroseconds (154/155) with length 16 (a 64-bit tv_sec and a
    /// 64-bit tv_usec, pmacct's `nfprobe_tstamp_usec` quirk): tshark shows them as 1970;
    /// only nfacctd decodes them (exporters.md, oracle pitfalls). flowwire keeps the 16 bytes
    /// as an octetArray extra and sets no start/end. Evidence: tshark's time is in 1970 and
    /// flowwire's record carries a 16-byte 154/155.
    TsharkPmacct16ByteMicroseconds,
    /// dateTimeMicroseconds (154/155): RFC 7011 §6.1.9 says the 11 low bits of the NTP
    /// fraction are to be ignored (microsecond precision); flowwire masks them and rounds to a
    /// whole microsecond, tshark prints every bit as nanoseconds (`.000127768`, Netscaler;
    /// `.195845999`, ipfixprobe). Evidence: flowwire's time is a whole microsecond within
    /// 1 µs of tshark's.
    TsharkMicrosecondsFullFraction,
    /// tshark truncates the NTP fraction of dateTimeNanoseconds (156/157), so it shows times
    /// 1 ns short (`.180072999`, exporters.md pitfalls) where a decoder rounding to the
    /// nearest ns gives the exporter's microsecond value. Evidence: flowwire's time is
    /// exactly 1 ns later and tshark's ends in 9. (Today flowwire truncates too: 0 of these.)
    TsharkNtpFractionTruncated,
    /// Policy, not an error: `tshark -2` decodes data sets with a template from a LATER
    /// frame (hindsight a live collector does not have). `flowwire decode` does not hold
    /// IPFIX data back for a template that comes later (the IPFIX session's pending buffer is
    /// off there). Evidence: tshark's `[Template Frame]` is after the data's frame.
    PolicyTemplateFromTheFuture,
    /// Policy, not an error: tshark never expires templates; flowwire applies the RFC 7011
    /// §8.4 UDP template lifetime (30 min). Evidence: tshark's `[Template Frame]` is more than
    /// 30 min before the data's frame.
    PolicyTemplateExpired,
}

impl Known {
    fn describe(self) -> &'static str {
        match self {
            Known::TsharkMisparsesOvsCounters => {
                "tshark wrong: misparses OVS sFlow counter records 1004/2203/2207 (frame malformed)"
            }
            Known::TsharkOneProtocolPerPort => {
                "tshark incomplete: one protocol per port (-d), other-protocol datagrams undecoded"
            }
            Known::TsharkStopsAtFirstMessage => {
                "tshark wrong: decodes only the first of concatenated v5/IPFIX messages"
            }
            Known::TsharkStopsEarlyV9 => {
                "tshark wrong: stops a v9 datagram early (exception / header Count)"
            }
            Known::TsharkPmacct16ByteMicroseconds => {
                "tshark wrong: pmacct's 16-byte 154/155 shown as 1970 (times)"
            }
            Known::TsharkMicrosecondsFullFraction => {
                "tshark wrong: dateTimeMicroseconds shown with the ignored sub-µs bits (times)"
            }
            Known::TsharkNtpFractionTruncated => {
                "tshark wrong: NTP fraction truncated, 1 ns short (times)"
            }
            Known::PolicyTemplateFromTheFuture => {
                "policy: tshark -2 uses a template from a later frame"
            }
            Known::PolicyTemplateExpired => {
                "policy: template older than the RFC 7011 lifetime (30 min), tshark keeps it"
            }
        }
    }
    fn tshark_wrong(self) -> bool {
        !matches!(
            self,
            Known::PolicyTemplateFromTheFuture | Known::PolicyTemplateExpired
        )
    }
}

/// The result of one case.
#[derive(Debug, Default, Clone)]
struct Outcome {
    compared: usize,
    agree: usize,
    /// Disagreements explained by a known cause, per cause.
    known: BTreeMap<Known, usize>,
    /// Unexplained disagreements (the test fails on any).
    unexplained: Vec<String>,
    not_compared: Option<String>,
    without_address: usize,
    /// tshark's expert messages on malformed frames, for the report.
    expert: Vec<String>,
    /// Records whose absolute start/end tshark shows (IPFIX 150-157), and how many agree.
    times_compared: usize,
    times_agree: usize,
    /// Flow samples of tshark-malformed frames that sfcapd decodes the same (of all).
    confirmed_by_sfcapd: Option<(usize, usize)>,
}

/// flowwire's sFlow flow samples in `pcap` the way sfcapd + `nfdump -o csv` shows them:
/// "sa da sp dp proto packets bytes in out", counters scaled by the sampling rate, ICMP as
/// sp=type, dp=code. `*` where sfcapd shows something else on purpose-checked grounds:
/// ports of a sample without ports in flowwire (ICMPv6: sfcapd shows 0/0; a non-first IPv6
/// fragment: sfcapd reads payload bytes as ports, 17990 = 0x4646 "FF" in ovs-sflow5, where the
/// fragment header says offset 362), and the output of a "multiple interfaces" sample
/// (sfcapd shows the count).
fn sflow_flows_nfdump_style(pcap: &Path) -> Vec<Key> {
    let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["decode", "--format", "jsonl", "--quiet", "--type", "flow"])
        .arg(pcap)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["kind"] == "sflow5" && r.get("src_addr").is_some())
        .map(|r| {
            let n = |k: &str| r[k].as_u64();
            let rate = n("sampling_interval").unwrap_or(1).max(1);
            let proto = n("protocol").unwrap_or(0);
            let (sp, dp) = match (n("src_port"), n("dst_port"), proto) {
                (Some(a), Some(b), _) => (a.to_string(), b.to_string()),
                (_, _, 1) => (opt(n("icmp_type")), opt(n("icmp_code"))),
                _ => ("*".into(), "*".into()),
            };
            format!(
                "{} {} {sp} {dp} {proto} {} {} {} {}",
                r["src_addr"].as_str().unwrap_or("-"),
                r["dst_addr"].as_str().unwrap_or("-"),
                n("packets").unwrap_or(0) * rate,
                n("octets").unwrap_or(0) * rate,
                n("in_if").unwrap_or(0),
                n("out_if").map_or_else(|| "*".into(), |v| v.to_string()),
            )
        })
        .collect()
}

/// `mine` entries (with `*` wildcards) not matched one-to-one in `theirs`.
fn unmatched_wild(mine: &[Key], theirs: &[Key]) -> Vec<Key> {
    let mut left: Vec<&Key> = theirs.iter().collect();
    let mut out = Vec::new();
    for m in mine {
        let fits = |t: &Key| {
            let (a, b): (Vec<&str>, Vec<&str>) = (m.split(' ').collect(), t.split(' ').collect());
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| *x == "*" || x == y)
        };
        match left.iter().position(|t| fits(t)) {
            Some(i) => {
                left.remove(i);
            }
            None => out.push(m.clone()),
        }
    }
    out
}

/// The flows of an `nfdump -o csv` file, as [`sflow_flows_nfdump_style`] writes them.
fn nfdump_csv_flows(csv: &str) -> Vec<Key> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n);
    let cols: Option<Vec<usize>> = ["sa", "da", "sp", "dp", "pr", "ipkt", "ibyt", "in", "out"]
        .iter()
        .map(|n| col(n))
        .collect();
    let Some(cols) = cols else { return Vec::new() };
    lines
        .map(|l| l.split(',').map(str::trim).collect::<Vec<_>>())
        .filter(|c| c.len() >= header.len())
        .map(|c| {
            let proto = match c[cols[4]] {
                "ICMP" => "1".to_owned(),
                "TCP" => "6".to_owned(),
                "UDP" => "17".to_owned(),
                "ICMP6" => "58".to_owned(),
                other => other.to_owned(),
            };
            let mut v: Vec<String> = cols.iter().map(|&i| c[i].to_owned()).collect();
            v[4] = proto;
            v.join(" ")
        })
        .collect()
}

/// `a` is a whole microsecond less than 1 µs away from `b` (same second).
fn whole_micro_near(a: &str, b: &str) -> bool {
    let ns = |t: &str| -> Option<(String, i64)> {
        let (w, f) = t.split_once('.')?;
        Some((w.to_owned(), f.parse().ok()?))
    };
    match (ns(a), ns(b)) {
        (Some((wa, fa)), Some((wb, fb))) => wa == wb && fa % 1000 == 0 && (fa - fb).abs() < 1000,
        _ => false,
    }
}

/// `a` is `b` plus exactly one nanosecond and `b`'s fraction ends in 9: tshark truncating an
/// NTP fraction that flowwire rounds (both are "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn").
fn one_ns_later(a: &str, b: &str) -> bool {
    let ns = |t: &str| -> Option<(String, u64)> {
        let (w, f) = t.split_once('.')?;
        Some((w.to_owned(), f.parse().ok()?))
    };
    match (ns(a), ns(b)) {
        (Some((wa, fa)), Some((wb, fb))) => {
            b.ends_with('9') && ((wa == wb && fa == fb + 1) || (fa == 0 && fb == 999_999_999))
        }
        _ => false,
    }
}

/// flowwire's template lifetime (the template store's default, RFC 7011 §8.4 for UDP).
const TEMPLATE_LIFETIME_S: f64 = 30.0 * 60.0;

fn run_case(case: &Case, tmp: &Path, idx: usize) -> Outcome {
    let mut o = Outcome::default();
    let (mut ours, ok) = flowwire_decode(&case.files);
    if let Some(why) = &case.malformed {
        if !ok {
            o.unexplained
                .push("flowwire decode exited non-zero on a malformed capture".into());
        }
        o.not_compared = Some(why.clone());
        return o;
    }
    assert!(ok, "flowwire decode failed on {}", case.label);
    let n_template_files = case.files.len() - 1;
    let pcap = if n_template_files > 0 {
        // Records decoded from the template files are not this capture's.
        let (pre, _) = flowwire_decode(&case.files[..n_template_files]);
        let mut keep_kinds = Vec::new();
        let mut drop: BTreeMap<&str, usize> = BTreeMap::new();
        for k in &pre.keys {
            *drop.entry(k).or_default() += 1;
        }
        let mut keep = Vec::new();
        for (k, kind) in ours.keys.iter().zip(&ours.kinds) {
            match drop.get_mut(k.as_str()) {
                Some(n) if *n > 0 => *n -= 1,
                _ => {
                    keep.push(k.clone());
                    keep_kinds.push(kind.clone());
                }
            }
        }
        ours.keys = keep;
        ours.kinds = keep_kinds;
        let merged = tmp.join(format!("{idx}.pcap"));
        let st = Command::new("mergecap")
            .args(["-a", "-F", "pcap", "-w"])
            .arg(&merged)
            .args(&case.files)
            .status()
            .unwrap();
        assert!(st.success(), "mergecap {}", case.label);
        merged
    } else {
        case.files[0].clone()
    };
    let all_frames = tshark(&pcap, &case.ports, case.sflow);
    let skip = if n_template_files > 0 {
        frame_count(&case.files[..n_template_files]).min(all_frames.len())
    } else {
        0
    };
    let frames = &all_frames[skip..];
    o.without_address = ours.without_address;

    let mut theirs: Vec<Key> = Vec::new();
    // tshark records decoded with a template from a later frame / >30 min earlier.
    let mut future: Vec<Key> = Vec::new();
    let mut expired: Vec<Key> = Vec::new();
    let (mut concatenated, mut v9_short) = (0, 0);
    let mut malformed_frames = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let number = skip + i + 1; // tshark's frame number in the (merged) file
        if f.malformed {
            malformed_frames.push(i + 1);
            o.expert.extend(f.expert.iter().cloned());
        }
        concatenated += f.concatenated_records;
        v9_short += f.count_shortfall;
        for (template, keys) in &f.sets {
            let t = template.and_then(|t| all_frames.get(t.wrapping_sub(1)));
            match t {
                Some(_) if *template > Some(number) => {
                    future.extend(keys.iter().cloned());
                }
                Some(t) if f.time - t.time > TEMPLATE_LIFETIME_S => {
                    expired.extend(keys.iter().cloned());
                }
                _ => {}
            }
        }
    }

    if case.sflow && !malformed_frames.is_empty() {
        // Which of flowwire's samples are in the frames tshark calls malformed: decode those
        // frames alone (sFlow has no state across datagrams).
        let only = tmp.join(format!("{idx}-malformed.pcap"));
        let mut cmd = Command::new("editcap");
        cmd.args(["-r", "-F", "pcap"])
            .arg(&case.files[0])
            .arg(&only);
        for n in &malformed_frames {
            cmd.arg(n.to_string());
        }
        assert!(cmd.status().unwrap().success());
        let (in_bad, _) = flowwire_decode(std::slice::from_ref(&only));
        let ovs_formats = in_bad
            .counter_formats
            .values()
            .any(|f| f.iter().any(|x| [1004, 2203, 2207].contains(x)));
        if ovs_formats {
            *o.known
                .entry(Known::TsharkMisparsesOvsCounters)
                .or_default() += in_bad.keys.len();
            // Who is right: the flow samples of those frames must be in what sfcapd decoded
            // from the same capture (testdata/captures/oracle/<name>.nfdump.csv), when there.
            let oracle = case.files[0]
                .with_extension("")
                .to_string_lossy()
                .replace("/captures/", "/captures/oracle/")
                + ".nfdump.csv";
            if let Ok(csv) = std::fs::read_to_string(&oracle) {
                let mine = sflow_flows_nfdump_style(&only);
                let theirs = nfdump_csv_flows(&csv);
                let missing = unmatched_wild(&mine, &theirs);
                o.confirmed_by_sfcapd = Some((mine.len() - missing.len(), mine.len()));
                for m in missing {
                    o.unexplained.push(format!(
                        "flow sample in a tshark-malformed frame not in sfcapd's decode: {m}"
                    ));
                }
            }
            let mut keep_kinds = Vec::new();
            let mut keep = Vec::new();
            let mut drop: BTreeMap<&str, usize> = BTreeMap::new();
            for k in &in_bad.keys {
                *drop.entry(k).or_default() += 1;
            }
            for (k, kind) in ours.keys.iter().zip(&ours.kinds) {
                match drop.get_mut(k.as_str()) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        keep.push(k.clone());
                        keep_kinds.push(kind.clone());
                    }
                }
            }
            ours.keys = keep;
            ours.kinds = keep_kinds;
            for f in frames.iter().filter(|f| !f.malformed) {
                theirs.extend(f.keys().cloned());
            }
        } else {
            for f in frames {
                theirs.extend(f.keys().cloned());
            }
        }
    } else {
        for f in frames {
            theirs.extend(f.keys().cloned());
        }
    }

    let tshark_only = minus(&theirs, &ours.keys);
    let ours_only = minus(&ours.keys, &theirs);
    o.compared = theirs.len();
    o.agree = theirs.len() - tshark_only.len();

    // tshark shows more: only where it used a template flowwire must not (policy).
    let not_future = minus(&tshark_only, &future);
    let n_future = tshark_only.len() - not_future.len();
    let not_expired = minus(&not_future, &expired);
    let n_expired = not_future.len() - not_expired.len();
    if n_future > 0 {
        *o.known
            .entry(Known::PolicyTemplateFromTheFuture)
            .or_default() += n_future;
    }
    if n_expired > 0 {
        *o.known.entry(Known::PolicyTemplateExpired).or_default() += n_expired;
    }
    for k in &not_expired {
        o.unexplained.push(format!("tshark only:   {k}"));
    }

    // flowwire decodes more: of another protocol than the port's, or within what tshark
    // itself shows it left out.
    let mut extra = Vec::new();
    for k in &ours_only {
        let i = ours.keys.iter().position(|x| x == k).unwrap();
        if case.sflow != (ours.kinds[i] == "sflow5") {
            *o.known.entry(Known::TsharkOneProtocolPerPort).or_default() += 1;
        } else {
            extra.push(k.clone());
        }
    }
    if !extra.is_empty() {
        if extra.len() <= concatenated {
            *o.known.entry(Known::TsharkStopsAtFirstMessage).or_default() += extra.len();
        } else if extra.len() <= v9_short {
            *o.known.entry(Known::TsharkStopsEarlyV9).or_default() += extra.len();
        } else {
            for k in extra {
                o.unexplained.push(format!("flowwire only: {k}"));
            }
        }
    }
    // Absolute start/end (IPFIX 150-157), for the records both decoded.
    // `usable`: a set flowwire decodes by policy too (not a later or expired template).
    let mut theirs_t: Vec<(Key, String, bool)> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let number = skip + i + 1;
        if case.sflow && malformed_frames.contains(&(i + 1)) {
            continue;
        }
        for (template, k, t) in &f.timed {
            let usable = match template.and_then(|t| all_frames.get(t.wrapping_sub(1))) {
                Some(_) if *template > Some(number) => false,
                Some(t) => f.time - t.time <= TEMPLATE_LIFETIME_S,
                None => true,
            };
            theirs_t.push((k.clone(), t.clone(), usable));
        }
    }
    let mut ours_by_key: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
    for (k, t, p) in &ours.timed {
        ours_by_key.entry(k).or_default().push((t, *p));
    }
    // Records flowwire should have first, so that a policy record cannot take their match.
    theirs_t.sort_by_key(|(_, _, usable)| !usable);
    for (k, t, usable) in &theirs_t {
        let Some(cands) = ours_by_key.get_mut(k.as_str()) else {
            continue; // not decoded by flowwire: already counted above
        };
        o.times_compared += 1;
        if let Some(i) = cands.iter().position(|(ot, _)| *ot == t.as_str()) {
            cands.remove(i);
            o.times_agree += 1;
            continue;
        }
        let (ts, te) = t.split_once(' ').unwrap();
        let explained = cands.iter().position(|(ot, p16)| {
            let (os, oe) = ot.split_once(' ').unwrap();
            if *p16 && ts.starts_with("1970-") && te.starts_with("1970-") {
                *o.known
                    .entry(Known::TsharkPmacct16ByteMicroseconds)
                    .or_default() += 1;
                true
            } else if (os == ts || whole_micro_near(os, ts))
                && (oe == te || whole_micro_near(oe, te))
            {
                *o.known
                    .entry(Known::TsharkMicrosecondsFullFraction)
                    .or_default() += 1;
                true
            } else if (os == ts || one_ns_later(os, ts)) && (oe == te || one_ns_later(oe, te)) {
                *o.known
                    .entry(Known::TsharkNtpFractionTruncated)
                    .or_default() += 1;
                true
            } else {
                false
            }
        });
        match explained {
            Some(i) => {
                cands.remove(i);
            }
            // A record of a set flowwire does not decode by policy (counted above).
            None if !usable => o.times_compared -= 1,
            None => o.unexplained.push(format!(
                "times differ: {k}: tshark {t}, flowwire {:?}",
                cands.iter().map(|c| c.0).collect::<Vec<_>>()
            )),
        }
    }
    o.expert.sort();
    o.expert.dedup();
    o
}

/// Frames in the given capture files (for skipping the template files' frames in tshark's
/// decode of the merged file).
fn frame_count(files: &[PathBuf]) -> usize {
    files
        .iter()
        .map(|f| {
            let out = run_ok(
                Command::new("capinfos")
                    .args(["-c", "-M", "-T", "-r"])
                    .arg(f),
            );
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .last()
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn flowwire_agrees_with_tshark() {
    if !["tshark", "mergecap", "editcap", "capinfos"]
        .iter()
        .all(|t| have(t))
    {
        println!("skipped: tshark (with mergecap, editcap, capinfos) not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = testdata_cases(&root.join("../testdata/captures"));
    let corpus = root.join("../../shared/corpus");
    if corpus.join("MANIFEST.tsv").exists() {
        cases.extend(corpus_cases(&corpus));
    } else {
        println!(
            "note: shared corpus not found at {}: only the committed captures are compared",
            corpus.display()
        );
    }
    /// Removed on drop, also when a case panics.
    struct TempDir(PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let tmp = TempDir(
        std::env::temp_dir().join(format!("flowwire-interop-tshark-{}", std::process::id())),
    );
    std::fs::create_dir_all(&tmp.0).unwrap();
    let tmp = &tmp.0;
    let started = std::time::Instant::now();

    // Two workers: tshark and flowwire are separate processes, so this halves the wall time.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, Outcome)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(c) = cases.get(i) else { break };
                        mine.push((i, run_case(c, tmp, i)));
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<(usize, Outcome)> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all
    });

    // Per-source table.
    #[derive(Default)]
    struct Row {
        files: usize,
        not_compared: usize,
        compared: usize,
        agree: usize,
        tshark_wrong: usize,
        policy: usize,
        unexplained: usize,
        without_address: usize,
        times: usize,
        times_agree: usize,
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut reasons: BTreeMap<Known, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, o) in &results {
        let c = &cases[*i];
        let r = rows.entry(c.source.clone()).or_default();
        r.files += 1;
        r.not_compared += usize::from(o.not_compared.is_some());
        r.compared += o.compared;
        r.agree += o.agree;
        r.without_address += o.without_address;
        r.unexplained += o.unexplained.len();
        r.times += o.times_compared;
        r.times_agree += o.times_agree;
        for (k, v) in &o.known {
            *reasons.entry(*k).or_default() += v;
            if k.tshark_wrong() {
                r.tshark_wrong += v;
            } else {
                r.policy += v;
            }
            println!("{}: {v} records: {}", c.label, k.describe());
        }
        if let Some((ok, all)) = o.confirmed_by_sfcapd {
            println!(
                "{}: {ok} of {all} flow samples in the frames tshark misparses are decoded the \
                 same by sfcapd (testdata/captures/oracle)",
                c.label
            );
        }
        if !o.expert.is_empty() && o.not_compared.is_none() {
            println!("{}: tshark expert messages: {:?}", c.label, o.expert);
        }
        if !o.unexplained.is_empty() {
            println!(
                "{}: {} UNEXPLAINED disagreements:",
                c.label,
                o.unexplained.len()
            );
            for u in o.unexplained.iter().take(8) {
                println!("    {u}");
            }
            failures.push(c.label.clone());
        }
    }
    let line = |name: &str, r: &Row| {
        println!(
            "{name:<28} {:>5} {:>5} {:>8} {:>6} {:>7} {:>7} {:>11} {:>7} {:>6} {:>6}",
            r.files,
            r.not_compared,
            r.compared,
            r.agree,
            r.tshark_wrong,
            r.policy,
            r.unexplained,
            r.without_address,
            r.times,
            r.times_agree
        );
    };
    println!(
        "\n{:<28} {:>5} {:>5} {:>8} {:>6} {:>7} {:>7} {:>11} {:>7} {:>6} {:>6}",
        "source",
        "files",
        "skip",
        "compared",
        "agree",
        "tshark✗",
        "policy",
        "unexplained",
        "no addr",
        "times",
        "t-agr"
    );
    let mut total = Row::default();
    for (src, r) in &rows {
        line(src, r);
        total.files += r.files;
        total.not_compared += r.not_compared;
        total.compared += r.compared;
        total.agree += r.agree;
        total.tshark_wrong += r.tshark_wrong;
        total.policy += r.policy;
        total.unexplained += r.unexplained;
        total.without_address += r.without_address;
        total.times += r.times;
        total.times_agree += r.times_agree;
    }
    line("TOTAL", &total);
    for (k, v) in &reasons {
        println!("  {v:>5} {}", k.describe());
    }
    println!(
        "compared = records/samples tshark shows; agree = equal in flowwire; tshark✗ = \
         disagreements where tshark is wrong (flowwire right), policy = template policy \
         differences (see Known); skip = malformed on purpose (flowwire must exit 0, not \
         compared); no addr = flowwire flow records without addresses (not compared); times = \
         records both decoded whose absolute start/end tshark shows (IPFIX 150-157), t-agr = \
         equal to the ns. {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "unexplained disagreements with tshark in {failures:?}"
    );
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
