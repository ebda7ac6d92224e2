//! KEDA's `keda.sh/v1alpha1` resources as Kubernetes API objects for kube-rs.
//!
//! Each resource is the API server's shape — `metadata` as `k8s-openapi`'s `ObjectMeta` (uid, generation,
//! resourceVersion, finalizers, owner references, deletionTimestamp) — around the **core** spec types
//! (`prescale_core::spec`), so the operator and the pure engine read one model. `to_core()` gives the core
//! document the engine takes. Status types are KEDA's status fields, typed.

pub mod crd;
pub mod status;

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::core::{ClusterResourceScope, NamespaceResourceScope};
use prescale_core::spec;
use serde::{Deserialize, Serialize};

pub use status::{
    Condition, GroupVersionKindResource, HealthStatus, ProactiveStatus, ScaledJobStatus,
    ScaledObjectStatus, TriggerActivity, TriggerAuthenticationStatus,
};

/// The API group of every KEDA resource.
pub const GROUP: &str = "keda.sh";
/// The only version KEDA serves.
pub const VERSION: &str = "v1alpha1";
/// `keda.sh/v1alpha1`.
pub const API_VERSION: &str = "keda.sh/v1alpha1";

macro_rules! keda_resource {
    ($(#[$doc:meta])* $name:ident, spec: $spec:ty, status: $status:ty, kind: $kind:literal,
     plural: $plural:literal, scope: $scope:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            #[serde(default)]
            pub metadata: ObjectMeta,
            pub spec: $spec,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<$status>,
        }

        impl $name {
            /// The kind.
            pub const KIND: &'static str = $kind;
            /// The resource (plural) name.
            pub const PLURAL: &'static str = $plural;

            /// A new object with this metadata and spec, no status.
            pub fn new(metadata: ObjectMeta, spec: $spec) -> Self {
                $name { metadata, spec, status: None }
            }
        }

        impl Resource for $name {
            type DynamicType = ();
            type Scope = $scope;

            fn kind(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($kind)
            }
            fn group(_: &()) -> Cow<'_, str> {
                Cow::Borrowed(GROUP)
            }
            fn version(_: &()) -> Cow<'_, str> {
                Cow::Borrowed(VERSION)
            }
            fn plural(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($plural)
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

keda_resource!(
    /// `ScaledObject`.
    ScaledObject, spec: spec::ScaledObjectSpec, status: ScaledObjectStatus, kind: "ScaledObject",
    plural: "scaledobjects", scope: NamespaceResourceScope
);
keda_resource!(
    /// `ScaledJob` (served and validated; the operator does not run ScaledJobs).
    ScaledJob, spec: spec::ScaledJobSpec, status: ScaledJobStatus, kind: "ScaledJob",
    plural: "scaledjobs", scope: NamespaceResourceScope
);
keda_resource!(
    /// `TriggerAuthentication`.
    TriggerAuthentication, spec: spec::TriggerAuthenticationSpec, status: TriggerAuthenticationStatus,
    kind: "TriggerAuthentication", plural: "triggerauthentications", scope: NamespaceResourceScope
);
keda_resource!(
    /// `ClusterTriggerAuthentication`.
    ClusterTriggerAuthentication, spec: spec::TriggerAuthenticationSpec,
    status: TriggerAuthenticationStatus, kind: "ClusterTriggerAuthentication",
    plural: "clustertriggerauthentications", scope: ClusterResourceScope
);

/// The core engine's metadata from the API server's.
pub fn core_meta(meta: &ObjectMeta) -> spec::ObjectMeta {
    spec::ObjectMeta {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        generate_name: meta.generate_name.clone(),
        labels: meta.labels.clone().unwrap_or_default(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        generation: meta.generation,
        creation_timestamp: meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        deletion_timestamp: meta.deletion_timestamp.as_ref().map(|t| t.0.to_string()),
        finalizers: meta.finalizers.clone().unwrap_or_default(),
        other: Default::default(),
    }
}

impl ScaledObject {
    /// The core engine's document (status is carried as JSON, as the core type keeps it).
    pub fn to_core(&self) -> spec::ScaledObject {
        spec::ScaledObject {
            api_version: API_VERSION.to_string(),
            kind: Self::KIND.to_string(),
            metadata: core_meta(&self.metadata),
            spec: self.spec.clone(),
            status: self
                .status
                .as_ref()
                .and_then(|s| serde_json::to_value(s).ok()),
        }
    }
}

impl TriggerAuthentication {
    /// The core engine's document.
    pub fn to_core(&self) -> spec::TriggerAuthentication {
        spec::TriggerAuthentication {
            api_version: API_VERSION.to_string(),
            kind: Self::KIND.to_string(),
            metadata: core_meta(&self.metadata),
            spec: self.spec.clone(),
            status: None,
        }
    }
}

impl ClusterTriggerAuthentication {
    /// The core engine's document.
    pub fn to_core(&self) -> spec::ClusterTriggerAuthentication {
        spec::ClusterTriggerAuthentication {
            api_version: API_VERSION.to_string(),
            kind: Self::KIND.to_string(),
            metadata: core_meta(&self.metadata),
            spec: self.spec.clone(),
            status: None,
        }
    }
}
