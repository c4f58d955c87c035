//! Property tests: every data type round-trips through encode and decode, at its natural size
//! and at every reduced size that holds the value; decode then encode gives back the bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

use flowwire_record::{DataType, MacAddr, NtpTimestamp, OwnedValue, Value};
use proptest::prelude::*;

fn owned_value() -> impl Strategy<Value = OwnedValue> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(OwnedValue::OctetArray),
        any::<u8>().prop_map(OwnedValue::Unsigned8),
        any::<u16>().prop_map(OwnedValue::Unsigned16),
        any::<u32>().prop_map(OwnedValue::Unsigned32),
        any::<u64>().prop_map(OwnedValue::Unsigned64),
        any::<[u8; 32]>().prop_map(OwnedValue::Unsigned256),
        any::<i8>().prop_map(OwnedValue::Signed8),
        any::<i16>().prop_map(OwnedValue::Signed16),
        any::<i32>().prop_map(OwnedValue::Signed32),
        any::<i64>().prop_map(OwnedValue::Signed64),
        any::<f32>()
            .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
            .prop_map(OwnedValue::Float32),
        any::<f64>()
            .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
            .prop_map(OwnedValue::Float64),
        any::<bool>().prop_map(OwnedValue::Boolean),
        any::<[u8; 6]>().prop_map(|m| OwnedValue::MacAddress(MacAddr(m))),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(OwnedValue::String),
        any::<u32>().prop_map(OwnedValue::DateTimeSeconds),
        any::<u64>().prop_map(OwnedValue::DateTimeMilliseconds),
        any::<u64>().prop_map(|b| OwnedValue::DateTimeMicroseconds(NtpTimestamp::from_bits(b))),
        any::<u64>().prop_map(|b| OwnedValue::DateTimeNanoseconds(NtpTimestamp::from_bits(b))),
        any::<u32>().prop_map(|a| OwnedValue::Ipv4Address(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| OwnedValue::Ipv6Address(Ipv6Addr::from(a))),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(OwnedValue::BasicList),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(OwnedValue::SubTemplateList),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(OwnedValue::SubTemplateMultiList),
    ]
}

proptest! {
    #[test]
    fn natural_size_round_trip(v in owned_value()) {
        let mut buf = vec![0xa5; v.natural_len()];
        v.emit(&mut buf).unwrap();
        let back = Value::decode(v.data_type(), &buf).unwrap();
        prop_assert_eq!(back.to_owned_value(), v);
    }

    #[test]
    fn every_reduced_size_that_fits_round_trips(v in owned_value()) {
        let data_type = v.data_type();
        let value = v.as_value();
        let (min, max) = data_type.valid_lengths();
        if data_type.is_variable_length() {
            return Ok(());
        }
        for len in min..=max.min(32) {
            if !data_type.accepts_len(len) {
                continue;
            }
            let mut buf = vec![0xa5; len];
            match value.emit(&mut buf) {
                Ok(()) => {
                    prop_assert!(len >= value.min_len(), "{value:?} emitted into {len} < min_len");
                    let back = Value::decode(data_type, &buf).unwrap();
                    prop_assert_eq!(back, value, "len {}", len);
                }
                Err(_) => prop_assert!(len < value.min_len(), "{value:?} refused {len} >= min_len"),
            }
        }
    }

    #[test]
    fn decode_then_encode_gives_back_the_bytes(
        type_index in 0..DataType::ALL.len(),
        bytes in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let data_type = DataType::ALL[type_index];
        if let Ok(v) = Value::decode(data_type, &bytes) {
            let mut out = vec![0xa5; bytes.len()];
            v.emit(&mut out).unwrap();
            // A float32 NaN payload and float64-from-float32 keep their bits too.
            prop_assert_eq!(out, bytes);
        }
    }

    #[test]
    fn decode_never_panics(
        type_index in 0..DataType::ALL.len(),
        bytes in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let data_type = DataType::ALL[type_index];
        let _ = Value::decode(data_type, &bytes);
        let _ = Value::decode_lenient(data_type, &bytes);
    }
}

#[test]
fn wrong_lengths_are_typed_errors_for_every_fixed_type() {
    for t in DataType::ALL {
        if t.is_variable_length() {
            continue;
        }
        for len in 0..=40 {
            let bytes = vec![1u8; len];
            let r = Value::decode(t, &bytes);
            assert_eq!(r.is_ok(), t.accepts_len(len), "{t} len {len}: {r:?}");
        }
    }
}
