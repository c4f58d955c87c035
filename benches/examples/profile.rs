//! A small driver for profiling one path under `valgrind --tool=callgrind` (see
//! `benches/profile.sh`): `profile <path> [repetitions]`, where path is one of
//! `v9-decode`, `ipfix-decode`, `v9-views`, `ipfix-views`, `v9-encode`, `ipfix-encode`,
//! `sflow-decode`, `sflow-session`. Uses the same generated packets and the same calls as the comparison
//! bench: v9 through `Decoder::decode` with a closure sink, IPFIX through `decode_records` and
//! `RecordContext::flow_record_into`, the exporters through `codec::Exporter::push`/`flush`
//! into a closure that only reads each message, sFlow through `convert::flow_record_into`.
use std::hint::black_box;
use std::net::SocketAddr;

use flowwire_benches::{ipfix, netflow9, sflow};
use flowwire_ipfix::session::RecordContext;
use flowwire_ipfix::wire::data::{DataRecord, RecordIter};
use flowwire_ipfix::wire::message::Message;
use flowwire_ipfix::wire::set::SetKind;
use flowwire_netflow::wire::v9_flowset::FlowSetKind;
use flowwire_netflow::wire::v9_packet::V9Packet;
use flowwire_record::codec::{Decoder as _, Exporter as _};
use flowwire_record::{FlowRecord, Timestamp};

/// The measured loop: `valgrind --toggle-collect='profile::hot*'` counts only what runs in
/// here, so the profile excludes the setup.
#[inline(never)]
fn hot<F: FnMut()>(reps: usize, mut f: F) {
    for _ in 0..reps {
        f();
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "v9-decode".into());
    let reps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let exporter: SocketAddr = "192.0.2.1:2055".parse().expect("address");
    let now = Timestamp::from_unix_secs(1_700_000_100);
    let v9 = netflow9(64, 7);
    let ix = ipfix(64, 7);
    let mut v9s = flowwire_netflow::Session::default();
    v9s.decode(exporter, now, &v9.template, &mut |_: &FlowRecord| {});
    let mut ixs = flowwire_ipfix::session::Session::default();
    ixs.decode_records(exporter, now, &ix.template, &mut |_: &RecordContext<'_>,
                                                          _: &DataRecord<
        '_,
        '_,
    >| {});
    let mut rec = FlowRecord::default();
    let mut sum = 0u64;
    let mut v9_records = Vec::new();
    for p in &v9.data {
        v9s.decode(exporter, now, p, &mut |r: &FlowRecord| {
            v9_records.push(r.clone())
        });
    }
    let mut ix_records = Vec::new();
    for p in &ix.data {
        ixs.decode_records(
            exporter,
            now,
            p,
            &mut |c: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
                c.flow_record_into(r, &mut rec);
                ix_records.push(rec.clone());
            },
        );
    }
    let v9t = v9s.template(exporter, 1, 256).cloned().expect("template");
    let ixt = ixs.template(exporter, 1, 256).cloned().expect("template");
    let sf = sflow(1400, 5);
    let v9_config = flowwire_netflow::V9ExporterConfig {
        template_refresh_packets: u32::MAX,
        template_refresh_interval: std::time::Duration::from_secs(1 << 30),
        boot: Some(Timestamp::from_unix_millis(1_700_000_100_000 - 3_700_000)),
        ..Default::default()
    };
    let mut v9x = flowwire_netflow::V9Exporter::new(v9_config);
    let mut ixx = flowwire_ipfix::Exporter::new(Default::default());
    let mut errors = Vec::new();
    let mut sfs = flowwire_sflow::Session::default();
    match path.as_str() {
        "v9-decode" => hot(reps, || {
            for p in &v9.data {
                v9s.decode(exporter, now, black_box(p), &mut |r: &FlowRecord| {
                    sum = sum.wrapping_add(r.octets().unwrap_or(0))
                });
            }
        }),
        "ipfix-decode" => hot(reps, || {
            for p in &ix.data {
                ixs.decode_records(exporter, now, black_box(p), &mut |c: &RecordContext<'_>,
                                                                      r: &DataRecord<
                    '_,
                    '_,
                >| {
                    c.flow_record_into(r, &mut rec);
                    sum = sum.wrapping_add(rec.octets().unwrap_or(0));
                });
            }
        }),
        "v9-views" => hot(reps, || {
            for p in &v9.data {
                let Ok(pk) = V9Packet::new_checked(&p[..]) else {
                    continue;
                };
                for fs in pk.flowsets().flatten() {
                    if let FlowSetKind::Data(_) = fs.kind() {
                        for r in fs.data_records(&v9t).flatten() {
                            for (_, v) in r.fields() {
                                sum ^= v.as_u64().unwrap_or(1);
                            }
                        }
                    }
                }
            }
        }),
        "ipfix-views" => hot(reps, || {
            for p in &ix.data {
                let Ok(m) = Message::new_checked(&p[..]) else {
                    continue;
                };
                for set in m.sets().flatten() {
                    if let SetKind::Data(_) = set.kind() {
                        for r in RecordIter::new(set.body(), set.body_offset(), &ixt).flatten() {
                            for (_, v) in r.fields() {
                                sum ^= v.as_u64().unwrap_or(1);
                            }
                        }
                    }
                }
            }
        }),
        "v9-encode" => hot(reps, || {
            let mut out = |m: &[u8]| sum = sum.wrapping_add(black_box(m).len() as u64);
            for r in &v9_records {
                v9x.push(black_box(r), now, &mut out).expect("encodable");
            }
            v9x.flush(now, &mut out).expect("encodable");
        }),
        "ipfix-encode" => hot(reps, || {
            let mut out = |m: &[u8]| sum = sum.wrapping_add(black_box(m).len() as u64);
            for r in &ix_records {
                ixx.push(black_box(r), now, &mut out).expect("encodable");
            }
            ixx.flush(now, &mut out).expect("encodable");
        }),
        "sflow-decode" => hot(reps, || {
            use flowwire_sflow::convert::{DatagramInfo, flow_record_into};
            use flowwire_sflow::wire::{Datagram, SampleView};
            for d in &sf.datagrams {
                let Ok(d) = Datagram::new_checked(black_box(&d[..])) else {
                    continue;
                };
                let info = DatagramInfo::of(&d);
                for s in d.samples() {
                    if let Ok(SampleView::Flow(fs)) = s.and_then(|s| s.view()) {
                        errors.clear();
                        flow_record_into(&info, &fs, &mut rec, &mut errors);
                        sum = sum.wrapping_add(rec.octets().unwrap_or(0));
                    }
                }
            }
        }),
        "sflow-session" => hot(reps, || {
            for d in &sf.datagrams {
                sfs.decode(exporter, now, black_box(d), &mut |r: &FlowRecord| {
                    sum = sum.wrapping_add(r.octets().unwrap_or(0));
                });
            }
        }),
        other => {
            eprintln!("unknown path {other}");
            std::process::exit(2);
        }
    }
    println!("{path}: {reps} repetitions, checksum {sum}");
}
