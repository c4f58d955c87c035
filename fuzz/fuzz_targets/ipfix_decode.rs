//! IPFIX: the session decoder and the raw wire views never panic on any bytes.
//!
//! The input is one datagram (or stream chunk). It goes through a [`Session`] with pending
//! data kept (twice, so the second pass uses the templates the first learned), once through
//! `decode_records` (every record converted as a flow and as an options record, lists
//! opened) and once through `Decoder::decode` into a sink (the summary must agree with what
//! each was handed, and both ways must count the same records), through the
//! [`StreamBuffer`] framing in two chunks, and through the views directly: messages, sets,
//! template records and their field specifiers, every data set split by every template the
//! datagram defines, each field's value, and RFC 6313 lists opened recursively
//! (basicList elements, subTemplateList and subTemplateMultiList records).
#![no_main]

use std::hint::black_box;

use flowwire_ipfix::Decoder;
use flowwire_ipfix::Error;
use flowwire_ipfix::record::codec::{DecodeError, OptionsRecord, Sink, TemplateEvent};
use flowwire_ipfix::record::pending::PendingLimits;
use flowwire_ipfix::record::registry::Registry;
use flowwire_ipfix::record::{DataType, FlowRecord, Timestamp};
use flowwire_ipfix::session::{RecordContext, Session, SessionConfig, Visitor};
use flowwire_ipfix::template::{DEFAULT_MAX_FIELDS, Template};
use flowwire_ipfix::wire::data::DataRecord;
use flowwire_ipfix::wire::message::MessageIter;
use flowwire_ipfix::wire::set::SetKind;
use flowwire_ipfix::StreamBuffer;
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Counting {
    records: usize,
    errors: usize,
    flow: FlowRecord,
    options: OptionsRecord,
}

impl Visitor for Counting {
    fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
        self.records += 1;
        ctx.flow_record_into(record, &mut self.flow);
        ctx.options_record_into(record, &mut self.options);
        black_box(
            ctx.domain_state()
                .map(|s| s.options.sampling_for(&self.flow)),
        );
        walk_record(record, &|id| ctx.template(id), ctx.registry);
        black_box((&self.flow, &self.options));
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
        assert!(error.downcast_ref::<Error>().is_some(), "an IPFIX error");
        black_box((error.offset(), error.kind()));
    }
}

/// Reads every field of a record, opening lists (and the records inside them) recursively.
fn walk_record<'t>(
    record: &DataRecord<'_, '_>,
    templates: &dyn Fn(u16) -> Option<&'t Template>,
    registry: &Registry,
) {
    black_box(record.check().ok());
    black_box(record.lenient_fields());
    for f in record.raw_fields() {
        black_box(f.strict_value().ok());
        black_box(f.value());
        match f.data_type {
            DataType::BasicList => {
                if let Ok(l) = f.basic_list() {
                    for v in l.elements(registry) {
                        black_box(v.ok());
                    }
                }
            }
            DataType::SubTemplateList => {
                if let Ok(l) = f.sub_template_list() {
                    if let Some(t) = templates(l.template_id()) {
                        for r in l.records(t) {
                            if let Ok(r) = r {
                                walk_record(&r, templates, registry);
                            }
                        }
                    }
                }
            }
            DataType::SubTemplateMultiList => {
                if let Ok(l) = f.sub_template_multi_list() {
                    for g in l.groups() {
                        let Ok(g) = g else { continue };
                        if let Some(t) = templates(g.template_id()) {
                            for r in g.records(t) {
                                if let Ok(r) = r {
                                    walk_record(&r, templates, registry);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let exporter = "192.0.2.1:4739".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let config = SessionConfig {
        pending: Some(PendingLimits::default()),
        ..SessionConfig::default()
    };
    let mut session = Session::new(config.clone());
    let mut contract = Session::new(config);
    for _ in 0..2 {
        let mut v = Counting::default();
        let summary = session.decode_records(exporter, now, data, &mut v);
        assert_eq!(
            summary.flows + summary.options,
            v.records,
            "records handed out vs summary"
        );
        assert_eq!(summary.errors, v.errors, "errors handed out vs summary");
        let mut h = Handed::default();
        let s2 = contract.decode(exporter, now, data, &mut h);
        assert_eq!(
            (s2.flows, s2.options, s2.errors),
            (h.flows, h.options, h.errors)
        );
        assert_eq!(s2, summary, "decode and decode_records agree");
    }
    black_box((session.stats(), Session::accepts(data)));

    let mid = data.len() / 2;
    let mut stream = StreamBuffer::new();
    for chunk in [&data[..mid], &data[mid..]] {
        if stream.extend(chunk) < chunk.len() {
            break;
        }
        while let Some(m) = stream.next_message() {
            if black_box(m).is_err() {
                break;
            }
        }
    }

    let registry = Registry::new();
    for m in MessageIter::new(data, 0) {
        let Ok(m) = m else { break };
        black_box((
            m.export_time(),
            m.sequence_number(),
            m.observation_domain_id(),
        ));
        let mut templates: Vec<Template> = Vec::new();
        let mut data_sets = Vec::new();
        for set in m.sets() {
            let Ok(set) = set else { continue };
            match set.kind() {
                SetKind::Template | SetKind::OptionsTemplate => {
                    for r in set.templates() {
                        let Ok(r) = r else { continue };
                        black_box((r.is_withdrawal(), r.scope_field_count(), r.fields().count()));
                        if let Ok(t) = Template::from_record(&r, &registry, DEFAULT_MAX_FIELDS) {
                            templates.push(t);
                        }
                    }
                }
                SetKind::Data(_) | SetKind::Reserved(_) => data_sets.push(set),
            }
        }
        let lookup = |id: u16| templates.iter().rev().find(|t| t.id() == id);
        for set in &data_sets {
            for t in &templates {
                let mut it =
                    flowwire_ipfix::wire::data::RecordIter::new(set.body(), set.body_offset(), t);
                for r in it.by_ref() {
                    if let Ok(r) = r {
                        walk_record(&r, &lookup, &registry);
                    }
                }
                black_box(it.remainder());
            }
        }
    }
});
