//! Prints the decoded datagrams of a pcap (debugging aid).
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let path = std::env::args().nth(1).expect("pcap path");
    let bytes = std::fs::read(path).expect("read");
    for udp in common::udp_payloads(&bytes) {
        match flowwire_sflow::repr::DatagramRepr::parse_with_errors(&udp.payload) {
            Ok((d, errors)) => println!("frame {}: {d:#?}\nerrors: {errors:?}", udp.frame),
            Err(e) => println!("frame {}: {e}", udp.frame),
        }
    }
}
