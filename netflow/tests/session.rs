//! Session behaviour on hand-built v9 datagrams: pending data, rejected templates, options
//! data (sampling, interface names), sequence tracking, exporter key policy, concatenated
//! messages, NSEL counters, the uptime wrap; and per-sampler rates on a real capture.

mod common;

use std::net::SocketAddr;

use flowwire_netflow::record::registry::FieldId;
use flowwire_netflow::record::{Collect, Decoder, KeyPolicy};
use flowwire_netflow::record::{FlowRecord, Timestamp};
use flowwire_netflow::session::{Session, SessionConfig};
use flowwire_netflow::{Error, TemplateProblem};

const NOW: u32 = 1_700_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_secs(NOW.into())
}

/// A v9 message with the given FlowSets (`(set id, body)`), uptime 10 s, source id 7.
fn message(seq: u32, uptime: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0, 9, 0, 0];
    v.extend_from_slice(&uptime.to_be_bytes());
    v.extend_from_slice(&NOW.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&7u32.to_be_bytes());
    for (id, body) in sets {
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        v.extend_from_slice(body);
    }
    v
}

fn template(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for (t, l) in fields {
        v.extend_from_slice(&t.to_be_bytes());
        v.extend_from_slice(&l.to_be_bytes());
    }
    v
}

fn options_template(id: u16, scope: &[(u16, u16)], fields: &[(u16, u16)]) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&((scope.len() * 4) as u16).to_be_bytes());
    v.extend_from_slice(&((fields.len() * 4) as u16).to_be_bytes());
    for (t, l) in scope.iter().chain(fields) {
        v.extend_from_slice(&t.to_be_bytes());
        v.extend_from_slice(&l.to_be_bytes());
    }
    v.extend_from_slice(&[0, 0]); // padding
    v
}

const FLOW: [(u16, u16); 4] = [(8, 4), (12, 4), (1, 4), (2, 4)];

fn flow(src: u8, octets: u32, packets: u32) -> Vec<u8> {
    let mut v = vec![10, 0, 0, src, 192, 0, 2, 1];
    v.extend_from_slice(&octets.to_be_bytes());
    v.extend_from_slice(&packets.to_be_bytes());
    v
}

fn exporter() -> SocketAddr {
    "192.0.2.10:40000".parse().unwrap()
}

fn decode(s: &mut Session, from: SocketAddr, d: &[u8]) -> (Vec<FlowRecord>, Vec<Error>) {
    let mut got = Collect::<Error>::default();
    s.decode(from, now(), d, &mut got);
    (got.flows, got.errors)
}

#[test]
fn data_before_template_is_replayed() {
    let mut s = Session::default();
    let (recs, errs) = decode(
        &mut s,
        exporter(),
        &message(1, 10_000, &[(256, flow(1, 100, 1))]),
    );
    assert!(recs.is_empty() && errs.is_empty());
    assert_eq!(s.stats().data_sets_without_template, 1);
    let (recs, errs) = decode(
        &mut s,
        exporter(),
        &message(2, 10_000, &[(0, template(256, &FLOW))]),
    );
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].octets(), Some(100));
    assert_eq!(s.pending_stats().unwrap().replayed, 1);
}

#[test]
fn without_pending_a_missing_template_is_an_error_with_its_offset() {
    let mut s = Session::new(SessionConfig {
        pending: None,
        ..SessionConfig::default()
    });
    let (_, errs) = decode(
        &mut s,
        exporter(),
        &message(1, 0, &[(256, flow(1, 100, 1))]),
    );
    assert_eq!(
        errs,
        vec![Error::MissingTemplate {
            offset: 20,
            template_id: 256
        }]
    );
}

#[test]
fn bad_templates_are_rejected_and_counted_and_the_rest_decodes() {
    let mut s = Session::default();
    let mut tpls = template(257, &[(8, 0), (12, 0)]); // zero-length records
    tpls.extend(template(256, &FLOW));
    let d = message(
        1,
        0,
        &[
            (0, tpls),
            (3, vec![0; 4]),
            (256, flow(2, 5, 1)),
            (256, vec![1, 2]),
        ],
    );
    let (recs, errs) = decode(&mut s, exporter(), &d);
    assert_eq!(recs.len(), 1);
    assert_eq!(
        errs,
        vec![
            Error::BadTemplate {
                offset: 24,
                template_id: 257,
                problem: TemplateProblem::ZeroLengthRecord,
            },
            Error::ReservedSetId {
                offset: 56,
                set_id: 3
            },
        ]
    );
    assert_eq!(s.store_stats().rejected_invalid, 1);
    assert_eq!(s.store_stats().learned, 1);
}

