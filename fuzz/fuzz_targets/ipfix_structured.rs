//! IPFIX: valid messages built from `arbitrary` values — `MessageRepr` through the crate's
//! `arbitrary` feature (`flowwire_ipfix::fuzzing`) — encode, and decode back equal (and
//! re-encode to the same bytes).
//!
//! A message holds template and options template sets (common IANA elements at their
//! registry lengths and reduced sizes, enterprise and RFC 5103 reverse elements,
//! variable-length strings and octet arrays, basicList, subTemplateList and
//! subTemplateMultiList fields), withdrawals, data sets of the templates defined before them
//! with values decoded from arbitrary bytes (variable-length values in the 1- or 3-octet
//! prefix form), zero padding shorter than a record, and raw sets of undefined templates.
#![no_main]

use std::hint::black_box;

use arbitrary::Unstructured;
use flowwire_fuzz::assert_same;
use flowwire_ipfix::repr::MessageRepr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(m) = u.arbitrary::<MessageRepr>() else {
        return;
    };
    assert!(m.buffer_len() <= 65535, "a message within 65535 octets");
    let bytes = match m.to_bytes() {
        Ok(b) => b,
        Err(e) => panic!("a valid message does not encode: {e}\n{m:?}"),
    };
    let back = match MessageRepr::parse_bytes(&bytes) {
        Ok(b) => b,
        Err(e) => panic!("an encoded message does not parse: {e}\n{m:?}\n{bytes:02x?}"),
    };
    assert_same(&m, &back, &format!("emit -> parse\n{bytes:02x?}"));
    assert_eq!(back.to_bytes().unwrap(), bytes, "re-encoding");
    black_box(back);
});
