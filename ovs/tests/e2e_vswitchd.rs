//! End to end: a real ovs-vswitchd (userspace datapath) on a fresh database, a bridge with
//! two network namespaces attached through veth pairs, flow export configured by this
//! crate, pings between the namespaces, and NetFlow v5, sFlow v5 and IPFIX datagrams
//! received on loopback UDP sockets.
//!
//! Only what the pings produce counts: a NetFlow v5 ICMP record of the pinged pair, an sFlow
//! flow sample whose sampled header is an IPv4 packet of the pair (counter samples arrive
//! without any traffic), and an IPFIX data record of the pair (template sets arrive without
//! any traffic). The datagrams are parsed here by hand: this crate does not depend on the
//! codec crates.
//!
//! Needs root, iproute2 (`ip`), iputils `ping` and Open vSwitch; skips with a printed
//! reason otherwise.

mod common;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{NetnsGuard, Vswitchd, find_programs, is_root, sh};
use flowwire_ovs::spec::{ValidateOptions, load_spec};
use flowwire_ovs::{Configurator, ExportOptions, Protocol};

const A: [u8; 4] = [10, 77, 0, 1];
const B: [u8; 4] = [10, 77, 0, 2];
const IPFIX_DOMAIN: u32 = 42;

/// Big-endian reads that return `None` past the end, so a short datagram is "no match"
/// rather than a panic.
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn is_pair(src: &[u8], dst: &[u8]) -> bool {
    (src == A && dst == B) || (src == B && dst == A)
}

/// NetFlow v5: an ICMP record between the pinged pair.
fn netflow_v5_icmp_of_pair(d: &[u8]) -> bool {
    if be16(d, 0) != Some(5) {
        return false;
    }
    let count = usize::from(be16(d, 2).unwrap_or(0));
    (0..count).any(|i| {
        let r = 24 + 48 * i;
        match (d.get(r..r + 4), d.get(r + 4..r + 8), d.get(r + 38)) {
            (Some(src), Some(dst), Some(&proto)) => proto == 1 && is_pair(src, dst),
            _ => false,
        }
    })
}

/// An Ethernet frame (optionally 802.1Q-tagged) carrying IPv4 between the pinged pair.
fn frame_of_pair(f: &[u8]) -> bool {
    let mut ip = 14;
    let mut ethertype = be16(f, 12);
    if ethertype == Some(0x8100) {
        ethertype = be16(f, 16);
        ip = 18;
    }
    ethertype == Some(0x0800)
        && matches!(
            (f.get(ip + 12..ip + 16), f.get(ip + 16..ip + 20)),
            (Some(s), Some(d)) if is_pair(s, d)
        )
}

/// sFlow v5 from agent 127.0.0.1: a flow sample (compact or expanded) with a raw packet
/// header record of the pinged pair. Counter samples (formats 2 and 4) do not count.
fn sflow_flow_sample_of_pair(d: &[u8]) -> bool {
    if be32(d, 0) != Some(5) || be32(d, 4) != Some(1) || d.get(8..12) != Some(&[127, 0, 0, 1]) {
        return false;
    }
    let Some(samples) = be32(d, 24) else {
        return false;
    };
    let mut at = 28;
    for _ in 0..samples {
        let (Some(format), Some(len)) = (be32(d, at), be32(d, at + 4)) else {
            return false;
        };
        let body = at + 8;
        let end = body + len as usize;
        // Records start after 8 words (compact, format 1) or 11 (expanded, format 3).
        let records = match format {
            1 => Some((body + 28, be32(d, body + 28))),
            3 => Some((body + 40, be32(d, body + 40))),
            _ => None,
        };
        if let Some((count_at, Some(count))) = records {
            let mut r = count_at + 4;
            for _ in 0..count {
                let (Some(rformat), Some(rlen)) = (be32(d, r), be32(d, r + 4)) else {
                    break;
                };
                // Raw packet header: protocol 1 (Ethernet), frame length, stripped, header
                // length, header.
                if rformat == 1 && be32(d, r + 8) == Some(1) {
                    let hlen = be32(d, r + 20).unwrap_or(0) as usize;
                    if d.get(r + 24..r + 24 + hlen).is_some_and(frame_of_pair) {
                        return true;
                    }
                }
                r += 8 + rlen as usize;
            }
        }
        at = end;
    }
    false
}

/// IPFIX messages of one observation domain: templates (set 2) are remembered, and a data
/// set (id >= 256) of a known template counts when a record has sourceIPv4Address (8) and
/// destinationIPv4Address (12) of the pinged pair. Options templates (set 3) are not
/// remembered, so the exporter's statistics records never count.
struct Ipfix {
    domain: u32,
    /// template id -> fields (IE id with the enterprise bit, length).
    templates: HashMap<u16, Vec<(u16, u16)>>,
    data_sets: usize,
}

