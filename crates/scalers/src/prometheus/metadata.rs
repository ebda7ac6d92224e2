//! The Prometheus trigger's metadata and authentication, parsed exactly as KEDA parses them
//! (`parsePrometheusMetadata` and the config half of `NewPrometheusScaler` in
//! `pkg/scalers/prometheus_scaler.go`, KEDA's typed-config parser, `authentication.Config` and, for
//! SigV4, `aws.GetAwsAuthorization`). See `shared/reference/keda.md` §3.1 and §3.3.
//!
//! - [`parse`]: the brief's entry point (metadata, resolved authentication parameters, a pod identity
//!   provider name).
//! - [`parse_trigger`]: the same with everything KEDA's `ScalerConfig` offers that matters here
//!   ([`TriggerInput`]: resolved env, the full pod identity, the trigger's `metricType`).
//!
//! Error messages are KEDA's, as `NewPrometheusScaler` returns them (KEDA wraps a typed-config error
//! in "error parsing prometheus metadata: " twice). Where several parameters are wrong, KEDA reports
//! all of them, one per line, in field order; so does [`parse`]. Secrets are held in [`Secret`], whose
//! `Debug` never shows them.
//!
//! Known differences from KEDA: a float parameter set to `null` makes KEDA panic and recover with a
//! stack trace appended to the message; prescale gives the same message without the trace. The
//! `KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS` warning for unknown keys is not produced. Only the SigV4
//! transport choice is resolved here; the Azure/GCP ones (which SigV4 overrides) are not.

mod typed;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use prescale_core::spec::{AuthPodIdentity, MetricTargetType, PodIdentityProvider};

use crate::error::{Error, Result};
use typed::{JsonFloatError, Param, Source, Sources, go_list};

/// A secret string (password, token, private key, …). `Debug` prints `Secret(<redacted>)`; read the
/// value with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for building a request. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// An `authModes` entry (`authentication.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    ApiKey,
    Basic,
    Tls,
    Bearer,
    Custom,
    OAuth,
}

impl AuthMode {
    /// KEDA's spellings, in the order of the `enum=` tag (which its message prints).
    const NAMES: [&'static str; 6] = ["apiKey", "basic", "tls", "bearer", "custom", "oauth"];

    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "apiKey" => AuthMode::ApiKey,
            "basic" => AuthMode::Basic,
            "tls" => AuthMode::Tls,
            "bearer" => AuthMode::Bearer,
            "custom" => AuthMode::Custom,
            "oauth" => AuthMode::OAuth,
            _ => return None,
        })
    }

    /// KEDA's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "apiKey",
            AuthMode::Basic => "basic",
            AuthMode::Tls => "tls",
            AuthMode::Bearer => "bearer",
            AuthMode::Custom => "custom",
            AuthMode::OAuth => "oauth",
        }
    }
}

/// `APIKeyAuth.Method` (`default=header, enum=header;query`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKeyMethod {
    #[default]
    Header,
    Query,
}

/// `authentication.OAuth`. KEDA parses and validates it for the Prometheus trigger, but
/// `ExecutePromQuery` never uses it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OAuthParams {
    /// `oauthTokenURI`.
    pub token_uri: Option<String>,
    /// `scopes` (alias `scope`): comma list, elements trimmed; empty elements are dropped when any auth
    /// mode is set (`Config.Normalize`).
    pub scopes: Vec<String>,
    /// `clientID`.
    pub client_id: Option<String>,
    /// `clientSecret`.
    pub client_secret: Option<Secret>,
    /// `endpointParams` (`url.ParseQuery`), pairs in order.
    pub endpoint_params: Vec<(String, String)>,
}

