//! Session behaviour: template state, withdrawals, lifetimes, limits, pending data, sequence
//! tracking, options data (sampling, system init time, interface names, RFC 5610 type
//! information), key policy, structured data.

use std::net::SocketAddr;
use std::time::Duration;

use flowwire_ipfix::record::codec::{TemplateAction, TemplateEvent};
use flowwire_ipfix::record::registry::ie;
use flowwire_ipfix::record::{FieldId, OwnedValue, ProtocolKind, Timestamp, Value};
use flowwire_ipfix::repr::{
    BasicListRepr, DataRecordRepr, FieldValue, MessageRepr, SetContent, SetRepr,
    SubTemplateListRepr, TemplateRepr,
};
use flowwire_ipfix::wire::data::DataRecord;
use flowwire_ipfix::wire::template::FieldSpec;
use flowwire_ipfix::{
    Collect, Decoder, Error, KeyPolicy, RecordContext, Session, SessionConfig, TemplateProblem,
};

const T0: u32 = 1_700_000_000;

fn now(offset: u32) -> Timestamp {
    Timestamp::from_unix_secs(i64::from(T0 + offset))
}

fn exporter() -> SocketAddr {
    "192.0.2.1:50000".parse().unwrap()
}

fn msg(seq: u32, sets: Vec<SetRepr>) -> Vec<u8> {
    MessageRepr {
        export_time: T0,
        sequence_number: seq,
        observation_domain_id: 1,
        sets,
    }
    .to_bytes()
    .unwrap()
}

fn templates(t: Vec<TemplateRepr>) -> SetRepr {
    SetRepr::new(SetContent::Templates(t))
}

fn options(t: Vec<TemplateRepr>) -> SetRepr {
    SetRepr::new(SetContent::OptionsTemplates(t))
}

fn fv(spec: FieldSpec, value: OwnedValue) -> FieldValue {
    FieldValue::new(spec, value)
}

fn data(id: u16, records: Vec<Vec<FieldValue>>) -> SetRepr {
    SetRepr::new(SetContent::Data {
        template_id: id,
        records: records
            .into_iter()
            .map(|fields| DataRecordRepr { fields })
            .collect(),
    })
}

/// Template 256: sourceIPv4Address, octetDeltaCount (4 octets, reduced size).
fn t256() -> TemplateRepr {
    TemplateRepr::new(256, vec![FieldSpec::iana(8, 4), FieldSpec::iana(1, 4)])
}

fn r256(last: u8, octets: u64) -> Vec<FieldValue> {
    vec![
        fv(
            FieldSpec::iana(8, 4),
            OwnedValue::Ipv4Address([10, 0, 0, last].into()),
        ),
        fv(FieldSpec::iana(1, 4), OwnedValue::Unsigned64(octets)),
    ]
}

/// Everything the session hands out for one datagram; the summary must agree with it.
fn decode(s: &mut Session, bytes: &[u8], at: u32) -> Collect {
    let mut g = Collect::default();
    let summary = s.decode(exporter(), now(at), bytes, &mut g);
    assert_eq!(summary.flows, g.flows.len());
    assert_eq!(summary.options, g.options.len());
    assert_eq!(summary.errors, g.errors.len());
    g
}

fn event(template_id: u16, options: bool, action: TemplateAction) -> TemplateEvent {
    TemplateEvent {
        protocol: ProtocolKind::Ipfix,
        exporter: exporter(),
        domain: 1,
        template_id,
        options,
        action,
    }
}

#[test]
fn template_then_data_and_flow_record_context() {
    let mut s = Session::new(SessionConfig::default());
    let g = decode(
        &mut s,
        &msg(
            7,
            vec![
                templates(vec![t256()]),
                data(256, vec![r256(1, 1500), r256(2, 40)]),
            ],
        ),
        0,
    );
    assert_eq!(g.flows.len(), 2);
    let f = &g.flows[0];
    assert_eq!(f.src_addr(), Some("10.0.0.1".parse().unwrap()));
    assert_eq!(f.octets(), Some(1500));
    assert_eq!(f.exporter(), Some(exporter()));
    assert_eq!((f.domain(), f.sequence()), (Some(1), Some(7)));
    assert_eq!(f.export_time(), Some(now(0)));
    assert_eq!(f.kind(), Some(ProtocolKind::Ipfix));
    assert_eq!(
        g.templates,
        vec![event(256, false, TemplateAction::Learned)]
    );
    assert_eq!(s.store_stats().learned, 1);
    assert_eq!(s.stats().data_records, 2);
    assert!(s.remove_exporter(exporter()));
    assert!(s.template(exporter(), 1, 256).is_none());
    assert!(!s.remove_exporter(exporter()));
}

