//! Prints what a pcap's sFlow datagrams hold, one JSON object per line: flow records
//! (`"type":"flow"`), counter samples (`"type":"counters"`) and errors, as a
//! [`flowwire_sflow::Session`] hands them to its sink.
//!
//! `cargo run -p flowwire-sflow --example dump -- capture.pcap`
#[path = "../tests/common/mod.rs"]
mod common;

use flowwire_sflow::Session;
use flowwire_sflow::convert::Counters;
use flowwire_sflow::record::codec::{CounterSample, DecodeError, Decoder, Sink};
use flowwire_sflow::record::{FlowRecord, Timestamp};

/// Prints what it gets; `frame` is the capture's frame number, for errors.
struct Print {
    frame: usize,
}

impl Sink for Print {
    fn flow(&mut self, flow: &FlowRecord) {
        println!("{}", serde_json::to_string(flow).expect("json"));
    }
    fn counters(&mut self, c: &CounterSample<'_>) {
        if let Some(c) = c.detail::<Counters>() {
            println!("{}", serde_json::to_string(c).expect("json"));
        }
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        println!(
            "{}",
            serde_json::json!({"type": "error", "frame": self.frame, "error": e.to_string()})
        );
    }
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: dump <capture.pcap>");
    let bytes = std::fs::read(path).expect("read the capture");
    let mut session = Session::default();
    for udp in common::udp_payloads(&bytes) {
        let exporter = ([0, 0, 0, 0], udp.src_port).into();
        let mut sink = Print { frame: udp.frame };
        session.decode(exporter, Timestamp::default(), &udp.payload, &mut sink);
    }
}
