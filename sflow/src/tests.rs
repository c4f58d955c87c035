//! Round trips, truncation and malformed-record tests over every record type.

use proptest::prelude::*;

use crate::Error;
use crate::convert::{self, DatagramInfo, flow_record_into};
use crate::encode::{self, Exporter, ExporterConfig};
use crate::repr::*;
use crate::session::{AgentKey, SampleKind, Session};
use crate::wire::{Datagram, SampleView, SourceId};
use crate::xdr::{Address, Gen, Opaque, Xdr};
use flowwire_record::codec::{Decoder, Exporter as _};
use flowwire_record::{FlowRecord, MacAddr, ProtocolKind, Timestamp};

fn exporter() -> std::net::SocketAddr {
    "192.0.2.1:6343".parse().unwrap()
}

fn round_trip<T: Xdr + PartialEq + std::fmt::Debug>(x: &T) {
    let bytes = x.to_bytes().unwrap();
    assert_eq!(bytes.len(), x.buffer_len());
    assert_eq!(bytes.len() % 4, 0, "XDR is 4-byte aligned: {x:?}");
    let back = T::parse(&bytes, 0).unwrap();
    assert_eq!(&back, x);
    assert_eq!(back.to_bytes().unwrap(), bytes);
    // emit into a 0xa5-filled buffer writes every byte (padding included).
    let mut buf = vec![0xa5; bytes.len() + 3];
    x.emit(&mut buf).unwrap();
    assert_eq!(&buf[..bytes.len()], &bytes[..]);
    assert_eq!(&buf[bytes.len()..], &[0xa5; 3]);
    let mut via_bufmut = Vec::new();
    x.emit_buf(&mut via_bufmut).unwrap();
    assert_eq!(via_bufmut, bytes);
    // emit into a buffer one byte short fails without panicking.
    let mut short = vec![0xa5; bytes.len().saturating_sub(1)];
    if !bytes.is_empty() {
        assert!(x.emit(&mut short).is_err());
    }
}

