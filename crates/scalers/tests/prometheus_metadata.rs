//! The Prometheus trigger's metadata and authentication against KEDA's test tables
//! (`testPromMetadata`, `prometheusMetricIdentifiers`, `testPrometheusAuthMetadata` in
//! `pkg/scalers/prometheus_scaler_test.go`, keda.md §4.2–§4.3), with the error texts KEDA's source
//! produces, plus defaults, trimming, aliases, durations, maps, SigV4 selection and secret redaction.

use std::collections::BTreeMap;
use std::time::Duration;

use prescale_core::spec::MetricTargetType;
use prescale_scalers::Error;
use prescale_scalers::prometheus::metadata::{
    ApiKeyMethod, AuthMode, AwsCredentials, PodIdentity, PrometheusMetadata, TriggerInput, parse,
    parse_trigger,
};

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What `NewPrometheusScaler` returns for a typed-config error (KEDA wraps it twice).
fn wrapped(inner: &str) -> String {
    format!("error parsing prometheus metadata: error parsing prometheus metadata: {inner}")
}

fn err_text(r: Result<PrometheusMetadata, Error>) -> String {
    match r {
        Err(Error::Config(m)) => m,
        other => panic!("expected a config error, got {other:?}"),
    }
}

const BASE: &[(&str, &str)] = &[
    ("serverAddress", "http://localhost:9090"),
    ("metricName", "http_requests_total"),
    ("threshold", "100"),
    ("query", "up"),
];

fn base_with(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut m = map(BASE);
    m.extend(map(extra));
    m
}

fn parse_meta(m: &BTreeMap<String, String>) -> Result<PrometheusMetadata, Error> {
    parse(0, m, &BTreeMap::new(), None)
}

/// `testPromMetadata`, complete, in KEDA's order. `None`: ok; `Some(msg)`: the inner typed-config text.
#[test]
fn keda_test_prom_metadata() {
    let missing_server = "missing required parameter \"serverAddress\" in [triggerMetadata]";
    let missing_query = "missing required parameter \"query\" in [triggerMetadata]";
    let missing_threshold = "missing required parameter \"threshold\" in [triggerMetadata]";
    let rows: Vec<(BTreeMap<String, String>, Option<String>)> = vec![
        (
            map(&[]),
            Some([missing_server, missing_query, missing_threshold].join("\n")),
        ),
        (map(BASE), None),
        (
            map(&[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "100"),
                ("query", "up"),
                ("namespace", "foo"),
            ]),
            None,
        ),
        (base_with(&[("ignoreNullValues", "false")]), None),
        (base_with(&[("activationThreshold", "50")]), None),
        (
            base_with(&[("serverAddress", "")]),
            Some(missing_server.to_string()),
        ),
        (
            map(&[
                ("serverAddress", "http://localhost:9090"),
                ("metricName", "http_requests_total"),
                ("query", "up"),
            ]),
            Some(missing_threshold.to_string()),
        ),
        (
            base_with(&[("threshold", "one")]),
            Some("unable to set param \"threshold\" value \"one\": unable to unmarshal to field type float64: invalid character 'o' looking for beginning of value".to_string()),
        ),
        (
            base_with(&[("activationThreshold", "one")]),
            Some("unable to set param \"activationThreshold\" value \"one\": unable to unmarshal to field type float64: invalid character 'o' looking for beginning of value".to_string()),
        ),
        (base_with(&[("query", "")]), Some(missing_query.to_string())),
        (
            base_with(&[("ignoreNullValues", "xxxx")]),
            Some("unable to set param \"ignoreNullValues\" value \"xxxx\": unable to parse boolean value \"xxxx\": strconv.ParseBool: parsing \"xxxx\": invalid syntax".to_string()),
        ),
        (
            base_with(&[
                ("serverAddress", "https://localhost:9090"),
                ("unsafeSsl", "true"),
            ]),
            None,
        ),
        (base_with(&[("customHeaders", "key1=value1,key2=value2")]), None),
        (
            base_with(&[("customHeaders", "key1=value1,key2")]),
            Some("unable to set param \"customHeaders\" value \"key1=value1,key2\": expected format key=value, got \"key2\"".to_string()),
        ),
        (
            base_with(&[("queryParameters", "key1=value1,key2=value2")]),
            None,
        ),
        (
            base_with(&[("queryParameters", "key1=value1,key2")]),
            Some("unable to set param \"queryParameters\" value \"key1=value1,key2\": expected format key=value, got \"key2\"".to_string()),
        ),
        (base_with(&[("timeout", "1000")]), None),
        (
            base_with(&[("timeout", "-1")]),
            Some("unable to set param \"timeout\" value \"-1\": duration cannot be negative: -1 milliseconds".to_string()),
        ),
        (
            base_with(&[("timeout", "a")]),
            Some("unable to set param \"timeout\" value \"a\": unable to parse duration value \"a\": must be either a duration string (e.g. '30s', '5m') or a number of milliseconds".to_string()),
        ),
    ];
    assert_eq!(rows.len(), 19, "testPromMetadata has 19 rows");
    for (i, (m, expected)) in rows.iter().enumerate() {
        let got = parse_meta(m);
        match expected {
            None => assert!(got.is_ok(), "row {i}: {got:?}"),
            Some(inner) => assert_eq!(err_text(got), wrapped(inner), "row {i}"),
        }
    }
}

