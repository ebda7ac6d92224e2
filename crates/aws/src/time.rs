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

fn digits(s: &str, what: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} {s:?} is not a number"));
    }
    s.parse()
        .map_err(|_| format!("{what} {s:?} is out of range"))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; a space or lower-case `t`/`z` is
/// accepted as in RFC 3339 §5.6. Errors describe what is wrong with the text.
pub(crate) fn parse_rfc3339(text: &str) -> Result<SystemTime, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not an RFC 3339 timestamp (like 2026-01-02T03:04:05Z)");
    if t.len() < 20 || !t.is_ascii() {
        return Err(bad());
    }
    let (date, rest) = t.split_at(10);
    let sep = rest.as_bytes()[0];
    if !matches!(sep, b'T' | b't' | b' ') {
        return Err(bad());
    }
    let rest = &rest[1..];
    let mut parts = date.split('-');
    let (Some(y), Some(mo), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if y.len() != 4 || mo.len() != 2 || d.len() != 2 || rest.len() < 9 {
        return Err(bad());
    }
    let year = i64::from(digits(y, "year")?);
    let month = digits(mo, "month")?;
    let day = digits(d, "day")?;
    let (hms, zone) = rest.split_at(8);
    let hb = hms.as_bytes();
    if hb[2] != b':' || hb[5] != b':' {
        return Err(bad());
    }
    let hour = digits(&hms[0..2], "hour")?;
    let minute = digits(&hms[3..5], "minute")?;
    let second = digits(&hms[6..8], "second")?;
    let mut zone = zone;
    let mut nanos = 0u32;
    if let Some(frac) = zone.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if end == 0 {
            return Err(bad());
        }
        let mut scaled = String::from(&frac[..end.min(9)]);
        while scaled.len() < 9 {
            scaled.push('0');
        }
        nanos = digits(&scaled, "fraction")?;
        zone = &frac[end..];
    }
    let offset_secs: i64 = match zone {
        "Z" | "z" => 0,
        _ if zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) => {
            if zone.as_bytes()[3] != b':' {
                return Err(bad());
            }
            let oh = i64::from(digits(&zone[1..3], "offset hour")?);
            let om = i64::from(digits(&zone[4..6], "offset minute")?);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return Err(bad()),
    };
    let month_len = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => return Err(format!("{t:?}: month {month} is out of range")),
    };
    if day == 0 || day > month_len || hour > 23 || minute > 59 || second > 60 {
        return Err(format!("{t:?}: date or time field out of range"));
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second)
        - offset_secs;
    let secs = u64::try_from(secs).map_err(|_| format!("{t:?} is before 1970"))?;
    Ok(UNIX_EPOCH + Duration::new(secs, nanos))
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
            "1969-12-31T23:59:59Z",
            "２015-08-30T12:36:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?} should be rejected");
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
