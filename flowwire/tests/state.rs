//! Saved collector state (`flowwire::state`): what a collector learned survives a save and a
//! restore, data-only datagrams decode after it, and a damaged or hostile state file gives a
//! clear error and an empty collector.

use std::net::SocketAddr;
use std::path::PathBuf;

use flowwire::export::AnyExporter;
use flowwire::record::snapshot::{
    DomainSnapshot, FieldSnapshot, SNAPSHOT_VERSION, SessionSnapshot, SnapshotError,
    TemplateSnapshot,
};
use flowwire::state::CollectorState;
use flowwire::{Collector, Decoder, Exporter as _, FlowRecord, ProtocolKind, Timestamp};
use flowwire_record::testing::typical_record;
use proptest::prelude::*;

fn captures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures")
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("flowwire-state-{}-{name}", std::process::id()))
}

/// A collector fed a whole capture, and the capture's last time.
fn learned_from(capture: &str) -> (Collector, Timestamp) {
    let mut c = flowwire::capture::open_capture(captures().join(capture)).expect("capture");
    let mut collector = Collector::default();
    let mut last = Timestamp::from_unix_secs(0);
    while let Some(item) = c.next_datagram() {
        let d = item.expect("a good capture");
        last = d.time;
        collector.decode(d.src, d.time, d.payload, &mut |_: &FlowRecord| {});
    }
    (collector, last)
}

#[test]
fn real_captures_survive_a_save_and_restore() {
    for capture in [
        "pmacct-netflow9-rich.pcap",
        "softflowd-netflow9-sampled.pcap",
        "pmacct-ipfix-rich.pcap",
        "ovs-ipfix.pcap",
        "softflowd-ipfix-biflow.pcap",
    ] {
        let (before, now) = learned_from(capture);
        let state = before.snapshot(now);
        assert!(
            state.template_count() > 0,
            "{capture}: no templates learned"
        );
        let path = temp(capture);
        state.save(&path).expect("save");
        let loaded = CollectorState::load(&path).expect("load");
        std::fs::remove_file(&path).ok();
        assert_eq!(
            loaded, state,
            "{capture}: the file gives back the same state"
        );
        let mut after = Collector::default();
        let restored = after.restore(&loaded, now).expect("restore");
        assert_eq!(restored.templates, state.template_count(), "{capture}");
        assert_eq!((restored.expired, restored.refused), (0, 0), "{capture}");
        assert_eq!(
            after.snapshot(now),
            state,
            "{capture}: the same state again"
        );
    }
}

#[test]
fn options_learned_state_is_kept() {
    // softflowd announces its sampling interval in options data.
    let (before, now) = learned_from("softflowd-netflow9-sampled.pcap");
    let state = before.snapshot(now);
    let sampled = state
        .netflow
        .iter()
        .flat_map(|s| &s.domains)
        .filter_map(|d| d.options.sampling)
        .count();
    assert!(sampled > 0, "softflowd's sampling interval is in the state");
    let mut after = Collector::default();
    after.restore(&state, now).expect("restore");
    let d = state
        .netflow
        .as_ref()
        .and_then(|s| s.domains.first())
        .expect("a domain");
    let options = &after
        .netflow()
        .domain_state(d.exporter, d.domain)
        .expect("restored domain")
        .options;
    assert_eq!(options.sampling, d.options.sampling);
}

/// Datagrams of `flows` typical records from a fresh exporter of `kind` (templates in the
/// first one only).
fn export(kind: ProtocolKind, flows: u32, now: Timestamp) -> Vec<Vec<u8>> {
    let mut exporter = AnyExporter::new(kind, now.add_millis(-60_000));
    let mut out = Vec::new();
    for i in 0..flows {
        exporter
            .push(&typical_record(i), now, &mut |d: &[u8]| {
                out.push(d.to_vec())
            })
            .expect("encodable");
    }
    exporter
        .flush(now, &mut |d: &[u8]| out.push(d.to_vec()))
        .expect("encodable");
    out
}

/// Whether a NetFlow v9 or IPFIX datagram holds a template set (v9 FlowSet ids 0 and 1,
/// IPFIX set ids 2 and 3).
fn has_templates(kind: ProtocolKind, d: &[u8]) -> bool {
    let (mut at, ids) = match kind {
        ProtocolKind::Netflow9 => (20, [0, 1]),
        _ => (16, [2, 3]),
    };
    while let Some(h) = d.get(at..at + 4) {
        let (id, len) = (
            u16::from_be_bytes([h[0], h[1]]),
            usize::from(u16::from_be_bytes([h[2], h[3]])),
        );
        if ids.contains(&id) {
            return true;
        }
        at += len.max(4);
    }
    false
}

