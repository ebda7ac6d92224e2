//! The AWS SigV4 test suite (header signing) run through `prescale_aws::sign`.
//! Vectors: tests/data/sigv4 (see its README for source and licence).

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use prescale_aws::{Credentials, Secret, sign};

/// Cases whose settings `sign` does not offer, with the reason.
const SKIPPED: &[(&str, &str)] = &[
    (
        "get-relative-relative-unnormalized",
        "normalize=false: sign always normalizes the path",
    ),
    (
        "get-relative-unnormalized",
        "normalize=false: sign always normalizes the path",
    ),
    (
        "get-slash-dot-slash-unnormalized",
        "normalize=false: sign always normalizes the path",
    ),
    (
        "get-slash-pointless-dot-unnormalized",
        "normalize=false: sign always normalizes the path",
    ),
    (
        "get-slash-unnormalized",
        "normalize=false: sign always normalizes the path",
    ),
    (
        "get-slashes-unnormalized",
        "normalize=false: sign always normalizes the path",
    ),
    (
        "get-space-unnormalized",
        "normalize=false, and a raw space in the path, which sign rejects",
    ),
    (
        "post-sts-header-after",
        "omit_session_token: sign always signs x-amz-security-token",
    ),
    (
        "post-x-www-form-urlencoded",
        "sign_body: sign never adds x-amz-content-sha256",
    ),
    (
        "post-x-www-form-urlencoded-parameters",
        "sign_body: sign never adds x-amz-content-sha256",
    ),
    (
        "get-space-normalized",
        "the path holds %20: sign double-encodes paths (all services but S3) and so signs \
         %2520, while this vector expects the path signed as sent",
    ),
    (
        "get-utf8",
        "raw non-ASCII path: sign requires the percent-encoded form, which double path \
         encoding (used for all services but S3) signs as %25E1…, not as this vector expects",
    ),
];

const TIMESTAMP: &str = "2015-08-30T12:36:00Z";
const TIMESTAMP_UNIX: u64 = 1_440_938_160;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigv4")
}

struct Request {
    method: Method,
    path_and_query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Parses request.txt: request line, headers (an indented line continues the previous
/// header's value, joined with one space as RFC 9112 obs-fold handling prescribes), an
/// empty line, then the body.
fn parse_request(text: &str) -> Request {
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h, b.as_bytes().to_vec()),
        None => (text.trim_end_matches('\n'), Vec::new()),
    };
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    let (method, rest) = request_line.split_once(' ').expect("method");
    let (target, version) = rest.rsplit_once(' ').expect("version");
    assert_eq!(version, "HTTP/1.1");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().expect("continuation after a header");
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    Request {
        method: method.parse().expect("method"),
        path_and_query: target.to_string(),
        headers,
        body,
    }
}

