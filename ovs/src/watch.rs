//! Keep a bridge's flow export matching the spec, the way an operator reconciles: apply,
//! then follow both the desired state and the database.
//!
//! A one-shot apply cannot catch what goes wrong afterwards: a restart of ovsdb-server or
//! ovs-vswitchd, someone running `ovs-vsctl clear Bridge br-int ipfix`, a bridge deleted
//! and re-created, or a spec edited while nothing re-applies it. [`Reconciler::run`]
//! handles all of these in one loop:
//!
//! - it subscribes to the `Bridge` columns and the `NetFlow`, `sFlow`, `IPFIX` rows with an
//!   OVSDB `monitor` (RFC 7047 §4.1.5); every `update` makes it re-read the bridge and, if
//!   the state differs from the spec, write the same single idempotent transaction as
//!   [`Configurator::apply`];
//! - it polls a [`DesiredSource`] (for example [`SpecFiles`], the spec and options files)
//!   every [`Reconciler::poll_interval`]; a new valid version is applied at once, an invalid
//!   one is reported and the last good state is kept;
//! - when the connection is lost (ovsdb-server restarted), it reconnects with exponential
//!   backoff, subscribes again and re-checks the state;
//! - it stops when its stop flag ([`Reconciler::stop_flag`]) is set, for example by a
//!   signal handler.
//!
//! Everything that happens is reported as an [`Event`], whose `Display` is one log line;
//! each correction says what had drifted and what was written.
//!
//! ```no_run
//! use std::sync::atomic::Ordering;
//! use flowwire_ovs::watch::{Reconciler, SpecFiles};
//! use flowwire_ovs::{Overrides, ValidateOptions};
//!
//! let mut files = SpecFiles::new("network.yaml", None, ValidateOptions::default(),
//!                                Overrides::default());
//! let desired = files.load()?;
//! let mut reconciler = Reconciler::new("unix:/var/run/openvswitch/db.sock")?;
//! let stop = reconciler.stop_flag(); // store(true, Ordering::Relaxed) from elsewhere stops it
//! # stop.store(true, Ordering::Relaxed);
//! reconciler.run(desired, &mut files, &mut |event| println!("{event}"));
//! # Ok::<(), flowwire_ovs::Error>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::configurator::{Configurator, DesiredConfig, Outcome, Overrides};
use crate::error::Error;
use crate::ovsdb::{Endpoint, OPEN_VSWITCH_DB};
use crate::plan::{Change, Plan};
use crate::rows::FSCS;
use crate::spec::{Protocol, ValidateOptions};

/// Where a [`Reconciler`] gets new versions of the desired state.
pub trait DesiredSource {
    /// Names the source in log lines (for example the spec file's path).
    fn describe(&self) -> String;

    /// Look for a new version: `Ok(Some)` when there is one and it is valid, `Ok(None)` when
    /// nothing changed, `Err` when the new version is invalid or unreadable. A source reports
    /// each version once, so an invalid version is not reported again at every poll.
    fn poll(&mut self) -> Result<Option<DesiredConfig>, Error>;
}

/// A source that never changes (the desired state given to [`Reconciler::run`] is all).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fixed;

impl DesiredSource for Fixed {
    fn describe(&self) -> String {
        "fixed spec".to_owned()
    }

    fn poll(&mut self) -> Result<Option<DesiredConfig>, Error> {
        Ok(None)
    }
}

/// One read of the files: their bytes, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    spec: Result<Vec<u8>, String>,
    options: Option<Result<Vec<u8>, String>>,
}

/// The spec file and, optionally, the options file, re-read whenever their content
/// changes.
///
/// A version is taken only once it has read the same on two polls in a row, so a file
/// caught half-written by an editor is not reported as invalid.
#[derive(Debug, Clone)]
pub struct SpecFiles {
    spec: PathBuf,
    options: Option<PathBuf>,
    validate: ValidateOptions,
    overrides: Overrides,
    /// The version last taken (valid or not).
    taken: Option<Snapshot>,
    /// A new version seen once, taken if the next poll reads the same.
    candidate: Option<Snapshot>,
}

