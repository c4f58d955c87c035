//! Property tests: `parse(emit(x)) == x` for messages with templates, options templates,
//! variable-length and enterprise fields, reduced-size integers, padding and RFC 6313 lists;
//! and `emit(parse(bytes)) == bytes` for the bytes so produced. Decoding arbitrary bytes
//! never panics.

use flowwire_ipfix::record::{OwnedValue, Timestamp};
use flowwire_ipfix::repr::{
    BasicListRepr, DataRecordRepr, FieldValue, GroupRepr, MessageRepr, SetContent, SetRepr,
    SubTemplateListRepr, SubTemplateMultiListRepr, TemplateRepr,
};
use flowwire_ipfix::session::{RecordContext, Session, SessionConfig};
use flowwire_ipfix::template::Template;
use flowwire_ipfix::wire::data::DataRecord;
use flowwire_ipfix::wire::list::{BasicList, SubTemplateList, SubTemplateMultiList};
use flowwire_ipfix::wire::template::FieldSpec;
use flowwire_ipfix::{Collect, Decoder};
use proptest::prelude::*;

/// A kind of field: its specifier and a strategy for values that decode back equal.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Ipv4,
    Ipv6,
    /// octetDeltaCount in `n` octets (reduced size).
    Octets(u16),
    Port,
    Protocol,
    Mac,
    StartMs,
    Name,
    /// Unknown enterprise element, fixed length.
    EnterpriseFixed(u16),
    /// Unknown enterprise element, variable length.
    EnterpriseVar,
    /// VMware tenantSourceIPv4 (a known enterprise element).
    VmwareIpv4,
    BasicList,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Ipv4),
        Just(Kind::Ipv6),
        (1u16..=8).prop_map(Kind::Octets),
        Just(Kind::Port),
        Just(Kind::Protocol),
        Just(Kind::Mac),
        Just(Kind::StartMs),
        Just(Kind::Name),
        (1u16..=20).prop_map(Kind::EnterpriseFixed),
        Just(Kind::EnterpriseVar),
        Just(Kind::VmwareIpv4),
        Just(Kind::BasicList),
    ]
}

const PEN: u32 = 32473;

impl Kind {
    fn spec(self, i: u16) -> FieldSpec {
        match self {
            Kind::Ipv4 => FieldSpec::iana(8, 4),
            Kind::Ipv6 => FieldSpec::iana(27, 16),
            Kind::Octets(n) => FieldSpec::iana(1, n),
            Kind::Port => FieldSpec::iana(7, 2),
            Kind::Protocol => FieldSpec::iana(4, 1),
            Kind::Mac => FieldSpec::iana(56, 6),
            Kind::StartMs => FieldSpec::iana(152, 8),
            Kind::Name => FieldSpec::iana(82, 65535),
            Kind::EnterpriseFixed(n) => FieldSpec::enterprise(PEN, 100 + i, n),
            Kind::EnterpriseVar => FieldSpec::enterprise(PEN, 200 + i, 65535),
            Kind::VmwareIpv4 => FieldSpec::enterprise(6876, 881, 4),
            Kind::BasicList => FieldSpec::iana(291, 65535),
        }
    }

    fn value(self) -> BoxedStrategy<OwnedValue> {
        match self {
            Kind::Ipv4 | Kind::VmwareIpv4 => any::<[u8; 4]>()
                .prop_map(|b| OwnedValue::Ipv4Address(b.into()))
                .boxed(),
            Kind::Ipv6 => any::<[u8; 16]>()
                .prop_map(|b| OwnedValue::Ipv6Address(b.into()))
                .boxed(),
            Kind::Octets(n) => {
                let max = if n >= 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * n)) - 1
                };
                (0..=max).prop_map(OwnedValue::Unsigned64).boxed()
            }
            Kind::Port => any::<u16>().prop_map(OwnedValue::Unsigned16).boxed(),
            Kind::Protocol => any::<u8>().prop_map(OwnedValue::Unsigned8).boxed(),
            Kind::Mac => any::<[u8; 6]>()
                .prop_map(|b| OwnedValue::MacAddress(flowwire_ipfix::record::MacAddr(b)))
                .boxed(),
            Kind::StartMs => any::<u64>()
                .prop_map(OwnedValue::DateTimeMilliseconds)
                .boxed(),
            Kind::Name => prop_oneof![
                Just(Vec::new()),
                proptest::collection::vec(any::<u8>(), 0..20),
                proptest::collection::vec(any::<u8>(), 250..300),
            ]
            .prop_map(OwnedValue::String)
            .boxed(),
            Kind::EnterpriseFixed(n) => proptest::collection::vec(any::<u8>(), usize::from(n))
                .prop_map(OwnedValue::OctetArray)
                .boxed(),
            Kind::EnterpriseVar => proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(OwnedValue::OctetArray)
                .boxed(),
            Kind::BasicList => (any::<u8>(), proptest::collection::vec(any::<u16>(), 0..6))
                .prop_map(|(semantic, ports)| {
                    BasicListRepr {
                        semantic,
                        field: FieldSpec::iana(7, 2),
                        elements: ports.into_iter().map(OwnedValue::Unsigned16).collect(),
                    }
                    .to_value()
                    .unwrap()
                })
                .boxed(),
        }
    }
}

