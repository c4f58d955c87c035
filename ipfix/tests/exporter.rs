//! The exporter: messages fit the size limit, carry sequence numbers and export times, send
//! templates first and again at the refresh interval; what it sends decodes back to the
//! records it was given.

use std::net::IpAddr;
use std::time::Duration;

use flowwire_ipfix::exporter::{Exporter, ExporterConfig};
use flowwire_ipfix::record::codec::Exporter as _;
use flowwire_ipfix::record::mapping::TimeEncoding;
use flowwire_ipfix::record::{FieldId, FlowRecord, ProtocolKind, Timestamp, Value};
use flowwire_ipfix::repr::TemplateRepr;
use flowwire_ipfix::wire::message::Message;
use flowwire_ipfix::wire::set::SetKind;
use flowwire_ipfix::wire::template::FieldSpec;
use flowwire_ipfix::{Collect, Decoder, Session};
use proptest::prelude::*;

fn t(secs: u32) -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000 + i64::from(secs))
}

/// Everything the messages decode to, through the contract (no errors allowed).
fn decode_both(messages: &[Vec<u8>]) -> Collect {
    let mut session = Session::default();
    let mut got = Collect::default();
    for m in messages {
        session.decode("192.0.2.1:4739".parse().unwrap(), t(0), m, &mut got);
    }
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    got
}

fn decode_all(messages: &[Vec<u8>]) -> Vec<FlowRecord> {
    decode_both(messages).flows
}

/// The record without what the session adds from the message: what `restrict` models.
fn content(mut f: FlowRecord) -> FlowRecord {
    f.clear_context();
    f
}

/// Pushes every flow, flushes at `now`, and returns the messages.
fn export(e: &mut Exporter, flows: &[FlowRecord], now: Timestamp) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut out = |m: &[u8]| messages.push(m.to_vec());
    for f in flows {
        e.push(f, now, &mut out).unwrap();
    }
    e.flush(now, &mut out).unwrap();
    messages
}

fn flow(i: u32) -> FlowRecord {
    let mut f = FlowRecord::new(ProtocolKind::Ipfix);
    f.set_src_addr(Some(IpAddr::from([10, 0, (i >> 8) as u8, i as u8])));
    f.set_dst_addr(Some(if i.rem_euclid(3) == 0 {
        "2001:db8::1".parse().unwrap()
    } else {
        IpAddr::from([192, 0, 2, 1])
    }));
    f.set_src_port(Some(1024 + i as u16));
    f.set_dst_port(Some(443));
    f.set_protocol(Some(6));
    f.set_octets(Some(1000 * u64::from(i)));
    f.set_packets(Some(u64::from(i) + 1));
    f.set_start(Some(Timestamp::from_unix_millis_u64(
        1_700_000_000_000 + u64::from(i),
    )));
    if i.rem_euclid(5) == 0 {
        f.push_extra(FieldId::iana(82), Value::String(b"eth0"));
    }
    f
}