impl SpecFiles {
    /// Watch `spec` (and `options`), validated with `validate` and `overrides`.
    pub fn new(
        spec: impl Into<PathBuf>,
        options: Option<PathBuf>,
        validate: ValidateOptions,
        overrides: Overrides,
    ) -> SpecFiles {
        SpecFiles {
            spec: spec.into(),
            options,
            validate,
            overrides,
            taken: None,
            candidate: None,
        }
    }

    /// The spec file.
    pub fn spec_path(&self) -> &Path {
        &self.spec
    }

    fn read(&self) -> Snapshot {
        let read = |p: &Path| std::fs::read(p).map_err(|e| e.to_string());
        Snapshot {
            spec: read(&self.spec),
            options: self.options.as_deref().map(read),
        }
    }

    fn parse(&self, snap: &Snapshot) -> Result<DesiredConfig, Error> {
        let name = |p: &Path| p.display().to_string();
        let text = |r: &Result<Vec<u8>, String>, p: &Path| match r {
            Ok(b) => Ok(String::from_utf8_lossy(b).into_owned()),
            Err(e) => Err(Error::ReadFile {
                path: name(p),
                source: std::io::Error::other(e.clone()),
            }),
        };
        let spec = text(&snap.spec, &self.spec)?;
        let options = match (&snap.options, &self.options) {
            (Some(r), Some(p)) => Some((text(r, p)?, name(p))),
            _ => None,
        };
        DesiredConfig::load(
            &spec,
            &name(&self.spec),
            options.as_ref().map(|(t, n)| (t.as_str(), n.as_str())),
            &self.validate,
            &self.overrides,
        )
    }

    /// Read and validate the files now; this version counts as seen.
    pub fn load(&mut self) -> Result<DesiredConfig, Error> {
        let snap = self.read();
        let r = self.parse(&snap);
        self.taken = Some(snap);
        self.candidate = None;
        r
    }
}

impl DesiredSource for SpecFiles {
    fn describe(&self) -> String {
        match &self.options {
            Some(o) => format!("{} + {}", self.spec.display(), o.display()),
            None => self.spec.display().to_string(),
        }
    }

    fn poll(&mut self) -> Result<Option<DesiredConfig>, Error> {
        let snap = self.read();
        if self.taken.as_ref() == Some(&snap) {
            self.candidate = None;
            return Ok(None);
        }
        if self.candidate.as_ref() != Some(&snap) {
            self.candidate = Some(snap);
            return Ok(None);
        }
        let r = self.parse(&snap);
        self.taken = Some(snap);
        self.candidate = None;
        r.map(Some)
    }
}

/// Why the state was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// The first check after [`Reconciler::run`] started.
    Start,
    /// A new version of the desired state (from the named source).
    SpecChanged(String),
    /// The database changed; what changed, as the monitor reported it.
    Drift(String),
    /// The connection was re-established.
    Reconnected,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Start => f.write_str("start"),
            Trigger::SpecChanged(s) => write!(f, "spec changed ({s})"),
            Trigger::Drift(w) => write!(f, "drift ({w})"),
            Trigger::Reconnected => f.write_str("reconnected"),
        }
    }
}

