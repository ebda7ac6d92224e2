//! KEDA's four `keda.sh/v1alpha1` CustomResourceDefinitions, built from the JSON Schemas of the Rust
//! types (`prescale_core::spec` with its `schema` feature, the status types here, and k8s-openapi's
//! `batch/v1` `JobSpec` for a ScaledJob's `jobTargetRef`).
//!
//! Names, scope, short names, printer columns, the status subresource and the ScaledObject CEL rule are
//! KEDA 2.20's. The schemas are made structural here rather than with `kube::core::schema`'s
//! `StructuralSchemaRewriter` (which needs kube's `derive` feature or a direct kube-core dependency):
//! that rewriter works on schemas schemars has already inlined, so it cannot tell k8s-openapi's
//! `Quantity` apart from `IntOrString` (both are `x-kubernetes-int-or-string` with a field description)
//! to give quantities KEDA's pattern; it leaves `Option`'s `null` branches for `nullable` (KEDA's CRDs
//! have no `nullable`); and it panics where a schema cannot be rewritten. [`structural`] resolves every
//! `$ref` itself, with replacements for a few k8s-openapi definitions, and reports what it cannot
//! rewrite.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionNames,
    CustomResourceDefinitionSpec, CustomResourceDefinitionVersion, CustomResourceSubresourceStatus,
    CustomResourceSubresources, CustomResourceValidation, JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prescale_core::spec;
pub use prescale_core::spec::CrdKind;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::{GROUP, VERSION, status};

/// KEDA's CEL rule on a ScaledObject's `spec` (the HPA's default maximum is 100).
pub const SCALED_OBJECT_RULE: &str = "!has(self.minReplicaCount) || self.minReplicaCount <= (has(self.maxReplicaCount) ? self.maxReplicaCount : 100)";
/// The message of [`SCALED_OBJECT_RULE`].
pub const SCALED_OBJECT_RULE_MESSAGE: &str =
    "minReplicaCount must be less than or equal to maxReplicaCount";

/// One printer column: name, type, JSONPath, priority.
type Column = (&'static str, &'static str, &'static str, Option<i32>);

/// The CRD facts that are not in the schema.
struct KindInfo {
    plural: &'static str,
    singular: &'static str,
    short_names: &'static [&'static str],
    namespaced: bool,
    description: &'static str,
    columns: &'static [Column],
}

const STATUS_READY: &str = ".status.conditions[?(@.type==\"Ready\")].status";
const STATUS_ACTIVE: &str = ".status.conditions[?(@.type==\"Active\")].status";
const STATUS_FALLBACK: &str = ".status.conditions[?(@.type==\"Fallback\")].status";
const STATUS_PAUSED: &str = ".status.conditions[?(@.type==\"Paused\")].status";

