//! The exporter: messages fit the size limit, carry sequence numbers and export times, send
//! templates first and again at the refresh interval; what it sends decodes back to the
//! records it was given.

use std::net::IpAddr;
use std::time::Duration;

use flowwire_ipfix::exporter::{Exporter, ExporterConfig};
use flowwire_ipfix::record::{FieldId, FlowRecord, ProtocolKind, Timestamp, Value};
use flowwire_ipfix::repr::TemplateRepr;
use flowwire_ipfix::session::{RecordContext, Session, SessionConfig};
use flowwire_ipfix::wire::data::DataRecord;
use flowwire_ipfix::wire::message::Message;
use flowwire_ipfix::wire::set::SetKind;
use flowwire_ipfix::wire::template::FieldSpec;
use proptest::prelude::*;

fn t(secs: u32) -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000 + secs)
}

fn decode_all(messages: &[Vec<u8>]) -> Vec<FlowRecord> {
    let mut session = Session::new(SessionConfig::default());
    let mut out = Vec::new();
    for m in messages {
        session
            .decode(
                "192.0.2.1:4739".parse().unwrap(),
                m,
                t(0),
                &mut |c: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
                    let mut f = FlowRecord::default();
                    c.to_flow_record(r, &mut f);
                    out.push(f);
                },
            )
            .unwrap();
    }
    out
}

/// The record without what the session adds from the message.
fn content(mut f: FlowRecord) -> FlowRecord {
    f.kind = Some(ProtocolKind::Ipfix);
    f.exporter = None;
    f.domain = None;
    f.sequence = None;
    f.export_time = None;
    f
}

fn flow(i: u32) -> FlowRecord {
    let mut f = FlowRecord::new(ProtocolKind::Ipfix);
    f.src_addr = Some(IpAddr::from([10, 0, (i >> 8) as u8, i as u8]));
    f.dst_addr = Some(if i.rem_euclid(3) == 0 {
        "2001:db8::1".parse().unwrap()
    } else {
        IpAddr::from([192, 0, 2, 1])
    });
    f.src_port = Some(1024 + i as u16);
    f.dst_port = Some(443);
    f.protocol = Some(6);
    f.octets = Some(1000 * u64::from(i));
    f.packets = Some(u64::from(i) + 1);
    f.start = Some(Timestamp::from_unix_millis(
        1_700_000_000_000 + u64::from(i),
    ));
    if i.rem_euclid(5) == 0 {
        f.push_extra(FieldId::iana(82), Value::String(b"eth0"));
    }
    f
}

#[test]
fn packs_into_messages_that_fit_and_decode_back() {
    let config = ExporterConfig {
        max_message_len: 300,
        observation_domain_id: 9,
        ..ExporterConfig::default()
    };
    let mut e = Exporter::new(config);
    let flows: Vec<FlowRecord> = (0..500).map(flow).collect();
    for f in &flows {
        e.flow(f, t(0)).unwrap();
    }
    e.flush();
    let messages: Vec<Vec<u8>> = e.drain().collect();
    assert!(messages.len() > 10);
    let mut seq = 0u32;
    for m in &messages {
        assert!(m.len() <= 300, "{}", m.len());
        let view = Message::new_checked(&m[..]).unwrap();
        assert_eq!(usize::from(view.length()), m.len());
        assert_eq!(
            view.sequence_number(),
            seq,
            "records sent before this message"
        );
        assert_eq!(view.observation_domain_id(), 9);
        assert_eq!(view.export_time(), 1_700_000_000);
        seq += decode_records_in(m, &messages) as u32;
    }
    let got = decode_all(&messages);
    assert_eq!(got.len(), 500);
    for (a, b) in got.into_iter().zip(&flows) {
        assert_eq!(content(a), *b);
    }
}

/// Records in one message, decoded with the templates of all messages up to it.
fn decode_records_in(m: &[u8], all: &[Vec<u8>]) -> usize {
    let upto = all.iter().position(|x| x == m).unwrap();
    decode_all(&all[..=upto]).len() - decode_all(&all[..upto]).len()
}

#[test]
fn templates_first_and_refreshed() {
    let config = ExporterConfig {
        template_refresh: Duration::from_secs(60),
        ..ExporterConfig::default()
    };
    let mut e = Exporter::new(config);
    let kinds = |m: &[u8]| -> Vec<SetKind> {
        Message::new_checked(m)
            .unwrap()
            .sets()
            .map(|s| s.unwrap().kind())
            .collect()
    };
    e.flow(&flow(1), t(0)).unwrap();
    e.flush();
    e.flow(&flow(2), t(30)).unwrap();
    e.flush();
    e.flow(&flow(4), t(61)).unwrap();
    e.flush();
    let m: Vec<Vec<u8>> = e.drain().collect();
    assert_eq!(kinds(&m[0]), vec![SetKind::Template, SetKind::Data(256)]);
    assert_eq!(kinds(&m[1]), vec![SetKind::Data(256)]);
    assert_eq!(kinds(&m[2]), vec![SetKind::Template, SetKind::Data(256)]);
    // A record of another shape gets its own template, sent before it.
    e.flow(&flow(4), t(62)).unwrap();
    e.flow(&flow(3), t(62)).unwrap();
    e.flush();
    let m: Vec<Vec<u8>> = e.drain().collect();
    assert_eq!(m.len(), 2);
    assert_eq!(kinds(&m[1])[0], SetKind::Template);
}