proptest! {
    #[test]
    fn flow_records_round_trip(seed in any::<u64>()) {
        round_trip(&FlowData::generate(&mut Gen(seed)));
    }

    #[test]
    fn counter_records_round_trip(seed in any::<u64>()) {
        round_trip(&CounterData::generate(&mut Gen(seed)));
    }

    #[test]
    fn samples_round_trip(seed in any::<u64>()) {
        round_trip(&Sample::generate(&mut Gen(seed)));
    }

    #[test]
    fn datagrams_round_trip_and_truncate(seed in any::<u64>()) {
        let d = DatagramRepr::generate(&mut Gen(seed));
        round_trip(&d);
        let bytes = d.to_bytes().unwrap();
        let (back, errors) = DatagramRepr::parse_with_errors(&bytes).unwrap();
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(&back, &d);
        for n in 0..bytes.len() {
            // Never a panic; a cut datagram is an error or reports what it lost.
            match DatagramRepr::parse_with_errors(&bytes[..n]) {
                Ok((_, errors)) => prop_assert!(!errors.is_empty() || d.samples.is_empty()),
                Err(e) => prop_assert!(e.offset().is_some()),
            }
            let _ = convert::decode(&bytes[..n]);
        }
    }

    #[test]
    fn random_bytes_never_panic_and_reencode_stably(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut b = bytes.clone();
        if b.len() >= 8 {
            b[..4].copy_from_slice(&5u32.to_be_bytes());
            b[4..8].copy_from_slice(&1u32.to_be_bytes());
        }
        let _ = convert::decode(&b);
        if let Ok((d, _)) = DatagramRepr::parse_with_errors(&b) {
            let out = d.to_bytes().unwrap();
            let (again, _) = DatagramRepr::parse_with_errors(&out).unwrap();
            prop_assert_eq!(again, d);
        }
    }

    #[test]
    fn flow_record_to_sample_and_back(
        seed in any::<u64>(),
        v6 in any::<bool>(),
        proto in prop_oneof![Just(6u8), Just(17u8), Just(1u8), Just(47u8)],
        vlan in proptest::option::of(1u16..4095),
    ) {
        let mut g = Gen(seed);
        let mut rec = FlowRecord::new(ProtocolKind::Sflow5);
        if v6 {
            rec.set_src_addr(Some(std::net::Ipv6Addr::generate(&mut g).into()));
            rec.set_dst_addr(Some(std::net::Ipv6Addr::generate(&mut g).into()));
            rec.set_flow_label(Some(g.below(1 << 20) as u32));
        } else {
            rec.set_src_addr(Some(std::net::Ipv4Addr::generate(&mut g).into()));
            rec.set_dst_addr(Some(std::net::Ipv4Addr::generate(&mut g).into()));
        }
        let proto = if v6 && proto == 1 { 58 } else { proto };
        rec.set_protocol(Some(proto));
        rec.set_tos(Some(g.u64() as u8));
        rec.set_src_mac(Some(MacAddr::generate(&mut g)));
        rec.set_dst_mac(Some(MacAddr::generate(&mut g)));
        rec.set_vlan(vlan);
        match proto {
            6 | 17 => {
                rec.set_src_port(Some(g.u64() as u16));
                rec.set_dst_port(Some(g.u64() as u16));
                if proto == 6 {
                    rec.set_tcp_flags(Some(g.below(0x200) as u16));
                }
            }
            1 | 58 => {
                rec.set_icmp_type(Some(g.u64() as u8));
                rec.set_icmp_code(Some(g.u64() as u8));
            }
            _ => {}
        }
        rec.set_octets(Some(64 + g.below(1500)));
        rec.set_sampling_interval(Some(1 + g.below(10_000) as u32));
        rec.set_in_if(Some(g.below(1 << 30) as u32));
        rec.set_out_if(Some(g.below(1 << 30) as u32));
        rec.set_src_as(Some(g.u64() as u32));
        rec.set_dst_as(Some(g.u64() as u32));
        rec.set_next_hop(rec.src_addr());
        rec.set_src_mask(Some(24));
        rec.set_dst_mask(Some(16));
        rec.set_post_nat_src_addr(rec.dst_addr());
        rec.set_post_nat_dst_port(Some(8080));
        rec.push_extra(convert::SAMPLE_POOL_FIELD, flowwire_record::Value::Unsigned32(77));
        rec.push_extra(convert::DROPS_FIELD, flowwire_record::Value::Unsigned64(3));

        let fs = encode::flow_sample(&rec, 7, SourceId { class: 0, index: 3 }, 128).unwrap();
        let mut ex = Exporter::new(ExporterConfig {
            agent: Address::V4([192, 0, 2, 9].into()),
            sub_agent_id: 4,
            ..ExporterConfig::default()
        });
        let now = Timestamp::from_unix_millis(1000);
        let mut out = Vec::new();
        ex.push_sample(&Sample::Flow(fs), now, &mut |d: &[u8]| out.push(d.to_vec())).unwrap();
        prop_assert!(out.is_empty());
        ex.flush(now, &mut |d: &[u8]| out.push(d.to_vec())).unwrap();
        let decoded = convert::decode(&out[0]).unwrap();
        prop_assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
        let got = &decoded.flows[0];
        prop_assert_eq!(got.agent(), Some("192.0.2.9".parse().unwrap()));
        prop_assert_eq!(got.domain(), Some(4));
        prop_assert_eq!(got.sequence(), Some(7));
        for (a, b) in [
            (got.src_addr(), rec.src_addr()), (got.dst_addr(), rec.dst_addr()),
            (got.next_hop(), rec.next_hop()),
        ] {
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(got.protocol(), rec.protocol());
        prop_assert_eq!(got.tos(), rec.tos());
        prop_assert_eq!((got.src_port(), got.dst_port()), (rec.src_port(), rec.dst_port()));
        prop_assert_eq!(got.tcp_flags(), rec.tcp_flags());
        prop_assert_eq!((got.icmp_type(), got.icmp_code()), (rec.icmp_type(), rec.icmp_code()));
        prop_assert_eq!((got.src_mac(), got.dst_mac(), got.vlan()), (rec.src_mac(), rec.dst_mac(), rec.vlan()));
        prop_assert_eq!(got.octets(), rec.octets());
        prop_assert_eq!(got.sampling_interval(), rec.sampling_interval());
        prop_assert_eq!((got.in_if(), got.out_if()), (rec.in_if(), rec.out_if()));
        prop_assert_eq!((got.src_as(), got.dst_as()), (rec.src_as(), rec.dst_as()));
        prop_assert_eq!((got.src_mask(), got.dst_mask()), (rec.src_mask(), rec.dst_mask()));
        prop_assert_eq!((got.post_nat_src_addr(), got.post_nat_dst_addr()), (rec.post_nat_src_addr(), None));
        prop_assert_eq!((got.post_nat_src_port(), got.post_nat_dst_port()), (Some(0), Some(8080)));
        prop_assert_eq!(&got.extra, &rec.extra);
        if v6 {
            prop_assert_eq!(got.flow_label(), rec.flow_label());
        }
    }
}

/// Every known format: decoded through the view path, cut at every length (a typed error,
/// never a panic), and with 4 extra bytes (a length mismatch) it is reported for that record.
#[test]
fn every_known_record_format_decodes_and_rejects_bad_lengths() {
    let mut g = Gen(42);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..5000 {
        for (rec, flow) in [
            (Xdr::to_bytes(&FlowData::generate(&mut g)).unwrap(), true),
            (
                Xdr::to_bytes(&CounterData::generate(&mut g)).unwrap(),
                false,
            ),
        ] {
            let (e, f) = split_tag(u32::from_be_bytes(rec[..4].try_into().unwrap()));
            let body = &rec[8..];
            let known = if flow {
                FlowData::is_known(e, f)
            } else {
                CounterData::is_known(e, f)
            };
            if !known || !seen.insert((flow, f, body.len())) {
                continue;
            }
            let decode = |b: &[u8]| {
                if flow {
                    FlowData::decode(e, f, b, 100).map(drop)
                } else {
                    CounterData::decode(e, f, b, 100).map(drop)
                }
            };
            decode(body).unwrap();
            for n in 0..body.len() {
                // host_cpu's steal/guest tail is optional: the 68-byte form is valid.
                if !flow && f == 2003 && n == 68 {
                    continue;
                }
                let err = decode(&body[..n]).unwrap_err();
                assert_eq!(err.offset().map(|o| o >= 100), Some(true), "{f}: {err}");
            }
            let mut longer = body.to_vec();
            longer.extend([0; 4]);
            match decode(&longer) {
                Err(Error::BadContentLength { offset: 100, .. }) => {}
                other => panic!("format {f}: {other:?}"),
            }
        }
    }
    let formats: std::collections::BTreeSet<_> = seen.iter().map(|(a, b, _)| (*a, *b)).collect();
    assert!(formats.len() > 80, "{}", formats.len());
}

/// Huawei / Brocade style: one record longer than its structure; the rest still decodes.
#[test]
fn bad_record_is_skipped_by_declared_length() {
    let sample = FlowSample {
        sequence: 1,
        source: SourceId { class: 0, index: 5 },
        sampling_rate: 100,
        sample_pool: 1000,
        drops: 0,
        input: crate::wire::Interface::if_index(1),
        output: crate::wire::Interface::if_index(2),
        records: vec![
            FlowData::Unknown {
                enterprise: 0,
                format: 1001,
                data: Opaque(vec![0; 20]), // extended_switch is 16 bytes
            },
            FlowData::SampledIpv4(SampledIpv4 {
                length: 60,
                protocol: 6,
                src_ip: [10, 0, 0, 1].into(),
                dst_ip: [10, 0, 0, 2].into(),
                src_port: 1,
                dst_port: 2,
                tcp_flags: 0x18,
                tos: 0,
            }),
        ],
    };
    let d = DatagramRepr {
        agent: Address::V4([10, 1, 1, 1].into()),
        sub_agent_id: 0,
        sequence: 9,
        uptime: 5,
        samples: vec![Sample::Flow(sample)],
    };
    let mut bytes = d.to_bytes().unwrap();
    bytes.extend([0xde, 0xad]); // trailing bytes: ignored
    let out = convert::decode(&bytes).unwrap();
    assert_eq!(out.trailing_bytes, 2);
    assert_eq!(out.errors.len(), 1);
    assert!(matches!(
        out.errors[0],
        Error::BadContentLength {
            format: 1001,
            declared: 20,
            content: 16,
            ..
        }
    ));
    assert_eq!(out.flows[0].src_addr(), Some("10.0.0.1".parse().unwrap()));
    assert_eq!(out.flows[0].dst_port(), Some(2));
    let (repr, errors) = DatagramRepr::parse_with_errors(&bytes).unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(repr, d);
}

#[test]
fn datagram_view_fixture() {
    // version 5, IPv6 agent 2001:db8::1, sub-agent 3, seq 4, uptime 5, no samples.
    let mut b = vec![0, 0, 0, 5, 0, 0, 0, 2];
    b.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    b.extend([0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 0]);
    let d = Datagram::new_checked(&b[..]).unwrap();
    assert_eq!(d.agent(), Address::V6("2001:db8::1".parse().unwrap()));
    assert_eq!(
        (d.sub_agent_id(), d.sequence(), d.uptime(), d.sample_count()),
        (3, 4, 5, 0)
    );
    assert_eq!(d.header_len(), 40);
    let mut m = Datagram::new_checked(b.clone()).unwrap();
    m.set_sequence(0x01020304);
    m.set_uptime(9);
    m.set_sub_agent_id(8);
    assert_eq!(
        (m.sub_agent_id(), m.sequence(), m.uptime()),
        (8, 0x01020304, 9)
    );
    assert_eq!(m.into_inner()[28..32], [1, 2, 3, 4]);
    for n in 0..b.len() {
        assert!(matches!(
            Datagram::new_checked(&b[..n]),
            Err(Error::Truncated { .. })
        ));
    }
    b[3] = 4;
    assert!(matches!(
        Datagram::new_checked(&b[..]),
        Err(Error::BadVersion { version: 4, .. })
    ));
    b[3] = 5;
    b[7] = 9;
    assert!(matches!(
        Datagram::new_checked(&b[..]),
        Err(Error::BadAddressType {
            offset: 4,
            value: 9
        })
    ));
}

#[test]
fn sample_count_is_not_trusted() {
    let d = DatagramRepr {
        agent: Address::V4([10, 1, 1, 1].into()),
        sub_agent_id: 0,
        sequence: 1,
        uptime: 1,
        samples: vec![],
    };
    let mut b = d.to_bytes().unwrap();
    let n = b.len();
    b[n - 4..].copy_from_slice(&u32::MAX.to_be_bytes());
    let (repr, errors) = DatagramRepr::parse_with_errors(&b).unwrap();
    assert!(repr.samples.is_empty());
    assert!(matches!(errors[..], [Error::Truncated { .. }]));
}

#[test]
fn exporter_packs_up_to_the_mtu_with_sequences() {
    let mut ex = Exporter::new(ExporterConfig {
        agent: Address::V4([10, 0, 0, 1].into()),
        max_datagram_len: 400,
        ..ExporterConfig::default()
    });
    let mut out = Vec::new();
    for i in 0..50 {
        let src = SourceId {
            class: 0,
            index: i % 3,
        };
        let seq = ex.next_sample_sequence(SampleKind::Counters, src);
        let s = Sample::Counters(CounterSample {
            sequence: seq,
            source: src,
            records: vec![CounterData::Vlan(VlanCounters {
                vlan_id: i,
                octets: 1,
                ucast_pkts: 2,
                multicast_pkts: 3,
                broadcast_pkts: 4,
                discards: 5,
            })],
        });
        let now = Timestamp::from_unix_millis(i64::from(i));
        ex.push_sample(&s, now, &mut |d: &[u8]| out.push(d.to_vec()))
            .unwrap();
    }
    ex.flush(Timestamp::from_unix_millis(99), &mut |d: &[u8]| {
        out.push(d.to_vec())
    })
    .unwrap();
    let mut session = Session::default();
    let mut total = 0;
    for (i, d) in out.iter().enumerate() {
        assert!(d.len() <= 400);
        let v = Datagram::new_checked(&d[..]).unwrap();
        assert_eq!(v.sequence() as usize, i + 1);
        let summary = session.decode(
            exporter(),
            Timestamp::default(),
            d,
            &mut |_: &FlowRecord| {},
        );
        total += summary.counters;
    }
    assert_eq!(total, 50);
    assert_eq!((session.lost_datagrams(), session.lost_samples()), (0, 0));
    // Dropping a datagram shows as loss of one datagram and its samples.
    let mut s2 = Session::default();
    let mut s3 = Session::default();
    for (i, d) in out.iter().enumerate() {
        if i != 1 {
            s2.decode(
                exporter(),
                Timestamp::default(),
                d,
                &mut |_: &FlowRecord| {},
            );
            // `observe`, for callers walking the views themselves, tracks the same.
            s3.observe(&Datagram::new_checked(&d[..]).unwrap());
        }
    }
    let lost_samples = Datagram::new_checked(&out[1][..]).unwrap().sample_count();
    assert_eq!(s2.lost_datagrams(), 1);
    assert_eq!(
        (s3.lost_datagrams(), s3.lost_samples()),
        (s2.lost_datagrams(), s2.lost_samples())
    );
    assert_eq!(s2.lost_samples(), u64::from(lost_samples));
    let key = AgentKey {
        agent: Some("10.0.0.1".parse().unwrap()),
        sub_agent_id: 0,
    };
    let a = s2.agent(&key).unwrap();
    let t = a
        .source(SampleKind::Counters, SourceId { class: 0, index: 0 })
        .unwrap();
    assert_eq!(
        t.received + t.lost,
        17,
        "50 samples over 3 sources: 17 for index 0"
    );
    let big = Sample::Unknown {
        enterprise: 9,
        format: 9,
        data: Opaque(vec![0; 500]),
    };
    let pending = ex.pending();
    assert!(matches!(
        ex.push_sample(&big, Timestamp::default(), &mut |_: &[u8]| panic!()),
        Err(Error::BufferTooSmall {
            required: 536,
            remaining: 400
        })
    ));
    assert_eq!(
        ex.pending(),
        pending,
        "the datagram being filled is left as it was"
    );
    assert_eq!(ex.stats().refused, 1);
}

#[test]
fn session_is_bounded_and_sees_restarts() {
    let mut s = Session::new(crate::session::SessionConfig {
        max_agents: 2,
        max_sources_per_agent: 1,
    });
    let dg = |agent: u8, seq: u32, uptime: u32| {
        DatagramRepr {
            agent: Address::V4([10, 0, 0, agent].into()),
            sub_agent_id: 0,
            sequence: seq,
            uptime,
            samples: vec![],
        }
        .to_bytes()
        .unwrap()
    };
    for a in 1..=3 {
        s.decode(
            exporter(),
            Timestamp::default(),
            &dg(a, 1, 10),
            &mut |_: &FlowRecord| {},
        );
    }
    assert_eq!(s.stats().evicted_agents, 1);
    for (seq, uptime) in [(2, 20), (1, 5)] {
        s.decode(
            exporter(),
            Timestamp::default(),
            &dg(3, seq, uptime),
            &mut |_: &FlowRecord| {},
        );
    }
    let key = AgentKey {
        agent: Some("10.0.0.3".parse().unwrap()),
        sub_agent_id: 0,
    };
    let a = s.agent(&key).unwrap();
    assert_eq!((a.restarts, a.datagrams.lost), (1, 0));
}

#[cfg(feature = "serde")]
#[test]
fn counters_serialize_with_every_field() {
    let d = DatagramRepr {
        agent: Address::V4([10, 0, 0, 1].into()),
        sub_agent_id: 2,
        sequence: 3,
        uptime: 4,
        samples: vec![Sample::ExpandedCounters(CounterSample {
            sequence: 5,
            source: SourceId { class: 0, index: 7 },
            records: vec![
                CounterData::PortName(PortName {
                    name: Opaque::from("eth0"),
                }),
                CounterData::OvsDp(OvsDpStats {
                    hits: 1,
                    misses: 2,
                    lost: 3,
                    mask_hits: 4,
                    flows: 5,
                    masks: 6,
                }),
            ],
        })],
    };
    let out = convert::decode(&d.to_bytes().unwrap()).unwrap();
    let json = serde_json::to_string(&out.counters[0]).unwrap();
    assert_eq!(
        json,
        r#"{"type":"counters","agent":"10.0.0.1","sub_agent_id":2,"datagram_sequence":3,"uptime_ms":4,"sequence":5,"source":{"class":0,"index":7},"expanded":true,"records":[{"port_name":{"name":"eth0"}},{"ovs_dp":{"hits":1,"misses":2,"lost":3,"mask_hits":4,"flows":5,"masks":6}}]}"#
    );
    let back: convert::Counters = serde_json::from_str(&json).unwrap();
    assert_eq!(back, out.counters[0]);
}

#[test]
fn flow_record_into_reuses_the_record() {
    let rec = {
        let mut built = FlowRecord::new(ProtocolKind::Sflow5);
        built.set_src_addr(Some("192.0.2.1".parse().unwrap()));
        built.set_dst_addr(Some("192.0.2.2".parse().unwrap()));
        built.set_protocol(Some(17));
        built.set_src_port(Some(53));
        built.set_dst_port(Some(5353));
        built
    };
    let s = encode::flow_sample(&rec, 1, SourceId::default(), 128).unwrap();
    let d = DatagramRepr {
        samples: vec![Sample::ExpandedFlow(s)],
        ..DatagramRepr::default()
    };
    let bytes = d.to_bytes().unwrap();
    let v = Datagram::new_checked(&bytes[..]).unwrap();
    let dg = DatagramInfo::of(&v);
    let mut out = FlowRecord::new(ProtocolKind::Sflow5);
    out.set_vlan(Some(99));
    for s in v.samples() {
        let Ok(SampleView::Flow(f)) = s.unwrap().view() else {
            panic!()
        };
        let h = flow_record_into(&dg, &f, &mut out, &mut Vec::new()).unwrap();
        assert_eq!(h.outer.dst_port, Some(5353));
    }
    assert_eq!(out.vlan(), None, "cleared");
    assert_eq!(out.dst_port(), Some(5353));
    assert_eq!(out.scaled_packets(), Some(1));
}

/// Hand-written bytes, field by field from the specification, for records whose layout has a
/// trap: MAC padding, nested arrays, the address union, the optional host_cpu tail.
#[test]
fn static_record_fixtures() {
    // extended_gateway: next hop IPv4, AS 65000, src AS 1, peer AS 2, one AS_SEQUENCE [3, 4],
    // one community 0x00010002, local pref 100.
    let gw: [u8; 60] = [
        0, 0, 0, 1, 192, 0, 2, 254, // next hop
        0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 2, // as, src_as, src_peer_as
        0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, // path
        0, 0, 0, 1, 0, 1, 0, 2, // communities
        0, 0, 0, 100, // local pref
        0, 0, 0, 0, 0, 0, 0, 0, // (8 bytes that do not belong: see below)
    ];
    let g = ExtendedGateway::parse(&gw[..52], 0).unwrap();
    assert_eq!(g.next_hop, Address::V4([192, 0, 2, 254].into()));
    assert_eq!((g.as_number, g.src_as, g.src_peer_as), (65000, 1, 2));
    assert_eq!(
        g.dst_as_path,
        vec![AsPathSegment {
            segment_type: 2,
            path: vec![3, 4]
        }]
    );
    assert_eq!(
        (g.communities.clone(), g.local_pref, g.dst_as()),
        (vec![0x10002], 100, Some(4))
    );
    assert_eq!(g.to_bytes().unwrap(), gw[..52]);
    assert!(matches!(
        ExtendedGateway::parse(&gw, 0),
        Err(Error::Trailing {
            offset: 52,
            remaining: 8
        })
    ));

    // lag_port_stats: MACs are 6 bytes + 2 padding.
    let mut lag = vec![
        0, 1, 2, 3, 4, 5, 0, 0, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 9, 1, 2, 3, 4,
    ];
    for i in 1..=8u8 {
        lag.extend([0, 0, 0, i]);
    }
    let l = LagPortStats::parse(&lag, 0).unwrap();
    assert_eq!(l.actor_system_id, MacAddr([0, 1, 2, 3, 4, 5]));
    assert_eq!(l.partner_system_id, MacAddr([6, 7, 8, 9, 10, 11]));
    assert_eq!(
        (
            l.attached_agg_id,
            l.port_state,
            l.lacpdus_rx,
            l.marker_response_pdus_tx
        ),
        (9, [1, 2, 3, 4], 1, 8)
    );
    assert_eq!(l.to_bytes().unwrap(), lag);
    assert_eq!(lag.len(), 56);

    // host_cpu: 68 bytes (older agents) or 80 (with steal/guest/guest_nice).
    let mut cpu = Vec::new();
    for f in [0.5f32, 1.0, 1.5] {
        cpu.extend(f.to_bits().to_be_bytes());
    }
    for i in 0..14u32 {
        cpu.extend(i.to_be_bytes());
    }
    let short = HostCpu::parse(&cpu, 0).unwrap();
    assert_eq!(
        (short.load_five, short.contexts, short.extra.clone()),
        (1.0, 13, None)
    );
    cpu.extend([0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9]);
    let long = HostCpu::parse(&cpu, 0).unwrap();
    assert_eq!(
        long.extra,
        Some(HostCpuExtra {
            cpu_steal: 7,
            cpu_guest: 8,
            cpu_guest_nice: 9
        })
    );
    assert_eq!(long.to_bytes().unwrap(), cpu);

    // port_name "eth10": length 5, 3 bytes of padding.
    let pn = [0, 0, 0, 5, b'e', b't', b'h', b'1', b'0', 0, 0, 0];
    let p = PortName::parse(&pn, 0).unwrap();
    assert_eq!(p.name.as_str(), Some("eth10"));
    assert_eq!(p.to_bytes().unwrap(), pn);

    // A whole record envelope: tag 0:1001, length 16.
    let sw = [
        0, 0, 0x03, 0xe9, 0, 0, 0, 16, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0, 2,
    ];
    let r = FlowData::parse(&sw, 0).unwrap();
    assert_eq!(
        r,
        FlowData::ExtendedSwitch(ExtendedSwitch {
            src_vlan: 10,
            src_priority: 1,
            dst_vlan: 20,
            dst_priority: 2
        })
    );
    assert_eq!(r.to_bytes().unwrap(), sw);
    // The same bytes as a counter record are format 1001 = processor, whose 28 bytes do not
    // fit in 16: an error for that record, at the record's offset.
    assert!(matches!(
        CounterData::parse(&sw, 40),
        Err(Error::BadContentLength {
            offset: 40,
            format: 1001,
            declared: 16,
            ..
        })
    ));
}

/// A record count larger than the records present: those present decode, then one error.
#[test]
fn overstated_record_count() {
    let rec = {
        let mut built = FlowRecord::new(ProtocolKind::Sflow5);
        built.set_src_addr(Some("192.0.2.1".parse().unwrap()));
        built.set_dst_addr(Some("192.0.2.2".parse().unwrap()));
        built.set_protocol(Some(17));
        built.set_src_port(Some(1));
        built.set_dst_port(Some(2));
        built
    };
    let s = encode::flow_sample(&rec, 1, SourceId::default(), 128).unwrap();
    let d = DatagramRepr {
        samples: vec![Sample::Flow(s)],
        ..DatagramRepr::default()
    };
    let mut b = d.to_bytes().unwrap();
    // datagram header (unknown agent) 24 bytes, sample tag+len 8, fixed part 28: record count.
    let at = 24 + 8 + 28;
    assert_eq!(b[at..at + 4], [0, 0, 0, 1]);
    b[at..at + 4].copy_from_slice(&1000u32.to_be_bytes());
    let out = convert::decode(&b).unwrap();
    assert_eq!(out.flows[0].dst_port(), Some(2));
    assert!(
        matches!(out.errors[..], [Error::Truncated { .. }]),
        "{:?}",
        out.errors
    );
    let (repr, errors) = DatagramRepr::parse_with_errors(&b).unwrap();
    assert_eq!(errors.len(), 1);
    assert!(matches!(
        repr.samples[0],
        Sample::Unknown {
            enterprise: 0,
            format: 1,
            ..
        }
    ));
    assert_eq!(repr.to_bytes().unwrap(), b, "kept as it came");
}

/// The conversion of a flow sample as it was before the in-place reads (owned `FlowData`
/// for the fixed-size records, the `etherparse` header path, `FlowRecord::clear` and
/// `push_extra`): the reference `flow_record_into` is checked against.
fn reference_flow_record_into(
    dg: &DatagramInfo,
    f: &crate::wire::FlowSampleView<'_>,
    out: &mut FlowRecord,
    errors: &mut Vec<Error>,
) -> Option<crate::header::HeaderInfo> {
    use crate::wire::Interface;
    use flowwire_record::{TypedField, Value};
    fn set<T>(
        out: &mut FlowRecord,
        setter: fn(&mut FlowRecord, Option<T>),
        field: TypedField,
        v: Option<T>,
    ) {
        if !out.has(field) && v.is_some() {
            setter(out, v);
        }
    }
    let port = |v: u32| u16::try_from(v).ok();
    out.clear();
    out.set_kind(Some(ProtocolKind::Sflow5));
    out.set_agent(dg.agent);
    out.set_domain(Some(dg.sub_agent_id));
    out.set_sequence(Some(f.sequence));
    out.set_sampling_interval(Some(f.sampling_rate));
    out.set_packets(Some(1));
    out.set_in_if(f.input.index());
    out.set_out_if(f.output.index());
    if f.input.format == Interface::DISCARDED || f.output.format == Interface::DISCARDED {
        out.set_forwarding_status(Some(convert::FORWARDING_DROPPED));
    }
    out.push_extra(convert::SAMPLE_POOL_FIELD, Value::Unsigned32(f.sample_pool));
    out.push_extra(convert::DROPS_FIELD, Value::Unsigned64(u64::from(f.drops)));
    let mut info = None;
    for rec in f.records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                break;
            }
        };
        if rec.enterprise != 0 {
            continue;
        }
        let res = match rec.format {
            1 => rec
                .with_body("flow record", |r| {
                    let protocol = r.u32("sampled header")?;
                    let frame_length = r.u32("sampled header")?;
                    let _stripped = r.u32("sampled header")?;
                    let bytes = r.opaque("sampled header")?;
                    Ok((protocol, frame_length, bytes))
                })
                .map(|(protocol, frame_length, bytes)| {
                    out.set_octets(Some(u64::from(frame_length)));
                    let h = crate::header::decode_reference(protocol, bytes);
                    convert::apply_header(out, &h.outer);
                    info = Some(h);
                }),
            2 | 3 | 4 | 1001 | 1002 | 1007 | 1020 => rec.flow().map(|d| match d {
                FlowData::SampledEthernet(e) => {
                    set(
                        out,
                        FlowRecord::set_src_mac,
                        TypedField::SrcMac,
                        Some(e.src_mac),
                    );
                    set(
                        out,
                        FlowRecord::set_dst_mac,
                        TypedField::DstMac,
                        Some(e.dst_mac),
                    );
                    set(
                        out,
                        FlowRecord::set_octets,
                        TypedField::Octets,
                        Some(u64::from(e.length)),
                    );
                }
                FlowData::SampledIpv4(v) => {
                    set(
                        out,
                        FlowRecord::set_src_addr,
                        TypedField::SrcAddr,
                        Some(v.src_ip.into()),
                    );
                    set(
                        out,
                        FlowRecord::set_dst_addr,
                        TypedField::DstAddr,
                        Some(v.dst_ip.into()),
                    );
                    set(
                        out,
                        FlowRecord::set_protocol,
                        TypedField::Protocol,
                        u8::try_from(v.protocol).ok(),
                    );
                    set(
                        out,
                        FlowRecord::set_src_port,
                        TypedField::SrcPort,
                        port(v.src_port),
                    );
                    set(
                        out,
                        FlowRecord::set_dst_port,
                        TypedField::DstPort,
                        port(v.dst_port),
                    );
                    set(
                        out,
                        FlowRecord::set_tcp_flags,
                        TypedField::TcpFlags,
                        port(v.tcp_flags),
                    );
                    set(
                        out,
                        FlowRecord::set_tos,
                        TypedField::Tos,
                        u8::try_from(v.tos).ok(),
                    );
                    set(
                        out,
                        FlowRecord::set_octets,
                        TypedField::Octets,
                        Some(u64::from(v.length)),
                    );
                }
                FlowData::SampledIpv6(v) => {
                    set(
                        out,
                        FlowRecord::set_src_addr,
                        TypedField::SrcAddr,
                        Some(v.src_ip.into()),
                    );
                    set(
                        out,
                        FlowRecord::set_dst_addr,
                        TypedField::DstAddr,
                        Some(v.dst_ip.into()),
                    );
                    set(
                        out,
                        FlowRecord::set_protocol,
                        TypedField::Protocol,
                        u8::try_from(v.protocol).ok(),
                    );
                    set(
                        out,
                        FlowRecord::set_src_port,
                        TypedField::SrcPort,
                        port(v.src_port),
                    );
                    set(
                        out,
                        FlowRecord::set_dst_port,
                        TypedField::DstPort,
                        port(v.dst_port),
                    );
                    set(
                        out,
                        FlowRecord::set_tcp_flags,
                        TypedField::TcpFlags,
                        port(v.tcp_flags),
                    );
                    set(
                        out,
                        FlowRecord::set_tos,
                        TypedField::Tos,
                        u8::try_from(v.priority).ok(),
                    );
                    set(
                        out,
                        FlowRecord::set_octets,
                        TypedField::Octets,
                        Some(u64::from(v.length)),
                    );
                }
                FlowData::ExtendedSwitch(s) if s.src_vlan != 0 => set(
                    out,
                    FlowRecord::set_vlan,
                    TypedField::Vlan,
                    port(s.src_vlan),
                ),
                FlowData::ExtendedRouter(r) => {
                    set(
                        out,
                        FlowRecord::set_next_hop,
                        TypedField::NextHop,
                        r.next_hop.ip(),
                    );
                    set(
                        out,
                        FlowRecord::set_src_mask,
                        TypedField::SrcMask,
                        u8::try_from(r.src_mask_len).ok(),
                    );
                    set(
                        out,
                        FlowRecord::set_dst_mask,
                        TypedField::DstMask,
                        u8::try_from(r.dst_mask_len).ok(),
                    );
                }
                FlowData::ExtendedNat(n) => {
                    set(
                        out,
                        FlowRecord::set_post_nat_src_addr,
                        TypedField::PostNatSrcAddr,
                        n.src.ip(),
                    );
                    set(
                        out,
                        FlowRecord::set_post_nat_dst_addr,
                        TypedField::PostNatDstAddr,
                        n.dst.ip(),
                    );
                }
                FlowData::ExtendedNatPort(n) => {
                    set(
                        out,
                        FlowRecord::set_post_nat_src_port,
                        TypedField::PostNatSrcPort,
                        port(n.src_port),
                    );
                    set(
                        out,
                        FlowRecord::set_post_nat_dst_port,
                        TypedField::PostNatDstPort,
                        port(n.dst_port),
                    );
                }
                _ => {}
            }),
            1003 => rec.with_body("flow record", |r| convert::gateway(r, out)),
            1006 => rec.with_body("flow record", |r| convert::mpls(r, out)),
            _ => Ok(()),
        };
        if let Err(e) = res {
            errors.push(e);
        }
    }
    info
}

