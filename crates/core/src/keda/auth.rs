//! Resolving a trigger's `authenticationRef` into the scaler's auth parameters, as KEDA's
//! `ResolveAuthRefAndPodIdentity` / `resolveAuthRef` do (`pkg/scaling/resolver/scale_resolvers.go`), and the
//! scale target's container environment KEDA hands every scaler (`ResolveContainerEnv`).
//!
//! The engine does no I/O: objects come from an [`AuthSource`], which the CLI implements from manifests and
//! the operator will implement from its caches.
//!
//! What KEDA does, and prescale with it:
//! - `authenticationRef.kind` unset or `TriggerAuthentication`: the TriggerAuthentication of that name in the
//!   ScaledObject's namespace; Secrets and ConfigMaps are read from that namespace.
//!   `ClusterTriggerAuthentication`: the cluster-scoped object; Secrets and ConfigMaps are read from the
//!   cluster object namespace (`KEDA_CLUSTER_OBJECT_NAMESPACE`, default the operator's namespace).
//! - Parameters are collected in KEDA's order — `env`, then `configMapTargetRef`, then `secretTargetRef`;
//!   a later entry for the same parameter replaces an earlier one (so a Secret wins over a ConfigMap, which
//!   wins over the container env). Finally, for `podIdentity.provider: aws` with a `roleArn`, the role
//!   becomes the `awsRoleArn` parameter (only when the scale target has containers, as in KEDA).
//! - `env` entries read the scale target's container env (with `envFrom` expanded): the container named
//!   `containerName`, else the *first* container — not `envSourceContainerName`, which only selects the
//!   environment handed to the scaler ([`ResolvedAuth::resolved_env`]). For a ClusterTriggerAuthentication
//!   the env still comes from the scale target in the ScaledObject's namespace.
//! - `podIdentity` is returned as written (including `identityOwner`); KEDA's checks apply: `roleArn` with
//!   `identityOwner: workload` is an error, as is an empty `identityId` for `azure-workload`.
//!
//! Where prescale deliberately differs (each marked `DEVIATION:` below), it is always to fail loudly where
//! KEDA logs and carries on with an empty value: a missing TriggerAuthentication, Secret, Secret key,
//! ConfigMap, ConfigMap key, container or container variable is an error naming the TriggerAuthentication,
//! the parameter, the object and the key. Sources prescale cannot read yet (`hashiCorpVault`,
//! `azureKeyVault`, `gcpSecretManager`, `awsSecretManager`, `boundServiceAccountToken`, `filePath`,
//! `oauth2`) and workload-owned AWS identities (which need the workload ServiceAccount's annotation) are
//! errors naming the field, never skipped.
//!
//! Secret values never appear in an error or in `Debug` output: errors carry names and keys only, and
//! [`ResolvedAuth`]'s `Debug` prints parameter names with redacted values.

use std::collections::BTreeMap;
use std::fmt;

use crate::spec::{
    AuthPodIdentity, AuthTargetRef, AuthenticationRefKind, PodIdentityProvider, ScaleTrigger,
    TriggerAuthenticationSpec,
};

/// The outcome of one object lookup.
///
/// `NotFound` means the object (or the container) does not exist; `Error` means the source could not tell
/// (an unreachable API server, an unreadable cache, an object that cannot be decoded). An `Error` message is
/// quoted in [`AuthError::Source`], so it must not contain secret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Found(T),
    NotFound,
    Error(String),
}

