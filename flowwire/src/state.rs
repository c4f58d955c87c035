//! A collector's learned state on disk: [`CollectorState`] holds the NetFlow v9 and IPFIX
//! sessions' snapshots ([`flowwire_record::snapshot`]), so that a restarted collector decodes
//! data at once instead of waiting for every exporter to resend its templates.
//!
//! The file is JSON (versioned, readable, diffable). It is written to a temporary name beside
//! the target, flushed to disk and renamed over it, so a crash leaves the old file or the new
//! one, never half of one. Reading it back is bounded ([`DEFAULT_MAX_STATE_BYTES`]) and every
//! template goes through the checks of one received on the wire.
//!
//! ```
//! # #[cfg(all(feature = "serde", feature = "ipfix"))] {
//! use flowwire::state::CollectorState;
//! use flowwire::{Collector, Decoder, FlowRecord, Timestamp};
//!
//! // An IPFIX message with a template (256: sourceIPv4Address, octetDeltaCount) and a data
//! // set of one record.
//! let msg: &[u8] = &[
//!     0, 10, 0, 48, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1, //
//!     0, 2, 0, 16, 1, 0, 0, 2, 0, 8, 0, 4, 0, 1, 0, 8, //
//!     1, 0, 0, 16, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 220,
//! ];
//! let exporter = "192.0.2.1:4739".parse()?;
//! let now = Timestamp::now();
//! let mut before = Collector::default();
//! before.decode(exporter, now, msg, &mut |_: &FlowRecord| {});
//!
//! let path = std::env::temp_dir().join(format!("flowwire-doc-state-{}.json", std::process::id()));
//! before.snapshot(now).save(&path)?;
//!
//! // A new collector, restored from the file, decodes data without the template.
//! let mut after = Collector::default();
//! let restored = after.restore(&CollectorState::load(&path)?, now)?;
//! assert_eq!(restored.templates, 1);
//! let data_only = [&[0, 10, 0, 32][..], &msg[4..16], &msg[32..]].concat();
//! let summary = after.decode(exporter, now, &data_only, &mut |_: &FlowRecord| {});
//! assert_eq!((summary.flows, summary.errors), (1, 0));
//! # std::fs::remove_file(&path)?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// With a codec left out, parts of this module go unused.
#![cfg_attr(
    not(all(feature = "netflow", feature = "ipfix")),
    allow(unused_variables, unused_mut, dead_code)
)]

#[cfg(feature = "serde")]
use std::io::{self, Read, Write};
use std::net::SocketAddr;
#[cfg(feature = "serde")]
use std::path::Path;

use flowwire_record::Timestamp;
pub use flowwire_record::snapshot::{Restored, SNAPSHOT_VERSION, SessionSnapshot, SnapshotError};

/// The `format` of every state, so that another JSON file is refused early.
pub const FORMAT: &str = "flowwire-collector-state";

/// The largest state file [`CollectorState::load`] reads (256 MiB: far above the default
/// template store limits of both sessions).
pub const DEFAULT_MAX_STATE_BYTES: u64 = 256 << 20;

/// A collector's learned state: the snapshots of its NetFlow and IPFIX sessions.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CollectorState {
    /// Always `"flowwire-collector-state"`.
    pub format: String,
    /// When it was taken.
    pub saved_at: Timestamp,
    /// The NetFlow v9 session's snapshot.
    pub netflow: Option<SessionSnapshot>,
    /// The IPFIX session's snapshot.
    pub ipfix: Option<SessionSnapshot>,
}

impl CollectorState {
    /// An empty state taken at `saved_at`.
    pub fn new(saved_at: Timestamp) -> Self {
        CollectorState {
            format: FORMAT.into(),
            saved_at,
            netflow: None,
            ipfix: None,
        }
    }

    /// Templates held, both protocols.
    pub fn template_count(&self) -> usize {
        [&self.netflow, &self.ipfix]
            .into_iter()
            .flatten()
            .map(SessionSnapshot::template_count)
            .sum()
    }

    /// Adds another collector's state (each decoder thread of a pipeline has its own
    /// exporters, so their states do not overlap).
    pub fn merge(&mut self, other: CollectorState) {
        for (mine, theirs) in [
            (&mut self.netflow, other.netflow),
            (&mut self.ipfix, other.ipfix),
        ] {
            match (mine.as_mut(), theirs) {
                (Some(m), Some(t)) => {
                    m.domains.extend(t.domains);
                    m.domains.sort_by_key(|a| (a.exporter, a.domain));
                }
                (None, Some(t)) => *mine = Some(t),
                (_, None) => {}
            }
        }
        self.saved_at = self.saved_at.max(other.saved_at);
    }

