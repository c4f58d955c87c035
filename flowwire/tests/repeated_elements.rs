//! Templates that repeat elements (SRv6 / MPLS: the outer header's addresses, protocol and
//! ports, then the inner ones) decode with the outer values in the typed fields and the
//! inner ones in `extra`, in wire order, and re-export to the same bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use flowwire::ipfix::exporter::{Exporter as IpfixExporter, ExporterConfig as IpfixConfig};
use flowwire::ipfix::session::{Session as IpfixSession, SessionConfig};
use flowwire::record::mapping::TimeEncoding;
use flowwire::record::registry::{FieldId, ie};
use flowwire::record::{FlowRecord, OwnedValue, Timestamp};
use flowwire::{Decoder, Exporter};

const EXPORT_SECS: u32 = 1_700_000_000;

/// The SRv6-style template: IPv6 outer (addresses, ports, protocol 41), counters and times,
/// then the IPv4 inner header's addresses, ports and protocol again.
const TEMPLATE: [(u16, u16); 14] = [
    (ie::SOURCE_IPV6_ADDRESS, 16),
    (ie::DESTINATION_IPV6_ADDRESS, 16),
    (ie::SOURCE_TRANSPORT_PORT, 2),
    (ie::DESTINATION_TRANSPORT_PORT, 2),
    (ie::PROTOCOL_IDENTIFIER, 1),
    (ie::OCTET_DELTA_COUNT, 8),
    (ie::PACKET_DELTA_COUNT, 8),
    (ie::FLOW_START_MILLISECONDS, 8),
    (ie::FLOW_END_MILLISECONDS, 8),
    (ie::SOURCE_IPV4_ADDRESS, 4),
    (ie::DESTINATION_IPV4_ADDRESS, 4),
    (ie::SOURCE_TRANSPORT_PORT, 2),
    (ie::DESTINATION_TRANSPORT_PORT, 2),
    (ie::PROTOCOL_IDENTIFIER, 1),
];

fn outer_src() -> Ipv6Addr {
    "2001:db8:1::1".parse().unwrap()
}
fn outer_dst() -> Ipv6Addr {
    "2001:db8:2::2".parse().unwrap()
}
const INNER_SRC: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 1);
const INNER_DST: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 2);

fn record_bytes() -> Vec<u8> {
    let mut r = Vec::new();
    r.extend(outer_src().octets());
    r.extend(outer_dst().octets());
    r.extend(0u16.to_be_bytes()); // outer ports: none for IP-in-IPv6
    r.extend(0u16.to_be_bytes());
    r.push(41);
    r.extend(1500u64.to_be_bytes());
    r.extend(3u64.to_be_bytes());
    r.extend(1_700_000_000_000u64.to_be_bytes());
    r.extend(1_700_000_000_500u64.to_be_bytes());
    r.extend(INNER_SRC.octets());
    r.extend(INNER_DST.octets());
    r.extend(443u16.to_be_bytes());
    r.extend(51000u16.to_be_bytes());
    r.push(6);
    r
}

