//! RFC 3339 timestamps (the `Expiration` of STS, IMDS and container credentials).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T` may be `t` or a space, `Z` `z`).
pub fn parse_rfc3339(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    let bad =
        |why: &str| format!("{text:?} is not an RFC 3339 time such as 2026-11-28T10:00:00Z: {why}");
    let b = text.as_bytes();
    let num = |from: usize, len: usize, what: &str| -> Result<i64, String> {
        let part = b
            .get(from..from + len)
            .filter(|p| p.iter().all(u8::is_ascii_digit))
            .ok_or_else(|| bad(&format!("expected {len} digits for the {what}")))?;
        Ok(part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let expect = |at: usize, chars: &[u8], what: &str| -> Result<(), String> {
        match b.get(at) {
            Some(c) if chars.contains(c) => Ok(()),
            _ => Err(bad(&format!("expected {what} at position {}", at + 1))),
        }
    };
    let year = num(0, 4, "year")?;
    expect(4, b"-", "'-'")?;
    let month = num(5, 2, "month")?;
    expect(7, b"-", "'-'")?;
    let day = num(8, 2, "day")?;
    expect(10, b"Tt ", "'T'")?;
    let hour = num(11, 2, "hour")?;
    expect(13, b":", "':'")?;
    let minute = num(14, 2, "minute")?;
    expect(16, b":", "':'")?;
    let second = num(17, 2, "second")?;
    if !(1..=12).contains(&month) {
        return Err(bad(&format!("month {month} is not 01 to 12")));
    }
    if !(1..=days_in_month(year, month)).contains(&day) {
        return Err(bad(&format!("day {day} is not in {year}-{month:02}")));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad(&format!(
            "{hour:02}:{minute:02}:{second:02} is not a time of day"
        )));
    }
    let mut at = 19;
    let mut nanos = 0i64;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 9 {
            return Err(bad("expected 1 to 9 digits after '.'"));
        }
        let frac = num(at + 1, digits, "fraction")?;
        nanos = frac * 10i64.pow(9 - digits as u32);
        at += 1 + digits;
    }
    let offset_s = match b.get(at) {
        Some(b'Z' | b'z') if b.len() == at + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == at + 6 => {
            let oh = num(at + 1, 2, "offset hours")?;
            expect(at + 3, b":", "':' in the offset")?;
            let om = num(at + 4, 2, "offset minutes")?;
            if oh > 23 || om > 59 {
                return Err(bad(&format!("offset {oh:02}:{om:02} is out of range")));
            }
            let s = oh * 3600 + om * 60;
            if *sign == b'-' { -s } else { s }
        }
        _ => return Err(bad("expected Z or an offset such as +01:00 after the time")),
    };
    let secs = days_from_civil(year, month as u32, day as u32) * 86_400
        + hour * 3600
        + minute * 60
        + second
        - offset_s;
    let d = Duration::new(secs.unsigned_abs(), 0);
    let whole = if secs >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    };
    whole
        .and_then(|t| t.checked_add(Duration::from_nanos(nanos.unsigned_abs())))
        .ok_or_else(|| bad("out of range"))
}

/// `YYYY-MM-DDTHH:MM:SSZ` (seconds precision, UTC).
pub(crate) fn format_rfc3339(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_fraction_and_offsets() {
        let base = parse_rfc3339("2015-08-30T12:36:00Z").unwrap();
        assert_eq!(base, UNIX_EPOCH + Duration::from_secs(1_440_938_160));
        assert_eq!(
            parse_rfc3339("2015-08-30T12:36:00.250Z").unwrap(),
            base + Duration::from_millis(250)
        );
        assert_eq!(parse_rfc3339("2015-08-30T14:36:00+02:00").unwrap(), base);
        assert_eq!(parse_rfc3339("2015-08-30T11:36:00-01:00").unwrap(), base);
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z").unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_709_164_800)
        );
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2015-08-30",
            "2015-08-30T12:36:00",
            "2015-13-30T12:36:00Z",
            "2023-02-29T00:00:00Z",
            "2015-08-30T25:00:00Z",
            "2015-08-30T12:36:00+0200",
            "2015-08-30T12:36:00.Z",
            "abcd-08-30T12:36:00Z",
            "2015-08-30T12:36:00Zjunk",
            "２015-08-30T12:36:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rfc3339_errors_say_what_is_wrong() {
        let cases = [
            ("2023-02-29T00:00:00Z", "day 29 is not in 2023-02"),
            ("2026-13-01T00:00:00Z", "month 13 is not 01 to 12"),
            ("2026-04-31T00:00:00Z", "day 31 is not in 2026-04"),
            ("2026-11-28T24:00:00Z", "24:00:00 is not a time of day"),
            ("2026-11-28T10:60:00Z", "10:60:00 is not a time of day"),
            ("2026-11-28T10:00:00", "expected Z or an offset"),
            ("2026-11-28T10:00:00+0100", "expected Z or an offset"),
            ("2026-11-28T10:00:00Zjunk", "expected Z or an offset"),
            ("2026-11-28T10:00:00.Z", "expected 1 to 9 digits after '.'"),
            ("2026-11-28T10:00:00.0000000001Z", "expected 1 to 9 digits"),
            ("2026-11-28T10:00:00+24:00", "offset 24:00 is out of range"),
            ("2026-11-28", "expected 'T' at position 11"),
            ("2026-1-28T10:00:00Z", "expected 2 digits for the month"),
            ("2026-11-28T1a:00:00Z", "expected 2 digits for the hour"),
        ];
        for (text, expected) in cases {
            let err = parse_rfc3339(text).unwrap_err();
            assert!(
                err.starts_with(&format!("{text:?} is not an RFC 3339 time"))
                    && err.contains(expected),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2026-12-31T08:07:06Z",
        ] {
            assert_eq!(format_rfc3339(parse_rfc3339(s).unwrap()), s);
        }
    }
}
