//! Why are the wire views hand-checked, smoltcp-style readers rather than nom parsers? The
//! same IPFIX message (the comparison bench's: header, one data set of 22 records of the
//! 18-field fixed-length template) walked three ways, every field's value read into the same
//! [`Flow`]:
//!
//! - flowwire-ipfix's views: `Message::new_checked`, `Message::sets`, `RecordIter` over the
//!   template, `DataRecord::fields` (each value decoded as its element's data type);
//! - the same views reading `DataRecord::raw_fields` by width, as the nom parser does: the
//!   framing alone, so that the typed `Value` decode is not mistaken for the cost of the views;
//! - a nom 8 parser doing the same walk with the same checks: version, message length at
//!   least the header and within the buffer, set length at least its header and within the
//!   message, records cut by the template's field lengths (read at run time, as an IPFIX
//!   template is only known then), padding after the last whole record ignored, every problem
//!   an `Err`, never a panic.
//!
//! All three are checked to read the same values as the generator wrote, and to refuse the same
//! corrupted messages, before anything is timed. nom's error is the remaining input and an
//! `ErrorKind`: the absolute offset the views report is recovered with `Offset::offset`
//! against the message, i.e. extra work at every call site that wants it. `nom::multi::count`
//! would collect each set's records into a `Vec`; `nom::multi::fold` keeps the walk
//! allocation-free like the views.
//!
//! `cargo bench -p flowwire-benches --bench views_vs_nom` (≈ 14 s with `run.sh`'s times, so
//! not in its default list); figures and conclusions in `benches/README.md`.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use flowwire_benches::{Flow, IPFIX_FIELDS, TEMPLATE_ID, ipfix};
use flowwire_ipfix::template::Template;
use flowwire_ipfix::wire::data::RecordIter;
use flowwire_ipfix::wire::message::Message;
use flowwire_ipfix::wire::set::SetKind;
use flowwire_ipfix::wire::template::FieldSpec;
use flowwire_record::Value;
use flowwire_record::registry::Registry;

/// Stores one field by element id, so every walk fills the struct through the same code and
/// the walks differ only in how they reach the value.
#[inline(always)]
fn store(f: &mut Flow, id: u16, v: u64) {
    let ip = |v: u64| (v as u32).to_be_bytes();
    match id {
        8 => f.src = ip(v),
        12 => f.dst = ip(v),
        7 => f.sport = v as u16,
        11 => f.dport = v as u16,
        4 => f.proto = v as u8,
        5 => f.tos = v as u8,
        6 => f.flags = v as u8,
        10 => f.in_if = v as u32,
        14 => f.out_if = v as u32,
        1 => f.octets = v,
        2 => f.packets = v,
        152 => f.start = v,
        153 => f.end = v,
        16 => f.src_as = v as u32,
        17 => f.dst_as = v as u32,
        15 => f.next_hop = ip(v),
        9 => f.src_mask = v as u8,
        13 => f.dst_mask = v as u8,
        _ => {}
    }
}

// ---- the views ---------------------------------------------------------------------------

/// Every record of every data set of `template` in `msg`, through the views.
#[inline]
fn views(
    msg: &[u8],
    template: &Template,
    out: &mut impl FnMut(&Flow),
) -> Result<usize, flowwire_ipfix::Error> {
    let m = Message::new_checked(msg)?;
    let mut n = 0;
    for set in m.sets() {
        let set = set?;
        if set.kind() != SetKind::Data(template.id()) {
            continue;
        }
        for r in RecordIter::new(set.body(), set.body_offset(), template) {
            let mut f = Flow::default();
            for (spec, v) in r?.fields() {
                let v = match v {
                    Value::Ipv4Address(a) => u64::from(u32::from(a)),
                    v => v.as_u64().unwrap_or(0),
                };
                store(&mut f, spec.id, v);
            }
            out(&f);
            n += 1;
        }
    }
    Ok(n)
}

