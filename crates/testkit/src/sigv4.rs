//! An AWS Signature Version 4 verifier written from the published algorithm, sharing no code with
//! the `aws-sigv4` crate (or any AWS SDK) that prescale uses to sign.
//!
//! The verifier recomputes the canonical request from the request *as received* (method, raw
//! path and query, headers, body), derives the signing key from the secret it knows for the
//! access key named in the `Authorization` header, and compares signatures. Every refusal is a
//! [`Rejection`] naming the reason, with AWS-like wording, and (for signature mismatches) the
//! canonical request and string to sign it computed, so a failing test shows what differed.
//!
//! # Canonicalisation choices
//!
//! * **Path.** With [`Options::normalize_path`] (the default, as for every AWS service but S3),
//!   `.` and `..` segments and empty segments (`//`) are removed first, keeping a trailing slash.
//!   With [`Options::double_encode_path`] (the default, again all services but S3) the path *as
//!   received*, escapes included, is percent-encoded once more, so `%3D` on the wire becomes
//!   `%253D` in the canonical request. Without it (S3 style) escapes are decoded and each byte is
//!   encoded exactly once.
//! * **Query.** The raw query is split on `&` (empty pieces dropped), each piece on its first `=`
//!   (a missing `=` means an empty value); names and values are percent-decoded and re-encoded
//!   with the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`, everything else `%XX` upper-case),
//!   then sorted by encoded name, then encoded value. A literal `+` is by default a plus sign
//!   (RFC 3986 has no `+`-means-space rule; that is HTML form encoding), so it canonicalises to
//!   `%2B`. The `aws-sigv4` crate instead parses the query with a form decoder and signs a raw
//!   `+` as `%20`; a client using it must therefore send `+` as `%2B` (and a space as `%20`),
//!   which both sides canonicalise identically. [`PlusInQuery::Space`] models the form-decoding
//!   reading for tests that want to show the difference.
//! * **Headers.** Names are compared case-insensitively and written lower-case; each value is
//!   trimmed of surrounding spaces and tabs and runs of spaces inside are collapsed to one;
//!   repeated headers are joined with `,` in the order received.
//! * **Payload.** The hex SHA-256 of the body, unless an `x-amz-content-sha256` header is present:
//!   then its value is used verbatim (e.g. `UNSIGNED-PAYLOAD`). When that value is a hash it must
//!   also match the body actually received.
//!
//! Only the `Authorization` header form with `AWS4-HMAC-SHA256` and an `x-amz-date` header is
//! supported (no presigned URLs, no `Date` header fallback, no SigV4a, no chunked streaming
//! signatures).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// SHA-256 of the empty string, the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A request as an HTTP server received it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The request target as sent, escapes untouched: `/workspaces/ws-1/api/v1/query?query=up`.
    pub path_and_query: &'a str,
    /// Every header in the order received; names in any case.
    pub headers: &'a [(String, String)],
    /// The body bytes.
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// The raw path (before `?`).
    pub fn path(&self) -> &'a str {
        let target = self.path_and_query.split('#').next().unwrap_or_default();
        target.split_once('?').map_or(target, |(p, _)| p)
    }

    /// The raw query (after the first `?`), if any.
    pub fn query(&self) -> Option<&'a str> {
        let target = self.path_and_query.split('#').next().unwrap_or_default();
        target.split_once('?').map(|(_, q)| q)
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        let headers: &'a [(String, String)] = self.headers;
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }
}

/// How a literal `+` in the query string is read before re-encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlusInQuery {
    /// RFC 3986: `+` is itself, canonical `%2B` (the default; what AWS documents).
    #[default]
    Literal,
    /// HTML form decoding: `+` is a space, canonical `%20` (what `aws-sigv4` 1.x signs).
    Space,
}

