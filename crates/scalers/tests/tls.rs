//! The Prometheus trigger over real TLS on loopback: server verification against the platform roots (which do
//! not know the test CA), `unsafeSsl`, a `ca` with and without `authModes` (KEDA applies it only with auth
//! modes), the `tls` auth mode's client certificate against a server that requires one, bad PEM, and one
//! shared client per TLS configuration.
#[path = "support/tls.rs"]
mod tls;
#[path = "support/trigger.rs"]
mod trigger;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use prescale_core::spec::ScaleTrigger;
use prescale_scalers::{Error, Evaluation, Result, Scaler, ScalerContext, TriggerAuth};
use tls::{Pki, serve_https};
use trigger::prometheus_trigger;

const VALUE_7: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"7"]}]}}"#;

fn trigger(base: &str, extra: &[(&str, &str)]) -> ScaleTrigger {
    let mut t = prometheus_trigger(&[
        ("serverAddress", base),
        ("query", "up"),
        ("threshold", "1"),
        ("timeout", "2000"),
    ]);
    t.metadata
        .extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    t
}

fn run(ctx: &ScalerContext, t: &ScaleTrigger, params: &[(&str, &str)]) -> Result<Evaluation> {
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let scaler = ctx.build(
        0,
        t,
        TriggerAuth {
            params: Some(&params),
            ..Default::default()
        },
    )?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(scaler.evaluate(SystemTime::now()))
}

#[test]
fn an_untrusted_server_certificate_is_refused_with_the_reason() {
    let pki = Pki::new();
    let (base, rx) = serve_https(&pki, false, VALUE_7);
    let err = run(&ScalerContext::new(), &trigger(&base, &[]), &[]).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    let text = err.to_string().to_lowercase();
    assert!(text.contains("certificate"), "{err}");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "no request may complete"
    );
}

#[test]
fn unsafe_ssl_skips_verification() {
    let pki = Pki::new();
    let (base, rx) = serve_https(&pki, false, VALUE_7);
    let eval = run(
        &ScalerContext::new(),
        &trigger(&base, &[("unsafeSsl", "true")]),
        &[],
    )
    .unwrap();
    assert_eq!(eval.value, 7.0);
    let seen = rx.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(
        seen.request_line
            .starts_with("GET /api/v1/query?query=up&time="),
        "{seen:?}"
    );
}

#[test]
fn a_ca_with_auth_modes_is_trusted_and_the_header_still_sent() {
    let pki = Pki::new();
    let (base, rx) = serve_https(&pki, false, VALUE_7);
    let t = trigger(&base, &[("authModes", "bearer")]);
    let eval = run(
        &ScalerContext::new(),
        &t,
        &[("bearerToken", "tok"), ("ca", &pki.ca_pem)],
    )
    .unwrap();
    assert_eq!(eval.value, 7.0);
    let seen = rx.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(
        seen.headers
            .iter()
            .any(|(n, v)| n == "authorization" && v == "Bearer tok"),
        "{seen:?}"
    );
    assert!(!seen.client_cert);
}

#[test]
fn a_ca_without_auth_modes_is_not_applied_as_in_keda() {
    let pki = Pki::new();
    let (base, _rx) = serve_https(&pki, false, VALUE_7);
    let err = run(
        &ScalerContext::new(),
        &trigger(&base, &[]),
        &[("ca", &pki.ca_pem)],
    )
    .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

#[test]
fn the_tls_auth_mode_presents_the_client_certificate() {
    let pki = Pki::new();
    let (base, rx) = serve_https(&pki, true, VALUE_7);
    let t = trigger(&base, &[("authModes", "tls")]);
    let params = [
        ("ca", pki.ca_pem.as_str()),
        ("cert", pki.client_cert_pem.as_str()),
        ("key", pki.client_key_pem.as_str()),
    ];
    let eval = run(&ScalerContext::new(), &t, &params).unwrap();
    assert_eq!(eval.value, 7.0);
    let seen = rx.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(seen.client_cert, "{seen:?}");

    // Without the tls mode no certificate is presented and the server ends the handshake.
    let t = trigger(&base, &[("authModes", "bearer")]);
    let err = run(
        &ScalerContext::new(),
        &t,
        &[("ca", &pki.ca_pem), ("bearerToken", "x")],
    )
    .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[test]
fn bad_pem_names_the_parameter() {
    let pki = Pki::new();
    let t = trigger("https://127.0.0.1:1", &[("authModes", "bearer")]);
    let err = run(
        &ScalerContext::new(),
        &t,
        &[("bearerToken", "x"), ("ca", "not a certificate")],
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::Config(
            "trigger 0: ca: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)"
                .to_string()
        )
    );
    let t = trigger("https://127.0.0.1:1", &[("authModes", "tls")]);
    let err = run(
        &ScalerContext::new(),
        &t,
        &[("cert", &pki.client_cert_pem), ("key", "garbage")],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("trigger 0: key: not a PEM private key"),
        "{err}"
    );
    // The key's text never appears in an error.
    let t = trigger("https://127.0.0.1:1", &[("authModes", "tls")]);
    let broken_key = pki.client_key_pem.replace('A', "B");
    let err = run(
        &ScalerContext::new(),
        &t,
        &[("cert", &pki.client_cert_pem), ("key", &broken_key)],
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains(&broken_key[40..80]), "{err}");
}

#[test]
fn triggers_with_the_same_tls_configuration_share_one_client() {
    let pki = Pki::new();
    let ctx = ScalerContext::new();
    let build = |t: &ScaleTrigger, params: &[(&str, &str)]| {
        let params: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ctx.build(
            0,
            t,
            TriggerAuth {
                params: Some(&params),
                ..Default::default()
            },
        )
        .map(|s: Box<dyn Scaler>| s.metric_name())
        .unwrap()
    };
    build(&trigger("http://127.0.0.1:1", &[]), &[]);
    build(&trigger("http://127.0.0.1:2", &[("query", "other")]), &[]);
    assert_eq!(ctx.http().len(), 1);
    build(
        &trigger("http://127.0.0.1:1", &[("unsafeSsl", "true")]),
        &[],
    );
    assert_eq!(ctx.http().len(), 2);
    let t = trigger("http://127.0.0.1:1", &[("authModes", "bearer")]);
    build(&t, &[("bearerToken", "a"), ("ca", &pki.ca_pem)]);
    build(&t, &[("bearerToken", "b"), ("ca", &pki.ca_pem)]);
    assert_eq!(ctx.http().len(), 3);
}