/// Object lookups for [`resolve_trigger_auth`]. Implemented by the CLI from manifests and by the operator
/// from its caches.
pub trait AuthSource {
    /// The `TriggerAuthentication` `namespace/name`.
    fn trigger_authentication(
        &self,
        namespace: &str,
        name: &str,
    ) -> Lookup<TriggerAuthenticationSpec>;
    /// The (cluster-scoped) `ClusterTriggerAuthentication` `name`.
    fn cluster_trigger_authentication(&self, name: &str) -> Lookup<TriggerAuthenticationSpec>;
    /// The Secret `namespace/name`'s data, decoded (key → value).
    fn secret(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>>;
    /// The ConfigMap `namespace/name`'s `data` (key → value). KEDA reads `data` only, not `binaryData`.
    fn config_map(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>>;
    /// The environment of one of the scale target's containers, `envFrom` already expanded and
    /// `valueFrom` resolved (KEDA's `resolveEnv`). `None`: the first container. `NotFound`: no container of
    /// that name; for `None`, the scale target has no pod template or no containers.
    fn container_env(&self, container_name: Option<&str>) -> Lookup<BTreeMap<String, String>>;
    /// The scale target's ServiceAccount (`spec.template.spec.serviceAccountName`, `default` when unset): its
    /// name and annotations, for AWS identities owned by the workload (`eks.amazonaws.com/role-arn`).
    /// Sources that cannot read ServiceAccounts keep the default, an error saying so.
    fn workload_service_account(&self) -> Lookup<(String, BTreeMap<String, String>)> {
        Lookup::Error("the scale target's ServiceAccount cannot be read here".to_string())
    }
}

/// The ServiceAccount annotation holding the role of a workload-owned AWS identity (KEDA's
/// `PodIdentityAnnotationEKS`).
pub const ANNOTATION_EKS_ROLE_ARN: &str = "eks.amazonaws.com/role-arn";

/// Where a resolved parameter came from (names only, never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamOrigin {
    /// `env[]`: a variable of the scale target's container (`None`: the first container).
    Env {
        name: String,
        container: Option<String>,
    },
    /// `configMapTargetRef[]`.
    ConfigMap {
        namespace: String,
        name: String,
        key: String,
    },
    /// `secretTargetRef[]`.
    Secret {
        namespace: String,
        name: String,
        key: String,
    },
    /// `podIdentity.roleArn` (provider `aws`), passed on as `awsRoleArn`.
    PodIdentityRoleArn,
    /// The `eks.amazonaws.com/role-arn` annotation of the workload's ServiceAccount (`identityOwner:
    /// workload`, or the deprecated `aws-eks` provider), passed on as `awsRoleArn`.
    ServiceAccountRoleArn { service_account: String },
}

impl fmt::Display for ParamOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamOrigin::Env {
                name,
                container: Some(c),
            } => write!(f, "env {name} of container {c}"),
            ParamOrigin::Env {
                name,
                container: None,
            } => write!(f, "env {name} of the first container"),
            ParamOrigin::ConfigMap {
                namespace,
                name,
                key,
            } => write!(f, "ConfigMap {namespace}/{name} key {key}"),
            ParamOrigin::Secret {
                namespace,
                name,
                key,
            } => write!(f, "Secret {namespace}/{name} key {key}"),
            ParamOrigin::PodIdentityRoleArn => f.write_str("podIdentity.roleArn"),
            ParamOrigin::ServiceAccountRoleArn { service_account } => write!(
                f,
                "annotation {ANNOTATION_EKS_ROLE_ARN} of ServiceAccount {service_account}"
            ),
        }
    }
}

/// One resolved parameter and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSource {
    pub parameter: String,
    pub origin: ParamOrigin,
}

/// What a trigger's scaler receives.
#[derive(Clone, PartialEq, Default)]
pub struct ResolvedAuth {
    /// The auth parameters (KEDA's `AuthParams`), parameter → value.
    pub params: BTreeMap<String, String>,
    /// The TriggerAuthentication's `podIdentity`, as written.
    pub pod_identity: Option<AuthPodIdentity>,
    /// The environment of the container `scaleTargetRef.envSourceContainerName` (else the first one), for
    /// the trigger metadata's `...FromEnv` keys (KEDA's `ResolvedEnv`). Empty when the scale target has no
    /// containers.
    pub resolved_env: BTreeMap<String, String>,
    /// The final origin of every parameter in `params`, sorted by parameter.
    pub sources: Vec<ParamSource>,
}

impl fmt::Debug for ResolvedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted<'a>(&'a BTreeMap<String, String>);
        impl fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.keys().map(|k| (k, "<redacted>")))
                    .finish()
            }
        }
        f.debug_struct("ResolvedAuth")
            .field("params", &Redacted(&self.params))
            .field("pod_identity", &self.pod_identity)
            .field("resolved_env", &Redacted(&self.resolved_env))
            .field("sources", &self.sources)
            .finish()
    }
}

