//! The operator's `exportNetworkFlows` spec: serde model, loading (YAML or JSON) and
//! validation.
//!
//! Three document shapes are accepted, as users write them:
//! - the whole `Network` object (`apiVersion: operator.openshift.io/v1`, `kind: Network`,
//!   `spec.exportNetworkFlows`), other `spec` fields are ignored;
//! - a merge-patch file for `oc patch network.operator cluster --type merge`
//!   (`spec.exportNetworkFlows` without `apiVersion`/`kind`);
//! - the bare `exportNetworkFlows` object (`netFlow`, `sFlow`, `ipfix` at the top), or that
//!   object under an `exportNetworkFlows` key.
//!
//! Validation follows the CRD (`IPPort` pattern: IPv4 `a.b.c.d:port`, port 1-65535 without
//! leading zeros, 1 to 10 collectors per protocol when `collectors` is present) and is
//! stricter where the operator lets through what breaks later: octets with a leading zero
//! (accepted by the CRD pattern, rejected by ovn-kubernetes's parser) are errors, duplicates
//! are reported as warnings and dropped (first occurrence kept). IPv6 `[addr]:port`, which
//! OVS accepts but the CRD does not, is allowed with [`ValidateOptions::allow_ipv6`].

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Diagnostic, Diagnostics, Error};

/// `apiVersion` of the operator's Network object.
pub const API_VERSION: &str = "operator.openshift.io/v1";
/// `kind` of the operator's Network object.
pub const KIND: &str = "Network";
/// Most collectors per protocol (CRD `maxItems`).
pub const MAX_COLLECTORS: usize = 10;

/// The three export protocols OVS offers per bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Protocol {
    /// NetFlow v5 (`spec.exportNetworkFlows.netFlow`, OVS table `NetFlow`).
    #[serde(rename = "netFlow")]
    NetFlow,
    /// sFlow v5 (`spec.exportNetworkFlows.sFlow`, OVS table `sFlow`).
    #[serde(rename = "sFlow")]
    SFlow,
    /// IPFIX (`spec.exportNetworkFlows.ipfix`, OVS table `IPFIX`).
    #[serde(rename = "ipfix")]
    Ipfix,
}

impl Protocol {
    /// All three, in spec order.
    pub const ALL: [Protocol; 3] = [Protocol::NetFlow, Protocol::SFlow, Protocol::Ipfix];

    /// The field name in the spec: `netFlow`, `sFlow`, `ipfix`.
    pub fn spec_field(self) -> &'static str {
        match self {
            Protocol::NetFlow => "netFlow",
            Protocol::SFlow => "sFlow",
            Protocol::Ipfix => "ipfix",
        }
    }

    /// The OVSDB table: `NetFlow`, `sFlow`, `IPFIX`.
    pub fn table(self) -> &'static str {
        match self {
            Protocol::NetFlow => "NetFlow",
            Protocol::SFlow => "sFlow",
            Protocol::Ipfix => "IPFIX",
        }
    }

    /// The `Bridge` column pointing at the row: `netflow`, `sflow`, `ipfix`.
    pub fn bridge_column(self) -> &'static str {
        match self {
            Protocol::NetFlow => "netflow",
            Protocol::SFlow => "sflow",
            Protocol::Ipfix => "ipfix",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec_field())
    }
}

/// One protocol's settings in the spec: `{collectors: [ip:port, ...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorConfig {
    /// The collectors as written (`ip:port` strings). `None` (field absent) means "nothing".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collectors: Option<Vec<String>>,
}

/// `spec.exportNetworkFlows`: which collectors receive which protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportNetworkFlows {
    /// `netFlow`.
    #[serde(rename = "netFlow", default, skip_serializing_if = "Option::is_none")]
    pub net_flow: Option<CollectorConfig>,
    /// `sFlow` (capital F, as in the CRD).
    #[serde(rename = "sFlow", default, skip_serializing_if = "Option::is_none")]
    pub s_flow: Option<CollectorConfig>,
    /// `ipfix` (all lower case, as in the CRD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipfix: Option<CollectorConfig>,
}