#[test]
fn options_data_sets_sampling_and_interface_names() {
    let mut s = Session::default();
    let otpl = options_template(300, &[(2, 4)], &[(34, 4), (35, 1), (82, 8)]);
    let mut odata = vec![0, 0, 0, 5, 0, 0, 0x03, 0xe8, 2];
    odata.extend_from_slice(b"eth0\0\0\0\0");
    odata.extend_from_slice(&[0, 0, 0]); // padding
    let d = message(
        1,
        0,
        &[
            (1, otpl),
            (0, template(256, &FLOW)),
            (300, odata),
            (256, flow(3, 10, 1)),
        ],
    );
    let (recs, errs) = decode(&mut s, exporter(), &d);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(recs[0].sampling_interval(), Some(1000));
    assert_eq!(recs[0].sampling_algorithm(), Some(2));
    assert_eq!(recs[0].scaled_octets(), Some(10_000));
    let st = s.domain_state(exporter(), 7).unwrap();
    let eth0 = st.options.interface(5).and_then(|i| i.name.as_deref());
    assert_eq!(eth0, Some("eth0"));
    assert_eq!(s.stats().options_records, 1);
}

#[test]
fn sequence_loss_and_reorder() {
    let mut s = Session::default();
    for seq in [1, 2, 5, 4, 6] {
        decode(
            &mut s,
            exporter(),
            &message(seq, 0, &[(0, template(256, &FLOW))]),
        );
    }
    let t = s.domain_state(exporter(), 7).unwrap().sequence;
    assert_eq!((t.lost, t.reordered), (1, 1));
    assert_eq!(s.stats().sequence_reordered, 1);
}

#[test]
fn exporter_key_policy() {
    let other_port: SocketAddr = "192.0.2.10:40001".parse().unwrap();
    for (policy, shared) in [
        (KeyPolicy::AddressAndPort, false),
        (KeyPolicy::AddressOnly, true),
    ] {
        let mut s = Session::new(SessionConfig {
            key_policy: policy,
            pending: None,
            ..SessionConfig::default()
        });
        decode(
            &mut s,
            exporter(),
            &message(1, 0, &[(0, template(256, &FLOW))]),
        );
        let (recs, _) = decode(&mut s, other_port, &message(2, 0, &[(256, flow(1, 1, 1))]));
        assert_eq!(recs.len() == 1, shared, "{policy:?}");
        // The record keeps the real exporter address either way.
        if shared {
            assert_eq!(recs[0].exporter(), Some(other_port));
        }
    }
}

#[test]
fn concatenated_messages_all_decode() {
    let mut s = Session::default();
    let mut d = message(1, 0, &[(0, template(256, &FLOW)), (256, flow(1, 1, 1))]);
    d.extend(message(2, 0, &[(256, flow(2, 2, 2))]));
    d.extend([0u8; 16]); // and a zero tail
    let mut recs = Vec::new();
    let report = s.decode(exporter(), now(), &d, &mut |r: &FlowRecord| {
        recs.push(r.clone())
    });
    assert_eq!((report.messages, report.flows), (2, 2));
    assert_eq!(report.errors, 0);
    assert_eq!(recs[1].sequence(), Some(2));
}

#[test]
fn errors_in_a_second_message_have_absolute_offsets() {
    let mut s = Session::default();
    let mut d = message(1, 0, &[(0, template(256, &FLOW))]);
    d.extend(message(2, 0, &[(256, flow(2, 2, 2))]));
    let third = d.len();
    d.extend([0, 9, 0, 0]); // a truncated third header
    let (_, errs) = decode(&mut s, exporter(), &d);
    assert_eq!(errs.len(), 1);
    assert!(
        matches!(errs[0], Error::Truncated { offset, .. } if offset == third),
        "{errs:?}"
    );
}