/// A realistic raw header (Ethernet, optional VLAN, IPv4 or IPv6, TCP or UDP), cut at
/// 0..=128 bytes, with a few bytes changed.
fn raw_header(g: &mut Gen) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    if g.below(3) == 0 {
        v.extend([0x81, 0x00, 0x00, 0x0a]);
    }
    let tcp = g.below(2) == 0;
    let proto = if tcp { 6 } else { 17 };
    if g.below(3) == 0 {
        v.extend([0x86, 0xdd, 0x60, 0, 0, 1, 0, 80, proto, 64]);
        v.extend((0..32).map(|_| g.u64() as u8));
    } else {
        v.extend([
            0x08, 0x00, 0x45, 0x10, 0x05, 0xdc, 0, 1, 0x40, 0, 64, proto, 0, 0,
        ]);
        v.extend((0..8).map(|_| g.u64() as u8));
    }
    v.extend([
        0x30, 0x39, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff,
    ]);
    v.extend((0..80).map(|_| g.u64() as u8));
    let cut = if g.below(3) == 0 {
        g.below(129) as usize
    } else {
        128
    };
    v.truncate(cut);
    for _ in 0..g.below(3) {
        let i = g.below(v.len().max(1) as u64) as usize;
        if let Some(b) = v.get_mut(i) {
            *b = g.u64() as u8;
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// `flow_record_into` (fast header path, in-place record reads, precomputed extras)
    /// gives exactly what the owned-`FlowData` / `etherparse` path gives: the same record,
    /// header and errors, on generated samples, also with a byte changed or cut short.
    #[test]
    fn flow_record_into_equals_the_reference(seed in any::<u64>(), damage in any::<u64>()) {
        let mut g = Gen(seed);
        let mut records: Vec<FlowData> =
            (0..g.below(4)).map(|_| FlowData::generate(&mut g)).collect();
        let at = g.below(records.len() as u64 + 1) as usize;
        records.insert(at, FlowData::SampledHeader(SampledHeader {
            protocol: 1,
            frame_length: 1500,
            stripped: 4,
            header: Opaque(raw_header(&mut g)),
        }));
        records.push(FlowData::ExtendedSwitch(ExtendedSwitch {
            src_vlan: g.below(3) as u32 * 10,
            src_priority: 0,
            dst_vlan: 7,
            dst_priority: 0,
        }));
        let sample = FlowSample {
            sequence: 9,
            source: SourceId { class: 0, index: 3 },
            sampling_rate: 512,
            sample_pool: g.u64() as u32,
            drops: g.u64() as u32,
            input: crate::wire::Interface::if_index(1),
            output: crate::wire::Interface { format: g.below(3) as u8 as u32, value: 2 },
            records,
        };
        let d = DatagramRepr {
            samples: vec![Sample::Flow(sample)],
            ..DatagramRepr::default()
        };
        let mut bytes = d.to_bytes().unwrap();
        match damage % 4 {
            1 => {
                let i = (damage >> 8) as usize % bytes.len();
                bytes[i] = (damage >> 40) as u8;
            }
            2 => bytes.truncate((damage >> 8) as usize % bytes.len()),
            _ => {}
        }
        let Ok(v) = Datagram::new_checked(&bytes[..]) else { return Ok(()) };
        let dg = DatagramInfo::of(&v);
        // One record reused, as a session does: the two sample extras an earlier sample left
        // (other values, and a third extra after them) are rewritten in place.
        let mut reused = FlowRecord::default();
        for (field, value) in [
            (convert::SAMPLE_POOL_FIELD, flowwire_record::OwnedValue::Unsigned32(7)),
            (convert::DROPS_FIELD, flowwire_record::OwnedValue::Unsigned64(7)),
            (flowwire_record::FieldId::iana(1), flowwire_record::OwnedValue::Unsigned64(7)),
        ] {
            reused
                .extra
                .push(flowwire_record::ExtraField::new(field, value));
        }
        for s in v.samples() {
            let Ok(SampleView::Flow(f)) = s.and_then(|s| s.view()) else { continue };
            let (mut a, mut b) = (FlowRecord::default(), FlowRecord::default());
            a.set_vlan(Some(1));
            a.extra.push(flowwire_record::ExtraField::new(
                flowwire_record::FieldId::iana(1),
                flowwire_record::OwnedValue::Unsigned64(1),
            ));
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            let ha = flow_record_into(&dg, &f, &mut a, &mut ea);
            let hb = reference_flow_record_into(&dg, &f, &mut b, &mut eb);
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&ha, &hb);
            prop_assert_eq!(&ea, &eb);
            prop_assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&b).unwrap()
            );
            // Twice: the second conversion finds the first one's extras.
            for _ in 0..2 {
                let mut er = Vec::new();
                let hr = flow_record_into(&dg, &f, &mut reused, &mut er);
                prop_assert_eq!(&reused, &b);
                prop_assert_eq!(&hr, &hb);
                prop_assert_eq!(&er, &eb);
            }
        }
    }
}