/// A template (kinds) with its records (values).
fn template_and_records() -> impl Strategy<Value = (Vec<Kind>, Vec<Vec<OwnedValue>>)> {
    proptest::collection::vec(kind(), 1..8).prop_flat_map(|kinds| {
        let record: Vec<BoxedStrategy<OwnedValue>> = kinds.iter().map(|k| k.value()).collect();
        (Just(kinds), proptest::collection::vec(record, 0..4))
    })
}

fn message() -> impl Strategy<Value = MessageRepr> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec((template_and_records(), 0u16..4), 1..4),
        proptest::option::of((template_and_records(), 1u16..3)),
    )
        .prop_map(|(export_time, seq, domain, data, opts)| {
            let mut templates = Vec::new();
            let mut sets = Vec::new();
            let mut data_sets = Vec::new();
            for (i, ((kinds, records), padding)) in data.into_iter().enumerate() {
                let id = 256 + i as u16;
                let specs: Vec<FieldSpec> = kinds
                    .iter()
                    .enumerate()
                    .map(|(j, k)| k.spec(j as u16))
                    .collect();
                templates.push(TemplateRepr::new(id, specs.clone()));
                data_sets.push(SetRepr {
                    content: SetContent::Data {
                        template_id: id,
                        records: records
                            .into_iter()
                            .map(|vals| DataRecordRepr {
                                fields: specs
                                    .iter()
                                    .zip(vals)
                                    .map(|(s, v)| FieldValue::new(*s, v))
                                    .collect(),
                            })
                            .collect(),
                    },
                    // Padding shorter than the smallest record.
                    padding: padding.min(min_len(&specs).saturating_sub(1) as u16),
                });
            }
            sets.push(SetRepr::new(SetContent::Templates(templates)));
            if let Some(((kinds, records), scope)) = opts {
                let scope = scope.min(kinds.len() as u16);
                let specs: Vec<FieldSpec> = kinds
                    .iter()
                    .enumerate()
                    .map(|(j, k)| k.spec(j as u16))
                    .collect();
                sets.push(SetRepr::new(SetContent::OptionsTemplates(vec![
                    TemplateRepr::options(1000, scope, specs.clone()),
                ])));
                data_sets.push(SetRepr::new(SetContent::Data {
                    template_id: 1000,
                    records: records
                        .into_iter()
                        .map(|vals| DataRecordRepr {
                            fields: specs
                                .iter()
                                .zip(vals)
                                .map(|(s, v)| FieldValue::new(*s, v))
                                .collect(),
                        })
                        .collect(),
                }));
            }
            sets.extend(data_sets);
            MessageRepr {
                export_time,
                sequence_number: seq,
                observation_domain_id: domain,
                sets,
            }
        })
}

fn min_len(specs: &[FieldSpec]) -> usize {
    specs
        .iter()
        .map(|s| {
            if s.is_variable_length() {
                1
            } else {
                usize::from(s.length)
            }
        })
        .sum()
}

fn nested_template() -> Template {
    Template::new(
        300,
        false,
        0,
        [FieldSpec::iana(8, 4), FieldSpec::iana(82, 65535)],
        &Default::default(),
        10,
    )
    .unwrap()
}

