//! `flowwire ovs`: `validate` and `apply --dry-run` need no OVS; the other commands run
//! against a throwaway ovsdb-server (skipped, with the reason printed, when Open vSwitch is
//! not installed).

#[path = "../../ovs/tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use common::OvsdbServer;

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

fn tempdir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fw-cli-ovs-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn flowwire() -> Command {
    Command::cargo_bin("flowwire").unwrap()
}

#[test]
fn validate_reports_the_field_path_and_value() {
    let spec = "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"192.168.1.99:2056\", \"01.2.3.4:2056\"]\n";
    let out = flowwire()
        .args(["ovs", "validate", "-f", "-"])
        .write_stdin(spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("spec.exportNetworkFlows.netFlow.collectors[1]"),
        "{err}"
    );
    assert!(err.contains("01.2.3.4:2056"), "{err}");
}

#[test]
fn dry_run_prints_ovs_vsctl() {
    let spec = "exportNetworkFlows:\n  sFlow:\n    collectors: [\"10.0.0.1:6343\"]\n";
    let out = flowwire()
        .args(["ovs", "apply", "--dry-run", "-f", "-"])
        .write_stdin(spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ovs-vsctl"), "{text}");
    assert!(text.contains("10.0.0.1:6343"), "{text}");
}

#[test]
fn validate_warnings_formats_and_input_errors() {
    let dir = tempdir("validate");
    let ok = dir.join("ok.yaml");
    std::fs::write(
        &ok,
        "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"1.2.3.4:2056\", \"1.2.3.4:2056\"]\n",
    )
    .unwrap();
    let out = flowwire()
        .args(["ovs", "validate", "-f"])
        .arg(&ok)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains("netFlow: 1.2.3.4:2056\n"), "{stdout}");
    assert!(stdout.contains("sFlow: not configured\n"), "{stdout}");
    assert!(
        stderr.contains("warning: spec.exportNetworkFlows.netFlow.collectors[1]"),
        "{stderr}"
    );
    let out = flowwire()
        .args(["ovs", "validate", "--format", "yaml", "-f"])
        .arg(&ok)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("kind: Network")
    );

    // Unreadable file and bad options: input errors, one line, exit 2.
    let out = flowwire()
        .args(["ovs", "validate", "-f", "/nonexistent/x.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("flowwire ovs: cannot read /nonexistent/x.yaml"),
        "{stderr}"
    );
    let opts = dir.join("opts.yaml");
    std::fs::write(&opts, "ipfix: {cache_active_timeout: 5000}\n").unwrap();
    let out = flowwire()
        .args(["ovs", "validate", "-f"])
        .arg(&ok)
        .arg("--options")
        .arg(&opts)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("ipfix.cache_active_timeout: 5000"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreachable_db_exits_1_and_dry_run_goes_offline() {
    let spec = "netFlow: {collectors: [\"1.2.3.4:2056\"]}\n";
    let out = flowwire()
        .args([
            "ovs",
            "apply",
            "-f",
            "-",
            "--db",
            "unix:/nonexistent/db.sock",
        ])
        .write_stdin(spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("OVSDB unix:/nonexistent/db.sock: connect"),
        "{stderr}"
    );
    let out = flowwire()
        .args(["ovs", "apply", "-f", "-", "--db", "bogus"])
        .write_stdin(spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = flowwire()
        .args(["ovs", "apply", "--dry-run", "-f", "-"])
        .args(["--db", "unix:/nonexistent/db.sock"])
        .write_stdin(spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("# could not read the current state"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-- clear Bridge br-int sflow ipfix"),
        "{stdout}"
    );
}

/// The whole command set against a real ovsdb-server.
#[test]
fn commands_against_ovsdb_server() {
    let Some(s) = OvsdbServer::start("commands_against_ovsdb_server") else {
        return;
    };
    s.vsctl_ok(&["add-br", "br-int"]);
    let file = s.path().join("network.yaml");
    std::fs::write(&file, ALL3).unwrap();
    let db = s.db();
    let run = |args: &[&str]| -> (String, String) {
        let out = flowwire()
            .arg("ovs")
            .args(args)
            .args(["--db", &db])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "ovs {args:?}: {stdout}{stderr}");
        println!("$ flowwire ovs {}\n{stdout}{stderr}", args.join(" "));
        (stdout, stderr)
    };
    let f = file.to_str().unwrap();
    let (dry, _) = run(&["apply", "-f", f, "--dry-run"]);
    assert!(dry.contains("create NetFlow"), "{dry}");
    assert!(s.list("NetFlow").is_empty(), "dry run wrote nothing");

    let (applied, _) = run(&["apply", "-f", f]);
    assert!(
        applied.contains("applied in one transaction (next_cfg 1); not waiting"),
        "{applied}"
    );
    let (again, _) = run(&["apply", "-f", f]);
    assert!(
        again.starts_with("bridge br-int: up to date (netFlow, sFlow, ipfix)\nnothing written\n"),
        "{again}"
    );

    let (shown, _) = run(&["show"]);
    assert!(shown.contains("  active_timeout       60\n"), "{shown}");

    // show --format yaml gives a Network object that apply accepts back with no change.
    let (yaml, _) = run(&["show", "--format", "yaml"]);
    let (json, _) = run(&["show", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["spec"]["exportNetworkFlows"]["sFlow"]["collectors"],
        serde_json::json!(["192.168.1.99:6343"])
    );
    let back = s.path().join("back.yaml");
    std::fs::write(&back, &yaml).unwrap();
    let (re, _) = run(&["apply", "-f", back.to_str().unwrap()]);
    assert!(re.contains("nothing written"), "{re}");

    // diff against another desired state: after the text, or on stderr for yaml/json.
    let other = s.path().join("other.yaml");
    std::fs::write(
        &other,
        "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"192.168.1.99:2056\"]\n",
    )
    .unwrap();
    let (diff, _) = run(&["show", "-f", other.to_str().unwrap()]);
    assert!(
        diff.contains("\ndiff (current -> desired):\nbridge br-int:\n"),
        "{diff}"
    );
    assert!(diff.contains("- sFlow: detach"), "{diff}");
    let (_, diff) = run(&["show", "--format", "yaml", "-f", other.to_str().unwrap()]);
    assert!(diff.contains("- sFlow: detach"), "{diff}");

    // Per-flow sampling, behind its flag.
    let (fs, _) = run(&["apply", "-f", f, "--flow-sample-collector-set", "7"]);
    assert!(
        fs.contains("+ flow sampling: new Flow_Sample_Collector_Set id 7"),
        "{fs}"
    );
    let (shown, _) = run(&["show"]);
    assert!(
        shown.contains("flow sampling: Flow_Sample_Collector_Set id 7 row "),
        "{shown}"
    );

    let (dry_clear, _) = run(&["clear", "--dry-run"]);
    assert!(
        dry_clear.contains("-- clear Bridge br-int netflow sflow ipfix"),
        "{dry_clear}"
    );
    assert!(
        dry_clear.contains("-- destroy Flow_Sample_Collector_Set "),
        "{dry_clear}"
    );
    run(&["clear"]);
    assert!(s.list("Flow_Sample_Collector_Set").is_empty());
    let (shown, _) = run(&["show"]);
    assert!(shown.contains("netFlow: not configured"), "{shown}");
    assert!(s.list("NetFlow").is_empty());

    // A missing bridge is not an input error: exit 1.
    let out = flowwire()
        .args(["ovs", "show", "--bridge", "br-nope", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("\"br-nope\" not found")
    );
}

#[test]
fn sampling_every_packet_needs_force_sample_all() {
    let dir = tempdir("force");
    let spec = dir.join("spec.yaml");
    std::fs::write(&spec, "ipfix: {collectors: [\"10.0.0.1:4739\"]}\n").unwrap();
    let opts = dir.join("opts.yaml");
    std::fs::write(&opts, "ipfix: {sampling: 1}\n").unwrap();
    let validate = |force: bool| {
        let mut c = flowwire();
        c.args(["ovs", "validate", "-f"])
            .arg(&spec)
            .arg("--options")
            .arg(&opts);
        if force {
            c.arg("--force-sample-all");
        }
        c.output().unwrap()
    };
    let out = validate(false);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("flowwire ovs: error: ipfix.sampling: 1: samples every packet"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let out = validate(true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("ipfix: 10.0.0.1:4739")
    );
    // apply refuses it the same way before connecting anywhere.
    let out = flowwire()
        .args(["ovs", "apply", "--dry-run", "-f"])
        .arg(&spec)
        .arg("--options")
        .arg(&opts)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Lines of a child's standard output as they come, with the time each arrived.
struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn of(out: std::process::ChildStdout) -> Lines {
        use std::io::BufRead;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// The first line containing every one of `want` within `limit` from now.
    fn expect(&mut self, limit: std::time::Duration, want: &[&str]) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    println!("{line}");
                    self.seen.push(line.clone());
                    if want.iter().all(|w| line.contains(w)) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {want:?} within {limit:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

#[test]
fn apply_watch_corrects_follows_and_stops_on_sigterm() {
    use std::process::Stdio;
    use std::time::Duration;
    const TEST: &str = "apply_watch_corrects_follows_and_stops_on_sigterm";
    let Some(kill) = common::find_program("kill") else {
        eprintln!("SKIPPED {TEST}: `kill` not found");
        return;
    };
    let Some(mut s) = OvsdbServer::start(TEST) else {
        return;
    };
    s.vsctl_ok(&["add-br", "br-int"]);
    let spec = s.path().join("network.yaml");
    let write = |sflow: &str| {
        std::fs::write(
            &spec,
            format!(
                "spec:\n  exportNetworkFlows:\n    sFlow:\n      collectors: [\"{sflow}\"]\n    \
                 ipfix:\n      collectors: [\"10.0.0.9:4739\"]\n"
            ),
        )
        .unwrap()
    };
    write("10.0.0.9:6343");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["ovs", "apply", "--watch", "-f"])
        .arg(&spec)
        .args(["--db", &s.db()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::of(child.stdout.take().unwrap());
    let two = Duration::from_secs(2);
    lines.expect(two, &["applied in one transaction"]);
    lines.expect(two, &["watching", "bridge br-int"]);
    lines.expect(
        two,
        &["checked (start): bridge br-int up to date (sFlow, ipfix)"],
    );

    // Drift: undone within 2 s, logged on one line saying what drifted and what was written.
    s.vsctl_ok(&["clear", "Bridge", "br-int", "ipfix"]);
    lines.expect(
        two,
        &[
            "corrected drift (Bridge br-int ipfix changed",
            "ipfix missing; wrote new IPFIX row",
        ],
    );
    assert_eq!(s.list("IPFIX").len(), 1);

    // An edit of the file: followed within 2 s.
    write("10.0.0.10:6343");
    lines.expect(
        two,
        &[
            "corrected spec changed",
            "sFlow.targets [\"10.0.0.9:6343\"] (want [\"10.0.0.10:6343\"])",
        ],
    );
    assert_eq!(
        s.list("sFlow")[0]["targets"],
        serde_json::json!("10.0.0.10:6343")
    );

    // An invalid edit: refused, the state kept.
    write("10.0.0.10:0");
    lines.expect(two, &["refused, keeping the last good one", "10.0.0.10:0"]);
    let sflow = s.list("sFlow");
    assert_eq!(sflow[0]["targets"], serde_json::json!("10.0.0.10:6343"));

    // ovsdb-server killed and restarted on the same database file.
    s.kill();
    lines.expect(two, &["no connection to"]);
    std::thread::sleep(Duration::from_millis(500));
    s.restart();
    lines.expect(two, &["connected to"]);
    lines.expect(
        two,
        &["checked (reconnected): bridge br-int up to date (sFlow, ipfix)"],
    );

    // SIGTERM: "stopped", exit 0.
    let out = std::process::Command::new(kill)
        .args(["-TERM", &child.id().to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kill: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines.expect(two, &["stopped"]);
    let deadline = std::time::Instant::now() + two;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn apply_watch_needs_a_file() {
    let out = flowwire()
        .args(["ovs", "apply", "--watch", "-f", "-"])
        .write_stdin("netFlow: {collectors: [\"1.2.3.4:2056\"]}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--watch follows a file"), "{err}");
    let out = flowwire()
        .args(["ovs", "apply", "--watch", "--dry-run", "-f", "x.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
