//! Hostile datagrams, through `Session::decode`: each gives the exact typed error at the right
//! offset, and the good parts around it still decode.

use flowwire_sflow::record::codec::{DecodeError, Decoder, Sink};
use flowwire_sflow::record::{FlowRecord, Timestamp};
use flowwire_sflow::{Error, Session};

/// What a session hands out for one datagram.
#[derive(Debug, Default)]
struct Out {
    flows: Vec<FlowRecord>,
    errors: Vec<Error>,
}

impl Sink for Out {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows.push(flow.clone());
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        self.errors.push(e.downcast_ref::<Error>().unwrap().clone());
    }
}

/// Decodes with a fresh `Session`: the datagram header's error, or what came out. Checks
/// that the summary counts what the sink got, and that the session-less
/// `flowwire_sflow::decode` gives the same.
fn decode(bytes: &[u8]) -> Result<Out, Error> {
    let mut out = Out::default();
    let exporter = "192.0.2.1:6343".parse().unwrap();
    let s = Session::default().decode(exporter, Timestamp::default(), bytes, &mut out);
    assert_eq!((s.flows, s.errors), (out.flows.len(), out.errors.len()));
    let alone = flowwire_sflow::decode(bytes);
    if s.messages == 0 {
        let [e] = <[Error; 1]>::try_from(out.errors).unwrap();
        assert_eq!(alone, Err(e.clone()));
        return Err(e);
    }
    let alone = alone.unwrap();
    assert_eq!(alone.errors, out.errors);
    let flows: Vec<FlowRecord> = alone
        .flows
        .into_iter()
        .map(|f| {
            let mut built = f;
            built.set_exporter(Some(exporter));
            built
        })
        .collect();
    assert_eq!(flows, out.flows);
    Ok(out)
}

fn be(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A datagram header (IPv4 agent 192.0.2.1) declaring `count` samples.
fn header(count: u32) -> Vec<u8> {
    let mut d = Vec::new();
    for w in [5, 1] {
        d.extend_from_slice(&be(w));
    }
    d.extend_from_slice(&[192, 0, 2, 1]);
    for w in [0, 1, 1000, count] {
        d.extend_from_slice(&be(w));
    }
    d
}

/// A flow sample (0:1) holding `records` (each already tagged and length-prefixed).
fn flow_sample(seq: u32, records: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for w in [seq, 3, 400, 4000, 0, 1, 2, records.len() as u32] {
        body.extend_from_slice(&be(w));
    }
    for r in records {
        body.extend_from_slice(r);
    }
    let mut s = be(1).to_vec();
    s.extend_from_slice(&be(body.len() as u32));
    s.extend_from_slice(&body);
    s
}

/// A record with a tag and a length.
fn record(format: u32, body: &[u8]) -> Vec<u8> {
    let mut r = be(format).to_vec();
    r.extend_from_slice(&be(body.len() as u32));
    r.extend_from_slice(body);
    r
}

/// An extended switch record (1001): src vlan, src priority, dst vlan, dst priority.
fn switch(vlan: u32) -> Vec<u8> {
    let mut b = Vec::new();
    for w in [vlan, 0, vlan, 0] {
        b.extend_from_slice(&be(w));
    }
    record(1001, &b)
}

#[test]
fn sample_count_of_u32_max_allocates_nothing_and_decodes_what_is_there() {
    let mut d = header(u32::MAX);
    d.extend_from_slice(&flow_sample(1, &[switch(10)]));
    let out = decode(&d).unwrap();
    assert_eq!(out.flows.len(), 1);
    assert_eq!(out.flows[0].vlan(), Some(10));
    assert!(
        matches!(out.errors.as_slice(), [Error::Truncated { offset, .. }] if *offset == d.len()),
        "{:?}",
        out.errors
    );
}

#[test]
fn record_length_past_the_sample() {
    let mut d = header(2);
    let mut bad = flow_sample(1, &[switch(10)]);
    // The switch record claims 400 bytes.
    let at = bad.len() - 16 - 4;
    bad[at..at + 4].copy_from_slice(&be(400));
    d.extend_from_slice(&bad);
    d.extend_from_slice(&flow_sample(2, &[switch(20)]));
    let out = decode(&d).unwrap();
    assert_eq!(out.flows.len(), 2, "both samples still decode");
    assert_eq!(out.flows[1].vlan(), Some(20), "the next sample is intact");
    assert!(
        matches!(out.errors.as_slice(), [Error::BadLength { length: 400, what, .. }] if what.contains("record")),
        "{:?}",
        out.errors
    );
}

#[test]
fn record_content_longer_than_declared_is_skipped_by_its_length() {
    // Huawei/Brocade style: a known record whose declared length disagrees with its content.
    let mut d = header(1);
    let mut short_switch = switch(10);
    short_switch[4..8].copy_from_slice(&be(12)); // declared 12, content needs 16
    short_switch.truncate(8 + 12);
    d.extend_from_slice(&flow_sample(1, &[short_switch, switch(30)]));
    let out = decode(&d).unwrap();
    assert_eq!(out.flows.len(), 1);
    assert_eq!(out.flows[0].vlan(), Some(30), "the record after it decodes");
    assert!(
        matches!(
            out.errors.as_slice(),
            [Error::BadContentLength { format: 1001, .. }]
        ),
        "{:?}",
        out.errors
    );
}

#[test]
fn ipv6_agent_with_a_truncated_address() {
    let mut d = Vec::new();
    d.extend_from_slice(&be(5));
    d.extend_from_slice(&be(2));
    d.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0]);
    assert!(
        matches!(decode(&d), Err(Error::Truncated { offset: 8, .. })),
        "{:?}",
        decode(&d)
    );
}

#[test]
fn bad_version_and_address_type() {
    let mut d = header(0);
    d[3] = 4;
    assert!(
        matches!(
            decode(&d),
            Err(Error::BadVersion {
                version: 4,
                offset: 0
            })
        ),
        "{:?}",
        decode(&d)
    );
    let mut d = header(0);
    d[7] = 9;
    assert!(
        matches!(
            decode(&d),
            Err(Error::BadAddressType {
                value: 9,
                offset: 4
            })
        ),
        "{:?}",
        decode(&d)
    );
}

#[test]
fn sample_length_past_the_datagram_keeps_the_samples_before_it() {
    let mut d = header(2);
    d.extend_from_slice(&flow_sample(1, &[switch(10)]));
    let mut bad = flow_sample(2, &[switch(20)]);
    bad[4..8].copy_from_slice(&be(100_000));
    d.extend_from_slice(&bad);
    let out = decode(&d).unwrap();
    assert_eq!(out.flows.len(), 1);
    assert!(
        matches!(
            out.errors.as_slice(),
            [Error::BadLength {
                length: 100_000,
                ..
            }]
        ),
        "{:?}",
        out.errors
    );
}

#[test]
fn truncation_at_every_length_never_panics() {
    let mut d = header(2);
    d.extend_from_slice(&flow_sample(1, &[switch(10)]));
    d.extend_from_slice(&flow_sample(2, &[switch(20)]));
    for cut in 0..d.len() {
        let _ = decode(&d[..cut]);
    }
}