/// The AWS credentials KEDA's SigV4 round tripper would sign with (`aws.GetAwsAuthorization` followed
/// by `aws.GetAwsConfig`).
#[derive(Debug, Clone, PartialEq)]
pub enum AwsCredentials {
    /// `podIdentity.provider: aws`: the operator's credentials (IRSA, EKS Pod Identity, default chain),
    /// assuming `role_arn` when set (WebIdentity first, then STS AssumeRole with `external_id`).
    /// `role_arn` comes from `podIdentity.roleArn`, else the `awsRoleArn` authentication parameter.
    PodIdentity {
        role_arn: Option<String>,
        external_id: Option<String>,
    },
    /// Legacy `identityOwner` other than `""`/`pod` (documented: `operator`): the operator's default
    /// credential chain, no role.
    Operator,
    /// Legacy `identityOwner` `""`/`pod` with the `awsRoleArn` authentication parameter: STS AssumeRole
    /// from the operator's default chain.
    AssumeRole { role_arn: String },
    /// Static keys: authentication parameters `awsAccessKeyID` (or `awsAccessKeyId`),
    /// `awsSecretAccessKey`, `awsSessionToken`; or metadata `awsAccessKeyID` / `awsAccessKeyIDFromEnv`
    /// with `awsSecretAccessKeyFromEnv`.
    Static {
        access_key_id: String,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    },
}

/// SigV4 signing for Amazon Managed Service for Prometheus (service `aps`).
#[derive(Debug, Clone, PartialEq)]
pub struct AwsAuth {
    /// `awsRegion` (metadata, then authentication parameters); KEDA signs with an empty region when it
    /// is absent.
    pub region: Option<String>,
    pub credentials: AwsCredentials,
}

/// The trigger's authentication: `authentication.Config` plus the SigV4 choice.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrometheusAuth {
    /// `authModes` (alias `authMode`), in the given order (repeats kept). Empty means no explicit auth.
    pub modes: Vec<AuthMode>,
    /// `bearerToken` (alias `token`); sent as `Authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `cert` (PEM client certificate).
    pub cert: Option<String>,
    /// `key` (PEM private key).
    pub key: Option<Secret>,
    /// `ca` (PEM); KEDA applies it only when `authModes` is set.
    pub ca: Option<String>,
    /// `customAuthHeader`.
    pub custom_header: Option<String>,
    /// `customAuthValue`.
    pub custom_value: Option<Secret>,
    pub oauth: OAuthParams,
    /// `apiKey` (metadata, then authentication parameters). Unused by the Prometheus request.
    pub api_key: Option<Secret>,
    /// `method`: where an API key goes. Unused by the Prometheus request, but a bad value fails parsing.
    pub api_key_method: ApiKeyMethod,
    /// `keyParamName`.
    pub api_key_param_name: Option<String>,
    /// SigV4: `Some` when `authModes` is empty and `GetAwsAuthorization` succeeds (keda.md §3.3). When
    /// it fails KEDA silently sends unsigned requests, so that is not an error here either.
    pub aws: Option<AwsAuth>,
    /// When [`PrometheusAuth::aws`] is `None`: the AWS settings that were present anyway (e.g. `awsRegion`,
    /// `identityOwner: pod` or an `awsAccessKeyID` without its secret; or any of them next to `authModes`, which
    /// turns SigV4 off in KEDA), each named with where it came from. KEDA then sends the request unsigned;
    /// prescale refuses to (see `PrometheusScaler`).
    pub aws_settings_without_credentials: Vec<String>,
}

impl PrometheusAuth {
    /// `Config.Disabled`: no auth mode set.
    pub fn disabled(&self) -> bool {
        self.modes.is_empty()
    }

    /// `Config.Enabled`.
    pub fn enabled(&self, mode: AuthMode) -> bool {
        self.modes.contains(&mode)
    }
}

