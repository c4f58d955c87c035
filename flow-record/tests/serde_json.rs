//! The JSON form of FlowRecord: the stable names, and a full round trip.
#![cfg(feature = "serde")]

use std::net::Ipv4Addr;

use flowwire_record::registry::FieldId;
use flowwire_record::{
    ExtraField, FlowRecord, MacAddr, NtpTimestamp, OwnedValue, ProtocolKind, Timestamp,
};

fn full_record() -> FlowRecord {
    {
        let mut built = FlowRecord::default();
        built.set_kind(Some(ProtocolKind::Netflow9));
        built.set_exporter(Some("192.0.2.10:2055".parse().unwrap()));
        built.set_agent(None);
        built.set_domain(Some(7));
        built.set_sequence(Some(42));
        built.set_export_time(Some(Timestamp::from_unix_secs(1_714_564_800)));
        built.set_src_addr(Some("10.0.0.1".parse().unwrap()));
        built.set_dst_addr(Some("2001:db8::2".parse().unwrap()));
        built.set_src_port(Some(12345));
        built.set_dst_port(Some(443));
        built.set_protocol(Some(6));
        built.set_tos(Some(0x10));
        built.set_tcp_flags(Some(0x1b));
        built.set_octets(Some(123_456));
        built.set_packets(Some(89));
        built.set_start(Some(Timestamp::from_unix_nanos(1_714_564_790_123_456_789)));
        built.set_end(Some(Timestamp::from_unix_nanos(1_714_564_799_000_000_000)));
        built.set_in_if(Some(1));
        built.set_out_if(Some(2));
        built.set_src_as(Some(64512));
        built.set_dst_as(Some(15169));
        built.set_next_hop(Some("10.0.0.254".parse().unwrap()));
        built.set_bgp_next_hop(Some("10.0.0.253".parse().unwrap()));
        built.set_src_mask(Some(24));
        built.set_dst_mask(Some(64));
        built.set_vlan(Some(100));
        built.set_inner_vlan(Some(200));
        built.set_src_mac(Some(MacAddr([0, 1, 2, 3, 4, 5])));
        built.set_dst_mac(Some(MacAddr([6, 7, 8, 9, 10, 11])));
        built.set_icmp_type(Some(8));
        built.set_icmp_code(Some(0));
        built.set_flow_label(Some(0xabcde));
        built.set_direction(Some(1));
        built.set_end_reason(Some(2));
        built.set_forwarding_status(Some(64));
        built.set_mpls_label(Some(16));
        built.set_post_nat_src_addr(Some("198.51.100.1".parse().unwrap()));
        built.set_post_nat_dst_addr(Some("198.51.100.2".parse().unwrap()));
        built.set_post_nat_src_port(Some(1024));
        built.set_post_nat_dst_port(Some(8443));
        built.set_sampling_interval(Some(400));
        built.set_sampling_algorithm(Some(1));
        built.extra = vec![
            ExtraField::new(FieldId::iana(82), OwnedValue::String(b"eth0".to_vec())),
            ExtraField::new(
                FieldId::iana(130),
                OwnedValue::Ipv4Address(Ipv4Addr::new(192, 0, 2, 10)),
            ),
            ExtraField::new(
                FieldId::enterprise(6876, 892),
                OwnedValue::OctetArray(vec![0, 0, 0x12, 0x34]),
            ),
            ExtraField::new(FieldId::iana(40005), OwnedValue::Unsigned8(2)),
            ExtraField::new(FieldId::iana(210), OwnedValue::Signed32(-5)),
            ExtraField::new(
                FieldId::iana(152),
                OwnedValue::DateTimeMilliseconds(1_714_564_790_123),
            ),
            ExtraField::new(
                FieldId::iana(156),
                OwnedValue::DateTimeNanoseconds(
                    Timestamp::from_unix_secs(1_714_564_790).to_ntp().unwrap(),
                ),
            ),
            ExtraField::new(FieldId::iana(999), OwnedValue::Boolean(true)),
            ExtraField::new(
                FieldId::iana(56),
                OwnedValue::MacAddress(MacAddr([0xaa; 6])),
            ),
            ExtraField::new(
                FieldId::iana(27),
                OwnedValue::Ipv6Address("fe80::1".parse().unwrap()),
            ),
            ExtraField::new(FieldId::iana(312), OwnedValue::Float64(0.25)),
            ExtraField::new(FieldId::iana(291), OwnedValue::BasicList(vec![0xff, 0, 1])),
        ];
        built
    }
}

#[test]
fn json_round_trip_of_every_field() {
    let r = full_record();
    let json = serde_json::to_string(&r).unwrap();
    let back: FlowRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r, "{json}");
}

#[test]
fn stable_core_names() {
    let v = serde_json::to_value(full_record()).unwrap();
    for key in [
        "type",
        "kind",
        "exporter",
        "domain",
        "sequence",
        "src_addr",
        "dst_addr",
        "src_port",
        "dst_port",
        "protocol",
        "tos",
        "tcp_flags",
        "octets",
        "packets",
        "start",
        "end",
        "in_if",
        "out_if",
        "src_as",
        "dst_as",
        "next_hop",
        "src_mask",
        "dst_mask",
        "vlan",
        "src_mac",
        "dst_mac",
        "sampling_interval",
        "extra",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["type"], "flow");
    assert_eq!(v["kind"], "netflow9");
    assert_eq!(v["exporter"], "192.0.2.10:2055");
    assert_eq!(v["start"], "2024-05-01T11:59:50.123456789Z");
    assert_eq!(v["src_mac"], "00:01:02:03:04:05");
    assert_eq!(v["dst_addr"], "2001:db8::2");
    let extra = &v["extra"];
    assert_eq!(
        extra[0],
        serde_json::json!({"pen":0,"id":82,"name":"interfaceName","type":"string","value":"eth0"})
    );
    assert_eq!(extra[2]["value"], "00001234");
    assert_eq!(extra[2]["name"], "tunnelKey");
    assert_eq!(extra[3]["name"], "NF_F_FW_EVENT");
    assert_eq!(extra[5]["value"], "2024-05-01T11:59:50.123Z");
    assert!(
        extra[7].get("name").is_none(),
        "unknown element has no name"
    );
}

#[test]
fn absent_fields_are_omitted() {
    let r = FlowRecord::new(ProtocolKind::Sflow5);
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"type":"flow","kind":"sflow5"}"#
    );
}

#[test]
fn ntp_extra_keeps_its_instant() {
    let ntp = NtpTimestamp::new(3_923_553_590, 0);
    let r = {
        let mut built = FlowRecord::default();
        built.extra = vec![ExtraField::new(
            FieldId::iana(156),
            OwnedValue::DateTimeNanoseconds(ntp),
        )];
        built
    };
    let back: FlowRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn wrong_type_is_rejected() {
    let err = serde_json::from_str::<FlowRecord>(
        r#"{"type":"flow","extra":[{"pen":0,"id":7,"type":"unsigned8","value":300}]}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("does not fit type unsigned8"),
        "{err}"
    );
}
