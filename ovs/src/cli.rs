//! The `flowwire ovs` subcommands as plain functions, free of any argument parser: the binary
//! fills the argument structs from its flags, calls `run_*`, prints [`Report::stdout`] to
//! standard output and [`Report::stderr`] (warnings) to standard error, and on `Err` prints
//! the error to standard error and exits with [`Error::exit_code`].
//!
//! | command | function |
//! |---|---|
//! | `flowwire ovs apply -f network.yaml [--wait] [--dry-run]` | [`run_apply`] |
//! | `flowwire ovs show [-f network.yaml] [--format text\|yaml\|json]` | [`run_show`] |
//! | `flowwire ovs clear [--wait] [--dry-run]` | [`run_clear`] |
//! | `flowwire ovs validate -f network.yaml` | [`run_validate`] |
//!
//! Every command that talks to OVS takes `--db unix:PATH|tcp:HOST:PORT` (default
//! [`DEFAULT_DB`]) and `--bridge NAME` (default `br-int`): see [`Connection`].

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::configurator::{Configurator, Outcome};
use crate::error::{Diagnostics, Error};
use crate::options::{DEFAULT_BRIDGE, ExportOptions};
pub use crate::ovsdb::DEFAULT_DB;
use crate::plan::Plan;
use crate::rows::{CurrentExport, DesiredExport, SchemaInfo};
use crate::spec::{
    CollectorConfig, ExportNetworkFlows, Network, Protocol, ValidSpec, ValidateOptions, load_spec,
};

/// Default limit for each OVSDB call (and for `--wait`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Where to connect and which bridge to configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `--db`: `unix:PATH` or `tcp:HOST:PORT`.
    pub db: String,
    /// `--bridge`; `None` takes the options file's `bridge`, else `br-int`.
    pub bridge: Option<String>,
    /// `--timeout`: limit for each OVSDB call and for `--wait`.
    pub timeout: Duration,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            db: DEFAULT_DB.to_owned(),
            bridge: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl Connection {
    fn bridge_or<'a>(&'a self, opts: Option<&'a ExportOptions>) -> &'a str {
        self.bridge
            .as_deref()
            .or(opts.map(|o| o.bridge.as_str()))
            .unwrap_or(DEFAULT_BRIDGE)
    }
}

/// Output format of [`run_show`] and [`run_validate`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Human-readable text with row UUIDs and every column.
    #[default]
    Text,
    /// The `Network` object as YAML (can be fed back to `apply -f`).
    Yaml,
    /// The `Network` object as JSON (can be fed back to `apply -f`).
    Json,
}

/// What a command prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// For standard output.
    pub stdout: String,
    /// For standard error (warnings); empty when there are none.
    pub stderr: String,
}

/// Arguments of `flowwire ovs apply`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyArgs {
    /// `--db`, `--bridge`, `--timeout`.
    pub conn: Connection,
    /// `-f FILE`: the Network object, patch or exportNetworkFlows object; `-` reads stdin.
    pub file: PathBuf,
    /// `--options FILE`: per-protocol options (YAML/JSON, see [`ExportOptions`]).
    pub options: Option<PathBuf>,
    /// `--wait`: wait (up to the timeout) for ovs-vswitchd to apply the change.
    pub wait: bool,
    /// `--dry-run`: print the equivalent `ovs-vsctl` command instead of changing anything.
    pub dry_run: bool,
    /// `--allow-ipv6`: accept `[addr]:port` collectors (OVS takes them, the CRD does not).
    pub allow_ipv6: bool,
}

/// Arguments of `flowwire ovs show`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShowArgs {
    /// `--db`, `--bridge`, `--timeout`.
    pub conn: Connection,
    /// `--format`.
    pub format: Format,
    /// `-f FILE`: also print the diff between this desired spec and the bridge.
    pub file: Option<PathBuf>,
    /// `--options FILE`: options for the desired side of the diff.
    pub options: Option<PathBuf>,
    /// `--allow-ipv6` for the desired spec.
    pub allow_ipv6: bool,
}

