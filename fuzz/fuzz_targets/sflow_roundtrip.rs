//! sFlow v5: whatever decodes into the owned [`DatagramRepr`] (records and samples that do not
//! decode are kept as `Unknown`) re-encodes, decoding that encoding gives the same
//! `DatagramRepr` back (decode -> emit -> decode), and its encoding is the same bytes again.
//! Every record and sample found is also encoded alone and round-tripped the same way, except
//! those kept as `Unknown` under a known tag because they did not decode (alone they decode
//! strictly, so they fail again, as they should).
#![no_main]

use std::hint::black_box;

use flowwire_fuzz::assert_same;
use flowwire_sflow::repr::{CounterData, DatagramRepr, FlowData, Sample};
use flowwire_sflow::wire::{Datagram, SampleView};
use flowwire_sflow::xdr::Xdr;
use libfuzzer_sys::fuzz_target;

fn roundtrip<T: Xdr + PartialEq + std::fmt::Debug>(v: &T, what: &str) {
    let bytes = match v.to_bytes() {
        Ok(b) => b,
        Err(e) => panic!("{what} does not re-encode: {e}\n{v:?}"),
    };
    assert_eq!(bytes.len(), v.buffer_len(), "{what} length");
    let back = match T::parse(&bytes, 0) {
        Ok(b) => b,
        Err(e) => panic!("re-encoded {what} does not parse: {e}\n{v:?}\n{bytes:02x?}"),
    };
    assert_same(v, &back, &format!("{what}: decode -> emit -> decode"));
    assert_eq!(back.to_bytes().unwrap(), bytes, "{what}: emit is canonical");
}

fuzz_target!(|data: &[u8]| {
    if let Ok((repr, _errors)) = DatagramRepr::parse_with_errors(data) {
        roundtrip(&repr, "datagram");
        for s in &repr.samples {
            if !matches!(
                s,
                Sample::Unknown {
                    enterprise: 0,
                    format: 1..=5,
                    ..
                }
            ) {
                roundtrip(s, "sample");
            }
            let records: Vec<&FlowData> = match s {
                Sample::Flow(f) | Sample::ExpandedFlow(f) => f.records.iter().collect(),
                Sample::Discarded(x) => x.records.iter().collect(),
                _ => Vec::new(),
            };
            for r in records {
                let (e, f) = r.tag();
                if !matches!(r, FlowData::Unknown { .. }) || !FlowData::is_known(e, f) {
                    roundtrip(r, "flow record");
                }
            }
            if let Sample::Counters(c) | Sample::ExpandedCounters(c) = s {
                for r in &c.records {
                    let (e, f) = r.tag();
                    if !matches!(r, CounterData::Unknown { .. }) || !CounterData::is_known(e, f) {
                        roundtrip::<CounterData>(r, "counter record");
                    }
                }
            }
        }
        black_box(repr);
    }

    // Records decoded strictly from the views.
    let Ok(d) = Datagram::new_checked(data) else {
        return;
    };
    for s in d.samples() {
        let Ok(view) = s.and_then(|s| s.view()) else {
            continue;
        };
        match view {
            SampleView::Flow(f) => {
                for r in f.records.flatten() {
                    if let Ok(v) = r.flow() {
                        roundtrip(&v, "strict flow record");
                    }
                }
            }
            SampleView::Counters(c) => {
                for r in c.records.flatten() {
                    if let Ok(v) = r.counters() {
                        roundtrip(&v, "strict counter record");
                    }
                }
            }
            _ => {}
        }
    }
});
