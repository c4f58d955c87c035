//! A NetFlow v9 exporter: [`FlowRecord`]s in, MTU-sized export packets out, with templates
//! derived from the records, sent before their first data and re-sent at an interval (in
//! packets and in time), packet sequence numbers and sysUptime.
//!
//! Each record's fields come from [`mapping::fields_into`]; its absolute start and end become
//! FIRST_SWITCHED / LAST_SWITCHED (22/21), milliseconds of sysUptime relative to the
//! exporter's boot time. Enterprise-specific elements (PEN ≠ 0), which v9 cannot carry, are
//! left out. Records with the same field layout share a template.

use std::collections::HashMap;
use std::time::Duration;

use flowwire_record::mapping::{self, TimeEncoding};
use flowwire_record::registry::FieldId;
use flowwire_record::{FlowRecord, Timestamp, Value};

use crate::error::{Error, Result};
use crate::repr::v9::write_header;
use crate::wire::v9_flowset::{MIN_DATA_SET_ID, SET_HEADER_LEN, TEMPLATE_SET_ID};
use crate::wire::v9_packet::HEADER_LEN;
use crate::wire::{write_u16, write_u32};

/// Exporter settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExporterConfig {
    /// Largest export packet, in bytes (UDP payload).
    pub mtu: usize,
    /// The source id written in every header.
    pub source_id: u32,
    /// Re-send a template after this many packets without it.
    pub template_refresh_packets: u32,
    /// Re-send a template after this long without it.
    pub template_refresh_interval: Duration,
    /// Distinct templates kept; beyond it, ids are reused from the start (oldest layouts are
    /// forgotten).
    pub max_templates: usize,
}

impl Default for ExporterConfig {
    /// 1400-byte packets, source id 0, templates re-sent every 20 packets or 60 seconds, 1024
    /// templates.
    fn default() -> Self {
        ExporterConfig {
            mtu: 1400,
            source_id: 0,
            template_refresh_packets: 20,
            template_refresh_interval: Duration::from_secs(60),
            max_templates: 1024,
        }
    }
}

#[derive(Debug)]
struct TemplateState {
    id: u16,
    fields: Vec<(u16, u16)>,
    last_sent: Option<(Timestamp, u64)>,
}

/// The exporter; see the module docs.
#[derive(Debug)]
pub struct V9Exporter {
    config: ExporterConfig,
    boot: Timestamp,
    sequence: u32,
    packets: u64,
    by_layout: HashMap<Vec<(u16, u16)>, usize>,
    templates: Vec<TemplateState>,
    buf: Vec<u8>,
    count: u16,
    open_set: Option<(u16, usize)>,
    sent_here: Vec<u16>,
    scratch_layout: Vec<(u16, u16)>,
}

fn field_len(v: &Value<'_>) -> usize {
    v.natural_len()
}

impl V9Exporter {
    /// An exporter whose sysUptime counts from `boot`.
    pub fn new(config: ExporterConfig, boot: Timestamp) -> Self {
        V9Exporter {
            config,
            boot,
            sequence: 0,
            packets: 0,
            by_layout: HashMap::new(),
            templates: Vec::new(),
            buf: Vec::new(),
            count: 0,
            open_set: None,
            sent_here: Vec::new(),
            scratch_layout: Vec::new(),
        }
    }

    /// The sequence number the next packet will carry (packets sent so far).
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The MTU in force: the configured one, at most the largest UDP payload (65507).
    fn mtu(&self) -> usize {
        self.config.mtu.min(65_507)
    }

    fn uptime(&self, t: Timestamp) -> u32 {
        (t.unix_millis().saturating_sub(self.boot.unix_millis())) as u32
    }