/// What a [`Reconciler`] did or saw; `Display` is one log line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// Connected and subscribed to changes.
    Connected {
        /// The server.
        endpoint: String,
        /// Its Open_vSwitch schema version.
        schema_version: String,
        /// The bridge being kept.
        bridge: String,
    },
    /// Connecting failed, or the connection was lost; retried after `retry_in`.
    Disconnected {
        /// The server.
        endpoint: String,
        /// What went wrong.
        error: String,
        /// When the next attempt is made.
        retry_in: Duration,
    },
    /// The bridge differed from the spec and was corrected in one transaction.
    Corrected {
        /// Why the state was checked.
        trigger: Trigger,
        /// What was changed.
        outcome: Box<Outcome>,
    },
    /// The bridge was checked and already matched the spec (reported for the start, a new
    /// spec and a reconnection; checks after the database changed are silent when there is
    /// nothing to do).
    InSync {
        /// Why the state was checked.
        trigger: Trigger,
        /// The bridge.
        bridge: String,
        /// The protocols configured.
        configured: Vec<Protocol>,
    },
    /// A new version of the desired state was taken.
    SpecAccepted {
        /// The source.
        source: String,
    },
    /// A new version of the desired state is invalid or unreadable; the last good one stays.
    SpecRejected {
        /// The source.
        source: String,
        /// Every problem, on one line.
        error: String,
    },
    /// The bridge does not exist; checked again when the database changes.
    BridgeMissing {
        /// The bridge.
        bridge: String,
    },
    /// Checking or writing failed for another reason; retried on the next change.
    Failed {
        /// Why the state was checked.
        trigger: Trigger,
        /// What went wrong, on one line.
        error: String,
    },
    /// The stop flag was set; [`Reconciler::run`] returns.
    Stopped,
}

fn one_line(s: &str) -> String {
    s.lines().collect::<Vec<_>>().join("; ")
}

fn short(uuid: &str) -> &str {
    uuid.get(..8).unwrap_or(uuid)
}

