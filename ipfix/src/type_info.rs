//! RFC 5610 type information: options data records that describe an information element
//! (its id, enterprise, data type, name, semantics and units), so that a collector decodes
//! enterprise elements it has never heard of with their proper type.
//!
//! The [`Session`](crate::Session) gathers each options record's description with
//! [`TypeInfo::observe`] and registers the element in its registry (bounded by
//! [`SessionConfig::max_learned_elements`](crate::SessionConfig::max_learned_elements));
//! templates already held that use the element are then re-resolved ("re-typed"). This is
//! IPFIX's own: NetFlow v9 has no such records.

use flowwire_record::registry::{CustomElement, FieldId, ie};
use flowwire_record::{DataType, Semantics, Units, Value};

/// The description of one element, gathered from an options record's fields.
#[derive(Debug, Default, Clone, Copy)]
pub struct TypeInfo<'a> {
    /// informationElementId (303).
    pub id: Option<u16>,
    /// privateEnterpriseNumber (346).
    pub pen: Option<u32>,
    /// informationElementDataType (339).
    pub data_type: Option<u64>,
    /// informationElementName (341).
    pub name: Option<&'a [u8]>,
    /// informationElementSemantics (344).
    pub semantics: Option<u64>,
    /// informationElementUnits (345).
    pub units: Option<u64>,
}

impl<'a> TypeInfo<'a> {
    /// Takes one field of an options record; returns whether it was an RFC 5610 one.
    pub fn observe(&mut self, field: FieldId, value: &Value<'a>) -> bool {
        if field.pen != 0 {
            return false;
        }
        match field.id {
            ie::INFORMATION_ELEMENT_ID => {
                self.id = value.as_u64().and_then(|x| u16::try_from(x).ok())
            }
            ie::PRIVATE_ENTERPRISE_NUMBER => {
                self.pen = value.as_u64().and_then(|x| u32::try_from(x).ok())
            }
            ie::INFORMATION_ELEMENT_DATA_TYPE => self.data_type = value.as_u64(),
            ie::INFORMATION_ELEMENT_NAME => self.name = value.as_bytes(),
            ie::INFORMATION_ELEMENT_SEMANTICS => self.semantics = value.as_u64(),
            ie::INFORMATION_ELEMENT_UNITS => self.units = value.as_u64(),
            _ => return false,
        }
        true
    }

    /// The element described, when the record names it, gives its id and a data type this
    /// crate knows.
    pub fn element(&self) -> Option<CustomElement> {
        let id = self.id?;
        let data_type = data_type_from_code(self.data_type?)?;
        let name = Value::String(self.name.unwrap_or_default())
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)?;
        Some(CustomElement {
            field: FieldId {
                pen: self.pen.unwrap_or(0),
                id,
            },
            name: name.into(),
            data_type,
            semantics: self.semantics.and_then(semantics_from_code),
            units: self.units.and_then(units_from_code),
        })
    }
}

/// The abstract data type of an RFC 5610 informationElementDataType code (IANA registry
/// "IPFIX Information Element Data Types").
pub fn data_type_from_code(code: u64) -> Option<DataType> {
    Some(match code {
        0 => DataType::OctetArray,
        1 => DataType::Unsigned8,
        2 => DataType::Unsigned16,
        3 => DataType::Unsigned32,
        4 => DataType::Unsigned64,
        5 => DataType::Signed8,
        6 => DataType::Signed16,
        7 => DataType::Signed32,
        8 => DataType::Signed64,
        9 => DataType::Float32,
        10 => DataType::Float64,
        11 => DataType::Boolean,
        12 => DataType::MacAddress,
        13 => DataType::String,
        14 => DataType::DateTimeSeconds,
        15 => DataType::DateTimeMilliseconds,
        16 => DataType::DateTimeMicroseconds,
        17 => DataType::DateTimeNanoseconds,
        18 => DataType::Ipv4Address,
        19 => DataType::Ipv6Address,
        20 => DataType::BasicList,
        21 => DataType::SubTemplateList,
        22 => DataType::SubTemplateMultiList,
        23 => DataType::Unsigned256,
        _ => return None,
    })
}

/// The RFC 5610 informationElementDataType code of a data type.
pub fn data_type_code(t: DataType) -> u8 {
    (0u8..=23)
        .find(|&c| data_type_from_code(u64::from(c)) == Some(t))
        .unwrap_or(0)
}

fn semantics_from_code(code: u64) -> Option<Semantics> {
    Some(match code {
        0 => Semantics::Default,
        1 => Semantics::Quantity,
        2 => Semantics::TotalCounter,
        3 => Semantics::DeltaCounter,
        4 => Semantics::Identifier,
        5 => Semantics::Flags,
        6 => Semantics::List,
        7 => Semantics::SnmpCounter,
        8 => Semantics::SnmpGauge,
        _ => return None,
    })
}

fn units_from_code(code: u64) -> Option<Units> {
    Some(match code {
        1 => Units::Bits,
        2 => Units::Octets,
        3 => Units::Packets,
        4 => Units::Flows,
        5 => Units::Seconds,
        6 => Units::Milliseconds,
        7 => Units::Microseconds,
        8 => Units::Nanoseconds,
        9 => Units::FourOctetWords,
        10 => Units::Messages,
        11 => Units::Hops,
        12 => Units::Entries,
        13 => Units::Frames,
        14 => Units::Ports,
        15 => Units::Inferred,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in 0u8..=23 {
            let t = data_type_from_code(u64::from(c)).unwrap();
            assert_eq!(data_type_code(t), c);
        }
        assert_eq!(data_type_from_code(24), None);
    }
}