/// Canonicalisation switches; the defaults are those of AWS services other than S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Remove `.`/`..` and empty path segments before encoding.
    pub normalize_path: bool,
    /// Percent-encode the received (already encoded) path again.
    pub double_encode_path: bool,
    /// Reading of a literal `+` in the query.
    pub plus_in_query: PlusInQuery,
    /// Require `x-amz-security-token` to be among the signed headers when a session token is
    /// used. Off only to model clients that add the token after signing.
    pub require_signed_token: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            normalize_path: true,
            double_encode_path: true,
            plus_in_query: PlusInQuery::Literal,
            require_signed_token: true,
        }
    }
}

/// A secret the verifier knows for one access key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The secret access key.
    pub secret: String,
    /// For temporary credentials: the session token requests must carry in
    /// `x-amz-security-token`. `None` for long-term keys, which must not carry one.
    pub session_token: Option<String>,
}

/// Checks SigV4 `Authorization` headers for one region and service.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// Region every credential scope must name, e.g. `us-west-2`.
    pub region: String,
    /// Service every credential scope must name, e.g. `aps`.
    pub service: String,
    /// Known access key ids.
    pub keys: BTreeMap<String, Key>,
    /// Largest accepted distance between `x-amz-date` and the verifier's clock (AWS: 5 minutes).
    pub max_skew: Duration,
    /// Canonicalisation switches.
    pub options: Options,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Access key id that signed.
    pub access_key_id: String,
    /// Signed header names, lower-case, as listed in the `Authorization` header.
    pub signed_headers: Vec<String>,
    /// `YYYYMMDD/region/service/aws4_request`.
    pub credential_scope: String,
    /// The `x-amz-date` value.
    pub amz_date: String,
    /// Session token presented (and checked), if any.
    pub session_token: Option<String>,
    /// Payload hash used in the canonical request.
    pub payload_hash: String,
    /// The canonical request the signature covers.
    pub canonical_request: String,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// No `Authorization` header.
    MissingAuthorization,
    /// `Authorization` present but not a well-formed SigV4 header.
    MalformedAuthorization,
    /// An algorithm other than `AWS4-HMAC-SHA256`.
    UnsupportedAlgorithm,
    /// No `x-amz-date` header.
    MissingDate,
    /// `x-amz-date` not of the form `YYYYMMDDTHHMMSSZ`.
    MalformedDate,
    /// Access key id not known.
    UnknownAccessKey,
    /// Credential scope date differs from the `x-amz-date` day.
    WrongScopeDate,
    /// Credential scope names another region.
    WrongRegion,
    /// Credential scope names another service.
    WrongService,
    /// Credential scope does not end in `aws4_request`.
    WrongScopeTerminator,
    /// `x-amz-date` too far from the verifier's clock.
    RequestTimeSkewed,
    /// `host` is not a signed header.
    HostNotSigned,
    /// `x-amz-date` is not a signed header.
    DateNotSigned,
    /// A header listed in `SignedHeaders` is absent from the request.
    SignedHeaderMissing,
    /// The key needs a session token and none was sent.
    SessionTokenMissing,
    /// A session token was sent that does not belong to the key (or the key takes none).
    SessionTokenInvalid,
    /// A session token was sent but not signed (with [`Options::require_signed_token`]).
    SessionTokenNotSigned,
    /// `x-amz-content-sha256` disagrees with the body received.
    ContentSha256Mismatch,
    /// Everything parsed, but the signature differs.
    SignatureMismatch,
}

/// A refusal, with an AWS-like message and debugging material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable reason.
    pub kind: RejectionKind,
    /// Human-readable reason, worded as AWS words it where known.
    pub reason: String,
    /// The canonical request the verifier computed, when it got that far.
    pub canonical_request: Option<String>,
    /// The string to sign the verifier computed, when it got that far.
    pub string_to_sign: Option<String>,
}

