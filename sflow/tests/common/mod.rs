//! Test helpers: the shared corpus and UDP payloads out of pcap files.
#![allow(dead_code)]

use std::path::PathBuf;

use etherparse::{LaxSlicedPacket, TransportSlice};

/// The sFlow corpus folder, or None (with a message) when it is absent.
pub(crate) fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
    if dir.join("sflow5").is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: corpus not found at {}", dir.display());
        None
    }
}

/// Corpus files of sflow5 and whether the MANIFEST marks each malformed.
pub(crate) fn sflow_files() -> Vec<(PathBuf, bool)> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_default();
    let mut v: Vec<(PathBuf, bool)> = std::fs::read_dir(dir.join("sflow5"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .map(|p| {
            let name = format!("sflow5/{}", p.file_name().unwrap().to_string_lossy());
            let malformed = manifest
                .lines()
                .find(|l| l.starts_with(&format!("{name}\t")))
                .is_some_and(|l| l.contains("malformed on purpose"));
            (p, malformed)
        })
        .collect();
    v.sort();
    v
}

/// The project's own sFlow captures (Open vSwitch and pmacct sfprobe, in `testdata/`), with
/// the corpus ones: (path, malformed on purpose).
pub(crate) fn all_sflow_files() -> Vec<(PathBuf, bool)> {
    let mut v = sflow_files();
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/captures"));
    for name in ["ovs-sflow5.pcap", "pmacct-sflow5.pcap"] {
        let p = dir.join(name);
        if p.is_file() {
            v.push((p, false));
        } else {
            eprintln!("SKIP: {} not found", p.display());
        }
    }
    v
}

/// One UDP datagram of a capture.
#[derive(Debug, Clone)]
pub(crate) struct Udp {
    /// Frame number, from 1 (as tshark counts).
    pub frame: usize,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload.
    pub payload: Vec<u8>,
}

/// The UDP payloads of a classic pcap (Ethernet, Linux SLL, raw IP link types).
pub(crate) fn udp_payloads(bytes: &[u8]) -> Vec<Udp> {
    let cap = pcap_parser::PcapCapture::from_file(bytes).expect("pcap");
    let link = cap.header.network.0;
    let mut out = Vec::new();
    for (i, b) in cap.blocks.iter().enumerate() {
        let p = match link {
            1 => LaxSlicedPacket::from_ethernet(b.data).ok(),
            113 => b.data.get(14..16).zip(b.data.get(16..)).map(|(t, d)| {
                let et = u16::from_be_bytes([t[0], t[1]]);
                LaxSlicedPacket::from_ether_type(etherparse::EtherType(et), d)
            }),
            101 | 12 | 14 | 228 | 229 => LaxSlicedPacket::from_ip(b.data).ok(),
            0 => b
                .data
                .get(4..)
                .and_then(|d| LaxSlicedPacket::from_ip(d).ok()),
            _ => None,
        };
        if let Some(TransportSlice::Udp(u)) = p.and_then(|p| p.transport) {
            out.push(Udp {
                frame: i + 1,
                src_port: u.source_port(),
                dst_port: u.destination_port(),
                payload: u.payload().to_vec(),
            });
        }
    }
    out
}