#[test]
fn packs_into_messages_that_fit_and_decode_back() {
    let config = ExporterConfig {
        max_datagram_len: 300,
        observation_domain_id: 9,
        ..ExporterConfig::default()
    };
    let mut e = Exporter::new(config);
    let flows: Vec<FlowRecord> = (0..500).map(flow).collect();
    let messages = export(&mut e, &flows, t(0));
    assert!(messages.len() > 10);
    let stats = *e.stats();
    assert_eq!((stats.records, stats.refused), (500, 0));
    assert_eq!(stats.datagrams, messages.len() as u64);
    assert_eq!(
        stats.octets,
        messages.iter().map(|m| m.len() as u64).sum::<u64>()
    );
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
        assert_eq!(a.kind(), Some(ProtocolKind::Ipfix));
        assert_eq!(a.domain(), Some(9));
        let a = content(a);
        assert_eq!(a, e.restrict(b, Timestamp::UNIX_EPOCH));
        let mut b = b.clone();
        b.set_kind(None);
        assert_eq!(a, b, "IPFIX carries these records whole");
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
    let mut m = export(&mut e, &[flow(1)], t(0));
    m.extend(export(&mut e, &[flow(2)], t(30)));
    m.extend(export(&mut e, &[flow(4)], t(61)));
    assert_eq!(kinds(&m[0]), vec![SetKind::Template, SetKind::Data(256)]);
    assert_eq!(kinds(&m[1]), vec![SetKind::Data(256)]);
    assert_eq!(kinds(&m[2]), vec![SetKind::Template, SetKind::Data(256)]);
    // A record of another shape gets its own template, sent before it.
    let m = export(&mut e, &[flow(4), flow(3)], t(62));
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
    let mut m = Vec::new();
    let mut out = |b: &[u8]| m.push(b.to_vec());
    e.record(
        300,
        &[Value::Unsigned32(1), Value::Unsigned32(64)],
        t(0),
        &mut out,
    )
    .unwrap();
    e.record(
        301,
        &[
            Value::Ipv4Address([10, 0, 0, 1].into()),
            Value::Unsigned64(5),
        ],
        t(0),
        &mut out,
    )
    .unwrap();
    assert!(
        e.record(301, &[Value::Unsigned64(5)], t(0), &mut out)
            .is_err()
    );
    assert!(e.record(999, &[], t(0), &mut out).is_err());
    assert!(
        e.record(
            301,
            &[Value::String(b"x"), Value::Unsigned64(5)],
            t(0),
            &mut out
        )
        .is_err()
    );
    e.flush(t(0), &mut out).unwrap();
    assert_eq!((e.stats().records, e.stats().refused), (2, 3));
    let got = decode_both(&m);
    assert_eq!((got.options.len(), got.flows.len()), (1, 1));
    assert_eq!(got.options[0].template_id, 300);
    assert_eq!(
        got.flows[0].sampling_interval(),
        Some(64),
        "options data applied"
    );
    assert_eq!(got.flows[0].packets(), Some(5));
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
    let mut m = Vec::new();
    let mut out = |b: &[u8]| m.push(b.to_vec());
    e.push(&flow(1), t(0), &mut out).unwrap();
    e.withdraw(256, t(1), &mut out).unwrap();
    assert!(e.withdraw(256, t(1), &mut out).is_err());
    assert_eq!(m.len(), 2);
    let mut session = Session::default();
    let exporter = "192.0.2.1:4739".parse().unwrap();
    let mut n = 0;
    let mut summary = flowwire_ipfix::Summary::default();
    for msg in &m {
        summary += session.decode(exporter, t(1), msg, &mut |_: &FlowRecord| n += 1);
    }
    assert_eq!(n, 1);
    assert_eq!((summary.withdrawn, summary.templates), (1, 1));
    assert_eq!(session.store_stats().withdrawn, 1);
    assert!(session.template(exporter, 0, 256).is_none());
    // The same shape again gets a new template, sent first.
    let m = export(&mut e, &[flow(1)], t(2));
    let m = &m[0];
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
                f.set_src_addr(Some(if six {
                    IpAddr::from(v6)
                } else {
                    IpAddr::from(v4)
                }));
                f.set_src_port(sport);
                f.set_protocol(proto);
                f.set_octets(octets);
                f.set_packets(packets);
                f.set_start(start.map(Timestamp::from_unix_millis_u64));
                f.set_vlan(vlan);
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
        let mut e = Exporter::new(ExporterConfig { max_datagram_len: mtu, ..ExporterConfig::default() });
        let mut sent = Vec::new();
        let mut messages = Vec::new();
        let mut out = |m: &[u8]| messages.push(m.to_vec());
        for f in &flows {
            if e.push(f, t(0), &mut out).is_ok() {
                sent.push(f.clone());
            }
        }
        e.flush(t(0), &mut out).unwrap();
        prop_assert_eq!(e.stats().records + e.stats().refused, flows.len() as u64);
        for m in &messages {
            prop_assert!(m.len() <= mtu);
        }
        let got = decode_all(&messages);
        prop_assert_eq!(got.len(), sent.len());
        for (a, b) in got.into_iter().zip(&sent) {
            let a = content(a);
            prop_assert_eq!(&a, &e.restrict(b, Timestamp::UNIX_EPOCH));
            // Unknown enterprise elements come back by id without a name.
            let mut a = a;
            for x in &mut a.extra { x.name = None; }
            let mut b = b.clone();
            b.set_kind(None);
            for x in &mut b.extra { x.name = None; }
            prop_assert_eq!(a, b);
        }
    }

    /// `restrict` is what a collector decodes, whatever the time encoding and whatever the
    /// record (varied layouts, extras included, times at any precision).
    #[test]
    fn restrict_is_what_a_collector_decodes(layout in any::<u64>(), seed in any::<u64>(), times in 0u8..3, now_ms in 0i64..4_000_000_000_000) {
        let time_encoding = match times {
            0 => TimeEncoding::Seconds,
            1 => TimeEncoding::Milliseconds,
            _ => TimeEncoding::Nanoseconds,
        };
        let mut e = Exporter::new(ExporterConfig { time_encoding, ..ExporterConfig::default() });
        let mut f = flowwire_ipfix::record::testing::varied_record(layout, seed);
        if seed % 3 == 0 {
            f.push_extra(FieldId::iana(82), Value::String(b"eth0"));
            f.push_extra(FieldId::enterprise(9, 12), Value::Unsigned32(7));
            f.push_extra(FieldId::iana(40_000), Value::Unsigned8(1));
        }
        let now = Timestamp::from_unix_millis(now_ms);
        let mut messages = Vec::new();
        let mut out = |m: &[u8]| messages.push(m.to_vec());
        let pushed = e.push(&f, now, &mut out);
        e.flush(now, &mut out).unwrap();
        let got = decode_all(&messages);
        match pushed {
            Ok(()) => {
                prop_assert_eq!(got.len(), 1);
                prop_assert_eq!(content(got[0].clone()), e.restrict(&f, now));
            }
            Err(_) => {
                prop_assert!(got.is_empty());
                prop_assert_eq!(e.restrict(&f, now), FlowRecord::default());
            }
        }
    }
}

