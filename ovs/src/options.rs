//! Per-protocol settings beyond the spec, with the defaults OpenShift's operator and
//! OVN-Kubernetes use (bridge `br-int`, NetFlow `active_timeout=60`, sFlow agent
//! `ovn-k8s-mp0`, IPFIX `sampling=400` and `cache_active_timeout=60`).
//!
//! `None` means "leave the column empty", so OVS applies its own default (documented on each
//! field). The options can be loaded from YAML/JSON with [`ExportOptions::from_text`]; every
//! field is optional there.
//!
//! Values are checked against OVS's ranges (its schema's, and where the schema has none, what
//! ovs-vswitchd accepts), and a sampling of 1 (every packet) for IPFIX or sFlow is refused
//! unless [`ExportOptions::force_sample_all`] is set: sampling every packet makes
//! ovs-vswitchd send every packet's header to userspace, which NetObserv found overloads it
//! (NetObserv refuses `sampling: 1` unless forced too).

use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Diagnostics, Error};

/// The bridge OVN-Kubernetes configures.
pub const DEFAULT_BRIDGE: &str = "br-int";
/// OVN-Kubernetes's sFlow agent: the management-port netdev.
pub const DEFAULT_SFLOW_AGENT: &str = "ovn-k8s-mp0";
/// Largest `cache_active_timeout` the OVS schema accepts.
pub const MAX_CACHE_ACTIVE_TIMEOUT: u32 = 4200;

/// Everything the spec does not say: target bridge and per-protocol settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportOptions {
    /// The bridge whose `netflow`/`sflow`/`ipfix` columns are set (default `br-int`).
    pub bridge: String,
    /// NetFlow settings.
    #[serde(rename = "netFlow")]
    pub netflow: NetFlowOptions,
    /// sFlow settings.
    #[serde(rename = "sFlow")]
    pub sflow: SFlowOptions,
    /// IPFIX settings.
    pub ipfix: IpfixOptions,
    /// Accept `sampling: 1` (every packet) for IPFIX and sFlow, which is refused otherwise
    /// (default false; the command line's `--force-sample-all`).
    pub force_sample_all: bool,
    /// Per-flow sampling, beyond the operator's spec: keep a `Flow_Sample_Collector_Set`
    /// with this `id` on the bridge, pointing at its own IPFIX row with the spec's IPFIX
    /// collectors (and `cache_active_timeout`/`cache_max_flows`), so that OpenFlow
    /// `sample(collector_set_id=ID, ...)` actions (OVN's sampling, ovn-kubernetes's
    /// observability) export there. Unset (default): such rows are left alone. Only rows
    /// this crate created (external_ids `flowwire`) are ever changed or deleted; without
    /// IPFIX collectors, and on `clear`, they are deleted.
    pub flow_sample_collector_set: Option<u32>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            bridge: DEFAULT_BRIDGE.to_owned(),
            netflow: NetFlowOptions::default(),
            sflow: SFlowOptions::default(),
            ipfix: IpfixOptions::default(),
            force_sample_all: false,
            flow_sample_collector_set: None,
        }
    }
}

/// Columns of the OVS `NetFlow` row besides `targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetFlowOptions {
    /// `active_timeout` in seconds (default 60 like ovn-k). OVS: 0 means its default of 600;
    /// −1 is documented as "disabled" but current OVS treats it like 0. Must be ≥ −1.
    pub active_timeout: i64,
    /// `engine_type` 0-255; `None` = the datapath's own value.
    pub engine_type: Option<u8>,
    /// `engine_id` 0-255; `None` = the datapath's own value.
    pub engine_id: Option<u8>,
    /// `add_id_to_interface` (default false): put the low 7 bits of engine_id in the top bits
    /// of the interface indexes.
    pub add_id_to_interface: bool,
}

impl Default for NetFlowOptions {
    fn default() -> Self {
        NetFlowOptions {
            active_timeout: 60,
            engine_type: None,
            engine_id: None,
            add_id_to_interface: false,
        }
    }
}

