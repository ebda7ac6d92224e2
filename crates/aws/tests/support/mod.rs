//! Loopback fakes of STS, IMDSv2 and the container credentials endpoint.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, put};
use prescale_aws::{AwsEnv, Credentials, Secret};

pub const BASE_AKID: &str = "AKIDBASE";
pub const BASE_SECRET: &str = "base/secret+key";

pub fn env(vars: &[(&str, &str)]) -> AwsEnv {
    AwsEnv::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

pub fn base_creds() -> Credentials {
    Credentials::new_static(BASE_AKID, BASE_SECRET, "test base")
}

pub fn http() -> reqwest::Client {
    prescale_aws::http_client().unwrap()
}

pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// An address nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Search the date (test-only; simple and obviously right).
    let mut y = 1970;
    while days_from_civil(y + 1, 1, 1) <= days {
        y += 1;
    }
    let mut m = 1;
    while m < 12 && days_from_civil(y, m + 1, 1) <= days {
        m += 1;
    }
    let d = days - days_from_civil(y, m, 1) + 1;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `20150830T123600Z` → time.
pub fn parse_amz_date(s: &str) -> SystemTime {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let days = days_from_civil(n(0..4), n(4..6), n(6..8));
    let secs = days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15);
    UNIX_EPOCH + Duration::from_secs(secs as u64)
}

/// What a fake answers with.
#[derive(Clone)]
pub enum Reply {
    /// Credentials valid for this long from the time of the request.
    Creds {
        akid: String,
        secret: String,
        token: String,
        valid_for: Duration,
    },
    /// A raw status and body.
    Raw(u16, String),
    /// Credentials that expired `ago` before the request.
    Expired { akid: String, ago: Duration },
}

pub fn creds_reply(akid: &str, valid_for: Duration) -> Reply {
    Reply::Creds {
        akid: akid.into(),
        secret: format!("{akid}-secret"),
        token: format!("{akid}-token"),
        valid_for,
    }
}

fn expiry_of(reply: &Reply) -> (String, String, String, SystemTime) {
    match reply {
        Reply::Creds {
            akid,
            secret,
            token,
            valid_for,
        } => (
            akid.clone(),
            secret.clone(),
            token.clone(),
            SystemTime::now() + *valid_for,
        ),
        Reply::Expired { akid, ago } => (
            akid.clone(),
            format!("{akid}-secret"),
            format!("{akid}-token"),
            SystemTime::now() - *ago,
        ),
        Reply::Raw(..) => unreachable!(),
    }
}

/// A recorded request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub form: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

#[derive(Default)]
pub struct Fake {
    pub reply: Mutex<Option<Reply>>,
    pub count: AtomicUsize,
    pub seen: Mutex<Vec<Seen>>,
    pub delay: Mutex<Duration>,
    /// For the container fake: the required Authorization value.
    pub required_auth: Mutex<Option<String>>,
}

impl Fake {
    pub fn new(reply: Reply) -> Arc<Self> {
        let f = Fake::default();
        *f.reply.lock().unwrap() = Some(reply);
        Arc::new(f)
    }
    pub fn set_reply(&self, reply: Reply) {
        *self.reply.lock().unwrap() = Some(reply);
    }
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    fn record(&self, method: Method, uri: Uri, headers: HeaderMap, body: &[u8]) {
        self.count.fetch_add(1, Ordering::SeqCst);
        let form = form_urlencoded::parse(body).into_owned().collect();
        self.seen.lock().unwrap().push(Seen {
            method,
            uri,
            headers,
            form,
            body: body.to_vec(),
        });
    }
    fn current(&self) -> Reply {
        self.reply.lock().unwrap().clone().expect("reply set")
    }
    async fn pause(&self) {
        let d = *self.delay.lock().unwrap();
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }
}

// ---------------------------------------------------------------- STS

fn sts_xml(action: &str, reply: &Reply) -> (u16, String) {
    if let Reply::Raw(status, body) = reply {
        return (*status, body.clone());
    }
    let (akid, secret, token, expiry) = expiry_of(reply);
    let body = format!(
        r#"<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{action}Result>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{akid}</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{}</Expiration>
    </Credentials>
  </{action}Result>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</{action}Response>"#,
        rfc3339(expiry)
    );
    (200, body)
}

pub fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::Raw(
        status,
        format!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
        ),
    )
}

/// Fake STS on `/`: both actions; AssumeRole must carry a SigV4 Authorization header
/// for service `sts` whose signature verifies with the base secret (403 otherwise).
pub async fn fake_sts(fake: Arc<Fake>) -> SocketAddr {
    async fn handler(
        State(fake): State<Arc<Fake>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        fake.record(method.clone(), uri.clone(), headers.clone(), &body);
        fake.pause().await;
        let form: BTreeMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
        let action = form.get("Action").cloned().unwrap_or_default();
        match action.as_str() {
            "AssumeRole" => {
                if let Err(why) = verify_sigv4(&method, &uri, &headers, &body, "sts") {
                    let (s, b) =
                        sts_xml("AssumeRole", &sts_error(403, "SignatureDoesNotMatch", &why));
                    return (StatusCode::from_u16(s).unwrap(), b).into_response();
                }
            }
            "AssumeRoleWithWebIdentity" => {
                if headers.contains_key("authorization") {
                    return (StatusCode::BAD_REQUEST, "web identity must be unsigned")
                        .into_response();
                }
            }
            other => {
                return (StatusCode::BAD_REQUEST, format!("unknown action {other:?}"))
                    .into_response();
            }
        }
        let (status, body) = sts_xml(&action, &fake.current());
        (StatusCode::from_u16(status).unwrap(), body).into_response()
    }
    serve(Router::new().route("/", any(handler)).with_state(fake)).await
}

