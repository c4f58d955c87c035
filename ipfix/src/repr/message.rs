//! [`MessageRepr`] and [`SetRepr`]: owned messages and sets.

use bytes::BufMut;
use flowwire_record::registry::Registry;

use super::data::DataRecordRepr;
use super::template::TemplateRepr;
use crate::error::Error;
use crate::template::{DEFAULT_MAX_FIELDS, Template};
use crate::wire::data::RecordIter;
use crate::wire::message::{HEADER_LEN, Message, VERSION};
use crate::wire::set::{OPTIONS_TEMPLATE_SET_ID, SET_HEADER_LEN, Set, SetKind, TEMPLATE_SET_ID};

/// What a set holds.
#[derive(Debug, Clone, PartialEq)]
pub enum SetContent {
    /// Template records (set id 2), withdrawals included.
    Templates(Vec<TemplateRepr>),
    /// Options template records (set id 3), withdrawals included.
    OptionsTemplates(Vec<TemplateRepr>),
    /// Data records of one template (set id = template id).
    Data {
        /// Template id.
        template_id: u16,
        /// The records.
        records: Vec<DataRecordRepr>,
    },
    /// A set kept as bytes: a data set whose template was not known when parsing, a
    /// reserved set id, or a set with non-zero padding.
    Raw {
        /// Set id.
        set_id: u16,
        /// The bytes after the set header.
        body: Vec<u8>,
    },
}

/// An owned set: content and the zero padding after it.
#[derive(Debug, Clone, PartialEq)]
pub struct SetRepr {
    /// The records.
    pub content: SetContent,
    /// Zero octets of padding after the records.
    pub padding: u16,
}

impl SetRepr {
    /// A set without padding.
    pub fn new(content: SetContent) -> Self {
        SetRepr {
            content,
            padding: 0,
        }
    }

    /// The set id.
    pub fn set_id(&self) -> u16 {
        match &self.content {
            SetContent::Templates(_) => TEMPLATE_SET_ID,
            SetContent::OptionsTemplates(_) => OPTIONS_TEMPLATE_SET_ID,
            SetContent::Data { template_id, .. } => *template_id,
            SetContent::Raw { set_id, .. } => *set_id,
        }
    }

    fn content_len(&self) -> usize {
        match &self.content {
            SetContent::Templates(t) => t.iter().map(|t| t.buffer_len(false)).sum(),
            SetContent::OptionsTemplates(t) => t.iter().map(|t| t.buffer_len(true)).sum(),
            SetContent::Data { records, .. } => records.iter().map(|r| r.buffer_len()).sum(),
            SetContent::Raw { body, .. } => body.len(),
        }
    }

    /// The encoded length, header and padding included.
    pub fn buffer_len(&self) -> usize {
        SET_HEADER_LEN + self.content_len() + usize::from(self.padding)
    }

    /// Parses a set. Data sets are decoded with `template(id)`; without one they are kept
    /// [`SetContent::Raw`].
    pub fn parse(set: &Set<'_>, template: Option<&Template>) -> Result<SetRepr, Error> {
        let body = set.body();
        let raw = || {
            SetRepr::new(SetContent::Raw {
                set_id: set.id(),
                body: body.to_vec(),
            })
        };
        let (content, used) = match set.kind() {
            SetKind::Template | SetKind::OptionsTemplate => {
                let mut recs = Vec::new();
                let mut used = 0;
                for r in set.templates() {
                    let r = r?;
                    used += r.as_bytes().len();
                    recs.push(TemplateRepr::parse(&r));
                }
                let c = if set.kind() == SetKind::Template {
                    SetContent::Templates(recs)
                } else {
                    SetContent::OptionsTemplates(recs)
                };
                (c, used)
            }
            SetKind::Data(template_id) => {
                let Some(t) = template else {
                    return Ok(raw());
                };
                let mut it = RecordIter::new(body, set.body_offset(), t);
                let mut records = Vec::new();
                for r in it.by_ref() {
                    records.push(DataRecordRepr::parse(&r?));
                }
                let used = body.len() - it.remainder().len();
                (
                    SetContent::Data {
                        template_id,
                        records,
                    },
                    used,
                )
            }
            SetKind::Reserved(_) => return Ok(raw()),
        };
        let pad = body.get(used..).unwrap_or_default();
        if pad.iter().any(|&b| b != 0) {
            return Ok(raw());
        }
        Ok(SetRepr {
            content,
            padding: u16::try_from(pad.len()).unwrap_or(0),
        })
    }

