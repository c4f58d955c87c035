//! `flowwire listen`: a live collector for every protocol on each UDP socket and IPFIX on
//! each TCP listener, over [`flowwire::pipeline`]: a receiving thread per socket (and one per
//! TCP connection) feeds a bounded queue, decoder threads format the records, one writer
//! thread prints them. Learned state can be saved and restored (`--state`), counts
//! renormalized (`--renormalize`) and counters served to Prometheus (`--metrics`).

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use clap::Args;
use flowwire::kafka::{
    KafkaCompression, KafkaConfig, KafkaFormat, KafkaKey, KafkaProducer, KafkaSink, KafkaStats,
};
use flowwire::metrics::{MetricsPage, MetricsServer};
use flowwire::parquet::FlowParquetWriter;
use flowwire::pipeline::{Inputs, Pipeline, PipelineConfig, TcpConfig, kernel_drops};
use flowwire::state::CollectorState;
use flowwire::{CounterSample, DecodeError, FlowRecord, OptionsRecord, Sink, Timestamp};
use socket2::{Domain, Protocol, Socket, Type};

use crate::UserError;
use crate::output::{Format, Printer, RecordType};

#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// A UDP address to listen on, e.g. 0.0.0.0:2055 or [::]:6343 (repeatable; any protocol).
    #[arg(long, required_unless_present = "tcp")]
    udp: Vec<SocketAddr>,
    /// A TCP address to accept IPFIX on (RFC 7011 §10.4), e.g. 0.0.0.0:4739 (repeatable).
    /// Each connection is its own transport session: its templates go when it closes.
    #[arg(long)]
    tcp: Vec<SocketAddr>,
    /// TCP connections open at once; more are closed at once (and counted).
    #[arg(long, default_value_t = 256)]
    max_tcp_connections: usize,
    /// Close a TCP connection that sends nothing for this long, e.g. 300s, 10m (0: never).
    #[arg(long, default_value = "300s", value_parser = parse_timeout)]
    tcp_idle_timeout: Duration,
    /// Keep learned state (templates, options-announced sampling and interface names) in this
    /// file: loaded at start (a missing file is fine; a bad one is reported and ignored),
    /// written at exit and every --state-interval (atomically: a new file renamed over the
    /// old).
    #[arg(long)]
    state: Option<PathBuf>,
    /// How often to write --state, e.g. 60s, 5m.
    #[arg(long, default_value = "60s", value_parser = parse_duration, requires = "state")]
    state_interval: Duration,
    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9108: datagrams, flows,
    /// errors by kind and template events per exporter, queue, kernel and TCP counters.
    #[arg(long)]
    metrics: Option<SocketAddr>,
    /// Exporters given their own metrics series (the busiest); the rest are summed under
    /// exporter="other".
    #[arg(long, default_value_t = 1000, requires = "metrics")]
    metrics_max_exporters: usize,
    #[command(flatten)]
    renormalize: crate::renormalize::RenormalizeArgs,
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Print only these record types (repeatable).
    #[arg(long = "type", value_enum)]
    types: Vec<RecordType>,
    /// Print per-exporter statistics, queue and kernel drops on stderr at the end (and on
    /// SIGINT/SIGTERM).
    #[arg(long)]
    stats: bool,
    /// Decoding threads. Each exporter is always decoded by the same one (its template
    /// state lives there); more threads help with many exporters.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Socket receive buffer size in bytes (the kernel may cap it: net.core.rmem_max).
    #[arg(long, default_value_t = 8 << 20)]
    rcvbuf: usize,
    /// Mebibytes of datagrams queued between receiving and decoding at most; a burst beyond
    /// it is dropped and counted.
    #[arg(long, default_value_t = 256)]
    queue_mb: usize,
    /// Stop after this many datagrams in all (for tests and bounded runs).
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Do not print errors as they happen (they are still counted).
    #[arg(long, short)]
    quiet: bool,
    /// With --format parquet: the directory the files go to (created if missing). Each
    /// decoding thread writes its own files, named by the UTC time they were opened
    /// (flows-20261203T120000Z-0.parquet); a file is written under a .tmp name and renamed
    /// when complete (rotated, or on SIGINT/SIGTERM), so the directory's *.parquet files are
    /// always readable.
    #[arg(long)]
    output: Option<PathBuf>,
    /// With --format parquet: start a new file this often, e.g. 60s, 5m, 1h (default: one file
    /// per run).
    #[arg(long, value_parser = parse_duration)]
    rotate: Option<Duration>,
    /// With --format parquet: start a new file once the current one holds this many
    /// mebibytes (checked every 256 flows, so a file may exceed it by up to one row group of
    /// 65,536 flows).
    #[arg(long)]
    rotate_mb: Option<usize>,
}

