//! The agent side: [`Exporter`] turns [`FlowRecord`]s into flow samples — a raw packet
//! header synthesised from the record's fields, plus the extended records that carry the rest
//! — and packs them into sFlow v5 datagrams of at most
//! [`ExporterConfig::max_datagram_len`] bytes, numbering datagrams and samples. It implements
//! [`flowwire_record::codec::Exporter`]; [`Exporter::push_sample`] takes samples built by hand.
//!
//! # What a flow sample carries
//!
//! sFlow describes one sampled packet, not a flow: one sample is one packet, with no times.
//! [`restrict`](codec::Exporter::restrict) is the exact model of what [`crate::Session`]
//! decodes back (checked by a property test over arbitrary records); this table says the same
//! in words.
//!
//! | `FlowRecord` field | carried as | decoded back |
//! |---|---|---|
//! | `src_mac`, `dst_mac` | Ethernet header of the raw header record | as sent; the other one `00:00:00:00:00:00` when only one is set |
//! | `vlan`, `inner_vlan` | 802.1Q tag (802.1ad + 802.1Q for both) in the Ethernet header when there is one (a MAC, or both VLANs); `vlan` also in extended_switch (1001) | as sent; `inner_vlan` only with `vlan`; without the Ethernet header (none, or cut off), `vlan` from extended_switch, where 0 means none |
//! | `src_addr`, `dst_addr` | IPv4 or IPv6 header of the raw header record, when both are set and of one family | as sent |
//! | `protocol` | that IP header (none without it, as for every field below down to `icmp_code`) | as sent; absent: 59 (no next header) |
//! | `tos` | IPv4 ToS / IPv6 traffic class | as sent; absent: 0 |
//! | `flow_label` | IPv6 header | IPv6: as sent, absent: 0; IPv4: not carried |
//! | `src_port`, `dst_port` | TCP (6) or UDP (17) header | TCP, UDP: as sent, absent: 0; other protocols: not carried |
//! | `tcp_flags` | TCP header (9 bits, NS included) | TCP: the low 9 bits, absent: 0; other protocols: not carried |
//! | `icmp_type`, `icmp_code` | ICMP header (protocol 1 over IPv4, 58 over IPv6) | those: as sent, absent: 0; other protocols: not carried |
//! | `octets` | the header record's frame length (at most 2^32 - 1) | as sent; absent: the synthesised header's length |
//! | `packets` | — (a sample is one packet) | always 1 |
//! | `sampling_interval` | the sample's sampling rate | as sent; absent: 1 |
//! | `in_if`, `out_if` | the sample's input / output interface (format 0; an expanded sample when one needs more than 30 bits); `in_if` is also the sample's data source | as sent; absent: 0 |
//! | `next_hop`, `src_mask`, `dst_mask` | extended_router (1002) | as sent; with any of the three, an absent mask is 0 |
//! | `bgp_next_hop`, `src_as`, `dst_as` | extended_gateway (1003), `dst_as` as a one-AS path | as sent; with any of the three, an absent `src_as` is 0 |
//! | `post_nat_src_addr`, `post_nat_dst_addr` | extended_nat (1007) | as sent |
//! | `post_nat_src_port`, `post_nat_dst_port` | extended_nat_port (1020) | as sent; with one of them, the other is 0 |
//! | `mpls_label` | extended_mpls (1006), as the input label stack | as sent |
//! | extra 310 (`samplingPopulation`), 164 (`ignoredPacketTotalCount`) | the sample's pool and drops: the first of each, when its value is a number that fits 32 bits | always both (unsigned32, unsigned64), 0 when absent |
//! | `start`, `end`, `direction`, `end_reason`, `forwarding_status`, `sampling_algorithm`, every other extra | not carried | absent |
//! | `kind`, `exporter`, `agent`, `domain`, `sequence`, `export_time` | the datagram's own: [`ExporterConfig::agent`], [`ExporterConfig::sub_agent_id`], sample numbering | (message context) |
//!
//! A header field cannot be absent: an IPv4 header has a ToS, TCP has flags. What the record
//! does not set is sent as 0 (the protocol as 59) and decodes as that value, as the table
//! says. The raw header holds only the layers the record describes: Ethernet only when the
//! record has a MAC or two VLANs (header protocol 1, else raw IPv4 11 or IPv6 12; a single
//! VLAN without MACs travels in extended_switch), IP only when it has both addresses, TCP /
//! UDP / ICMP only for those protocols; a record with neither MACs, VLANs nor addresses sends
//! an empty header (protocol 1) with its frame length. A
//! header longer than [`ExporterConfig::header_bytes`] keeps the layers that fit whole.
//!
//! What a record has that the datagram cannot carry (a field above marked not carried, a
//! packet count other than 1, `flow_label` over IPv4, ports of a protocol without them,
//! TCP flags above bit 8, MACs or addresses cut off by `header_bytes`...) is left out and
//! counted in [`ExportStats::records_with_dropped_fields`] and
//! [`ExportStats::fields_dropped`], or the record is refused with [`Error::NotCarried`] when
//! [`ExporterConfig::strict`] is set. A value out of its field's range (octets over 2^32 - 1,
//! a VLAN id over 4095, a flow or MPLS label over 2^20 - 1) is refused with
//! [`Error::OutOfRange`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use flowwire_record::codec::{self, ExportStats};
use flowwire_record::{ExtraField, FlowRecord, OwnedValue, ProtocolKind, Timestamp};

