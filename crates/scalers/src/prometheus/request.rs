//! The instant query KEDA sends to the Prometheus HTTP API (`ExecutePromQuery` in
//! `pkg/scalers/prometheus_scaler.go`), built as a value: no I/O, and the clock is a parameter. The same
//! trigger's range query ([`RangeQueryUrl`], for backtests; KEDA has none) is encoded the same way.
//!
//! ```text
//! GET <serverAddress>/api/v1/query?query=<q>&time=<now, UTC RFC 3339, whole seconds>[&namespace=<ns>][&<k>=<v>…]
//! ```
//!
//! Differences from KEDA, all in the encoding of the query string (the parameters and their order are KEDA's):
//!
//! - **Percent-encoding is the SigV4 canonical form, not Go's `url.QueryEscape`.** See [`percent_encode`].
//!   `time` stays raw as in KEDA: it only holds digits, `-`, `T`, `:` and `Z`, which every decoder reads the
//!   same way, and it keeps the URL readable in logs (`time=2024-01-18T12:34:56Z`).
//! - **`namespace` is encoded.** KEDA appends it raw. A Kubernetes namespace name is a DNS label
//!   (`[a-z0-9-]`), which encodes to itself, so for every valid namespace the URL is byte-for-byte KEDA's;
//!   only a value that is not a namespace name (one with `&`, `#`, a space …) differs, and there KEDA would
//!   inject extra parameters or send a malformed URL.
//! - **`queryParameters` keep the order given.** KEDA ranges over a Go map, so its order is random per
//!   request; a fixed order makes the URL (and a SigV4 signature over it) reproducible.

use std::time::{SystemTime, UNIX_EPOCH};

/// A trigger's query URL, encoded once: only `time` changes from one poll to the next.
///
/// `server_address` is used as a plain prefix of `/api/v1/query`, exactly as KEDA does: no trailing-slash
/// trimming or other path normalisation, so `https://host/workspaces/ws-1` queries
/// `https://host/workspaces/ws-1/api/v1/query` and `https://host/` queries `https://host//api/v1/query`.
/// `namespace` is appended when present and non-empty, then `query_parameters` in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryUrl {
    /// Everything up to and including `&time=`.
    prefix: String,
    /// `&namespace=…&<k>=<v>…`, possibly empty.
    suffix: String,
}

impl QueryUrl {
    pub fn new(
        server_address: &str,
        query: &str,
        namespace: Option<&str>,
        query_parameters: &[(String, String)],
    ) -> Self {
        let prefix = format!(
            "{server_address}/api/v1/query?query={}&time=",
            percent_encode(query)
        );
        QueryUrl {
            prefix,
            suffix: extra_parameters(namespace, query_parameters),
        }
    }

    /// The URL of the query as of `now`: `time` is `now` in UTC, RFC 3339 with whole seconds (the fraction
    /// truncated, as Go's `Format(time.RFC3339)` does).
    pub fn at(&self, now: SystemTime) -> String {
        let time = rfc3339_seconds(now);
        let mut url = String::with_capacity(self.prefix.len() + time.len() + self.suffix.len());
        url.push_str(&self.prefix);
        url.push_str(&time);
        url.push_str(&self.suffix);
        url
    }
}

/// `&namespace=…&<k>=<v>…`: what follows the query's own parameters, for instant and range queries alike.
fn extra_parameters(namespace: Option<&str>, query_parameters: &[(String, String)]) -> String {
    let mut suffix = String::new();
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        suffix.push_str("&namespace=");
        suffix.push_str(&percent_encode(ns));
    }
    for (key, value) in query_parameters {
        suffix.push('&');
        suffix.push_str(&percent_encode(key));
        suffix.push('=');
        suffix.push_str(&percent_encode(value));
    }
    suffix
}

/// A trigger's `query_range` URL (for backtesting a trigger over its history), encoded as [`QueryUrl`] is:
///
/// ```text
/// GET <serverAddress>/api/v1/query_range?query=<q>&start=<s>&end=<e>&step=<d>[&namespace=<ns>][&<k>=<v>…]
/// ```
///
/// `serverAddress` is the same plain prefix, so AMP workspace paths work as for the instant query; the
/// trigger's `namespace` and `queryParameters` follow, as on its instant queries. `start`, `end` and `step`
/// are decimal seconds with at most millisecond precision (`1705581296`, `1705581296.5`, `15`, `0.25`), a form
/// Prometheus and VictoriaMetrics both read and which percent-encodes to itself (digits, `-` and `.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeQueryUrl {
    /// Everything up to and including `&start=`.
    prefix: String,
    /// `&namespace=…&<k>=<v>…`, possibly empty.
    suffix: String,
}

