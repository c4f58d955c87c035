//! The OVS configurator's parsers of what it is handed: the operator's spec (YAML or JSON),
//! export options, an OVSDB endpoint, and what ovsdb-server answers (its schema, the rows of
//! a bridge's exporters). The first byte picks which; the rest is the text.
//!
//! Checked: nothing panics; a spec that validates gives the same collectors once written
//! back to the model and validated again, and plans an OVSDB transaction and an
//! `ovs-vsctl` command; server answers that read as a bridge's state give back a spec, options,
//! collector warnings and a plan against a desired state.
#![no_main]

use flowwire_ovs::health::collector_warnings;
use flowwire_ovs::ovsdb::Endpoint;
use flowwire_ovs::rows::{CurrentExport, DesiredExport, SchemaInfo};
use flowwire_ovs::spec::Protocol;
use flowwire_ovs::{ExportOptions, Plan, ValidSpec, ValidateOptions, load_spec, parse_document};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn plan_of(spec: &ValidSpec, options: &ExportOptions) {
    let schema = SchemaInfo::everything();
    if let Ok(desired) = DesiredExport::new(spec, options, &schema) {
        let plan = Plan::blind(&desired);
        std::hint::black_box((plan.operations(), plan.vsctl_script(&[])));
    }
}

fn spec(text: &str) {
    let _ = parse_document(text, "fuzz");
    for allow_ipv6 in [false, true] {
        let opts = ValidateOptions { allow_ipv6 };
        let Ok((_, valid)) = load_spec(text, "fuzz", &opts) else {
            continue;
        };
        let again = valid
            .to_model()
            .validate("spec", &opts)
            .expect("a valid spec written back to the model validates");
        for p in Protocol::ALL {
            assert_eq!(
                valid.get(p),
                again.get(p),
                "{p} collectors after a round trip"
            );
        }
        plan_of(&valid, &ExportOptions::default());
    }
}

fn options(text: &str) {
    if let Ok(options) = ExportOptions::from_text(text, "fuzz") {
        let (_, spec) = load_spec(
            "netFlow: {collectors: [192.0.2.1:2055]}\nsFlow: {collectors: [192.0.2.1:6343]}\nipfix: {collectors: [192.0.2.1:4739]}",
            "fixed",
            &ValidateOptions::default(),
        )
        .expect("the fixed spec is valid");
        plan_of(&spec, &options);
    }
}

fn server(bytes: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let schema = SchemaInfo::from_schema(&value);
    std::hint::black_box(schema.managed(Protocol::Ipfix));
    let Some(results) = value.as_array() else {
        return;
    };
    for schema in [SchemaInfo::everything(), schema] {
        if let Ok(current) = CurrentExport::from_results("br-int", results, &schema) {
            // No route lookups (false): only the parsing and classification of targets.
            std::hint::black_box(collector_warnings(&current, false));
            let spec = current.to_spec();
            let options = current.to_options();
            if let Ok(desired) = DesiredExport::new(&spec, &options, &schema) {
                let plan = Plan::new(&desired, &current);
                std::hint::black_box((plan.operations(), plan.vsctl_script(&[])));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => spec(&String::from_utf8_lossy(rest)),
        1 => options(&String::from_utf8_lossy(rest)),
        2 => server(rest),
        _ => {
            let _ = Endpoint::parse(&String::from_utf8_lossy(rest));
        }
    }
});
