//! End to end: a real ovs-vswitchd (userspace datapath) on a fresh database, a bridge with
//! two network namespaces attached through veth pairs, flow export configured by this
//! crate, traffic between the namespaces, and NetFlow v5, sFlow v5 and IPFIX datagrams
//! received on loopback UDP sockets. Needs root, ovs-vswitchd and iproute2; skips with a
//! printed reason otherwise.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::{NetnsGuard, Vswitchd, is_root, sh};
use flowwire_ovs::spec::{ValidateOptions, load_spec};
use flowwire_ovs::{Configurator, ExportOptions, Protocol};

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// NetFlow v5: does any record go from `src` to `dst`?
fn netflow_v5_has(d: &[u8], src: [u8; 4], dst: [u8; 4]) -> bool {
    if d.len() < 24 || be16(d, 0) != 5 {
        return false;
    }
    let count = usize::from(be16(d, 2));
    (0..count).any(|i| {
        let r = 24 + 48 * i;
        d.len() >= r + 48 && d[r..r + 4] == src && d[r + 4..r + 8] == dst
    })
}

#[test]
fn vswitchd_exports_to_our_collectors() {
    const TEST: &str = "vswitchd_exports_to_our_collectors";
    if !is_root() {
        eprintln!("SKIPPED {TEST}: needs root (network namespaces, veth pairs)");
        return;
    }
    if common::find_program("ip").is_none() {
        eprintln!("SKIPPED {TEST}: iproute2 `ip` not installed");
        return;
    }
    let Some(vs) = Vswitchd::start(TEST) else {
        return;
    };
    let id = std::process::id() % 100_000;
    let br = format!("fwbr{id}");
    let (nsa, nsb) = (format!("fw{id}a"), format!("fw{id}b"));
    let (ha, hb) = (format!("fw{id}ha"), format!("fw{id}hb"));
    let mut net = NetnsGuard::default();
    if let Err(e) = sh("ip", &["netns", "add", &nsa]) {
        eprintln!("SKIPPED {TEST}: cannot create network namespaces: {e}");
        return;
    }
    net.namespaces.push(nsa.clone());
    net.namespaces.push(nsb.clone());
    if let Err(e) = sh("ip", &["netns", "add", &nsb]) {
        eprintln!("SKIPPED {TEST}: cannot create network namespaces: {e}");
        return;
    }
    vs.vsctl_wait(&[
        "add-br",
        &br,
        "--",
        "set",
        "Bridge",
        &br,
        "datapath_type=netdev",
    ]);
    for (ns, host, addr) in [(&nsa, &ha, "10.77.0.1/24"), (&nsb, &hb, "10.77.0.2/24")] {
        net.links.push(host.clone());
        let veth = [
            "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns,
        ];
        let addr_cmd = [
            "netns", "exec", ns, "ip", "addr", "add", addr, "dev", "eth0",
        ];
        let up = ["netns", "exec", ns, "ip", "link", "set", "eth0", "up"];
        let setup = sh("ip", &veth)
            .and_then(|_| sh("ip", &["link", "set", host, "up"]))
            .and_then(|_| sh("ip", &addr_cmd))
            .and_then(|_| sh("ip", &up));
        if let Err(e) = setup {
            eprintln!("SKIPPED {TEST}: cannot set up veth pairs: {e}");
            return;
        }
        vs.vsctl_wait(&["add-port", &br, host]);
    }

    // Collectors on loopback.
    let bind = || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
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
    opts.ipfix.obs_domain_id = Some(42);

    let mut c = Configurator::connect(&vs.db.db(), Duration::from_secs(20)).unwrap();
    let out = c
        .apply(&spec, &opts, Some(Duration::from_secs(20)))
        .unwrap();
    assert!(out.confirmed, "ovs-vswitchd did not confirm: {}", vs.log());
    assert!(Protocol::ALL.iter().all(|p| out.after.get(*p).is_some()));

    // Traffic between the namespaces, until every collector has what it should.
    let (a, b) = ([10, 77, 0, 1], [10, 77, 0, 2]);
    let (mut got_nf, mut got_sf, mut got_ipx) = (false, false, false);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = vec![0u8; 65536];
    while !(got_nf && got_sf && got_ipx) && Instant::now() < deadline {
        let _ = sh(
            "ip",
            &[
                "netns",
                "exec",
                &nsa,
                "ping",
                "-c",
                "2",
                "-i",
                "0.2",
                "-W",
                "1",
                "10.77.0.2",
            ],
        );
        if let Ok(n) = nf.recv(&mut buf) {
            got_nf |= netflow_v5_has(&buf[..n], a, b) || netflow_v5_has(&buf[..n], b, a);
        }
        if let Ok(n) = sf.recv(&mut buf) {
            // sFlow v5, agent address type 1 (IPv4) = 127.0.0.1
            got_sf |=
                n > 12 && be32(&buf, 0) == 5 && be32(&buf, 4) == 1 && buf[8..12] == [127, 0, 0, 1];
        }
        if let Ok(n) = ipx.recv(&mut buf) {
            // IPFIX, observation domain 42
            got_ipx |= n >= 16 && be16(&buf, 0) == 10 && be32(&buf, 12) == 42;
        }
    }
    assert!(
        got_nf && got_sf && got_ipx,
        "netflow {got_nf} sflow {got_sf} ipfix {got_ipx}\nvswitchd log:\n{}",
        vs.log()
    );

    // Idempotent against a live vswitchd too.
    assert!(
        c.apply(&spec, &opts, Some(Duration::from_secs(20)))
            .unwrap()
            .plan
            .is_empty()
    );

    // Clear, confirmed by vswitchd; afterwards traffic produces no sFlow/IPFIX datagrams.
    let out = c.clear(&br, Some(Duration::from_secs(20))).unwrap();
    assert!(out.confirmed);
    std::thread::sleep(Duration::from_millis(1500));
    for s in [&nf, &sf, &ipx] {
        while s.recv(&mut buf).is_ok() {}
    }
    let _ = sh(
        "ip",
        &[
            "netns",
            "exec",
            &nsa,
            "ping",
            "-c",
            "5",
            "-i",
            "0.2",
            "-W",
            "1",
            "10.77.0.2",
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        sf.recv(&mut buf).is_err(),
        "sFlow still exported after clear"
    );
    assert!(
        ipx.recv(&mut buf).is_err(),
        "IPFIX still exported after clear"
    );
    drop(net);
}
