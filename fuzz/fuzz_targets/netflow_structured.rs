//! NetFlow v5/v9: valid packets built from `arbitrary` values through the owned `Repr`s
//! encode, and decode back equal.
//!
//! v5: any header and up to 30 records. v9: template and options template FlowSets (field
//! types from a table of common elements at their registry lengths, odd lengths, vendor types,
//! variable-length fields), data FlowSets of those templates with values decoded from
//! arbitrary bytes of each field's length, zero padding shorter than a record, and raw
//! FlowSets of undefined templates.
#![no_main]

use std::hint::black_box;

use arbitrary::{Result, Unstructured};
use flowwire_fuzz::assert_same;
use flowwire_netflow::record::registry::Registry;
use flowwire_netflow::repr::v9::{DataSetRepr, OptionsTemplateRepr, TemplateRepr};
use flowwire_netflow::template::{FieldSpec, Template};
use flowwire_netflow::{FlowSetRepr, V5Packet, V5RecordRepr, V5Repr, V9Packet, V9Repr};
use libfuzzer_sys::fuzz_target;

/// (field type, length): common elements at their registry lengths, then odd lengths.
const FIELDS: &[(u16, u16)] = &[
    (1, 4),
    (2, 4),
    (4, 1),
    (5, 1),
    (6, 1),
    (7, 2),
    (8, 4),
    (10, 2),
    (11, 2),
    (12, 4),
    (14, 2),
    (15, 4),
    (16, 2),
    (17, 2),
    (21, 4),
    (22, 4),
    (27, 16),
    (28, 16),
    (56, 6),
    (80, 6),
    (58, 2),
    (61, 1),
    (89, 4),
    (152, 8),
    (153, 8),
    (1, 8),
    (2, 8),
    (21, 8),
    (1, 16),
    (82, 16),
    (82, 65535),
    (96, 65535),
    (33002, 2),
    (40005, 1),
    (12345, 3),
    (8, 65535),
];

fn v5(u: &mut Unstructured<'_>) -> Result<V5Repr> {
    let n = u.int_in_range(0..=30)?;
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        records.push(V5RecordRepr {
            src_addr: u.arbitrary::<u32>()?.into(),
            dst_addr: u.arbitrary::<u32>()?.into(),
            next_hop: u.arbitrary::<u32>()?.into(),
            input: u.arbitrary()?,
            output: u.arbitrary()?,
            packets: u.arbitrary()?,
            octets: u.arbitrary()?,
            first: u.arbitrary()?,
            last: u.arbitrary()?,
            src_port: u.arbitrary()?,
            dst_port: u.arbitrary()?,
            pad1: u.arbitrary()?,
            tcp_flags: u.arbitrary()?,
            protocol: u.arbitrary()?,
            tos: u.arbitrary()?,
            src_as: u.arbitrary()?,
            dst_as: u.arbitrary()?,
            src_mask: u.arbitrary()?,
            dst_mask: u.arbitrary()?,
            pad2: u.arbitrary()?,
        });
    }
    Ok(V5Repr {
        sys_uptime: u.arbitrary()?,
        unix_secs: u.arbitrary()?,
        unix_nsecs: u.arbitrary()?,
        flow_sequence: u.arbitrary()?,
        engine_type: u.arbitrary()?,
        engine_id: u.arbitrary()?,
        sampling_mode: u.int_in_range(0..=3)?,
        sampling_interval: u.int_in_range(0..=0x3fff)?,
        records,
    })
}

fn field(u: &mut Unstructured<'_>, registry: &Registry) -> Result<(u16, u16)> {
    if u.ratio(1, 8)? {
        // Any type at a length its registry data type allows (a valid message; lengths that
        // are not allowed are netflow_roundtrip's business).
        let (t, l) = (u.arbitrary()?, u.int_in_range(1..=32)?);
        if FieldSpec::field(t, l, registry)
            .data_type
            .accepts_len(usize::from(l))
        {
            return Ok((t, l));
        }
    }
    Ok(*u.choose(FIELDS)?)
}

fn fields(u: &mut Unstructured<'_>, min: usize, registry: &Registry) -> Result<Vec<(u16, u16)>> {
    let n = u.int_in_range(min..=10)?;
    (0..n).map(|_| field(u, registry)).collect()
}

