//! The exporter against the decoder: arbitrary `FlowRecord`s (both address families, with
//! and without MACs, VLANs, ports, any protocol, any extras, values out of range) go through
//! `Exporter::push` / `flush` at any `now` (sub-second included) and come back from
//! `Session::decode` exactly as `Exporter::restrict` says, message context aside; what was
//! dropped is counted, or refused by a strict exporter; values out of range are refused and
//! leave the datagram being filled as it was.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use flowwire_sflow::convert::{DROPS_FIELD, SAMPLE_POOL_FIELD};
use flowwire_sflow::encode::{Exporter, ExporterConfig};
use flowwire_sflow::record::codec::{DecodeError, Decoder, ExportStats, Exporter as _, Sink};
use flowwire_sflow::record::{
    ExtraField, FieldId, FlowRecord, MacAddr, OwnedValue, ProtocolKind, Timestamp,
};
use flowwire_sflow::wire::Datagram;
use flowwire_sflow::xdr::Address;
use flowwire_sflow::{Error, Session};

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![v4(), v6()]
}

/// Source and destination: both of one family most of the time, else one, none or mixed.
fn addresses() -> impl Strategy<Value = (Option<IpAddr>, Option<IpAddr>)> {
    prop_oneof![
        4 => (v4(), v4()).prop_map(|(s, d)| (Some(s), Some(d))),
        4 => (v6(), v6()).prop_map(|(s, d)| (Some(s), Some(d))),
        1 => Just((None, None)),
        1 => (proptest::option::of(ip()), proptest::option::of(ip())),
    ]
}

fn protocol() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![
        3 => prop_oneof![Just(6u8), Just(17), Just(1), Just(58)].prop_map(Some),
        2 => proptest::option::of(any::<u8>()),
    ]
}

/// A VLAN id: valid most of the time, 0 (a priority tag: no VLAN) often.
fn vlan() -> impl Strategy<Value = Option<u16>> {
    proptest::option::of(prop_oneof![2 => Just(0u16), 7 => 1u16..4096, 1 => any::<u16>()])
}

fn time() -> impl Strategy<Value = Timestamp> {
    (-4_000_000_000_000_000_000i64..4_000_000_000_000_000_000).prop_map(Timestamp::from_unix_nanos)
}

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn extra() -> impl Strategy<Value = ExtraField> {
    let value = prop_oneof![
        any::<u32>().prop_map(OwnedValue::Unsigned32),
        any::<u64>().prop_map(OwnedValue::Unsigned64),
        any::<u8>().prop_map(OwnedValue::Unsigned8),
        any::<i32>().prop_map(OwnedValue::Signed32),
        "[a-z]{0,6}".prop_map(|s| OwnedValue::String(s.into_bytes())),
    ];
    let id = prop_oneof![
        Just(SAMPLE_POOL_FIELD.id),
        Just(DROPS_FIELD.id),
        Just(82u16),
        1u16..400
    ];
    (id, value).prop_map(|(id, v)| ExtraField::new(FieldId::iana(id), v))
}

prop_compose! {
    fn headers()(
        (src_addr, dst_addr) in addresses(),
        protocol in protocol(),
        src_port in proptest::option::of(any::<u16>()),
        dst_port in proptest::option::of(any::<u16>()),
        tos in proptest::option::of(any::<u8>()),
        tcp_flags in proptest::option::of(prop_oneof![0u16..0x200, any::<u16>()]),
        flow_label in proptest::option::of(prop_oneof![9 => 0u32..0x10_0000, 1 => any::<u32>()]),
        icmp in proptest::option::of((any::<u8>(), proptest::option::of(any::<u8>()))),
        src_mac in proptest::option::of(mac()),
        dst_mac in proptest::option::of(mac()),
        vlan in vlan(),
        inner_vlan in vlan(),
    ) -> FlowRecord {
        {
 let mut built = FlowRecord::default();
 built.set_src_addr(src_addr);
 built.set_dst_addr(dst_addr);
 built.set_protocol(protocol);
 built.set_src_port(src_port);
 built.set_dst_port(dst_port);
 built.set_tos(tos);
 built.set_tcp_flags(tcp_flags);
 built.set_flow_label(flow_label);
 built.set_icmp_type(icmp.map(|i| i.0));
 built.set_icmp_code(icmp.and_then(|i| i.1));
 built.set_src_mac(src_mac);
 built.set_dst_mac(dst_mac);
 built.set_vlan(vlan);
 built.set_inner_vlan(inner_vlan);
 built
 }
    }
}

