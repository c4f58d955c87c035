//! The difference between what a bridge exports and what it should export, and the ONE
//! transaction (or the equivalent `ovs-vsctl` command line) that closes it.

use std::fmt;

use serde_json::{Map, Value, json};

use crate::ovsdb::op;
use crate::rows::{
    ColumnValue, CurrentExport, DesiredExport, ExporterRow, FLOW_SAMPLE_OWNER_KEY,
    FLOW_SAMPLE_OWNER_VALUE, FSCS, FlowSampleWant,
};
use crate::spec::Protocol;

/// One change to one protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Insert a row and point the bridge at it.
    Create {
        /// Which protocol.
        protocol: Protocol,
        /// The row to insert.
        row: ExporterRow,
    },
    /// Update the existing row in place (its UUID, and so OVS's exporter state, is kept).
    Update {
        /// Which protocol.
        protocol: Protocol,
        /// The row's UUID.
        uuid: String,
        /// Changed columns: (column, old value, new value).
        columns: Vec<(&'static str, ColumnValue, ColumnValue)>,
    },
    /// Clear the bridge's reference; OVS garbage-collects the unreferenced row.
    Remove {
        /// Which protocol.
        protocol: Protocol,
        /// The row's UUID.
        uuid: String,
        /// The row as it was.
        row: ExporterRow,
    },
    /// Insert a `Flow_Sample_Collector_Set` (marked as this crate's) on the bridge, with
    /// its own new IPFIX row.
    FlowSampleCreate {
        /// The collector set id.
        id: u32,
        /// The IPFIX row to insert.
        row: ExporterRow,
    },
    /// Update the IPFIX row of this crate's `Flow_Sample_Collector_Set` in place.
    FlowSampleUpdate {
        /// The collector set id.
        id: u32,
        /// The IPFIX row's UUID.
        ipfix_uuid: String,
        /// Changed columns: (column, old value, new value).
        columns: Vec<(&'static str, ColumnValue, ColumnValue)>,
    },
    /// Delete this crate's `Flow_Sample_Collector_Set` (a root row; OVS then
    /// garbage-collects its IPFIX row).
    FlowSampleRemove {
        /// The collector set id.
        id: u32,
        /// The row's UUID.
        uuid: String,
    },
}

impl Change {
    /// The protocol this change is about.
    pub fn protocol(&self) -> Protocol {
        match self {
            Change::Create { protocol, .. }
            | Change::Update { protocol, .. }
            | Change::Remove { protocol, .. } => *protocol,
            Change::FlowSampleCreate { .. }
            | Change::FlowSampleUpdate { .. }
            | Change::FlowSampleRemove { .. } => Protocol::Ipfix,
        }
    }
}

/// Everything to change on one bridge; empty when the bridge already exports what is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The bridge.
    pub bridge: String,
    /// The changes, in protocol order.
    pub changes: Vec<Change>,
    /// The protocols that are already as wanted and configured.
    pub unchanged: Vec<Protocol>,
    /// The bridge's `netflow`, `sflow`, `ipfix` columns as read (the transaction waits for
    /// them to be still the same, so a concurrent change makes it fail instead of being lost).
    /// `None` for a [`Plan::blind`] plan, which only checks that the bridge exists.
    guard: Option<[Value; 3]>,
    /// The bridge row's UUID (a new `Flow_Sample_Collector_Set` refers to it); `None` for a
    /// [`Plan::blind`] plan, whose transaction then leaves flow sampling out.
    bridge_uuid: Option<String>,
    /// The id of this crate's `Flow_Sample_Collector_Set` when it is already as wanted.
    pub flow_sample_unchanged: Option<u32>,
}

fn row_label(uuid: &str) -> &str {
    uuid.get(..8).unwrap_or(uuid)
}