/// Why a trigger's authentication could not be resolved. Messages name objects, fields, parameters and
/// keys, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The referenced TriggerAuthentication / ClusterTriggerAuthentication does not exist.
    // DEVIATION: KEDA logs "error getting triggerAuth" and builds the scaler with no auth parameters.
    #[error("{auth} not found")]
    AuthNotFound { auth: String },
    /// A Secret or ConfigMap, or a key in it, does not exist.
    // DEVIATION: KEDA logs the failure and uses an empty string for the parameter.
    #[error("{auth}: {field}: parameter {parameter:?}: {missing} not found")]
    RefNotFound {
        auth: String,
        /// `spec.secretTargetRef[0]`, `spec.configMapTargetRef[1]`...
        field: String,
        parameter: String,
        /// `Secret shop/creds` or `key "token" in Secret shop/creds`.
        missing: String,
    },
    /// A container, or a variable in a container's env, does not exist.
    // DEVIATION (for `env[]` entries): KEDA uses an empty string for the parameter.
    #[error("{context}: {}", missing_env(name.as_deref(), container.as_deref()))]
    EnvNotFound {
        /// What needed it: `TriggerAuthentication shop/x: spec.env[0]: parameter "p"`, or
        /// `scaleTargetRef.envSourceContainerName`.
        context: String,
        /// The variable; `None` when the container itself is missing.
        name: Option<String>,
        /// `None`: the first container.
        container: Option<String>,
    },
    /// A field prescale cannot resolve yet.
    #[error("{auth}: {field} is not supported by prescale yet")]
    Unsupported { auth: String, field: String },
    /// The object is unusable as written (KEDA's own errors, and empty names or keys).
    #[error("{auth}: {message}")]
    Invalid { auth: String, message: String },
    /// The [`AuthSource`] failed.
    #[error("{what}: {message}")]
    Source { what: String, message: String },
}

fn missing_env(name: Option<&str>, container: Option<&str>) -> String {
    let container = match container {
        Some(c) => format!("container {c:?} of the scale target"),
        None => "the scale target's first container".to_string(),
    };
    match name {
        Some(n) => format!("variable {n:?} not found in the env of {container}"),
        None => format!("{container} not found"),
    }
}