/// Columns of the OVS `sFlow` row besides `targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SFlowOptions {
    /// `agent`: netdev name or IP address whose address is the sFlow agent address
    /// (default `ovn-k8s-mp0`, like ovn-k). `None` lets OVS pick by route lookup.
    pub agent: Option<String>,
    /// `sampling`: 1-in-N packet sampling (OVS default 400). 0 would turn sFlow off in OVS
    /// and is refused; 1 needs [`ExportOptions::force_sample_all`].
    pub sampling: Option<u32>,
    /// `polling`: counter polling interval in seconds (OVS default 30).
    pub polling: Option<u32>,
    /// `header`: bytes of sampled packet header (OVS default 128).
    pub header: Option<u32>,
}

impl Default for SFlowOptions {
    fn default() -> Self {
        SFlowOptions {
            agent: Some(DEFAULT_SFLOW_AGENT.to_owned()),
            sampling: None,
            polling: None,
            header: None,
        }
    }
}

/// Columns of the OVS `IPFIX` row besides `targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IpfixOptions {
    /// `sampling`: 1-in-N, 1-4294967295 (default 400 like ovn-k; OVS's own default is also
    /// 400); 1 needs [`ExportOptions::force_sample_all`].
    pub sampling: Option<u32>,
    /// `cache_active_timeout` in seconds, 0-4200 (default 60 like ovn-k; 0 disables the cache).
    pub cache_active_timeout: Option<u32>,
    /// `cache_max_flows` (default unset like ovn-k, meaning no aggregation: with
    /// `cache_active_timeout` set but no `cache_max_flows` OVS exports every sample at once).
    pub cache_max_flows: Option<u32>,
    /// `obs_domain_id` (OVS default 0).
    pub obs_domain_id: Option<u32>,
    /// `obs_point_id` (OVS default 0).
    pub obs_point_id: Option<u32>,
    /// `template_interval` in seconds, 1-3600 (OVS default 600). Only OVS releases whose schema
    /// has the column (newer than 3.1) accept it.
    pub template_interval: Option<u32>,
}

impl Default for IpfixOptions {
    fn default() -> Self {
        IpfixOptions {
            sampling: Some(400),
            cache_active_timeout: Some(60),
            cache_max_flows: None,
            obs_domain_id: None,
            obs_point_id: None,
            template_interval: None,
        }
    }
}

impl ExportOptions {
    /// Load options from YAML or JSON and [validate](ExportOptions::validate) them; missing
    /// fields take the defaults.
    pub fn from_text(text: &str, source: &str) -> Result<Self, Error> {
        let opts = Self::from_text_unchecked(text, source)?;
        opts.validate()?;
        Ok(opts)
    }

    /// Parse options without checking the values, for a caller that changes some (a
    /// command line's `--bridge`, `--force-sample-all`) and validates afterwards.
    pub fn from_text_unchecked(text: &str, source: &str) -> Result<Self, Error> {
        if text.trim().is_empty() {
            return Ok(ExportOptions::default());
        }
        serde_yaml_ng::from_str(text).map_err(|e| Error::Syntax {
            path: source.to_owned(),
            message: e.to_string(),
        })
    }

