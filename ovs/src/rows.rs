//! The OVS rows this crate manages (`NetFlow`, `sFlow`, `IPFIX`), as column values that can
//! be compared, written as OVSDB JSON and as `ovs-vsctl` arguments, and read back.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Diagnostic, Diagnostics, Error};
use crate::options::{ExportOptions, IpfixOptions, NetFlowOptions, SFlowOptions};
use crate::ovsdb::op;
use crate::spec::{CollectorConfig, ExportNetworkFlows, Network, Protocol, ValidSpec};

/// The OVSDB type of a managed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// A set of strings (`targets`).
    Strings,
    /// Exactly one integer.
    Int,
    /// An optional integer (set of 0 or 1).
    OptInt,
    /// Exactly one boolean.
    Bool,
    /// An optional string.
    OptString,
}

/// A value of a managed column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnValue {
    /// A set of strings.
    Strings(BTreeSet<String>),
    /// One integer.
    Int(i64),
    /// An optional integer.
    OptInt(Option<i64>),
    /// One boolean.
    Bool(bool),
    /// An optional string.
    OptString(Option<String>),
}

impl ColumnValue {
    /// `true` for an empty optional value or an empty set: written by clearing the column.
    pub fn is_unset(&self) -> bool {
        match self {
            ColumnValue::Strings(s) => s.is_empty(),
            ColumnValue::OptInt(v) => v.is_none(),
            ColumnValue::OptString(v) => v.is_none(),
            ColumnValue::Int(_) | ColumnValue::Bool(_) => false,
        }
    }

    /// The value in OVSDB JSON notation (RFC 7047 §5.1).
    pub fn to_ovsdb(&self) -> Value {
        match self {
            ColumnValue::Strings(s) => {
                op::set(s.iter().map(|x| Value::String(x.clone())).collect())
            }
            ColumnValue::Int(i) => Value::from(*i),
            ColumnValue::OptInt(Some(i)) => Value::from(*i),
            ColumnValue::Bool(b) => Value::Bool(*b),
            ColumnValue::OptString(Some(s)) => Value::String(s.clone()),
            ColumnValue::OptInt(None) | ColumnValue::OptString(None) => op::empty_set(),
        }
    }

    /// The value in `ovs-vsctl` syntax (strings double-quoted, sets in brackets); `None` for
    /// unset values, which `ovs-vsctl` writes with `clear`.
    pub fn to_vsctl(&self) -> Option<String> {
        if self.is_unset() {
            return None;
        }
        Some(match self {
            ColumnValue::Strings(s) => {
                let items: Vec<String> = s.iter().map(|x| json_quote(x)).collect();
                format!("[{}]", items.join(","))
            }
            ColumnValue::Int(i) | ColumnValue::OptInt(Some(i)) => i.to_string(),
            ColumnValue::Bool(b) => b.to_string(),
            ColumnValue::OptString(Some(s)) => json_quote(s),
            ColumnValue::OptInt(None) | ColumnValue::OptString(None) => String::new(),
        })
    }

    /// Decode a value from a `select` result.
    pub fn from_ovsdb(
        kind: ColumnKind,
        v: &Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<ColumnValue, Error> {
        let bad = || Error::BadData {
            table,
            column,
            value: v.to_string(),
        };
        // A set is either ["set", [...]] or a bare atom (1-element set).
        let atoms: Vec<&Value> = match v.as_array().map(Vec::as_slice) {
            Some([tag, Value::Array(items)]) if tag == "set" => items.iter().collect(),
            _ => vec![v],
        };
        match kind {
            ColumnKind::Strings => atoms
                .iter()
                .map(|a| a.as_str().map(str::to_owned).ok_or_else(bad))
                .collect::<Result<BTreeSet<_>, _>>()
                .map(ColumnValue::Strings),
            ColumnKind::Int => v.as_i64().map(ColumnValue::Int).ok_or_else(bad),
            ColumnKind::Bool => v.as_bool().map(ColumnValue::Bool).ok_or_else(bad),
            ColumnKind::OptInt => match atoms.as_slice() {
                [] => Ok(ColumnValue::OptInt(None)),
                [a] => a
                    .as_i64()
                    .map(|i| ColumnValue::OptInt(Some(i)))
                    .ok_or_else(bad),
                _ => Err(bad()),
            },
            ColumnKind::OptString => match atoms.as_slice() {
                [] => Ok(ColumnValue::OptString(None)),
                [a] => a
                    .as_str()
                    .map(|s| ColumnValue::OptString(Some(s.to_owned())))
                    .ok_or_else(bad),
                _ => Err(bad()),
            },
        }
    }
}

impl fmt::Display for ColumnValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_vsctl() {
            Some(s) => f.write_str(&s),
            None => f.write_str("(unset)"),
        }
    }
}