/// Resolves trigger `trigger`'s `authenticationRef` (if any) and the scale target's env.
///
/// `so_namespace`: the ScaledObject's namespace (TriggerAuthentications, and their Secrets and ConfigMaps,
/// are read there). `env_source_container_name`: `scaleTargetRef.envSourceContainerName`, which selects
/// [`ResolvedAuth::resolved_env`]. `cluster_object_namespace`: where a ClusterTriggerAuthentication's
/// Secrets and ConfigMaps live (KEDA's `KEDA_CLUSTER_OBJECT_NAMESPACE`).
///
/// A trigger without `authenticationRef` gets no parameters and no pod identity, but still its
/// `resolved_env`, as in KEDA.
pub fn resolve_trigger_auth(
    so_namespace: &str,
    env_source_container_name: Option<&str>,
    trigger: &ScaleTrigger,
    source: &dyn AuthSource,
    cluster_object_namespace: &str,
) -> Result<ResolvedAuth, AuthError> {
    let mut resolved = ResolvedAuth {
        resolved_env: scale_target_env(source, env_source_container_name)?,
        ..ResolvedAuth::default()
    };
    let Some(auth_ref) = &trigger.authentication_ref else {
        return Ok(resolved);
    };
    let (label, spec, objects_namespace) = match auth_ref.kind() {
        AuthenticationRefKind::TriggerAuthentication => {
            let label = format!("TriggerAuthentication {so_namespace}/{}", auth_ref.name);
            let spec = found(
                source.trigger_authentication(so_namespace, &auth_ref.name),
                &label,
            )?;
            (label, spec, so_namespace)
        }
        AuthenticationRefKind::ClusterTriggerAuthentication => {
            let label = format!("ClusterTriggerAuthentication {}", auth_ref.name);
            let spec = found(
                source.cluster_trigger_authentication(&auth_ref.name),
                &label,
            )?;
            (label, spec, cluster_object_namespace)
        }
    };
    let Some(spec) = spec else {
        return Err(AuthError::AuthNotFound { auth: label });
    };
    refuse_unsupported(&label, auth_ref.kind(), &spec)?;
    // `ResolveAuthRefAndPodIdentity` checks and extends the pod identity only when the scale target has a
    // pod template with containers.
    let with_containers = has_containers(source)?;
    if with_containers {
        check_pod_identity(&label, spec.pod_identity.as_ref())?;
    }

    let mut params = Params::default();
    for (i, e) in spec.env.iter().enumerate() {
        let field = format!("spec.env[{i}]");
        // KEDA passes `containerName` as is; an empty one means the first container.
        let container = e.container_name.as_deref().filter(|c| !c.is_empty());
        let missing = |name: Option<&str>| AuthError::EnvNotFound {
            context: format!("{label}: {field}: parameter {:?}", e.parameter),
            name: name.map(str::to_string),
            container: container.map(str::to_string),
        };
        let env = match source.container_env(container) {
            Lookup::Found(env) => env,
            // DEVIATION: KEDA uses an empty string when the container cannot be found or its env cannot be
            // resolved (and when the scale target has no containers at all).
            Lookup::NotFound => return Err(missing(None)),
            Lookup::Error(message) => {
                return Err(AuthError::Source {
                    what: format!(
                        "{label}: {field}: parameter {:?}: the scale target's container env",
                        e.parameter
                    ),
                    message,
                });
            }
        };
        // DEVIATION: KEDA reads a missing variable as an empty string.
        let value = env.get(&e.name).ok_or_else(|| missing(Some(&e.name)))?;
        params.set(
            &e.parameter,
            value.clone(),
            ParamOrigin::Env {
                name: e.name.clone(),
                container: container.map(str::to_string),
            },
        );
    }
    for (kind, refs) in [
        (RefKind::ConfigMap, &spec.config_map_target_ref),
        (RefKind::Secret, &spec.secret_target_ref),
    ] {
        for (i, r) in refs.iter().enumerate() {
            let value = target_ref(source, &label, kind, i, r, objects_namespace)?;
            let origin = kind.origin(objects_namespace, r);
            params.set(&r.parameter, value, origin);
        }
    }

    if let Some(pi) = &spec.pod_identity
        && pi.provider == PodIdentityProvider::Aws
        && let Some(role) = &pi.role_arn
        && with_containers
    {
        params.set("awsRoleArn", role.clone(), ParamOrigin::PodIdentityRoleArn);
    }
    // The role of a workload-owned identity: the workload ServiceAccount's annotation, required for
    // `identityOwner: workload`, optional (empty) for the deprecated `aws-eks` provider.
    if let Some(pi) = &spec.pod_identity
        && with_containers
    {
        let required = match pi.provider {
            PodIdentityProvider::Aws if pi.is_workload_identity_owner() => Some(true),
            PodIdentityProvider::AwsEks => Some(false),
            _ => None,
        };
        if let Some(required) = required {
            let (sa, value) = workload_role_arn(source, &label, required)?;
            params.set(
                "awsRoleArn",
                value,
                ParamOrigin::ServiceAccountRoleArn {
                    service_account: sa,
                },
            );
        }
    }

    resolved.params = params.values;
    resolved.sources = params
        .origins
        .into_iter()
        .map(|(parameter, origin)| ParamSource { parameter, origin })
        .collect();
    resolved.pod_identity = spec.pod_identity;
    Ok(resolved)
}

/// Parameter values and their final origins.
#[derive(Default)]
struct Params {
    values: BTreeMap<String, String>,
    origins: BTreeMap<String, ParamOrigin>,
}

impl Params {
    /// A later source replaces an earlier one, as KEDA's writes into one map do.
    fn set(&mut self, parameter: &str, value: String, origin: ParamOrigin) {
        self.values.insert(parameter.to_string(), value);
        self.origins.insert(parameter.to_string(), origin);
    }
}

#[derive(Clone, Copy)]
enum RefKind {
    ConfigMap,
    Secret,
}