#[test]
fn withdrawals_single_and_all() {
    let mut s = Session::new(SessionConfig::default());
    let opt = TemplateRepr::options(
        300,
        1,
        vec![FieldSpec::iana(10, 4), FieldSpec::iana(82, 65535)],
    );
    let t257 = TemplateRepr::new(257, vec![FieldSpec::iana(12, 4)]);
    decode(
        &mut s,
        &msg(0, vec![templates(vec![t256(), t257]), options(vec![opt])]),
        0,
    );
    assert_eq!(s.store().template_count(), 3);
    // Withdraw 256 alone.
    let g = decode(
        &mut s,
        &msg(0, vec![templates(vec![TemplateRepr::withdrawal(256)])]),
        1,
    );
    assert_eq!(
        g.templates,
        vec![event(256, false, TemplateAction::Withdrawn)]
    );
    // Kept for a template 256 that may come again.
    let g = decode(&mut s, &msg(0, vec![data(256, vec![r256(1, 1)])]), 1);
    assert!(g.flows.is_empty() && g.errors.is_empty());
    assert_eq!(s.stats().sets_without_template, 1);
    assert_eq!(s.pending_stats().unwrap().buffered, 1);
    // All data templates: the options template stays.
    let summary = s.decode(
        exporter(),
        now(2),
        &msg(0, vec![templates(vec![TemplateRepr::withdrawal(2)])]),
        &mut Collect::default(),
    );
    assert_eq!(summary.withdrawn, 1);
    assert_eq!(s.store().template_count(), 1);
    assert!(s.template(exporter(), 1, 300).is_some());
    // All options templates.
    decode(
        &mut s,
        &msg(0, vec![options(vec![TemplateRepr::withdrawal(3)])]),
        3,
    );
    assert_eq!(s.store().template_count(), 0);
    assert_eq!(s.store_stats().withdrawn, 3);
    // Id 3 in a template set is not a valid withdrawal.
    let g = decode(
        &mut s,
        &msg(0, vec![templates(vec![TemplateRepr::withdrawal(3)])]),
        4,
    );
    assert!(matches!(
        g.errors[..],
        [Error::BadTemplate {
            problem: TemplateProblem::WithdrawalMismatch,
            ..
        }]
    ));
    assert_eq!(g.templates, vec![event(3, false, TemplateAction::Invalid)]);
}

#[test]
fn template_lifetime() {
    let mut config = SessionConfig::default();
    config.limits.template_lifetime = Some(Duration::from_secs(60));
    let mut s = Session::new(config);
    decode(&mut s, &msg(0, vec![templates(vec![t256()])]), 0);
    assert_eq!(
        decode(&mut s, &msg(0, vec![data(256, vec![r256(1, 1)])]), 60)
            .flows
            .len(),
        1
    );
    assert_eq!(
        decode(&mut s, &msg(0, vec![data(256, vec![r256(1, 1)])]), 61)
            .flows
            .len(),
        0
    );
    assert_eq!(s.store_stats().expired, 1);
    // A refresh restarts the lifetime.
    decode(&mut s, &msg(0, vec![templates(vec![t256()])]), 100);
    decode(&mut s, &msg(0, vec![templates(vec![t256()])]), 150);
    assert_eq!(
        decode(&mut s, &msg(0, vec![data(256, vec![r256(1, 1)])]), 200)
            .flows
            .len(),
        1
    );
    assert_eq!(s.store_stats().refreshed, 1);
}

