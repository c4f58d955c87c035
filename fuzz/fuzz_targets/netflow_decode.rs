//! NetFlow v5/v9: the session decoder and the raw wire views never panic on any bytes.
//!
//! The input is one datagram. It goes through a default [`Session`] (twice, so the second pass
//! sees the templates the first one learned and replays pending data), through
//! [`decode_v5`], and through the zero-copy views directly: the v5 packet and its records, the
//! v9 packet, its FlowSets, template and options template records, and every data FlowSet
//! split by each template defined in the datagram.
#![no_main]

use std::hint::black_box;

use flowwire_netflow::record::Timestamp;
use flowwire_netflow::record::registry::Registry;
use flowwire_netflow::session::Session;
use flowwire_netflow::template::Template;
use flowwire_netflow::wire::v9_flowset::FlowSetKind;
use flowwire_netflow::{V5Packet, V9Packet, decode_v5};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let exporter = "192.0.2.1:2055".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut session = Session::default();
    for _ in 0..2 {
        let mut n = 0usize;
        let report = session.decode(exporter, now, data, |r| {
            n += 1;
            black_box(r);
        });
        assert_eq!(n, report.records, "records called back vs reported");
        black_box(&report);
    }
    black_box(session.stats());

    black_box(decode_v5(data, Some(exporter)).ok());

    if let Ok(p) = V5Packet::new_checked(data) {
        black_box((
            p.count(),
            p.sys_uptime(),
            p.sampling_interval(),
            p.records_present(),
        ));
        black_box(p.check_count().ok());
        for r in p.records() {
            if let Ok(r) = r {
                black_box((r.src_addr(), r.dst_addr(), r.octets(), r.first(), r.last()));
            }
        }
    }

    let registry = Registry::new();
    if let Ok(p) = V9Packet::new_checked(data) {
        black_box((p.version(), p.count(), p.source_id(), p.sequence()));
        let mut templates: Vec<Template> = Vec::new();
        for set in p.flowsets() {
            let Ok(set) = set else { continue };
            match set.kind() {
                FlowSetKind::Template => {
                    for r in set.templates() {
                        let Ok(r) = r else { continue };
                        black_box((r.template_id(), r.field_count(), r.fields().count()));
                        if let Ok(t) = Template::from_record(&r, &registry) {
                            templates.push(t);
                        }
                    }
                }
                FlowSetKind::OptionsTemplate => {
                    for r in set.options_templates() {
                        let Ok(r) = r else { continue };
                        black_box((r.scope_fields().count(), r.option_fields().count()));
                        if let Ok(t) = Template::from_options_record(&r, &registry) {
                            templates.push(t);
                        }
                    }
                }
                FlowSetKind::Data(_) | FlowSetKind::Reserved(_) => {
                    for t in &templates {
                        for rec in set.data_records(t) {
                            let Ok(rec) = rec else { continue };
                            for (spec, v) in rec.fields() {
                                black_box((spec, v));
                            }
                        }
                    }
                }
            }
        }
    }
});