/// The Prometheus trigger's configuration (`prometheusMetadata` plus the metric type).
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusMetadata {
    /// `serverAddress` (trimmed; the query URL is `<serverAddress>/api/v1/query?...`).
    pub server_address: String,
    pub query: String,
    pub threshold: f64,
    /// `activationThreshold` (default 0).
    pub activation_threshold: f64,
    /// `namespace` (Thanos tenancy).
    pub namespace: Option<String>,
    /// `customHeaders`, in the given order (a repeated key keeps its first place and its last value).
    pub custom_headers: Vec<(String, String)>,
    /// `queryParameters`, same format and order rule.
    pub query_parameters: Vec<(String, String)>,
    /// `ignoreNullValues` (default true).
    pub ignore_null_values: bool,
    /// `unsafeSsl` (default false).
    pub unsafe_ssl: bool,
    /// `timeout` when it overrides the global HTTP timeout: `None` when absent or zero (KEDA then uses
    /// `KEDA_HTTP_DEFAULT_TIMEOUT`). An integer is milliseconds.
    pub timeout: Option<Duration>,
    /// `awsRegion` (metadata, then authentication parameters).
    pub aws_region: Option<String>,
    /// `identityOwner` (trimmed; SigV4 resolution reads the raw metadata value, as KEDA does).
    pub identity_owner: Option<String>,
    pub auth: PrometheusAuth,
    pub trigger_index: usize,
    /// `AverageValue` (the default) or `Value`; never `Utilization`.
    pub metric_type: MetricTargetType,
}

impl PrometheusMetadata {
    /// The external metric's name, `s<index>-prometheus` (`GenerateMetricNameWithIndex`).
    pub fn metric_name(&self) -> String {
        format!("s{}-prometheus", self.trigger_index)
    }
}

/// The pod identity of the trigger's authentication, as far as it matters here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PodIdentity<'a> {
    /// `podIdentity.provider` (`azure-workload`, `gcp`, `aws`, `aws-eks`, `none`, or any other text).
    pub provider: &'a str,
    /// `podIdentity.roleArn`.
    pub role_arn: Option<&'a str>,
    /// `podIdentity.externalID`.
    pub external_id: Option<&'a str>,
}

impl<'a> PodIdentity<'a> {
    /// A provider name only.
    pub fn provider(provider: &'a str) -> Self {
        PodIdentity {
            provider,
            ..Default::default()
        }
    }

    /// From a TriggerAuthentication's `podIdentity`.
    pub fn from_spec(spec: &'a AuthPodIdentity) -> Self {
        let provider = match spec.provider {
            PodIdentityProvider::AzureWorkload => "azure-workload",
            PodIdentityProvider::Gcp => "gcp",
            PodIdentityProvider::Aws => "aws",
            PodIdentityProvider::AwsEks => "aws-eks",
            PodIdentityProvider::None => "none",
        };
        PodIdentity {
            provider,
            role_arn: spec.role_arn.as_deref(),
            external_id: spec.external_id.as_deref(),
        }
    }
}

/// Everything `NewPrometheusScaler` reads from KEDA's `ScalerConfig` for the configuration.
#[derive(Debug, Clone, Copy)]
pub struct TriggerInput<'a> {
    pub trigger_index: usize,
    /// The trigger's `metadata`.
    pub metadata: &'a BTreeMap<String, String>,
    /// The resolved TriggerAuthentication parameters (name → value).
    pub auth_params: &'a BTreeMap<String, String>,
    /// The scale target's container environment (for `...FromEnv` metadata).
    pub resolved_env: &'a BTreeMap<String, String>,
    pub pod_identity: Option<PodIdentity<'a>>,
    /// The trigger's `metricType`.
    pub metric_type: Option<&'a MetricTargetType>,
}

const PREFIX: &str = "error parsing prometheus metadata: ";

/// Parses a Prometheus trigger as KEDA does. `auth_params`: the resolved TriggerAuthentication
/// parameters; `pod_identity`: the provider name, if any. The metric type is the default
/// (`AverageValue`); see [`parse_trigger`] for the rest of the inputs.
pub fn parse(
    trigger_index: usize,
    metadata: &BTreeMap<String, String>,
    auth_params: &BTreeMap<String, String>,
    pod_identity: Option<&str>,
) -> Result<PrometheusMetadata> {
    parse_trigger(&TriggerInput {
        trigger_index,
        metadata,
        auth_params,
        resolved_env: &BTreeMap::new(),
        pod_identity: pod_identity.map(PodIdentity::provider),
        metric_type: None,
    })
}

