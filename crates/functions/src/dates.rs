//! Time functions over RFC 3339 timestamps (`formatdate`, `timeadd`, `timecmp`), and the
//! impure functions tunnelform refuses (`timestamp`, `plantimestamp`, `uuid`, `bcrypt`).

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};
use tunnelform_model::Value;
use tunnelform_syntax::BSpan;

use super::call::Call;
use crate::error::{error, EResult, WithHelp};

fn parse_ts(c: &Call<'_>, (v, span): (&Value, BSpan)) -> EResult<OffsetDateTime> {
    let s = c.str((v, span))?;
    OffsetDateTime::parse(&s, &Rfc3339).map_err(|_| {
        c.err(span, format!("{s:?} is not a valid RFC 3339 timestamp"))
            .help(
                "write a timestamp like \"2024-03-01T12:00:00Z\" or \"2024-03-01T12:00:00+08:00\"",
            )
    })
}

/// RFC 3339 as Go's `time.RFC3339` writes it: whole seconds, `Z` for UTC.
fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

/// Go's `time.ParseDuration`: a sequence of decimal numbers with units `ns`, `us`/`µs`, `ms`,
/// `s`, `m`, `h`, optionally signed (`"1h30m"`, `"-2.5s"`).
fn parse_duration(s: &str) -> Option<Duration> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n = rest
            .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|ch: char| ch.is_ascii_digit() || ch == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += num * unit;
    }
    if !total.is_finite() || total.abs() > 9.2e9 {
        return None;
    }
    let d = Duration::seconds_f64(total);
    Some(if neg { -d } else { d })
}

pub(super) fn timeadd(c: &Call<'_>) -> EResult<Value> {
    let t = parse_ts(c, c.arg(0))?;
    let (dv, dspan) = c.arg(1);
    let ds = c.str((dv, dspan))?;
    let d = parse_duration(&ds).ok_or_else(|| {
        c.err(dspan, format!("{ds:?} is not a valid duration"))
            .help(
            "a duration is numbers with units ns, us, ms, s, m or h, such as \"1h30m\" or \"-10s\"",
        )
    })?;
    let out = t
        .checked_add(d)
        .ok_or_else(|| c.err(dspan, "the resulting time is out of range"))?;
    Ok(Value::string(rfc3339(out)))
}

pub(super) fn timecmp(c: &Call<'_>) -> EResult<Value> {
    let a = parse_ts(c, c.arg(0))?;
    let b = parse_ts(c, c.arg(1))?;
    Ok(Value::int(match a.cmp(&b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn offset_text(o: UtcOffset, colon: bool, z_for_utc: bool) -> String {
    if z_for_utc && o.is_utc() {
        return "Z".into();
    }
    let secs = o.whole_seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// `formatdate(spec, timestamp)` with Terraform's format sequences (`YYYY`, `MMM`, `DD`, `EEE`,
/// `hh`, `mm`, `ss`, `ZZZZZ`, `'literal'`...).
pub(super) fn formatdate(c: &Call<'_>) -> EResult<Value> {
    let (sv, sspan) = c.arg(0);
    let spec = c.str((sv, sspan))?;
    let t = parse_ts(c, c.arg(1))?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch == '\'' {
            // A quoted literal; '' is one quote.
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i = j + 1;
                continue;
            }
            let mut lit = String::new();
            loop {
                match chars.get(j) {
                    None => {
                        return Err(c.err(
                            sspan,
                            "the format has an unterminated literal: a ' is not closed",
                        ))
                    }
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        lit.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(x) => {
                        lit.push(*x);
                        j += 1;
                    }
                }
            }
            out.push_str(&lit);
            i = j + 1;
            continue;
        }
        if !ch.is_ascii_alphabetic() {
            out.push(ch);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&ch) {
            n += 1;
        }
        let seq: String = chars[i..i + n].iter().collect();
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let piece = match seq.as_str() {
            "YYYY" => format!("{:04}", t.year()),
            "YY" => format!("{:02}", t.year().rem_euclid(100)),
            "MMMM" => MONTHS[t.month() as usize - 1].to_string(),
            "MMM" => MONTHS[t.month() as usize - 1][..3].to_string(),
            "MM" => format!("{:02}", t.month() as u8),
            "M" => format!("{}", t.month() as u8),
            "DD" => format!("{:02}", t.day()),
            "D" => format!("{}", t.day()),
            "EEEE" => DAYS[t.weekday().number_days_from_monday() as usize].to_string(),
            "EEE" => DAYS[t.weekday().number_days_from_monday() as usize][..3].to_string(),
            "hh" => format!("{:02}", t.hour()),
            "h" => format!("{}", t.hour()),
            "HH" => format!("{hour12:02}"),
            "H" => format!("{hour12}"),
            "AA" => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            "aa" => (if t.hour() < 12 { "am" } else { "pm" }).to_string(),
            "mm" => format!("{:02}", t.minute()),
            "m" => format!("{}", t.minute()),
            "ss" => format!("{:02}", t.second()),
            "s" => format!("{}", t.second()),
            "ZZZZZ" => offset_text(t.offset(), true, false),
            "ZZZZ" => offset_text(t.offset(), false, false),
            "ZZZ" => {
                if t.offset().is_utc() {
                    "UTC".into()
                } else {
                    offset_text(t.offset(), false, false)
                }
            }
            "Z" => offset_text(t.offset(), true, true),
            other => {
                return Err(c
                    .err(sspan, format!("invalid date format sequence {other:?}"))
                    .help("put literal letters in single quotes, like 'T'"))
            }
        };
        out.push_str(&piece);
        i += n;
    }
    Ok(Value::string(out))
}

/// A refused impure function: its result would change on every run, so no plan would settle.
pub(super) fn impure(c: &Call<'_>) -> EResult<Value> {
    let help = match c.name {
        "uuid" => "use uuidv5(namespace, name) for a stable identifier, or pass one in as a variable",
        "bcrypt" => "hash the password outside tunnelform and pass the hash in as a sensitive variable",
        _ => "pass the time in as a variable (for example -var='now=...'), or use a fixed timestamp with timeadd()",
    };
    Err(error(format!("{}() is not supported", c.name), c.span)
        .detail(format!(
            "{}() gives a different result on every run; tunnelform refuses impure functions so that a configuration plans the same every time",
            c.name
        ))
        .help(help))
}

/// A pure function of Terraform's that tunnelform does not provide.
pub(super) fn unsupported(c: &Call<'_>) -> EResult<Value> {
    let why = match c.name {
        "rsadecrypt" => "decrypting with an RSA private key kept in the configuration is not supported; decrypt the value outside tunnelform and pass it in as a sensitive variable",
        _ => "this function is not provided by tunnelform",
    };
    Err(error(format!("{}() is not supported", c.name), c.span).detail(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("-2.5s"), Some(Duration::milliseconds(-2500)));
        assert_eq!(parse_duration("300ms"), Some(Duration::milliseconds(300)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
    }
}
