//! `flowwire decode` end to end, on the bundled sample and the committed captures.
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn flowwire() -> Command {
    Command::cargo_bin("flowwire").unwrap()
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

fn jsonl(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sample_decodes_all_four_protocols() {
    let out = flowwire()
        .arg("decode")
        .arg(testdata("sample.pcap"))
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = jsonl(&out.stdout);
    let kinds: std::collections::BTreeSet<String> = rows
        .iter()
        .filter(|r| r["type"] == "flow")
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["ipfix", "netflow5", "netflow9", "sflow5"]
    );
    assert!(
        rows.iter().any(|r| r["type"] == "counters"),
        "OVS counter samples"
    );
    assert!(
        rows.iter().any(|r| r["type"] == "options"),
        "softflowd IPFIX options"
    );
    for r in rows.iter().filter(|r| r["type"] == "flow") {
        assert!(
            r.get("src_addr").is_some() && r.get("dst_addr").is_some(),
            "{r}"
        );
    }
}

#[test]
fn type_filter_and_formats() {
    let out = flowwire()
        .arg("decode")
        .arg(testdata("sample.pcap"))
        .args(["--format", "jsonl", "--type", "flow"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(jsonl(&out.stdout).iter().all(|r| r["type"] == "flow"));

    let csv = flowwire()
        .arg("decode")
        .arg(testdata("sample.pcap"))
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(csv.status.success());
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("kind,exporter,"), "{text}");
    assert!(text.lines().count() > 10);

    let table = flowwire()
        .arg("decode")
        .arg(testdata("sample.pcap"))
        .args(["--format", "table"])
        .output()
        .unwrap();
    assert!(table.status.success());
    assert!(
        String::from_utf8(table.stdout)
            .unwrap()
            .starts_with("START")
    );
}

#[test]
fn port_filter_and_stats() {
    let out = flowwire()
        .arg("decode")
        .arg(testdata("sample.pcap"))
        .args(["--format", "jsonl", "--port", "20055", "--stats"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows = jsonl(&out.stdout);
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r["kind"] == "netflow5"),
        "only OVS NetFlow on 20055"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("EXPORTER"), "{err}");
}

#[test]
fn template_state_spans_files_in_order() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/netflow9");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let data = corpus.join("akvorado__data.pcap");
    let alone = flowwire()
        .arg("decode")
        .arg(&data)
        .args(["--format", "jsonl", "--type", "flow"])
        .output()
        .unwrap();
    assert!(alone.status.success());
    let with_template = flowwire()
        .arg("decode")
        .arg(corpus.join("akvorado__template.pcap"))
        .arg(&data)
        .args(["--format", "jsonl", "--type", "flow"])
        .output()
        .unwrap();
    assert!(with_template.status.success());
    assert!(jsonl(&with_template.stdout).len() > jsonl(&alone.stdout).len());
}

#[test]
fn user_errors_exit_2_with_one_line() {
    let out = flowwire()
        .args(["decode", "/no/such/file.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/no/such/file.pcap"), "{err}");

    let dir = tempdir();
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"this is not a capture").unwrap();
    let out = flowwire().arg("decode").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("not a capture")
    );
}

#[test]
fn truncated_capture_decodes_up_to_the_cut() {
    let bytes = std::fs::read(testdata("sample.pcap")).unwrap();
    let dir = tempdir();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let out = flowwire()
        .arg("decode")
        .arg(&cut)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!jsonl(&out.stdout).is_empty());
    assert!(String::from_utf8(out.stderr).unwrap().contains("truncated"));
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "flowwire-cli-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn stdin_decodes_like_the_file() {
    let path = testdata("sample.pcap");
    let from_file = flowwire()
        .arg("decode")
        .arg(&path)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let from_stdin = flowwire()
        .args(["decode", "-", "--format", "jsonl"])
        .write_stdin(std::fs::read(&path).unwrap())
        .output()
        .unwrap();
    assert!(from_stdin.status.success());
    assert_eq!(from_stdin.stdout, from_file.stdout);
}