impl ExportNetworkFlows {
    /// The settings of one protocol.
    pub fn get(&self, p: Protocol) -> Option<&CollectorConfig> {
        match p {
            Protocol::NetFlow => self.net_flow.as_ref(),
            Protocol::SFlow => self.s_flow.as_ref(),
            Protocol::Ipfix => self.ipfix.as_ref(),
        }
    }

    /// Mutable access to the settings of one protocol.
    pub fn get_mut(&mut self, p: Protocol) -> &mut Option<CollectorConfig> {
        match p {
            Protocol::NetFlow => &mut self.net_flow,
            Protocol::SFlow => &mut self.s_flow,
            Protocol::Ipfix => &mut self.ipfix,
        }
    }

    /// Validate, with field paths starting at `prefix` (e.g. `spec.exportNetworkFlows`,
    /// or empty for a bare object).
    pub fn validate(&self, prefix: &str, opts: &ValidateOptions) -> Result<ValidSpec, Error> {
        let mut diags = Vec::new();
        let spec = self.validate_into(prefix, opts, &mut diags);
        finish(spec, diags)
    }

    fn validate_into(
        &self,
        prefix: &str,
        opts: &ValidateOptions,
        diags: &mut Vec<Diagnostic>,
    ) -> ValidSpec {
        let mut spec = ValidSpec::default();
        for p in Protocol::ALL {
            let Some(cfg) = self.get(p) else { continue };
            let Some(list) = &cfg.collectors else {
                continue;
            };
            let base = join(prefix, &format!("{}.collectors", p.spec_field()));
            *spec.get_mut(p) = validate_collectors(&base, list, opts, diags);
        }
        spec
    }
}

/// `metadata` of the Network object (only `name` is looked at).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Always `cluster` for the operator's object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `spec` of the Network object; only `exportNetworkFlows` is modelled, other fields are
/// ignored on input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// `spec.exportNetworkFlows`; absent means "export nothing".
    #[serde(
        rename = "exportNetworkFlows",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub export_network_flows: Option<ExportNetworkFlows>,
}

/// The operator's `Network` object (`operator.openshift.io/v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    /// `operator.openshift.io/v1`.
    pub api_version: String,
    /// `Network`.
    pub kind: String,
    /// `metadata` (`name: cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// `spec`.
    #[serde(default)]
    pub spec: NetworkSpec,
}

impl Network {
    /// A `Network` named `cluster` with the given `exportNetworkFlows`.
    pub fn cluster(export: Option<ExportNetworkFlows>) -> Self {
        Network {
            api_version: API_VERSION.to_owned(),
            kind: KIND.to_owned(),
            metadata: Some(Metadata {
                name: Some("cluster".to_owned()),
            }),
            spec: NetworkSpec {
                export_network_flows: export,
            },
        }
    }

    /// The object as YAML, which [`load_spec`] reads back.
    pub fn to_yaml(&self) -> Result<String, Error> {
        serde_yaml_ng::to_string(self).map_err(|e| Error::Output(e.to_string()))
    }

    /// The object as pretty-printed JSON with a final newline, which [`load_spec`] reads back.
    pub fn to_json(&self) -> Result<String, Error> {
        let mut s = serde_json::to_string_pretty(self).map_err(|e| Error::Output(e.to_string()))?;
        s.push('\n');
        Ok(s)
    }
}

/// Which shape a loaded document had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentKind {
    /// A whole `Network` object.
    Network,
    /// A patch file: `spec.exportNetworkFlows` without `apiVersion`/`kind`.
    Patch,
    /// `{exportNetworkFlows: {...}}`.
    Wrapped,
    /// The bare `exportNetworkFlows` object.
    Bare,
}

impl DocumentKind {
    /// The field path of `exportNetworkFlows` in this kind of document.
    pub fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Network | DocumentKind::Patch => "spec.exportNetworkFlows",
            DocumentKind::Wrapped => "exportNetworkFlows",
            DocumentKind::Bare => "",
        }
    }
}

