//! Absolute time: [`Timestamp`] (nanoseconds since the Unix epoch) and the NTP format used on
//! the wire by IPFIX's dateTimeMicroseconds/Nanoseconds and sFlow-adjacent exporters.

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds between the NTP era 0 epoch (1900-01-01) and the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

/// An absolute point in time with nanosecond precision: signed nanoseconds since
/// 1970-01-01T00:00:00Z, UTC, no leap seconds (the range is roughly years 1678 to 2262).
///
/// It is `Copy`, costs eight bytes and never allocates; serde writes it as an RFC 3339 UTC
/// string such as `"2024-05-01T12:00:00.123456789Z"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// From nanoseconds since the Unix epoch.
    pub const fn from_unix_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    /// From whole seconds since the Unix epoch (negative: before it); saturates outside
    /// the representable range.
    pub const fn from_unix_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000))
    }

    /// From seconds and nanoseconds since the Unix epoch (NetFlow v5's unix_secs/unix_nsecs);
    /// a nanosecond part above 999,999,999 is taken as it is.
    pub const fn from_unix_secs_nanos(secs: u32, nanos: u32) -> Self {
        Timestamp(secs as i64 * 1_000_000_000 + nanos as i64)
    }

    /// From milliseconds since the Unix epoch (negative: before it); saturates outside the
    /// representable range (years 1678 to 2262).
    pub const fn from_unix_millis(millis: i64) -> Self {
        Timestamp(millis.saturating_mul(1_000_000))
    }

    /// From microseconds since the Unix epoch (negative: before it); saturates outside the
    /// representable range.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Timestamp(micros.saturating_mul(1_000))
    }

    /// From an unsigned wire count of milliseconds since the Unix epoch (dateTimeMilliseconds);
    /// saturates past year 2262.
    pub const fn from_unix_millis_u64(millis: u64) -> Self {
        Timestamp(clamp_i128(millis as i128 * 1_000_000))
    }

    /// From an unsigned wire count of microseconds since the Unix epoch; saturates past year
    /// 2262.
    pub const fn from_unix_micros_u64(micros: u64) -> Self {
        Timestamp(clamp_i128(micros as i128 * 1_000))
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }

    /// Whole milliseconds since the Unix epoch (floor).
    pub const fn unix_millis(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Whole seconds since the Unix epoch (floor).
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// The nanoseconds past the whole second, 0..1e9.
    pub const fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(1_000_000_000) as u32
    }

    /// This time plus a signed number of nanoseconds, saturating.
    pub const fn add_nanos(self, nanos: i64) -> Self {
        Timestamp(self.0.saturating_add(nanos))
    }

    /// This time plus a signed number of milliseconds, saturating.
    pub const fn add_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis.saturating_mul(1_000_000)))
    }

    /// The current system time.
    pub fn now() -> Self {
        Timestamp::from(SystemTime::now())
    }

    /// This time as NTP (seconds since 1900 in the high 32 bits, binary fraction in the low
    /// 32), rounded to the nearest fraction; `None` before 1900 or after 2036 (era 0).
    pub fn to_ntp(self) -> Option<NtpTimestamp> {
        let secs = self.unix_secs().checked_add(NTP_UNIX_OFFSET_SECS as i64)?;
        let secs = u32::try_from(secs).ok()?;
        let frac = ((u64::from(self.subsec_nanos()) << 32) + 500_000_000) / 1_000_000_000;
        // A fraction that rounds up to a whole second carries into the seconds.
        if frac > u64::from(u32::MAX) {
            return Some(NtpTimestamp::new(secs.checked_add(1)?, 0));
        }
        Some(NtpTimestamp::new(secs, frac as u32))
    }
}

const fn clamp_i128(v: i128) -> i64 {
    if v > i64::MAX as i128 {
        i64::MAX
    } else if v < i64::MIN as i128 {
        i64::MIN
    } else {
        v as i64
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(clamp_i128(d.as_nanos() as i128)),
            Err(e) => Timestamp(clamp_i128(-(e.duration().as_nanos() as i128))),
        }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        if t.0 >= 0 {
            UNIX_EPOCH + Duration::from_nanos(t.0 as u64)
        } else {
            UNIX_EPOCH - Duration::from_nanos(t.0.unsigned_abs())
        }
    }
}

#[cfg(feature = "serde")]
impl Timestamp {
    /// Formats as RFC 3339 in UTC with nanoseconds, e.g. `2024-05-01T12:00:00.5Z`
    /// (trailing zeros of the fraction dropped, no fraction when it is zero).
    pub fn to_rfc3339(self) -> String {
        use time::format_description::well_known::Rfc3339;
        match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0)) {
            Ok(dt) => dt
                .format(&Rfc3339)
                .unwrap_or_else(|_| format!("@{}ns", self.0)),
            Err(_) => format!("@{}ns", self.0),
        }
    }

    /// Parses an RFC 3339 time with any offset.
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimestampParseError> {
        use time::format_description::well_known::Rfc3339;
        let dt = time::OffsetDateTime::parse(s, &Rfc3339).map_err(|_| TimestampParseError {
            input: s.to_owned(),
        })?;
        i64::try_from(dt.unix_timestamp_nanos())
            .map(Timestamp)
            .map_err(|_| TimestampParseError {
                input: s.to_owned(),
            })
    }
}

