//! The agent side: [`FlowRecord`] to a flow sample with a raw packet header built from its
//! fields, and [`Exporter`], which packs samples into datagrams up to an MTU and numbers
//! datagrams and samples.

use std::collections::HashMap;
use std::net::IpAddr;

use etherparse::{
    IpDscp, IpEcn, IpHeaders, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, PacketBuilder,
    PacketBuilderStep, VlanId,
};
use flowwire_record::FlowRecord;

use crate::convert::{DROPS_FIELD, SAMPLE_POOL_FIELD};
use crate::error::{Error, Result};
use crate::repr::{
    AsPathSegment, ExtendedGateway, ExtendedNat, ExtendedNatPort, ExtendedRouter, ExtendedSwitch,
    FlowData, FlowSample, Sample, SampledHeader, datagram::header_len, header_protocol,
};
use crate::session::SampleKind;
use crate::wire::{Interface, SourceId};
use crate::xdr::{Address, Opaque, Writer, Xdr};

/// Default number of header bytes kept, as agents do.
pub const DEFAULT_HEADER_BYTES: usize = 128;

fn encode_err(what: &'static str) -> Error {
    Error::OutOfRange { what, value: 0 }
}

/// Builds the packet headers a [`FlowRecord`] describes: Ethernet (MACs, zero when absent),
/// 802.1Q / QinQ tags, IPv4 or IPv6 (ToS, flow label), then TCP (ports, flags), UDP (ports),
/// ICMP over IPv4 / ICMPv6 over IPv6 (type, code), or nothing for other protocols. Without addresses only the
/// Ethernet header is built.
pub fn build_header(rec: &FlowRecord) -> Result<Vec<u8>> {
    let src_mac = rec.src_mac.unwrap_or_default().0;
    let dst_mac = rec.dst_mac.unwrap_or_default().0;
    let eth = PacketBuilder::ethernet2(src_mac, dst_mac);
    let proto = rec.protocol.unwrap_or(0);
    // Protocols without a transport header here are patched in after building (see below).
    let v6 = matches!(rec.src_addr, Some(IpAddr::V6(_)));
    let built_proto = match proto {
        6 | 17 => proto,
        1 if !v6 => proto,
        58 if v6 => proto,
        _ => IpNumber::IPV6_NO_NEXT_HEADER.0,
    };
    let tos = rec.tos.unwrap_or(0);
    let ip = match (rec.src_addr, rec.dst_addr) {
        (Some(IpAddr::V4(s)), Some(IpAddr::V4(d))) => {
            let mut h = Ipv4Header::new(0, 64, IpNumber(built_proto), s.octets(), d.octets())
                .map_err(|_| encode_err("IPv4 header"))?;
            h.dscp = IpDscp::try_new(tos >> 2).map_err(|_| encode_err("DSCP"))?;
            h.ecn = IpEcn::try_new(tos & 3).map_err(|_| encode_err("ECN"))?;
            IpHeaders::Ipv4(h, Default::default())
        }
        (Some(IpAddr::V6(s)), Some(IpAddr::V6(d))) => IpHeaders::Ipv6(
            Ipv6Header {
                traffic_class: tos,
                flow_label: Ipv6FlowLabel::try_new(rec.flow_label.unwrap_or(0) & 0xf_ffff)
                    .map_err(|_| encode_err("flow label"))?,
                next_header: IpNumber(built_proto),
                hop_limit: 64,
                source: s.octets(),
                destination: d.octets(),
                payload_length: 0,
            },
            Default::default(),
        ),
        (None, None) => {
            let mut v = Vec::with_capacity(14);
            v.extend_from_slice(&dst_mac);
            v.extend_from_slice(&src_mac);
            v.extend_from_slice(&0u16.to_be_bytes());
            return Ok(v);
        }
        _ => return Err(encode_err("addresses of different families")),
    };
    let vlan = |v: u16| {
        VlanId::try_new(v).map_err(|_| Error::OutOfRange {
            what: "VLAN id",
            value: u64::from(v),
        })
    };
    let step: PacketBuilderStep<IpHeaders> = match (rec.vlan, rec.inner_vlan) {
        (Some(o), Some(i)) => eth.double_vlan(vlan(o)?, vlan(i)?).ip(ip),
        (Some(o), None) => eth.single_vlan(vlan(o)?).ip(ip),
        _ => eth.ip(ip),
    };
    let mut out = Vec::new();
    let sp = rec.src_port.unwrap_or(0);
    let dp = rec.dst_port.unwrap_or(0);
    let res = match proto {
        6 => {
            let flags = rec.tcp_flags.unwrap_or(0);
            let mut t = step.tcp(sp, dp, 0, 65535);
            for (bit, set) in [
                (0x001u16, PacketBuilderStep::fin as fn(_) -> _),
                (0x002, PacketBuilderStep::syn),
                (0x004, PacketBuilderStep::rst),
                (0x008, PacketBuilderStep::psh),
                (0x040, PacketBuilderStep::ece),
                (0x080, PacketBuilderStep::cwr),
                (0x100, PacketBuilderStep::ns),
            ] {
                if flags & bit != 0 {
                    t = set(t);
                }
            }
            if flags & 0x010 != 0 {
                t = t.ack(0);
            }
            if flags & 0x020 != 0 {
                t = t.urg(0);
            }
            t.write(&mut out, &[])
        }
        17 => step.udp(sp, dp).write(&mut out, &[]),
        1 if !v6 => step
            .icmpv4_raw(
                rec.icmp_type.unwrap_or(0),
                rec.icmp_code.unwrap_or(0),
                [0; 4],
            )
            .write(&mut out, &[]),
        58 if v6 => step
            .icmpv6_raw(
                rec.icmp_type.unwrap_or(0),
                rec.icmp_code.unwrap_or(0),
                [0; 4],
            )
            .write(&mut out, &[]),
        p => {
            // etherparse's builder takes an extension header number (0, 43, 44, 51, 60...)
            // for a promise of that header and panics without one: build with "no next
            // header", then put the protocol in the fixed IP header.
            step.write(&mut out, IpNumber::IPV6_NO_NEXT_HEADER, &[])
                .map_err(|_| encode_err("packet header"))?;
            set_last_ip_protocol(&mut out, v6, p)?;
            return Ok(out);
        }
    };
    res.map_err(|_| encode_err("packet header"))?;
    Ok(out)
}