fn json_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The columns this crate manages in `table`, in the order they are written. Other columns
/// (`external_ids`, `other_config`, ...) are left alone.
pub fn managed_columns(p: Protocol) -> &'static [(&'static str, ColumnKind)] {
    use ColumnKind::*;
    match p {
        Protocol::NetFlow => &[
            ("targets", Strings),
            ("active_timeout", Int),
            ("engine_type", OptInt),
            ("engine_id", OptInt),
            ("add_id_to_interface", Bool),
        ],
        Protocol::SFlow => &[
            ("targets", Strings),
            ("agent", OptString),
            ("sampling", OptInt),
            ("polling", OptInt),
            ("header", OptInt),
        ],
        Protocol::Ipfix => &[
            ("targets", Strings),
            ("sampling", OptInt),
            ("cache_active_timeout", OptInt),
            ("cache_max_flows", OptInt),
            ("obs_domain_id", OptInt),
            ("obs_point_id", OptInt),
            ("template_interval", OptInt),
        ],
    }
}

/// One managed row: the managed columns and their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExporterRow {
    /// Which table.
    pub protocol: Protocol,
    /// Column name → value, for every managed column the server's schema has.
    pub columns: BTreeMap<&'static str, ColumnValue>,
}

impl ExporterRow {
    /// The value of a column.
    pub fn get(&self, column: &str) -> Option<&ColumnValue> {
        self.columns.get(column)
    }

    /// The `targets` set.
    pub fn targets(&self) -> BTreeSet<String> {
        match self.columns.get("targets") {
            Some(ColumnValue::Strings(s)) => s.clone(),
            _ => BTreeSet::new(),
        }
    }

    /// Columns in write order (the order of [`managed_columns`]).
    pub fn ordered(&self) -> Vec<(&'static str, &ColumnValue)> {
        managed_columns(self.protocol)
            .iter()
            .filter_map(|(c, _)| self.columns.get(c).map(|v| (*c, v)))
            .collect()
    }

    /// The row as an OVSDB `row` object for `insert` (unset columns are omitted, so OVS uses
    /// its default).
    pub fn insert_row(&self) -> Map<String, Value> {
        self.ordered()
            .into_iter()
            .filter(|(_, v)| !v.is_unset())
            .map(|(c, v)| (c.to_owned(), v.to_ovsdb()))
            .collect()
    }