fn records(
    u: &mut Unstructured<'_>,
    t: &Template,
) -> Result<Vec<Vec<flowwire_netflow::record::OwnedValue>>> {
    let n = u.int_in_range(0..=6)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut rec = Vec::new();
        let mut all_zero = true;
        for spec in t.fields() {
            let len = if spec.is_variable() {
                u.int_in_range(0..=300)?
            } else {
                usize::from(spec.length)
            };
            let bytes = u.bytes(len)?;
            all_zero &= bytes.iter().all(|&b| b == 0);
            rec.push(spec.decode(bytes).to_owned_value());
        }
        // A record of a variable-length template that is all zero bytes is taken for the
        // zero-filled tail real exporters send (documented), so it is not generated here.
        if t.is_variable() && all_zero {
            continue;
        }
        out.push(rec);
    }
    Ok(out)
}

fn v9(u: &mut Unstructured<'_>, registry: &Registry) -> Result<V9Repr> {
    let mut flowsets = Vec::new();
    let mut defined: Vec<Template> = Vec::new();
    let mut used_ids = Vec::new();
    let sets = u.int_in_range(1..=6)?;
    for _ in 0..sets {
        match u.int_in_range(0..=3)? {
            0 => {
                let mut templates = Vec::new();
                for _ in 0..u.int_in_range(1..=3)? {
                    let id = u.int_in_range(256..=300)?;
                    if used_ids.contains(&id) {
                        continue;
                    }
                    let t = TemplateRepr {
                        id,
                        fields: fields(u, 1, registry)?,
                    };
                    if let Ok(tpl) = t.to_template(registry) {
                        used_ids.push(id);
                        defined.push(tpl);
                        templates.push(t);
                    }
                }
                if !templates.is_empty() {
                    flowsets.push(FlowSetRepr::Templates {
                        templates,
                        padding: 0,
                    });
                }
            }
            1 => {
                let id = u.int_in_range(256..=300)?;
                if used_ids.contains(&id) {
                    continue;
                }
                let t = OptionsTemplateRepr {
                    id,
                    scope_fields: (0..u.int_in_range(1..=2)?)
                        .map(|_| Ok((u.int_in_range(1..=5)?, u.int_in_range(1..=8)?)))
                        .collect::<Result<_>>()?,
                    option_fields: fields(u, 0, registry)?,
                };
                if let Ok(tpl) = t.to_template(registry) {
                    used_ids.push(id);
                    defined.push(tpl);
                    flowsets.push(FlowSetRepr::OptionsTemplates {
                        templates: vec![t],
                        padding: 0,
                    });
                }
            }
            2 if !defined.is_empty() => {
                let t = u.choose(&defined)?.clone();
                let records = records(u, &t)?;
                let max_pad = if t.is_variable() {
                    3
                } else {
                    t.min_record_len().min(4) - 1
                };
                let padding = u.int_in_range(0..=max_pad as u16)?;
                flowsets.push(FlowSetRepr::Data(DataSetRepr {
                    template: t,
                    records,
                    padding,
                }));
            }
            _ => {
                let set_id = u.int_in_range(301..=65535)?;
                let len = u.int_in_range(0..=64)?;
                let body = u.bytes(len)?.to_vec();
                flowsets.push(FlowSetRepr::Raw { set_id, body });
            }
        }
    }
    Ok(V9Repr {
        sys_uptime: u.arbitrary()?,
        unix_secs: u.arbitrary()?,
        sequence: u.arbitrary()?,
        source_id: u.arbitrary()?,
        flowsets,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(kind) = u.arbitrary::<bool>() else {
        return;
    };
    if kind {
        let Ok(r) = v5(&mut u) else { return };
        let bytes = r.to_vec().expect("a valid v5 packet encodes");
        let p = V5Packet::new_checked(&bytes[..]).expect("encoded v5 header is valid");
        let back = V5Repr::parse(&p).expect("encoded v5 packet parses");
        assert_eq!(r, back, "v5 emit -> parse");
        black_box(back);
    } else {
        let registry = Registry::new();
        let Ok(r) = v9(&mut u, &registry) else { return };
        let bytes = r.to_vec().expect("a valid v9 packet encodes");
        let p = V9Packet::new_checked(&bytes[..]).expect("encoded v9 header is valid");
        let back = match V9Repr::parse(&p, &registry, &[]) {
            Ok(b) => b,
            Err(e) => panic!("encoded v9 packet does not parse: {e}\n{r:?}\n{bytes:02x?}"),
        };
        assert_same(&r, &back, "v9 emit -> parse");
        black_box(back);
    }
});
