//! `flowwire ie`: look up information elements.

use std::io::{BufWriter, Write};

use clap::Args;
use flowwire::record::registry::{self, ElementInfo, FieldId, Registry};
use serde::Serialize;

use crate::UserError;
use crate::output::{Format, csv_cell};

#[derive(Debug, Args)]
pub(crate) struct IeArgs {
    /// An element name (e.g. octetDeltaCount), id (e.g. 1) or PEN:ID (e.g. 6876:892).
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    element: Option<String>,
    /// Print every known element, one per line.
    #[arg(long)]
    list: bool,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Serialize)]
struct Row<'a> {
    pen: u32,
    id: u16,
    name: &'a str,
    data_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    semantics: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    units: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

fn row<'a>(e: &ElementInfo<'a>) -> Row<'a> {
    Row {
        pen: e.field.pen,
        id: e.field.id,
        name: e.name,
        data_type: e.data_type.name(),
        semantics: e.semantics.map(|s| s.name()),
        units: e.units.map(|u| u.name()),
        status: registry::lookup(e.field).map(|b| b.status.name()),
    }
}

fn find<'r>(reg: &'r Registry, query: &str) -> Option<ElementInfo<'r>> {
    if let Ok(field) = query.parse::<FieldId>() {
        return reg.get(field);
    }
    reg.get_by_name(query).or_else(|| {
        // Names are case-sensitive in the registry; accept any case when unambiguous.
        let mut matches = reg.iter().filter(|e| e.name.eq_ignore_ascii_case(query));
        let first = matches.next()?;
        matches.next().is_none().then_some(first)
    })
}

pub(crate) fn run(args: IeArgs) -> Result<(), UserError> {
    let reg = Registry::new();
    let rows: Vec<Row<'_>> = if args.list {
        reg.iter().map(|e| row(&e)).collect()
    } else {
        let query = args.element.as_deref().unwrap_or_default();
        let e = find(&reg, query).ok_or_else(|| {
            UserError(format!(
                "unknown information element {query:?} (give a registry name, an id or PEN:ID; `flowwire ie --list` shows them all)"
            ))
        })?;
        vec![row(&e)]
    };
    let format = Format::resolve(args.format);
    if matches!(format, Format::Parquet | Format::Protobuf) {
        return Err(UserError(
            "ie prints jsonl, csv or table; parquet and protobuf are for flows".into(),
        ));
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let res = match format {
        Format::Jsonl => rows.iter().try_for_each(|r| {
            serde_json::to_writer(&mut out, r).map_err(std::io::Error::other)?;
            out.write_all(b"\n")
        }),
        Format::Csv => {
            let head = writeln!(out, "pen,id,name,data_type,semantics,units,status");
            head.and_then(|()| {
                rows.iter().try_for_each(|r| {
                    writeln!(
                        out,
                        "{},{},{},{},{},{},{}",
                        r.pen,
                        r.id,
                        csv_cell(r.name),
                        r.data_type,
                        r.semantics.unwrap_or(""),
                        r.units.unwrap_or(""),
                        r.status.unwrap_or("")
                    )
                })
            })
        }
        Format::Table | Format::Parquet | Format::Protobuf => {
            let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
            let head = writeln!(
                out,
                "{:>10}  {:<name_w$}  {:<20}  {:<12}  {:<13}  STATUS",
                "ID", "NAME", "TYPE", "SEMANTICS", "UNITS"
            );
            head.and_then(|()| {
                rows.iter().try_for_each(|r| {
                    let id = if r.pen == 0 {
                        r.id.to_string()
                    } else {
                        format!("{}:{}", r.pen, r.id)
                    };
                    writeln!(
                        out,
                        "{:>10}  {:<name_w$}  {:<20}  {:<12}  {:<13}  {}",
                        id,
                        r.name,
                        r.data_type,
                        r.semantics.unwrap_or("-"),
                        r.units.unwrap_or("-"),
                        r.status.unwrap_or("-")
                    )
                })
            })
        }
    };
    match res.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`flowwire ie --list | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(UserError(format!("writing output: {e}"))),
    }
}
