//! The resource registry: which group/version/plural the fake server serves and how each behaves
//! (scope, `/status` and `/scale` subresources, short names).
//!
//! Built-in resources are the ones a KEDA-like operator touches (see [`Registry::builtin`]); more
//! can be added with [`crate::apiserver::FakeApiServer::register`]. The store is JSON-generic: a
//! definition says nothing about an object's schema beyond the few paths named here.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Where the `/scale` subresource reads and writes its fields on the owning object, as dotted
/// paths from the object root (`.spec.replicas`), like a CRD's `subresources.scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    /// Path of the desired replica count (`Scale.spec.replicas`), e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// Path of the observed replica count (`Scale.status.replicas`), e.g. `.status.replicas`.
    pub status_replicas: String,
    /// Path of the label selector (`Scale.status.selector`). The value there may be a string
    /// (`a=b,c in (d)`, as CRDs keep it) or a `LabelSelector` object (as apps/v1 keeps
    /// `.spec.selector`), which is rendered to its string form.
    pub label_selector: Option<String>,
}

impl ScalePaths {
    /// The apps/v1 layout: `.spec.replicas`, `.status.replicas`, selector from `.spec.selector`.
    pub fn apps() -> Self {
        Self {
            spec_replicas: ".spec.replicas".into(),
            status_replicas: ".status.replicas".into(),
            label_selector: Some(".spec.selector".into()),
        }
    }
}

/// One served resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDef {
    /// API group, `""` for the core group.
    pub group: String,
    /// Served version (one per definition; register twice for two versions).
    pub version: String,
    /// Kind, e.g. `ScaledObject`.
    pub kind: String,
    /// Plural resource name used in URLs, e.g. `scaledobjects`.
    pub plural: String,
    /// Namespaced (true) or cluster-scoped (false).
    pub namespaced: bool,
    /// Has a `/status` subresource: the main endpoint then ignores `.status`, and generation
    /// counts changes to anything but metadata and status.
    pub status_subresource: bool,
    /// Has a `/scale` subresource mapped onto these paths.
    pub scale: Option<ScalePaths>,
    /// Short names announced in discovery (`so`).
    pub short_names: Vec<String>,
}

impl ResourceDef {
    /// A definition with no subresources and no short names.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
            status_subresource: false,
            scale: None,
            short_names: Vec::new(),
        }
    }

    /// Adds a `/status` subresource.
    pub fn with_status(mut self) -> Self {
        self.status_subresource = true;
        self
    }

    /// Adds a `/scale` subresource.
    pub fn with_scale(mut self, paths: ScalePaths) -> Self {
        self.scale = Some(paths);
        self
    }

    /// Sets the short names.
    pub fn with_short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| (*s).to_string()).collect();
        self
    }

    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The `<plural>.<group>` (or bare plural for the core group) the real server names a
    /// resource by in NotFound, Conflict and AlreadyExists messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `<Kind>.<group>` (or bare kind), as in Invalid messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The key objects of this resource are stored under (one store per group and plural,
    /// whatever the version).
    pub(crate) fn key(&self) -> ResKey {
        ResKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }
}

/// Identity of a resource's object collection: group and plural.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ResKey {
    pub(crate) group: String,
    pub(crate) plural: String,
}

/// A registered resource with what the server knows beyond the public definition.
#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) def: ResourceDef,
    /// Compiled into Kubernetes (not a CRD): strategic merge patch is accepted, list merge keys
    /// of the Go types apply, immediate DELETE answers a `Status` rather than the object.
    pub(crate) builtin: bool,
}

/// All served resources, by group/version/plural.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    by_gvr: BTreeMap<(String, String, String), Arc<Resource>>,
}

