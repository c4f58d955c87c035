//! Owned NetFlow v9 export packet: header, template, options template and data FlowSets,
//! with `parse` / `buffer_len` / `emit`.

use bytes::BufMut;
use flowwire_record::registry::{FieldId, Registry};
use flowwire_record::{OwnedValue, Value};

use super::{check_out, emit_to_buf};
use crate::error::{Error, Result};
use crate::template::{FieldSpec, Template};
use crate::wire::v9_data::DataRecords;
use crate::wire::v9_flowset::{
    FlowSetKind, OPTIONS_TEMPLATE_SET_ID, SET_HEADER_LEN, TEMPLATE_SET_ID,
};
use crate::wire::v9_packet::{HEADER_LEN, V9Packet, VERSION};
use crate::wire::v9_template::{FIELD_SPEC_LEN, OPTIONS_HEADER_LEN, TEMPLATE_HEADER_LEN};
use crate::wire::{write_u16, write_u32};

/// A template record: id and (field type, length) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRepr {
    /// Template id (≥ 256).
    pub id: u16,
    /// (field type, length) pairs.
    pub fields: Vec<(u16, u16)>,
}

impl TemplateRepr {
    /// Bytes on the wire.
    pub fn buffer_len(&self) -> usize {
        TEMPLATE_HEADER_LEN + FIELD_SPEC_LEN * self.fields.len()
    }
    /// The validated template, with data types from `registry`.
    pub fn to_template(&self, registry: &Registry) -> Result<Template> {
        let f = self
            .fields
            .iter()
            .map(|&(t, l)| FieldSpec::field(t, l, registry))
            .collect();
        Template::new(self.id, f, false, 0)
    }
}

/// An options template record: id, scope (type, length) pairs and option (type, length)
/// pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsTemplateRepr {
    /// Template id (≥ 256).
    pub id: u16,
    /// (scope type, length) pairs.
    pub scope_fields: Vec<(u16, u16)>,
    /// (field type, length) pairs.
    pub option_fields: Vec<(u16, u16)>,
}

impl OptionsTemplateRepr {
    /// Bytes on the wire.
    pub fn buffer_len(&self) -> usize {
        OPTIONS_HEADER_LEN + FIELD_SPEC_LEN * (self.scope_fields.len() + self.option_fields.len())
    }
    /// The validated template, with data types from `registry`.
    pub fn to_template(&self, registry: &Registry) -> Result<Template> {
        let f = self
            .scope_fields
            .iter()
            .map(|&(t, l)| FieldSpec::scope(t, l))
            .chain(
                self.option_fields
                    .iter()
                    .map(|&(t, l)| FieldSpec::field(t, l, registry)),
            )
            .collect();
        Template::new(self.id, f, true, 0)
    }
}

/// A data FlowSet: the template its records follow and each record's values in template
/// order.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSetRepr {
    /// The template (its id is the FlowSet id).
    pub template: Template,
    /// Each record's values, one per template field.
    pub records: Vec<Vec<OwnedValue>>,
    /// Zero bytes after the records.
    pub padding: u16,
}

/// One FlowSet.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowSetRepr {
    /// A template FlowSet.
    Templates {
        /// The records.
        templates: Vec<TemplateRepr>,
        /// Zero bytes after them.
        padding: u16,
    },
    /// An options template FlowSet.
    OptionsTemplates {
        /// The records.
        templates: Vec<OptionsTemplateRepr>,
        /// Zero bytes after them.
        padding: u16,
    },
    /// A data FlowSet whose template is known.
    Data(DataSetRepr),
    /// A FlowSet kept as bytes (a data FlowSet whose template is unknown).
    Raw {
        /// FlowSet id.
        set_id: u16,
        /// Body bytes (after the FlowSet header).
        body: Vec<u8>,
    },
}

/// Whether a variable-length value of `n` octets is written with the 1-octet prefix. An empty
/// value takes the 3-octet form (`ff 00 00`): a record of a variable-length template then always
/// has a non-zero octet, and can never be mistaken for the zero padding at the end of a
/// FlowSet (which is how the decoder tells padding apart; found by fuzzing).
/// A field's value for the owned copy: decoded as the template says, except that a
/// variable-length value whose natural size is not its octet count (a 4-octet
/// dateTimeMilliseconds, a 2-octet unsigned64) is kept as its octets, since re-encoding would
/// write it at its natural size.
fn owned_value(spec: FieldSpec, bytes: &[u8]) -> OwnedValue {
    let v = spec.decode(bytes);
    if spec.is_variable() && v.natural_len() != bytes.len() {
        OwnedValue::OctetArray(bytes.to_vec())
    } else {
        v.to_owned_value()
    }
}

fn short_prefix(n: usize) -> bool {
    n > 0 && n < 255
}

