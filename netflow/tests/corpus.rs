//! Every capture of the shared corpus (`../shared/corpus/netflow5` and `netflow9`) decodes
//! without error, except those the MANIFEST marks malformed; captures whose templates are in
//! other files are fed through one session after those files. Skips when the corpus is absent.

mod common;

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
                    let report = session.decode(d.src, d.time, &d.payload, |_| {});
                    if *f == name {
                        records += report.records;
                        errors.extend(report.errors);
                    }
                }
            }
            let s = session.stats();
            println!(
                "{:<80} records {:>4} options {:>3} templates {:>3} rejected {} no-template sets {} errors {}{}",
                row.file,
                records,
                s.options_records,
                session.store_stats().learned + session.store_stats().replaced,
                session.store_stats().rejected_invalid,
                s.data_sets_without_template,
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
