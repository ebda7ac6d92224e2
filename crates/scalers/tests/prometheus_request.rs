//! The query request KEDA's Prometheus trigger sends (`ExecutePromQuery`), with the deliberate encoding
//! differences documented in `prometheus::request`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use prescale_scalers::prometheus::request::{QueryUrl, build, percent_encode, rfc3339_seconds};

/// 2024-01-18T12:34:56Z.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_705_581_296)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn seed_query_exact_url() {
    let req = build(
        "http://prometheus.monitoring:9090",
        "rate(ho11y_total[1m])",
        t0(),
        None,
        &[],
    );
    assert_eq!(
        req,
        "http://prometheus.monitoring:9090/api/v1/query?query=rate%28ho11y_total%5B1m%5D%29&time=2024-01-18T12:34:56Z"
    );
}

#[test]
fn space_is_percent_20_and_plus_is_percent_2b() {
    // Go's url.QueryEscape (KEDA) would write `sum%28rate%28ho11y_total%5B1m%5D%29%29+%2B+1`; the `+` for a
    // space is what a SigV4 signer canonicalises differently from the server.
    let req = build(
        "https://p",
        "sum(rate(ho11y_total[1m])) + 1",
        t0(),
        None,
        &[],
    );
    assert_eq!(
        req,
        "https://p/api/v1/query?query=sum%28rate%28ho11y_total%5B1m%5D%29%29%20%2B%201&time=2024-01-18T12:34:56Z"
    );
    assert!(!req.contains('+'));
}

#[test]
fn percent_encoding_leaves_only_unreserved() {
    assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
    assert_eq!(
        percent_encode(" !\"#$%&'()*+,/:;=?@[]{}|\\^`<>"),
        "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D%7B%7D%7C%5C%5E%60%3C%3E"
    );
    // UTF-8 bytes, upper-case hex.
    assert_eq!(percent_encode("é✓"), "%C3%A9%E2%9C%93");
    assert_eq!(percent_encode(""), "");
}

#[test]
fn label_matchers_are_encoded() {
    let req = build(
        "http://p",
        r#"sum(rate(ho11y_total{job="ho11y",code=~"5.."}[1m]))"#,
        t0(),
        None,
        &[],
    );
    assert_eq!(
        req,
        "http://p/api/v1/query?query=sum%28rate%28ho11y_total%7Bjob%3D%22ho11y%22%2Ccode%3D~%225..%22%7D%5B1m%5D%29%29&time=2024-01-18T12:34:56Z"
    );
}

#[test]
fn namespace_then_query_parameters_in_given_order() {
    let req = build(
        "http://thanos:9090",
        "up",
        t0(),
        Some("team-a"),
        &pairs(&[("zeta", "1"), ("alpha", "two words"), ("dedup", "true")]),
    );
    // KEDA ranges over a Go map, so its parameter order is random; here it is the order given.
    assert_eq!(
        req,
        "http://thanos:9090/api/v1/query?query=up&time=2024-01-18T12:34:56Z&namespace=team-a&zeta=1&alpha=two%20words&dedup=true"
    );
}

#[test]
fn empty_or_absent_namespace_is_omitted() {
    let with_empty = build("http://p", "up", t0(), Some(""), &[]);
    let without = build("http://p", "up", t0(), None, &[]);
    assert_eq!(with_empty, without);
    assert_eq!(
        without,
        "http://p/api/v1/query?query=up&time=2024-01-18T12:34:56Z"
    );
}

#[test]
fn namespace_is_encoded_unlike_keda() {
    // Deliberate deviation: KEDA appends the namespace raw, so `a&b=c` would add a parameter `b`. Valid
    // namespace names ([a-z0-9-]) encode to themselves, as `team-a` above shows.
    let req = build("http://p", "up", t0(), Some("a&b=c d"), &[]);
    assert_eq!(
        req,
        "http://p/api/v1/query?query=up&time=2024-01-18T12:34:56Z&namespace=a%26b%3Dc%20d"
    );
}

#[test]
fn query_parameter_keys_and_values_are_encoded() {
    let req = build(
        "http://p",
        "up",
        t0(),
        None,
        &pairs(&[("max_samples+x", "a=b&c"), ("k", "")]),
    );
    assert_eq!(
        req,
        "http://p/api/v1/query?query=up&time=2024-01-18T12:34:56Z&max_samples%2Bx=a%3Db%26c&k="
    );
}

#[test]
fn server_address_with_path_prefix() {
    let req = build(
        "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-123",
        "vector(100)",
        t0(),
        None,
        &[],
    );
    assert_eq!(
        req,
        "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-123/api/v1/query?query=vector%28100%29&time=2024-01-18T12:34:56Z"
    );
}

