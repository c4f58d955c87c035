//! `flowwire listen` on loopback, fed from a committed capture (bounded in count and time).
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use flowwire::capture::CaptureReader;

#[test]
fn listen_decodes_what_arrives_on_loopback() {
    // Find a free port, then let listen take it.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args([
            "listen",
            "--udp",
            &format!("127.0.0.1:{port}"),
            "--format",
            "jsonl",
            "--stats",
        ])
        .args(["--count", "13", "--duration", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample.pcap");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut reader = CaptureReader::open(&sample).unwrap();
    let mut sent = 0;
    while let Some(Ok(d)) = reader.next_datagram() {
        sender.send_to(d.payload, ("127.0.0.1", port)).unwrap();
        sent += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flows = lines.iter().filter(|l| l["type"] == "flow").count();
    assert_eq!(sent, 13);
    assert_eq!(flows, 107, "the same flows as decoding the capture");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("datagrams 13"), "{err}");
}

#[test]
fn port_in_use_is_a_user_error() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["listen", "--udp", &addr.to_string(), "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}

#[test]
fn sigint_stops_cleanly_with_the_statistics() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args([
            "listen",
            "--udp",
            &format!("127.0.0.1:{port}"),
            "--format",
            "jsonl",
            "--stats",
            "--duration",
            "30",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample.pcap");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut reader = CaptureReader::open(&sample).unwrap();
    if let Some(Ok(d)) = reader.next_datagram() {
        sender.send_to(d.payload, ("127.0.0.1", port)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped promptly"
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.stdout.is_empty(),
        "what was received is printed, not lost in a buffer"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("datagrams 1"));
}

#[test]
fn a_flood_of_bad_datagrams_prints_a_few_lines_and_counts_them_all() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["listen", "--udp", &format!("127.0.0.1:{port}")])
        .args([
            "--format",
            "jsonl",
            "--stats",
            "--count",
            "300",
            "--duration",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    // NetFlow v9 headers announcing a set longer than the datagram: each one an error.
    let mut bad = vec![0u8, 9, 0, 1];
    bad.extend_from_slice(&[0; 16]);
    bad.extend_from_slice(&[1, 0, 0xff, 0xff, 1, 2, 3, 4]);
    for _ in 0..300 {
        sender.send_to(&bad, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_micros(300));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let printed = err
        .lines()
        .filter(|l| l.starts_with("flowwire: ") && !l.contains("not printed"))
        .count();
    assert!(printed <= 5, "{printed} error lines:\n{err}");
    assert!(
        err.contains("295 more errors from 1 exporter(s) not printed"),
        "{err}"
    );
    assert!(err.contains("datagrams 300"), "{err}");
    let row = err
        .lines()
        .find(|l| l.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no exporter row:\n{err}"));
    assert_eq!(row.split_whitespace().last(), Some("300"), "{err}");
}
