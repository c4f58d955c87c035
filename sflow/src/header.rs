//! Decoding the sampled packet header (flow record 0:1) with `etherparse`'s lax slicing:
//! Ethernet, 802.1Q / QinQ, MPLS, IPv4, IPv6 with extension headers, TCP, UDP, ICMP and
//! ICMPv6, and one level of VXLAN, Geneve, GRE or IP-in-IP inner headers.
//!
//! Headers are usually cut short by the agent (128 bytes by default): everything that is
//! present is decoded, nothing panics, and no allocation is made.
//!
//! The common header (Ethernet II with at most two VLAN tags, or raw IP; IPv4 that is not a
//! fragment and has no authentication header, or IPv6 without extension headers; then TCP,
//! UDP other than the VXLAN and Geneve ports, ICMP or ICMPv6) is read at fixed offsets with
//! bounds-checked slices, written straight into the output; anything else takes the
//! `etherparse` path. Both give the same [`HeaderInfo`]: `tests/header_fast.rs` compares
//! them ([`decode_reference`] is the `etherparse`-only path) on random and built headers and
//! on every raw header of the real captures, whole, cut at every length and with bytes
//! changed.

use std::net::IpAddr;

use etherparse::{
    EtherType, LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LinkSlice, TransportSlice,
};
use flowwire_record::MacAddr;

use crate::repr::header_protocol;

/// What one packet's headers say (outer or inner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Layers {
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Destination MAC.
    pub dst_mac: Option<MacAddr>,
    /// The EtherType after any VLAN tags.
    pub ether_type: Option<u16>,
    /// First (outer) VLAN id.
    pub vlan: Option<u16>,
    /// Second (inner, QinQ) VLAN id.
    pub inner_vlan: Option<u16>,
    /// Top MPLS label.
    pub mpls_label: Option<u32>,
    /// Number of MPLS labels read.
    pub mpls_depth: u8,
    /// Source address.
    pub src_addr: Option<IpAddr>,
    /// Destination address.
    pub dst_addr: Option<IpAddr>,
    /// IP protocol of the payload (after IPv6 extension headers).
    pub protocol: Option<u8>,
    /// IPv4 ToS / IPv6 traffic class.
    pub tos: Option<u8>,
    /// TTL / hop limit.
    pub ttl: Option<u8>,
    /// IPv6 flow label.
    pub flow_label: Option<u32>,
    /// Whether the IP packet is a fragment.
    pub fragmented: bool,
    /// Source port (TCP, UDP, SCTP).
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// TCP flags (NS in bit 8).
    pub tcp_flags: Option<u16>,
    /// ICMP / ICMPv6 type.
    pub icmp_type: Option<u8>,
    /// ICMP / ICMPv6 code.
    pub icmp_code: Option<u8>,
}

/// An encapsulation found in the outer packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Tunnel {
    /// VXLAN (UDP 4789).
    Vxlan {
        /// VXLAN network identifier.
        vni: u32,
    },
    /// Geneve (UDP 6081).
    Geneve {
        /// Virtual network identifier.
        vni: u32,
    },
    /// GRE (IP protocol 47).
    Gre {
        /// GRE protocol type.
        protocol: u16,
        /// GRE key, if present.
        key: Option<u32>,
    },
    /// IPv4 or IPv6 in IP (protocol 4 or 41).
    IpInIp,
}

/// The decoded sampled header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HeaderInfo {
    /// The outer packet.
    pub outer: Layers,
    /// The encapsulation, where one was recognised.
    pub tunnel: Option<Tunnel>,
    /// The inner packet's layers, when a tunnel was recognised.
    pub inner: Option<Layers>,
}

/// UDP port of VXLAN.
pub const VXLAN_PORT: u16 = 4789;
/// UDP port of Geneve.
pub const GENEVE_PORT: u16 = 6081;
const ETH_TEB: u16 = 0x6558;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;

#[derive(Clone, Copy)]
enum Start {
    Ethernet,
    EtherType(u16),
    Ip,
}

/// Decodes a sampled header of the given [`header_protocol`].
pub fn decode(protocol: u32, bytes: &[u8]) -> HeaderInfo {
    let mut info = HeaderInfo::default();
    decode_into(protocol, bytes, &mut info);
    info
}

