//! Every capture of the shared corpus (`../shared/corpus/netflow5` and `netflow9`) decodes
//! without error, except those the MANIFEST marks malformed; captures whose templates are in
//! other files are fed through one session after those files. Skips when the corpus is absent.

mod common;

use flowwire_netflow::record::{Collect, Decoder, FlowRecord};
use flowwire_netflow::session::Session;

#[test]
fn corpus_decodes_without_errors() {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIP: shared corpus not found");
        return;
    };
    let mut failures = Vec::new();
    for proto in ["netflow5", "netflow9"] {
        for row in common::manifest(&corpus, proto) {
            let mut session = Session::default();
            let dir = corpus.join(proto);
            let mut files: Vec<String> = row.template_files();
            let name = row.file.trim_start_matches(&format!("{proto}/")).to_owned();
            files.push(name.clone());
            let (mut records, mut errors) = (0usize, Vec::new());
            for f in &files {
                for d in common::read_pcap(&dir.join(f)) {
                    let mut got = Collect::<flowwire_netflow::Error>::default();
                    let report = session.decode(d.src, d.time, &d.payload, &mut got);
                    if *f == name {
                        records += report.flows;
                        errors.extend(got.errors);
                    }
                }
            }
            let s = session.stats();
            println!(
                "{:<80} records {:>4} options {:>3} templates {:>3} rejected {} no-template sets {} count mismatches {} errors {}{}",
                row.file,
                records,
                s.options_records,
                session.store_stats().learned + session.store_stats().replaced,
                session.store_stats().rejected_invalid,
                s.data_sets_without_template,
                s.count_mismatches,
                errors.len(),
                if row.malformed() {
                    " (malformed on purpose)"
                } else {
                    ""
                }
            );
            for e in &errors {
                println!("    {e}");
            }
            if !row.malformed() && !errors.is_empty() {
                failures.push(row.file.clone());
            }
        }
    }
    assert!(failures.is_empty(), "captures with errors: {failures:?}");
}

/// The exporter captures committed in the repository (`testdata/captures`: softflowd,
/// pmacct, fprobe, Open vSwitch) decode without errors, with their sequence numbers in order
/// (except Open vSwitch's v5, see below).
#[test]
fn exporter_captures_decode_without_errors() {
    let dir =
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/captures"));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIP: testdata/captures not found");
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("netflow") && n.ends_with(".pcap"))
        .collect();
    names.sort();
    for n in names {
        let mut session = Session::default();
        let (mut records, mut errors, mut sampled) = (0, 0, 0);
        for d in common::read_pcap(&dir.join(&n)) {
            let mut got = Collect::<flowwire_netflow::Error>::default();
            let r = session.decode(d.src, d.time, &d.payload, &mut got);
            sampled += got
                .flows
                .iter()
                .filter(|r| r.sampling_interval().unwrap_or(1) > 1)
                .count();
            records += r.flows;
            errors += r.errors;
            for e in &got.errors {
                println!("    {e}");
            }
        }
        let s = session.stats();
        println!(
            "{n:<40} records {records:>4} sampled {sampled:>3} options {:>2} lost {} reordered {} errors {errors}",
            s.options_records, s.sequence_lost, s.sequence_reordered
        );
        assert_eq!(errors, 0, "{n}");
        // Open vSwitch's v5 flow_sequence is the number of the datagram's *last* flow (1, 3,
        // 12 for datagrams of 2, 2 and 9 flows), not the flows sent before it: the tracker
        // rightly counts a gap there.
        if !n.starts_with("ovs-") {
            assert_eq!((s.sequence_lost, s.sequence_reordered), (0, 0), "{n}");
        }
        assert!(records > 0, "{n}");
    }
}

/// Every corpus datagram cut at every length, and with bytes flipped, decodes without
/// panicking (errors are fine), through a session that has learned the capture's templates.
#[test]
fn corpus_truncated_and_mutated_never_panics() {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIP: shared corpus not found");
        return;
    };
    let mut decodes = 0usize;
    for proto in ["netflow5", "netflow9"] {
        for row in common::manifest(&corpus, proto) {
            let dir = corpus.join(proto);
            let name = row.file.trim_start_matches(&format!("{proto}/")).to_owned();
            let datagrams = common::read_pcap(&dir.join(&name));
            let mut session = Session::default();
            for d in &datagrams {
                session.decode(d.src, d.time, &d.payload, &mut |_: &FlowRecord| {});
            }
            for d in &datagrams {
                for n in 0..d.payload.len() {
                    session.decode(d.src, d.time, &d.payload[..n], &mut |_: &FlowRecord| {});
                    decodes += 1;
                }
                let mut m = d.payload.clone();
                for i in (0..m.len()).step_by(7) {
                    m[i] ^= 0xff;
                    session.decode(d.src, d.time, &m, &mut |_: &FlowRecord| {});
                    m[i] ^= 0xff;
                    decodes += 1;
                }
            }
        }
    }
    println!("{decodes} truncated or mutated datagrams decoded without panicking");
}
