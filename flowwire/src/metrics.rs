//! Prometheus metrics of a collector: [`render`] writes the text exposition format (version
//! 0.0.4) of a [`Pipeline`](crate::pipeline::Pipeline)'s counters and its per-exporter
//! statistics, and [`MetricsServer`] serves it at `/metrics` over HTTP.
//!
//! Every name starts with `flowwire_`. Labels hold only bounded values: the exporter's address
//! (at most [`MetricsPage::max_exporters`] of them, the rest summed under `exporter="other"`),
//! the protocol and the error kind (fixed sets). Error text never becomes a label.
//!
//! ```
//! use flowwire::collector::ExporterStats;
//! use flowwire::metrics::{MetricsPage, render};
//! use flowwire::pipeline::PipelineStats;
//! use flowwire::ProtocolKind;
//!
//! let exporters = [(
//!     "192.0.2.1:2055".parse().unwrap(),
//!     ProtocolKind::Netflow9,
//!     ExporterStats { datagrams: 3, flows: 60, ..Default::default() },
//! )];
//! let text = render(&MetricsPage {
//!     pipeline: PipelineStats::default(),
//!     exporters: &exporters,
//!     kernel_drops: None,
//!     max_exporters: 1000,
//!     extra_counters: &[],
//!     extra_gauges: &[],
//! });
//! assert!(text.contains(
//!     "flowwire_exporter_flows_total{exporter=\"192.0.2.1:2055\",protocol=\"netflow9\"} 60\n"
//! ));
//! assert!(text.contains("flowwire_flows_total 60\n"));
//! ```

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use flowwire_record::ProtocolKind;
use flowwire_record::codec::ErrorKind;

use crate::collector::ExporterStats;
use crate::pipeline::PipelineStats;

/// What one metrics page shows.
#[derive(Debug, Clone, Copy)]
pub struct MetricsPage<'a> {
    /// The pipeline's counters.
    pub pipeline: PipelineStats,
    /// Per exporter and protocol ([`Pipeline::exporter_stats`](crate::pipeline::Pipeline::exporter_stats)).
    pub exporters: &'a [(SocketAddr, ProtocolKind, ExporterStats)],
    /// What the kernel dropped on the UDP sockets ([`crate::pipeline::kernel_drops`]), when
    /// known.
    pub kernel_drops: Option<u64>,
    /// Exporters shown one by one (those with the most datagrams); the others are summed
    /// under `exporter="other"`.
    pub max_exporters: usize,
    /// More process-wide counters: (name, help, value), e.g. a Kafka producer's.
    pub extra_counters: &'a [(&'a str, &'a str, u64)],
    /// More process-wide gauges: (name, help, value), e.g. a Kafka producer's buffer fill.
    pub extra_gauges: &'a [(&'a str, &'a str, u64)],
}

/// A per-exporter counter family: name, help, and its value in the statistics.
type Family = (&'static str, &'static str, fn(&ExporterStats) -> u64);

/// The per-exporter counter families.
const EXPORTER_COUNTERS: [Family; 8] = [
    (
        "flowwire_exporter_datagrams_total",
        "Datagrams (or IPFIX messages over TCP) received from the exporter.",
        |s| s.datagrams,
    ),
    (
        "flowwire_exporter_flows_total",
        "Flow records decoded from the exporter.",
        |s| s.flows,
    ),
    (
        "flowwire_exporter_stats_samples_total",
        "sFlow counter samples (interface and host statistics) decoded from the exporter.",
        |s| s.counters,
    ),
    (
        "flowwire_exporter_options_records_total",
        "Options data records decoded from the exporter.",
        |s| s.options,
    ),
    (
        "flowwire_exporter_templates_total",
        "Templates learned, replaced or refreshed from the exporter.",
        |s| s.templates,
    ),
    (
        "flowwire_exporter_template_withdrawals_total",
        "Templates the exporter withdrew.",
        |s| s.withdrawn,
    ),
    (
        "flowwire_exporter_missing_templates_total",
        "Data sets of the exporter that arrived before their template.",
        |s| s.missing_templates,
    ),
    (
        "flowwire_exporter_renormalized_flows_total",
        "Flow records of the exporter whose counts were multiplied by the sampling interval.",
        |s| s.renormalized,
    ),
];

