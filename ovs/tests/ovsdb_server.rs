//! Integration tests against a real ovsdb-server (Debian package openvswitch-switch) on a
//! fresh database in a temp dir. They skip, with a printed reason, when OVS is not installed.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::OvsdbServer;
use flowwire_ovs::configurator::row_uuids;
use flowwire_ovs::ovsdb::{Client, Endpoint, op};
use flowwire_ovs::rows::DesiredExport;
use flowwire_ovs::spec::{ValidateOptions, load_spec};
use flowwire_ovs::{Configurator, DesiredConfig, Error, ExportOptions, Plan, Protocol, ValidSpec};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(10);

fn spec(text: &str) -> ValidSpec {
    load_spec(text, "test", &ValidateOptions { allow_ipv6: true })
        .expect("valid spec")
        .1
}

const ALL3: &str = r#"apiVersion: operator.openshift.io/v1
kind: Network
metadata:
  name: cluster
spec:
  exportNetworkFlows:
    netFlow:
      collectors: ["192.168.1.99:2056", "192.168.1.100:2056"]
    sFlow:
      collectors: ["192.168.1.99:6343"]
    ipfix:
      collectors: ["192.168.1.99:4739"]
"#;

fn server_with_bridge(test: &str) -> Option<OvsdbServer> {
    let s = OvsdbServer::start(test)?;
    s.vsctl_ok(&["add-br", "br-int"]);
    Some(s)
}

