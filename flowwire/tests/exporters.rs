//! The four exporters keep one contract. For any records and any `now` (sub-second parts
//! included), what a collector decodes from an exporter's datagrams is exactly
//! `restrict(record)` for each record the exporter accepted, in order; a refused record is not
//! sent and leaves the others intact; nothing fails to decode.
//!
//! One generic function checks every exporter (`E: Exporter`) against its protocol's session
//! (`D: Decoder + Default`): with 1,000 typical records, and as a proptest over arbitrary
//! records (every typed field, both address families, extras) and times (sub-second parts of
//! `now`; flow times up to 60 days away, beyond what NetFlow's sysUptime carries).

use std::net::SocketAddr;

use flowwire::export::AnyExporter;
use flowwire::record::testing::{typical_record, varied_record};
use flowwire::{Decoder, Exporter, FlowRecord, ProtocolKind, Timestamp};
use proptest::prelude::*;

/// What the message around a record says, cleared.
fn content(mut r: FlowRecord) -> FlowRecord {
    r.clear_context();
    r
}

/// Pushes `records` at `now` through `exporter`, decodes the datagrams with a fresh `D`, and
/// compares with the model. Returns how many records were accepted.
fn round_trip<E: Exporter, D: Decoder + Default>(
    exporter: &mut E,
    records: &[FlowRecord],
    now: Timestamp,
) -> Result<usize, String> {
    let mut datagrams: Vec<Vec<u8>> = Vec::new();
    let mut accepted = Vec::new();
    for r in records {
        if exporter
            .push(r, now, &mut |d| datagrams.push(d.to_vec()))
            .is_ok()
        {
            accepted.push(r);
        }
    }
    exporter
        .flush(now, &mut |d| datagrams.push(d.to_vec()))
        .map_err(|e| e.to_string())?;
    let want: Vec<FlowRecord> = accepted.iter().map(|r| exporter.restrict(r, now)).collect();
    let stats = *exporter.stats();
    if stats.records as usize != accepted.len() || stats.datagrams as usize != datagrams.len() {
        return Err(format!("stats {stats:?} for {} accepted", accepted.len()));
    }
    let from: SocketAddr = "192.0.2.1:9999".parse().unwrap();
    let mut decoder = D::default();
    let mut got = Vec::new();
    let mut errors = Vec::new();
    for d in &datagrams {
        struct Sink<'a>(&'a mut Vec<FlowRecord>, &'a mut Vec<String>);
        impl flowwire::Sink for Sink<'_> {
            fn flow(&mut self, f: &FlowRecord) {
                self.0.push(content(f.clone()));
            }
            fn error(&mut self, e: &flowwire::DecodeError<'_>) {
                self.1.push(e.to_string());
            }
        }
        decoder.decode(from, now, d, &mut Sink(&mut got, &mut errors));
    }
    if !errors.is_empty() {
        return Err(format!("decode errors: {errors:?}"));
    }
    if got.len() != want.len() {
        return Err(format!(
            "{} records decoded, {} accepted",
            got.len(),
            want.len()
        ));
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g != w {
            return Err(format!(
                "record {i} differs\n decoded: {g:?}\n model:   {w:?}\n pushed:  {:?}",
                accepted[i]
            ));
        }
    }
    Ok(accepted.len())
}

fn check(kind: ProtocolKind, records: &[FlowRecord], now: Timestamp) -> Result<usize, String> {
    let boot = now.add_millis(-86_400_000);
    let mut e = AnyExporter::new(kind, boot);
    match kind {
        ProtocolKind::Netflow5 | ProtocolKind::Netflow9 => {
            round_trip::<_, flowwire::netflow::Session>(&mut e, records, now)
        }
        ProtocolKind::Ipfix => round_trip::<_, flowwire::ipfix::Session>(&mut e, records, now),
        ProtocolKind::Sflow5 => round_trip::<_, flowwire::sflow::Session>(&mut e, records, now),
    }
}

const KINDS: [ProtocolKind; 4] = [
    ProtocolKind::Netflow5,
    ProtocolKind::Netflow9,
    ProtocolKind::Ipfix,
    ProtocolKind::Sflow5,
];

#[test]
fn a_thousand_records_through_each_exporter_come_back() {
    let now = Timestamp::from_unix_secs(1_700_000_000).add_nanos(987_654_321);
    let records: Vec<FlowRecord> = (0..1000).map(typical_record).collect();
    for kind in KINDS {
        let n = check(kind, &records, now).unwrap_or_else(|e| panic!("{kind}: {e}"));
        // v5 refuses the IPv6 records (every 7th); the others take them all.
        let want = if kind == ProtocolKind::Netflow5 {
            1000 - 143
        } else {
            1000
        };
        assert_eq!(n, want, "{kind}");
    }
}

const DAYS_60_US: i64 = 60 * 86_400_000_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_record_at_any_instant_decodes_as_the_exporter_says(
        sub_second in 0i64..1_000_000_000,
        // Each record: a layout of typed fields and extras (varied_record), a seed for its
        // values, and its start and end within 60 days of `now` (NetFlow carries ±24 days).
        seeds in proptest::collection::vec((any::<u64>(), any::<u64>(), -DAYS_60_US..DAYS_60_US, -DAYS_60_US..DAYS_60_US), 1..40),
    ) {
        let now = Timestamp::from_unix_secs(1_700_000_000).add_nanos(sub_second);
        let strategy_records: Vec<FlowRecord> = seeds
            .iter()
            .map(|&(layout, seed, a, b)| {
                let mut r = varied_record(layout, seed);
                r.set_start(r.start().map(|_| now.add_nanos(-a * 1000)));
                r.set_end(r.end().map(|_| now.add_nanos(-b * 1000)));
                r
            })
            .collect();
        for kind in KINDS {
            if let Err(e) = check(kind, &strategy_records, now) {
                return Err(TestCaseError::fail(format!("{kind}: {e}")));
            }
        }
    }
}
