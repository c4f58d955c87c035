//! The `flowwire` command.

// Doc comments here are clap's help texts, written for a terminal: `[addr]:port` is an address,
// not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

mod decode;
mod generate;
mod ie;
mod listen;
mod output;
mod ovs;
mod renormalize;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Decode, collect, generate and convert network flow exports (NetFlow v5/v9, IPFIX, sFlow v5).
#[derive(Debug, Parser)]
#[command(name = "flowwire", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode captures (pcap, pcapng, raw IPFIX files) of NetFlow, IPFIX and sFlow.
    Decode(decode::DecodeArgs),
    /// Collect live: decode NetFlow, IPFIX and sFlow arriving on UDP sockets, and IPFIX over TCP.
    Listen(Box<listen::ListenArgs>),
    /// Export synthetic flows (NetFlow v5/v9, IPFIX, sFlow) to a collector or into a pcap.
    Generate(generate::GenerateArgs),
    /// Re-encode the flows of captures into another protocol.
    Convert(generate::ConvertArgs),
    /// Configure Open vSwitch flow export from the operator's exportNetworkFlows spec.
    Ovs(ovs::OvsArgs),
    /// Look up information elements in the registry (IANA, VMware/OVS, Cisco NSEL).
    Ie(ie::IeArgs),
}

/// A user error: printed as one line on stderr, exit code 2.
#[derive(Debug)]
pub(crate) struct UserError(pub(crate) String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Ie(args) => ie::run(args).map(|()| ExitCode::SUCCESS),
        Command::Ovs(args) => Ok(ovs::run(args)),
        Command::Listen(args) => listen::run(*args),
        Command::Generate(args) => generate::generate(args),
        Command::Convert(args) => generate::convert(args),
    };
    match result {
        Ok(code) => code,
        Err(UserError(msg)) => {
            eprintln!("flowwire: {msg}");
            ExitCode::from(2)
        }
    }
}
