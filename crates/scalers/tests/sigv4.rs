//! SigV4-signed Prometheus triggers against the loopback AMP-like server of `prescale-testkit`, whose verifier
//! is an implementation of SigV4 independent of the `aws-sigv4` crate prescale signs with. Credentials come
//! from trigger authentication parameters or from an injected environment (the operator's credential chain);
//! when they cannot be resolved, nothing reaches the server.
#[path = "support/trigger.rs"]
mod trigger;

use std::collections::BTreeMap;
use std::time::SystemTime;

use prescale_aws::AwsEnv;
use prescale_core::spec::{AuthPodIdentity, PodIdentityProvider, ScaleTrigger};
use prescale_scalers::{
    Error, Evaluation, PrometheusScaler, Result, Scaler, ScalerContext, TriggerAuth,
};
use prescale_testkit::amp::{AmpConfig, AmpServer};
use trigger::prometheus_trigger;

const AKID: &str = "AKIDSCALERTEST";
const SECRET: &str = "scaler/secret+key";
const REGION: &str = "eu-west-1";
const WS: &str = "ws-0000aaaa-1111";
const ANSWER: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"3.25"]}]}}"#;

fn amp() -> AmpServer {
    AmpServer::start_blocking(
        AmpConfig::new(REGION, WS)
            .with_key(AKID, SECRET)
            .with_query_answer(ANSWER),
    )
    .unwrap()
}

