//! `flowwire listen` as collector users run it (issue 18), end to end on loopback with
//! `flowwire generate` as the exporter: learned state saved and restored across a restart
//! (`--state`), IPFIX over TCP (`--tcp`, `generate --transport tcp`), and Prometheus metrics
//! (`--metrics`, checked by `promtool` where the Debian package `prometheus` is installed).
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{finish, flowwire, free_tcp_port, free_udp_port, generate};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("flowwire-cli-{}-{name}", std::process::id()))
}

/// Starts `flowwire listen ARGS --format jsonl` and waits until it is up (its port taken).
fn listen(args: &[&str]) -> Child {
    let child = flowwire()
        .arg("listen")
        .args(args)
        .args(["--format", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    child
}

fn flows(out: &Output) -> usize {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"flow\""))
        .count()
}

#[test]
fn state_lets_a_restarted_collector_decode_data_only_datagrams() {
    for protocol in ["ipfix", "netflow9"] {
        let state = temp(&format!("state-{protocol}.json"));
        let _ = std::fs::remove_file(&state);
        let (port, source) = (free_udp_port(), free_udp_port());
        let to = format!("127.0.0.1:{port}");
        let state_arg = state.to_str().unwrap();
        let udp = ["--udp", &to, "--duration", "4"];
        let exporter = [
            "--protocol",
            protocol,
            "--flows",
            "2000",
            "--seed",
            "7",
            "--to",
            &to,
            "--rate",
            "0",
        ];
        let source_port = source.to_string();
        let from = ["--source-port", source_port.as_str()];

        // Run 1 learns the templates and saves them at exit.
        let run1 = listen(&[&udp[..], &["--state", state_arg]].concat());
        generate(&[&exporter[..], &from].concat());
        let run1 = finish(run1);
        assert_eq!(flows(&run1), 2000, "{protocol}: run 1");
        assert!(state.exists(), "{protocol}: state written");

        // Run 2, started from the file, gets data without templates: all of it decodes.
        let run2 = listen(&[&udp[..], &["--state", state_arg]].concat());
        generate(&[&exporter[..], &from, &["--withhold-templates"]].concat());
        let run2 = finish(run2);
        let err = String::from_utf8_lossy(&run2.stderr);
        assert!(
            err.contains("templates of 1 exporter domains restored"),
            "{err}"
        );
        assert_eq!(
            flows(&run2),
            2000,
            "{protocol}: run 2 from the state: {err}"
        );

        // Without the state the same datagrams decode to nothing.
        let run3 = listen(&udp);
        generate(&[&exporter[..], &from, &["--withhold-templates"]].concat());
        assert_eq!(
            flows(&finish(run3)),
            0,
            "{protocol}: the datagrams are data-only"
        );
        std::fs::remove_file(&state).ok();
    }
}

#[test]
fn a_damaged_state_file_is_reported_and_ignored() {
    let state = temp("damaged.json");
    std::fs::write(
        &state,
        b"{\"format\":\"flowwire-collector-state\",\"saved_at\":",
    )
    .unwrap();
    let port = free_udp_port();
    let run = listen(&[
        "--udp",
        &format!("127.0.0.1:{port}"),
        "--duration",
        "1",
        "--state",
        state.to_str().unwrap(),
    ]);
    let out = finish(run);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("starting empty"), "{err}");
    // And the exit wrote a good one over it.
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(
        text.starts_with("{\"format\":\"flowwire-collector-state\""),
        "{text}"
    );
    std::fs::remove_file(&state).ok();
}

#[test]
fn ipfix_over_tcp_arrives_complete_from_concurrent_exporters() {
    let port = free_tcp_port();
    let to = format!("127.0.0.1:{port}");
    let run = listen(&["--tcp", &to, "--duration", "6", "--stats"]);
    // Two exporters at once, each its own transport session with the same template ids.
    let exporters: Vec<_> = ["3", "4"]
        .into_iter()
        .map(|seed| {
            let to = to.clone();
            std::thread::spawn(move || {
                generate(&[
                    "--protocol",
                    "ipfix",
                    "--flows",
                    "5000",
                    "--seed",
                    seed,
                    "--transport",
                    "tcp",
                    "--to",
                    &to,
                    "--rate",
                    "0",
                ])
            })
        })
        .collect();
    for e in exporters {
        e.join().unwrap();
    }
    let out = finish(run);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(flows(&out), 10_000, "{err}");
    assert!(
        err.contains("tcp: 2 connections accepted, 0 refused"),
        "{err}"
    );
}

#[test]
fn generate_over_tcp_is_for_ipfix_only() {
    let out = flowwire()
        .args([
            "generate",
            "--protocol",
            "netflow9",
            "--transport",
            "tcp",
            "--to",
            "127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is for IPFIX"));
}

/// GET `path` from the metrics server; (status line, body).
fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

/// `promtool check metrics` of a page, when promtool is installed.
fn promtool_check(page: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("skipping promtool check: promtool not installed (Debian package prometheus)");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn metrics_count_every_flow_per_exporter() {
    let port = free_udp_port();
    let metrics = format!("127.0.0.1:{}", free_tcp_port());
    let to = format!("127.0.0.1:{port}");
    let run = listen(&["--udp", &to, "--metrics", &metrics, "--duration", "8"]);
    for (protocol, n) in [("netflow9", "1000"), ("ipfix", "1500"), ("sflow5", "500")] {
        generate(&[
            "--protocol",
            protocol,
            "--flows",
            n,
            "--to",
            &to,
            "--rate",
            "0",
        ]);
    }
    // The decoders publish their counters every 250 ms.
    let deadline = Instant::now() + Duration::from_secs(5);
    let page = loop {
        let (status, body) = get(&metrics, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK");
        if body.contains("flowwire_flows_total 3000\n") || Instant::now() > deadline {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let per_exporter: u64 = page
        .lines()
        .filter(|l| l.starts_with("flowwire_exporter_flows_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(per_exporter, 3000, "{page}");
    assert_eq!(
        page.lines()
            .filter(|l| l.starts_with("flowwire_exporter_flows_total{"))
            .count(),
        3,
        "one series per exporter"
    );
    assert_eq!(get(&metrics, "/").0, "HTTP/1.1 404 Not Found");
    promtool_check(&page);
    finish(run);
}

#[test]
fn listen_renormalizes_with_an_override() {
    let port = free_udp_port();
    let to = format!("127.0.0.1:{port}");
    let run = listen(&[
        "--udp",
        &to,
        "--duration",
        "3",
        "--renormalize",
        "--sampling",
        "127.0.0.1=100",
    ]);
    generate(&[
        "--protocol",
        "netflow5",
        "--flows",
        "300",
        "--to",
        &to,
        "--rate",
        "0",
    ]);
    let out = finish(run);
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 300);
    assert!(
        rows.iter()
            .all(|r| r["renormalized"] == true && r["sampling_interval"] == 100)
    );
}