/// The query as a client sends it: non-ASCII bytes percent-encoded. (The canonical
/// query decodes and re-encodes every parameter, so this does not change what is signed.)
fn encode_non_ascii_query(target: &str) -> String {
    match target.split_once('?') {
        None => target.to_string(),
        Some((path, query)) => {
            let mut out = format!("{path}?");
            for b in query.bytes() {
                if b.is_ascii() {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
    }
}

fn signature_of(authorization: &str) -> &str {
    authorization
        .split("Signature=")
        .nth(1)
        .expect("Signature= in the authorization header")
}

#[test]
fn sigv4_test_suite_header_signing() {
    let mut cases: Vec<String> = std::fs::read_dir(data_dir())
        .expect("tests/data/sigv4")
        .filter_map(|e| {
            let e = e.ok()?;
            e.file_type()
                .ok()?
                .is_dir()
                .then(|| e.file_name().into_string().ok())?
        })
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 38, "the copied v4 cases with a context.json");
    for (name, _) in SKIPPED {
        assert!(
            cases.iter().any(|c| c == name),
            "SKIPPED names unknown case {name}"
        );
    }

    let mut ran = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let dir = data_dir().join(case);
        let context: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("context.json")).unwrap())
                .unwrap();
        let flag = |name: &str| context[name].as_bool().unwrap_or(false);
        let supported = flag("normalize") && !flag("sign_body") && !flag("omit_session_token");
        let skip = SKIPPED.iter().find(|(name, _)| name == case);
        match (supported, skip) {
            (false, None) => panic!("{case}: unsupported settings but not listed in SKIPPED"),
            (_, Some(_)) => continue,
            (true, None) => {}
        }
        assert_eq!(context["timestamp"], TIMESTAMP, "{case}");
        let time = UNIX_EPOCH + Duration::from_secs(TIMESTAMP_UNIX);
        let c = &context["credentials"];
        let creds = Credentials {
            access_key_id: c["access_key_id"].as_str().unwrap().to_string(),
            secret_access_key: Secret::new(c["secret_access_key"].as_str().unwrap()),
            session_token: c["token"].as_str().map(Secret::new),
            expiry: None,
            provider: "test vector".into(),
        };
        let request = parse_request(&std::fs::read_to_string(dir.join("request.txt")).unwrap());
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let host = headers
            .get("host")
            .expect("host header")
            .to_str()
            .unwrap()
            .to_string();
        let url = format!(
            "https://{host}{}",
            encode_non_ascii_query(&request.path_and_query)
        );
        let result = sign(
            &request.method,
            &url,
            &mut headers,
            &request.body,
            &creds,
            context["region"].as_str().unwrap(),
            context["service"].as_str().unwrap(),
            time,
        );
        if let Err(e) = result {
            failures.push(format!("{case}: sign failed: {e}"));
            continue;
        }
        let expected = std::fs::read_to_string(dir.join("header-signature.txt")).unwrap();
        let authorization = headers["authorization"].to_str().unwrap();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="),
            "{case}: {authorization}"
        );
        assert_eq!(headers["x-amz-date"], "20150830T123600Z", "{case}");
        assert_eq!(
            headers
                .get("x-amz-security-token")
                .map(|v| v.to_str().unwrap()),
            c["token"].as_str(),
            "{case}"
        );
        if signature_of(authorization) != expected.trim() {
            let canonical =
                std::fs::read_to_string(dir.join("header-canonical-request.txt")).unwrap();
            failures.push(format!(
                "{case}: signature {} != {}; expected canonical request:\n{canonical}",
                signature_of(authorization),
                expected.trim()
            ));
        }
        ran.push(case.clone());
    }
    println!(
        "ran {} vectors, skipped {}: {:?}",
        ran.len(),
        SKIPPED.len(),
        SKIPPED
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(ran.len() + SKIPPED.len(), cases.len());
    assert!(ran.len() >= 25, "only {} vectors ran", ran.len());
}

#[test]
fn signing_again_replaces_the_earlier_signature_headers() {
    let creds = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: None,
        expiry: None,
        provider: "test".into(),
    };
    let time = UNIX_EPOCH + Duration::from_secs(TIMESTAMP_UNIX);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
    headers.insert("x-amz-security-token", HeaderValue::from_static("stale"));
    sign(
        &Method::GET,
        "https://example.amazonaws.com/",
        &mut headers,
        b"",
        &creds,
        "us-east-1",
        "service",
        time,
    )
    .unwrap();
    let first = headers["authorization"].clone();
    assert!(headers.get("x-amz-security-token").is_none());
    // get-vanilla's known answer.
    assert_eq!(
        signature_of(first.to_str().unwrap()),
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    sign(
        &Method::GET,
        "https://example.amazonaws.com/",
        &mut headers,
        b"",
        &creds,
        "us-east-1",
        "service",
        time + Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(headers.get_all("authorization").iter().count(), 1);
    assert_ne!(headers["authorization"], first);
    assert!(headers["authorization"].is_sensitive());
}