    fn opt_int(&self, c: &str) -> Option<i64> {
        match self.columns.get(c) {
            Some(ColumnValue::OptInt(v)) => *v,
            Some(ColumnValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    fn opt_u32(&self, c: &str) -> Option<u32> {
        self.opt_int(c).and_then(|v| u32::try_from(v).ok())
    }

    fn opt_u8(&self, c: &str) -> Option<u8> {
        self.opt_int(c).and_then(|v| u8::try_from(v).ok())
    }
}

/// Which columns the server's schema has, per managed table, and the integer ranges it
/// declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaInfo {
    /// The schema's `version`, e.g. `8.3.1`.
    pub version: String,
    /// Table → its column names.
    pub columns: HashMap<String, HashSet<String>>,
    /// `Table.column` → the (`minInteger`, `maxInteger`) of an integer column that declares
    /// either (the missing one is `i64::MIN` or `i64::MAX`).
    pub int_ranges: HashMap<String, (i64, i64)>,
}

/// The integer range a column's `type` declares, if it declares one.
fn int_range(column: &Value) -> Option<(i64, i64)> {
    let key = match column.get("type")? {
        Value::Object(t) => t.get("key")?,
        _ => return None,
    };
    let Value::Object(key) = key else {
        return None;
    };
    if key.get("type").and_then(Value::as_str) != Some("integer") {
        return None;
    }
    let (min, max) = (key.get("minInteger"), key.get("maxInteger"));
    if min.is_none() && max.is_none() {
        return None;
    }
    Some((
        min.and_then(Value::as_i64).unwrap_or(i64::MIN),
        max.and_then(Value::as_i64).unwrap_or(i64::MAX),
    ))
}

impl SchemaInfo {
    /// From a `get_schema` reply.
    pub fn from_schema(schema: &Value) -> SchemaInfo {
        let version = schema
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let mut columns = HashMap::new();
        let mut int_ranges = HashMap::new();
        if let Some(tables) = schema.get("tables").and_then(Value::as_object) {
            for (t, def) in tables {
                let defs = def.get("columns").and_then(Value::as_object);
                for (c, r) in defs
                    .into_iter()
                    .flatten()
                    .filter_map(|(c, d)| Some((c, int_range(d)?)))
                {
                    int_ranges.insert(format!("{t}.{c}"), r);
                }
                let cols = defs
                    .map(|c| c.keys().cloned().collect())
                    .unwrap_or_default();
                columns.insert(t.clone(), cols);
            }
        }
        SchemaInfo {
            version,
            columns,
            int_ranges,
        }
    }

    /// A schema that has every managed column (for planning without a server).
    pub fn everything() -> SchemaInfo {
        let mut columns = HashMap::new();
        for p in Protocol::ALL {
            columns.insert(
                p.table().to_owned(),
                managed_columns(p)
                    .iter()
                    .map(|(c, _)| (*c).to_owned())
                    .collect(),
            );
        }
        SchemaInfo {
            version: "any".into(),
            columns,
            int_ranges: HashMap::new(),
        }
    }

    /// The integer range the schema declares for `table.column`, if any.
    pub fn int_range(&self, table: &str, column: &str) -> Option<(i64, i64)> {
        self.int_ranges.get(&format!("{table}.{column}")).copied()
    }

    /// Whether `table` has `column`.
    pub fn has(&self, table: &str, column: &str) -> bool {
        self.columns.get(table).is_some_and(|c| c.contains(column))
    }

    /// The managed columns of `p` that this schema has.
    pub fn managed(&self, p: Protocol) -> Vec<(&'static str, ColumnKind)> {
        managed_columns(p)
            .iter()
            .copied()
            .filter(|(c, _)| self.has(p.table(), c))
            .collect()
    }
}

/// What the bridge should export: one optional row per protocol, and what to do with the
/// `Flow_Sample_Collector_Set` this crate manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredExport {
    /// The bridge.
    pub bridge: String,
    /// NetFlow, sFlow, IPFIX rows (index by [`Protocol`] order), `None` = not exported.
    pub rows: [Option<ExporterRow>; 3],
    /// Per-flow sampling (see [`ExportOptions::flow_sample_collector_set`]).
    pub flow_sample: FlowSampleWant,
}

/// The external_ids key that marks a `Flow_Sample_Collector_Set` row as this crate's: only
/// marked rows are ever updated or deleted.
pub const FLOW_SAMPLE_OWNER_KEY: &str = "flowwire";
/// The value stored under [`FLOW_SAMPLE_OWNER_KEY`].
pub const FLOW_SAMPLE_OWNER_VALUE: &str = "exportNetworkFlows";
/// The table for per-flow sampling (OVS's `sample` action sends to it by `id`).
pub const FSCS: &str = "Flow_Sample_Collector_Set";

/// What to do about the `Flow_Sample_Collector_Set` rows this crate manages on the bridge
/// (rows marked with [`FLOW_SAMPLE_OWNER_KEY`]; others are never touched).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowSampleWant {
    /// Leave them as they are (the option is not used).
    Leave,
    /// Delete them (nothing to sample to: no IPFIX collectors, or `clear`).
    RemoveOurs,
    /// Have exactly one, with this `id`, pointing at its own IPFIX row like `row`.
    Ensure {
        /// The collector set id that OpenFlow `sample` actions name.
        id: u32,
        /// Its IPFIX row: the spec's IPFIX collectors and the cache settings.
        row: ExporterRow,
    },
}

fn index(p: Protocol) -> usize {
    match p {
        Protocol::NetFlow => 0,
        Protocol::SFlow => 1,
        Protocol::Ipfix => 2,
    }
}

