//! `flowwire::jsonl` writes exactly what `serde_json` writes for a [`FlowRecord`]: checked on
//! every record of every capture we have (`testdata/captures`, and the shared corpus where it
//! is present) and on records of every field layout.

use std::path::{Path, PathBuf};

use flowwire::capture::CaptureReader;
use flowwire::{Collector, Decoder, FlowRecord, ProtocolKind, Timestamp};
use proptest::prelude::*;

fn pcaps(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            pcaps(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
        {
            out.push(p);
        }
    }
}

/// Decodes every capture under `dir` and compares both writers on each flow; returns
/// (captures, flows, flows with extras).
fn compare_all(dir: &Path) -> (usize, usize, usize) {
    let mut files = Vec::new();
    pcaps(dir, &mut files);
    let (mut flows, mut with_extra) = (0, 0);
    let mut line = Vec::new();
    for path in &files {
        let Ok(mut reader) = CaptureReader::open(path) else {
            continue;
        };
        let mut collector = Collector::default();
        while let Some(d) = reader.next_datagram() {
            let Ok(d) = d else { continue };
            collector.decode(d.src, d.time, d.payload, &mut |f: &FlowRecord| {
                line.clear();
                flowwire::jsonl::write_flow(&mut line, f);
                let want = serde_json::to_vec(f).expect("serializes");
                assert_eq!(
                    String::from_utf8_lossy(&line),
                    String::from_utf8_lossy(&want),
                    "{}",
                    path.display()
                );
                flows += 1;
                with_extra += usize::from(!f.extra.is_empty());
            });
        }
    }
    (files.len(), flows, with_extra)
}

#[test]
fn our_captures_write_the_bytes_of_serde_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let (files, flows, extra) = compare_all(&dir);
    eprintln!("testdata: {files} captures, {flows} flows ({extra} with extras) identical");
    assert!(
        files >= 20 && flows >= 500,
        "{files} captures, {flows} flows"
    );
}

#[test]
fn the_corpus_writes_the_bytes_of_serde_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if !dir.join("MANIFEST.tsv").exists() {
        eprintln!("skipped: ../shared/corpus is absent, so the corpus is not checked");
        return;
    }
    let (files, flows, extra) = compare_all(&dir);
    eprintln!("corpus: {files} captures, {flows} flows ({extra} with extras) identical");
    assert!(
        files >= 100 && flows >= 5_000,
        "{files} captures, {flows} flows"
    );
}

proptest! {
    #[test]
    fn any_layout_writes_the_bytes_of_serde_json(layout in any::<u64>(), seed in any::<u64>()) {
        let mut flow = flowwire_record::testing::varied_record(layout, seed);
        // The message context too, in both address families.
        let kinds = [ProtocolKind::Netflow5, ProtocolKind::Netflow9, ProtocolKind::Ipfix, ProtocolKind::Sflow5];
        flow.set_kind(kinds.get((seed % 5) as usize).copied());
        let v6 = std::net::SocketAddr::new(std::net::Ipv6Addr::from(u128::from(seed) << 17).into(), seed as u16);
        let v4 = std::net::SocketAddr::new(std::net::Ipv4Addr::from(seed as u32).into(), (seed >> 32) as u16);
        flow.set_exporter([None, Some(v4), Some(v6)][(layout % 3) as usize]);
        flow.set_agent((layout & 1 << 50 != 0).then(|| v6.ip()));
        flow.set_domain((layout & 1 << 51 != 0).then_some(seed as u32));
        flow.set_sequence((layout & 1 << 52 != 0).then_some((seed >> 7) as u32));
        flow.set_export_time((layout & 1 << 53 != 0).then(|| Timestamp::from_unix_nanos(seed as i64)));
        flow.set_renormalized(layout & 1 << 54 != 0);
        let mut line = Vec::new();
        flowwire::jsonl::write_flow_line(&mut line, &flow);
        let mut want = serde_json::to_vec(&flow).expect("serializes");
        want.push(b'\n');
        prop_assert_eq!(String::from_utf8_lossy(&line), String::from_utf8_lossy(&want));
    }
}

proptest! {
    /// IPv6 text: zero runs of every length and place, IPv4-mapped and -compatible forms.
    #[test]
    fn ipv6_addresses_write_the_bytes_of_serde_json(
        groups in proptest::collection::vec(prop_oneof![Just(0u16), Just(1u16), Just(0xffff), any::<u16>()], 8),
        mapped in any::<bool>(),
    ) {
        let mut segments = [0u16; 8];
        segments.copy_from_slice(&groups);
        if mapped {
            segments[..6].copy_from_slice(&[0, 0, 0, 0, 0, 0xffff]);
        }
        let mut flow = FlowRecord::default();
        flow.set_src_addr(Some(std::net::Ipv6Addr::from(segments).into()));
        let mut line = Vec::new();
        flowwire::jsonl::write_flow(&mut line, &flow);
        let want = serde_json::to_vec(&flow).expect("serializes");
        prop_assert_eq!(String::from_utf8_lossy(&line), String::from_utf8_lossy(&want));
    }
}
