//! Reads criterion's estimates and turns them into the ratio table.
//!
//! Criterion stores one directory per benchmark with `new/benchmark.json` (ids, throughput)
//! and `new/estimates.json` (nanoseconds per iteration); this module reads them back, so the
//! ratios come from the very run that criterion printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Bench {
    /// Group id.
    pub group: String,
    /// Function id (with its parameter, if any).
    pub id: String,
    /// Median time per iteration, ns.
    pub ns: f64,
    /// Elements per iteration (records, fields, samples), if the throughput was elements.
    pub elements: Option<f64>,
    /// Bytes per iteration, if the throughput was bytes.
    pub bytes: Option<f64>,
}

impl Bench {
    /// Elements (or bytes) per second.
    pub fn rate(&self) -> f64 {
        self.elements.or(self.bytes).unwrap_or(1.0) / (self.ns * 1e-9)
    }
    /// Nanoseconds per element.
    pub fn ns_per_element(&self) -> f64 {
        self.ns / self.elements.or(self.bytes).unwrap_or(1.0)
    }
}

/// All results found under a criterion directory.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// By (group, id).
    pub benches: BTreeMap<(String, String), Bench>,
    /// Ratios measured by the comparison bench alternating the two sides
    /// (`interleaved.tsv`), by name.
    pub interleaved: BTreeMap<String, f64>,
}

