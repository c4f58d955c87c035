//! Test helpers: locate the shared corpus and read UDP payloads out of pcaps.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use flowwire_ipfix::record::Timestamp;
use pcap_parser::{Linktype, PcapCapture};

/// The shared corpus folder, if present.
pub(crate) fn corpus_dir() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
    p.join("MANIFEST.tsv").exists().then_some(p)
}

/// One UDP datagram of a capture.
#[derive(Debug, Clone)]
pub(crate) struct Datagram {
    /// 1-based frame number.
    pub(crate) frame: usize,
    /// Source address and port.
    pub(crate) src: SocketAddr,
    /// Destination port.
    pub(crate) dst_port: u16,
    /// Capture time.
    pub(crate) ts: Timestamp,
    /// The UDP payload.
    pub(crate) payload: Vec<u8>,
    /// Where the payload starts in the frame.
    pub(crate) payload_offset: usize,
}

/// The UDP datagrams of a legacy pcap (Ethernet, Linux SLL, raw IP link types).
pub(crate) fn udp_datagrams(bytes: &[u8]) -> Vec<Datagram> {
    let cap = PcapCapture::from_file(bytes).expect("pcap");
    let link = cap.header.network;
    let mut out = Vec::new();
    for (i, b) in cap.blocks.iter().enumerate() {
        let data = b.data;
        let sliced = match link {
            Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
            Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
            _ => SlicedPacket::from_ip(data),
        };
        let Ok(p) = sliced else { continue };
        let src_ip: IpAddr = match &p.net {
            Some(NetSlice::Ipv4(s)) => s.header().source_addr().into(),
            Some(NetSlice::Ipv6(s)) => s.header().source_addr().into(),
            _ => continue,
        };
        let Some(TransportSlice::Udp(u)) = &p.transport else {
            continue;
        };
        let payload = u.payload();
        let payload_offset = payload.as_ptr() as usize - data.as_ptr() as usize;
        out.push(Datagram {
            frame: i + 1,
            src: SocketAddr::new(src_ip, u.source_port()),
            dst_port: u.destination_port(),
            ts: Timestamp::from_unix_secs_nanos(b.ts_sec, b.ts_usec.saturating_mul(1000)),
            payload: payload.to_vec(),
            payload_offset,
        });
    }
    out
}

/// The IPFIX lines of the corpus manifest: (file name, notes).
pub(crate) fn manifest(dir: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    let mut seen = std::collections::BTreeMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() > 11 && cols[1] == "ipfix" {
            seen.insert(cols[0].to_string(), cols[11].to_string());
        }
    }
    seen.into_iter().collect()
}

/// Whether the manifest notes mark a capture as malformed (a negative test case, or one
/// tshark reports as malformed).
pub(crate) fn is_malformed(notes: &str) -> bool {
    notes.contains("negative/edge") || notes.contains("Malformed")
}

/// The capture whose templates a data capture needs first, if the notes name one.
pub(crate) fn template_capture(notes: &str) -> Option<String> {
    let i = notes.find("templates are in ")?;
    let rest = &notes[i + "templates are in ".len()..];
    let end = rest.find(';').unwrap_or(rest.len());
    Some(format!("ipfix/{}", rest[..end].trim()))
}
