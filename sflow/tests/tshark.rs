//! Compares the decode of every corpus capture (by `Session::decode`, as a collector does)
//! with tshark's, per flow sample: agent, sequence, sampling rate, input/output interface,
//! the sampled header's addresses and ports, extended router and gateway; and per counter
//! sample: sequence, source, record formats and the generic interface counters. Skips (with
//! a message) when tshark or the corpus is absent. Prints the figures.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use flowwire_sflow::Session;
use flowwire_sflow::convert::{Counters, DatagramInfo, flow_record_into};
use flowwire_sflow::record::codec::{CounterSample, DecodeError, Decoder, Sink};
use flowwire_sflow::record::{FlowRecord, ProtocolKind, Timestamp};
use flowwire_sflow::repr::CounterData;
use flowwire_sflow::wire::{Datagram, SampleView};

/// A JSON value that keeps duplicate keys (tshark repeats them).
#[derive(Debug)]
enum Node {
    Str(String),
    Obj(Vec<(String, Node)>),
    Arr(Vec<Node>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("json")
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Node::Arr(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, Node>()? {
                    v.push((k, x));
                }
                Ok(Node::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Obj(v) => v.iter().find(|(k, _)| k == key).map(|(_, n)| n),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Node::Str(s)) => Some(s),
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
    fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Obj(v) => v,
            _ => &[],
        }
    }
}

/// What is compared per flow sample.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cmp {
    agent: Option<String>,
    sequence: Option<u64>,
    rate: Option<u64>,
    input: Option<(u64, u64)>,
    output: Option<(u64, u64)>,
    src: Option<String>,
    dst: Option<String>,
    sport: Option<u64>,
    dport: Option<u64>,
    /// Extended gateway: BGP next hop, source AS, last AS of the destination path.
    gateway: Option<(Option<String>, Option<u64>, Option<u64>)>,
    /// Extended router: next hop, source and destination prefix lengths.
    router: Option<(Option<String>, Option<u64>, Option<u64>)>,
    /// Ours only: the header is the first fragment of a fragmented IPv6 packet, whose
    /// transport header tshark 4.0 does not dissect (it stops at the fragment header).
    v6_first_fragment: bool,
}

fn tshark_samples(frame: &Node) -> Option<Vec<Cmp>> {
    let layers = frame.get("_source")?.get("layers")?;
    let sflow = layers.get("sflow")?;
    if sflow.num("sflow_245.version") != Some(5) {
        return None;
    }
    let agent = sflow
        .str("sflow_245.agent")
        .or_else(|| sflow.str("sflow_245.agent.v6"))
        .map(str::to_string);
    let mut out = Vec::new();
    for (k, s) in sflow.entries() {
        if !(k.starts_with("Flow sample") || k.starts_with("Expanded flow sample")) {
            continue;
        }
        let iface = |dir: &str| -> Option<(u64, u64)> {
            if let Some(raw) = s.num(&format!("sflow.flow_sample.{dir}_interface")) {
                return Some((raw >> 30, raw & 0x3fff_ffff));
            }
            let f = s
                .num(&format!("sflow.flow_sample.{dir}_interface_format"))
                .or_else(|| s.num(&format!("sflow.flow_sample.{dir}_interface.format")))?;
            Some((
                f,
                s.num(&format!("sflow.flow_sample.{dir}_interface_value"))?,
            ))
        };
        let mut c = Cmp {
            agent: agent.clone(),
            sequence: s.num("sflow.flow_sample.sequence_number"),
            rate: s.num("sflow.flow_sample.sampling_rate"),
            input: iface("input"),
            output: iface("output"),
            src: None,
            dst: None,
            sport: None,
            dport: None,
            v6_first_fragment: false,
            gateway: None,
            router: None,
        };
        for (name, r) in s.entries() {
            if name.starts_with("Extended gateway") {
                let mut last = None;
                fn walk(n: &Node, last: &mut Option<u64>) {
                    for (k, v) in n.entries() {
                        if let (true, Node::Str(x)) = (k == "sflow_245.dstAS", v) {
                            *last = x.parse().ok();
                        }
                        // tshark labels communities with the dstAS field too: skip them.
                        if !k.to_ascii_lowercase().contains("communit") {
                            walk(v, last);
                        }
                    }
                }
                walk(r, &mut last);
                c.gateway = Some((
                    r.str("sflow_245.nexthop")
                        .or_else(|| r.str("sflow_245.nexthop.v6"))
                        .map(str::to_string),
                    r.num("sflow_245.srcAS"),
                    last,
                ));
            }
            if name.starts_with("Extended router") {
                c.router = Some((
                    r.str("sflow_245.nexthop")
                        .or_else(|| r.str("sflow_245.nexthop.v6"))
                        .map(str::to_string),
                    r.num("sflow_245.nexthop.src_mask"),
                    r.num("sflow_245.nexthop.dst_mask"),
                ));
            }
        }
        if let Some(tree) = s
            .get("Raw packet header")
            .and_then(|h| h.get("sflow_245.header_tree"))
        {
            for (layer, n) in tree.entries() {
                match layer.as_str() {
                    "ip" if c.src.is_none() => {
                        c.src = n.str("ip.src").map(str::to_string);
                        c.dst = n.str("ip.dst").map(str::to_string);
                    }
                    "ipv6" if c.src.is_none() => {
                        c.src = n.str("ipv6.src").map(str::to_string);
                        c.dst = n.str("ipv6.dst").map(str::to_string);
                    }
                    "tcp" | "udp" | "sctp" if c.sport.is_none() => {
                        c.sport = n.num(&format!("{layer}.srcport"));
                        c.dport = n.num(&format!("{layer}.dstport"));
                    }
                    _ => {}
                }
            }
        }
        out.push(c);
    }
    Some(out)
}