use crate::convert::{DROPS_FIELD, SAMPLE_POOL_FIELD};
use crate::error::{Error, Result};
use crate::repr::{
    AsPathSegment, ExtendedGateway, ExtendedMpls, ExtendedNat, ExtendedNatPort, ExtendedRouter,
    ExtendedSwitch, FlowData, FlowSample, Sample, SampledHeader, datagram::header_len,
    header_protocol,
};
use crate::session::SampleKind;
use crate::wire::{Interface, SourceId};
use crate::xdr::{Address, Opaque, Writer, Xdr};

/// Default number of raw header bytes a sample keeps, as agents do.
pub const DEFAULT_HEADER_BYTES: usize = 128;

/// Default datagram size limit (sflowtool's), in UDP payload bytes.
pub const DEFAULT_MAX_DATAGRAM_LEN: usize = 1400;

/// IP protocol sent when a record has none: "no next header" (RFC 8200).
pub const NO_PROTOCOL: u8 = 59;

/// How an [`Exporter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExporterConfig {
    /// The largest datagram, in UDP payload bytes (default 1400). A sample that cannot fit in
    /// a datagram of this size alone is refused.
    pub max_datagram_len: usize,
    /// The agent address every datagram names (default 127.0.0.1). Collectors tell agents
    /// apart by it, with [`ExporterConfig::sub_agent_id`].
    pub agent: Address,
    /// The sub-agent id (default 0): decoded as the records' `domain`.
    pub sub_agent_id: u32,
    /// The most raw header bytes a sample carries (default 128, as agents). Synthesised
    /// headers are at most 82 bytes (Ethernet with two VLAN tags, IPv6, TCP); below that,
    /// the layers that do not fit whole are left out.
    pub header_bytes: usize,
    /// Refuse records with fields sFlow cannot carry ([`Error::NotCarried`]) instead of
    /// sending them without (default false).
    pub strict: bool,
    /// When the agent booted (default the Unix epoch): the datagram header's uptime counts
    /// milliseconds from it, modulo 2^32 as the field wraps.
    pub boot: Timestamp,
}

impl Default for ExporterConfig {
    fn default() -> Self {
        ExporterConfig {
            max_datagram_len: DEFAULT_MAX_DATAGRAM_LEN,
            agent: Address::V4(Ipv4Addr::LOCALHOST),
            sub_agent_id: 0,
            header_bytes: DEFAULT_HEADER_BYTES,
            strict: false,
            boot: Timestamp::default(),
        }
    }
}

const ETHERNET_LEN: usize = 14;
const VLAN_TAG_LEN: usize = 4;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const TCP_LEN: usize = 20;
const UDP_LEN: usize = 8;
const ICMP_LEN: usize = 8;

/// The transport header a record's protocol gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    None,
    Tcp,
    Udp,
    Icmp,
}

impl Transport {
    fn len(self) -> usize {
        match self {
            Transport::None => 0,
            Transport::Tcp => TCP_LEN,
            Transport::Udp => UDP_LEN,
            Transport::Icmp => ICMP_LEN,
        }
    }
}

/// The layers of the header synthesised for a record: what it describes, and what of it
/// fits in `header_bytes`. The encoder and [`Exporter::restrict`] both follow it.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The record has a MAC or two VLANs: the header starts with Ethernet.
    ethernet: bool,
    /// VLAN tags in the Ethernet header (0, 1 or 2).
    tags: usize,
    /// Both addresses, of one family.
    ip: Option<(IpAddr, IpAddr)>,
    transport: Transport,
    /// Whether each layer is in the (cut) header.
    ethernet_kept: bool,
    ip_kept: bool,
    transport_kept: bool,
    /// The whole header's length, before cutting.
    full_len: usize,
    /// The header's length once cut to the layers that fit.
    kept_len: usize,
}

