//! Flow records as CSV lines, formatted straight into bytes like [`crate::jsonl`]: one line per
//! flow, the columns of [`FLOW_CSV_COLUMNS`] (the core fields of the JSON form), empty cells for
//! absent fields, values as `Display` writes them (times RFC 3339), and `extra` as
//! space-separated `name=value` pairs, quoted when it holds a comma, a quote or a newline;
//! last, `renormalized` (`true`, or empty).
//!
//! ```
//! use flowwire::FlowRecord;
//! use flowwire::csv::{FLOW_CSV_COLUMNS, FlowCsv};
//!
//! let mut flow = FlowRecord::default();
//! flow.set_src_addr(Some("192.0.2.1".parse()?));
//! flow.set_dst_port(Some(443));
//!
//! let mut out = FLOW_CSV_COLUMNS.join(",").into_bytes();
//! out.push(b'\n');
//! FlowCsv::new().write_line(&mut out, &flow);
//! assert!(String::from_utf8(out)?.ends_with(",,,,,,,192.0.2.1,,,443,,,,,,,,,,,,,,,,,,,,,\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use flowwire_record::FlowRecord;

use crate::jsonl::Line;

/// The CSV columns, in order.
pub const FLOW_CSV_COLUMNS: &[&str] = &[
    "kind",
    "exporter",
    "domain",
    "sequence",
    "export_time",
    "start",
    "end",
    "src_addr",
    "src_port",
    "dst_addr",
    "dst_port",
    "protocol",
    "tos",
    "tcp_flags",
    "octets",
    "packets",
    "in_if",
    "out_if",
    "src_as",
    "dst_as",
    "next_hop",
    "src_mask",
    "dst_mask",
    "vlan",
    "src_mac",
    "dst_mac",
    "icmp_type",
    "icmp_code",
    "direction",
    "sampling_interval",
    "extra",
    "renormalized",
];

/// A CSV writer for flow records that keeps its scratch line between records.
#[derive(Clone)]
pub struct FlowCsv {
    line: Box<Line>,
    extra: String,
}

impl Default for FlowCsv {
    fn default() -> Self {
        FlowCsv {
            line: Line::boxed(),
            extra: String::new(),
        }
    }
}

impl std::fmt::Debug for FlowCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowCsv").finish_non_exhaustive()
    }
}

/// Quotes a CSV cell when it needs it (a comma, a quote or a newline), doubling quotes.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

impl FlowCsv {
    /// A writer.
    pub fn new() -> Self {
        FlowCsv::default()
    }

    /// Appends `flow` as one CSV line (with its `\n`).
    pub fn write_line(&mut self, out: &mut Vec<u8>, flow: &FlowRecord) {
        let w = &mut *self.line;
        w.pos = 0;
        macro_rules! cell {
            ($value:expr, $write:expr) => {{
                if let Some(v) = $value {
                    #[allow(clippy::redundant_closure_call)]
                    ($write)(&mut *w, v);
                }
                w.put(b",");
            }};
        }
        let int = |w: &mut Line, v: u64| w.int(v);
        cell!(flow.kind(), |w: &mut Line, k| w.kind(k));
        cell!(flow.exporter(), |w: &mut Line, a| w.socket_addr(a));
        cell!(flow.domain().map(u64::from), int);
        cell!(flow.sequence().map(u64::from), int);
        cell!(flow.export_time(), |w: &mut Line, t| w.timestamp(t));
        cell!(flow.start(), |w: &mut Line, t| w.timestamp(t));
        cell!(flow.end(), |w: &mut Line, t| w.timestamp(t));
        cell!(flow.src_addr(), |w: &mut Line, a| w.ip(a));
        cell!(flow.src_port().map(u64::from), int);
        cell!(flow.dst_addr(), |w: &mut Line, a| w.ip(a));
        cell!(flow.dst_port().map(u64::from), int);
        cell!(flow.protocol().map(u64::from), int);
        cell!(flow.tos().map(u64::from), int);
        cell!(flow.tcp_flags().map(u64::from), int);
        cell!(flow.octets(), int);
        cell!(flow.packets(), int);
        cell!(flow.in_if().map(u64::from), int);
        cell!(flow.out_if().map(u64::from), int);
        cell!(flow.src_as().map(u64::from), int);
        cell!(flow.dst_as().map(u64::from), int);
        cell!(flow.next_hop(), |w: &mut Line, a| w.ip(a));
        cell!(flow.src_mask().map(u64::from), int);
        cell!(flow.dst_mask().map(u64::from), int);
        cell!(flow.vlan().map(u64::from), int);
        cell!(flow.src_mac(), |w: &mut Line, m| w.display(m));
        cell!(flow.dst_mac(), |w: &mut Line, m| w.display(m));
        cell!(flow.icmp_type().map(u64::from), int);
        cell!(flow.icmp_code().map(u64::from), int);
        cell!(flow.direction().map(u64::from), int);
        cell!(flow.sampling_interval().map(u64::from), int);
        out.extend_from_slice(w.text());
        if !flow.extra.is_empty() {
            let extra = &mut self.extra;
            extra.clear();
            for (i, e) in flow.extra.iter().enumerate() {
                if i > 0 {
                    extra.push(' ');
                }
                match &e.name {
                    Some(n) => extra.push_str(n),
                    None => {
                        let _ = write!(extra, "{}", e.field);
                    }
                }
                let _ = write!(extra, "={}", e.value);
            }
            out.extend_from_slice(csv_cell(extra).as_bytes());
        }
        out.extend_from_slice(if flow.is_renormalized() {
            b",true"
        } else {
            b","
        });
        out.push(b'\n');
    }
}