/// What is compared per counter sample.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CounterCmp {
    sequence: Option<u64>,
    source_index: Option<u64>,
    formats: Vec<u64>,
    /// ifIndex, ifInOctets, ifOutOctets, ifInUcastPkts, ifOutUcastPkts of record 0:1.
    interface: Option<[Option<u64>; 5]>,
}

fn tshark_counters(frame: &Node) -> Option<Vec<CounterCmp>> {
    let layers = frame.get("_source")?.get("layers")?;
    let sflow = layers.get("sflow")?;
    if sflow.num("sflow_245.version") != Some(5)
        || layers.get("_ws.malformed").is_some()
        || sflow.get("_ws.malformed").is_some()
    {
        return None;
    }
    let mut out = Vec::new();
    for (k, s) in sflow.entries() {
        if !(k.starts_with("Counters sample") || k.starts_with("Expanded counters sample")) {
            continue;
        }
        let mut c = CounterCmp {
            sequence: s.num("sflow.counters_sample.sequence_number"),
            source_index: s
                .num("sflow.counters_sample.source_id_index")
                .or_else(|| s.num("sflow.counters_sample.index")),
            formats: Vec::new(),
            interface: None,
        };
        for (_, r) in s.entries() {
            let Some(f) = r.num("sflow_245.counters_record_format") else {
                continue;
            };
            c.formats.push(f);
            if f == 1 {
                c.interface = Some([
                    r.num("sflow_245.ifindex"),
                    r.num("sflow_245.ifinoct"),
                    r.num("sflow_245.ifoutoct"),
                    r.num("sflow_245.ifinpkt"),
                    r.num("sflow_245.ifoutpkt"),
                ]);
            }
        }
        out.push(c);
    }
    Some(out)
}

/// What the session hands out for one datagram: flows, counter samples (their detail), and
/// errors.
#[derive(Default)]
struct Decoded {
    flows: Vec<FlowRecord>,
    counters: Vec<(u32, Option<u32>, Counters)>,
    errors: Vec<String>,
}

impl Sink for Decoded {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows.push(flow.clone());
    }
    fn counters(&mut self, c: &CounterSample<'_>) {
        let detail = c.detail::<Counters>().expect("sFlow counters");
        self.counters.push((c.source, c.if_index, detail.clone()));
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        self.errors.push(error.to_string());
    }
}

