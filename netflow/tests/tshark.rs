//! Compares flowwire's decode of every corpus capture with tshark's (the oracle): each flow
//! tshark decodes must be decoded by flowwire with the same 5-tuple, octets and packets.
//! flowwire may decode more (it decodes all messages concatenated in one payload and data
//! sets that tshark cannot, e.g. after a malformed field). Prints per-file figures.
//!
//! Skips with a message when tshark or the corpus is absent. Captures that need templates
//! from other files are merged after them (mergecap) for tshark and fed after them through
//! one session for flowwire.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use flowwire_netflow::exporter::{V9Exporter, V9ExporterConfig};
use flowwire_netflow::record::{Decoder, Exporter};
use flowwire_netflow::record::{FlowRecord, Timestamp};
use flowwire_netflow::repr::v5::V5Repr;
use flowwire_netflow::session::Session;

/// tshark's JSON, keeping repeated keys in order (tshark repeats `cflow.srcport` when a
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
            fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
                Ok(Json::Other)
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

type Fields = [(String, Json)];

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// "src dst sport dport proto octets packets", "-" for what is absent.
fn key(parts: [Option<String>; 7]) -> String {
    parts
        .iter()
        .map(|p| p.clone().unwrap_or_else(|| "-".into()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ours(r: &FlowRecord) -> String {
    key([
        r.src_addr().map(|a| a.to_string()),
        r.dst_addr().map(|a| a.to_string()),
        r.src_port().map(|a| a.to_string()),
        r.dst_port().map(|a| a.to_string()),
        r.protocol().map(|a| a.to_string()),
        r.octets().map(|a| a.to_string()),
        r.packets().map(|a| a.to_string()),
    ])
}

fn get<'j>(f: &'j Fields, key: &str) -> Option<&'j str> {
    f.iter().find_map(|(k, v)| match v {
        Json::Str(s) if k == key => Some(s.as_str()),
        _ => None,
    })
}

fn theirs(f: &Fields) -> String {
    let s = |k: &str| get(f, k).map(str::to_owned);
    let n = |k: &str| s(k).and_then(|v| v.parse::<u64>().ok());
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
    key([
        s("cflow.srcaddr").or_else(|| s("cflow.srcaddrv6")),
        s("cflow.dstaddr").or_else(|| s("cflow.dstaddrv6")),
        s("cflow.srcport"),
        s("cflow.dstport"),
        s("cflow.protocol"),
        octets.map(|v| v.to_string()),
        packets.map(|v| v.to_string()),
    ])
}

fn is_flow(f: &Fields) -> bool {
    [
        "cflow.srcaddr",
        "cflow.srcaddrv6",
        "cflow.dstaddr",
        "cflow.dstaddrv6",
    ]
    .iter()
    .any(|k| get(f, k).is_some())
}

fn collect_flows(j: &Json, out: &mut Vec<String>) {
    match j {
        Json::Obj(m) => {
            for (k, v) in m {
                match v {
                    Json::Obj(f) if k.starts_with("Flow ") || k.starts_with("pdu ") => {
                        if is_flow(f) {
                            out.push(theirs(f));
                        }
                    }
                    _ => collect_flows(v, out),
                }
            }
        }
        Json::Arr(a) => a.iter().for_each(|x| collect_flows(x, out)),
        _ => {}
    }
}

fn tshark_flows(pcap: &Path, ports: &[u16], skip_frames: usize) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-2")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "json", "-J", "cflow"]);
    for p in ports {
        cmd.arg("-d").arg(format!("udp.port=={p},cflow"));
    }
    let out = run_ok(&mut cmd);
    let j: Json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Arr(vec![]));
    let mut flows = Vec::new();
    if let Json::Arr(frames) = j {
        for f in frames.iter().skip(skip_frames) {
            collect_flows(f, &mut flows);
        }
    }
    flows
}

