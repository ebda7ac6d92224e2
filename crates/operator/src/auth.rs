//! TriggerAuthentication resolution from the API server.
//!
//! The engine's resolver (`prescale_core::keda::auth::resolve_trigger_auth`) is synchronous and reads through
//! the [`AuthSource`] lookup trait. The operator first fetches exactly what the ScaledObject's triggers can
//! reference — their TriggerAuthentications (in the ScaledObject's namespace) and
//! ClusterTriggerAuthentications, the Secrets and ConfigMaps those name (the ScaledObject's namespace for a
//! TriggerAuthentication, the operator's namespace for a cluster one), the scale target's pod template with
//! the Secrets and ConfigMaps its environment references, and its ServiceAccount — then resolves from that
//! snapshot. Nothing is cached between resolutions (KEDA re-resolves whenever it builds scalers), and no
//! Secret outside those two namespaces is ever read: a `secretTargetRef` has no namespace field, so a
//! TriggerAuthentication cannot point into another namespace.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use kube::Client;
use kube::api::{Api, DynamicObject};
use prescale_core::keda::auth::{AuthSource, Lookup, ResolvedAuth, resolve_trigger_auth};
use prescale_core::spec::{AuthenticationRefKind, ScaledObject, TriggerAuthenticationSpec};

use crate::error::{Error, Result};
use crate::target::{ContainerEnv, EnvRef, expand_env, pod_template_containers};

type Found<T> = std::result::Result<Option<T>, String>;
/// A container's expanded environment, or why it could not be expanded.
type ContainerVars = std::result::Result<BTreeMap<String, String>, String>;

/// Everything the triggers of one ScaledObject can reference, fetched once.
#[derive(Default)]
pub struct Snapshot {
    tas: BTreeMap<(String, String), Found<TriggerAuthenticationSpec>>,
    ctas: BTreeMap<String, Found<TriggerAuthenticationSpec>>,
    secrets: BTreeMap<(String, String), Found<BTreeMap<String, String>>>,
    config_maps: BTreeMap<(String, String), Found<BTreeMap<String, String>>>,
    /// `None`: the scale target has no pod template containers.
    containers: Option<Vec<(String, ContainerVars)>>,
    service_account: Option<Found<(String, BTreeMap<String, String>)>>,
}

/// Names only: the snapshot holds Secret data, which must never reach a log.
impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field(
                "trigger_authentications",
                &self.tas.keys().collect::<Vec<_>>(),
            )
            .field(
                "cluster_trigger_authentications",
                &self.ctas.keys().collect::<Vec<_>>(),
            )
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("config_maps", &self.config_maps.keys().collect::<Vec<_>>())
            .field(
                "containers",
                &self
                    .containers
                    .as_ref()
                    .map(|c| c.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()),
            )
            .finish()
    }
}

fn lookup<T: Clone>(v: Option<&Found<T>>) -> Lookup<T> {
    match v {
        Some(Ok(Some(v))) => Lookup::Found(v.clone()),
        Some(Ok(None)) | None => Lookup::NotFound,
        Some(Err(e)) => Lookup::Error(e.clone()),
    }
}