#[test]
fn bad_templates_are_rejected_and_the_rest_decodes() {
    let config = SessionConfig {
        max_fields_per_template: 3,
        ..SessionConfig::default()
    };
    let mut s = Session::new(config);
    let zero = TemplateRepr::new(258, vec![FieldSpec::iana(8, 0), FieldSpec::iana(12, 0)]);
    let many = TemplateRepr::new(259, vec![FieldSpec::iana(8, 4); 4]);
    let scope0 = TemplateRepr::options(260, 0, vec![FieldSpec::iana(10, 4)]);
    let g = decode(
        &mut s,
        &msg(
            0,
            vec![
                templates(vec![zero, many]),
                options(vec![scope0]),
                templates(vec![t256()]),
                data(256, vec![r256(1, 1)]),
            ],
        ),
        0,
    );
    let problems: Vec<_> = g
        .errors
        .iter()
        .map(|e| match e {
            Error::BadTemplate { problem, .. } => *problem,
            e => panic!("{e}"),
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            TemplateProblem::ZeroLengthRecord,
            TemplateProblem::TooManyFields { max: 3 },
            TemplateProblem::BadScopeCount
        ]
    );
    assert_eq!(g.flows.len(), 1);
    assert_eq!(
        g.templates
            .iter()
            .map(|e| (e.template_id, e.action))
            .collect::<Vec<_>>(),
        [
            (258, TemplateAction::Invalid),
            (259, TemplateAction::Invalid),
            (260, TemplateAction::Invalid),
            (256, TemplateAction::Learned)
        ]
    );
    assert_eq!(s.stats().templates_rejected, 3);
    assert_eq!(s.store_stats().rejected_invalid, 3);
}

#[test]
fn data_before_template_dropped_or_buffered() {
    let early = msg(0, vec![data(256, vec![r256(1, 1), r256(2, 2)])]);
    let tpl = msg(2, vec![templates(vec![t256()])]);

    let mut s = Session::new(SessionConfig {
        pending: None,
        ..SessionConfig::default()
    });
    let mut g = Collect::default();
    let summary = s.decode(exporter(), now(0), &early, &mut g);
    assert!(g.flows.is_empty());
    assert_eq!((summary.missing_templates, summary.errors), (1, 1));
    assert_eq!(
        g.errors,
        [Error::MissingTemplate {
            offset: 16,
            template_id: 256
        }]
    );
    assert!(decode(&mut s, &tpl, 1).flows.is_empty());
    assert_eq!(s.stats().sets_without_template, 1);

    // Kept by default.
    let mut s = Session::default();
    let mut g = Collect::default();
    let summary = s.decode(exporter(), now(0), &early, &mut g);
    assert!(g.flows.is_empty() && g.errors.is_empty());
    assert_eq!((summary.missing_templates, summary.errors), (1, 0));
    let g = decode(&mut s, &tpl, 1);
    assert_eq!(g.flows.len(), 2, "replayed when the template came");
    assert_eq!(g.flows[1].src_addr(), Some("10.0.0.2".parse().unwrap()));
    assert_eq!(
        g.flows[0].sequence(),
        Some(0),
        "with the original message's header"
    );
    assert_eq!(s.pending_stats().unwrap().replayed, 1);
}

#[test]
fn sequence_gaps_are_counted() {
    let mut s = Session::new(SessionConfig::default());
    decode(
        &mut s,
        &msg(
            0,
            vec![
                templates(vec![t256()]),
                data(256, vec![r256(1, 1), r256(2, 2)]),
            ],
        ),
        0,
    );
    decode(&mut s, &msg(2, vec![data(256, vec![r256(1, 1)])]), 0);
    decode(&mut s, &msg(10, vec![data(256, vec![r256(1, 1)])]), 0);
    let st = s.domain_state(exporter(), 1).unwrap();
    assert_eq!(st.sequence.lost, 7);
    assert_eq!(s.stats().sequence_gaps, 1);
    // A message with an unknown data set: its record count is unknown, so the next message
    // is not taken as a gap.
    decode(&mut s, &msg(11, vec![data(999, vec![r256(1, 1)])]), 0);
    decode(&mut s, &msg(15, vec![data(256, vec![r256(1, 1)])]), 0);
    decode(&mut s, &msg(16, vec![data(256, vec![r256(1, 1)])]), 0);
    assert_eq!(s.stats().sequence_gaps, 1);
    assert_eq!(s.domain_state(exporter(), 1).unwrap().sequence.received, 6);
}

