//! The codec contract, as a user meets it: a program written only against
//! `flowwire::{Decoder, Sink, FlowRecord}` and the three session types — one generic function
//! for every protocol — counts, for every capture in `testdata/captures`, exactly the flows
//! that `flowwire decode --type flow` prints.

use std::path::{Path, PathBuf};
use std::process::Command;

use flowwire::{Decoder, FlowRecord, Sink};

/// A sink that counts flows and nothing else.
#[derive(Default)]
struct CountFlows(usize);

impl Sink for CountFlows {
    fn flow(&mut self, _: &FlowRecord) {
        self.0 += 1;
    }
}

/// The flows a fresh decoder of type `D` finds in the datagrams it accepts.
fn count<D: Decoder + Default>(path: &Path) -> usize {
    let mut decoder = D::default();
    let mut flows = CountFlows::default();
    let mut capture = flowwire::capture::open_capture(path).unwrap();
    while let Some(item) = capture.next_datagram() {
        let Ok(d) = item else { continue };
        if D::accepts(d.payload) {
            decoder.decode(d.src, d.time, d.payload, &mut flows);
        }
    }
    flows.0
}

fn printed(path: &Path) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["decode", "--format", "jsonl", "--type", "flow", "--quiet"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "flowwire decode {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn generic_code_counts_what_the_command_prints() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
    let mut captures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    captures.push(dir.join("../sample.pcap"));
    captures.sort();
    let mut total = 0;
    for path in &captures {
        let ours = count::<flowwire::netflow::Session>(path)
            + count::<flowwire::ipfix::Session>(path)
            + count::<flowwire::sflow::Session>(path);
        let theirs = printed(path);
        println!("{:<50} {ours:>6} {theirs:>6}", path.display());
        assert_eq!(ours, theirs, "{}", path.display());
        total += ours;
    }
    assert!(total > 500, "{total} flows in all");
}
