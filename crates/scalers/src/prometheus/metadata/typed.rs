//! The parts of KEDA's typed-config parser (`pkg/scalers/scalersconfig/typed_config.go`) the Prometheus
//! trigger uses: trimmed look-ups in an ordered list of sources, KEDA's error texts, and the value
//! parsers behind `setConfigValueHelper` (JSON numbers, `strconv.ParseBool`, durations, `k=v` maps,
//! comma lists, `url.ParseQuery`). Each returns the inner Go error text; the caller wraps it.

use std::collections::BTreeMap;

use prescale_core::spec::go;

/// A parameter source, as KEDA's `order=` tag names it (`ParsingOrder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    TriggerMetadata,
    AuthParams,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::TriggerMetadata => "triggerMetadata",
            Source::AuthParams => "authParams",
        }
    }
}

/// One parameter: its names (first is the main one, the rest aliases) and the sources to search.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub names: &'static [&'static str],
    pub order: &'static [Source],
}

impl Param {
    /// `Params.Name()`: the names joined with commas, as KEDA's messages print them.
    pub fn name(&self) -> String {
        self.names.join(",")
    }

    /// `setValue`'s message for a required parameter that is absent.
    pub fn missing(&self) -> String {
        let order: Vec<&str> = self.order.iter().map(|s| s.name()).collect();
        format!(
            "missing required parameter {} in [{}]",
            go::quote(&self.name()),
            order.join(" ")
        )
    }

    /// `setValue`'s wrapping of a value parser's error.
    pub fn unable_to_set(&self, value: &str, inner: &str) -> String {
        format!(
            "unable to set param {} value {}: {inner}",
            go::quote(&self.name()),
            go::quote(value)
        )
    }
}

/// The maps KEDA's `ScalerConfig` offers the typed parser.
pub(crate) struct Sources<'a> {
    pub metadata: &'a BTreeMap<String, String>,
    pub auth_params: &'a BTreeMap<String, String>,
}

impl Sources<'_> {
    /// Ports `configParamValue`: for each source in order, each name in order, the first value that is
    /// non-empty after trimming (Go's `strings.TrimSpace`, which trims the same set as Rust's `trim`).
    pub fn lookup(&self, param: &Param) -> Option<String> {
        for source in param.order {
            let map = match source {
                Source::TriggerMetadata => self.metadata,
                Source::AuthParams => self.auth_params,
            };
            for name in param.names {
                if let Some(v) = map.get(*name) {
                    let v = v.trim();
                    if !v.is_empty() {
                        return Some(v.to_string());
                    }
                }
            }
        }
        None
    }
}

/// Go's `%v` of a `[]string`.
pub(crate) fn go_list(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

/// How decoding a `float64` field through `json.Unmarshal` can fail.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonFloatError {
    /// A syntax or type error: Go's `encoding/json` message.
    Message(String),
    /// The literal `null`: KEDA's reflection then calls `Elem` on a zero `reflect.Value`, panics, and
    /// `TypedConfig` recovers the panic into its own error (which replaces every other error).
    NullPanic,
}

/// Ports the `json.Unmarshal` branch of `setConfigValueHelper` for `float64` fields: the text must be a
/// single JSON value; only a number in `float64` range is accepted.
pub(crate) fn json_float64(s: &str) -> Result<f64, JsonFloatError> {
    let msg = JsonFloatError::Message;
    check_json(s.as_bytes()).map_err(msg)?;
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let type_err = |what: &str| {
        Err(msg(format!(
            "json: cannot unmarshal {what} into Go value of type float64"
        )))
    };
    match t.as_bytes().first() {
        Some(b'n') => Err(JsonFloatError::NullPanic),
        Some(b't' | b'f') => type_err("bool"),
        Some(b'"') => type_err("string"),
        Some(b'[') => type_err("array"),
        Some(b'{') => type_err("object"),
        _ => match go::parse_float64(t) {
            Ok(v) => Ok(v),
            Err(_) => type_err(&format!("number {t}")),
        },
    }
}

/// Go's `quoteChar` in `encoding/json`'s scanner: a byte shown in single quotes.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        _ => {
            let ch = char::from(c);
            // Go's strconv.Quote escapes the non-printable Latin-1 characters NBSP and soft hyphen too.
            let q = if ch == '\u{a0}' || ch == '\u{ad}' {
                format!("\"\\u{:04x}\"", c)
            } else {
                go::quote(&ch.to_string())
            };
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

fn invalid(c: u8, context: &str) -> String {
    format!("invalid character {} {context}", quote_char(c))
}