proptest! {
    /// The fixed-offset flow sample view equals the `Reader` one (compact and expanded).
    #[test]
    fn flow_view_fast_equals_the_reader_path(seed in any::<u64>()) {
        let s = Sample::generate(&mut Gen(seed));
        if !matches!(s, Sample::Flow(_) | Sample::ExpandedFlow(_)) {
            return Ok(());
        }
        let d = DatagramRepr {
            samples: vec![s],
            ..DatagramRepr::default()
        };
        let bytes = d.to_bytes().unwrap();
        let v = Datagram::new_checked(&bytes[..]).unwrap();
        for s in v.samples() {
            let s = s.unwrap();
            let fast = s.flow_view_fast().unwrap();
            let slow = s
                .flow_view(&mut crate::xdr::Reader::new(s.data, s.body_offset()))
                .unwrap();
            prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
            for n in 0..s.data.len().min(48) {
                let cut = crate::wire::SampleRef { data: &s.data[..n], ..s };
                let fast = cut.flow_view_fast().map(|x| format!("{x:?}"));
                let slow = cut
                    .flow_view(&mut crate::xdr::Reader::new(cut.data, cut.body_offset()))
                    .ok()
                    .map(|x| format!("{x:?}"));
                if fast.is_some() {
                    prop_assert_eq!(fast, slow);
                }
            }
        }
    }
}