impl Plan {
    /// Compare `desired` with `current` (the same bridge).
    pub fn new(desired: &DesiredExport, current: &CurrentExport) -> Plan {
        let mut changes = Vec::new();
        let mut unchanged = Vec::new();
        for p in Protocol::ALL {
            match (desired.get(p), current.get(p)) {
                (None, None) => {}
                (Some(want), None) => changes.push(Change::Create {
                    protocol: p,
                    row: want.clone(),
                }),
                (None, Some(have)) => changes.push(Change::Remove {
                    protocol: p,
                    uuid: have.uuid.clone(),
                    row: have.row.clone(),
                }),
                (Some(want), Some(have)) => {
                    let cols: Vec<_> = want
                        .ordered()
                        .into_iter()
                        .filter_map(|(c, new)| {
                            let old = have.row.get(c)?;
                            (old != new).then(|| (c, old.clone(), new.clone()))
                        })
                        .collect();
                    if cols.is_empty() {
                        unchanged.push(p);
                    } else if have.shared {
                        // Someone else uses this row too: leave it to them.
                        changes.push(Change::Create {
                            protocol: p,
                            row: want.clone(),
                        });
                    } else {
                        changes.push(Change::Update {
                            protocol: p,
                            uuid: have.uuid.clone(),
                            columns: cols,
                        });
                    }
                }
            }
        }
        let flow_sample_unchanged = flow_sample_changes(desired, current, &mut changes);
        Plan {
            bridge: desired.bridge.clone(),
            changes,
            unchanged,
            guard: Some([
                current.raw_ref(Protocol::NetFlow).clone(),
                current.raw_ref(Protocol::SFlow).clone(),
                current.raw_ref(Protocol::Ipfix).clone(),
            ]),
            bridge_uuid: Some(current.bridge_uuid.clone()),
            flow_sample_unchanged,
        }
    }

    /// A plan made without knowing the current state (the database could not be read):
    /// create a row for every configured protocol and clear the others. Correct from any
    /// state, but not idempotent (rows are always new), so only meant for showing the
    /// `ovs-vsctl` command of a dry run.
    pub fn blind(desired: &DesiredExport) -> Plan {
        let changes = Protocol::ALL
            .into_iter()
            .map(|p| match desired.get(p) {
                Some(row) => Change::Create {
                    protocol: p,
                    row: row.clone(),
                },
                None => Change::Remove {
                    protocol: p,
                    uuid: String::new(),
                    row: ExporterRow {
                        protocol: p,
                        columns: Default::default(),
                    },
                },
            })
            .collect();
        let mut changes: Vec<Change> = changes;
        if let FlowSampleWant::Ensure { id, row } = &desired.flow_sample {
            changes.push(Change::FlowSampleCreate {
                id: *id,
                row: row.clone(),
            });
        }
        Plan {
            bridge: desired.bridge.clone(),
            changes,
            unchanged: Vec::new(),
            guard: None,
            bridge_uuid: None,
            flow_sample_unchanged: None,
        }
    }