/// Arguments of `flowwire ovs clear`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClearArgs {
    /// `--db`, `--bridge`, `--timeout`.
    pub conn: Connection,
    /// `--wait`.
    pub wait: bool,
    /// `--dry-run`.
    pub dry_run: bool,
}

/// Arguments of `flowwire ovs validate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidateArgs {
    /// `-f FILE`; `-` reads stdin.
    pub file: PathBuf,
    /// `--options FILE`.
    pub options: Option<PathBuf>,
    /// `--allow-ipv6`.
    pub allow_ipv6: bool,
    /// `--format`: text summary, or the normalised Network object.
    pub format: Format,
}

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

fn load_options(path: Option<&Path>) -> Result<Option<ExportOptions>, Error> {
    path.map(|p| {
        let (text, name) = read_input(p)?;
        ExportOptions::from_text(&text, &name)
    })
    .transpose()
}

/// Load and validate a spec file plus options; the bridge from `conn` wins over the options'.
fn load_all(
    file: &Path,
    options: Option<&Path>,
    allow_ipv6: bool,
    bridge: Option<&str>,
) -> Result<(ValidSpec, ExportOptions), Error> {
    let (text, name) = read_input(file)?;
    let (_, spec) = load_spec(&text, &name, &ValidateOptions { allow_ipv6 })?;
    let mut opts = load_options(options)?.unwrap_or_default();
    if let Some(b) = bridge {
        opts.bridge = b.to_owned();
    }
    opts.validate()?;
    Ok((spec, opts))
}

fn warnings_text(spec: &ValidSpec) -> String {
    if spec.warnings.is_empty() {
        String::new()
    } else {
        format!("{}\n", Diagnostics(spec.warnings.clone()))
    }
}

