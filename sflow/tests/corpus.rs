//! Every capture of the shared corpus decodes; samples and records are counted.

mod common;

use flowwire_sflow::Error;
use flowwire_sflow::record::codec::{DecodeError, Decoder, Sink};
use flowwire_sflow::record::{FlowRecord, Timestamp};
use flowwire_sflow::repr::DatagramRepr;
use flowwire_sflow::wire::{Datagram, SampleView};
use flowwire_sflow::xdr::Xdr;

/// Keeps the errors a session reports.
#[derive(Default)]
struct Keep {
    errors: Vec<Error>,
}

impl Sink for Keep {
    fn flow(&mut self, _: &FlowRecord) {}
    fn error(&mut self, e: &DecodeError<'_>) {
        self.errors.push(e.downcast_ref::<Error>().unwrap().clone());
    }
}

#[test]
fn corpus_decodes_without_errors() {
    let files = common::all_sflow_files();
    if files.is_empty() {
        return;
    }
    let mut bad = Vec::new();
    let mut session = flowwire_sflow::Session::default();
    for (path, malformed) in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (mut dgrams, mut samples, mut records, mut errors, mut not_sflow) = (0, 0, 0, 0, 0);
        let mut identical = 0;
        for udp in common::udp_payloads(&bytes) {
            let d = match Datagram::new_checked(&udp.payload[..]) {
                Ok(d) => d,
                Err(Error::BadVersion { .. }) => {
                    not_sflow += 1;
                    continue;
                }
                Err(e) => {
                    errors += 1;
                    bad.push(format!("{name} frame {}: {e}", udp.frame));
                    continue;
                }
            };
            dgrams += 1;
            let mut sink = Keep::default();
            let exporter = "192.0.2.1:6343".parse().unwrap();
            session.decode(exporter, Timestamp::default(), &udp.payload, &mut sink);
            for e in sink.errors {
                bad.push(format!("{name} frame {} (session): {e}", udp.frame));
            }
            let mut it = d.samples();
            for s in it.by_ref() {
                let s = match s {
                    Ok(s) => s,
                    Err(e) => {
                        errors += 1;
                        bad.push(format!("{name} frame {}: {e}", udp.frame));
                        continue;
                    }
                };
                samples += 1;
                let recs = match s.view() {
                    Ok(SampleView::Flow(f)) => f.records,
                    Ok(SampleView::Counters(c)) => c.records,
                    Ok(SampleView::Discarded(d)) => d.records,
                    Ok(SampleView::Unknown(_)) => continue,
                    Err(e) => {
                        errors += 1;
                        bad.push(format!("{name} frame {}: {e}", udp.frame));
                        continue;
                    }
                };
                let counters = matches!(s.view(), Ok(SampleView::Counters(_)));
                for r in recs {
                    records += 1;
                    let res = r.and_then(|r| {
                        if counters {
                            r.counters().map(drop)
                        } else {
                            r.flow().map(drop)
                        }
                    });
                    if let Err(e) = res {
                        errors += 1;
                        bad.push(format!("{name} frame {}: {e}", udp.frame));
                    }
                }
            }
            if it.trailing_bytes() > 0 {
                eprintln!(
                    "{name} frame {}: {} bytes after the samples",
                    udp.frame,
                    it.trailing_bytes()
                );
            }
            // Lossless: decode -> encode gives the same bytes (up to the declared samples).
            let (repr, _) = DatagramRepr::parse_with_errors(&udp.payload).unwrap();
            let out = repr.to_bytes().unwrap();
            let (again, _) = DatagramRepr::parse_with_errors(&out).unwrap();
            assert_eq!(again, repr, "{name} frame {} re-encode", udp.frame);
            if out.get(..) == udp.payload.get(..out.len()) {
                identical += 1;
            }
        }
        println!(
            "{name}: datagrams {dgrams} (re-encoded byte-identical {identical}) samples {samples} records {records} errors {errors} non-sflow {not_sflow}{}",
            if malformed {
                " (malformed on purpose)"
            } else {
                ""
            }
        );
        if malformed {
            bad.retain(|b| !b.starts_with(&name));
        }
    }
    assert!(bad.is_empty(), "errors:\n{}", bad.join("\n"));
}