impl Layout {
    fn of(r: &FlowRecord, header_bytes: usize) -> Self {
        let tags = match (r.vlan(), r.inner_vlan()) {
            (Some(_), Some(_)) => 2,
            (Some(_), None) => 1,
            (None, _) => 0,
        };
        // One VLAN without MACs goes in extended_switch alone: an Ethernet header for it would
        // decode as zero MACs the record never had (and a cut header would make that differ
        // from one pass to the next). Two VLANs need the header's tags.
        let ethernet = r.src_mac().is_some() || r.dst_mac().is_some() || tags > 1;
        let ip = match (r.src_addr(), r.dst_addr()) {
            (Some(s @ IpAddr::V4(_)), Some(d @ IpAddr::V4(_)))
            | (Some(s @ IpAddr::V6(_)), Some(d @ IpAddr::V6(_))) => Some((s, d)),
            _ => None,
        };
        let v6 = matches!(ip, Some((IpAddr::V6(_), _)));
        let transport = match (ip, r.protocol()) {
            (None, _) => Transport::None,
            (Some(_), Some(6)) => Transport::Tcp,
            (Some(_), Some(17)) => Transport::Udp,
            (Some(_), Some(1)) if !v6 => Transport::Icmp,
            (Some(_), Some(58)) if v6 => Transport::Icmp,
            _ => Transport::None,
        };
        let link_len = if ethernet {
            ETHERNET_LEN + VLAN_TAG_LEN * tags
        } else {
            0
        };
        let ip_len = match ip {
            None => 0,
            Some(_) if v6 => IPV6_LEN,
            Some(_) => IPV4_LEN,
        };
        let full_len = link_len + ip_len + transport.len();
        // Outer layers first; the first one that does not fit ends the header.
        let ethernet_kept = ethernet && link_len <= header_bytes;
        let ip_kept = ip.is_some() && link_len + ip_len <= header_bytes;
        let transport_kept = ip_kept && transport != Transport::None && full_len <= header_bytes;
        let kept_len = if transport_kept {
            full_len
        } else if ip_kept {
            link_len + ip_len
        } else if ethernet_kept {
            link_len
        } else {
            0
        };
        Layout {
            ethernet,
            tags,
            ip,
            transport,
            ethernet_kept,
            ip_kept,
            transport_kept,
            full_len,
            kept_len,
        }
    }

    /// The sampled header record's protocol.
    fn header_protocol(&self) -> u32 {
        match self.ip {
            Some((IpAddr::V4(_), _)) if !self.ethernet => header_protocol::IPV4,
            Some((IpAddr::V6(_), _)) if !self.ethernet => header_protocol::IPV6,
            _ => header_protocol::ETHERNET,
        }
    }
}

