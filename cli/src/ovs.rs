//! `flowwire ovs`: apply the operator's exportNetworkFlows spec to Open vSwitch.
//!
//! Argument parsing, reading files (or standard input), and printing live here; validation,
//! planning and OVSDB are `flowwire_ovs`'s. Input errors (bad spec or options, unreadable
//! file, bad `--db`) exit with 2, everything else with 1.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use flowwire_ovs::options::DEFAULT_BRIDGE;
use flowwire_ovs::ovsdb::DEFAULT_DB;
use flowwire_ovs::rows::{DesiredExport, SchemaInfo};
use flowwire_ovs::spec::Network;
use flowwire_ovs::watch::{DesiredSource, Reconciler, SpecFiles};
use flowwire_ovs::{
    Configurator, DesiredConfig, Diagnostics, Error, Outcome, Overrides, Plan, Protocol, ValidSpec,
    ValidateOptions,
};

#[derive(Debug, Args)]
pub(crate) struct OvsArgs {
    #[command(subcommand)]
    command: OvsCommand,
}

#[derive(Debug, Clone, Args)]
struct ConnArgs {
    /// OVSDB server: unix:PATH or tcp:HOST:PORT.
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
    /// The bridge to configure (default: the options file's, else br-int).
    #[arg(long)]
    bridge: Option<String>,
    /// Seconds to wait for each OVSDB call (and for --wait).
    #[arg(long, default_value_t = 15)]
    timeout: u64,
}

impl ConnArgs {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    fn bridge_or<'a>(&'a self, desired: Option<&'a DesiredConfig>) -> &'a str {
        self.bridge
            .as_deref()
            .or(desired.map(|d| d.options.bridge.as_str()))
            .unwrap_or(DEFAULT_BRIDGE)
    }