/// A label value in the exposition format: backslash, double quote and line feed escaped.
fn label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, value: u64) {
    let _ = writeln!(out, "{name} {value}");
}

/// The page in the Prometheus text format.
pub fn render(page: &MetricsPage<'_>) -> String {
    let mut out = String::with_capacity(4096 + page.exporters.len().min(10_000) * 800);
    // The busiest exporters by name, the rest together.
    let mut rows: Vec<(String, &str, ExporterStats)> = Vec::new();
    let mut order: Vec<&(SocketAddr, ProtocolKind, ExporterStats)> =
        page.exporters.iter().collect();
    order.sort_by(|a, b| b.2.datagrams.cmp(&a.2.datagrams).then(a.0.cmp(&b.0)));
    let mut other: [Option<ExporterStats>; 4] = Default::default();
    let kinds = [
        ProtocolKind::Netflow5,
        ProtocolKind::Netflow9,
        ProtocolKind::Ipfix,
        ProtocolKind::Sflow5,
    ];
    for (i, (addr, kind, s)) in order.into_iter().enumerate() {
        if i < page.max_exporters {
            rows.push((addr.to_string(), kind.name(), *s));
        } else if let Some(slot) = kinds
            .iter()
            .position(|k| k == kind)
            .and_then(|p| other.get_mut(p))
        {
            slot.get_or_insert_with(ExporterStats::default).add(s);
        }
    }
    for (kind, s) in kinds.iter().zip(other) {
        if let Some(s) = s {
            rows.push(("other".into(), kind.name(), s));
        }
    }
    let mut labels = String::new();
    let mut labelled = |out: &mut String,
                        name: &str,
                        exporter: &str,
                        protocol: &str,
                        extra: Option<(&str, &str)>,
                        value: u64| {
        labels.clear();
        labels.push_str("exporter=\"");
        label(&mut labels, exporter);
        labels.push_str("\",protocol=\"");
        labels.push_str(protocol);
        labels.push('"');
        if let Some((k, v)) = extra {
            let _ = write!(labels, ",{k}=\"{v}\"");
        }
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    };
    for (name, help, value) in EXPORTER_COUNTERS {
        family(&mut out, name, "counter", help);
        for (exporter, protocol, s) in &rows {
            labelled(&mut out, name, exporter, protocol, None, value(s));
        }
    }
    family(
        &mut out,
        "flowwire_exporter_errors_total",
        "counter",
        "Decode errors of the exporter, by kind.",
    );
    for (exporter, protocol, s) in &rows {
        for (kind, n) in s.errors_by_kind.iter().filter(|(_, n)| *n > 0) {
            labelled(
                &mut out,
                "flowwire_exporter_errors_total",
                exporter,
                protocol,
                Some(("kind", kind.name())),
                n,
            );
        }
    }

    // Process-wide totals.
    let total =
        |f: fn(&ExporterStats) -> u64| page.exporters.iter().map(|(_, _, s)| f(s)).sum::<u64>();
    family(
        &mut out,
        "flowwire_flows_total",
        "counter",
        "Flow records decoded, all exporters.",
    );
    sample(&mut out, "flowwire_flows_total", total(|s| s.flows));
    family(
        &mut out,
        "flowwire_errors_total",
        "counter",
        "Decode errors, all exporters, by kind.",
    );
    for kind in ErrorKind::ALL {
        let n: u64 = page
            .exporters
            .iter()
            .map(|(_, _, s)| s.errors_by_kind.get(kind))
            .sum();
        let _ = writeln!(out, "flowwire_errors_total{{kind=\"{}\"}} {n}", kind.name());
    }
    family(
        &mut out,
        "flowwire_exporters",
        "gauge",
        "Exporters seen (address and protocol).",
    );
    sample(&mut out, "flowwire_exporters", page.exporters.len() as u64);
    let p = &page.pipeline;
    let counters: [(&str, &str, u64); 12] = [
        (
            "flowwire_datagrams_received_total",
            "UDP datagrams received.",
            p.received,
        ),
        (
            "flowwire_received_bytes_total",
            "Octets of UDP datagrams received.",
            p.received_bytes,
        ),
        (
            "flowwire_receive_calls_total",
            "System calls that received datagrams.",
            p.receive_calls,
        ),
        (
            "flowwire_queue_dropped_datagrams_total",
            "Datagrams dropped because the queue was full.",
            p.queue_dropped,
        ),
        (
            "flowwire_decoded_total",
            "Datagrams and TCP messages decoded.",
            p.decoded,
        ),
        (
            "flowwire_tcp_connections_accepted_total",
            "IPFIX-over-TCP connections accepted.",
            p.tcp_accepted,
        ),
        (
            "flowwire_tcp_connections_refused_total",
            "TCP connections refused: too many open.",
            p.tcp_refused,
        ),
        (
            "flowwire_tcp_messages_total",
            "IPFIX messages received over TCP.",
            p.tcp_messages,
        ),
        (
            "flowwire_tcp_received_bytes_total",
            "Octets received over TCP.",
            p.tcp_bytes,
        ),
        (
            "flowwire_tcp_stream_errors_total",
            "TCP connections closed for a stream out of step.",
            p.tcp_stream_errors,
        ),
        (
            "flowwire_tcp_idle_closed_total",
            "TCP connections closed for being idle.",
            p.tcp_idle_closed,
        ),
        (
            "flowwire_kernel_dropped_datagrams_total",
            "Datagrams the kernel dropped on the UDP sockets (receive buffer full).",
            page.kernel_drops.unwrap_or(0),
        ),
    ];
    for (name, help, value) in counters {
        if name == "flowwire_kernel_dropped_datagrams_total" && page.kernel_drops.is_none() {
            continue;
        }
        family(&mut out, name, "counter", help);
        sample(&mut out, name, value);
    }
    for &(name, help, value) in page.extra_counters {
        family(&mut out, name, "counter", help);
        sample(&mut out, name, value);
    }
    for &(name, help, value) in page.extra_gauges {
        family(&mut out, name, "gauge", help);
        sample(&mut out, name, value);
    }
    family(
        &mut out,
        "flowwire_tcp_connections_open",
        "gauge",
        "IPFIX-over-TCP connections open.",
    );
    sample(&mut out, "flowwire_tcp_connections_open", p.tcp_open);
    family(
        &mut out,
        "flowwire_queue_peak_bytes",
        "gauge",
        "The most octets the queue has held.",
    );
    sample(&mut out, "flowwire_queue_peak_bytes", p.queue_peak_bytes);
    out
}