/// What differed from the spec, one clause per change.
fn drift_text(plan: &Plan) -> String {
    let parts: Vec<String> = plan
        .changes
        .iter()
        .map(|c| match c {
            Change::Create { protocol, .. } => format!("{protocol} missing"),
            Change::Update {
                protocol, columns, ..
            } => columns
                .iter()
                .map(|(col, old, new)| format!("{protocol}.{col} {old} (want {new})"))
                .collect::<Vec<_>>()
                .join(", "),
            Change::Remove { protocol, row, .. } => format!(
                "{protocol} not in the spec ({} targets {})",
                protocol.table(),
                row.get("targets")
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
            Change::FlowSampleCreate { id, .. } => format!("flow sampling set {id} missing"),
            Change::FlowSampleUpdate { id, columns, .. } => columns
                .iter()
                .map(|(col, old, new)| {
                    format!("flow sampling set {id} IPFIX.{col} {old} (want {new})")
                })
                .collect::<Vec<_>>()
                .join(", "),
            Change::FlowSampleRemove { id, .. } => {
                format!("flow sampling set {id} not wanted")
            }
        })
        .collect();
    parts.join(", ")
}

/// What the transaction wrote, one clause per change.
fn written_text(o: &Outcome) -> String {
    let bridge = &o.plan.bridge;
    let parts: Vec<String> = o
        .plan
        .changes
        .iter()
        .map(|c| match c {
            Change::Create { protocol, row } => {
                let uuid = o
                    .after
                    .get(*protocol)
                    .map_or("?", |r| short(&r.uuid))
                    .to_owned();
                let cols: Vec<String> = row
                    .ordered()
                    .into_iter()
                    .filter(|(_, v)| !v.is_unset())
                    .map(|(c, v)| format!("{c}={v}"))
                    .collect();
                format!(
                    "new {} row {uuid} {} as Bridge {bridge} {}",
                    protocol.table(),
                    cols.join(" "),
                    protocol.bridge_column()
                )
            }
            Change::Update {
                protocol,
                uuid,
                columns,
            } => {
                let cols: Vec<String> = columns
                    .iter()
                    .map(|(c, _, new)| format!("{c}={new}"))
                    .collect();
                format!(
                    "{} row {} {}",
                    protocol.table(),
                    short(uuid),
                    cols.join(" ")
                )
            }
            Change::Remove { protocol, .. } => {
                format!("cleared Bridge {bridge} {}", protocol.bridge_column())
            }
            Change::FlowSampleCreate { id, row } => {
                let made = o.after.flow_samples.iter().find(|f| f.id == *id);
                let cols: Vec<String> = row
                    .ordered()
                    .into_iter()
                    .filter(|(_, v)| !v.is_unset())
                    .map(|(c, v)| format!("{c}={v}"))
                    .collect();
                format!(
                    "new {FSCS} id {id} (row {}) with IPFIX row {} {}",
                    made.map_or("?", |f| short(&f.uuid)),
                    made.and_then(|f| f.ipfix.as_ref())
                        .map_or("?", |r| short(&r.uuid)),
                    cols.join(" ")
                )
            }
            Change::FlowSampleUpdate {
                id,
                ipfix_uuid,
                columns,
            } => {
                let cols: Vec<String> = columns
                    .iter()
                    .map(|(c, _, new)| format!("{c}={new}"))
                    .collect();
                format!(
                    "IPFIX row {} of flow sampling set {id} {}",
                    short(ipfix_uuid),
                    cols.join(" ")
                )
            }
            Change::FlowSampleRemove { id, .. } => format!("deleted {FSCS} id {id}"),
        })
        .collect();
    parts.join(", ")
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Connected {
                endpoint,
                schema_version,
                bridge,
            } => write!(
                f,
                "connected to {endpoint} (schema {schema_version}); monitoring Bridge {bridge} \
                 and the NetFlow, sFlow, IPFIX, {FSCS} tables"
            ),
            Event::Disconnected {
                endpoint,
                error,
                retry_in,
            } => write!(
                f,
                "no connection to {endpoint}: {}; retrying in {} ms",
                one_line(error),
                retry_in.as_millis()
            ),
            Event::Corrected { trigger, outcome } => {
                let cfg = outcome
                    .next_cfg
                    .map_or_else(String::new, |n| format!(" (next_cfg {n}"));
                let confirmed = match (outcome.next_cfg, outcome.confirmed) {
                    (None, _) => "",
                    (Some(_), true) => ", applied by ovs-vswitchd)",
                    (Some(_), false) => ")",
                };
                write!(
                    f,
                    "corrected {trigger}: bridge {}: {}; wrote {}{cfg}{confirmed}",
                    outcome.plan.bridge,
                    drift_text(&outcome.plan),
                    written_text(outcome)
                )
            }
            Event::InSync {
                trigger,
                bridge,
                configured,
            } => {
                let names: Vec<&str> = configured.iter().map(|p| p.spec_field()).collect();
                let what = if names.is_empty() {
                    "no export".to_owned()
                } else {
                    names.join(", ")
                };
                write!(
                    f,
                    "checked ({trigger}): bridge {bridge} up to date ({what})"
                )
            }
            Event::SpecAccepted { source } => write!(f, "new spec taken from {source}"),
            Event::SpecRejected { source, error } => write!(
                f,
                "new spec from {source} refused, keeping the last good one: {}",
                one_line(error)
            ),
            Event::BridgeMissing { bridge } => {
                write!(f, "bridge {bridge} not found; waiting for it to be created")
            }
            Event::Failed { trigger, error } => {
                write!(f, "could not apply ({trigger}): {}", one_line(error))
            }
            Event::Stopped => f.write_str("stopped"),
        }
    }
}

/// One line per changed row of a monitor `update` (`params[1]`); rows of other bridges are
/// left out.
fn describe_update(bridge: &str, updates: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(tables) = updates.as_object() else {
        return out;
    };
    for (table, rows) in tables {
        let Some(rows) = rows.as_object() else {
            continue;
        };
        for (uuid, change) in rows {
            let old = change.get("old").and_then(Value::as_object);
            let new = change.get("new").and_then(Value::as_object);
            let label = if table == "Bridge" {
                let name = new
                    .or(old)
                    .and_then(|r| r.get("name"))
                    .and_then(Value::as_str);
                if name != Some(bridge) {
                    continue;
                }
                format!("Bridge {bridge}")
            } else {
                format!("{table} {}", short(uuid))
            };
            out.push(match (old, new) {
                (None, Some(_)) => format!("{label} created"),
                (Some(_), None) => format!("{label} deleted"),
                (Some(o), Some(_)) => {
                    let cols: Vec<&str> = o.keys().map(String::as_str).collect();
                    format!("{label} {} changed", cols.join(","))
                }
                (None, None) => continue,
            });
        }
    }
    out
}

