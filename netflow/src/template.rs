//! A validated NetFlow v9 template (data or options), as the session stores it and as data
//! records are split and decoded by.

use core::mem::size_of;

use flowwire_record::plan::{PlanField, RecordPlan};
use flowwire_record::registry::{FieldId, Registry};
use flowwire_record::template_store::TemplateCost;
use flowwire_record::{DataType, Value};

use crate::error::{Error, Result, TemplateProblem};
use crate::wire::v9_flowset::MIN_DATA_SET_ID;
use crate::wire::v9_template::{OptionsTemplateRecord, TemplateRecord};

/// The field length that H3C and Huawei NetStream use in v9 for a variable-length field
/// (borrowed from IPFIX, RFC 7011 §7): the value is preceded by a 1-byte length, or 255 and a
/// 2-byte length.
pub const VARIABLE_LENGTH: u16 = 65535;

/// One field of a template: an options template's scope field or a regular field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Whether this is an options template scope field; its type is then a
    /// [`crate::wire::v9_template::scope`] value, not a field type.
    pub scope: bool,
    /// The field type (or scope type).
    pub field_type: u16,
    /// The field length in bytes, or [`VARIABLE_LENGTH`].
    pub length: u16,
    /// The data type values of this field decode as: the registry's for the field type
    /// (field types share IANA's numbers; vendor types ≥ 32768 are looked up as
    /// `FieldId { pen: 0, id }`; unknown ones are octetArray), unsigned64 for scope values of
    /// up to 8 bytes.
    pub data_type: DataType,
}

impl FieldSpec {
    /// A regular field, its data type taken from `registry`.
    pub fn field(field_type: u16, length: u16, registry: &Registry) -> Self {
        FieldSpec {
            scope: false,
            field_type,
            length,
            data_type: registry.data_type(FieldId::iana(field_type)),
        }
    }

    /// A scope field of an options template.
    pub fn scope(scope_type: u16, length: u16) -> Self {
        FieldSpec {
            scope: true,
            field_type: scope_type,
            length,
            data_type: if (1..=8).contains(&length) {
                DataType::Unsigned64
            } else {
                DataType::OctetArray
            },
        }
    }

    /// Whether the field is variable-length (H3C/Huawei extension).
    pub const fn is_variable(&self) -> bool {
        self.length == VARIABLE_LENGTH
    }

    /// The element id to map this field by (scope fields have none: `None`).
    pub const fn field_id(&self) -> Option<FieldId> {
        if self.scope {
            None
        } else {
            Some(FieldId::iana(self.field_type))
        }
    }

    /// Decodes a value of this field, by the template's length: strictly where the length
    /// suits the data type, leniently otherwise (8-byte FIRST_SWITCHED, 8-byte counters and
    /// other off-registry lengths; anything undecodable stays an octet array). Never fails.
    #[inline]
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Value<'a> {
        Value::decode_lenient(self.data_type, bytes)
    }
}

/// A validated template: at least one field, records at least 1 byte long, id ≥ 256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    id: u16,
    fields: Vec<FieldSpec>,
    scope_count: usize,
    options: bool,
    min_record_len: usize,
    variable: bool,
    /// Data templates compiled for decoding records into `FlowRecord`s.
    plan: Option<RecordPlan>,
}

impl Template {
    /// A template from its fields (scope fields first for options templates, marked by
    /// [`FieldSpec::scope`]). `offset` is where its record was found, for errors.
    pub fn new(id: u16, fields: Vec<FieldSpec>, options: bool, offset: usize) -> Result<Self> {
        if id < MIN_DATA_SET_ID {
            return Err(Error::BadTemplate {
                offset,
                template_id: id,
                problem: TemplateProblem::ReservedId,
            });
        }
        if fields.is_empty() {
            return Err(Error::BadTemplate {
                offset,
                template_id: id,
                problem: TemplateProblem::NoFields,
            });
        }
        let variable = fields.iter().any(FieldSpec::is_variable);
        let min_record_len = fields
            .iter()
            .map(|f| {
                if f.is_variable() {
                    1
                } else {
                    usize::from(f.length)
                }
            })
            .sum::<usize>();
        if min_record_len == 0 {
            return Err(Error::BadTemplate {
                offset,
                template_id: id,
                problem: TemplateProblem::ZeroLengthRecord,
            });
        }
        let scope_count = fields.iter().filter(|f| f.scope).count();
        let plan = (!options).then(|| {
            RecordPlan::compile_typed(fields.iter().map(|f| {
                (
                    PlanField::new(FieldId::iana(f.field_type), f.length),
                    f.data_type,
                )
            }))
        });
        Ok(Template {
            id,
            fields,
            scope_count,
            options,
            min_record_len,
            variable,
            plan,
        })
    }