prop_compose! {
    fn routing()(
        octets in proptest::option::of(prop_oneof![9 => 0u64..=u64::from(u32::MAX), 1 => any::<u64>()]),
        packets in proptest::option::of(prop_oneof![Just(1u64), any::<u64>()]),
        start in proptest::option::of(time()),
        end in proptest::option::of(time()),
        in_if in proptest::option::of(prop_oneof![0u32..64, any::<u32>()]),
        out_if in proptest::option::of(prop_oneof![0u32..64, any::<u32>()]),
        src_as in proptest::option::of(any::<u32>()),
        dst_as in proptest::option::of(any::<u32>()),
        next_hop in proptest::option::of(ip()),
        bgp_next_hop in proptest::option::of(ip()),
        masks in (proptest::option::of(0u8..=128), proptest::option::of(any::<u8>())),
        sampling_interval in proptest::option::of(any::<u32>()),
    ) -> FlowRecord {
        {
 let mut built = FlowRecord::default();
 built.set_octets(octets);
 built.set_packets(packets);
 built.set_start(start);
 built.set_end(end);
 built.set_in_if(in_if);
 built.set_out_if(out_if);
 built.set_src_as(src_as);
 built.set_dst_as(dst_as);
 built.set_next_hop(next_hop);
 built.set_bgp_next_hop(bgp_next_hop);
 built.set_src_mask(masks.0);
 built.set_dst_mask(masks.1);
 built.set_sampling_interval(sampling_interval);
 built
 }
    }
}

prop_compose! {
    fn rest()(
        direction in proptest::option::of(any::<u8>()),
        end_reason in proptest::option::of(any::<u8>()),
        forwarding_status in proptest::option::of(any::<u32>()),
        sampling_algorithm in proptest::option::of(any::<u8>()),
        mpls_label in proptest::option::of(prop_oneof![9 => 0u32..0x10_0000, 1 => any::<u32>()]),
        post_nat in (
            proptest::option::of(ip()),
            proptest::option::of(ip()),
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u16>()),
        ),
        extra in proptest::collection::vec(extra(), 0..4),
        context in (
            any::<bool>(),
            proptest::option::of(ip()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(time()),
        ),
    ) -> FlowRecord {
        let (kind, agent, n, export_time) = context;
        {
 let mut built = FlowRecord::default();
 built.set_direction(direction);
 built.set_end_reason(end_reason);
 built.set_forwarding_status(forwarding_status);
 built.set_sampling_algorithm(sampling_algorithm);
 built.set_mpls_label(mpls_label);
 built.set_post_nat_src_addr(post_nat.0);
 built.set_post_nat_dst_addr(post_nat.1);
 built.set_post_nat_src_port(post_nat.2);
 built.set_post_nat_dst_port(post_nat.3);
 built.extra = extra;
 built.set_kind(kind.then_some(ProtocolKind::Ipfix));
 built.set_exporter(agent.map(|a| SocketAddr::new(a, 4739)));
 built.set_agent(agent);
 built.set_domain(n);
 built.set_sequence(n);
 built.set_export_time(export_time);
 built
 }
    }
}

