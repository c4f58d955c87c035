//! `flowwire decode`: decode captures (pcap, pcapng, raw IPFIX files) to flows.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use flowwire::Timestamp;
use flowwire::capture::{CaptureError, CaptureReader};
use flowwire::collector::{Collector, Event};

use crate::UserError;
use crate::output::{Format, Printer, RecordType};

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// Capture files (pcap, pcapng or raw IPFIX), decoded in order with one template state;
    /// `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Print only these record types (repeatable).
    #[arg(long = "type", value_enum)]
    types: Vec<RecordType>,
    /// Only UDP datagrams to or from this port (repeatable).
    #[arg(long)]
    port: Vec<u16>,
    /// Print per-exporter statistics on stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Stop at the first malformed datagram (exit code 1).
    #[arg(long)]
    strict: bool,
    /// Do not print errors as they happen (they are still counted).
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Default)]
struct Totals {
    datagrams: u64,
    skipped_port: u64,
    unrecognized: u64,
    errors: u64,
    flows: u64,
}

enum Input {
    Capture(CaptureReader),
    Ipfix(Vec<u8>),
}

fn open(path: &PathBuf) -> Result<Input, UserError> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let reader: Box<dyn Read + Send> = if name == "-" {
        io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| UserError(format!("reading standard input: {e}")))?;
        Box::new(io::Cursor::new(bytes.clone()))
    } else {
        let mut f = File::open(path).map_err(|e| UserError(format!("{name}: {e}")))?;
        let mut head = [0u8; 2];
        let n = f
            .read(&mut head)
            .map_err(|e| UserError(format!("{name}: {e}")))?;
        if n == 2 && head == [0, 10] {
            let mut all = head.to_vec();
            f.read_to_end(&mut all)
                .map_err(|e| UserError(format!("{name}: {e}")))?;
            return Ok(Input::Ipfix(all));
        }
        let f = File::open(path).map_err(|e| UserError(format!("{name}: {e}")))?;
        Box::new(f)
    };
    if bytes.starts_with(&[0, 10]) {
        return Ok(Input::Ipfix(bytes));
    }
    match CaptureReader::new(reader) {
        Ok(r) => Ok(Input::Capture(r)),
        Err(CaptureError::NotACapture) => Err(UserError(format!(
            "{name}: not a capture (pcap, pcapng) or an IPFIX file"
        ))),
        Err(CaptureError::Empty) => Err(UserError(format!("{name}: empty file"))),
        Err(e) => Err(UserError(format!("{name}: {e}"))),
    }
}