    /// A data template from its wire record.
    pub fn from_record(record: &TemplateRecord<'_>, registry: &Registry) -> Result<Self> {
        let fields = record
            .fields()
            .map(|(t, l)| FieldSpec::field(t, l, registry))
            .collect();
        Template::new(record.template_id(), fields, false, record.offset())
    }

    /// An options template from its wire record.
    pub fn from_options_record(
        record: &OptionsTemplateRecord<'_>,
        registry: &Registry,
    ) -> Result<Self> {
        let fields = record
            .scope_fields()
            .map(|(t, l)| FieldSpec::scope(t, l))
            .chain(
                record
                    .option_fields()
                    .map(|(t, l)| FieldSpec::field(t, l, registry)),
            )
            .collect();
        Template::new(record.template_id(), fields, true, record.offset())
    }

    /// The template id.
    pub const fn id(&self) -> u16 {
        self.id
    }
    /// All fields, scope fields first.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }
    /// The scope fields (empty for data templates).
    pub fn scope_fields(&self) -> &[FieldSpec] {
        self.fields.get(..self.scope_count).unwrap_or_default()
    }
    /// The non-scope fields.
    pub fn option_fields(&self) -> &[FieldSpec] {
        self.fields.get(self.scope_count..).unwrap_or_default()
    }
    /// Whether this is an options template.
    pub const fn is_options(&self) -> bool {
        self.options
    }
    /// The length of its records (the minimum, with variable-length fields).
    pub const fn min_record_len(&self) -> usize {
        self.min_record_len
    }
    /// Whether it has variable-length fields.
    pub const fn is_variable(&self) -> bool {
        self.variable
    }
    /// The compiled decode plan of a data template (`None` for options templates).
    pub fn plan(&self) -> Option<&RecordPlan> {
        self.plan.as_ref()
    }
}

impl TemplateCost for Template {
    fn heap_bytes(&self) -> usize {
        self.fields.capacity() * size_of::<FieldSpec>()
            + self.plan.as_ref().map_or(0, RecordPlan::heap_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let r = Registry::new();
        let f = |t, l| FieldSpec::field(t, l, &r);
        assert!(matches!(
            Template::new(255, vec![f(8, 4)], false, 3),
            Err(Error::BadTemplate {
                offset: 3,
                problem: TemplateProblem::ReservedId,
                ..
            })
        ));
        assert!(matches!(
            Template::new(256, vec![], false, 0),
            Err(Error::BadTemplate {
                problem: TemplateProblem::NoFields,
                ..
            })
        ));
        assert!(matches!(
            Template::new(256, vec![f(8, 0), f(12, 0)], false, 0),
            Err(Error::BadTemplate {
                problem: TemplateProblem::ZeroLengthRecord,
                ..
            })
        ));
        let t = Template::new(256, vec![f(8, 4), f(82, VARIABLE_LENGTH)], false, 0).unwrap();
        assert_eq!((t.min_record_len(), t.is_variable()), (5, true));
        assert_eq!(t.fields()[0].data_type, DataType::Ipv4Address);
        assert_eq!(t.fields()[1].data_type, DataType::String);
        assert_eq!(f(40005, 1).data_type, DataType::Unsigned8);
        assert_eq!(f(60000, 1).data_type, DataType::OctetArray);
    }
}