fn value_len(spec: &FieldSpec, v: &OwnedValue) -> usize {
    if spec.is_variable() {
        let n = v.natural_len();
        n + if short_prefix(n) { 1 } else { 3 }
    } else {
        usize::from(spec.length)
    }
}

impl FlowSetRepr {
    /// Bytes on the wire, FlowSet header included.
    pub fn buffer_len(&self) -> usize {
        SET_HEADER_LEN
            + match self {
                FlowSetRepr::Templates { templates, padding } => {
                    templates
                        .iter()
                        .map(TemplateRepr::buffer_len)
                        .sum::<usize>()
                        + usize::from(*padding)
                }
                FlowSetRepr::OptionsTemplates { templates, padding } => {
                    templates
                        .iter()
                        .map(OptionsTemplateRepr::buffer_len)
                        .sum::<usize>()
                        + usize::from(*padding)
                }
                FlowSetRepr::Data(d) => {
                    d.records
                        .iter()
                        .map(|r| {
                            d.template
                                .fields()
                                .iter()
                                .zip(r)
                                .map(|(s, v)| value_len(s, v))
                                .sum::<usize>()
                        })
                        .sum::<usize>()
                        + usize::from(d.padding)
                }
                FlowSetRepr::Raw { body, .. } => body.len(),
            }
    }

    /// Records in the FlowSet, as the header's `count` counts them (0 for raw FlowSets).
    pub fn count(&self) -> usize {
        match self {
            FlowSetRepr::Templates { templates, .. } => templates.len(),
            FlowSetRepr::OptionsTemplates { templates, .. } => templates.len(),
            FlowSetRepr::Data(d) => d.records.len(),
            FlowSetRepr::Raw { .. } => 0,
        }
    }

    fn set_id(&self) -> u16 {
        match self {
            FlowSetRepr::Templates { .. } => TEMPLATE_SET_ID,
            FlowSetRepr::OptionsTemplates { .. } => OPTIONS_TEMPLATE_SET_ID,
            FlowSetRepr::Data(d) => d.template.id(),
            FlowSetRepr::Raw { set_id, .. } => *set_id,
        }
    }

    /// Writes the FlowSet into exactly [`FlowSetRepr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        check_out(out, len)?;
        let length = u16::try_from(len).map_err(|_| Error::Unencodable {
            what: "FlowSet longer than 65535 bytes",
        })?;
        out.fill(0);
        write_u16(out, 0, self.set_id());
        write_u16(out, 2, length);
        let mut pos = SET_HEADER_LEN;
        let spec = |out: &mut [u8], pos: &mut usize, (t, l): (u16, u16)| {
            write_u16(out, *pos, t);
            write_u16(out, *pos + 2, l);
            *pos += FIELD_SPEC_LEN;
        };
        let count16 = |n: usize| {
            u16::try_from(n).map_err(|_| Error::Unencodable {
                what: "more than 65535 fields",
            })
        };
        match self {
            FlowSetRepr::Templates { templates, .. } => {
                for t in templates {
                    write_u16(out, pos, t.id);
                    write_u16(out, pos + 2, count16(t.fields.len())?);
                    pos += TEMPLATE_HEADER_LEN;
                    for &f in &t.fields {
                        spec(out, &mut pos, f);
                    }
                }
            }
            FlowSetRepr::OptionsTemplates { templates, .. } => {
                for t in templates {
                    write_u16(out, pos, t.id);
                    write_u16(out, pos + 2, count16(t.scope_fields.len() * 4)?);
                    write_u16(out, pos + 4, count16(t.option_fields.len() * 4)?);
                    pos += OPTIONS_HEADER_LEN;
                    for &f in t.scope_fields.iter().chain(&t.option_fields) {
                        spec(out, &mut pos, f);
                    }
                }
            }
            FlowSetRepr::Data(d) => {
                for r in &d.records {
                    if r.len() != d.template.fields().len() {
                        return Err(Error::Unencodable {
                            what: "data record with a value count unlike its template's",
                        });
                    }
                    for (s, v) in d.template.fields().iter().zip(r) {
                        let n = value_len(s, v);
                        let field = out.get_mut(pos..pos + n).ok_or(Error::BufferTooSmall {
                            required: pos + n,
                            remaining: len,
                        })?;
                        let body = if s.is_variable() {
                            let vl = v.natural_len();
                            if short_prefix(vl) {
                                write_u16(field, 0, 0);
                                if let Some(b) = field.first_mut() {
                                    *b = vl as u8;
                                }
                                field.get_mut(1..)
                            } else {
                                if let Some(b) = field.first_mut() {
                                    *b = 255;
                                }
                                let vl16 = u16::try_from(vl).map_err(|_| Error::Unencodable {
                                    what: "variable-length value above 65535 bytes",
                                })?;
                                write_u16(field, 1, vl16);
                                field.get_mut(3..)
                            }
                        } else {
                            Some(field)
                        };
                        if let Some(body) = body {
                            emit_value(&v.as_value(), body, s.field_type)?;
                        }
                        pos += n;
                    }
                }
            }
            FlowSetRepr::Raw { body, .. } => {
                if let Some(o) = out.get_mut(SET_HEADER_LEN..) {
                    o.copy_from_slice(body);
                }
            }
        }
        Ok(())
    }
}