impl DesiredExport {
    /// Build the rows from a validated spec and options, keeping only the columns the
    /// server's schema has; an option set for a missing column is an error, and so is an
    /// integer outside the range the schema declares ([`Error::Invalid`], naming the option).
    pub fn new(
        spec: &ValidSpec,
        opts: &ExportOptions,
        schema: &SchemaInfo,
    ) -> Result<DesiredExport, Error> {
        let mut rows: [Option<ExporterRow>; 3] = [None, None, None];
        let mut out_of_range = Vec::new();
        for p in Protocol::ALL {
            let Some(targets) = spec.targets(p) else {
                continue;
            };
            let mut cols = option_columns(p, opts);
            cols.insert("targets", ColumnValue::Strings(targets));
            let mut kept = BTreeMap::new();
            for (c, v) in cols {
                if schema.has(p.table(), c) {
                    let int = match &v {
                        ColumnValue::Int(i) | ColumnValue::OptInt(Some(i)) => Some(*i),
                        _ => None,
                    };
                    if let (Some(i), Some((min, max))) = (int, schema.int_range(p.table(), c))
                        && !(min..=max).contains(&i)
                    {
                        let range = if max == i64::MAX {
                            format!("at least {min}")
                        } else {
                            format!("{min}-{max}")
                        };
                        out_of_range.push(Diagnostic::error(
                            format!("{}.{c}", p.spec_field()),
                            i.to_string(),
                            format!(
                                "must be {range} (the server's Open_vSwitch schema {})",
                                schema.version
                            ),
                        ));
                    }
                    kept.insert(c, v);
                } else if !v.is_unset() {
                    return Err(Error::Unsupported {
                        version: schema.version.clone(),
                        table: p.table(),
                        column: c,
                        hint: format!("leave {}.{c} unset", p.spec_field()),
                    });
                }
            }
            if let Some(slot) = rows.get_mut(index(p)) {
                *slot = Some(ExporterRow {
                    protocol: p,
                    columns: kept,
                });
            }
        }
        if !out_of_range.is_empty() {
            return Err(Error::Invalid(Diagnostics(out_of_range)));
        }
        let flow_sample = match opts.flow_sample_collector_set {
            None => FlowSampleWant::Leave,
            Some(_) if !schema.has(FSCS, "ipfix") => {
                return Err(Error::Unsupported {
                    version: schema.version.clone(),
                    table: FSCS,
                    column: "ipfix",
                    hint: "leave flow_sample_collector_set unset".to_owned(),
                });
            }
            Some(id) => match rows.get(index(Protocol::Ipfix)).and_then(Option::as_ref) {
                None => FlowSampleWant::RemoveOurs,
                Some(ipfix) => {
                    // Sampling probability and observation ids come from each `sample`
                    // action; only where to send and the cache apply to flow sampling.
                    let mut row = ipfix.clone();
                    for (c, kind) in managed_columns(Protocol::Ipfix) {
                        if !matches!(*c, "targets" | "cache_active_timeout" | "cache_max_flows")
                            && *kind == ColumnKind::OptInt
                            && let Some(v) = row.columns.get_mut(c)
                        {
                            *v = ColumnValue::OptInt(None);
                        }
                    }
                    FlowSampleWant::Ensure { id, row }
                }
            },
        };
        Ok(DesiredExport {
            bridge: opts.bridge.clone(),
            rows,
            flow_sample,
        })
    }

    /// Nothing exported (what `clear` wants), the managed flow sampling included.
    pub fn nothing(bridge: &str) -> DesiredExport {
        DesiredExport {
            bridge: bridge.to_owned(),
            rows: [None, None, None],
            flow_sample: FlowSampleWant::RemoveOurs,
        }
    }

    /// The row of one protocol.
    pub fn get(&self, p: Protocol) -> Option<&ExporterRow> {
        self.rows.get(index(p)).and_then(Option::as_ref)
    }
}

fn option_columns(p: Protocol, o: &ExportOptions) -> BTreeMap<&'static str, ColumnValue> {
    use ColumnValue::*;
    let oi = |v: Option<u32>| OptInt(v.map(i64::from));
    let mut m = BTreeMap::new();
    match p {
        Protocol::NetFlow => {
            let n = &o.netflow;
            m.insert("active_timeout", Int(n.active_timeout));
            m.insert("engine_type", OptInt(n.engine_type.map(i64::from)));
            m.insert("engine_id", OptInt(n.engine_id.map(i64::from)));
            m.insert("add_id_to_interface", Bool(n.add_id_to_interface));
        }
        Protocol::SFlow => {
            let s = &o.sflow;
            m.insert("agent", OptString(s.agent.clone()));
            m.insert("sampling", oi(s.sampling));
            m.insert("polling", oi(s.polling));
            m.insert("header", oi(s.header));
        }
        Protocol::Ipfix => {
            let i = &o.ipfix;
            m.insert("sampling", oi(i.sampling));
            m.insert("cache_active_timeout", oi(i.cache_active_timeout));
            m.insert("cache_max_flows", oi(i.cache_max_flows));
            m.insert("obs_domain_id", oi(i.obs_domain_id));
            m.insert("obs_point_id", oi(i.obs_point_id));
            m.insert("template_interval", oi(i.template_interval));
        }
    }
    m
}

