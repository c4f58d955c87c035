//! `flowwire::metrics`: the page's families and labels, the exporters beyond the limit summed
//! under one series, `promtool check metrics` where installed, and the HTTP server's answers
//! to good, wrong and oversized requests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};

use flowwire::collector::ExporterStats;
use flowwire::metrics::{MetricsPage, MetricsServer, render};
use flowwire::pipeline::PipelineStats;
use flowwire::{ErrorKind, ProtocolKind};

fn exporters() -> Vec<(SocketAddr, ProtocolKind, ExporterStats)> {
    (1..=5u8)
        .map(|i| {
            let mut s = ExporterStats {
                datagrams: u64::from(i) * 10,
                flows: u64::from(i) * 100,
                ..Default::default()
            };
            s.errors_by_kind.add(ErrorKind::Truncated, u64::from(i));
            s.errors = u64::from(i);
            (
                SocketAddr::from(([192, 0, 2, i], 2055)),
                if i % 2 == 0 {
                    ProtocolKind::Ipfix
                } else {
                    ProtocolKind::Netflow9
                },
                s,
            )
        })
        .collect()
}

fn page(max_exporters: usize) -> String {
    let exporters = exporters();
    render(&MetricsPage {
        pipeline: PipelineStats {
            received: 150,
            ..Default::default()
        },
        exporters: &exporters,
        kernel_drops: Some(7),
        max_exporters,
        extra_counters: &[("flowwire_kafka_delivered_total", "Records delivered.", 9)],
        extra_gauges: &[("flowwire_kafka_up", "Whether Kafka takes records.", 1)],
    })
}

#[test]
fn the_busiest_exporters_by_name_the_rest_together() {
    let text = page(2);
    let flows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("flowwire_exporter_flows_total{"))
        .collect();
    assert_eq!(
        flows,
        [
            "flowwire_exporter_flows_total{exporter=\"192.0.2.5:2055\",protocol=\"netflow9\"} 500",
            "flowwire_exporter_flows_total{exporter=\"192.0.2.4:2055\",protocol=\"ipfix\"} 400",
            "flowwire_exporter_flows_total{exporter=\"other\",protocol=\"netflow9\"} 400",
            "flowwire_exporter_flows_total{exporter=\"other\",protocol=\"ipfix\"} 200",
        ]
    );
    assert!(text.contains("flowwire_flows_total 1500\n"));
    assert!(text.contains("# TYPE flowwire_kafka_up gauge\nflowwire_kafka_up 1\n"));
    assert!(text.contains("flowwire_errors_total{kind=\"truncated\"} 15\n"));
    assert!(text.contains(
        "flowwire_exporter_errors_total{exporter=\"192.0.2.5:2055\",protocol=\"netflow9\",kind=\"truncated\"} 5\n"
    ));
    assert!(text.contains("flowwire_kernel_dropped_datagrams_total 7\n"));
    assert!(text.contains("flowwire_datagrams_received_total 150\n"));
    assert!(text.contains("flowwire_kafka_delivered_total 9\n"));
    // Every family once, each with its HELP and TYPE.
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
    let mut names: Vec<&str> = types.iter().map(|l| l.split(' ').nth(2).unwrap()).collect();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n);
    assert!(names.iter().all(|n| n.starts_with("flowwire_")));
}

#[test]
fn promtool_accepts_the_page() {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("skipping: promtool not installed (Debian package prometheus)");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page(3).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ask(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request).unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

#[test]
fn the_server_answers_metrics_and_refuses_the_rest() {
    let server =
        MetricsServer::start(TcpListener::bind("127.0.0.1:0").unwrap(), || page(10)).unwrap();
    let addr = server.local_addr();
    let ok = ask(addr, b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(ok.contains("Content-Type: text/plain; version=0.0.4"));
    assert!(ok.ends_with(&page(10)));
    let head = ask(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200 OK") && head.ends_with("\r\n\r\n"),
        "{head}"
    );
    assert!(ask(addr, b"GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
    assert!(ask(addr, b"POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    let huge = [b"GET /metrics HTTP/1.1\r\nX: ".as_slice(), &[b'a'; 9000]].concat();
    assert!(ask(addr, &huge).starts_with("HTTP/1.1 431"));
    // A client that connects and says nothing delays the next one by at most its timeout.
    let silent = TcpStream::connect(addr).unwrap();
    let started = std::time::Instant::now();
    assert!(ask(addr, b"GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(silent);
    server.stop();
}