/// The `ovs-vsctl` global options equivalent to a connection.
fn vsctl_globals(conn: &Connection, wait: bool) -> Vec<String> {
    let mut g = Vec::new();
    if conn.db != DEFAULT_DB {
        g.push(format!("--db={}", conn.db));
    }
    if !wait {
        g.push("--no-wait".to_owned());
    }
    g.push(format!("--timeout={}", conn.timeout.as_secs().max(1)));
    g
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

/// `flowwire ovs apply -f FILE [--wait] [--dry-run]`: validate, then make the bridge export
/// what the file says in one transaction (nothing is written when it already does). With
/// `dry_run`, print the equivalent `ovs-vsctl` command instead (it still reads the database
/// to know what exists).
pub fn run_apply(args: &ApplyArgs) -> Result<Report, Error> {
    let (spec, opts) = load_all(
        &args.file,
        args.options.as_deref(),
        args.allow_ipv6,
        args.conn.bridge.as_deref(),
    )?;
    let stderr = warnings_text(&spec);
    let mut stdout = String::new();
    if args.dry_run {
        let plan = match Configurator::connect(&args.conn.db, args.conn.timeout) {
            Ok(mut cfg) => cfg.plan(&spec, &opts)?,
            // Offline: commands that are right whatever the bridge has now.
            Err(e @ (Error::Io { .. } | Error::Timeout { .. })) => {
                let _ = writeln!(
                    stdout,
                    "# could not read the current state ({e});\n\
                     # these commands replace whatever the bridge exports"
                );
                let desired = DesiredExport::new(&spec, &opts, &SchemaInfo::everything())?;
                Plan::blind(&desired)
            }
            Err(e) => return Err(e),
        };
        let _ = writeln!(stdout, "# {}", plan.to_string().replace('\n', "\n# "));
        stdout.push_str(&plan.vsctl_script(&vsctl_globals(&args.conn, args.wait)));
        return Ok(Report { stdout, stderr });
    }
    let mut cfg = Configurator::connect(&args.conn.db, args.conn.timeout)?;
    let outcome = cfg.apply(&spec, &opts, args.wait.then_some(args.conn.timeout))?;
    describe_outcome(&mut stdout, &outcome, args.wait);
    Ok(Report { stdout, stderr })
}

/// `flowwire ovs clear [--wait] [--dry-run]`: stop all flow export on the bridge (clear its
/// netflow, sflow and ipfix columns in one transaction).
pub fn run_clear(args: &ClearArgs) -> Result<Report, Error> {
    let bridge = args.conn.bridge_or(None).to_owned();
    let mut cfg = Configurator::connect(&args.conn.db, args.conn.timeout)?;
    let mut stdout = String::new();
    if args.dry_run {
        let current = cfg.read(&bridge)?;
        let plan = Plan::new(&DesiredExport::nothing(&bridge), &current);
        let _ = writeln!(stdout, "# {}", plan.to_string().replace('\n', "\n# "));
        stdout.push_str(&plan.vsctl_script(&vsctl_globals(&args.conn, args.wait)));
        return Ok(Report {
            stdout,
            stderr: String::new(),
        });
    }
    let outcome = cfg.clear(&bridge, args.wait.then_some(args.conn.timeout))?;
    describe_outcome(&mut stdout, &outcome, args.wait);
    Ok(Report {
        stdout,
        stderr: String::new(),
    })
}

/// `flowwire ovs show [-f FILE]`: what the bridge exports, as text (every column and row
/// UUID) or as the `Network` object (YAML/JSON, which `apply -f` accepts back); with a file,
/// also the diff from the bridge's state to the file's.
pub fn run_show(args: &ShowArgs) -> Result<Report, Error> {
    let desired = match &args.file {
        Some(f) => Some(load_all(
            f,
            args.options.as_deref(),
            args.allow_ipv6,
            args.conn.bridge.as_deref(),
        )?),
        None => None,
    };
    let bridge = args
        .conn
        .bridge_or(desired.as_ref().map(|(_, o)| o))
        .to_owned();
    let mut cfg = Configurator::connect(&args.conn.db, args.conn.timeout)?;
    let current = cfg.read(&bridge)?;
    let mut stdout = match args.format {
        Format::Text => show_text(&current),
        Format::Yaml => serde_yaml_ng::to_string(&show_model(&current))
            .map_err(|e| Error::Output(e.to_string()))?,
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&show_model(&current))
                .map_err(|e| Error::Output(e.to_string()))?;
            s.push('\n');
            s
        }
    };
    let mut stderr = String::new();
    if let Some((spec, opts)) = desired {
        stderr = warnings_text(&spec);
        let plan = Plan::new(&cfg.desired(&spec, &opts)?, &current);
        let diff = format!("diff (current -> desired):\n{plan}\n");
        if args.format == Format::Text {
            stdout.push('\n');
            stdout.push_str(&diff);
        } else {
            stderr.push_str(&diff);
        }
    }
    Ok(Report { stdout, stderr })
}

/// The `Network` object the bridge's state corresponds to.
///
/// Targets are shown exactly as OVS stores them (sorted), even ones this crate's validation
/// would refuse, so nothing on the bridge is hidden.
pub fn show_model(current: &CurrentExport) -> Network {
    let mut model = ExportNetworkFlows::default();
    let mut any = false;
    for p in Protocol::ALL {
        if let Some(t) = current.targets(p) {
            any = true;
            *model.get_mut(p) = Some(CollectorConfig {
                collectors: Some(t.into_iter().collect()),
            });
        }
    }
    Network::cluster(any.then_some(model))
}

fn show_text(c: &CurrentExport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "bridge {} ({})", c.bridge, c.bridge_uuid);
    for p in Protocol::ALL {
        match c.get(p) {
            None => {
                let _ = writeln!(out, "{}: not configured", p.spec_field());
            }
            Some(r) => {
                let _ = writeln!(out, "{}: {} row {}", p.spec_field(), p.table(), r.uuid);
                for (col, v) in r.row.ordered() {
                    let _ = writeln!(out, "  {col:<20} {v}");
                }
            }
        }
    }
    out
}

