//! Inputs shared by flowwire's benchmarks: deterministic NetFlow v9 and IPFIX packets with the
//! 18-field template the performance targets are stated on, and the hand-written fixed-width
//! decoder they are measured against.
//!
//! The template: IPv4 source and destination address and port, protocol, ToS, TCP flags,
//! input and output interface, octets, packets, start and end, source and destination AS,
//! next hop, source and destination mask. About 1.4 kB per packet.

pub mod report;

/// Template id used by the generated packets.
pub const TEMPLATE_ID: u16 = 256;

/// (element id, length) of the 18 fields, in order, for NetFlow v9 (times are 21/22,
/// sysUptime-relative milliseconds).
pub const V9_FIELDS: [(u16, u16); 18] = [
    (8, 4),  // sourceIPv4Address
    (12, 4), // destinationIPv4Address
    (7, 2),  // sourceTransportPort
    (11, 2), // destinationTransportPort
    (4, 1),  // protocolIdentifier
    (5, 1),  // ipClassOfService
    (6, 1),  // tcpControlBits
    (10, 4), // ingressInterface
    (14, 4), // egressInterface
    (1, 8),  // octetDeltaCount
    (2, 8),  // packetDeltaCount
    (22, 4), // flowStartSysUpTime
    (21, 4), // flowEndSysUpTime
    (16, 4), // bgpSourceAsNumber
    (17, 4), // bgpDestinationAsNumber
    (15, 4), // ipNextHopIPv4Address
    (9, 1),  // sourceIPv4PrefixLength
    (13, 1), // destinationIPv4PrefixLength
];

/// The same for IPFIX, with absolute millisecond times (152/153).
pub const IPFIX_FIELDS: [(u16, u16); 18] = {
    let mut f = V9_FIELDS;
    f[11] = (152, 8);
    f[12] = (153, 8);
    f
};

/// Length of one v9 data record.
pub const V9_RECORD_LEN: usize = 61;
/// Length of one IPFIX data record.
pub const IPFIX_RECORD_LEN: usize = 69;
/// Records per generated packet (about 1.4 kB of records).
pub const RECORDS_PER_PACKET: usize = 22;

/// A small deterministic generator (xorshift64*), so every run sees the same bytes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A value below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The values of one generated flow, what every decoder must agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flow {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Protocol.
    pub proto: u8,
    /// ToS.
    pub tos: u8,
    /// TCP flags.
    pub flags: u8,
    /// Input interface.
    pub in_if: u32,
    /// Output interface.
    pub out_if: u32,
    /// Octets.
    pub octets: u64,
    /// Packets.
    pub packets: u64,
    /// Start (uptime ms for v9, Unix ms for IPFIX).
    pub start: u64,
    /// End.
    pub end: u64,
    /// Source AS.
    pub src_as: u32,
    /// Destination AS.
    pub dst_as: u32,
    /// Next hop.
    pub next_hop: [u8; 4],
    /// Source mask.
    pub src_mask: u8,
    /// Destination mask.
    pub dst_mask: u8,
}

impl Flow {
    /// A random flow.
    pub fn random(rng: &mut Rng, ipfix: bool) -> Self {
        let base = if ipfix { 1_700_000_000_000 } else { 3_600_000 };
        let start = base + rng.below(50_000);
        Flow {
            src: (rng.next_u64() as u32 | 0x0a00_0000).to_be_bytes(),
            dst: (rng.next_u64() as u32).to_be_bytes(),
            sport: rng.below(65536) as u16,
            dport: [53, 80, 443, 8080][rng.below(4) as usize],
            proto: [6, 17][rng.below(2) as usize],
            tos: rng.below(256) as u8,
            flags: rng.below(64) as u8,
            in_if: rng.below(48) as u32 + 1,
            out_if: rng.below(48) as u32 + 1,
            octets: rng.below(10_000_000) + 40,
            packets: rng.below(10_000) + 1,
            start,
            end: start + rng.below(60_000),
            src_as: rng.below(70_000) as u32,
            dst_as: rng.below(70_000) as u32,
            next_hop: (rng.next_u64() as u32).to_be_bytes(),
            src_mask: rng.below(33) as u8,
            dst_mask: rng.below(33) as u8,
        }
    }

