//! A second oracle for the decoder: nfdump. For every committed capture with an nfdump decode
//! beside it (`testdata/captures/oracle/<name>.nfdump.csv`, written by nfcapd/sfcapd +
//! `nfdump -o csv` when the captures were made), `flowwire decode` must show the same flows:
//! per flow the addresses, ports, protocol, packets and bytes. Needs no tool at test time (the
//! oracle files are committed), so it runs everywhere.
//!
//! nfdump 1.7.1 shows some things differently; each is normalised here on evidence, and
//! counted in the printed figures (exporters.md "Oracle pitfalls"):
//! * sFlow (sfcapd): packets and bytes scaled by the sampling rate; ICMP as sp=type, dp=code;
//!   ICMPv6 as 0/0; the ports of a sample flowwire shows without ports (a non-first IPv6
//!   fragment) are payload bytes in sfcapd (17990 = 0x4646 "FF"), so not compared.
//! * NetFlow v9 ICMP/ICMPv6 with type<<8|code in L4_DST_PORT (pmacct): nfdump shows dp=0;
//!   with ICMP_TYPE (32, softflowd) it shows dp=type<<8|code, but with ICMPv6's 139 it shows
//!   0/0 (IPFIX with 139 is shown right).
//! * NetFlow v5 ICMP with the type in the source port (fprobe: sp=type, dp=code): nfdump
//!   shows sp=0, dp=type<<8 (the code is lost); flowwire shows the wire's ports.
//! * OVS IPFIX carries ICMP in icmpTypeIPv4/icmpCodeIPv4 (176/177, IPv6 178/179; tshark
//!   shows `cflow.icmp_ipv4_type`): nfdump does not map them and shows 0/0.
//! * When a record has both Delta and Total counters (OVS IPFIX), nfdump reports the Total
//!   ones: flowwire's packetTotalCount/octetTotalCount (86/85 in `extra`) are compared there.
//! * A record without addresses (OVS IPFIX L2 flows) is 0.0.0.0 in nfdump.
//! * PSAMP: nfdump decodes no flows (its CSV says "No matching flows"): not compared.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// "sa da sp dp proto packets bytes"; `*` = not compared.
type Key = String;

fn proto_number(name: &str) -> String {
    match name {
        "ICMP" => "1".into(),
        "TCP" => "6".into(),
        "UDP" => "17".into(),
        "ICMP6" => "58".into(),
        "GRE" => "47".into(),
        "Frag6" => "44".into(),
        "ESP" => "50".into(),
        n => n.into(),
    }
}

fn nfdump_flows(csv: &str) -> Vec<Key> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("no {n} column"))
    };
    let cols = ["sa", "da", "sp", "dp", "pr", "ipkt", "ibyt"].map(col);
    lines
        .map(|l| l.split(',').map(str::trim).collect::<Vec<_>>())
        .filter(|c| c.len() >= header.len())
        .map(|c| {
            let mut v: Vec<String> = cols.iter().map(|&i| c[i].to_owned()).collect();
            v[4] = proto_number(&v[4]);
            v.join(" ")
        })
        .collect()
}

#[derive(Default, Debug)]
struct Normalised {
    sflow_scaled: usize,
    v9_icmp_dp0: usize,
    v5_icmp_sp_type: usize,
    ovs_icmp_ie176: usize,
    v9_icmp6_ie139: usize,
    total_counters: usize,
    no_address: usize,
    fragment_ports: usize,
}

impl std::fmt::Display for Normalised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            ("sFlow scaled by rate", self.sflow_scaled),
            ("v9 ICMP dp=0", self.v9_icmp_dp0),
            ("v9 ICMPv6 (139) 0/0", self.v9_icmp6_ie139),
            ("v5 ICMP sp=type", self.v5_icmp_sp_type),
            ("OVS ICMP (176-179) 0/0", self.ovs_icmp_ie176),
            ("Total counters", self.total_counters),
            ("no address", self.no_address),
            ("fragment ports", self.fragment_ports),
        ];
        let shown: Vec<String> = parts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        f.write_str(&shown.join(", "))
    }
}

