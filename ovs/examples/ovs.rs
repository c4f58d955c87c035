//! `flowwire ovs` without the flowwire binary: a minimal, hand-parsed front end over
//! [`flowwire_ovs::cli`], showing how a command line wires the `run_*` functions.
//!
//! ```text
//! cargo run -p flowwire-ovs --example ovs -- apply -f network.yaml [--wait] [--dry-run]
//! cargo run -p flowwire-ovs --example ovs -- show [-f network.yaml] [--format text|yaml|json]
//! cargo run -p flowwire-ovs --example ovs -- clear [--wait] [--dry-run]
//! cargo run -p flowwire-ovs --example ovs -- validate -f network.yaml
//! common: --db unix:PATH|tcp:HOST:PORT  --bridge NAME  --options FILE  --timeout SECS  --allow-ipv6
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use flowwire_ovs::cli::{self, ApplyArgs, ClearArgs, Connection, Format, ShowArgs, ValidateArgs};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: ovs apply|show|clear|validate [options]");
        return ExitCode::from(2);
    };
    let mut conn = Connection::default();
    let (mut file, mut options, mut format) = (None, None, Format::Text);
    let (mut wait, mut dry_run, mut allow_ipv6) = (false, false, false);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "-f" | "--file" => file = Some(PathBuf::from(value())),
            "--options" => options = Some(PathBuf::from(value())),
            "--db" => conn.db = value(),
            "--bridge" => conn.bridge = Some(value()),
            "--timeout" => conn.timeout = Duration::from_secs(value().parse().unwrap_or(15)),
            "--format" => {
                format = match value().as_str() {
                    "yaml" => Format::Yaml,
                    "json" => Format::Json,
                    _ => Format::Text,
                }
            }
            "--wait" => wait = true,
            "--dry-run" => dry_run = true,
            "--allow-ipv6" => allow_ipv6 = true,
            other => {
                eprintln!("unknown argument {other}");
                return ExitCode::from(2);
            }
        }
    }
    let result = match cmd.as_str() {
        "apply" => cli::run_apply(&ApplyArgs {
            conn,
            file: file.unwrap_or_else(|| PathBuf::from("-")),
            options,
            wait,
            dry_run,
            allow_ipv6,
        }),
        "show" => cli::run_show(&ShowArgs {
            conn,
            format,
            file,
            options,
            allow_ipv6,
        }),
        "clear" => cli::run_clear(&ClearArgs {
            conn,
            wait,
            dry_run,
        }),
        "validate" => cli::run_validate(&ValidateArgs {
            file: file.unwrap_or_else(|| PathBuf::from("-")),
            options,
            allow_ipv6,
            format,
        }),
        other => {
            eprintln!("unknown command {other}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(report) => {
            print!("{}", report.stdout);
            eprint!("{}", report.stderr);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