/// The same walk reading each field's bytes by their width, as the nom parser does: what the
/// views' framing costs without the typed `Value` decode.
#[inline]
fn views_raw(
    msg: &[u8],
    template: &Template,
    out: &mut impl FnMut(&Flow),
) -> Result<usize, flowwire_ipfix::Error> {
    let m = Message::new_checked(msg)?;
    let mut n = 0;
    for set in m.sets() {
        let set = set?;
        if set.kind() != SetKind::Data(template.id()) {
            continue;
        }
        for r in RecordIter::new(set.body(), set.body_offset(), template) {
            let mut f = Flow::default();
            for field in r?.raw_fields() {
                let v = match *field.bytes {
                    [a] => u64::from(a),
                    [a, b] => u64::from(u16::from_be_bytes([a, b])),
                    [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
                    [a, b, c, d, e, f, g, h] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
                    ref b => b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)),
                };
                store(&mut f, field.spec.id, v);
            }
            out(&f);
            n += 1;
        }
    }
    Ok(n)
}

// ---- nom ---------------------------------------------------------------------------------

mod nom_walk {
    use flowwire_benches::Flow;
    use nom::bytes::complete::take;
    use nom::combinator::verify;
    use nom::multi::fold;
    use nom::number::complete::{be_u8, be_u16, be_u32, be_u64};
    use nom::{IResult, Parser};

    pub(super) type Error<'a> = nom::Err<nom::error::Error<&'a [u8]>>;

    const HEADER_LEN: u16 = 16;
    const SET_HEADER_LEN: u16 = 4;

    /// One fixed-length field, by its length (reduced-size encodings byte by byte, as the
    /// views' value decode does).
    #[inline(always)]
    fn field(len: u16) -> impl FnMut(&[u8]) -> IResult<&[u8], u64> {
        move |i| match len {
            1 => be_u8.map(u64::from).parse(i),
            2 => be_u16.map(u64::from).parse(i),
            4 => be_u32.map(u64::from).parse(i),
            8 => be_u64.parse(i),
            n => take(n)
                .map(|b: &[u8]| b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
                .parse(i),
        }
    }

    /// One record of the template (element id, length).
    #[inline]
    fn record<'a>(fields: &[(u16, u16)], i: &'a [u8]) -> IResult<&'a [u8], Flow> {
        let mut f = Flow::default();
        let mut i = i;
        for &(id, len) in fields {
            let (rest, v) = field(len)(i)?;
            super::store(&mut f, id, v);
            i = rest;
        }
        Ok((i, f))
    }

    /// Every record of every data set of template `id` (fixed-length `fields`) in `msg`.
    #[inline]
    pub(super) fn walk<'a>(
        msg: &'a [u8],
        id: u16,
        fields: &[(u16, u16)],
        out: &mut impl FnMut(&Flow),
    ) -> Result<usize, Error<'a>> {
        let record_len: usize = fields.iter().map(|&(_, l)| usize::from(l)).sum();
        let (i, _version) = verify(be_u16, |v: &u16| *v == 10).parse(msg)?;
        let (i, length) = verify(be_u16, |l: &u16| {
            *l >= HEADER_LEN && usize::from(*l) <= msg.len()
        })
        .parse(i)?;
        let (i, (_export_time, _sequence, _domain)) = (be_u32, be_u32, be_u32).parse(i)?;
        let (_, mut sets) = take(length - HEADER_LEN).parse(i)?;
        let mut n = 0;
        while !sets.is_empty() {
            let (i, set_id) = be_u16(sets)?;
            let (i, set_len) = verify(be_u16, |l: &u16| *l >= SET_HEADER_LEN).parse(i)?;
            let (rest, body) = take(set_len - SET_HEADER_LEN).parse(i)?;
            sets = rest;
            if set_id != id {
                continue;
            }
            // What is left after the last whole record is padding.
            let (_, count) = fold(
                body.len() / record_len,
                |i| record(fields, i),
                || 0usize,
                |k, f| {
                    out(&f);
                    k + 1
                },
            )
            .parse(body)?;
            n += count;
        }
        Ok(n)
    }
}

// ---- the bench ---------------------------------------------------------------------------

