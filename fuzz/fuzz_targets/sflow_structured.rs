//! sFlow v5: valid datagrams built from `arbitrary` values encode and decode back equal.
//!
//! Mode 1 takes a [`DatagramRepr`] from the crate's `arbitrary` feature
//! (`flowwire_sflow::fuzzing`: IPv4 / IPv6 / unknown agent address, compact and expanded flow
//! and counter samples, discarded-packet samples and unknown samples, whose records are every
//! known flow and counter format — raw headers, sampled Ethernet / IPv4 / IPv6, extended
//! switch / router / gateway / user / URL / MPLS / NAT / tunnels / 802.11 / transactions /
//! sockets / app..., interface, Ethernet, host, virtual, JVM, HTTP, OVS counters... — and
//! unknown records); it checks `parse(emit(x)) == x`, re-encoding, and that
//! `parse_with_errors` finds no error.
//!
//! Mode 2 is the agent side: arbitrary flows (`FlowRecord`'s `arbitrary`: any fields, any
//! extras; half of them brought within sFlow's ranges, with sample pool and drops extras) go
//! through `encode::Exporter` (`codec::Exporter::push` / `flush`, arbitrary agent, size
//! limit, header length, strictness, boot and times); every datagram fits the limit and
//! decodes through a `Session` without errors, a refused record (a value out of range, a
//! field not carried when strict, a record too large) leaves the datagram being filled as it
//! was, and every flow comes back exactly as `Exporter::restrict` says.
#![no_main]

use std::hint::black_box;

use arbitrary::{Result, Unstructured};
use flowwire_fuzz::assert_same;
use flowwire_sflow::encode::{Exporter, ExporterConfig};
use flowwire_sflow::record::codec::{DecodeError, Decoder, Exporter as _, Sink};
use flowwire_sflow::record::{ExtraField, FieldId, FlowRecord, OwnedValue, Timestamp};
use flowwire_sflow::xdr::Address;
use flowwire_sflow::{DatagramRepr, Error, Session, Xdr};
use libfuzzer_sys::fuzz_target;

/// An arbitrary flow; half of them with values within sFlow's ranges (VLANs of 12 bits,
/// labels of 20, octets of 32, common protocols) and sample pool / drops extras.
fn flow(u: &mut Unstructured<'_>) -> Result<FlowRecord> {
    let mut f = u.arbitrary::<FlowRecord>()?;
    if u.arbitrary()? {
        f.set_vlan(f.vlan().map(|v| v & 0xfff));
        f.set_inner_vlan(f.inner_vlan().map(|v| v & 0xfff));
        f.set_flow_label(f.flow_label().map(|l| l & 0xf_ffff));
        f.set_mpls_label(f.mpls_label().map(|l| l & 0xf_ffff));
        f.set_octets(f.octets().map(|o| o & u64::from(u32::MAX)));
        if f.protocol().is_some() {
            f.set_protocol(Some(*u.choose(&[6u8, 17, 1, 58, 47, 132, 0, 59])?));
        }
        for _ in 0..u.int_in_range(0..=2)? {
            let id = *u.choose(&[310u16, 164])?;
            f.extra.push(ExtraField::new(
                FieldId::iana(id),
                OwnedValue::Unsigned64(u.arbitrary()?),
            ));
        }
    }
    Ok(f)
}

/// Keeps the flows a session decodes; fails on any error.
#[derive(Default)]
struct Flows(Vec<FlowRecord>);

impl Sink for Flows {
    fn flow(&mut self, flow: &FlowRecord) {
        self.0.push(flow.clone());
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        panic!("error decoding what the exporter wrote: {e}");
    }
}

fn check_exporter(u: &mut Unstructured<'_>) -> Result<()> {
    let config = ExporterConfig {
        agent: u.arbitrary::<Address>()?,
        sub_agent_id: u.arbitrary()?,
        max_datagram_len: u.int_in_range(64..=1500)?,
        header_bytes: u.int_in_range(0..=160)?,
        strict: u.arbitrary()?,
        boot: Timestamp::from_unix_nanos(u.arbitrary()?),
    };
    let mut exporter = Exporter::new(config);
    let mut sent = Vec::new();
    let mut datagrams = Vec::new();
    let mut now = Timestamp::from_unix_nanos(u.arbitrary()?);
    for _ in 0..u.int_in_range(1..=12)? {
        let f = flow(u)?;
        now = now.add_nanos(u.int_in_range(0..=5_000_000_000)?);
        let before = exporter.pending();
        match exporter.push(&f, now, &mut |d: &[u8]| datagrams.push(d.to_vec())) {
            Ok(()) => sent.push(f),
            Err(Error::NotCarried { .. }) if config.strict => {
                assert_eq!(exporter.pending(), before, "left as it was")
            }
            Err(Error::BufferTooSmall { .. } | Error::OutOfRange { .. }) => {
                assert_eq!(exporter.pending(), before, "left as it was")
            }
            Err(e) => panic!("a valid flow refused: {e}\n{f:?}"),
        }
    }
    exporter
        .flush(now, &mut |d: &[u8]| datagrams.push(d.to_vec()))
        .expect("flush");
    let stats = *exporter.stats();
    assert_eq!(stats.records, sent.len() as u64);
    assert_eq!(stats.datagrams, datagrams.len() as u64);
    if config.strict {
        assert_eq!(stats.fields_dropped, 0);
    }
    let mut session = Session::default();
    let mut got = Flows::default();
    let from = "192.0.2.1:6343".parse().unwrap();
    for d in &datagrams {
        assert!(
            d.len() <= config.max_datagram_len,
            "datagram of {} bytes over the limit {}",
            d.len(),
            config.max_datagram_len
        );
        assert_eq!(session.decode(from, now, d, &mut got).messages, 1);
    }
    assert_eq!(got.0.len(), sent.len(), "flows back");
    for (s, g) in sent.iter().zip(got.0) {
        assert_eq!(g.agent(), config.agent.ip());
        assert_eq!(g.domain(), Some(config.sub_agent_id));
        let bare = {
            let mut bare = g;
            bare.clear_context();
            bare
        };
        assert_same(
            &bare,
            &exporter.restrict(s, now),
            &format!("decoded vs restrict\nsent {s:?}"),
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(mode) = u.arbitrary::<bool>() else {
        return;
    };
    if mode {
        let Ok(d) = u.arbitrary::<DatagramRepr>() else {
            return;
        };
        let bytes = match d.to_bytes() {
            Ok(b) => b,
            Err(e) => panic!("a valid datagram does not encode: {e}\n{d:?}"),
        };
        let back = match DatagramRepr::parse(&bytes, 0) {
            Ok(b) => b,
            Err(e) => panic!("an encoded datagram does not parse: {e}\n{d:?}\n{bytes:02x?}"),
        };
        assert_same(&d, &back, &format!("emit -> parse\n{bytes:02x?}"));
        assert_eq!(back.to_bytes().unwrap(), bytes, "re-encoding");
        let (again, errors) = DatagramRepr::parse_with_errors(&bytes).unwrap();
        assert_same(&again, &back, "parse_with_errors vs parse");
        assert!(
            errors.is_empty(),
            "errors decoding a valid datagram: {errors:?}"
        );
        black_box(back);
    } else {
        let _ = check_exporter(&mut u);
    }
});
