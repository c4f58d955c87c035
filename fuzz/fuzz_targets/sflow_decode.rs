//! sFlow v5: the datagram decoder and the raw wire views never panic on any bytes.
//!
//! The input is one datagram. It goes through [`flowwire_sflow::decode`] (flows and
//! counters), [`DatagramRepr::parse_with_errors`] and [`Xdr::parse`], a sequence-tracking
//! [`Session`], and the zero-copy views directly: the datagram header, its samples, each
//! sample's view (flow, counters, discarded, unknown), every record decoded as a flow or a
//! counter record, raw packet headers through the header decoder, and the conversions to
//! `FlowRecord` and `Counters`.
#![no_main]

use std::hint::black_box;

use flowwire_sflow::convert::{Counters, DatagramInfo, flow_record_into};
use flowwire_sflow::record::FlowRecord;
use flowwire_sflow::repr::{DatagramRepr, FlowData};
use flowwire_sflow::session::Session;
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

fuzz_target!(|data: &[u8]| {
    black_box(flowwire_sflow::decode(data).ok());
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
                black_box(Counters::from_view(&info, &c, &mut errors));
            }
            SampleView::Discarded(x) => records(x.records, true),
            SampleView::Unknown(u) => {
                black_box(u);
            }
        }
    }
    black_box(samples.trailing_bytes());
    black_box(errors.len());
});
