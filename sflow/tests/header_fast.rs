//! The fixed-offset fast path of `header::decode` against the `etherparse` reference path
//! (`header::decode_reference`): equal `HeaderInfo` on random and structured headers, and on
//! every raw header of the real captures (whole, cut at every length, and with bytes flipped).
mod common;

use flowwire_sflow::header::{decode, decode_reference};
use flowwire_sflow::wire::{Datagram, SampleView};
use proptest::prelude::*;

fn check(protocol: u32, bytes: &[u8]) {
    let fast = decode(protocol, bytes);
    let reference = decode_reference(protocol, bytes);
    assert_eq!(fast, reference, "protocol {protocol}, header {bytes:02x?}");
}

/// A header built from choices: link (Ethernet with 0..=3 VLAN tags, or raw IP), EtherType,
/// IP version and header fields, protocol, transport bytes; then cut at `cut` bytes.
#[allow(clippy::too_many_arguments)]
fn build(
    protocol: u32,
    tags: &[u16],
    ether_type: u16,
    version_ihl: u8,
    ip_len: u16,
    frag: u16,
    proto: u8,
    transport: &[u8],
    cut: usize,
) -> Vec<u8> {
    let mut v = Vec::new();
    if protocol == 1 {
        v.extend([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
        for (i, t) in tags.iter().enumerate() {
            v.extend(t.to_be_bytes());
            v.extend([(i as u8) << 4 | 0x1, 0x23 + i as u8]);
        }
        v.extend(ether_type.to_be_bytes());
    }
    if version_ihl >> 4 == 6 {
        v.extend([version_ihl, 0xab, 0xcd, 0xef]);
        v.extend(ip_len.to_be_bytes());
        v.extend([proto, 63]);
        v.extend((0..32u8).map(|i| i.wrapping_mul(7)));
    } else {
        v.extend([version_ihl, 0xb8]);
        v.extend(ip_len.to_be_bytes());
        v.extend([0x12, 0x34]);
        v.extend(frag.to_be_bytes());
        v.extend([64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2]);
        let ihl = usize::from(version_ihl & 0xf);
        v.extend(std::iter::repeat_n(1u8, ihl.saturating_sub(5) * 4));
    }
    v.extend_from_slice(transport);
    v.truncate(cut);
    v
}

fn transport() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(80u16), Just(4789), Just(6081), any::<u16>()],
        prop_oneof![
            Just(0x50u8),
            Just(0x51),
            Just(0x80),
            Just(0x40),
            any::<u8>()
        ],
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(dport, off, tail)| {
            let mut t = vec![0x30, 0x39];
            t.extend(dport.to_be_bytes());
            t.extend([0, 0, 0, 1, 0, 0, 0, 0, off, 0x12, 0xff, 0xff, 0, 0, 0, 0]);
            t.extend(tail);
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn fast_path_equals_reference_on_random_bytes(
        protocol in prop_oneof![Just(1u32), Just(11), Just(12), Just(13), 0u32..20],
        bytes in proptest::collection::vec(any::<u8>(), 0..160),
    ) {
        check(protocol, &bytes);
    }

    #[test]
    fn fast_path_equals_reference_on_built_headers(
        protocol in prop_oneof![4 => Just(1u32), 1 => Just(11), 1 => Just(12)],
        tags in proptest::collection::vec(
            prop_oneof![Just(0x8100u16), Just(0x88a8), Just(0x9100)], 0..4),
        ether_type in prop_oneof![
            4 => Just(0x0800u16), 4 => Just(0x86dd), 1 => Just(0x8847), 1 => Just(0x88e5),
            1 => any::<u16>()],
        version_ihl in prop_oneof![
            4 => Just(0x45u8), 4 => Just(0x60), 2 => 0x40u8..0x50, 1 => 0x61u8..0x70,
            1 => any::<u8>()],
        ip_len in prop_oneof![Just(0u16), 0u16..200, any::<u16>()],
        frag in prop_oneof![
            4 => Just(0u16), 1 => Just(0x4000), 1 => Just(0x2000), 1 => Just(0x0001),
            1 => any::<u16>()],
        proto in prop_oneof![
            8 => prop::sample::select(vec![6u8, 6, 6, 6, 17, 17, 17, 17, 1, 1, 58, 58]),
            2 => prop::sample::select(vec![47u8, 4, 41, 0, 43, 44, 51, 60, 132, 2]),
            1 => any::<u8>()],
        transport in transport(),
        cut in prop_oneof![1 => 0usize..64, 3 => Just(usize::MAX), 2 => 0usize..200],
    ) {
        let v = build(protocol, &tags, ether_type, version_ihl, ip_len, frag, proto, &transport, cut);
        check(protocol, &v);
    }
}

#[test]
fn fast_path_equals_reference_on_real_headers() {
    let mut headers = 0usize;
    for (path, _) in common::all_sflow_files() {
        let bytes = std::fs::read(&path).unwrap();
        for udp in common::udp_payloads(&bytes) {
            let Ok(d) = Datagram::new_checked(&udp.payload[..]) else {
                continue;
            };
            for s in d.samples() {
                let records = match s.and_then(|s| s.view()) {
                    Ok(SampleView::Flow(f)) => f.records,
                    Ok(SampleView::Discarded(x)) => x.records,
                    _ => continue,
                };
                for rec in records.flatten() {
                    if (rec.enterprise, rec.format) != (0, 1) {
                        continue;
                    }
                    let Ok((protocol, header)) = rec.with_body("t", |r| {
                        let p = r.u32("t")?;
                        r.u32("t")?;
                        r.u32("t")?;
                        Ok((p, r.opaque("t")?))
                    }) else {
                        continue;
                    };
                    headers += 1;
                    for n in 0..=header.len() {
                        check(protocol, &header[..n]);
                    }
                    let mut h = header.to_vec();
                    for i in 0..h.len() {
                        for x in [0x00, 0xff, h[i] ^ 0x01, h[i] ^ 0x80] {
                            let keep = h[i];
                            h[i] = x;
                            check(protocol, &h);
                            h[i] = keep;
                        }
                    }
                }
            }
        }
    }
    println!("{headers} real raw headers compared (whole, every cut, bytes flipped)");
    assert!(headers > 0 || common::corpus_dir().is_none());
}
