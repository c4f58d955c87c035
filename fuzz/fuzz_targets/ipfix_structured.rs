//! IPFIX: valid messages built from `arbitrary` values through the owned `Repr`s encode, and
//! decode back equal (and re-encode to the same bytes).
//!
//! A message holds template and options template sets (common IANA elements at their
//! registry lengths and reduced sizes, enterprise and RFC 5103 reverse elements,
//! variable-length strings and octet arrays, basicList and subTemplateList fields),
//! withdrawals, data sets of the templates defined before them with values decoded from
//! arbitrary bytes (variable-length values in the 1- or 3-octet prefix form), zero padding
//! shorter than a record, and raw sets of undefined templates.
#![no_main]

use std::hint::black_box;

use arbitrary::{Result, Unstructured};
use flowwire_fuzz::assert_same;
use flowwire_ipfix::record::registry::Registry;
use flowwire_ipfix::record::{DataType, OwnedValue, Value};
use flowwire_ipfix::repr::{
    BasicListRepr, DataRecordRepr, FieldValue, MessageRepr, SetContent, SetRepr,
    SubTemplateListRepr, TemplateRepr,
};
use flowwire_ipfix::template::{DEFAULT_MAX_FIELDS, Template};
use flowwire_ipfix::wire::template::FieldSpec;
use libfuzzer_sys::fuzz_target;

const VAR: u16 = 65535;

/// (element id, length).
const IANA: &[(u16, u16)] = &[
    (1, 8),
    (1, 4),
    (1, 2),
    (2, 8),
    (2, 1),
    (4, 1),
    (5, 1),
    (6, 2),
    (7, 2),
    (8, 4),
    (10, 4),
    (11, 2),
    (12, 4),
    (27, 16),
    (28, 16),
    (56, 6),
    (58, 2),
    (136, 1),
    (148, 8),
    (150, 4),
    (151, 4),
    (152, 8),
    (153, 8),
    (154, 8),
    (156, 8),
    (160, 8),
    (82, VAR),
    (83, VAR),
    (96, VAR),
    (94, VAR),
    (210, 3),
    (313, VAR),
    (351, 8),
    (32, 2),
    (176, 1),
    (405, 2),
    (0, 4),
    (400, 4),
    (23, 4),
    (12, VAR),
];

fn leaf_spec(u: &mut Unstructured<'_>) -> Result<FieldSpec> {
    Ok(match u.int_in_range(0..=9)? {
        0 => FieldSpec::enterprise(
            *u.choose(&[6876, 9, 29305, 2636])?,
            u.int_in_range(1..=0x7fff)?,
            *u.choose(&[1, 2, 4, 8, 16, VAR])?,
        ),
        _ => {
            let (id, len) = *u.choose(IANA)?;
            FieldSpec::iana(id, len)
        }
    })
}

/// A specifier whose length its data type allows (or variable length).
fn valid_leaf_spec(u: &mut Unstructured<'_>, registry: &Registry) -> Result<FieldSpec> {
    let s = leaf_spec(u)?;
    let dt = flowwire_ipfix::template::resolve_data_type(registry, s.field_id());
    Ok(
        if s.is_variable_length() || dt.accepts_len(usize::from(s.length)) {
            s
        } else {
            FieldSpec::iana(1, 8)
        },
    )
}

/// A value of `data_type` encoded in `len` octets (None: variable length) from arbitrary
/// bytes, decoded as the decoder will.
fn leaf_value(
    u: &mut Unstructured<'_>,
    data_type: DataType,
    len: Option<usize>,
) -> Result<OwnedValue> {
    let n = match len {
        Some(n) => n,
        None => u.int_in_range(0..=300)?,
    };
    let bytes = u.bytes(n)?;
    // As the decoder keeps it: the strict value, else (or when a variable-length value's
    // natural size is not its octet count) the octets.
    Ok(match Value::decode(data_type, bytes) {
        Ok(v) if len.is_some() || v.natural_len() == bytes.len() => v.to_owned_value(),
        _ => OwnedValue::OctetArray(bytes.to_vec()),
    })
}

