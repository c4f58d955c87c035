//! NetFlow times are milliseconds of sysUptime, which collectors read as a signed 32-bit offset
//! from the export (±24.8 days). The exporters' tables and `restrict` say what comes back;
//! these are the cases the `export_roundtrip` fuzz target found where they did not agree
//! with what a collector decodes (reproducers in `fuzz/regressions/export_roundtrip/`).

use flowwire_netflow::record::{Decoder, Exporter, FlowRecord, Timestamp};
use flowwire_netflow::{Session, V5Exporter, V5ExporterConfig, V9Exporter, V9ExporterConfig};

const DAY_MS: i64 = 86_400_000;

fn content(mut r: FlowRecord) -> FlowRecord {
    r.clear_context();
    r
}

/// Pushes `flow` at `now`, flushes, decodes: the decoded record and the model.
fn round_trip<E: Exporter>(
    mut e: E,
    flow: &FlowRecord,
    now: Timestamp,
) -> (FlowRecord, FlowRecord) {
    let mut datagrams: Vec<Vec<u8>> = Vec::new();
    e.push(flow, now, &mut |d| datagrams.push(d.to_vec()))
        .unwrap();
    e.flush(now, &mut |d| datagrams.push(d.to_vec())).unwrap();
    let mut got = Vec::new();
    let mut s = Session::default();
    for d in &datagrams {
        s.decode(
            "192.0.2.1:2055".parse().unwrap(),
            now,
            d,
            &mut |f: &FlowRecord| got.push(content(f.clone())),
        );
    }
    assert_eq!(got.len(), 1);
    (got.remove(0), e.restrict(flow, now))
}

fn flow() -> FlowRecord {
    {
        let mut built = FlowRecord::default();
        built.set_src_addr(Some("192.0.2.7".parse().unwrap()));
        built.set_octets(Some(100));
        built
    }
}

/// `regressions/export_roundtrip/v5-absent-times-after-24.8-days-of-uptime`: a v5 record
/// without times from an exporter up more than 24.8 days. Sent as the boot time, it decoded
/// 49.7 days off; an absent time is now the time of the push.
#[test]
fn v5_absent_times_after_long_uptime_are_the_push_time() {
    let now = Timestamp::from_unix_secs(1_700_000_000).add_nanos(123_456_789);
    let e = V5Exporter::new(V5ExporterConfig {
        boot: Some(now.add_millis(-30 * DAY_MS)),
        ..V5ExporterConfig::default()
    });
    let (got, want) = round_trip(e, &flow(), now);
    assert_eq!(got, want);
    assert_eq!(
        got.start(),
        Some(Timestamp::from_unix_millis(now.unix_millis()))
    );
}

/// `regressions/export_roundtrip/v9-time-before-boot-decodes-unclamped`: a v9 time before
/// the exporter's boot is carried (the uptime wraps like the counter); the table and
/// `restrict` said it became the boot time.
#[test]
fn v9_time_before_boot_comes_back() {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let boot = now.add_millis(-3_600_000);
    let e = V9Exporter::new(V9ExporterConfig {
        boot: Some(boot),
        ..V9ExporterConfig::default()
    });
    let f = {
        let mut built = flow();
        built.set_start(Some(boot.add_millis(-600_000)));
        built
    };
    let (got, want) = round_trip(e, &f, now);
    assert_eq!(got, want);
    assert_eq!(got.start(), f.start());
}

/// A v9 time after 2036-02-07T06:28:16Z (the end of the first NTP era): `restrict` gave
/// 1900-01-01.
#[test]
fn v9_times_after_2036_are_kept_by_restrict() {
    let now = Timestamp::from_unix_secs(2_085_978_496);
    let e = V9Exporter::new(V9ExporterConfig {
        boot: Some(now.add_millis(-DAY_MS)),
        ..V9ExporterConfig::default()
    });
    let f = {
        let mut built = flow();
        built.set_start(Some(now));
        built
    };
    let (got, want) = round_trip(e, &f, now);
    assert_eq!(got, want);
    assert_eq!(want.start(), Some(now));
}

/// A time further than 24 days from the export cannot be carried: it is moved to the window's
/// edge and counted as dropped, or refused by a strict exporter; both v5 and v9.
#[test]
fn times_beyond_the_window_are_moved_and_counted_or_refused() {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let f = {
        let mut built = flow();
        built.set_start(Some(now.add_millis(-30 * DAY_MS)));
        built.set_end(Some(now));
        built
    };
    let edge = Some(now.add_millis(-24 * DAY_MS));
    let mut v9 = V9Exporter::new(V9ExporterConfig::default());
    let mut v5 = V5Exporter::new(V5ExporterConfig::default());
    for e in [
        &mut v9 as &mut dyn Exporter<Error = flowwire_netflow::Error>,
        &mut v5,
    ] {
        e.push(&f, now, &mut |_| {}).unwrap();
        assert_eq!(e.stats().fields_dropped, 1);
        assert_eq!(e.restrict(&f, now).start(), edge);
    }
    assert_eq!(
        round_trip(V9Exporter::new(V9ExporterConfig::default()), &f, now)
            .0
            .start(),
        edge
    );
    assert_eq!(
        round_trip(V5Exporter::new(V5ExporterConfig::default()), &f, now)
            .0
            .start(),
        edge
    );
    let mut strict = V9Exporter::new(V9ExporterConfig {
        strict: true,
        ..V9ExporterConfig::default()
    });
    assert!(matches!(
        strict.push(&f, now, &mut |_| {}),
        Err(flowwire_netflow::Error::NotCarried { .. })
    ));
}
