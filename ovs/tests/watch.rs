//! The Reconciler against a real ovsdb-server: drift undone, spec edits followed, invalid
//! edits refused, a bridge deleted and re-created, ovsdb-server killed and restarted on the
//! same database. Skips, with the reason printed, when Open vSwitch is not installed.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::OvsdbServer;
use flowwire_ovs::watch::{Event, Reconciler, SpecFiles, Trigger};
use flowwire_ovs::{Overrides, ValidateOptions};
use serde_json::{Value, json};

/// How long a correction may take (the issue asks for "within 2 s").
const LIMIT: Duration = Duration::from_secs(2);

fn spec_text(sflow: &str) -> String {
    format!(
        "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"127.0.0.1:2056\"]\n    \
         sFlow:\n      collectors: [\"{sflow}\"]\n    ipfix:\n      collectors: [\"127.0.0.1:4739\"]\n"
    )
}

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

/// Events with the time they happened (since the test started).
struct Log {
    rx: Receiver<(Duration, Event)>,
    t0: Instant,
}

impl Log {
    fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    /// The first event matching `want`, which must happen within `limit` of `since` (a
    /// time from [`Log::now`] taken before the action); returns how long after `since` it
    /// happened. Earlier events are printed and dropped.
    fn expect(
        &self,
        since: Duration,
        limit: Duration,
        what: &str,
        want: impl Fn(&Event) -> bool,
    ) -> Duration {
        loop {
            let left = (since + limit).saturating_sub(self.now());
            match self.rx.recv_timeout(left) {
                Ok((at, e)) => {
                    println!("[{:>6.3}s] {e}", at.as_secs_f64());
                    if want(&e) {
                        let took = at.saturating_sub(since);
                        assert!(took <= limit, "{what} took {took:?}");
                        return took;
                    }
                }
                Err(_) => panic!("no {what} within {limit:?}"),
            }
        }
    }

    /// Nothing but events matching `ok` for `d`.
    fn quiet(&self, d: Duration, ok: impl Fn(&Event) -> bool) {
        let until = Instant::now() + d;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok((at, e)) => {
                    println!("[{:>6.3}s] {e}", at.as_secs_f64());
                    assert!(ok(&e), "unexpected event: {e}");
                }
                Err(_) => return,
            }
        }
    }
}

fn corrected(e: &Event, trigger: impl Fn(&Trigger) -> bool) -> bool {
    matches!(e, Event::Corrected { trigger: t, .. } if trigger(t))
}