/// Decodes a sampled header of the given [`header_protocol`] into `info`, which is
/// overwritten: [`decode`] without moving the result.
///
/// The common header (Ethernet II with at most two VLAN tags, or raw IP; IPv4 that is not a
/// fragment or IPv6 without extension headers; then TCP, UDP, ICMP or ICMPv6, no tunnel) is
/// read at fixed offsets; everything else goes through `etherparse`'s lax slicing. Both give
/// the same result (checked by a differential test).
pub fn decode_into(protocol: u32, bytes: &[u8], info: &mut HeaderInfo) {
    *info = HeaderInfo::default();
    decode_into_default(protocol, bytes, info);
}

/// [`decode_into`] for an `info` that is already the default.
pub(crate) fn decode_into_default(protocol: u32, bytes: &[u8], info: &mut HeaderInfo) {
    if fast(protocol, bytes, &mut info.outer).is_some() {
        return;
    }
    info.outer = Layers::default();
    slow_into(protocol, bytes, info);
}

/// [`decode`] through `etherparse` only, without the fixed-offset fast path: the reference
/// the fast path is tested against.
#[doc(hidden)]
pub fn decode_reference(protocol: u32, bytes: &[u8]) -> HeaderInfo {
    let mut info = HeaderInfo::default();
    slow_into(protocol, bytes, &mut info);
    info
}

/// The `etherparse` path; `info` must be the default.
fn slow_into(protocol: u32, bytes: &[u8], info: &mut HeaderInfo) {
    let start = match protocol {
        header_protocol::ETHERNET => Start::Ethernet,
        header_protocol::IPV4 | header_protocol::IPV6 => Start::Ip,
        header_protocol::MPLS => Start::EtherType(ETH_MPLS),
        _ => return,
    };
    let next = layers(start, bytes, &mut info.outer);
    if let Some((tunnel, start, inner_bytes)) = next {
        info.tunnel = Some(tunnel);
        let inner = info.inner.insert(Layers::default());
        let _ = layers(start, inner_bytes, inner);
    }
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_HEADER_LEN: usize = 14;
const VLAN_TAG_LEN: usize = 4;
const IPV6_HEADER_LEN: usize = 40;
const TCP_MIN_LEN: usize = 20;

/// The fixed-offset fast path: fills `out` (which is the default) and returns `Some`, or
/// returns `None` (leaving `out` partly written) for anything it does not cover exactly as
/// the `etherparse` path does: MPLS, more than two VLAN tags, MACsec, fragments, IPv4
/// authentication headers, IPv6 extension headers, tunnels (VXLAN and Geneve ports, GRE,
/// IP-in-IP), transports other than TCP / UDP / ICMP / ICMPv6, and IP headers cut short.
fn fast(protocol: u32, bytes: &[u8], out: &mut Layers) -> Option<()> {
    let ip = match protocol {
        header_protocol::ETHERNET => {
            let (eth, mut rest) = bytes.split_at_checked(ETH_HEADER_LEN)?;
            out.dst_mac = mac(eth);
            out.src_mac = eth.get(6..).and_then(mac);
            let mut ether_type = be16(eth, 12)?;
            let mut tags = 0u8;
            while matches!(ether_type, 0x8100 | 0x88a8 | 0x9100) {
                let (tag, after) = rest.split_at_checked(VLAN_TAG_LEN)?;
                let vid = Some(be16(tag, 0)? & 0x0fff);
                match tags {
                    0 => out.vlan = vid,
                    1 => out.inner_vlan = vid,
                    _ => return None,
                }
                tags += 1;
                ether_type = be16(tag, 2)?;
                rest = after;
            }
            if ether_type != ETH_IPV4 && ether_type != ETH_IPV6 {
                return None;
            }
            rest
        }
        header_protocol::IPV4 | header_protocol::IPV6 => bytes,
        _ => return None,
    };
    // etherparse goes by the version nibble, whatever the EtherType said.
    let first = *ip.first()?;
    let (proto, payload) = match first >> 4 {
        4 => {
            let header_len = usize::from(first & 0x0f) * 4;
            if header_len < 20 {
                return None;
            }
            let (h, rest) = ip.split_at_checked(header_len)?;
            // Any fragment (more fragments, or an offset) takes the reference path.
            if be16(h, 6)? & 0x3fff != 0 {
                return None;
            }
            let total = usize::from(be16(h, 2)?);
            // A total length below the header length: the rest of the slice, as etherparse.
            let payload_len = if total < header_len {
                rest.len()
            } else {
                (total - header_len).min(rest.len())
            };
            let src: [u8; 4] = h.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = h.get(16..20)?.try_into().ok()?;
            out.src_addr = Some(IpAddr::from(src));
            out.dst_addr = Some(IpAddr::from(dst));
            out.tos = Some(*h.get(1)?);
            out.ttl = Some(*h.get(8)?);
            out.ether_type = Some(ETH_IPV4);
            (*h.get(9)?, rest.get(..payload_len)?)
        }
        6 => {
            let (h, rest) = ip.split_at_checked(IPV6_HEADER_LEN)?;
            let declared = usize::from(be16(h, 4)?);
            // Payload length 0 (jumbogram or unset): the rest of the slice, as etherparse.
            let payload_len = if declared == 0 {
                rest.len()
            } else {
                declared.min(rest.len())
            };
            let word = u32::from_be_bytes(h.get(..4)?.try_into().ok()?);
            let src: [u8; 16] = h.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = h.get(24..40)?.try_into().ok()?;
            out.src_addr = Some(IpAddr::from(src));
            out.dst_addr = Some(IpAddr::from(dst));
            out.tos = Some(((word >> 20) & 0xff) as u8);
            out.ttl = Some(*h.get(7)?);
            out.flow_label = Some(word & 0x000f_ffff);
            out.ether_type = Some(ETH_IPV6);
            (*h.get(6)?, rest.get(..payload_len)?)
        }
        _ => return None,
    };
    out.protocol = Some(proto);
    match proto {
        6 => {
            out.src_port = be16(payload, 0);
            out.dst_port = be16(payload, 2);
            // Flags only when etherparse slices the TCP header: the whole header is there
            // and its data offset is valid.
            if let (Some(&off), Some(&flags)) = (payload.get(12), payload.get(13)) {
                let header_len = usize::from(off >> 4) * 4;
                if header_len >= TCP_MIN_LEN && payload.len() >= header_len {
                    out.tcp_flags = Some(u16::from(flags) | u16::from(off & 1) << 8);
                }
            }
        }
        17 => {
            let dst_port = be16(payload, 2);
            if matches!(dst_port, Some(VXLAN_PORT | GENEVE_PORT)) {
                return None;
            }
            out.src_port = be16(payload, 0);
            out.dst_port = dst_port;
        }
        1 | 58 => {
            out.icmp_type = payload.first().copied();
            out.icmp_code = payload.get(1).copied();
        }
        _ => return None,
    }
    Some(())
}

fn mac(b: &[u8]) -> Option<MacAddr> {
    Some(MacAddr(b.get(..6)?.try_into().ok()?))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s.iter().fold(0u32, |a, &x| a << 8 | u32::from(x)))
}