impl Rejection {
    fn new(kind: RejectionKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            canonical_request: None,
            string_to_sign: None,
        }
    }

    /// The AWS error type an IAM-authenticated JSON service (AMP included) reports for this
    /// refusal, as sent in `x-amzn-ErrorType`.
    pub fn aws_error_type(&self) -> &'static str {
        match self.kind {
            RejectionKind::MissingAuthorization => "MissingAuthenticationTokenException",
            RejectionKind::UnknownAccessKey
            | RejectionKind::SessionTokenMissing
            | RejectionKind::SessionTokenInvalid => "UnrecognizedClientException",
            RejectionKind::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            _ => "InvalidSignatureException",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.reason)?;
        if let Some(creq) = &self.canonical_request {
            write!(f, "\n--- canonical request (verifier) ---\n{creq}")?;
        }
        if let Some(sts) = &self.string_to_sign {
            write!(f, "\n--- string to sign (verifier) ---\n{sts}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Access key id from `Credential=`.
    pub access_key_id: String,
    /// Scope date, `YYYYMMDD`.
    pub date: String,
    /// Scope region.
    pub region: String,
    /// Scope service.
    pub service: String,
    /// Scope terminator (must be `aws4_request`).
    pub terminator: String,
    /// `SignedHeaders=` split on `;`, as written.
    pub signed_headers: Vec<String>,
    /// `Signature=`, lower-case hex.
    pub signature: String,
}

impl Authorization {
    /// Parses an `Authorization` header value.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let value = value.trim();
        let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
        if algorithm != ALGORITHM {
            return Err(Rejection::new(
                RejectionKind::UnsupportedAlgorithm,
                format!("Unsupported AWS 'algorithm': '{algorithm}'."),
            ));
        }
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((name, val)) = part.split_once('=') else {
                return Err(malformed(
                    value,
                    &format!("'{part}' is not a key=value pair"),
                ));
            };
            let slot = match name.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                other => return Err(malformed(value, &format!("unknown parameter '{other}'"))),
            };
            if slot.replace(val.trim()).is_some() {
                return Err(malformed(value, &format!("parameter '{name}' repeated")));
            }
        }
        let mut missing = String::new();
        for (name, slot) in [
            ("Credential", &credential),
            ("Signature", &signature),
            ("SignedHeaders", &signed_headers),
        ] {
            if slot.is_none() {
                missing.push_str(&format!(
                    "Authorization header requires '{name}' parameter. "
                ));
            }
        }
        let (Some(credential), Some(signed_headers), Some(signature)) =
            (credential, signed_headers, signature)
        else {
            return Err(Rejection::new(
                RejectionKind::MalformedAuthorization,
                format!("{missing}Authorization={value}"),
            ));
        };
        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, terminator] = scope[..] else {
            return Err(malformed(
                value,
                &format!(
                    "Credential should have 5 slash-separated parts \
                     (key/date/region/service/aws4_request), got '{credential}'"
                ),
            ));
        };
        let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
        let well_formed = signed_headers.iter().all(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
        }) && signed_headers.windows(2).all(|w| w[0] < w[1]);
        if !well_formed {
            return Err(malformed(
                value,
                "SignedHeaders must be distinct lower-case header names sorted and joined by ';'",
            ));
        }
        if signature.len() != 64
            || !signature
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(malformed(
                value,
                "Signature must be 64 lower-case hex digits",
            ));
        }
        Ok(Self {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            terminator: terminator.to_owned(),
            signed_headers,
            signature: signature.to_owned(),
        })
    }

    /// `date/region/service/terminator`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

fn malformed(value: &str, what: &str) -> Rejection {
    Rejection::new(
        RejectionKind::MalformedAuthorization,
        format!("Malformed Authorization header ({what}). Authorization={value}"),
    )
}