/// `prometheusMetricIdentifiers`.
#[test]
fn keda_metric_identifiers() {
    for (index, name) in [(0, "s0-prometheus"), (1, "s1-prometheus")] {
        let meta = parse(index, &map(BASE), &BTreeMap::new(), None).expect("valid");
        assert_eq!(meta.metric_name(), name);
        assert_eq!(meta.trigger_index, index);
    }
}

/// `testPrometheusAuthMetadata`, complete (18 rows, including the duplicated `tls,basic` row).
#[test]
fn keda_test_prometheus_auth_metadata() {
    let tls_missing = |cert: &str, key: &str| {
        wrapped(&format!(
            "cert={cert} and key={key} are required when tls auth is enabled"
        ))
    };
    let custom_missing = |h: &str, v: &str| {
        wrapped(&format!(
            "customAuthHeader={h} and customAuthValue={v} are required when custom auth is enabled"
        ))
    };
    type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, Option<String>);
    let rows: Vec<Row<'_>> = vec![
        ("tls", &[("ca", "caaa"), ("cert", "ceert"), ("key", "keey")], "", None),
        ("tls", &[("cert", "ceert"), ("key", "keey")], "", None),
        (
            "tls",
            &[("ca", "caaa"), ("cert", "ceert")],
            "",
            Some(tls_missing("<present>", "<empty>")),
        ),
        (
            "tls",
            &[("ca", "caaa"), ("key", "keey")],
            "",
            Some(tls_missing("<empty>", "<present>")),
        ),
        ("bearer", &[("bearerToken", "tooooken")], "", None),
        (
            "bearer",
            &[],
            "",
            Some(wrapped(
                "bearer token=<empty> is required when bearer auth is enabled",
            )),
        ),
        ("basic", &[("username", "user"), ("password", "pass")], "", None),
        (
            "basic",
            &[],
            "",
            Some(wrapped(
                "username=<empty> is required when basic auth is enabled",
            )),
        ),
        (
            "tls, basic",
            &[
                ("ca", "caaa"),
                ("cert", "ceert"),
                ("key", "keey"),
                ("username", "user"),
                ("password", "pass"),
            ],
            "",
            None,
        ),
        (
            "tls,basic",
            &[("username", "user"), ("password", "pass")],
            "",
            Some(tls_missing("<empty>", "<empty>")),
        ),
        (
            "custom",
            &[("customAuthHeader", "header"), ("customAuthValue", "value")],
            "",
            None,
        ),
        (
            "custom",
            &[("customAuthHeader", "")],
            "",
            Some(custom_missing("<empty>", "<empty>")),
        ),
        (
            "custom",
            &[("customAuthValue", "")],
            "",
            Some(custom_missing("<empty>", "<empty>")),
        ),
        (
            "custom",
            &[
                ("customAuthHeader", "header\n"),
                ("customAuthValue", "value\n"),
            ],
            "",
            None,
        ),
        (
            "tls,basic",
            &[("username", "user"), ("password", "pass")],
            "",
            Some(tls_missing("<empty>", "<empty>")),
        ),
        (
            "basic",
            &[("username", "user"), ("password", "pass")],
            "azure-workload",
            Some(
                "error parsing prometheus metadata: pod identity cannot be enabled with other auth types"
                    .to_string(),
            ),
        ),
        ("", &[], "azure-workload", None),
        ("", &[], "azure", None),
    ];
    assert_eq!(rows.len(), 18, "testPrometheusAuthMetadata has 18 rows");
    for (i, (modes, auth, provider, expected)) in rows.iter().enumerate() {
        let metadata = if modes.is_empty() {
            map(BASE)
        } else {
            base_with(&[("authModes", modes)])
        };
        let pod_identity = (!provider.is_empty()).then_some(*provider);
        let got = parse(0, &metadata, &map(auth), pod_identity);
        match expected {
            None => assert!(got.is_ok(), "row {i}: {got:?}"),
            Some(msg) => assert_eq!(&err_text(got), msg, "row {i}"),
        }
    }
}

