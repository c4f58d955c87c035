//! Read, apply and clear a bridge's flow export over OVSDB.

use std::collections::BTreeMap;
use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Diagnostic, Diagnostics, Error, OvsdbError};
use crate::health::{ConfigState, IpfixStats};
use crate::options::ExportOptions;
use crate::ovsdb::{Client, Endpoint, OPEN_VSWITCH_DB, op};
use crate::plan::Plan;
use crate::rows::{CurrentExport, DesiredExport, FlowSampleWant, SchemaInfo, read_operations};
use crate::spec::{Network, Protocol, ValidSpec, ValidateOptions, load_spec};

/// A validated spec with its options: everything [`Configurator::apply`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredConfig {
    /// The collectors (and any warnings found while validating them).
    pub spec: ValidSpec,
    /// The bridge and the per-protocol settings.
    pub options: ExportOptions,
}

/// Settings given outside the options document (on a command line) that take precedence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The bridge, instead of the options' `bridge`.
    pub bridge: Option<String>,
    /// Accept sampling every packet ([`ExportOptions::force_sample_all`]).
    pub force_sample_all: bool,
    /// Manage a `Flow_Sample_Collector_Set` with this id
    /// ([`ExportOptions::flow_sample_collector_set`]).
    pub flow_sample_collector_set: Option<u32>,
}

impl DesiredConfig {
    /// Validate a spec document and, when given, an options document (`(text, name)`;
    /// `name` labels messages), with `overrides` applied to the options. Every problem of
    /// the spec is reported at once; the options are checked after the overrides.
    pub fn load(
        spec_text: &str,
        spec_name: &str,
        options: Option<(&str, &str)>,
        validate: &ValidateOptions,
        overrides: &Overrides,
    ) -> Result<DesiredConfig, Error> {
        let (_, spec) = load_spec(spec_text, spec_name, validate)?;
        let mut options = match options {
            Some((text, name)) => ExportOptions::from_text_unchecked(text, name)?,
            None => ExportOptions::default(),
        };
        if let Some(b) = &overrides.bridge {
            b.clone_into(&mut options.bridge);
        }
        options.force_sample_all |= overrides.force_sample_all;
        if overrides.flow_sample_collector_set.is_some() {
            options.flow_sample_collector_set = overrides.flow_sample_collector_set;
        }
        options.validate()?;
        Ok(DesiredConfig { spec, options })
    }
}

/// What a bridge exports, as `show` reports it: the rows, and how ovs-vswitchd is doing
/// with them (see [`crate::health`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowReport {
    /// The rows the bridge points at.
    pub current: CurrentExport,
    /// Per protocol (in [`Protocol::ALL`] order), the row's `external_ids`.
    pub external_ids: [BTreeMap<String, String>; 3],
    /// Whether ovs-vswitchd has applied the database's configuration; `None` if the
    /// `Open_vSwitch` row could not be read.
    pub config: Option<ConfigState>,
    /// The IPFIX exporter's counters from ovs-vswitchd: `None` when the bridge has no IPFIX
    /// row, `Err` (why) when they could not be had.
    pub ipfix_stats: Option<Result<IpfixStats, String>>,
    /// Problems worth a look: collectors that cannot work from the node, messages
    /// ovs-vswitchd could not send.
    pub warnings: Vec<String>,
}

impl ShowReport {
    /// The `Network` object the bridge's state corresponds to (see
    /// [`CurrentExport::to_network`]).
    pub fn network(&self) -> Network {
        self.current.to_network()
    }
}

fn map_text(m: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", items.join(", "))
}