/// Sets the protocol (next header) of the IP header that ends `frame`, a header without
/// options or extensions and without payload, as the builder writes it.
fn set_last_ip_protocol(frame: &mut [u8], v6: bool, protocol: u8) -> Result<()> {
    let len = if v6 {
        Ipv6Header::LEN
    } else {
        Ipv4Header::MIN_LEN
    };
    let at = frame
        .len()
        .checked_sub(len)
        .ok_or_else(|| encode_err("packet header"))?;
    let ip = frame
        .get_mut(at..)
        .ok_or_else(|| encode_err("packet header"))?;
    if v6 {
        let (mut h, _) = Ipv6Header::from_slice(ip).map_err(|_| encode_err("IPv6 header"))?;
        h.next_header = IpNumber(protocol);
        ip.copy_from_slice(&h.to_bytes());
    } else {
        let (mut h, _) = Ipv4Header::from_slice(ip).map_err(|_| encode_err("IPv4 header"))?;
        h.protocol = IpNumber(protocol);
        h.header_checksum = h.calc_header_checksum();
        ip.copy_from_slice(&h.to_bytes());
    }
    Ok(())
}

/// A flow sample describing `rec`: a raw packet header record built by [`build_header`]
/// (cut to `max_header` bytes; frame length = `octets`, or the header's length), an
/// extended_switch record when a VLAN is set, extended_router when a next hop or masks are
/// set, and extended_gateway when AS numbers or a BGP next hop are set. Sampling rate from
/// `sampling_interval` (1 when absent), the pool and drops from extra fields 310 and 164,
/// interfaces from `in_if` / `out_if` (0 when absent), and extended_nat / extended_nat_port
/// when post-NAT addresses or ports are set.
pub fn flow_sample(
    rec: &FlowRecord,
    sequence: u32,
    source: SourceId,
    max_header: usize,
) -> Result<FlowSample> {
    let mut header = build_header(rec)?;
    let frame_length = match rec.octets {
        Some(o) => u32::try_from(o).map_err(|_| Error::OutOfRange {
            what: "frame length",
            value: o,
        })?,
        None => u32::try_from(header.len()).unwrap_or(u32::MAX),
    };
    header.truncate(max_header);
    let mut records = vec![FlowData::SampledHeader(SampledHeader {
        protocol: header_protocol::ETHERNET,
        frame_length,
        stripped: 0,
        header: Opaque(header),
    })];
    if let Some(v) = rec.vlan {
        records.push(FlowData::ExtendedSwitch(ExtendedSwitch {
            src_vlan: u32::from(v),
            src_priority: 0,
            dst_vlan: u32::from(v),
            dst_priority: 0,
        }));
    }
    if rec.next_hop.is_some() || rec.src_mask.is_some() || rec.dst_mask.is_some() {
        records.push(FlowData::ExtendedRouter(ExtendedRouter {
            next_hop: rec.next_hop.map_or(Address::Unknown, Address::from),
            src_mask_len: u32::from(rec.src_mask.unwrap_or(0)),
            dst_mask_len: u32::from(rec.dst_mask.unwrap_or(0)),
        }));
    }
    if rec.src_as.is_some() || rec.dst_as.is_some() || rec.bgp_next_hop.is_some() {
        records.push(FlowData::ExtendedGateway(ExtendedGateway {
            next_hop: rec.bgp_next_hop.map_or(Address::Unknown, Address::from),
            as_number: 0,
            src_as: rec.src_as.unwrap_or(0),
            src_peer_as: 0,
            dst_as_path: rec
                .dst_as
                .map(|a| AsPathSegment {
                    segment_type: 2,
                    path: vec![a],
                })
                .into_iter()
                .collect(),
            communities: Vec::new(),
            local_pref: 0,
        }));
    }
    if rec.post_nat_src_addr.is_some() || rec.post_nat_dst_addr.is_some() {
        records.push(FlowData::ExtendedNat(ExtendedNat {
            src: rec
                .post_nat_src_addr
                .map_or(Address::Unknown, Address::from),
            dst: rec
                .post_nat_dst_addr
                .map_or(Address::Unknown, Address::from),
        }));
    }
    if rec.post_nat_src_port.is_some() || rec.post_nat_dst_port.is_some() {
        records.push(FlowData::ExtendedNatPort(ExtendedNatPort {
            src_port: u32::from(rec.post_nat_src_port.unwrap_or(0)),
            dst_port: u32::from(rec.post_nat_dst_port.unwrap_or(0)),
        }));
    }
    let extra_u32 = |field| {
        rec.extra_field(field)
            .and_then(|v| v.as_value().as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0)
    };
    let pool = extra_u32(SAMPLE_POOL_FIELD);
    let drops = extra_u32(DROPS_FIELD);
    Ok(FlowSample {
        sequence,
        source,
        sampling_rate: rec.sampling_interval.unwrap_or(1),
        sample_pool: pool,
        drops,
        input: Interface::if_index(rec.in_if.unwrap_or(0)),
        output: Interface::if_index(rec.out_if.unwrap_or(0)),
        records,
    })
}

