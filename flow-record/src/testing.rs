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
    r.set_src_addr(on(0).then(|| ip(on(40))));
    r.set_dst_addr(on(1).then(|| ip(on(41))));
    r.set_next_hop(on(15).then(|| ip(on(42))));
    r.set_bgp_next_hop(on(16).then(|| ip(on(43))));
    r.set_post_nat_src_addr(on(29).then(|| ip(on(44))));
    r.set_post_nat_dst_addr(on(30).then(|| ip(on(45))));
    let mut n = || next();
    r.set_src_port(on(2).then(|| n() as u16));
    r.set_dst_port(on(3).then(|| n() as u16));
    r.set_protocol(on(4).then(|| if on(46) { 58 } else { n() as u8 }));
    r.set_tos(on(5).then(|| n() as u8));
    r.set_tcp_flags(on(6).then(|| n() as u16));
    r.set_octets(on(7).then(&mut n));
    r.set_packets(on(8).then(&mut n));
    r.set_start(
        on(9).then(|| Timestamp::from_unix_millis_u64(1_699_000_000_000 + n() % 10_000_000_000)),
    );
    r.set_end(on(10).then(|| Timestamp::from_unix_nanos(n() as i64)));
    r.set_in_if(on(11).then(|| n() as u32));
    r.set_out_if(on(12).then(|| n() as u32));
    r.set_src_as(on(13).then(|| n() as u32));
    r.set_dst_as(on(14).then(|| n() as u32));
    r.set_src_mask(on(17).then(|| n() as u8));
    r.set_dst_mask(on(18).then(|| n() as u8));
    r.set_vlan(on(19).then(|| n() as u16));
    r.set_inner_vlan(on(20).then(|| n() as u16));
    r.set_src_mac(on(21).then(|| crate::MacAddr([n() as u8; 6])));
    r.set_dst_mac(on(22).then(|| crate::MacAddr([n() as u8, 1, 2, 3, 4, 5])));
    r.set_icmp_type(on(23).then(|| n() as u8));
    r.set_icmp_code(on(24).then(|| n() as u8));
    r.set_flow_label(on(25).then(|| n() as u32));
    r.set_direction(on(26).then(|| n() as u8));
    r.set_end_reason(on(27).then(|| n() as u8));
    r.set_forwarding_status(on(28).then(|| n() as u32));
    r.set_post_nat_src_port(on(31).then(|| n() as u16));
    r.set_post_nat_dst_port(on(32).then(|| n() as u16));
    r.set_sampling_interval(on(33).then(|| n() as u32));
    r.set_sampling_algorithm(on(34).then(|| n() as u8));
    r.set_mpls_label(on(35).then(|| n() as u32 & 0xfffff));
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
    {
        let mut built = FlowRecord::default();
        built.set_src_addr(Some(addr(i)));
        built.set_dst_addr(Some(addr(i.wrapping_mul(7))));
        built.set_src_port(Some(1024 + (i % 5000) as u16));
        built.set_dst_port(Some(443));
        built.set_protocol(Some(6));
        built.set_tos(Some(0));
        built.set_tcp_flags(Some(0x1b));
        built.set_octets(Some(u64::from(i) * 1500));
        built.set_packets(Some(u64::from(i % 100) + 1));
        built.set_start(Some(Timestamp::from_unix_millis_u64(
            1_699_999_000_000 + u64::from(i),
        )));
        built.set_end(Some(Timestamp::from_unix_millis(1_700_000_000_000)));
        built.set_in_if(Some(1));
        built.set_out_if(Some(2));
        built.set_src_as(Some(64_500));
        built.set_dst_as(Some(64_501));
        built.set_next_hop(Some(addr(1)));
        built.set_src_mask(Some(24));
        built.set_dst_mask(Some(16));
        built
    }
}