impl fmt::Display for ShowReport {
    /// The bridge and, per protocol, its row's UUID and every managed column, one per line;
    /// then ovs-vswitchd's side (configuration applied or pending, IPFIX counters) and the
    /// warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.current;
        writeln!(f, "bridge {} ({})", c.bridge, c.bridge_uuid)?;
        for (i, p) in Protocol::ALL.into_iter().enumerate() {
            match c.get(p) {
                None => writeln!(f, "{}: not configured", p.spec_field())?,
                Some(r) => {
                    writeln!(f, "{}: {} row {}", p.spec_field(), p.table(), r.uuid)?;
                    for (col, v) in r.row.ordered() {
                        writeln!(f, "  {col:<20} {v}")?;
                    }
                    if let Some(ids) = self.external_ids.get(i).filter(|m| !m.is_empty()) {
                        writeln!(f, "  {:<20} {}", "external_ids", map_text(ids))?;
                    }
                }
            }
        }
        for fs in &c.flow_samples {
            let owner = if fs.ours { ", flowwire's" } else { "" };
            write!(
                f,
                "flow sampling: {} id {} row {}{owner}",
                crate::rows::FSCS,
                fs.id,
                fs.uuid
            )?;
            match &fs.ipfix {
                Some(r) => writeln!(
                    f,
                    ", IPFIX row {} targets {}",
                    r.uuid,
                    r.row
                        .targets()
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(",")
                )?,
                None => writeln!(f, ", no IPFIX row")?,
            }
        }
        if let Some(cfg) = &self.config {
            writeln!(f, "ovs-vswitchd: {cfg}")?;
        }
        match &self.ipfix_stats {
            Some(Ok(s)) => writeln!(f, "ipfix exporter (ovs-vswitchd): {s}")?,
            Some(Err(e)) => writeln!(
                f,
                "ipfix exporter (ovs-vswitchd): counters unavailable: {e}"
            )?,
            None => {}
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

/// What an apply or clear did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The changes made (empty plan: nothing was written).
    pub plan: Plan,
    /// `Open_vSwitch.next_cfg` after the transaction, when one was made.
    pub next_cfg: Option<i64>,
    /// `true` when ovs-vswitchd confirmed the change (`cur_cfg >= next_cfg`); only checked
    /// with a wait limit.
    pub confirmed: bool,
    /// The state read back after the change.
    pub after: CurrentExport,
}

/// A connection to the Open_vSwitch database, with its schema.
#[derive(Debug)]
pub struct Configurator {
    client: Client,
    schema: SchemaInfo,
}

impl Configurator {
    /// Connect to `db` (`unix:PATH` or `tcp:HOST:PORT`) and read the schema.
    pub fn connect(db: &str, timeout: Duration) -> Result<Configurator, Error> {
        let endpoint = Endpoint::parse(db)?;
        let mut client = Client::connect(&endpoint, timeout)?;
        let schema = SchemaInfo::from_schema(&client.get_schema(OPEN_VSWITCH_DB)?);
        Ok(Configurator { client, schema })
    }

    /// The server's schema (columns per table).
    pub fn schema(&self) -> &SchemaInfo {
        &self.schema
    }

    /// The underlying client.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// What `bridge` exports now (one read transaction).
    pub fn read(&mut self, bridge: &str) -> Result<CurrentExport, Error> {
        let results = self
            .client
            .transact(OPEN_VSWITCH_DB, read_operations(bridge, &self.schema))?;
        CurrentExport::from_results(bridge, &results, &self.schema)
    }