/// Found by the `export_roundtrip` fuzz target: a record whose protocol is an IPv6 extension
/// header number (0, the default when absent, among them) made etherparse's packet builder
/// panic. Every protocol number now builds, under both address families, raw IP or after
/// Ethernet, and the header decodes back to the same addresses and protocol (59 when absent).
#[test]
fn every_protocol_number_builds_a_header() {
    for v6 in [false, true] {
        for mac in [None, Some(MacAddr([2, 0, 0, 0, 0, 1]))] {
            for proto in (0..=255u8).map(Some).chain([None]) {
                let (s, d) = if v6 {
                    ("2001:db8::1", "2001:db8::2")
                } else {
                    ("192.0.2.1", "192.0.2.2")
                };
                let rec = {
                    let mut built = FlowRecord::new(ProtocolKind::Sflow5);
                    built.set_src_addr(Some(s.parse().unwrap()));
                    built.set_dst_addr(Some(d.parse().unwrap()));
                    built.set_protocol(proto);
                    built.set_src_mac(mac);
                    built
                };
                let h = encode::sampled_header(&rec, 128)
                    .unwrap_or_else(|e| panic!("{proto:?} v6={v6}: {e}"));
                let raw = match v6 {
                    false => crate::repr::header_protocol::IPV4,
                    true => crate::repr::header_protocol::IPV6,
                };
                let expected = if mac.is_some() {
                    crate::repr::header_protocol::ETHERNET
                } else {
                    raw
                };
                assert_eq!(h.protocol, expected);
                assert_eq!(h.frame_length as usize, h.header.0.len());
                let info = crate::header::decode(h.protocol, &h.header.0);
                assert_eq!(info.outer.src_addr, rec.src_addr(), "{proto:?} v6={v6}");
                assert_eq!(info.outer.dst_addr, rec.dst_addr(), "{proto:?} v6={v6}");
                assert_eq!(info.outer.src_mac, mac);
                assert_eq!(
                    info.outer.protocol,
                    Some(proto.unwrap_or(encode::NO_PROTOCOL)),
                    "v6={v6}"
                );
                assert_eq!(
                    info,
                    crate::header::decode_reference(h.protocol, &h.header.0)
                );
            }
        }
    }
}
