//! Durations as scenario files and `prescale.dev/` annotations write them: a number of seconds, or a string
//! such as `15m`, `1h30m`, `2d`, `0.5s`.

/// A duration that must be more than zero (command-line flags such as `--duration`, `--timeout`,
/// `--lease-duration`), in the syntax of [`parse_duration_ms`].
pub fn parse_positive(s: &str) -> Result<std::time::Duration, String> {
    let ms = parse_duration_ms(s)?;
    if ms <= 0 {
        return Err(format!("duration {s:?} must be more than zero"));
    }
    Ok(std::time::Duration::from_millis(ms.unsigned_abs()))
}

/// Parse a duration string into milliseconds. Accepts a bare number (seconds) or a sequence of
/// `<number><unit>` with units `ms`, `s`, `m`, `h`, `d`.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_ms(secs);
    }
    let mut total: f64 = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return Err(format!(
                "invalid duration {s:?}: expected a number before {rest:?}"
            ));
        }
        let n: f64 = rest[..num_end]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let factor = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "" => {
                return Err(format!(
                    "invalid duration {s:?}: a unit (s, m, h, d) must follow {n}"
                ));
            }
            u => {
                return Err(format!(
                    "invalid duration {s:?}: unknown unit {u:?} (use ms, s, m, h or d)"
                ));
            }
        };
        total += n * factor;
    }
    secs_to_ms(total)
}

/// Seconds (possibly fractional) to whole milliseconds; negative and non-finite values are errors.
pub fn secs_to_ms(secs: f64) -> Result<i64, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{secs} is not a non-negative number of seconds"));
    }
    let ms = (secs * 1000.0).round();
    if ms > 9.0e15 {
        return Err(format!("{secs} seconds is too large"));
    }
    Ok(ms as i64)
}

/// Format milliseconds as seconds for output: `45`, `7.5`.
pub fn format_secs(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}", ms / 1000)
    } else {
        format!("{}", ms as f64 / 1000.0)
    }
}

/// Format milliseconds as a human duration: `15m`, `1h30m`, `27d14h`, `7.5s`.
pub fn format_human(ms: i64) -> String {
    if ms % 1000 != 0 {
        return format!("{}s", ms as f64 / 1000.0);
    }
    let mut s = ms / 1000;
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_durations_for_flags() {
        assert_eq!(
            parse_positive("500ms"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert_eq!(
            parse_positive("1h30m"),
            Ok(std::time::Duration::from_secs(5400))
        );
        assert_eq!(parse_positive("2"), Ok(std::time::Duration::from_secs(2)));
        for bad in ["0s", "0", "-1s", "soon", ""] {
            let err = parse_positive(bad).unwrap_err();
            assert!(err.contains(bad) || bad.is_empty(), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_numbers_and_units() {
        assert_eq!(parse_duration_ms("15"), Ok(15_000));
        assert_eq!(parse_duration_ms("0.5"), Ok(500));
        assert_eq!(parse_duration_ms("15s"), Ok(15_000));
        assert_eq!(parse_duration_ms("5m"), Ok(300_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("2d"), Ok(172_800_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("1.5m"), Ok(90_000));
    }

    #[test]
    fn rejects_bad_durations_with_the_value() {
        assert!(parse_duration_ms("").is_err());
        let e = parse_duration_ms("5x").unwrap_err();
        assert!(e.contains("\"5x\"") && e.contains("unknown unit"), "{e}");
        assert!(
            parse_duration_ms("m")
                .unwrap_err()
                .contains("expected a number")
        );
        assert!(parse_duration_ms("-3").is_err());
        assert!(parse_duration_ms("5").is_ok());
    }

    #[test]
    fn formats() {
        assert_eq!(format_secs(45_000), "45");
        assert_eq!(format_secs(7_500), "7.5");
        assert_eq!(format_human(900_000), "15m");
        assert_eq!(format_human(5_400_000), "1h30m");
        assert_eq!(format_human(0), "0s");
    }
}