#[test]
fn options_templates_and_raw_records() {
    let mut e = Exporter::new(ExporterConfig::default());
    e.define(TemplateRepr::options(
        300,
        1,
        vec![FieldSpec::iana(144, 4), FieldSpec::iana(34, 4)],
    ))
    .unwrap();
    e.define(TemplateRepr::new(
        301,
        vec![FieldSpec::iana(8, 4), FieldSpec::iana(2, 8)],
    ))
    .unwrap();
    e.record(300, &[Value::Unsigned32(1), Value::Unsigned32(64)], t(0))
        .unwrap();
    e.record(
        301,
        &[
            Value::Ipv4Address([10, 0, 0, 1].into()),
            Value::Unsigned64(5),
        ],
        t(0),
    )
    .unwrap();
    assert!(e.record(301, &[Value::Unsigned64(5)], t(0)).is_err());
    assert!(e.record(999, &[], t(0)).is_err());
    assert!(
        e.record(301, &[Value::String(b"x"), Value::Unsigned64(5)], t(0))
            .is_err()
    );
    e.flush();
    let m: Vec<Vec<u8>> = e.drain().collect();
    let got = decode_all(&m);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].sampling_interval, Some(64), "options data applied");
    assert_eq!(got[1].packets, Some(5));
    // Invalid templates are refused.
    assert!(
        e.define(TemplateRepr::new(302, vec![FieldSpec::iana(8, 0)]))
            .is_err()
    );
    assert!(
        e.define(TemplateRepr::new(10, vec![FieldSpec::iana(8, 4)]))
            .is_err()
    );
}

#[test]
fn withdrawals() {
    let mut e = Exporter::new(ExporterConfig::default());
    e.flow(&flow(1), t(0)).unwrap();
    e.withdraw(256, t(1)).unwrap();
    assert!(e.withdraw(256, t(1)).is_err());
    let m: Vec<Vec<u8>> = e.drain().collect();
    assert_eq!(m.len(), 2);
    let mut session = Session::new(SessionConfig::default());
    let exporter = "192.0.2.1:4739".parse().unwrap();
    let mut n = 0;
    for msg in &m {
        session
            .decode(
                exporter,
                msg,
                t(1),
                &mut |_: &RecordContext<'_>, _: &DataRecord<'_, '_>| n += 1,
            )
            .unwrap();
    }
    assert_eq!(n, 1);
    assert_eq!(session.store_stats().withdrawn, 1);
    assert!(session.template(exporter, 0, 256).is_none());
    // The same shape again gets a new template, sent first.
    e.flow(&flow(1), t(2)).unwrap();
    e.flush();
    let m = e.pop_message().unwrap();
    let kinds: Vec<SetKind> = Message::new_checked(&m[..])
        .unwrap()
        .sets()
        .map(|s| s.unwrap().kind())
        .collect();
    assert_eq!(kinds, vec![SetKind::Template, SetKind::Data(257)]);
}

fn arb_flow() -> impl Strategy<Value = FlowRecord> {
    (
        any::<[u8; 4]>(),
        any::<[u8; 16]>(),
        any::<bool>(),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(0u64..4_000_000_000_000),
        proptest::option::of(any::<u16>()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
    )
        .prop_map(
            |(v4, v6, six, sport, proto, octets, packets, start, vlan, name)| {
                let mut f = FlowRecord::new(ProtocolKind::Ipfix);
                f.src_addr = Some(if six {
                    IpAddr::from(v6)
                } else {
                    IpAddr::from(v4)
                });
                f.src_port = sport;
                f.protocol = proto;
                f.octets = octets;
                f.packets = packets;
                f.start = start.map(Timestamp::from_unix_millis);
                f.vlan = vlan;
                if let Some(n) = name {
                    f.push_extra(FieldId::enterprise(32473, 1), Value::OctetArray(&n));
                }
                f
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn flow_records_round_trip(flows in proptest::collection::vec(arb_flow(), 1..40), mtu in 200usize..1500) {
        let mut e = Exporter::new(ExporterConfig { max_message_len: mtu, ..ExporterConfig::default() });
        let mut sent = Vec::new();
        for f in &flows {
            if e.flow(f, t(0)).is_ok() {
                sent.push(f.clone());
            }
        }
        e.flush();
        let messages: Vec<Vec<u8>> = e.drain().collect();
        for m in &messages {
            prop_assert!(m.len() <= mtu);
        }
        let got = decode_all(&messages);
        prop_assert_eq!(got.len(), sent.len());
        for (a, b) in got.into_iter().zip(&sent) {
            let mut a = content(a);
            // Unknown enterprise elements come back by id without a name.
            for x in &mut a.extra { x.name = None; }
            let mut b = b.clone();
            for x in &mut b.extra { x.name = None; }
            prop_assert_eq!(a, b);
        }
    }
}
