//! Test helpers: reading UDP payloads out of pcap / pcapng files, locating the shared corpus.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use flowwire_netflow::record::Timestamp;
use pcap_parser::{Block, Linktype, PcapBlockOwned, PcapError, create_reader};

/// One UDP datagram of a capture.
#[derive(Debug, Clone)]
pub(crate) struct Datagram {
    /// Capture time.
    pub(crate) time: Timestamp,
    /// UDP source.
    pub(crate) src: SocketAddr,
    /// UDP destination port.
    pub(crate) dst_port: u16,
    /// UDP payload.
    pub(crate) payload: Vec<u8>,
}

/// The shared corpus folder, if present.
pub(crate) fn corpus() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
    p.join("MANIFEST.tsv").exists().then_some(p)
}

fn udp(linktype: Linktype, data: &[u8]) -> Option<(SocketAddr, u16, Vec<u8>)> {
    let sliced = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data).ok()?,
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data).ok()?,
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => SlicedPacket::from_ip(data).ok()?,
        Linktype::NULL | Linktype(108) => SlicedPacket::from_ip(data.get(4..)?).ok()?,
        _ => SlicedPacket::from_ethernet(data).ok()?,
    };
    let src_ip: IpAddr = match sliced.net? {
        NetSlice::Ipv4(ip) => ip.header().source_addr().into(),
        NetSlice::Ipv6(ip) => ip.header().source_addr().into(),
        _ => return None,
    };
    match sliced.transport? {
        TransportSlice::Udp(u) => Some((
            SocketAddr::new(src_ip, u.source_port()),
            u.destination_port(),
            u.payload().to_vec(),
        )),
        _ => None,
    }
}

/// Every UDP datagram of a pcap or pcapng file, in order.
pub(crate) fn read_pcap(path: &std::path::Path) -> Vec<Datagram> {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = create_reader(1 << 20, file).unwrap();
    let mut out = Vec::new();
    let mut legacy_link = Linktype::ETHERNET;
    let mut ng_links: Vec<Linktype> = Vec::new();
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => legacy_link = h.network,
                    PcapBlockOwned::Legacy(b) => {
                        if let Some((src, dst_port, payload)) = udp(legacy_link, b.data) {
                            out.push(Datagram {
                                time: Timestamp::from_unix_secs_nanos(
                                    b.ts_sec,
                                    b.ts_usec.saturating_mul(1000),
                                ),
                                src,
                                dst_port,
                                payload,
                            });
                        }
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => ng_links.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(i)) => ng_links.push(i.linktype),
                    PcapBlockOwned::NG(Block::EnhancedPacket(e)) => {
                        let link = ng_links
                            .get(e.if_id as usize)
                            .copied()
                            .unwrap_or(Linktype::ETHERNET);
                        let data = e.data.get(..e.caplen as usize).unwrap_or(e.data);
                        if let Some((src, dst_port, payload)) = udp(link, data) {
                            let ts = (u64::from(e.ts_high) << 32) | u64::from(e.ts_low);
                            out.push(Datagram {
                                time: Timestamp::from_unix_micros_u64(ts),
                                src,
                                dst_port,
                                payload,
                            });
                        }
                    }
                    _ => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    break;
                }
            }
            Err(e) => panic!("{}: {e:?}", path.display()),
        }
    }
    out
}

/// A row of the corpus MANIFEST.
#[derive(Debug, Clone)]
pub(crate) struct ManifestRow {
    /// `proto/file.pcap`.
    pub(crate) file: String,
    /// The notes column.
    pub(crate) notes: String,
}

impl ManifestRow {
    /// Whether the MANIFEST says the capture is malformed on purpose.
    pub(crate) fn malformed(&self) -> bool {
        self.notes.contains("malformed") || self.file.contains("invalid")
    }

    /// The captures (same folder) whose templates this one needs, per "templates are in A + B".
    pub(crate) fn template_files(&self) -> Vec<String> {
        let Some(i) = self.notes.find("templates are in ") else {
            return Vec::new();
        };
        let rest = &self.notes[i + "templates are in ".len()..];
        let end = rest.find(';').unwrap_or(rest.len());
        rest[..end]
            .split(" + ")
            .map(|s| s.trim().to_owned())
            .filter(|s| s.ends_with(".pcap"))
            .collect()
    }
}

/// The MANIFEST rows of one protocol folder.
pub(crate) fn manifest(corpus: &std::path::Path, proto: &str) -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let file = *cols.first()?;
            file.starts_with(&format!("{proto}/")).then(|| ManifestRow {
                file: file.to_owned(),
                notes: cols.get(11).copied().unwrap_or("").to_owned(),
            })
        })
        .collect()
}

/// Writes UDP payloads as a classic pcap with synthetic Ethernet/IPv4/UDP framing
/// (192.0.2.1:49152 -> 192.0.2.2:`dst_port`), for tshark to decode.
pub(crate) fn write_pcap(path: &std::path::Path, dst_port: u16, payloads: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (i, p) in payloads.iter().enumerate() {
        let builder = etherparse::PacketBuilder::ethernet2(
            [0, 0, 0x5e, 0, 0x53, 1],
            [0, 0, 0x5e, 0, 0x53, 2],
        )
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .udp(49152, dst_port);
        let mut frame = Vec::with_capacity(builder.size(p.len()));
        builder.write(&mut frame, p).unwrap();
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).unwrap();
}