/// A row that exists in the database: its UUID and managed columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRow {
    /// The row's `_uuid`.
    pub uuid: String,
    /// The managed columns.
    pub row: ExporterRow,
    /// Something else also references the row (another bridge, or a
    /// `Flow_Sample_Collector_Set` for an IPFIX row): it is then never updated in place,
    /// a new row is created instead, so the other user keeps its settings.
    pub shared: bool,
}

/// A `Flow_Sample_Collector_Set` row of the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingFlowSample {
    /// The row's `_uuid`.
    pub uuid: String,
    /// Its `id`.
    pub id: u32,
    /// The IPFIX row it points at, if any.
    pub ipfix: Option<ExistingRow>,
    /// Marked as this crate's (external_ids [`FLOW_SAMPLE_OWNER_KEY`]).
    pub ours: bool,
}

/// What the bridge exports now, as read from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentExport {
    /// The bridge.
    pub bridge: String,
    /// The bridge row's `_uuid`.
    pub bridge_uuid: String,
    /// NetFlow, sFlow, IPFIX rows the bridge points at.
    pub rows: [Option<ExistingRow>; 3],
    /// The bridge's `netflow`, `sflow`, `ipfix` columns exactly as read (for the wait guard).
    pub raw_refs: [Value; 3],
    /// The bridge's `Flow_Sample_Collector_Set` rows (empty when the schema has none).
    pub flow_samples: Vec<ExistingFlowSample>,
}

impl CurrentExport {
    /// The row of one protocol.
    pub fn get(&self, p: Protocol) -> Option<&ExistingRow> {
        self.rows.get(index(p)).and_then(Option::as_ref)
    }

    /// The raw `Bridge` column of one protocol.
    pub fn raw_ref(&self, p: Protocol) -> &Value {
        const NULL: Value = Value::Null;
        self.raw_refs.get(index(p)).unwrap_or(&NULL)
    }