/// A parsed document: its shape and the `exportNetworkFlows` it holds (`None` when the
/// document has no `exportNetworkFlows`, which means "export nothing").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecDocument {
    /// The shape.
    pub kind: DocumentKind,
    /// The `exportNetworkFlows` object, as written.
    pub export: Option<ExportNetworkFlows>,
}

/// Knobs for validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Accept IPv6 collectors written `[addr]:port`. OVS accepts them, the operator's CRD does
    /// not, so they are refused unless this is set.
    pub allow_ipv6: bool,
}

/// A valid collector address. Displays in canonical form: `a.b.c.d:port` or `[v6]:port`,
/// which is how OVS stores targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Collector(pub SocketAddr);

impl fmt::Display for Collector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SocketAddr's Display is the canonical a.b.c.d:p / [v6]:p form.
        write!(f, "{}", self.0)
    }
}

impl Serialize for Collector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A validated spec: per protocol, `None` when not configured, else 1-10 distinct collectors
/// in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidSpec {
    /// NetFlow collectors.
    #[serde(rename = "netFlow")]
    pub netflow: Option<Vec<Collector>>,
    /// sFlow collectors.
    #[serde(rename = "sFlow")]
    pub sflow: Option<Vec<Collector>>,
    /// IPFIX collectors.
    #[serde(rename = "ipfix")]
    pub ipfix: Option<Vec<Collector>>,
    /// Warnings found while validating (duplicates dropped, ...).
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

impl ValidSpec {
    /// The collectors of one protocol.
    pub fn get(&self, p: Protocol) -> Option<&[Collector]> {
        match p {
            Protocol::NetFlow => self.netflow.as_deref(),
            Protocol::SFlow => self.sflow.as_deref(),
            Protocol::Ipfix => self.ipfix.as_deref(),
        }
    }

    /// Mutable access to the collectors of one protocol.
    pub fn get_mut(&mut self, p: Protocol) -> &mut Option<Vec<Collector>> {
        match p {
            Protocol::NetFlow => &mut self.netflow,
            Protocol::SFlow => &mut self.sflow,
            Protocol::Ipfix => &mut self.ipfix,
        }
    }

    /// The collectors of one protocol as OVS target strings, as a set (OVS stores targets
    /// as a set, so order does not matter when comparing).
    pub fn targets(&self, p: Protocol) -> Option<BTreeSet<String>> {
        self.get(p)
            .map(|c| c.iter().map(ToString::to_string).collect())
    }

    /// Back to the serde model, collectors in canonical form.
    pub fn to_model(&self) -> ExportNetworkFlows {
        let mut m = ExportNetworkFlows::default();
        for p in Protocol::ALL {
            if let Some(c) = self.get(p) {
                *m.get_mut(p) = Some(CollectorConfig {
                    collectors: Some(c.iter().map(ToString::to_string).collect()),
                });
            }
        }
        m
    }
}

fn finish(spec: ValidSpec, diags: Vec<Diagnostic>) -> Result<ValidSpec, Error> {
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Error::Invalid(Diagnostics(diags)));
    }
    Ok(ValidSpec {
        warnings: diags,
        ..spec
    })
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else if rest.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}.{rest}")
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| s.to_owned())
}

