//! sFlow v5: the datagram decoder and the raw wire views never panic on any bytes.
//!
//! The input is one datagram. It goes through a [`Session`] (`codec::Decoder::decode`, into
//! a sink that reads everything it gets: the summary counts what the sink got, errors have
//! offsets inside the datagram, counter samples carry their `Counters`, and the session-less
//! [`flowwire_sflow::decode`] finds the same), [`DatagramRepr::parse_with_errors`] and
//! [`Xdr::parse`], and the zero-copy views directly: the datagram header, its samples, each
//! sample's view (flow, counters, discarded, unknown), every record decoded as a flow or a
//! counter record, raw packet headers through the header decoder, and the conversions to
//! `FlowRecord` and `Counters`.
#![no_main]

use std::hint::black_box;

use flowwire_sflow::Session;
use flowwire_sflow::convert::{
    Counters, DatagramInfo, counters_into, discarded_record_into, flow_record_into,
};
use flowwire_sflow::record::codec::{CounterSample, DecodeError, Decoder, Sink};
use flowwire_sflow::record::{FlowRecord, Timestamp};
use flowwire_sflow::repr::{DatagramRepr, FlowData};
use flowwire_sflow::wire::{Datagram, SampleView};
use flowwire_sflow::{Error, Xdr, header};
use libfuzzer_sys::fuzz_target;

fn records(it: flowwire_sflow::wire::RecordIter<'_>, flow: bool) {
    for r in it {
        let Ok(r) = r else { break };
        if flow {
            if let Ok(FlowData::SampledHeader(h)) = r.flow() {
                black_box(header::decode(h.protocol, &h.header.0));
            } else {
                black_box(r.flow().ok());
            }
        } else {
            black_box(r.counters().ok());
        }
    }
}

/// Reads everything a session hands out.
struct Check<'a> {
    datagram: &'a [u8],
    flows: usize,
    counters: usize,
    errors: Vec<Error>,
}

impl Sink for Check<'_> {
    fn flow(&mut self, flow: &FlowRecord) {
        black_box(flow);
        self.flows += 1;
    }
    fn counters(&mut self, c: &CounterSample<'_>) {
        let detail = c
            .detail::<Counters>()
            .expect("sFlow counters carry Counters");
        assert_eq!(c.if_index, detail.if_index());
        assert_eq!(c.sequence, detail.sequence);
        self.counters += 1;
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        let offset = e.offset().expect("decode errors have an offset");
        assert!(
            offset <= self.datagram.len(),
            "offset {offset} past the datagram: {e}"
        );
        black_box(e.kind());
        self.errors
            .push(e.downcast_ref::<Error>().expect("sFlow errors").clone());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut check = Check {
        datagram: data,
        flows: 0,
        counters: 0,
        errors: Vec::new(),
    };
    let exporter = "192.0.2.1:6343".parse().unwrap();
    let summary = Session::default().decode(exporter, Timestamp::default(), data, &mut check);
    assert_eq!(
        (summary.flows, summary.counters, summary.errors),
        (check.flows, check.counters, check.errors.len())
    );
    match flowwire_sflow::decode(data) {
        Ok(d) => {
            assert_eq!(summary.messages, 1);
            assert_eq!(d.flows.len(), check.flows);
            assert_eq!(d.counters.len(), check.counters);
            assert_eq!(d.errors, check.errors);
        }
        Err(e) => {
            assert_eq!(summary.messages, 0);
            assert_eq!(check.errors, vec![e]);
        }
    }
    if let Ok((repr, errors)) = DatagramRepr::parse_with_errors(data) {
        black_box((repr.samples.len(), errors.len()));
    }
    black_box(DatagramRepr::parse(data, 0).ok());

    let Ok(d) = Datagram::new_checked(data) else {
        return;
    };
    let mut session = Session::default();
    black_box(session.observe(&d));
    black_box(session.observe(&d));
    black_box((
        d.agent(),
        d.sub_agent_id(),
        d.sequence(),
        d.uptime(),
        d.sample_count(),
    ));
    let info = DatagramInfo::of(&d);
    let mut flow = FlowRecord::default();
    let mut counters = Counters::default();
    let mut errors: Vec<Error> = Vec::new();
    let mut samples = d.samples();
    for s in samples.by_ref() {
        let Ok(s) = s else { continue };
        let Ok(view) = s.view() else { continue };
        match view {
            SampleView::Flow(f) => {
                records(f.records, true);
                black_box(flow_record_into(&info, &f, &mut flow, &mut errors));
            }
            SampleView::Counters(c) => {
                records(c.records, false);
                counters_into(&info, &c, &mut counters, &mut errors);
                black_box(&counters);
            }
            SampleView::Discarded(x) => {
                records(x.records, true);
                black_box(discarded_record_into(&info, &x, &mut flow, &mut errors));
            }
            SampleView::Unknown(u) => {
                black_box(u);
            }
        }
    }
    black_box(samples.trailing_bytes());
    black_box(errors.len());
});