    /// Build from the results of the four `select`s made by [`read_operations`].
    pub fn from_results(
        bridge: &str,
        results: &[Value],
        schema: &SchemaInfo,
    ) -> Result<CurrentExport, Error> {
        let rows_of = |i: usize| -> &[Value] {
            results
                .get(i)
                .and_then(|r| r.get("rows"))
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[])
        };
        let brow = match rows_of(0) {
            [] => return Err(Error::BridgeNotFound(bridge.to_owned())),
            [b] => b,
            _ => {
                return Err(Error::BadData {
                    table: "Bridge",
                    column: "name",
                    value: format!("{} rows named {bridge:?}", rows_of(0).len()),
                });
            }
        };
        let bridge_uuid = uuid_of(brow.get("_uuid")).unwrap_or_default();
        let mut rows: [Option<ExistingRow>; 3] = [None, None, None];
        let mut raw_refs = [Value::Null, Value::Null, Value::Null];
        for (k, p) in Protocol::ALL.into_iter().enumerate() {
            let raw = brow.get(p.bridge_column()).cloned().unwrap_or(Value::Null);
            let target = uuid_of(Some(&raw));
            if let Some(slot) = raw_refs.get_mut(k) {
                *slot = raw;
            }
            let Some(target) = target else { continue };
            let found = rows_of(k + 1)
                .iter()
                .find(|r| uuid_of(r.get("_uuid")).as_deref() == Some(target.as_str()));
            let Some(found) = found else {
                return Err(Error::BadData {
                    table: "Bridge",
                    column: p.bridge_column(),
                    value: format!("points at missing {} row {target}", p.table()),
                });
            };
            let shared = rows_of(4)
                .iter()
                .chain(if p == Protocol::Ipfix {
                    rows_of(5)
                } else {
                    &[]
                })
                .any(|r| uuid_of(r.get(p.bridge_column())).as_deref() == Some(target.as_str()));
            if let Some(slot) = rows.get_mut(k) {
                *slot = Some(ExistingRow {
                    uuid: target,
                    row: exporter_row(p, found, schema)?,
                    shared,
                });
            }
        }
        let mut flow_samples = Vec::new();
        if schema.has(FSCS, "ipfix") {
            for r in rows_of(5) {
                if uuid_of(r.get("bridge")).as_deref() != Some(bridge_uuid.as_str()) {
                    continue;
                }
                let bad = |column, v: Option<&Value>| Error::BadData {
                    table: FSCS,
                    column,
                    value: v.map(Value::to_string).unwrap_or_default(),
                };
                let uuid = uuid_of(r.get("_uuid")).ok_or_else(|| bad("_uuid", r.get("_uuid")))?;
                let id = r
                    .get("id")
                    .and_then(Value::as_i64)
                    .and_then(|i| u32::try_from(i).ok())
                    .ok_or_else(|| bad("id", r.get("id")))?;
                let ipfix = match uuid_of(r.get("ipfix")) {
                    None => None,
                    Some(u) => {
                        let found = rows_of(3)
                            .iter()
                            .find(|x| uuid_of(x.get("_uuid")).as_deref() == Some(u.as_str()))
                            .ok_or_else(|| bad("ipfix", r.get("ipfix")))?;
                        Some(ExistingRow {
                            uuid: u,
                            row: exporter_row(Protocol::Ipfix, found, schema)?,
                            shared: false,
                        })
                    }
                };
                let ours = r
                    .get("external_ids")
                    .and_then(Value::as_array)
                    .and_then(|m| m.get(1))
                    .and_then(Value::as_array)
                    .is_some_and(|pairs| {
                        pairs.iter().any(|kv| {
                            kv.get(0).and_then(Value::as_str) == Some(FLOW_SAMPLE_OWNER_KEY)
                        })
                    });
                flow_samples.push(ExistingFlowSample {
                    uuid,
                    id,
                    ipfix,
                    ours,
                });
            }
        }
        Ok(CurrentExport {
            bridge: bridge.to_owned(),
            bridge_uuid,
            rows,
            raw_refs,
            flow_samples,
        })
    }

    /// The spec these rows implement (collectors sorted, as OVS stores them).
    pub fn to_spec(&self) -> ValidSpec {
        let mut spec = ValidSpec::default();
        for p in Protocol::ALL {
            if let Some(r) = self.get(p) {
                let parsed: Vec<_> = r
                    .row
                    .targets()
                    .iter()
                    .filter_map(|t| {
                        crate::spec::parse_collector(
                            t,
                            &crate::spec::ValidateOptions { allow_ipv6: true },
                        )
                        .ok()
                    })
                    .collect();
                *spec.get_mut(p) = Some(parsed);
            }
        }
        spec
    }

    /// The raw targets as stored (including any that this crate would not accept).
    pub fn targets(&self, p: Protocol) -> Option<BTreeSet<String>> {
        self.get(p).map(|r| r.row.targets())
    }

    /// The `Network` object these rows correspond to, which `apply` accepts back.
    ///
    /// Targets are shown exactly as OVS stores them (sorted), even ones this crate's
    /// validation would refuse, so nothing on the bridge is hidden.
    pub fn to_network(&self) -> Network {
        let mut model = ExportNetworkFlows::default();
        let mut any = false;
        for p in Protocol::ALL {
            if let Some(t) = self.targets(p) {
                any = true;
                *model.get_mut(p) = Some(CollectorConfig {
                    collectors: Some(t.into_iter().collect()),
                });
            }
        }
        Network::cluster(any.then_some(model))
    }

    /// The options these rows implement; protocols without a row keep the defaults.
    pub fn to_options(&self) -> ExportOptions {
        let mut o = ExportOptions {
            bridge: self.bridge.clone(),
            ..ExportOptions::default()
        };
        if let Some(r) = self.get(Protocol::NetFlow) {
            let r = &r.row;
            o.netflow = NetFlowOptions {
                active_timeout: r.opt_int("active_timeout").unwrap_or(0),
                engine_type: r.opt_u8("engine_type"),
                engine_id: r.opt_u8("engine_id"),
                add_id_to_interface: matches!(
                    r.get("add_id_to_interface"),
                    Some(ColumnValue::Bool(true))
                ),
            };
        }
        if let Some(r) = self.get(Protocol::SFlow) {
            let r = &r.row;
            o.sflow = SFlowOptions {
                agent: match r.get("agent") {
                    Some(ColumnValue::OptString(s)) => s.clone(),
                    _ => None,
                },
                sampling: r.opt_u32("sampling"),
                polling: r.opt_u32("polling"),
                header: r.opt_u32("header"),
            };
        }
        if let Some(r) = self.get(Protocol::Ipfix) {
            let r = &r.row;
            o.ipfix = IpfixOptions {
                sampling: r.opt_u32("sampling"),
                cache_active_timeout: r.opt_u32("cache_active_timeout"),
                cache_max_flows: r.opt_u32("cache_max_flows"),
                obs_domain_id: r.opt_u32("obs_domain_id"),
                obs_point_id: r.opt_u32("obs_point_id"),
                template_interval: r.opt_u32("template_interval"),
            };
        }
        o
    }
}

