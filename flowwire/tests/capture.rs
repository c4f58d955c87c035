//! The capture reader against real captures and hand-made ones.
#![cfg(feature = "pcap")]

use std::path::{Path, PathBuf};
use std::process::Command;

use flowwire::capture::{CaptureError, CaptureReader};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for proto in ["netflow5", "netflow9", "ipfix", "sflow5"] {
        for e in std::fs::read_dir(dir.join(proto)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    files
}

/// (frame, src, dst, payload length) of every UDP datagram.
fn ours(path: &Path) -> Vec<(u64, String, String, usize)> {
    let mut r = CaptureReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(item) = r.next_datagram() {
        match item {
            Ok(d) => out.push((
                d.frame,
                d.src.to_string(),
                d.dst.to_string(),
                d.payload.len(),
            )),
            Err(e) if !e.is_fatal() => {}
            Err(CaptureError::Truncated { .. }) => break,
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    out
}

#[test]
fn every_corpus_capture_matches_tshark_datagram_for_datagram() {
    let Some(dir) = corpus() else { return };
    if Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("skipped: tshark is not installed");
        return;
    }
    let mut total = 0;
    for path in corpus_files(&dir) {
        let mut out = Command::new("tshark");
        out.args(["-n", "-r"])
            .arg(&path)
            .args([
                "-Y",
                "udp",
                "-T",
                "fields",
                "-E",
                "separator=,",
                "-E",
                "occurrence=f",
            ])
            .args([
                "-e",
                "frame.number",
                "-e",
                "ip.src",
                "-e",
                "ipv6.src",
                "-e",
                "udp.srcport",
                "-e",
                "udp.length",
            ]);
        let out = run_ok(&mut out);
        let theirs: Vec<(u64, usize)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].parse().unwrap(), f[4].parse::<usize>().unwrap() - 8)
            })
            .collect();
        let mine: Vec<(u64, usize)> = ours(&path).iter().map(|d| (d.0, d.3)).collect();
        assert_eq!(mine, theirs, "{}", path.display());
        total += mine.len();
    }
    eprintln!("{total} datagrams agree with tshark");
    assert!(total > 0);
}

#[test]
fn garbage_is_not_a_capture() {
    assert!(matches!(
        CaptureReader::from_bytes(b"hello world, not a pcap at all"),
        Err(CaptureError::NotACapture)
    ));
    assert!(matches!(
        CaptureReader::from_bytes(b""),
        Err(CaptureError::Empty)
    ));
}

/// A classic pcap (Ethernet) with one IPv4/UDP frame, built by hand.
fn one_frame_pcap(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]);
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        17,
        0,
        0,
        192,
        0,
        2,
        1,
        127,
        0,
        0,
        1,
    ];
    let sum = {
        let mut s: u32 = ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    };
    ip[10] = (sum >> 8) as u8;
    ip[11] = sum as u8;
    frame.extend_from_slice(&ip);
    let ulen = (8 + payload.len()) as u16;
    frame.extend_from_slice(&[0x08, 0x07, 0x08, 0x07, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    frame.extend_from_slice(payload);
    let mut pcap = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    pcap.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    pcap.extend_from_slice(&500_000u32.to_le_bytes());
    pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&frame);
    pcap
}

#[test]
fn reads_a_hand_made_frame_and_reports_truncation() {
    let pcap = one_frame_pcap(b"\x00\x0ahello");
    let mut r = CaptureReader::from_bytes(&pcap).unwrap();
    let d = r.next_datagram().unwrap().unwrap();
    assert_eq!(d.frame, 1);
    assert_eq!(d.src.to_string(), "192.0.2.1:2055");
    assert_eq!(d.payload, b"\x00\x0ahello");
    assert_eq!(d.time.unix_nanos(), 1_700_000_000_500_000_000);
    assert!(r.next_datagram().is_none());

    // Cut anywhere inside the frame record: never a panic, a truncation error at most.
    for cut in 24..pcap.len() {
        let mut r = CaptureReader::from_bytes(&pcap[..cut]).unwrap();
        while let Some(item) = r.next_datagram() {
            if let Err(e) = item {
                assert!(
                    matches!(e, CaptureError::Truncated { frame: 0 }),
                    "cut {cut}: {e}"
                );
            }
        }
    }
}

#[test]
fn read_capture_is_three_lines() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample.pcap");
    let decoded = flowwire::collector::read_capture(&path).unwrap();
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    assert_eq!(decoded.flows.len(), 107);
    assert!(!decoded.counters.is_empty());
    let kinds: Vec<_> = decoded.options.iter().filter_map(|o| o.kind).collect();
    assert!(
        kinds.contains(&flowwire::ProtocolKind::Netflow9),
        "softflowd v9 options"
    );
    assert!(
        kinds.contains(&flowwire::ProtocolKind::Ipfix),
        "softflowd IPFIX options"
    );
}

#[test]
fn fragmented_udp_is_reassembled_like_tshark_does() {
    // The exporters' input traffic holds fragmented IPv4 and IPv6 UDP datagrams.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures/input-traffic.pcap");
    let mut r = CaptureReader::open(&path).unwrap();
    let mut big = 0;
    let mut total = 0;
    while let Some(item) = r.next_datagram() {
        if let Ok(d) = item {
            total += 1;
            if d.payload.len() > 1500 {
                big += 1;
            }
        }
    }
    assert!(r.stats().fragments > 0, "the capture has fragments");
    assert!(big > 0, "reassembled datagrams larger than one frame");
    if Command::new("tshark").arg("-v").output().is_ok() {
        let mut out = Command::new("tshark");
        out.arg("-n").arg("-r").arg(&path).args([
            "-Y",
            "udp && !icmp && !icmpv6",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ]);
        let out = run_ok(&mut out);
        let theirs = String::from_utf8_lossy(&out.stdout).lines().count();
        // ICMP errors quote a UDP header, which tshark's `udp` filter also matches.
        assert_eq!(
            total, theirs,
            "datagrams, as tshark counts them after reassembly"
        );
    }
}

/// Fuzz regression (capture_reader): a pcapng block whose declared length is shorter than its
/// own header made pcap-parser 0.17 subtract with overflow. The walk ends with an error.
#[test]
fn pcapng_block_length_underflow_is_an_error() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pcapng-block-length-underflow.pcapng");
    let bytes = std::fs::read(path).unwrap();
    if let Ok(mut r) = CaptureReader::from_bytes(&bytes) {
        let mut fatal = 0;
        while let Some(item) = r.next_datagram() {
            if let Err(e) = item {
                fatal += usize::from(e.is_fatal());
            }
        }
        assert!(fatal <= 1);
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