fn info(kind: CrdKind) -> KindInfo {
    match kind {
        CrdKind::ScaledObject => KindInfo {
            plural: "scaledobjects",
            singular: "scaledobject",
            short_names: &["so"],
            namespaced: true,
            description: "ScaledObject scales a Deployment, StatefulSet or any `/scale` resource through an HPA on the metrics of its triggers.",
            columns: &[
                ("ScaleTargetKind", "string", ".status.scaleTargetKind", None),
                (
                    "ScaleTargetName",
                    "string",
                    ".spec.scaleTargetRef.name",
                    None,
                ),
                ("Min", "integer", ".spec.minReplicaCount", None),
                ("Max", "integer", ".spec.maxReplicaCount", None),
                ("Ready", "string", STATUS_READY, None),
                ("Active", "string", STATUS_ACTIVE, None),
                ("Fallback", "string", STATUS_FALLBACK, None),
                ("Paused", "string", STATUS_PAUSED, None),
                ("Triggers", "string", ".status.triggersTypes", None),
                (
                    "Authentications",
                    "string",
                    ".status.authenticationsTypes",
                    None,
                ),
                ("Age", "date", ".metadata.creationTimestamp", None),
            ],
        },
        CrdKind::ScaledJob => KindInfo {
            plural: "scaledjobs",
            singular: "scaledjob",
            short_names: &["sj"],
            namespaced: true,
            description: "ScaledJob runs Kubernetes Jobs from a template, as many as its triggers' metrics ask for.",
            columns: &[
                ("Min", "integer", ".spec.minReplicaCount", None),
                ("Max", "integer", ".spec.maxReplicaCount", None),
                ("Ready", "string", STATUS_READY, None),
                ("Active", "string", STATUS_ACTIVE, None),
                ("Paused", "string", STATUS_PAUSED, None),
                ("Triggers", "string", ".status.triggersTypes", None),
                (
                    "Authentications",
                    "string",
                    ".status.authenticationsTypes",
                    None,
                ),
                ("Age", "date", ".metadata.creationTimestamp", None),
            ],
        },
        CrdKind::TriggerAuthentication => KindInfo {
            plural: "triggerauthentications",
            singular: "triggerauthentication",
            short_names: &["ta", "triggerauth"],
            namespaced: true,
            description: "TriggerAuthentication gives the triggers of ScaledObjects and ScaledJobs in its namespace their credentials.",
            columns: &[
                ("PodIdentity", "string", ".spec.podIdentity.provider", None),
                ("Secret", "string", ".spec.secretTargetRef[*].name", None),
                ("Env", "string", ".spec.env[*].name", None),
                (
                    "VaultAddress",
                    "string",
                    ".spec.hashiCorpVault.address",
                    None,
                ),
                ("ScaledObjects", "string", ".status.scaledobjects", Some(1)),
                ("ScaledJobs", "string", ".status.scaledjobs", Some(1)),
            ],
        },
        CrdKind::ClusterTriggerAuthentication => KindInfo {
            plural: "clustertriggerauthentications",
            singular: "clustertriggerauthentication",
            short_names: &["cta", "clustertriggerauth"],
            namespaced: false,
            description: "ClusterTriggerAuthentication gives triggers in any namespace their credentials.",
            columns: &[
                ("PodIdentity", "string", ".spec.podIdentity.provider", None),
                ("Secret", "string", ".spec.secretTargetRef[*].name", None),
                ("Env", "string", ".spec.env[*].name", None),
                ("FilePath", "string", ".spec.filePath", None),
                (
                    "VaultAddress",
                    "string",
                    ".spec.hashiCorpVault.address",
                    None,
                ),
                ("ScaledObjects", "string", ".status.scaledobjects", Some(1)),
                ("ScaledJobs", "string", ".status.scaledjobs", Some(1)),
            ],
        },
    }
}

/// The kind a name refers to, as kubectl resolves it: kind, plural, singular or short name, any case.
pub fn kind_from_name(name: &str) -> Option<CrdKind> {
    let name = name.to_ascii_lowercase();
    CrdKind::ALL.into_iter().find(|k| {
        let i = info(*k);
        k.name().to_ascii_lowercase() == name
            || i.plural == name
            || i.singular == name
            || i.short_names.contains(&name.as_str())
    })
}

/// All four CRDs, in [`CrdKind::ALL`] order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    CrdKind::ALL.into_iter().map(crd).collect()
}

/// All four CRDs as one multi-document YAML stream (deterministic: the same bytes on every run).
pub fn crds_yaml() -> String {
    to_yaml(&crds())
}

/// One kind's CRD as YAML.
pub fn crd_yaml(kind: CrdKind) -> String {
    to_yaml(&[crd(kind)])
}

fn to_yaml(crds: &[CustomResourceDefinition]) -> String {
    let mut out = String::new();
    for c in crds {
        out.push_str("---\n");
        // A CRD is plain strings, numbers, maps and lists: it always serialises.
        let value = integral_numbers(serde_json::to_value(c).expect("a CRD serialises to JSON"));
        out.push_str(&serde_saphyr::to_string(&value).expect("a CRD serialises to YAML"));
    }
    out
}

/// The CRD as JSON, with whole-number bounds written as integers (`minimum: 1`, not `1.0`: the
/// OpenAPI types hold them as floats).
pub fn crd_json(kind: CrdKind) -> Value {
    integral_numbers(serde_json::to_value(crd(kind)).expect("a CRD serialises to JSON"))
}