impl RefKind {
    fn field(self) -> &'static str {
        match self {
            RefKind::ConfigMap => "configMapTargetRef",
            RefKind::Secret => "secretTargetRef",
        }
    }
    fn object(self) -> &'static str {
        match self {
            RefKind::ConfigMap => "ConfigMap",
            RefKind::Secret => "Secret",
        }
    }
    fn origin(self, namespace: &str, r: &AuthTargetRef) -> ParamOrigin {
        let (namespace, name, key) = (namespace.to_string(), r.name.clone(), r.key.clone());
        match self {
            RefKind::ConfigMap => ParamOrigin::ConfigMap {
                namespace,
                name,
                key,
            },
            RefKind::Secret => ParamOrigin::Secret {
                namespace,
                name,
                key,
            },
        }
    }
}

/// One `secretTargetRef` / `configMapTargetRef` entry's value.
fn target_ref(
    source: &dyn AuthSource,
    label: &str,
    kind: RefKind,
    index: usize,
    r: &AuthTargetRef,
    namespace: &str,
) -> Result<String, AuthError> {
    let field = format!("spec.{}[{index}]", kind.field());
    if r.name.is_empty() || r.key.is_empty() {
        // DEVIATION: KEDA logs "name, namespace and key are required" (Secrets) or fails the lookup
        // (ConfigMaps) and uses an empty string.
        return Err(AuthError::Invalid {
            auth: label.to_string(),
            message: format!(
                "{field}: parameter {:?}: name and key must not be empty",
                r.parameter
            ),
        });
    }
    let lookup = match kind {
        RefKind::ConfigMap => source.config_map(namespace, &r.name),
        RefKind::Secret => source.secret(namespace, &r.name),
    };
    let object = format!("{} {namespace}/{}", kind.object(), r.name);
    let missing = |key: Option<&str>| AuthError::RefNotFound {
        auth: label.to_string(),
        field: field.clone(),
        parameter: r.parameter.clone(),
        missing: match key {
            Some(key) => format!("key {key:?} in {object}"),
            None => object.clone(),
        },
    };
    match lookup {
        Lookup::Found(data) => data
            .get(&r.key)
            .cloned()
            // DEVIATION: KEDA uses an empty string for a missing key.
            .ok_or_else(|| missing(Some(&r.key))),
        // DEVIATION: KEDA logs the failed Get and uses an empty string.
        Lookup::NotFound => Err(missing(None)),
        Lookup::Error(message) => Err(AuthError::Source {
            what: format!("{label}: {field}: parameter {:?}: {object}", r.parameter),
            message,
        }),
    }
}

/// KEDA's `ResolvedEnv`: the env of `envSourceContainerName` (else the first container), empty when the scale
/// target has no containers; a named container that does not exist is an error (`ResolveContainerEnv`).
fn scale_target_env(
    source: &dyn AuthSource,
    container: Option<&str>,
) -> Result<BTreeMap<String, String>, AuthError> {
    let container = container.filter(|c| !c.is_empty());
    match source.container_env(container) {
        Lookup::Found(env) => Ok(env),
        Lookup::NotFound if container.is_none() => Ok(BTreeMap::new()),
        Lookup::NotFound => Err(AuthError::EnvNotFound {
            context: "scaleTargetRef.envSourceContainerName".to_string(),
            name: None,
            container: container.map(str::to_string),
        }),
        Lookup::Error(message) => Err(AuthError::Source {
            what: "error resolving secrets for ScaleTarget".to_string(),
            message,
        }),
    }
}

/// Whether the scale target has a pod template with containers (KEDA's `podTemplateSpec != nil`).
fn has_containers(source: &dyn AuthSource) -> Result<bool, AuthError> {
    match source.container_env(None) {
        Lookup::Found(_) => Ok(true),
        Lookup::NotFound => Ok(false),
        Lookup::Error(message) => Err(AuthError::Source {
            what: "the scale target's containers".to_string(),
            message,
        }),
    }
}

fn found<T>(lookup: Lookup<T>, label: &str) -> Result<Option<T>, AuthError> {
    match lookup {
        Lookup::Found(t) => Ok(Some(t)),
        Lookup::NotFound => Ok(None),
        Lookup::Error(message) => Err(AuthError::Source {
            what: label.to_string(),
            message,
        }),
    }
}

