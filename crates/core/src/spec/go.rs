//! Small re-implementations of Go standard-library behaviour that KEDA's messages and checks depend
//! on: `%q` quoting, `strconv.ParseBool`, `strconv.ParseInt(s, 10, 32|64)`, `strconv.ParseFloat(s, 64)`,
//! `time.ParseDuration` and `schema.ParseGroupVersion`.

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.ParseBool`: `None` when the text is not one of Go's spellings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 10, 32)`, with Go's error text
/// (`strconv.ParseInt: parsing "x": invalid syntax` / `value out of range`).
pub fn parse_int32(s: &str) -> Result<i32, String> {
    parse_int(s)
}

/// Go's `strconv.ParseInt(s, 10, 64)`, with Go's error text (see [`parse_int32`]).
pub fn parse_int64(s: &str) -> Result<i64, String> {
    parse_int(s)
}

/// `strconv.ParseInt(s, 10, bits)` with `T` of that many bits: an optional sign, then decimal digits only.
fn parse_int<T: std::str::FromStr<Err = std::num::ParseIntError>>(s: &str) -> Result<T, String> {
    use std::num::IntErrorKind;
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            quote(s)
        ));
    }
    s.parse::<T>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
            format!("strconv.ParseInt: parsing {}: value out of range", quote(s))
        }
        _ => format!("strconv.ParseInt: parsing {}: invalid syntax", quote(s)),
    })
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal input, with Go's error text. Hexadecimal floats
/// and digit separators, which Go also accepts, are reported as invalid syntax here.
pub fn parse_float64(s: &str) -> Result<f64, String> {
    let syntax = || format!("strconv.ParseFloat: parsing {}: invalid syntax", quote(s));
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return s.parse::<f64>().map_err(|_| syntax());
    }
    // Rust accepts a few spellings Go does not (none in practice) and vice versa; require a
    // plain decimal literal: digits, an optional fraction, an optional exponent.
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return Err(syntax());
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(syntax());
        }
    }
    if i != bytes.len() {
        return Err(syntax());
    }
    let v = s.parse::<f64>().map_err(|_| syntax())?;
    if v.is_infinite() {
        return Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            quote(s)
        ));
    }
    Ok(v)
}

/// Go's `time.ParseDuration` (`[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units ns us µs μs ms s m h, or
/// `0`), in nanoseconds; `None` where Go returns an error.
pub fn parse_duration(orig: &str) -> Option<i64> {
    const LIMIT: u64 = 1 << 63;
    let mut s = orig;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        // The integer part.
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for d in s[..int_len].bytes() {
            if v > LIMIT / 10 {
                return None;
            }
            v = v * 10 + u64::from(d - b'0');
            if v > LIMIT {
                return None;
            }
        }
        let pre = int_len > 0;
        s = &s[int_len..];
        // The fraction.
        let mut frac: u64 = 0;
        let mut scale = 1.0_f64;
        let mut post = false;
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            let frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            post = frac_len > 0;
            let mut overflow = false;
            for d in s[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                if frac > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = frac * 10 + u64::from(d - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                frac = y;
                scale *= 10.0;
            }
            s = &s[frac_len..];
        }
        if !pre && !post {
            return None;
        }
        // The unit: everything up to the next digit or dot.
        let unit_len = s
            .bytes()
            .take_while(|&c| c != b'.' && !c.is_ascii_digit())
            .count();
        let unit: u64 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if frac > 0 {
            // Go converts the float product to uint64 the same way (truncation).
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return None;
            }
        }
        total += v;
        if total > LIMIT {
            return None;
        }
    }
    if neg {
        return Some((total as i64).wrapping_neg());
    }
    i64::try_from(total).ok()
}

/// `schema.ParseGroupVersion`: `(group, version)`, or Go's error text.
pub fn parse_group_version(gv: &str) -> Result<(String, String), String> {
    if gv.is_empty() || gv == "/" {
        return Ok((String::new(), String::new()));
    }
    match gv.matches('/').count() {
        0 => Ok((String::new(), gv.to_string())),
        1 => {
            let (g, v) = gv.split_once('/').unwrap_or((gv, ""));
            Ok((g.to_string(), v.to_string()))
        }
        _ => Err(format!("unexpected GroupVersion string: {gv}")),
    }
}

/// Go's `%v` for a JSON value as the API server prints a bad value in a field error: strings
/// quoted, numbers and booleans plain.
pub fn field_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => quote(s),
        serde_json::Value::Null => "null".to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Array(_) => "\"array\"".to_string(),
        serde_json::Value::Object(_) => "\"object\"".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_parses_them() {
        assert_eq!(parse_duration("42ms"), Some(42_000_000));
        assert_eq!(parse_duration("1h2m"), Some(3_720_000_000_000));
        assert_eq!(parse_duration("250µs"), Some(250_000));
        assert_eq!(parse_duration("+0"), Some(0));
        assert_eq!(parse_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_duration("5.s"), Some(5_000_000_000));
        assert_eq!(parse_duration("9223372036854775807ns"), Some(i64::MAX));
        assert_eq!(parse_duration("9223372036854775808ns"), None);
        assert_eq!(parse_duration("-9223372036854775808ns"), Some(i64::MIN));
        for bad in ["", "42", "3x", ".s", "1d", "-"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quoting_matches_go() {
        assert_eq!(quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(quote("\u{1}"), r#""\x01""#);
        assert_eq!(quote("héllo"), "\"héllo\"");
    }

    #[test]
    fn parse_int32_matches_go() {
        assert_eq!(parse_int32("5"), Ok(5));
        assert_eq!(parse_int32("+5"), Ok(5));
        assert_eq!(parse_int32("-0"), Ok(0));
        assert_eq!(
            parse_int32("not-a-number"),
            Err("strconv.ParseInt: parsing \"not-a-number\": invalid syntax".to_string())
        );
        assert_eq!(
            parse_int32("3000000000"),
            Err("strconv.ParseInt: parsing \"3000000000\": value out of range".to_string())
        );
        assert!(parse_int32("").is_err());
        assert!(parse_int32(" 5").is_err());
        assert_eq!(parse_int64("3000000000"), Ok(3_000_000_000));
        assert_eq!(
            parse_int64("9223372036854775808"),
            Err(
                "strconv.ParseInt: parsing \"9223372036854775808\": value out of range".to_string()
            )
        );
    }

    #[test]
    fn parse_float_matches_go() {
        assert_eq!(parse_float64("2"), Ok(2.0));
        assert_eq!(parse_float64(".5"), Ok(0.5));
        assert_eq!(parse_float64("5."), Ok(5.0));
        assert_eq!(parse_float64("1e3"), Ok(1000.0));
        assert!(parse_float64("NaN").is_ok_and(f64::is_nan));
        assert_eq!(parse_float64("-Inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(
            parse_float64("abc"),
            Err("strconv.ParseFloat: parsing \"abc\": invalid syntax".to_string())
        );
        assert_eq!(
            parse_float64("1e400"),
            Err("strconv.ParseFloat: parsing \"1e400\": value out of range".to_string())
        );
        assert!(parse_float64("").is_err());
        assert!(parse_float64("1e").is_err());
    }

    #[test]
    fn parse_bool_matches_go() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn group_version() {
        assert_eq!(
            parse_group_version("apps/v1"),
            Ok(("apps".into(), "v1".into()))
        );
        assert_eq!(parse_group_version("v1"), Ok(("".into(), "v1".into())));
        assert_eq!(
            parse_group_version("a/b/c"),
            Err("unexpected GroupVersion string: a/b/c".into())
        );
    }
}
