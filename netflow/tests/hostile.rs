//! Hostile datagrams: each gives the exact typed error at the right offset, and the good
//! parts around it still decode.

use std::net::SocketAddr;

use flowwire_netflow::record::{Collect, Decoder, FlowRecord, Timestamp};
use flowwire_netflow::session::{Session, SessionConfig};
use flowwire_netflow::{Error, TemplateProblem};

fn exporter() -> SocketAddr {
    "192.0.2.1:2055".parse().unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000)
}

fn v9(sets: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![
        0,
        9,
        0,
        sets.len() as u8,
        0,
        0,
        0x03,
        0xe8,
        0x65,
        0x53,
        0xf1,
        0x00,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        7,
    ];
    for s in sets {
        v.extend_from_slice(s);
    }
    v
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// Template `id` with (type, length) fields.
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

fn decode(session: &mut Session, datagram: &[u8]) -> (Vec<FlowRecord>, Vec<Error>) {
    let mut got = Collect::<Error>::default();
    session.decode(exporter(), now(), datagram, &mut got);
    (got.flows, got.errors)
}

fn no_pending() -> Session {
    Session::new(SessionConfig {
        pending: None,
        ..SessionConfig::default()
    })
}

#[test]
fn zero_length_flowset_stops_cleanly_after_the_good_ones() {
    let mut s = no_pending();
    let tpl = set(0, &template(256, GOOD));
    let data = set(256, &good_record(2));
    let mut d = v9(&[tpl, data]);
    d.extend_from_slice(&[1, 0, 0, 0]); // set 256... with length 0
    let (flows, errors) = decode(&mut s, &d);
    assert_eq!(flows.len(), 1, "the good data set decodes");
    assert!(
        matches!(errors.as_slice(), [Error::BadSetLength { offset, length: 0, .. }] if *offset == d.len() - 4),
        "{errors:?}"
    );
}

#[test]
fn flowset_longer_than_the_message() {
    let mut s = no_pending();
    let mut d = v9(&[set(0, &template(256, GOOD))]);
    d.extend_from_slice(&[1, 0, 0x10, 0]); // claims 4096 bytes
    d.extend_from_slice(&good_record(2));
    let (flows, errors) = decode(&mut s, &d);
    assert!(flows.is_empty());
    assert!(
        matches!(
            errors.as_slice(),
            [Error::BadSetLength { length: 4096, .. }]
        ),
        "{errors:?}"
    );
    assert!(
        s.template(exporter(), 7, 256).is_some(),
        "the template before it was learned"
    );
}

#[test]
fn template_with_no_fields_is_rejected_and_its_neighbour_kept() {
    let mut s = no_pending();
    let mut body = template(300, &[]);
    body.extend_from_slice(&template(256, GOOD));
    let (_, errors) = decode(&mut s, &v9(&[set(0, &body)]));
    assert!(
        matches!(
            errors.as_slice(),
            [Error::BadTemplate {
                template_id: 300,
                offset: 24,
                problem: TemplateProblem::NoFields,
            }]
        ),
        "{errors:?}"
    );
    assert!(s.template(exporter(), 7, 256).is_some());
}

#[test]
fn template_of_zero_length_fields_is_rejected() {
    let mut s = no_pending();
    let (_, errors) = decode(&mut s, &v9(&[set(0, &template(256, &[(8, 0), (12, 0)]))]));
    assert!(
        matches!(
            errors.as_slice(),
            [Error::BadTemplate {
                template_id: 256,
                problem: TemplateProblem::ZeroLengthRecord,
                ..
            }]
        ),
        "{errors:?}"
    );
    // Data for it cannot loop forever: it is data without a template.
    let (flows, errors) = decode(&mut s, &v9(&[set(256, &[0; 64])]));
    assert!(flows.is_empty());
    assert!(
        matches!(
            errors.as_slice(),
            [Error::MissingTemplate {
                template_id: 256,
                ..
            }]
        ),
        "{errors:?}"
    );
}

#[test]
fn template_claiming_65535_fields() {
    let mut s = no_pending();
    let mut body = 256u16.to_be_bytes().to_vec();
    body.extend_from_slice(&u16::MAX.to_be_bytes());
    body.extend_from_slice(&[0, 8, 0, 4]);
    let (_, errors) = decode(&mut s, &v9(&[set(0, &body)]));
    assert!(
        matches!(errors.as_slice(), [Error::Truncated { .. }]),
        "{errors:?}"
    );
    assert!(s.template(exporter(), 7, 256).is_none());
}

#[test]
fn options_scope_longer_than_the_set() {
    let mut s = no_pending();
    // template 257, scope length 400 bytes, option length 4, then one option field.
    let body = [1, 1, 1, 0x90, 0, 4, 0, 34, 0, 4];
    let (_, errors) = decode(&mut s, &v9(&[set(1, &body)]));
    assert!(
        matches!(
            errors.as_slice(),
            [Error::Truncated {
                offset: 24,
                needed: 410,
                available: 10,
                ..
            }]
        ),
        "{errors:?}"
    );
}

#[test]
fn reserved_set_id_is_skipped_and_the_next_set_decodes() {
    let mut s = no_pending();
    let d = v9(&[
        set(0, &template(256, GOOD)),
        set(17, &[0; 4]),
        set(256, &good_record(3)),
    ]);
    let (flows, errors) = decode(&mut s, &d);
    assert_eq!(flows.len(), 1);
    assert!(
        matches!(errors.as_slice(), [Error::ReservedSetId { set_id: 17, .. }]),
        "{errors:?}"
    );
}

#[test]
fn data_before_its_template_is_reported_when_not_buffered() {
    let mut s = no_pending();
    let (flows, errors) = decode(&mut s, &v9(&[set(256, &good_record(2))]));
    assert!(flows.is_empty());
    assert!(
        matches!(
            errors.as_slice(),
            [Error::MissingTemplate {
                template_id: 256,
                offset: 20
            }]
        ),
        "{errors:?}"
    );
}

#[test]
fn v5_count_larger_than_the_datagram() {
    let mut s = no_pending();
    let mut d = vec![
        0, 5, 0, 30, 0, 0, 0x03, 0xe8, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
    ];
    d.extend_from_slice(&[0u8; 48]);
    let (flows, errors) = decode(&mut s, &d);
    assert_eq!(flows.len(), 1, "the record present decodes");
    assert!(
        matches!(
            errors.as_slice(),
            [Error::CountMismatch {
                count: 30,
                present: 1,
                ..
            }]
        ),
        "{errors:?}"
    );
}

#[test]
fn truncated_headers_and_unknown_versions() {
    let mut s = no_pending();
    for cut in 0..20 {
        let d = &v9(&[])[..cut];
        let (_, errors) = decode(&mut s, d);
        if cut >= 2 {
            assert!(
                matches!(errors.as_slice(), [Error::Truncated { offset: 0, .. }]),
                "cut {cut}: {errors:?}"
            );
        }
    }
    let (_, errors) = decode(&mut s, &[0, 7, 0, 0]);
    assert!(
        matches!(
            errors.as_slice(),
            [Error::BadVersion {
                version: 7,
                offset: 0
            }]
        ),
        "{errors:?}"
    );
}

/// Fuzz regression (`fuzz/regressions/netflow_roundtrip/v9-varlen-long-prefix-empty-value-dropped`):
/// an empty variable-length value at the end of a FlowSet must not re-encode as a zero octet,
/// which reads back as padding.
#[test]
fn empty_variable_length_value_survives_re_encoding() {
    use flowwire_netflow::record::registry::Registry;
    use flowwire_netflow::{V9Packet, V9Repr};
    let bytes = [
        0x00, 0x09, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x01, 0x00, 0x52,
        0xff, 0xff, 0x01, 0x00, 0x00, 0x0c, 0x01, 0x41, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let registry = Registry::new();
    let r = V9Repr::parse(&V9Packet::new_checked(&bytes[..]).unwrap(), &registry, &[]).unwrap();
    let again = r.to_vec().unwrap();
    let r2 = V9Repr::parse(&V9Packet::new_checked(&again[..]).unwrap(), &registry, &[]).unwrap();
    assert_eq!(r, r2);
    assert_eq!(r2.to_vec().unwrap(), again);
}

/// Fuzz regression (`fuzz/regressions/netflow_roundtrip/v9-varlen-datetime-ms-of-4-octets-grows`):
/// a variable-length field of a time type (323, observationTimeMilliseconds) carrying 4
/// octets decoded leniently to a 64-bit integer, which re-encoded at 8 octets and then read
/// back as a time. Such values are now kept as their octets in the owned copy.
#[test]
fn variable_length_value_off_its_natural_size_survives_re_encoding() {
    use flowwire_netflow::record::OwnedValue;
    use flowwire_netflow::record::registry::Registry;
    use flowwire_netflow::{FlowSetRepr, V9Packet, V9Repr};
    let bytes = include_bytes!(
        "../../fuzz/regressions/netflow_roundtrip/v9-varlen-datetime-ms-of-4-octets-grows"
    );
    let registry = Registry::new();
    let r = V9Repr::parse(&V9Packet::new_checked(&bytes[..]).unwrap(), &registry, &[]).unwrap();
    let values: Vec<&OwnedValue> = r
        .flowsets
        .iter()
        .filter_map(|s| match s {
            FlowSetRepr::Data(d) => Some(d.records.iter().flatten()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        values,
        [
            &OwnedValue::OctetArray(vec![0, 0, 0x0f, 0]),
            &OwnedValue::OctetArray(vec![0xff; 4])
        ]
    );
    let again = r.to_vec().unwrap();
    let r2 = V9Repr::parse(&V9Packet::new_checked(&again[..]).unwrap(), &registry, &[]).unwrap();
    assert_eq!(r, r2);
    assert_eq!(r2.to_vec().unwrap(), again);
}
