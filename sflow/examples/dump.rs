//! Prints what a pcap's sFlow datagrams hold, one JSON object per line: flow records
//! (`"type":"flow"`), counter samples (`"type":"counters"`) and errors.
//!
//! `cargo run -p flowwire-sflow --example dump -- capture.pcap`
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let path = std::env::args().nth(1).expect("usage: dump <capture.pcap>");
    let bytes = std::fs::read(path).expect("read the capture");
    for udp in common::udp_payloads(&bytes) {
        match flowwire_sflow::decode(&udp.payload) {
            Ok(d) => {
                for f in &d.flows {
                    println!("{}", serde_json::to_string(f).expect("json"));
                }
                for c in &d.counters {
                    println!("{}", serde_json::to_string(c).expect("json"));
                }
                for e in &d.errors {
                    println!(r#"{{"type":"error","frame":{},"error":"{e}"}}"#, udp.frame);
                }
            }
            Err(e) => println!(r#"{{"type":"error","frame":{},"error":"{e}"}}"#, udp.frame),
        }
    }
}