fn flow() -> impl Strategy<Value = FlowRecord> {
    (headers(), routing(), rest()).prop_map(|(h, r, x)| {
        let mut built = x;
        built.set_src_addr(h.src_addr());
        built.set_dst_addr(h.dst_addr());
        built.set_protocol(h.protocol());
        built.set_src_port(h.src_port());
        built.set_dst_port(h.dst_port());
        built.set_tos(h.tos());
        built.set_tcp_flags(h.tcp_flags());
        built.set_flow_label(h.flow_label());
        built.set_icmp_type(h.icmp_type());
        built.set_icmp_code(h.icmp_code());
        built.set_src_mac(h.src_mac());
        built.set_dst_mac(h.dst_mac());
        built.set_vlan(h.vlan());
        built.set_inner_vlan(h.inner_vlan());
        built.set_octets(r.octets());
        built.set_packets(r.packets());
        built.set_start(r.start());
        built.set_end(r.end());
        built.set_in_if(r.in_if());
        built.set_out_if(r.out_if());
        built.set_src_as(r.src_as());
        built.set_dst_as(r.dst_as());
        built.set_next_hop(r.next_hop());
        built.set_bgp_next_hop(r.bgp_next_hop());
        built.set_src_mask(r.src_mask());
        built.set_dst_mask(r.dst_mask());
        built.set_sampling_interval(r.sampling_interval());
        built
    })
}

fn config() -> impl Strategy<Value = ExporterConfig> {
    (
        prop_oneof![
            Just(Address::Unknown),
            any::<u32>().prop_map(|a| Address::V4(a.into())),
            any::<u128>().prop_map(|a| Address::V6(a.into())),
        ],
        any::<u32>(),
        prop_oneof![4 => Just(128usize), 1 => 0usize..100],
        prop_oneof![4 => Just(1400usize), 1 => 100usize..400],
        time(),
    )
        .prop_map(
            |(agent, sub_agent_id, header_bytes, max_datagram_len, boot)| ExporterConfig {
                agent,
                sub_agent_id,
                header_bytes,
                max_datagram_len,
                boot,
                strict: false,
            },
        )
}

/// Whether a value is out of its field's range (the exporter must refuse the record).
fn out_of_range(f: &FlowRecord) -> bool {
    f.octets().is_some_and(|o| o > u64::from(u32::MAX))
        || f.vlan().is_some_and(|v| v > 4095)
        || f.inner_vlan().is_some_and(|v| v > 4095)
        || f.flow_label().is_some_and(|l| l > 0xf_ffff)
        || f.mpls_label().is_some_and(|l| l > 0xf_ffff)
}

/// The record without what the message around it says.
fn bare(mut f: FlowRecord) -> FlowRecord {
    f.clear_context();
    f
}

/// Fields of `sent` that did not come back as they were, counted as the exporter must:
/// typed fields set and changed, and extras other than the first pool and drops fields
/// whose values came back.
fn dropped(sent: &FlowRecord, got: &FlowRecord) -> u64 {
    let sent_fields = serde_json::to_value(bare(sent.clone())).unwrap();
    let got_fields = serde_json::to_value(got).unwrap();
    let mut n = 0;
    for (k, v) in sent_fields.as_object().unwrap() {
        if k != "type" && k != "extra" && got_fields.get(k) != Some(v) {
            n += 1;
        }
    }
    let mut seen = Vec::new();
    for e in &sent.extra {
        let carried = (e.field == SAMPLE_POOL_FIELD || e.field == DROPS_FIELD)
            && !seen.contains(&e.field)
            && got.extra_field(e.field).and_then(|v| v.as_value().as_u64())
                == e.value.as_value().as_u64();
        seen.push(e.field);
        n += u64::from(!carried);
    }
    n
}

#[derive(Default)]
struct Out {
    flows: Vec<FlowRecord>,
    errors: Vec<String>,
}

impl Sink for Out {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows.push(flow.clone());
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        self.errors.push(error.to_string());
    }
}