    fn emit(&self, out: &mut Vec<u8>, ipfix: bool) {
        out.extend_from_slice(&self.src);
        out.extend_from_slice(&self.dst);
        out.extend_from_slice(&self.sport.to_be_bytes());
        out.extend_from_slice(&self.dport.to_be_bytes());
        out.extend_from_slice(&[self.proto, self.tos, self.flags]);
        out.extend_from_slice(&self.in_if.to_be_bytes());
        out.extend_from_slice(&self.out_if.to_be_bytes());
        out.extend_from_slice(&self.octets.to_be_bytes());
        out.extend_from_slice(&self.packets.to_be_bytes());
        if ipfix {
            out.extend_from_slice(&self.start.to_be_bytes());
            out.extend_from_slice(&self.end.to_be_bytes());
        } else {
            out.extend_from_slice(&(self.start as u32).to_be_bytes());
            out.extend_from_slice(&(self.end as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.src_as.to_be_bytes());
        out.extend_from_slice(&self.dst_as.to_be_bytes());
        out.extend_from_slice(&self.next_hop);
        out.extend_from_slice(&[self.src_mask, self.dst_mask]);
    }
}

/// Generated export packets: the first carries the template, the rest data only.
#[derive(Debug, Clone)]
pub struct Packets {
    /// The template packet.
    pub template: Vec<u8>,
    /// Data packets.
    pub data: Vec<Vec<u8>>,
    /// The flows in the data packets, in order.
    pub flows: Vec<Flow>,
}

fn be16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
fn be32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

const EXPORT_SECS: u32 = 1_700_000_100;
const SYS_UPTIME_MS: u32 = 3_700_000;

/// NetFlow v9 packets with `packets` data packets of [`RECORDS_PER_PACKET`] records each.
pub fn netflow9(packets: usize, seed: u64) -> Packets {
    netflow9_with(packets, RECORDS_PER_PACKET, seed)
}

/// NetFlow v9 packets with `packets` data packets of `per_packet` records each (at most 1000).
pub fn netflow9_with(packets: usize, per_packet: usize, seed: u64) -> Packets {
    let per_packet = per_packet.clamp(1, 1000);
    let mut rng = Rng::new(seed);
    let header = |out: &mut Vec<u8>, count: u16, seq: u32| {
        be16(out, 9);
        be16(out, count);
        be32(out, SYS_UPTIME_MS);
        be32(out, EXPORT_SECS);
        be32(out, seq);
        be32(out, 1);
    };
    let mut template = Vec::new();
    header(&mut template, 1, 0);
    be16(&mut template, 0);
    be16(&mut template, (4 + 4 + 4 * V9_FIELDS.len()) as u16);
    be16(&mut template, TEMPLATE_ID);
    be16(&mut template, V9_FIELDS.len() as u16);
    for (id, len) in V9_FIELDS {
        be16(&mut template, id);
        be16(&mut template, len);
    }
    let mut data = Vec::new();
    let mut flows = Vec::new();
    for p in 0..packets {
        let mut out = Vec::with_capacity(1500);
        header(&mut out, per_packet as u16, p as u32 + 1);
        be16(&mut out, TEMPLATE_ID);
        let body = per_packet * V9_RECORD_LEN;
        let pad = (4 - (4 + body) % 4) % 4;
        be16(&mut out, (4 + body + pad) as u16);
        for _ in 0..per_packet {
            let f = Flow::random(&mut rng, false);
            f.emit(&mut out, false);
            flows.push(f);
        }
        out.resize(out.len() + pad, 0);
        data.push(out);
    }
    Packets {
        template,
        data,
        flows,
    }
}

/// IPFIX messages with `packets` data messages of [`RECORDS_PER_PACKET`] records each.
pub fn ipfix(packets: usize, seed: u64) -> Packets {
    ipfix_with(packets, RECORDS_PER_PACKET, seed)
}

/// IPFIX messages with `packets` data messages of `per_packet` records each (at most 900).
pub fn ipfix_with(packets: usize, per_packet: usize, seed: u64) -> Packets {
    let per_packet = per_packet.clamp(1, 900);
    let mut rng = Rng::new(seed);
    let header = |out: &mut Vec<u8>, seq: u32| {
        be16(out, 10);
        be16(out, 0); // length, patched below
        be32(out, EXPORT_SECS);
        be32(out, seq);
        be32(out, 1);
    };
    let patch = |out: &mut Vec<u8>| {
        let len = out.len() as u16;
        out[2..4].copy_from_slice(&len.to_be_bytes());
    };
    let mut template = Vec::new();
    header(&mut template, 0);
    be16(&mut template, 2);
    be16(&mut template, (4 + 4 + 4 * IPFIX_FIELDS.len()) as u16);
    be16(&mut template, TEMPLATE_ID);
    be16(&mut template, IPFIX_FIELDS.len() as u16);
    for (id, len) in IPFIX_FIELDS {
        be16(&mut template, id);
        be16(&mut template, len);
    }
    patch(&mut template);
    let mut data = Vec::new();
    let mut flows = Vec::new();
    for p in 0..packets {
        let mut out = Vec::with_capacity(1600);
        header(&mut out, (p * per_packet) as u32);
        be16(&mut out, TEMPLATE_ID);
        be16(&mut out, (4 + per_packet * IPFIX_RECORD_LEN) as u16);
        for _ in 0..per_packet {
            let f = Flow::random(&mut rng, true);
            f.emit(&mut out, true);
            flows.push(f);
        }
        patch(&mut out);
        data.push(out);
    }
    Packets {
        template,
        data,
        flows,
    }
}

/// The baseline: a decoder written for exactly this template, field widths fixed at compile
/// time, filling a plain struct. What the "half the hand-written speed" target compares to.
pub fn handwritten_decode(record: &[u8; V9_RECORD_LEN]) -> Flow {
    let u16at = |o: usize| u16::from_be_bytes([record[o], record[o + 1]]);
    let u32at =
        |o: usize| u32::from_be_bytes([record[o], record[o + 1], record[o + 2], record[o + 3]]);
    let u64at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&record[o..o + 8]);
        u64::from_be_bytes(b)
    };
    let ip = |o: usize| [record[o], record[o + 1], record[o + 2], record[o + 3]];
    Flow {
        src: ip(0),
        dst: ip(4),
        sport: u16at(8),
        dport: u16at(10),
        proto: record[12],
        tos: record[13],
        flags: record[14],
        in_if: u32at(15),
        out_if: u32at(19),
        octets: u64at(23),
        packets: u64at(31),
        start: u64::from(u32at(39)),
        end: u64::from(u32at(43)),
        src_as: u32at(47),
        dst_as: u32at(51),
        next_hop: ip(55),
        src_mask: record[59],
        dst_mask: record[60],
    }
}