#[test]
fn raw_ipfix_file_decodes_like_the_capture() {
    // An RFC 5655 file is the messages back to back: take them from the capture.
    let pcap = testdata("captures/softflowd-ipfix.pcap");
    let mut file = Vec::new();
    let mut reader = flowwire::capture::CaptureReader::open(&pcap).unwrap();
    while let Some(Ok(d)) = reader.next_datagram() {
        file.extend_from_slice(d.payload);
    }
    let dir = tempdir();
    let ipfix = dir.join("export.ipfix");
    std::fs::write(&ipfix, &file).unwrap();
    let flows = |path: &PathBuf| {
        let out = flowwire()
            .arg("decode")
            .arg(path)
            .args(["--format", "jsonl", "--type", "flow"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        jsonl(&out.stdout)
    };
    let a = flows(&pcap);
    let b = flows(&ipfix);
    assert_eq!(a.len(), b.len());
    assert!(!a.is_empty());

    // Cut inside the last message: the messages before it decode and the cut is reported
    // with its offset (like a damaged capture: exit status 0 unless --strict).
    let cut = dir.join("cut.ipfix");
    std::fs::write(&cut, &file[..file.len() - 10]).unwrap();
    let out = flowwire()
        .arg("decode")
        .arg(&cut)
        .args(["--format", "jsonl", "--type", "flow"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        stderr.contains("message at offset 1424: length 620, but 610 bytes available"),
        "{stderr}"
    );
    assert!(!jsonl(&out.stdout).is_empty());
    assert!(jsonl(&out.stdout).len() < a.len());
    for (x, y) in a.iter().zip(&b) {
        for key in [
            "src_addr", "dst_addr", "src_port", "dst_port", "octets", "packets", "start", "end",
        ] {
            assert_eq!(x.get(key), y.get(key), "{key}");
        }
    }
}

/// What `flowwire decode FILE ARGS` prints; it must succeed.
fn decode_ok(file: &Path, args: &[&str]) -> Vec<u8> {
    let out = flowwire()
        .arg("decode")
        .arg(file)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The flows of a capture as JSON, with the given extra arguments.
fn flows(capture: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let file = testdata(&format!("captures/{capture}"));
    let common = ["--format", "jsonl", "--type", "flow", "-q"];
    jsonl(&decode_ok(&file, &[&common[..], args].concat()))
}

#[test]
fn renormalize_multiplies_by_the_announced_interval() {
    // softflowd samples 1 in 2 and says so in options data.
    let plain = flows("softflowd-netflow9-sampled.pcap", &[]);
    let scaled = flows("softflowd-netflow9-sampled.pcap", &["--renormalize"]);
    assert!(plain.len() > 10, "{} flows", plain.len());
    assert_eq!(plain.len(), scaled.len());
    for (p, s) in plain.iter().zip(&scaled) {
        let interval = p["sampling_interval"].as_u64().expect("announced interval");
        assert_eq!(interval, 2);
        assert_eq!(
            s["octets"].as_u64(),
            p["octets"].as_u64().map(|o| o * interval)
        );
        assert_eq!(
            s["packets"].as_u64(),
            p["packets"].as_u64().map(|o| o * interval)
        );
        assert_eq!(s["renormalized"], true);
        assert!(p.get("renormalized").is_none());
    }
}

#[test]
fn sampling_overrides_what_the_exporter_says() {
    // fprobe's v5 header announces no sampling: the override supplies it.
    let plain = flows("fprobe-netflow5.pcap", &["--renormalize"]);
    assert!(!plain.is_empty());
    assert!(plain.iter().all(|r| r.get("renormalized").is_none()));
    let exporter = plain[0]["exporter"].as_str().unwrap().to_owned();
    let ip = exporter.rsplit_once(':').unwrap().0.to_owned();
    let scaled = flows(
        "fprobe-netflow5.pcap",
        &["--renormalize", "--sampling", &format!("{ip}=10")],
    );
    for (p, s) in plain.iter().zip(&scaled) {
        assert_eq!(s["octets"].as_u64(), p["octets"].as_u64().map(|o| o * 10));
        assert_eq!(s["sampling_interval"], 10);
        assert_eq!(s["renormalized"], true);
    }
    // --sampling without --renormalize is refused.
    let refused = flowwire()
        .arg("decode")
        .arg(testdata("captures/fprobe-netflow5.pcap"))
        .args(["--sampling", "192.0.2.1=10"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[test]
fn protobuf_output_is_goflow2_flow_messages_matching_the_json() {
    use flowwire::protobuf::FlowMessage;
    use flowwire::protobuf::prost::Message as _;
    let capture = testdata("sample.pcap");
    let run = |format: &str| decode_ok(&capture, &["--format", format, "--type", "flow"]);
    let json = jsonl(&run("jsonl"));
    let bytes = run("protobuf");
    let mut rest = &bytes[..];
    let mut messages = Vec::new();
    while !rest.is_empty() {
        messages.push(FlowMessage::decode_length_delimited(&mut rest).expect("a framed message"));
    }
    assert_eq!(messages.len(), json.len());
    assert!(!messages.is_empty());
    let kinds = ["unknown", "sflow5", "netflow5", "netflow9", "ipfix"];
    for (m, j) in messages.iter().zip(&json) {
        assert_eq!(
            kinds.get(m.r#type as usize).copied(),
            j["kind"].as_str(),
            "{j}"
        );
        assert_eq!(m.bytes, j["octets"].as_u64().unwrap_or(0), "{j}");
        assert_eq!(m.packets, j["packets"].as_u64().unwrap_or(0), "{j}");
        assert_eq!(
            u64::from(m.src_port),
            j["src_port"].as_u64().unwrap_or(0),
            "{j}"
        );
        assert_eq!(
            u64::from(m.dst_port),
            j["dst_port"].as_u64().unwrap_or(0),
            "{j}"
        );
        assert_eq!(
            u64::from(m.proto),
            j["protocol"].as_u64().unwrap_or(0),
            "{j}"
        );
        let src: Option<std::net::IpAddr> = j["src_addr"].as_str().and_then(|a| a.parse().ok());
        let want = match src {
            Some(std::net::IpAddr::V4(a)) => a.octets().to_vec(),
            Some(std::net::IpAddr::V6(a)) => a.octets().to_vec(),
            None => Vec::new(),
        };
        assert_eq!(m.src_addr, want, "{j}");
    }
}