impl RangeQueryUrl {
    pub fn new(
        server_address: &str,
        query: &str,
        namespace: Option<&str>,
        query_parameters: &[(String, String)],
    ) -> Self {
        RangeQueryUrl {
            prefix: format!(
                "{server_address}/api/v1/query_range?query={}&start=",
                percent_encode(query)
            ),
            suffix: extra_parameters(namespace, query_parameters),
        }
    }

    /// The URL for the points `start_ms`, `start_ms + step_ms`, … up to `end_ms` (unix milliseconds; Prometheus
    /// includes both ends).
    pub fn window(&self, start_ms: i64, end_ms: i64, step_ms: i64) -> String {
        format!(
            "{}{}&end={}&step={}{}",
            self.prefix,
            decimal_seconds(start_ms),
            decimal_seconds(end_ms),
            decimal_seconds(step_ms),
            self.suffix
        )
    }
}

/// Milliseconds as decimal seconds without trailing zeros: `1500` → `1.5`, `15000` → `15`, `-250` → `-0.25`.
pub fn decimal_seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    let (secs, frac) = (abs / 1000, abs % 1000);
    if frac == 0 {
        format!("{sign}{secs}")
    } else {
        let frac = format!("{frac:03}");
        format!("{sign}{secs}.{}", frac.trim_end_matches('0'))
    }
}

/// The URL KEDA queries for one poll ([`QueryUrl::new`] then [`QueryUrl::at`]).
pub fn build(
    server_address: &str,
    query: &str,
    now: SystemTime,
    namespace: Option<&str>,
    query_parameters: &[(String, String)],
) -> String {
    QueryUrl::new(server_address, query, namespace, query_parameters).at(now)
}

/// Percent-encodes a query-string key or value in SigV4's canonical form (`prescale_aws::percent_encode`):
/// every byte except the RFC 3986 unreserved characters becomes `%XX`, a space `%20` and a `+` `%2B`.
///
/// Why not Go's `url.QueryEscape`, which KEDA uses: it writes a space as `+` (the HTML form convention).
/// A `+` in a query string is ambiguous: form decoders (Go's `url.ParseQuery`, Rust's `form_urlencoded`)
/// read it as a space, RFC 3986 readers as a literal plus. A SigV4 signer does not sign the bytes on the
/// wire but a canonical query string: it decodes the parameters and re-encodes them with exactly this
/// unreserved set, spaces as `%20`. The AWS side does the same from what it received, and if the two
/// decodings of a `+` differ the signatures do not match. PromQL is full of spaces and `+` operators, so
/// sending the canonical form itself removes the ambiguity: every reader decodes it the same way, and the
/// signer's re-encoding is the identity.
pub use prescale_aws::percent_encode;

/// `t` in UTC as RFC 3339 with whole seconds, e.g. `2024-01-18T12:34:56Z` (Go's `time.RFC3339` layout on a
/// UTC time). The fraction is dropped by flooring, so instants before 1970 work too; years outside
/// 0000–9999 are written with more digits or a sign, as Go does, rather than panicking.
pub fn rfc3339_seconds(t: SystemTime) -> String {
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let year = if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("{year:04}")
    };
    format!("{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Proleptic Gregorian (year, month, day) of a day count relative to 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, over 400-year eras).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The host (lower-case, without port or user info) of a server address, if it has a scheme; for telling an
/// Amazon Managed Service for Prometheus workspace (`aps-workspaces.<region>.amazonaws.com`) from other servers.
pub fn server_host(address: &str) -> Option<String> {
    let rest = address.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    Some(host.to_ascii_lowercase())
}

/// `url` with any user info (`user:password@`, which Go's and reqwest's clients turn into basic auth) replaced
/// by `***@`, for every error, log and report that shows a server address.
pub fn redact_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]).into(),
        None => url.into(),
    }
}
