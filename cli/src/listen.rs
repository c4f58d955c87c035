//! `flowwire listen`: a live collector for every protocol on each UDP socket.

use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use flowwire::collector::{Collector, ExporterStats};
use flowwire::{
    CounterSample, DecodeError, Decoder, FlowRecord, OptionsRecord, ProtocolKind, Sink, Timestamp,
};
use socket2::{Domain, Protocol, Socket, Type};

use crate::UserError;
use crate::output::{Format, Printer, RecordType};

#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// A UDP address to listen on, e.g. 0.0.0.0:2055 or [::]:6343 (repeatable).
    #[arg(long, required = true)]
    udp: Vec<SocketAddr>,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Print only these record types (repeatable).
    #[arg(long = "type", value_enum)]
    types: Vec<RecordType>,
    /// Print per-exporter statistics on stderr at the end (and on SIGINT/SIGTERM).
    #[arg(long)]
    stats: bool,
    /// Receiving threads per address, on SO_REUSEPORT sockets (the kernel keeps each exporter
    /// on one socket, so template state stays with one thread).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Socket receive buffer size in bytes.
    #[arg(long, default_value_t = 8 << 20)]
    rcvbuf: usize,
    /// Stop after this many datagrams in all (for tests and bounded runs).
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Do not print errors as they happen.
    #[arg(long, short)]
    quiet: bool,
}

fn bind(addr: SocketAddr, reuse_port: bool, rcvbuf: usize) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // [::]:port also takes IPv4 unless the system says otherwise; be explicit.
        let _ = socket.set_only_v6(false);
    }
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    let _ = socket.set_recv_buffer_size(rcvbuf);
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    Ok(socket)
}

/// The kernel's drop counter for UDP sockets bound to `port` (Linux /proc/net/udp{,6}).
fn kernel_drops(port: u16) -> Option<u64> {
    let mut total = None;
    for file in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols
                .get(1)
                .and_then(|l| l.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                let drops = cols.last().and_then(|d| d.parse::<u64>().ok()).unwrap_or(0);
                total = Some(total.unwrap_or(0) + drops);
            }
        }
    }
    total
}

struct Shared {
    stop: Arc<AtomicBool>,
    received: std::sync::atomic::AtomicU64,
    stdout: Mutex<io::Stdout>,
    stats: Mutex<Vec<(SocketAddr, ProtocolKind, ExporterStats)>>,
}

pub(crate) fn run(args: ListenArgs) -> Result<std::process::ExitCode, UserError> {
    let format = Format::resolve(args.format);
    let threads = args.threads.max(1);
    let mut sockets = Vec::new();
    for addr in &args.udp {
        for _ in 0..threads {
            let s = bind(*addr, threads > 1, args.rcvbuf)
                .map_err(|e| UserError(format!("cannot listen on udp {addr}: {e}")))?;
            sockets.push(s);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| UserError(format!("installing the signal handler: {e}")))?;
    }
    let shared = Arc::new(Shared {
        stop,
        received: Default::default(),
        stdout: Mutex::new(io::stdout()),
        stats: Mutex::new(Vec::new()),
    });
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut handles = Vec::new();
    for socket in sockets {
        let shared = Arc::clone(&shared);
        let types = args.types.clone();
        let (count, quiet) = (args.count, args.quiet);
        handles.push(std::thread::spawn(move || {
            receive(socket, &shared, format, types, count, deadline, quiet)
        }));
    }
    let mut failed = None;
    // The sockets stay open until the statistics are read: the kernel's drop counters go
    // with them.
    let mut open_sockets = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Ok(socket)) => open_sockets.push(socket),
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some(UserError("a receiving thread failed".into())),
        }
    }
    if args.stats {
        let rows = shared.stats.lock().map(|s| s.clone()).unwrap_or_default();
        let mut merged: std::collections::BTreeMap<(SocketAddr, ProtocolKind), ExporterStats> =
            Default::default();
        for (a, k, s) in rows {
            let m = merged.entry((a, k)).or_default();
            m.datagrams += s.datagrams;
            m.flows += s.flows;
            m.counters += s.counters;
            m.options += s.options;
            m.errors += s.errors;
        }
        eprintln!("datagrams {}", shared.received.load(Ordering::Relaxed));
        eprintln!(
            "{:<40} {:<9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "EXPORTER", "PROTOCOL", "DATAGRAMS", "FLOWS", "COUNTERS", "OPTIONS", "ERRORS"
        );
        for ((a, k), s) in merged {
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
        let mut ports: Vec<u16> = args.udp.iter().map(|a| a.port()).collect();
        ports.dedup();
        for p in ports {
            if let Some(d) = kernel_drops(p) {
                eprintln!("kernel drops on udp port {p}: {d}");
            }
        }
    }
    drop(open_sockets);
    match failed {
        Some(e) => Err(e),
        None => Ok(std::process::ExitCode::SUCCESS),
    }
}

/// Decoded records to the printer, errors to stderr.
struct ToPrinter<'p> {
    printer: &'p mut Printer<Vec<u8>>,
    quiet: bool,
}

impl ToPrinter<'_> {
    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.printer.io_error.get_or_insert(e);
        }
    }
}

impl Sink for ToPrinter<'_> {
    fn flow(&mut self, flow: &FlowRecord) {
        let r = self.printer.flow(flow);
        self.keep(r);
    }
    fn counters(&mut self, counters: &CounterSample<'_>) {
        let r = self.printer.counters(counters);
        self.keep(r);
    }
    fn options(&mut self, options: &OptionsRecord) {
        let r = self.printer.options(options);
        self.keep(r);
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        if !self.quiet {
            eprintln!("flowwire: {error}");
        }
    }
}

fn receive(
    socket: UdpSocket,
    shared: &Shared,
    format: Format,
    types: Vec<RecordType>,
    count: Option<u64>,
    deadline: Option<Instant>,
    quiet: bool,
) -> Result<UdpSocket, UserError> {
    let mut collector = Collector::default();
    let mut printer = Printer::new(Vec::with_capacity(1 << 16), format, types);
    let mut buf = vec![0u8; 65_536];
    let flush = |printer: &mut Printer<Vec<u8>>| -> Result<(), UserError> {
        if printer.out.is_empty() {
            return Ok(());
        }
        let res = match shared.stdout.lock() {
            Ok(out) => {
                let mut out = BufWriter::new(out.lock());
                out.write_all(&printer.out).and_then(|()| out.flush())
            }
            Err(_) => Ok(()),
        };
        printer.out.clear();
        match res {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                shared.stop.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => Err(UserError(format!("writing output: {e}"))),
            Ok(()) => Ok(()),
        }
    };
    loop {
        if shared.stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        match socket.recv_from(&mut buf) {
            Ok((n, src)) => {
                let total = shared.received.fetch_add(1, Ordering::Relaxed) + 1;
                let payload = buf.get(..n).unwrap_or_default();
                collector.decode(
                    src,
                    Timestamp::now(),
                    payload,
                    &mut ToPrinter {
                        printer: &mut printer,
                        quiet,
                    },
                );
                if printer.out.len() > (1 << 15) {
                    flush(&mut printer)?;
                }
                if count.is_some_and(|c| total >= c) {
                    shared.stop.store(true, Ordering::Relaxed);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                flush(&mut printer)?;
            }
            Err(e) => return Err(UserError(format!("receiving: {e}"))),
        }
    }
    flush(&mut printer)?;
    if let Ok(mut s) = shared.stats.lock() {
        s.extend(collector.exporter_stats().map(|(a, k, st)| (a, k, *st)));
    }
    Ok(socket)
}
