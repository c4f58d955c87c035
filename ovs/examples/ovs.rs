//! The library without the `flowwire` binary: validate a spec file and apply it to a bridge.
//!
//! ```text
//! cargo run -p flowwire-ovs --example ovs -- network.yaml [unix:/var/run/openvswitch/db.sock]
//! ```

use std::time::Duration;

use flowwire_ovs::{Configurator, DesiredConfig, ValidateOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: ovs SPEC.yaml [unix:PATH|tcp:HOST:PORT]")?;
    let db = args
        .next()
        .unwrap_or_else(|| flowwire_ovs::ovsdb::DEFAULT_DB.to_owned());

    let text = std::fs::read_to_string(&file)?;
    let desired = DesiredConfig::load(
        &text,
        &file,
        None,
        &ValidateOptions::default(),
        &Default::default(),
    )?;
    let mut ovs = Configurator::connect(&db, Duration::from_secs(10))?;
    let outcome = ovs.apply(&desired.spec, &desired.options, None)?;
    println!("{}", outcome.plan);
    Ok(())
}