#[test]
fn stream_split_anywhere_decodes_the_same() {
    use flowwire_ipfix::StreamBuffer;
    let mut stream = msg(
        0,
        vec![templates(vec![t256()]), data(256, vec![r256(1, 1)])],
    );
    for i in 1..5u8 {
        stream.extend(msg(
            u32::from(i),
            vec![data(256, vec![r256(i, 2), r256(i, 3)])],
        ));
    }
    for chunk in [1, 2, 3, 7, 16, 50, 1000] {
        let mut s = Session::new(SessionConfig::default());
        let mut buf = StreamBuffer::new();
        let mut got = Collect::default();
        for c in stream.chunks(chunk) {
            assert_eq!(buf.extend(c), c.len());
            while let Some(m) = buf.next_message() {
                s.decode(exporter(), now(0), m.unwrap(), &mut got);
            }
        }
        assert_eq!(got.flows.len(), 9, "chunk {chunk}");
        assert!(got.errors.is_empty());
    }
    // And as one file: messages back to back in one buffer.
    let mut s = Session::new(SessionConfig::default());
    assert_eq!(decode(&mut s, &stream, 0).flows.len(), 9);
}

#[test]
fn options_data_sampling_init_time_and_interfaces() {
    let mut s = Session::new(SessionConfig::default());
    // Exporter-wide: samplingInterval 100, systemInitTimeMilliseconds.
    let o1 = TemplateRepr::options(
        400,
        1,
        vec![
            FieldSpec::iana(144, 4),
            FieldSpec::iana(34, 4),
            FieldSpec::iana(160, 8),
        ],
    );
    // Per selector: selectorId 302 scope, samplingPacketInterval 1 / space 9 → 1 in 10.
    let o2 = TemplateRepr::options(
        401,
        1,
        vec![
            FieldSpec::iana(302, 8),
            FieldSpec::iana(305, 4),
            FieldSpec::iana(306, 4),
        ],
    );
    // Interface names.
    let o3 = TemplateRepr::options(
        402,
        1,
        vec![
            FieldSpec::iana(10, 4),
            FieldSpec::iana(82, 65535),
            FieldSpec::iana(83, 65535),
        ],
    );
    // Flows with relative times (22/21) and, for one template, a selector id.
    let t = TemplateRepr::new(
        256,
        vec![
            FieldSpec::iana(8, 4),
            FieldSpec::iana(22, 4),
            FieldSpec::iana(21, 4),
        ],
    );
    let ts = TemplateRepr::new(257, vec![FieldSpec::iana(8, 4), FieldSpec::iana(302, 8)]);
    let init = 1_699_999_000_000u64;
    let g = decode(
        &mut s,
        &msg(
            0,
            vec![
                options(vec![o1, o2, o3]),
                templates(vec![t, ts]),
                data(
                    400,
                    vec![vec![
                        fv(FieldSpec::iana(144, 4), OwnedValue::Unsigned32(1)),
                        fv(FieldSpec::iana(34, 4), OwnedValue::Unsigned32(100)),
                        fv(
                            FieldSpec::iana(160, 8),
                            OwnedValue::DateTimeMilliseconds(init),
                        ),
                    ]],
                ),
                data(
                    401,
                    vec![vec![
                        fv(FieldSpec::iana(302, 8), OwnedValue::Unsigned64(7)),
                        fv(FieldSpec::iana(305, 4), OwnedValue::Unsigned32(1)),
                        fv(FieldSpec::iana(306, 4), OwnedValue::Unsigned32(9)),
                    ]],
                ),
                data(
                    402,
                    vec![vec![
                        fv(FieldSpec::iana(10, 4), OwnedValue::Unsigned32(3)),
                        fv(
                            FieldSpec::iana(82, 65535),
                            OwnedValue::String(b"eth0".to_vec()),
                        ),
                        fv(FieldSpec::iana(83, 65535), OwnedValue::String(Vec::new())),
                    ]],
                ),
                data(
                    256,
                    vec![vec![
                        fv(
                            FieldSpec::iana(8, 4),
                            OwnedValue::Ipv4Address([10, 0, 0, 1].into()),
                        ),
                        fv(FieldSpec::iana(22, 4), OwnedValue::Unsigned32(1_000)),
                        fv(FieldSpec::iana(21, 4), OwnedValue::Unsigned32(2_500)),
                    ]],
                ),
                data(
                    257,
                    vec![vec![
                        fv(
                            FieldSpec::iana(8, 4),
                            OwnedValue::Ipv4Address([10, 0, 0, 2].into()),
                        ),
                        fv(FieldSpec::iana(302, 8), OwnedValue::Unsigned64(7)),
                    ]],
                ),
            ],
        ),
        0,
    );
    assert!(g.errors.is_empty(), "{:?}", g.errors);
    assert_eq!(s.stats().options_records, 3);
    // Options records are handed over as such, never as flows.
    assert_eq!((g.options.len(), g.flows.len()), (3, 2));
    let o = &g.options[0];
    assert_eq!(
        (o.kind, o.exporter, o.domain, o.template_id),
        (Some(ProtocolKind::Ipfix), Some(exporter()), Some(1), 400)
    );
    let ids =
        |f: &[flowwire_ipfix::record::ExtraField]| f.iter().map(|e| e.field.id).collect::<Vec<_>>();
    assert_eq!(ids(&o.scope), [ie::EXPORTING_PROCESS_ID]);
    assert_eq!(
        ids(&o.fields),
        [ie::SAMPLING_INTERVAL, ie::SYSTEM_INIT_TIME_MILLISECONDS]
    );
    assert_eq!(o.fields[0].value, OwnedValue::Unsigned32(100));
    assert_eq!(o.scope[0].name.as_deref(), Some("exportingProcessId"));
    let flow = &g.flows[0];
    assert_eq!(
        flow.sampling_interval(),
        Some(10),
        "last announced applies domain-wide"
    );
    assert_eq!(
        flow.start(),
        Some(Timestamp::from_unix_millis_u64(init + 1_000))
    );
    assert_eq!(
        flow.end(),
        Some(Timestamp::from_unix_millis_u64(init + 2_500))
    );
    assert_eq!(g.flows[1].sampling_interval(), Some(10), "selector 7");
    let st = s.domain_state(exporter(), 1).unwrap();
    assert_eq!(st.options.sampler(7).map(|x| x.interval), Some(10));
    let eth = st.options.interface(3).unwrap();
    assert_eq!(
        (eth.name.as_deref(), eth.description.as_deref()),
        (Some("eth0"), Some(""))
    );
    assert_eq!(
        st.options.system_init_time,
        Some(Timestamp::from_unix_millis_u64(init))
    );
}