/// Publishing to Kafka instead of printing.
#[derive(Debug, Args)]
struct KafkaArgs {
    /// Publish flows to Kafka instead of printing them: bootstrap brokers, comma-separated
    /// host:port. Each flow is one record, its value the jsonl line, its key --kafka-key.
    #[arg(long, value_name = "BROKERS", requires = "topic")]
    kafka: Option<String>,
    /// With --kafka: the topic of flows.
    #[arg(long, requires = "kafka")]
    topic: Option<String>,
    /// With --kafka: the record key (exporter keeps an exporter's flows in one partition, in
    /// order).
    #[arg(long, value_enum, default_value = "exporter")]
    kafka_key: KafkaKeyArg,
    /// With --kafka: the value of each flow record: its jsonl line, or goflow2's protobuf
    /// FlowMessage (length-delimited, as goflow2 writes it).
    #[arg(long, value_enum, default_value = "json")]
    kafka_format: KafkaFormatArg,
    /// With --kafka: batch compression.
    #[arg(long, value_enum, default_value = "zstd")]
    kafka_compression: KafkaCompressionArg,
    /// With --kafka: mebibytes of records held for the broker at most; beyond, records are
    /// dropped and counted (receiving never waits for the broker).
    #[arg(long, default_value_t = 64)]
    kafka_buffer_mb: usize,
    /// With --kafka: create missing topics with this many partitions (replication factor 1;
    /// for tests and small setups: production topics are usually made by their admins).
    #[arg(long, requires = "kafka")]
    kafka_create_partitions: Option<i32>,
    /// With --kafka: also publish sFlow counter samples (their jsonl form) to this topic.
    #[arg(long, requires = "kafka")]
    kafka_topic_counters: Option<String>,
    /// With --kafka: also publish options data records to this topic.
    #[arg(long, requires = "kafka")]
    kafka_topic_options: Option<String>,
    /// With --kafka: at exit, how long to wait for the broker to take what is buffered.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    kafka_stop_timeout: Duration,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KafkaKeyArg {
    /// The exporter's address.
    Exporter,
    /// The exporter's address and observation domain.
    Domain,
    /// No key (records spread over the partitions).
    None,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KafkaFormatArg {
    /// The jsonl line of the flow.
    Json,
    /// goflow2's FlowMessage.
    Protobuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KafkaCompressionArg {
    /// No compression.
    None,
    /// LZ4.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl KafkaArgs {
    fn config(&self) -> Option<KafkaConfig> {
        let brokers = self.kafka.as_ref()?;
        Some(KafkaConfig {
            brokers: brokers
                .split(',')
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty())
                .collect(),
            topic: self.topic.clone().unwrap_or_default(),
            counters_topic: self.kafka_topic_counters.clone(),
            options_topic: self.kafka_topic_options.clone(),
            key: match self.kafka_key {
                KafkaKeyArg::Exporter => KafkaKey::Exporter,
                KafkaKeyArg::Domain => KafkaKey::Domain,
                KafkaKeyArg::None => KafkaKey::None,
            },
            format: match self.kafka_format {
                KafkaFormatArg::Json => KafkaFormat::Json,
                KafkaFormatArg::Protobuf => KafkaFormat::Protobuf,
            },
            compression: match self.kafka_compression {
                KafkaCompressionArg::None => KafkaCompression::None,
                KafkaCompressionArg::Lz4 => KafkaCompression::Lz4,
                KafkaCompressionArg::Zstd => KafkaCompression::Zstd,
            },
            buffer_bytes: self.kafka_buffer_mb.max(1) << 20,
            create_partitions: self.kafka_create_partitions,
            ..KafkaConfig::default()
        })
    }
}

/// Says on stderr when the Kafka producer stops delivering and why, and when it delivers
/// again; a problem whose text keeps changing is repeated at most every 10 s.
#[derive(Default)]
struct KafkaReport {
    problem: Option<String>,
    said: Option<Instant>,
}

impl KafkaReport {
    fn check(&mut self, producer: &KafkaProducer) {
        let now = producer.problem();
        if now == self.problem {
            return;
        }
        let started = self.problem.is_none() || now.is_none();
        if !started
            && self
                .said
                .is_some_and(|t| t.elapsed() < Duration::from_secs(10))
        {
            return;
        }
        match &now {
            Some(p) => eprintln!("flowwire: kafka: {p}; buffering and retrying"),
            None => eprintln!("flowwire: kafka: delivering again"),
        }
        self.said = Some(Instant::now());
        self.problem = now;
    }
}

/// A Kafka producer's state as gauges: whether it delivers, and how full its buffer is.
fn kafka_gauges(k: &KafkaProducer) -> [(&'static str, &'static str, u64); 2] {
    [
        (
            "flowwire_kafka_up",
            "1 while the Kafka producer delivers, 0 while it cannot (see its log line).",
            u64::from(k.problem().is_none()),
        ),
        (
            "flowwire_kafka_buffered_bytes",
            "Octets of records waiting for the Kafka broker.",
            k.stats().buffered_bytes,
        ),
    ]
}

/// A Kafka producer's counters as metrics.
fn kafka_counters(k: &KafkaStats) -> [(&'static str, &'static str, u64); 5] {
    [
        (
            "flowwire_kafka_queued_total",
            "Records handed to the Kafka producer.",
            k.queued,
        ),
        (
            "flowwire_kafka_delivered_total",
            "Records the Kafka broker acknowledged.",
            k.delivered,
        ),
        (
            "flowwire_kafka_dropped_total",
            "Records dropped: the Kafka buffer was full.",
            k.dropped,
        ),
        (
            "flowwire_kafka_produce_errors_total",
            "Kafka produce requests that failed.",
            k.produce_errors,
        ),
        (
            "flowwire_kafka_connections_total",
            "Connections made to the Kafka cluster.",
            k.connections,
        ),
    ]
}

/// `60`, `60s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: a number of seconds, or with s, m or h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3_600),
        _ => return Err(format!("{text:?}: the unit is s, m or h")),
    };
    if secs == 0 {
        return Err("the rotation interval must be at least 1 s".into());
    }
    Ok(Duration::from_secs(secs))
}