/// Multiset difference `a - b`.
fn missing(a: &[String], b: &[String]) -> Vec<String> {
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

/// One comparison: a label, and the capture files in order (template files first, the
/// capture itself last).
struct Case {
    label: String,
    files: Vec<PathBuf>,
}

/// The cases: every non-malformed capture of the shared corpus, and the exporter captures
/// committed in the repository's `testdata/captures` (softflowd, pmacct, fprobe, Open vSwitch).
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    if let Some(corpus) = common::corpus() {
        for proto in ["netflow5", "netflow9"] {
            let dir = corpus.join(proto);
            for row in common::manifest(&corpus, proto) {
                if row.malformed() {
                    continue;
                }
                let name = row.file.trim_start_matches(&format!("{proto}/")).to_owned();
                let mut files: Vec<PathBuf> =
                    row.template_files().iter().map(|f| dir.join(f)).collect();
                files.push(dir.join(&name));
                out.push(Case {
                    label: row.file.clone(),
                    files,
                });
            }
        }
    } else {
        eprintln!("SKIP: shared corpus not found");
    }
    let local = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/captures"));
    if let Ok(dir) = std::fs::read_dir(&local) {
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.contains("netflow") && n.ends_with(".pcap"))
            .collect();
        names.sort();
        for n in names {
            out.push(Case {
                label: format!("testdata/captures/{n}"),
                files: vec![local.join(n)],
            });
        }
    } else {
        eprintln!("SKIP: testdata/captures not found");
    }
    out
}