/// Ports the configuration half of `NewPrometheusScaler`: `GetMetricTargetType`, then
/// `parsePrometheusMetadata` (typed config, then `checkAuthConfigWithPodIdentity`), then the SigV4
/// choice of `aws.NewSigV4RoundTripper` when no auth mode is set.
pub fn parse_trigger(input: &TriggerInput<'_>) -> Result<PrometheusMetadata> {
    let metric_type = metric_target_type(input.metric_type)?;
    let mut meta = typed_config(input, metric_type)
        .map_err(|e| Error::Config(format!("{PREFIX}{PREFIX}{e}")))?;
    let provider = input.pod_identity.map_or("", |p| p.provider);
    if !meta.auth.disabled() && provider != "none" && !provider.is_empty() {
        return Err(Error::Config(format!(
            "{PREFIX}pod identity cannot be enabled with other auth types"
        )));
    }
    if meta.auth.disabled() {
        meta.auth.aws = aws_authorization(input, meta.aws_region.clone());
    }
    if meta.auth.aws.is_none() {
        meta.auth.aws_settings_without_credentials = aws_settings(input);
    }
    Ok(meta)
}

/// Ports `GetMetricTargetType`.
fn metric_target_type(t: Option<&MetricTargetType>) -> Result<MetricTargetType> {
    match t {
        Some(MetricTargetType::Utilization) => Err(Error::Config(
            "error getting scaler metric type: 'Utilization' metric type is unsupported for external metrics, allowed values are 'Value' or 'AverageValue'"
                .to_string(),
        )),
        None => Ok(MetricTargetType::AverageValue),
        Some(MetricTargetType::Other(s)) if s.is_empty() => Ok(MetricTargetType::AverageValue),
        Some(other) => Ok(other.clone()),
    }
}

const META: &[Source] = &[Source::TriggerMetadata];
const AUTH: &[Source] = &[Source::AuthParams];
const BOTH: &[Source] = &[Source::TriggerMetadata, Source::AuthParams];

const fn param(names: &'static [&'static str], order: &'static [Source]) -> Param {
    Param { names, order }
}

/// Collects errors in KEDA's field order (`errors.Join`), or stops at a recovered panic.
struct Errors {
    lines: Vec<String>,
}

/// The panic `TypedConfig` recovers when a float parameter is the JSON literal `null`. KEDA appends a
/// stack trace after a newline; prescale does not.
const NULL_PANIC: &str = "failed to parse typed config *reflect.ValueError resulted in panic";

impl Errors {
    fn push(&mut self, e: String) {
        self.lines.push(e);
    }
}