fn nested_record() -> impl Strategy<Value = DataRecordRepr> {
    (
        any::<[u8; 4]>(),
        proptest::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(|(a, name)| DataRecordRepr {
            fields: vec![
                FieldValue::new(FieldSpec::iana(8, 4), OwnedValue::Ipv4Address(a.into())),
                FieldValue::new(FieldSpec::iana(82, 65535), OwnedValue::String(name)),
            ],
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn messages_round_trip(m in message()) {
        let bytes = m.to_bytes().unwrap();
        prop_assert_eq!(bytes.len(), m.buffer_len());
        let back = MessageRepr::parse_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_bytes().unwrap(), bytes.clone());

        // And the session decodes every record without an error.
        let mut session = Session::new(SessionConfig::default());
        let mut n = 0;
        let mut errors = 0;
        struct V<'a>(&'a mut usize, &'a mut usize);
        impl flowwire_ipfix::session::Visitor for V<'_> {
            fn data(&mut self, _: &RecordContext<'_>, r: &DataRecord<'_, '_>) {
                *self.0 += 1;
                if r.check().is_err() { *self.1 += 1; }
            }
            fn error(&mut self, _: &flowwire_ipfix::Error) { *self.1 += 1; }
        }
        session.decode_records("192.0.2.1:1".parse().unwrap(), Timestamp::from_unix_secs(0), &bytes, &mut V(&mut n, &mut errors));
        let want: usize = m.sets.iter().map(|s| match &s.content {
            SetContent::Data { records, .. } => records.len(),
            _ => 0,
        }).sum();
        prop_assert_eq!(n, want);
        prop_assert_eq!(errors, 0);
        // Through the contract: flows and options records, apart.
        let mut got = Collect::default();
        let summary = Session::default().decode("192.0.2.1:1".parse().unwrap(), Timestamp::from_unix_secs(0), &bytes, &mut got);
        prop_assert_eq!(summary.flows + summary.options, want);
        prop_assert_eq!((got.flows.len(), got.options.len()), (summary.flows, summary.options));
        prop_assert!(got.errors.is_empty());
    }

    #[test]
    fn lists_round_trip(
        semantic in any::<u8>(),
        recs in proptest::collection::vec(nested_record(), 0..5),
        groups in proptest::collection::vec(proptest::collection::vec(nested_record(), 0..3), 0..3),
        names in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..3),
    ) {
        let t = nested_template();
        let stl = SubTemplateListRepr { semantic, template_id: 300, records: recs };
        let mut b = vec![0; stl.buffer_len()];
        stl.emit(&mut b).unwrap();
        let view = SubTemplateList::parse(&b, 0, 1).unwrap();
        prop_assert_eq!(&SubTemplateListRepr::parse(&view, &t).unwrap(), &stl);

        let multi = SubTemplateMultiListRepr {
            semantic,
            groups: groups.into_iter().map(|records| GroupRepr { template_id: 300, records }).collect(),
        };
        let mut b = vec![0; multi.buffer_len()];
        multi.emit(&mut b).unwrap();
        let view = SubTemplateMultiList::parse(&b, 0, 1).unwrap();
        prop_assert_eq!(&SubTemplateMultiListRepr::parse(&view, |_| Some(&t)).unwrap(), &multi);

        let bl = BasicListRepr {
            semantic,
            field: FieldSpec::enterprise(PEN, 5, 65535),
            elements: names.into_iter().map(OwnedValue::String).collect(),
        };
        let mut b = vec![0; bl.buffer_len()];
        bl.emit(&mut b).unwrap();
        let view = BasicList::parse(&b, 0, 1).unwrap();
        prop_assert_eq!(
            &BasicListRepr::parse(&view, flowwire_ipfix::record::DataType::String).unwrap(),
            &bl
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut session = Session::new(SessionConfig::default());
        let mut sink = |_: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
            for f in r.raw_fields() {
                let _ = f.basic_list();
                let _ = f.sub_template_list();
                let _ = f.sub_template_multi_list();
            }
        };
        session.decode_records("192.0.2.1:1".parse().unwrap(), Timestamp::from_unix_secs(0), &bytes, &mut sink);
        let mut got = Collect::default();
        let summary = Session::default().decode("192.0.2.1:1".parse().unwrap(), Timestamp::from_unix_secs(0), &bytes, &mut got);
        prop_assert_eq!(summary.errors, got.errors.len());
        let _ = MessageRepr::parse_bytes(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(m in message(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = m.to_bytes().unwrap();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let mut session = Session::new(SessionConfig::default());
        let mut sink = |c: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
            let mut f = flowwire_ipfix::record::FlowRecord::default();
            c.flow_record_into(r, &mut f);
        };
        session.decode_records("192.0.2.1:1".parse().unwrap(), Timestamp::from_unix_secs(0), &bytes, &mut sink);
        let mut got = Collect::default();
        Session::default().decode("192.0.2.1:1".parse().unwrap(), Timestamp::from_unix_secs(0), &bytes, &mut got);
        if let Ok(parsed) = MessageRepr::parse_bytes(&bytes) {
            // What parses re-encodes to the same bytes (those the header's length covers).
            let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
            prop_assert_eq!(parsed.to_bytes().unwrap(), bytes[..len].to_vec());
        }
    }
}