    /// `true` when nothing needs to change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The `uuid-name` used for a row inserted for `p`.
    pub fn uuid_name(p: Protocol) -> &'static str {
        match p {
            Protocol::NetFlow => "flowwire_netflow",
            Protocol::SFlow => "flowwire_sflow",
            Protocol::Ipfix => "flowwire_ipfix",
        }
    }

    /// The operations of the single transaction that applies the plan (empty when there is
    /// nothing to do):
    /// 1. `wait` (timeout 0) that the bridge exists and its three columns are as read;
    /// 2. `insert` new rows (named), `update` changed rows in place;
    /// 3. `update` the bridge's columns (new references, cleared references);
    /// 4. `mutate` `Open_vSwitch` `next_cfg += 1`, then `select` `next_cfg`.
    pub fn operations(&self) -> Vec<Value> {
        if self.is_empty() {
            return Vec::new();
        }
        let by_name = || vec![op::cond("name", "==", Value::String(self.bridge.clone()))];
        let mut guard_row = Map::new();
        guard_row.insert("name".into(), Value::String(self.bridge.clone()));
        let mut guard_cols = vec!["name"];
        if let Some(guard) = &self.guard {
            for (p, v) in Protocol::ALL.iter().zip(guard) {
                guard_row.insert(p.bridge_column().into(), v.clone());
                guard_cols.push(p.bridge_column());
            }
        }
        let mut ops = vec![op::wait(
            "Bridge",
            by_name(),
            &guard_cols,
            "==",
            vec![Value::Object(guard_row)],
            0,
        )];
        let mut bridge_row = Map::new();
        for c in &self.changes {
            match c {
                Change::Create { protocol, row } => {
                    let name = Plan::uuid_name(*protocol);
                    ops.push(op::insert(protocol.table(), row.insert_row(), Some(name)));
                    bridge_row.insert(protocol.bridge_column().into(), op::named_uuid(name));
                }
                Change::Update {
                    protocol,
                    uuid,
                    columns,
                } => {
                    let row: Map<String, Value> = columns
                        .iter()
                        .map(|(c, _, new)| ((*c).to_owned(), new.to_ovsdb()))
                        .collect();
                    ops.push(op::update(
                        protocol.table(),
                        vec![op::cond("_uuid", "==", op::uuid(uuid))],
                        row,
                    ));
                }
                Change::Remove { protocol, .. } => {
                    bridge_row.insert(protocol.bridge_column().into(), op::empty_set());
                }
                Change::FlowSampleCreate { id, row } => {
                    // Without the bridge's UUID (a blind plan) there is nothing to refer to.
                    let Some(bridge_uuid) = &self.bridge_uuid else {
                        continue;
                    };
                    ops.push(op::insert("IPFIX", row.insert_row(), Some(FSCS_IPFIX_NAME)));
                    let mut fscs = Map::new();
                    fscs.insert("id".into(), Value::from(*id));
                    fscs.insert("bridge".into(), op::uuid(bridge_uuid));
                    fscs.insert("ipfix".into(), op::named_uuid(FSCS_IPFIX_NAME));
                    fscs.insert(
                        "external_ids".into(),
                        json!(["map", [[FLOW_SAMPLE_OWNER_KEY, FLOW_SAMPLE_OWNER_VALUE]]]),
                    );
                    ops.push(op::insert(FSCS, fscs, None));
                }
                Change::FlowSampleUpdate {
                    ipfix_uuid,
                    columns,
                    ..
                } => {
                    let row: Map<String, Value> = columns
                        .iter()
                        .map(|(c, _, new)| ((*c).to_owned(), new.to_ovsdb()))
                        .collect();
                    ops.push(op::update(
                        "IPFIX",
                        vec![op::cond("_uuid", "==", op::uuid(ipfix_uuid))],
                        row,
                    ));
                }
                Change::FlowSampleRemove { uuid, .. } => {
                    ops.push(op::delete(
                        FSCS,
                        vec![op::cond("_uuid", "==", op::uuid(uuid))],
                    ));
                }
            }
        }
        if !bridge_row.is_empty() {
            ops.push(op::update("Bridge", by_name(), bridge_row));
        }
        ops.push(op::mutate(
            "Open_vSwitch",
            vec![],
            vec![json!(["next_cfg", "+=", 1])],
        ));
        ops.push(op::select("Open_vSwitch", vec![], &["next_cfg"]));
        ops
    }

    /// The `ovs-vsctl` commands (after the global options) that make the same change in one
    /// `ovs-vsctl` invocation, each starting with `--`. Empty when there is nothing to do.
    pub fn vsctl_commands(&self) -> Vec<Vec<String>> {
        let mut cmds: Vec<Vec<String>> = Vec::new();
        let mut attach: Vec<String> = Vec::new();
        let mut detach: Vec<String> = Vec::new();
        let mut flow_sampling: Vec<Vec<String>> = Vec::new();
        for c in &self.changes {
            match c {
                Change::Create { protocol, row } => {
                    let id = format!("@{}", protocol.bridge_column());
                    let mut cmd = vec![
                        "--".to_owned(),
                        format!("--id={id}"),
                        "create".to_owned(),
                        protocol.table().to_owned(),
                    ];
                    for (col, v) in row.ordered() {
                        if let Some(s) = v.to_vsctl() {
                            cmd.push(format!("{col}={s}"));
                        }
                    }
                    cmds.push(cmd);
                    attach.push(format!("{}={id}", protocol.bridge_column()));
                }
                Change::Update {
                    protocol,
                    uuid,
                    columns,
                } => {
                    cmds.extend(set_and_clear(protocol.table(), uuid, columns));
                }
                Change::Remove { protocol, .. } => {
                    detach.push(protocol.bridge_column().to_owned());
                }
                Change::FlowSampleCreate { id, row } => {
                    let mut ipfix = vec![
                        "--".to_owned(),
                        "--id=@fscs_ipfix".to_owned(),
                        "create".to_owned(),
                        "IPFIX".to_owned(),
                    ];
                    for (col, v) in row.ordered() {
                        if let Some(s) = v.to_vsctl() {
                            ipfix.push(format!("{col}={s}"));
                        }
                    }
                    flow_sampling.push(vec![
                        "--".to_owned(),
                        "--id=@fscs_bridge".to_owned(),
                        "get".to_owned(),
                        "Bridge".to_owned(),
                        self.bridge.clone(),
                    ]);
                    flow_sampling.push(ipfix);
                    flow_sampling.push(vec![
                        "--".to_owned(),
                        "create".to_owned(),
                        FSCS.to_owned(),
                        format!("id={id}"),
                        "bridge=@fscs_bridge".to_owned(),
                        "ipfix=@fscs_ipfix".to_owned(),
                        format!("external_ids:{FLOW_SAMPLE_OWNER_KEY}={FLOW_SAMPLE_OWNER_VALUE}"),
                    ]);
                }
                Change::FlowSampleUpdate {
                    ipfix_uuid,
                    columns,
                    ..
                } => {
                    flow_sampling.extend(set_and_clear("IPFIX", ipfix_uuid, columns));
                }
                Change::FlowSampleRemove { uuid, .. } => {
                    flow_sampling.push(vec![
                        "--".to_owned(),
                        "destroy".to_owned(),
                        FSCS.to_owned(),
                        uuid.clone(),
                    ]);
                }
            }
        }
        if !attach.is_empty() {
            let mut cmd = vec![
                "--".to_owned(),
                "set".to_owned(),
                "Bridge".to_owned(),
                self.bridge.clone(),
            ];
            cmd.extend(attach);
            cmds.push(cmd);
        }
        if !detach.is_empty() {
            let mut cmd = vec![
                "--".to_owned(),
                "clear".to_owned(),
                "Bridge".to_owned(),
                self.bridge.clone(),
            ];
            cmd.extend(detach);
            cmds.push(cmd);
        }
        cmds.extend(flow_sampling);
        cmds
    }

    /// The full `ovs-vsctl` argument vector (program name first): `global` options (such as
    /// `--db=...`, `--no-wait`), then [`Plan::vsctl_commands`]. Empty when nothing to do.
    pub fn vsctl_argv(&self, global: &[String]) -> Vec<String> {
        let cmds = self.vsctl_commands();
        if cmds.is_empty() {
            return Vec::new();
        }
        let mut argv = vec!["ovs-vsctl".to_owned()];
        argv.extend(global.iter().cloned());
        argv.extend(cmds.into_iter().flatten());
        argv
    }

    /// The `ovs-vsctl` command as shell text, one command per line (backslash
    /// continuations), every argument quoted for a POSIX shell where needed.
    pub fn vsctl_script(&self, global: &[String]) -> String {
        let cmds = self.vsctl_commands();
        if cmds.is_empty() {
            return format!("# bridge {}: nothing to change\n", self.bridge);
        }
        let mut out = String::from("ovs-vsctl");
        for g in global {
            out.push(' ');
            out.push_str(&shell_quote(g));
        }
        for cmd in cmds {
            out.push_str(" \\\n   ");
            for a in cmd {
                out.push(' ');
                out.push_str(&shell_quote(&a));
            }
        }
        out.push('\n');
        out
    }
}