fn record(
    u: &mut Unstructured<'_>,
    t: &Template,
    defined: &[Template],
    registry: &Registry,
    depth: usize,
) -> Result<DataRecordRepr> {
    let mut fields = Vec::new();
    for f in t.fields() {
        let var = f.spec.is_variable_length();
        let len = (!var).then_some(usize::from(f.spec.length));
        let value = match f.data_type {
            DataType::BasicList if var => {
                let field = valid_leaf_spec(u, registry)?;
                let dt = flowwire_ipfix::template::resolve_data_type(registry, field.field_id());
                let elen = (!field.is_variable_length()).then_some(usize::from(field.length));
                let mut elements = Vec::new();
                for _ in 0..u.int_in_range(0..=4)? {
                    elements.push(leaf_value(u, dt, elen)?);
                }
                let l = BasicListRepr {
                    semantic: u.int_in_range(0..=4)?,
                    field,
                    elements,
                };
                match l.to_value() {
                    Ok(v) => v,
                    Err(_) => return Err(arbitrary::Error::IncorrectFormat),
                }
            }
            DataType::SubTemplateList if var && depth < 2 && !defined.is_empty() => {
                let inner = u.choose(defined)?;
                let mut records = Vec::new();
                for _ in 0..u.int_in_range(0..=3)? {
                    records.push(record(u, inner, defined, registry, depth + 1)?);
                }
                let l = SubTemplateListRepr {
                    semantic: u.int_in_range(0..=4)?,
                    template_id: inner.id(),
                    records,
                };
                match l.to_value() {
                    Ok(v) => v,
                    Err(_) => return Err(arbitrary::Error::IncorrectFormat),
                }
            }
            DataType::SubTemplateList | DataType::SubTemplateMultiList if var => {
                // An empty list (semantic, template id 256 / no groups).
                leaf_value(u, f.data_type, Some(3))?
            }
            dt => leaf_value(u, dt, len)?,
        };
        let long_length = var && value.natural_len() < 255 && u.ratio(1, 4)?;
        fields.push(FieldValue {
            spec: f.spec,
            value,
            long_length,
        });
    }
    Ok(DataRecordRepr { fields })
}

fn message(u: &mut Unstructured<'_>, registry: &Registry) -> Result<MessageRepr> {
    let mut sets = Vec::new();
    let mut defined: Vec<Template> = Vec::new();
    let mut ids: Vec<u16> = Vec::new();
    for _ in 0..u.int_in_range(1..=6)? {
        match u.int_in_range(0..=4)? {
            0 | 1 => {
                let options = u.ratio(1, 3)?;
                let mut recs = Vec::new();
                for _ in 0..u.int_in_range(1..=3)? {
                    if u.ratio(1, 8)? {
                        recs.push(TemplateRepr::withdrawal(u.int_in_range(256..=400)?));
                        continue;
                    }
                    let id = u.int_in_range(256..=400)?;
                    if ids.contains(&id) {
                        continue;
                    }
                    let mut specs = Vec::new();
                    for _ in 0..u.int_in_range(1..=8)? {
                        specs.push(match u.int_in_range(0..=11)? {
                            0 => FieldSpec::iana(291, VAR),
                            1 => FieldSpec::iana(292, VAR),
                            _ => valid_leaf_spec(u, registry)?,
                        });
                    }
                    let scope = if options {
                        u.int_in_range(1..=specs.len() as u16)?
                    } else {
                        0
                    };
                    let Ok(t) = Template::new(
                        id,
                        options,
                        scope,
                        specs.iter().copied(),
                        registry,
                        DEFAULT_MAX_FIELDS,
                    ) else {
                        continue;
                    };
                    ids.push(id);
                    defined.push(t);
                    recs.push(if options {
                        TemplateRepr::options(id, scope, specs)
                    } else {
                        TemplateRepr::new(id, specs)
                    });
                }
                if recs.is_empty() {
                    continue;
                }
                sets.push(SetRepr::new(if options {
                    SetContent::OptionsTemplates(recs)
                } else {
                    SetContent::Templates(recs)
                }));
            }
            2 | 3 if !defined.is_empty() => {
                let t = u.choose(&defined)?.clone();
                let mut records = Vec::new();
                for _ in 0..u.int_in_range(0..=5)? {
                    records.push(record(u, &t, &defined, registry, 0)?);
                }
                let padding = match t.fixed_record_len() {
                    Some(n) => u.int_in_range(0..=(n.min(4) - 1) as u16)?,
                    None => 0,
                };
                sets.push(SetRepr {
                    content: SetContent::Data {
                        template_id: t.id(),
                        records,
                    },
                    padding,
                });
            }
            _ => {
                let set_id = u.int_in_range(401..=65535)?;
                let n = u.int_in_range(0..=64)?;
                let body = u.bytes(n)?.to_vec();
                sets.push(SetRepr::new(SetContent::Raw { set_id, body }));
            }
        }
    }
    Ok(MessageRepr {
        export_time: u.arbitrary()?,
        sequence_number: u.arbitrary()?,
        observation_domain_id: u.arbitrary()?,
        sets,
    })
}

fuzz_target!(|data: &[u8]| {
    let registry = Registry::new();
    let mut u = Unstructured::new(data);
    let Ok(m) = message(&mut u, &registry) else {
        return;
    };
    if m.buffer_len() > 65535 {
        return;
    }
    let bytes = match m.to_bytes() {
        Ok(b) => b,
        Err(e) => panic!("a valid message does not encode: {e}\n{m:?}"),
    };
    let back = match MessageRepr::parse_bytes(&bytes) {
        Ok(b) => b,
        Err(e) => panic!("an encoded message does not parse: {e}\n{m:?}\n{bytes:02x?}"),
    };
    assert_same(&m, &back, &format!("emit -> parse\n{bytes:02x?}"));
    assert_eq!(back.to_bytes().unwrap(), bytes, "re-encoding");
    black_box(back);
});
