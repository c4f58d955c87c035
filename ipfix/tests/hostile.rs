//! Hostile messages: each gives the exact typed error at the right offset, and the good parts
//! around it still decode.

use std::net::SocketAddr;

use flowwire_ipfix::record::Timestamp;
use flowwire_ipfix::session::{RecordContext, Session, SessionConfig, Visitor};
use flowwire_ipfix::wire::data::DataRecord;
use flowwire_ipfix::{Collect, Decoder, Error, TemplateProblem};

fn exporter() -> SocketAddr {
    "192.0.2.1:4739".parse().unwrap()
}

/// A message (header filled in) holding `sets`.
fn msg(sets: &[Vec<u8>]) -> Vec<u8> {
    let body: usize = sets.iter().map(Vec::len).sum();
    let mut m = vec![0, 10];
    m.extend_from_slice(&((16 + body) as u16).to_be_bytes());
    m.extend_from_slice(&[0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    for s in sets {
        m.extend_from_slice(s);
    }
    m
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn template(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for (t, l) in fields {
        v.extend_from_slice(&t.to_be_bytes());
        v.extend_from_slice(&l.to_be_bytes());
    }
    v
}

const GOOD: &[(u16, u16)] = &[(8, 4), (12, 4), (2, 4)];

fn good_record(last: u8) -> Vec<u8> {
    vec![10, 0, 0, 1, 10, 0, 0, last, 0, 0, 0, 5]
}

fn decode(s: &mut Session, m: &[u8]) -> Collect {
    let mut g = Collect::default();
    let summary = s.decode(
        exporter(),
        Timestamp::from_unix_secs(1_700_000_000),
        m,
        &mut g,
    );
    assert_eq!(summary.errors, g.errors.len());
    g
}

#[test]
fn zero_length_set_stops_cleanly_after_the_good_ones() {
    let mut s = Session::new(SessionConfig::default());
    let mut m = msg(&[set(2, &template(256, GOOD)), set(256, &good_record(2))]);
    m.extend_from_slice(&[1, 0, 0, 0]);
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    let g = decode(&mut s, &m);
    assert_eq!(g.flows.len(), 1);
    assert!(
        matches!(g.errors.as_slice(), [Error::BadSetLength { offset, length: 0, .. }] if *offset == m.len() - 4),
        "{:?}",
        g.errors
    );
}

#[test]
fn set_longer_than_the_message() {
    let mut s = Session::new(SessionConfig::default());
    let mut m = msg(&[set(2, &template(256, GOOD))]);
    m.extend_from_slice(&[1, 0, 0x10, 0]);
    m.extend_from_slice(&good_record(2));
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    let g = decode(&mut s, &m);
    assert!(g.flows.is_empty());
    assert!(
        matches!(
            g.errors.as_slice(),
            [Error::BadSetLength { length: 4096, .. }]
        ),
        "{:?}",
        g.errors
    );
}

#[test]
fn template_with_no_fields_field_length_zero_and_65535_fields() {
    let mut s = Session::new(SessionConfig::default());
    // No fields: a withdrawal in a template set is fine over TCP only; here the record is
    // a refused template and the next one is still learned.
    let mut body = template(300, &[(8, 0), (12, 0)]);
    body.extend_from_slice(&template(256, GOOD));
    let g = decode(&mut s, &msg(&[set(2, &body)]));
    assert!(
        matches!(
            g.errors.as_slice(),
            [Error::BadTemplate {
                template_id: 300,
                problem: TemplateProblem::ZeroLengthRecord,
                offset: 20
            }]
        ),
        "{:?}",
        g.errors
    );
    let g = decode(&mut s, &msg(&[set(256, &good_record(9))]));
    assert_eq!(g.flows.len(), 1, "the neighbour template was learned");

    // 65535 fields claimed, 1 present.
    let mut body = 257u16.to_be_bytes().to_vec();
    body.extend_from_slice(&u16::MAX.to_be_bytes());
    body.extend_from_slice(&[0, 8, 0, 4]);
    let g = decode(&mut s, &msg(&[set(2, &body)]));
    assert!(!g.errors.is_empty(), "refused");
    assert!(
        g.errors.iter().all(|e| matches!(
            e,
            Error::BadTemplate {
                template_id: 257,
                ..
            } | Error::Truncated { .. }
        )),
        "{:?}",
        g.errors
    );
}

#[test]
fn options_scope_count_larger_than_field_count() {
    let mut s = Session::new(SessionConfig::default());
    // Options template 258: 1 field, scope count 3.
    let body = [1, 2, 0, 1, 0, 3, 0, 144, 0, 4];
    let g = decode(&mut s, &msg(&[set(3, &body)]));
    assert!(
        matches!(
            g.errors.as_slice(),
            [Error::BadTemplate {
                template_id: 258,
                problem: TemplateProblem::BadScopeCount,
                ..
            }]
        ),
        "{:?}",
        g.errors
    );
}

#[test]
fn varlen_prefix_past_the_end_of_the_record() {
    let mut s = Session::new(SessionConfig::default());
    // 256: sourceIPv4Address, interfaceName (variable length).
    let tpl = set(2, &template(256, &[(8, 4), (82, 65535)]));
    // One good record (empty name), then one whose name claims 200 octets.
    let data = set(256, &[10, 0, 0, 1, 0, 10, 0, 0, 2, 200, b'e', b't', b'h']);
    let g = decode(&mut s, &msg(&[tpl, data]));
    assert_eq!(g.flows.len(), 1, "the record before it decodes");
    assert!(
        matches!(
            g.errors.as_slice(),
            [Error::RecordTruncated {
                template_id: 256,
                ..
            }]
        ),
        "{:?}",
        g.errors
    );
}

#[test]
fn data_before_its_template_and_reserved_set_ids() {
    let m = msg(&[
        set(256, &good_record(2)),
        set(5, &[0; 4]),
        set(2, &template(256, GOOD)),
    ]);
    // Kept (the default), and decoded when the template comes later in the message.
    let mut s = Session::new(SessionConfig::default());
    let g = decode(&mut s, &m);
    assert_eq!(g.flows.len(), 1);
    assert!(
        matches!(
            g.errors.as_slice(),
            [Error::ReservedSetId {
                set_id: 5,
                offset: 32
            }]
        ),
        "{:?}",
        g.errors
    );
    assert_eq!(s.stats().sets_without_template, 1);
    // Not kept: dropped and reported.
    let mut s = Session::new(SessionConfig {
        pending: None,
        ..SessionConfig::default()
    });
    let g = decode(&mut s, &m);
    assert!(g.flows.is_empty());
    assert_eq!(
        g.errors,
        [
            Error::MissingTemplate {
                offset: 16,
                template_id: 256
            },
            Error::ReservedSetId {
                set_id: 5,
                offset: 32
            }
        ]
    );
}

#[test]
fn bad_headers() {
    let mut s = Session::new(SessionConfig::default());
    assert!(matches!(
        decode(&mut s, &[0, 9, 0, 16]).errors[..],
        [Error::BadVersion {
            version: 9,
            offset: 0
        }] | [Error::Truncated { .. }]
    ));
    let mut m = msg(&[]);
    m[1] = 9;
    assert!(matches!(
        decode(&mut s, &m).errors[..],
        [Error::BadVersion {
            version: 9,
            offset: 0
        }]
    ));
    assert!(!Session::accepts(&m));
    assert!(Session::accepts(&msg(&[])));
    let mut m = msg(&[set(2, &template(256, GOOD))]);
    m[2..4].copy_from_slice(&4000u16.to_be_bytes());
    let g = decode(&mut s, &m);
    assert!(matches!(
        g.errors[..],
        [Error::BadMessageLength { length: 4000, .. }]
    ));
    assert_eq!(s.stats().messages, 0);
    for cut in 0..16 {
        assert_eq!(
            decode(&mut s, &msg(&[])[..cut]).errors.len(),
            1,
            "cut {cut}"
        );
    }
}

/// Opens every subTemplateList of a record, recursively, as a consumer of nested records
/// would; returns the deepest level reached or the first error.
fn walk(
    ctx: &RecordContext<'_>,
    record: &DataRecord<'_, '_>,
    level: usize,
) -> Result<usize, Error> {
    let mut deepest = level;
    for f in record.raw_fields() {
        if f.spec.field_id() == flowwire_ipfix::record::FieldId::iana(292) {
            let list = f.sub_template_list()?;
            let Some(t) = ctx.template(list.template_id()) else {
                continue;
            };
            for r in list.records(t) {
                deepest = deepest.max(walk(ctx, &r?, level + 1)?);
            }
        }
    }
    Ok(deepest)
}

#[test]
fn sub_template_lists_nested_a_thousand_deep_are_refused_not_recursed() {
    // Template 256: one subTemplateList (292, variable length) whose records are of 256.
    let mut value = vec![3u8, 1, 0];
    for _ in 0..1000 {
        let mut record = if value.len() < 255 {
            vec![value.len() as u8]
        } else {
            let mut p = vec![255];
            p.extend_from_slice(&(value.len() as u16).to_be_bytes());
            p
        };
        record.extend_from_slice(&value);
        value = vec![3, 1, 0];
        value.extend_from_slice(&record);
    }
    let mut record = vec![255];
    record.extend_from_slice(&(value.len() as u16).to_be_bytes());
    record.extend_from_slice(&value);
    let m = msg(&[set(2, &template(256, &[(292, 65535)])), set(256, &record)]);

    struct Walker(Vec<Result<usize, Error>>);
    impl Visitor for Walker {
        fn data(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
            self.0.push(walk(ctx, record, 0));
        }
    }
    let mut s = Session::new(SessionConfig::default());
    let mut w = Walker(Vec::new());
    s.decode_records(
        exporter(),
        Timestamp::from_unix_secs(1_700_000_000),
        &m,
        &mut w,
    );
    assert_eq!(w.0.len(), 1);
    assert!(
        matches!(w.0[0], Err(Error::ListTooDeep { depth, .. }) if depth == flowwire_ipfix::wire::data::MAX_LIST_DEPTH + 1),
        "{:?}",
        w.0[0]
    );
}