/// Times keep the precision of the configured encoding, for any `now`.
#[test]
fn times_to_the_precision_of_the_encoding() {
    let start = Timestamp::from_unix_nanos(1_700_000_000_123_456_789);
    let f = {
        let mut built = FlowRecord::default();
        built.set_src_port(Some(1));
        built.set_start(Some(start));
        built
    };
    for (encoding, want) in [
        (TimeEncoding::Seconds, 1_700_000_000_000_000_000),
        (TimeEncoding::Milliseconds, 1_700_000_000_123_000_000),
        (TimeEncoding::Nanoseconds, 1_700_000_000_123_456_789),
    ] {
        let config = ExporterConfig {
            time_encoding: encoding,
            ..ExporterConfig::default()
        };
        assert_eq!(
            Exporter::new(config.clone())
                .restrict(&f, Timestamp::UNIX_EPOCH)
                .start()
                .map(|t| t.unix_nanos()),
            Some(want),
            "{encoding:?}"
        );
        for now in [t(0), Timestamp::from_unix_nanos(1_700_000_100_999_999_999)] {
            let mut e = Exporter::new(config.clone());
            let got = decode_all(&export(&mut e, std::slice::from_ref(&f), now));
            assert_eq!(
                got[0].start().map(|t| t.unix_nanos()),
                Some(want),
                "{encoding:?}"
            );
        }
    }
}

/// A limit above what an IPFIX length can say is held at 65,535 octets.
#[test]
fn huge_limits_are_held_to_the_message_length_field() {
    let mut e = Exporter::new(ExporterConfig {
        max_datagram_len: 1 << 20,
        ..ExporterConfig::default()
    });
    let flows: Vec<FlowRecord> = (0..5000).map(flow).collect();
    let messages = export(&mut e, &flows, t(0));
    assert!(messages.len() > 1);
    assert!(messages.iter().all(|m| m.len() <= 65535));
    for m in &messages {
        assert_eq!(
            usize::from(Message::new_checked(&m[..]).unwrap().length()),
            m.len()
        );
    }
    assert_eq!(decode_all(&messages).len(), 5000);
}

/// A template redefined under the id of the open data set: the record after it goes into a
/// new message with the new definition, never into the old set (the exporter's per-set fast
/// path must notice).
#[test]
fn a_template_redefined_while_its_set_is_open_is_sent_before_its_records() {
    let mut e = Exporter::new(ExporterConfig::default());
    e.define(TemplateRepr::new(
        400,
        vec![FieldSpec::iana(8, 4), FieldSpec::iana(12, 4)],
    ))
    .unwrap();
    let mut m = Vec::new();
    let mut out = |b: &[u8]| m.push(b.to_vec());
    let addresses = [
        Value::Ipv4Address([192, 0, 2, 1].into()),
        Value::Ipv4Address([192, 0, 2, 2].into()),
    ];
    e.record(400, &addresses, t(0), &mut out).unwrap();
    e.define(TemplateRepr::new(
        400,
        vec![FieldSpec::iana(10, 4), FieldSpec::iana(14, 4)],
    ))
    .unwrap();
    e.record(
        400,
        &[Value::Unsigned32(7), Value::Unsigned32(9)],
        t(0),
        &mut out,
    )
    .unwrap();
    e.flush(t(0), &mut out).unwrap();
    let mut got = Collect::default();
    let mut s = Session::default();
    for msg in &m {
        let summary = s.decode("192.0.2.9:4739".parse().unwrap(), t(0), msg, &mut got);
        assert_eq!(summary.errors, 0);
    }
    let keys: Vec<_> = got
        .flows
        .iter()
        .map(|f| (f.src_addr(), f.dst_addr(), f.in_if(), f.out_if()))
        .collect();
    assert_eq!(
        keys,
        [
            (
                Some("192.0.2.1".parse().unwrap()),
                Some("192.0.2.2".parse().unwrap()),
                None,
                None
            ),
            (None, None, Some(7), Some(9)),
        ]
    );
}
