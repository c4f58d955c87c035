//! NetFlow v5/v9: whatever decodes into the owned `Repr`s re-encodes, and decoding that
//! encoding gives the same `Repr` back (decode -> emit -> decode), whose encoding is in turn
//! the same bytes (emit is deterministic and canonical).
#![no_main]

use std::hint::black_box;

use flowwire_fuzz::assert_same;
use flowwire_netflow::record::registry::Registry;
use flowwire_netflow::{V5Packet, V5Repr, V9Packet, V9Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = V5Packet::new_checked(data) {
        if let Ok(r) = V5Repr::parse(&p) {
            let bytes = r.to_vec().expect("a parsed v5 packet re-encodes");
            assert_eq!(bytes.len(), r.buffer_len());
            let p2 = V5Packet::new_checked(&bytes[..]).expect("re-encoded v5 header is valid");
            let r2 = V5Repr::parse(&p2).expect("re-encoded v5 packet parses");
            assert_eq!(r, r2, "v5 decode -> emit -> decode");
            assert_eq!(r2.to_vec().unwrap(), bytes, "v5 emit is canonical");
            black_box(r2);
        }
    }

    let registry = Registry::new();
    if let Ok(p) = V9Packet::new_checked(data) {
        if let Ok(r) = V9Repr::parse(&p, &registry, &[]) {
            let bytes = match r.to_vec() {
                Ok(b) => b,
                // More than 65535 records cannot be written in a v9 header.
                Err(_) if r.count() > 65535 => return,
                Err(e) => panic!("a parsed v9 packet does not re-encode: {e}\n{r:?}"),
            };
            assert_eq!(bytes.len(), r.buffer_len());
            let p2 = V9Packet::new_checked(&bytes[..]).expect("re-encoded v9 header is valid");
            let r2 = match V9Repr::parse(&p2, &registry, &[]) {
                Ok(r2) => r2,
                Err(e) => panic!("re-encoded v9 packet does not parse: {e}\n{r:?}\n{bytes:02x?}"),
            };
            assert_same(&r, &r2, "v9 decode -> emit -> decode");
            assert_eq!(r2.to_vec().unwrap(), bytes, "v9 emit is canonical");
            black_box(r2);
        }
    }
});
