//! Inputs shared by flowwire's benchmarks: deterministic NetFlow v9 and IPFIX packets with the
//! 18-field template the performance targets are stated on, and the hand-written fixed-width
//! decoder they are measured against.
//!
//! The template: IPv4 source and destination address and port, protocol, ToS, TCP flags,
//! input and output interface, octets, packets, start and end, source and destination AS,
//! next hop, source and destination mask. About 1.4 kB per packet.

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
        header(&mut out, RECORDS_PER_PACKET as u16, p as u32 + 1);
        be16(&mut out, TEMPLATE_ID);
        let body = RECORDS_PER_PACKET * V9_RECORD_LEN;
        let pad = (4 - (4 + body) % 4) % 4;
        be16(&mut out, (4 + body + pad) as u16);
        for _ in 0..RECORDS_PER_PACKET {
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
        header(&mut out, (p * RECORDS_PER_PACKET) as u32);
        be16(&mut out, TEMPLATE_ID);
        be16(&mut out, (4 + RECORDS_PER_PACKET * IPFIX_RECORD_LEN) as u16);
        for _ in 0..RECORDS_PER_PACKET {
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

/// Iterates the fixed-length records of a generated v9 data packet.
pub fn v9_records(packet: &[u8]) -> impl Iterator<Item = &[u8; V9_RECORD_LEN]> {
    packet[20 + 4..]
        .chunks_exact(V9_RECORD_LEN)
        .take(RECORDS_PER_PACKET)
        .map(|c| c.try_into().expect("chunks_exact gives whole records"))
}
