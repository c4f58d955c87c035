//! Property tests: value → bytes → value and bytes → value → bytes for the v5 and v9 owned
//! representations, and FlowRecord → v5 / v9 → FlowRecord.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use flowwire_netflow::exporter::{V9Exporter, V9ExporterConfig};
use flowwire_netflow::record::mapping::TimeContext;
use flowwire_netflow::record::registry::Registry;
use flowwire_netflow::record::{Collect, Decoder, Exporter};
use flowwire_netflow::record::{FlowRecord, Timestamp};
use flowwire_netflow::repr::v5::{V5Context, V5RecordRepr, V5Repr};
use flowwire_netflow::repr::v9::{
    DataSetRepr, FlowSetRepr, OptionsTemplateRepr, TemplateRepr, V9Repr,
};
use flowwire_netflow::session::Session;
use flowwire_netflow::template::{FieldSpec, Template};
use flowwire_netflow::wire::v5_packet::V5Packet;
use flowwire_netflow::wire::v5_record::V5Record;
use flowwire_netflow::wire::v9_packet::V9Packet;
use proptest::prelude::*;

fn v5_record() -> impl Strategy<Value = V5RecordRepr> {
    (any::<[u8; 48]>()).prop_map(|b| V5RecordRepr::parse(&V5Record::new_unchecked(b)))
}

fn v5_repr() -> impl Strategy<Value = V5Repr> {
    (
        any::<(u32, u32, u32, u32, u8, u8)>(),
        0u8..4,
        0u16..0x4000,
        prop::collection::vec(v5_record(), 0..=30),
    )
        .prop_map(
            |((up, s, ns, seq, et, ei), mode, interval, records)| V5Repr {
                sys_uptime: up,
                unix_secs: s,
                unix_nsecs: ns,
                flow_sequence: seq,
                engine_type: et,
                engine_id: ei,
                sampling_mode: mode,
                sampling_interval: interval,
                records,
            },
        )
}

/// (field type, length) choices for generated templates: typed, off-registry lengths,
/// unknown vendor types, zero-length fields.
const FIELDS: [(u16, u16); 14] = [
    (8, 4),
    (12, 4),
    (7, 2),
    (11, 2),
    (4, 1),
    (1, 4),
    (1, 8),
    (2, 4),
    (22, 8),
    (56, 6),
    (82, 8),
    (27, 16),
    (60000, 3),
    (95, 0),
];

fn template_fields() -> impl Strategy<Value = Vec<(u16, u16)>> {
    prop::collection::vec(prop::sample::select(&FIELDS[..]), 1..8)
        .prop_filter("non-zero record", |f| f.iter().any(|&(_, l)| l > 0))
}