/// The monitor id this crate uses (any JSON value; the server echoes it in updates).
const MONITOR_ID: &str = "flowwire-watch";

/// Keeps a bridge's flow export matching a desired state until stopped; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct Reconciler {
    db: String,
    timeout: Duration,
    poll: Duration,
    backoff: (Duration, Duration),
    wait: Option<Duration>,
    stop: Arc<AtomicBool>,
}

impl Reconciler {
    /// A reconciler for the server at `db` (`unix:PATH` or `tcp:HOST:PORT`), with a 15 s
    /// limit per OVSDB call, a 250 ms poll interval and a 100 ms to 1 s reconnect backoff.
    pub fn new(db: &str) -> Result<Reconciler, Error> {
        Endpoint::parse(db)?;
        Ok(Reconciler {
            db: db.to_owned(),
            timeout: Duration::from_secs(15),
            poll: Duration::from_millis(250),
            backoff: (Duration::from_millis(100), Duration::from_secs(1)),
            wait: None,
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The limit for connecting and for each OVSDB call.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often the desired source (and the stop flag) is checked; also the longest a
    /// database change waits behind a quiet period.
    #[must_use]
    pub fn poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll.max(Duration::from_millis(1));
        self
    }

    /// The first and the largest pause between reconnection attempts (doubling between).
    #[must_use]
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = (first, max.max(first));
        self
    }

    /// After each correction, wait up to this long for ovs-vswitchd to apply it (like
    /// `apply --wait`); a timeout is reported as [`Event::Failed`].
    #[must_use]
    pub fn wait_for_vswitchd(mut self, limit: Option<Duration>) -> Self {
        self.wait = limit;
        self
    }

    /// Use `flag` as the stop flag (for example one a signal handler sets).
    #[must_use]
    pub fn with_stop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = flag;
        self
    }

    /// The stop flag: setting it to `true` makes [`Reconciler::run`] return within about
    /// one poll interval (or one OVSDB call).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Connect, subscribe to the bridges' columns and the exporter tables.
    fn connect(&self) -> Result<Configurator, Error> {
        let mut cfg = Configurator::connect(&self.db, self.timeout)?;
        let mut requests = Map::new();
        requests.insert(
            "Bridge".into(),
            json!({"columns": ["name", "netflow", "sflow", "ipfix"]}),
        );
        for p in Protocol::ALL {
            let cols: Vec<&str> = cfg.schema().managed(p).iter().map(|(c, _)| *c).collect();
            requests.insert(p.table().into(), json!({ "columns": cols }));
        }
        if cfg.schema().has(FSCS, "ipfix") {
            requests.insert(
                FSCS.into(),
                json!({"columns": ["id", "bridge", "ipfix", "external_ids"]}),
            );
        }
        cfg.client()
            .monitor(OPEN_VSWITCH_DB, json!(MONITOR_ID), Value::Object(requests))?;
        Ok(cfg)
    }