/// Where criterion writes: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the
/// workspace's `target/criterion`.
pub fn criterion_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(h));
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(t).join("criterion"));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    p.exists().then_some(p)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "new") {
                if p.join("benchmark.json").exists() {
                    out.push(p);
                }
            } else {
                walk(&p, out);
            }
        }
    }
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e9 {
        format!("{:.2} G", r / 1e9)
    } else if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1} k", r / 1e3)
    } else {
        format!("{r:.1} ")
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// One row of the targets table.
#[derive(Debug, Clone)]
pub struct TargetRow {
    /// What is compared.
    pub what: String,
    /// The target, as text.
    pub target: String,
    /// The measured ratio or figure (criterion medians), as text.
    pub measured: String,
    /// The same ratio measured by alternating the two sides, if it was.
    pub interleaved: Option<String>,
    /// Met, missed, or `None` if not measured.
    pub met: Option<bool>,
}

impl Results {
    /// Reads every benchmark under `dir`.
    pub fn load(dir: &Path) -> Result<Results, String> {
        let mut dirs = Vec::new();
        walk(dir, &mut dirs);
        if dirs.is_empty() {
            return Err(format!("no criterion results under {}", dir.display()));
        }
        let mut benches = BTreeMap::new();
        for d in dirs {
            let read = |f: &str| -> Result<serde_json::Value, String> {
                let s = std::fs::read_to_string(d.join(f)).map_err(|e| e.to_string())?;
                serde_json::from_str(&s).map_err(|e| e.to_string())
            };
            let (Ok(b), Ok(e)) = (read("benchmark.json"), read("estimates.json")) else {
                continue;
            };
            let group = b["group_id"].as_str().unwrap_or_default().to_string();
            let mut id = b["function_id"].as_str().unwrap_or_default().to_string();
            if let Some(v) = b["value_str"].as_str() {
                if id.is_empty() {
                    id = v.to_string();
                } else {
                    id = format!("{id}/{v}");
                }
            }
            let Some(ns) = e["median"]["point_estimate"].as_f64() else {
                continue;
            };
            let t = &b["throughput"];
            let elements = t["Elements"].as_f64();
            let bytes = t["Bytes"].as_f64().or(t["BytesDecimal"].as_f64());
            benches.insert(
                (group.clone(), id.clone()),
                Bench {
                    group,
                    id,
                    ns,
                    elements,
                    bytes,
                },
            );
        }
        let interleaved = std::fs::read_to_string(dir.join("interleaved.tsv"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (n, r) = l.split_once('\t')?;
                Some((n.to_string(), r.parse().ok()?))
            })
            .collect();
        Ok(Results {
            benches,
            interleaved,
        })
    }

    /// A result by group and id.
    pub fn get(&self, group: &str, id: &str) -> Option<&Bench> {
        self.benches.get(&(group.to_string(), id.to_string()))
    }

    fn ratio(&self, g: &str, a: &str, b: &str) -> Option<f64> {
        Some(self.get(g, a)?.rate() / self.get(g, b)?.rate())
    }

    /// The targets, measured.
    pub fn targets(&self) -> Vec<TargetRow> {
        let mut rows = Vec::new();
        let il = |k: String| self.interleaved.get(&k).copied();
        fn at_least(
            rows: &mut Vec<TargetRow>,
            what: String,
            target: f64,
            unit: &str,
            got: (Option<f64>, Option<f64>),
        ) {
            rows.push(TargetRow {
                what,
                target: format!("≥ {target}{unit}"),
                measured: got
                    .0
                    .map_or("not measured".into(), |g| format!("{g:.2}{unit}")),
                interleaved: got.1.map(|g| format!("{g:.2}{unit}")),
                met: got.0.map(|g| g >= target),
            });
        }
        for p in ["v9", "ipfix"] {
            let g = format!("decode {p}");
            at_least(
                &mut rows,
                format!("{p}: decode into FlowRecord vs netflow_parser (records/s)"),
                25.0,
                "×",
                (
                    self.ratio(&g, "flowwire session to FlowRecord", "netflow_parser"),
                    il(format!("decode {p}: session / netflow_parser")),
                ),
            );
            at_least(
                &mut rows,
                format!("{p}: decode into FlowRecord vs hand-written fixed-width (records/s; aim)"),
                0.3,
                "×",
                (
                    self.ratio(
                        &g,
                        "flowwire session to FlowRecord",
                        "hand-written fixed-width",
                    ),
                    il(format!("decode {p}: session / hand-written")),
                ),
            );
            // The floor of the compiled plan: no session around it.
            let r = self.ratio(
                &g,
                "flowwire RecordPlan to FlowRecord (set bodies)",
                "netflow_parser",
            );
            rows.push(TargetRow {
                what: format!(
                    "{p}: the RecordPlan alone (set bodies, no session) vs netflow_parser"
                ),
                target: "reported".into(),
                measured: r.map_or("not measured".into(), |r| format!("{r:.2}×")),
                interleaved: None,
                met: None,
            });
            at_least(
                &mut rows,
                format!("{p}: zero-copy field iteration (M fields/s)"),
                100.0,
                " M/s",
                (
                    self.get(&g, "flowwire views (fields)")
                        .map(|b| b.rate() / 1e6),
                    None,
                ),
            );
        }
        for p in ["v9", "ipfix"] {
            let g = format!("encode {p}");
            at_least(
                &mut rows,
                format!("{p}: encode FlowRecords vs netflow_parser to_be_bytes (records/s)"),
                5.0,
                "×",
                (
                    self.ratio(&g, "flowwire exporter", "netflow_parser to_be_bytes"),
                    il(format!("encode {p}: exporter / netflow_parser to_be_bytes")),
                ),
            );
            // The floor of the compiled plan: no exporter around it.
            let r = self.ratio(
                &g,
                "flowwire EmitPlan alone (set bodies)",
                "netflow_parser to_be_bytes",
            );
            rows.push(TargetRow {
                what: format!(
                    "{p}: the EmitPlan alone (set bodies, no exporter) vs netflow_parser"
                ),
                target: "reported".into(),
                measured: r.map_or("not measured".into(), |r| format!("{r:.2}×")),
                interleaved: None,
                met: None,
            });
            // Within 2× of memcpy: encode time / memcpy time ≤ 2.
            let r = self.ratio(&g, "flowwire exporter", "memcpy of the output");
            rows.push(TargetRow {
                what: format!("{p}: encode time / memcpy of the output bytes"),
                target: "reported".into(),
                measured: r.map_or("not measured".into(), |r| format!("{:.1}×", 1.0 / r)),
                interleaved: il(format!("encode {p}: exporter / memcpy"))
                    .map(|r| format!("{:.1}×", 1.0 / r)),
                met: None,
            });
        }
        at_least(
            &mut rows,
            "sflow: flow samples (128-byte header) into FlowRecord vs flowparser-sflow (samples/s)"
                .into(),
            2.0,
            "×",
            (
                self.ratio(
                    "decode sflow",
                    "flowwire flow_record_into FlowRecord",
                    "flowparser-sflow",
                ),
                il("decode sflow: flow_record_into / flowparser-sflow".into()),
            ),
        );
        rows
    }

    /// The targets as a markdown table.
    pub fn targets_markdown(&self) -> String {
        let mut s = String::from(
            "| target | goal | measured (criterion) | measured (interleaved A/B) | met |\n|---|---|---|---|---|\n",
        );
        for r in self.targets() {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.what,
                r.target,
                r.measured,
                r.interleaved.as_deref().unwrap_or("—"),
                met
            );
        }
        s
    }

    /// Every benchmark of the groups starting with `prefix`: time per iteration, rate, ns
    /// per element.
    pub fn table_markdown(&self, groups: &[&str]) -> String {
        let mut s = String::from(
            "| group | benchmark | time / iteration | rate (/s) | ns / element |\n|---|---|---|---|---|\n",
        );
        for b in self
            .benches
            .values()
            .filter(|b| groups.iter().any(|g| b.group.starts_with(g)))
        {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} |",
                b.group,
                b.id,
                fmt_ns(b.ns),
                fmt_rate(b.rate()),
                b.ns_per_element()
            );
        }
        s
    }

    /// The real captures: payload bytes/s and flows/s (the flow count is in the benchmark
    /// id, "file (N flows)").
    pub fn captures_markdown(&self) -> String {
        let mut s = String::from(
            "| capture | flows | time per file | payload bytes/s | flows/s | ns per flow |\n|---|---|---|---|---|---|\n",
        );
        for b in self.benches.values().filter(|b| b.group == "captures") {
            let flows =
                b.id.rsplit_once(" (")
                    .and_then(|(_, r)| r.split(' ').next())
                    .and_then(|n| n.parse::<f64>().ok())
                    .unwrap_or(0.0);
            let name = b.id.split(" (").next().unwrap_or(&b.id);
            let _ = writeln!(
                s,
                "| {name} | {flows} | {} | {}B | {} | {:.0} |",
                fmt_ns(b.ns),
                fmt_rate(b.rate()),
                fmt_rate(flows / (b.ns * 1e-9)),
                b.ns / flows.max(1.0)
            );
        }
        s
    }

    /// The scale curve: records per run against time per run and per record.
    pub fn scale_markdown(&self) -> String {
        let mut s = String::from(
            "| path | records per run | time per run | ns per record | records/s |\n|---|---|---|---|---|\n",
        );
        let mut rows: Vec<&Bench> = self
            .benches
            .values()
            .filter(|b| b.group.starts_with("scale"))
            .collect();
        rows.sort_by(|a, b| {
            (&a.group, a.elements.unwrap_or(0.0) as u64)
                .cmp(&(&b.group, b.elements.unwrap_or(0.0) as u64))
        });
        for b in rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.1} | {} |",
                b.group,
                b.elements.unwrap_or(0.0),
                fmt_ns(b.ns),
                b.ns_per_element(),
                fmt_rate(b.rate())
            );
        }
        s
    }
}
