//! The abstract data types, data type semantics, units and status of information elements
//! (RFC 7012 §3, and the IANA registry's columns).

use core::fmt;
use core::str::FromStr;

/// An abstract data type of RFC 7012 §3.1 (plus `unsigned256`, added to the registry later).
///
/// The data type says how an element's bytes are to be read; the length comes from the
/// template, which may use fewer bytes than the type's natural size (reduced-size encoding,
/// RFC 7011 §6.2) or, for strings, octet arrays and lists, any length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    /// Any sequence of octets.
    OctetArray,
    /// Unsigned 8-bit integer.
    Unsigned8,
    /// Unsigned 16-bit integer.
    Unsigned16,
    /// Unsigned 32-bit integer.
    Unsigned32,
    /// Unsigned 64-bit integer.
    Unsigned64,
    /// Unsigned 256-bit integer, big-endian.
    Unsigned256,
    /// Signed 8-bit integer.
    Signed8,
    /// Signed 16-bit integer.
    Signed16,
    /// Signed 32-bit integer.
    Signed32,
    /// Signed 64-bit integer.
    Signed64,
    /// IEEE 754 single precision.
    Float32,
    /// IEEE 754 double precision.
    Float64,
    /// One octet: 1 is true, 2 is false.
    Boolean,
    /// A 6-octet IEEE 802 MAC address.
    MacAddress,
    /// UTF-8 text.
    String,
    /// Seconds since the Unix epoch, 32 bits.
    DateTimeSeconds,
    /// Milliseconds since the Unix epoch, 64 bits.
    DateTimeMilliseconds,
    /// NTP-format timestamp with the fraction's low 11 bits ignored (microsecond precision).
    DateTimeMicroseconds,
    /// NTP-format timestamp (seconds since 1900 and a 32-bit fraction).
    DateTimeNanoseconds,
    /// An IPv4 address.
    Ipv4Address,
    /// An IPv6 address.
    Ipv6Address,
    /// RFC 6313 basicList.
    BasicList,
    /// RFC 6313 subTemplateList.
    SubTemplateList,
    /// RFC 6313 subTemplateMultiList.
    SubTemplateMultiList,
}

impl DataType {
    /// All data types, in registry order.
    pub const ALL: [DataType; 24] = [
        DataType::OctetArray,
        DataType::Unsigned8,
        DataType::Unsigned16,
        DataType::Unsigned32,
        DataType::Unsigned64,
        DataType::Unsigned256,
        DataType::Signed8,
        DataType::Signed16,
        DataType::Signed32,
        DataType::Signed64,
        DataType::Float32,
        DataType::Float64,
        DataType::Boolean,
        DataType::MacAddress,
        DataType::String,
        DataType::DateTimeSeconds,
        DataType::DateTimeMilliseconds,
        DataType::DateTimeMicroseconds,
        DataType::DateTimeNanoseconds,
        DataType::Ipv4Address,
        DataType::Ipv6Address,
        DataType::BasicList,
        DataType::SubTemplateList,
        DataType::SubTemplateMultiList,
    ];

    /// The registry's name of the type, e.g. `"unsigned64"`.
    pub const fn name(self) -> &'static str {
        match self {
            DataType::OctetArray => "octetArray",
            DataType::Unsigned8 => "unsigned8",
            DataType::Unsigned16 => "unsigned16",
            DataType::Unsigned32 => "unsigned32",
            DataType::Unsigned64 => "unsigned64",
            DataType::Unsigned256 => "unsigned256",
            DataType::Signed8 => "signed8",
            DataType::Signed16 => "signed16",
            DataType::Signed32 => "signed32",
            DataType::Signed64 => "signed64",
            DataType::Float32 => "float32",
            DataType::Float64 => "float64",
            DataType::Boolean => "boolean",
            DataType::MacAddress => "macAddress",
            DataType::String => "string",
            DataType::DateTimeSeconds => "dateTimeSeconds",
            DataType::DateTimeMilliseconds => "dateTimeMilliseconds",
            DataType::DateTimeMicroseconds => "dateTimeMicroseconds",
            DataType::DateTimeNanoseconds => "dateTimeNanoseconds",
            DataType::Ipv4Address => "ipv4Address",
            DataType::Ipv6Address => "ipv6Address",
            DataType::BasicList => "basicList",
            DataType::SubTemplateList => "subTemplateList",
            DataType::SubTemplateMultiList => "subTemplateMultiList",
        }
    }

    /// The natural encoded size in octets, or `None` for the variable-length types
    /// (octetArray, string and the three list types).
    pub const fn natural_len(self) -> Option<usize> {
        match self {
            DataType::Unsigned8 | DataType::Signed8 | DataType::Boolean => Some(1),
            DataType::Unsigned16 | DataType::Signed16 => Some(2),
            DataType::Unsigned32
            | DataType::Signed32
            | DataType::Float32
            | DataType::DateTimeSeconds
            | DataType::Ipv4Address => Some(4),
            DataType::MacAddress => Some(6),
            DataType::Unsigned64
            | DataType::Signed64
            | DataType::Float64
            | DataType::DateTimeMilliseconds
            | DataType::DateTimeMicroseconds
            | DataType::DateTimeNanoseconds => Some(8),
            DataType::Ipv6Address => Some(16),
            DataType::Unsigned256 => Some(32),
            DataType::OctetArray
            | DataType::String
            | DataType::BasicList
            | DataType::SubTemplateList
            | DataType::SubTemplateMultiList => None,
        }
    }

    /// Whether an encoded value may be any length (octetArray, string, lists).
    pub const fn is_variable_length(self) -> bool {
        self.natural_len().is_none()
    }

    /// The lengths this type may be encoded with, as `(min, max)`: integers and float64 accept
    /// reduced-size encoding (RFC 7011 §6.2), the other fixed types only their natural size.
    pub const fn valid_lengths(self) -> (usize, usize) {
        match self {
            DataType::Unsigned8 | DataType::Signed8 => (1, 1),
            DataType::Unsigned16 | DataType::Signed16 => (1, 2),
            DataType::Unsigned32 | DataType::Signed32 => (1, 4),
            DataType::Unsigned64 | DataType::Signed64 => (1, 8),
            DataType::Unsigned256 => (1, 32),
            DataType::Float32 => (4, 4),
            DataType::Float64 => (4, 8),
            DataType::OctetArray
            | DataType::String
            | DataType::BasicList
            | DataType::SubTemplateList
            | DataType::SubTemplateMultiList => (0, usize::MAX),
            _ => match self.natural_len() {
                Some(n) => (n, n),
                None => (0, usize::MAX),
            },
        }
    }

    /// Whether `len` octets is a valid encoding of this type (see [`DataType::valid_lengths`]).
    /// float64 accepts 4 (reduced to float32) or 8, nothing in between.
    pub const fn accepts_len(self, len: usize) -> bool {
        if matches!(self, DataType::Float64) {
            return len == 4 || len == 8;
        }
        let (min, max) = self.valid_lengths();
        len >= min && len <= max
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a registry name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} name {name:?}")]
pub struct UnknownName {
    /// What was being parsed ("data type", "semantics", "units").
    pub kind: &'static str,
    /// The name given.
    pub name: String,
}