/// Writes a value into exactly `out.len()` bytes; octet arrays and strings shorter than the
/// field are zero-padded (fixed-length v9 string fields), longer ones are an error.
fn emit_value(v: &Value<'_>, out: &mut [u8], field_type: u16) -> Result<()> {
    match v.as_bytes() {
        Some(b) if b.len() <= out.len() => {
            out.fill(0);
            if let Some(o) = out.get_mut(..b.len()) {
                o.copy_from_slice(b);
            }
            Ok(())
        }
        _ => v.emit(out).map_err(|source| Error::Encode {
            field: FieldId::iana(field_type),
            source,
        }),
    }
}

/// An owned NetFlow v9 export packet.
#[derive(Debug, Clone, PartialEq)]
pub struct V9Repr {
    /// sysUptime at export (ms).
    pub sys_uptime: u32,
    /// Export time, seconds.
    pub unix_secs: u32,
    /// Packet sequence number.
    pub sequence: u32,
    /// Source id.
    pub source_id: u32,
    /// The FlowSets, in order.
    pub flowsets: Vec<FlowSetRepr>,
}

impl V9Repr {
    /// Reads a packet, strictly (any error in any FlowSet fails the parse). Data FlowSets are
    /// decoded by templates defined earlier in the same packet, then by `known`; those whose
    /// template is in neither are kept as [`FlowSetRepr::Raw`].
    pub fn parse<T: AsRef<[u8]>>(
        p: &V9Packet<T>,
        registry: &Registry,
        known: &[Template],
    ) -> Result<Self> {
        p.check_len()?;
        if p.version() != VERSION {
            return Err(Error::BadVersion {
                offset: 0,
                version: p.version(),
            });
        }
        let mut local: Vec<Template> = Vec::new();
        let mut flowsets = Vec::new();
        for set in p.flowsets() {
            let set = set?;
            let body_len = set.body().len();
            match set.kind() {
                FlowSetKind::Template => {
                    let mut templates = Vec::new();
                    for r in set.templates() {
                        let r = r?;
                        let t = TemplateRepr {
                            id: r.template_id(),
                            fields: r.fields().collect(),
                        };
                        let tpl = Template::from_record(&r, registry)?;
                        local.retain(|x| x.id() != tpl.id());
                        local.push(tpl);
                        templates.push(t);
                    }
                    let used: usize = templates.iter().map(TemplateRepr::buffer_len).sum();
                    flowsets.push(FlowSetRepr::Templates {
                        templates,
                        padding: (body_len - used) as u16,
                    });
                }
                FlowSetKind::OptionsTemplate => {
                    let mut templates = Vec::new();
                    for r in set.options_templates() {
                        let r = r?;
                        let t = OptionsTemplateRepr {
                            id: r.template_id(),
                            scope_fields: r.scope_fields().collect(),
                            option_fields: r.option_fields().collect(),
                        };
                        let tpl = Template::from_options_record(&r, registry)?;
                        local.retain(|x| x.id() != tpl.id());
                        local.push(tpl);
                        templates.push(t);
                    }
                    let used: usize = templates.iter().map(OptionsTemplateRepr::buffer_len).sum();
                    flowsets.push(FlowSetRepr::OptionsTemplates {
                        templates,
                        padding: (body_len - used) as u16,
                    });
                }
                FlowSetKind::Data(id) => {
                    let tpl = local
                        .iter()
                        .rev()
                        .find(|t| t.id() == id)
                        .or_else(|| known.iter().find(|t| t.id() == id));
                    let Some(tpl) = tpl else {
                        flowsets.push(FlowSetRepr::Raw {
                            set_id: id,
                            body: set.body().to_vec(),
                        });
                        continue;
                    };
                    let mut records = Vec::new();
                    let mut used = 0;
                    for r in DataRecords::new(set.body(), set.body_offset(), tpl) {
                        let r = r?;
                        used += r.bytes().len();
                        records.push(r.raw_fields().map(|(s, b)| owned_value(s, b)).collect());
                    }
                    flowsets.push(FlowSetRepr::Data(DataSetRepr {
                        template: tpl.clone(),
                        records,
                        padding: (body_len - used) as u16,
                    }));
                }
                FlowSetKind::Reserved(set_id) => {
                    return Err(Error::ReservedSetId {
                        offset: set.offset(),
                        set_id,
                    });
                }
            }
        }
        Ok(V9Repr {
            sys_uptime: p.sys_uptime(),
            unix_secs: p.unix_secs(),
            sequence: p.sequence(),
            source_id: p.source_id(),
            flowsets,
        })
    }

