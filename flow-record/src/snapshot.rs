//! A session's learned state as a value: what a collector saves before it stops and restores
//! when it starts again, so that NetFlow v9 and IPFIX data decodes at once instead of after
//! every exporter has resent its templates (some routers take 30 minutes).
//!
//! A [`SessionSnapshot`] holds, per (exporter, domain), the templates with the time each was
//! last received and what options data announced (sampling per sampler and for the domain,
//! interface names, the system init time). It is versioned ([`SNAPSHOT_VERSION`]) and, with the
//! `serde` feature, serializable (flowwire's CLI writes it as JSON). Both codecs take it
//! (`Session::snapshot` and `Session::restore` in `flowwire-netflow` and `flowwire-ipfix`).
//!
//! A saved state is untrusted input like a datagram: restoring checks the version and the
//! protocol, rebuilds every template through the same checks as one received on the wire,
//! keeps within the session's limits and counts what they refused. Anything that does not
//! check out is a [`SnapshotError`] that says where, and leaves the session empty.
//!
//! Not saved: data waiting for a template, sequence numbers (an exporter's numbering moves on
//! while the collector is down), counters.

use std::net::SocketAddr;

use crate::options::{ExporterOptions, OptionsLimits};
use crate::record::ProtocolKind;
use crate::template_store::{TemplateCost, TemplateStore};
use crate::time::Timestamp;

/// The version of the snapshot layout written by this release. Restoring refuses others.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Everything a NetFlow v9 or IPFIX session learned; see the module docs.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionSnapshot {
    /// [`SNAPSHOT_VERSION`] when written.
    pub version: u32,
    /// The protocol of the session (`netflow9` or `ipfix`).
    pub protocol: ProtocolKind,
    /// One entry per (exporter, domain) with templates or options state.
    pub domains: Vec<DomainSnapshot>,
}

impl SessionSnapshot {
    /// An empty snapshot of `protocol`'s session.
    pub fn new(protocol: ProtocolKind) -> Self {
        SessionSnapshot {
            version: SNAPSHOT_VERSION,
            protocol,
            domains: Vec::new(),
        }
    }

    /// The number of templates held, in all domains.
    pub fn template_count(&self) -> usize {
        self.domains.iter().map(|d| d.templates.len()).sum()
    }

    /// Checks what a restore checks first: the version and the protocol.
    pub fn check_header(&self, protocol: ProtocolKind) -> Result<(), SnapshotError> {
        if self.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version {
                found: self.version,
                expected: SNAPSHOT_VERSION,
            });
        }
        if self.protocol != protocol {
            return Err(SnapshotError::Protocol {
                found: self.protocol,
                expected: protocol,
            });
        }
        Ok(())
    }
}

/// The state of one (exporter, domain): observation domain id (IPFIX) or source id (v9).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DomainSnapshot {
    /// The exporter as the session keys it (port 0 under `KeyPolicy::AddressOnly`).
    pub exporter: SocketAddr,
    /// The observation domain id or source id.
    pub domain: u32,
    /// What options data announced.
    #[cfg_attr(feature = "serde", serde(default))]
    pub options: ExporterOptions,
    /// The templates, data and options.
    pub templates: Vec<TemplateSnapshot>,
}

/// One template as it was defined on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TemplateSnapshot {
    /// The template id (256 and above).
    pub id: u16,
    /// Whether it is an options template.
    #[cfg_attr(feature = "serde", serde(default))]
    pub options: bool,
    /// Options templates: how many of `fields` (the first ones) are scope fields.
    #[cfg_attr(feature = "serde", serde(default))]
    pub scope_fields: u16,
    /// The field specifiers in template order.
    pub fields: Vec<FieldSnapshot>,
    /// When the template was last received (its lifetime counts from here).
    pub received: Timestamp,
}

/// A field specifier: element id (or NetFlow v9 scope type), enterprise number, length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FieldSnapshot {
    /// The element id without the enterprise bit (NetFlow v9: the field or scope type).
    pub id: u16,
    /// The private enterprise number, when the enterprise bit was set (never in NetFlow v9).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub pen: Option<u32>,
    /// The length in octets, 65535 for variable-length fields.
    pub length: u16,
}

/// What [`restore`](SessionSnapshot) did, when it succeeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Restored {
    /// (Exporter, domain) pairs restored.
    pub domains: usize,
    /// Templates restored.
    pub templates: usize,
    /// Templates left out because their lifetime had passed by the time of the restore.
    pub expired: usize,
    /// Templates or domains refused by the session's limits (counted in its store's
    /// statistics too).
    pub refused: usize,
}

impl core::ops::AddAssign for Restored {
    fn add_assign(&mut self, o: Restored) {
        self.domains += o.domains;
        self.templates += o.templates;
        self.expired += o.expired;
        self.refused += o.refused;
    }
}

/// Why a snapshot was not restored. The session is left empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Written by another layout version.
    #[error("state version {found}, this release reads version {expected}")]
    Version {
        /// The snapshot's version.
        found: u32,
        /// [`SNAPSHOT_VERSION`].
        expected: u32,
    },
    /// The state of another protocol's session.
    #[error("state of a {found} session given to a {expected} session")]
    Protocol {
        /// The snapshot's protocol.
        found: ProtocolKind,
        /// The session's.
        expected: ProtocolKind,
    },
    /// A domain entry that does not check out.
    #[error("domain entry {index} ({exporter}, domain {domain}): {problem}")]
    Domain {
        /// Its position in [`SessionSnapshot::domains`].
        index: usize,
        /// Its exporter.
        exporter: SocketAddr,
        /// Its domain id.
        domain: u32,
        /// What is wrong.
        problem: String,
    },
    /// A template that a session would have refused on the wire.
    #[error(
        "domain entry {index} ({exporter}, domain {domain}), template {template_id}: {problem}"
    )]
    Template {
        /// Its domain's position in [`SessionSnapshot::domains`].
        index: usize,
        /// Its exporter.
        exporter: SocketAddr,
        /// Its domain id.
        domain: u32,
        /// Its id.
        template_id: u16,
        /// Why it was refused (the codec's own template error).
        problem: String,
    },
    /// A saved state that could not be read or parsed (raised by whoever reads the file).
    #[error("state file: {0}")]
    Unreadable(String),
}

