//! Wall-clock helpers.

use std::time::{SystemTime, UNIX_EPOCH};

use time::macros::{format_description, offset};
use time::OffsetDateTime;

/// Milliseconds since the unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time (UTC+8), as Tencent Cloud shows times.
pub fn format_time(ms: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .map(|t| t.to_offset(offset!(+8)))
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "0000-00-00 00:00:00".to_string())
}

/// `YYYY-MM-DD HH:MM:SS UTC`, for messages to the user.
pub fn format_utc(ms: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "an unknown time".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_beijing_time() {
        assert_eq!(super::format_time(0), "1970-01-01 08:00:00");
        assert_eq!(super::format_time(1_700_000_000_123), "2023-11-15 06:13:20");
    }
}
