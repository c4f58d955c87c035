//! Apply the cluster network operator's `exportNetworkFlows` spec to Open vSwitch over OVSDB
//! (RFC 7047).
//!
//! OpenShift's Cluster Network Operator takes `spec.exportNetworkFlows` (NetFlow, sFlow and
//! IPFIX collectors as `ip:port`) and, through OVN-Kubernetes, makes Open vSwitch on every
//! node export flows to them from bridge `br-int`. This crate does the same job as a small
//! library, without `ovs-vsctl`:
//!
//! - [`spec`]: the serde model of the spec (the whole `Network` object, a patch file, or the
//!   bare `exportNetworkFlows` object, YAML or JSON) and its validation, one
//!   [`Diagnostic`] per problem naming the field path and value;
//! - [`options`]: per-protocol settings beyond the spec, with the operator's defaults;
//! - [`ovsdb`]: a blocking OVSDB JSON-RPC client over a unix socket or TCP;
//! - [`rows`] and [`plan`]: the managed rows and the ONE transaction that turns the
//!   bridge's current state into the desired one (nothing when they already match, rows
//!   updated in place so their UUIDs and OVS's exporter state survive), or the equivalent
//!   `ovs-vsctl` command;
//! - [`configurator`]: read / apply / clear / show against a server, with typed results
//!   ([`Outcome`], [`ShowReport`]) for a front end to print;
//! - [`health`]: what ovs-vswitchd reports about the exporters (configuration applied or
//!   pending, IPFIX counters) and collector addresses that cannot work;
//! - [`watch`]: the [`watch::Reconciler`] that keeps a bridge matching the spec (OVSDB
//!   `monitor`, spec files followed, reconnection), as an operator would.
//!
//! The `flowwire ovs apply|show|clear|validate` commands of the `flowwire` binary are a thin
//! layer over these.
//!
//! ```
//! use flowwire_ovs::spec::{load_spec, ValidateOptions};
//! use flowwire_ovs::{rows::{DesiredExport, SchemaInfo}, ExportOptions, Protocol};
//!
//! let yaml = r#"
//! apiVersion: operator.openshift.io/v1
//! kind: Network
//! metadata:
//!   name: cluster
//! spec:
//!   exportNetworkFlows:
//!     netFlow:
//!       collectors:
//!         - 192.168.1.99:2056
//!         - 192.168.1.99:2056
//!     ipfix:
//!       collectors: ["10.0.0.7:4739"]
//! "#;
//! let (_doc, spec) = load_spec(yaml, "network.yaml", &ValidateOptions::default())?;
//! assert_eq!(spec.netflow.as_ref().map(Vec::len), Some(1)); // duplicate dropped...
//! assert_eq!(spec.warnings.len(), 1); // ...with a warning
//! assert!(spec.sflow.is_none());
//!
//! // The rows OVS will get, with OVN-Kubernetes's defaults.
//! let desired = DesiredExport::new(&spec, &ExportOptions::default(), &SchemaInfo::everything())?;
//! let ipfix = desired.get(Protocol::Ipfix).expect("configured");
//! assert_eq!(ipfix.get("sampling").map(ToString::to_string).as_deref(), Some("400"));
//!
//! // Invalid input: every problem, with its path and value.
//! let err = load_spec(
//!     r#"{"sFlow": {"collectors": ["01.2.3.4:6343", "10.0.0.1:70000"]}}"#,
//!     "patch.json",
//!     &ValidateOptions::default(),
//! )
//! .unwrap_err();
//! let text = err.to_string();
//! assert!(text.contains(r#"sFlow.collectors[0]: "01.2.3.4:6343": octet "01""#));
//! assert!(text.contains(r#"sFlow.collectors[1]: "10.0.0.1:70000": port 70000 is out of range"#));
//! # Ok::<(), flowwire_ovs::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Decoders face hostile bytes: outside tests, no unwrap, expect, panic or unchecked index,
// and `forbid` so that no local `allow` can bring one back.
#![cfg_attr(
    not(test),
    forbid(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod configurator;
mod error;
pub mod health;
pub mod options;
pub mod ovsdb;
pub mod plan;
pub mod rows;
pub mod spec;
pub mod watch;

pub use configurator::{Configurator, DesiredConfig, Outcome, Overrides, ShowReport};
pub use error::{Diagnostic, Diagnostics, Error, OvsdbError, Severity};
pub use options::{ExportOptions, IpfixOptions, NetFlowOptions, SFlowOptions};
pub use plan::{Change, Plan};
pub use spec::{
    Collector, ExportNetworkFlows, Network, Protocol, SpecDocument, ValidSpec, ValidateOptions,
    load_spec, parse_document,
};