const UNEXPECTED_END: &str = "unexpected end of JSON input";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// A JSON syntax check with the messages of Go's `encoding/json` scanner (`checkValid`), which runs
/// before any decoding.
fn check_json(b: &[u8]) -> Result<(), String> {
    let mut i = 0;
    skip_space(b, &mut i);
    value(b, &mut i, "looking for beginning of value")?;
    skip_space(b, &mut i);
    match b.get(i) {
        None => Ok(()),
        Some(&c) => Err(invalid(c, "after top-level value")),
    }
}

fn skip_space(b: &[u8], i: &mut usize) {
    while b.get(*i).is_some_and(|&c| is_space(c)) {
        *i += 1;
    }
}

/// The next byte inside a literal, number or escape. At the end of the input Go's scanner feeds one
/// space (`scanner.eof`), so an unfinished token reports `invalid character ' ' ...`.
fn next_or_space(b: &[u8], i: &mut usize) -> u8 {
    let c = b.get(*i).copied().unwrap_or(b' ');
    *i += 1;
    c
}

/// The next byte where a space would be skipped: the end of the input is "unexpected end".
fn next(b: &[u8], i: &mut usize) -> Result<u8, String> {
    let c = *b.get(*i).ok_or_else(|| UNEXPECTED_END.to_string())?;
    *i += 1;
    Ok(c)
}

/// One value starting at `b[i]` (no leading space); `begin` is the message for a bad first byte.
fn value(b: &[u8], i: &mut usize, begin: &str) -> Result<(), String> {
    let c = next(b, i)?;
    match c {
        b'{' => object(b, i),
        b'[' => array(b, i),
        b'"' => string(b, i),
        b'-' | b'0'..=b'9' => number(b, i, c),
        b't' => literal(b, i, "true"),
        b'f' => literal(b, i, "false"),
        b'n' => literal(b, i, "null"),
        _ => Err(invalid(c, begin)),
    }
}

fn literal(b: &[u8], i: &mut usize, word: &str) -> Result<(), String> {
    for &expected in &word.as_bytes()[1..] {
        let c = next_or_space(b, i);
        if c != expected {
            return Err(invalid(
                c,
                &format!("in literal {word} (expecting {})", quote_char(expected)),
            ));
        }
    }
    Ok(())
}

fn digits(b: &[u8], i: &mut usize) {
    while b.get(*i).is_some_and(u8::is_ascii_digit) {
        *i += 1;
    }
}

/// A number whose first byte `first` was consumed. The byte that ends it is left for the caller, whose
/// state reports it (e.g. "after top-level value").
fn number(b: &[u8], i: &mut usize, first: u8) -> Result<(), String> {
    let mut lead = first;
    if lead == b'-' {
        lead = next_or_space(b, i);
        if !lead.is_ascii_digit() {
            return Err(invalid(lead, "in numeric literal"));
        }
    }
    if lead != b'0' {
        digits(b, i);
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        let c = next_or_space(b, i);
        if !c.is_ascii_digit() {
            return Err(invalid(c, "after decimal point in numeric literal"));
        }
        digits(b, i);
    }
    if matches!(b.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        let mut c = next_or_space(b, i);
        if c == b'+' || c == b'-' {
            c = next_or_space(b, i);
        }
        if !c.is_ascii_digit() {
            return Err(invalid(c, "in exponent of numeric literal"));
        }
        digits(b, i);
    }
    Ok(())
}

fn string(b: &[u8], i: &mut usize) -> Result<(), String> {
    loop {
        let c = next(b, i)?;
        match c {
            b'"' => return Ok(()),
            b'\\' => {
                let e = next_or_space(b, i);
                match e {
                    b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {}
                    b'u' => {
                        for _ in 0..4 {
                            let h = next_or_space(b, i);
                            if !h.is_ascii_hexdigit() {
                                return Err(invalid(h, "in \\u hexadecimal character escape"));
                            }
                        }
                    }
                    _ => return Err(invalid(e, "in string escape code")),
                }
            }
            c if c < 0x20 => return Err(invalid(c, "in string literal")),
            _ => {}
        }
    }
}

fn array(b: &[u8], i: &mut usize) -> Result<(), String> {
    skip_space(b, i);
    if b.get(*i) == Some(&b']') {
        *i += 1;
        return Ok(());
    }
    loop {
        skip_space(b, i);
        value(b, i, "looking for beginning of value")?;
        skip_space(b, i);
        match next(b, i)? {
            b',' => {}
            b']' => return Ok(()),
            c => return Err(invalid(c, "after array element")),
        }
    }
}

