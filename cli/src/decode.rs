//! `flowwire decode`: decode captures (pcap, pcapng, raw IPFIX files) to flows.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use flowwire::capture::{Capture, CaptureError, open_capture};
use flowwire::collector::{Collector, detect};
use flowwire::{CounterSample, DecodeError, Decoder, FlowRecord, OptionsRecord, Sink};

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
    /// Write to this file instead of standard output (required by --format parquet).
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    renormalize: crate::renormalize::RenormalizeArgs,
}

#[derive(Default)]
struct Totals {
    datagrams: u64,
    skipped_port: u64,
    unrecognized: u64,
    errors: u64,
    flows: u64,
}

fn open(path: &PathBuf) -> Result<Capture, UserError> {
    let name = path.display().to_string();
    match open_capture(path) {
        Ok(c) => Ok(c),
        Err(CaptureError::NotACapture) => Err(UserError(format!(
            "{name}: not a capture (pcap, pcapng) or an IPFIX file"
        ))),
        Err(CaptureError::Empty) => Err(UserError(format!("{name}: empty file"))),
        Err(CaptureError::Io { source, .. }) => Err(UserError(format!("{name}: {source}"))),
        Err(e) => Err(UserError(format!("{name}: {e}"))),
    }
}

/// Where decoded records go: the printer, the totals, error lines.
struct Out<'a, W: Write> {
    printer: &'a mut Printer<W>,
    totals: &'a mut Totals,
    name: &'a str,
    frame: u64,
    quiet: bool,
    error_seen: bool,
}

impl<W: Write> Out<'_, W> {
    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r
            && self.printer.io_error.is_none()
        {
            self.printer.io_error = Some(e);
        }
    }
}

impl<W: Write> Sink for Out<'_, W> {
    fn flow(&mut self, flow: &FlowRecord) {
        self.totals.flows += 1;
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
        self.totals.errors += 1;
        self.error_seen = true;
        if !self.quiet {
            eprintln!("flowwire: {}: frame {}: {error}", self.name, self.frame);
        }
    }
}

pub(crate) fn run(args: DecodeArgs) -> Result<std::process::ExitCode, UserError> {
    let format = Format::resolve(args.format);
    // Open everything first: a missing file is a user error before any output.
    let mut inputs = Vec::new();
    for path in &args.files {
        inputs.push((path.display().to_string(), open(path)?));
    }
    let create = |path: &PathBuf| {
        std::fs::File::create(path).map_err(|e| UserError(format!("{}: {e}", path.display())))
    };
    let out: Box<dyn Write> = match (&args.output, format) {
        (None, Format::Parquet) => {
            return Err(UserError("--format parquet needs --output FILE".into()));
        }
        (Some(path), f) if f != Format::Parquet => Box::new(create(path)?),
        _ => Box::new(io::stdout().lock()),
    };
    let mut printer = Printer::new(
        BufWriter::with_capacity(1 << 16, out),
        format,
        args.types.clone(),
    );
    if let (Some(path), Format::Parquet) = (&args.output, format) {
        let file = BufWriter::with_capacity(1 << 20, create(path)?);
        let writer = flowwire::parquet::FlowParquetWriter::new(file, Default::default())
            .map_err(|e| UserError(format!("{}: {e}", path.display())))?;
        printer = printer.with_parquet(writer);
    }
    let mut collector = Collector::new(flowwire::CollectorConfig {
        renormalize: args.renormalize.config(),
        ..Default::default()
    });
    let mut totals = Totals::default();
    let stderr_tty = io::stderr().is_terminal();
    let mut failed_strict = false;

    'files: for (name, mut capture) in inputs {
        let progress = stderr_tty.then(|| {
            let p = indicatif::ProgressBar::new_spinner();
            p.set_message(name.clone());
            p
        });
        while let Some(item) = capture.next_datagram() {
            match item {
                Ok(d) => {
                    if !args.port.is_empty()
                        && !args.port.contains(&d.src.port())
                        && !args.port.contains(&d.dst.port())
                    {
                        totals.skipped_port += 1;
                        continue;
                    }
                    totals.datagrams += 1;
                    if let Some(p) = &progress
                        && totals.datagrams.is_multiple_of(4096)
                    {
                        p.set_position(totals.datagrams);
                    }
                    if detect(d.payload).is_none() {
                        totals.unrecognized += 1;
                    }
                    let mut out = Out {
                        printer: &mut printer,
                        totals: &mut totals,
                        name: &name,
                        frame: d.frame,
                        quiet: args.quiet,
                        error_seen: false,
                    };
                    collector.decode(d.src, d.time, d.payload, &mut out);
                    let error_seen = out.error_seen;
                    if (args.strict && error_seen) || printer.io_error.is_some() {
                        failed_strict = args.strict && error_seen;
                        break 'files;
                    }
                }
                Err(e) if e.is_fatal() => {
                    eprintln!("flowwire: {name}: {e}; decoded what came before");
                    totals.errors += 1;
                }
                Err(e) => {
                    if !args.quiet {
                        eprintln!("flowwire: {name}: {e}");
                    }
                }
            }
        }
        if let Some(p) = progress {
            p.finish_and_clear();
        }
    }
    let flushed = printer.finish_parquet().and_then(|()| printer.out.flush());
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
