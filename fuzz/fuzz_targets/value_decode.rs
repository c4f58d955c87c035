//! Every data type: decode never panics, and decode then emit gives back the bytes.
#![no_main]

use flowwire_record::{DataType, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let data_type = DataType::ALL[usize::from(selector) % DataType::ALL.len()];
    if let Ok(v) = Value::decode(data_type, bytes) {
        let mut out = vec![0u8; bytes.len()];
        v.emit(&mut out)
            .expect("a decoded value re-encodes at its own length");
        assert_eq!(out, bytes);
        // Compare by bytes: a NaN float is not equal to itself.
        let mut again = vec![0u8; bytes.len()];
        v.to_owned_value()
            .emit(&mut again)
            .expect("the owned copy re-encodes too");
        assert_eq!(again, bytes);
    }
    std::hint::black_box(Value::decode_lenient(data_type, bytes));
});