#[test]
fn nsel_counters_and_events() {
    let mut s = Session::default();
    let fields = [
        (8, 4),
        (231, 4),
        (232, 4),
        (298, 4),
        (299, 4),
        (233, 1),
        (40005, 1),
    ];
    let mut rec = vec![10, 0, 0, 1];
    for v in [100u32, 50, 3, 2] {
        rec.extend_from_slice(&v.to_be_bytes());
    }
    rec.extend([2, 5, 0, 0]);
    let d = message(1, 0, &[(0, template(260, &fields)), (260, rec)]);
    let (recs, errs) = decode(&mut s, exporter(), &d);
    assert!(errs.is_empty(), "{errs:?}");
    let r = &recs[0];
    assert_eq!((r.octets(), r.packets()), (Some(150), Some(5)));
    assert!(r.extra_field(FieldId::iana(233)).is_some());
    assert_eq!(
        r.extra_field(FieldId::iana(40005))
            .map(|v| v.as_value().as_u64()),
        Some(Some(5))
    );
}

#[test]
fn uptime_wrap_keeps_start_before_end() {
    let mut s = Session::default();
    let fields = [(8, 4), (22, 4), (21, 4)];
    let mut rec = vec![10, 0, 0, 1];
    rec.extend_from_slice(&(u32::MAX - 499).to_be_bytes());
    rec.extend_from_slice(&900u32.to_be_bytes());
    let d = message(1, 1_000, &[(0, template(256, &fields)), (256, rec)]);
    let (recs, _) = decode(&mut s, exporter(), &d);
    let r = &recs[0];
    assert_eq!(r.start(), Some(now().add_millis(-1_500)));
    assert_eq!(r.end(), Some(now().add_millis(-100)));
}

#[test]
fn truncation_of_a_whole_datagram_at_every_length() {
    let mut d = message(1, 0, &[(0, template(256, &FLOW))]);
    d.extend(message(2, 0, &[(256, flow(1, 1, 1)), (256, flow(2, 2, 2))]));
    for n in 0..d.len() {
        let mut s = Session::default();
        let r = s.decode(exporter(), now(), &d[..n], &mut |_: &FlowRecord| {});
        assert!(r.flows <= 2);
    }
}

#[test]
fn per_sampler_rates_from_a_real_capture() {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIP: shared corpus not found");
        return;
    };
    let dir = corpus.join("netflow9");
    let mut s = Session::default();
    let mut rates = Vec::new();
    for f in [
        "akvorado__multiplesamplingrates-options-template.pcap",
        "akvorado__multiplesamplingrates-options-data.pcap",
        "akvorado__multiplesamplingrates-template.pcap",
        "akvorado__multiplesamplingrates-data.pcap",
    ] {
        for d in common::read_pcap(&dir.join(f)) {
            let r = s.decode(d.src, d.time, &d.payload, &mut |r: &FlowRecord| {
                let sampler = r
                    .extra_field(FieldId::iana(48))
                    .and_then(|v| v.as_value().as_u64());
                rates.push((sampler, r.sampling_interval()));
            });
            assert_eq!(r.errors, 0);
        }
    }
    assert_eq!(rates.len(), 12);
    for (sampler, rate) in rates {
        match sampler {
            Some(1) => assert_eq!(rate, Some(2000)),
            Some(2) => assert_eq!(rate, Some(4000)),
            other => panic!("unexpected sampler {other:?}"),
        }
    }
}

#[test]
fn count_is_advisory_but_counted() {
    let mut s = Session::default();
    let mut d = message(1, 0, &[(0, template(256, &FLOW)), (256, flow(1, 1, 1))]);
    d[3] = 2; // template + data record: right
    let (recs, errs) = decode(&mut s, exporter(), &d);
    assert_eq!((recs.len(), errs.len()), (1, 0));
    assert_eq!(s.stats().count_mismatches, 0);
    d[3] = 9; // wrong: still decoded, and counted
    let (recs, errs) = decode(&mut s, exporter(), &d);
    assert_eq!((recs.len(), errs.len()), (1, 0));
    assert_eq!(s.stats().count_mismatches, 1);
}
