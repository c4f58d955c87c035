//! The information-element registry: every IANA IPFIX element (NetFlow v9 field types 1-127
//! share its numbers), the VMware / Open vSwitch enterprise elements (PEN 6876), Cisco ASA
//! NSEL's NetFlow v9 field types, and any element a user registers at run time.
//!
//! Elements are keyed by [`FieldId`]: the enterprise number (0 for IANA) and the element id.
//! NetFlow v9 has no enterprise numbers on the wire; its vendor field types 32768-65535 are
//! keyed as `FieldId { pen: 0, id }` with the full 16-bit id, which can never collide with an
//! IANA IPFIX element (those are 15-bit).
//!
//! ```
//! use flowwire_record::registry::{self, FieldId};
//! let e = registry::lookup(FieldId::iana(1)).unwrap();
//! assert_eq!(e.name, "octetDeltaCount");
//! assert_eq!(registry::lookup_name("postNATSourceIPv4Address").unwrap().id, 225);
//! ```

#[rustfmt::skip]
mod generated;

use core::fmt;
use std::borrow::Cow;
use std::collections::HashMap;

use crate::data_type::{DataType, Semantics, Status, Units};

pub use generated::{IANA_REGISTRY_UPDATED, ie};

/// Cisco ASA NSEL's NetFlow v9 field types (above 32767) as named constants.
pub mod nsel {
    /// `NF_F_INGRESS_ACL_ID` (33000).
    pub const INGRESS_ACL_ID: u16 = 33000;
    /// `NF_F_EGRESS_ACL_ID` (33001).
    pub const EGRESS_ACL_ID: u16 = 33001;
    /// `NF_F_FW_EXT_EVENT` (33002).
    pub const FW_EXT_EVENT: u16 = 33002;
    /// `NF_F_USERNAME` (40000).
    pub const USERNAME: u16 = 40000;
    /// `NF_F_XLATE_SRC_ADDR_IPV4` (40001): the source address after NAT.
    pub const XLATE_SRC_ADDR_IPV4: u16 = 40001;
    /// `NF_F_XLATE_DST_ADDR_IPV4` (40002): the destination address after NAT.
    pub const XLATE_DST_ADDR_IPV4: u16 = 40002;
    /// `NF_F_XLATE_SRC_PORT` (40003).
    pub const XLATE_SRC_PORT: u16 = 40003;
    /// `NF_F_XLATE_DST_PORT` (40004).
    pub const XLATE_DST_PORT: u16 = 40004;
    /// `NF_F_FW_EVENT` (40005).
    pub const FW_EVENT: u16 = 40005;
}

/// Well-known private enterprise numbers.
pub mod pen {
    /// IANA itself: the standard elements.
    pub const IANA: u32 = 0;
    /// Cisco Systems.
    pub const CISCO: u32 = 9;
    /// The reverse-direction elements of RFC 5103 (biflow).
    pub const REVERSE: u32 = 29305;
    /// VMware, whose elements Open vSwitch's IPFIX uses.
    pub const VMWARE: u32 = 6876;
}

/// The identity of an information element: private enterprise number and element id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FieldId {
    /// Private enterprise number; 0 for IANA elements and NetFlow v9 field types.
    pub pen: u32,
    /// Element id (15 bits in IPFIX; any 16-bit NetFlow v9 field type).
    pub id: u16,
}

impl FieldId {
    /// An IANA (or NetFlow v9) element.
    pub const fn iana(id: u16) -> Self {
        FieldId { pen: 0, id }
    }

    /// An enterprise-specific element.
    pub const fn enterprise(pen: u32, id: u16) -> Self {
        FieldId { pen, id }
    }
}

impl fmt::Display for FieldId {
    /// `ID` for IANA elements, `PEN:ID` for enterprise ones.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pen == 0 {
            write!(f, "{}", self.id)
        } else {
            write!(f, "{}:{}", self.pen, self.id)
        }
    }
}

/// A `ID` or `PEN:ID` string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an element id (ID or PEN:ID): {input:?}")]
pub struct FieldIdParseError {
    /// The text that failed to parse.
    pub input: String,
}

impl core::str::FromStr for FieldId {
    type Err = FieldIdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || FieldIdParseError {
            input: s.to_owned(),
        };
        match s.split_once(':') {
            Some((pen, id)) => Ok(FieldId {
                pen: pen.trim().parse().map_err(|_| err())?,
                id: id.trim().parse().map_err(|_| err())?,
            }),
            None => Ok(FieldId::iana(s.trim().parse().map_err(|_| err())?)),
        }
    }
}

/// One entry of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InformationElement {
    /// Private enterprise number (0 for IANA).
    pub pen: u32,
    /// Element id.
    pub id: u16,
    /// The registry name, e.g. `octetDeltaCount`.
    pub name: &'static str,
    /// Abstract data type.
    pub data_type: DataType,
    /// Data type semantics, where the registry gives them.
    pub semantics: Option<Semantics>,
    /// Units, where the registry gives them.
    pub units: Option<Units>,
    /// Current or deprecated.
    pub status: Status,
}