fn validate_collectors(
    base: &str,
    list: &[String],
    opts: &ValidateOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<Collector>> {
    if list.is_empty() {
        diags.push(Diagnostic::error(
            base,
            "[]",
            "at least 1 collector is required when `collectors` is present (CRD minItems 1); \
             remove the field to export nothing",
        ));
        return None;
    }
    if list.len() > MAX_COLLECTORS {
        diags.push(Diagnostic::error(
            base,
            format!("{} items", list.len()),
            format!(
                "at most {MAX_COLLECTORS} collectors per protocol (CRD maxItems {MAX_COLLECTORS})"
            ),
        ));
    }
    let mut out: Vec<Collector> = Vec::new();
    let mut first_seen: Vec<(Collector, usize)> = Vec::new();
    let mut ok = true;
    for (i, raw) in list.iter().enumerate() {
        let path = format!("{base}[{i}]");
        match parse_collector(raw, opts) {
            Ok(c) => {
                if let Some((_, j)) = first_seen.iter().find(|(seen, _)| *seen == c) {
                    diags.push(Diagnostic::warning(
                        &path,
                        quoted(raw),
                        format!("duplicate of {base}[{j}]; dropped"),
                    ));
                } else {
                    first_seen.push((c, i));
                    out.push(c);
                }
            }
            Err(msg) => {
                ok = false;
                diags.push(Diagnostic::error(&path, quoted(raw), msg));
            }
        }
    }
    (ok && list.len() <= MAX_COLLECTORS).then_some(out)
}

/// Parse one collector the way the operator's CRD would (plus the stricter rules described in
/// the [module docs](self)); the error is a one-sentence reason.
pub fn parse_collector(raw: &str, opts: &ValidateOptions) -> Result<Collector, String> {
    if raw.is_empty() {
        return Err("empty; expected IPv4 address and port, e.g. 192.168.1.99:2056".into());
    }
    if raw.chars().any(char::is_whitespace) {
        return Err("contains white space; expected a.b.c.d:port".into());
    }
    if let Some(rest) = raw.strip_prefix('[') {
        let Some((host, port)) = rest.split_once("]:") else {
            return Err("IPv6 collectors must be written [address]:port".into());
        };
        let addr: Ipv6Addr = host
            .parse()
            .map_err(|_| format!("{host:?} is not a valid IPv6 address"))?;
        let port = parse_port(port)?;
        if !opts.allow_ipv6 {
            return Err(
                "IPv6 collectors are not accepted by the operator's CRD (IPv4 a.b.c.d:port only); \
                 enable IPv6 explicitly to use them with OVS"
                    .into(),
            );
        }
        return Ok(Collector(SocketAddr::new(IpAddr::V6(addr), port)));
    }
    let Some((host, port)) = raw.rsplit_once(':') else {
        return Err("missing :port; expected a.b.c.d:port".into());
    };
    if host.contains(':') {
        return Err("IPv6 collectors must be written [address]:port".into());
    }
    if host.is_empty() {
        return Err(
            "missing IP address; the CRD requires a.b.c.d:port (the node-IP shorthand :port \
             is not supported)"
                .into(),
        );
    }
    let ip = parse_ipv4(host)?;
    let port = parse_port(port)?;
    Ok(Collector(SocketAddr::new(IpAddr::V4(ip), port)))
}

fn parse_ipv4(host: &str) -> Result<Ipv4Addr, String> {
    if host.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "{host:?} is not an IPv4 address (host names are not allowed; OVS needs a numeric address)"
        ));
    }
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() != 4 {
        return Err(format!(
            "{host:?} is not an IPv4 address: expected 4 dot-separated octets"
        ));
    }
    let mut octets = [0u8; 4];
    for (slot, part) in octets.iter_mut().zip(&parts) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{host:?} is not an IPv4 address: octet {part:?} is not a number"
            ));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(format!(
                "octet {part:?} of {host:?} has a leading zero (the CRD pattern lets some through \
                 but ovn-kubernetes rejects them); write {}",
                part.trim_start_matches('0').parse::<u32>().unwrap_or(0)
            ));
        }
        *slot = match part.parse::<u8>() {
            Ok(v) => v,
            Err(_) => {
                return Err(format!(
                    "{host:?} is not an IPv4 address: octet {part} is greater than 255"
                ));
            }
        };
    }
    Ok(Ipv4Addr::from(octets))
}

fn parse_port(port: &str) -> Result<u16, String> {
    if port.is_empty() {
        return Err("missing port number after ':'".into());
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port {port:?} is not a number"));
    }
    if port.len() > 1 && port.starts_with('0') {
        return Err(format!(
            "port {port:?} has a leading zero, which the CRD pattern rejects"
        ));
    }
    match port.parse::<u16>() {
        Ok(0) => Err("port 0 is out of range 1-65535".into()),
        Ok(p) => Ok(p),
        Err(_) => Err(format!("port {port} is out of range 1-65535")),
    }
}