    /// Writes the set into exactly [`SetRepr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        let need = self.buffer_len();
        let len = u16::try_from(need).map_err(|_| Error::Unencodable {
            what: "set longer than 65535 octets",
        })?;
        if out.len() != need {
            return Err(Error::BufferTooSmall {
                required: need,
                remaining: out.len(),
            });
        }
        crate::wire::put16(out, 0, self.set_id());
        crate::wire::put16(out, 2, len);
        let mut pos = SET_HEADER_LEN;
        let mut put = |n: usize, f: &mut dyn FnMut(&mut [u8]) -> Result<(), Error>| {
            let end = pos + n;
            let remaining = out.len().saturating_sub(pos);
            let r = match out.get_mut(pos..end) {
                Some(b) => f(b),
                None => Err(Error::BufferTooSmall {
                    required: n,
                    remaining,
                }),
            };
            pos = end;
            r
        };
        match &self.content {
            SetContent::Templates(t) | SetContent::OptionsTemplates(t) => {
                let options = matches!(self.content, SetContent::OptionsTemplates(_));
                for t in t {
                    put(t.buffer_len(options), &mut |b| t.emit(options, b))?;
                }
            }
            SetContent::Data { records, .. } => {
                for r in records {
                    put(r.buffer_len(), &mut |b| r.emit(b))?;
                }
            }
            SetContent::Raw { body, .. } => {
                put(body.len(), &mut |b| {
                    b.copy_from_slice(body);
                    Ok(())
                })?;
            }
        }
        out.get_mut(pos..).unwrap_or_default().fill(0);
        Ok(())
    }
}

/// An owned IPFIX message.
///
/// ```
/// use flowwire_ipfix::repr::{MessageRepr, SetContent, SetRepr, TemplateRepr};
/// use flowwire_ipfix::wire::template::FieldSpec;
///
/// let msg = MessageRepr {
///     export_time: 1_700_000_000,
///     sequence_number: 0,
///     observation_domain_id: 1,
///     sets: vec![SetRepr::new(SetContent::Templates(vec![TemplateRepr::new(
///         256,
///         vec![FieldSpec::iana(8, 4)],
///     )]))],
/// };
/// let mut buf = vec![0; msg.buffer_len()];
/// msg.emit(&mut buf)?;
/// assert_eq!(buf.len(), 16 + 4 + 8);
/// assert_eq!(MessageRepr::parse_bytes(&buf)?, msg);
/// # Ok::<(), flowwire_ipfix::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRepr {
    /// Export time (Unix seconds).
    pub export_time: u32,
    /// Sequence number.
    pub sequence_number: u32,
    /// Observation domain id.
    pub observation_domain_id: u32,
    /// The sets.
    pub sets: Vec<SetRepr>,
}

