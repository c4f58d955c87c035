//! A compiled plan decodes exactly what per-field decode + mapping::apply decodes, repeated
//! elements included (templates draw from the pool with repetition).

use flowwire_record::mapping::{self, TimeContext};
use flowwire_record::plan::{PlanField, RecordPlan, VARIABLE_LENGTH, decode_field};
use flowwire_record::registry::{FieldId, Registry};
use flowwire_record::{FlowRecord, Timestamp};
use proptest::prelude::*;

/// Elements with typed slots at their usual and unusual widths, plus others.
const POOL: &[(u32, u16, u16)] = &[
    (0, 8, 4),
    (0, 12, 4),
    (0, 27, 16),
    (0, 28, 16),
    (0, 7, 2),
    (0, 11, 2),
    (0, 7, 1),
    (0, 4, 1),
    (0, 5, 1),
    (0, 6, 1),
    (0, 6, 2),
    (0, 1, 4),
    (0, 1, 8),
    (0, 2, 4),
    (0, 2, 8),
    (0, 10, 2),
    (0, 10, 4),
    (0, 14, 4),
    (0, 16, 2),
    (0, 17, 4),
    (0, 9, 1),
    (0, 13, 1),
    (0, 15, 4),
    (0, 62, 16),
    (0, 18, 4),
    (0, 61, 1),
    (0, 136, 1),
    (0, 22, 4),
    (0, 21, 4),
    (0, 22, 8),
    (0, 152, 8),
    (0, 153, 8),
    (0, 150, 4),
    (0, 151, 4),
    (0, 82, VARIABLE_LENGTH),
    (0, 82, 16),
    (0, 32, 2),
    (0, 58, 2),
    (0, 56, 6),
    (0, 231, 8),
    (0, 232, 8),
    (0, 298, 8),
    (0, 70, 3),
    (0, 89, 1),
    (0, 8, 3),
    (0, 1, 12),
    (0, 40005, 1),
    (0, 291, VARIABLE_LENGTH),
    (6876, 892, VARIABLE_LENGTH),
    (6876, 891, 1),
    (9999, 1, 5),
    (0, 210, 3),
    (0, 177, 1),
    (0, 160, 8),
    (0, 158, 4),
    (0, 156, 8),
    (0, 243, 2),
    (0, 34, 4),
    (0, 305, 4),
    (0, 306, 4),
    (0, 309, 4),
    (0, 310, 4),
    (0, 176, 1),
    (0, 40001, 4),
    (0, 225, 4),
];

fn template() -> impl Strategy<Value = Vec<PlanField>> {
    proptest::collection::vec(0..POOL.len(), 1..20).prop_map(|idx| {
        idx.into_iter()
            .map(|i| {
                let (pen, id, len) = POOL[i];
                PlanField::new(FieldId { pen, id }, len)
            })
            .collect()
    })
}

fn by_apply(
    fields: &[PlanField],
    mut bytes: &[u8],
    time: &TimeContext,
    registry: &Registry,
) -> Option<FlowRecord> {
    let mut r = FlowRecord::default();
    for f in fields {
        let len = if f.length == VARIABLE_LENGTH {
            let (&first, rest) = bytes.split_first()?;
            bytes = rest;
            if first == 255 {
                let (hl, rest) = bytes.split_at_checked(2)?;
                bytes = rest;
                usize::from(u16::from_be_bytes([hl[0], hl[1]]))
            } else {
                usize::from(first)
            }
        } else {
            usize::from(f.length)
        };
        let (data, rest) = bytes.split_at_checked(len)?;
        bytes = rest;
        mapping::apply(
            &mut r,
            f.field,
            decode_field(registry.data_type(f.field), data),
            time,
        );
    }
    mapping::finish(&mut r);
    Some(r)
}

proptest! {
    #[test]
    fn plan_equals_apply(
        fields in template(),
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        with_uptime in any::<bool>(),
    ) {
        let registry = Registry::new();
        let time = TimeContext {
            export_time: Some(Timestamp::from_unix_secs(1_700_000_000)),
            sys_uptime_ms: with_uptime.then_some(123_456_789),
            system_init_time: None,
        };
        let plan = RecordPlan::compile(&fields, &registry);
        let mut r = FlowRecord::default();
        let got = plan.decode(&bytes, &time, &mut r);
        match by_apply(&fields, &bytes, &time, &registry) {
            Some(expected) => {
                prop_assert!(got.is_ok(), "{got:?}");
                prop_assert_eq!(r, expected);
            }
            None => prop_assert!(got.is_err()),
        }
    }
}

#[test]
fn fixed_and_min_lengths() {
    let plan = RecordPlan::compile(
        &[
            PlanField::new(FieldId::iana(8), 4),
            PlanField::new(FieldId::iana(82), VARIABLE_LENGTH),
        ],
        &Registry::new(),
    );
    assert_eq!(plan.fixed_len(), None);
    assert_eq!(plan.min_len(), 5);
    let mut r = FlowRecord::default();
    // A zero-length variable field is legal.
    assert_eq!(
        plan.decode(&[10, 0, 0, 1, 0], &TimeContext::default(), &mut r),
        Ok(5)
    );
    assert_eq!(r.extra.len(), 1);
    assert!(
        plan.decode(&[10, 0, 0, 1, 255, 0], &TimeContext::default(), &mut r)
            .is_err()
    );
}

#[test]
fn dual_family_templates_keep_the_real_address() {
    // sourceIPv4Address, sourceIPv6Address, destinationIPv6Address, destinationIPv4Address.
    let plan = RecordPlan::compile(
        &[
            PlanField::new(FieldId::iana(8), 4),
            PlanField::new(FieldId::iana(27), 16),
            PlanField::new(FieldId::iana(28), 16),
            PlanField::new(FieldId::iana(12), 4),
        ],
        &Registry::new(),
    );
    let mut bytes = vec![10, 0, 0, 1];
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&[10, 0, 0, 2]);
    let mut r = FlowRecord::default();
    plan.decode(&bytes, &TimeContext::default(), &mut r)
        .unwrap();
    assert_eq!(r.src_addr(), Some("10.0.0.1".parse().unwrap()));
    assert_eq!(r.dst_addr(), Some("10.0.0.2".parse().unwrap()));
    assert_eq!(r.extra.len(), 2, "the zero IPv6 addresses are kept");
    // An IPv6 flow of the same template.
    let mut bytes = vec![0; 4];
    bytes.extend_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    bytes.extend_from_slice(
        &"2001:db8::2"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    bytes.extend_from_slice(&[0; 4]);
    let mut r = FlowRecord::default();
    plan.decode(&bytes, &TimeContext::default(), &mut r)
        .unwrap();
    assert_eq!(r.src_addr(), Some("2001:db8::1".parse().unwrap()));
    assert_eq!(r.dst_addr(), Some("2001:db8::2".parse().unwrap()));
}