/// Decodes a datagram as a collector does: `Session::decode`, into a sink. `None` when the
/// datagram is not sFlow (or its header does not decode).
fn session_decode(payload: &[u8]) -> Option<Decoded> {
    Datagram::new_checked(payload).ok()?;
    let mut out = Decoded::default();
    let exporter = "192.0.2.1:6343".parse().unwrap();
    Session::default().decode(exporter, Timestamp::default(), payload, &mut out);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    Some(out)
}

fn our_counters(payload: &[u8]) -> Option<Vec<CounterCmp>> {
    let decoded = session_decode(payload)?;
    Some(
        decoded
            .counters
            .iter()
            .map(|(source, if_index, c)| {
                // The neutral fields agree with the detail.
                assert_eq!(
                    *source,
                    (c.source.class << 24) | (c.source.index & 0xff_ffff)
                );
                assert_eq!(*if_index, c.if_index());
                CounterCmp {
                    sequence: Some(u64::from(c.sequence)),
                    source_index: Some(u64::from(c.source.index)),
                    formats: c.records.iter().map(|r| u64::from(r.tag().1)).collect(),
                    interface: c.records.iter().find_map(|r| match r {
                        CounterData::Interface(i) => Some([
                            Some(u64::from(i.if_index)),
                            Some(i.if_in_octets),
                            Some(i.if_out_octets),
                            Some(u64::from(i.if_in_ucast_pkts)),
                            Some(u64::from(i.if_out_ucast_pkts)),
                        ]),
                        _ => None,
                    }),
                }
            })
            .collect(),
    )
}

/// Our flow samples: the fields of the records the session decodes, with what a record does
/// not hold (the raw interface format, which records the sample had, whether the header is
/// an IPv6 first fragment) from the wire views.
fn ours(payload: &[u8]) -> Option<Vec<Cmp>> {
    let decoded = session_decode(payload)?;
    let d = Datagram::new_checked(payload).ok()?;
    let dg = DatagramInfo::of(&d);
    let mut flows = decoded.flows.iter();
    let mut rec = FlowRecord::new(ProtocolKind::Sflow5);
    let mut out = Vec::new();
    for s in d.samples() {
        let view = s.and_then(|s| s.view());
        if let Ok(SampleView::Discarded(_)) = view {
            flows.next();
        }
        let Ok(SampleView::Flow(f)) = view else {
            continue;
        };
        let flow = flows.next().expect("one record per flow sample");
        let h = flow_record_into(&dg, &f, &mut rec, &mut Vec::new());
        assert_eq!(flow.exporter(), Some("192.0.2.1:6343".parse().unwrap()));
        rec.set_exporter(flow.exporter());
        assert_eq!(&rec, flow, "the session gives what flow_record_into gives");
        let v6_first_fragment = h.is_some_and(|h| {
            h.outer.fragmented && h.outer.flow_label.is_some() && h.outer.src_port.is_some()
        });
        out.push(Cmp {
            agent: flow.agent().map(|a| a.to_string()),
            sequence: flow.sequence().map(u64::from),
            rate: flow.sampling_interval().map(u64::from),
            input: Some((u64::from(f.input.format), u64::from(f.input.value))),
            output: Some((u64::from(f.output.format), u64::from(f.output.value))),
            src: flow.src_addr().map(|a| a.to_string()),
            dst: flow.dst_addr().map(|a| a.to_string()),
            sport: flow.src_port().map(u64::from),
            dport: flow.dst_port().map(u64::from),
            v6_first_fragment,
            gateway: f
                .records
                .filter_map(Result::ok)
                .any(|r| r.format == 1003)
                .then(|| {
                    (
                        flow.bgp_next_hop().map(|a| a.to_string()),
                        flow.src_as().map(u64::from),
                        flow.dst_as().map(u64::from),
                    )
                }),
            router: f
                .records
                .filter_map(Result::ok)
                .any(|r| r.format == 1002)
                .then(|| {
                    (
                        flow.next_hop().map(|a| a.to_string()),
                        flow.src_mask().map(u64::from),
                        flow.dst_mask().map(u64::from),
                    )
                }),
        });
    }
    assert!(flows.next().is_none());
    Some(out)
}