impl Verifier {
    /// A verifier for `region` and `service`, no keys, 5 minutes of skew, default options.
    pub fn new(region: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            service: service.into(),
            keys: BTreeMap::new(),
            max_skew: Duration::from_secs(5 * 60),
            options: Options::default(),
        }
    }

    /// Adds a long-term key.
    #[must_use]
    pub fn with_key(mut self, access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.keys.insert(
            access_key_id.into(),
            Key {
                secret: secret.into(),
                session_token: None,
            },
        );
        self
    }

    /// Adds a temporary key that must be used with `session_token`.
    #[must_use]
    pub fn with_session_key(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
        session_token: impl Into<String>,
    ) -> Self {
        self.keys.insert(
            access_key_id.into(),
            Key {
                secret: secret.into(),
                session_token: Some(session_token.into()),
            },
        );
        self
    }

    /// Verifies `req` at time `now`.
    pub fn verify(&self, req: &Request<'_>, now: SystemTime) -> Result<Verified, Rejection> {
        let auth_value = req.header("authorization").ok_or_else(|| {
            Rejection::new(
                RejectionKind::MissingAuthorization,
                "Missing Authentication Token",
            )
        })?;
        let auth = Authorization::parse(auth_value)?;

        let amz_date = req.header("x-amz-date").map(str::trim).ok_or_else(|| {
            Rejection::new(
                RejectionKind::MissingDate,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            )
        })?;
        let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
            Rejection::new(
                RejectionKind::MalformedDate,
                format!("Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"),
            )
        })?;

        let key = self.keys.get(&auth.access_key_id).ok_or_else(|| {
            Rejection::new(
                RejectionKind::UnknownAccessKey,
                format!(
                    "The security token included in the request is invalid. (unknown access key id '{}')",
                    auth.access_key_id
                ),
            )
        })?;

        if auth.date != amz_date[..8] {
            return Err(Rejection::new(
                RejectionKind::WrongScopeDate,
                format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                    auth.date,
                    &amz_date[..8]
                ),
            ));
        }
        if auth.region != self.region {
            return Err(Rejection::new(
                RejectionKind::WrongRegion,
                format!(
                    "Credential should be scoped to a valid region, not '{}'. (expected '{}')",
                    auth.region, self.region
                ),
            ));
        }
        if auth.service != self.service {
            return Err(Rejection::new(
                RejectionKind::WrongService,
                format!(
                    "Credential should be scoped to correct service: '{}'. (got '{}')",
                    self.service, auth.service
                ),
            ));
        }
        if auth.terminator != "aws4_request" {
            return Err(Rejection::new(
                RejectionKind::WrongScopeTerminator,
                format!(
                    "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                    auth.terminator
                ),
            ));
        }

        check_skew(amz_date, signed_at, now, self.max_skew)?;

        let signed = |name: &str| auth.signed_headers.iter().any(|h| h == name);
        if !signed("host") {
            return Err(Rejection::new(
                RejectionKind::HostNotSigned,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        if !signed("x-amz-date") {
            return Err(Rejection::new(
                RejectionKind::DateNotSigned,
                "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization when it carries the request date.",
            ));
        }

        let presented_token = req.header("x-amz-security-token").map(str::trim);
        match (&key.session_token, presented_token) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(Rejection::new(
                    RejectionKind::SessionTokenMissing,
                    format!(
                        "The security token included in the request is invalid. (access key '{}' is temporary and no X-Amz-Security-Token was sent)",
                        auth.access_key_id
                    ),
                ));
            }
            (expected, Some(got)) => {
                if expected.as_deref() != Some(got) {
                    return Err(Rejection::new(
                        RejectionKind::SessionTokenInvalid,
                        "The security token included in the request is invalid.",
                    ));
                }
                if self.options.require_signed_token && !signed("x-amz-security-token") {
                    return Err(Rejection::new(
                        RejectionKind::SessionTokenNotSigned,
                        "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
                    ));
                }
            }
        }

        let body_hash = sha256_hex(req.body);
        if let Some(claimed) = req.header("x-amz-content-sha256").map(str::trim)
            && is_sha256_hex(claimed)
            && !claimed.eq_ignore_ascii_case(&body_hash)
        {
            return Err(Rejection::new(
                RejectionKind::ContentSha256Mismatch,
                format!(
                    "The provided 'x-amz-content-sha256' header does not match what was computed. (claimed {claimed}, body hashes to {body_hash})"
                ),
            ));
        }

        let signed_refs: Vec<&str> = auth.signed_headers.iter().map(String::as_str).collect();
        let creq = canonical_request(req, &signed_refs, &self.options)?;
        let scope = auth.scope();
        let sts = string_to_sign(amz_date, &scope, &creq);
        let expected = signature(&key.secret, &auth.date, &auth.region, &auth.service, &sts);
        if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
            return Err(Rejection {
                kind: RejectionKind::SignatureMismatch,
                reason: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".to_owned(),
                canonical_request: Some(creq),
                string_to_sign: Some(sts),
            });
        }
        Ok(Verified {
            access_key_id: auth.access_key_id,
            signed_headers: auth.signed_headers,
            credential_scope: scope,
            amz_date: amz_date.to_owned(),
            session_token: presented_token.map(str::to_owned),
            payload_hash: payload_hash(req),
            canonical_request: creq,
        })
    }
}