fn integral_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(integral_numbers).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, integral_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The CRD of one kind.
pub fn crd(kind: CrdKind) -> CustomResourceDefinition {
    let i = info(kind);
    let schema: JSONSchemaProps = serde_json::from_value(open_api_v3_schema(kind))
        .expect("the generated schema has JSONSchemaProps' shape");
    let columns = i
        .columns
        .iter()
        .map(
            |(name, type_, path, priority)| CustomResourceColumnDefinition {
                name: (*name).to_string(),
                type_: (*type_).to_string(),
                json_path: (*path).to_string(),
                priority: *priority,
                ..Default::default()
            },
        )
        .collect();
    CustomResourceDefinition {
        metadata: ObjectMeta {
            name: Some(format!("{}.{GROUP}", i.plural)),
            ..Default::default()
        },
        spec: CustomResourceDefinitionSpec {
            group: GROUP.to_string(),
            names: CustomResourceDefinitionNames {
                kind: kind.name().to_string(),
                list_kind: Some(format!("{}List", kind.name())),
                plural: i.plural.to_string(),
                singular: Some(i.singular.to_string()),
                short_names: Some(i.short_names.iter().map(|s| s.to_string()).collect()),
                categories: None,
            },
            scope: if i.namespaced {
                "Namespaced"
            } else {
                "Cluster"
            }
            .to_string(),
            versions: vec![CustomResourceDefinitionVersion {
                name: VERSION.to_string(),
                served: true,
                storage: true,
                additional_printer_columns: Some(columns),
                schema: Some(CustomResourceValidation {
                    open_api_v3_schema: Some(schema),
                }),
                subresources: Some(CustomResourceSubresources {
                    status: Some(CustomResourceSubresourceStatus(json!({}))),
                    scale: None,
                }),
                ..Default::default()
            }],
            conversion: None,
            preserve_unknown_fields: None,
        },
        status: None,
    }
}

/// The structural `openAPIV3Schema` of one kind, as JSON.
pub fn open_api_v3_schema(kind: CrdKind) -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.meta_schema = None;
        s.inline_subschemas = false;
        s.transforms.clear();
    });
    let mut generator = settings.into_generator();
    let (spec, status) = match kind {
        CrdKind::ScaledObject => (
            generator.subschema_for::<spec::ScaledObjectSpec>(),
            generator.subschema_for::<status::ScaledObjectStatus>(),
        ),
        CrdKind::ScaledJob => (
            generator.subschema_for::<spec::ScaledJobSpec>(),
            generator.subschema_for::<status::ScaledJobStatus>(),
        ),
        CrdKind::TriggerAuthentication | CrdKind::ClusterTriggerAuthentication => (
            generator.subschema_for::<spec::TriggerAuthenticationSpec>(),
            generator.subschema_for::<status::TriggerAuthenticationStatus>(),
        ),
    };
    let job_spec = (kind == CrdKind::ScaledJob).then(|| generator.subschema_for::<JobSpec>());
    let replacements = replacements(&mut generator);
    let mut defs = generator.take_definitions(false);
    add_newer_fields(&mut defs);
    restore_api_defaults(&mut defs);
    if let Some(job_spec) = job_spec {
        // `jobTargetRef` is JSON in the core type; its schema is the `batch/v1` JobSpec's.
        let name = <spec::ScaledJobSpec as JsonSchema>::schema_name();
        if let Some(props) = defs
            .get_mut(name.as_ref())
            .and_then(|d| d.get_mut("properties"))
            .and_then(Value::as_object_mut)
        {
            props.insert("jobTargetRef".to_string(), job_spec.to_value());
        }
    }
    let root = json!({
        "description": info(kind).description,
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "The versioned schema of this representation of an object: keda.sh/v1alpha1.",
                "type": "string",
            },
            "kind": {
                "description": "The REST resource this object represents.",
                "type": "string",
            },
            "metadata": { "type": "object" },
            "spec": spec,
            "status": status,
        },
        // The typed resources have a non-optional `spec`: the API server must not store an object the
        // operator's watches could not decode.
        "required": ["spec"],
    });
    let mut root = structural(root, &defs, &replacements)
        .unwrap_or_else(|e| panic!("{kind:?} schema is not structural: {e}"));
    patch(kind, &mut root);
    root
}

/// Definitions replaced while inlining: schemars' names of k8s-openapi types → schema.
fn replacements(generator: &mut SchemaGenerator) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    // `resource.Quantity` as the API server's OpenAPI (and KEDA's CRD) gives it: an integer or a string
    // matching the quantity pattern. k8s-openapi's schema has the int-or-string marker only.
    out.insert(
        <k8s_openapi::apimachinery::pkg::api::resource::Quantity as JsonSchema>::schema_name()
            .into_owned(),
        json!({
            "anyOf": [{ "type": "integer" }, { "type": "string" }],
            "pattern": spec::crd::QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": true,
        }),
    );
    // An embedded `ObjectMeta` (a pod template's, a volume claim template's): the fields an object
    // embedded in a CRD can set, as controller-gen (and so KEDA's CRD) gives them.
    let meta = generator.root_schema_for::<ObjectMeta>().to_value();
    let mut properties = Map::new();
    for name in ["annotations", "finalizers", "labels", "name", "namespace"] {
        if let Some(p) = meta.pointer(&format!("/properties/{name}")) {
            properties.insert(name.to_string(), p.clone());
        }
    }
    out.insert(
        <ObjectMeta as JsonSchema>::schema_name().into_owned(),
        json!({
            "description": meta.get("description").cloned().unwrap_or(Value::Null),
            "type": "object",
            "properties": properties,
        }),
    );
    out
}

