//! The owned datagram.

use crate::error::{Error, Result};
use crate::repr::Sample;
use crate::wire::Datagram;
use crate::xdr::{Address, Reader, Writer, Xdr};

/// Length of the fixed datagram header for an agent address of this type.
pub const fn header_len(agent: &Address) -> usize {
    24 + match agent {
        Address::Unknown => 0,
        Address::V4(_) => 4,
        Address::V6(_) => 16,
    }
}

/// An sFlow v5 datagram, owned.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DatagramRepr {
    /// Agent address.
    pub agent: Address,
    /// Sub-agent id.
    pub sub_agent_id: u32,
    /// Datagram sequence number (per agent and sub-agent).
    pub sequence: u32,
    /// Milliseconds since the agent booted.
    pub uptime: u32,
    /// The samples.
    pub samples: Vec<Sample>,
}

impl DatagramRepr {
    /// Decodes a datagram, returning with it the errors of the records and samples that were
    /// kept as `Unknown` because they did not decode, and of a sample list cut short. Bytes
    /// after the declared samples are ignored. Only a bad fixed header is an error.
    pub fn parse_with_errors(bytes: &[u8]) -> Result<(Self, Vec<Error>)> {
        let d = Datagram::new_checked(bytes)?;
        let mut errors = Vec::new();
        let mut samples = Vec::new();
        for s in d.samples() {
            match s {
                Ok(s) => samples.push(Sample::from_ref(&s, &mut errors)),
                Err(e) => errors.push(e),
            }
        }
        Ok((
            DatagramRepr {
                agent: d.agent(),
                sub_agent_id: d.sub_agent_id(),
                sequence: d.sequence(),
                uptime: d.uptime(),
                samples,
            },
            errors,
        ))
    }
}

impl Xdr for DatagramRepr {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let at = r.offset();
        let rest = r.rest();
        let d = Datagram::new_checked(rest).map_err(|e| e.shifted(at))?;
        let mut samples = Vec::new();
        let mut it = d.samples();
        for s in it.by_ref() {
            let s = s.map_err(|e| e.shifted(at))?;
            samples.push(Sample::from_ref(&s, &mut Vec::new()));
        }
        let used = rest.len() - it.trailing_bytes();
        r.take(used, "datagram")?;
        Ok(DatagramRepr {
            agent: d.agent(),
            sub_agent_id: d.sub_agent_id(),
            sequence: d.sequence(),
            uptime: d.uptime(),
            samples,
        })
    }

    /// Decodes a datagram; bytes after the declared samples are ignored.
    fn parse(bytes: &[u8], offset: usize) -> Result<Self> {
        let mut r = Reader::new(bytes, offset);
        Self::read(&mut r)
    }

    fn xdr_len(&self) -> usize {
        header_len(&self.agent) + self.samples.iter().map(Xdr::xdr_len).sum::<usize>()
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.u32(5);
        self.agent.write(w);
        w.u32(self.sub_agent_id);
        w.u32(self.sequence);
        w.u32(self.uptime);
        self.samples.write(w);
    }

    #[cfg(test)]
    fn generate(g: &mut crate::xdr::Gen) -> Self {
        DatagramRepr {
            agent: Xdr::generate(g),
            sub_agent_id: g.u64() as u32,
            sequence: g.u64() as u32,
            uptime: g.u64() as u32,
            samples: Xdr::generate(g),
        }
    }
}