/// Ports `ScalerConfig.TypedConfig` on `prometheusMetadata` (nested `authentication.Config` first,
/// then the fields in declaration order). Returns the joined error text.
fn typed_config(
    input: &TriggerInput<'_>,
    metric_type: MetricTargetType,
) -> Result<PrometheusMetadata, String> {
    let src = Sources {
        metadata: input.metadata,
        auth_params: input.auth_params,
    };
    let mut errs = Errors { lines: Vec::new() };

    let auth = auth_config(&src, &mut errs);

    let string = |errs: &mut Errors, p: Param, required: bool| -> Option<String> {
        let v = src.lookup(&p);
        if v.is_none() && required {
            errs.push(p.missing());
        }
        v
    };
    let float = |errs: &mut Errors, p: Param, required: bool| -> Result<Option<f64>, ()> {
        let Some(v) = string(errs, p, required) else {
            return Ok(None);
        };
        match typed::json_float64(&v) {
            Ok(f) => Ok(Some(f)),
            Err(JsonFloatError::Message(m)) => {
                errs.push(p.unable_to_set(
                    &v,
                    &format!("unable to unmarshal to field type float64: {m}"),
                ));
                Ok(None)
            }
            Err(JsonFloatError::NullPanic) => Err(()),
        }
    };
    let map = |errs: &mut Errors, p: Param| -> Vec<(String, String)> {
        let Some(v) = src.lookup(&p) else {
            return Vec::new();
        };
        typed::parse_map(&v).unwrap_or_else(|e| {
            errs.push(p.unable_to_set(&v, &e));
            Vec::new()
        })
    };
    let boolean = |errs: &mut Errors, p: Param, default: bool| -> bool {
        let Some(v) = src.lookup(&p) else {
            return default;
        };
        typed::parse_bool(&v).unwrap_or_else(|e| {
            errs.push(p.unable_to_set(&v, &e));
            default
        })
    };

    let server_address = string(&mut errs, param(&["serverAddress"], META), true);
    let query = string(&mut errs, param(&["query"], META), true);
    let query_parameters = map(&mut errs, param(&["queryParameters"], META));
    let threshold = float(&mut errs, param(&["threshold"], META), true).map_err(|()| NULL_PANIC)?;
    let activation_threshold =
        float(&mut errs, param(&["activationThreshold"], META), false).map_err(|()| NULL_PANIC)?;
    let namespace = string(&mut errs, param(&["namespace"], META), false);
    let custom_headers = map(&mut errs, param(&["customHeaders"], META));
    let ignore_null_values = boolean(&mut errs, param(&["ignoreNullValues"], META), true);
    let unsafe_ssl = boolean(&mut errs, param(&["unsafeSsl"], META), false);
    let aws_region = string(&mut errs, param(&["awsRegion"], BOTH), false);
    let timeout_param = param(&["timeout"], META);
    let timeout = src.lookup(&timeout_param).and_then(|v| {
        match typed::parse_duration(&v) {
            // KEDA overrides the global timeout only when the value is > 0.
            Ok(nanos) => u64::try_from(nanos)
                .ok()
                .filter(|&n| n > 0)
                .map(Duration::from_nanos),
            Err(e) => {
                errs.push(timeout_param.unable_to_set(&v, &e));
                None
            }
        }
    });
    let identity_owner = string(&mut errs, param(&["identityOwner"], META), false);

    if !errs.lines.is_empty() {
        return Err(errs.lines.join("\n"));
    }
    // All required values are present when no error was recorded.
    let (Some(server_address), Some(query), Some(threshold)) = (server_address, query, threshold)
    else {
        return Err("internal: required parameter without error".to_string());
    };
    Ok(PrometheusMetadata {
        server_address,
        query,
        threshold,
        activation_threshold: activation_threshold.unwrap_or(0.0),
        namespace,
        custom_headers,
        query_parameters,
        ignore_null_values,
        unsafe_ssl,
        timeout,
        aws_region,
        identity_owner,
        auth,
        trigger_index: input.trigger_index,
        metric_type,
    })
}

