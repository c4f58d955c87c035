//! Read, apply and clear a bridge's flow export over OVSDB.

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, OvsdbError};
use crate::options::ExportOptions;
use crate::ovsdb::{Client, Endpoint, OPEN_VSWITCH_DB, op};
use crate::plan::Plan;
use crate::rows::{CurrentExport, DesiredExport, SchemaInfo, read_operations};
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
        options.validate()?;
        Ok(DesiredConfig { spec, options })
    }
}

/// What a bridge exports, as `show` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowReport {
    /// The rows the bridge points at.
    pub current: CurrentExport,
}

impl ShowReport {
    /// The `Network` object the bridge's state corresponds to (see
    /// [`CurrentExport::to_network`]).
    pub fn network(&self) -> Network {
        self.current.to_network()
    }
}

impl fmt::Display for ShowReport {
    /// The bridge and, per protocol, its row's UUID and every managed column, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.current;
        writeln!(f, "bridge {} ({})", c.bridge, c.bridge_uuid)?;
        for p in Protocol::ALL {
            match c.get(p) {
                None => writeln!(f, "{}: not configured", p.spec_field())?,
                Some(r) => {
                    writeln!(f, "{}: {} row {}", p.spec_field(), p.table(), r.uuid)?;
                    for (col, v) in r.row.ordered() {
                        writeln!(f, "  {col:<20} {v}")?;
                    }
                }
            }
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

    /// What `bridge` exports, for display.
    pub fn show(&mut self, bridge: &str) -> Result<ShowReport, Error> {
        Ok(ShowReport {
            current: self.read(bridge)?,
        })
    }

    /// The rows `spec` + `opts` ask for, restricted to the server's schema.
    pub fn desired(&self, spec: &ValidSpec, opts: &ExportOptions) -> Result<DesiredExport, Error> {
        opts.validate()?;
        DesiredExport::new(spec, opts, &self.schema)
    }

    /// What applying `spec` would change (reads, writes nothing).
    pub fn plan(&mut self, spec: &ValidSpec, opts: &ExportOptions) -> Result<Plan, Error> {
        let desired = self.desired(spec, opts)?;
        let current = self.read(&opts.bridge)?;
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

/// The row UUIDs of a state, per protocol (handy for idempotence checks).
pub fn row_uuids(c: &CurrentExport) -> [Option<String>; 3] {
    Protocol::ALL.map(|p| c.get(p).map(|r| r.uuid.clone()))
}