    /// Adds a record at time `now`; packets that fill up are appended to `out`.
    pub fn push(
        &mut self,
        record: &FlowRecord,
        now: Timestamp,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<()> {
        let mut fields: Vec<(FieldId, Value<'_>)> = Vec::with_capacity(32);
        mapping::fields_into(record, TimeEncoding::Milliseconds, &mut fields);
        let mut values: Vec<(u16, Value<'_>)> = Vec::with_capacity(fields.len());
        for (id, v) in fields {
            if id.pen != 0 || id.id == 0 {
                continue;
            }
            let (t, v) = match (id.id, v.as_timestamp()) {
                (152, Some(ts)) => (22, Value::Unsigned32(self.uptime(ts))),
                (153, Some(ts)) => (21, Value::Unsigned32(self.uptime(ts))),
                _ => (id.id, v),
            };
            if field_len(&v) > 0xfffe {
                continue;
            }
            values.push((t, v));
        }
        self.scratch_layout.clear();
        self.scratch_layout
            .extend(values.iter().map(|(t, v)| (*t, field_len(v) as u16)));
        let rec_len: usize = self
            .scratch_layout
            .iter()
            .map(|&(_, l)| usize::from(l))
            .sum();
        if rec_len == 0 {
            return Ok(());
        }
        let index = self.template_for_layout();
        let tpl_len = 8 + 4 * self.scratch_layout.len();
        let mtu = self.mtu();
        if HEADER_LEN + tpl_len + SET_HEADER_LEN + rec_len + 3 > mtu {
            return Err(Error::NotRepresentable {
                what: "record and its template do not fit in one packet of the MTU",
            });
        }
        let (id, need_template) = self.needs(index, now);
        let mut need = rec_len;
        if self.open_set.map(|(s, _)| s) != Some(id) {
            need += SET_HEADER_LEN + 3;
        }
        if need_template {
            need += tpl_len + 3;
        }
        if !self.buf.is_empty() && self.buf.len() + need > mtu {
            self.finish(now, out);
        }
        if self.buf.is_empty() {
            self.buf.resize(HEADER_LEN, 0);
        }
        let (id, need_template) = self.needs(index, now);
        if need_template {
            self.close_set();
            let fields = self
                .templates
                .get(index)
                .map(|t| t.fields.clone())
                .unwrap_or_default();
            let start = self.buf.len();
            self.buf.extend_from_slice(&TEMPLATE_SET_ID.to_be_bytes());
            self.buf
                .extend_from_slice(&((tpl_len) as u16).to_be_bytes());
            self.buf.extend_from_slice(&id.to_be_bytes());
            self.buf
                .extend_from_slice(&(fields.len() as u16).to_be_bytes());
            for (t, l) in fields {
                self.buf.extend_from_slice(&t.to_be_bytes());
                self.buf.extend_from_slice(&l.to_be_bytes());
            }
            debug_assert_eq!(self.buf.len() - start, tpl_len);
            self.count = self.count.saturating_add(1);
            self.sent_here.push(id);
            if let Some(t) = self.templates.get_mut(index) {
                t.last_sent = Some((now, self.packets));
            }
        }
        if self.open_set.map(|(s, _)| s) != Some(id) {
            self.close_set();
            self.open_set = Some((id, self.buf.len()));
            self.buf.extend_from_slice(&id.to_be_bytes());
            self.buf.extend_from_slice(&[0, 0]);
        }
        for (t, v) in &values {
            let start = self.buf.len();
            let len = field_len(v);
            self.buf.resize(start + len, 0);
            if let Some(o) = self.buf.get_mut(start..) {
                match v.as_bytes() {
                    Some(b) => o.copy_from_slice(b),
                    None => v.emit(o).map_err(|source| Error::Value {
                        field_type: *t,
                        source,
                    })?,
                }
            }
        }
        self.count = self.count.saturating_add(1);
        Ok(())
    }

    /// The template index of the current layout (created if new).
    fn template_for_layout(&mut self) -> usize {
        if let Some(&i) = self.by_layout.get(self.scratch_layout.as_slice()) {
            return i;
        }
        let max = self
            .config
            .max_templates
            .clamp(1, usize::from(u16::MAX - MIN_DATA_SET_ID));
        let index = if self.templates.len() < max {
            self.templates.len()
        } else {
            // Reuse the oldest id: forget its layout.
            let i = (self.packets as usize) % max;
            if let Some(old) = self.templates.get(i) {
                self.by_layout.remove(&old.fields);
            }
            i
        };
        let state = TemplateState {
            id: MIN_DATA_SET_ID + index as u16,
            fields: self.scratch_layout.clone(),
            last_sent: None,
        };
        if index == self.templates.len() {
            self.templates.push(state);
        } else if let Some(t) = self.templates.get_mut(index) {
            *t = state;
            self.sent_here
                .retain(|&x| x != MIN_DATA_SET_ID + index as u16);
        }
        self.by_layout.insert(self.scratch_layout.clone(), index);
        index
    }

    /// The template id and whether it must be (re)sent in the current packet.
    fn needs(&self, index: usize, now: Timestamp) -> (u16, bool) {
        let Some(t) = self.templates.get(index) else {
            return (MIN_DATA_SET_ID, true);
        };
        if self.sent_here.contains(&t.id) {
            return (t.id, false);
        }
        let due = match t.last_sent {
            None => true,
            Some((at, packets)) => {
                let age = now.unix_nanos().saturating_sub(at.unix_nanos());
                self.packets.saturating_sub(packets)
                    >= u64::from(self.config.template_refresh_packets)
                    || age >= self.config.template_refresh_interval.as_nanos() as i64
            }
        };
        (t.id, due)
    }

    fn close_set(&mut self) {
        if let Some((_, start)) = self.open_set.take() {
            while (self.buf.len() - start) & 3 != 0 {
                self.buf.push(0);
            }
            let len = (self.buf.len() - start) as u16;
            write_u16(&mut self.buf, start + 2, len);
        }
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<Vec<u8>>) {
        if self.buf.len() <= HEADER_LEN {
            self.buf.clear();
            return;
        }
        self.close_set();
        let uptime = self.uptime(now);
        let secs = u32::try_from(now.unix_secs()).unwrap_or(0);
        write_header(
            &mut self.buf,
            self.count,
            uptime,
            secs,
            self.sequence,
            self.config.source_id,
        );
        write_u32(&mut self.buf, 12, self.sequence);
        out.push(core::mem::take(&mut self.buf));
        self.sequence = self.sequence.wrapping_add(1);
        self.packets += 1;
        self.count = 0;
        self.sent_here.clear();
    }

    /// Finishes the packet being filled, if any, appending it to `out`.
    pub fn flush(&mut self, now: Timestamp, out: &mut Vec<Vec<u8>>) {
        self.finish(now, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;

    fn rec(i: u32) -> FlowRecord {
        FlowRecord {
            src_addr: Some(std::net::Ipv4Addr::from(0x0a00_0000 + i).into()),
            dst_addr: Some("192.0.2.1".parse().unwrap()),
            src_port: Some(1000 + i as u16),
            dst_port: Some(443),
            protocol: Some(6),
            octets: Some(u64::from(i) * 100),
            packets: Some(u64::from(i)),
            start: Some(Timestamp::from_unix_millis(
                1_700_000_000_000 + u64::from(i),
            )),
            end: Some(Timestamp::from_unix_millis(1_700_000_001_000)),
            ..FlowRecord::default()
        }
    }

    #[test]
    fn packets_respect_the_mtu_and_decode_back() {
        let boot = Timestamp::from_unix_secs(1_699_000_000);
        let now = Timestamp::from_unix_secs(1_700_000_002);
        let cfg = ExporterConfig {
            mtu: 512,
            template_refresh_packets: 3,
            ..ExporterConfig::default()
        };
        let mut e = V9Exporter::new(cfg, boot);
        let mut out = Vec::new();
        let input: Vec<FlowRecord> = (1..=100).map(rec).collect();
        for r in &input {
            e.push(r, now, &mut out).unwrap();
        }
        e.flush(now, &mut out);
        assert!(out.len() > 5);
        assert!(out.iter().all(|p| p.len() <= 512));
        let mut s = Session::default();
        let mut got = Vec::new();
        let ex = "192.0.2.9:2055".parse().unwrap();
        for p in &out {
            let rep = s.decode(ex, now, p, |r| got.push(r.clone()));
            assert!(rep.errors.is_empty(), "{:?}", rep.errors);
        }
        assert_eq!(got.len(), 100);
        for (a, b) in input.iter().zip(&got) {
            assert_eq!(a.src_addr, b.src_addr);
            assert_eq!((a.octets, a.packets), (b.octets, b.packets));
            assert_eq!((a.start, a.end), (b.start, b.end));
        }
        let seq = s.domain_state(ex, 0).unwrap().sequence;
        assert_eq!(seq.lost, 0);
        // Templates re-sent every 3 packets.
        assert!(s.store_stats().refreshed >= 1);
    }
}
