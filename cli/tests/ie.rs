//! `flowwire ie` end to end.
use assert_cmd::Command;

fn flowwire() -> Command {
    Command::cargo_bin("flowwire").unwrap()
}

#[test]
fn list_jsonl_has_every_iana_element() {
    let out = flowwire()
        .args(["ie", "--list", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let iana = rows
        .iter()
        .filter(|r| r["pen"] == 0 && r["id"].as_u64().unwrap() < 32768)
        .count();
    assert_eq!(iana, 502);
    assert!(
        rows.iter()
            .any(|r| r["pen"] == 6876 && r["id"] == 892 && r["name"] == "tunnelKey")
    );
}

#[test]
fn by_id_shows_type_semantics_units() {
    let out = flowwire()
        .args(["ie", "1", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["name"], "octetDeltaCount");
    assert_eq!(row["data_type"], "unsigned64");
    assert_eq!(row["semantics"], "deltaCounter");
    assert_eq!(row["units"], "octets");
}

#[test]
fn by_name_and_table() {
    let out = flowwire()
        .args(["ie", "postNATSourceIPv4Address", "--format", "table"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("225"), "{text}");
    assert!(text.contains("ipv4Address"), "{text}");
}

#[test]
fn by_pen_and_id_csv() {
    let out = flowwire()
        .args(["ie", "6876:898", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().nth(1),
        Some("6876,898,virtualObsID,string,default,,current")
    );
}

#[test]
fn unknown_name_fails_with_a_clear_message() {
    let out = flowwire().args(["ie", "noSuchElement"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown information element \"noSuchElement\""),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}