    /// Keeps only the exporters for which `keep` is true (how a pipeline hands each decoder
    /// thread its share).
    pub fn retain(&mut self, keep: impl Fn(SocketAddr) -> bool) {
        for s in [&mut self.netflow, &mut self.ipfix].into_iter().flatten() {
            s.domains.retain(|d| keep(d.exporter));
        }
    }

    /// Checks the format name (what [`from_json`](Self::from_json) checks, for a state
    /// built some other way).
    pub fn check_format(&self) -> Result<(), SnapshotError> {
        if self.format == FORMAT {
            Ok(())
        } else {
            Err(SnapshotError::Unreadable(format!(
                "format {:?}, not {FORMAT:?}",
                self.format
            )))
        }
    }

    #[cfg(feature = "serde")]
    /// Writes the state to `path` atomically: to `path` + `.tmp`, synced, then renamed.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let write = || -> io::Result<()> {
            let file = std::fs::File::create(&tmp)?;
            let mut out = io::BufWriter::new(file);
            serde_json::to_writer(&mut out, self).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        let result = write();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    #[cfg(feature = "serde")]
    /// Reads a state written by [`save`](Self::save), at most
    /// [`DEFAULT_MAX_STATE_BYTES`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SnapshotError> {
        Self::load_bounded(path, DEFAULT_MAX_STATE_BYTES)
    }

    #[cfg(feature = "serde")]
    /// Reads a state file of at most `max_bytes` octets.
    pub fn load_bounded(path: impl AsRef<Path>, max_bytes: u64) -> Result<Self, SnapshotError> {
        let path = path.as_ref();
        let unreadable = |e: String| SnapshotError::Unreadable(format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
        let mut bytes = Vec::new();
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| unreadable(e.to_string()))?;
        if bytes.len() as u64 > max_bytes {
            return Err(unreadable(format!("larger than {max_bytes} bytes")));
        }
        Self::from_json(&bytes).map_err(|e| match e {
            SnapshotError::Unreadable(m) => unreadable(m),
            e => e,
        })
    }

    #[cfg(feature = "serde")]
    /// Parses the JSON form.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SnapshotError> {
        let state: CollectorState = serde_json::from_slice(bytes)
            .map_err(|e| SnapshotError::Unreadable(format!("not a collector state: {e}")))?;
        state.check_format()?;
        Ok(state)
    }
}

impl crate::Collector {
    /// The learned state of the NetFlow and IPFIX sessions (sFlow has no templates), taken at
    /// `now`: what [`CollectorState::save`] writes.
    pub fn snapshot(&self, now: Timestamp) -> CollectorState {
        let mut state = CollectorState::new(now);
        #[cfg(feature = "netflow")]
        {
            state.netflow = Some(self.netflow().snapshot());
        }
        #[cfg(feature = "ipfix")]
        {
            state.ipfix = Some(self.ipfix().snapshot());
        }
        state
    }

    /// Replaces the NetFlow and IPFIX sessions' learned state with a saved one, as of `now`
    /// (see `Session::restore` of each codec). On an error neither session keeps any
    /// templates.
    pub fn restore(
        &mut self,
        state: &CollectorState,
        now: Timestamp,
    ) -> Result<Restored, SnapshotError> {
        let result = self.restore_sessions(state, now);
        if result.is_err() {
            #[cfg(feature = "netflow")]
            let _ = self.netflow_mut().restore(
                &SessionSnapshot::new(flowwire_record::ProtocolKind::Netflow9),
                now,
            );
            #[cfg(feature = "ipfix")]
            let _ = self.ipfix_mut().restore(
                &SessionSnapshot::new(flowwire_record::ProtocolKind::Ipfix),
                now,
            );
        }
        result
    }

    fn restore_sessions(
        &mut self,
        state: &CollectorState,
        now: Timestamp,
    ) -> Result<Restored, SnapshotError> {
        state.check_format()?;
        let mut done = Restored::default();
        #[cfg(feature = "netflow")]
        if let Some(s) = &state.netflow {
            done += self.netflow_mut().restore(s, now)?;
        }
        #[cfg(feature = "ipfix")]
        if let Some(s) = &state.ipfix {
            done += self.ipfix_mut().restore(s, now)?;
        }
        Ok(done)
    }
}