#[test]
fn rfc5610_type_information_is_learned() {
    let mut s = Session::new(SessionConfig::default());
    let info = TemplateRepr::options(
        500,
        2,
        vec![
            FieldSpec::iana(303, 2),
            FieldSpec::iana(346, 4),
            FieldSpec::iana(339, 1),
            FieldSpec::iana(344, 1),
            FieldSpec::iana(341, 65535),
        ],
    );
    decode(
        &mut s,
        &msg(
            0,
            vec![
                options(vec![info]),
                data(
                    500,
                    vec![vec![
                        fv(FieldSpec::iana(303, 2), OwnedValue::Unsigned16(77)),
                        fv(FieldSpec::iana(346, 4), OwnedValue::Unsigned32(99999)),
                        fv(FieldSpec::iana(339, 1), OwnedValue::Unsigned8(18)),
                        fv(FieldSpec::iana(344, 1), OwnedValue::Unsigned8(4)),
                        fv(
                            FieldSpec::iana(341, 65535),
                            OwnedValue::String(b"peerAddress".to_vec()),
                        ),
                    ]],
                ),
            ],
        ),
        0,
    );
    let e = s.registry().get(FieldId::enterprise(99999, 77)).unwrap();
    assert_eq!(e.name, "peerAddress");
    assert_eq!(e.data_type, flowwire_ipfix::record::DataType::Ipv4Address);
    assert_eq!(s.stats().elements_learned, 1);
    // A template learned afterwards decodes the element with its type.
    let t = TemplateRepr::new(256, vec![FieldSpec::enterprise(99999, 77, 4)]);
    let g = decode(
        &mut s,
        &msg(
            1,
            vec![
                templates(vec![t]),
                data(
                    256,
                    vec![vec![fv(
                        FieldSpec::enterprise(99999, 77, 4),
                        OwnedValue::Ipv4Address([192, 0, 2, 7].into()),
                    )]],
                ),
            ],
        ),
        0,
    );
    assert_eq!(
        g.flows[0].extra_field(FieldId::enterprise(99999, 77)),
        Some(&OwnedValue::Ipv4Address([192, 0, 2, 7].into()))
    );
}

