//! [`Template`]: a template or options template definition, checked and resolved against a
//! registry once, when it is learned, so that decoding its data records needs no look-ups.

use flowwire_record::DataType;
use flowwire_record::plan::{PlanField, RecordPlan};
use flowwire_record::registry::{FieldId, Registry, pen};
use flowwire_record::template_store::TemplateCost;

use crate::error::{Error, TemplateProblem};
use crate::wire::message::HEADER_LEN;
use crate::wire::set::{MIN_DATA_SET_ID, SET_HEADER_LEN};
use crate::wire::template::{FieldSpec, TemplateRecord};

/// The default cap on fields per template (Wireshark's default is 60, pmacct's 256; real
/// exporters send up to ~100).
pub const DEFAULT_MAX_FIELDS: usize = 1024;

/// The largest record a message can hold.
pub const MAX_RECORD_LEN: usize = 65535 - HEADER_LEN - SET_HEADER_LEN;

/// One field of a [`Template`]: its specifier and the data type it decodes as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateField {
    /// The specifier as sent.
    pub spec: FieldSpec,
    /// The data type: from the registry (run-time entries first, then built-in), RFC 5103
    /// reverse elements as their forward element, unknown elements as octetArray.
    pub data_type: DataType,
}

/// A checked template or options template: fields with their data types, the fixed record
/// length when there is one, and the smallest record length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    id: u16,
    scope_field_count: u16,
    options: bool,
    fields: Vec<TemplateField>,
    min_record_len: usize,
    fixed_record_len: Option<usize>,
    has_system_init_time: bool,
    lenient_risk: bool,
    /// The fields compiled for decoding records into `FlowRecord`s.
    plan: RecordPlan,
}

/// The data type an element decodes as, looked up in `registry` (RFC 5103 reverse elements,
/// PEN 29305, as their forward IANA element; unknown elements as octetArray).
pub fn resolve_data_type(registry: &Registry, field: FieldId) -> DataType {
    if let Some(e) = registry.get(field) {
        return e.data_type;
    }
    match field.pen {
        pen::REVERSE => registry
            .get(FieldId::iana(field.id))
            .map_or(DataType::OctetArray, |e| e.data_type),
        _ => DataType::OctetArray,
    }
}

impl Template {
    /// Checks and resolves a definition. `scope_field_count` is 0 for data templates.
    ///
    /// Refused: template ids below 256, no fields, more than `max_fields` fields, an options
    /// template whose scope count is 0 or above its field count, records that would be 0
    /// octets long (peers loop forever on those) or larger than a message.
    pub fn new(
        id: u16,
        options: bool,
        scope_field_count: u16,
        specs: impl IntoIterator<Item = FieldSpec>,
        registry: &Registry,
        max_fields: usize,
    ) -> Result<Template, TemplateProblem> {
        if id < MIN_DATA_SET_ID {
            return Err(TemplateProblem::ReservedId);
        }
        let mut fields = Vec::new();
        let mut min = 0usize;
        let mut fixed = true;
        for spec in specs {
            if fields.len() >= max_fields {
                return Err(TemplateProblem::TooManyFields { max: max_fields });
            }
            if spec.is_variable_length() {
                fixed = false;
                min += 1;
            } else {
                min += usize::from(spec.length);
            }
            fields.push(TemplateField {
                spec,
                data_type: resolve_data_type(registry, spec.field_id()),
            });
        }
        if fields.is_empty() {
            return Err(TemplateProblem::NoFields);
        }
        if options && (scope_field_count == 0 || usize::from(scope_field_count) > fields.len()) {
            return Err(TemplateProblem::BadScopeCount);
        }
        if min == 0 {
            return Err(TemplateProblem::ZeroLengthRecord);
        }
        if min > MAX_RECORD_LEN {
            return Err(TemplateProblem::RecordTooLarge);
        }
        fields.shrink_to_fit();
        let has_system_init_time = fields
            .iter()
            .any(|f| f.spec.field_id() == FieldId::iana(160));
        let lenient_risk = fields.iter().any(|f| {
            let dt = f.data_type;
            dt == DataType::Boolean
                || (!dt.is_variable_length()
                    && (f.spec.is_variable_length() || !dt.accepts_len(usize::from(f.spec.length))))
        });
        let plan = RecordPlan::compile_typed(fields.iter().map(|f| {
            (
                PlanField::new(f.spec.field_id(), f.spec.length),
                f.data_type,
            )
        }));
        Ok(Template {
            plan,
            has_system_init_time,
            lenient_risk,
            id,
            scope_field_count: if options { scope_field_count } else { 0 },
            options,
            fields,
            min_record_len: min,
            fixed_record_len: fixed.then_some(min),
        })
    }

