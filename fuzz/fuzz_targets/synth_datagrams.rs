//! What a user of the `arbitrary` feature writes to fuzz a collector, here pointed at
//! flowwire's own: `flowwire::synth::ExportDatagrams` turns the input into valid export
//! datagrams of any protocol (arbitrary flows through `AnyExporter`; for NetFlow v9 and
//! IPFIX, template-only datagrams from the codecs' arbitrary reprs in another domain in
//! between), and the facade `Collector`, as a `Decoder`, must decode every datagram without
//! an error and give back exactly the flows (message context cleared) the input says, in
//! order.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use flowwire::synth::ExportDatagrams;
use flowwire::{Collector, DecodeError, Decoder, FlowRecord, Sink};
use libfuzzer_sys::fuzz_target;

/// Keeps the flows; fails on any error.
struct Flows(Vec<FlowRecord>);

impl Sink for Flows {
    fn flow(&mut self, flow: &FlowRecord) {
        self.0.push(flow.clone());
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        panic!("a valid datagram does not decode: {e}");
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = ExportDatagrams::arbitrary(&mut Unstructured::new(bytes)) else {
        return;
    };
    let mut collector = Collector::default();
    let mut decoded = Flows(Vec::new());
    for datagram in &input.datagrams {
        let summary = collector.decode(
            "192.0.2.1:2055".parse().unwrap(),
            input.now,
            datagram,
            &mut decoded,
        );
        assert_eq!(summary.errors, 0, "{:?}: {summary:?}", input.protocol);
        assert!(summary.messages >= 1, "{:?}: {summary:?}", input.protocol);
    }
    if let Err(difference) = input.check(&decoded.0) {
        panic!("{difference}");
    }
});