/// `0` (zero: never) or a duration as [`parse_duration`] reads it.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    if text.trim_end_matches(['s', 'm', 'h']) == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(text)
}

/// Loads `--state` and checks it restores, saying what it holds; a state that does not load
/// or restore is reported and left out (the collector starts empty, as without it).
fn load_state(
    path: &std::path::Path,
    config: &flowwire::CollectorConfig,
) -> Option<CollectorState> {
    if !path.exists() {
        eprintln!(
            "flowwire: state {}: not there yet, starting empty",
            path.display()
        );
        return None;
    }
    let checked = CollectorState::load(path).and_then(|state| {
        let restored =
            flowwire::Collector::new(config.clone()).restore(&state, Timestamp::now())?;
        Ok((state, restored))
    });
    match checked {
        Ok((state, r)) => {
            eprintln!(
                "flowwire: state {}: {} templates of {} exporter domains restored ({} expired, {} refused by limits), saved {}",
                path.display(),
                r.templates,
                r.domains,
                r.expired,
                r.refused,
                state.saved_at
            );
            Some(state)
        }
        Err(e) => {
            eprintln!("flowwire: state {}: {e}; starting empty", path.display());
            None
        }
    }
}

fn save_state(path: &std::path::Path, state: &CollectorState) {
    if let Err(e) = state.save(path) {
        eprintln!("flowwire: saving state {}: {e}", path.display());
    }
}

/// A decoding thread's Parquet files: one open at a time, under a .tmp name until complete.
struct Rotating {
    dir: PathBuf,
    every: Option<Duration>,
    /// Octets after which a file is rotated.
    max_bytes: Option<usize>,
    thread: usize,
    open: Option<(
        FlowParquetWriter<io::BufWriter<std::fs::File>>,
        Instant,
        PathBuf,
        PathBuf,
    )>,
    /// Flows since the rotation time was last looked at.
    since_check: u32,
    opened: u64,
    error: Option<String>,
}

