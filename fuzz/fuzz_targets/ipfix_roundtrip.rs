//! IPFIX: whatever decodes into the owned [`MessageRepr`] re-encodes, decoding that encoding
//! gives the same `MessageRepr` back (decode -> emit -> decode), and the encoding is the
//! message's own bytes (the crate documents that decode -> encode reproduces a message:
//! non-zero padding keeps a set raw, variable-length prefixes keep their form).
#![no_main]

use std::hint::black_box;

use flowwire_fuzz::assert_same;
use flowwire_ipfix::record::registry::Registry;
use flowwire_ipfix::repr::MessageRepr;
use flowwire_ipfix::wire::message::{Message, MessageIter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let registry = Registry::new();
    for m in MessageIter::new(data, 0) {
        let Ok(m) = m else { break };
        let Ok(r) = MessageRepr::parse(&m, &registry, |_| None) else {
            continue;
        };
        let bytes = match r.to_bytes() {
            Ok(b) => b,
            Err(e) => panic!("a parsed message does not re-encode: {e}\n{r:?}"),
        };
        assert_eq!(bytes.len(), r.buffer_len());
        let m2 = Message::new_checked(&bytes[..]).expect("re-encoded header is valid");
        let r2 = match MessageRepr::parse(&m2, &registry, |_| None) {
            Ok(r2) => r2,
            Err(e) => panic!("re-encoded message does not parse: {e}\n{r:?}\n{bytes:02x?}"),
        };
        assert_same(&r, &r2, "decode -> emit -> decode");
        assert_eq!(r2.to_bytes().unwrap(), bytes, "emit is canonical");
        assert_eq!(
            bytes,
            m.as_bytes(),
            "decode -> emit reproduces the message\n{r:?}"
        );
        black_box(r2);
    }
});