/// Fields of the pod template that Kubernetes 1.34 and 1.35 added, which KEDA 2.20's CRD has (it is built
/// with `k8s.io/api` v0.35) and k8s-openapi's `v1_33` API (the workspace's) lacks: without them the API server
/// would prune these fields from a ScaledJob's `jobTargetRef`. Each is added only where the definition does
/// not have it already (a newer k8s-openapi version feature has them all).
fn add_newer_fields(defs: &mut Map<String, Value>) {
    let file_key_selector = json!({
        "description": "FileKeySelector selects a key of the env file (Kubernetes 1.34).",
        "type": "object",
        "properties": {
            "key": { "type": "string" },
            "optional": { "type": "boolean", "default": false },
            "path": { "type": "string" },
            "volumeName": { "type": "string" },
        },
        "required": ["key", "path", "volumeName"],
    });
    let restart_rules = json!({
        "description": "Rules for restarting the container when it exits (Kubernetes 1.34).",
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "action": { "type": "string" },
                "exitCodes": {
                    "type": "object",
                    "properties": {
                        "operator": { "type": "string" },
                        "values": { "type": "array", "items": { "type": "integer", "format": "int32" } },
                    },
                    "required": ["operator"],
                },
            },
            "required": ["action"],
        },
    });
    let pod_certificate = json!({
        "description": "A pod certificate projected into the volume (Kubernetes 1.34).",
        "type": "object",
        "properties": {
            "certificateChainPath": { "type": "string" },
            "credentialBundlePath": { "type": "string" },
            "keyPath": { "type": "string" },
            "keyType": { "type": "string" },
            "maxExpirationSeconds": { "type": "integer", "format": "int32" },
            "signerName": { "type": "string" },
            "userAnnotations": { "type": "object", "additionalProperties": { "type": "string" } },
        },
        "required": ["keyType", "signerName"],
    });
    let workload_ref = json!({
        "description": "The Workload this pod belongs to (Kubernetes 1.35).",
        "type": "object",
        "properties": {
            "name": { "type": "string" },
            "podGroup": { "type": "string" },
            "podGroupReplicaKey": { "type": "string" },
        },
        "required": ["name", "podGroup"],
    });
    let additions = [
        (
            "io.k8s.api.core.v1.EnvVarSource",
            "fileKeyRef",
            file_key_selector,
        ),
        (
            "io.k8s.api.core.v1.Container",
            "restartPolicyRules",
            restart_rules.clone(),
        ),
        (
            "io.k8s.api.core.v1.EphemeralContainer",
            "restartPolicyRules",
            restart_rules,
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "hostnameOverride",
            json!({ "description": "The pod's hostname (Kubernetes 1.34).", "type": "string" }),
        ),
        ("io.k8s.api.core.v1.PodSpec", "workloadRef", workload_ref),
        (
            "io.k8s.api.core.v1.VolumeProjection",
            "podCertificate",
            pod_certificate,
        ),
    ];
    for (def, field, schema) in additions {
        if let Some(props) = defs
            .get_mut(def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(Value::as_object_mut)
        {
            props.entry(field).or_insert(schema);
        }
    }
}

