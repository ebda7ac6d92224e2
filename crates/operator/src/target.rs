//! The scale target: any kind with a `/scale` subresource (Deployment, StatefulSet, custom resources), found
//! through API discovery as KEDA's REST mapper finds it, read and written through `/scale` (`Get` then
//! `Update`, as KEDA's scale client does), and its pod template's container environment for
//! TriggerAuthentication `env` and `...FromEnv` metadata.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use k8s_openapi::api::autoscaling::v1::Scale;
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope, pinned_kind};
use prescale_core::spec::ScaleTargetGvk;
use serde_json::Value;

use crate::error::{Error, Result};

/// A resolved scale target kind: its REST resource and whether it serves `/scale`.
#[derive(Debug, Clone)]
pub struct TargetKind {
    pub resource: ApiResource,
    pub namespaced: bool,
    pub scalable: bool,
}

impl TargetKind {
    /// `status.scaleTargetGVKR`.
    pub fn gvkr(&self) -> prescale_k8s::GroupVersionKindResource {
        prescale_k8s::GroupVersionKindResource {
            group: self.resource.group.clone(),
            version: self.resource.version.clone(),
            kind: self.resource.kind.clone(),
            resource: self.resource.plural.clone(),
        }
    }
}

/// Discovery results by group/version/kind. Kinds that were not found are asked again next time (a CRD may
/// be installed later).
#[derive(Debug, Default)]
pub struct Discovery {
    known: Mutex<HashMap<(String, String, String), TargetKind>>,
}

impl Discovery {
    /// The REST resource of `gvk`, from the cache or the API server's discovery documents.
    pub async fn resolve(&self, client: &Client, gvk: &ScaleTargetGvk) -> Result<TargetKind> {
        let key = (gvk.group.clone(), gvk.version.clone(), gvk.kind.clone());
        if let Some(k) = self.known.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(k);
        }
        let wanted = GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind);
        let (resource, caps) = pinned_kind(client, &wanted).await.map_err(|e| {
            Error::Target(format!(
                "no resource for {} found by API discovery: {e}",
                gvk.gvk_string()
            ))
        })?;
        let kind = TargetKind {
            scalable: has_scale(&caps),
            namespaced: caps.scope == Scope::Namespaced,
            resource,
        };
        if let Ok(mut m) = self.known.lock() {
            m.insert(key, kind.clone());
        }
        Ok(kind)
    }
}

fn has_scale(caps: &ApiCapabilities) -> bool {
    caps.subresources.iter().any(|(r, _)| r.plural == "scale")
}

/// One scale target object in a namespace.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub namespace: String,
    pub name: String,
}

impl Target {
    fn api(&self, client: &Client) -> Api<DynamicObject> {
        if self.kind.namespaced {
            Api::namespaced_with(client.clone(), &self.namespace, &self.kind.resource)
        } else {
            Api::all_with(client.clone(), &self.kind.resource)
        }
    }

    fn describe(&self) -> String {
        let r = &self.kind.resource;
        let gr = if r.group.is_empty() {
            r.plural.clone()
        } else {
            format!("{}.{}", r.plural, r.group)
        };
        format!("{gr} {:?} in namespace {:?}", self.name, self.namespace)
    }

    /// `checkTargetResourceIsScalable`: the `/scale` of the target; when it cannot be read, whether the
    /// target exists at all decides KEDA's message.
    pub async fn get_scale(&self, client: &Client) -> Result<Scale> {
        if !self.kind.scalable {
            return Err(Error::Target(format!(
                "Target resource doesn't expose /scale subresource: {}",
                self.describe()
            )));
        }
        let api = self.api(client);
        match api.get_scale(&self.name).await {
            Ok(s) => Ok(s),
            Err(scale_err) => match api.get_opt(&self.name).await {
                Ok(None) => Err(Error::Target(format!(
                    "Target resource doesn't exist: {}",
                    self.describe()
                ))),
                Ok(Some(_)) => Err(Error::Target(format!(
                    "Target resource doesn't expose /scale subresource: {}: {scale_err}",
                    self.describe()
                ))),
                Err(e) => Err(Error::Kube {
                    action: format!("reading {}", self.describe()),
                    source: e,
                }),
            },
        }
    }