/// A time string that is not RFC 3339 or is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time within years 1678-2262: {input:?}")]
pub struct TimestampParseError {
    /// The text that failed to parse.
    pub input: String,
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "serde")]
        {
            f.write_str(&self.to_rfc3339())
        }
        #[cfg(not(feature = "serde"))]
        {
            write!(f, "{}.{:09}", self.unix_secs(), self.subsec_nanos())
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// A 64-bit NTP timestamp as IPFIX carries dateTimeMicroseconds and dateTimeNanoseconds
/// (RFC 7011 §6.1.9-10): seconds since 1900-01-01 and a binary fraction of a second.
/// Kept as on the wire so that re-encoding is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTimestamp(u64);

impl NtpTimestamp {
    /// From seconds since 1900 and the 32-bit fraction.
    pub const fn new(secs: u32, fraction: u32) -> Self {
        NtpTimestamp(((secs as u64) << 32) | fraction as u64)
    }

    /// From the 64-bit wire value.
    pub const fn from_bits(bits: u64) -> Self {
        NtpTimestamp(bits)
    }

    /// The 64-bit wire value.
    pub const fn to_bits(self) -> u64 {
        self.0
    }

    /// Seconds since 1900-01-01 (era 0).
    pub const fn secs(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The binary fraction of a second.
    pub const fn fraction(self) -> u32 {
        self.0 as u32
    }

    /// As an absolute time, the fraction truncated to whole nanoseconds.
    pub const fn to_timestamp(self) -> Timestamp {
        let unix_secs = self.secs() as i64 - NTP_UNIX_OFFSET_SECS as i64;
        // Rounded to the nearest nanosecond: a fraction unit is 0.23 ns, so a time that came
        // from `Timestamp::to_ntp` comes back exactly.
        let nanos = ((self.fraction() as u64 * 1_000_000_000 + (1 << 31)) >> 32) as i64;
        Timestamp(unix_secs * 1_000_000_000 + nanos)
    }

    /// As an absolute time for dateTimeMicroseconds: the low 11 bits of the fraction are
    /// ignored (RFC 7011 §6.1.9) and the rest rounds to whole microseconds.
    pub const fn to_timestamp_micros(self) -> Timestamp {
        let unix_secs = self.secs() as i64 - NTP_UNIX_OFFSET_SECS as i64;
        let frac = (self.fraction() & !0x7ff) as u64;
        let micros = ((frac * 1_000_000) + (1 << 31)) >> 32;
        Timestamp(unix_secs * 1_000_000_000 + micros as i64 * 1_000)
    }
}

/// A MAC (EUI-48) address, printed and serialized as `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The six octets.
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A string that is not a MAC address in `aa:bb:cc:dd:ee:ff` (or `-`-separated) form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a MAC address (aa:bb:cc:dd:ee:ff): {input:?}")]
pub struct MacAddrParseError {
    /// The text that failed to parse.
    pub input: String,
}

impl core::str::FromStr for MacAddr {
    type Err = MacAddrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacAddrParseError {
            input: s.to_owned(),
        };
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for slot in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 {
                return Err(err());
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_round_trip_at_nanosecond_precision() {
        let t = Timestamp::from_unix_nanos(1_700_000_000_123_456_789);
        let ntp = t.to_ntp().expect("in era 0");
        assert_eq!(ntp.to_timestamp(), t);
        assert_eq!(ntp.secs() as u64, 1_700_000_000 + NTP_UNIX_OFFSET_SECS);
    }

    /// Found by the `export_roundtrip` fuzz target: the way back truncated, so a time lost a
    /// nanosecond on every trip through dateTimeNanoseconds (…532 ms → …531999999 ns → …8).
    #[test]
    fn ntp_round_trip_is_exact_for_every_nanosecond() {
        let base = 1_700_000_000_000_000_000i64;
        let samples = (0..1_000_000i64)
            .map(|i| i * 1_000)
            .chain(0..1_000_000)
            .chain(999_000_000..1_000_000_000)
            .chain([532_000_000, 999_999_999]);
        for n in samples {
            let t = Timestamp::from_unix_nanos(base + n);
            assert_eq!(t.to_ntp().expect("era 0").to_timestamp(), t, "{n}");
        }
    }

    #[test]
    fn ntp_micros_ignores_low_fraction_bits() {
        let a = NtpTimestamp::new(3_900_000_000, 0x8000_0000);
        let b = NtpTimestamp::new(3_900_000_000, 0x8000_07ff);
        assert_eq!(a.to_timestamp_micros(), b.to_timestamp_micros());
        assert_eq!(a.to_timestamp_micros().subsec_nanos(), 500_000_000);
    }

    #[test]
    fn out_of_era_is_none() {
        assert_eq!(
            Timestamp::from_unix_nanos(-3_000_000_000_000_000_000).to_ntp(),
            None
        );
    }

    #[test]
    fn negative_times_floor() {
        let t = Timestamp::from_unix_nanos(-1);
        assert_eq!(t.unix_secs(), -1);
        assert_eq!(t.subsec_nanos(), 999_999_999);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::from_unix_nanos(1_714_564_800_123_456_789);
        assert_eq!(t.to_rfc3339(), "2024-05-01T12:00:00.123456789Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Ok(t));
        assert_eq!(
            Timestamp::from_unix_secs(0).to_rfc3339(),
            "1970-01-01T00:00:00Z"
        );
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn mac_display_and_parse() {
        let m = MacAddr([0, 0x1b, 0x21, 0xaa, 0xbb, 0xff]);
        assert_eq!(m.to_string(), "00:1b:21:aa:bb:ff");
        assert_eq!("00:1b:21:aa:bb:ff".parse(), Ok(m));
        assert_eq!("00-1B-21-AA-BB-FF".parse(), Ok(m));
        assert!("00:1b:21:aa:bb".parse::<MacAddr>().is_err());
        assert!("00:1b:21:aa:bb:ff:00".parse::<MacAddr>().is_err());
        assert!("0g:1b:21:aa:bb:ff".parse::<MacAddr>().is_err());
    }
}