/// Defaults the Kubernetes API declares (`+default` markers, so its OpenAPI and KEDA's CRD have them)
/// that k8s-openapi drops: it makes such fields non-optional and lists them as required instead. Each
/// entry is (definition, field, default); the field gets its default and leaves `required` (the API
/// server fills it in before validating), as upstream has it.
const API_DEFAULTS: &[(&str, &str, &str)] = &[
    ("io.k8s.api.core.v1.LocalObjectReference", "name", r#""""#),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "name", r#""""#),
    ("io.k8s.api.core.v1.SecretKeySelector", "name", r#""""#),
    ("io.k8s.api.core.v1.ConfigMapEnvSource", "name", r#""""#),
    ("io.k8s.api.core.v1.SecretEnvSource", "name", r#""""#),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "name", r#""""#),
    ("io.k8s.api.core.v1.ConfigMapProjection", "name", r#""""#),
    ("io.k8s.api.core.v1.SecretProjection", "name", r#""""#),
    ("io.k8s.api.core.v1.GRPCAction", "service", r#""""#),
    ("io.k8s.api.core.v1.ContainerPort", "protocol", r#""TCP""#),
    (
        "io.k8s.api.core.v1.AzureDiskVolumeSource",
        "fsType",
        r#""ext4""#,
    ),
    (
        "io.k8s.api.core.v1.AzureDiskVolumeSource",
        "readOnly",
        "false",
    ),
    (
        "io.k8s.api.core.v1.ISCSIVolumeSource",
        "iscsiInterface",
        r#""default""#,
    ),
    (
        "io.k8s.api.core.v1.RBDVolumeSource",
        "keyring",
        r#""/etc/ceph/keyring""#,
    ),
    ("io.k8s.api.core.v1.RBDVolumeSource", "pool", r#""rbd""#),
    ("io.k8s.api.core.v1.RBDVolumeSource", "user", r#""admin""#),
    (
        "io.k8s.api.core.v1.ScaleIOVolumeSource",
        "fsType",
        r#""xfs""#,
    ),
    (
        "io.k8s.api.core.v1.ScaleIOVolumeSource",
        "storageMode",
        r#""ThinProvisioned""#,
    ),
];

fn restore_api_defaults(defs: &mut Map<String, Value>) {
    for (def, field, default) in API_DEFAULTS {
        let Some(d) = defs.get_mut(*def).and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(Value::Array(required)) = d.get_mut("required") {
            required.retain(|r| r != field);
        }
        if let Some(p) = d
            .get_mut("properties")
            .and_then(|p| p.get_mut(*field))
            .and_then(Value::as_object_mut)
            && let Ok(v) = serde_json::from_str::<Value>(default)
        {
            p.insert("default".to_string(), v);
        }
    }
    // `onPodConditions[].status` is optional in the Kubernetes 1.35 API (KEDA's; "Defaults to True");
    // k8s-openapi's v1_33 API requires it.
    if let Some(Value::Array(required)) = defs
        .get_mut("io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern")
        .and_then(|d| d.get_mut("required"))
    {
        required.retain(|r| r != "status");
    }
    // KEDA's release manifests require `protocol` of a container port (defaulted to TCP, so always
    // present): `containerPort` + `protocol` are the list's map keys (kedacore/keda#927).
    if let Some(Value::Array(required)) = defs
        .get_mut("io.k8s.api.core.v1.ContainerPort")
        .and_then(|d| d.get_mut("required"))
    {
        required.push(json!("protocol"));
    }
}

/// A schemars `transform` that removes the `default` schemars derives from `#[serde(default)]`, for
/// fields whose KEDA CRD has none (the API server would write the default into stored objects).
pub fn drop_default(schema: &mut schemars::Schema) {
    schema.remove("default");
}

/// Changes KEDA's release manifests make to the generated CRDs (`config/crd/patches/`).
fn patch(kind: CrdKind, root: &mut Value) {
    if kind == CrdKind::ScaledObject
        && let Some(spec) = root
            .pointer_mut("/properties/spec")
            .and_then(Value::as_object_mut)
    {
        spec.insert(
            "x-kubernetes-validations".to_string(),
            json!([{ "rule": SCALED_OBJECT_RULE, "message": SCALED_OBJECT_RULE_MESSAGE }]),
        );
    }
    if kind != CrdKind::ScaledJob {
        return;
    }
    // Unknown fields of the pod template's metadata are kept (kedacore/keda#1311).
    if let Some(meta) = root
        .pointer_mut(
            "/properties/spec/properties/jobTargetRef/properties/template/properties/metadata",
        )
        .and_then(Value::as_object_mut)
    {
        meta.insert(
            "x-kubernetes-preserve-unknown-fields".to_string(),
            Value::Bool(true),
        );
    }
    // A ScaledJob's triggers have no `metricType`: the CRD prunes it.
    if let Some(props) = root
        .pointer_mut("/properties/spec/properties/triggers/items/properties")
        .and_then(Value::as_object_mut)
    {
        props.remove("metricType");
    }
}

/// Rewrite a schemars schema into a Kubernetes structural schema, in two passes.
///
/// 1. Inline every `$ref` (through `replacements` first, then `defs`); a `$ref` cycle is an error
///    (structural schemas cannot recurse). Descriptions from prescale's own types are dropped: their
///    doc comments are written for Rust readers (they name KEDA's Go types and prescale internals);
///    descriptions of k8s-openapi's types (the Kubernetes API's own) are kept.
/// 2. Make each node structural: `Option`'s `null` branches and types dropped, enums written as `oneOf`
///    of constants merged into one `enum`, single-branch `anyOf`/`oneOf`/`allOf` merged into the node,
///    `const` → `enum`, keywords CRDs reject (`title`, `$schema`, `uniqueItems: true`, `examples`, …)
///    removed, `additionalProperties: true` → `x-kubernetes-preserve-unknown-fields`. An `anyOf`/`oneOf`
///    that is neither an enum nor int-or-string, or a node left without a type, is an error.
pub fn structural(
    node: Value,
    defs: &Map<String, Value>,
    replacements: &BTreeMap<String, Value>,
) -> Result<Value, String> {
    let inlined = Inliner { defs, replacements }.inline(node, "", false, &mut Vec::new())?;
    clean(inlined, "")
}

struct Inliner<'a> {
    defs: &'a Map<String, Value>,
    replacements: &'a BTreeMap<String, Value>,
}

impl Inliner<'_> {
    /// `own`: the node belongs to one of prescale's types (its description is dropped).
    fn inline(
        &self,
        node: Value,
        path: &str,
        own: bool,
        stack: &mut Vec<String>,
    ) -> Result<Value, String> {
        let Value::Object(mut map) = node else {
            return Ok(node);
        };
        if own {
            map.remove("description");
        }
        let reference = map.remove("$ref");
        // The node's own subschemas first, then the definition (already inlined) under them.
        for key in ["properties", "patternProperties", "$defs"] {
            if let Some(Value::Object(props)) = map.get_mut(key) {
                for (name, p) in props.iter_mut() {
                    *p = self.inline(p.take(), &format!("{path}.{name}"), own, stack)?;
                }
            }
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(child) = map.get_mut(key) {
                let suffix = if key == "items" { "[]" } else { "{}" };
                *child = self.inline(child.take(), &format!("{path}{suffix}"), own, stack)?;
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(branches)) = map.get_mut(key) {
                for b in branches.iter_mut() {
                    *b = self.inline(b.take(), path, own, stack)?;
                }
            }
        }
        if let Some(r) = reference {
            let r = r
                .as_str()
                .ok_or_else(|| format!("{path}: $ref is not a string"))?;
            let name = decode_ref(r).ok_or_else(|| format!("{path}: unsupported $ref {r}"))?;
            if stack.contains(&name) {
                return Err(format!("{path}: recursive type {name}"));
            }
            let def = self
                .replacements
                .get(&name)
                .or_else(|| self.defs.get(&name))
                .cloned()
                .ok_or_else(|| format!("{path}: no definition {name}"))?;
            let def_own = !name.starts_with("io.k8s.");
            stack.push(name);
            let def = self.inline(def, path, def_own, stack)?;
            stack.pop();
            match def {
                Value::Object(def) => merge_under(&mut map, def),
                // `true`: any value.
                Value::Bool(true) => {}
                other => return Err(format!("{path}: unexpected definition {other}")),
            }
        }
        Ok(Value::Object(map))
    }
}

fn is_null_schema(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.get("type") == Some(&json!("null"))
                || m.get("const") == Some(&Value::Null)
                || m.get("enum") == Some(&json!([null]))
        }
        _ => false,
    }
}

/// The definition name of a `#/$defs/<name>` reference (percent-decoded, then JSON-pointer-unescaped).
fn decode_ref(r: &str) -> Option<String> {
    let name = r.strip_prefix("#/$defs/")?.as_bytes();
    let mut bytes = Vec::with_capacity(name.len());
    let mut i = 0;
    while let Some(&b) = name.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(name.get(i + 1..i + 3)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            bytes.push(b);
            i += 1;
        }
    }
    let s = String::from_utf8(bytes).ok()?;
    Some(s.replace("~1", "/").replace("~0", "~"))
}

/// Merge `from` into `into`; keys already in `into` win (a field's description over its type's).
fn merge_under(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        into.entry(k).or_insert(v);
    }
}

/// Pass 2 of [`structural`] on one (inlined) node and its children.
fn clean(node: Value, path: &str) -> Result<Value, String> {
    let mut map = match node {
        // `true`: any value (a `serde_json::Value` field).
        Value::Bool(true) => {
            return Ok(json!({ "x-kubernetes-preserve-unknown-fields": true }));
        }
        Value::Object(m) => m,
        other => return Err(format!("{path}: unexpected schema {other}")),
    };
    if let Some(r) = map.get("$ref") {
        return Err(format!("{path}: $ref {r} left after inlining"));
    }
    for key in [
        "title",
        "$schema",
        "$defs",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
    ] {
        map.remove(key);
    }
    if let Some(c) = map.remove("const") {
        map.insert("enum".to_string(), Value::Array(vec![c]));
    }

    // Combinators: drop `null` branches, hoist enum constants, merge a single branch.
    for key in ["anyOf", "oneOf", "allOf"] {
        let Some(Value::Array(branches)) = map.remove(key) else {
            continue;
        };
        let branches: Vec<Value> = branches
            .into_iter()
            .filter(|b| !is_null_schema(b))
            .collect();
        if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
            // `anyOf: [integer, string]` is how int-or-string is written; keep it as it is.
            map.insert(key.to_string(), Value::Array(branches));
            continue;
        }
        let branches = branches
            .into_iter()
            .map(|b| clean(b, path))
            .collect::<Result<Vec<_>, _>>()?;
        match branches.len() {
            0 => {}
            1 => {
                if let Some(Value::Object(b)) = branches.into_iter().next() {
                    merge_under(&mut map, b);
                }
            }
            _ if key != "allOf" && branches.iter().all(is_enum_branch) => {
                let mut values: Vec<Value> = Vec::new();
                let mut ty: Option<Value> = None;
                for b in &branches {
                    if let Some(t) = b.get("type") {
                        match &ty {
                            Some(prev) if prev != t => {
                                return Err(format!(
                                    "{path}: enum variants of different types {prev} and {t}"
                                ));
                            }
                            _ => ty = Some(t.clone()),
                        }
                    }
                    if let Some(Value::Array(vs)) = b.get("enum") {
                        values.extend(vs.iter().cloned());
                    }
                }
                if let Some(t) = ty {
                    map.entry("type").or_insert(t);
                }
                map.insert("enum".to_string(), Value::Array(values));
            }
            n => {
                return Err(format!(
                    "{path}: {key} with {n} alternatives cannot be made structural"
                ));
            }
        }
    }

    // `type: [T, "null"]` → `type: T`; `null` out of enums; no `nullable`.
    if let Some(Value::Array(types)) = map.get("type") {
        let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        match types.as_slice() {
            [one] => {
                map.insert("type".to_string(), one.clone());
            }
            _ => return Err(format!("{path}: types {types:?}")),
        }
    }
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    map.remove("nullable");
    if map
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        map.remove("required");
    }
    if map.get("uniqueItems") == Some(&Value::Bool(true)) {
        map.remove("uniqueItems");
    }

    // Children.
    if let Some(Value::Object(props)) = map.remove("properties") {
        let mut out = Map::new();
        for (name, p) in props {
            let child = clean(p, &format!("{path}.{name}"))?;
            out.insert(name, child);
        }
        map.insert("properties".to_string(), Value::Object(out));
    }
    if let Some(items) = map.remove("items") {
        map.insert("items".to_string(), clean(items, &format!("{path}[]"))?);
    }
    match map.remove("additionalProperties") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            map.insert(
                "x-kubernetes-preserve-unknown-fields".to_string(),
                Value::Bool(true),
            );
        }
        Some(ap) => {
            map.insert(
                "additionalProperties".to_string(),
                clean(ap, &format!("{path}{{}}"))?,
            );
        }
    }
    if map.get("type").is_none()
        && map.get("x-kubernetes-int-or-string").is_none()
        && map.get("x-kubernetes-preserve-unknown-fields").is_none()
    {
        return Err(format!("{path}: no type"));
    }
    Ok(Value::Object(map))
}

fn is_enum_branch(b: &Value) -> bool {
    b.as_object().is_some_and(|m| {
        m.contains_key("enum")
            && m.keys()
                .all(|k| matches!(k.as_str(), "enum" | "type" | "description"))
    })
}