impl InformationElement {
    /// This element's [`FieldId`].
    pub const fn field_id(&self) -> FieldId {
        FieldId {
            pen: self.pen,
            id: self.id,
        }
    }
}

const fn nsel(
    id: u16,
    name: &'static str,
    data_type: DataType,
    semantics: Semantics,
) -> InformationElement {
    InformationElement {
        pen: 0,
        id,
        name,
        data_type,
        semantics: Some(semantics),
        units: None,
        status: Status::Current,
    }
}

/// Cisco ASA NSEL (NetFlow Security Event Logging) NetFlow v9 field types above 32767, as the
/// ASA sends them. NSEL also relies on IANA elements 148, 176-178, 225-228, 231-233, 298-299,
/// 323 and 33000-33002 below.
static CISCO_NSEL: [InformationElement; 9] = [
    nsel(
        33000,
        "NF_F_INGRESS_ACL_ID",
        DataType::OctetArray,
        Semantics::Identifier,
    ),
    nsel(
        33001,
        "NF_F_EGRESS_ACL_ID",
        DataType::OctetArray,
        Semantics::Identifier,
    ),
    nsel(
        33002,
        "NF_F_FW_EXT_EVENT",
        DataType::Unsigned16,
        Semantics::Identifier,
    ),
    nsel(40000, "NF_F_USERNAME", DataType::String, Semantics::Default),
    nsel(
        40001,
        "NF_F_XLATE_SRC_ADDR_IPV4",
        DataType::Ipv4Address,
        Semantics::Default,
    ),
    nsel(
        40002,
        "NF_F_XLATE_DST_ADDR_IPV4",
        DataType::Ipv4Address,
        Semantics::Default,
    ),
    nsel(
        40003,
        "NF_F_XLATE_SRC_PORT",
        DataType::Unsigned16,
        Semantics::Identifier,
    ),
    nsel(
        40004,
        "NF_F_XLATE_DST_PORT",
        DataType::Unsigned16,
        Semantics::Identifier,
    ),
    nsel(
        40005,
        "NF_F_FW_EVENT",
        DataType::Unsigned8,
        Semantics::Identifier,
    ),
];

fn search(table: &'static [InformationElement], id: u16) -> Option<&'static InformationElement> {
    table
        .binary_search_by_key(&id, |e| e.id)
        .ok()
        .and_then(|i| table.get(i))
}

/// Looks up a built-in element by id, in O(log n) without allocation.
pub fn lookup(field: FieldId) -> Option<&'static InformationElement> {
    match field.pen {
        pen::IANA if field.id >= 0x8000 => search(&CISCO_NSEL, field.id),
        pen::IANA => search(&generated::IANA, field.id),
        pen::VMWARE => search(&generated::VMWARE, field.id),
        _ => None,
    }
}

/// Looks up a built-in element by its registry name (case-sensitive, as the registry spells it).
pub fn lookup_name(name: &str) -> Option<&'static InformationElement> {
    builtin().find(|e| e.name == name)
}

/// Every built-in element: the IANA ones by id, then VMware's, then Cisco NSEL's.
pub fn builtin() -> impl Iterator<Item = &'static InformationElement> {
    generated::IANA
        .iter()
        .chain(generated::VMWARE.iter())
        .chain(CISCO_NSEL.iter())
}

/// The number of IANA elements in the built-in table.
pub fn iana_len() -> usize {
    generated::IANA.len()
}

/// An element registered at run time: like [`InformationElement`] but with an owned name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomElement {
    /// The element's identity.
    pub field: FieldId,
    /// Its name.
    pub name: Cow<'static, str>,
    /// Its abstract data type.
    pub data_type: DataType,
    /// Semantics, if known.
    pub semantics: Option<Semantics>,
    /// Units, if known.
    pub units: Option<Units>,
}

/// A registry that starts with the built-in elements and accepts more at run time: vendor
/// elements a deployment needs, or those an IPFIX exporter describes with RFC 5610
/// type-information records.
///
/// Elements registered here take precedence over the built-in ones with the same id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    custom: HashMap<FieldId, CustomElement>,
}

/// What a lookup in a [`Registry`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementInfo<'r> {
    /// The element's identity.
    pub field: FieldId,
    /// Its name.
    pub name: &'r str,
    /// Its abstract data type.
    pub data_type: DataType,
    /// Semantics, if known.
    pub semantics: Option<Semantics>,
    /// Units, if known.
    pub units: Option<Units>,
}

impl From<&'static InformationElement> for ElementInfo<'static> {
    fn from(e: &'static InformationElement) -> Self {
        ElementInfo {
            field: e.field_id(),
            name: e.name,
            data_type: e.data_type,
            semantics: e.semantics,
            units: e.units,
        }
    }
}

impl Registry {
    /// A registry with only the built-in elements.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds or replaces an element; returns the one it replaced, if any.
    pub fn register(&mut self, element: CustomElement) -> Option<CustomElement> {
        self.custom.insert(element.field, element)
    }

