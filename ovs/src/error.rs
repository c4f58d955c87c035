//! The crate's error type and the validation diagnostics it carries.

use std::fmt;
use std::time::Duration;

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// The input is rejected.
    Error,
    /// The input is accepted, but something was changed or is worth a look (for example a
    /// duplicate collector that was dropped).
    Warning,
}

/// One problem found in a spec or in the options: where (`path`), what was there (`value`)
/// and what is wrong with it (`message`).
///
/// Displays as `error: spec.exportNetworkFlows.netFlow.collectors[0]: "01.2.3.4:2056": ...`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The field path, e.g. `spec.exportNetworkFlows.netFlow.collectors[2]`.
    pub path: String,
    /// The offending value as written (JSON text for non-strings), empty when the problem is
    /// a missing value.
    pub value: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic of severity [`Severity::Error`].
    pub fn error(
        path: impl Into<String>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: path.into(),
            value: value.into(),
            message: message.into(),
        }
    }

    /// A diagnostic of severity [`Severity::Warning`].
    pub fn warning(
        path: impl Into<String>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, value, message)
        }
    }

    /// `true` for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        if self.value.is_empty() {
            write!(f, "{sev}: {path}: {}", self.message)
        } else {
            write!(f, "{sev}: {path}: {}: {}", self.value, self.message)
        }
    }
}

/// A list of diagnostics, displayed one per line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    /// `true` when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// An error returned by an OVSDB operation inside a transaction (RFC 7047 §4.1.3), or by the
/// commit of the transaction itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvsdbError {
    /// Index of the failing operation in the transaction; equal to the number of operations
    /// when the commit failed after every operation succeeded.
    pub index: usize,
    /// The failing operation's `op` (`"insert"`, `"wait"`, ...) or `"commit"`.
    pub op: String,
    /// OVSDB's `error` string, e.g. `constraint violation` or `timed out`.
    pub error: String,
    /// OVSDB's `details`, when it sent any.
    pub details: Option<String>,
}

impl fmt::Display for OvsdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OVSDB {} failed (operation {}): {}",
            self.op, self.index, self.error
        )?;
        if let Some(d) = &self.details {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec or the options are invalid; every problem is listed (warnings included).
    #[error("{0}")]
    Invalid(Diagnostics),
    /// The input is not well-formed YAML/JSON.
    #[error("{path}: cannot parse: {message}")]
    Syntax {
        /// The file (or `-` for standard input).
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Reading an input file failed.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The `--db` value is not `unix:PATH` or `tcp:HOST:PORT`.
    #[error("bad database address {0:?}: expected unix:PATH or tcp:HOST:PORT")]
    BadEndpoint(String),
    /// Connecting to, writing to or reading from OVSDB failed.
    #[error("OVSDB {endpoint}: {context}: {source}")]
    Io {
        /// The server address.
        endpoint: String,
        /// What was being done.
        context: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No answer (or no applied configuration) within the time limit.
    #[error("OVSDB {endpoint}: {what} timed out after {after:?}")]
    Timeout {
        /// The server address.
        endpoint: String,
        /// What was being waited for.
        what: String,
        /// The limit.
        after: Duration,
    },
    /// The server sent something that is not valid JSON-RPC / OVSDB.
    #[error("OVSDB {endpoint}: protocol error: {message}")]
    Protocol {
        /// The server address.
        endpoint: String,
        /// What was wrong.
        message: String,
    },
    /// The server answered a JSON-RPC request with a top-level `error`.
    #[error("OVSDB {endpoint}: {method} failed: {error}")]
    Rpc {
        /// The server address.
        endpoint: String,
        /// The request's method.
        method: String,
        /// The `error` member as JSON text.
        error: String,
    },
    /// An operation of a transaction, or its commit, failed; the transaction was rolled back.
    #[error("{0}")]
    Ovsdb(OvsdbError),
    /// The bridge does not exist in the database.
    #[error("bridge {0:?} not found in the Open_vSwitch database")]
    BridgeNotFound(String),
    /// The bridge's netflow/sflow/ipfix columns changed between reading and writing (or the
    /// bridge disappeared); nothing was written, try again.
    #[error(
        "bridge {0:?} was changed or removed by someone else while applying; nothing was written, retry"
    )]
    ConcurrentChange(String),
    /// The server's schema lacks a column that the options ask for.
    #[error("the server's Open_vSwitch schema {version} has no {table}.{column} column: {hint}")]
    Unsupported {
        /// Schema version reported by the server.
        version: String,
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// Which option to drop.
        hint: String,
    },
    /// A row read from OVSDB does not have the expected shape.
    #[error("unexpected OVSDB data in {table}.{column}: {value}")]
    BadData {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// The value as JSON text.
        value: String,
    },
    /// Asking ovs-vswitchd over a bridge's OpenFlow management socket failed.
    #[error("OpenFlow {socket}: {message}")]
    OpenFlow {
        /// The socket, `unix:PATH`.
        socket: String,
        /// What went wrong.
        message: String,
    },
    /// Serializing output failed.
    #[error("cannot serialize output: {0}")]
    Output(String),
}

impl Error {
    /// `true` when the input is at fault (bad spec, bad options, unreadable file, malformed
    /// database address): trying again without changing the input gives the same error.
    /// Everything else (OVSDB unreachable or failing, a bridge missing, a concurrent change)
    /// may pass on its own.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Error::Invalid(_)
                | Error::Syntax { .. }
                | Error::ReadFile { .. }
                | Error::BadEndpoint(_)
        )
    }
}
