//! ho11y's configuration, read from the environment with ho11y's variable names and semantics.
//!
//! One deliberate difference: where ho11y silently falls back (an unparsable `HO11Y_CUTOFF_TPS` turns throttling
//! off; an unparsable `DUMMY` size or duration becomes 0; a `DUMMY` with fewer than three fields panics the request),
//! this reimplementation refuses to start with an [`Error`] naming the variable and the value.

use std::time::Duration;

use crate::Error;

/// Number of downstream slots (`DOWNSTREAM0` … `DOWNSTREAM4`).
pub const DOWNSTREAM_SLOTS: usize = 5;

/// Default OTLP endpoint of ho11y (only logged: OTLP export is not implemented).
pub const DEFAULT_OTLP_ENDPOINT: &str = "0.0.0.0:55680";

/// Default `service.name`.
pub const DEFAULT_SERVICE_NAME: &str = "ho11y-svc";

/// Where the JSON logs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDest {
    Stdout,
    Stderr,
}

/// One configured downstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downstream {
    /// `DUMMY:<size>:<duration>`: sleep `latency`, report `size` bytes.
    Dummy {
        raw: String,
        size: u64,
        latency: Duration,
    },
    /// An HTTP URL, fetched with GET.
    Url { raw: String },
}

impl Downstream {
    /// The raw environment value (the `downstream` label of `ho11y_downstream_payload_bytes`).
    pub fn raw(&self) -> &str {
        match self {
            Downstream::Dummy { raw, .. } | Downstream::Url { raw } => raw,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Port to listen on (all local IPs); 0 = any free port (ho11y's empty `HO11Y_PORT`).
    pub port: u16,
    pub log_dest: LogDest,
    pub inject_failure: bool,
    /// Throttling cut-off in requests per second, when enabled.
    pub cutoff_tps: Option<i64>,
    /// Slots 0..4 in order; `None` for unused ones.
    pub downstreams: Vec<Option<Downstream>>,
    /// OpenMetrics negotiation enabled (`DISABLE_OM` absent).
    pub open_metrics: bool,
    pub service_name: String,
    pub otlp_endpoint: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup` (`None` = variable absent).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let port = match lookup("HO11Y_PORT") {
            None => 8765,
            Some(v) if v.is_empty() => 0,
            Some(v) => v.parse::<u16>().map_err(|_| Error::Env {
                var: "HO11Y_PORT".into(),
                value: v.clone(),
                reason: "expected a TCP port number (0-65535) or empty".into(),
            })?,
        };
        let log_dest = match lookup("HO11Y_LOG_DEST").as_deref() {
            Some("stdout") => LogDest::Stdout,
            _ => LogDest::Stderr,
        };
        let inject_failure = lookup("HO11Y_INJECT_FAILURE").is_some_and(|v| !v.is_empty());
        let cutoff_tps = match lookup("HO11Y_CUTOFF_TPS") {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| Error::Env {
                var: "HO11Y_CUTOFF_TPS".into(),
                value: v.clone(),
                reason: "expected an integer (requests per second)".into(),
            })?),
        };
        let mut downstreams = Vec::with_capacity(DOWNSTREAM_SLOTS);
        for i in 0..DOWNSTREAM_SLOTS {
            let var = format!("DOWNSTREAM{i}");
            downstreams.push(match lookup(&var) {
                Some(v) if !v.is_empty() => Some(parse_downstream(&var, &v)?),
                _ => None,
            });
        }
        let open_metrics = lookup("DISABLE_OM").is_none();
        let service_name = lookup("OTEL_RESOURCE_ATTRIB")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_string());
        let otlp_endpoint = lookup("OTEL_EXPORTER_OTLP_ENDPOINT")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_OTLP_ENDPOINT.to_string());
        Ok(Config {
            port,
            log_dest,
            inject_failure,
            cutoff_tps,
            downstreams,
            open_metrics,
            service_name,
            otlp_endpoint,
        })
    }
}

fn env_err(var: &str, value: &str, reason: impl Into<String>) -> Error {
    Error::Env {
        var: var.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Parses one `DOWNSTREAMi` value: `DUMMY…` (ho11y matches the prefix) or an http(s) URL.
pub fn parse_downstream(var: &str, v: &str) -> Result<Downstream, Error> {
    if v.starts_with("DUMMY") {
        let fields: Vec<&str> = v.split(':').collect();
        if fields.len() < 3 {
            return Err(env_err(
                var,
                v,
                "expected DUMMY:<size>:<duration>, e.g. DUMMY:187kB:42ms",
            ));
        }
        let size = parse_size(fields[1])
            .map_err(|r| env_err(var, v, format!("size {:?}: {r}", fields[1])))?;
        let latency = parse_go_duration(fields[2])
            .map_err(|r| env_err(var, v, format!("duration {:?}: {r}", fields[2])))?;
        return Ok(Downstream::Dummy {
            raw: v.to_string(),
            size,
            latency,
        });
    }
    let url = reqwest::Url::parse(v).map_err(|e| {
        env_err(
            var,
            v,
            format!("not a URL nor DUMMY:<size>:<duration>: {e}"),
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(env_err(var, v, "URL scheme must be http or https"));
    }
    Ok(Downstream::Url { raw: v.to_string() })
}

/// A byte size in ho11y's syntax: an integer with an optional unit; units are binary and case-insensitive
/// (`k`/`kb`/`kilobyte` = 1024, `m`/`mb`/`megabyte` = 1024², … up to `e`/`eb`/`exabyte`); `Kb`-style bit units are
/// rejected. `187kB` = 191 488.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits_end);
    if num.is_empty() {
        return Err(
            "expected an integer number of bytes with an optional unit (B, kB, MB, GB, TB, PB, EB)"
                .into(),
        );
    }
    let n: u64 = num.parse().map_err(|_| "number too large".to_string())?;
    let unit = unit.trim();
    let uc: Vec<char> = unit.chars().collect();
    if uc.len() == 2 && uc[1] == 'b' && uc[0].is_ascii_uppercase() {
        return Err(format!("{unit:?} is a bit unit; use bytes (e.g. kB)"));
    }
    let exp = match unit.to_ascii_lowercase().as_str() {
        "" | "b" | "byte" | "bytes" => 0,
        "k" | "kb" | "kilo" | "kilobyte" | "kilobytes" => 1,
        "m" | "mb" | "mega" | "megabyte" | "megabytes" => 2,
        "g" | "gb" | "giga" | "gigabyte" | "gigabytes" => 3,
        "t" | "tb" | "tera" | "terabyte" | "terabytes" => 4,
        "p" | "pb" | "peta" | "petabyte" | "petabytes" => 5,
        "e" | "eb" | "exa" | "exabyte" | "exabytes" => 6,
        _ => return Err(format!("unknown unit {unit:?}")),
    };
    n.checked_mul(1u64 << (10 * exp))
        .ok_or_else(|| "size too large".to_string())
}

/// A duration in Go's `time.ParseDuration` syntax (`42ms`, `1.5s`, `1h2m`, `0`); negative durations are
/// rejected.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    match prescale_core::spec::go::parse_duration(s) {
        Some(ns) if ns < 0 => Err("negative duration".into()),
        Some(ns) => Ok(Duration::from_nanos(ns.unsigned_abs())),
        None => Err(format!(
            "not a Go duration (a number and a unit ns, us, ms, s, m or h, e.g. 42ms, 1h2m): {s:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_binary_and_case_insensitive() {
        assert_eq!(parse_size("187kB"), Ok(191_488));
        assert_eq!(parse_size("13kB"), Ok(13_312));
        assert_eq!(parse_size("13KB"), Ok(13_312));
        assert_eq!(parse_size("2m"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("1Kb").is_err());
        assert!(parse_size("1.5kB").is_err());
        assert!(parse_size("kB").is_err());
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("42ms"), Ok(Duration::from_millis(42)));
        assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("1h2m"), Ok(Duration::from_secs(3720)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("250us"), Ok(Duration::from_micros(250)));
        assert!(parse_go_duration("42").is_err());
        assert!(parse_go_duration("-1s").is_err());
        assert!(parse_go_duration("3x").is_err());
    }

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_presence_semantics() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.port, 8765);
        assert!(c.open_metrics && !c.inject_failure && c.cutoff_tps.is_none());
        assert_eq!(c.service_name, "ho11y-svc");
        let c = cfg(&[
            ("HO11Y_PORT", ""),
            ("DISABLE_OM", ""),
            ("HO11Y_INJECT_FAILURE", ""),
        ])
        .unwrap();
        assert_eq!(c.port, 0);
        assert!(
            !c.open_metrics,
            "DISABLE_OM counts when present, even empty"
        );
        assert!(
            !c.inject_failure,
            "HO11Y_INJECT_FAILURE counts only when non-empty"
        );
        let c = cfg(&[
            ("DOWNSTREAM1", "DUMMY:187kB:42ms"),
            ("DOWNSTREAM3", "http://downstream0"),
        ])
        .unwrap();
        assert_eq!(
            c.downstreams[1],
            Some(Downstream::Dummy {
                raw: "DUMMY:187kB:42ms".into(),
                size: 191_488,
                latency: Duration::from_millis(42)
            })
        );
        assert!(
            c.downstreams[0].is_none() && matches!(c.downstreams[3], Some(Downstream::Url { .. }))
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("HO11Y_PORT", "http"),
            ("HO11Y_CUTOFF_TPS", "1.5"),
            ("DOWNSTREAM2", "DUMMY:1kB"),
            ("DOWNSTREAM0", "DUMMY:1Kb:2ms"),
            ("DOWNSTREAM4", "DUMMY:1kB:2"),
            ("DOWNSTREAM3", "not a url"),
        ] {
            let err = cfg(&[(var, value)]).unwrap_err().to_string();
            assert!(
                err.contains(var) && err.contains(value),
                "{var}={value}: {err}"
            );
        }
    }
}