/// Ports the typed parsing of `authentication.Config` (every field optional because the nested struct
/// is) and its `Validate`.
fn auth_config(src: &Sources<'_>, errs: &mut Errors) -> PrometheusAuth {
    let get =
        |names: &'static [&'static str], order: &'static [Source]| src.lookup(&param(names, order));
    let mut auth = PrometheusAuth::default();

    // Modes: enum and exclusive-set checks on the trimmed elements, then the list.
    let modes_param = param(&["authModes", "authMode"], BOTH);
    if let Some(v) = src.lookup(&modes_param) {
        let elems = typed::parse_list(&v);
        let modes: Option<Vec<AuthMode>> = elems.iter().map(|e| AuthMode::from_name(e)).collect();
        let exclusive = elems
            .iter()
            .filter(|e| matches!(e.as_str(), "bearer" | "basic" | "oauth"))
            .count();
        match modes {
            None => errs.push(format!(
                "parameter {} value {} must be one of {}",
                prescale_core::spec::go::quote(&modes_param.name()),
                prescale_core::spec::go::quote(&v),
                go_list(&AuthMode::NAMES)
            )),
            Some(_) if exclusive > 1 => errs.push(format!(
                "parameter {} value {} must contain only one of {}",
                prescale_core::spec::go::quote(&modes_param.name()),
                prescale_core::spec::go::quote(&v),
                go_list(&["bearer", "basic", "oauth"])
            )),
            Some(modes) => auth.modes = modes,
        }
    }

    auth.bearer_token = get(&["bearerToken", "token"], AUTH).map(Secret);
    auth.username = get(&["username"], AUTH);
    auth.password = get(&["password"], AUTH).map(Secret);
    auth.cert = get(&["cert"], AUTH);
    auth.key = get(&["key"], AUTH).map(Secret);
    auth.ca = get(&["ca"], AUTH);

    auth.oauth.token_uri = get(&["oauthTokenURI"], AUTH);
    auth.oauth.scopes = get(&["scopes", "scope"], AUTH)
        .map(|v| typed::parse_list(&v))
        .unwrap_or_default();
    auth.oauth.client_id = get(&["clientID"], AUTH);
    auth.oauth.client_secret = get(&["clientSecret"], AUTH).map(Secret);
    let endpoint_param = param(&["endpointParams"], AUTH);
    if let Some(v) = src.lookup(&endpoint_param) {
        match typed::parse_url_query(&v) {
            Ok(pairs) => auth.oauth.endpoint_params = pairs,
            Err(e) => errs.push(endpoint_param.unable_to_set(&v, &e)),
        }
    }

    auth.custom_header = get(&["customAuthHeader"], AUTH);
    auth.custom_value = get(&["customAuthValue"], AUTH).map(Secret);

    auth.api_key = get(&["apiKey"], BOTH).map(Secret);
    let method_param = param(&["method"], BOTH);
    let method = src
        .lookup(&method_param)
        .unwrap_or_else(|| "header".to_string());
    // The enum check splits on commas and trims each element.
    let methods: Vec<String> = typed::parse_list(&method);
    if methods.iter().all(|m| m == "header" || m == "query") {
        auth.api_key_method = if method == "query" {
            ApiKeyMethod::Query
        } else {
            ApiKeyMethod::Header
        };
    } else {
        errs.push(format!(
            "parameter {} value {} must be one of {}",
            prescale_core::spec::go::quote(&method_param.name()),
            prescale_core::spec::go::quote(&method),
            go_list(&["header", "query"])
        ));
    }
    auth.api_key_param_name = get(&["keyParamName"], BOTH);

    if let Some(e) = validate_auth(&mut auth) {
        errs.push(e);
    }
    auth
}

/// Ports `authentication.Config.Validate` (with `Normalize`): the first failing check, KEDA's text.
fn validate_auth(auth: &mut PrometheusAuth) -> Option<String> {
    if auth.disabled() {
        return None;
    }
    auth.oauth.scopes.retain(|s| !s.is_empty());
    let empty = |present: bool| if present { "<present>" } else { "<empty>" };
    if auth.enabled(AuthMode::Bearer) && auth.bearer_token.is_none() {
        return Some(format!(
            "bearer token={} is required when bearer auth is enabled",
            empty(false)
        ));
    }
    if auth.enabled(AuthMode::Basic) && auth.username.is_none() {
        return Some(format!(
            "username={} is required when basic auth is enabled",
            empty(false)
        ));
    }
    if auth.enabled(AuthMode::Tls) && (auth.cert.is_none() || auth.key.is_none()) {
        return Some(format!(
            "cert={} and key={} are required when tls auth is enabled",
            empty(auth.cert.is_some()),
            empty(auth.key.is_some())
        ));
    }
    if auth.enabled(AuthMode::OAuth)
        && (auth.oauth.token_uri.is_none() || auth.oauth.client_id.is_none())
    {
        return Some(format!(
            "oauthTokenURI={} and clientID={} are required when oauth is enabled",
            empty(auth.oauth.token_uri.is_some()),
            empty(auth.oauth.client_id.is_some())
        ));
    }
    if auth.enabled(AuthMode::Custom)
        && (auth.custom_header.is_none() || auth.custom_value.is_none())
    {
        return Some(format!(
            "customAuthHeader={} and customAuthValue={} are required when custom auth is enabled",
            empty(auth.custom_header.is_some()),
            empty(auth.custom_value.is_some())
        ));
    }
    if auth.enabled(AuthMode::ApiKey) && auth.api_key.is_none() {
        return Some("apiKey is required when apiKey auth is enabled".to_string());
    }
    None
}