fn object(b: &[u8], i: &mut usize) -> Result<(), String> {
    skip_space(b, i);
    if b.get(*i) == Some(&b'}') {
        *i += 1;
        return Ok(());
    }
    loop {
        skip_space(b, i);
        let c = next(b, i)?;
        if c != b'"' {
            return Err(invalid(c, "looking for beginning of object key string"));
        }
        string(b, i)?;
        skip_space(b, i);
        let c = next(b, i)?;
        if c != b':' {
            return Err(invalid(c, "after object key"));
        }
        skip_space(b, i);
        value(b, i, "looking for beginning of value")?;
        skip_space(b, i);
        match next(b, i)? {
            b',' => {}
            b'}' => return Ok(()),
            c => return Err(invalid(c, "after object key:value pair")),
        }
    }
}

/// Ports the `strconv.ParseBool` branch of `setConfigValueHelper`.
pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    go::parse_bool(s).ok_or_else(|| {
        format!(
            "unable to parse boolean value {}: strconv.ParseBool: parsing {}: invalid syntax",
            go::quote(s),
            go::quote(s)
        )
    })
}

/// Ports the `time.Duration` branch of `setConfigValueHelper`: Go's `time.ParseDuration` first; if that
/// fails, an integer number of milliseconds. Negative values are errors. Returns nanoseconds; the
/// millisecond product wraps on overflow as Go's `time.Duration(ms) * time.Millisecond` does.
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    if let Some(d) = go::parse_duration(s) {
        if d < 0 {
            return Err(format!("duration cannot be negative: {}", go::quote(s)));
        }
        return Ok(d);
    }
    let ms = go::parse_int64(s).map_err(|_| {
        format!(
            "unable to parse duration value {}: must be either a duration string (e.g. '30s', '5m') or a number of milliseconds",
            go::quote(s)
        )
    })?;
    if ms < 0 {
        return Err(format!("duration cannot be negative: {ms} milliseconds"));
    }
    Ok(ms.wrapping_mul(1_000_000))
}

/// Ports `setConfigValueMap` for `map[string]string`: comma-separated items, each trimmed and split on
/// `=` into exactly two parts (so a value containing `=` fails); key and value trimmed. A repeated key
/// keeps its first position and takes the last value (Go's map assignment; Go's map itself has no
/// order, prescale keeps the given one).
pub(crate) fn parse_map(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        let parts: Vec<&str> = item.split('=').collect();
        let [key, val] = parts.as_slice() else {
            return Err(format!(
                "expected format key=value, got {}",
                go::quote(item)
            ));
        };
        let (key, val) = (key.trim().to_string(), val.trim().to_string());
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = val,
            None => out.push((key, val)),
        }
    }
    Ok(out)
}

/// Ports `setConfigValueSlice` for `[]string`: comma-separated, each element trimmed (empty elements
/// kept).
pub(crate) fn parse_list(s: &str) -> Vec<String> {
    s.split(',').map(|e| e.trim().to_string()).collect()
}