    /// The header's count: records in all FlowSets (raw ones count 0).
    pub fn count(&self) -> usize {
        self.flowsets.iter().map(FlowSetRepr::count).sum()
    }

    /// Bytes [`V9Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + self
                .flowsets
                .iter()
                .map(FlowSetRepr::buffer_len)
                .sum::<usize>()
    }

    /// Writes the packet into exactly [`V9Repr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        check_out(out, self.buffer_len())?;
        let count = u16::try_from(self.count()).map_err(|_| Error::Unencodable {
            what: "more than 65535 records in a v9 packet",
        })?;
        let mut p = V9Packet::new_unchecked(&mut *out);
        p.set_version(VERSION);
        p.set_count(count);
        p.set_sys_uptime(self.sys_uptime);
        p.set_unix_secs(self.unix_secs);
        p.set_sequence(self.sequence);
        p.set_source_id(self.source_id);
        let mut pos = HEADER_LEN;
        for s in &self.flowsets {
            let n = s.buffer_len();
            let o = out.get_mut(pos..pos + n).ok_or(Error::BufferTooSmall {
                required: pos + n,
                remaining: pos,
            })?;
            s.emit(o)?;
            pos += n;
        }
        Ok(())
    }

    /// Appends the packet to a [`BufMut`]; [`Error::BufferTooSmall`] if it has no room.
    pub fn emit_to<B: BufMut>(&self, buf: &mut B) -> Result<()> {
        emit_to_buf(buf, self.buffer_len(), |out| self.emit(out))
    }

    /// The packet as a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }
}

/// Writes a header at the start of `out` (used by the exporter to back-patch).
pub(crate) fn write_header(
    out: &mut [u8],
    count: u16,
    sys_uptime: u32,
    unix_secs: u32,
    sequence: u32,
    source_id: u32,
) {
    write_u16(out, 0, VERSION);
    write_u16(out, 2, count);
    write_u32(out, 4, sys_uptime);
    write_u32(out, 8, unix_secs);
    write_u32(out, 12, sequence);
    write_u32(out, 16, source_id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::v9_packet::tests::fixture;

    #[test]
    fn parse_emit_fixture() {
        let f = fixture();
        let p = V9Packet::new_checked(&f[..]).unwrap();
        let r = V9Repr::parse(&p, &Registry::new(), &[]).unwrap();
        assert_eq!(r.count(), 2);
        assert_eq!(r.flowsets.len(), 2);
        assert_eq!(r.to_vec().unwrap(), f);
        let mut b = bytes::BytesMut::new();
        r.emit_to(&mut b).unwrap();
        assert_eq!(&b[..], &f[..]);
        let mut buf = vec![0xa5; r.buffer_len()];
        r.emit(&mut buf).unwrap();
        assert_eq!(buf, f);
    }

    #[test]
    fn truncation_at_every_length() {
        let f = fixture();
        for n in 0..f.len() {
            match V9Packet::new_checked(&f[..n]) {
                Ok(p) => {
                    // Cuts at FlowSet boundaries parse (fewer FlowSets); others are errors.
                    let r = V9Repr::parse(&p, &Registry::new(), &[]);
                    assert_eq!(r.is_ok(), n <= 23 || n == 40, "{n}: {r:?}");
                }
                Err(e) => assert!(matches!(e, Error::Truncated { .. })),
            }
        }
    }

    #[test]
    fn emit_checks_the_buffer_length() {
        let f = fixture();
        let r = V9Repr::parse(
            &V9Packet::new_checked(&f[..]).unwrap(),
            &Registry::new(),
            &[],
        )
        .unwrap();
        let mut short = vec![0; f.len() - 1];
        assert_eq!(
            r.emit(&mut short),
            Err(Error::BufferTooSmall {
                required: f.len(),
                remaining: f.len() - 1
            })
        );
    }

    #[test]
    fn unknown_template_is_kept_raw() {
        let f = fixture();
        let mut only_data = f[..20].to_vec();
        only_data.extend_from_slice(&f[40..]);
        let p = V9Packet::new_checked(&only_data[..]).unwrap();
        let r = V9Repr::parse(&p, &Registry::new(), &[]).unwrap();
        assert!(matches!(
            r.flowsets[0],
            FlowSetRepr::Raw { set_id: 256, .. }
        ));
    }
}