/// Trigger metadata keys that select or configure AWS SigV4 signing.
pub const AWS_METADATA_KEYS: &[&str] = &[
    "identityOwner",
    "awsRegion",
    "awsAccessKeyID",
    "awsAccessKeyIDFromEnv",
    "awsSecretAccessKeyFromEnv",
];

/// Authentication parameters that select or configure AWS SigV4 signing.
pub const AWS_AUTH_PARAMS: &[&str] = &[
    "awsRoleArn",
    "awsRegion",
    "awsAccessKeyID",
    "awsAccessKeyId",
    "awsSecretAccessKey",
    "awsSessionToken",
];

/// The AWS-related settings present in the trigger, for the error when they do not add up to credentials.
fn aws_settings(input: &TriggerInput<'_>) -> Vec<String> {
    let set =
        |m: &BTreeMap<String, String>, k: &str| m.get(k).is_some_and(|v| !v.trim().is_empty());
    let metadata = AWS_METADATA_KEYS
        .iter()
        .filter(|k| set(input.metadata, k))
        .map(|k| format!("metadata {k}"));
    let params = AWS_AUTH_PARAMS
        .iter()
        .filter(|k| set(input.auth_params, k))
        .map(|k| format!("authentication parameter {k}"));
    metadata.chain(params).collect()
}

/// Ports `aws.GetAwsAuthorization` as `NewSigV4RoundTripper` uses it: `None` where it returns an
/// error (KEDA then installs no signer). Raw (untrimmed) map values, as KEDA reads them here.
fn aws_authorization(input: &TriggerInput<'_>, region: Option<String>) -> Option<AwsAuth> {
    let raw = |m: &BTreeMap<String, String>, k: &str| m.get(k).filter(|v| !v.is_empty()).cloned();
    let (meta, auth, env) = (input.metadata, input.auth_params, input.resolved_env);
    let credentials = if let Some(pi) = input.pod_identity.filter(|p| p.provider == "aws") {
        match pi.role_arn.filter(|r| !r.is_empty()) {
            Some(role) => AwsCredentials::PodIdentity {
                role_arn: Some(role.to_string()),
                external_id: pi.external_id.filter(|e| !e.is_empty()).map(str::to_string),
            },
            None => AwsCredentials::PodIdentity {
                role_arn: raw(auth, "awsRoleArn"),
                external_id: None,
            },
        }
    } else {
        match meta.get("identityOwner").map_or("", String::as_str) {
            "" | "pod" => {
                if let Some(role_arn) = raw(auth, "awsRoleArn") {
                    AwsCredentials::AssumeRole { role_arn }
                } else if let Some(access_key_id) =
                    raw(auth, "awsAccessKeyID").or_else(|| raw(auth, "awsAccessKeyId"))
                {
                    AwsCredentials::Static {
                        access_key_id,
                        secret_access_key: Secret(raw(auth, "awsSecretAccessKey")?),
                        session_token: raw(auth, "awsSessionToken").map(Secret),
                    }
                } else {
                    let access_key_id = match raw(meta, "awsAccessKeyID") {
                        Some(k) => Some(k),
                        None => raw(meta, "awsAccessKeyIDFromEnv").and_then(|n| raw(env, &n)),
                    }?;
                    let secret =
                        raw(meta, "awsSecretAccessKeyFromEnv").and_then(|n| raw(env, &n))?;
                    AwsCredentials::Static {
                        access_key_id,
                        secret_access_key: Secret(secret),
                        session_token: None,
                    }
                }
            }
            _ => AwsCredentials::Operator,
        }
    };
    Some(AwsAuth {
        region,
        credentials,
    })
}