/// Checks the Authorization header: base access key id, service, and the signature
/// recomputed (with `prescale_aws::sign`) over the request as received.
pub fn verify_sigv4(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    service: &str,
) -> Result<(), String> {
    let auth = headers
        .get("authorization")
        .ok_or("no authorization header")?
        .to_str()
        .map_err(|e| e.to_string())?
        .to_string();
    let date = headers
        .get("x-amz-date")
        .ok_or("no x-amz-date")?
        .to_str()
        .unwrap()
        .to_string();
    let scope_prefix = format!("AWS4-HMAC-SHA256 Credential={BASE_AKID}/{}/", &date[..8]);
    if !auth.starts_with(&scope_prefix) || !auth.contains(&format!("/{service}/aws4_request")) {
        return Err(format!("unexpected credential scope in {auth}"));
    }
    let signed_headers: Vec<&str> = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .ok_or("no SignedHeaders")?
        .split(';')
        .collect();
    let region = auth
        .split('/')
        .nth(2)
        .ok_or("no region in the scope")?
        .to_string();
    let mut resign = http::HeaderMap::new();
    for name in &signed_headers {
        if *name == "x-amz-date" || *name == "x-amz-security-token" {
            continue;
        }
        let v = headers
            .get(*name)
            .ok_or(format!("signed header {name} not received"))?;
        resign.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    let host = headers["host"].to_str().unwrap();
    let url = format!("http://{host}{}", uri.path_and_query().unwrap().as_str());
    let method = http::Method::from_bytes(method.as_str().as_bytes()).unwrap();
    let creds = Credentials {
        session_token: headers
            .get("x-amz-security-token")
            .map(|v| Secret::new(v.to_str().unwrap())),
        ..base_creds()
    };
    prescale_aws::sign(
        &method,
        &url,
        &mut resign,
        body,
        &creds,
        &region,
        service,
        parse_amz_date(&date),
    )
    .map_err(|e| e.to_string())?;
    let expected = resign["authorization"].to_str().unwrap();
    if expected != auth {
        return Err(format!(
            "signature mismatch: got {auth}, expected {expected}"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- IMDSv2

pub const IMDS_TOKEN: &str = "imds-session-token";
pub const IMDS_ROLE: &str = "node-role";

fn json_creds(reply: &Reply) -> (u16, String) {
    if let Reply::Raw(status, body) = reply {
        return (*status, body.clone());
    }
    let (akid, secret, token, expiry) = expiry_of(reply);
    (
        200,
        format!(
            r#"{{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"{akid}","SecretAccessKey":"{secret}","Token":"{token}","Expiration":"{}"}}"#,
            rfc3339(expiry)
        ),
    )
}

/// Fake IMDSv2: PUT /latest/api/token (needs the TTL header), then the role list and the
/// role's credentials, both requiring the session token (401 without it).
pub async fn fake_imds(fake: Arc<Fake>) -> SocketAddr {
    async fn token(State(fake): State<Arc<Fake>>, headers: HeaderMap, uri: Uri) -> Response {
        fake.record(Method::PUT, uri, headers.clone(), b"");
        if headers
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .is_none_or(|v| v != "21600")
        {
            return (StatusCode::BAD_REQUEST, "missing TTL header").into_response();
        }
        IMDS_TOKEN.into_response()
    }
    fn authorized(headers: &HeaderMap) -> bool {
        headers
            .get("x-aws-ec2-metadata-token")
            .is_some_and(|v| v == IMDS_TOKEN)
    }
    async fn roles(State(fake): State<Arc<Fake>>, headers: HeaderMap, uri: Uri) -> Response {
        fake.record(Method::GET, uri, headers.clone(), b"");
        if !authorized(&headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        format!("{IMDS_ROLE}\n").into_response()
    }
    async fn role(State(fake): State<Arc<Fake>>, headers: HeaderMap, uri: Uri) -> Response {
        fake.record(Method::GET, uri.clone(), headers.clone(), b"");
        if !authorized(&headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        if !uri.path().ends_with(IMDS_ROLE) {
            return StatusCode::NOT_FOUND.into_response();
        }
        let (status, body) = json_creds(&fake.current());
        (StatusCode::from_u16(status).unwrap(), body).into_response()
    }
    let app = Router::new()
        .route("/latest/api/token", put(token))
        .route("/latest/meta-data/iam/security-credentials/", get(roles))
        .route(
            "/latest/meta-data/iam/security-credentials/{role}",
            get(role),
        )
        .with_state(fake);
    serve(app).await
}

// ------------------------------------------------------- container credentials

/// Fake container credentials endpoint at /v1/credentials; checks Authorization
/// against `required_auth` when set (401 otherwise).
pub async fn fake_container(fake: Arc<Fake>) -> SocketAddr {
    async fn handler(State(fake): State<Arc<Fake>>, headers: HeaderMap, uri: Uri) -> Response {
        fake.record(Method::GET, uri, headers.clone(), b"");
        fake.pause().await;
        let required = fake.required_auth.lock().unwrap().clone();
        if let Some(required) = required
            && headers
                .get("authorization")
                .is_none_or(|v| v != required.as_str())
        {
            return (StatusCode::UNAUTHORIZED, "bad token").into_response();
        }
        let (status, body) = json_creds(&fake.current());
        (StatusCode::from_u16(status).unwrap(), body).into_response()
    }
    serve(
        Router::new()
            .route("/v1/credentials", get(handler))
            .with_state(fake),
    )
    .await
}

pub fn secret_of(c: &Credentials) -> &str {
    c.secret_access_key.expose()
}

pub fn token_of(c: &Credentials) -> Option<&str> {
    c.session_token.as_ref().map(Secret::expose)
}