/// The name of the IPFIX row inserted for a `Flow_Sample_Collector_Set`.
const FSCS_IPFIX_NAME: &str = "flowwire_fscs_ipfix";

/// `ovs-vsctl` commands updating `columns` of a row in place: `set` for values, `clear` for
/// unset ones.
fn set_and_clear(
    table: &str,
    uuid: &str,
    columns: &[(&'static str, ColumnValue, ColumnValue)],
) -> Vec<Vec<String>> {
    let set: Vec<String> = columns
        .iter()
        .filter_map(|(c, _, new)| new.to_vsctl().map(|s| format!("{c}={s}")))
        .collect();
    let clear: Vec<String> = columns
        .iter()
        .filter(|(_, _, new)| new.is_unset())
        .map(|(c, _, _)| (*c).to_owned())
        .collect();
    let mut cmds = Vec::new();
    for (verb, args) in [("set", set), ("clear", clear)] {
        if !args.is_empty() {
            let mut cmd = vec![
                "--".to_owned(),
                verb.to_owned(),
                table.to_owned(),
                uuid.to_owned(),
            ];
            cmd.extend(args);
            cmds.push(cmd);
        }
    }
    cmds
}

/// The changed managed columns between two rows of a table: (column, old, new).
fn changed_columns(
    want: &ExporterRow,
    have: &ExporterRow,
) -> Vec<(&'static str, ColumnValue, ColumnValue)> {
    want.ordered()
        .into_iter()
        .filter_map(|(c, new)| {
            let old = have.get(c)?;
            (old != new).then(|| (c, old.clone(), new.clone()))
        })
        .collect()
}

/// Push the changes to this crate's `Flow_Sample_Collector_Set` rows; the id of the row
/// that is already as wanted, if any.
fn flow_sample_changes(
    desired: &DesiredExport,
    current: &CurrentExport,
    changes: &mut Vec<Change>,
) -> Option<u32> {
    let ours = current.flow_samples.iter().filter(|f| f.ours);
    match &desired.flow_sample {
        FlowSampleWant::Leave => None,
        FlowSampleWant::RemoveOurs => {
            changes.extend(ours.map(|f| Change::FlowSampleRemove {
                id: f.id,
                uuid: f.uuid.clone(),
            }));
            None
        }
        FlowSampleWant::Ensure { id, row } => {
            let mut unchanged = None;
            let mut found = false;
            for f in ours {
                match (&f.ipfix, f.id == *id && !found) {
                    (Some(have), true) => {
                        found = true;
                        let columns = changed_columns(row, &have.row);
                        if columns.is_empty() {
                            unchanged = Some(*id);
                        } else {
                            changes.push(Change::FlowSampleUpdate {
                                id: *id,
                                ipfix_uuid: have.uuid.clone(),
                                columns,
                            });
                        }
                    }
                    // Another id (the option changed), a duplicate, or no IPFIX row: gone,
                    // and recreated below if needed.
                    _ => changes.push(Change::FlowSampleRemove {
                        id: f.id,
                        uuid: f.uuid.clone(),
                    }),
                }
            }
            if !found {
                changes.push(Change::FlowSampleCreate {
                    id: *id,
                    row: row.clone(),
                });
            }
            unchanged
        }
    }
}

/// Quote `s` for a POSIX shell (single quotes unless it only has safe characters).
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'/' | b'=' | b'@' | b':' | b',' | b'+'
                )
        });
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl fmt::Display for Plan {
    /// A readable diff: `+` create, `~` update (old -> new per column), `-` remove,
    /// `=` unchanged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            write!(f, "bridge {}: up to date", self.bridge)?;
            let mut names: Vec<String> = self
                .unchanged
                .iter()
                .map(|p| p.spec_field().to_owned())
                .collect();
            if let Some(id) = self.flow_sample_unchanged {
                names.push(format!("flow sampling set {id}"));
            }
            if !names.is_empty() {
                write!(f, " ({})", names.join(", "))?;
            }
            return Ok(());
        }
        write!(f, "bridge {}:", self.bridge)?;
        for c in &self.changes {
            match c {
                Change::Create { protocol, row } => {
                    write!(f, "\n+ {protocol}: new {} row", protocol.table())?;
                    for (col, v) in row.ordered() {
                        if !v.is_unset() {
                            write!(f, " {col}={v}")?;
                        }
                    }
                }
                Change::Update {
                    protocol,
                    uuid,
                    columns,
                } => {
                    write!(
                        f,
                        "\n~ {protocol}: {} row {}",
                        protocol.table(),
                        row_label(uuid)
                    )?;
                    for (col, old, new) in columns {
                        write!(f, "\n    {col}: {old} -> {new}")?;
                    }
                }
                Change::Remove { protocol, uuid, .. } if uuid.is_empty() => {
                    write!(f, "\n- {protocol}: clear whatever the bridge has")?;
                }
                Change::Remove {
                    protocol,
                    uuid,
                    row,
                } => {
                    write!(
                        f,
                        "\n- {protocol}: detach {} row {} (targets {})",
                        protocol.table(),
                        row_label(uuid),
                        row.get("targets")
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    )?;
                }
                Change::FlowSampleCreate { id, row } => {
                    write!(f, "\n+ flow sampling: new {FSCS} id {id} with an IPFIX row")?;
                    for (col, v) in row.ordered() {
                        if !v.is_unset() {
                            write!(f, " {col}={v}")?;
                        }
                    }
                }
                Change::FlowSampleUpdate {
                    id,
                    ipfix_uuid,
                    columns,
                } => {
                    write!(
                        f,
                        "\n~ flow sampling: {FSCS} id {id}, IPFIX row {}",
                        row_label(ipfix_uuid)
                    )?;
                    for (col, old, new) in columns {
                        write!(f, "\n    {col}: {old} -> {new}")?;
                    }
                }
                Change::FlowSampleRemove { id, uuid } => {
                    write!(
                        f,
                        "\n- flow sampling: delete {FSCS} id {id} (row {})",
                        row_label(uuid)
                    )?;
                }
            }
        }
        for p in &self.unchanged {
            write!(f, "\n= {p}: unchanged")?;
        }
        if let Some(id) = self.flow_sample_unchanged {
            write!(f, "\n= flow sampling: {FSCS} id {id} unchanged")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ExportOptions;
    use crate::rows::{ExistingRow, SchemaInfo};
    use crate::spec::{ValidateOptions, load_spec};

    fn desired(text: &str, opts: &ExportOptions) -> DesiredExport {
        let (_, spec) = load_spec(text, "t", &ValidateOptions::default()).unwrap();
        DesiredExport::new(&spec, opts, &SchemaInfo::everything()).unwrap()
    }

    fn empty_current() -> CurrentExport {
        CurrentExport {
            bridge: "br-int".into(),
            bridge_uuid: "b".into(),
            rows: [None, None, None],
            raw_refs: [json!(["set", []]), json!(["set", []]), json!(["set", []])],
            flow_samples: Vec::new(),
        }
    }

    /// The current state equal to `d`, with made-up UUIDs.
    fn current_from(d: &DesiredExport) -> CurrentExport {
        let mut c = empty_current();
        for (i, p) in Protocol::ALL.into_iter().enumerate() {
            if let Some(r) = d.get(p) {
                let uuid = format!("0000000{i}-0000-0000-0000-000000000000");
                c.raw_refs[i] = json!(["uuid", uuid]);
                c.rows[i] = Some(ExistingRow {
                    uuid,
                    row: r.clone(),
                    shared: false,
                });
            }
        }
        c
    }

    const ALL3: &str = "netFlow: {collectors: [\"192.168.1.99:2056\"]}\n\
                        sFlow: {collectors: [\"192.168.1.99:6343\"]}\n\
                        ipfix: {collectors: [\"192.168.1.99:4739\"]}\n";

    #[test]
    fn create_all_is_one_transaction() {
        let d = desired(ALL3, &ExportOptions::default());
        let plan = Plan::new(&d, &empty_current());
        let ops = plan.operations();
        let names: Vec<&str> = ops.iter().map(|o| o["op"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "wait", "insert", "insert", "insert", "update", "mutate", "select"
            ]
        );
        assert_eq!(ops[0]["timeout"], 0);
        assert_eq!(
            ops[0]["rows"],
            json!([{"name": "br-int", "netflow": ["set", []], "sflow": ["set", []], "ipfix": ["set", []]}])
        );
        assert_eq!(ops[1]["table"], "NetFlow");
        assert_eq!(ops[1]["uuid-name"], "flowwire_netflow");
        assert_eq!(ops[2]["row"]["agent"], "ovn-k8s-mp0");
        assert_eq!(
            ops[4]["row"],
            json!({"netflow": ["named-uuid", "flowwire_netflow"],
                   "sflow": ["named-uuid", "flowwire_sflow"],
                   "ipfix": ["named-uuid", "flowwire_ipfix"]})
        );
        assert_eq!(ops[4]["where"], json!([["name", "==", "br-int"]]));
        assert_eq!(ops[5]["mutations"], json!([["next_cfg", "+=", 1]]));
    }

    #[test]
    fn same_spec_is_a_no_op() {
        let d = desired(ALL3, &ExportOptions::default());
        let plan = Plan::new(&d, &current_from(&d));
        assert!(plan.is_empty());
        assert!(plan.operations().is_empty());
        assert!(plan.vsctl_commands().is_empty());
        assert_eq!(plan.unchanged.len(), 3);
        assert_eq!(
            plan.to_string(),
            "bridge br-int: up to date (netFlow, sFlow, ipfix)"
        );
    }

    #[test]
    fn change_updates_in_place_and_removes() {
        let before = desired(ALL3, &ExportOptions::default());
        let cur = current_from(&before);
        let mut opts = ExportOptions::default();
        opts.sflow.sampling = Some(1000);
        opts.sflow.agent = None;
        let after = desired(
            "netFlow: {collectors: [\"192.168.1.99:2056\", \"10.0.0.1:2056\"]}\n\
             sFlow: {collectors: [\"192.168.1.99:6343\"]}\n",
            &opts,
        );
        let plan = Plan::new(&after, &cur);
        let ops = plan.operations();
        let names: Vec<&str> = ops.iter().map(|o| o["op"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["wait", "update", "update", "update", "mutate", "select"]
        );
        assert_eq!(
            ops[1]["where"],
            json!([[
                "_uuid",
                "==",
                ["uuid", "00000000-0000-0000-0000-000000000000"]
            ]])
        );
        assert_eq!(
            ops[1]["row"],
            json!({"targets": ["set", ["10.0.0.1:2056", "192.168.1.99:2056"]]})
        );
        assert_eq!(
            ops[2]["row"],
            json!({"agent": ["set", []], "sampling": 1000})
        );
        assert_eq!(ops[3]["table"], "Bridge");
        assert_eq!(ops[3]["row"], json!({"ipfix": ["set", []]}));
        // The guard expects the bridge exactly as read.
        assert_eq!(
            ops[0]["rows"][0]["netflow"],
            json!(["uuid", "00000000-0000-0000-0000-000000000000"])
        );

        let cmds = plan.vsctl_commands();
        let lines: Vec<String> = cmds.iter().map(|c| c.join(" ")).collect();
        assert_eq!(
            lines,
            [
                r#"-- set NetFlow 00000000-0000-0000-0000-000000000000 targets=["10.0.0.1:2056","192.168.1.99:2056"]"#,
                "-- set sFlow 00000001-0000-0000-0000-000000000000 sampling=1000",
                "-- clear sFlow 00000001-0000-0000-0000-000000000000 agent",
                "-- clear Bridge br-int ipfix",
            ]
        );
        let text = plan.to_string();
        assert!(text.contains("~ netFlow: NetFlow row 00000000"), "{text}");
        assert!(
            text.contains("    agent: \"ovn-k8s-mp0\" -> (unset)"),
            "{text}"
        );
        assert!(
            text.contains("- ipfix: detach IPFIX row 00000002"),
            "{text}"
        );
    }

    #[test]
    fn clear_plan_and_vsctl_script() {
        let before = desired(ALL3, &ExportOptions::default());
        let plan = Plan::new(&DesiredExport::nothing("br-int"), &current_from(&before));
        let ops = plan.operations();
        assert_eq!(
            ops[1]["row"],
            json!({"netflow": ["set", []], "sflow": ["set", []], "ipfix": ["set", []]})
        );
        assert_eq!(
            plan.vsctl_script(&["--no-wait".into()]),
            "ovs-vsctl --no-wait \\\n    -- clear Bridge br-int netflow sflow ipfix\n"
        );
        let create = Plan::new(&before, &empty_current());
        let script = create.vsctl_script(&[]);
        assert!(
            script.contains(
                r#"-- --id=@netflow create NetFlow 'targets=["192.168.1.99:2056"]' active_timeout=60 add_id_to_interface=false"#
            ),
            "{script}"
        );
        assert!(script.contains("-- set Bridge br-int netflow=@netflow sflow=@sflow ipfix=@ipfix"));
        assert_eq!(shell_quote("it's"), r"'it'\''s'");

        let mut one = before.clone();
        one.rows[1] = None;
        one.rows[2] = None;
        let blind = Plan::blind(&one);
        let lines: Vec<String> = blind.vsctl_commands().iter().map(|c| c.join(" ")).collect();
        assert_eq!(
            lines[1..],
            [
                "-- set Bridge br-int netflow=@netflow".to_owned(),
                "-- clear Bridge br-int sflow ipfix".to_owned()
            ]
        );
        let ops = blind.operations();
        assert_eq!(ops[0]["columns"], json!(["name"]));
        assert!(
            blind
                .to_string()
                .contains("- sFlow: clear whatever the bridge has")
        );
        assert_eq!(shell_quote(""), "''");
    }
}
