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
        self.rfc3339().as_str().to_owned()
    }
}

impl Timestamp {
    /// Formats as RFC 3339 in UTC (what [`to_rfc3339`](Self::to_rfc3339) returns, and the
    /// JSON form) on the stack: what a writer formatting many times uses, no allocation.
    pub fn rfc3339(self) -> Rfc3339 {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000) as u32;
        let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        // Days since 1970-01-01 to the proleptic Gregorian date (H. Hinnant's civil_from_days):
        // eras of 400 years starting on March 1st.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        // i64 nanoseconds span the years 1677-2262: always four digits.
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
        // Two digits of v (below 100), from a table.
        let d2 = |v: u32| two_digits(v as usize);
        let [y0, y1] = d2(year / 100);
        let [y2, y3] = d2(year % 100);
        let [mo0, mo1] = d2(month);
        let [d0, d1] = d2(day);
        let [h0, h1] = d2(of_day / 3_600);
        let [mi0, mi1] = d2(of_day / 60 % 60);
        let [s0, s1] = d2(of_day % 60);
        let n0 = b'0' + (nanos / 100_000_000) as u8;
        let [n1, n2] = d2(nanos / 1_000_000 % 100);
        let [n3, n4] = d2(nanos / 10_000 % 100);
        let [n5, n6] = d2(nanos / 100 % 100);
        let [n7, n8] = d2(nanos % 100);
        let mut buf = [
            y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0,
            s1, b'.', n0, n1, n2, n3, n4, n5, n6, n7, n8, b'Z',
        ];
        // Trailing zeros of the fraction are dropped, and the fraction with them when zero.
        let end = if nanos == 0 {
            19
        } else if nanos.is_multiple_of(1_000_000) {
            20 + 3 - trailing_zeros(nanos / 1_000_000)
        } else if nanos.is_multiple_of(1_000) {
            20 + 6 - trailing_zeros(nanos / 1_000)
        } else {
            20 + 9 - trailing_zeros(nanos)
        };
        if let Some(z) = buf.get_mut(end) {
            *z = b'Z';
        }
        Rfc3339 {
            buf,
            len: (end + 1) as u8,
        }
    }
}

#[cfg(feature = "serde")]
impl Timestamp {
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

/// "00" to "99", one after the other.
const DIGIT_PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// The two ASCII decimal digits of `v` (below 100; larger values give "00"): the table RFC 3339
/// times are formatted from, for writers that format many numbers.
#[inline(always)]
pub fn two_digits(v: usize) -> [u8; 2] {
    DIGIT_PAIRS
        .get(2 * v..)
        .and_then(|s| s.first_chunk::<2>())
        .copied()
        .unwrap_or(*b"00")
}

/// Decimal zeros at the end of `v` (not 0), up to 2: of a group of three fraction digits.
fn trailing_zeros(v: u32) -> usize {
    if v.is_multiple_of(100) {
        2
    } else if v.is_multiple_of(10) {
        1
    } else {
        0
    }
}

/// A [`Timestamp`] formatted as RFC 3339 in UTC (see [`Timestamp::rfc3339`]), held on the
/// stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339 {
    buf: [u8; 30],
    len: u8,
}

impl Rfc3339 {
    /// The text, e.g. `2024-05-01T12:00:00.5Z`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever written.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The text's octets (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The octets in a fixed-size array, of which the first [`len`](Self::len) count: a
    /// writer can copy all 30 and keep `len`, a copy of known size.
    pub fn padded(&self) -> &[u8; 30] {
        &self.buf
    }

    /// How many octets the text has (20 to 30).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
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
            f.write_str(self.rfc3339().as_str())
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

    /// The hand-written RFC 3339 form is the `time` crate's, over the whole i64 range.
    #[cfg(feature = "serde")]
    mod rfc3339 {
        use super::*;
        use proptest::prelude::*;
        use time::format_description::well_known::Rfc3339 as Spec;

        fn by_time_crate(nanos: i64) -> String {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
                .expect("in range")
                .format(&Spec)
                .expect("formats")
        }

        #[test]
        fn edges() {
            for n in [
                i64::MIN,
                i64::MAX,
                0,
                -1,
                1,
                999_999_999,
                -1_000_000_000,
                951_782_400_000_000_000,   // 2000-02-29
                4_107_542_400_000_000_000, // 2100-03-01
                1_700_000_000_500_000_000,
                1_700_000_000_000_000_010,
                -2_208_988_800_000_000_000, // 1900-01-01
            ] {
                assert_eq!(Timestamp(n).to_rfc3339(), by_time_crate(n), "{n}");
            }
        }

        proptest! {
            #[test]
            fn any_time(n in any::<i64>()) {
                prop_assert_eq!(Timestamp(n).to_rfc3339(), by_time_crate(n));
            }

            #[test]
            fn whole_seconds_and_millis(s in -9_000_000_000i64..9_000_000_000, ms in 0i64..1000) {
                let n = s * 1_000_000_000 + ms * 1_000_000;
                prop_assert_eq!(Timestamp(n).to_rfc3339(), by_time_crate(n));
            }
        }
    }

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
