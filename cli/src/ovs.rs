//! `flowwire ovs`: apply the operator's exportNetworkFlows spec to Open vSwitch.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use flowwire_ovs::cli::{self, ApplyArgs, ClearArgs, Connection, Format, ShowArgs, ValidateArgs};

#[derive(Debug, Args)]
pub(crate) struct OvsArgs {
    #[command(subcommand)]
    command: OvsCommand,
}

#[derive(Debug, Args)]
struct ConnArgs {
    /// OVSDB server: unix:PATH or tcp:HOST:PORT.
    #[arg(long, default_value = cli::DEFAULT_DB)]
    db: String,
    /// The bridge to configure (default: the options file's, else br-int).
    #[arg(long)]
    bridge: Option<String>,
    /// Seconds to wait for each OVSDB call (and for --wait).
    #[arg(long, default_value_t = 15)]
    timeout: u64,
}

impl ConnArgs {
    fn connection(self) -> Connection {
        Connection {
            db: self.db,
            bridge: self.bridge,
            timeout: Duration::from_secs(self.timeout),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutFormat {
    Text,
    Yaml,
    Json,
}

impl From<OutFormat> for Format {
    fn from(f: OutFormat) -> Self {
        match f {
            OutFormat::Text => Format::Text,
            OutFormat::Yaml => Format::Yaml,
            OutFormat::Json => Format::Json,
        }
    }
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
        #[arg(long)]
        dry_run: bool,
        /// Accept [addr]:port IPv6 collectors (OVS takes them; the operator's CRD does not).
        #[arg(long)]
        allow_ipv6: bool,
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
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OutFormat,
    },
}

pub(crate) fn run(args: OvsArgs) -> ExitCode {
    let result = match args.command {
        OvsCommand::Apply {
            file,
            options,
            wait,
            dry_run,
            allow_ipv6,
            conn,
        } => cli::run_apply(&ApplyArgs {
            conn: conn.connection(),
            file,
            options,
            wait,
            dry_run,
            allow_ipv6,
        }),
        OvsCommand::Show {
            file,
            options,
            format,
            allow_ipv6,
            conn,
        } => cli::run_show(&ShowArgs {
            conn: conn.connection(),
            format: format.into(),
            file,
            options,
            allow_ipv6,
        }),
        OvsCommand::Clear {
            wait,
            dry_run,
            conn,
        } => cli::run_clear(&ClearArgs {
            conn: conn.connection(),
            wait,
            dry_run,
        }),
        OvsCommand::Validate {
            file,
            options,
            allow_ipv6,
            format,
        } => cli::run_validate(&ValidateArgs {
            file,
            options,
            allow_ipv6,
            format: format.into(),
        }),
    };
    match result {
        Ok(report) => {
            print!("{}", report.stdout);
            eprint!("{}", report.stderr);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("flowwire ovs: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
