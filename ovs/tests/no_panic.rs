//! Property tests: no input makes the library panic, and what validation accepts survives a
//! round trip through its canonical form.

use std::net::{Ipv4Addr, Ipv6Addr};

use flowwire_ovs::rows::{ColumnKind, ColumnValue, CurrentExport, SchemaInfo};
use flowwire_ovs::spec::{ValidateOptions, load_spec, parse_collector};
use flowwire_ovs::{ExportOptions, Protocol};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        "[ -~]{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("netFlow"),
            Just("sFlow"),
            Just("ipfix"),
            Just("collectors"),
            Just("set"),
            Just("uuid"),
            Just("1.2.3.4:2056"),
            Just("[::1]:1"),
            Just("spec"),
            Just("exportNetworkFlows"),
            Just("Network"),
            Just("operator.openshift.io/v1"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("netFlow".to_owned()),
                        Just("sFlow".to_owned()),
                        Just("ipfix".to_owned()),
                        Just("collectors".to_owned()),
                        Just("spec".to_owned()),
                        Just("exportNetworkFlows".to_owned()),
                        Just("apiVersion".to_owned()),
                        Just("kind".to_owned()),
                        Just("rows".to_owned()),
                        Just("_uuid".to_owned()),
                        Just("netflow".to_owned()),
                        Just("targets".to_owned()),
                        "[a-z]{1,6}",
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn load_spec_never_panics_on_text(text in "\\PC{0,200}") {
        let _ = load_spec(&text, "p", &ValidateOptions { allow_ipv6: true });
        let _ = ExportOptions::from_text(&text, "p");
    }

    #[test]
    fn load_spec_never_panics_on_structures(v in json_value()) {
        let text = v.to_string();
        match load_spec(&text, "p", &ValidateOptions::default()) {
            Ok((_, spec)) => {
                // Whatever is accepted has 1..=10 distinct collectors per configured protocol.
                for p in Protocol::ALL {
                    if let Some(c) = spec.get(p) {
                        prop_assert!(c.len() <= 10);
                        let set: std::collections::BTreeSet<_> = c.iter().collect();
                        prop_assert_eq!(set.len(), c.len());
                    }
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn collector_round_trip(a in any::<[u8; 4]>(), port in 1u16..) {
        let text = format!("{}:{port}", Ipv4Addr::from(a));
        let c = parse_collector(&text, &ValidateOptions::default()).unwrap();
        prop_assert_eq!(c.to_string(), text);
    }

    #[test]
    fn ipv6_collector_round_trip(a in any::<[u8; 16]>(), port in 1u16..) {
        let text = format!("[{}]:{port}", Ipv6Addr::from(a));
        let o = ValidateOptions { allow_ipv6: true };
        let c = parse_collector(&text, &o).unwrap();
        prop_assert_eq!(c.to_string(), text.clone());
        prop_assert!(parse_collector(&text, &ValidateOptions::default()).is_err());
    }

    #[test]
    fn accepted_collectors_reparse(text in "[0-9.:\\[\\]a-f]{0,24}") {
        let o = ValidateOptions { allow_ipv6: true };
        if let Ok(c) = parse_collector(&text, &o) {
            prop_assert_eq!(parse_collector(&c.to_string(), &o).unwrap(), c);
        }
    }

    #[test]
    fn server_data_never_panics(v in json_value(), results in prop::collection::vec(json_value(), 0..7)) {
        for kind in [ColumnKind::Strings, ColumnKind::Int, ColumnKind::OptInt, ColumnKind::Bool, ColumnKind::OptString] {
            let _ = ColumnValue::from_ovsdb(kind, &v, "T", "c");
        }
        let _ = CurrentExport::from_results("br-int", &results, &SchemaInfo::everything());
    }

    #[test]
    fn referenced_rows_with_random_columns_never_panic(
        cols in prop::collection::vec(
            (prop_oneof![Just("targets"), Just("active_timeout"), Just("engine_id"),
                         Just("add_id_to_interface"), Just("engine_type")], json_value()),
            0..6),
        other in json_value(),
    ) {
        let mut row = serde_json::Map::new();
        row.insert("_uuid".into(), json!(["uuid", "n"]));
        for (k, v) in cols {
            row.insert(k.to_owned(), v);
        }
        let results = vec![
            json!({"rows": [{"_uuid": ["uuid", "b"], "name": "br-int", "netflow": ["uuid", "n"],
                             "sflow": ["set", []], "ipfix": other}]}),
            json!({"rows": [Value::Object(row)]}),
            json!({"rows": []}),
            json!({"rows": []}),
            json!({"rows": [{"netflow": ["uuid", "n"]}]}),
        ];
        if let Ok(c) = CurrentExport::from_results("br-int", &results, &SchemaInfo::everything()) {
            let _ = c.to_options();
            let _ = c.to_spec();
            prop_assert!(c.get(Protocol::NetFlow).is_some_and(|r| r.shared));
        }
    }
}