/// The VXLAN capture: outer UDP to 4789, VNI 100, inner IPv6 ICMPv6 decoded.
#[test]
fn vxlan_inner_header_from_a_real_capture() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let bytes = std::fs::read(dir.join("sflow5/akvorado__data-encap-vxlan.pcap")).unwrap();
    let udp = &common::udp_payloads(&bytes)[0];
    let d = Datagram::new_checked(&udp.payload[..]).unwrap();
    let dg = flowwire_sflow::convert::DatagramInfo::of(&d);
    let s = d.samples().next().unwrap().unwrap();
    let Ok(SampleView::Flow(f)) = s.view() else {
        panic!("flow sample expected")
    };
    let mut rec = flowwire_sflow::record::FlowRecord::default();
    let h = flowwire_sflow::convert::flow_record_into(&dg, &f, &mut rec, &mut Vec::new()).unwrap();
    assert_eq!(
        h.tunnel,
        Some(flowwire_sflow::header::Tunnel::Vxlan { vni: 100 })
    );
    let inner = h.inner.unwrap();
    assert_eq!(inner.src_addr, Some("2001:db8:4::1".parse().unwrap()));
    assert_eq!(inner.dst_addr, Some("2001:db8:4::3".parse().unwrap()));
    assert_eq!(inner.protocol, Some(58));
    assert_eq!(
        rec.dst_port(),
        Some(4789),
        "FlowRecord keeps the outer header"
    );
}

/// Every 32-bit word of every real datagram replaced by hostile values (0, 1, small and huge
/// lengths): decoding (by a session that tracks sequences, and without), re-encoding never
/// panic, the two decodes agree, errors have offsets inside the datagram, and what
/// re-encodes decodes to the same thing.
#[test]
fn corrupted_real_datagrams_never_panic() {
    let mut payloads = Vec::new();
    for (path, _) in common::all_sflow_files() {
        let bytes = std::fs::read(path).unwrap();
        payloads.extend(common::udp_payloads(&bytes).into_iter().map(|u| u.payload));
    }
    let mut session = flowwire_sflow::Session::default();
    let exporter = "192.0.2.1:6343".parse().unwrap();
    let mut runs = 0;
    for p in payloads.iter().take(40) {
        for at in (0..p.len().saturating_sub(3)).step_by(4) {
            for v in [0u32, 1, 3, 8, 0x7fff_ffff, 0xffff_ffff, p.len() as u32] {
                let mut b = p.clone();
                b[at..at + 4].copy_from_slice(&v.to_be_bytes());
                runs += 1;
                let alone = flowwire_sflow::decode(&b);
                let mut sink = Keep::default();
                let summary = session.decode(exporter, Timestamp::default(), &b, &mut sink);
                // The session and the session-less conversion agree.
                match alone {
                    Ok(d) => {
                        assert_eq!(summary.messages, 1);
                        assert_eq!(summary.errors, d.errors.len());
                        assert_eq!(sink.errors, d.errors);
                        assert_eq!(summary.flows, d.flows.len());
                        assert_eq!(summary.counters, d.counters.len());
                    }
                    Err(e) => {
                        assert_eq!((summary.messages, summary.errors), (0, 1));
                        assert_eq!(sink.errors, vec![e]);
                    }
                }
                for e in &sink.errors {
                    assert!(e.offset().is_some_and(|o| o <= b.len()), "{e}");
                }
                if let Ok((repr, _)) = DatagramRepr::parse_with_errors(&b) {
                    let out = repr.to_bytes().unwrap();
                    let (again, _) = DatagramRepr::parse_with_errors(&out).unwrap();
                    assert_eq!(again, repr);
                }
            }
        }
    }
    println!("{runs} corrupted datagrams decoded without a panic");
}