impl Rotating {
    fn write(&mut self, flow: &FlowRecord) {
        if self.error.is_some() {
            return;
        }
        self.since_check += 1;
        if self.since_check >= 256 {
            self.since_check = 0;
            if let Some((writer, since, _, _)) = &self.open
                && (self.every.is_some_and(|every| since.elapsed() >= every)
                    || self
                        .max_bytes
                        .is_some_and(|max| writer.approximate_size() >= max))
            {
                self.close();
            }
        }
        if self.open.is_none()
            && let Err(e) = self.start()
        {
            self.error = Some(e);
            return;
        }
        if let Some((w, ..)) = &mut self.open
            && let Err(e) = w.write(flow)
        {
            self.error = Some(e.to_string());
        }
    }

    fn start(&mut self) -> Result<(), String> {
        // 2026-12-03T12:00:00.123Z -> 20261203T120000Z
        let stamp: String = Timestamp::now()
            .rfc3339()
            .as_str()
            .chars()
            .take(19)
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let name = if self.opened == 0 {
            format!("flows-{stamp}Z-{}", self.thread)
        } else {
            format!("flows-{stamp}Z-{}-{}", self.thread, self.opened)
        };
        let path = self.dir.join(format!("{name}.parquet"));
        let tmp = self.dir.join(format!("{name}.parquet.tmp"));
        let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let writer = FlowParquetWriter::new(
            io::BufWriter::with_capacity(1 << 20, file),
            Default::default(),
        )
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
        self.open = Some((writer, Instant::now(), tmp, path));
        self.opened += 1;
        Ok(())
    }

    /// Completes the open file, if any, and gives it its final name.
    fn close(&mut self) {
        if let Some((writer, _, tmp, path)) = self.open.take() {
            let done = writer
                .finish()
                .map_err(|e| e.to_string())
                .and_then(|mut f| f.flush().map_err(|e| e.to_string()))
                .and_then(|()| std::fs::rename(&tmp, &path).map_err(|e| e.to_string()));
            if let Err(e) = done {
                self.error.get_or_insert(format!("{}: {e}", path.display()));
            }
        }
    }
}

fn bind(addr: SocketAddr, rcvbuf: usize) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // [::]:port also takes IPv4 unless the system says otherwise; be explicit.
        let _ = socket.set_only_v6(false);
    }
    let _ = socket.set_recv_buffer_size(rcvbuf);
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Error lines printed per exporter per [`ERROR_WINDOW`]; the rest are counted and
/// summarised in one line.
const ERRORS_PER_WINDOW: u32 = 5;
const ERROR_WINDOW: Duration = Duration::from_secs(10);
/// Exporters whose error lines are limited one by one; beyond, together.
const MAX_ERROR_EXPORTERS: usize = 4096;
/// Error lines printed per [`ERROR_WINDOW`] over all exporters (a flood from many source
/// ports is many exporters).
const ERRORS_PER_WINDOW_IN_ALL: u32 = 50;

/// Rate-limits error lines per exporter and in all, so a flood of bad datagrams cannot flood
/// stderr: what is not printed is summed up in one line per window (the exact counts per
/// exporter are in `--stats`).
#[derive(Default)]
struct ErrorLines {
    /// Per exporter (None: every exporter beyond the table's bound): when its window
    /// started, lines printed in it.
    exporters: HashMap<Option<SocketAddr>, (Instant, u32)>,
    /// The window over all exporters: when it started, lines printed, lines not printed and
    /// from how many exporters.
    all: Option<(Instant, u32, u64, u64)>,
}

impl ErrorLines {
    fn report(&mut self, error: &DecodeError<'_>) {
        let now = Instant::now();
        let all = self.all.get_or_insert((now, 0, 0, 0));
        if now.duration_since(all.0) >= ERROR_WINDOW {
            summarise(all.2, all.3);
            *all = (now, 0, 0, 0);
        }
        if self.exporters.len() >= MAX_ERROR_EXPORTERS
            && !self.exporters.contains_key(&Some(error.exporter))
        {
            // Keep the table bounded: forget windows that have ended.
            self.exporters
                .retain(|_, (start, _)| now.duration_since(*start) < ERROR_WINDOW);
        }
        let key = if self.exporters.len() < MAX_ERROR_EXPORTERS
            || self.exporters.contains_key(&Some(error.exporter))
        {
            Some(error.exporter)
        } else {
            None
        };
        let entry = self.exporters.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= ERROR_WINDOW {
            *entry = (now, 0);
        }
        if entry.1 < ERRORS_PER_WINDOW && all.1 < ERRORS_PER_WINDOW_IN_ALL {
            entry.1 += 1;
            all.1 += 1;
            eprintln!("flowwire: {error}");
        } else {
            if entry.1 <= ERRORS_PER_WINDOW {
                // The first of this exporter's lines not printed in this window.
                all.3 += 1;
                entry.1 = ERRORS_PER_WINDOW + 1;
            }
            all.2 += 1;
        }
    }