fn exporter_addr() -> SocketAddr {
    "192.0.2.200:6343".parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn push_then_decode_gives_restrict(
        flows in proptest::collection::vec(flow(), 1..8),
        config in config(),
        times in proptest::collection::vec(time(), 8),
    ) {
        let mut lenient = Exporter::new(config);
        let mut strict = Exporter::new(ExporterConfig { strict: true, ..config });
        let mut datagrams = Vec::new();
        let mut strict_datagrams = Vec::new();
        let mut expected = Vec::new();
        let mut strict_expected = Vec::new();
        let mut stamps = Vec::new();
        for (f, &now) in flows.iter().zip(&times) {
            let before = lenient.pending();
            let res = lenient.push(f, now, &mut |d: &[u8]| {
                datagrams.push(d.to_vec());
                stamps.push(now);
            });
            match res.clone() {
                Ok(()) => expected.push(f.clone()),
                Err(Error::OutOfRange { .. }) => {
                    prop_assert!(out_of_range(f), "refused in range: {f:?}");
                    prop_assert_eq!(lenient.pending(), before, "left as it was");
                }
                Err(Error::BufferTooSmall { required, remaining }) => {
                    prop_assert!(required > remaining && remaining == config.max_datagram_len);
                    prop_assert_eq!(lenient.pending(), before, "left as it was");
                }
                Err(e) => prop_assert!(false, "{e}: {f:?}"),
            }
            if res.is_ok() {
                prop_assert!(!out_of_range(f), "accepted out of range: {f:?}");
            }
            match strict.push(f, now, &mut |d: &[u8]| strict_datagrams.push(d.to_vec())) {
                Ok(()) => strict_expected.push(f.clone()),
                Err(Error::NotCarried { .. }) => {}
                Err(e) => prop_assert_eq!(res.as_ref().err(), Some(&e)),
            }
        }
        let last = times[flows.len() - 1];
        lenient.flush(last, &mut |d: &[u8]| {
            datagrams.push(d.to_vec());
            stamps.push(last);
        })?;
        strict.flush(last, &mut |d: &[u8]| strict_datagrams.push(d.to_vec()))?;

        // Every datagram fits, is numbered from 1 and stamped with the uptime of its `now`.
        for (i, (d, now)) in datagrams.iter().zip(&stamps).enumerate() {
            prop_assert!(d.len() <= config.max_datagram_len);
            let v = Datagram::new_checked(&d[..]).unwrap();
            prop_assert_eq!(v.sequence() as usize, i + 1);
            let uptime = now.unix_millis().wrapping_sub(config.boot.unix_millis()) as u32;
            prop_assert_eq!(v.uptime(), uptime);
            prop_assert_eq!(v.agent(), config.agent);
        }

        let mut session = Session::default();
        let mut got = Out::default();
        for (d, now) in datagrams.iter().zip(&stamps) {
            let s = session.decode(exporter_addr(), *now, d, &mut got);
            prop_assert_eq!(s.messages, 1);
        }
        prop_assert!(got.errors.is_empty(), "{:?}", got.errors);
        prop_assert_eq!(got.flows.len(), expected.len());
        let mut stats = ExportStats {
            records: expected.len() as u64,
            refused: (flows.len() - expected.len()) as u64,
            datagrams: datagrams.len() as u64,
            octets: datagrams.iter().map(|d| d.len() as u64).sum(),
            ..ExportStats::default()
        };
        let mut drops = Vec::new();
        for (sent, back) in expected.iter().zip(&got.flows) {
            prop_assert_eq!(back.kind(), Some(ProtocolKind::Sflow5));
            prop_assert_eq!(back.exporter(), Some(exporter_addr()));
            prop_assert_eq!(back.agent(), config.agent.ip());
            prop_assert_eq!(back.domain(), Some(config.sub_agent_id));
            prop_assert_eq!(back.export_time(), None);
            let back = bare(back.clone());
            prop_assert_eq!(&back, &lenient.restrict(sent, Timestamp::UNIX_EPOCH), "sent {:?}", sent);
            let n = dropped(sent, &back);
            if n > 0 {
                stats.records_with_dropped_fields += 1;
                stats.fields_dropped += n;
            }
            drops.push(n);
        }
        prop_assert_eq!(lenient.stats(), &stats);

        // Strict: exactly the records that lost nothing, decoded the same.
        let kept: Vec<&FlowRecord> = expected
            .iter()
            .zip(&drops)
            .filter(|(_, n)| **n == 0)
            .map(|(f, _)| f)
            .collect();
        prop_assert_eq!(strict_expected.iter().collect::<Vec<_>>(), kept);
        prop_assert_eq!(strict.stats().fields_dropped, 0);
        let mut strict_got = Out::default();
        let mut session = Session::default();
        for d in &strict_datagrams {
            session.decode(exporter_addr(), last, d, &mut strict_got);
        }
        prop_assert_eq!(strict_got.flows.len(), strict_expected.len());
        for (sent, back) in strict_expected.iter().zip(strict_got.flows) {
            prop_assert_eq!(&bare(back), &strict.restrict(sent, Timestamp::UNIX_EPOCH));
        }
    }
}