/// Whether a template received at `received` is past `lifetime` at `now`.
pub fn is_expired(
    received: Timestamp,
    lifetime: Option<std::time::Duration>,
    now: Timestamp,
) -> bool {
    lifetime.is_some_and(|life| {
        let age = now.unix_nanos().saturating_sub(received.unix_nanos());
        age > i64::try_from(life.as_nanos()).unwrap_or(i64::MAX)
    })
}

/// A template as a codec stores it, written back to the specifiers it was built from.
pub trait TemplateSpecs {
    /// The template's id, kind and field specifiers (`received` is filled by the caller).
    fn to_snapshot(&self, received: Timestamp) -> TemplateSnapshot;
}

/// The snapshot of a template store whose per-domain state holds an [`ExporterOptions`]:
/// what both codecs' `Session::snapshot` return. Domains and templates come out sorted, so
/// the same state always gives the same snapshot.
pub fn snapshot_store<T, S>(
    store: &TemplateStore<SocketAddr, T, S>,
    protocol: ProtocolKind,
    options: impl Fn(&S) -> &ExporterOptions,
) -> SessionSnapshot
where
    T: TemplateSpecs + TemplateCost + PartialEq,
    S: Default,
{
    let mut snapshot = SessionSnapshot::new(protocol);
    for (exporter, domain, d) in store.domains() {
        let mut templates: Vec<TemplateSnapshot> = d
            .entries()
            .map(|(_, t, received)| t.to_snapshot(received))
            .collect();
        templates.sort_by_key(|t| t.id);
        let options = options(&d.state).clone();
        if templates.is_empty() && options == ExporterOptions::default() {
            continue;
        }
        snapshot.domains.push(DomainSnapshot {
            exporter: *exporter,
            domain,
            options,
            templates,
        });
    }
    snapshot.domains.sort_by_key(|a| (a.exporter, a.domain));
    snapshot
}

/// Restores a snapshot into a template store, emptied first: the shared part of both
/// codecs' `Session::restore`. `build` rebuilds one template with the codec's own checks
/// (an error is the reason it was refused); `options` stores a domain's announced options
/// in its state. Templates past `lifetime` at `now` are left out; one received after `now`
/// counts from `now`. On an error the store is left empty.
pub fn restore_store<T, S>(
    store: &mut TemplateStore<SocketAddr, T, S>,
    snapshot: &SessionSnapshot,
    protocol: ProtocolKind,
    limits: &OptionsLimits,
    now: Timestamp,
    mut build: impl FnMut(&TemplateSnapshot) -> Result<T, String>,
    mut options: impl FnMut(&mut S, ExporterOptions),
) -> Result<Restored, SnapshotError>
where
    T: TemplateCost + PartialEq,
    S: Default,
{
    store.clear();
    let result = restore_checked(
        store,
        snapshot,
        protocol,
        limits,
        now,
        &mut build,
        &mut options,
    );
    if result.is_err() {
        store.clear();
    }
    result
}

fn restore_checked<T, S>(
    store: &mut TemplateStore<SocketAddr, T, S>,
    snapshot: &SessionSnapshot,
    protocol: ProtocolKind,
    limits: &OptionsLimits,
    now: Timestamp,
    build: &mut impl FnMut(&TemplateSnapshot) -> Result<T, String>,
    options: &mut impl FnMut(&mut S, ExporterOptions),
) -> Result<Restored, SnapshotError>
where
    T: TemplateCost + PartialEq,
    S: Default,
{
    snapshot.check_header(protocol)?;
    let lifetime = store.limits().template_lifetime;
    let mut seen = std::collections::HashSet::new();
    let mut done = Restored::default();
    for (index, d) in snapshot.domains.iter().enumerate() {
        let domain_error = |problem: String| SnapshotError::Domain {
            index,
            exporter: d.exporter,
            domain: d.domain,
            problem,
        };
        if !seen.insert((d.exporter, d.domain)) {
            return Err(domain_error("the same exporter and domain twice".into()));
        }
        d.options.check(limits).map_err(domain_error)?;
        let mut ids = std::collections::HashSet::new();
        let mut built = Vec::with_capacity(d.templates.len().min(4096));
        for t in &d.templates {
            let template_error = |problem: String| SnapshotError::Template {
                index,
                exporter: d.exporter,
                domain: d.domain,
                template_id: t.id,
                problem,
            };
            if !ids.insert(t.id) {
                return Err(template_error("the same template id twice".into()));
            }
            let template = build(t).map_err(template_error)?;
            built.push((t.id, template, t.received.min(now)));
        }
        let Some(state) = store.domain_mut(&d.exporter, d.domain) else {
            done.refused += 1 + built.len();
            continue;
        };
        options(&mut state.state, d.options.clone());
        done.domains += 1;
        for (id, template, received) in built {
            if is_expired(received, lifetime, now) {
                done.expired += 1;
            } else if store
                .insert(d.exporter, d.domain, id, template, received)
                .is_stored()
            {
                done.templates += 1;
            } else {
                done.refused += 1;
            }
        }
    }
    Ok(done)
}
