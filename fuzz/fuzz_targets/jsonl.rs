//! `flowwire::jsonl::FlowJson` writes, for any `FlowRecord` (every typed field, context,
//! addresses of both families, any extras), exactly the bytes `serde_json` writes, with one
//! writer reused across records as a collector does.
#![no_main]

use flowwire::FlowRecord;
use flowwire::jsonl::FlowJson;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|flows: Vec<FlowRecord>| {
    let mut json = FlowJson::new();
    let mut line = Vec::new();
    for flow in &flows {
        line.clear();
        json.write_line(&mut line, flow);
        let mut want = serde_json::to_vec(flow).expect("every FlowRecord serializes");
        want.push(b'\n');
        assert_eq!(
            String::from_utf8_lossy(&line),
            String::from_utf8_lossy(&want)
        );
    }
});