/// Parse a document (YAML or JSON; JSON is read as YAML) into its `exportNetworkFlows`.
///
/// Structural problems (wrong `kind`, a list where an object belongs, unknown field names
/// such as `netflow` for `netFlow`) are all reported together as [`Error::Invalid`]; YAML
/// syntax errors as [`Error::Syntax`]. `source` names the input in messages.
pub fn parse_document(text: &str, source: &str) -> Result<SpecDocument, Error> {
    let value: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| Error::Syntax {
            path: source.to_owned(),
            message: e.to_string(),
        })?
    };
    let mut diags = Vec::new();
    let doc = walk_document(&value, &mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Error::Invalid(Diagnostics(diags)));
    }
    Ok(doc)
}

/// Parse and validate in one go, collecting structural and value problems together.
pub fn load_spec(
    text: &str,
    source: &str,
    opts: &ValidateOptions,
) -> Result<(SpecDocument, ValidSpec), Error> {
    let value: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| Error::Syntax {
            path: source.to_owned(),
            message: e.to_string(),
        })?
    };
    let mut diags = Vec::new();
    let doc = walk_document(&value, &mut diags);
    let structural = diags.len();
    let spec = match &doc.export {
        Some(e) => e.validate_into(doc.kind.prefix(), opts, &mut diags),
        None => ValidSpec::default(),
    };
    // One error per problem: a value already reported as structurally wrong is not
    // reported again by the value checks.
    let (first, rest) = diags.split_at(structural.min(diags.len()));
    let rest: Vec<Diagnostic> = rest
        .iter()
        .filter(|d| !first.iter().any(|f| f.path == d.path))
        .cloned()
        .collect();
    let mut diags = first.to_vec();
    diags.extend(rest);
    let spec = finish(spec, diags)?;
    Ok((doc, spec))
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => quoted(s),
        other => {
            let s = other.to_string();
            if s.len() > 80 {
                let cut: String = s.chars().take(77).collect();
                format!("{cut}...")
            } else {
                s
            }
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn walk_document(v: &Value, diags: &mut Vec<Diagnostic>) -> SpecDocument {
    let bare = |export| SpecDocument {
        kind: DocumentKind::Bare,
        export,
    };
    let Value::Object(map) = v else {
        diags.push(Diagnostic::error(
            "",
            describe(v),
            format!(
                "expected a mapping (a Network object, a patch with spec.exportNetworkFlows, \
                 or an exportNetworkFlows object), found {}",
                type_name(v)
            ),
        ));
        return bare(None);
    };
    let has_api = map.contains_key("apiVersion") || map.contains_key("kind");
    if has_api || map.contains_key("spec") {
        let kind = if has_api {
            DocumentKind::Network
        } else {
            DocumentKind::Patch
        };
        if has_api {
            check_const(map.get("apiVersion"), "apiVersion", API_VERSION, diags);
            check_const(map.get("kind"), "kind", KIND, diags);
        }
        let export = match map.get("spec") {
            None | Some(Value::Null) => None,
            Some(Value::Object(spec)) => match spec.get("exportNetworkFlows") {
                None | Some(Value::Null) => None,
                Some(e) => walk_export(e, "spec.exportNetworkFlows", diags),
            },
            Some(other) => {
                diags.push(Diagnostic::error(
                    "spec",
                    describe(other),
                    format!("expected a mapping, found {}", type_name(other)),
                ));
                None
            }
        };
        return SpecDocument { kind, export };
    }
    if let Some(inner) = map.get("exportNetworkFlows") {
        for k in map.keys().filter(|k| *k != "exportNetworkFlows") {
            diags.push(Diagnostic::error(
                k.as_str(),
                "",
                "unknown field next to exportNetworkFlows",
            ));
        }
        let export = match inner {
            Value::Null => None,
            e => walk_export(e, "exportNetworkFlows", diags),
        };
        return SpecDocument {
            kind: DocumentKind::Wrapped,
            export,
        };
    }
    bare(walk_export(v, "", diags))
}

fn check_const(v: Option<&Value>, field: &str, want: &str, diags: &mut Vec<Diagnostic>) {
    match v {
        Some(Value::String(s)) if s == want => {}
        Some(other) => diags.push(Diagnostic::error(
            field,
            describe(other),
            format!("expected {want:?}"),
        )),
        None => diags.push(Diagnostic::error(
            field,
            "",
            format!("missing; expected {want:?}"),
        )),
    }
}

fn suggest(key: &str, known: &[&str]) -> String {
    match known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        Some(k) => format!("unknown field; did you mean {k:?}? (field names are case-sensitive)"),
        None => format!("unknown field; expected one of {}", known.join(", ")),
    }
}

