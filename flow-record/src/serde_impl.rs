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

/// `FlowRecord`'s JSON form: an object tagged `"type": "flow"`, each set field under its
/// name, absent fields left out, `extra` last (when not empty). The same bytes as the
/// derived form of the record's earlier all-`Option` layout.
pub(crate) mod record {
    use std::net::{IpAddr, SocketAddr};

    use serde::ser::SerializeStruct;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::record::{ExtraField, FlowRecord, ProtocolKind};
    use crate::time::{MacAddr, Timestamp};

    struct Extras<'a>(&'a [ExtraField]);

    impl Serialize for Extras<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::extras::serialize(self.0, s)
        }
    }

    impl Serialize for FlowRecord {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let fields =
                1 + self.present.count_ones() as usize + usize::from(!self.extra.is_empty());
            let mut st = s.serialize_struct("FlowRecord", fields)?;
            st.serialize_field("type", "flow")?;
            if let Some(v) = self.kind() {
                st.serialize_field("kind", &v)?;
            }
            if let Some(v) = self.exporter() {
                st.serialize_field("exporter", &v)?;
            }
            if let Some(v) = self.agent() {
                st.serialize_field("agent", &v)?;
            }
            if let Some(v) = self.domain() {
                st.serialize_field("domain", &v)?;
            }
            if let Some(v) = self.sequence() {
                st.serialize_field("sequence", &v)?;
            }
            if let Some(v) = self.export_time() {
                st.serialize_field("export_time", &v)?;
            }
            if let Some(v) = self.src_addr() {
                st.serialize_field("src_addr", &v)?;
            }
            if let Some(v) = self.dst_addr() {
                st.serialize_field("dst_addr", &v)?;
            }
            if let Some(v) = self.src_port() {
                st.serialize_field("src_port", &v)?;
            }
            if let Some(v) = self.dst_port() {
                st.serialize_field("dst_port", &v)?;
            }
            if let Some(v) = self.protocol() {
                st.serialize_field("protocol", &v)?;
            }
            if let Some(v) = self.tos() {
                st.serialize_field("tos", &v)?;
            }
            if let Some(v) = self.tcp_flags() {
                st.serialize_field("tcp_flags", &v)?;
            }
            if let Some(v) = self.octets() {
                st.serialize_field("octets", &v)?;
            }
            if let Some(v) = self.packets() {
                st.serialize_field("packets", &v)?;
            }
            if let Some(v) = self.start() {
                st.serialize_field("start", &v)?;
            }
            if let Some(v) = self.end() {
                st.serialize_field("end", &v)?;
            }
            if let Some(v) = self.in_if() {
                st.serialize_field("in_if", &v)?;
            }
            if let Some(v) = self.out_if() {
                st.serialize_field("out_if", &v)?;
            }
            if let Some(v) = self.src_as() {
                st.serialize_field("src_as", &v)?;
            }
            if let Some(v) = self.dst_as() {
                st.serialize_field("dst_as", &v)?;
            }
            if let Some(v) = self.next_hop() {
                st.serialize_field("next_hop", &v)?;
            }
            if let Some(v) = self.bgp_next_hop() {
                st.serialize_field("bgp_next_hop", &v)?;
            }
            if let Some(v) = self.src_mask() {
                st.serialize_field("src_mask", &v)?;
            }
            if let Some(v) = self.dst_mask() {
                st.serialize_field("dst_mask", &v)?;
            }
            if let Some(v) = self.vlan() {
                st.serialize_field("vlan", &v)?;
            }
            if let Some(v) = self.inner_vlan() {
                st.serialize_field("inner_vlan", &v)?;
            }
            if let Some(v) = self.src_mac() {
                st.serialize_field("src_mac", &v)?;
            }
            if let Some(v) = self.dst_mac() {
                st.serialize_field("dst_mac", &v)?;
            }
            if let Some(v) = self.icmp_type() {
                st.serialize_field("icmp_type", &v)?;
            }
            if let Some(v) = self.icmp_code() {
                st.serialize_field("icmp_code", &v)?;
            }
            if let Some(v) = self.flow_label() {
                st.serialize_field("flow_label", &v)?;
            }
            if let Some(v) = self.direction() {
                st.serialize_field("direction", &v)?;
            }
            if let Some(v) = self.end_reason() {
                st.serialize_field("end_reason", &v)?;
            }
            if let Some(v) = self.forwarding_status() {
                st.serialize_field("forwarding_status", &v)?;
            }
            if let Some(v) = self.mpls_label() {
                st.serialize_field("mpls_label", &v)?;
            }
            if let Some(v) = self.post_nat_src_addr() {
                st.serialize_field("post_nat_src_addr", &v)?;
            }
            if let Some(v) = self.post_nat_dst_addr() {
                st.serialize_field("post_nat_dst_addr", &v)?;
            }
            if let Some(v) = self.post_nat_src_port() {
                st.serialize_field("post_nat_src_port", &v)?;
            }
            if let Some(v) = self.post_nat_dst_port() {
                st.serialize_field("post_nat_dst_port", &v)?;
            }
            if let Some(v) = self.sampling_interval() {
                st.serialize_field("sampling_interval", &v)?;
            }
            if let Some(v) = self.sampling_algorithm() {
                st.serialize_field("sampling_algorithm", &v)?;
            }
            if self.is_renormalized() {
                st.serialize_field("renormalized", &true)?;
            }
            if !self.extra.is_empty() {
                st.serialize_field("extra", &Extras(&self.extra))?;
            }
            st.end()
        }
    }

    /// The JSON form read back: every field optional.
    #[derive(Deserialize)]
    #[serde(tag = "type", rename = "flow")]
    struct Wire {
        #[serde(default)]
        kind: Option<ProtocolKind>,
        #[serde(default)]
        exporter: Option<SocketAddr>,
        #[serde(default)]
        agent: Option<IpAddr>,
        #[serde(default)]
        domain: Option<u32>,
        #[serde(default)]
        sequence: Option<u32>,
        #[serde(default)]
        export_time: Option<Timestamp>,
        #[serde(default)]
        src_addr: Option<IpAddr>,
        #[serde(default)]
        dst_addr: Option<IpAddr>,
        #[serde(default)]
        src_port: Option<u16>,
        #[serde(default)]
        dst_port: Option<u16>,
        #[serde(default)]
        protocol: Option<u8>,
        #[serde(default)]
        tos: Option<u8>,
        #[serde(default)]
        tcp_flags: Option<u16>,
        #[serde(default)]
        octets: Option<u64>,
        #[serde(default)]
        packets: Option<u64>,
        #[serde(default)]
        start: Option<Timestamp>,
        #[serde(default)]
        end: Option<Timestamp>,
        #[serde(default)]
        in_if: Option<u32>,
        #[serde(default)]
        out_if: Option<u32>,
        #[serde(default)]
        src_as: Option<u32>,
        #[serde(default)]
        dst_as: Option<u32>,
        #[serde(default)]
        next_hop: Option<IpAddr>,
        #[serde(default)]
        bgp_next_hop: Option<IpAddr>,
        #[serde(default)]
        src_mask: Option<u8>,
        #[serde(default)]
        dst_mask: Option<u8>,
        #[serde(default)]
        vlan: Option<u16>,
        #[serde(default)]
        inner_vlan: Option<u16>,
        #[serde(default)]
        src_mac: Option<MacAddr>,
        #[serde(default)]
        dst_mac: Option<MacAddr>,
        #[serde(default)]
        icmp_type: Option<u8>,
        #[serde(default)]
        icmp_code: Option<u8>,
        #[serde(default)]
        flow_label: Option<u32>,
        #[serde(default)]
        direction: Option<u8>,
        #[serde(default)]
        end_reason: Option<u8>,
        #[serde(default)]
        forwarding_status: Option<u32>,
        #[serde(default)]
        mpls_label: Option<u32>,
        #[serde(default)]
        post_nat_src_addr: Option<IpAddr>,
        #[serde(default)]
        post_nat_dst_addr: Option<IpAddr>,
        #[serde(default)]
        post_nat_src_port: Option<u16>,
        #[serde(default)]
        post_nat_dst_port: Option<u16>,
        #[serde(default)]
        sampling_interval: Option<u32>,
        #[serde(default)]
        sampling_algorithm: Option<u8>,
        #[serde(default)]
        renormalized: bool,
        #[serde(default, with = "super::extras")]
        extra: Vec<ExtraField>,
    }

    impl<'de> Deserialize<'de> for FlowRecord {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let w = Wire::deserialize(d)?;
            let mut r = FlowRecord::default();
            r.set_kind(w.kind);
            r.set_exporter(w.exporter);
            r.set_agent(w.agent);
            r.set_domain(w.domain);
            r.set_sequence(w.sequence);
            r.set_export_time(w.export_time);
            r.set_src_addr(w.src_addr);
            r.set_dst_addr(w.dst_addr);
            r.set_src_port(w.src_port);
            r.set_dst_port(w.dst_port);
            r.set_protocol(w.protocol);
            r.set_tos(w.tos);
            r.set_tcp_flags(w.tcp_flags);
            r.set_octets(w.octets);
            r.set_packets(w.packets);
            r.set_start(w.start);
            r.set_end(w.end);
            r.set_in_if(w.in_if);
            r.set_out_if(w.out_if);
            r.set_src_as(w.src_as);
            r.set_dst_as(w.dst_as);
            r.set_next_hop(w.next_hop);
            r.set_bgp_next_hop(w.bgp_next_hop);
            r.set_src_mask(w.src_mask);
            r.set_dst_mask(w.dst_mask);
            r.set_vlan(w.vlan);
            r.set_inner_vlan(w.inner_vlan);
            r.set_src_mac(w.src_mac);
            r.set_dst_mac(w.dst_mac);
            r.set_icmp_type(w.icmp_type);
            r.set_icmp_code(w.icmp_code);
            r.set_flow_label(w.flow_label);
            r.set_direction(w.direction);
            r.set_end_reason(w.end_reason);
            r.set_forwarding_status(w.forwarding_status);
            r.set_mpls_label(w.mpls_label);
            r.set_post_nat_src_addr(w.post_nat_src_addr);
            r.set_post_nat_dst_addr(w.post_nat_dst_addr);
            r.set_post_nat_src_port(w.post_nat_src_port);
            r.set_post_nat_dst_port(w.post_nat_dst_port);
            r.set_sampling_interval(w.sampling_interval);
            r.set_sampling_algorithm(w.sampling_algorithm);
            r.set_renormalized(w.renormalized);
            r.extra = w.extra;
            Ok(r)
        }
    }
}
