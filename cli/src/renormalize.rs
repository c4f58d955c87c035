//! `--renormalize` and `--sampling EXPORTER=N`, shared by `decode` and `listen`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use clap::Args;
use flowwire::Renormalize;

#[derive(Debug, Clone, Args)]
pub(crate) struct RenormalizeArgs {
    /// Multiply each flow's octets and packets by its sampling interval (carried by the flow,
    /// announced by its exporter in options data, the v5 header or the sFlow sample), so that
    /// counts estimate the traffic; such records carry "renormalized": true.
    #[arg(long)]
    renormalize: bool,
    /// With --renormalize: the sampling interval of an exporter that does not announce it (or
    /// announces it wrongly), e.g. 192.0.2.1=1000 (every port) or 192.0.2.1:2055=1000
    /// (repeatable). It overrides what the flows say.
    #[arg(long = "sampling", value_name = "EXPORTER=N", requires = "renormalize", value_parser = parse_override)]
    sampling: Vec<(SocketAddr, u32)>,
}

fn parse_override(text: &str) -> Result<(SocketAddr, u32), String> {
    let (exporter, n) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("{text:?}: EXPORTER=N, e.g. 192.0.2.1=1000"))?;
    let exporter = exporter
        .parse::<SocketAddr>()
        .or_else(|_| exporter.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 0)))
        .map_err(|_| format!("{exporter:?}: an IP address, or address:port"))?;
    let n: u32 = n
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{n:?}: a sampling interval of 1 or more"))?;
    Ok((exporter, n))
}

impl RenormalizeArgs {
    /// The collector's renormalization, if asked for.
    pub(crate) fn config(&self) -> Option<Renormalize> {
        self.renormalize.then(|| Renormalize {
            overrides: self.sampling.iter().copied().collect::<HashMap<_, _>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse() {
        assert_eq!(
            parse_override("192.0.2.1=1000"),
            Ok(("192.0.2.1:0".parse().unwrap(), 1000))
        );
        assert_eq!(
            parse_override("[2001:db8::1]:2055=8"),
            Ok(("[2001:db8::1]:2055".parse().unwrap(), 8))
        );
        assert!(parse_override("192.0.2.1").is_err());
        assert!(parse_override("192.0.2.1=0").is_err());
        assert!(parse_override("host=5").is_err());
    }
}