/// Issue 14: a record without MACs or VLAN gets no Ethernet header, so the decoded record
/// has no MACs; the header's own fields come back as 0; what sFlow cannot carry is counted.
#[test]
fn only_what_the_record_had() {
    let flow = {
        let mut built = FlowRecord::new(ProtocolKind::Ipfix);
        built.set_src_addr(Some("192.0.2.1".parse().unwrap()));
        built.set_dst_addr(Some("192.0.2.2".parse().unwrap()));
        built.set_protocol(Some(6));
        built.set_dst_port(Some(443));
        built.set_packets(Some(10));
        built.set_start(Some(Timestamp::from_unix_secs(1_700_000_000)));
        built.set_end(Some(Timestamp::from_unix_secs(1_700_000_001)));
        built.set_direction(Some(1));
        built
    };
    let mut e = Exporter::default();
    let now = Timestamp::from_unix_millis(1_700_000_002_345);
    let mut out = Vec::new();
    e.push(&flow, now, &mut |d: &[u8]| out.push(d.to_vec()))
        .unwrap();
    e.flush(now, &mut |d: &[u8]| out.push(d.to_vec())).unwrap();
    let d = flowwire_sflow::decode(&out[0]).unwrap();
    let got = &d.flows[0];
    assert_eq!((got.src_mac(), got.dst_mac()), (None, None));
    assert_eq!(
        (got.tos(), got.tcp_flags(), got.flow_label()),
        (Some(0), Some(0), None)
    );
    assert_eq!((got.src_port(), got.dst_port()), (Some(0), Some(443)));
    assert_eq!(
        (got.packets(), got.start(), got.end(), got.direction()),
        (Some(1), None, None, None)
    );
    let s = e.stats();
    assert_eq!(
        (s.records, s.records_with_dropped_fields, s.fields_dropped),
        (1, 1, 4)
    );

    let mut strict = Exporter::new(ExporterConfig {
        strict: true,
        ..ExporterConfig::default()
    });
    assert_eq!(
        strict.push(&flow, now, &mut |_: &[u8]| panic!()),
        Err(Error::NotCarried { what: "packets" })
    );
    assert_eq!((strict.stats().records, strict.stats().refused), (0, 1));
}

/// Found by the `export_roundtrip` fuzz target: a record with a MAC and two VLANs, whose
/// Ethernet header a 21-octet header limit cuts off, came back with its outer VLAN alone;
/// exported again, that VLAN made an Ethernet header of zero MACs. A single VLAN without
/// MACs now travels in extended_switch only, so a second pass changes nothing.
#[test]
fn a_vlan_without_macs_sends_no_ethernet_header_and_a_second_pass_is_stable() {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let config = ExporterConfig {
        header_bytes: 21,
        ..ExporterConfig::default()
    };
    let first = FlowRecord::default()
        .with_vlan(2197)
        .with_inner_vlan(2654)
        .with_src_mac(MacAddr([255, 0, 0, 0, 0, 0]));
    let pass = |r: &FlowRecord| {
        let mut e = Exporter::new(config);
        let mut out: Vec<Vec<u8>> = Vec::new();
        e.push(r, now, &mut |d| out.push(d.to_vec())).unwrap();
        e.flush(now, &mut |d| out.push(d.to_vec())).unwrap();
        let mut got = Vec::new();
        Session::default().decode(
            "192.0.2.1:6343".parse().unwrap(),
            now,
            &out[0],
            &mut |f: &FlowRecord| got.push(bare(f.clone())),
        );
        (got.remove(0), e.restrict(r, now))
    };
    let (once, model) = pass(&first);
    assert_eq!(once, model);
    assert_eq!((once.vlan(), once.src_mac()), (Some(2197), None));
    let (twice, model2) = pass(&once);
    assert_eq!(twice, once);
    assert_eq!(model2, model);
}