#[test]
fn auth_values_are_parsed_and_trimmed() {
    let m = base_with(&[("authModes", " tls , basic ")]);
    let a = map(&[
        ("ca", "caaa"),
        ("cert", "ceert"),
        ("key", "keey"),
        ("username", " user "),
        ("password", "pass\n"),
    ]);
    let meta = parse(0, &m, &a, None).expect("valid");
    assert_eq!(meta.auth.modes, vec![AuthMode::Tls, AuthMode::Basic]);
    assert_eq!(meta.auth.username.as_deref(), Some("user"));
    assert_eq!(
        meta.auth.password.as_ref().map(|s| s.expose()),
        Some("pass")
    );
    assert_eq!(meta.auth.cert.as_deref(), Some("ceert"));
    assert_eq!(meta.auth.key.as_ref().map(|s| s.expose()), Some("keey"));
    assert_eq!(meta.auth.ca.as_deref(), Some("caaa"));
    assert!(meta.auth.aws.is_none(), "no SigV4 when authModes is set");

    let custom = parse(
        0,
        &base_with(&[("authModes", "custom")]),
        &map(&[
            ("customAuthHeader", "header\n"),
            ("customAuthValue", "value\n"),
        ]),
        None,
    )
    .expect("valid");
    assert_eq!(custom.auth.custom_header.as_deref(), Some("header"));
    assert_eq!(
        custom.auth.custom_value.as_ref().map(|s| s.expose()),
        Some("value")
    );
}