#[test]
fn reconciler_keeps_the_bridge_matching_the_spec() {
    let Some(mut s) = OvsdbServer::start("reconciler_keeps_the_bridge_matching_the_spec") else {
        return;
    };
    s.vsctl_ok(&["add-br", "br-int"]);
    let spec = s.path().join("network.yaml");
    std::fs::write(&spec, spec_text("127.0.0.1:6343")).unwrap();
    let mut files = SpecFiles::new(
        &spec,
        None,
        ValidateOptions::default(),
        Overrides::default(),
    );
    let desired = files.load().unwrap();
    let mut reconciler = Reconciler::new(&s.db()).unwrap();
    let stop = reconciler.stop_flag();
    let (tx, rx) = channel();
    let t0 = Instant::now();
    let log = Log { rx, t0 };
    let runner: JoinHandle<()> = std::thread::spawn(move || {
        reconciler.run(desired, &mut files, &mut |e| {
            let _ = tx.send((t0.elapsed(), e.clone()));
        });
    });

    // Start: connected, then the bridge gets all three.
    log.expect(Duration::ZERO, LIMIT, "connection", |e| {
        matches!(e, Event::Connected { .. })
    });
    log.expect(Duration::ZERO, LIMIT, "the first apply", |e| {
        corrected(e, |t| *t == Trigger::Start)
    });
    assert_eq!(s.list("IPFIX").len(), 1);

    // Someone clears the IPFIX column: undone within 2 s.
    let t = log.now();
    s.vsctl_ok(&["clear", "Bridge", "br-int", "ipfix"]);
    let took = log.expect(t, LIMIT, "the IPFIX correction", |e| {
        corrected(
            e,
            |t| matches!(t, Trigger::Drift(w) if w.contains("Bridge br-int ipfix changed")),
        ) && e.to_string().contains("ipfix missing")
    });
    println!("ipfix cleared -> corrected in {took:?}");
    let ipfix = s.list("IPFIX");
    assert_eq!(ipfix.len(), 1);
    assert_eq!(
        strings(&ipfix[0]["targets"]),
        ["127.0.0.1:4739".to_owned()].into()
    );
    assert_ne!(
        s.vsctl_ok(&["get", "Bridge", "br-int", "ipfix"]).trim(),
        "[]"
    );

    // Someone changes a column of the NetFlow row: put back in place (same row).
    let nf = s
        .vsctl_ok(&["get", "Bridge", "br-int", "netflow"])
        .trim()
        .to_owned();
    let t = log.now();
    s.vsctl_ok(&["set", "NetFlow", &nf, "active_timeout=5"]);
    log.expect(t, LIMIT, "the NetFlow correction", |e| {
        corrected(e, |t| matches!(t, Trigger::Drift(_)))
            && e.to_string().contains("netFlow.active_timeout 5 (want 60)")
    });
    assert_eq!(s.list("NetFlow")[0]["active_timeout"], json!(60));
    assert_eq!(
        s.vsctl_ok(&["get", "Bridge", "br-int", "netflow"]).trim(),
        nf
    );

    // The spec file changes the sFlow collector: followed within 2 s.
    let t = log.now();
    std::fs::write(&spec, spec_text("127.0.0.2:6343")).unwrap();
    let took = log.expect(t, LIMIT, "the sFlow update", |e| {
        corrected(e, |t| matches!(t, Trigger::SpecChanged(_)))
    });
    println!("spec edited -> applied in {took:?}");
    assert_eq!(
        strings(&s.list("sFlow")[0]["targets"]),
        ["127.0.0.2:6343".to_owned()].into()
    );

    // An invalid edit is refused and the running state kept.
    let t = log.now();
    std::fs::write(&spec, spec_text("127.0.0.300:6343")).unwrap();
    log.expect(
        t,
        LIMIT,
        "the refusal",
        |e| matches!(e, Event::SpecRejected { error, .. } if error.contains("127.0.0.300:6343")),
    );
    log.quiet(Duration::from_millis(700), |e| {
        !matches!(e, Event::Corrected { .. } | Event::SpecAccepted { .. })
    });
    assert_eq!(
        strings(&s.list("sFlow")[0]["targets"]),
        ["127.0.0.2:6343".to_owned()].into()
    );
    // ... and drift is still corrected towards the last good spec.
    let t = log.now();
    s.vsctl_ok(&["clear", "Bridge", "br-int", "sflow"]);
    log.expect(t, LIMIT, "the sFlow correction", |e| {
        corrected(e, |t| matches!(t, Trigger::Drift(_))) && e.to_string().contains("127.0.0.2:6343")
    });

    // The bridge deleted and re-created: all three back within 2 s.
    let t = log.now();
    s.vsctl_ok(&["del-br", "br-int"]);
    log.expect(t, LIMIT, "the missing bridge", |e| {
        matches!(e, Event::BridgeMissing { .. })
    });
    let t = log.now();
    s.vsctl_ok(&["add-br", "br-int"]);
    log.expect(t, LIMIT, "the re-created bridge's export", |e| {
        corrected(
            e,
            |t| matches!(t, Trigger::Drift(w) if w.contains("Bridge br-int created")),
        )
    });
    for t in ["NetFlow", "sFlow", "IPFIX"] {
        assert_eq!(s.list(t).len(), 1, "{t}");
    }

    // ovsdb-server killed and restarted on the same database: reconnected, re-checked, and
    // following changes again.
    let t = log.now();
    s.kill();
    log.expect(t, LIMIT, "the lost connection", |e| {
        matches!(e, Event::Disconnected { .. })
    });
    std::thread::sleep(Duration::from_millis(1500));
    let t = log.now();
    s.restart();
    let took = log.expect(t, LIMIT, "the reconnection", |e| {
        matches!(e, Event::Connected { .. })
    });
    println!("ovsdb-server back -> reconnected in {took:?}");
    log.expect(t, LIMIT, "the re-check", |e| {
        matches!(
            e,
            Event::InSync {
                trigger: Trigger::Reconnected,
                ..
            }
        )
    });
    let t = log.now();
    s.vsctl_ok(&["clear", "Bridge", "br-int", "netflow"]);
    log.expect(t, LIMIT, "a correction after the restart", |e| {
        corrected(e, |t| matches!(t, Trigger::Drift(_)))
            && e.to_string().contains("netFlow missing")
    });

    // Stop.
    let t = log.now();
    stop.store(true, Ordering::Relaxed);
    log.expect(t, Duration::from_secs(1), "the stop", |e| {
        matches!(e, Event::Stopped)
    });
    runner.join().unwrap();
}