impl AuthSource for Snapshot {
    fn trigger_authentication(
        &self,
        namespace: &str,
        name: &str,
    ) -> Lookup<TriggerAuthenticationSpec> {
        lookup(self.tas.get(&(namespace.to_string(), name.to_string())))
    }
    fn cluster_trigger_authentication(&self, name: &str) -> Lookup<TriggerAuthenticationSpec> {
        lookup(self.ctas.get(name))
    }
    fn secret(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>> {
        lookup(self.secrets.get(&(namespace.to_string(), name.to_string())))
    }
    fn config_map(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>> {
        lookup(
            self.config_maps
                .get(&(namespace.to_string(), name.to_string())),
        )
    }
    fn container_env(&self, container_name: Option<&str>) -> Lookup<BTreeMap<String, String>> {
        let Some(containers) = &self.containers else {
            return Lookup::NotFound;
        };
        let found = match container_name {
            None => containers.first(),
            Some(n) => containers.iter().find(|(name, _)| name == n),
        };
        match found {
            None => Lookup::NotFound,
            Some((_, Ok(env))) => Lookup::Found(env.clone()),
            Some((_, Err(e))) => Lookup::Error(e.clone()),
        }
    }
    fn workload_service_account(&self) -> Lookup<(String, BTreeMap<String, String>)> {
        match &self.service_account {
            Some(found) => lookup(Some(found)),
            None => Lookup::NotFound,
        }
    }
}

fn api_error(what: &str, e: &kube::Error) -> String {
    format!("reading {what}: {e}")
}

async fn get_opt<K>(api: &Api<K>, name: &str, what: &str) -> Found<K>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.map_err(|e| api_error(what, &e))
}

fn secret_data(s: Secret) -> BTreeMap<String, String> {
    s.data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
        .collect()
}

/// Fetches what `so`'s triggers reference. `target`: the scale target object (its pod template), when it
/// could be read. `cluster_namespace`: the operator's namespace (ClusterTriggerAuthentication objects).
pub async fn snapshot(
    client: &Client,
    so: &ScaledObject,
    target: Option<&DynamicObject>,
    cluster_namespace: &str,
) -> Snapshot {
    let ns = so.metadata.namespace_or_default().to_string();
    let mut snap = Snapshot::default();
    let tas: Api<prescale_k8s::TriggerAuthentication> = Api::namespaced(client.clone(), &ns);
    let ctas: Api<prescale_k8s::ClusterTriggerAuthentication> = Api::all(client.clone());
    // TriggerAuthentications and their Secrets / ConfigMaps.
    let mut secrets: BTreeSet<(String, String)> = BTreeSet::new();
    let mut config_maps: BTreeSet<(String, String)> = BTreeSet::new();
    let mut wants_service_account = false;
    for trigger in &so.spec.triggers {
        let Some(r) = &trigger.authentication_ref else {
            continue;
        };
        let (spec, objects_ns) = match r.kind() {
            AuthenticationRefKind::TriggerAuthentication => {
                let key = (ns.clone(), r.name.clone());
                if !snap.tas.contains_key(&key) {
                    let what = format!("TriggerAuthentication {ns}/{}", r.name);
                    let v = get_opt(&tas, &r.name, &what)
                        .await
                        .map(|o| o.map(|t| t.spec));
                    snap.tas.insert(key.clone(), v);
                }
                (snap.tas.get(&key).cloned(), ns.clone())
            }
            AuthenticationRefKind::ClusterTriggerAuthentication => {
                if !snap.ctas.contains_key(&r.name) {
                    let what = format!("ClusterTriggerAuthentication {}", r.name);
                    let v = get_opt(&ctas, &r.name, &what)
                        .await
                        .map(|o| o.map(|t| t.spec));
                    snap.ctas.insert(r.name.clone(), v);
                }
                (
                    snap.ctas.get(&r.name).cloned(),
                    cluster_namespace.to_string(),
                )
            }
        };
        if let Some(Ok(Some(spec))) = spec {
            for t in &spec.secret_target_ref {
                secrets.insert((objects_ns.clone(), t.name.clone()));
            }
            for t in &spec.config_map_target_ref {
                config_maps.insert((objects_ns.clone(), t.name.clone()));
            }
            wants_service_account |= spec.pod_identity.as_ref().is_some_and(|p| {
                matches!(
                    p.provider,
                    prescale_core::spec::PodIdentityProvider::Aws
                        | prescale_core::spec::PodIdentityProvider::AwsEks
                )
            });
        }
    }
    // The pod template's environment references (always in the ScaledObject's namespace).
    let containers: Option<Vec<ContainerEnv>> = target
        .map(pod_template_containers)
        .filter(|c| !c.is_empty());
    for c in containers.iter().flatten() {
        let refs = c
            .env_from
            .iter()
            .map(|(_, r, _)| r)
            .chain(c.env.iter().filter_map(|(_, v)| match v {
                Some(crate::target::EnvValue::Ref { source, .. }) => Some(source),
                _ => None,
            }));
        for r in refs {
            match r {
                EnvRef::Secret { name, .. } => secrets.insert((ns.clone(), name.clone())),
                EnvRef::ConfigMap { name, .. } => config_maps.insert((ns.clone(), name.clone())),
            };
        }
    }
    for (sns, name) in secrets {
        let api: Api<Secret> = Api::namespaced(client.clone(), &sns);
        let v = get_opt(&api, &name, &format!("Secret {sns}/{name}"))
            .await
            .map(|o| o.map(secret_data));
        snap.secrets.insert((sns, name), v);
    }
    for (cns, name) in config_maps {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &cns);
        let v = get_opt(&api, &name, &format!("ConfigMap {cns}/{name}"))
            .await
            .map(|o| o.map(|c| c.data.unwrap_or_default()));
        snap.config_maps.insert((cns, name), v);
    }
    if let Some(containers) = containers {
        let lookup = |r: &EnvRef| -> Option<BTreeMap<String, String>> {
            let found = match r {
                EnvRef::Secret { name, .. } => snap.secrets.get(&(ns.clone(), name.clone())),
                EnvRef::ConfigMap { name, .. } => snap.config_maps.get(&(ns.clone(), name.clone())),
            };
            found.and_then(|f| f.clone().ok().flatten())
        };
        let resolved = containers
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    expand_env(c, &lookup).map_err(|e| e.to_string()),
                )
            })
            .collect();
        snap.containers = Some(resolved);
    }
    if wants_service_account && let Some(t) = target {
        let sa = t
            .data
            .pointer("/spec/template/spec/serviceAccountName")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
            .to_string();
        let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
        let v = get_opt(&api, &sa, &format!("ServiceAccount {ns}/{sa}"))
            .await
            .map(|o| o.map(|s| (sa.clone(), s.metadata.annotations.unwrap_or_default())));
        snap.service_account = Some(v);
    }
    snap
}

/// Resolves every trigger's authentication of `so` from `snapshot`, in trigger order.
pub fn resolve_all(
    so: &ScaledObject,
    snapshot: &Snapshot,
    cluster_namespace: &str,
) -> Vec<Result<ResolvedAuth>> {
    let ns = so.metadata.namespace_or_default();
    let container = so
        .spec
        .scale_target_ref
        .env_source_container_name
        .as_deref()
        .filter(|c| !c.is_empty());
    so.spec
        .triggers
        .iter()
        .map(|t| {
            resolve_trigger_auth(ns, container, t, snapshot, cluster_namespace)
                .map_err(|e| Error::Auth(e.to_string()))
        })
        .collect()
}
