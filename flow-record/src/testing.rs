//! Helpers for tests of code built on flowwire (compiled with the `testing` feature).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{FlowRecord, Timestamp, Value};

/// A record with the typed fields the bits of `layout` select, and values drawn from
/// `seed` (a splitmix64 stream): for tests of encoders across many field layouts.
///
/// Bits 0-35 select typed fields (addresses, ports, protocol, ToS, TCP flags, counters,
/// times, interfaces, AS numbers, next hops, masks, VLANs, MACs, ICMP, flow label, direction,
/// end reason, forwarding status, post-NAT fields, sampling, MPLS label); bits 40-45 make
/// the six address fields IPv6; bit 46 makes the protocol ICMPv6; bit 63 adds an extra
/// interfaceName (82) and bit 62 with it an enterprise element (PEN 9, id 1).
#[allow(clippy::field_reassign_with_default)]
pub fn varied_record(layout: u64, seed: u64) -> FlowRecord {
    let mut x = seed;
    let mut next = || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let on = |b: u32| layout & (1 << b) != 0;
    let mut ip = |v6: bool| -> std::net::IpAddr {
        if v6 {
            std::net::Ipv6Addr::from((u128::from(next()) << 64) | u128::from(next())).into()
        } else {
            std::net::Ipv4Addr::from(next() as u32).into()
        }
    };
    let mut r = FlowRecord::default();
    r.src_addr = on(0).then(|| ip(on(40)));
    r.dst_addr = on(1).then(|| ip(on(41)));
    r.next_hop = on(15).then(|| ip(on(42)));
    r.bgp_next_hop = on(16).then(|| ip(on(43)));
    r.post_nat_src_addr = on(29).then(|| ip(on(44)));
    r.post_nat_dst_addr = on(30).then(|| ip(on(45)));
    let mut n = || next();
    r.src_port = on(2).then(|| n() as u16);
    r.dst_port = on(3).then(|| n() as u16);
    r.protocol = on(4).then(|| if on(46) { 58 } else { n() as u8 });
    r.tos = on(5).then(|| n() as u8);
    r.tcp_flags = on(6).then(|| n() as u16);
    r.octets = on(7).then(&mut n);
    r.packets = on(8).then(&mut n);
    r.start =
        on(9).then(|| Timestamp::from_unix_millis_u64(1_699_000_000_000 + n() % 10_000_000_000));
    r.end = on(10).then(|| Timestamp::from_unix_nanos(n() as i64));
    r.in_if = on(11).then(|| n() as u32);
    r.out_if = on(12).then(|| n() as u32);
    r.src_as = on(13).then(|| n() as u32);
    r.dst_as = on(14).then(|| n() as u32);
    r.src_mask = on(17).then(|| n() as u8);
    r.dst_mask = on(18).then(|| n() as u8);
    r.vlan = on(19).then(|| n() as u16);
    r.inner_vlan = on(20).then(|| n() as u16);
    r.src_mac = on(21).then(|| crate::MacAddr([n() as u8; 6]));
    r.dst_mac = on(22).then(|| crate::MacAddr([n() as u8, 1, 2, 3, 4, 5]));
    r.icmp_type = on(23).then(|| n() as u8);
    r.icmp_code = on(24).then(|| n() as u8);
    r.flow_label = on(25).then(|| n() as u32);
    r.direction = on(26).then(|| n() as u8);
    r.end_reason = on(27).then(|| n() as u8);
    r.forwarding_status = on(28).then(|| n() as u32);
    r.post_nat_src_port = on(31).then(|| n() as u16);
    r.post_nat_dst_port = on(32).then(|| n() as u16);
    r.sampling_interval = on(33).then(|| n() as u32);
    r.sampling_algorithm = on(34).then(|| n() as u8);
    r.mpls_label = on(35).then(|| n() as u32 & 0xfffff);
    if on(63) {
        r.push_extra(crate::FieldId::iana(82), Value::String(b"eth0"));
        if on(62) {
            r.push_extra(crate::FieldId::enterprise(9, 1), Value::Unsigned32(7));
        }
    }
    r
}

/// The `i`th of a stream of 18-field records, the shape of a typical router export (5-tuple,
/// ToS, flags, counters, times, interfaces, AS numbers, next hop, masks); every 7th is IPv6,
/// a second layout.
pub fn typical_record(i: u32) -> FlowRecord {
    let v6 = i % 7 == 3;
    let addr = |x: u32| -> IpAddr {
        if v6 {
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (x >> 16) as u16, x as u16).into()
        } else {
            Ipv4Addr::from(0x0a00_0000 | x).into()
        }
    };
    FlowRecord {
        src_addr: Some(addr(i)),
        dst_addr: Some(addr(i.wrapping_mul(7))),
        src_port: Some(1024 + (i % 5000) as u16),
        dst_port: Some(443),
        protocol: Some(6),
        tos: Some(0),
        tcp_flags: Some(0x1b),
        octets: Some(u64::from(i) * 1500),
        packets: Some(u64::from(i % 100) + 1),
        start: Some(Timestamp::from_unix_millis_u64(
            1_699_999_000_000 + u64::from(i),
        )),
        end: Some(Timestamp::from_unix_millis(1_700_000_000_000)),
        in_if: Some(1),
        out_if: Some(2),
        src_as: Some(64_500),
        dst_as: Some(64_501),
        next_hop: Some(addr(1)),
        src_mask: Some(24),
        dst_mask: Some(16),
        ..FlowRecord::default()
    }
}