/// The Internet checksum of `data`, continuing from `sum` (a pseudo-header's).
fn checksum(mut sum: u32, data: &[u8]) -> u16 {
    let mut words = data.chunks_exact(2);
    for w in words.by_ref() {
        if let [a, b] = *w {
            sum += u32::from(u16::from_be_bytes([a, b]));
        }
    }
    if let [a] = *words.remainder() {
        sum += u32::from(a) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn sum_words(data: &[u8]) -> u32 {
    data.chunks_exact(2)
        .map(|w| match *w {
            [a, b] => u32::from(u16::from_be_bytes([a, b])),
            _ => 0,
        })
        .sum()
}

/// The header `layout` describes for `r`, whole (callers cut it to `layout.kept_len`).
fn synthesise(r: &FlowRecord, layout: &Layout, out: &mut Vec<u8>) {
    out.clear();
    let protocol = r.protocol().unwrap_or(NO_PROTOCOL);
    if layout.ethernet {
        out.extend_from_slice(&r.dst_mac().unwrap_or_default().0);
        out.extend_from_slice(&r.src_mac().unwrap_or_default().0);
        let vids = [r.vlan(), r.inner_vlan()];
        let tpids: &[u16] = match layout.tags {
            2 => &[0x88a8, 0x8100],
            1 => &[0x8100],
            _ => &[],
        };
        for (tpid, vid) in tpids.iter().zip(vids) {
            out.extend_from_slice(&tpid.to_be_bytes());
            out.extend_from_slice(&(vid.unwrap_or(0) & 0x0fff).to_be_bytes());
        }
        let ether_type: u16 = match layout.ip {
            Some((IpAddr::V4(_), _)) => 0x0800,
            Some((IpAddr::V6(_), _)) => 0x86dd,
            None => 0,
        };
        out.extend_from_slice(&ether_type.to_be_bytes());
    }
    let transport_len = layout.transport.len();
    let pseudo = match layout.ip {
        None => return,
        Some((IpAddr::V4(s), IpAddr::V4(d))) => {
            let total = (IPV4_LEN + transport_len) as u16;
            let mut h = [0u8; IPV4_LEN];
            h[0] = 0x45;
            h[1] = r.tos().unwrap_or(0);
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[6] = 0x40; // don't fragment
            h[8] = 64;
            h[9] = protocol;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let c = checksum(0, &h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            out.extend_from_slice(&h);
            sum_words(&s.octets())
                + sum_words(&d.octets())
                + u32::from(protocol)
                + transport_len as u32
        }
        Some((IpAddr::V6(s), IpAddr::V6(d))) => {
            let word = 6 << 28
                | u32::from(r.tos().unwrap_or(0)) << 20
                | (r.flow_label().unwrap_or(0) & 0x000f_ffff);
            out.extend_from_slice(&word.to_be_bytes());
            out.extend_from_slice(&(transport_len as u16).to_be_bytes());
            out.extend_from_slice(&[protocol, 64]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            sum_words(&s.octets())
                + sum_words(&d.octets())
                + u32::from(protocol)
                + transport_len as u32
        }
        Some(_) => return,
    };
    let sp = r.src_port().unwrap_or(0).to_be_bytes();
    let dp = r.dst_port().unwrap_or(0).to_be_bytes();
    let start = out.len();
    match layout.transport {
        Transport::None => return,
        Transport::Tcp => {
            let flags = r.tcp_flags().unwrap_or(0);
            let [ns, bits] = (flags & 0x1ff).to_be_bytes();
            out.extend_from_slice(&sp);
            out.extend_from_slice(&dp);
            out.extend_from_slice(&[0; 8]); // sequence and acknowledgment numbers
            out.extend_from_slice(&[5 << 4 | ns, bits, 0xff, 0xff, 0, 0, 0, 0]);
        }
        Transport::Udp => {
            out.extend_from_slice(&sp);
            out.extend_from_slice(&dp);
            out.extend_from_slice(&(UDP_LEN as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        Transport::Icmp => {
            out.extend_from_slice(&[r.icmp_type().unwrap_or(0), r.icmp_code().unwrap_or(0)]);
            out.extend_from_slice(&[0; 6]);
        }
    }
    let checksum_at = match layout.transport {
        Transport::Tcp => 16,
        Transport::Udp => 6,
        _ => 2,
    };
    // ICMP over IPv4 has no pseudo-header.
    let v4_icmp = layout.transport == Transport::Icmp && protocol == 1;
    let mut c = checksum(
        if v4_icmp { 0 } else { pseudo },
        out.get(start..).unwrap_or(&[]),
    );
    if c == 0 && layout.transport == Transport::Udp {
        c = 0xffff;
    }
    if let Some(slot) = out.get_mut(start + checksum_at..start + checksum_at + 2) {
        slot.copy_from_slice(&c.to_be_bytes());
    }
}

/// Refuses values out of their field's range.
fn check_ranges(r: &FlowRecord) -> Result<()> {
    let over = |what: &'static str, v: Option<u64>, max: u64| match v {
        Some(v) if v > max => Err(Error::OutOfRange { what, value: v }),
        _ => Ok(()),
    };
    over("octets (frame length)", r.octets(), u64::from(u32::MAX))?;
    over("VLAN id", r.vlan().map(u64::from), 4095)?;
    over("inner VLAN id", r.inner_vlan().map(u64::from), 4095)?;
    over("flow label", r.flow_label().map(u64::from), 0x000f_ffff)?;
    over("MPLS label", r.mpls_label().map(u64::from), 0x000f_ffff)?;
    Ok(())
}

/// The sampled header record sFlow carries for `r`: the header synthesised from its fields
/// as the [module docs](self) say, cut to the layers that fit in `header_bytes`, with
/// frame length `octets` (or the whole synthesised header's length). Fails on values out of
/// range ([`Error::OutOfRange`]).
pub fn sampled_header(r: &FlowRecord, header_bytes: usize) -> Result<SampledHeader> {
    check_ranges(r)?;
    let layout = Layout::of(r, header_bytes);
    let mut header = Vec::with_capacity(layout.full_len);
    synthesise(r, &layout, &mut header);
    header.truncate(layout.kept_len);
    Ok(SampledHeader {
        protocol: layout.header_protocol(),
        frame_length: frame_length(r, &layout),
        stripped: 0,
        header: Opaque(header),
    })
}

fn frame_length(r: &FlowRecord, layout: &Layout) -> u32 {
    match r.octets() {
        Some(o) => u32::try_from(o).unwrap_or(u32::MAX),
        None => u32::try_from(layout.full_len).unwrap_or(u32::MAX),
    }
}

/// The first extra `field` of `r`, if its value fits 32 bits.
fn extra_u32(r: &FlowRecord, field: flowwire_record::FieldId) -> Option<u32> {
    r.extra_field(field)
        .and_then(|v| v.as_value().as_u64())
        .and_then(|v| u32::try_from(v).ok())
}

/// A flow sample describing `r` (see the [module docs](self) for what it carries), with
/// sequence number `sequence`, data source `source` and a raw header of at most
/// `header_bytes`. The interfaces are format 0 (`in_if` / `out_if`, 0 when absent): wrap it
/// in [`Sample::ExpandedFlow`] when they, or the source, do not fit the compact
/// [`Sample::Flow`] (30 and 24 bits). Fails on values out of range
/// ([`Error::OutOfRange`]); fields sFlow cannot carry are left out silently (the
/// [`Exporter`] counts them).
pub fn flow_sample(
    r: &FlowRecord,
    sequence: u32,
    source: SourceId,
    header_bytes: usize,
) -> Result<FlowSample> {
    let mut records = vec![FlowData::SampledHeader(sampled_header(r, header_bytes)?)];
    if let Some(v) = r.vlan() {
        records.push(FlowData::ExtendedSwitch(ExtendedSwitch {
            src_vlan: u32::from(v),
            src_priority: 0,
            dst_vlan: u32::from(v),
            dst_priority: 0,
        }));
    }
    let next_hop = r.next_hop().map_or(Address::Unknown, Address::from);
    if r.next_hop().is_some() || r.src_mask().is_some() || r.dst_mask().is_some() {
        records.push(FlowData::ExtendedRouter(ExtendedRouter {
            next_hop,
            src_mask_len: u32::from(r.src_mask().unwrap_or(0)),
            dst_mask_len: u32::from(r.dst_mask().unwrap_or(0)),
        }));
    }
    if r.src_as().is_some() || r.dst_as().is_some() || r.bgp_next_hop().is_some() {
        records.push(FlowData::ExtendedGateway(ExtendedGateway {
            next_hop: r.bgp_next_hop().map_or(Address::Unknown, Address::from),
            as_number: 0,
            src_as: r.src_as().unwrap_or(0),
            src_peer_as: 0,
            dst_as_path: r
                .dst_as()
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
    if r.post_nat_src_addr().is_some() || r.post_nat_dst_addr().is_some() {
        records.push(FlowData::ExtendedNat(ExtendedNat {
            src: r
                .post_nat_src_addr()
                .map_or(Address::Unknown, Address::from),
            dst: r
                .post_nat_dst_addr()
                .map_or(Address::Unknown, Address::from),
        }));
    }
    if r.post_nat_src_port().is_some() || r.post_nat_dst_port().is_some() {
        records.push(FlowData::ExtendedNatPort(ExtendedNatPort {
            src_port: u32::from(r.post_nat_src_port().unwrap_or(0)),
            dst_port: u32::from(r.post_nat_dst_port().unwrap_or(0)),
        }));
    }
    if let Some(label) = r.mpls_label() {
        // One label stack entry: the label, bottom of stack.
        records.push(FlowData::ExtendedMpls(ExtendedMpls {
            next_hop,
            in_stack: vec![label << 12 | 0x100],
            out_stack: Vec::new(),
        }));
    }
    Ok(FlowSample {
        sequence,
        source,
        sampling_rate: r.sampling_interval().unwrap_or(1),
        sample_pool: extra_u32(r, SAMPLE_POOL_FIELD).unwrap_or(0),
        drops: extra_u32(r, DROPS_FIELD).unwrap_or(0),
        input: Interface::if_index(r.in_if().unwrap_or(0)),
        output: Interface::if_index(r.out_if().unwrap_or(0)),
        records,
    })
}

/// `r` as [`crate::Session`] decodes it from the sample [`flow_sample`] makes (the message
/// context left unset).
fn model(r: &FlowRecord, header_bytes: usize) -> FlowRecord {
    let layout = Layout::of(r, header_bytes);
    let mut m = {
        let mut built = FlowRecord::default();
        built.set_packets(Some(1));
        built.set_octets(Some(u64::from(frame_length(r, &layout))));
        built.set_sampling_interval(Some(r.sampling_interval().unwrap_or(1)));
        built.set_in_if(Some(r.in_if().unwrap_or(0)));
        built.set_out_if(Some(r.out_if().unwrap_or(0)));
        built
    };
    if layout.ethernet_kept {
        m.set_src_mac(Some(r.src_mac().unwrap_or_default()));
        m.set_dst_mac(Some(r.dst_mac().unwrap_or_default()));
        m.set_vlan(r.vlan());
        m.set_inner_vlan(r.vlan().and(r.inner_vlan()));
    } else {
        // extended_switch alone: a VLAN of 0 there means none.
        m.set_vlan(r.vlan().filter(|&v| v != 0));
    }
    if let (true, Some((src, dst))) = (layout.ip_kept, layout.ip) {
        m.set_src_addr(Some(src));
        m.set_dst_addr(Some(dst));
        m.set_protocol(Some(r.protocol().unwrap_or(NO_PROTOCOL)));
        m.set_tos(Some(r.tos().unwrap_or(0)));
        if src.is_ipv6() {
            m.set_flow_label(Some(r.flow_label().unwrap_or(0)));
        }
    }
    if layout.transport_kept {
        match layout.transport {
            Transport::Tcp | Transport::Udp => {
                m.set_src_port(Some(r.src_port().unwrap_or(0)));
                m.set_dst_port(Some(r.dst_port().unwrap_or(0)));
                if layout.transport == Transport::Tcp {
                    m.set_tcp_flags(Some(r.tcp_flags().unwrap_or(0) & 0x1ff));
                }
            }
            Transport::Icmp => {
                m.set_icmp_type(Some(r.icmp_type().unwrap_or(0)));
                m.set_icmp_code(Some(r.icmp_code().unwrap_or(0)));
            }
            Transport::None => {}
        }
    }
    m.set_next_hop(r.next_hop());
    if r.next_hop().is_some() || r.src_mask().is_some() || r.dst_mask().is_some() {
        m.set_src_mask(Some(r.src_mask().unwrap_or(0)));
        m.set_dst_mask(Some(r.dst_mask().unwrap_or(0)));
    }
    if r.src_as().is_some() || r.dst_as().is_some() || r.bgp_next_hop().is_some() {
        m.set_bgp_next_hop(r.bgp_next_hop());
        m.set_src_as(Some(r.src_as().unwrap_or(0)));
        m.set_dst_as(r.dst_as());
    }
    m.set_post_nat_src_addr(r.post_nat_src_addr());
    m.set_post_nat_dst_addr(r.post_nat_dst_addr());
    if r.post_nat_src_port().is_some() || r.post_nat_dst_port().is_some() {
        m.set_post_nat_src_port(Some(r.post_nat_src_port().unwrap_or(0)));
        m.set_post_nat_dst_port(Some(r.post_nat_dst_port().unwrap_or(0)));
    }
    m.set_mpls_label(r.mpls_label());
    m.extra = vec![
        ExtraField {
            field: SAMPLE_POOL_FIELD,
            name: Some(Cow::Borrowed("samplingPopulation")),
            value: OwnedValue::Unsigned32(extra_u32(r, SAMPLE_POOL_FIELD).unwrap_or(0)),
        },
        ExtraField {
            field: DROPS_FIELD,
            name: Some(Cow::Borrowed("ignoredPacketTotalCount")),
            value: OwnedValue::Unsigned64(u64::from(extra_u32(r, DROPS_FIELD).unwrap_or(0))),
        },
    ];
    m
}

/// The fields of `r` the model `m` does not carry as they are: how many, and the first's
/// name. An extra is carried when it is the first pool or drops field and fits 32 bits.
fn dropped(r: &FlowRecord, m: &FlowRecord) -> (u64, Option<&'static str>) {
    let mut n = 0u64;
    let mut first = None;
    macro_rules! typed {
        ($($f:ident),* $(,)?) => {$(
            if r.$f().is_some() && r.$f() != m.$f() {
                n += 1;
                first.get_or_insert(stringify!($f));
            }
        )*};
    }
    typed!(
        src_addr,
        dst_addr,
        src_port,
        dst_port,
        protocol,
        tos,
        tcp_flags,
        octets,
        packets,
        start,
        end,
        in_if,
        out_if,
        src_as,
        dst_as,
        next_hop,
        bgp_next_hop,
        src_mask,
        dst_mask,
        vlan,
        inner_vlan,
        src_mac,
        dst_mac,
        icmp_type,
        icmp_code,
        flow_label,
        direction,
        end_reason,
        forwarding_status,
        mpls_label,
        post_nat_src_addr,
        post_nat_dst_addr,
        post_nat_src_port,
        post_nat_dst_port,
        sampling_interval,
        sampling_algorithm,
    );
    let (mut pool, mut drops) = (false, false);
    for e in &r.extra {
        let fits = e
            .value
            .as_value()
            .as_u64()
            .is_some_and(|v| u32::try_from(v).is_ok());
        let seen = if e.field == SAMPLE_POOL_FIELD {
            Some(&mut pool)
        } else if e.field == DROPS_FIELD {
            Some(&mut drops)
        } else {
            None
        };
        // Only the first pool (drops) field is read, carried if it fits.
        let carried = match seen {
            Some(seen) => !core::mem::replace(seen, true) && fits,
            None => false,
        };
        if !carried {
            n += 1;
            first.get_or_insert("extra");
        }
    }
    (n, first)
}

/// Packs flow samples into sFlow v5 datagrams of at most
/// [`ExporterConfig::max_datagram_len`] bytes, numbering datagrams from 1 (per exporter) and
/// samples from 1 per (kind, data source). See the [module docs](self) for what a
/// [`FlowRecord`] becomes.
///
/// ```
/// use flowwire_sflow::encode::{Exporter, ExporterConfig};
/// use flowwire_sflow::record::codec::Exporter as _;
/// use flowwire_sflow::record::{FlowRecord, ProtocolKind, Timestamp};
///
/// let boot = Timestamp::from_unix_secs(1_700_000_000);
/// let mut exporter = Exporter::new(ExporterConfig { boot, ..ExporterConfig::default() });
/// let flow = FlowRecord::new(ProtocolKind::Sflow5)
///     .with_src_addr("192.0.2.1".parse()?)
///     .with_dst_addr("198.51.100.7".parse()?)
///     .with_protocol(17)
///     .with_start(boot);
/// let mut datagrams = Vec::new();
/// let now = boot.add_millis(60_000);
/// exporter.push(&flow, now, &mut |d: &[u8]| datagrams.push(d.to_vec()))?;
/// exporter.flush(now, &mut |d: &[u8]| datagrams.push(d.to_vec()))?;
/// assert_eq!(datagrams.len(), 1);
/// // sFlow has no flow times: `start` was left out, and counted.
/// assert_eq!(exporter.stats().fields_dropped, 1);
/// assert_eq!(exporter.restrict(&flow, now).start(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Exporter {
    config: ExporterConfig,
    stats: ExportStats,
    /// Sequence number of the last datagram handed out.
    sequence: u32,
    /// The datagram being filled: room for its header, then the samples written so far.
    datagram: Vec<u8>,
    /// Samples in `datagram`.
    samples: u32,
    /// One sample, encoded before it is known to fit.
    scratch: Vec<u8>,
    sample_sequences: HashMap<(SampleKind, SourceId), u32>,
}

impl Default for Exporter {
    fn default() -> Self {
        Exporter::new(ExporterConfig::default())
    }
}

impl Exporter {
    /// An exporter writing as `config` says.
    pub fn new(config: ExporterConfig) -> Self {
        Exporter {
            config,
            stats: ExportStats::default(),
            sequence: 0,
            datagram: vec![0; header_len(&config.agent)],
            samples: 0,
            scratch: Vec::new(),
            sample_sequences: HashMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ExporterConfig {
        &self.config
    }

    /// The next sample sequence number of a source (from 1, wrapping), for samples built by
    /// hand and handed to [`Exporter::push_sample`]. [`codec::Exporter::push`] numbers its
    /// own flow samples (source: ifIndex `in_if`) from the same counters.
    pub fn next_sample_sequence(&mut self, kind: SampleKind, source: SourceId) -> u32 {
        let s = self.sample_sequences.entry((kind, source)).or_insert(0);
        *s = s.wrapping_add(1);
        *s
    }

    /// The sequence number of the last datagram handed out (0 before the first).
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Samples waiting in the datagram being filled.
    pub fn pending(&self) -> usize {
        self.samples as usize
    }

    /// The uptime field at `now`: milliseconds since [`ExporterConfig::boot`], modulo 2^32.
    pub fn uptime_ms(&self, now: Timestamp) -> u32 {
        // The field is a wrapping 32-bit counter: keep the low 32 bits.
        now.unix_millis()
            .wrapping_sub(self.config.boot.unix_millis()) as u32
    }

    /// Adds a sample built by hand (number it with [`Exporter::next_sample_sequence`]). When
    /// it does not fit in the datagram being filled, that datagram is stamped with `now` and
    /// handed to `out` first. A sample that cannot be encoded ([`Error::OutOfRange`]: a
    /// compact sample whose source or interface is too wide, say) or cannot fit in a datagram
    /// alone ([`Error::BufferTooSmall`]) is refused, counted in [`ExportStats::refused`],
    /// and leaves the datagram being filled as it was.
    pub fn push_sample(
        &mut self,
        sample: &Sample,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<()> {
        let res = self.append(sample, now, out);
        match res {
            Ok(()) => self.stats.records += 1,
            Err(_) => self.stats.refused += 1,
        }
        res
    }

    fn append(
        &mut self,
        sample: &Sample,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<()> {
        let len = sample.xdr_len();
        let header = header_len(&self.config.agent);
        let required = header.saturating_add(len);
        if required > self.config.max_datagram_len {
            return Err(Error::BufferTooSmall {
                required,
                remaining: self.config.max_datagram_len,
            });
        }
        self.scratch.clear();
        self.scratch.resize(len, 0);
        sample.emit(&mut self.scratch)?;
        if self.samples > 0
            && self.datagram.len().saturating_add(len) > self.config.max_datagram_len
        {
            self.finish(now, out)?;
        }
        self.datagram.extend_from_slice(&self.scratch);
        self.samples += 1;
        Ok(())
    }

    /// Stamps the datagram being filled and hands it out.
    fn finish(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) -> Result<()> {
        if self.samples == 0 {
            return Ok(());
        }
        let header = header_len(&self.config.agent);
        let sequence = self.sequence.wrapping_add(1);
        let uptime = self.uptime_ms(now);
        let Some(head) = self.datagram.get_mut(..header) else {
            return Err(Error::BufferTooSmall {
                required: header,
                remaining: self.datagram.len(),
            });
        };
        let mut w = Writer::new(head);
        w.u32(crate::wire::VERSION_5);
        self.config.agent.write(&mut w);
        w.u32(self.config.sub_agent_id);
        w.u32(sequence);
        w.u32(uptime);
        w.u32(self.samples);
        w.finish(header)?;
        out(&self.datagram);
        self.sequence = sequence;
        self.stats.datagrams += 1;
        self.stats.octets += self.datagram.len() as u64;
        self.datagram.truncate(header);
        self.samples = 0;
        Ok(())
    }

    fn push_flow(
        &mut self,
        flow: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<u64> {
        check_ranges(flow)?;
        let (n, first) = dropped(flow, &model(flow, self.config.header_bytes));
        if let (true, Some(what)) = (self.config.strict, first) {
            return Err(Error::NotCarried { what });
        }
        let source = SourceId {
            class: 0,
            index: flow.in_if().unwrap_or(0),
        };
        let key = (SampleKind::Flow, source);
        let sequence = self
            .sample_sequences
            .get(&key)
            .copied()
            .unwrap_or(0)
            .wrapping_add(1);
        let s = flow_sample(flow, sequence, source, self.config.header_bytes)?;
        let compact = source.to_compact().is_some()
            && s.input.to_compact().is_some()
            && s.output.to_compact().is_some();
        let sample = if compact {
            Sample::Flow(s)
        } else {
            Sample::ExpandedFlow(s)
        };
        self.append(&sample, now, out)?;
        // Numbered only once sent: a refused record leaves no gap in the sequence.
        self.sample_sequences.insert(key, sequence);
        Ok(n)
    }
}

impl codec::Exporter for Exporter {
    type Error = Error;

    fn protocol(&self) -> ProtocolKind {
        ProtocolKind::Sflow5
    }

    /// Adds a flow as one flow sample (compact, or expanded when `in_if` or `out_if` needs
    /// more than 30 bits); see the [module docs](self) for what it carries and refuses.
    fn push(
        &mut self,
        flow: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<()> {
        match self.push_flow(flow, now, out) {
            Ok(dropped) => {
                self.stats.records += 1;
                if dropped > 0 {
                    self.stats.records_with_dropped_fields += 1;
                    self.stats.fields_dropped += dropped;
                }
                Ok(())
            }
            Err(e) => {
                self.stats.refused += 1;
                Err(e)
            }
        }
    }

    fn flush(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) -> Result<()> {
        self.finish(now, out)
    }

    fn stats(&self) -> &ExportStats {
        &self.stats
    }

    /// The fields of `flow` as [`crate::Session`] decodes them from this exporter's
    /// datagrams, as the table in the [module docs](self) says; kind, exporter, agent,
    /// domain, sequence and export time unset. Meaningless for a record `push` refuses.
    fn restrict(&self, flow: &FlowRecord, _now: Timestamp) -> FlowRecord {
        model(flow, self.config.header_bytes)
    }
}