#[test]
fn data_only_datagrams_decode_after_a_restore() {
    let exporter: SocketAddr = "192.0.2.7:2055".parse().expect("address");
    let now = Timestamp::from_unix_secs(1_700_000_000);
    for kind in [ProtocolKind::Netflow9, ProtocolKind::Ipfix] {
        let datagrams = export(kind, 400, now);
        assert!(datagrams.len() > 3, "{kind}");
        let (first, rest) = datagrams.split_first().expect("datagrams");
        assert!(has_templates(kind, first));
        let rest: Vec<&Vec<u8>> = rest.iter().filter(|d| !has_templates(kind, d)).collect();
        assert!(rest.len() > 2, "{kind}: data-only datagrams");
        let mut before = Collector::default();
        before.decode(exporter, now, first, &mut |_: &FlowRecord| {});
        let state = before.snapshot(now);

        let decode_rest = |c: &mut Collector| {
            let (mut flows, mut errors) = (0, 0);
            for d in &rest {
                let s = c.decode(exporter, now, d, &mut |_: &FlowRecord| {});
                (flows, errors) = (flows + s.flows, errors + s.errors);
            }
            (flows, errors)
        };
        let (all, _) = decode_rest(&mut before);
        assert!(all > 0, "{kind}");
        let mut restored = Collector::default();
        restored.restore(&state, now).expect("restore");
        assert_eq!(decode_rest(&mut restored), (all, 0), "{kind}");
        // Without the state the same datagrams wait for templates that never come.
        let mut fresh = Collector::default();
        assert_eq!(
            decode_rest(&mut fresh).0,
            0,
            "{kind}: the datagrams are data-only"
        );
    }
}

#[test]
fn templates_past_their_lifetime_are_left_out() {
    let (before, now) = learned_from("pmacct-ipfix-rich.pcap");
    let state = before.snapshot(now);
    let mut after = Collector::default();
    let later = now.add_millis(31 * 60 * 1000);
    let restored = after.restore(&state, later).expect("restore");
    assert_eq!(restored.templates, 0);
    assert_eq!(restored.expired, state.template_count());
}

fn ipfix_state(domains: Vec<DomainSnapshot>) -> CollectorState {
    let mut state = CollectorState::new(Timestamp::from_unix_secs(1_700_000_000));
    state.ipfix = Some(SessionSnapshot {
        version: SNAPSHOT_VERSION,
        protocol: ProtocolKind::Ipfix,
        domains,
    });
    state
}

fn domain(exporter: &str, templates: Vec<TemplateSnapshot>) -> DomainSnapshot {
    DomainSnapshot {
        exporter: exporter.parse().expect("address"),
        domain: 1,
        options: Default::default(),
        templates,
    }
}

fn template(id: u16, fields: &[(u16, u16)]) -> TemplateSnapshot {
    TemplateSnapshot {
        id,
        options: false,
        scope_fields: 0,
        fields: fields
            .iter()
            .map(|&(id, length)| FieldSnapshot {
                id,
                pen: None,
                length,
            })
            .collect(),
        received: Timestamp::from_unix_secs(1_700_000_000),
    }
}

/// Restores `state` into a collector that held a good template first: on an error it must
/// hold nothing.
fn restore_over_good(state: &CollectorState) -> Result<(), SnapshotError> {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let good = ipfix_state(vec![domain(
        "192.0.2.1:4739",
        vec![template(256, &[(8, 4)])],
    )]);
    let mut c = Collector::default();
    c.restore(&good, now).expect("a good state");
    let result = c.restore(state, now).map(|_| ());
    if result.is_err() {
        assert_eq!(c.snapshot(now).template_count(), 0, "emptied on error");
    }
    result
}

#[test]
fn a_bad_state_is_a_clear_error_and_an_empty_collector() {
    let mut wrong_version = ipfix_state(vec![]);
    if let Some(s) = &mut wrong_version.ipfix {
        s.version = 99;
    }
    let e = restore_over_good(&wrong_version).expect_err("version");
    assert!(e.to_string().contains("version 99"), "{e}");

    let mut wrong_protocol = ipfix_state(vec![]);
    wrong_protocol.netflow = wrong_protocol.ipfix.clone();
    let e = restore_over_good(&wrong_protocol).expect_err("protocol");
    assert!(matches!(e, SnapshotError::Protocol { .. }), "{e}");

    let no_fields = ipfix_state(vec![domain("192.0.2.1:4739", vec![template(300, &[])])]);
    let e = restore_over_good(&no_fields).expect_err("no fields");
    assert!(e.to_string().contains("template 300"), "{e}");

    let zero_length = ipfix_state(vec![domain(
        "192.0.2.1:4739",
        vec![template(300, &[(8, 0)])],
    )]);
    assert!(restore_over_good(&zero_length).is_err());

    let reserved = ipfix_state(vec![domain("192.0.2.1:4739", vec![template(2, &[(8, 4)])])]);
    assert!(restore_over_good(&reserved).is_err());

    let twice = ipfix_state(vec![
        domain("192.0.2.1:4739", vec![template(300, &[(8, 4)])]),
        domain("192.0.2.1:4739", vec![]),
    ]);
    let e = restore_over_good(&twice).expect_err("twice");
    assert!(e.to_string().contains("domain entry 1"), "{e}");

    let mut scope = template(300, &[(8, 4)]);
    scope.options = true;
    scope.scope_fields = 2;
    let bad_scope = ipfix_state(vec![domain("192.0.2.1:4739", vec![scope])]);
    assert!(restore_over_good(&bad_scope).is_err());
}

