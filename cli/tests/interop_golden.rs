//! Golden decodes of the committed real-exporter captures.
//!
//! For every `testdata/captures/<name>.pcap` (except `input-traffic.pcap`, the traffic the
//! exporters were fed) `flowwire decode --format jsonl --quiet` must print exactly
//! `testdata/golden/<name>.jsonl`. When the decoder changes on purpose, regenerate them with
//! `scripts/regen-golden.sh` and review `git diff testdata/golden`.

use std::path::{Path, PathBuf};
use std::process::Command;

const REGEN: &str = "scripts/regen-golden.sh";

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// The capture names (without `.pcap`) that must have a golden, sorted.
fn captures() -> Vec<String> {
    let dir = testdata().join("captures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".pcap").map(str::to_owned))
        .filter(|n| n != "input-traffic")
        .collect();
    names.sort();
    names
}

/// A unified-diff-like view of the first difference: a few lines of context, `-` golden,
/// `+` now, for up to `max` differing lines from the first one.
fn first_difference(golden: &str, now: &str, max: usize) -> String {
    let g: Vec<&str> = golden.lines().collect();
    let n: Vec<&str> = now.lines().collect();
    let Some(first) = (0..g.len().max(n.len())).find(|&i| g.get(i) != n.get(i)) else {
        return "(only line endings differ)".into();
    };
    let mut out = format!(
        "@@ line {} (golden {} lines, now {} lines) @@\n",
        first + 1,
        g.len(),
        n.len()
    );
    for line in g.iter().take(first).skip(first.saturating_sub(2)) {
        out.push_str(&format!(" {line}\n"));
    }
    // Long JSON lines: name the fields that differ in the first pair.
    let parse = |l: Option<&&str>| match l.map(|l| serde_json::from_str(l)) {
        Some(Ok(serde_json::Value::Object(m))) => Some(m),
        _ => None,
    };
    if let (Some(a), Some(b)) = (parse(g.get(first)), parse(n.get(first))) {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        let show = |v: Option<&serde_json::Value>| {
            v.map_or_else(|| "(absent)".to_owned(), |v| v.to_string())
        };
        let diffs: Vec<String> = keys
            .into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| format!("{k}: {} -> {}", show(a.get(k)), show(b.get(k))))
            .collect();
        out.push_str(&format!("fields (golden -> now): {}\n", diffs.join("; ")));
    }
    let mut shown = 0;
    let mut i = first;
    while shown < max && (i < g.len() || i < n.len()) {
        if g.get(i) != n.get(i) {
            if let Some(l) = g.get(i) {
                out.push_str(&format!("-{l}\n"));
            }
            if let Some(l) = n.get(i) {
                out.push_str(&format!("+{l}\n"));
            }
            shown += 1;
        }
        i += 1;
    }
    let rest = (i..g.len().max(n.len()))
        .filter(|&j| g.get(j) != n.get(j))
        .count();
    if rest > 0 {
        out.push_str(&format!("... and {rest} more differing lines\n"));
    }
    out
}

#[test]
fn every_capture_has_a_golden_and_every_golden_a_capture() {
    let caps = captures();
    assert!(!caps.is_empty(), "no captures in testdata/captures");
    let mut goldens: Vec<String> = std::fs::read_dir(testdata().join("golden"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".jsonl").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    goldens.sort();
    let missing: Vec<&String> = caps.iter().filter(|c| !goldens.contains(c)).collect();
    let orphan: Vec<&String> = goldens.iter().filter(|g| !caps.contains(g)).collect();
    assert!(
        missing.is_empty() && orphan.is_empty(),
        "captures without golden: {missing:?}; goldens without capture: {orphan:?}; run {REGEN}"
    );
}

#[test]
fn decode_matches_golden() {
    let bin = env!("CARGO_BIN_EXE_flowwire");
    let mut failures = Vec::new();
    let mut lines = 0;
    for name in captures() {
        let cap = testdata().join("captures").join(format!("{name}.pcap"));
        let golden_path = testdata().join("golden").join(format!("{name}.jsonl"));
        let Ok(golden) = std::fs::read_to_string(&golden_path) else {
            failures.push(format!("{name}: no golden {}", golden_path.display()));
            continue;
        };
        let out = Command::new(bin)
            .args(["decode", "--format", "jsonl", "--quiet"])
            .arg(&cap)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "flowwire decode {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let now = String::from_utf8(out.stdout).unwrap();
        lines += now.lines().count();
        if now != golden {
            failures.push(format!(
                "{name}: decode differs from testdata/golden/{name}.jsonl\n{}",
                first_difference(&golden, &now, 5)
            ));
        }
    }
    println!(
        "golden: {} captures, {lines} records checked",
        captures().len()
    );
    assert!(
        failures.is_empty(),
        "{}\n\nIf the change is intended, regenerate with `{REGEN}` and review `git diff testdata/golden`.",
        failures.join("\n")
    );
}

#[test]
fn difference_report_shows_first_differing_lines() {
    let d = first_difference("a\nb\nc\nd\n", "a\nb\nX\nd\ne\n", 5);
    assert!(
        d.starts_with("@@ line 3 (golden 4 lines, now 5 lines) @@"),
        "{d}"
    );
    assert!(d.contains(" b\n-c\n+X\n+e\n"), "{d}");
    let d = first_difference("{\"a\":1,\"b\":2}\n", "{\"a\":1,\"b\":3,\"c\":4}\n", 5);
    assert!(
        d.contains("fields (golden -> now): b: 2 -> 3; c: (absent) -> 4"),
        "{d}"
    );
}
