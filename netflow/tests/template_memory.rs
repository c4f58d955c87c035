//! Template state of one (exporter, source id) with 10 templates of 20 fields, as accounted by
//! the template store (hash tables by their real allocation, templates with their field lists
//! and plans), which the flood test shows is within a few bytes above the real heap.

use flowwire_netflow::record::{Decoder, FlowRecord, Timestamp};
use flowwire_netflow::session::Session;

#[test]
fn ten_templates_of_twenty_fields() {
    let mut d = vec![
        0, 9, 0, 10, 0, 0, 0x03, 0xe8, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 1, 0, 0, 0, 1,
    ];
    let body = 4 + 10 * (4 + 20 * 4);
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&(body as u16).to_be_bytes());
    for t in 0..10u16 {
        d.extend_from_slice(&(256 + t).to_be_bytes());
        d.extend_from_slice(&20u16.to_be_bytes());
        for f in 1..=20u16 {
            d.extend_from_slice(&f.to_be_bytes());
            d.extend_from_slice(&4u16.to_be_bytes());
        }
    }
    let mut s = Session::default();
    let empty = s.store().memory_bytes();
    let r = s.decode(
        "192.0.2.1:2055".parse().unwrap(),
        Timestamp::from_unix_secs(1_700_000_000),
        &d,
        &mut |_: &FlowRecord| {},
    );
    assert_eq!(r.errors, 0);
    assert_eq!(s.store().template_count(), 10);
    let bytes = s.store().memory_bytes() - empty;
    eprintln!("10 templates x 20 fields: {bytes} bytes of template state");
    // Measured 8,661 bytes (≈860 per template: the table entry, the field list and the
    // compiled decode plan, each template's share of its domain's table at its real
    // allocation); issue 10's 4 KB goal would need a packed plan shared with the field list.
    // This bound catches regressions.
    assert!(bytes < 12 * 1024, "{bytes}");
}