#[test]
fn aliases() {
    // authMode is an alias of authModes; token of bearerToken; authModes may come from authParams.
    let meta = parse(
        0,
        &base_with(&[("authMode", "bearer")]),
        &map(&[("token", "tok")]),
        None,
    )
    .expect("valid");
    assert_eq!(meta.auth.modes, vec![AuthMode::Bearer]);
    assert_eq!(
        meta.auth.bearer_token.as_ref().map(|s| s.expose()),
        Some("tok")
    );

    let meta = parse(
        0,
        &map(BASE),
        &map(&[
            ("authModes", "bearer"),
            ("bearerToken", "b"),
            ("token", "t"),
        ]),
        None,
    )
    .expect("valid");
    assert_eq!(meta.auth.modes, vec![AuthMode::Bearer]);
    // bearerToken is looked up before its alias.
    assert_eq!(
        meta.auth.bearer_token.as_ref().map(|s| s.expose()),
        Some("b")
    );

    // Metadata comes before authParams; an empty or blank value counts as absent.
    let meta = parse(
        0,
        &base_with(&[("authModes", "  "), ("awsRegion", "eu-west-1")]),
        &map(&[
            ("authModes", "tls"),
            ("cert", "c"),
            ("key", "k"),
            ("awsRegion", "us-east-2"),
        ]),
        None,
    )
    .expect("valid");
    assert_eq!(meta.auth.modes, vec![AuthMode::Tls]);
    assert_eq!(meta.aws_region.as_deref(), Some("eu-west-1"));
    let meta = parse(0, &map(BASE), &map(&[("awsRegion", "us-east-2")]), None).expect("valid");
    assert_eq!(meta.aws_region.as_deref(), Some("us-east-2"));
}

#[test]
fn auth_mode_enum_and_exclusive_set() {
    let one_of = |v: &str| {
        wrapped(&format!(
            "parameter \"authModes,authMode\" value \"{v}\" must be one of [apiKey basic tls bearer custom oauth]"
        ))
    };
    let r = parse(
        0,
        &base_with(&[("authModes", "digest")]),
        &BTreeMap::new(),
        None,
    );
    assert_eq!(err_text(r), one_of("digest"));
    let r = parse(
        0,
        &base_with(&[("authModes", "tls,")]),
        &BTreeMap::new(),
        None,
    );
    assert_eq!(err_text(r), one_of("tls,"));
    let r = parse(
        0,
        &base_with(&[("authModes", "bearer,basic")]),
        &map(&[("bearerToken", "t"), ("username", "u")]),
        None,
    );
    assert_eq!(
        err_text(r),
        wrapped(
            "parameter \"authModes,authMode\" value \"bearer,basic\" must contain only one of [bearer basic oauth]"
        )
    );
    // The exclusive set counts occurrences, so a repeated mode fails too.
    let r = parse(
        0,
        &base_with(&[("authModes", "basic, basic")]),
        &map(&[("username", "u")]),
        None,
    );
    assert_eq!(
        err_text(r),
        wrapped(
            "parameter \"authModes,authMode\" value \"basic, basic\" must contain only one of [bearer basic oauth]"
        )
    );
    // oauth validation; apiKey validation.
    let r = parse(
        0,
        &base_with(&[("authModes", "oauth")]),
        &map(&[("clientID", "c")]),
        None,
    );
    assert_eq!(
        err_text(r),
        wrapped("oauthTokenURI=<empty> and clientID=<present> are required when oauth is enabled")
    );
    let r = parse(
        0,
        &base_with(&[("authModes", "apiKey")]),
        &BTreeMap::new(),
        None,
    );
    assert_eq!(
        err_text(r),
        wrapped("apiKey is required when apiKey auth is enabled")
    );
    let ok = parse(
        0,
        &base_with(&[
            ("authModes", "apiKey"),
            ("method", "query"),
            ("keyParamName", "k"),
        ]),
        &map(&[("apiKey", "secret-api-key")]),
        None,
    )
    .expect("valid");
    assert_eq!(ok.auth.api_key_method, ApiKeyMethod::Query);
    assert_eq!(ok.auth.api_key_param_name.as_deref(), Some("k"));
}

#[test]
fn generic_auth_fields_can_fail_a_prometheus_trigger() {
    // KEDA's nested auth config reads `method` from the metadata even without authModes.
    let r = parse_meta(&base_with(&[("method", "post")]));
    assert_eq!(
        err_text(r),
        wrapped("parameter \"method\" value \"post\" must be one of [header query]")
    );
    let r = parse(0, &map(BASE), &map(&[("endpointParams", "a=%zz")]), None);
    assert_eq!(
        err_text(r),
        wrapped(
            "unable to set param \"endpointParams\" value \"a=%zz\": expected url.Values, unable to parse query \"a=%zz\": invalid URL escape \"%zz\""
        )
    );
}