#[test]
fn files_that_are_not_states_are_refused() {
    for (name, bytes) in [
        ("empty", &b""[..]),
        ("garbage", b"\x00\xff not json"),
        (
            "other json",
            br#"{"format":"something-else","saved_at":"2026-01-01T00:00:00Z"}"#,
        ),
        (
            "truncated",
            br#"{"format":"flowwire-collector-state","saved_at":"2026-01-"#,
        ),
    ] {
        let e = CollectorState::from_json(bytes).expect_err(name);
        assert!(matches!(e, SnapshotError::Unreadable(_)), "{name}: {e}");
    }
    let path = temp("big");
    std::fs::write(&path, vec![b' '; 2048]).expect("write");
    let e = CollectorState::load_bounded(&path, 1024).expect_err("too big");
    std::fs::remove_file(&path).ok();
    assert!(e.to_string().contains("larger than 1024 bytes"), "{e}");
}

#[test]
fn limits_apply_to_a_restored_state() {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let templates: Vec<_> = (256..266).map(|id| template(id, &[(8, 4)])).collect();
    let state = ipfix_state(vec![domain("192.0.2.1:4739", templates)]);
    let mut config = flowwire::CollectorConfig::default();
    config.ipfix.limits.max_templates_per_domain = 4;
    let mut c = Collector::new(config);
    let restored = c.restore(&state, now).expect("restore");
    assert_eq!((restored.templates, restored.refused), (4, 6));
}

fn arb_template() -> impl Strategy<Value = TemplateSnapshot> {
    (
        any::<u16>(),
        any::<bool>(),
        0u16..4,
        prop::collection::vec(
            (any::<u16>(), prop::option::of(any::<u32>()), any::<u16>()),
            0..6,
        ),
        any::<i32>(),
    )
        .prop_map(|(id, options, scope_fields, fields, t)| TemplateSnapshot {
            id,
            options,
            scope_fields,
            fields: fields
                .into_iter()
                .map(|(id, pen, length)| FieldSnapshot { id, pen, length })
                .collect(),
            received: Timestamp::from_unix_secs(1_700_000_000 + i64::from(t % 1000)),
        })
}

proptest! {
    /// Any state, well-formed or not, restores without a panic; what it restores is what it
    /// said, and the JSON form round-trips.
    #[test]
    fn any_state_restores_or_is_refused(
        templates in prop::collection::vec(arb_template(), 0..6),
        protocol_v9 in any::<bool>(),
    ) {
        let now = Timestamp::from_unix_secs(1_700_000_500);
        let protocol = if protocol_v9 { ProtocolKind::Netflow9 } else { ProtocolKind::Ipfix };
        let session = SessionSnapshot {
            version: SNAPSHOT_VERSION,
            protocol,
            domains: vec![domain("192.0.2.1:4739", templates)],
        };
        let mut state = CollectorState::new(now);
        if protocol_v9 {
            state.netflow = Some(session.clone());
        } else {
            state.ipfix = Some(session.clone());
        }
        let json = serde_json::to_vec(&state).expect("serializes");
        prop_assert_eq!(&CollectorState::from_json(&json).expect("parses"), &state);
        let mut c = Collector::default();
        if let Ok(done) = c.restore(&state, now) {
            let back = c.snapshot(now);
            let back = if protocol_v9 { back.netflow } else { back.ipfix };
            let back = back.expect("the protocol's snapshot");
            prop_assert_eq!(back.template_count(), done.templates);
            for d in &back.domains {
                for t in &d.templates {
                    let given = session.domains[0].templates.iter().find(|g| g.id == t.id);
                    let given = given.expect("restored from the state");
                    prop_assert_eq!(&t.fields, &given.fields);
                    prop_assert_eq!(t.options, given.options);
                }
            }
        }
    }
}
