//! `flowwire decode --format parquet --output FILE`, read back by DuckDB (the Python package):
//! for every capture in `testdata/captures`, the flow count and octet sum DuckDB reads equal
//! those of the jsonl output. Skips, saying why, where `python3 -c 'import duckdb'` fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn duckdb_available() -> bool {
    Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn captures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/captures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    files
}

/// (flows, octet sum) of the jsonl output.
fn from_jsonl(capture: &Path) -> (u64, u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .arg("decode")
        .arg(capture)
        .args(["--format", "jsonl", "--type", "flow", "--quiet"])
        .output()
        .expect("flowwire runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut flows, mut octets) = (0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        flows += 1;
        octets += v["octets"].as_u64().unwrap_or(0);
    }
    (flows, octets)
}

#[test]
fn duckdb_reads_the_flows_and_octets_of_the_jsonl() {
    if !duckdb_available() {
        eprintln!("skipped: python3 cannot import duckdb (pip install duckdb)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("flowwire-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut checked = 0;
    for capture in captures() {
        let name = capture.file_stem().unwrap().to_string_lossy().into_owned();
        let file = dir.join(format!("{name}.parquet"));
        let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
            .arg("decode")
            .arg(&capture)
            .args(["--format", "parquet", "--quiet", "--output"])
            .arg(&file)
            .output()
            .expect("flowwire runs");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let query = format!(
            "import duckdb; r = duckdb.connect().execute(\"select count(*), coalesce(sum(octets), 0) from read_parquet('{}')\").fetchone(); print(r[0], r[1])",
            file.display()
        );
        let read = Command::new("python3")
            .args(["-c", &query])
            .output()
            .expect("python3 runs");
        assert!(
            read.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        let text = String::from_utf8_lossy(&read.stdout);
        let got: Vec<u64> = text
            .split_whitespace()
            .map(|n| n.parse().expect("number"))
            .collect();
        let (flows, octets) = from_jsonl(&capture);
        assert_eq!(
            got,
            vec![flows, octets],
            "{name}: duckdb (count, octets) vs jsonl"
        );
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(checked >= 20, "{checked} captures");
    eprintln!("duckdb read {checked} parquet files: flows and octets equal to jsonl");
}

#[test]
fn parquet_needs_an_output_file() {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .arg("decode")
        .arg(&capture)
        .args(["--format", "parquet"])
        .output()
        .expect("flowwire runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output"));
}