    /// `/scale` replicas ← `replicas`, as KEDA's executor does it: read the Scale, set `spec.replicas`,
    /// update (optimistic concurrency through the Scale's resourceVersion). Returns the replicas before.
    pub async fn scale_to(&self, client: &Client, replicas: i32) -> Result<i32> {
        self.scale_to_from(client, None, replicas).await
    }

    /// [`scale_to`](Self::scale_to) starting from a Scale just read (saving a request); when it turns out to
    /// be stale (409 Conflict) the Scale is read again and the write retried once.
    pub async fn scale_to_from(
        &self,
        client: &Client,
        scale: Option<Scale>,
        replicas: i32,
    ) -> Result<i32> {
        let api = self.api(client);
        let fresh = scale.is_none();
        let mut scale = match scale {
            Some(s) => s,
            None => self.get_scale(client).await?,
        };
        let before = scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        scale.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
        match api
            .replace_scale(&self.name, &PostParams::default(), &scale)
            .await
        {
            Ok(_) => Ok(before),
            Err(kube::Error::Api(s)) if s.code == 409 && !fresh => {
                Box::pin(self.scale_to_from(client, None, replicas)).await
            }
            Err(e) => Err(Error::Kube {
                action: format!("updating /scale of {} to {replicas}", self.describe()),
                source: e,
            }),
        }
    }

    /// The target object.
    pub async fn get(&self, client: &Client) -> Result<DynamicObject> {
        self.api(client)
            .get(&self.name)
            .await
            .map_err(|e| Error::Kube {
                action: format!("reading {}", self.describe()),
                source: e,
            })
    }
}

/// `spec.replicas` of a Scale (`nil` ⇒ 0 for the Scale subresource).
pub fn scale_replicas(scale: &Scale) -> i32 {
    scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// Ready pods of the target: `status.readyReplicas` where the kind has it (Deployments, StatefulSets,
/// ReplicaSets), else the Scale's `status.replicas`.
pub fn ready_pods(object: Option<&DynamicObject>, scale: &Scale) -> i32 {
    object
        .and_then(|o| o.data.pointer("/status/readyReplicas"))
        .and_then(Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or_else(|| scale.status.as_ref().map(|s| s.replicas).unwrap_or(0))
}

/// A reference from a pod template to a value in a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum EnvRef {
    Secret { name: String, key: Option<String> },
    ConfigMap { name: String, key: Option<String> },
}

/// One container of the pod template, as the environment resolution needs it.
#[derive(Debug, Clone, Default)]
pub struct ContainerEnv {
    pub name: String,
    /// `env[]` in order: name → literal value or reference (`valueFrom.secretKeyRef`/`configMapKeyRef`;
    /// other `valueFrom` sources resolve to nothing, as in KEDA).
    pub env: Vec<(String, Option<EnvValue>)>,
    /// `envFrom[]` in order: prefix and source.
    pub env_from: Vec<(String, EnvRef, bool)>,
}

/// A variable's value in a pod template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    Ref { source: EnvRef, optional: bool },
}

/// The containers of the target's pod template (`spec.template.spec.containers`, as for Deployments,
/// StatefulSets and any kind shaped like them; `spec.jobTemplate.spec.template` is not consulted).
pub fn pod_template_containers(object: &DynamicObject) -> Vec<ContainerEnv> {
    let Some(containers) = object
        .data
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    containers.iter().map(container_env).collect()
}

fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str)
}

fn bool_at(v: &Value, path: &str) -> bool {
    v.pointer(path).and_then(Value::as_bool).unwrap_or(false)
}

fn container_env(c: &Value) -> ContainerEnv {
    let mut out = ContainerEnv {
        name: str_at(c, "/name").unwrap_or_default().to_string(),
        ..ContainerEnv::default()
    };
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = str_at(e, "/name") else {
            continue;
        };
        let value = if let Some(v) = str_at(e, "/value") {
            Some(EnvValue::Literal(v.to_string()))
        } else if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
            str_at(r, "/name").map(|n| EnvValue::Ref {
                source: EnvRef::Secret {
                    name: n.to_string(),
                    key: str_at(r, "/key").map(str::to_string),
                },
                optional: bool_at(r, "/optional"),
            })
        } else if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
            str_at(r, "/name").map(|n| EnvValue::Ref {
                source: EnvRef::ConfigMap {
                    name: n.to_string(),
                    key: str_at(r, "/key").map(str::to_string),
                },
                optional: bool_at(r, "/optional"),
            })
        } else if e.get("valueFrom").is_none() {
            Some(EnvValue::Literal(String::new()))
        } else {
            None
        };
        out.env.push((name.to_string(), value));
    }
    for f in c
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let prefix = str_at(f, "/prefix").unwrap_or_default().to_string();
        if let Some(r) = f.get("secretRef") {
            if let Some(n) = str_at(r, "/name") {
                let src = EnvRef::Secret {
                    name: n.to_string(),
                    key: None,
                };
                out.env_from.push((prefix, src, bool_at(r, "/optional")));
            }
        } else if let Some(r) = f.get("configMapRef")
            && let Some(n) = str_at(r, "/name")
        {
            let src = EnvRef::ConfigMap {
                name: n.to_string(),
                key: None,
            };
            out.env_from.push((prefix, src, bool_at(r, "/optional")));
        }
    }
    out
}