/// Sources KEDA would read but prescale cannot yet. KEDA skips the secret stores when they list no secrets,
/// so those are only refused when they would be used.
fn refuse_unsupported(
    label: &str,
    kind: AuthenticationRefKind,
    spec: &TriggerAuthenticationSpec,
) -> Result<(), AuthError> {
    let unsupported = |field: &str| {
        Err(AuthError::Unsupported {
            auth: label.to_string(),
            field: format!("spec.{field}"),
        })
    };
    if spec.file_path.as_deref().is_some_and(|p| !p.is_empty()) {
        if kind != AuthenticationRefKind::ClusterTriggerAuthentication {
            // KEDA's own error.
            return Err(AuthError::Invalid {
                auth: label.to_string(),
                message: "filePath is only supported for ClusterTriggerAuthentication, got kind: TriggerAuthentication".to_string(),
            });
        }
        return unsupported("filePath");
    }
    if spec
        .hashi_corp_vault
        .as_ref()
        .is_some_and(|v| !v.secrets.is_empty())
    {
        return unsupported("hashiCorpVault");
    }
    if spec
        .azure_key_vault
        .as_ref()
        .is_some_and(|v| !v.secrets.is_empty())
    {
        return unsupported("azureKeyVault");
    }
    if spec
        .gcp_secret_manager
        .as_ref()
        .is_some_and(|v| !v.secrets.is_empty())
    {
        return unsupported("gcpSecretManager");
    }
    if spec
        .aws_secret_manager
        .as_ref()
        .is_some_and(|v| !v.secrets.is_empty())
    {
        return unsupported("awsSecretManager");
    }
    if !spec.bound_service_account_token.is_empty() {
        return unsupported("boundServiceAccountToken");
    }
    if spec.oauth2.is_some() {
        return unsupported("oauth2");
    }
    Ok(())
}

/// `resolveServiceAccountAnnotation` for `eks.amazonaws.com/role-arn`, with KEDA's messages: the
/// ServiceAccount's name and the annotation's value (`""` when absent and not required).
fn workload_role_arn(
    source: &dyn AuthSource,
    label: &str,
    required: bool,
) -> Result<(String, String), AuthError> {
    match source.workload_service_account() {
        Lookup::Found((name, annotations)) => match annotations.get(ANNOTATION_EKS_ROLE_ARN) {
            Some(v) => Ok((name, v.clone())),
            None if !required => Ok((name, String::new())),
            None => Err(AuthError::Invalid {
                auth: label.to_string(),
                message: format!(
                    "error getting service account: '{name}', error: annotation \
                     '{ANNOTATION_EKS_ROLE_ARN}' not found"
                ),
            }),
        },
        Lookup::NotFound => Err(AuthError::Invalid {
            auth: label.to_string(),
            message: "error getting service account: the scale target's ServiceAccount not found"
                .to_string(),
        }),
        Lookup::Error(message) => Err(AuthError::Source {
            what: format!("{label}: spec.podIdentity: the scale target's ServiceAccount"),
            message,
        }),
    }
}

/// KEDA's pod identity checks in `ResolveAuthRefAndPodIdentity`, with KEDA's messages.
fn check_pod_identity(label: &str, pi: Option<&AuthPodIdentity>) -> Result<(), AuthError> {
    let Some(pi) = pi else { return Ok(()) };
    let invalid = |message: String| {
        Err(AuthError::Invalid {
            auth: label.to_string(),
            message,
        })
    };
    match pi.provider {
        PodIdentityProvider::Aws => {
            if pi.role_arn.is_some() && pi.is_workload_identity_owner() {
                return invalid(
                    "roleArn can't be set if KEDA isn't identity owner, current value: 'workload'"
                        .to_string(),
                );
            }
        }
        PodIdentityProvider::AwsEks => {}
        PodIdentityProvider::AzureWorkload => {
            if pi.identity_id.as_deref() == Some("") {
                return invalid("IdentityID of PodIdentity should not be empty".to_string());
            }
        }
        PodIdentityProvider::Gcp | PodIdentityProvider::None => {}
    }
    Ok(())
}