#[test]
fn rfc5610_type_information_after_the_template_retypes_it() {
    let mut s = Session::new(SessionConfig::default());
    let field = FieldSpec::enterprise(99999, 78, 2);
    let t = TemplateRepr::new(256, vec![field]);
    let record = data(
        256,
        vec![vec![fv(field, OwnedValue::OctetArray(vec![1, 2]))]],
    );
    let g = decode(&mut s, &msg(0, vec![templates(vec![t]), record.clone()]), 0);
    assert_eq!(
        g.flows[0].extra_field(FieldId::enterprise(99999, 78)),
        Some(&OwnedValue::OctetArray(vec![1, 2])),
        "unknown element: octets"
    );
    let info = TemplateRepr::options(
        500,
        2,
        vec![
            FieldSpec::iana(303, 2),
            FieldSpec::iana(346, 4),
            FieldSpec::iana(339, 1),
            FieldSpec::iana(341, 65535),
        ],
    );
    let describe = |name: &[u8]| {
        data(
            500,
            vec![vec![
                fv(FieldSpec::iana(303, 2), OwnedValue::Unsigned16(78)),
                fv(FieldSpec::iana(346, 4), OwnedValue::Unsigned32(99999)),
                fv(FieldSpec::iana(339, 1), OwnedValue::Unsigned8(2)),
                fv(
                    FieldSpec::iana(341, 65535),
                    OwnedValue::String(name.to_vec()),
                ),
            ]],
        )
    };
    decode(
        &mut s,
        &msg(1, vec![options(vec![info]), describe(b"vrfId")]),
        1,
    );
    assert_eq!(s.stats().templates_retyped, 1);
    let g = decode(&mut s, &msg(2, vec![record.clone()]), 2);
    assert_eq!(
        g.flows[0].extra_field(FieldId::enterprise(99999, 78)),
        Some(&OwnedValue::Unsigned16(0x0102)),
        "typed as announced"
    );
    // The same description again changes nothing.
    decode(&mut s, &msg(3, vec![describe(b"vrfId")]), 3);
    assert_eq!(s.stats().templates_retyped, 1);
    assert_eq!(s.stats().elements_learned, 1);
}

#[test]
fn bad_sets_are_reported_with_offsets_and_skipped() {
    let mut s = Session::new(SessionConfig::default());
    let mut bytes = msg(
        0,
        vec![
            templates(vec![t256()]),
            SetRepr::new(SetContent::Raw {
                set_id: 1,
                body: vec![0; 4],
            }),
            data(256, vec![r256(1, 1)]),
        ],
    );
    let g = decode(&mut s, &bytes, 0);
    assert_eq!(g.flows.len(), 1, "the reserved set is skipped");
    assert_eq!(g.errors[0].offset(), Some(32));
    assert_eq!(
        g.errors,
        vec![Error::ReservedSetId {
            offset: 32,
            set_id: 1
        }]
    );
    // A data set whose length runs past the message: the sets before it still decode.
    let n = bytes.len();
    bytes[n - 10] = 0xff;
    let g = decode(&mut s, &bytes, 0);
    assert!(g.flows.is_empty());
    assert!(matches!(
        g.errors.last(),
        Some(Error::BadSetLength {
            offset: 40,
            length: 0xff0c,
            ..
        })
    ));
    // A bad first header is reported like any other error.
    let g = decode(&mut s, &bytes[..10], 0);
    assert!(matches!(g.errors[..], [Error::Truncated { offset: 0, .. }]));
    let g = decode(&mut s, &[], 0);
    assert!(matches!(g.errors[..], [Error::Truncated { offset: 0, .. }]));
}

