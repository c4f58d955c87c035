//! generate → decode gives back the generated flows, for every protocol; convert re-encodes.
use std::path::PathBuf;

use assert_cmd::Command;
use flowwire::synth::FlowGenerator;
use flowwire::{ProtocolKind, Timestamp};

fn flowwire() -> Command {
    Command::cargo_bin("flowwire").unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowwire-gen-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn decode(path: &PathBuf) -> Vec<serde_json::Value> {
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
    assert!(
        out.stderr.is_empty(),
        "decode errors: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const KEYS: &[&str] = &[
    "src_addr", "dst_addr", "protocol", "octets", "packets", "in_if", "out_if",
];

fn round_trip(protocol: &str, kind: ProtocolKind) {
    let pcap = tmp(&format!("{protocol}.pcap"));
    let out = flowwire()
        .args([
            "generate",
            "--protocol",
            protocol,
            "--flows",
            "1000",
            "--seed",
            "1",
            "--pcap",
        ])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded = decode(&pcap);
    let expected: Vec<_> = FlowGenerator::new(kind, 1, Timestamp::from_unix_secs(1_700_000_000))
        .take(1000)
        .collect();
    assert_eq!(decoded.len(), 1000, "{protocol}");
    for (i, (got, want)) in decoded.iter().zip(&expected).enumerate() {
        let want = serde_json::to_value(want).unwrap();
        for key in KEYS {
            assert_eq!(
                got.get(*key),
                want.get(*key),
                "{protocol} flow {i} {key}: {got} vs {want}"
            );
        }
        if kind != ProtocolKind::Sflow5 {
            for key in [
                "src_port", "dst_port", "start", "end", "src_as", "dst_as", "src_mask", "dst_mask",
                "tos",
            ] {
                assert_eq!(
                    got.get(key),
                    want.get(key),
                    "{protocol} flow {i} {key}: {got} vs {want}"
                );
            }
            // NetFlow v5 always carries TCP flags: absent means 0 there.
            let flags =
                |v: &serde_json::Value| v.get("tcp_flags").and_then(|f| f.as_u64()).unwrap_or(0);
            assert_eq!(flags(got), flags(&want), "{protocol} flow {i} tcp_flags");
        } else if want.get("src_port").is_some() {
            assert_eq!(
                got.get("src_port"),
                want.get("src_port"),
                "{protocol} flow {i}"
            );
            assert_eq!(
                got.get("dst_port"),
                want.get("dst_port"),
                "{protocol} flow {i}"
            );
        }
    }
}

#[test]
fn netflow5_round_trip() {
    round_trip("netflow5", ProtocolKind::Netflow5);
}

#[test]
fn netflow9_round_trip() {
    round_trip("netflow9", ProtocolKind::Netflow9);
}

#[test]
fn ipfix_round_trip() {
    round_trip("ipfix", ProtocolKind::Ipfix);
}

#[test]
fn sflow5_round_trip() {
    round_trip("sflow5", ProtocolKind::Sflow5);
}

#[test]
fn convert_sflow_capture_to_ipfix() {
    let sample =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures/pmacct-sflow5.pcap");
    let out_pcap = tmp("converted.pcap");
    let out = flowwire()
        .arg("convert")
        .arg(&sample)
        .args(["--to", "ipfix", "--pcap"])
        .arg(&out_pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let original = decode(&sample);
    let converted = decode(&out_pcap);
    assert_eq!(converted.len(), original.len());
    for (a, b) in original.iter().zip(&converted) {
        assert_eq!(b["kind"], "ipfix");
        for key in [
            "src_addr", "dst_addr", "src_port", "dst_port", "protocol", "octets", "packets",
        ] {
            assert_eq!(a.get(key), b.get(key), "{key}: {a} vs {b}");
        }
    }
}

#[test]
fn bad_collector_address_is_a_user_error() {
    let out = flowwire()
        .args([
            "generate",
            "--protocol",
            "ipfix",
            "--to",
            "no-such-host-xyz:99999",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tshark_decodes_the_same_counts_without_malformed_frames() {
    if std::process::Command::new("tshark")
        .arg("-v")
        .output()
        .is_err()
    {
        eprintln!("skipped: tshark is not installed");
        return;
    }
    for (protocol, port, dissector, field) in [
        ("netflow5", 2055, "cflow", "cflow.protocol"),
        ("netflow9", 2055, "cflow", "cflow.protocol"),
        ("ipfix", 4739, "cflow", "cflow.protocol"),
        ("sflow5", 6343, "sflow", "sflow.flow_sample.sampling_rate"),
    ] {
        let pcap = tmp(&format!("tshark-{protocol}.pcap"));
        let out = flowwire()
            .args([
                "generate",
                "--protocol",
                protocol,
                "--flows",
                "1000",
                "--seed",
                "3",
                "--pcap",
            ])
            .arg(&pcap)
            .output()
            .unwrap();
        assert!(out.status.success());
        let decode_as = format!("udp.port=={port},{dissector}");
        let fields = run_ok(
            std::process::Command::new("tshark")
                .arg("-r")
                .arg(&pcap)
                .args(["-d", &decode_as, "-T", "fields", "-e", field]),
        );
        let count = String::from_utf8_lossy(&fields.stdout)
            .lines()
            .flat_map(|l| l.split(','))
            .filter(|v| !v.is_empty())
            .count();
        assert_eq!(count, 1000, "{protocol}: tshark records");
        let malformed = run_ok(
            std::process::Command::new("tshark")
                .arg("-r")
                .arg(&pcap)
                .args(["-d", &decode_as, "-Y", "_ws.malformed"]),
        );
        assert!(
            malformed.stdout.is_empty(),
            "{protocol}: {}",
            String::from_utf8_lossy(&malformed.stdout)
        );
    }
}

/// Runs an external tool and returns its output; fails the test, with the tool's stderr,
/// when it cannot run or exits unsuccessfully (an empty stdout must never pass for "nothing
/// found").
fn run_ok(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} exited with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