fn check_skew(
    amz_date: &str,
    signed_at: SystemTime,
    now: SystemTime,
    max_skew: Duration,
) -> Result<(), Rejection> {
    let minutes = max_skew.as_secs() / 60;
    let now_s = format_amz_date(now);
    if signed_at + max_skew < now {
        return Err(Rejection::new(
            RejectionKind::RequestTimeSkewed,
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({now_s} - {minutes} min.)",
                format_amz_date(now - max_skew)
            ),
        ));
    }
    if signed_at > now + max_skew {
        return Err(Rejection::new(
            RejectionKind::RequestTimeSkewed,
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({now_s} + {minutes} min.)",
                format_amz_date(now + max_skew)
            ),
        ));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The payload hash that goes into the canonical request: the `x-amz-content-sha256` value if
/// the request has one, else the hex SHA-256 of the body.
pub fn payload_hash(req: &Request<'_>) -> String {
    match req.header("x-amz-content-sha256") {
        Some(v) => v.trim().to_owned(),
        None => sha256_hex(req.body),
    }
}

/// The canonical request for `req`, covering the headers named in `signed_headers` (lower-case,
/// in the order given). Fails with [`RejectionKind::SignedHeaderMissing`] if one is absent.
pub fn canonical_request(
    req: &Request<'_>,
    signed_headers: &[&str],
    options: &Options,
) -> Result<String, Rejection> {
    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.path(), options));
    out.push('\n');
    out.push_str(&canonical_query(
        req.query().unwrap_or(""),
        options.plus_in_query,
    ));
    out.push('\n');
    for name in signed_headers {
        let values: Vec<String> = req
            .header_values(name)
            .map(canonical_header_value)
            .collect();
        if values.is_empty() {
            return Err(Rejection::new(
                RejectionKind::SignedHeaderMissing,
                format!("Signed header '{name}' is not present in the request."),
            ));
        }
        out.push_str(&name.to_ascii_lowercase());
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(&payload_hash(req));
    Ok(out)
}

/// Trims spaces and tabs at both ends and collapses inner runs of spaces to one.
pub fn canonical_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut previous_space = false;
    for c in value.trim_matches([' ', '\t']).chars() {
        if c == ' ' {
            if !previous_space {
                out.push(' ');
            }
            previous_space = true;
        } else {
            out.push(c);
            previous_space = false;
        }
    }
    out
}

/// The canonical URI for a raw (as received) path.
pub fn canonical_uri(raw_path: &str, options: &Options) -> String {
    let path = if raw_path.is_empty() { "/" } else { raw_path };
    let normalized;
    let path = if options.normalize_path {
        normalized = remove_dot_segments(path);
        normalized.as_str()
    } else {
        path
    };
    if options.double_encode_path {
        encode(path.as_bytes(), true)
    } else {
        encode(&percent_decode(path.as_bytes(), false), true)
    }
}

