//! The captures of `testdata/captures` through the contract: what `Decoder::decode` hands to
//! a sink, and that it agrees with the zero-copy path (`decode_records`).

mod common;

use flowwire_ipfix::record::FlowRecord;
use flowwire_ipfix::record::codec::Summary;
use flowwire_ipfix::{Collect, DataRecord, Decoder, RecordContext, Session};

fn capture(name: &str) -> Vec<common::Datagram> {
    let path = format!("{}/../testdata/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    common::udp_datagrams(&bytes)
}

/// softflowd sends one options record (its sampling / system init time) besides its flows:
/// the flows a sink gets are the 29 flows, not 30 records. (The crate's old docs had users
/// convert every record of the visitor, options included, and count 30.)
#[test]
fn softflowd_flows_exclude_the_options_record() {
    let datagrams = capture("softflowd-ipfix.pcap");
    assert!(!datagrams.is_empty());
    let mut session = Session::default();
    let mut got = Collect::default();
    let mut summary = Summary::default();
    for d in &datagrams {
        summary += session.decode(d.src, d.ts, &d.payload, &mut got);
    }
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert_eq!(got.flows.len(), 29);
    assert_eq!(got.options.len(), 1);
    assert_eq!((summary.flows, summary.options, summary.errors), (29, 1, 0));
    assert_eq!(summary.messages, datagrams.len());
    let o = &got.options[0];
    assert!(!o.scope.is_empty());
    assert!(
        o.scope.len() + o.fields.len()
            == session
                .template(o.exporter.unwrap(), o.domain.unwrap(), o.template_id)
                .unwrap()
                .fields()
                .len()
    );

    // The zero-copy path hands over all 30 records; converted by kind, they are the same
    // flows and options record.
    let mut session = Session::default();
    let (mut flows, mut options) = (Vec::new(), Vec::new());
    let mut flow = FlowRecord::default();
    let mut visit = |ctx: &RecordContext<'_>, rec: &DataRecord<'_, '_>| {
        if rec.template().is_options() {
            let mut o = Default::default();
            ctx.options_record_into(rec, &mut o);
            options.push(o);
        } else {
            ctx.flow_record_into(rec, &mut flow);
            flows.push(flow.clone());
        }
    };
    let mut records = Summary::default();
    for d in &datagrams {
        records += session.decode_records(d.src, d.ts, &d.payload, &mut visit);
    }
    assert_eq!(records.flows + records.options, 30);
    assert_eq!(flows, got.flows);
    assert_eq!(options, got.options);
}

/// Every IPFIX capture decodes without an error, and the summary counts what the sink got.
#[test]
fn ipfix_captures_decode_cleanly() {
    for name in [
        "softflowd-ipfix.pcap",
        "softflowd-ipfix-biflow.pcap",
        "softflowd-ipfix-ether-nano.pcap",
        "softflowd-ipfix-noadjust.pcap",
        "softflowd-ipfix-v6transport.pcap",
        "pmacct-ipfix.pcap",
        "pmacct-ipfix-rich.pcap",
        "ovs-ipfix.pcap",
        "ovs-ipfix-flowsample.pcap",
    ] {
        let datagrams = capture(name);
        let mut session = Session::default();
        let mut got = Collect::default();
        let mut summary = Summary::default();
        for d in datagrams.iter().filter(|d| Session::accepts(&d.payload)) {
            summary += session.decode(d.src, d.ts, &d.payload, &mut got);
        }
        assert!(got.errors.is_empty(), "{name}: {:?}", got.errors);
        assert!(!got.flows.is_empty(), "{name}");
        assert_eq!(
            (summary.flows, summary.options, summary.errors),
            (got.flows.len(), got.options.len(), 0),
            "{name}"
        );
        assert!(
            got.flows.iter().all(
                |f| f.kind() == Some(flowwire_ipfix::record::ProtocolKind::Ipfix)
                    && f.exporter().is_some()
            ),
            "{name}"
        );
    }
}