    fn finish(&mut self) {
        if let Some((_, _, suppressed, exporters)) = self.all.take() {
            summarise(suppressed, exporters);
        }
    }
}

fn summarise(suppressed: u64, exporters: u64) {
    if suppressed > 0 {
        eprintln!(
            "flowwire: {suppressed} more errors from {exporters} exporter(s) not printed (counts per exporter: --stats)"
        );
    }
}

/// Formatted output travels to the writer thread in buffers of about this size.
const CHUNK: usize = 1 << 16;

/// A decoder thread's sink: formats into a buffer, hands full buffers to the writer.
struct ToWriter {
    printer: Printer<Vec<u8>>,
    /// With --format parquet, where the flows go instead.
    parquet: Option<Rotating>,
    /// With --kafka, where every record goes instead.
    kafka: Option<KafkaSink>,
    to_writer: SyncSender<Vec<u8>>,
    empty: Receiver<Vec<u8>>,
    errors: ErrorLines,
    quiet: bool,
}

impl ToWriter {
    fn keep(&mut self, r: io::Result<()>) {
        // Formatting into memory does not fail; a full buffer goes to the writer.
        let _ = r;
        if self.printer.out.len() >= CHUNK {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.printer.out.is_empty() {
            return;
        }
        let next = self
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK + 4096));
        let full = core::mem::replace(&mut self.printer.out, next);
        // The writer has gone only when the output is closed; then there is nowhere to write.
        let _ = self.to_writer.send(full);
    }
}

impl Sink for ToWriter {
    fn flow(&mut self, flow: &FlowRecord) {
        if let Some(k) = &mut self.kafka {
            k.flow(flow);
            return;
        }
        if let Some(p) = &mut self.parquet {
            p.write(flow);
            return;
        }
        let r = self.printer.flow(flow);
        self.keep(r);
    }
    fn counters(&mut self, counters: &CounterSample<'_>) {
        if let Some(k) = &mut self.kafka {
            k.counters(counters);
            return;
        }
        let r = self.printer.counters(counters);
        self.keep(r);
    }
    fn options(&mut self, options: &OptionsRecord) {
        if let Some(k) = &mut self.kafka {
            k.options(options);
            return;
        }
        let r = self.printer.options(options);
        self.keep(r);
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        if !self.quiet {
            self.errors.report(error);
        }
    }
}

/// The writer thread: prints buffers as they come, gives them back emptied. A closed output
/// (a pipe whose reader went away) stops the collector.
fn write_out(
    rx: Receiver<Vec<u8>>,
    back: Vec<SyncSender<Vec<u8>>>,
    stop: &AtomicBool,
) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut result = Ok(());
    let mut turn = 0usize;
    let mut write = |mut buf: Vec<u8>, result: &mut io::Result<()>| {
        if result.is_ok() {
            *result = out.write_all(&buf);
        }
        buf.clear();
        if let Some(tx) = back.get(turn % back.len().max(1)) {
            let _ = tx.try_send(buf);
        }
        turn += 1;
    };
    while let Ok(buf) = rx.recv() {
        write(buf, &mut result);
        // Whatever else is queued, then a flush: quiet moments are when output shows.
        while let Ok(buf) = rx.try_recv() {
            write(buf, &mut result);
        }
        if result.is_ok() {
            result = io::stdout().lock().flush();
        }
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
    }
    result.and_then(|()| io::stdout().lock().flush())
}

