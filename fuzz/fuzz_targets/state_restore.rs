//! Saved collector state is untrusted input: `CollectorState::from_json` on any bytes, and
//! `Collector::restore` of what parses or of a state built from the input (any ids, field
//! lists, scope counts, times, protocols, versions), never panic. An error leaves the
//! collector without templates; a success restores no more templates than the state holds,
//! what it restores are the state's own, and the collector still decodes a datagram.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use flowwire::record::snapshot::{
    DomainSnapshot, FieldSnapshot, SNAPSHOT_VERSION, SessionSnapshot, TemplateSnapshot,
};
use flowwire::state::CollectorState;
use flowwire::{Collector, CollectorConfig, Decoder, FlowRecord, ProtocolKind, Timestamp};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

fn template(u: &mut Unstructured<'_>) -> arbitrary::Result<TemplateSnapshot> {
    let n = u.int_in_range(0..=6u8)?;
    let mut fields = Vec::new();
    for _ in 0..n {
        fields.push(FieldSnapshot {
            id: u.arbitrary()?,
            pen: u.arbitrary()?,
            length: *u.choose(&[0, 1, 2, 4, 8, 16, 65535, 3])?,
        });
    }
    Ok(TemplateSnapshot {
        id: u.int_in_range(250..=260u16)?,
        options: u.arbitrary()?,
        scope_fields: u.int_in_range(0..=3u16)?,
        fields,
        received: Timestamp::from_unix_secs(NOW - i64::from(u.int_in_range(0..=4000u16)?)),
    })
}

fn session(u: &mut Unstructured<'_>, protocol: ProtocolKind) -> arbitrary::Result<SessionSnapshot> {
    let mut domains = Vec::new();
    for _ in 0..u.int_in_range(0..=4u8)? {
        let mut templates = Vec::new();
        for _ in 0..u.int_in_range(0..=4u8)? {
            templates.push(template(u)?);
        }
        domains.push(DomainSnapshot {
            exporter: std::net::SocketAddr::from(([192, 0, 2, u.int_in_range(1..=3u8)?], 2055)),
            domain: u.int_in_range(0..=2u32)?,
            options: Default::default(),
            templates,
        });
    }
    Ok(SessionSnapshot {
        version: if u.ratio(1, 8)? { u.arbitrary()? } else { SNAPSHOT_VERSION },
        protocol: if u.ratio(1, 8)? { ProtocolKind::arbitrary(u)? } else { protocol },
        domains,
    })
}

fn structured(data: &[u8]) -> arbitrary::Result<CollectorState> {
    let mut u = Unstructured::new(data);
    let mut state = CollectorState::new(Timestamp::from_unix_secs(NOW));
    state.netflow = u.arbitrary::<bool>()?.then(|| session(&mut u, ProtocolKind::Netflow9)).transpose()?;
    state.ipfix = u.arbitrary::<bool>()?.then(|| session(&mut u, ProtocolKind::Ipfix)).transpose()?;
    Ok(state)
}

/// An IPFIX message with a template and one record, from another exporter.
const IPFIX: [u8; 48] = [
    0, 10, 0, 48, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1, //
    0, 2, 0, 16, 1, 0, 0, 2, 0, 8, 0, 4, 0, 1, 0, 8, //
    1, 0, 0, 16, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 220,
];

fn check(state: &CollectorState) {
    let now = Timestamp::from_unix_secs(NOW);
    let mut config = CollectorConfig::default();
    config.ipfix.limits.max_templates_per_domain = 3;
    config.netflow.limits.max_exporters = 2;
    let mut c = Collector::new(config);
    match c.restore(state, now) {
        Ok(done) => {
            let back = c.snapshot(now);
            assert_eq!(back.template_count(), done.templates);
            assert!(done.templates + done.expired + done.refused <= state.template_count() + state_domains(state));
            for (got, given) in [(&back.netflow, &state.netflow), (&back.ipfix, &state.ipfix)] {
                for d in got.iter().flat_map(|s| &s.domains) {
                    let given_domain = given
                        .iter()
                        .flat_map(|s| &s.domains)
                        .find(|g| g.exporter == d.exporter && g.domain == d.domain)
                        .expect("a restored domain was in the state");
                    for t in &d.templates {
                        let g = given_domain.templates.iter().find(|g| g.id == t.id).expect("the state's template");
                        assert_eq!(t.fields, g.fields);
                    }
                }
            }
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            assert_eq!(c.snapshot(now).template_count(), 0, "an error leaves no template");
        }
    }
    let s = c.decode("198.51.100.1:4739".parse().unwrap(), now, &IPFIX, &mut |_: &FlowRecord| {});
    assert_eq!((s.flows, s.errors), (1, 0));
}

fn state_domains(state: &CollectorState) -> usize {
    [&state.netflow, &state.ipfix].into_iter().flatten().map(|s| s.domains.len()).sum()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        if let Ok(state) = CollectorState::from_json(rest) {
            check(&state);
        }
    } else if let Ok(state) = structured(rest) {
        // Through the JSON form too: what was written reads back the same.
        let json = serde_json::to_vec(&state).expect("serializes");
        assert_eq!(CollectorState::from_json(&json).expect("reads back"), state);
        check(&state);
    }
});