    /// The `ovs-vsctl` global options equivalent to these flags.
    fn vsctl_globals(&self, wait: bool) -> Vec<String> {
        let mut g = Vec::new();
        if self.db != DEFAULT_DB {
            g.push(format!("--db={}", self.db));
        }
        if !wait {
            g.push("--no-wait".to_owned());
        }
        g.push(format!("--timeout={}", self.timeout.max(1)));
        g
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutFormat {
    Text,
    Yaml,
    Json,
}

/// Where the desired state's options come from, and how strictly the spec is read.
#[derive(Debug, Clone, Default)]
struct SpecArgs {
    options: Option<PathBuf>,
    allow_ipv6: bool,
    force_sample_all: bool,
    flow_sample_collector_set: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum OvsCommand {
    /// Make OVS export to the spec's collectors, in one OVSDB transaction.
    Apply {
        /// The Network object, a patch or the exportNetworkFlows object (YAML or JSON; - for stdin).
        #[arg(short, long)]
        file: PathBuf,
        /// Per-protocol options beyond the spec (YAML or JSON).
        #[arg(long)]
        options: Option<PathBuf>,
        /// Wait until ovs-vswitchd has applied the change.
        #[arg(long)]
        wait: bool,
        /// Print the equivalent ovs-vsctl command instead of changing anything.
        #[arg(long, conflicts_with = "watch")]
        dry_run: bool,
        /// After applying, keep OVS matching the spec until SIGINT/SIGTERM: follow edits of
        /// the file (and of --options) and undo changes made to the bridge's export in OVSDB;
        /// one log line per correction.
        #[arg(long)]
        watch: bool,
        /// Accept [addr]:port IPv6 collectors (OVS takes them; the operator's CRD does not).
        #[arg(long)]
        allow_ipv6: bool,
        /// Accept an IPFIX or sFlow sampling of 1 (every packet), which can overload ovs-vswitchd.
        #[arg(long)]
        force_sample_all: bool,
        /// Beyond the operator's spec: keep a Flow_Sample_Collector_Set with this id on the
        /// bridge, pointing at the spec's IPFIX collectors, for OpenFlow sample() actions.
        #[arg(long, value_name = "ID")]
        flow_sample_collector_set: Option<u32>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Show what the bridge exports now (and the difference from a spec with -f).
    Show {
        /// A desired spec to compare with.
        #[arg(short, long)]
        file: Option<PathBuf>,
        /// Options for the desired spec.
        #[arg(long)]
        options: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OutFormat,
        /// Accept IPv6 collectors in the desired spec.
        #[arg(long)]
        allow_ipv6: bool,
        /// Accept an IPFIX or sFlow sampling of 1 (every packet), which can overload ovs-vswitchd.
        #[arg(long)]
        force_sample_all: bool,
        /// Beyond the operator's spec: keep a Flow_Sample_Collector_Set with this id on the
        /// bridge, pointing at the spec's IPFIX collectors, for OpenFlow sample() actions.
        #[arg(long, value_name = "ID")]
        flow_sample_collector_set: Option<u32>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Remove every NetFlow, sFlow and IPFIX destination from the bridge.
    Clear {
        /// Wait until ovs-vswitchd has applied the change.
        #[arg(long)]
        wait: bool,
        /// Print the equivalent ovs-vsctl command instead of changing anything.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Check a spec without touching OVS: one error per problem, with its field path.
    Validate {
        /// The spec (YAML or JSON; - for stdin).
        #[arg(short, long)]
        file: PathBuf,
        /// Per-protocol options.
        #[arg(long)]
        options: Option<PathBuf>,
        /// Accept IPv6 collectors.
        #[arg(long)]
        allow_ipv6: bool,
        /// Accept an IPFIX or sFlow sampling of 1 (every packet), which can overload ovs-vswitchd.
        #[arg(long)]
        force_sample_all: bool,
        /// Beyond the operator's spec: keep a Flow_Sample_Collector_Set with this id on the
        /// bridge, pointing at the spec's IPFIX collectors, for OpenFlow sample() actions.
        #[arg(long, value_name = "ID")]
        flow_sample_collector_set: Option<u32>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OutFormat,
    },
}

/// What a command prints: `stdout`, and warnings for standard error.
#[derive(Debug, Default)]
struct Report {
    stdout: String,
    stderr: String,
}

pub(crate) fn run(args: OvsArgs) -> ExitCode {
    let result = match args.command {
        OvsCommand::Apply {
            file,
            options,
            wait,
            dry_run,
            watch,
            allow_ipv6,
            force_sample_all,
            flow_sample_collector_set,
            conn,
        } => {
            let spec = SpecArgs {
                options,
                allow_ipv6,
                force_sample_all,
                flow_sample_collector_set,
            };
            if watch {
                watch_apply(&file, &spec, wait, &conn)
            } else {
                apply(&file, &spec, wait, dry_run, &conn).map_err(Failure::Ovs)
            }
        }
        OvsCommand::Show {
            file,
            options,
            format,
            allow_ipv6,
            force_sample_all,
            flow_sample_collector_set,
            conn,
        } => show(
            file.as_deref(),
            &SpecArgs {
                options,
                allow_ipv6,
                force_sample_all,
                flow_sample_collector_set,
            },
            format,
            &conn,
        )
        .map_err(Failure::Ovs),
        OvsCommand::Clear {
            wait,
            dry_run,
            conn,
        } => clear(wait, dry_run, &conn).map_err(Failure::Ovs),
        OvsCommand::Validate {
            file,
            options,
            allow_ipv6,
            force_sample_all,
            flow_sample_collector_set,
            format,
        } => validate(
            &file,
            &SpecArgs {
                options,
                allow_ipv6,
                force_sample_all,
                flow_sample_collector_set,
            },
            format,
        )
        .map_err(Failure::Ovs),
    };
    match result {
        Ok(report) => {
            print!("{}", report.stdout);
            eprint!("{}", report.stderr);
            ExitCode::SUCCESS
        }
        Err(Failure::Ovs(e)) => {
            eprintln!("flowwire ovs: {e}");
            ExitCode::from(if e.is_input_error() { 2 } else { 1 })
        }
        Err(Failure::Usage(m)) => {
            eprintln!("flowwire ovs: {m}");
            ExitCode::from(2)
        }
    }
}

/// Why a command failed.
#[derive(Debug)]
enum Failure {
    /// From the library; input errors exit with 2, the rest with 1.
    Ovs(Error),
    /// A combination of arguments that cannot work (exit 2).
    Usage(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Ovs(e)
    }
}

/// Now, as an RFC 3339 UTC time with milliseconds, for log lines.
fn log_time() -> String {
    let now = flowwire::Timestamp::now();
    let secs = u32::try_from(now.unix_secs()).unwrap_or(u32::MAX);
    let whole = flowwire::Timestamp::from_unix_secs(i64::from(secs)).to_rfc3339();
    format!(
        "{}.{:03}Z",
        whole.trim_end_matches('Z'),
        now.subsec_nanos() / 1_000_000
    )
}

/// `flowwire ovs apply --watch`: apply (printing what `apply` prints, failing the same way),
/// then keep the bridge matching the spec until SIGINT or SIGTERM, one log line per event
/// on standard output.
fn watch_apply(
    file: &Path,
    spec: &SpecArgs,
    wait: bool,
    conn: &ConnArgs,
) -> Result<Report, Failure> {
    if file == Path::new("-") {
        return Err(Failure::Usage(
            "--watch follows a file: give -f FILE, not standard input".to_owned(),
        ));
    }
    let mut files = SpecFiles::new(
        file,
        spec.options.clone(),
        ValidateOptions {
            allow_ipv6: spec.allow_ipv6,
        },
        Overrides {
            bridge: conn.bridge.clone(),
            force_sample_all: spec.force_sample_all,
            flow_sample_collector_set: spec.flow_sample_collector_set,
        },
    );
    let desired = files.load()?;
    eprint!("{}", warnings_text(&desired.spec));
    let mut cfg = Configurator::connect(&conn.db, conn.timeout())?;
    let outcome = cfg.apply(
        &desired.spec,
        &desired.options,
        wait.then_some(conn.timeout()),
    )?;
    drop(cfg);
    let mut first = String::new();
    describe_outcome(&mut first, &outcome, wait);
    print!("{first}");

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| Failure::Usage(format!("installing the signal handler: {e}")))?;
    }
    println!(
        "{} watching {} and bridge {} on {} (SIGINT or SIGTERM stops)",
        log_time(),
        files.describe(),
        desired.options.bridge,
        conn.db
    );
    let mut reconciler = Reconciler::new(&conn.db)?
        .timeout(conn.timeout())
        .wait_for_vswitchd(wait.then_some(conn.timeout()))
        .with_stop_flag(stop);
    reconciler.run(desired, &mut files, &mut |event| {
        println!("{} {event}", log_time());
    });
    Ok(Report::default())
}

/// A file's text and its name for messages; `-` is standard input.
fn read_input(path: &Path) -> Result<(String, String), Error> {
    let name = path.display().to_string();
    let mut text = String::new();
    let r = if name == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    r.map_err(|source| Error::ReadFile {
        path: name.clone(),
        source,
    })?;
    Ok((text, name))
}

fn load_desired(
    file: &Path,
    spec: &SpecArgs,
    bridge: Option<&str>,
) -> Result<DesiredConfig, Error> {
    let (text, name) = read_input(file)?;
    let options = spec.options.as_deref().map(read_input).transpose()?;
    DesiredConfig::load(
        &text,
        &name,
        options.as_ref().map(|(t, n)| (t.as_str(), n.as_str())),
        &ValidateOptions {
            allow_ipv6: spec.allow_ipv6,
        },
        &Overrides {
            bridge: bridge.map(str::to_owned),
            force_sample_all: spec.force_sample_all,
            flow_sample_collector_set: spec.flow_sample_collector_set,
        },
    )
}

fn warnings_text(spec: &ValidSpec) -> String {
    if spec.warnings.is_empty() {
        String::new()
    } else {
        format!("{}\n", Diagnostics(spec.warnings.clone()))
    }
}

fn describe_outcome(out: &mut String, o: &Outcome, wait: bool) {
    let _ = writeln!(out, "{}", o.plan);
    if o.plan.is_empty() {
        let _ = writeln!(out, "nothing written");
    } else {
        let cfg = o
            .next_cfg
            .map_or_else(String::new, |n| format!(" (next_cfg {n})"));
        let _ = writeln!(
            out,
            "applied in one transaction{cfg}; {}",
            if o.confirmed {
                "ovs-vswitchd confirmed it"
            } else if wait {
                "not confirmed"
            } else {
                "not waiting for ovs-vswitchd (use --wait)"
            }
        );
    }
    for p in Protocol::ALL {
        if let Some(r) = o.after.get(p) {
            let _ = writeln!(out, "{:<8} {} {}", p.spec_field(), p.table(), r.uuid);
        }
    }
}

fn dry_run_text(out: &mut String, plan: &Plan, globals: &[String]) {
    let _ = writeln!(out, "# {}", plan.to_string().replace('\n', "\n# "));
    out.push_str(&plan.vsctl_script(globals));
}

/// `flowwire ovs apply`: validate, then make the bridge export what the file says in one
/// transaction (nothing is written when it already does). A dry run prints the equivalent
/// `ovs-vsctl` command instead; it still reads the database to know what exists, and when
/// it cannot, prints commands that are right whatever the bridge has.
fn apply(
    file: &Path,
    spec: &SpecArgs,
    wait: bool,
    dry_run: bool,
    conn: &ConnArgs,
) -> Result<Report, Error> {
    let desired = load_desired(file, spec, conn.bridge.as_deref())?;
    let stderr = warnings_text(&desired.spec);
    let mut stdout = String::new();
    if dry_run {
        let plan = match Configurator::connect(&conn.db, conn.timeout()) {
            Ok(mut cfg) => cfg.plan(&desired.spec, &desired.options)?,
            Err(e @ (Error::Io { .. } | Error::Timeout { .. })) => {
                let _ = writeln!(
                    stdout,
                    "# could not read the current state ({e});\n\
                     # these commands replace whatever the bridge exports"
                );
                let rows =
                    DesiredExport::new(&desired.spec, &desired.options, &SchemaInfo::everything())?;
                Plan::blind(&rows)
            }
            Err(e) => return Err(e),
        };
        dry_run_text(&mut stdout, &plan, &conn.vsctl_globals(wait));
        return Ok(Report { stdout, stderr });
    }
    let mut cfg = Configurator::connect(&conn.db, conn.timeout())?;
    let outcome = cfg.apply(
        &desired.spec,
        &desired.options,
        wait.then_some(conn.timeout()),
    )?;
    describe_outcome(&mut stdout, &outcome, wait);
    Ok(Report { stdout, stderr })
}

/// `flowwire ovs clear`: stop all flow export on the bridge (its netflow, sflow and ipfix
/// columns cleared in one transaction).
fn clear(wait: bool, dry_run: bool, conn: &ConnArgs) -> Result<Report, Error> {
    let bridge = conn.bridge_or(None).to_owned();
    let mut cfg = Configurator::connect(&conn.db, conn.timeout())?;
    let mut stdout = String::new();
    if dry_run {
        let current = cfg.read(&bridge)?;
        let plan = Plan::new(&DesiredExport::nothing(&bridge), &current);
        dry_run_text(&mut stdout, &plan, &conn.vsctl_globals(wait));
    } else {
        let outcome = cfg.clear(&bridge, wait.then_some(conn.timeout()))?;
        describe_outcome(&mut stdout, &outcome, wait);
    }
    Ok(Report {
        stdout,
        stderr: String::new(),
    })
}

fn network_text(network: &Network, format: OutFormat) -> Result<String, Error> {
    match format {
        OutFormat::Yaml => network.to_yaml(),
        OutFormat::Json | OutFormat::Text => network.to_json(),
    }
}

/// `flowwire ovs show`: what the bridge exports, as text (every column and row UUID) or as
/// the `Network` object (YAML/JSON, which `apply -f` accepts back); with a file, also the
/// diff from the bridge's state to the file's (after the text, or on standard error).
fn show(
    file: Option<&Path>,
    spec: &SpecArgs,
    format: OutFormat,
    conn: &ConnArgs,
) -> Result<Report, Error> {
    let desired = file
        .map(|f| load_desired(f, spec, conn.bridge.as_deref()))
        .transpose()?;
    let bridge = conn.bridge_or(desired.as_ref()).to_owned();
    let mut cfg = Configurator::connect(&conn.db, conn.timeout())?;
    let report = cfg.show(&bridge)?;
    let mut stdout = match format {
        OutFormat::Text => report.to_string(),
        _ => network_text(&report.network(), format)?,
    };
    let mut stderr = String::new();
    if format != OutFormat::Text {
        // The text has them; YAML/JSON must stay a loadable Network object.
        for w in &report.warnings {
            let _ = writeln!(stderr, "warning: {w}");
        }
    }
    if let Some(d) = desired {
        stderr.push_str(&warnings_text(&d.spec));
        let plan = Plan::new(&cfg.desired(&d.spec, &d.options)?, &report.current);
        let diff = format!("diff (current -> desired):\n{plan}\n");
        if format == OutFormat::Text {
            stdout.push('\n');
            stdout.push_str(&diff);
        } else {
            stderr.push_str(&diff);
        }
    }
    Ok(Report { stdout, stderr })
}

/// `flowwire ovs validate`: check a spec (and options) without touching OVS; every problem
/// is listed with its field path and value; warnings go to standard error.
fn validate(file: &Path, spec: &SpecArgs, format: OutFormat) -> Result<Report, Error> {
    let desired = load_desired(file, spec, None)?;
    let stderr = warnings_text(&desired.spec);
    let stdout = match format {
        OutFormat::Text => {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "{}: valid (bridge {})",
                file.display(),
                desired.options.bridge
            );
            for p in Protocol::ALL {
                match desired.spec.get(p) {
                    None => {
                        let _ = writeln!(s, "{}: not configured", p.spec_field());
                    }
                    Some(c) => {
                        let list: Vec<String> = c.iter().map(ToString::to_string).collect();
                        let _ = writeln!(s, "{}: {}", p.spec_field(), list.join(", "));
                    }
                }
            }
            s
        }
        _ => network_text(&Network::cluster(Some(desired.spec.to_model())), format)?,
    };
    Ok(Report { stdout, stderr })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vsctl_globals() {
        let c = ConnArgs {
            db: DEFAULT_DB.into(),
            bridge: None,
            timeout: 15,
        };
        assert_eq!(c.vsctl_globals(true), ["--timeout=15"]);
        let c = ConnArgs {
            db: "unix:/tmp/x.sock".into(),
            ..c
        };
        assert_eq!(
            c.vsctl_globals(false),
            ["--db=unix:/tmp/x.sock", "--no-wait", "--timeout=15"]
        );
    }
}
