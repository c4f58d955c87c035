//! Output formats shared by the subcommands.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use flowwire::protobuf::FlowMessage;
use flowwire::record::FlowRecord;
use flowwire::{CounterSample, Counters, OptionsRecord, Timestamp};

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
    /// Apache Parquet, one row per flow (`decode --output FILE`, `listen --output DIR`).
    Parquet,
    /// goflow2's protobuf FlowMessage per flow, each with its varint length first (what
    /// goflow2 writes with -format=bin): binary, for goflow2's consumers.
    Protobuf,
}

impl Format {
    /// The format asked for, or table on a terminal and jsonl otherwise.
    pub(crate) fn resolve(asked: Option<Format>) -> Format {
        asked.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Jsonl
            }
        })
    }
}

pub(crate) use flowwire::csv::{FLOW_CSV_COLUMNS, csv_cell};

/// The table header for flows.
pub(crate) const FLOW_TABLE_HEADER: &str = "START                          KIND      EXPORTER               SRC                                          DST                                          PROTO     PACKETS          OCTETS  IN>OUT";

fn endpoint(addr: Option<std::net::IpAddr>, port: Option<u16>) -> String {
    match (addr, port) {
        (Some(std::net::IpAddr::V6(a)), Some(p)) => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.to_string(),
        (None, Some(p)) => format!("*:{p}"),
        (None, None) => "-".into(),
    }
}

/// Writes one flow as a table line.
pub(crate) fn flow_table(
    out: &mut impl Write,
    r: &FlowRecord,
    line: &mut String,
) -> io::Result<()> {
    line.clear();
    let start = r
        .start()
        .or(r.export_time())
        .map(|t| t.to_string())
        .unwrap_or_else(|| "-".into());
    let kind = r.kind().map(|k| k.name()).unwrap_or("-");
    let exporter = r
        .exporter()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "-".into());
    let proto = match r.protocol() {
        Some(1) => "icmp".to_string(),
        Some(6) => "tcp".to_string(),
        Some(17) => "udp".to_string(),
        Some(58) => "icmp6".to_string(),
        Some(p) => p.to_string(),
        None => "-".to_string(),
    };
    let n = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    let i = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    let _ = writeln!(
        line,
        "{start:<30} {kind:<9} {exporter:<22} {:<44} {:<44} {proto:<5} {:>11} {:>15}  {}>{}",
        endpoint(r.src_addr(), r.src_port()),
        endpoint(r.dst_addr(), r.dst_port()),
        n(r.packets()),
        n(r.octets()),
        i(r.in_if()),
        i(r.out_if()),
    );
    out.write_all(line.as_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RecordType {
    /// Flow records.
    Flow,
    /// sFlow counter samples.
    Counters,
    /// Options data (sampling, interface names...).
    Options,
}

pub(crate) struct Printer<W: Write> {
    pub(crate) out: W,
    format: Format,
    types: Vec<RecordType>,
    line: String,
    scratch: Vec<u8>,
    json_writer: flowwire::jsonl::FlowJson,
    csv_writer: flowwire::csv::FlowCsv,
    parquet: Option<flowwire::parquet::FlowParquetWriter<io::BufWriter<std::fs::File>>>,
    pub(crate) io_error: Option<io::Error>,
    wrote_header: bool,
    /// Records arrive live (listen): received now, not at their export time (decode).
    live: bool,
}

impl<W: Write> Printer<W> {
    pub(crate) fn new(out: W, format: Format, types: Vec<RecordType>) -> Self {
        Printer {
            out,
            format,
            types,
            line: String::new(),
            scratch: Vec::new(),
            json_writer: flowwire::jsonl::FlowJson::new(),
            csv_writer: flowwire::csv::FlowCsv::new(),
            parquet: None,
            io_error: None,
            wrote_header: false,
            live: false,
        }
    }

    /// Records are received live: protobuf's `time_received_ns` is the time of printing.
    pub(crate) fn live(mut self) -> Self {
        self.live = true;
        self
    }

    /// Flows go to this Parquet file (with [`Format::Parquet`]).
    pub(crate) fn with_parquet(
        mut self,
        writer: flowwire::parquet::FlowParquetWriter<io::BufWriter<std::fs::File>>,
    ) -> Self {
        self.parquet = Some(writer);
        self
    }

    /// Writes the Parquet file's last row group and footer, if there is one.
    pub(crate) fn finish_parquet(&mut self) -> io::Result<()> {
        match self.parquet.take() {
            Some(p) => p
                .finish()
                .map_err(io::Error::other)
                .and_then(|mut f| f.flush()),
            None => Ok(()),
        }
    }

    fn wants(&self, t: RecordType) -> bool {
        self.types.is_empty() || self.types.contains(&t)
    }

    fn header(&mut self) -> io::Result<()> {
        if self.wrote_header {
            return Ok(());
        }
        self.wrote_header = true;
        match self.format {
            Format::Csv => writeln!(self.out, "{}", FLOW_CSV_COLUMNS.join(",")),
            Format::Table => writeln!(self.out, "{FLOW_TABLE_HEADER}"),
            Format::Jsonl | Format::Parquet | Format::Protobuf => Ok(()),
        }
    }

    fn json(&mut self, v: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, v).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }

    /// Prints a flow, if flows are wanted.
    pub(crate) fn flow(&mut self, f: &FlowRecord) -> io::Result<()> {
        if !self.wants(RecordType::Flow) {
            return Ok(());
        }
        match self.format {
            Format::Jsonl => {
                // The serde form's bytes, without the serializer's cost.
                self.scratch.clear();
                self.json_writer.write_line(&mut self.scratch, f);
                self.out.write_all(&self.scratch)
            }
            Format::Csv => {
                self.header()?;
                self.scratch.clear();
                self.csv_writer.write_line(&mut self.scratch, f);
                self.out.write_all(&self.scratch)
            }
            Format::Table => {
                self.header()?;
                flow_table(&mut self.out, f, &mut self.line)
            }
            Format::Parquet => match self.parquet.as_mut() {
                Some(p) => p.write(f).map_err(io::Error::other),
                None => Err(io::Error::other("parquet output needs a file")),
            },
            Format::Protobuf => {
                // A capture's flows were received around their export time; live ones now.
                let received = match f.export_time() {
                    Some(t) if !self.live => t,
                    _ => Timestamp::now(),
                };
                self.scratch.clear();
                FlowMessage::from_record(f, received)
                    .encode_delimited(&mut self.scratch)
                    .map_err(io::Error::other)?;
                self.out.write_all(&self.scratch)
            }
        }
    }

    /// Prints a counter sample (JSON only: counters have no flat form).
    pub(crate) fn counters(&mut self, c: &CounterSample<'_>) -> io::Result<()> {
        match c.detail::<Counters>() {
            Some(c) if self.wants(RecordType::Counters) && self.format == Format::Jsonl => {
                self.json(c)
            }
            _ => Ok(()),
        }
    }

    /// Prints an options record (JSON only: options have no flat form).
    pub(crate) fn options(&mut self, o: &OptionsRecord) -> io::Result<()> {
        if self.wants(RecordType::Options) && self.format == Format::Jsonl {
            self.json(o)
        } else {
            Ok(())
        }
    }
}
