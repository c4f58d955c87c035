//! `flowwire ovs validate` and `apply --dry-run` need no OVS.
use assert_cmd::Command;

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