impl FromStr for DataType {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "data type",
                name: s.to_owned(),
            })
    }
}

/// Data type semantics (RFC 7012 §3.2): how a value is to be interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Semantics {
    /// No special semantics.
    Default,
    /// A measured quantity at a point in time.
    Quantity,
    /// A counter since the start of metering, never reset per report.
    TotalCounter,
    /// A counter since the previous report.
    DeltaCounter,
    /// An identifier: only equality is meaningful.
    Identifier,
    /// A set of bit flags.
    Flags,
    /// A list (RFC 6313).
    List,
    /// An SNMP Counter32/Counter64 value.
    SnmpCounter,
    /// An SNMP Gauge32 value.
    SnmpGauge,
}

impl Semantics {
    /// The registry's name, e.g. `"deltaCounter"`.
    pub const fn name(self) -> &'static str {
        match self {
            Semantics::Default => "default",
            Semantics::Quantity => "quantity",
            Semantics::TotalCounter => "totalCounter",
            Semantics::DeltaCounter => "deltaCounter",
            Semantics::Identifier => "identifier",
            Semantics::Flags => "flags",
            Semantics::List => "list",
            Semantics::SnmpCounter => "snmpCounter",
            Semantics::SnmpGauge => "snmpGauge",
        }
    }
}

impl fmt::Display for Semantics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Units of an information element, as named in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Units {
    /// Octets.
    Octets,
    /// Packets.
    Packets,
    /// Messages.
    Messages,
    /// Seconds.
    Seconds,
    /// Milliseconds.
    Milliseconds,
    /// Microseconds.
    Microseconds,
    /// Nanoseconds.
    Nanoseconds,
    /// Units of four octets (IPv4 header length words).
    FourOctetWords,
    /// Entries.
    Entries,
    /// Inferred from other elements.
    Inferred,
    /// Flows.
    Flows,
    /// Hops.
    Hops,
    /// Bits.
    Bits,
    /// Frames.
    Frames,
    /// Ports.
    Ports,
}

impl Units {
    /// The registry's name, e.g. `"octets"` or `"4-octet words"`.
    pub const fn name(self) -> &'static str {
        match self {
            Units::Octets => "octets",
            Units::Packets => "packets",
            Units::Messages => "messages",
            Units::Seconds => "seconds",
            Units::Milliseconds => "milliseconds",
            Units::Microseconds => "microseconds",
            Units::Nanoseconds => "nanoseconds",
            Units::FourOctetWords => "4-octet words",
            Units::Entries => "entries",
            Units::Inferred => "inferred",
            Units::Flows => "flows",
            Units::Hops => "hops",
            Units::Bits => "bits",
            Units::Frames => "frames",
            Units::Ports => "ports",
        }
    }
}

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an element is current or deprecated in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// In current use.
    Current,
    /// Deprecated: exporters should not send it, collectors still decode it.
    Deprecated,
}

impl Status {
    /// The registry's name.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::Deprecated => "deprecated",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for t in DataType::ALL {
            assert_eq!(t.name().parse::<DataType>(), Ok(t));
        }
        assert!("unsigned7".parse::<DataType>().is_err());
    }

    #[test]
    fn reduced_size_lengths() {
        assert!(DataType::Unsigned64.accepts_len(1));
        assert!(DataType::Unsigned64.accepts_len(8));
        assert!(!DataType::Unsigned64.accepts_len(9));
        assert!(!DataType::Unsigned64.accepts_len(0));
        assert!(DataType::Float64.accepts_len(4));
        assert!(!DataType::Float64.accepts_len(6));
        assert!(!DataType::Ipv4Address.accepts_len(3));
        assert!(DataType::String.accepts_len(0));
        assert!(!DataType::MacAddress.accepts_len(8));
    }
}