#[test]
fn pod_identity_none_is_allowed_with_auth_modes() {
    let m = base_with(&[("authModes", "basic")]);
    let a = map(&[("username", "u")]);
    assert!(parse(0, &m, &a, Some("none")).is_ok());
    assert!(parse(0, &m, &a, Some("")).is_ok());
    assert!(parse(0, &m, &a, Some("aws")).is_err());
}

#[test]
fn defaults() {
    let meta = parse_meta(&map(BASE)).expect("valid");
    assert_eq!(meta.server_address, "http://localhost:9090");
    assert_eq!(meta.query, "up");
    assert_eq!(meta.threshold, 100.0);
    assert_eq!(meta.activation_threshold, 0.0);
    assert!(meta.ignore_null_values);
    assert!(!meta.unsafe_ssl);
    assert_eq!(meta.namespace, None);
    assert!(meta.custom_headers.is_empty());
    assert!(meta.query_parameters.is_empty());
    assert_eq!(meta.timeout, None);
    assert_eq!(meta.aws_region, None);
    assert_eq!(meta.identity_owner, None);
    assert!(meta.auth.disabled());
    assert!(meta.auth.aws.is_none(), "plain Prometheus: no SigV4");
    assert_eq!(meta.metric_type, MetricTargetType::AverageValue);
}

#[test]
fn values_are_trimmed_and_typed() {
    let meta = parse_meta(&map(&[
        ("serverAddress", "  http://prom:9090 \n"),
        ("query", "\tsum(rate(x[1m]))  "),
        ("threshold", " 100.50 "),
        ("activationThreshold", "1e3"),
        ("namespace", " foo "),
        ("ignoreNullValues", "F"),
        ("unsafeSsl", "1"),
        ("identityOwner", " pod "),
    ]))
    .expect("valid");
    assert_eq!(meta.server_address, "http://prom:9090");
    assert_eq!(meta.query, "sum(rate(x[1m]))");
    assert_eq!(meta.threshold, 100.5);
    assert_eq!(meta.activation_threshold, 1000.0);
    assert_eq!(meta.namespace.as_deref(), Some("foo"));
    assert!(!meta.ignore_null_values);
    assert!(meta.unsafe_ssl);
    assert_eq!(meta.identity_owner.as_deref(), Some("pod"));

    // Whitespace-only serverAddress counts as missing.
    let r = parse_meta(&base_with(&[("serverAddress", "   ")]));
    assert_eq!(
        err_text(r),
        wrapped("missing required parameter \"serverAddress\" in [triggerMetadata]")
    );
}

#[test]
fn floats_follow_json_number_rules() {
    let t = |v: &str| parse_meta(&base_with(&[("threshold", v)]));
    assert_eq!(t("-1.5").expect("valid").threshold, -1.5);
    let unable = |v: &str, inner: &str| {
        wrapped(&format!(
            "unable to set param \"threshold\" value \"{v}\": unable to unmarshal to field type float64: {inner}"
        ))
    };
    assert_eq!(
        err_text(t("+1")),
        unable("+1", "invalid character '+' looking for beginning of value")
    );
    assert_eq!(
        err_text(t("1,5")),
        unable("1,5", "invalid character ',' after top-level value")
    );
    assert_eq!(
        err_text(t("1e400")),
        unable(
            "1e400",
            "json: cannot unmarshal number 1e400 into Go value of type float64"
        )
    );
    assert_eq!(
        err_text(t("Infinity")),
        unable(
            "Infinity",
            "invalid character 'I' looking for beginning of value"
        )
    );
    // `null` panics inside KEDA's reflection; the recovered panic replaces all other errors.
    let r = parse_meta(&map(&[("threshold", "null"), ("query", "")]));
    assert_eq!(
        err_text(r),
        wrapped("failed to parse typed config *reflect.ValueError resulted in panic")
    );
}

