//! Apply the cluster network operator's `exportNetworkFlows` spec to Open vSwitch over OVSDB
//! (RFC 7047).
//!
//! This crate is being filled in; see the project's issues for its scope.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