/// Decodes one packet's layers into `out`; returns the encapsulated packet, if any.
fn layers<'a>(
    start: Start,
    bytes: &'a [u8],
    out: &mut Layers,
) -> Option<(Tunnel, Start, &'a [u8])> {
    let packet = match start {
        Start::Ethernet => {
            out.dst_mac = mac(bytes);
            out.src_mac = bytes.get(6..).and_then(mac);
            out.ether_type = be16(bytes, 12);
            LaxSlicedPacket::from_ethernet(bytes).ok()?
        }
        Start::EtherType(t) => LaxSlicedPacket::from_ether_type(EtherType(t), bytes),
        Start::Ip => LaxSlicedPacket::from_ip(bytes).ok()?,
    };
    if let Some(LinkSlice::Ethernet2(e)) = &packet.link {
        out.src_mac = Some(MacAddr(e.source()));
        out.dst_mac = Some(MacAddr(e.destination()));
        out.ether_type = Some(e.ether_type().0);
    }
    let mut vlans = packet.link_exts.iter().filter_map(|x| match x {
        LaxLinkExtSlice::Vlan(v) => Some(v),
        LaxLinkExtSlice::Macsec(_) => None,
    });
    if let Some(v) = vlans.next() {
        out.vlan = Some(v.vlan_identifier().value());
        out.ether_type = Some(v.ether_type().0);
    }
    if let Some(v) = vlans.next() {
        out.inner_vlan = Some(v.vlan_identifier().value());
        out.ether_type = Some(v.ether_type().0);
    }
    for v in vlans {
        out.ether_type = Some(v.ether_type().0);
    }
    if packet.net.is_none() {
        // MPLS is not sliced by etherparse: walk the label stack, then guess IPv4/IPv6 from
        // the version nibble, as routers and tshark do.
        let payload = packet.ether_payload()?;
        let t = payload.ether_type.0;
        if t == ETH_MPLS || t == ETH_MPLS_MC {
            return mpls(payload.payload, out);
        }
        return None;
    }
    net_and_transport(&packet, out)
}