pub(crate) fn run(args: DecodeArgs) -> Result<std::process::ExitCode, UserError> {
    let format = Format::resolve(args.format);
    // Open everything first: a missing file is a user error before any output.
    let mut inputs = Vec::new();
    for path in &args.files {
        inputs.push((path.display().to_string(), open(path)?));
    }
    let stdout = io::stdout();
    let mut printer = Printer::new(
        BufWriter::with_capacity(1 << 16, stdout.lock()),
        format,
        args.types.clone(),
    );
    let mut collector = Collector::default();
    let mut totals = Totals::default();
    let stderr_tty = io::stderr().is_terminal();
    let mut failed_strict = false;

    'files: for (name, input) in inputs {
        let progress = stderr_tty.then(|| {
            let p = indicatif::ProgressBar::new_spinner();
            p.set_message(name.clone());
            p
        });
        let mut input_errors = 0u64;
        let mut on_datagram =
            |frame: u64, src: SocketAddr, time: Timestamp, payload: &[u8]| -> bool {
                totals.datagrams += 1;
                if let Some(p) = &progress
                    && totals.datagrams.is_multiple_of(4096)
                {
                    p.set_position(totals.datagrams);
                }
                let mut strict_hit = false;
                let kind = collector.feed(src, time, payload, |e| {
                    if let Event::Error(err) = &e {
                        totals.errors += 1;
                        if !args.quiet {
                            eprintln!("flowwire: {name}: frame {frame}: {err}");
                        }
                        strict_hit = true;
                        return;
                    }
                    if let Event::Flow(_) = &e {
                        totals.flows += 1;
                    }
                    if printer.io_error.is_none()
                        && let Err(err) = printer.event(&e)
                    {
                        printer.io_error = Some(err);
                    }
                });
                if kind.is_none() {
                    totals.unrecognized += 1;
                }
                !(args.strict && strict_hit) && printer.io_error.is_none()
            };
        match input {
            Input::Ipfix(bytes) => {
                let exporter: SocketAddr = ([0, 0, 0, 0], 0).into();
                let mut n = 0u64;
                for message in flowwire::ipfix::wire::message::MessageIter::new(&bytes, 0) {
                    let msg = match message {
                        Ok(m) => m,
                        Err(e) => {
                            eprintln!("flowwire: {name}: {e}; stopping");
                            input_errors += 1;
                            break;
                        }
                    };
                    n += 1;
                    let export = Timestamp::from_unix_secs(msg.export_time());
                    if !on_datagram(n, exporter, export, msg.into_inner()) {
                        failed_strict = args.strict;
                        break 'files;
                    }
                }
            }
            Input::Capture(mut reader) => {
                while let Some(item) = reader.next_datagram() {
                    match item {
                        Ok(d) => {
                            if !args.port.is_empty()
                                && !args.port.contains(&d.src.port())
                                && !args.port.contains(&d.dst.port())
                            {
                                totals.skipped_port += 1;
                                continue;
                            }
                            if !on_datagram(d.frame, d.src, d.time, d.payload) {
                                failed_strict = args.strict;
                                break 'files;
                            }
                        }
                        Err(e) if e.is_fatal() => {
                            eprintln!("flowwire: {name}: {e}; decoded what came before");
                            input_errors += 1;
                        }
                        Err(e) => {
                            if !args.quiet {
                                eprintln!("flowwire: {name}: {e}");
                            }
                        }
                    }
                }
            }
        }
        totals.errors += input_errors;
        if let Some(p) = progress {
            p.finish_and_clear();
        }
    }
    let flushed = printer.out.flush();
    match printer.io_error.take().map(Err).unwrap_or(flushed) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(UserError(format!("writing output: {e}"))),
    }
    if args.stats {
        print_stats(&collector, &totals);
    }
    Ok(if failed_strict {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

fn print_stats(c: &Collector, t: &Totals) {
    let mut rows: Vec<_> = c.exporter_stats().collect();
    rows.sort_by_key(|(a, k, _)| (*a, *k));
    eprintln!(
        "datagrams {} (other ports {}, unrecognized {}), flows {}, errors {}",
        t.datagrams, t.skipped_port, t.unrecognized, t.flows, t.errors
    );
    eprintln!(
        "{:<40} {:<9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "EXPORTER", "PROTOCOL", "DATAGRAMS", "FLOWS", "COUNTERS", "OPTIONS", "ERRORS"
    );
    for (addr, kind, s) in rows {
        eprintln!(
            "{:<40} {:<9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            addr.to_string(),
            kind.name(),
            s.datagrams,
            s.flows,
            s.counters,
            s.options,
            s.errors
        );
    }
    let nf = c.netflow().store_stats();
    let ns = c.netflow().stats();
    eprintln!(
        "netflow v9 templates: learned {} replaced {} refreshed {} withdrawn {} expired {} evicted {} rejected {}; data sets without template {}; sequence lost {} reordered {}",
        nf.learned,
        nf.replaced,
        nf.refreshed,
        nf.withdrawn,
        nf.expired,
        nf.evicted_templates,
        nf.rejected_limit + nf.rejected_invalid,
        ns.data_sets_without_template,
        ns.sequence_lost,
        ns.sequence_reordered
    );
    let ip = c.ipfix().store_stats();
    eprintln!(
        "ipfix templates: learned {} replaced {} refreshed {} withdrawn {} expired {} evicted {} rejected {}",
        ip.learned,
        ip.replaced,
        ip.refreshed,
        ip.withdrawn,
        ip.expired,
        ip.evicted_templates,
        ip.rejected_limit + ip.rejected_invalid
    );
}