#[test]
fn errors_are_joined_in_field_order() {
    let r = parse_meta(&map(&[
        ("query", "up"),
        ("threshold", "x"),
        ("ignoreNullValues", "maybe"),
        ("authModes", "bearer"),
    ]));
    assert_eq!(
        err_text(r),
        wrapped(
            &[
                "bearer token=<empty> is required when bearer auth is enabled",
                "missing required parameter \"serverAddress\" in [triggerMetadata]",
                "unable to set param \"threshold\" value \"x\": unable to unmarshal to field type float64: invalid character 'x' looking for beginning of value",
                "unable to set param \"ignoreNullValues\" value \"maybe\": unable to parse boolean value \"maybe\": strconv.ParseBool: parsing \"maybe\": invalid syntax",
            ]
            .join("\n")
        )
    );
}

#[test]
fn timeouts() {
    let t = |v: &str| parse_meta(&base_with(&[("timeout", v)]));
    assert_eq!(
        t("1000").expect("valid").timeout,
        Some(Duration::from_millis(1000))
    );
    assert_eq!(
        t("30s").expect("valid").timeout,
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        t("1m30s").expect("valid").timeout,
        Some(Duration::from_secs(90))
    );
    assert_eq!(
        t("1.5s").expect("valid").timeout,
        Some(Duration::from_millis(1500))
    );
    // Zero means "use the global timeout", like absence.
    assert_eq!(t("0").expect("valid").timeout, None);
    assert_eq!(t("0s").expect("valid").timeout, None);
    assert_eq!(
        err_text(t("-5s")),
        wrapped(
            "unable to set param \"timeout\" value \"-5s\": duration cannot be negative: \"-5s\""
        )
    );
    assert_eq!(
        err_text(t("-1")),
        wrapped(
            "unable to set param \"timeout\" value \"-1\": duration cannot be negative: -1 milliseconds"
        )
    );
    assert!(t("1.5").is_err(), "a fractional number has no unit");
    assert!(t("5d").is_err(), "no day unit");
}

#[test]
fn custom_headers_and_query_parameters() {
    let meta = parse_meta(&base_with(&[
        ("customHeaders", " X-Scope-OrgID = tenant1 , b=2 "),
        ("queryParameters", "key1=value1,key2=value 2"),
    ]))
    .expect("valid");
    assert_eq!(
        meta.custom_headers,
        vec![
            ("X-Scope-OrgID".to_string(), "tenant1".to_string()),
            ("b".to_string(), "2".to_string())
        ]
    );
    assert_eq!(
        meta.query_parameters,
        vec![
            ("key1".to_string(), "value1".to_string()),
            ("key2".to_string(), "value 2".to_string())
        ]
    );
    // A value containing `=` splits into three parts and fails.
    let r = parse_meta(&base_with(&[(
        "customHeaders",
        "Authorization=Basic dXNlcjpwYXNz==",
    )]));
    assert_eq!(
        err_text(r),
        wrapped(
            "unable to set param \"customHeaders\" value \"Authorization=Basic dXNlcjpwYXNz==\": expected format key=value, got \"Authorization=Basic dXNlcjpwYXNz==\""
        )
    );
    let r = parse_meta(&base_with(&[("queryParameters", "a=b=c")]));
    assert_eq!(
        err_text(r),
        wrapped(
            "unable to set param \"queryParameters\" value \"a=b=c\": expected format key=value, got \"a=b=c\""
        )
    );
    // A trailing comma leaves an empty item, which fails too.
    let r = parse_meta(&base_with(&[("customHeaders", "a=1,")]));
    assert_eq!(
        err_text(r),
        wrapped(
            "unable to set param \"customHeaders\" value \"a=1,\": expected format key=value, got \"\""
        )
    );
}