    /// What `bridge` exports and how ovs-vswitchd is doing with it, for display.
    ///
    /// The IPFIX counters are asked on the bridge's management socket next to the
    /// database's unix socket (see [`crate::health::mgmt_socket`]); over TCP they are
    /// reported unavailable, and the collectors' routes are not checked (the database may
    /// be on another node).
    pub fn show(&mut self, bridge: &str) -> Result<ShowReport, Error> {
        let current = self.read(bridge)?;
        let mut ops = vec![op::select("Open_vSwitch", vec![], &["next_cfg", "cur_cfg"])];
        let mut asked = Vec::new();
        for (i, p) in Protocol::ALL.into_iter().enumerate() {
            if let Some(r) = current.get(p)
                && self.schema.has(p.table(), "external_ids")
            {
                ops.push(op::select(
                    p.table(),
                    vec![op::cond("_uuid", "==", op::uuid(&r.uuid))],
                    &["external_ids"],
                ));
                asked.push(i);
            }
        }
        let results = self.client.transact(OPEN_VSWITCH_DB, ops)?;
        let first_row = |r: Option<&Value>| {
            r.and_then(|r| r.get("rows"))
                .and_then(|r| r.get(0))
                .cloned()
        };
        let ovs = first_row(results.first());
        let int = |c: &str| ovs.as_ref().and_then(|r| r.get(c)).and_then(Value::as_i64);
        let config = match (int("next_cfg"), int("cur_cfg")) {
            (Some(next_cfg), Some(cur_cfg)) => Some(ConfigState { next_cfg, cur_cfg }),
            _ => None,
        };
        let mut external_ids: [BTreeMap<String, String>; 3] = Default::default();
        for (k, i) in asked.into_iter().enumerate() {
            let ids = first_row(results.get(k + 1))
                .and_then(|r| r.get("external_ids").cloned())
                .map(|v| string_map(&v))
                .unwrap_or_default();
            if let Some(slot) = external_ids.get_mut(i) {
                *slot = ids;
            }
        }
        let endpoint = self.client.endpoint().to_owned();
        let ipfix_stats = current.get(Protocol::Ipfix).map(|_| {
            match crate::health::mgmt_socket(&endpoint, bridge) {
                Some(sock) => crate::health::ipfix_bridge_stats(&sock, self.client.timeout())
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "{endpoint} is not a local unix socket; run `ovs-ofctl dump-ipfix-bridge \
                     {bridge}` on the node"
                )),
            }
        });
        let mut warnings =
            crate::health::collector_warnings(&current, endpoint.starts_with("unix:"));
        if let Some(Ok(s)) = &ipfix_stats
            && s.send_errors > 0
        {
            warnings.push(format!(
                "ipfix: ovs-vswitchd could not send {} of {} messages to the collectors \
                 (nothing listening, or unreachable)",
                s.send_errors,
                s.send_errors.saturating_add(s.sent_packets)
            ));
        }
        Ok(ShowReport {
            current,
            external_ids,
            config,
            ipfix_stats,
            warnings,
        })
    }

    /// The rows `spec` + `opts` ask for, restricted to the server's schema.
    pub fn desired(&self, spec: &ValidSpec, opts: &ExportOptions) -> Result<DesiredExport, Error> {
        opts.validate()?;
        DesiredExport::new(spec, opts, &self.schema)
    }

    /// What applying `spec` would change (reads, writes nothing).
    ///
    /// A `Flow_Sample_Collector_Set` asked for with an `id` that the bridge already has,
    /// but that this crate did not create, is an error ([`Error::Invalid`]): it belongs to
    /// someone else (OVN, ovn-kubernetes) and is not taken over.
    pub fn plan(&mut self, spec: &ValidSpec, opts: &ExportOptions) -> Result<Plan, Error> {
        let desired = self.desired(spec, opts)?;
        let current = self.read(&opts.bridge)?;
        if let FlowSampleWant::Ensure { id, .. } = &desired.flow_sample
            && let Some(other) = current.flow_samples.iter().find(|f| f.id == *id && !f.ours)
        {
            return Err(Error::Invalid(Diagnostics(vec![Diagnostic::error(
                "flow_sample_collector_set",
                id.to_string(),
                format!(
                    "bridge {} already has a {} with this id (row {}) that flowwire did not \
                     create; choose another id",
                    opts.bridge,
                    crate::rows::FSCS,
                    other.uuid
                ),
            )])));
        }
        Ok(Plan::new(&desired, &current))
    }

    /// Make `opts.bridge` export what `spec` says, in ONE transaction; nothing is written when
    /// it already does. With `wait`, also wait up to that long for ovs-vswitchd to apply it.
    pub fn apply(
        &mut self,
        spec: &ValidSpec,
        opts: &ExportOptions,
        wait: Option<Duration>,
    ) -> Result<Outcome, Error> {
        let plan = self.plan(spec, opts)?;
        self.execute(plan, wait)
    }

    /// Stop all export on `bridge`: clear its three columns in one transaction (OVS deletes
    /// the unreferenced rows).
    pub fn clear(&mut self, bridge: &str, wait: Option<Duration>) -> Result<Outcome, Error> {
        let current = self.read(bridge)?;
        let plan = Plan::new(&DesiredExport::nothing(bridge), &current);
        self.execute(plan, wait)
    }

    /// Run a plan's transaction (if it has changes), optionally wait for ovs-vswitchd, and
    /// read the state back.
    pub fn execute(&mut self, plan: Plan, wait: Option<Duration>) -> Result<Outcome, Error> {
        let mut next_cfg = None;
        let mut confirmed = false;
        if !plan.is_empty() {
            let ops = plan.operations();
            let results = self
                .client
                .transact(OPEN_VSWITCH_DB, ops)
                .map_err(|e| match e {
                    Error::Ovsdb(OvsdbError {
                        index: 0,
                        ref error,
                        ..
                    }) if error == "timed out" => Error::ConcurrentChange(plan.bridge.clone()),
                    other => other,
                })?;
            next_cfg = results
                .last()
                .and_then(|r| r.get("rows"))
                .and_then(|r| r.get(0))
                .and_then(|r| r.get("next_cfg"))
                .and_then(Value::as_i64);
            if let (Some(limit), Some(n)) = (wait, next_cfg) {
                self.wait_cur_cfg(n, limit)?;
                confirmed = true;
            }
        }
        let after = self.read(&plan.bridge)?;
        Ok(Outcome {
            plan,
            next_cfg,
            confirmed,
            after,
        })
    }

    /// Poll `Open_vSwitch.cur_cfg` until it reaches `next_cfg` (ovs-vswitchd applied the
    /// configuration) or `limit` passes.
    pub fn wait_cur_cfg(&mut self, next_cfg: i64, limit: Duration) -> Result<i64, Error> {
        // A limit too large to represent means "no limit".
        let deadline = Instant::now().checked_add(limit);
        let mut last = None;
        loop {
            let r = self.client.transact(
                OPEN_VSWITCH_DB,
                vec![op::select("Open_vSwitch", vec![], &["cur_cfg"])],
            )?;
            let cur = r
                .first()
                .and_then(|r| r.get("rows"))
                .and_then(|r| r.get(0))
                .and_then(|r| r.get("cur_cfg"))
                .and_then(Value::as_i64);
            if let Some(c) = cur.filter(|c| *c >= next_cfg) {
                return Ok(c);
            }
            last = cur.or(last);
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Timeout {
                    endpoint: self.client.endpoint().to_owned(),
                    what: format!(
                        "waiting for ovs-vswitchd to apply the change (cur_cfg {} < next_cfg \
                         {next_cfg}; is ovs-vswitchd running?)",
                        last.map_or_else(|| "unknown".to_owned(), |c| c.to_string())
                    ),
                    after: limit,
                });
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `["map", [[k, v], ...]]` with string keys and values → a map (other entries skipped).
fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_array()
        .filter(|a| a.first().and_then(Value::as_str) == Some("map"))
        .and_then(|a| a.get(1))
        .and_then(Value::as_array)
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|kv| {
                    let kv = kv.as_array()?;
                    Some((
                        kv.first()?.as_str()?.to_owned(),
                        kv.get(1)?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The row UUIDs of a state, per protocol (handy for idempotence checks).
pub fn row_uuids(c: &CurrentExport) -> [Option<String>; 3] {
    Protocol::ALL.map(|p| c.get(p).map(|r| r.uuid.clone()))
}