    /// Checks and resolves a record from a template set (not a withdrawal).
    pub fn from_record(
        record: &TemplateRecord<'_>,
        registry: &Registry,
        max_fields: usize,
    ) -> Result<Template, Error> {
        let template_id = record.template_id();
        if usize::from(record.field_count()) > max_fields {
            return Err(Error::BadTemplate {
                offset: record.offset(),
                template_id,
                problem: TemplateProblem::TooManyFields { max: max_fields },
            });
        }
        Template::new(
            template_id,
            record.is_options(),
            record.scope_field_count(),
            record.fields(),
            registry,
            max_fields,
        )
        .map_err(|problem| Error::BadTemplate {
            offset: record.offset(),
            template_id,
            problem,
        })
    }

    /// The template id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Whether this is an options template.
    pub fn is_options(&self) -> bool {
        self.options
    }

    /// The number of scope fields (0 for data templates); they come first.
    pub fn scope_field_count(&self) -> u16 {
        self.scope_field_count
    }

    /// The fields in order.
    pub fn fields(&self) -> &[TemplateField] {
        &self.fields
    }

    /// The smallest record length (a variable-length field counts 1 octet).
    pub fn min_record_len(&self) -> usize {
        self.min_record_len
    }

    /// The record length when no field is variable-length.
    pub fn fixed_record_len(&self) -> Option<usize> {
        self.fixed_record_len
    }

    /// Whether the template has systemInitTimeMilliseconds (160).
    pub fn has_system_init_time(&self) -> bool {
        self.has_system_init_time
    }

    /// Whether some field may not decode strictly: a length its type does not allow (a
    /// variable-length field of a fixed-size type included), or a boolean.
    pub fn has_lenient_risk(&self) -> bool {
        self.lenient_risk
    }

    /// Whether the template has this element.
    pub fn contains(&self, field: FieldId) -> bool {
        self.fields.iter().any(|f| f.spec.field_id() == field)
    }

    /// The template compiled for decoding its records into `FlowRecord`s.
    pub fn plan(&self) -> &RecordPlan {
        &self.plan
    }
}

impl TemplateCost for Template {
    fn heap_bytes(&self) -> usize {
        self.fields.capacity() * core::mem::size_of::<TemplateField>() + self.plan.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let r = Registry::new();
        let ok = Template::new(256, false, 0, [FieldSpec::iana(8, 4)], &r, 10).unwrap();
        assert_eq!(ok.fixed_record_len(), Some(4));
        assert_eq!(ok.fields()[0].data_type, DataType::Ipv4Address);
        assert_eq!(
            Template::new(255, false, 0, [FieldSpec::iana(8, 4)], &r, 10),
            Err(TemplateProblem::ReservedId)
        );
        assert_eq!(
            Template::new(256, false, 0, [], &r, 10),
            Err(TemplateProblem::NoFields)
        );
        assert_eq!(
            Template::new(256, false, 0, [FieldSpec::iana(8, 0)], &r, 10),
            Err(TemplateProblem::ZeroLengthRecord)
        );
        assert_eq!(
            Template::new(256, false, 0, [FieldSpec::iana(8, 4); 3], &r, 2),
            Err(TemplateProblem::TooManyFields { max: 2 })
        );
        assert_eq!(
            Template::new(256, true, 0, [FieldSpec::iana(8, 4)], &r, 10),
            Err(TemplateProblem::BadScopeCount)
        );
        assert_eq!(
            Template::new(256, true, 2, [FieldSpec::iana(8, 4)], &r, 10),
            Err(TemplateProblem::BadScopeCount)
        );
        assert_eq!(
            Template::new(256, false, 0, [FieldSpec::iana(351, 65534); 2], &r, 10),
            Err(TemplateProblem::RecordTooLarge)
        );
        let var = Template::new(256, false, 0, [FieldSpec::iana(82, 65535)], &r, 10).unwrap();
        assert_eq!((var.min_record_len(), var.fixed_record_len()), (1, None));
        let rev =
            Template::new(256, false, 0, [FieldSpec::enterprise(29305, 1, 8)], &r, 10).unwrap();
        assert_eq!(rev.fields()[0].data_type, DataType::Unsigned64);
    }
}