    /// Check the bridge and write what differs. `Err` only when the connection is lost.
    fn reconcile(
        &self,
        cfg: &mut Configurator,
        desired: &DesiredConfig,
        trigger: Trigger,
        bridge_missing: &mut bool,
        log: &mut dyn FnMut(&Event),
    ) -> Result<(), Error> {
        // A concurrent change between reading and writing aborts the transaction; the
        // next attempt reads the new state.
        for _ in 0..3 {
            let plan = match cfg.plan(&desired.spec, &desired.options) {
                Ok(p) => p,
                Err(Error::BridgeNotFound(bridge)) => {
                    if !*bridge_missing {
                        log(&Event::BridgeMissing { bridge });
                    }
                    *bridge_missing = true;
                    return Ok(());
                }
                Err(e) => return self.failed(cfg, trigger, e, log),
            };
            *bridge_missing = false;
            if plan.is_empty() {
                if !matches!(trigger, Trigger::Drift(_)) {
                    log(&Event::InSync {
                        trigger,
                        bridge: plan.bridge.clone(),
                        configured: plan.unchanged.clone(),
                    });
                }
                return Ok(());
            }
            match cfg.execute(plan, self.wait) {
                Ok(outcome) => {
                    log(&Event::Corrected {
                        trigger,
                        outcome: Box::new(outcome),
                    });
                    return Ok(());
                }
                Err(Error::ConcurrentChange(_)) => {}
                Err(e) => return self.failed(cfg, trigger, e, log),
            }
        }
        log(&Event::Failed {
            trigger,
            error: "the bridge kept changing while being corrected; trying again on the \
                    next change"
                .to_owned(),
        });
        Ok(())
    }

    /// A failure is the end of the connection when the client can no longer be used;
    /// anything else is reported and the loop goes on.
    fn failed(
        &self,
        cfg: &mut Configurator,
        trigger: Trigger,
        e: Error,
        log: &mut dyn FnMut(&Event),
    ) -> Result<(), Error> {
        if cfg.client().is_usable() {
            log(&Event::Failed {
                trigger,
                error: e.to_string(),
            });
            Ok(())
        } else {
            Err(e)
        }
    }