/// A packet: a template FlowSet, an options template FlowSet and data for both, from raw
/// bytes decoded by the templates (so every value is one the decoder produces).
fn v9_repr() -> impl Strategy<Value = V9Repr> {
    (
        any::<(u32, u32, u32, u32)>(),
        template_fields(),
        prop::collection::vec(any::<u8>(), 0..400),
        0u16..4,
        0u16..4,
    )
        .prop_map(|((up, secs, seq, sid), fields, raw, pad1, pad2)| {
            let reg = Registry::new();
            let t = TemplateRepr { id: 300, fields };
            let tpl = t.to_template(&reg).unwrap();
            let o = OptionsTemplateRepr {
                id: 301,
                scope_fields: vec![(2, 4)],
                option_fields: vec![(34, 4), (82, 4)],
            };
            let otpl = o.to_template(&reg).unwrap();
            let records = |tpl: &Template, raw: &[u8]| {
                let len = tpl.min_record_len();
                raw.chunks_exact(len)
                    .map(|chunk| {
                        let mut pos = 0;
                        tpl.fields()
                            .iter()
                            .map(|s: &FieldSpec| {
                                let b = &chunk[pos..pos + usize::from(s.length)];
                                pos += usize::from(s.length);
                                s.decode(b).to_owned_value()
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            };
            let data = records(&tpl, &raw);
            let opts = records(&otpl, &raw[..raw.len().min(24)]);
            V9Repr {
                sys_uptime: up,
                unix_secs: secs,
                sequence: seq,
                source_id: sid,
                flowsets: vec![
                    FlowSetRepr::Templates {
                        templates: vec![t],
                        padding: pad1,
                    },
                    FlowSetRepr::OptionsTemplates {
                        templates: vec![o],
                        padding: pad2,
                    },
                    FlowSetRepr::Data(DataSetRepr {
                        // Padding as long as a record would read as one (zeros): keep it shorter.
                        padding: pad1.min(tpl.min_record_len() as u16 - 1),
                        template: tpl,
                        records: data,
                    }),
                    FlowSetRepr::Data(DataSetRepr {
                        template: otpl,
                        records: opts,
                        padding: 0,
                    }),
                ],
            }
        })
}

fn flow_record() -> impl Strategy<Value = FlowRecord> {
    (
        any::<(u32, u32, u32, u16, u16, u8, u8, u8)>(),
        any::<(u32, u32, u16, u16, u16, u16, u8, u8)>(),
        0u64..3_600_000,
        0u64..3_600_000,
    )
        .prop_map(
            |((s, d, nh, sp, dp, proto, tos, flags), (oct, pkt, i, o, sas, das, sm, dm), a, b)| {
                let export_ms = 1_700_000_000_000u64;
                {
                    let mut built = FlowRecord::default();
                    built.set_src_addr(Some(IpAddr::V4(Ipv4Addr::from(s))));
                    built.set_dst_addr(Some(IpAddr::V4(Ipv4Addr::from(d))));
                    built.set_next_hop(Some(IpAddr::V4(Ipv4Addr::from(nh))));
                    built.set_src_port(Some(sp));
                    built.set_dst_port(Some(dp));
                    built.set_protocol(Some(proto));
                    built.set_tos(Some(tos));
                    built.set_tcp_flags(Some(flags.into()));
                    built.set_octets(Some(oct.into()));
                    built.set_packets(Some(pkt.into()));
                    built.set_in_if(Some(i.into()));
                    built.set_out_if(Some(o.into()));
                    built.set_src_as(Some(sas.into()));
                    built.set_dst_as(Some(das.into()));
                    built.set_src_mask(Some(sm));
                    built.set_dst_mask(Some(dm));
                    built.set_start(Some(Timestamp::from_unix_millis_u64(export_ms - a.max(b))));
                    built.set_end(Some(Timestamp::from_unix_millis_u64(export_ms - a.min(b))));
                    built
                }
            },
        )
}

/// The fields both sides must agree on.
fn typed(r: &FlowRecord) -> impl PartialEq + std::fmt::Debug {
    (
        (
            r.src_addr(),
            r.dst_addr(),
            r.src_port(),
            r.dst_port(),
            r.protocol(),
        ),
        (
            r.octets(),
            r.packets(),
            r.start(),
            r.end(),
            r.tos(),
            r.tcp_flags(),
        ),
        (
            r.in_if(),
            r.out_if(),
            r.src_as(),
            r.dst_as(),
            r.src_mask(),
            r.dst_mask(),
            r.next_hop(),
        ),
    )
}

proptest! {
    #[test]
    fn v5_value_bytes_value(x in v5_repr()) {
        let bytes = x.to_vec().unwrap();
        let back = V5Repr::parse(&V5Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        prop_assert_eq!(back, x);
    }

    #[test]
    fn v5_bytes_value_bytes(n in 0usize..=30, body in prop::collection::vec(any::<u8>(), 24 + 30 * 48)) {
        let mut bytes = body[..24 + n * 48].to_vec();
        bytes[0] = 0;
        bytes[1] = 5;
        bytes[2] = 0;
        bytes[3] = n as u8;
        let x = V5Repr::parse(&V5Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        prop_assert_eq!(x.to_vec().unwrap(), bytes);
    }

    #[test]
    fn v5_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(p) = V5Packet::new_checked(&bytes[..]) {
            for r in p.records().flatten() {
                let _ = V5RecordRepr::parse(&r);
            }
        }
        let mut s = Session::default();
        s.decode("192.0.2.1:1".parse().unwrap(), Timestamp::UNIX_EPOCH, &bytes, &mut |_: &FlowRecord| {});
    }

    #[test]
    fn v9_value_bytes_value(x in v9_repr()) {
        let bytes = x.to_vec().unwrap();
        let p = V9Packet::new_checked(&bytes[..]).unwrap();
        let back = V9Repr::parse(&p, &Registry::new(), &[]).unwrap();
        prop_assert_eq!(&back, &x);
        // bytes → value → bytes
        prop_assert_eq!(back.to_vec().unwrap(), bytes);
    }

    #[test]
    fn v9_never_panics(x in v9_repr(), cut in any::<prop::sample::Index>(), flip in any::<(prop::sample::Index, u8)>()) {
        let mut bytes = x.to_vec().unwrap();
        let i = flip.0.index(bytes.len());
        bytes[i] ^= flip.1;
        let n = cut.index(bytes.len() + 1);
        let mut s = Session::default();
        let ex: SocketAddr = "192.0.2.1:1".parse().unwrap();
        s.decode(ex, Timestamp::UNIX_EPOCH, &bytes[..n], &mut |_: &FlowRecord| {});
        s.decode(ex, Timestamp::UNIX_EPOCH, &bytes, &mut |_: &FlowRecord| {});
    }

    #[test]
    fn flow_record_v5_flow_record(r in flow_record()) {
        let time = TimeContext {
            export_time: Some(Timestamp::from_unix_millis(1_700_000_000_000)),
            sys_uptime_ms: Some(123_456),
            system_init_time: None,
        };
        let rec = V5RecordRepr::from_flow_record(&r, &time).unwrap();
        let repr = V5Repr {
            sys_uptime: 123_456,
            unix_secs: 1_700_000_000,
            records: vec![rec],
            ..V5Repr::default()
        };
        let bytes = repr.to_vec().unwrap();
        let p = V5Packet::new_checked(&bytes[..]).unwrap();
        let ctx = V5Context::new(&p, None);
        let mut back = FlowRecord::default();
        ctx.flow_record_into(&p.records().next().unwrap().unwrap(), &mut back);
        prop_assert_eq!(typed(&back), typed(&r));
    }

    #[test]
    fn flow_record_v9_flow_record(rs in prop::collection::vec(flow_record(), 1..60)) {
        let boot = Timestamp::from_unix_secs(1_690_000_000);
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let mut e = V9Exporter::new(V9ExporterConfig { boot: Some(boot), ..V9ExporterConfig::default() });
        let mut out: Vec<Vec<u8>> = Vec::new();
        for r in &rs {
            e.push(r, now, &mut |p| out.push(p.to_vec())).unwrap();
        }
        e.flush(now, &mut |p| out.push(p.to_vec())).unwrap();
        let mut s = Session::default();
        let mut got = Collect::<flowwire_netflow::Error>::default();
        for p in &out {
            let rep = s.decode("192.0.2.1:2055".parse().unwrap(), now, p, &mut got);
            prop_assert_eq!(rep.errors, 0, "{:?}", got.errors);
        }
        let got = got.flows;
        prop_assert_eq!(got.len(), rs.len());
        for (a, b) in rs.iter().zip(&got) {
            prop_assert_eq!(typed(a), typed(b));
        }
    }
}