#[test]
fn metric_type() {
    let m = map(BASE);
    let none = BTreeMap::new();
    let input = |t| TriggerInput {
        trigger_index: 2,
        metadata: &m,
        auth_params: &none,
        resolved_env: &none,
        pod_identity: None,
        metric_type: t,
    };
    let value = MetricTargetType::Value;
    assert_eq!(
        parse_trigger(&input(Some(&value)))
            .expect("valid")
            .metric_type,
        MetricTargetType::Value
    );
    let util = MetricTargetType::Utilization;
    assert_eq!(
        err_text(parse_trigger(&input(Some(&util)))),
        "error getting scaler metric type: 'Utilization' metric type is unsupported for external metrics, allowed values are 'Value' or 'AverageValue'"
    );
    assert_eq!(
        parse_trigger(&input(None)).expect("valid").metric_name(),
        "s2-prometheus"
    );
}

/// The seed's trigger (Amazon Managed Service for Prometheus via the SigV4 proxy).
#[test]
fn seed_trigger_selects_aws_operator_credentials() {
    let m = map(&[
        (
            "serverAddress",
            "http://keda-sigv4.keda.svc.cluster.local/workspaces/$WORKSPACE",
        ),
        ("metricName", "ho11y_total"),
        ("awsRegion", "us-east-1"),
        ("identityOwner", "operator"),
        ("threshold", "1"),
        ("query", "rate(ho11y_total[1m])"),
    ]);
    let meta = parse(0, &m, &BTreeMap::new(), None).expect("valid");
    assert_eq!(
        meta.server_address,
        "http://keda-sigv4.keda.svc.cluster.local/workspaces/$WORKSPACE"
    );
    assert_eq!(meta.query, "rate(ho11y_total[1m])");
    assert_eq!(meta.threshold, 1.0);
    assert_eq!(meta.identity_owner.as_deref(), Some("operator"));
    assert_eq!(meta.metric_name(), "s0-prometheus");
    let aws = meta.auth.aws.expect("SigV4 on");
    assert_eq!(aws.region.as_deref(), Some("us-east-1"));
    assert_eq!(aws.credentials, AwsCredentials::Operator);
}