impl Registry {
    /// The built-in set: core/v1 namespaces, configmaps, secrets, serviceaccounts, pods, events;
    /// events.k8s.io/v1 events; apps/v1 deployments, statefulsets, replicasets (with scale);
    /// autoscaling/v2 horizontalpodautoscalers; coordination.k8s.io/v1 leases; keda.sh/v1alpha1
    /// scaledobjects, scaledjobs, triggerauthentications, clustertriggerauthentications;
    /// apiregistration.k8s.io/v1 apiservices; apiextensions.k8s.io/v1 customresourcedefinitions.
    pub(crate) fn builtin() -> Self {
        let mut r = Self::default();
        let core = |kind: &str, plural: &str, namespaced: bool| {
            ResourceDef::new("", "v1", kind, plural, namespaced)
        };
        let builtins = [
            core("Namespace", "namespaces", false)
                .with_status()
                .with_short_names(&["ns"]),
            core("ConfigMap", "configmaps", true).with_short_names(&["cm"]),
            core("Secret", "secrets", true),
            core("ServiceAccount", "serviceaccounts", true).with_short_names(&["sa"]),
            core("Pod", "pods", true)
                .with_status()
                .with_short_names(&["po"]),
            core("Event", "events", true).with_short_names(&["ev"]),
            ResourceDef::new("events.k8s.io", "v1", "Event", "events", true)
                .with_short_names(&["ev"]),
            ResourceDef::new("apps", "v1", "Deployment", "deployments", true)
                .with_status()
                .with_scale(ScalePaths::apps())
                .with_short_names(&["deploy"]),
            ResourceDef::new("apps", "v1", "StatefulSet", "statefulsets", true)
                .with_status()
                .with_scale(ScalePaths::apps())
                .with_short_names(&["sts"]),
            ResourceDef::new("apps", "v1", "ReplicaSet", "replicasets", true)
                .with_status()
                .with_scale(ScalePaths::apps())
                .with_short_names(&["rs"]),
            ResourceDef::new(
                "autoscaling",
                "v2",
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
                true,
            )
            .with_status()
            .with_short_names(&["hpa"]),
            ResourceDef::new("coordination.k8s.io", "v1", "Lease", "leases", true),
            ResourceDef::new(
                "apiregistration.k8s.io",
                "v1",
                "APIService",
                "apiservices",
                false,
            )
            .with_status(),
            ResourceDef::new(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                "customresourcedefinitions",
                false,
            )
            .with_status()
            .with_short_names(&["crd", "crds"]),
        ];
        for def in builtins {
            r.insert(def, true);
        }
        let keda = |kind: &str, plural: &str, namespaced: bool, short: &[&str]| {
            ResourceDef::new("keda.sh", "v1alpha1", kind, plural, namespaced)
                .with_status()
                .with_short_names(short)
        };
        r.insert(keda("ScaledObject", "scaledobjects", true, &["so"]), false);
        r.insert(keda("ScaledJob", "scaledjobs", true, &["sj"]), false);
        r.insert(
            keda(
                "TriggerAuthentication",
                "triggerauthentications",
                true,
                &["ta", "triggerauth"],
            ),
            false,
        );
        r.insert(
            keda(
                "ClusterTriggerAuthentication",
                "clustertriggerauthentications",
                false,
                &["cta", "clustertriggerauth"],
            ),
            false,
        );
        r
    }

    /// Adds or replaces a definition.
    pub(crate) fn insert(&mut self, def: ResourceDef, builtin: bool) {
        let key = (def.group.clone(), def.version.clone(), def.plural.clone());
        self.by_gvr.insert(key, Arc::new(Resource { def, builtin }));
    }

    /// The resource served at group/version/plural.
    pub(crate) fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.by_gvr
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .cloned()
    }

    /// Whether any resource is served under group/version.
    pub(crate) fn serves_group_version(&self, group: &str, version: &str) -> bool {
        self.by_gvr
            .keys()
            .any(|(g, v, _)| g == group && v == version)
    }

    /// All resources, ordered by group, version, plural.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Resource>> {
        self.by_gvr.values()
    }

    /// Any definition of this group and plural (the first version).
    pub(crate) fn by_key(&self, key: &ResKey) -> Option<Arc<Resource>> {
        self.by_gvr
            .iter()
            .find(|((g, _, p), _)| *g == key.group && *p == key.plural)
            .map(|(_, r)| r.clone())
    }

    /// The resource of an object, from its `apiVersion` and `kind`.
    pub(crate) fn by_api_version_kind(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<Arc<Resource>> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        self.by_gvr
            .iter()
            .find(|((g, v, _), r)| g == group && v == version && r.def.kind == kind)
            .map(|(_, r)| r.clone())
    }
}