fn flowwire_flows(pcap: &Path, ovs_ipfix: bool, n: &mut Normalised) -> Vec<Key> {
    let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["decode", "--format", "jsonl", "--quiet", "--type", "flow"])
        .arg(pcap)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            let num = |k: &str| r[k].as_u64();
            let extra = |id: u64| {
                r["extra"].as_array().and_then(|a| {
                    a.iter()
                        .find(|x| x["pen"] == 0 && x["id"] == id)
                        .and_then(|x| x["value"].as_u64())
                })
            };
            let kind = r["kind"].as_str().unwrap_or("");
            let sflow = kind == "sflow5";
            let proto = num("protocol").unwrap_or(0);
            let addr = |k: &str| r[k].as_str().unwrap_or("0.0.0.0").to_owned();
            if r.get("src_addr").is_none() {
                n.no_address += 1;
            }
            let icmp = proto == 1 || proto == 58;
            let (sp, dp) = match (num("src_port"), num("dst_port")) {
                (Some(a), Some(_)) if kind == "netflow5" && icmp && a != 0 => {
                    n.v5_icmp_sp_type += 1;
                    ("0".into(), (a << 8).to_string())
                }
                (Some(a), Some(_)) if kind == "netflow9" && icmp => {
                    n.v9_icmp_dp0 += 1;
                    (a.to_string(), "0".into())
                }
                (Some(a), Some(b)) => (a.to_string(), b.to_string()),
                _ if sflow && proto == 1 => (
                    num("icmp_type").unwrap_or(0).to_string(),
                    num("icmp_code").unwrap_or(0).to_string(),
                ),
                _ if sflow && proto == 58 => ("0".into(), "0".into()),
                _ if sflow && (proto == 6 || proto == 17) => {
                    n.fragment_ports += 1;
                    ("*".into(), "*".into())
                }
                _ if kind == "netflow9" && proto == 58 => {
                    n.v9_icmp6_ie139 += 1;
                    ("0".into(), "0".into())
                }
                _ if icmp && ovs_ipfix => {
                    n.ovs_icmp_ie176 += 1;
                    ("0".into(), "0".into())
                }
                _ if icmp => (
                    "0".into(),
                    ((num("icmp_type").unwrap_or(0) << 8) | num("icmp_code").unwrap_or(0))
                        .to_string(),
                ),
                _ => ("0".into(), "0".into()),
            };
            let (mut packets, mut bytes) =
                (num("packets").unwrap_or(0), num("octets").unwrap_or(0));
            if let (Some(p), Some(b)) = (extra(86), extra(85)) {
                n.total_counters += 1;
                (packets, bytes) = (p, b);
            } else if let Some(p) = extra(86) {
                n.total_counters += 1;
                packets = p;
            }
            if sflow {
                let rate = num("sampling_interval").unwrap_or(1).max(1);
                n.sflow_scaled += 1;
                packets *= rate;
                bytes *= rate;
            }
            format!(
                "{} {} {sp} {dp} {proto} {packets} {bytes}",
                addr("src_addr"),
                addr("dst_addr")
            )
        })
        .collect()
}

/// `mine` entries (with `*` wildcards) not matched one-to-one in `theirs`.
fn unmatched(mine: &[Key], theirs: &[Key]) -> Vec<Key> {
    let mut left: BTreeMap<usize, &Key> = theirs.iter().enumerate().collect();
    let mut out = Vec::new();
    for m in mine {
        let a: Vec<&str> = m.split(' ').collect();
        let hit = left
            .iter()
            .find(|(_, t)| {
                let b: Vec<&str> = t.split(' ').collect();
                a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| *x == "*" || x == y)
            })
            .map(|(i, _)| *i);
        match hit {
            Some(i) => {
                left.remove(&i);
            }
            None => out.push(m.clone()),
        }
    }
    out
}

#[test]
fn decode_agrees_with_nfdump_oracle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
    let mut names: Vec<String> = std::fs::read_dir(dir.join("oracle"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".nfdump.csv").map(str::to_owned))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let (mut total, mut total_ok) = (0, 0);
    println!(
        "{:<32} {:>8} {:>7} {:>6}  normalised",
        "capture", "flowwire", "nfdump", "equal"
    );
    for name in names {
        let csv = std::fs::read_to_string(dir.join(format!("oracle/{name}.nfdump.csv"))).unwrap();
        let theirs = nfdump_flows(&csv);
        let mut n = Normalised::default();
        let mine = flowwire_flows(
            &dir.join(format!("{name}.pcap")),
            name.starts_with("ovs-ipfix"),
            &mut n,
        );
        if theirs.is_empty() && csv.contains("No matching flows") && name.contains("psamp") {
            println!(
                "{name:<32} {:>8} {:>7} {:>6}  not compared: nfdump decodes no PSAMP flows",
                mine.len(),
                0,
                "-"
            );
            continue;
        }
        let missing = unmatched(&mine, &theirs);
        let equal = mine.len() - missing.len();
        total += mine.len();
        total_ok += equal;
        println!(
            "{name:<32} {:>8} {:>7} {:>6}  {n}",
            mine.len(),
            theirs.len(),
            equal
        );
        if !missing.is_empty() || mine.len() != theirs.len() {
            let mut msg = format!("{name}: {} flowwire flows not in nfdump", missing.len());
            for m in missing.iter().take(4) {
                msg.push_str(&format!("\n    flowwire: {m}"));
            }
            failures.push(msg);
        }
    }
    println!("total: {total} flows, {total_ok} equal to nfdump's decode");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