/// An IPFIX message: the template (id 256) and one data set of one record.
fn ipfix_message() -> Vec<u8> {
    let mut tset = vec![0, 2, 0, 0, 1, 0];
    tset.extend((TEMPLATE.len() as u16).to_be_bytes());
    for (id, len) in TEMPLATE {
        tset.extend(id.to_be_bytes());
        tset.extend(len.to_be_bytes());
    }
    let tlen = tset.len() as u16;
    tset[2..4].copy_from_slice(&tlen.to_be_bytes());
    let rec = record_bytes();
    let mut dset = vec![1, 0];
    dset.extend(((4 + rec.len()) as u16).to_be_bytes());
    dset.extend(rec);
    let mut m = vec![0, 10, 0, 0];
    m.extend(EXPORT_SECS.to_be_bytes());
    m.extend(0u32.to_be_bytes()); // sequence
    m.extend(0u32.to_be_bytes()); // observation domain
    m.extend(tset);
    m.extend(dset);
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

fn decode_ipfix(msg: &[u8]) -> Vec<FlowRecord> {
    let exporter: SocketAddr = "192.0.2.1:4739".parse().unwrap();
    let mut session = IpfixSession::new(SessionConfig::default());
    let mut flows = Vec::new();
    let s = session.decode(
        exporter,
        Timestamp::from_unix_secs(EXPORT_SECS.into()),
        msg,
        &mut |f: &FlowRecord| flows.push(f.clone()),
    );
    assert_eq!(s.errors, 0);
    flows
}

#[test]
fn srv6_outer_header_is_typed_and_inner_header_is_kept_in_order() {
    let flows = decode_ipfix(&ipfix_message());
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!(f.src_addr(), Some(IpAddr::V6(outer_src())));
    assert_eq!(f.dst_addr(), Some(IpAddr::V6(outer_dst())));
    assert_eq!(
        (f.src_port(), f.dst_port(), f.protocol()),
        (Some(0), Some(0), Some(41))
    );
    assert_eq!((f.octets(), f.packets()), (Some(1500), Some(3)));
    let extra: Vec<(FieldId, OwnedValue)> =
        f.extra.iter().map(|e| (e.field, e.value.clone())).collect();
    assert_eq!(
        extra,
        [
            (
                FieldId::iana(ie::SOURCE_IPV4_ADDRESS),
                OwnedValue::Ipv4Address(INNER_SRC)
            ),
            (
                FieldId::iana(ie::DESTINATION_IPV4_ADDRESS),
                OwnedValue::Ipv4Address(INNER_DST)
            ),
            (
                FieldId::iana(ie::SOURCE_TRANSPORT_PORT),
                OwnedValue::Unsigned16(443)
            ),
            (
                FieldId::iana(ie::DESTINATION_TRANSPORT_PORT),
                OwnedValue::Unsigned16(51000)
            ),
            (
                FieldId::iana(ie::PROTOCOL_IDENTIFIER),
                OwnedValue::Unsigned8(6)
            ),
        ]
    );
    assert_eq!(
        f.extra[0].name.as_deref(),
        Some("sourceIPv4Address"),
        "extras carry their registry name"
    );
    // The JSON form keeps the inner header too.
    let json = serde_json::to_string(f).unwrap();
    assert!(
        json.contains(
            r#"{"pen":0,"id":8,"name":"sourceIPv4Address","type":"ipv4Address","value":"10.1.1.1"}"#
        ),
        "{json}"
    );
}

#[test]
fn srv6_record_re_exports_to_the_same_bytes() {
    let original = ipfix_message();
    let flows = decode_ipfix(&original);
    let mut exporter = IpfixExporter::new(IpfixConfig {
        time_encoding: TimeEncoding::Milliseconds,
        ..IpfixConfig::default()
    });
    let now = Timestamp::from_unix_secs(EXPORT_SECS.into());
    let mut messages: Vec<Vec<u8>> = Vec::new();
    exporter
        .push(&flows[0], now, &mut |m| messages.push(m.to_vec()))
        .unwrap();
    exporter
        .flush(now, &mut |m| messages.push(m.to_vec()))
        .unwrap();
    assert_eq!(
        messages,
        std::slice::from_ref(&original),
        "re-export differs from the original message"
    );
    // And the re-exported message decodes to the same record.
    assert_eq!(decode_ipfix(&messages[0]), flows);
}

/// NetFlow v9 and IPFIX read the sampling elements one way (flowwire_record::sampling):
/// options data announcing 34, 305+306, 305 alone or 309+310 gives the same interval to the
/// flows of both protocols.
#[test]
fn v9_and_ipfix_agree_on_sampling() {
    use flowwire::{Decoder, FlowRecord};
    // (element, value) pairs of one options record, and the interval they mean.
    let cases: [(&[(u16, u32)], u32); 5] = [
        (&[(ie::SAMPLING_INTERVAL, 100)], 100),
        (
            &[
                (ie::SAMPLING_PACKET_INTERVAL, 1),
                (ie::SAMPLING_PACKET_SPACE, 99),
            ],
            100,
        ),
        (
            &[
                (ie::SAMPLING_PACKET_INTERVAL, 2),
                (ie::SAMPLING_PACKET_SPACE, 198),
            ],
            100,
        ),
        (&[(ie::SAMPLING_PACKET_INTERVAL, 64)], 64),
        (
            &[(ie::SAMPLING_SIZE, 10), (ie::SAMPLING_POPULATION, 1000)],
            100,
        ),
    ];
    let set = |id: u16, body: Vec<u8>| {
        let mut s = id.to_be_bytes().to_vec();
        s.extend(((body.len() + 4) as u16).to_be_bytes());
        s.extend(body);
        s
    };
    for (fields, want) in cases {
        // The options record: scope = the observation domain / system, then the fields.
        let mut values = Vec::new();
        for (_, v) in fields {
            values.extend(v.to_be_bytes());
        }
        // IPFIX: options template 300 (scope: observationDomainId), data template 256
        // (sourceIPv4Address), the options record, a flow.
        let mut ot = vec![1, 44, 0, (fields.len() + 1) as u8, 0, 1, 0, 149, 0, 4];
        for (id, _) in fields {
            ot.extend(id.to_be_bytes());
            ot.extend(4u16.to_be_bytes());
        }
        let mut od = 7u32.to_be_bytes().to_vec();
        od.extend(&values);
        let mut m = vec![0, 10, 0, 0];
        m.extend(EXPORT_SECS.to_be_bytes());
        m.extend([0, 0, 0, 0, 0, 0, 0, 7]);
        m.extend(set(3, ot));
        m.extend(set(2, vec![1, 0, 0, 1, 0, 8, 0, 4]));
        m.extend(set(300, od.clone()));
        m.extend(set(256, vec![10, 0, 0, 1]));
        let n = m.len() as u16;
        m[2..4].copy_from_slice(&n.to_be_bytes());
        // NetFlow v9: options template 300 (scope: system, 4 octets), the same fields.
        let mut v9ot = vec![1, 44, 0, 4, 0, (4 * fields.len()) as u8, 0, 1, 0, 4];
        for (id, _) in fields {
            v9ot.extend(id.to_be_bytes());
            v9ot.extend(4u16.to_be_bytes());
        }
        let mut p = vec![0, 9, 0, 4, 0, 0, 0, 1];
        p.extend(EXPORT_SECS.to_be_bytes());
        p.extend([0, 0, 0, 0, 0, 0, 0, 7]);
        p.extend(set(1, v9ot));
        p.extend(set(0, vec![1, 0, 0, 1, 0, 8, 0, 4]));
        p.extend(set(300, od));
        p.extend(set(256, vec![10, 0, 0, 1]));
        let now = Timestamp::from_unix_secs(EXPORT_SECS.into());
        let from: SocketAddr = "192.0.2.1:2055".parse().unwrap();
        let mut ipfix_flows = Vec::new();
        flowwire::ipfix::Session::default().decode(from, now, &m, &mut |f: &FlowRecord| {
            ipfix_flows.push(f.sampling_interval())
        });
        let mut v9_flows = Vec::new();
        flowwire::netflow::Session::default().decode(from, now, &p, &mut |f: &FlowRecord| {
            v9_flows.push(f.sampling_interval())
        });
        assert_eq!(ipfix_flows, [Some(want)], "IPFIX {fields:?}");
        assert_eq!(v9_flows, [Some(want)], "v9 {fields:?}");
    }
}