/// Expands one container's environment (`resolveEnv`): `envFrom` sources first, in order, then `env[]`
/// (later entries win), given the data of the Secrets and ConfigMaps it references (`None`: not found).
/// A missing non-optional source is an error naming it.
pub fn expand_env(
    container: &ContainerEnv,
    lookup: &dyn Fn(&EnvRef) -> Option<BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for (prefix, source, optional) in &container.env_from {
        match lookup(source) {
            Some(data) => {
                for (k, v) in data {
                    env.insert(format!("{prefix}{k}"), v);
                }
            }
            None if *optional => {}
            None => return Err(Error::Auth(missing(source, &container.name))),
        }
    }
    for (name, value) in &container.env {
        match value {
            Some(EnvValue::Literal(v)) => {
                env.insert(name.clone(), v.clone());
            }
            Some(EnvValue::Ref { source, optional }) => {
                let key = match source {
                    EnvRef::Secret { key, .. } | EnvRef::ConfigMap { key, .. } => key.clone(),
                };
                let found =
                    lookup(source).and_then(|d| key.as_ref().and_then(|k| d.get(k).cloned()));
                match found {
                    Some(v) => {
                        env.insert(name.clone(), v);
                    }
                    None if *optional => {}
                    None => return Err(Error::Auth(missing(source, &container.name))),
                }
            }
            None => {}
        }
    }
    Ok(env)
}

fn missing(source: &EnvRef, container: &str) -> String {
    match source {
        EnvRef::Secret { name, key } => format!(
            "container {container:?}: Secret {name:?}{} referenced by its environment not found",
            key.as_ref()
                .map(|k| format!(" key {k:?}"))
                .unwrap_or_default()
        ),
        EnvRef::ConfigMap { name, key } => format!(
            "container {container:?}: ConfigMap {name:?}{} referenced by its environment not found",
            key.as_ref()
                .map(|k| format!(" key {k:?}"))
                .unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn env_from_then_env_with_references() {
        let d = obj(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"template": {"spec": {"containers": [{
                "name": "app",
                "envFrom": [{"prefix": "CM_", "configMapRef": {"name": "cm"}},
                            {"secretRef": {"name": "gone", "optional": true}}],
                "env": [{"name": "A", "value": "1"},
                        {"name": "CM_X", "value": "overridden"},
                        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw"}}},
                        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
            }]}}}
        }));
        let containers = pod_template_containers(&d);
        assert_eq!(containers.len(), 1);
        let lookup = |r: &EnvRef| match r {
            EnvRef::ConfigMap { name, .. } if name == "cm" => Some(BTreeMap::from([
                ("X".to_string(), "x".to_string()),
                ("Y".into(), "y".into()),
            ])),
            EnvRef::Secret { name, .. } if name == "s" => {
                Some(BTreeMap::from([("pw".to_string(), "hunter2".to_string())]))
            }
            _ => None,
        };
        let env = expand_env(&containers[0], &lookup).unwrap();
        assert_eq!(env["A"], "1");
        assert_eq!(env["CM_X"], "overridden");
        assert_eq!(env["CM_Y"], "y");
        assert_eq!(env["PW"], "hunter2");
        assert!(!env.contains_key("POD"));
    }

    #[test]
    fn a_missing_required_source_is_named() {
        let d = obj(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"template": {"spec": {"containers": [{
                "name": "app",
                "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw"}}}]
            }]}}}
        }));
        let err = expand_env(&pod_template_containers(&d)[0], &|_| None).unwrap_err();
        assert!(err.to_string().contains("Secret \"s\" key \"pw\""), "{err}");
    }
}