/// OVSDB JSON set/atom → set of strings.
fn strings(v: &Value) -> BTreeSet<String> {
    match v {
        Value::String(s) => [s.clone()].into(),
        Value::Array(a) if a.first() == Some(&json!("set")) => a[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("not a string set: {other}"),
    }
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn apply_show_reapply_change_clear() {
    let Some(s) = server_with_bridge("apply_show_reapply_change_clear") else {
        return;
    };
    let mut c = Configurator::connect(&s.db(), T).unwrap();
    let opts = ExportOptions::default();

    // Nothing configured yet.
    let before = c.read("br-int").unwrap();
    assert_eq!(row_uuids(&before), [None, None, None]);

    // apply
    let desired = spec(ALL3);
    let out = c.apply(&desired, &opts, None).unwrap();
    assert_eq!(out.plan.changes.len(), 3);
    assert!(out.next_cfg.is_some());
    let uuids = row_uuids(&out.after);
    assert!(uuids.iter().all(Option::is_some), "{uuids:?}");

    // OVS sees what we wrote.
    let nf = s.list("NetFlow");
    assert_eq!(nf.len(), 1);
    assert_eq!(
        strings(&nf[0]["targets"]),
        set_of(&["192.168.1.99:2056", "192.168.1.100:2056"])
    );
    assert_eq!(nf[0]["active_timeout"], json!(60));
    assert_eq!(nf[0]["add_id_to_interface"], json!(false));
    assert_eq!(nf[0]["engine_id"], json!(["set", []]));
    let sf = s.list("sFlow");
    assert_eq!(sf.len(), 1);
    assert_eq!(strings(&sf[0]["targets"]), set_of(&["192.168.1.99:6343"]));
    assert_eq!(sf[0]["agent"], json!("ovn-k8s-mp0"));
    assert_eq!(sf[0]["sampling"], json!(["set", []]));
    let ipx = s.list("IPFIX");
    assert_eq!(ipx.len(), 1);
    assert_eq!(strings(&ipx[0]["targets"]), set_of(&["192.168.1.99:4739"]));
    assert_eq!(ipx[0]["sampling"], json!(400));
    assert_eq!(ipx[0]["cache_active_timeout"], json!(60));
    assert_eq!(ipx[0]["cache_max_flows"], json!(["set", []]));
    // ... and the bridge points at those rows.
    let br = s.vsctl_ok(&["get", "Bridge", "br-int", "netflow", "sflow", "ipfix"]);
    let refs: Vec<&str> = br.lines().collect();
    assert_eq!(refs.len(), 3);
    for (r, u) in refs.iter().zip(&uuids) {
        assert_eq!(Some(r.to_string()), *u);
    }

    // show round-trips: same collectors (as sets) and same options.
    let shown = c.read("br-int").unwrap();
    for p in Protocol::ALL {
        assert_eq!(shown.targets(p), desired.targets(p), "{p}");
    }
    assert_eq!(shown.to_options(), opts);
    assert_eq!(
        shown.to_spec().targets(Protocol::NetFlow),
        desired.targets(Protocol::NetFlow)
    );

    // re-apply: idempotent, nothing written, same UUIDs, next_cfg untouched.
    let next_cfg_before = s.vsctl_ok(&["get", "Open_vSwitch", ".", "next_cfg"]);
    let again = c.apply(&desired, &opts, None).unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert_eq!(again.next_cfg, None);
    assert_eq!(row_uuids(&again.after), uuids);
    assert_eq!(
        s.vsctl_ok(&["get", "Open_vSwitch", ".", "next_cfg"]),
        next_cfg_before
    );
    // Same collectors in another order, with a duplicate: still nothing to do.
    let reordered = spec(
        "netFlow: {collectors: [\"192.168.1.100:2056\", \"192.168.1.99:2056\", \"192.168.1.100:2056\"]}\n\
         sFlow: {collectors: [\"192.168.1.99:6343\"]}\nipfix: {collectors: [\"192.168.1.99:4739\"]}\n",
    );
    assert!(c.plan(&reordered, &opts).unwrap().is_empty());

    // change: new NetFlow targets and IPFIX options, sFlow removed. Rows are updated in
    // place (same UUIDs).
    let mut opts2 = opts.clone();
    opts2.ipfix.cache_max_flows = Some(100);
    opts2.ipfix.sampling = Some(64);
    opts2.netflow.engine_id = Some(7);
    let changed = spec(
        "netFlow: {collectors: [\"10.0.0.1:2056\"]}\nipfix: {collectors: [\"192.168.1.99:4739\", \"[fd00::1]:4739\"]}\n",
    );
    let out = c.apply(&changed, &opts2, None).unwrap();
    assert_eq!(out.plan.changes.len(), 3, "{}", out.plan);
    let u2 = row_uuids(&out.after);
    assert_eq!(u2[0], uuids[0]);
    assert_eq!(u2[1], None);
    assert_eq!(u2[2], uuids[2]);
    assert!(
        s.list("sFlow").is_empty(),
        "unreferenced sFlow row garbage-collected"
    );
    let nf = s.list("NetFlow");
    assert_eq!(strings(&nf[0]["targets"]), set_of(&["10.0.0.1:2056"]));
    assert_eq!(nf[0]["engine_id"], json!(7));
    let ipx = s.list("IPFIX");
    assert_eq!(
        strings(&ipx[0]["targets"]),
        set_of(&["192.168.1.99:4739", "[fd00::1]:4739"])
    );
    assert_eq!(ipx[0]["cache_max_flows"], json!(100));
    assert_eq!(ipx[0]["sampling"], json!(64));
    let shown = c.read("br-int").unwrap();
    assert_eq!(shown.to_options().ipfix, opts2.ipfix);
    assert_eq!(shown.to_options().netflow, opts2.netflow);
    assert!(c.apply(&changed, &opts2, None).unwrap().plan.is_empty());

    // clear: all three columns in one transaction; OVS drops the rows.
    let out = c.clear("br-int", None).unwrap();
    assert_eq!(out.plan.changes.len(), 2);
    assert_eq!(row_uuids(&out.after), [None, None, None]);
    for t in ["NetFlow", "sFlow", "IPFIX"] {
        assert!(s.list(t).is_empty(), "{t} not empty after clear");
    }
    // clear again: nothing to do.
    assert!(c.clear("br-int", None).unwrap().plan.is_empty());
}

#[test]
fn dry_run_commands_are_accepted_by_ovs_vsctl() {
    let Some(s) = server_with_bridge("dry_run_commands_are_accepted_by_ovs_vsctl") else {
        return;
    };
    let mut c = Configurator::connect(&s.db(), T).unwrap();
    let globals = vec![
        format!("--db={}", s.db()),
        "--no-wait".to_owned(),
        "--timeout=10".to_owned(),
    ];
    let run = |plan: &Plan| {
        let argv = plan.vsctl_argv(&globals);
        assert!(!argv.is_empty());
        let out = Command::new(common::find_program("ovs-vsctl").unwrap())
            .args(&argv[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ovs-vsctl rejected {argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };

    // create all three (through the shell text, as a user would paste it)
    let mut opts = ExportOptions::default();
    opts.sflow.sampling = Some(1000);
    opts.sflow.header = Some(64);
    opts.netflow.add_id_to_interface = true;
    opts.netflow.engine_type = Some(1);
    opts.ipfix.obs_domain_id = Some(42);
    let a = spec(ALL3);
    let plan = c.plan(&a, &opts).unwrap();
    let script = plan.vsctl_script(&globals);
    let Some(shell) = common::find_program("sh") else {
        eprintln!("SKIPPED dry_run_commands_are_accepted_by_ovs_vsctl: `sh` not found");
        return;
    };
    let out = Command::new(shell).arg("-c").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "sh rejected:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ovs-vsctl's result is exactly what our own transaction would have written.
    assert!(
        c.plan(&a, &opts).unwrap().is_empty(),
        "{}",
        c.plan(&a, &opts).unwrap()
    );
    let uuids = row_uuids(&c.read("br-int").unwrap());

    // update in place + clear columns + remove one protocol
    let mut opts2 = opts.clone();
    opts2.sflow.sampling = None;
    opts2.sflow.agent = None;
    opts2.netflow.active_timeout = 30;
    let b = spec(
        "netFlow: {collectors: [\"10.1.1.1:2056\"]}\nsFlow: {collectors: [\"192.168.1.99:6343\", \"10.1.1.1:6343\"]}\n",
    );
    let plan = c.plan(&b, &opts2).unwrap();
    run(&plan);
    assert!(
        c.plan(&b, &opts2).unwrap().is_empty(),
        "{}",
        c.plan(&b, &opts2).unwrap()
    );
    let after = row_uuids(&c.read("br-int").unwrap());
    assert_eq!(after[0], uuids[0]);
    assert_eq!(after[1], uuids[1]);
    assert_eq!(after[2], None);

    // clear
    let current = c.read("br-int").unwrap();
    let plan = Plan::new(&DesiredExport::nothing("br-int"), &current);
    run(&plan);
    assert_eq!(row_uuids(&c.read("br-int").unwrap()), [None, None, None]);

    // The offline ("blind") dry run is right from any state: here all three are set and
    // the blind plan for `b` (netFlow + sFlow) must leave exactly `b`.
    c.apply(&a, &opts, None).unwrap();
    let blind = Plan::blind(&c.desired(&b, &opts2).unwrap());
    run(&blind);
    assert!(
        c.plan(&b, &opts2).unwrap().is_empty(),
        "{}",
        c.plan(&b, &opts2).unwrap()
    );
    assert!(s.list("IPFIX").is_empty());
}

#[test]
fn errors_from_the_server() {
    let Some(s) = server_with_bridge("errors_from_the_server") else {
        return;
    };
    let mut c = Configurator::connect(&s.db(), T).unwrap();
    let opts = ExportOptions::default();
    let a = spec(ALL3);

    // Options for columns this server's schema lacks (IPFIX.template_interval appeared
    // after OVS 3.1) are refused before anything is written; unset they are simply skipped.
    let mut ti = opts.clone();
    ti.ipfix.template_interval = Some(60);
    if c.schema().has("IPFIX", "template_interval") {
        c.apply(&a, &ti, None).unwrap();
        c.clear("br-int", None).unwrap();
    } else {
        let e = c.apply(&a, &ti, None).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Unsupported {
                    column: "template_interval",
                    ..
                }
            ),
            "{e}"
        );
        assert!(s.list("IPFIX").is_empty());
    }

    // The server's integer ranges are read (and checked when planning).
    assert_eq!(
        c.schema().int_range("IPFIX", "cache_active_timeout"),
        Some((0, 4200))
    );
    assert_eq!(
        c.schema().int_range("NetFlow", "active_timeout"),
        Some((-1, i64::MAX))
    );

    // Missing bridge.
    let other = ExportOptions {
        bridge: "br-nope".into(),
        ..opts.clone()
    };
    assert!(matches!(
        c.apply(&a, &other, None),
        Err(Error::BridgeNotFound(b)) if b == "br-nope"
    ));

    // Concurrent change between read and write: the wait guard aborts the transaction.
    let plan = c.plan(&a, &opts).unwrap();
    s.vsctl_ok(&[
        "--",
        "--id=@n",
        "create",
        "NetFlow",
        "targets=\"1.1.1.1:1\"",
        "--",
        "set",
        "Bridge",
        "br-int",
        "netflow=@n",
    ]);
    let e = c.execute(plan, None).unwrap_err();
    assert!(matches!(e, Error::ConcurrentChange(_)), "{e}");
    assert_eq!(
        strings(&s.list("NetFlow")[0]["targets"]),
        set_of(&["1.1.1.1:1"])
    );

    // Constraint violation: OVSDB's error and details come back.
    let mut cl = Client::connect(&Endpoint::parse(&s.db()).unwrap(), T).unwrap();
    cl.echo().unwrap();
    let mut row = serde_json::Map::new();
    row.insert("targets".into(), json!("1.2.3.4:4739"));
    row.insert("cache_active_timeout".into(), json!(5000));
    let e = cl
        .transact("Open_vSwitch", vec![op::insert("IPFIX", row, Some("x"))])
        .unwrap_err();
    let Error::Ovsdb(o) = e else { panic!("{e}") };
    assert_eq!(o.error, "constraint violation");
    assert!(o.details.as_deref().unwrap_or("").contains("5000"), "{o:?}");

    // Referential integrity: deleting a row the bridge still points at fails at commit.
    let nf = s.vsctl_ok(&["get", "Bridge", "br-int", "netflow"]);
    let e = cl
        .transact(
            "Open_vSwitch",
            vec![op::delete(
                "NetFlow",
                vec![op::cond("_uuid", "==", op::uuid(nf.trim()))],
            )],
        )
        .unwrap_err();
    let Error::Ovsdb(o) = e else { panic!("{e}") };
    assert_eq!((o.index, o.op.as_str()), (1, "commit"));
    assert_eq!(o.error, "referential integrity violation");

    // Unknown table: syntax error naming the operation.
    let e = cl
        .transact("Open_vSwitch", vec![op::select("Netflow", vec![], &[])])
        .unwrap_err();
    let Error::Ovsdb(o) = e else { panic!("{e}") };
    assert_eq!(o.index, 0);
    assert!(o.to_string().contains("Netflow"), "{o}");

    // Unknown database: a JSON-RPC level error.
    assert!(matches!(
        cl.transact("Nope", vec![]),
        Err(Error::Rpc { .. }) | Err(Error::Ovsdb(_))
    ));

    // --wait without ovs-vswitchd: a clear timeout, after the change was committed.
    let mut quick = Configurator::connect(&s.db(), Duration::from_millis(700)).unwrap();
    let e = quick
        .apply(&a, &opts, Some(Duration::from_millis(700)))
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("ovs-vswitchd"), "{e}");
    assert!(c.plan(&a, &opts).unwrap().is_empty());
}

#[test]
fn tcp_endpoint_and_named_uuid_insert() {
    let Some(s) = OvsdbServer::start_with("tcp_endpoint_and_named_uuid_insert", true) else {
        return;
    };
    s.vsctl_ok(&["add-br", "br-int"]);
    let port = s.tcp_port.unwrap();
    let db = format!("tcp:127.0.0.1:{port}");
    let mut c = Configurator::connect(&db, T).unwrap();
    let a = spec("ipfix: {collectors: [\"127.0.0.1:4739\"]}\n");
    let out = c.apply(&a, &ExportOptions::default(), None).unwrap();
    assert!(out.after.get(Protocol::Ipfix).is_some());
    assert_eq!(
        strings(&s.list("IPFIX")[0]["targets"]),
        set_of(&["127.0.0.1:4739"])
    );

    // Raw client: insert + reference by named-uuid + mutate + wait, in one transaction.
    let mut cl = Client::connect(&Endpoint::parse(&db).unwrap(), T).unwrap();
    let mut row = serde_json::Map::new();
    row.insert("targets".into(), json!(["set", ["127.0.0.1:2055"]]));
    row.insert("active_timeout".into(), json!(5));
    let mut br = serde_json::Map::new();
    br.insert("netflow".into(), op::named_uuid("nf"));
    let r = cl
        .transact(
            "Open_vSwitch",
            vec![
                op::wait(
                    "Bridge",
                    vec![op::cond("name", "==", json!("br-int"))],
                    &["name"],
                    "==",
                    vec![json!({"name": "br-int"})],
                    0,
                ),
                op::insert("NetFlow", row, Some("nf")),
                op::update("Bridge", vec![op::cond("name", "==", json!("br-int"))], br),
                op::mutate(
                    "NetFlow",
                    vec![op::cond("_uuid", "==", op::named_uuid("nf"))],
                    vec![json!(["active_timeout", "+=", 10])],
                ),
            ],
        )
        .unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r[2], json!({"count": 1}));
    assert_eq!(s.list("NetFlow")[0]["active_timeout"], json!(15));
}

#[test]
fn show_report_and_network_round_trip() {
    let Some(s) = server_with_bridge("show_report_and_network_round_trip") else {
        return;
    };
    let mut c = Configurator::connect(&s.db(), T).unwrap();
    let empty = c.show("br-int").unwrap();
    let text = empty.to_string();
    assert!(text.starts_with("bridge br-int ("), "{text}");
    assert!(text.contains("netFlow: not configured\n"), "{text}");
    assert_eq!(empty.network().spec.export_network_flows, None);

    let desired = DesiredConfig::load(
        ALL3,
        "all3",
        None,
        &ValidateOptions::default(),
        &Default::default(),
    )
    .unwrap();
    c.apply(&desired.spec, &desired.options, None).unwrap();
    let report = c.show("br-int").unwrap();
    let text = report.to_string();
    println!("{text}");
    let uuid = report.current.get(Protocol::NetFlow).unwrap().uuid.clone();
    assert!(
        text.contains(&format!("netFlow: NetFlow row {uuid}\n")),
        "{text}"
    );
    assert!(text.contains("  active_timeout       60\n"), "{text}");
    assert!(
        text.contains("  agent                \"ovn-k8s-mp0\"\n"),
        "{text}"
    );
    // No ovs-vswitchd here: the change is pending and there are no IPFIX counters.
    let cfg = report.config.unwrap();
    assert!(!cfg.applied());
    assert!(
        text.contains("ovs-vswitchd: configuration pending (cur_cfg 0 < next_cfg 1)"),
        "{text}"
    );
    assert!(
        matches!(&report.ipfix_stats, Some(Err(e)) if e.contains("br-int.mgmt: connect")),
        "{:?}",
        report.ipfix_stats
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    // external_ids are shown; loopback and shared collectors are warned about.
    let ipfix_uuid = report.current.get(Protocol::Ipfix).unwrap().uuid.clone();
    s.vsctl_ok(&["set", "IPFIX", &ipfix_uuid, "external_ids:owner=test"]);
    let local = spec(
        "netFlow: {collectors: [\"127.0.0.1:2056\"]}\nipfix: {collectors: [\"10.1.2.3:2056\"]}\n\
         sFlow: {collectors: [\"10.1.2.3:2056\"]}\n",
    );
    c.apply(&local, &desired.options, None).unwrap();
    let r = c.show("br-int").unwrap();
    println!("{r}");
    assert!(
        r.to_string()
            .contains("  external_ids         {owner=\"test\"}\n"),
        "{r}"
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("netFlow collector 127.0.0.1:2056: a loopback address")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("collector 10.1.2.3:2056 receives sFlow and ipfix")),
        "{:?}",
        r.warnings
    );
    c.apply(&desired.spec, &desired.options, None).unwrap();

    // The Network object, as YAML and as JSON, is accepted back with nothing to change.
    for shown in [
        report.network().to_yaml().unwrap(),
        report.network().to_json().unwrap(),
    ] {
        let back = DesiredConfig::load(
            &shown,
            "shown",
            None,
            &ValidateOptions::default(),
            &Default::default(),
        )
        .unwrap();
        assert!(
            c.plan(&back.spec, &back.options).unwrap().is_empty(),
            "{shown}"
        );
    }
    let v: Value = serde_json::from_str(&report.network().to_json().unwrap()).unwrap();
    assert_eq!(
        v["spec"]["exportNetworkFlows"]["sFlow"]["collectors"],
        json!(["192.168.1.99:6343"])
    );
}

#[test]
fn shared_row_is_not_modified() {
    let Some(s) = server_with_bridge("shared_row_is_not_modified") else {
        return;
    };
    // br0 and br-int share one NetFlow row, made by hand.
    s.vsctl_ok(&["add-br", "br0"]);
    s.vsctl_ok(&[
        "--",
        "--id=@n",
        "create",
        "NetFlow",
        "targets=\"10.9.9.9:2056\"",
        "active_timeout=60",
        "--",
        "set",
        "Bridge",
        "br-int",
        "netflow=@n",
        "--",
        "set",
        "Bridge",
        "br0",
        "netflow=@n",
    ]);
    let shared = s
        .vsctl_ok(&["get", "Bridge", "br0", "netflow"])
        .trim()
        .to_owned();
    let mut c = Configurator::connect(&s.db(), T).unwrap();
    assert!(
        c.read("br-int")
            .unwrap()
            .get(Protocol::NetFlow)
            .unwrap()
            .shared
    );
    let a = spec("netFlow: {collectors: [\"10.0.0.1:2056\"]}\n");
    let out = c.apply(&a, &ExportOptions::default(), None).unwrap();
    let mine = out.after.get(Protocol::NetFlow).unwrap();
    assert_ne!(mine.uuid, shared, "a new row for br-int");
    assert!(!mine.shared);
    assert_eq!(
        s.vsctl_ok(&["get", "Bridge", "br0", "netflow"]).trim(),
        shared
    );
    assert_eq!(
        s.vsctl_ok(&["get", "NetFlow", &shared, "targets"]).trim(),
        r#"["10.9.9.9:2056"]"#
    );
    // From now on br-int's own row is updated in place.
    let b = spec("netFlow: {collectors: [\"10.0.0.2:2056\"]}\n");
    let out = c.apply(&b, &ExportOptions::default(), None).unwrap();
    assert_eq!(out.after.get(Protocol::NetFlow).unwrap().uuid, mine.uuid);
}

#[test]
fn monitor_reports_changes_made_by_ovs_vsctl() {
    let Some(s) = server_with_bridge("monitor_reports_changes_made_by_ovs_vsctl") else {
        return;
    };
    let mut cl = Client::connect(&Endpoint::parse(&s.db()).unwrap(), T).unwrap();
    let initial = cl
        .monitor(
            "Open_vSwitch",
            json!("fw"),
            json!({"Bridge": {"columns": ["name", "netflow"]}}),
        )
        .unwrap();
    let rows = initial["Bridge"].as_object().unwrap();
    assert_eq!(rows.len(), 1);
    let (uuid, row) = rows.iter().next().unwrap();
    assert_eq!(row["new"]["name"], "br-int");
    assert!(
        cl.next_notification(Duration::from_millis(200))
            .unwrap()
            .is_none()
    );

    s.vsctl_ok(&[
        "--",
        "--id=@n",
        "create",
        "NetFlow",
        "targets=\"1.1.1.1:1\"",
        "--",
        "set",
        "Bridge",
        "br-int",
        "netflow=@n",
    ]);
    let n = cl
        .next_notification(Duration::from_secs(5))
        .unwrap()
        .expect("an update within 5 s");
    assert_eq!(n.method, "update");
    assert_eq!(n.params[0], "fw");
    let change = &n.params[1]["Bridge"][uuid];
    // A modification: "old" has the changed column's previous value.
    assert_eq!(change["old"]["netflow"], json!(["set", []]));
    assert_eq!(change["new"]["netflow"][0], "uuid");
    // The connection stays usable for transactions.
    cl.echo().unwrap();
}

#[test]
fn flow_sample_collector_set_is_managed_when_asked() {
    let Some(s) = server_with_bridge("flow_sample_collector_set_is_managed_when_asked") else {
        return;
    };
    let mut c = Configurator::connect(&s.db(), T).unwrap();
    if !c.schema().has("Flow_Sample_Collector_Set", "ipfix") {
        eprintln!("SKIPPED: this OVS schema has no Flow_Sample_Collector_Set");
        return;
    }
    let bridge_uuid = s
        .vsctl_ok(&["get", "Bridge", "br-int", "_uuid"])
        .trim()
        .to_owned();
    let opts = ExportOptions {
        flow_sample_collector_set: Some(7),
        ..Default::default()
    };
    let a = spec(ALL3);
    let out = c.apply(&a, &opts, None).unwrap();
    println!("{}", out.plan);
    let fscs = s.list("Flow_Sample_Collector_Set");
    assert_eq!(fscs.len(), 1);
    assert_eq!(fscs[0]["id"], json!(7));
    assert_eq!(fscs[0]["bridge"], json!(["uuid", bridge_uuid]));
    assert_eq!(
        fscs[0]["external_ids"],
        json!(["map", [["flowwire", "exportNetworkFlows"]]])
    );
    let fscs_ipfix = fscs[0]["ipfix"][1].as_str().unwrap().to_owned();
    let bridge_ipfix = s
        .vsctl_ok(&["get", "Bridge", "br-int", "ipfix"])
        .trim()
        .to_owned();
    assert_ne!(fscs_ipfix, bridge_ipfix, "its own IPFIX row");
    let row = |u: &str| {
        s.list("IPFIX")
            .into_iter()
            .find(|r| r["_uuid"][1] == u)
            .unwrap()
    };
    let r = row(&fscs_ipfix);
    assert_eq!(strings(&r["targets"]), set_of(&["192.168.1.99:4739"]));
    assert_eq!(r["cache_active_timeout"], json!(60));
    assert_eq!(
        r["sampling"],
        json!(["set", []]),
        "sampling comes from sample actions"
    );
    // The bridge's own IPFIX row is not "shared" with it and keeps its sampling.
    assert_eq!(row(&bridge_ipfix)["sampling"], json!(400));

    // Idempotent.
    let again = c.plan(&a, &opts).unwrap();
    assert!(again.is_empty(), "{again}");
    assert_eq!(again.flow_sample_unchanged, Some(7));
    assert_eq!(
        again.to_string(),
        "bridge br-int: up to date (netFlow, sFlow, ipfix, flow sampling set 7)"
    );

    // New IPFIX collectors: its row is updated in place.
    let b = spec(
        "netFlow: {collectors: [\"192.168.1.99:2056\"]}\nipfix: {collectors: [\"10.0.0.7:4739\"]}\n",
    );
    let out = c.apply(&b, &opts, None).unwrap();
    println!("{}", out.plan);
    let fscs = s.list("Flow_Sample_Collector_Set");
    assert_eq!(fscs[0]["ipfix"][1], fscs_ipfix.as_str());
    assert_eq!(
        strings(&row(&fscs_ipfix)["targets"]),
        set_of(&["10.0.0.7:4739"])
    );

    // Someone else's set: never taken over, never touched.
    s.vsctl_ok(&[
        "--",
        "--id=@br",
        "get",
        "Bridge",
        "br-int",
        "--",
        "--id=@i",
        "create",
        "IPFIX",
        "targets=\"10.9.9.9:4739\"",
        "--",
        "create",
        "Flow_Sample_Collector_Set",
        "id=9",
        "bridge=@br",
        "ipfix=@i",
    ]);
    let mut theirs = opts.clone();
    theirs.flow_sample_collector_set = Some(9);
    let shown = c.show("br-int").unwrap().to_string();
    assert!(
        shown.contains("flow sampling: Flow_Sample_Collector_Set id 9 row "),
        "{shown}"
    );
    assert!(shown.contains(", flowwire's, IPFIX row "), "{shown}");
    let e = c.apply(&b, &theirs, None).unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");
    assert!(e.to_string().contains("flowwire did not create"), "{e}");

    // The id changes: the old set goes, the new one comes, in one transaction.
    let mut eight = opts.clone();
    eight.flow_sample_collector_set = Some(8);
    let plan = c.plan(&b, &eight).unwrap();
    println!("{plan}");
    // Through ovs-vsctl this time: the dry run's commands do the same.
    let argv = plan.vsctl_argv(&[format!("--db={}", s.db()), "--no-wait".into()]);
    let out = Command::new(common::find_program("ovs-vsctl").unwrap())
        .args(&argv[1..])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{argv:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(c.plan(&b, &eight).unwrap().is_empty());
    let mut ids: Vec<i64> = s
        .list("Flow_Sample_Collector_Set")
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [8, 9]);

    // Without the option, sets are left alone; without IPFIX collectors ours goes; clear
    // removes ours too; theirs stays throughout.
    let no_ipfix = spec("netFlow: {collectors: [\"192.168.1.99:2056\"]}\n");
    assert!(
        c.plan(&no_ipfix, &ExportOptions::default())
            .unwrap()
            .changes
            .iter()
            .all(|ch| !matches!(ch, flowwire_ovs::Change::FlowSampleRemove { .. }))
    );
    c.apply(&no_ipfix, &eight, None).unwrap();
    let ids: Vec<i64> = s
        .list("Flow_Sample_Collector_Set")
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [9]);
    c.apply(&b, &eight, None).unwrap();
    assert_eq!(s.list("Flow_Sample_Collector_Set").len(), 2);
    let out = c.clear("br-int", None).unwrap();
    println!("{}", out.plan);
    let left = s.list("Flow_Sample_Collector_Set");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], json!(9));
}