    /// Check the values against the OVS schema's constraints; every problem is reported.
    pub fn validate(&self) -> Result<(), Error> {
        let mut d = Vec::new();
        if self.bridge.is_empty() {
            d.push(Diagnostic::error(
                "bridge",
                "\"\"",
                "the bridge name must not be empty",
            ));
        }
        if self.netflow.active_timeout < -1 {
            d.push(Diagnostic::error(
                "netFlow.active_timeout",
                self.netflow.active_timeout.to_string(),
                "must be -1 or more (OVS schema minInteger -1)",
            ));
        }
        if self.sflow.agent.as_deref() == Some("") {
            d.push(Diagnostic::error(
                "sFlow.agent",
                "\"\"",
                "must not be empty; leave it unset to let OVS choose the agent address",
            ));
        }
        for (name, v) in [
            ("sFlow.sampling", self.sflow.sampling),
            ("sFlow.header", self.sflow.header),
            ("ipfix.sampling", self.ipfix.sampling),
        ] {
            if v == Some(0) {
                d.push(Diagnostic::error(
                    name,
                    "0",
                    "must be at least 1 (leave it unset for the OVS default)",
                ));
            }
        }
        if !self.force_sample_all {
            for (name, v) in [
                ("sFlow.sampling", self.sflow.sampling),
                ("ipfix.sampling", self.ipfix.sampling),
            ] {
                if v == Some(1) {
                    d.push(Diagnostic::error(
                        name,
                        "1",
                        "samples every packet, which can overload ovs-vswitchd; use 2 or more, \
                         or force it (--force-sample-all, or force_sample_all: true in the options)",
                    ));
                }
            }
        }
        if let Some(t) = self
            .ipfix
            .cache_active_timeout
            .filter(|t| *t > MAX_CACHE_ACTIVE_TIMEOUT)
        {
            d.push(Diagnostic::error(
                "ipfix.cache_active_timeout",
                t.to_string(),
                format!("must be 0-{MAX_CACHE_ACTIVE_TIMEOUT} seconds (OVS schema)"),
            ));
        }
        if let Some(t) = self
            .ipfix
            .template_interval
            .filter(|t| !(1..=3600).contains(t))
        {
            d.push(Diagnostic::error(
                "ipfix.template_interval",
                t.to_string(),
                "must be 1-3600 seconds (OVS schema)",
            ));
        }
        if d.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(Diagnostics(d)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_operator() {
        let o = ExportOptions::default();
        assert_eq!(o.bridge, "br-int");
        assert_eq!(o.netflow.active_timeout, 60);
        assert_eq!(o.netflow.engine_id, None);
        assert!(!o.netflow.add_id_to_interface);
        assert_eq!(o.sflow.agent.as_deref(), Some("ovn-k8s-mp0"));
        assert_eq!(o.ipfix.sampling, Some(400));
        assert_eq!(o.ipfix.cache_active_timeout, Some(60));
        assert_eq!(o.ipfix.cache_max_flows, None);
        assert!(o.validate().is_ok());
    }

    #[test]
    fn from_text_partial_and_invalid() {
        let o = ExportOptions::from_text("ipfix:\n  cache_max_flows: 100\n", "o").unwrap();
        assert_eq!(o.ipfix.cache_max_flows, Some(100));
        assert_eq!(o.ipfix.sampling, Some(400));
        let e = ExportOptions::from_text(
            "bridge: ''\nnetFlow: {active_timeout: -2}\nipfix: {cache_active_timeout: 4201, sampling: 0}\n",
            "o",
        )
        .unwrap_err();
        let Error::Invalid(d) = e else { panic!() };
        let paths: Vec<&str> = d.0.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bridge",
                "netFlow.active_timeout",
                "ipfix.sampling",
                "ipfix.cache_active_timeout"
            ]
        );
        assert!(matches!(
            ExportOptions::from_text("netflow: {}\n", "o"),
            Err(Error::Syntax { .. })
        ));
    }

    #[test]
    fn sampling_every_packet_needs_force() {
        let e = ExportOptions::from_text("ipfix: {sampling: 1}\nsFlow: {sampling: 1}\n", "o")
            .unwrap_err();
        let Error::Invalid(d) = e else { panic!() };
        let paths: Vec<&str> = d.0.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["sFlow.sampling", "ipfix.sampling"]);
        assert!(d.to_string().contains("--force-sample-all"), "{d}");
        let o = ExportOptions::from_text(
            "force_sample_all: true\nipfix: {sampling: 1}\nsFlow: {sampling: 1}\n",
            "o",
        )
        .unwrap();
        assert_eq!(o.ipfix.sampling, Some(1));
        let mut o = ExportOptions::default();
        o.ipfix.sampling = Some(2);
        o.sflow.sampling = Some(2);
        assert!(o.validate().is_ok());
    }
}