/// The hand-written decoder with the field widths looked up at run time (the issue's
/// "13-16 M records/s" baseline): walks `fields` (element id, length) and stores each value
/// by element id.
#[inline]
pub fn runtime_width_decode(record: &[u8], fields: &[(u16, u16)]) -> Flow {
    let mut f = Flow::default();
    let mut pos = 0usize;
    for &(id, len) in fields {
        let len = usize::from(len);
        let Some(b) = record.get(pos..pos + len) else {
            break;
        };
        pos += len;
        let v = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        match id {
            8 => f.src = (v as u32).to_be_bytes(),
            12 => f.dst = (v as u32).to_be_bytes(),
            7 => f.sport = v as u16,
            11 => f.dport = v as u16,
            4 => f.proto = v as u8,
            5 => f.tos = v as u8,
            6 => f.flags = v as u8,
            10 => f.in_if = v as u32,
            14 => f.out_if = v as u32,
            1 => f.octets = v,
            2 => f.packets = v,
            22 | 152 => f.start = v,
            21 | 153 => f.end = v,
            16 => f.src_as = v as u32,
            17 => f.dst_as = v as u32,
            15 => f.next_hop = (v as u32).to_be_bytes(),
            9 => f.src_mask = v as u8,
            13 => f.dst_mask = v as u8,
            _ => {}
        }
    }
    f
}