#[test]
fn flow_samples_match_tshark() {
    if Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("SKIP: tshark not installed");
        return;
    }
    let files = common::all_sflow_files();
    let (mut total, mut total_bad) = (0, 0);
    for (path, malformed) in files {
        if malformed {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let udps = common::udp_payloads(&bytes);
        let ports: BTreeSet<u16> = udps.iter().map(|u| u.dst_port).collect();
        let mut cmd = Command::new("tshark");
        cmd.arg("-r").arg(&path).args(["-T", "json"]);
        for p in ports {
            cmd.args(["-d", &format!("udp.port=={p},sflow")]);
        }
        let out = run_ok(&mut cmd);
        let frames: Node = serde_json::from_slice(&out.stdout).unwrap();
        let Node::Arr(frames) = frames else {
            panic!("tshark output")
        };
        let (mut n, mut bad, mut with_addr, mut with_ports, mut frag) = (0, 0, 0, 0, 0);
        let mut with_gw = 0;
        let mut skipped = 0;
        let (mut cn, mut cbad, mut cskipped) = (0, 0, 0);
        for (udp, frame) in udps.iter().zip(frames.iter()) {
            if let Some(mine) = our_counters(&udp.payload) {
                match tshark_counters(frame) {
                    Some(theirs) => {
                        assert_eq!(mine.len(), theirs.len(), "{path:?} frame {}", udp.frame);
                        for (a, b) in mine.iter().zip(&theirs) {
                            cn += 1;
                            if a != b {
                                cbad += 1;
                                eprintln!(
                                    "{path:?} frame {} counters:\n ours   {a:?}\n tshark {b:?}",
                                    udp.frame
                                );
                            }
                        }
                    }
                    None => cskipped += mine.len(),
                }
            }
            let Some(theirs) = tshark_samples(frame) else {
                let malformed = frame
                    .get("_source")
                    .and_then(|s| s.get("layers"))
                    .is_some_and(|l| {
                        l.get("_ws.malformed").is_some()
                            || l.get("sflow")
                                .and_then(|s| s.get("_ws.malformed"))
                                .is_some()
                    });
                if malformed {
                    skipped += ours(&udp.payload).map_or(0, |v| v.len());
                }
                continue;
            };
            let Some(mine) = ours(&udp.payload) else {
                continue;
            };
            assert_eq!(mine.len(), theirs.len(), "{path:?} frame {}", udp.frame);
            for (a, b) in mine.iter().zip(&theirs) {
                n += 1;
                with_addr += usize::from(b.src.is_some());
                with_ports += usize::from(b.sport.is_some());
                with_gw += usize::from(b.gateway.is_some() || b.router.is_some());
                let a_frag = Cmp {
                    sport: None,
                    dport: None,
                    v6_first_fragment: false,
                    ..a.clone()
                };
                if a.v6_first_fragment && a_frag == *b {
                    frag += 1;
                } else if a != b {
                    bad += 1;
                    eprintln!(
                        "{path:?} frame {}:\n ours   {a:?}\n tshark {b:?}",
                        udp.frame
                    );
                }
            }
        }
        println!(
            "{}: flow samples {n} (tshark shows addresses in {with_addr}, ports in {with_ports}, router/gateway records in {with_gw}), equal to tshark {}, IPv6 first fragments with ports tshark does not show {frag}, mismatches {bad}; in datagrams tshark marks malformed (not compared) {skipped}",
            path.file_name().unwrap().to_string_lossy(),
            n - bad - frag
        );
        println!(
            "{}: counter samples {cn}, equal to tshark {}, mismatches {cbad}; in datagrams tshark marks malformed (not compared) {cskipped}",
            path.file_name().unwrap().to_string_lossy(),
            cn - cbad
        );
        total += n;
        total_bad += bad + cbad;
    }
    println!("total: flow samples {total}, mismatches {total_bad}");
    assert_eq!(total_bad, 0);
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
