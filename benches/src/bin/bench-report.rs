//! Writes the markdown tables of a criterion run: `bench-report [CRITERION_DIR]` prints the
//! targets table, every benchmark, the scale curve and the real-capture figures.
use flowwire_benches::report::{Results, criterion_dir};
use std::path::PathBuf;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(criterion_dir)
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let r = match Results::load(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-report: {e}");
            std::process::exit(1);
        }
    };
    println!("## Targets (issue 16; field iteration: issue 10)\n");
    println!("{}", r.targets_markdown());
    println!("## Comparison bench (same bytes, one binary)\n");
    println!(
        "{}",
        r.table_markdown(&["decode v9", "decode ipfix", "decode sflow"])
    );
    println!("{}", r.table_markdown(&["encode v9", "encode ipfix"]));
    println!("## Session with template learning\n");
    println!("{}", r.table_markdown(&["learn"]));
    println!("## Scale: decode cost against records per run\n");
    println!("{}", r.scale_markdown());
    println!("## Real captures (testdata/captures), whole file through the collector\n");
    println!("{}", r.captures_markdown());
    println!("## Other benches (decode.rs, values.rs; views_vs_nom.rs when run)\n");
    println!(
        "{}",
        r.table_markdown(&[
            "v9 18-field",
            "decode unsigned64",
            "decode reduced",
            "emit",
            "views vs nom",
        ])
    );
}