impl MessageRepr {
    /// Parses a message. Data sets are decoded with templates defined earlier in the same
    /// message, else `known(id)`; sets of other templates are kept raw.
    pub fn parse<'t>(
        message: &Message<&[u8]>,
        registry: &Registry,
        known: impl Fn(u16) -> Option<&'t Template>,
    ) -> Result<MessageRepr, Error> {
        let mut local: Vec<Template> = Vec::new();
        let mut sets = Vec::new();
        for set in message.sets() {
            let set = set?;
            let s = match set.kind() {
                SetKind::Data(id) => {
                    let t = local
                        .iter()
                        .rev()
                        .find(|t| t.id() == id)
                        .or_else(|| known(id));
                    SetRepr::parse(&set, t)?
                }
                _ => SetRepr::parse(&set, None)?,
            };
            if matches!(
                s.content,
                SetContent::Templates(_) | SetContent::OptionsTemplates(_)
            ) {
                let defined = set.templates().flatten().filter(|r| !r.is_withdrawal());
                for r in defined {
                    if let Ok(t) = Template::from_record(&r, registry, DEFAULT_MAX_FIELDS) {
                        local.push(t);
                    }
                }
            }
            sets.push(s);
        }
        Ok(MessageRepr {
            export_time: message.export_time(),
            sequence_number: message.sequence_number(),
            observation_domain_id: message.observation_domain_id(),
            sets,
        })
    }

    /// Parses one message from bytes, with only the templates it defines itself and the
    /// built-in registry.
    pub fn parse_bytes(bytes: &[u8]) -> Result<MessageRepr, Error> {
        let m = Message::new_checked(bytes)?;
        MessageRepr::parse(&m, &Registry::new(), |_| None)
    }

    /// The encoded length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.sets.iter().map(SetRepr::buffer_len).sum::<usize>()
    }

    /// Writes the message into exactly [`MessageRepr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        let need = self.buffer_len();
        let len = u16::try_from(need).map_err(|_| Error::Unencodable {
            what: "message longer than 65535 octets",
        })?;
        if out.len() != need {
            return Err(Error::BufferTooSmall {
                required: need,
                remaining: out.len(),
            });
        }
        let mut m = Message::new_unchecked(&mut *out);
        m.set_version(VERSION);
        m.set_length(len);
        m.set_export_time(self.export_time);
        m.set_sequence_number(self.sequence_number);
        m.set_observation_domain_id(self.observation_domain_id);
        let mut pos = HEADER_LEN;
        for s in &self.sets {
            let end = pos + s.buffer_len();
            s.emit(out.get_mut(pos..end).unwrap_or_default())?;
            pos = end;
        }
        Ok(())
    }

    /// Appends the message to a buffer; fails with [`Error::BufferTooSmall`] (`required`,
    /// `remaining`) when it has no room.
    pub fn put<B: BufMut>(&self, buf: &mut B) -> Result<(), Error> {
        let need = self.buffer_len();
        if buf.remaining_mut() < need {
            return Err(Error::BufferTooSmall {
                required: need,
                remaining: buf.remaining_mut(),
            });
        }
        let mut tmp = vec![0; need];
        self.emit(&mut tmp)?;
        buf.put_slice(&tmp);
        Ok(())
    }

    /// The encoded bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut tmp = vec![0; self.buffer_len()];
        self.emit(&mut tmp)?;
        Ok(tmp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repr::data::FieldValue;
    use crate::wire::template::FieldSpec;
    use flowwire_record::OwnedValue;

    fn sample() -> MessageRepr {
        MessageRepr {
            export_time: 0x6553_f100,
            sequence_number: 9,
            observation_domain_id: 42,
            sets: vec![
                SetRepr::new(SetContent::Templates(vec![TemplateRepr::new(
                    256,
                    vec![FieldSpec::iana(8, 4), FieldSpec::iana(82, 65535)],
                )])),
                SetRepr {
                    content: SetContent::Data {
                        template_id: 256,
                        records: vec![DataRecordRepr {
                            fields: vec![
                                FieldValue::new(
                                    FieldSpec::iana(8, 4),
                                    OwnedValue::Ipv4Address([192, 0, 2, 1].into()),
                                ),
                                FieldValue::new(
                                    FieldSpec::iana(82, 65535),
                                    OwnedValue::String(b"eth0".to_vec()),
                                ),
                            ],
                        }],
                    },
                    padding: 3,
                },
                SetRepr::new(SetContent::Raw {
                    set_id: 999,
                    body: vec![1, 2, 3],
                }),
            ],
        }
    }

    static BYTES: [u8; 59] = [
        0, 10, 0, 59, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 9, 0, 0, 0, 42, // header
        0, 2, 0, 16, 1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0xff, 0xff, // template set
        1, 0, 0, 16, 192, 0, 2, 1, 4, b'e', b't', b'h', b'0', 0, 0, 0, // data set + padding
        3, 231, 0, 7, 1, 2, 3, // raw set 999
        0, 0, 0, 0, // (spare, cut below)
    ];

    #[test]
    fn construct_and_parse() {
        let m = sample();
        assert_eq!(m.buffer_len(), 55);
        let mut buf = vec![0xa5; 55];
        m.emit(&mut buf).unwrap();
        let mut want = BYTES[..55].to_vec();
        want[3] = 55;
        assert_eq!(buf, want);
        assert_eq!(MessageRepr::parse_bytes(&buf).unwrap(), m);
        let mut v = Vec::new();
        m.put(&mut v).unwrap();
        assert_eq!(v, want);
        let mut small = [0u8; 10];
        assert!(matches!(
            m.put(&mut &mut small[..]),
            Err(Error::BufferTooSmall {
                required: 55,
                remaining: 10
            })
        ));
    }
}
