//! UTC timestamps written as RFC 3339 strings (`2024-05-01T12:00:00.123Z`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, always UTC, serialised as RFC 3339.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current time (UTC).
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
    }

    pub fn from_offset_date_time(t: OffsetDateTime) -> Timestamp {
        Timestamp(t.to_offset(time::UtcOffset::UTC))
    }

    pub fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }

    /// Parses an RFC 3339 string.
    pub fn parse(s: &str) -> Result<Timestamp, time::error::Parse> {
        OffsetDateTime::parse(s, &Rfc3339).map(Timestamp::from_offset_date_time)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            // Only years outside 0..=9999 fail to format; fall back to the unix time.
            Err(_) => write!(f, "@{}", self.0.unix_timestamp()),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s)
            .map_err(|e| serde::de::Error::custom(format!("invalid RFC 3339 time {s:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = Timestamp::parse("2024-05-01T12:00:00.5Z").unwrap();
        let j = serde_json::to_string(&t).unwrap();
        assert_eq!(j, "\"2024-05-01T12:00:00.5Z\"");
        let back: Timestamp = serde_json::from_str(&j).unwrap();
        assert_eq!(t, back);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