#[test]
fn truncation_at_every_length_never_panics() {
    let bytes = msg(
        0,
        vec![
            templates(vec![t256()]),
            data(256, vec![r256(1, 1), r256(2, 2)]),
        ],
    );
    for len in 0..bytes.len() {
        let mut b = bytes[..len].to_vec();
        if len >= 4 {
            // Keep the header's length consistent so that the sets are what is cut.
            b[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        }
        let mut s = Session::new(SessionConfig::default());
        let g = decode(&mut s, &b, 0);
        // Cuts at a set boundary (16: header only, 32: after the template set) are whole
        // messages; every other cut is an error, never a panic.
        let whole = [16, 32].contains(&len);
        assert!(!g.errors.is_empty() || whole, "len {len}");
    }
}

#[test]
fn key_policy_and_concatenated_messages() {
    let other_port: SocketAddr = "192.0.2.1:50001".parse().unwrap();
    let tpl = msg(0, vec![templates(vec![t256()])]);
    let dat = msg(0, vec![data(256, vec![r256(1, 1)])]);
    for (policy, want) in [(KeyPolicy::AddressAndPort, 0), (KeyPolicy::AddressOnly, 1)] {
        let mut s = Session::new(SessionConfig {
            key_policy: policy,
            ..SessionConfig::default()
        });
        let mut g = Collect::default();
        s.decode(exporter(), now(0), &tpl, &mut g);
        s.decode(other_port, now(0), &dat, &mut g);
        assert_eq!(g.flows.len(), want, "{policy:?}");
    }
    let mut both = tpl.clone();
    both.extend_from_slice(&dat);
    both.extend_from_slice(&dat);
    let mut s = Session::new(SessionConfig::default());
    assert_eq!(decode(&mut s, &both, 0).flows.len(), 2);
    let mut trailing = both.clone();
    trailing.extend_from_slice(&[0, 0]);
    let g = decode(&mut Session::new(SessionConfig::default()), &trailing, 0);
    assert_eq!(g.flows.len(), 2);
    assert!(
        matches!(g.errors[..], [Error::Truncated { .. }]),
        "trailing bytes reported"
    );
}

#[test]
fn structured_data_lists() {
    // Template 300 (nested): sourceIPv4Address. Template 256: a basicList of ports and a
    // subTemplateList of 300.
    let inner = TemplateRepr::new(300, vec![FieldSpec::iana(8, 4)]);
    let outer = TemplateRepr::new(
        256,
        vec![FieldSpec::iana(291, 65535), FieldSpec::iana(292, 65535)],
    );
    let ports = BasicListRepr {
        semantic: 3,
        field: FieldSpec::iana(7, 2),
        elements: vec![OwnedValue::Unsigned16(80), OwnedValue::Unsigned16(443)],
    };
    let nested = SubTemplateListRepr {
        semantic: 4,
        template_id: 300,
        records: (1..=3)
            .map(|i| DataRecordRepr {
                fields: vec![fv(
                    FieldSpec::iana(8, 4),
                    OwnedValue::Ipv4Address([10, 0, 0, i].into()),
                )],
            })
            .collect(),
    };
    let bytes = msg(
        0,
        vec![
            templates(vec![inner, outer]),
            data(
                256,
                vec![vec![
                    fv(FieldSpec::iana(291, 65535), ports.to_value().unwrap()),
                    fv(FieldSpec::iana(292, 65535), nested.to_value().unwrap()),
                ]],
            ),
        ],
    );
    let mut s = Session::new(SessionConfig::default());
    let mut seen = Vec::new();
    let mut visit = |ctx: &RecordContext<'_>, rec: &DataRecord<'_, '_>| {
        if rec.template().id() != 256 {
            return;
        }
        let mut f = rec.raw_fields();
        let bl = f.next().unwrap().basic_list().unwrap();
        for v in bl.elements(ctx.registry) {
            seen.push(v.unwrap().as_u64().unwrap().to_string());
        }
        let stl = f.next().unwrap().sub_template_list().unwrap();
        let t = ctx.template(stl.template_id()).unwrap();
        for r in stl.records(t) {
            let r = r.unwrap();
            assert_eq!(r.depth(), 1);
            if let Some(Value::Ipv4Address(a)) = r.get(FieldId::iana(8)) {
                seen.push(a.to_string());
            }
        }
    };
    let summary = s.decode_records(exporter(), now(0), &bytes, &mut visit);
    assert_eq!((summary.flows, summary.errors), (1, 0));
    assert_eq!(seen, ["80", "443", "10.0.0.1", "10.0.0.2", "10.0.0.3"]);
}

#[test]
fn session_and_exporter_are_send() {
    fn send<T: Send + 'static>() {}
    send::<Session>();
    send::<flowwire_ipfix::Exporter>();
    send::<flowwire_ipfix::StreamBuffer>();
}