/// The managed columns of a selected row.
fn exporter_row(p: Protocol, found: &Value, schema: &SchemaInfo) -> Result<ExporterRow, Error> {
    let mut columns = BTreeMap::new();
    for (c, kind) in schema.managed(p) {
        let v = found.get(c).ok_or_else(|| Error::BadData {
            table: p.table(),
            column: c,
            value: "missing from select result".into(),
        })?;
        columns.insert(c, ColumnValue::from_ovsdb(kind, v, p.table(), c)?);
    }
    Ok(ExporterRow {
        protocol: p,
        columns,
    })
}

/// `["uuid", u]` → `u`.
fn uuid_of(v: Option<&Value>) -> Option<String> {
    match v?.as_array()?.as_slice() {
        [tag, Value::String(u)] if tag == "uuid" => Some(u.clone()),
        _ => None,
    }
}

/// The read transaction: the bridge's references and every row of the three tables
/// (they are small), so the state is one consistent snapshot.
///
/// Operations: the bridge; all NetFlow, sFlow, IPFIX rows; the other bridges' references;
/// and, when the schema has the table, the `Flow_Sample_Collector_Set` rows (to spot
/// shared IPFIX rows, and for the per-flow sampling this crate manages).
pub fn read_operations(bridge: &str, schema: &SchemaInfo) -> Vec<Value> {
    let name = || Value::String(bridge.to_owned());
    let mut ops = vec![op::select(
        "Bridge",
        vec![op::cond("name", "==", name())],
        &["_uuid", "name", "netflow", "sflow", "ipfix"],
    )];
    for p in Protocol::ALL {
        let mut cols: Vec<&str> = vec!["_uuid"];
        cols.extend(schema.managed(p).iter().map(|(c, _)| *c));
        ops.push(op::select(p.table(), vec![], &cols));
    }
    ops.push(op::select(
        "Bridge",
        vec![op::cond("name", "!=", name())],
        &["netflow", "sflow", "ipfix"],
    ));
    if schema.has(FSCS, "ipfix") {
        let cols: Vec<&str> = ["_uuid", "id", "bridge", "ipfix", "external_ids"]
            .into_iter()
            .filter(|c| *c == "_uuid" || schema.has(FSCS, c))
            .collect();
        ops.push(op::select(FSCS, vec![], &cols));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decode_values() {
        let k = |kind, v: Value| ColumnValue::from_ovsdb(kind, &v, "T", "c").unwrap();
        assert_eq!(
            k(ColumnKind::Strings, json!("1.2.3.4:5")),
            ColumnValue::Strings(["1.2.3.4:5".to_owned()].into())
        );
        assert_eq!(
            k(ColumnKind::Strings, json!(["set", ["a", "b"]])),
            ColumnValue::Strings(["a".to_owned(), "b".to_owned()].into())
        );
        assert_eq!(
            k(ColumnKind::OptInt, json!(["set", []])),
            ColumnValue::OptInt(None)
        );
        assert_eq!(
            k(ColumnKind::OptInt, json!(400)),
            ColumnValue::OptInt(Some(400))
        );
        assert_eq!(k(ColumnKind::Int, json!(60)), ColumnValue::Int(60));
        assert_eq!(k(ColumnKind::Bool, json!(false)), ColumnValue::Bool(false));
        assert_eq!(
            k(ColumnKind::OptString, json!("ovn-k8s-mp0")),
            ColumnValue::OptString(Some("ovn-k8s-mp0".into()))
        );
        for (kind, v) in [
            (ColumnKind::Int, json!("x")),
            (ColumnKind::OptInt, json!(["set", [1, 2]])),
            (ColumnKind::Strings, json!(["set", [1]])),
            (ColumnKind::Bool, json!(["set", []])),
        ] {
            assert!(ColumnValue::from_ovsdb(kind, &v, "T", "c").is_err());
        }
    }

    #[test]
    fn vsctl_syntax() {
        let t = ColumnValue::Strings(["1.2.3.4:5".to_owned(), "[::1]:6".to_owned()].into());
        assert_eq!(t.to_vsctl().unwrap(), r#"["1.2.3.4:5","[::1]:6"]"#);
        assert_eq!(t.to_ovsdb(), json!(["set", ["1.2.3.4:5", "[::1]:6"]]));
        assert_eq!(ColumnValue::OptInt(None).to_vsctl(), None);
        assert_eq!(
            ColumnValue::OptString(Some("a b".into()))
                .to_vsctl()
                .unwrap(),
            "\"a b\""
        );
    }

    #[test]
    fn desired_rows_and_unsupported_columns() {
        let (_, spec) = crate::spec::load_spec(
            "netFlow: {collectors: [\"1.2.3.4:2056\"]}\nipfix: {collectors: [\"1.2.3.4:4739\"]}\n",
            "t",
            &Default::default(),
        )
        .unwrap();
        let d = DesiredExport::new(&spec, &ExportOptions::default(), &SchemaInfo::everything())
            .unwrap();
        let nf = d.get(Protocol::NetFlow).unwrap();
        assert_eq!(
            serde_json::Value::Object(nf.insert_row()),
            json!({"targets": ["set", ["1.2.3.4:2056"]], "active_timeout": 60, "add_id_to_interface": false})
        );
        let ipx = d.get(Protocol::Ipfix).unwrap();
        assert_eq!(
            serde_json::Value::Object(ipx.insert_row()),
            json!({"targets": ["set", ["1.2.3.4:4739"]], "sampling": 400, "cache_active_timeout": 60})
        );
        assert!(d.get(Protocol::SFlow).is_none());

        let mut schema = SchemaInfo::everything();
        schema
            .columns
            .get_mut("IPFIX")
            .unwrap()
            .remove("template_interval");
        // Unset: silently dropped.
        let d = DesiredExport::new(&spec, &ExportOptions::default(), &schema).unwrap();
        assert!(
            d.get(Protocol::Ipfix)
                .unwrap()
                .get("template_interval")
                .is_none()
        );
        let mut o = ExportOptions::default();
        o.ipfix.template_interval = Some(60);
        assert!(matches!(
            DesiredExport::new(&spec, &o, &schema),
            Err(Error::Unsupported {
                column: "template_interval",
                ..
            })
        ));
    }

    #[test]
    fn integer_ranges_come_from_the_servers_schema() {
        let schema = SchemaInfo::from_schema(&json!({
            "version": "9.9.9",
            "tables": {"IPFIX": {"columns": {
                "targets": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
                "sampling": {"type": {"key": {"type": "integer", "minInteger": 1,
                    "maxInteger": 4294967295_i64}, "min": 0, "max": 1}},
                "cache_active_timeout": {"type": {"key": {"type": "integer",
                    "minInteger": 0, "maxInteger": 100}, "min": 0, "max": 1}},
                "obs_domain_id": {"type": {"key": "integer", "min": 0, "max": 1}}
            }}}
        }));
        assert_eq!(schema.int_range("IPFIX", "sampling"), Some((1, 4294967295)));
        assert_eq!(schema.int_range("IPFIX", "obs_domain_id"), None);
        let (_, spec) = crate::spec::load_spec(
            "ipfix: {collectors: [\"1.2.3.4:4739\"]}\n",
            "t",
            &Default::default(),
        )
        .unwrap();
        // Default cache_active_timeout 60 fits 0-100.
        assert!(DesiredExport::new(&spec, &ExportOptions::default(), &schema).is_ok());
        let mut o = ExportOptions::default();
        o.ipfix.cache_active_timeout = Some(101);
        let Err(Error::Invalid(d)) = DesiredExport::new(&spec, &o, &schema) else {
            panic!()
        };
        assert_eq!(
            d.to_string(),
            "error: ipfix.cache_active_timeout: 101: must be 0-100 (the server's \
             Open_vSwitch schema 9.9.9)"
        );
    }
}