/// RFC 3986 §5.2.4 dot-segment removal, plus dropping empty segments (`//`), keeping a trailing
/// slash; the result always starts with `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let mut out = String::from("/");
    out.push_str(&kept.join("/"));
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query string for a raw query (without the `?`).
pub fn canonical_query(raw_query: &str, plus: PlusInQuery) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let space = plus == PlusInQuery::Space;
            (
                encode(&percent_decode(name.as_bytes(), space), false),
                encode(&percent_decode(value.as_bytes(), space), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes `%XX` escapes (a `%` not followed by two hex digits stays literal); with
/// `plus_is_space`, `+` becomes a space as in HTML forms.
pub fn percent_decode(input: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if let Some((hi, lo)) = escape_at(input, i) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn escape_at(input: &[u8], i: usize) -> Option<(u8, u8)> {
    Some((
        hex_value(*input.get(i + 1)?)?,
        hex_value(*input.get(i + 2)?)?,
    ))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes every byte outside the RFC 3986 unreserved set (and outside `/` when
/// `keep_slash`), with upper-case hex.
pub fn encode(input: &[u8], keep_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len());
    for &b in input {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The signing key: HMAC chain `AWS4<secret>` → date → region → service → `aws4_request`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Hex HMAC-SHA256 of the string to sign under the derived signing key.
pub fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    hex(&hmac_sha256(
        &signing_key(secret, date, region, service),
        string_to_sign.as_bytes(),
    ))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// Signs `req` the way a SigV4 client would, for tests of this crate and of servers: returns the
/// `Authorization` value and intermediate strings. `req` must already carry every header in
/// `signed_headers` (in particular `host` and `x-amz-date`, plus `x-amz-security-token` for
/// temporary credentials). Shares the canonicalisation code with [`Verifier`], so it proves
/// self-consistency only; independence from `aws-sigv4` comes from the published test vectors.
pub fn sign(
    req: &Request<'_>,
    signed_headers: &[&str],
    credentials: SigningCredentials<'_>,
    options: &Options,
) -> Result<Signed, Rejection> {
    let amz_date = req.header("x-amz-date").map(str::trim).ok_or_else(|| {
        Rejection::new(
            RejectionKind::MissingDate,
            "x-amz-date header required for signing",
        )
    })?;
    if parse_amz_date(amz_date).is_none() {
        return Err(Rejection::new(
            RejectionKind::MalformedDate,
            format!("bad x-amz-date '{amz_date}'"),
        ));
    }
    let date = &amz_date[..8];
    let scope = format!(
        "{date}/{}/{}/aws4_request",
        credentials.region, credentials.service
    );
    let canonical_request = canonical_request(req, signed_headers, options)?;
    let string_to_sign = string_to_sign(amz_date, &scope, &canonical_request);
    let signature = signature(
        credentials.secret,
        date,
        credentials.region,
        credentials.service,
        &string_to_sign,
    );
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        credentials.access_key_id,
        signed_headers.join(";")
    );
    Ok(Signed {
        authorization,
        canonical_request,
        string_to_sign,
        signature,
    })
}

/// Inputs of [`sign`] besides the request.
#[derive(Debug, Clone, Copy)]
pub struct SigningCredentials<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret: &'a str,
    /// Scope region.
    pub region: &'a str,
    /// Scope service.
    pub service: &'a str,
}

/// Output of [`sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The `Authorization` header value.
    pub authorization: String,
    /// Canonical request signed.
    pub canonical_request: String,
    /// String to sign.
    pub string_to_sign: String,
    /// Hex signature.
    pub signature: String,
}

/// Lower-case names of `headers`, deduplicated and sorted: the `SignedHeaders` list of a client
/// that signs everything it sends.
pub fn all_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Parses `YYYYMMDDTHHMMSSZ` (UTC).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = &s[range];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if year < 1970 || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + hour * 3600 + minute * 60 + second))
}

/// Formats a time as `YYYYMMDDTHHMMSSZ` (UTC; times before 1970 clamp to the epoch).
pub fn format_amz_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year ≥ 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let mut days = 0;
    for y in 1970..year {
        days += if is_leap(y) { 366 } else { 365 };
    }
    for m in 1..month {
        days += days_in_month(year, m);
    }
    days + day - 1
}

