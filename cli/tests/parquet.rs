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

/// `flowwire listen --format parquet --output DIR` plus `extra` arguments on a free loopback
/// port, started and given time to bind: (child, port, DIR).
fn listen_parquet(name: &str, extra: &[&str]) -> (std::process::Child, u16, PathBuf) {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("flowwire-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let child = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["listen", "--udp", &format!("127.0.0.1:{port}")])
        .args(["--format", "parquet", "--stats", "--duration", "30"])
        .args(extra)
        .arg("--output")
        .arg(&dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    (child, port, dir)
}

/// Sends SIGTERM, waits, checks the exit status; returns stderr.
fn terminate(child: std::process::Child) -> String {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

/// The files of `dir`: every one a complete `*.parquet` (no `.tmp` left, the magic at both
/// ends).
fn complete_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in &files {
        assert!(
            f.extension().is_some_and(|e| e == "parquet"),
            "only complete files: {files:?}"
        );
        let bytes = std::fs::read(f).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{} is a complete Parquet file",
            f.display()
        );
    }
    files
}

/// Checks that DuckDB counts `want` rows in `dir`'s files, where it is present.
fn check_duckdb_count(dir: &Path, want: u64) {
    if !duckdb_available() {
        eprintln!("duckdb not available: the flow count of the files is not checked");
        return;
    }
    let query = format!(
        "import duckdb; print(duckdb.connect().execute(\"select count(*) from read_parquet('{}/*.parquet')\").fetchone()[0])",
        dir.display()
    );
    let read = Command::new("python3")
        .args(["-c", &query])
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&read.stdout).trim(),
        want.to_string()
    );
}

/// `listen --format parquet --output DIR --rotate 1s`: several files, each complete (the
/// Parquet magic at both ends, no .tmp left) after SIGTERM, and DuckDB (where present) reads
/// every flow sent.
#[test]
fn listen_rotates_and_leaves_only_complete_files_after_sigterm() {
    use flowwire::capture::CaptureReader;
    use std::time::Duration;

    let (child, port, dir) = listen_parquet("listen-pq", &["--rotate", "1s"]);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample.pcap");
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // The sample three times, about a second apart: at least two rotations.
    let mut sent = 0;
    for round in 0..3 {
        if round > 0 {
            std::thread::sleep(Duration::from_millis(1_200));
        }
        let mut reader = CaptureReader::open(&sample).unwrap();
        while let Some(Ok(d)) = reader.next_datagram() {
            sender.send_to(d.payload, ("127.0.0.1", port)).unwrap();
            sent += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let err = terminate(child);
    assert!(err.contains(&format!("datagrams {sent}")), "{err}");
    let files = complete_files(&dir);
    assert!(files.len() >= 2, "rotated: {files:?}");
    // 107 flows in the sample, sent three times.
    check_duckdb_count(&dir, 321);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--rotate-mb`: 200,000 flows from `flowwire generate` into 1 MiB files: several complete
/// files holding every flow.
#[test]
fn listen_rotates_by_size() {
    let (child, port, dir) = listen_parquet("listen-size", &["--rotate-mb", "1"]);
    let sent = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["generate", "--protocol", "netflow9", "--flows", "200000"])
        .args(["--rate", "50000", "--to", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let err = terminate(child);
    assert!(err.contains(" 200000 "), "every flow arrived: {err}");
    let files = complete_files(&dir);
    assert!(files.len() >= 3, "rotated by size: {files:?}");
    check_duckdb_count(&dir, 200_000);
    let _ = std::fs::remove_dir_all(&dir);
}