fn mpls<'a>(mut b: &'a [u8], out: &mut Layers) -> Option<(Tunnel, Start, &'a [u8])> {
    loop {
        let entry = b.get(..4)?;
        let v = u32::from_be_bytes(entry.try_into().ok()?);
        if out.mpls_depth == 0 {
            out.mpls_label = Some(v >> 12);
        }
        out.mpls_depth = out.mpls_depth.saturating_add(1);
        b = b.get(4..)?;
        if v & 0x100 != 0 {
            break;
        }
    }
    let ip = LaxSlicedPacket::from_ip(b).ok()?;
    net_and_transport(&ip, out)
}

fn net_and_transport<'a>(
    p: &LaxSlicedPacket<'a>,
    out: &mut Layers,
) -> Option<(Tunnel, Start, &'a [u8])> {
    let mut first_fragment = true;
    match &p.net {
        Some(LaxNetSlice::Ipv4(s)) => {
            let h = s.header();
            first_fragment = h.fragments_offset().value() == 0;
            out.src_addr = Some(h.source_addr().into());
            out.dst_addr = Some(h.destination_addr().into());
            out.tos = h.slice().get(1).copied();
            out.ttl = Some(h.ttl());
            out.ether_type = Some(0x0800);
        }
        Some(LaxNetSlice::Ipv6(s)) => {
            let h = s.header();
            out.src_addr = Some(h.source_addr().into());
            out.dst_addr = Some(h.destination_addr().into());
            out.tos = Some(h.traffic_class());
            out.ttl = Some(h.hop_limit());
            out.flow_label = Some(h.flow_label().value());
            out.ether_type = Some(0x86dd);
            let exts = s.extensions();
            if let Some(first) = exts.first_header() {
                first_fragment &= ipv6_first_fragment(first.0, exts.slice());
            }
        }
        _ => return None,
    }
    let payload = p.ip_payload()?;
    let proto = payload.ip_number.0;
    out.protocol = Some(proto);
    out.fragmented = payload.fragmented;
    match &p.transport {
        Some(TransportSlice::Tcp(t)) => {
            out.src_port = Some(t.source_port());
            out.dst_port = Some(t.destination_port());
            let b = t.slice();
            let ns = b.get(12).map_or(0, |x| u16::from(x & 1) << 8);
            out.tcp_flags = b.get(13).map(|&f| u16::from(f) | ns);
        }
        Some(TransportSlice::Udp(u)) => {
            out.src_port = Some(u.source_port());
            out.dst_port = Some(u.destination_port());
            let pl = u.payload();
            if u.destination_port() == VXLAN_PORT && pl.len() >= 8 {
                let vni = be24(pl, 4)?;
                return Some((Tunnel::Vxlan { vni }, Start::Ethernet, pl.get(8..)?));
            }
            if u.destination_port() == GENEVE_PORT && pl.len() >= 8 {
                let opt = usize::from(pl.first()? & 0x3f) * 4;
                let proto = be16(pl, 2)?;
                let vni = be24(pl, 4)?;
                let inner = pl.get(8 + opt..)?;
                let start = if proto == ETH_TEB {
                    Start::Ethernet
                } else {
                    Start::EtherType(proto)
                };
                return Some((Tunnel::Geneve { vni }, start, inner));
            }
        }
        Some(TransportSlice::Icmpv4(i)) => {
            out.icmp_type = Some(i.type_u8());
            out.icmp_code = Some(i.code_u8());
        }
        Some(TransportSlice::Icmpv6(i)) => {
            out.icmp_type = Some(i.type_u8());
            out.icmp_code = Some(i.code_u8());
        }
        // Transport not sliced (cut short, or a fragment): a first fragment or a cut header
        // still shows what it has.
        _ if first_fragment => {
            let pl = payload.payload;
            match proto {
                6 | 17 | 132 | 136 => {
                    out.src_port = be16(pl, 0);
                    out.dst_port = be16(pl, 2);
                }
                1 | 58 => {
                    out.icmp_type = pl.first().copied();
                    out.icmp_code = pl.get(1).copied();
                }
                47 => {
                    let flags = be16(pl, 0)?;
                    let proto = be16(pl, 2)?;
                    let mut off = 4;
                    if flags & 0x8000 != 0 {
                        off += 4;
                    }
                    let key = if flags & 0x2000 != 0 {
                        let k = pl.get(off..off + 4)?;
                        off += 4;
                        Some(u32::from_be_bytes(k.try_into().ok()?))
                    } else {
                        None
                    };
                    if flags & 0x1000 != 0 {
                        off += 4;
                    }
                    let start = if proto == ETH_TEB {
                        Start::Ethernet
                    } else {
                        Start::EtherType(proto)
                    };
                    return Some((
                        Tunnel::Gre {
                            protocol: proto,
                            key,
                        },
                        start,
                        pl.get(off..)?,
                    ));
                }
                4 | 41 => return Some((Tunnel::IpInIp, Start::Ip, pl)),
                _ => {}
            }
        }
        _ => {}
    }
    None
}