fn civil_from_days(mut days: u64) -> (u64, u64, u64) {
    let mut year = 1970;
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    (year, month, days + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips_and_rejects_nonsense() {
        for s in [
            "20150830T123600Z",
            "20000229T000000Z",
            "19700101T000000Z",
            "20991231T235959Z",
        ] {
            let t = parse_amz_date(s).unwrap();
            assert_eq!(format_amz_date(t), s);
        }
        assert_eq!(
            parse_amz_date("20150830T123600Z").unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_440_938_160)
        );
        for bad in [
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20150230T000000Z",
            "20150830T246000Z",
            "2015083OT123600Z",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn query_canonicalisation_plus_and_escapes() {
        assert_eq!(canonical_query("q=a+b", PlusInQuery::Literal), "q=a%2Bb");
        assert_eq!(canonical_query("q=a+b", PlusInQuery::Space), "q=a%20b");
        assert_eq!(canonical_query("q=a%2Bb", PlusInQuery::Literal), "q=a%2Bb");
        assert_eq!(canonical_query("q=a%2bb", PlusInQuery::Space), "q=a%2Bb");
        assert_eq!(canonical_query("q=a%20b", PlusInQuery::Literal), "q=a%20b");
        assert_eq!(
            canonical_query("b=2&a=1&&a=0&flag", PlusInQuery::Literal),
            "a=0&a=1&b=2&flag="
        );
        assert_eq!(
            canonical_query("x=100%&y=%zz", PlusInQuery::Literal),
            "x=100%25&y=%25zz"
        );
        assert_eq!(canonical_query("", PlusInQuery::Literal), "");
        assert_eq!(
            canonical_query("query=sum(rate(x{a=\"b\"}[1m]))", PlusInQuery::Literal),
            "query=sum%28rate%28x%7Ba%3D%22b%22%7D%5B1m%5D%29%29"
        );
    }

    #[test]
    fn uri_canonicalisation() {
        let on = Options::default();
        let off = Options {
            normalize_path: false,
            ..on
        };
        let single = Options {
            double_encode_path: false,
            ..on
        };
        assert_eq!(canonical_uri("", &on), "/");
        assert_eq!(canonical_uri("/a/./b/../c//d/", &on), "/a/c/d/");
        assert_eq!(canonical_uri("/a/..", &on), "/");
        assert_eq!(canonical_uri("/../x", &on), "/x");
        assert_eq!(canonical_uri("/a/b/.", &on), "/a/b/");
        assert_eq!(canonical_uri("/a/./b", &off), "/a/./b");
        assert_eq!(canonical_uri("/x%3Dy", &on), "/x%253Dy");
        assert_eq!(canonical_uri("/x%3Dy", &single), "/x%3Dy");
        assert_eq!(canonical_uri("/x y", &single), "/x%20y");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        assert_eq!(canonical_header_value("  a   b  c \t"), "a b c");
        assert_eq!(canonical_header_value("\"a   b\""), "\"a b\"");
        assert_eq!(canonical_header_value(""), "");
    }

    #[test]
    fn authorization_parsing() {
        let a = Authorization::parse(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aps/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "AKID");
        assert_eq!(a.scope(), "20150830/us-east-1/aps/aws4_request");
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        let kinds = |v: &str| Authorization::parse(v).unwrap_err().kind;
        assert_eq!(
            kinds("AWS4-HMAC-SHA1 Credential=x"),
            RejectionKind::UnsupportedAlgorithm
        );
        assert_eq!(
            kinds(
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aps/aws4_request, SignedHeaders=host"
            ),
            RejectionKind::MalformedAuthorization
        );
        assert_eq!(
            kinds(
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/aps/aws4_request, SignedHeaders=host, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            ),
            RejectionKind::MalformedAuthorization
        );
        assert_eq!(
            kinds(
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aps/aws4_request, SignedHeaders=x-amz-date;host, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            ),
            RejectionKind::MalformedAuthorization
        );
    }
}