fn views_vs_nom(c: &mut Criterion) {
    let packets = ipfix(1, 7);
    let msg = packets.data[0].clone();
    let template = Template::new(
        TEMPLATE_ID,
        false,
        0,
        IPFIX_FIELDS
            .iter()
            .map(|&(id, len)| FieldSpec::iana(id, len)),
        &Registry::new(),
        usize::from(u16::MAX),
    )
    .expect("the generator's template");
    // nom gets the same template, as (element id, length) read from it.
    let fields: Vec<(u16, u16)> = template
        .fields()
        .iter()
        .map(|f| (f.spec.id, f.spec.length))
        .collect();

    // --- both read what the generator wrote ---
    let mut a = Vec::new();
    let mut b = Vec::new();
    let na = views(&msg, &template, &mut |f: &Flow| a.push(*f)).expect("views");
    let nb = nom_walk::walk(&msg, TEMPLATE_ID, &fields, &mut |f: &Flow| b.push(*f)).expect("nom");
    assert_eq!(na, packets.flows.len());
    assert_eq!(nb, packets.flows.len());
    assert_eq!(a, packets.flows, "views");
    a.clear();
    views_raw(&msg, &template, &mut |f: &Flow| a.push(*f)).expect("views, raw fields");
    assert_eq!(a, packets.flows, "views, raw fields");
    assert_eq!(b, packets.flows, "nom");
    println!(
        "check: views vs nom: both read the {na} records ({} bytes) as generated",
        msg.len()
    );

    // --- and refuse the same broken messages, with an error rather than a panic ---
    let set_len_at = 18;
    let mut broken: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut v = msg.clone();
    v[1] = 9;
    broken.push(("version 9", v));
    broken.push(("cut in the header", msg[..10].to_vec()));
    let mut v = msg[..msg.len() - 30].to_vec();
    let cut = v.len() as u16;
    v[2..4].copy_from_slice(&cut.to_be_bytes());
    broken.push(("message cut in its data set", v));
    let mut v = msg.clone();
    v[2..4].copy_from_slice(&10u16.to_be_bytes());
    broken.push(("message length 10", v));
    let mut v = msg.clone();
    v[set_len_at..set_len_at + 2].copy_from_slice(&2u16.to_be_bytes());
    broken.push(("set length 2", v));
    let mut v = msg.clone();
    v[set_len_at..set_len_at + 2].copy_from_slice(&u16::MAX.to_be_bytes());
    broken.push(("set length past the message", v));
    for (what, m) in &broken {
        let ev = views(m, &template, &mut |_: &Flow| {}).expect_err(what);
        let er = views_raw(m, &template, &mut |_: &Flow| {}).expect_err(what);
        assert_eq!(ev, er, "{what}");
        let en = nom_walk::walk(m, TEMPLATE_ID, &fields, &mut |_: &Flow| {}).expect_err(what);
        // nom says where by the input left over; the absolute offset takes the message.
        let (kind, at) = match &en {
            nom::Err::Error(e) | nom::Err::Failure(e) => {
                (Some(e.code), Some(nom::Offset::offset(&m[..], e.input)))
            }
            nom::Err::Incomplete(_) => (None, None),
        };
        println!(
            "check: views vs nom: {what}: both refuse it; views: {ev}; nom: {kind:?} with the \
             input left at offset {at:?}"
        );
    }

    // --- time them: one message per iteration ---
    let mut g = c.benchmark_group("views vs nom (one IPFIX message, 22 records x 18 fields)");
    g.bench_function("flowwire views", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            let n = views(black_box(&msg), &template, &mut |f: &Flow| {
                sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                black_box(f);
            });
            (n.ok(), sum)
        })
    });
    g.bench_function("flowwire views, raw fields read by width", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            let n = views_raw(black_box(&msg), &template, &mut |f: &Flow| {
                sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                black_box(f);
            });
            (n.ok(), sum)
        })
    });
    g.bench_function("nom 8", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            let n = nom_walk::walk(black_box(&msg), TEMPLATE_ID, &fields, &mut |f: &Flow| {
                sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                black_box(f);
            });
            (n.is_ok(), sum)
        })
    });
    g.finish();
}

criterion_group!(benches, views_vs_nom);
criterion_main!(benches);