fn trigger(server_address: &str, extra: &[(&str, &str)]) -> ScaleTrigger {
    let mut t = prometheus_trigger(&[
        ("serverAddress", server_address),
        ("query", "sum(rate(ho11y_total{job=\"ho11y\"}[1m])) + 0"),
        ("threshold", "1"),
    ]);
    t.metadata
        .extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    t
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An environment with nothing the credential chain could use (and no instance metadata service).
fn empty_env() -> AwsEnv {
    AwsEnv::from_vars([("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string())])
        .with_home(std::env::temp_dir().join("prescale-sigv4-test-no-home"))
}

fn env_with_keys() -> AwsEnv {
    empty_env()
        .with_var("AWS_ACCESS_KEY_ID", AKID)
        .with_var("AWS_SECRET_ACCESS_KEY", SECRET)
}

fn build(
    ctx: &ScalerContext,
    t: &ScaleTrigger,
    params: &BTreeMap<String, String>,
    pod_identity: Option<&AuthPodIdentity>,
) -> Result<Box<dyn Scaler>> {
    ctx.build(
        0,
        t,
        TriggerAuth {
            params: Some(params),
            pod_identity,
            resolved_env: None,
        },
    )
}

fn eval(s: &dyn Scaler) -> Result<Evaluation> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(s.evaluate(SystemTime::now()))
}

#[test]
fn static_keys_from_the_trigger_authentication_sign_the_query() {
    let server = amp();
    let t = trigger(&server.workspace_url(), &[("awsRegion", REGION)]);
    let params = map(&[("awsAccessKeyID", AKID), ("awsSecretAccessKey", SECRET)]);
    let scaler = build(&ScalerContext::with_aws_env(empty_env()), &t, &params, None).unwrap();
    assert_eq!(eval(scaler.as_ref()).unwrap().value, 3.25);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let v = reqs[0].verification.as_ref().expect("signature verified");
    assert_eq!(v.access_key_id, AKID);
    assert!(
        v.credential_scope.contains("/eu-west-1/aps/aws4_request"),
        "{}",
        v.credential_scope
    );
    // The PromQL '+' and spaces travelled as %2B and %20, so the signed and the received query agree.
    assert!(
        reqs[0].query.as_deref().unwrap().contains("%20%2B%200"),
        "{:?}",
        reqs[0].query
    );
}

#[test]
fn identity_owner_operator_uses_the_operator_credential_chain() {
    let server = amp();
    // The seed's trigger shape.
    let t = trigger(
        &server.workspace_url(),
        &[("awsRegion", REGION), ("identityOwner", "operator")],
    );
    let ctx = ScalerContext::with_aws_env(env_with_keys());
    let scaler = build(&ctx, &t, &BTreeMap::new(), None).unwrap();
    assert!(
        scaler
            .describe()
            .iter()
            .any(|(k, v)| *k == "sigv4" && v.contains("region eu-west-1")),
        "{:?}",
        scaler.describe()
    );
    assert_eq!(eval(scaler.as_ref()).unwrap().value, 3.25);
    assert_eq!(server.accepted().len(), 1);
}

#[test]
fn pod_identity_aws_without_a_role_uses_the_operator_credential_chain() {
    let server = amp();
    let t = trigger(&server.workspace_url(), &[("awsRegion", REGION)]);
    let pi = AuthPodIdentity {
        provider: PodIdentityProvider::Aws,
        identity_id: None,
        identity_tenant_id: None,
        identity_authority_host: None,
        role_arn: None,
        external_id: None,
        identity_owner: None,
    };
    let ctx = ScalerContext::with_aws_env(env_with_keys());
    let scaler = build(&ctx, &t, &BTreeMap::new(), Some(&pi)).unwrap();
    assert_eq!(eval(scaler.as_ref()).unwrap().value, 3.25);
    assert_eq!(server.accepted().len(), 1);
}

#[test]
fn no_credentials_means_no_request_and_an_error_naming_what_was_tried() {
    let server = amp();
    let t = trigger(
        &server.workspace_url(),
        &[("awsRegion", REGION), ("identityOwner", "operator")],
    );
    let scaler = build(
        &ScalerContext::with_aws_env(empty_env()),
        &t,
        &BTreeMap::new(),
        None,
    )
    .unwrap();
    let err = eval(scaler.as_ref()).unwrap_err();
    assert!(matches!(err, Error::Credentials(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
    assert!(text.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{text}");
    assert!(text.contains("not sent unsigned"), "{text}");
    assert!(
        server.requests().is_empty(),
        "an unsigned request reached the server"
    );
}

#[test]
fn aws_settings_without_credentials_are_refused_at_construction() {
    let server = amp();
    let ctx = ScalerContext::with_aws_env(env_with_keys());
    // awsRegion alone: KEDA would send the query unsigned.
    let t = trigger(&server.workspace_url(), &[("awsRegion", REGION)]);
    let err = build(&ctx, &t, &BTreeMap::new(), None).err().unwrap();
    assert!(
        err.to_string()
            .contains("AWS SigV4 settings (metadata awsRegion) without AWS credentials"),
        "{err}"
    );
    // A key id without its secret.
    let err = build(&ctx, &t, &map(&[("awsAccessKeyID", AKID)]), None)
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("authentication parameter awsAccessKeyID"),
        "{err}"
    );
    assert!(!err.to_string().contains(SECRET));
    // An AMP workspace address with no AWS settings at all.
    let t = trigger(
        "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1",
        &[],
    );
    let err = build(&ctx, &t, &BTreeMap::new(), None).err().unwrap();
    assert!(
        err.to_string()
            .contains("only answers SigV4-signed queries"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn the_region_comes_from_the_workspace_host_when_aws_region_is_absent() {
    let t = trigger(
        "https://aps-workspaces.ap-southeast-2.amazonaws.com/workspaces/ws-1",
        &[],
    );
    let params = map(&[("awsAccessKeyID", AKID), ("awsSecretAccessKey", SECRET)]);
    let ctx = ScalerContext::with_aws_env(empty_env());
    let auth = TriggerAuth {
        params: Some(&params),
        ..Default::default()
    };
    let scaler = PrometheusScaler::new(&ctx, 0, &t, auth).unwrap();
    assert_eq!(scaler.sigv4_region(), Some("ap-southeast-2"));
    // awsRegion wins over the host.
    let t = trigger(
        "https://aps-workspaces.ap-southeast-2.amazonaws.com/workspaces/ws-1",
        &[("awsRegion", "us-west-2")],
    );
    let scaler = PrometheusScaler::new(&ctx, 0, &t, auth).unwrap();
    assert_eq!(scaler.sigv4_region(), Some("us-west-2"));
    // Neither, and no AWS_REGION: an error rather than KEDA's empty region.
    let t = trigger("http://127.0.0.1:1/workspaces/ws-1", &[]);
    let err = PrometheusScaler::new(&ctx, 0, &t, auth).unwrap_err();
    assert!(err.to_string().contains("no region"), "{err}");
    // AWS_REGION from the environment.
    let ctx = ScalerContext::with_aws_env(empty_env().with_var("AWS_REGION", "sa-east-1"));
    let scaler = PrometheusScaler::new(&ctx, 0, &t, auth).unwrap();
    assert_eq!(scaler.sigv4_region(), Some("sa-east-1"));
}

#[test]
fn a_wrong_secret_is_rejected_by_the_server_with_its_message() {
    let server = amp();
    let t = trigger(&server.workspace_url(), &[("awsRegion", REGION)]);
    let params = map(&[("awsAccessKeyID", AKID), ("awsSecretAccessKey", "wrong")]);
    let scaler = build(&ScalerContext::with_aws_env(empty_env()), &t, &params, None).unwrap();
    let err = eval(scaler.as_ref()).unwrap_err();
    match &err {
        Error::Api { status: 403, .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("signature"), "{err}");
    assert_eq!(server.rejected().len(), 1);
}

#[test]
fn aws_settings_next_to_auth_modes_or_an_amp_address_with_auth_modes_are_refused() {
    let ctx = ScalerContext::with_aws_env(env_with_keys());
    // KEDA would ignore the keys (authModes turns SigV4 off) and send the bearer token unsigned.
    let t = trigger("http://127.0.0.1:1", &[("authModes", "bearer")]);
    let params = map(&[
        ("bearerToken", "tok"),
        ("awsAccessKeyID", AKID),
        ("awsSecretAccessKey", SECRET),
    ]);
    let err = build(&ctx, &t, &params, None).err().unwrap().to_string();
    assert!(
        err.contains("authentication parameter awsAccessKeyID")
            && err.contains("together with authModes \"bearer\""),
        "{err}"
    );
    assert!(!err.contains(SECRET) && !err.contains("tok"), "{err}");
    // An AMP workspace with authModes and no AWS settings at all.
    let t = trigger(
        "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1",
        &[("authModes", "bearer")],
    );
    let err = build(&ctx, &t, &map(&[("bearerToken", "tok")]), None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("only answers SigV4-signed queries")
            && err.contains("sets authModes \"bearer\", which turns SigV4 off"),
        "{err}"
    );
}

#[test]
fn identity_owner_pod_without_keys_is_refused() {
    // identityOwner pod (KEDA's default owner) means "keys from the TriggerAuthentication"; with none, KEDA
    // sends unsigned requests.
    let t = trigger("http://127.0.0.1:1", &[("identityOwner", "pod")]);
    let err = build(
        &ScalerContext::with_aws_env(env_with_keys()),
        &t,
        &BTreeMap::new(),
        None,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("AWS SigV4 settings (metadata identityOwner) without AWS credentials"),
        "{err}"
    );
}

#[test]
fn a_server_address_that_cannot_be_signed_fails_at_construction() {
    // A raw '{' would be percent-encoded by the HTTP client after signing: the signature could never match.
    let t = trigger(
        "http://127.0.0.1:1/workspaces/{ws}",
        &[("awsRegion", REGION)],
    );
    let params = map(&[("awsAccessKeyID", AKID), ("awsSecretAccessKey", SECRET)]);
    let err = build(&ScalerContext::with_aws_env(empty_env()), &t, &params, None)
        .err()
        .unwrap();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("trigger 0: AWS SigV4: cannot sign"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
}