    /// Removes a run-time element.
    pub fn unregister(&mut self, field: FieldId) -> Option<CustomElement> {
        self.custom.remove(&field)
    }

    /// The number of run-time elements.
    pub fn custom_len(&self) -> usize {
        self.custom.len()
    }

    /// Looks up an element: run-time ones first, then the built-in table.
    pub fn get(&self, field: FieldId) -> Option<ElementInfo<'_>> {
        if let Some(c) = self.custom.get(&field) {
            return Some(ElementInfo {
                field,
                name: &c.name,
                data_type: c.data_type,
                semantics: c.semantics,
                units: c.units,
            });
        }
        lookup(field).map(ElementInfo::from)
    }

    /// Looks up an element by name: run-time ones first, then the built-in table.
    pub fn get_by_name(&self, name: &str) -> Option<ElementInfo<'_>> {
        if let Some(c) = self.custom.values().find(|c| c.name == name) {
            return self.get(c.field);
        }
        lookup_name(name).map(ElementInfo::from)
    }

    /// The data type to decode a field with: the registered one, or octetArray for unknown
    /// elements so that their bytes are still kept.
    pub fn data_type(&self, field: FieldId) -> DataType {
        self.get(field)
            .map_or(DataType::OctetArray, |e| e.data_type)
    }

    /// Every element: built-in ones not overridden, then run-time ones (in no fixed order).
    pub fn iter(&self) -> impl Iterator<Item = ElementInfo<'_>> {
        builtin()
            .filter(|e| !self.custom.contains_key(&e.field_id()))
            .map(|e| ElementInfo {
                field: e.field_id(),
                name: e.name,
                data_type: e.data_type,
                semantics: e.semantics,
                units: e.units,
            })
            .chain(self.custom.values().map(|c| ElementInfo {
                field: c.field,
                name: &c.name,
                data_type: c.data_type,
                semantics: c.semantics,
                units: c.units,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_iana_registry_is_there() {
        assert_eq!(iana_len(), 502);
        assert!(
            generated::IANA.windows(2).all(|w| w[0].id < w[1].id),
            "sorted"
        );
        let last = generated::IANA.last().unwrap();
        assert_eq!(last.id, 533);
    }

    #[test]
    fn well_known_elements() {
        let e = lookup(FieldId::iana(1)).unwrap();
        assert_eq!(
            (e.name, e.data_type, e.semantics, e.units),
            (
                "octetDeltaCount",
                DataType::Unsigned64,
                Some(Semantics::DeltaCounter),
                Some(Units::Octets)
            )
        );
        assert_eq!(lookup_name("postNATSourceIPv4Address").unwrap().id, 225);
        assert_eq!(
            lookup(FieldId::iana(291)).unwrap().data_type,
            DataType::BasicList
        );
        assert_eq!(lookup(FieldId::iana(0)), None);
        assert_eq!(lookup(FieldId::iana(534)), None);
        assert_eq!(lookup(FieldId::iana(40005)).unwrap().name, "NF_F_FW_EVENT");
        let tunnel = lookup(FieldId::enterprise(pen::VMWARE, 892)).unwrap();
        assert_eq!(
            (tunnel.name, tunnel.data_type),
            ("tunnelKey", DataType::OctetArray)
        );
        assert_eq!(
            lookup(FieldId::enterprise(pen::VMWARE, 898)).unwrap().name,
            "virtualObsID"
        );
        assert_eq!(lookup(FieldId::enterprise(12345, 1)), None);
    }

    #[test]
    fn deprecated_elements_are_marked() {
        // 23 postOctetDeltaCount is current; 105-127 are reserved; 'samplingInterval' 34 is deprecated.
        assert_eq!(
            lookup(FieldId::iana(34)).unwrap().status,
            Status::Deprecated
        );
        assert_eq!(lookup(FieldId::iana(1)).unwrap().status, Status::Current);
    }

    #[test]
    fn runtime_registration_overrides() {
        let mut r = Registry::new();
        let f = FieldId::enterprise(35632, 57590);
        assert_eq!(r.data_type(f), DataType::OctetArray);
        r.register(CustomElement {
            field: f,
            name: "L7_PROTO_NAME".into(),
            data_type: DataType::String,
            semantics: None,
            units: None,
        });
        assert_eq!(r.get(f).unwrap().name, "L7_PROTO_NAME");
        assert_eq!(r.get_by_name("L7_PROTO_NAME").unwrap().field, f);
        assert_eq!(r.data_type(f), DataType::String);
        assert_eq!(r.get(FieldId::iana(8)).unwrap().name, "sourceIPv4Address");
        assert_eq!(r.iter().count(), builtin().count() + 1);
    }

    #[test]
    fn field_id_text() {
        assert_eq!("6876:892".parse(), Ok(FieldId::enterprise(6876, 892)));
        assert_eq!("8".parse(), Ok(FieldId::iana(8)));
        assert!("x".parse::<FieldId>().is_err());
        assert_eq!(FieldId::enterprise(6876, 892).to_string(), "6876:892");
    }
}