impl Ipfix {
    fn new(domain: u32) -> Ipfix {
        Ipfix {
            domain,
            templates: HashMap::new(),
            data_sets: 0,
        }
    }

    fn feed(&mut self, d: &[u8]) -> bool {
        if be16(d, 0) != Some(10) || be32(d, 12) != Some(self.domain) {
            return false;
        }
        let len = usize::from(be16(d, 2).unwrap_or(0)).min(d.len());
        let mut at = 16;
        let mut found = false;
        while at + 4 <= len {
            let (Some(id), Some(slen)) = (be16(d, at), be16(d, at + 2)) else {
                break;
            };
            let slen = usize::from(slen);
            if slen < 4 || at + slen > len {
                break;
            }
            let set = &d[at + 4..at + slen];
            match id {
                2 => self.templates_from(set),
                256.. => {
                    self.data_sets += 1;
                    found |= self.data_of_pair(id, set);
                }
                _ => {}
            }
            at += slen;
        }
        found
    }

    fn templates_from(&mut self, set: &[u8]) {
        let mut at = 0;
        while let (Some(id), Some(n)) = (be16(set, at), be16(set, at + 2)) {
            at += 4;
            let mut fields = Vec::new();
            for _ in 0..n {
                let (Some(ie), Some(flen)) = (be16(set, at), be16(set, at + 2)) else {
                    return;
                };
                at += if ie & 0x8000 != 0 { 8 } else { 4 };
                fields.push((ie, flen));
            }
            self.templates.insert(id, fields);
        }
    }

    fn data_of_pair(&self, id: u16, set: &[u8]) -> bool {
        let Some(fields) = self.templates.get(&id) else {
            return false;
        };
        let mut at = 0;
        while at < set.len() {
            let start = at;
            let (mut src, mut dst) = (None, None);
            for &(ie, flen) in fields {
                let len = if flen == 65535 {
                    match set.get(at) {
                        Some(255) => {
                            let Some(l) = be16(set, at + 1) else {
                                return false;
                            };
                            at += 3;
                            usize::from(l)
                        }
                        Some(&l) => {
                            at += 1;
                            usize::from(l)
                        }
                        None => return false,
                    }
                } else {
                    usize::from(flen)
                };
                let Some(value) = set.get(at..at + len) else {
                    return false;
                };
                match ie {
                    8 => src = Some(value),
                    12 => dst = Some(value),
                    _ => {}
                }
                at += len;
            }
            if let (Some(s), Some(d)) = (src, dst)
                && is_pair(s, d)
            {
                return true;
            }
            if at == start {
                return false;
            }
        }
        false
    }
}