#[test]
fn options_limits_are_counted_and_template_limits_reported() {
    use flowwire_ipfix::record::options::OptionsLimits;
    let mut s = Session::new(SessionConfig {
        options: OptionsLimits {
            max_samplers: 1,
            max_interfaces: 1,
        },
        ..SessionConfig::default()
    });
    let o = TemplateRepr::options(
        400,
        1,
        vec![FieldSpec::iana(ie::SAMPLER_ID, 1), FieldSpec::iana(34, 4)],
    );
    let rec = |id: u8| {
        vec![
            fv(
                FieldSpec::iana(ie::SAMPLER_ID, 1),
                OwnedValue::Unsigned8(id),
            ),
            fv(
                FieldSpec::iana(34, 4),
                OwnedValue::Unsigned32(10 * u32::from(id)),
            ),
        ]
    };
    let g = decode(
        &mut s,
        &msg(0, vec![options(vec![o]), data(400, vec![rec(1), rec(2)])]),
        0,
    );
    assert_eq!(g.options.len(), 2);
    assert_eq!(s.stats().options_over_limit, 1);
    let st = s.domain_state(exporter(), 1).unwrap();
    assert_eq!(st.options.sampler(1).map(|x| x.interval), Some(10));
    assert!(st.options.sampler(2).is_none());
    // The domain-wide sampling is the last announced, remembered or not.
    assert_eq!(st.options.sampling.map(|x| x.interval), Some(20));

    // A template the store refuses by a limit is a Refused event, not counted as learned.
    let mut config = SessionConfig::default();
    config.limits.max_templates_per_domain = 1;
    let mut s = Session::new(config);
    let t257 = TemplateRepr::new(257, vec![FieldSpec::iana(12, 4)]);
    let mut g = Collect::default();
    let summary = s.decode(
        exporter(),
        now(0),
        &msg(0, vec![templates(vec![t256(), t257])]),
        &mut g,
    );
    assert_eq!(summary.templates, 1);
    assert_eq!(
        g.templates,
        [
            event(256, false, TemplateAction::Learned),
            event(257, false, TemplateAction::Refused)
        ]
    );
    // Refreshed counts as a template of the summary too.
    let summary = s.decode(
        exporter(),
        now(1),
        &msg(0, vec![templates(vec![t256()])]),
        &mut g,
    );
    assert_eq!(summary.templates, 1);
    assert_eq!(
        g.templates.last(),
        Some(&event(256, false, TemplateAction::Refreshed))
    );
}

#[test]
fn expire_through_the_decoder_trait() {
    let mut config = SessionConfig::default();
    config.limits.template_lifetime = Some(Duration::from_secs(60));
    let mut s = Session::new(config);
    decode(&mut s, &msg(0, vec![templates(vec![t256()])]), 0);
    fn expire<D: Decoder>(d: &mut D, at: Timestamp) -> usize {
        d.expire(at)
    }
    assert_eq!(expire(&mut s, now(30)), 0);
    assert_eq!(expire(&mut s, now(61)), 1);
    assert!(s.template(exporter(), 1, 256).is_none());
}

#[test]
fn errors_reach_the_sink_with_protocol_exporter_kind_and_offset() {
    use flowwire_ipfix::record::codec::{DecodeError, ErrorKind, Sink};
    #[derive(Default)]
    struct Errors(Vec<(ProtocolKind, SocketAddr, ErrorKind, Option<usize>)>);
    impl Sink for Errors {
        fn flow(&mut self, _: &flowwire_ipfix::record::FlowRecord) {}
        fn error(&mut self, e: &DecodeError<'_>) {
            assert!(e.downcast_ref::<Error>().is_some());
            self.0
                .push((e.protocol.unwrap(), e.exporter, e.kind(), e.offset()));
        }
    }
    let mut s = Session::new(SessionConfig {
        pending: None,
        ..SessionConfig::default()
    });
    let mut errors = Errors::default();
    let bytes = msg(
        0,
        vec![
            data(256, vec![r256(1, 1)]),
            SetRepr::new(SetContent::Raw {
                set_id: 1,
                body: vec![0; 4],
            }),
        ],
    );
    let summary = s.decode(exporter(), now(0), &bytes, &mut errors);
    assert_eq!(summary.errors, 2);
    assert_eq!(
        errors.0,
        [
            (
                ProtocolKind::Ipfix,
                exporter(),
                ErrorKind::MissingTemplate,
                Some(16)
            ),
            (
                ProtocolKind::Ipfix,
                exporter(),
                ErrorKind::Reserved,
                Some(28)
            ),
        ]
    );
}