#[test]
fn records_match_tshark() {
    if !have("tshark") || !have("mergecap") {
        eprintln!("SKIP: tshark/mergecap not installed");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("flowwire-netflow-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (mut total_t, mut total_o, mut total_missing) = (0, 0, 0);
    let mut failures = Vec::new();
    println!(
        "{:<78} {:>7} {:>9} {:>7}",
        "capture", "tshark", "flowwire", "missing"
    );
    for (i, case) in cases().into_iter().enumerate() {
        let files = &case.files;
        let skip_frames: usize = files[..files.len() - 1]
            .iter()
            .map(|f| common::read_pcap(f).len())
            .sum();
        let merged = if files.len() > 1 {
            let m = tmp.join(format!("{i}.pcap"));
            let st = Command::new("mergecap")
                .arg("-a")
                .arg("-w")
                .arg(&m)
                .args(files)
                .status()
                .unwrap();
            assert!(st.success());
            m
        } else {
            files[0].clone()
        };
        // flowwire: one session over the template files and then the capture.
        let mut session = Session::default();
        let mut ports = Vec::new();
        let mut mine = Vec::new();
        for (i, f) in files.iter().enumerate() {
            for d in common::read_pcap(f) {
                if !ports.contains(&d.dst_port) {
                    ports.push(d.dst_port);
                }
                let last = i + 1 == files.len();
                session.decode(d.src, d.time, &d.payload, &mut |r: &FlowRecord| {
                    if last && (r.src_addr().is_some() || r.dst_addr().is_some()) {
                        mine.push(ours(r));
                    }
                });
            }
        }
        let theirs = tshark_flows(&merged, &ports, skip_frames);
        let miss = missing(&theirs, &mine);
        if theirs.is_empty() && mine.is_empty() {
            continue;
        }
        println!(
            "{:<78} {:>7} {:>9} {:>7}",
            case.label,
            theirs.len(),
            mine.len(),
            miss.len()
        );
        for m in &miss {
            println!("    tshark only: {m}");
        }
        if mine.len() != theirs.len() || !miss.is_empty() {
            for m in missing(&mine, &theirs).iter().take(3) {
                println!("    flowwire only (e.g.): {m}");
            }
        }
        total_t += theirs.len();
        total_o += mine.len();
        total_missing += miss.len();
        if !miss.is_empty() {
            failures.push(case.label.clone());
        }
    }
    println!(
        "TOTAL: tshark {total_t} records, flowwire {total_o}, tshark records not matched {total_missing}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "mismatches in {failures:?}");
}

/// Deterministic, varied records: IPv4 and IPv6, TCP/UDP/ICMP, counters of all sizes.
fn sample_records(n: u32, v6: bool) -> Vec<FlowRecord> {
    (0..n)
        .map(|i| {
            let (src, dst): (std::net::IpAddr, std::net::IpAddr) = if v6 && i % 3 == 0 {
                (
                    format!("2001:db8::{:x}", i + 1).parse().unwrap(),
                    format!("2001:db8:1::{:x}", i * 7 + 1).parse().unwrap(),
                )
            } else {
                (
                    std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
                    std::net::Ipv4Addr::from(0xc000_0200 + (i % 250)).into(),
                )
            };
            let proto = [6u8, 17, 1][(i % 3) as usize];
            {
                let mut built = FlowRecord::default();
                built.set_src_addr(Some(src));
                built.set_dst_addr(Some(dst));
                built.set_src_port((proto != 1).then_some(1024 + i as u16));
                built.set_dst_port((proto != 1).then_some([80u16, 443, 53][(i % 3) as usize]));
                built.set_protocol(Some(proto));
                built.set_octets(Some(u64::from(i) * 977 + 40));
                built.set_packets(Some(u64::from(i % 50) + 1));
                built.set_start(Some(Timestamp::from_unix_millis(
                    1_700_000_000_000 + i64::from(i),
                )));
                built.set_end(Some(Timestamp::from_unix_millis(1_700_000_030_000)));
                built
            }
        })
        .collect()
}

/// flowwire's encoders checked by an independent decoder: FlowRecords → v9 exporter and
/// → v5 datagrams → pcap → tshark gives back the same 5-tuples, octets and packets.
#[test]
fn encoder_output_matches_tshark() {
    if !have("tshark") {
        eprintln!("SKIP: tshark not installed");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("flowwire-netflow-enc-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    let records = sample_records(300, true);
    let boot = Timestamp::from_unix_secs(1_699_990_000);
    let now = Timestamp::from_unix_secs(1_700_000_031);
    let mut e = V9Exporter::new(V9ExporterConfig {
        template_refresh_packets: 4,
        boot: Some(boot),
        ..V9ExporterConfig::default()
    });
    let mut packets: Vec<Vec<u8>> = Vec::new();
    for r in &records {
        e.push(r, now, &mut |p| packets.push(p.to_vec())).unwrap();
    }
    e.flush(now, &mut |p| packets.push(p.to_vec())).unwrap();
    let v9 = tmp.join("v9.pcap");
    common::write_pcap(&v9, 2055, &packets);
    let theirs = tshark_flows(&v9, &[2055], 0);
    let want: Vec<String> = records.iter().map(ours).collect();
    println!(
        "v9 exporter: {} records in {} packets (largest {} bytes); tshark decodes {}",
        records.len(),
        packets.len(),
        packets.iter().map(Vec::len).max().unwrap_or(0),
        theirs.len()
    );
    assert_eq!(missing(&want, &theirs), Vec::<String>::new());
    assert_eq!(theirs.len(), want.len());

    let v4 = sample_records(100, false);
    let datagrams: Vec<Vec<u8>> = V5Repr::from_flow_records(&v4, now, 10_000_000, 0)
        .unwrap()
        .iter()
        .map(|d| d.to_vec().unwrap())
        .collect();
    let v5 = tmp.join("v5.pcap");
    common::write_pcap(&v5, 2055, &datagrams);
    let theirs = tshark_flows(&v5, &[2055], 0);
    // v5 has no "absent" ports: ICMP records carry port 0.
    let want: Vec<String> = v4
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.set_src_port(Some(r.src_port().unwrap_or(0)));
            r.set_dst_port(Some(r.dst_port().unwrap_or(0)));
            ours(&r)
        })
        .collect();
    println!(
        "v5: {} records in {} datagrams; tshark decodes {}",
        v4.len(),
        datagrams.len(),
        theirs.len()
    );
    assert_eq!(missing(&want, &theirs), Vec::<String>::new());
    assert_eq!(theirs.len(), want.len());
    let _ = std::fs::remove_dir_all(&tmp);
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