/// `ip netns exec NS PING -c COUNT ... 10.77.0.2`; `Err` has ping's output and exit status.
fn ping(ip: &Path, ping: &Path, ns: &str, count: &str) -> Result<(), String> {
    let out = Command::new(ip)
        .args(["netns", "exec", ns])
        .arg(ping)
        .args(["-n", "-c", count, "-i", "0.2", "-W", "1", "10.77.0.2"])
        .output()
        .map_err(|e| format!("cannot run {} in {ns}: {e}", ping.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Receive everything waiting on `s`, passing each datagram to `f`.
fn drain(s: &UdpSocket, buf: &mut [u8], mut f: impl FnMut(&[u8])) -> usize {
    let mut n = 0;
    while let Ok(len) = s.recv(buf) {
        f(&buf[..len]);
        n += 1;
    }
    n
}

#[test]
fn vswitchd_exports_to_our_collectors() {
    const TEST: &str = "vswitchd_exports_to_our_collectors";
    if !is_root() {
        eprintln!("SKIPPED {TEST}: needs root (network namespaces, veth pairs)");
        return;
    }
    let [ip, ping_prog] = match find_programs(["ip", "ping"]) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("SKIPPED {TEST}: {e} (Debian packages iproute2, iputils-ping)");
            return;
        }
    };
    let Some(vs) = Vswitchd::start(TEST) else {
        return;
    };
    let id = std::process::id() % 100_000;
    let br = format!("fwbr{id}");
    let (nsa, nsb) = (format!("fw{id}a"), format!("fw{id}b"));
    let (ha, hb) = (format!("fw{id}ha"), format!("fw{id}hb"));
    let mut net = NetnsGuard::default();
    for ns in [&nsa, &nsb] {
        if let Err(e) = sh("ip", &["netns", "add", ns]) {
            eprintln!("SKIPPED {TEST}: cannot create network namespaces: {e}");
            return;
        }
        net.namespaces.push(ns.clone());
    }
    vs.vsctl_wait(&[
        "add-br",
        &br,
        "--",
        "set",
        "Bridge",
        &br,
        "datapath_type=netdev",
        "other_config:max-idle=1000",
    ]);
    for (ns, host, addr) in [(&nsa, &ha, "10.77.0.1/24"), (&nsb, &hb, "10.77.0.2/24")] {
        let veth = [
            "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns,
        ];
        if let Err(e) = sh("ip", &veth) {
            eprintln!("SKIPPED {TEST}: cannot create veth pairs: {e}");
            return;
        }
        net.links.push(host.clone());
        // `ip -n NS` rather than `ip netns exec NS ip`: no second lookup of `ip` on PATH.
        let addr_cmd = ["-n", ns, "addr", "add", addr, "dev", "eth0"];
        let up = ["-n", ns, "link", "set", "eth0", "up"];
        for args in [&["link", "set", host, "up"][..], &addr_cmd, &up] {
            if let Err(e) = sh("ip", args) {
                panic!("setting up {ns}: {e}");
            }
        }
        vs.vsctl_wait(&["add-port", &br, host]);
    }

    // The bridge must forward before export can be tested at all: a clear failure here,
    // not a missing record later.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = Ok(());
    while Instant::now() < deadline {
        last = ping(&ip, &ping_prog, &nsa, "1");
        if last.is_ok() {
            break;
        }
    }
    if let Err(e) = last {
        panic!(
            "no IPv4 traffic crosses bridge {br}: ping 10.77.0.1 -> 10.77.0.2 failed for 10 s: \
             {e}\nvswitchd log (tail):\n{}",
            vs.log_tail(30)
        );
    }

    // Collectors on loopback.
    let bind = || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        s
    };
    let (nf, sf, ipx) = (bind(), bind(), bind());
    let port = |s: &UdpSocket| s.local_addr().unwrap().port();
    let text = format!(
        "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"127.0.0.1:{}\"]\n    \
         sFlow:\n      collectors: [\"127.0.0.1:{}\"]\n    ipfix:\n      collectors: [\"127.0.0.1:{}\"]\n",
        port(&nf),
        port(&sf),
        port(&ipx)
    );
    let (_, spec) = load_spec(&text, "e2e", &ValidateOptions::default()).unwrap();
    let mut opts = ExportOptions {
        bridge: br.clone(),
        ..Default::default()
    };
    opts.netflow.active_timeout = 1;
    opts.sflow.agent = Some("127.0.0.1".into());
    opts.sflow.sampling = Some(1);
    opts.sflow.polling = Some(1);
    opts.ipfix.sampling = Some(1);
    opts.ipfix.obs_domain_id = Some(IPFIX_DOMAIN);
    // Every packet, so a few pings are enough: fine on a test bridge, refused by default.
    opts.force_sample_all = true;

    let mut c = Configurator::connect(&vs.db.db(), Duration::from_secs(20)).unwrap();
    let out = c
        .apply(&spec, &opts, Some(Duration::from_secs(20)))
        .unwrap();
    assert!(out.confirmed, "ovs-vswitchd did not confirm: {}", vs.log());
    assert!(Protocol::ALL.iter().all(|p| out.after.get(*p).is_some()));

    // Pings between the namespaces until every collector has a record of them.
    let (mut got_nf, mut got_sf, mut got_ipx) = (false, false, false);
    let mut ipfix = Ipfix::new(IPFIX_DOMAIN);
    let mut datagrams = [0usize; 3];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = vec![0u8; 65536];
    while !(got_nf && got_sf && got_ipx) && Instant::now() < deadline {
        if let Err(e) = ping(&ip, &ping_prog, &nsa, "2") {
            panic!("ping through {br} stopped working: {e}");
        }
        datagrams[0] += drain(&nf, &mut buf, |d| got_nf |= netflow_v5_icmp_of_pair(d));
        datagrams[1] += drain(&sf, &mut buf, |d| got_sf |= sflow_flow_sample_of_pair(d));
        datagrams[2] += drain(&ipx, &mut buf, |d| got_ipx |= ipfix.feed(d));
    }
    assert!(
        got_nf && got_sf && got_ipx,
        "records of the pinged pair: netflow {got_nf} sflow flow sample {got_sf} ipfix {got_ipx} \
         (datagrams received: netflow {}, sflow {}, ipfix {}; ipfix templates {}, data sets {})\n\
         vswitchd log (tail):\n{}",
        datagrams[0],
        datagrams[1],
        datagrams[2],
        ipfix.templates.len(),
        ipfix.data_sets,
        vs.log_tail(30)
    );

    println!(
        "records of the pinged pair in all three; datagrams received: netflow {}, sflow {}, \
         ipfix {} (ipfix templates {}, data sets {})",
        datagrams[0],
        datagrams[1],
        datagrams[2],
        ipfix.templates.len(),
        ipfix.data_sets
    );

    // show: ovs-vswitchd applied the configuration and reports the IPFIX exporter's
    // counters, the same ones ovs-ofctl dump-ipfix-bridge prints (read after ours, so at
    // least as large).
    let report = c.show(&br).unwrap();
    println!("{report}");
    assert!(report.config.unwrap().applied(), "{report}");
    let stats = match &report.ipfix_stats {
        Some(Ok(s)) => *s,
        other => panic!("no IPFIX counters: {other:?}"),
    };
    assert!(
        stats.sampled_packets > 0 && stats.ipv4_packets > 0,
        "{stats}"
    );
    assert!(stats.sent_packets > 0, "{stats}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("ipfix collector 127.0.0.1:")),
        "{:?}",
        report.warnings
    );
    match common::find_program("ovs-ofctl") {
        None => eprintln!("not cross-checked: `ovs-ofctl` not found"),
        Some(_) => {
            let mgmt = format!("unix:{}/{br}.mgmt", vs.db.dir.display());
            let text = sh("ovs-ofctl", &["dump-ipfix-bridge", &mgmt]).unwrap();
            let field = |name: &str| -> u64 {
                let at = text
                    .find(&format!("{name}="))
                    .unwrap_or_else(|| panic!("{name} in {text}"));
                text[at + name.len() + 1..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{name} in {text}"))
            };
            assert!(
                field("sampled pkts") >= stats.sampled_packets,
                "{text} vs {stats}"
            );
            assert!(field("ipv4 ok") >= stats.ipv4_packets, "{text} vs {stats}");
            assert!(field("tx pkts") >= stats.sent_packets, "{text} vs {stats}");
            assert!(field(" flows") >= stats.total_flows, "{text} vs {stats}");
        }
    }

    // Idempotent against a live vswitchd too.
    assert!(
        c.apply(&spec, &opts, Some(Duration::from_secs(20)))
            .unwrap()
            .plan
            .is_empty()
    );

    // Per-flow sampling: a Flow_Sample_Collector_Set made by apply, and an OpenFlow flow
    // whose sample() action names it, export the pings under the action's domain.
    let fscs = c.schema().has("Flow_Sample_Collector_Set", "ipfix");
    let ofctl = common::find_program("ovs-ofctl").is_some();
    if !(fscs && ofctl) {
        eprintln!(
            "per-flow sampling not checked: {}",
            if fscs {
                "`ovs-ofctl` not found"
            } else {
                "no Flow_Sample_Collector_Set in this schema"
            }
        );
    } else {
        const SET: u32 = 5;
        const FLOW_DOMAIN: u32 = 77;
        let mut with_set = opts.clone();
        with_set.flow_sample_collector_set = Some(SET);
        let out = c
            .apply(&spec, &with_set, Some(Duration::from_secs(20)))
            .unwrap();
        println!("{}", out.plan);
        let mgmt = format!("unix:{}/{br}.mgmt", vs.db.dir.display());
        let flow = format!(
            "priority=10,ip,actions=sample(probability=65535,collector_set_id={SET},\
             obs_domain_id={FLOW_DOMAIN},obs_point_id=88),NORMAL"
        );
        if let Err(e) = sh("ovs-ofctl", &["add-flow", &mgmt, &flow]) {
            panic!("adding the sampling flow: {e}");
        }
        let mut sampled = Ipfix::new(FLOW_DOMAIN);
        let mut got = false;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !got && Instant::now() < deadline {
            if let Err(e) = ping(&ip, &ping_prog, &nsa, "2") {
                panic!("ping through {br} with the sampling flow: {e}");
            }
            drain(&ipx, &mut buf, |d| got |= sampled.feed(d));
        }
        assert!(
            got,
            "no IPFIX record of the pair under domain {FLOW_DOMAIN} (templates {}, data sets \
             {})\nvswitchd log (tail):\n{}",
            sampled.templates.len(),
            sampled.data_sets,
            vs.log_tail(30)
        );
        println!("flow sampling: records of the pinged pair under domain {FLOW_DOMAIN}");
    }

    // Clear, confirmed by vswitchd (the flow sampling set goes too); afterwards traffic
    // (which must still flow) produces no sFlow/IPFIX datagrams.
    let out = c.clear(&br, Some(Duration::from_secs(20))).unwrap();
    assert!(out.confirmed);
    std::thread::sleep(Duration::from_millis(1500));
    for s in [&nf, &sf, &ipx] {
        drain(s, &mut buf, |_| {});
    }
    if let Err(e) = ping(&ip, &ping_prog, &nsa, "5") {
        panic!("ping through {br} after clear: {e}");
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        drain(&sf, &mut buf, |_| {}),
        0,
        "sFlow still exported after clear"
    );
    assert_eq!(
        drain(&ipx, &mut buf, |_| {}),
        0,
        "IPFIX still exported after clear"
    );
    drop(net);
}
