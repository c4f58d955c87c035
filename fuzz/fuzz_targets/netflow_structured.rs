//! NetFlow v5/v9: valid packets built from `arbitrary` values — `V5Repr` and `V9Repr` through
//! the crate's `arbitrary` feature (`flowwire_netflow::fuzzing`) — encode, and decode back
//! equal.
//!
//! v5: any header and up to 30 records. v9: template and options template FlowSets (field
//! types from a table of common elements at their registry lengths, odd lengths, vendor types,
//! variable-length fields), data FlowSets of those templates with values decoded from
//! arbitrary bytes of each field's length, zero padding shorter than a record, and raw
//! FlowSets of undefined templates. Both also go through a `Session`: no error, one flow per
//! v5 record; for v9 one flow per data record, one options record per options data record, and
//! every raw FlowSet held as data without a template.
#![no_main]

use std::hint::black_box;

use arbitrary::Unstructured;
use flowwire_fuzz::assert_same;
use flowwire_netflow::record::codec::{Decoder, Summary};
use flowwire_netflow::record::registry::Registry;
use flowwire_netflow::record::{FlowRecord, Timestamp};
use flowwire_netflow::{FlowSetRepr, Session, V5Packet, V5Repr, V9Packet, V9Repr};
use libfuzzer_sys::fuzz_target;

fn decode(bytes: &[u8]) -> Summary {
    let mut session = Session::default();
    session.decode(
        "192.0.2.1:2055".parse().unwrap(),
        Timestamp::from_unix_secs(1_700_000_000),
        bytes,
        &mut |f: &FlowRecord| {
            black_box(f);
        },
    )
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(kind) = u.arbitrary::<bool>() else {
        return;
    };
    if kind {
        let Ok(r) = u.arbitrary::<V5Repr>() else {
            return;
        };
        let bytes = r.to_vec().expect("a valid v5 packet encodes");
        let p = V5Packet::new_checked(&bytes[..]).expect("encoded v5 header is valid");
        let back = V5Repr::parse(&p).expect("encoded v5 packet parses");
        assert_eq!(r, back, "v5 emit -> parse");
        let s = decode(&bytes);
        assert_eq!(
            (s.errors, s.flows),
            (0, r.records.len()),
            "v5 session: {s:?}"
        );
        black_box(back);
    } else {
        let registry = Registry::new();
        let Ok(r) = u.arbitrary::<V9Repr>() else {
            return;
        };
        let bytes = r.to_vec().expect("a valid v9 packet encodes");
        let p = V9Packet::new_checked(&bytes[..]).expect("encoded v9 header is valid");
        let back = match V9Repr::parse(&p, &registry, &[]) {
            Ok(b) => b,
            Err(e) => panic!("encoded v9 packet does not parse: {e}\n{r:?}\n{bytes:02x?}"),
        };
        assert_same(&r, &back, "v9 emit -> parse");
        assert_eq!(back.to_vec().unwrap(), bytes, "v9 re-encoding");

        let (mut flows, mut options, mut raw) = (0, 0, 0);
        for s in &r.flowsets {
            match s {
                FlowSetRepr::Data(d) if d.template.is_options() => options += d.records.len(),
                FlowSetRepr::Data(d) => flows += d.records.len(),
                FlowSetRepr::Raw { .. } => raw += 1,
                _ => {}
            }
        }
        let s = decode(&bytes);
        assert_eq!(
            (s.errors, s.flows, s.options, s.missing_templates),
            (0, flows, options, raw),
            "v9 session: {s:?}\n{r:?}\n{bytes:02x?}"
        );
        black_box(back);
    }
});