/// Packs samples into datagrams of at most `mtu` bytes (the sFlow payload, without IP/UDP
/// headers), numbering datagrams from 1 and, on request, samples per (kind, source).
#[derive(Debug, Clone)]
pub struct Exporter {
    agent: Address,
    sub_agent_id: u32,
    mtu: usize,
    sequence: u32,
    pending: Vec<Sample>,
    pending_len: usize,
    sample_sequences: HashMap<(SampleKind, SourceId), u32>,
}

impl Exporter {
    /// Usual sFlow datagram size limit (sflowtool's default).
    pub const DEFAULT_MTU: usize = 1400;

    /// An exporter for one agent and sub-agent.
    pub fn new(agent: Address, sub_agent_id: u32, mtu: usize) -> Self {
        Exporter {
            agent,
            sub_agent_id,
            mtu,
            sequence: 0,
            pending: Vec::new(),
            pending_len: header_len(&agent),
            sample_sequences: HashMap::new(),
        }
    }

    /// The next sample sequence number of a source (from 1).
    pub fn next_sample_sequence(&mut self, kind: SampleKind, source: SourceId) -> u32 {
        let s = self.sample_sequences.entry((kind, source)).or_insert(0);
        *s = s.wrapping_add(1);
        *s
    }

    /// The sequence number of the last datagram produced.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Samples waiting for the next datagram.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Queues a sample. When it does not fit in the current datagram, that datagram is
    /// finished (stamped with `uptime_ms`) and returned, and the sample starts the next one.
    /// A sample that cannot fit in any datagram is an [`Error::OutOfRange`].
    pub fn push(&mut self, sample: Sample, uptime_ms: u32) -> Result<Option<Vec<u8>>> {
        let len = sample.xdr_len();
        let header = header_len(&self.agent);
        if header + len > self.mtu {
            return Err(Error::OutOfRange {
                what: "sample larger than the MTU",
                value: len as u64,
            });
        }
        let done = if self.pending_len + len > self.mtu {
            self.flush(uptime_ms)?
        } else {
            None
        };
        self.pending_len += len;
        self.pending.push(sample);
        Ok(done)
    }

    /// Finishes the current datagram, if it holds any sample.
    pub fn flush(&mut self, uptime_ms: u32) -> Result<Option<Vec<u8>>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        self.sequence = self.sequence.wrapping_add(1);
        let mut buf = vec![0u8; self.pending_len];
        let mut w = Writer::new(&mut buf);
        w.u32(5);
        self.agent.write(&mut w);
        w.u32(self.sub_agent_id);
        w.u32(self.sequence);
        w.u32(uptime_ms);
        self.pending.write(&mut w);
        w.finish(self.pending_len)?;
        self.pending.clear();
        self.pending_len = header_len(&self.agent);
        Ok(Some(buf))
    }
}
