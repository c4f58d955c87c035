//! serde forms that are not plain derives: the `extra` list of a FlowRecord, whose values
//! carry their data type so they read back as the same typed value.

pub(crate) mod extras {
    use std::borrow::Cow;
    use std::net::{Ipv4Addr, Ipv6Addr};

    use serde::de::Error as _;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::data_type::DataType;
    use crate::record::ExtraField;
    use crate::registry::FieldId;
    use crate::time::{MacAddr, Timestamp};
    use crate::value::{OwnedValue, Value};

    #[derive(Serialize)]
    struct Out<'a> {
        pen: u32,
        id: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
        #[serde(rename = "type")]
        data_type: &'static str,
        value: JsonValue<'a>,
    }

    enum JsonValue<'a> {
        U(u64),
        I(i64),
        F(f64),
        B(bool),
        Text(Cow<'a, str>),
    }

    impl Serialize for JsonValue<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self {
                JsonValue::U(v) => s.serialize_u64(*v),
                JsonValue::I(v) => s.serialize_i64(*v),
                JsonValue::F(v) => s.serialize_f64(*v),
                JsonValue::B(v) => s.serialize_bool(*v),
                JsonValue::Text(t) => s.serialize_str(t),
            }
        }
    }

    fn hex(bytes: &[u8]) -> String {
        let mut s = String::with_capacity(bytes.len() * 2);
        // Writing to a String cannot fail.
        let _ = crate::value::write_hex(&mut s, bytes);
        s
    }

    fn to_json(v: Value<'_>) -> JsonValue<'_> {
        match v {
            Value::Float32(f) => JsonValue::F(f.into()),
            Value::Float64(f) => JsonValue::F(f),
            Value::Boolean(b) => JsonValue::B(b),
            Value::Signed8(_) | Value::Signed16(_) | Value::Signed32(_) | Value::Signed64(_) => {
                JsonValue::I(v.as_i64().unwrap_or_default())
            }
            Value::Unsigned8(_)
            | Value::Unsigned16(_)
            | Value::Unsigned32(_)
            | Value::Unsigned64(_) => JsonValue::U(v.as_u64().unwrap_or_default()),
            Value::OctetArray(b)
            | Value::BasicList(b)
            | Value::SubTemplateList(b)
            | Value::SubTemplateMultiList(b) => JsonValue::Text(hex(b).into()),
            Value::Unsigned256(b) => JsonValue::Text(hex(&b).into()),
            Value::String(b) => JsonValue::Text(String::from_utf8_lossy(b)),
            other => JsonValue::Text(other.to_string().into()),
        }
    }

    impl Serialize for ExtraField {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let v = self.value.as_value();
            Out {
                pen: self.field.pen,
                id: self.field.id,
                name: self.name.as_deref(),
                data_type: v.data_type().name(),
                value: to_json(v),
            }
            .serialize(s)
        }
    }

    pub(crate) fn serialize<S: Serializer>(extra: &[ExtraField], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(extra.len()))?;
        for e in extra {
            seq.serialize_element(e)?;
        }
        seq.end()
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum In {
        U(u64),
        I(i64),
        F(f64),
        B(bool),
        S(String),
    }

    #[derive(Deserialize)]
    struct InField {
        pen: u32,
        id: u16,
        #[serde(default)]
        name: Option<String>,
        #[serde(rename = "type")]
        data_type: String,
        value: In,
    }

    fn unhex(s: &str) -> Option<Vec<u8>> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if !s.len().is_multiple_of(2) {
            return None;
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    }

    fn from_json(t: DataType, v: In) -> Option<OwnedValue> {
        use OwnedValue as O;
        let u = |v: &In| match *v {
            In::U(u) => Some(u),
            _ => None,
        };
        let i = |v: &In| match *v {
            In::U(u) => i64::try_from(u).ok(),
            In::I(i) => Some(i),
            _ => None,
        };
        let text = |v: &In| match v {
            In::S(s) => Some(s.clone()),
            _ => None,
        };
        let time = |v: &In| text(v).and_then(|s| Timestamp::parse_rfc3339(&s).ok());
        Some(match t {
            DataType::Unsigned8 => O::Unsigned8(u(&v)?.try_into().ok()?),
            DataType::Unsigned16 => O::Unsigned16(u(&v)?.try_into().ok()?),
            DataType::Unsigned32 => O::Unsigned32(u(&v)?.try_into().ok()?),
            DataType::Unsigned64 => O::Unsigned64(u(&v)?),
            DataType::Signed8 => O::Signed8(i(&v)?.try_into().ok()?),
            DataType::Signed16 => O::Signed16(i(&v)?.try_into().ok()?),
            DataType::Signed32 => O::Signed32(i(&v)?.try_into().ok()?),
            DataType::Signed64 => O::Signed64(i(&v)?),
            DataType::Float32 | DataType::Float64 => {
                let f = match v {
                    In::F(f) => f,
                    In::U(u) => u as f64,
                    In::I(i) => i as f64,
                    _ => return None,
                };
                if t == DataType::Float32 {
                    O::Float32(f as f32)
                } else {
                    O::Float64(f)
                }
            }
            DataType::Boolean => match v {
                In::B(b) => O::Boolean(b),
                _ => return None,
            },
            DataType::MacAddress => O::MacAddress(text(&v)?.parse::<MacAddr>().ok()?),
            DataType::String => O::String(text(&v)?.into_bytes()),
            DataType::OctetArray => O::OctetArray(unhex(&text(&v)?)?),
            DataType::BasicList => O::BasicList(unhex(&text(&v)?)?),
            DataType::SubTemplateList => O::SubTemplateList(unhex(&text(&v)?)?),
            DataType::SubTemplateMultiList => O::SubTemplateMultiList(unhex(&text(&v)?)?),
            DataType::Unsigned256 => {
                let b = unhex(&text(&v)?)?;
                let mut out = [0u8; 32];
                let start = 32usize.checked_sub(b.len())?;
                out.get_mut(start..)?.copy_from_slice(&b);
                O::Unsigned256(out)
            }
            DataType::Ipv4Address => O::Ipv4Address(text(&v)?.parse::<Ipv4Addr>().ok()?),
            DataType::Ipv6Address => O::Ipv6Address(text(&v)?.parse::<Ipv6Addr>().ok()?),
            DataType::DateTimeSeconds => {
                O::DateTimeSeconds(u32::try_from(time(&v)?.unix_secs()).ok()?)
            }
            DataType::DateTimeMilliseconds => {
                O::DateTimeMilliseconds(u64::try_from(time(&v)?.unix_millis()).ok()?)
            }
            DataType::DateTimeMicroseconds => O::DateTimeMicroseconds(time(&v)?.to_ntp()?),
            DataType::DateTimeNanoseconds => O::DateTimeNanoseconds(time(&v)?.to_ntp()?),
        })
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<ExtraField>, D::Error> {
        let raw = Vec::<InField>::deserialize(d)?;
        raw.into_iter()
            .map(|f| {
                let t: DataType = f.data_type.parse().map_err(D::Error::custom)?;
                let field = FieldId {
                    pen: f.pen,
                    id: f.id,
                };
                let value = from_json(t, f.value).ok_or_else(|| {
                    D::Error::custom(format!("extra field {field}: value does not fit type {t}"))
                })?;
                Ok(ExtraField {
                    field,
                    name: f.name.map(Cow::Owned),
                    value,
                })
            })
            .collect()
    }
}