/// The largest request head read (a metrics request is a few hundred octets).
const MAX_REQUEST: usize = 8192;
/// How long a client may take to send its request or take the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// A thread answering `GET /metrics` with the page a closure renders; see the module docs.
/// Clients are served one at a time, each given at most 2 s to send its request (at most
/// 8 KiB) and to read the answer, so a slow or hostile client delays the next scrape by no
/// more than that and nothing grows with what clients send.
#[derive(Debug)]
pub struct MetricsServer {
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Serves on `listener` (bound already): `page()` is called for each request.
    pub fn start(
        listener: TcpListener,
        page: impl Fn() -> String + Send + 'static,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("flowwire-metrics".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            // A client that misbehaves only loses its own answer.
                            let _ = answer(stream, &page);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })?;
        Ok(MetricsServer {
            stop,
            addr,
            thread: Some(thread),
        })
    }

    /// The address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits for the thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.halt();
    }
}

fn answer(mut stream: TcpStream, page: &impl Fn() -> String) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = [0u8; MAX_REQUEST];
    let mut len = 0;
    while !head
        .get(..len)
        .is_some_and(|h| h.windows(4).any(|w| w == b"\r\n\r\n"))
    {
        let Some(room) = head.get_mut(len..).filter(|r| !r.is_empty()) else {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "request too large\n",
                true,
            );
        };
        match stream.read(room)? {
            0 => break,
            n => len += n,
        }
    }
    let head = head.get(..len).unwrap_or_default();
    let line = head
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    let body_wanted = method == b"GET";
    if !body_wanted && method != b"HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n",
            true,
        );
    }
    if path != b"/metrics" {
        return respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            "metrics are at /metrics\n",
            body_wanted,
        );
    }
    respond(
        &mut stream,
        "200 OK",
        "text/plain; version=0.0.4; charset=utf-8",
        &page(),
        body_wanted,
    )
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
    with_body: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}
