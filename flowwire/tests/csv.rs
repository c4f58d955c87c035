//! `flowwire::csv::FlowCsv` writes what formatting each cell with `Display` writes (the way
//! the CSV output was produced before it had its own writer), on every flow of the captures in
//! `testdata` and on records of every field layout.

use std::fmt::Write as _;
use std::path::Path;

use flowwire::capture::CaptureReader;
use flowwire::csv::{FlowCsv, csv_cell};
use flowwire::{Collector, Decoder, FlowRecord, ProtocolKind, Timestamp};
use proptest::prelude::*;

/// The reference: `Display` per cell.
fn by_display(r: &FlowRecord) -> String {
    fn opt<T: std::fmt::Display>(s: &mut String, v: Option<T>) {
        if let Some(v) = v {
            let _ = write!(s, "{v}");
        }
        s.push(',');
    }
    let mut s = String::new();
    opt(&mut s, r.kind());
    opt(&mut s, r.exporter());
    opt(&mut s, r.domain());
    opt(&mut s, r.sequence());
    opt(&mut s, r.export_time());
    opt(&mut s, r.start());
    opt(&mut s, r.end());
    opt(&mut s, r.src_addr());
    opt(&mut s, r.src_port());
    opt(&mut s, r.dst_addr());
    opt(&mut s, r.dst_port());
    opt(&mut s, r.protocol());
    opt(&mut s, r.tos());
    opt(&mut s, r.tcp_flags());
    opt(&mut s, r.octets());
    opt(&mut s, r.packets());
    opt(&mut s, r.in_if());
    opt(&mut s, r.out_if());
    opt(&mut s, r.src_as());
    opt(&mut s, r.dst_as());
    opt(&mut s, r.next_hop());
    opt(&mut s, r.src_mask());
    opt(&mut s, r.dst_mask());
    opt(&mut s, r.vlan());
    opt(&mut s, r.src_mac());
    opt(&mut s, r.dst_mac());
    opt(&mut s, r.icmp_type());
    opt(&mut s, r.icmp_code());
    opt(&mut s, r.direction());
    opt(&mut s, r.sampling_interval());
    let mut extra = String::new();
    for (i, e) in r.extra.iter().enumerate() {
        if i > 0 {
            extra.push(' ');
        }
        match &e.name {
            Some(n) => extra.push_str(n),
            None => {
                let _ = write!(extra, "{}", e.field);
            }
        }
        let _ = write!(extra, "={}", e.value);
    }
    s.push_str(&csv_cell(&extra));
    s.push(',');
    if r.is_renormalized() {
        s.push_str("true");
    }
    s.push('\n');
    s
}

fn check(csv: &mut FlowCsv, flow: &FlowRecord) -> Result<(), String> {
    let mut line = Vec::new();
    csv.write_line(&mut line, flow);
    let got = String::from_utf8_lossy(&line);
    let want = by_display(flow);
    if got == want {
        Ok(())
    } else {
        Err(format!("got  {got}want {want}"))
    }
}

#[test]
fn our_captures_write_what_display_writes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata/captures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    entries.sort();
    let mut csv = FlowCsv::new();
    let mut flows = 0;
    for path in &entries {
        let mut reader = CaptureReader::open(path).expect("capture");
        let mut collector = Collector::default();
        while let Some(d) = reader.next_datagram() {
            let Ok(d) = d else { continue };
            collector.decode(d.src, d.time, d.payload, &mut |f: &FlowRecord| {
                if let Err(e) = check(&mut csv, f) {
                    panic!("{}: {e}", path.display());
                }
                flows += 1;
            });
        }
    }
    assert!(flows >= 500, "{flows} flows");
}

proptest! {
    #[test]
    fn any_layout_writes_what_display_writes(layout in any::<u64>(), seed in any::<u64>()) {
        let mut flow = flowwire_record::testing::varied_record(layout, seed);
        flow.set_kind([ProtocolKind::Ipfix, ProtocolKind::Sflow5].get((seed % 3) as usize).copied());
        let v6 = std::net::SocketAddr::new(std::net::Ipv6Addr::from(u128::from(seed) << 9).into(), 9);
        let v4 = std::net::SocketAddr::new(std::net::Ipv4Addr::from(seed as u32).into(), seed as u16);
        flow.set_exporter([None, Some(v4), Some(v6)][(layout % 3) as usize]);
        flow.set_export_time((layout & 1 << 53 != 0).then(|| Timestamp::from_unix_nanos(seed as i64)));
        flow.set_renormalized(layout & 1 << 54 != 0);
        prop_assert_eq!(check(&mut FlowCsv::new(), &flow), Ok(()));
    }
}