    /// Sleep up to `d`, in slices short enough to notice the stop flag.
    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    /// Keep the bridge of `desired` matching it (and the newer versions `source` gives)
    /// until the stop flag is set; every event goes to `log`. Errors are reported as events
    /// and retried, never returned: the loop ends only when stopped.
    pub fn run(
        &mut self,
        mut desired: DesiredConfig,
        source: &mut dyn DesiredSource,
        log: &mut dyn FnMut(&Event),
    ) {
        let mut conn: Option<Configurator> = None;
        let mut pending: Option<Trigger> = Some(Trigger::Start);
        let mut ever_connected = false;
        let mut backoff = self.backoff.0;
        let mut retry_at = Instant::now();
        let mut last_error: Option<String> = None;
        let mut bridge_missing = false;
        while !self.stopped() {
            match source.poll() {
                // A version that validates to the same state (a comment edited) is no news.
                Ok(Some(d)) if d != desired => {
                    log(&Event::SpecAccepted {
                        source: source.describe(),
                    });
                    desired = d;
                    pending = Some(Trigger::SpecChanged(source.describe()));
                }
                Ok(_) => {}
                Err(e) => log(&Event::SpecRejected {
                    source: source.describe(),
                    error: e.to_string(),
                }),
            }

            let cfg = match &mut conn {
                Some(c) => c,
                None => {
                    let now = Instant::now();
                    if now < retry_at {
                        self.pause((retry_at - now).min(self.poll));
                        continue;
                    }
                    match self.connect() {
                        Ok(c) => {
                            log(&Event::Connected {
                                endpoint: self.db.clone(),
                                schema_version: c.schema().version.clone(),
                                bridge: desired.options.bridge.clone(),
                            });
                            if ever_connected {
                                pending = Some(Trigger::Reconnected);
                            }
                            ever_connected = true;
                            backoff = self.backoff.0;
                            last_error = None;
                            bridge_missing = false;
                            conn.insert(c)
                        }
                        Err(e) => {
                            // One line per distinct error, not one per attempt.
                            let text = e.to_string();
                            if last_error.as_deref() != Some(text.as_str()) {
                                log(&Event::Disconnected {
                                    endpoint: self.db.clone(),
                                    error: text.clone(),
                                    retry_in: backoff,
                                });
                                last_error = Some(text);
                            }
                            retry_at = Instant::now() + backoff;
                            backoff = (backoff * 2).min(self.backoff.1);
                            continue;
                        }
                    }
                }
            };

            let mut lost = None;
            if let Some(trigger) = pending.take()
                && let Err(e) = self.reconcile(cfg, &desired, trigger, &mut bridge_missing, log)
            {
                lost = Some(e);
            }
            if lost.is_none() {
                match cfg.client().next_notification(self.poll) {
                    Ok(Some(first)) => {
                        let bridge = &desired.options.bridge;
                        let mut what =
                            describe_update(bridge, first.params.get(1).unwrap_or(&Value::Null));
                        // Take everything already queued: one check for a burst.
                        loop {
                            match cfg.client().next_notification(Duration::ZERO) {
                                Ok(Some(n)) => what.extend(describe_update(
                                    bridge,
                                    n.params.get(1).unwrap_or(&Value::Null),
                                )),
                                Ok(None) => break,
                                Err(e) => {
                                    lost = Some(e);
                                    break;
                                }
                            }
                        }
                        if what.is_empty() {
                            what.push("other rows changed".to_owned());
                        }
                        pending = Some(Trigger::Drift(what.join("; ")));
                    }
                    Ok(None) => {}
                    Err(e) => lost = Some(e),
                }
            }
            if let Some(e) = lost {
                conn = None;
                last_error = Some(e.to_string());
                log(&Event::Disconnected {
                    endpoint: self.db.clone(),
                    error: e.to_string(),
                    retry_in: self.backoff.0,
                });
                backoff = self.backoff.0;
                retry_at = Instant::now() + backoff;
                // Whatever was pending is re-checked after reconnecting.
                pending = None;
            }
        }
        log(&Event::Stopped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_descriptions() {
        let u = json!({
            "Bridge": {
                "b1": {"old": {"ipfix": ["uuid", "x"]}, "new": {"name": "br-int", "ipfix": ["set", []]}},
                "b2": {"old": {"sflow": ["set", []]}, "new": {"name": "br0"}},
                "b3": {"old": {"name": "br-int"}}
            },
            "IPFIX": {"0123456789ab": {"old": {"targets": "1.2.3.4:5"}}},
            "sFlow": {"abcdef012345": {"new": {"targets": "1.2.3.4:6"}}}
        });
        let mut d = describe_update("br-int", &u);
        d.sort();
        assert_eq!(
            d,
            [
                "Bridge br-int deleted",
                "Bridge br-int ipfix changed",
                "IPFIX 01234567 deleted",
                "sFlow abcdef01 created"
            ]
        );
        assert!(describe_update("br-int", &json!(null)).is_empty());
    }

    #[test]
    fn spec_files_take_a_version_once_it_is_stable() {
        let dir = std::env::temp_dir().join(format!("fw-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = dir.join("spec.yaml");
        std::fs::write(&spec, "netFlow: {collectors: [\"1.2.3.4:2056\"]}\n").unwrap();
        let mut f = SpecFiles::new(
            &spec,
            None,
            ValidateOptions::default(),
            Overrides::default(),
        );
        let first = f.load().unwrap();
        assert!(f.poll().unwrap().is_none());
        std::fs::write(&spec, "netFlow: {collectors: [\"1.2.3.5:2056\"]}\n").unwrap();
        assert!(f.poll().unwrap().is_none(), "seen once: not yet");
        let second = f.poll().unwrap().unwrap();
        assert_ne!(first, second);
        assert!(f.poll().unwrap().is_none());
        // Invalid: reported once, then quiet.
        std::fs::write(&spec, "netFlow: {collectors: [\"1.2.3.500:2056\"]}\n").unwrap();
        assert!(f.poll().unwrap().is_none());
        assert!(matches!(f.poll(), Err(Error::Invalid(_))));
        assert!(f.poll().unwrap().is_none());
        // Unreadable: reported once as a read error.
        std::fs::remove_file(&spec).unwrap();
        assert!(f.poll().unwrap().is_none());
        assert!(matches!(f.poll(), Err(Error::ReadFile { .. })));
        assert!(f.poll().unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
