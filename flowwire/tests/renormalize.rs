//! `CollectorConfig::renormalize` on real captures of every protocol that announces sampling.

use std::path::PathBuf;

use flowwire::{Collector, CollectorConfig, Decoder, FlowRecord, Renormalize};

fn decode(capture: &str, renormalize: Option<Renormalize>) -> (Vec<FlowRecord>, Collector) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/captures")
        .join(capture);
    let mut c = flowwire::capture::open_capture(path).expect("capture");
    let mut collector = Collector::new(CollectorConfig {
        renormalize,
        ..Default::default()
    });
    let mut flows = Vec::new();
    while let Some(item) = c.next_datagram() {
        let d = item.expect("a good capture");
        collector.decode(d.src, d.time, d.payload, &mut |f: &FlowRecord| {
            flows.push(f.clone())
        });
    }
    (flows, collector)
}

#[test]
fn sampled_flows_of_every_protocol_are_scaled() {
    for capture in [
        "ovs-sflow5.pcap",
        "pmacct-sflow5.pcap",
        "softflowd-netflow9-sampled.pcap",
        "softflowd-ipfix.pcap",
    ] {
        let (plain, _) = decode(capture, None);
        let (scaled, collector) = decode(capture, Some(Renormalize::default()));
        assert_eq!(plain.len(), scaled.len(), "{capture}");
        let mut renormalized = 0;
        for (p, s) in plain.iter().zip(&scaled) {
            match p.sampling_interval() {
                Some(n) => {
                    let n = u64::from(n);
                    assert_eq!(s.octets(), p.octets().map(|o| o * n), "{capture}");
                    assert_eq!(s.packets(), p.packets().map(|o| o * n), "{capture}");
                    assert!(s.is_renormalized());
                    renormalized += 1;
                }
                None => assert_eq!(s, p, "{capture}: no interval, no change"),
            }
        }
        assert!(renormalized > 0, "{capture}: sampled flows");
        let counted: u64 = collector
            .exporter_stats()
            .map(|(_, _, s)| s.renormalized)
            .sum();
        assert_eq!(counted, renormalized, "{capture}");
    }
}

#[test]
fn an_override_wins_and_covers_silent_exporters() {
    let (plain, _) = decode("softflowd-netflow5.pcap", None);
    let exporter = plain[0].exporter().expect("exporter");
    let overrides = [(std::net::SocketAddr::new(exporter.ip(), 0), 64)].into();
    let (scaled, _) = decode("softflowd-netflow5.pcap", Some(Renormalize { overrides }));
    for (p, s) in plain.iter().zip(&scaled) {
        assert_eq!(s.octets(), p.octets().map(|o| o * 64));
        assert_eq!(s.sampling_interval(), Some(64));
    }
}