/// Whether the IPv6 extension headers in `bytes` (starting with header type `next`) carry no
/// fragment header with a non-zero offset, i.e. the transport header is in this packet.
///
/// Walked here with bounds checks rather than with etherparse's extension iterator, which in
/// 0.21 reads out of bounds on a lax slice whose extension bytes are cut short (found by the
/// `sflow_header` fuzz target: an IPv6 header with payload length 0 and a hop-by-hop next
/// header).
fn ipv6_first_fragment(mut next: u8, mut bytes: &[u8]) -> bool {
    // At most a handful of extension headers precede the transport header; the bound keeps
    // hostile chains short.
    for _ in 0..16 {
        let len = match next {
            // Hop-by-hop, routing, destination options: 8-octet units after the first 8.
            0 | 43 | 60 => bytes.get(1).map(|&l| (usize::from(l) + 1) * 8),
            // Fragment: 8 octets; the offset is the top 13 bits of octets 2-3.
            44 => {
                return match bytes.get(2..4) {
                    Some(&[hi, lo]) => (u16::from_be_bytes([hi, lo]) >> 3) == 0,
                    _ => true,
                };
            }
            // Authentication header: 4-octet units after the first 8.
            51 => bytes.get(1).map(|&l| (usize::from(l) + 2) * 4),
            _ => return true,
        };
        let (Some(len), Some(&nh)) = (len, bytes.first()) else {
            return true;
        };
        next = nh;
        bytes = bytes.get(len..).unwrap_or_default();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP_V4: [u8; 54] = [
        // Ethernet
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, //
        // IPv4: tos 0x10, ttl 64, proto 6, 192.0.2.1 -> 198.51.100.2
        0x45, 0x10, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2, //
        // TCP 1234 -> 80, SYN|ACK
        0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0,
    ];

    #[test]
    fn ethernet_ipv4_tcp() {
        let h = decode(1, &TCP_V4);
        let o = h.outer;
        assert_eq!(o.dst_mac, Some(MacAddr([0, 1, 2, 3, 4, 5])));
        assert_eq!(o.src_addr, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(o.dst_addr, Some("198.51.100.2".parse().unwrap()));
        assert_eq!((o.src_port, o.dst_port), (Some(1234), Some(80)));
        assert_eq!(
            (o.protocol, o.tos, o.tcp_flags),
            (Some(6), Some(0x10), Some(0x12))
        );
        assert!(h.tunnel.is_none());
    }

    #[test]
    fn truncation_at_every_length_never_panics_and_keeps_what_it_can() {
        for n in 0..=TCP_V4.len() {
            let h = decode(1, &TCP_V4[..n]);
            if n >= 12 {
                assert!(h.outer.src_mac.is_some(), "{n}");
            }
            if n >= 38 {
                assert_eq!(h.outer.dst_port, Some(80), "{n}");
            }
        }
    }

    fn ipv4_outer(proto: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0xaa; 12];
        v.extend([0x08, 0x00]);
        let total = (20 + payload.len()) as u16;
        v.extend([
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0,
            0,
            64,
            proto,
            0,
            0,
        ]);
        v.extend([10, 0, 0, 1, 10, 0, 0, 2]);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn vxlan_geneve_gre_and_ipip_inner_headers() {
        let inner_eth = &TCP_V4[..];
        let inner_ip = &TCP_V4[14..];
        // VXLAN, VNI 100.
        let mut udp = vec![0x30, 0x39, 0x12, 0xb5, 0, 0, 0, 0];
        udp.extend([0x08, 0, 0, 0, 0, 0, 100, 0]);
        udp.extend_from_slice(inner_eth);
        let h = decode(1, &ipv4_outer(17, &udp));
        assert_eq!(h.tunnel, Some(Tunnel::Vxlan { vni: 100 }));
        assert_eq!(h.outer.dst_port, Some(VXLAN_PORT));
        assert_eq!(h.inner.unwrap().dst_port, Some(80));
        // Geneve with 4 bytes of options, Ethernet payload, VNI 7.
        let mut udp = vec![0x30, 0x39, 0x17, 0xc1, 0, 0, 0, 0];
        udp.extend([0x01, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4]);
        udp.extend_from_slice(inner_eth);
        let h = decode(1, &ipv4_outer(17, &udp));
        assert_eq!(h.tunnel, Some(Tunnel::Geneve { vni: 7 }));
        assert_eq!(
            h.inner.unwrap().src_addr,
            Some("192.0.2.1".parse().unwrap())
        );
        // GRE with a key, carrying IPv4.
        let mut gre = vec![0x20, 0, 0x08, 0x00, 0, 0, 0, 42];
        gre.extend_from_slice(inner_ip);
        let h = decode(1, &ipv4_outer(47, &gre));
        assert_eq!(
            h.tunnel,
            Some(Tunnel::Gre {
                protocol: 0x0800,
                key: Some(42)
            })
        );
        assert_eq!(h.outer.protocol, Some(47));
        assert_eq!(h.inner.unwrap().src_port, Some(1234));
        // IPv4 in IPv4.
        let h = decode(1, &ipv4_outer(4, inner_ip));
        assert_eq!(h.tunnel, Some(Tunnel::IpInIp));
        assert_eq!(
            h.inner.unwrap().dst_addr,
            Some("198.51.100.2".parse().unwrap())
        );
        // Raw IPv4 header protocol (11), and cut tunnels never panic.
        assert_eq!(decode(11, inner_ip).outer.dst_port, Some(80));
        let full = ipv4_outer(47, &gre);
        for n in 0..full.len() {
            let _ = decode(1, &full[..n]);
            let _ = decode(11, &full[14..n.max(14)]);
            let _ = decode(13, &full[..n]);
        }
    }

    #[test]
    fn mpls_and_qinq() {
        let mut v = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        v.extend([0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x88, 0x47]);
        v.extend([0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40]); // labels 16, 32 (BoS)
        v.extend_from_slice(&TCP_V4[14..]);
        let o = decode(1, &v).outer;
        assert_eq!((o.vlan, o.inner_vlan), (Some(10), Some(20)));
        assert_eq!((o.mpls_label, o.mpls_depth), (Some(16), 2));
        assert_eq!(o.dst_port, Some(80));
    }
}

#[cfg(test)]
mod fuzz_regressions {
    /// `fuzz/regressions/sflow_header/ipv6-hop-by-hop-in-empty-payload-etherparse-ub`: an
    /// IPv6 header with payload length 0 and a hop-by-hop next header. etherparse 0.21's
    /// extension iterator read out of bounds here; the header decodes without it.
    #[test]
    fn ipv6_hop_by_hop_in_an_empty_payload() {
        let mut frame = vec![0u8; 14 + 40];
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        frame[14] = 0x60; // version 6, payload length 0, next header 0 (hop-by-hop)
        let info = super::decode(1, &frame);
        assert!(info.outer.src_addr.is_some());
        for cut in 0..frame.len() {
            let _ = super::decode(1, &frame[..cut]);
        }
    }

    #[test]
    fn extension_walk_finds_later_fragments() {
        // Hop-by-hop (8 octets) then a fragment header with offset 185.
        let mut ext = vec![44u8, 0, 0, 0, 0, 0, 0, 0];
        ext.extend_from_slice(&[17, 0, 0x05, 0xc8, 0, 0, 0, 1]);
        assert!(!super::ipv6_first_fragment(0, &ext));
        ext[10] = 0;
        ext[11] = 0x01; // offset 0, more fragments
        assert!(super::ipv6_first_fragment(0, &ext));
        assert!(
            super::ipv6_first_fragment(0, &ext[..3]),
            "cut short: nothing says otherwise"
        );
    }
}