#[test]
fn aws_credential_sources() {
    let none = BTreeMap::new();
    let aws_of = |m: &BTreeMap<String, String>,
                  a: &BTreeMap<String, String>,
                  env: &BTreeMap<String, String>,
                  pi: Option<PodIdentity<'_>>| {
        parse_trigger(&TriggerInput {
            trigger_index: 0,
            metadata: m,
            auth_params: a,
            resolved_env: env,
            pod_identity: pi,
            metric_type: None,
        })
        .expect("valid")
        .auth
        .aws
        .map(|x| x.credentials)
    };
    let base = map(BASE);
    // 1. podIdentity aws: role from podIdentity, else authParams awsRoleArn, else none.
    assert_eq!(
        aws_of(&base, &none, &none, Some(PodIdentity::provider("aws"))),
        Some(AwsCredentials::PodIdentity {
            role_arn: None,
            external_id: None
        })
    );
    assert_eq!(
        aws_of(
            &base,
            &map(&[("awsRoleArn", "arn:b")]),
            &none,
            Some(PodIdentity {
                provider: "aws",
                role_arn: Some("arn:a"),
                external_id: Some("x")
            })
        ),
        Some(AwsCredentials::PodIdentity {
            role_arn: Some("arn:a".into()),
            external_id: Some("x".into())
        })
    );
    assert_eq!(
        aws_of(
            &base,
            &map(&[("awsRoleArn", "arn:b")]),
            &none,
            Some(PodIdentity::provider("aws"))
        ),
        Some(AwsCredentials::PodIdentity {
            role_arn: Some("arn:b".into()),
            external_id: None
        })
    );
    // 2. authParams awsRoleArn.
    assert_eq!(
        aws_of(&base, &map(&[("awsRoleArn", "arn:r")]), &none, None),
        Some(AwsCredentials::AssumeRole {
            role_arn: "arn:r".into()
        })
    );
    // 3. authParams keys (either spelling); a missing secret means no SigV4 (silently).
    let keys = aws_of(
        &base,
        &map(&[
            ("awsAccessKeyId", "AKIA1"),
            ("awsSecretAccessKey", "s3cr3t"),
            ("awsSessionToken", "sess"),
        ]),
        &none,
        None,
    );
    match keys {
        Some(AwsCredentials::Static {
            access_key_id,
            secret_access_key,
            session_token,
        }) => {
            assert_eq!(access_key_id, "AKIA1");
            assert_eq!(secret_access_key.expose(), "s3cr3t");
            assert_eq!(
                session_token.map(|s| s.expose().to_string()).as_deref(),
                Some("sess")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        aws_of(&base, &map(&[("awsAccessKeyID", "AKIA1")]), &none, None),
        None
    );
    // 4. metadata key id (or from env) + secret from env.
    let env = map(&[("KEY", "AKIA2"), ("SECRET", "envsecret")]);
    let m = base_with(&[
        ("awsAccessKeyIDFromEnv", "KEY"),
        ("awsSecretAccessKeyFromEnv", "SECRET"),
    ]);
    assert!(matches!(
        aws_of(&m, &none, &env, None),
        Some(AwsCredentials::Static { ref access_key_id, .. }) if access_key_id == "AKIA2"
    ));
    assert_eq!(aws_of(&m, &none, &none, None), None);
    // 5. identityOwner operator (and, in KEDA's code, any value other than ""/pod).
    assert_eq!(
        aws_of(
            &base_with(&[("identityOwner", "operator")]),
            &none,
            &none,
            None
        ),
        Some(AwsCredentials::Operator)
    );
    assert_eq!(
        aws_of(&base_with(&[("identityOwner", "pod")]), &none, &none, None),
        None
    );
    // Not with authModes.
    assert_eq!(
        aws_of(
            &base_with(&[("identityOwner", "operator"), ("authModes", "bearer")]),
            &map(&[("bearerToken", "t")]),
            &none,
            None
        ),
        None
    );
}

#[test]
fn debug_output_has_no_secrets() {
    let secrets = [
        "p4ssw0rd-secret",
        "b34rer-secret",
        "priv-key-secret",
        "custom-value-secret",
        "client-secret-secret",
        "api-key-secret",
    ];
    let meta = parse(
        0,
        &base_with(&[("authModes", "basic,tls,custom")]),
        &map(&[
            ("username", "user"),
            ("password", secrets[0]),
            ("bearerToken", secrets[1]),
            ("cert", "cert"),
            ("key", secrets[2]),
            ("customAuthHeader", "X-Key"),
            ("customAuthValue", secrets[3]),
            ("clientSecret", secrets[4]),
            ("apiKey", secrets[5]),
        ]),
        None,
    )
    .expect("valid");
    let debug = format!("{meta:?}");
    let pretty = format!("{meta:#?}");
    for s in secrets {
        assert!(!debug.contains(s), "{s} leaked: {debug}");
        assert!(!pretty.contains(s), "{s} leaked");
    }
    assert!(debug.contains("user"));

    let aws = parse(
        0,
        &map(BASE),
        &map(&[
            ("awsAccessKeyID", "AKIA"),
            ("awsSecretAccessKey", "aws-secret-key"),
            ("awsSessionToken", "aws-session-token"),
        ]),
        None,
    )
    .expect("valid");
    let debug = format!("{aws:?}");
    assert!(!debug.contains("aws-secret-key") && !debug.contains("aws-session-token"));
    assert!(debug.contains("Secret(<redacted>)"));
}