#[test]
fn server_address_is_a_plain_prefix() {
    // No path normalisation, exactly as KEDA: a trailing slash gives `//api`.
    let req = build("http://p/", "up", t0(), None, &[]);
    assert_eq!(
        req,
        "http://p//api/v1/query?query=up&time=2024-01-18T12:34:56Z"
    );
}

#[test]
fn time_truncates_fractional_seconds() {
    let t = t0() + Duration::from_millis(999);
    assert_eq!(rfc3339_seconds(t), "2024-01-18T12:34:56Z");
}

#[test]
fn time_calendar_edges() {
    assert_eq!(rfc3339_seconds(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    // 2000-02-29T23:59:59Z (a leap day of a 400-year leap year).
    assert_eq!(
        rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(951_868_799)),
        "2000-02-29T23:59:59Z"
    );
    // 2100-03-01T00:00:00Z (2100 is not a leap year).
    assert_eq!(
        rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(4_107_542_400)),
        "2100-03-01T00:00:00Z"
    );
    // Before the epoch, the fraction floors toward the past.
    assert_eq!(
        rfc3339_seconds(UNIX_EPOCH - Duration::from_millis(500)),
        "1969-12-31T23:59:59Z"
    );
    assert_eq!(
        rfc3339_seconds(UNIX_EPOCH - Duration::from_secs(86_400)),
        "1969-12-31T00:00:00Z"
    );
    // Beyond year 9999 Go prints more digits; so do we, rather than panicking.
    assert_eq!(
        rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(253_402_300_800)),
        "10000-01-01T00:00:00Z"
    );
}

fn is_canonical_component(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_alphanumeric() || b"-._~".contains(&c) => i += 1,
            b'%' if i + 2 < b.len()
                && b[i + 1..i + 3]
                    .iter()
                    .all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)) =>
            {
                i += 3
            }
            _ => return false,
        }
    }
    true
}

proptest! {
    /// Any query, namespace and parameters come back unchanged through a form decoder (what Prometheus and
    /// SigV4 signers use), and each encoded component is already in SigV4 canonical form.
    #[test]
    fn url_round_trips_through_form_decoding(
        query in any::<String>(),
        namespace in proptest::option::of(any::<String>()),
        params in proptest::collection::vec((any::<String>(), any::<String>()), 0..4),
        secs in 0u64..4_000_000_000,
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(secs);
        let req = build("https://h/ws", &query, now, namespace.as_deref(), &params);
        let (prefix, qs) = req.split_once('?').unwrap_or((&req, ""));
        prop_assert_eq!(prefix, "https://h/ws/api/v1/query");

        let mut expected = vec![("query".to_owned(), query.clone()), ("time".to_owned(), rfc3339_seconds(now))];
        if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
            expected.push(("namespace".to_owned(), ns));
        }
        expected.extend(params.iter().cloned());
        let decoded: Vec<(String, String)> = form_urlencoded::parse(qs.as_bytes()).into_owned().collect();
        prop_assert_eq!(&decoded, &expected);

        for segment in qs.split('&') {
            let (k, v) = segment.split_once('=').unwrap_or((segment, ""));
            prop_assert!(is_canonical_component(k), "key {:?}", k);
            if k != "time" {
                prop_assert!(is_canonical_component(v), "value {:?}", v);
            }
        }
    }
}

#[test]
fn user_info_is_redacted_from_shown_addresses() {
    use prescale_scalers::prometheus::request::redact_userinfo;
    assert_eq!(
        redact_userinfo("https://alice:s3cret@prom.example:9090/x?q=a@b"),
        "https://***@prom.example:9090/x?q=a@b"
    );
    assert_eq!(redact_userinfo("http://token@h/"), "http://***@h/");
    // An '@' after the authority is not user info.
    assert_eq!(redact_userinfo("http://h/p@x"), "http://h/p@x");
    assert_eq!(redact_userinfo("http://h?x=@"), "http://h?x=@");
    assert_eq!(redact_userinfo("not a url@x"), "not a url@x");
}

#[test]
fn an_encoded_query_url_only_changes_its_time() {
    let params = pairs(&[("dedup", "false"), ("x", "a b")]);
    let url = QueryUrl::new("http://p", "sum(up) + 1", Some("team-a"), &params);
    for secs in [0, 1_705_581_296, 1_705_581_297] {
        let at = UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(
            url.at(at),
            build("http://p", "sum(up) + 1", at, Some("team-a"), &params)
        );
    }
    assert_eq!(
        url.at(t0()),
        "http://p/api/v1/query?query=sum%28up%29%20%2B%201&time=2024-01-18T12:34:56Z&namespace=team-a&dedup=false&x=a%20b"
    );
}
