//! The pcap/pcapng walker (link layers, IP reassembly) never panics on any bytes.
#![no_main]

use flowwire::capture::CaptureReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = CaptureReader::from_bytes(data) {
        let mut n = 0usize;
        while let Some(item) = reader.next_datagram() {
            if let Ok(d) = item {
                n = n.wrapping_add(d.payload.len());
            }
        }
        std::hint::black_box(n);
    }
});
