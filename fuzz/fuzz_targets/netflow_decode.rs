//! NetFlow v5/v9: the session decoder and the raw wire views never panic on any bytes.
//!
//! The input is one datagram. It goes through a default [`Session`] (twice, so the second pass
//! sees the templates the first one learned and replays pending data) with `decode_records`
//! (every v9 record converted with `flow_record_into` and `options_record_into`, every v5
//! record with `V5Context::flow_record_into`) and, on a second session, through
//! `Decoder::decode` into a sink: each summary agrees with what was handed out, and both ways
//! count the same. Then through [`decode_v5`], and through the zero-copy views directly: the
//! v5 packet and its records, the v9 packet, its FlowSets, template and options template
//! records, and every data FlowSet split by each template defined in the datagram.
#![no_main]

use std::hint::black_box;

use flowwire_netflow::record::codec::{DecodeError, Decoder, OptionsRecord, Sink, TemplateEvent};
use flowwire_netflow::record::registry::Registry;
use flowwire_netflow::record::{FlowRecord, Timestamp};
use flowwire_netflow::session::{RecordContext, Session, Visitor};
use flowwire_netflow::template::Template;
use flowwire_netflow::wire::v9_data::DataRecord;
use flowwire_netflow::wire::v9_flowset::FlowSetKind;
use flowwire_netflow::{Error, V5Context, V5Packet, V5Record, V9Packet, decode_v5};
use libfuzzer_sys::fuzz_target;

/// What `decode_records` hands out, counted (data records split into flows and options).
#[derive(Default)]
struct Counting {
    flows: usize,
    options: usize,
    errors: usize,
    flow: FlowRecord,
    options_record: OptionsRecord,
}

impl Visitor for Counting {
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        if record.template().is_options() {
            self.options += 1;
        } else {
            self.flows += 1;
        }
        ctx.flow_record_into(record, &mut self.flow);
        ctx.options_record_into(record, &mut self.options_record);
        black_box(
            ctx.domain_state()
                .map(|s| s.options.sampling_for(&self.flow)),
        );
        for (spec, v) in record.fields() {
            black_box((spec, v));
        }
        black_box((&self.flow, &self.options_record));
    }
    fn v5(&mut self, ctx: &V5Context, record: &V5Record<&[u8]>) {
        self.flows += 1;
        ctx.flow_record_into(record, &mut self.flow);
        black_box(&self.flow);
    }
    fn error(&mut self, error: &Error) {
        self.errors += 1;
        black_box(error);
    }
    fn template(&mut self, event: &TemplateEvent) {
        black_box(event);
    }
}

/// What `Decoder::decode` hands out, counted.
#[derive(Default)]
struct Handed {
    flows: usize,
    options: usize,
    errors: usize,
}

impl Sink for Handed {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows += 1;
        black_box(flow);
    }
    fn options(&mut self, options: &OptionsRecord) {
        self.options += 1;
        black_box(options);
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        self.errors += 1;
        assert!(error.downcast_ref::<Error>().is_some(), "a NetFlow error");
        black_box((error.offset(), error.kind(), error.to_string()));
    }
    fn template(&mut self, event: &TemplateEvent) {
        black_box(event);
    }
}

fuzz_target!(|data: &[u8]| {
    let exporter = "192.0.2.1:2055".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut session = Session::default();
    let mut contract = Session::default();
    for _ in 0..2 {
        let mut v = Counting::default();
        let summary = session.decode_records(exporter, now, data, &mut v);
        assert_eq!(
            (summary.flows, summary.options, summary.errors),
            (v.flows, v.options, v.errors),
            "records handed out vs summary"
        );
        let mut h = Handed::default();
        let s2 = contract.decode(exporter, now, data, &mut h);
        assert_eq!(
            (s2.flows, s2.options, s2.errors),
            (h.flows, h.options, h.errors),
            "handed to the sink vs summary"
        );
        assert_eq!(s2, summary, "decode and decode_records agree");
    }
    black_box((session.stats(), Session::accepts(data)));

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