/// The hand-written fixed-width decoder's [`Flow`] stored into a reused
/// [`flowwire_record::FlowRecord`] (cleared first): the floor of any decoder that fills a
/// `FlowRecord` (times are left out: they need the export header).
#[inline]
pub fn flow_into_record(f: &Flow, r: &mut flowwire_record::FlowRecord) {
    use std::net::{IpAddr, Ipv4Addr};
    r.clear();
    r.set_src_addr(Some(IpAddr::V4(Ipv4Addr::from(f.src))));
    r.set_dst_addr(Some(IpAddr::V4(Ipv4Addr::from(f.dst))));
    r.set_src_port(Some(f.sport));
    r.set_dst_port(Some(f.dport));
    r.set_protocol(Some(f.proto));
    r.set_tos(Some(f.tos));
    r.set_tcp_flags(Some(u16::from(f.flags)));
    r.set_in_if(Some(f.in_if));
    r.set_out_if(Some(f.out_if));
    r.set_octets(Some(f.octets));
    r.set_packets(Some(f.packets));
    r.set_src_as(Some(f.src_as));
    r.set_dst_as(Some(f.dst_as));
    r.set_next_hop(Some(IpAddr::V4(Ipv4Addr::from(f.next_hop))));
    r.set_src_mask(Some(f.src_mask));
    r.set_dst_mask(Some(f.dst_mask));
}

/// Iterates the fixed-length records of a generated v9 data packet (by its FlowSet length).
pub fn v9_records(packet: &[u8]) -> impl Iterator<Item = &[u8; V9_RECORD_LEN]> {
    let set_len = usize::from(u16::from_be_bytes([packet[22], packet[23]]));
    let n = (set_len - 4) / V9_RECORD_LEN;
    packet[20 + 4..]
        .chunks_exact(V9_RECORD_LEN)
        .take(n)
        .map(|c| c.try_into().expect("chunks_exact gives whole records"))
}

/// Iterates the fixed-length records of a generated IPFIX data message.
pub fn ipfix_records(packet: &[u8]) -> impl Iterator<Item = &[u8; IPFIX_RECORD_LEN]> {
    let set_len = usize::from(u16::from_be_bytes([packet[18], packet[19]]));
    let n = (set_len - 4) / IPFIX_RECORD_LEN;
    packet[16 + 4..]
        .chunks_exact(IPFIX_RECORD_LEN)
        .take(n)
        .map(|c| c.try_into().expect("chunks_exact gives whole records"))
}

/// The hand-written decoder for the IPFIX layout (8-byte absolute times).
pub fn handwritten_decode_ipfix(record: &[u8; IPFIX_RECORD_LEN]) -> Flow {
    let u16at = |o: usize| u16::from_be_bytes([record[o], record[o + 1]]);
    let u32at =
        |o: usize| u32::from_be_bytes([record[o], record[o + 1], record[o + 2], record[o + 3]]);
    let u64at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&record[o..o + 8]);
        u64::from_be_bytes(b)
    };
    let ip = |o: usize| [record[o], record[o + 1], record[o + 2], record[o + 3]];
    Flow {
        src: ip(0),
        dst: ip(4),
        sport: u16at(8),
        dport: u16at(10),
        proto: record[12],
        tos: record[13],
        flags: record[14],
        in_if: u32at(15),
        out_if: u32at(19),
        octets: u64at(23),
        packets: u64at(31),
        start: u64at(39),
        end: u64at(47),
        src_as: u32at(55),
        dst_as: u32at(59),
        next_hop: ip(63),
        src_mask: record[67],
        dst_mask: record[68],
    }
}

/// The "step over records reading only the two counters" baseline: octets and packets of
/// every record of a generated v9 data packet, summed.
#[inline]
pub fn v9_step_two_counters(packet: &[u8]) -> (u64, u64) {
    let mut octets = 0u64;
    let mut packets = 0u64;
    for r in v9_records(packet) {
        octets = octets.wrapping_add(u64::from_be_bytes(r[23..31].try_into().unwrap_or_default()));
        packets =
            packets.wrapping_add(u64::from_be_bytes(r[31..39].try_into().unwrap_or_default()));
    }
    (octets, packets)
}

/// The same for IPFIX.
#[inline]
pub fn ipfix_step_two_counters(packet: &[u8]) -> (u64, u64) {
    let mut octets = 0u64;
    let mut packets = 0u64;
    for r in ipfix_records(packet) {
        octets = octets.wrapping_add(u64::from_be_bytes(r[23..31].try_into().unwrap_or_default()));
        packets =
            packets.wrapping_add(u64::from_be_bytes(r[31..39].try_into().unwrap_or_default()));
    }
    (octets, packets)
}