fn walk_export(v: &Value, prefix: &str, diags: &mut Vec<Diagnostic>) -> Option<ExportNetworkFlows> {
    let Value::Object(map) = v else {
        diags.push(Diagnostic::error(
            prefix,
            describe(v),
            format!(
                "expected a mapping with netFlow, sFlow and/or ipfix, found {}",
                type_name(v)
            ),
        ));
        return None;
    };
    let known = ["netFlow", "sFlow", "ipfix"];
    let mut out = ExportNetworkFlows::default();
    for (k, val) in map {
        let path = join(prefix, k);
        let p = match k.as_str() {
            "netFlow" => Protocol::NetFlow,
            "sFlow" => Protocol::SFlow,
            "ipfix" => Protocol::Ipfix,
            _ => {
                diags.push(Diagnostic::error(path, "", suggest(k, &known)));
                continue;
            }
        };
        *out.get_mut(p) = walk_protocol(val, &path, diags);
    }
    Some(out)
}

fn walk_protocol(v: &Value, path: &str, diags: &mut Vec<Diagnostic>) -> Option<CollectorConfig> {
    let map = match v {
        Value::Null => return Some(CollectorConfig::default()),
        Value::Object(m) => m,
        other => {
            let hint = if other.is_array() {
                "; write `collectors:` with the list under it"
            } else {
                ""
            };
            diags.push(Diagnostic::error(
                path,
                describe(other),
                format!(
                    "expected a mapping with `collectors`, found {}{hint}",
                    type_name(other)
                ),
            ));
            return None;
        }
    };
    let mut out = CollectorConfig::default();
    for (k, val) in map {
        let kpath = join(path, k);
        if k != "collectors" {
            diags.push(Diagnostic::error(kpath, "", suggest(k, &["collectors"])));
            continue;
        }
        match val {
            Value::Null => {}
            Value::Array(items) => {
                let mut list = Vec::with_capacity(items.len().min(64));
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => list.push(s.clone()),
                        other => {
                            diags.push(Diagnostic::error(
                                format!("{kpath}[{i}]"),
                                describe(other),
                                format!(
                                    "expected a string \"ip:port\", found {}",
                                    type_name(other)
                                ),
                            ));
                            // Keep the indices of later items right; the placeholder's own
                            // validation error is dropped in `load_spec` (same path).
                            list.push(describe(other));
                        }
                    }
                }
                out.collectors = Some(list);
            }
            Value::String(s) => diags.push(Diagnostic::error(
                kpath,
                quoted(s),
                "expected a list of \"ip:port\" strings, found a single string; write it as [\"ip:port\"]",
            )),
            other => diags.push(Diagnostic::error(
                kpath,
                describe(other),
                format!("expected a list of \"ip:port\" strings, found {}", type_name(other)),
            )),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(text: &str) -> Vec<Diagnostic> {
        match load_spec(text, "t", &ValidateOptions::default()) {
            Err(Error::Invalid(d)) => d.0,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn network_object_yaml() {
        let text = "apiVersion: operator.openshift.io/v1\nkind: Network\nmetadata:\n  name: cluster\n\
                    spec:\n  clusterNetwork: []\n  exportNetworkFlows:\n    netFlow:\n      collectors:\n\
                    \x20       - 192.168.1.99:2056\n    ipfix:\n      collectors: [\"10.0.0.1:4739\"]\n";
        let (doc, spec) = load_spec(text, "t", &ValidateOptions::default()).unwrap();
        assert_eq!(doc.kind, DocumentKind::Network);
        assert_eq!(
            spec.netflow.as_ref().unwrap()[0].to_string(),
            "192.168.1.99:2056"
        );
        assert_eq!(spec.ipfix.as_ref().unwrap()[0].to_string(), "10.0.0.1:4739");
        assert!(spec.sflow.is_none());
        assert!(spec.warnings.is_empty());
    }

    #[test]
    fn patch_and_bare_and_json() {
        let patch =
            "spec:\n  exportNetworkFlows:\n    sFlow:\n      collectors:\n        - 1.2.3.4:6343\n";
        let (doc, spec) = load_spec(patch, "t", &ValidateOptions::default()).unwrap();
        assert_eq!(doc.kind, DocumentKind::Patch);
        assert_eq!(spec.sflow.unwrap().len(), 1);
        let bare = r#"{"netFlow":{"collectors":["192.168.1.99:2056"]}}"#;
        let (doc, spec) = load_spec(bare, "t", &ValidateOptions::default()).unwrap();
        assert_eq!(doc.kind, DocumentKind::Bare);
        assert_eq!(spec.netflow.unwrap().len(), 1);
        let wrapped = "exportNetworkFlows:\n  ipfix:\n    collectors: [\"1.1.1.1:1\"]\n";
        let (doc, _) = load_spec(wrapped, "t", &ValidateOptions::default()).unwrap();
        assert_eq!(doc.kind, DocumentKind::Wrapped);
    }

    #[test]
    fn serde_model_round_trip() {
        let text = r#"{"netFlow":{"collectors":["192.168.1.99:2056"]},"sFlow":{}}"#;
        let m: ExportNetworkFlows = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), text);
        let y: ExportNetworkFlows = serde_yaml_ng::from_str(text).unwrap();
        assert_eq!(y, m);
        let n = Network::cluster(Some(m));
        let s = serde_json::to_string(&n).unwrap();
        assert!(s.starts_with(r#"{"apiVersion":"operator.openshift.io/v1","kind":"Network""#));
        let back: Network =
            serde_yaml_ng::from_str(&serde_yaml_ng::to_string(&n).unwrap()).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn absent_and_empty_mean_nothing() {
        for text in [
            "apiVersion: operator.openshift.io/v1\nkind: Network\nspec: {}\n",
            "spec:\n  exportNetworkFlows:\n",
            "netFlow: {}\n",
            "netFlow:\n",
            "{}",
        ] {
            let (_, spec) = load_spec(text, "t", &ValidateOptions::default()).unwrap();
            assert_eq!(spec, ValidSpec::default(), "{text}");
        }
    }

    #[test]
    fn collector_rules() {
        let o = ValidateOptions::default();
        let good = [
            "0.0.0.0:1",
            "255.255.255.255:65535",
            "10.1.2.3:2056",
            "1.2.3.4:9",
        ];
        for g in good {
            assert_eq!(parse_collector(g, &o).unwrap().to_string(), g);
        }
        let bad = [
            "",
            "1.2.3.4",
            "1.2.3.4:",
            ":2056",
            "1.2.3.4:0",
            "1.2.3.4:65536",
            "1.2.3.4:02056",
            "01.2.3.4:2056",
            "1.2.3.001:1",
            "256.1.1.1:1",
            "1.2.3:1",
            "1.2.3.4.5:1",
            "collector.example.com:2056",
            "1.2.3.4:abc",
            " 1.2.3.4:1",
            "[::1]:2055",
            "::1:2055",
            "1.2.3.4:99999999999999999999",
            "[::1]2055",
            "[zz]:1",
        ];
        for b in bad {
            assert!(parse_collector(b, &o).is_err(), "{b:?} accepted");
        }
        let v6 = ValidateOptions { allow_ipv6: true };
        assert_eq!(
            parse_collector("[2020:1111:f::1:0933]:3333", &v6)
                .unwrap()
                .to_string(),
            "[2020:1111:f::1:933]:3333"
        );
        assert!(parse_collector("[::1]:0", &v6).is_err());
    }

    #[test]
    fn leading_zero_error_names_path_and_value() {
        let d = errs("netFlow:\n  collectors: [\"1.2.3.4:1\", \"01.2.3.4:2056\"]\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "netFlow.collectors[1]");
        assert_eq!(d[0].value, "\"01.2.3.4:2056\"");
        assert!(d[0].message.contains("leading zero"), "{}", d[0].message);
        let shown = d[0].to_string();
        assert!(
            shown.starts_with("error: netFlow.collectors[1]: \"01.2.3.4:2056\": "),
            "{shown}"
        );
    }

    #[test]
    fn one_error_per_problem() {
        let text = "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"1.2.3.4\", 5, \"a.b.c.d:1\"]\n\
                    \x20   sflow:\n      collectors: [\"1.2.3.4:1\"]\n    ipfix:\n      collectors: []\n";
        let d = errs(text);
        let mut paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "spec.exportNetworkFlows.ipfix.collectors",
                "spec.exportNetworkFlows.netFlow.collectors[0]",
                "spec.exportNetworkFlows.netFlow.collectors[1]",
                "spec.exportNetworkFlows.netFlow.collectors[2]",
                "spec.exportNetworkFlows.sflow",
            ]
        );
        assert!(d.iter().any(|x| x.path == "spec.exportNetworkFlows.sflow"
            && x.message.contains("did you mean \"sFlow\"")));
        assert!(
            d.iter()
                .any(|x| x.path == "spec.exportNetworkFlows.ipfix.collectors"
                    && x.message.contains("at least 1"))
        );
        assert!(
            d.iter()
                .any(|x| x.value == "5" && x.message.contains("expected a string"))
        );
        assert!(
            d.iter()
                .any(|x| x.value == "\"a.b.c.d:1\"" && x.message.contains("host names"))
        );
        assert!(
            d.iter()
                .any(|x| x.value == "\"1.2.3.4\"" && x.message.contains("missing :port"))
        );
    }

    #[test]
    fn too_many_and_duplicates() {
        let many: Vec<String> = (1..=11).map(|i| format!("\"10.0.0.{i}:2056\"")).collect();
        let d = errs(&format!("ipfix:\n  collectors: [{}]\n", many.join(",")));
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("at most 10"));
        assert_eq!(d[0].value, "11 items");

        let text =
            "netFlow:\n  collectors: [\"10.0.0.1:2056\", \"10.0.0.2:2056\", \"10.0.0.1:2056\"]\n";
        let (_, spec) = load_spec(text, "t", &ValidateOptions::default()).unwrap();
        assert_eq!(spec.netflow.as_ref().unwrap().len(), 2);
        assert_eq!(spec.warnings.len(), 1);
        assert_eq!(spec.warnings[0].path, "netFlow.collectors[2]");
        assert!(
            spec.warnings[0]
                .message
                .contains("duplicate of netFlow.collectors[0]")
        );
    }

    #[test]
    fn wrong_kind_and_shapes() {
        let d = errs("apiVersion: v1\nkind: ConfigMap\nspec: {}\n");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].path, "apiVersion");
        assert_eq!(d[1].path, "kind");
        let d = errs("- 1.2.3.4:1\n");
        assert_eq!(d[0].path, "");
        let d = errs("netFlow: [\"1.2.3.4:1\"]\n");
        assert!(d[0].message.contains("collectors:"));
        let d = errs("netFlow:\n  collectors: 1.2.3.4:1\n");
        assert!(d[0].message.contains("single string"));
        let d = errs("netFlow:\n  collector: []\n");
        assert!(d[0].message.contains("did you mean") || d[0].message.contains("expected one of"));
    }

    #[test]
    fn syntax_error() {
        let e = load_spec("netFlow: [\n", "f.yaml", &ValidateOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Syntax { .. }));
        assert!(e.is_input_error());
    }
}