/// `flowwire ovs validate -f FILE`: check a spec (and options) without touching OVS. Errors
/// come back as [`Error::Invalid`] listing every problem with its field path and value;
/// warnings (dropped duplicates) are in [`Report::stderr`].
pub fn run_validate(args: &ValidateArgs) -> Result<Report, Error> {
    let (spec, opts) = load_all(&args.file, args.options.as_deref(), args.allow_ipv6, None)?;
    let stderr = warnings_text(&spec);
    let stdout = match args.format {
        Format::Text => {
            let mut s = String::new();
            let _ = writeln!(s, "{}: valid (bridge {})", args.file.display(), opts.bridge);
            for p in Protocol::ALL {
                match spec.get(p) {
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
        Format::Yaml => serde_yaml_ng::to_string(&Network::cluster(Some(spec.to_model())))
            .map_err(|e| Error::Output(e.to_string()))?,
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&Network::cluster(Some(spec.to_model())))
                .map_err(|e| Error::Output(e.to_string()))?;
            s.push('\n');
            s
        }
    };
    Ok(Report { stdout, stderr })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temp dir removed on drop (even when the test fails).
    struct TmpDir(PathBuf);

    impl TmpDir {
        fn new(test: &str) -> TmpDir {
            let dir = std::env::temp_dir().join(format!("fw-ovs-{test}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TmpDir(dir)
        }

        fn file(&self, name: &str, text: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, text).unwrap();
            p
        }
    }

    impl Drop for TmpDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn validate_reports_warnings_and_errors() {
        let dir = TmpDir::new("validate");
        let f = dir.file(
            "ok.yaml",
            "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"1.2.3.4:2056\", \"1.2.3.4:2056\"]\n",
        );
        let r = run_validate(&ValidateArgs {
            file: f.clone(),
            ..Default::default()
        })
        .unwrap();
        assert!(r.stdout.contains("netFlow: 1.2.3.4:2056\n"), "{}", r.stdout);
        assert!(
            r.stderr
                .contains("warning: spec.exportNetworkFlows.netFlow.collectors[1]")
        );
        let y = run_validate(&ValidateArgs {
            file: f,
            format: Format::Yaml,
            ..Default::default()
        })
        .unwrap();
        assert!(y.stdout.contains("kind: Network"), "{}", y.stdout);

        let bad = dir.file("bad.yaml", "sFlow:\n  collectors: [\"300.1.1.1:6343\"]\n");
        let e = run_validate(&ValidateArgs {
            file: bad,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains("sFlow.collectors[0]: \"300.1.1.1:6343\""),
            "{e}"
        );
        let missing = run_validate(&ValidateArgs {
            file: PathBuf::from("/nonexistent/x.yaml"),
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(missing, Error::ReadFile { .. }));
    }

    #[test]
    fn globals() {
        let c = Connection::default();
        assert_eq!(vsctl_globals(&c, true), ["--timeout=15"]);
        let c = Connection {
            db: "unix:/tmp/x.sock".into(),
            ..Default::default()
        };
        assert_eq!(
            vsctl_globals(&c, false),
            ["--db=unix:/tmp/x.sock", "--no-wait", "--timeout=15"]
        );
    }

    #[test]
    fn unreachable_db_is_an_io_error() {
        let dir = TmpDir::new("unreachable");
        let f = dir.file("n.yaml", "netFlow: {collectors: [\"1.2.3.4:2056\"]}\n");
        let e = run_apply(&ApplyArgs {
            conn: Connection {
                db: "unix:/nonexistent/db.sock".into(),
                ..Default::default()
            },
            file: f,
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
        assert_eq!(e.exit_code(), 1);
        let dry = run_apply(&ApplyArgs {
            conn: Connection {
                db: "unix:/nonexistent/db.sock".into(),
                ..Default::default()
            },
            file: dir.file("n.yaml", "netFlow: {collectors: [\"1.2.3.4:2056\"]}\n"),
            dry_run: true,
            ..Default::default()
        })
        .unwrap();
        assert!(
            dry.stdout.contains("# could not read the current state"),
            "{}",
            dry.stdout
        );
        assert!(
            dry.stdout.contains("-- clear Bridge br-int sflow ipfix"),
            "{}",
            dry.stdout
        );
    }
}