/// Ports `setConfigValueURLParams` (Go's `url.ParseQuery`): `&`-separated `key=value` pairs, each
/// query-unescaped; a `;` in a pair or a bad `%` escape is an error (the first one is reported, as Go
/// does). Pairs are returned in order, repeated keys included.
pub(crate) fn parse_url_query(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut first_err: Option<String> = None;
    for pair in s.split('&') {
        if pair.is_empty() {
            continue;
        }
        if pair.contains(';') {
            first_err.get_or_insert_with(|| "invalid semicolon separator in query".to_string());
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = match query_unescape(k) {
            Ok(k) => k,
            Err(e) => {
                first_err.get_or_insert(e);
                continue;
            }
        };
        let v = match query_unescape(v) {
            Ok(v) => v,
            Err(e) => {
                first_err.get_or_insert(e);
                continue;
            }
        };
        out.push((k, v));
    }
    match first_err {
        Some(e) => Err(format!(
            "expected url.Values, unable to parse query {}: {e}",
            go::quote(s)
        )),
        None => Ok(out),
    }
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; a bad escape is
/// `invalid URL escape "<up to 3 bytes>"`.
fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let ok =
                    i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
                if !ok {
                    let end = (i + 3).min(b.len());
                    let bad = String::from_utf8_lossy(&b[i..end]);
                    return Err(format!("invalid URL escape {}", go::quote(&bad)));
                }
                let hex = |c: u8| match c {
                    b'0'..=b'9' => c - b'0',
                    b'a'..=b'f' => c - b'a' + 10,
                    _ => c - b'A' + 10,
                };
                out.push(hex(b[i + 1]) << 4 | hex(b[i + 2]));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jerr(s: &str) -> String {
        match json_float64(s) {
            Err(JsonFloatError::Message(m)) => m,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn json_numbers() {
        assert_eq!(json_float64("100"), Ok(100.0));
        assert_eq!(json_float64("100.50"), Ok(100.5));
        assert_eq!(json_float64("1e3"), Ok(1000.0));
        assert_eq!(json_float64("-0.5E-1"), Ok(-0.05));
        assert_eq!(json_float64("null"), Err(JsonFloatError::NullPanic));
        assert_eq!(
            jerr("one"),
            "invalid character 'o' looking for beginning of value"
        );
        assert_eq!(jerr("01"), "invalid character '1' after top-level value");
        assert_eq!(
            jerr("+1"),
            "invalid character '+' looking for beginning of value"
        );
        assert_eq!(
            jerr(".5"),
            "invalid character '.' looking for beginning of value"
        );
        assert_eq!(
            jerr("1."),
            "invalid character ' ' after decimal point in numeric literal"
        );
        assert_eq!(jerr("-"), "invalid character ' ' in numeric literal");
        assert_eq!(jerr("\"abc"), UNEXPECTED_END);
        assert_eq!(jerr("[1,"), UNEXPECTED_END);
        assert_eq!(
            jerr("1.x"),
            "invalid character 'x' after decimal point in numeric literal"
        );
        assert_eq!(
            jerr("1ex"),
            "invalid character 'x' in exponent of numeric literal"
        );
        assert_eq!(jerr("-a"), "invalid character 'a' in numeric literal");
        assert_eq!(jerr("1 2"), "invalid character '2' after top-level value");
        assert_eq!(
            jerr("nul"),
            "invalid character ' ' in literal null (expecting 'l')"
        );
        assert_eq!(
            jerr("nox"),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(
            jerr("true"),
            "json: cannot unmarshal bool into Go value of type float64"
        );
        assert_eq!(
            jerr("\"1\""),
            "json: cannot unmarshal string into Go value of type float64"
        );
        assert_eq!(
            jerr("[1, 2]"),
            "json: cannot unmarshal array into Go value of type float64"
        );
        assert_eq!(
            jerr("{\"a\": 1}"),
            "json: cannot unmarshal object into Go value of type float64"
        );
        assert_eq!(jerr("[1 2]"), "invalid character '2' after array element");
        assert_eq!(
            jerr("{1}"),
            "invalid character '1' looking for beginning of object key string"
        );
        assert_eq!(
            jerr("\"a\\x\""),
            "invalid character 'x' in string escape code"
        );
        assert_eq!(
            jerr("1e400"),
            "json: cannot unmarshal number 1e400 into Go value of type float64"
        );
        assert_eq!(
            jerr("'1'"),
            "invalid character '\\'' looking for beginning of value"
        );
        assert_eq!(
            jerr("\"a\tb\""),
            "invalid character '\\t' in string literal"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1000"), Ok(1_000_000_000));
        assert_eq!(parse_duration("30s"), Ok(30_000_000_000));
        assert_eq!(parse_duration("1.5m"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1h2m3.5s"), Ok(3_723_500_000_000));
        assert_eq!(parse_duration("250\u{b5}s"), Ok(250_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0s"), Ok(0));
        assert_eq!(
            parse_duration("-1"),
            Err("duration cannot be negative: -1 milliseconds".to_string())
        );
        assert_eq!(
            parse_duration("-1s"),
            Err("duration cannot be negative: \"-1s\"".to_string())
        );
        assert!(
            parse_duration("a")
                .is_err_and(|e| e.starts_with("unable to parse duration value \"a\""))
        );
        assert!(parse_duration("1.5").is_err());
        assert!(parse_duration("10d").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn maps_and_queries() {
        assert_eq!(
            parse_map(" a = 1 , b=2,a=3"),
            Ok(vec![("a".into(), "3".into()), ("b".into(), "2".into())])
        );
        assert_eq!(
            parse_map("a=b=c"),
            Err("expected format key=value, got \"a=b=c\"".into())
        );
        assert_eq!(
            parse_map("a=1,"),
            Err("expected format key=value, got \"\"".into())
        );
        assert_eq!(parse_map("=v"), Ok(vec![(String::new(), "v".into())]));
        assert_eq!(
            parse_url_query("a=1+2&b=%41&&c"),
            Ok(vec![
                ("a".into(), "1 2".into()),
                ("b".into(), "A".into()),
                ("c".into(), String::new())
            ])
        );
        assert_eq!(
            parse_url_query("a=%zz1&b;c"),
            Err("expected url.Values, unable to parse query \"a=%zz1&b;c\": invalid URL escape \"%zz\"".into())
        );
        assert_eq!(
            parse_url_query("b;c&a=%4"),
            Err("expected url.Values, unable to parse query \"b;c&a=%4\": invalid semicolon separator in query".into())
        );
    }
}