/// The expected values of one generated sFlow flow sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SflowFlow {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Protocol (6 or 17).
    pub proto: u8,
    /// Frame length (what becomes `octets`).
    pub frame_length: u32,
    /// Sampling rate.
    pub sampling_rate: u32,
    /// Input ifIndex.
    pub in_if: u32,
    /// Output ifIndex.
    pub out_if: u32,
}

/// Generated sFlow v5 datagrams.
#[derive(Debug, Clone)]
pub struct SflowPackets {
    /// The datagrams (up to 1400 bytes each, flow samples only).
    pub datagrams: Vec<Vec<u8>>,
    /// The samples, in order.
    pub flows: Vec<SflowFlow>,
}

/// Bytes of sampled header per flow sample.
pub const SFLOW_HEADER_BYTES: usize = 128;

/// `samples` flow samples, each with one raw packet header record of [`SFLOW_HEADER_BYTES`]
/// bytes (Ethernet, IPv4, TCP or UDP, then payload, cut from a 200..1514-byte frame) and an
/// extended switch record, packed by `flowwire_sflow`'s exporter into datagrams of at most
/// 1400 bytes (7 samples each).
pub fn sflow(samples: usize, seed: u64) -> SflowPackets {
    use flowwire_record::Timestamp;
    use flowwire_sflow::encode::{Exporter, ExporterConfig};
    use flowwire_sflow::repr::{ExtendedSwitch, FlowData, FlowSample, Sample, SampledHeader};
    use flowwire_sflow::wire::{Interface, SourceId};
    use flowwire_sflow::xdr::{Address, Opaque};

    let mut rng = Rng::new(seed);
    // Booted at the epoch, so the uptime field reads the push time in milliseconds.
    let mut exporter = Exporter::new(ExporterConfig {
        agent: Address::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
        max_datagram_len: 1400,
        ..ExporterConfig::default()
    });
    let mut datagrams: Vec<Vec<u8>> = Vec::new();
    let mut flows = Vec::new();
    let payload = vec![0x5au8; 1514];
    for i in 0..samples {
        let f = Flow::random(&mut rng, false);
        let frame_length = 200 + rng.below(1315) as u32;
        let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(f.src, f.dst, 64);
        let mut frame = Vec::with_capacity(frame_length as usize);
        if f.proto == 6 {
            let b = builder.tcp(f.sport, f.dport, 1, 65535);
            let body = frame_length as usize - b.size(0);
            b.write(&mut frame, &payload[..body]).expect("in memory");
        } else {
            let b = builder.udp(f.sport, f.dport);
            let body = frame_length as usize - b.size(0);
            b.write(&mut frame, &payload[..body]).expect("in memory");
        }
        frame.truncate(SFLOW_HEADER_BYTES);
        let sampling_rate = 1024;
        let sample = FlowSample {
            sequence: i as u32 + 1,
            source: SourceId { class: 0, index: 3 },
            sampling_rate,
            sample_pool: (i as u32 + 1).wrapping_mul(sampling_rate),
            drops: 0,
            input: Interface::if_index(f.in_if),
            output: Interface::if_index(f.out_if),
            records: vec![
                FlowData::SampledHeader(SampledHeader {
                    protocol: 1,
                    frame_length,
                    stripped: 4,
                    header: Opaque(frame),
                }),
                FlowData::ExtendedSwitch(ExtendedSwitch {
                    src_vlan: 10,
                    src_priority: 0,
                    dst_vlan: 10,
                    dst_priority: 0,
                }),
            ],
        };
        exporter
            .push_sample(
                &Sample::Flow(sample),
                Timestamp::from_unix_millis(60_000 + i as i64),
                &mut |d| datagrams.push(d.to_vec()),
            )
            .expect("fits");
        flows.push(SflowFlow {
            src: f.src,
            dst: f.dst,
            sport: f.sport,
            dport: f.dport,
            proto: f.proto,
            frame_length,
            sampling_rate,
            in_if: f.in_if,
            out_if: f.out_if,
        });
    }
    flowwire_record::codec::Exporter::flush(
        &mut exporter,
        Timestamp::from_unix_millis(60_000 + samples as i64),
        &mut |d| datagrams.push(d.to_vec()),
    )
    .expect("fits");
    SflowPackets { datagrams, flows }
}