pub(crate) fn run(args: ListenArgs) -> Result<std::process::ExitCode, UserError> {
    let format = Format::resolve(args.format);
    let parquet_dir = match (format, &args.output) {
        (Format::Parquet, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
            Some(dir.clone())
        }
        (Format::Parquet, None) => {
            return Err(UserError("--format parquet needs --output DIR".into()));
        }
        (_, Some(_)) => {
            return Err(UserError(
                "--output DIR is for --format parquet; other formats go to standard output".into(),
            ));
        }
        (_, None) => None,
    };
    let threads = args.threads.max(1);
    let mut sockets = Vec::new();
    for addr in &args.udp {
        let s = bind(*addr, args.rcvbuf)
            .map_err(|e| UserError(format!("cannot listen on udp {addr}: {e}")))?;
        sockets.push(s);
    }
    let mut listeners = Vec::new();
    for addr in &args.tcp {
        let l = TcpListener::bind(addr)
            .map_err(|e| UserError(format!("cannot listen on tcp {addr}: {e}")))?;
        listeners.push(l);
    }
    let metrics_listener = match args.metrics {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .map_err(|e| UserError(format!("cannot serve metrics on {addr}: {e}")))?,
        ),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| UserError(format!("installing the signal handler: {e}")))?;
    }
    let (to_writer, from_decoders) = mpsc::sync_channel::<Vec<u8>>(64);
    let mut give_back = Vec::new();
    let mut taken_back = Vec::new();
    for _ in 0..threads {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
        give_back.push(tx);
        taken_back.push(Some(rx));
    }
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || write_out(from_decoders, give_back, &stop))
    };
    let collector = flowwire::CollectorConfig {
        renormalize: args.renormalize.config(),
        ..Default::default()
    };
    let restore = args
        .state
        .as_deref()
        .and_then(|path| load_state(path, &collector))
        .map(Arc::new);
    let config = PipelineConfig {
        queue_bytes: args.queue_mb.max(1) << 20,
        decoders: threads,
        max_datagrams: args.count,
        collector,
        tcp: TcpConfig {
            max_connections: args.max_tcp_connections,
            idle_timeout: (!args.tcp_idle_timeout.is_zero()).then_some(args.tcp_idle_timeout),
        },
        restore,
        ..PipelineConfig::default()
    };
    let (types, quiet) = (args.types.clone(), args.quiet);
    let kafka = match args.kafka.config() {
        Some(config) => Some(Arc::new(
            KafkaProducer::start(config).map_err(|e| UserError(e.to_string()))?,
        )),
        None => None,
    };
    let inputs = Inputs {
        udp: sockets,
        tcp: listeners,
    };
    let pipeline = Pipeline::start_with(inputs, config, |i| ToWriter {
        printer: Printer::new(Vec::with_capacity(CHUNK + 4096), format, types.clone()).live(),
        parquet: parquet_dir.clone().map(|dir| Rotating {
            dir,
            every: args.rotate,
            max_bytes: args.rotate_mb.map(|mb| mb.max(1) << 20),
            thread: i,
            open: None,
            since_check: 0,
            opened: 0,
            error: None,
        }),
        kafka: kafka.as_ref().map(|k| k.sink()),
        to_writer: to_writer.clone(),
        empty: taken_back
            .get_mut(i)
            .and_then(Option::take)
            .unwrap_or_else(|| mpsc::sync_channel(1).1),
        errors: ErrorLines::default(),
        quiet,
    })
    .map_err(|e| UserError(format!("starting the receiving threads: {e}")))?;
    drop(to_writer);
    let mut ports: Vec<u16> = args.udp.iter().map(|a| a.port()).collect();
    ports.sort_unstable();
    ports.dedup();
    let metrics = match metrics_listener {
        Some(listener) => {
            let monitor = pipeline.monitor();
            let (ports, max_exporters) = (ports.clone(), args.metrics_max_exporters);
            let producer = kafka.clone();
            let page = move || {
                let exporters = monitor.exporter_stats();
                let kernel = ports
                    .iter()
                    .filter_map(|&p| kernel_drops(p))
                    .reduce(|a, b| a + b);
                let extra = producer.as_ref().map(|k| kafka_counters(&k.stats()));
                let gauges = producer.as_ref().map(|k| kafka_gauges(k));
                flowwire::metrics::render(&MetricsPage {
                    pipeline: monitor.stats(),
                    exporters: &exporters,
                    kernel_drops: kernel,
                    max_exporters,
                    extra_counters: extra.as_ref().map_or(&[], |e| &e[..]),
                    extra_gauges: gauges.as_ref().map_or(&[], |g| &g[..]),
                })
            };
            Some(
                MetricsServer::start(listener, page)
                    .map_err(|e| UserError(format!("starting the metrics server: {e}")))?,
            )
        }
        None => None,
    };
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut state_due = Instant::now() + args.state_interval;
    let mut kafka_report = KafkaReport::default();
    while !stop.load(Ordering::Relaxed)
        && deadline.is_none_or(|d| Instant::now() < d)
        && !pipeline.is_done()
    {
        std::thread::sleep(Duration::from_millis(10));
        if let Some(k) = &kafka {
            kafka_report.check(k);
        }
        if let Some(path) = &args.state
            && Instant::now() >= state_due
        {
            state_due = Instant::now() + args.state_interval;
            match pipeline.snapshot(Duration::from_secs(5)) {
                Some(state) => save_state(path, &state),
                None => eprintln!("flowwire: state not saved: the decoders are busy"),
            }
        }
    }
    let (mut finished, error) = pipeline.finish();
    if let Some(m) = metrics {
        m.stop();
    }
    // The sinks and the metrics page held the other references to the producer.
    for sink in &mut finished.sinks {
        sink.kafka = None;
    }
    if let Some(k) = kafka.and_then(Arc::into_inner) {
        let s = k.stop(args.kafka.kafka_stop_timeout);
        eprintln!(
            "flowwire: kafka: {} records delivered, {} dropped (buffer full), {} undelivered at stop, {} produce errors, {} connections",
            s.delivered, s.dropped, s.undelivered_at_stop, s.produce_errors, s.connections
        );
    }
    if let Some(path) = &args.state {
        save_state(path, &finished.state);
    }
    let mut parquet_error = None;
    for sink in &mut finished.sinks {
        sink.send();
        sink.errors.finish();
        if let Some(p) = &mut sink.parquet {
            p.close();
            if let Some(e) = p.error.take() {
                parquet_error.get_or_insert(e);
            }
        }
    }
    // The sinks hold the last senders: the writer ends when they are gone.
    let sinks = core::mem::take(&mut finished.sinks);
    drop(sinks);
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the writing thread failed")));
    let stats = finished.stats;
    let kernel: u64 = ports.iter().filter_map(|&p| kernel_drops(p)).sum();
    if args.stats {
        eprintln!("datagrams {}", stats.received);
        eprintln!(
            "{:<40} {:<9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "EXPORTER", "PROTOCOL", "DATAGRAMS", "FLOWS", "COUNTERS", "OPTIONS", "ERRORS"
        );
        for (a, k, s) in &finished.exporters {
            eprintln!(
                "{:<40} {:<9} {:>9} {:>9} {:>9} {:>9} {:>7}",
                a.to_string(),
                k.name(),
                s.datagrams,
                s.flows,
                s.counters,
                s.options,
                s.errors
            );
        }
        eprintln!(
            "receive: {} datagrams in {} calls; queue: {} datagrams dropped, peak {} bytes",
            stats.received, stats.receive_calls, stats.queue_dropped, stats.queue_peak_bytes
        );
        if !args.tcp.is_empty() {
            eprintln!(
                "tcp: {} connections accepted, {} refused, {} messages, {} bytes, {} closed out of step, {} closed idle",
                stats.tcp_accepted,
                stats.tcp_refused,
                stats.tcp_messages,
                stats.tcp_bytes,
                stats.tcp_stream_errors,
                stats.tcp_idle_closed
            );
        }
        for p in &ports {
            if let Some(d) = kernel_drops(*p) {
                eprintln!("kernel drops on udp port {p}: {d}");
            }
        }
    } else if stats.queue_dropped > 0 || kernel > 0 {
        eprintln!(
            "flowwire: datagrams lost: {} by the kernel (receive buffer full), {} by the queue \
             (--queue-mb full)",
            kernel, stats.queue_dropped
        );
    }
    drop(finished.sockets);
    if let Some(e) = error {
        return Err(UserError(format!("receiving: {e}")));
    }
    if let Some(e) = parquet_error {
        return Err(UserError(format!("writing parquet: {e}")));
    }
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(UserError(format!("writing output: {e}")))
        }
        _ => Ok(std::process::ExitCode::SUCCESS),
    }
}
