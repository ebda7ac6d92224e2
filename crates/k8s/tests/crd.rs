//! The generated CRDs against KEDA 2.20's: every field path, every constraint, names and printer columns,
//! the CEL rule, structural-schema rules, manifests validated against the schema, and the committed files.

use std::collections::{BTreeMap, BTreeSet};

use prescale_core::spec::crd as keda;
use prescale_k8s::crd::{self, CrdKind};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// KEDA's facts, as embedded in prescale-core

fn keda_paths(kind: CrdKind) -> &'static str {
    match kind {
        CrdKind::ScaledObject => {
            include_str!("../../core/src/spec/crd/keda-crd-ScaledObject.paths")
        }
        CrdKind::ScaledJob => include_str!("../../core/src/spec/crd/keda-crd-ScaledJob.paths"),
        CrdKind::TriggerAuthentication => {
            include_str!("../../core/src/spec/crd/keda-crd-TriggerAuthentication.paths")
        }
        CrdKind::ClusterTriggerAuthentication => {
            include_str!("../../core/src/spec/crd/keda-crd-ClusterTriggerAuthentication.paths")
        }
    }
}

fn keda_schema_text(kind: CrdKind) -> &'static str {
    match kind {
        CrdKind::ScaledObject => {
            include_str!("../../core/src/spec/crd/keda-crd-ScaledObject.schema")
        }
        CrdKind::ScaledJob => include_str!("../../core/src/spec/crd/keda-crd-ScaledJob.schema"),
        CrdKind::TriggerAuthentication => {
            include_str!("../../core/src/spec/crd/keda-crd-TriggerAuthentication.schema")
        }
        CrdKind::ClusterTriggerAuthentication => {
            include_str!("../../core/src/spec/crd/keda-crd-ClusterTriggerAuthentication.schema")
        }
    }
}

/// `<path>\t<facts>` lines of a `.schema` file; the root is `.`.
fn keda_facts(kind: CrdKind) -> BTreeMap<String, Value> {
    keda_schema_text(kind)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (path, facts) = l.split_once('\t').expect("path<TAB>facts");
            (
                path.to_string(),
                serde_json::from_str(facts).expect("facts JSON"),
            )
        })
        .collect()
}

/// The generated `openAPIV3Schema` of a kind, as the committed YAML carries it.
fn schema(kind: CrdKind) -> Value {
    crd::crd_json(kind)
        .pointer("/spec/versions/0/schema/openAPIV3Schema")
        .cloned()
        .expect("openAPIV3Schema")
}

/// Every node of a schema by path, in the inventories' notation (`[]` items, `{}` map values; root `.`).
fn nodes(schema: &Value) -> BTreeMap<String, Value> {
    fn walk(n: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
        out.insert(
            if path.is_empty() { "." } else { path }.to_string(),
            n.clone(),
        );
        if let Some(props) = n.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, &p, out);
            }
        }
        if let Some(items) = n.get("items") {
            walk(items, &format!("{path}[]"), out);
        }
        if let Some(ap) = n.get("additionalProperties").filter(|a| a.is_object()) {
            walk(ap, &format!("{path}{{}}"), out);
        }
    }
    let mut out = BTreeMap::new();
    walk(schema, "", &mut out);
    out
}

/// A generated node's facts in the `.schema` notation.
fn facts(n: &Value) -> BTreeMap<&'static str, Value> {
    let mut f = BTreeMap::new();
    let t = if n.get("x-kubernetes-int-or-string") == Some(&json!(true)) {
        json!("int-or-string")
    } else {
        n.get("type").cloned().unwrap_or(json!("any"))
    };
    f.insert("t", t);
    if n.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true)) {
        f.insert("open", json!(true));
    }
    for (key, short) in [
        ("required", "req"),
        ("enum", "enum"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("minItems", "minItems"),
        ("minLength", "minLength"),
        ("default", "default"),
    ] {
        if let Some(v) = n.get(key) {
            f.insert(short, v.clone());
        }
    }
    if let Some(p) = n.get("pattern") {
        f.insert(
            "pattern",
            if p == keda::QUANTITY_PATTERN {
                json!("quantity")
            } else {
                p.clone()
            },
        );
    }
    f
}

/// `required` and `enum` compare as sets (order carries no meaning).
fn same(key: &str, a: Option<&Value>, b: Option<&Value>) -> bool {
    match (key, a, b) {
        ("req" | "enum", Some(Value::Array(x)), Some(Value::Array(y))) => {
            let x: BTreeSet<String> = x.iter().map(Value::to_string).collect();
            let y: BTreeSet<String> = y.iter().map(Value::to_string).collect();
            x == y
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// (a) paths

/// Paths of KEDA's base CRDs that its release manifests remove (`config/crd/patches/`).
fn removed_by_keda_patches(kind: CrdKind, path: &str) -> bool {
    kind == CrdKind::ScaledJob && path == "spec.triggers[].metricType"
}

#[test]
fn every_keda_path_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for kind in CrdKind::ALL {
        let have = nodes(&schema(kind));
        for path in keda_paths(kind)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            checked += 1;
            if removed_by_keda_patches(kind, path) {
                assert!(!have.contains_key(path), "{kind:?} {path}: KEDA prunes it");
                continue;
            }
            if !have.contains_key(path) {
                missing.push(format!("{kind:?} {path}"));
            }
        }
    }
    assert!(checked > 1500, "{checked} paths checked");
    assert!(
        missing.is_empty(),
        "{} KEDA paths missing from the generated schemas:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// (b) constraints

/// Deliberate differences from KEDA's CRDs: (kind, path, fact) → why.
fn deliberate() -> BTreeMap<(&'static str, &'static str, &'static str), &'static str> {
    let hpa_enum = "prescale's HPA behavior types take only the values autoscaling/v2 accepts; KEDA's CRD \
                    takes any string and the HPA create/update fails later (prescale validate reports it)";
    let mut m = BTreeMap::new();
    for path in [
        "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.selectPolicy",
        "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies[].type",
        "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.selectPolicy",
        "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies[].type",
    ] {
        m.insert(("ScaledObject", path, "enum"), hpa_enum);
    }
    m.insert(
        ("ScaledJob", ".", "req"),
        "the typed ScaledJob's spec is not optional: a stored ScaledJob without one could not be decoded \
         by the operator's watches (KEDA's other three CRDs require spec too)",
    );
    m
}

/// Whether `path` is one of the paths of prescale's CRDs that KEDA's do not have: the ScaledObject's
/// `status.proactive`, prescale's own status field (KEDA's CRD would prune it).
fn prescale_only(kind: CrdKind, path: &str) -> bool {
    kind == CrdKind::ScaledObject
        && (path == "status.proactive" || path.starts_with("status.proactive[]"))
}

#[test]
fn keda_constraints_match() {
    let allowed = deliberate();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    let mut compared = 0;
    // The prescale-only paths met: the exemption must not outlive the field.
    let mut own = BTreeSet::new();
    for kind in CrdKind::ALL {
        let ours = nodes(&schema(kind));
        let theirs = keda_facts(kind);
        for (path, want) in &theirs {
            let Some(node) = ours.get(path) else {
                problems.push(format!("{kind:?} {path}: missing"));
                continue;
            };
            let have = facts(node);
            let want: BTreeMap<String, Value> =
                serde_json::from_value(want.clone()).expect("facts");
            let keys: BTreeSet<&str> = want
                .keys()
                .map(String::as_str)
                .chain(have.keys().copied())
                .collect();
            for key in keys {
                compared += 1;
                let (w, h) = (want.get(key), have.get(key));
                if same(key, w, h) {
                    continue;
                }
                let listed = allowed
                    .keys()
                    .find(|(k, p, f)| *k == kind.name() && p == path && *f == key);
                if let Some(&allowed_key) = listed {
                    seen.insert(allowed_key);
                    continue;
                }
                problems.push(format!(
                    "{kind:?} {path}: {key}: KEDA {} / generated {}",
                    w.map_or("-".to_string(), Value::to_string),
                    h.map_or("-".to_string(), Value::to_string)
                ));
            }
        }
        for path in ours.keys() {
            if !theirs.contains_key(path) {
                if prescale_only(kind, path) {
                    own.insert(path.clone());
                    continue;
                }
                problems.push(format!("{kind:?} {path}: not in KEDA's CRD"));
            }
        }
    }
    for key in allowed.keys() {
        if !seen.contains(key) {
            problems.push(format!(
                "{key:?}: listed as a deliberate difference but matches KEDA"
            ));
        }
    }
    assert!(
        own.contains("status.proactive"),
        "status.proactive is exempt as prescale's own but not in the ScaledObject schema: {own:?}"
    );
    assert!(compared > 2000, "{compared} facts compared");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn stabilization_bounds_and_counts() {
    // Spot checks of constraints that belong to the core types, independent of the inventory files.
    let so = schema(CrdKind::ScaledObject);
    let spec = &so["properties"]["spec"]["properties"];
    for dir in ["scaleUp", "scaleDown"] {
        let w = &spec["advanced"]["properties"]["horizontalPodAutoscalerConfig"]["properties"]["behavior"]
            ["properties"][dir]["properties"]["stabilizationWindowSeconds"];
        assert_eq!(
            (w["minimum"].clone(), w["maximum"].clone()),
            (json!(0), json!(3600)),
            "{dir}"
        );
    }
    assert_eq!(spec["pollingInterval"]["minimum"], json!(1));
    assert_eq!(spec["maxReplicaCount"]["minimum"], json!(1));
    assert_eq!(spec["minReplicaCount"]["minimum"], json!(0));
    assert_eq!(
        spec["fallback"]["properties"]["behavior"]["default"],
        json!("static")
    );
    let ta = schema(CrdKind::TriggerAuthentication);
    let oauth2 = &ta["properties"]["spec"]["properties"]["oauth2"];
    assert_eq!(
        oauth2["properties"]["type"]["default"],
        json!("clientCredentials")
    );
    assert!(
        oauth2["required"]
            .as_array()
            .unwrap()
            .contains(&json!("type"))
    );
}

// ---------------------------------------------------------------------------------------------
// (c) names, scope, printer columns

/// KEDA 2.20's printer columns (config/crd/bases/keda.sh_*.yaml): name, type, JSONPath, priority.
fn keda_columns(kind: CrdKind) -> Vec<(&'static str, &'static str, &'static str, Option<i64>)> {
    let ready = r#".status.conditions[?(@.type=="Ready")].status"#;
    let active = r#".status.conditions[?(@.type=="Active")].status"#;
    let fallback = r#".status.conditions[?(@.type=="Fallback")].status"#;
    let paused = r#".status.conditions[?(@.type=="Paused")].status"#;
    match kind {
        CrdKind::ScaledObject => vec![
            ("ScaleTargetKind", "string", ".status.scaleTargetKind", None),
            (
                "ScaleTargetName",
                "string",
                ".spec.scaleTargetRef.name",
                None,
            ),
            ("Min", "integer", ".spec.minReplicaCount", None),
            ("Max", "integer", ".spec.maxReplicaCount", None),
            ("Ready", "string", ready, None),
            ("Active", "string", active, None),
            ("Fallback", "string", fallback, None),
            ("Paused", "string", paused, None),
            ("Triggers", "string", ".status.triggersTypes", None),
            (
                "Authentications",
                "string",
                ".status.authenticationsTypes",
                None,
            ),
            ("Age", "date", ".metadata.creationTimestamp", None),
        ],
        CrdKind::ScaledJob => vec![
            ("Min", "integer", ".spec.minReplicaCount", None),
            ("Max", "integer", ".spec.maxReplicaCount", None),
            ("Ready", "string", ready, None),
            ("Active", "string", active, None),
            ("Paused", "string", paused, None),
            ("Triggers", "string", ".status.triggersTypes", None),
            (
                "Authentications",
                "string",
                ".status.authenticationsTypes",
                None,
            ),
            ("Age", "date", ".metadata.creationTimestamp", None),
        ],
        CrdKind::TriggerAuthentication => vec![
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
        CrdKind::ClusterTriggerAuthentication => vec![
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
    }
}

#[test]
fn names_scope_and_columns_match_keda() {
    let meta: Value = serde_json::from_str(keda::CRD_META_JSON).expect("meta JSON");
    for kind in CrdKind::ALL {
        let c = crd::crd_json(kind);
        let m = &meta[kind.name()];
        let spec = &c["spec"];
        assert_eq!(c["apiVersion"], json!("apiextensions.k8s.io/v1"));
        assert_eq!(c["kind"], json!("CustomResourceDefinition"));
        assert_eq!(
            c["metadata"]["name"],
            json!(format!("{}.keda.sh", m["plural"].as_str().unwrap()))
        );
        assert_eq!(spec["group"], json!("keda.sh"), "{kind:?}");
        assert_eq!(spec["scope"], m["scope"], "{kind:?}");
        let names = &spec["names"];
        assert_eq!(names["kind"], json!(kind.name()));
        assert_eq!(names["plural"], m["plural"], "{kind:?}");
        assert_eq!(names["shortNames"], m["shortNames"], "{kind:?}");
        assert_eq!(names["listKind"], json!(format!("{}List", kind.name())));
        assert_eq!(names["singular"], json!(kind.name().to_ascii_lowercase()));
        assert!(names.get("categories").is_none());
        let versions = spec["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 1, "{kind:?}");
        let v = &versions[0];
        assert_eq!(
            (&v["name"], &v["served"], &v["storage"]),
            (&json!("v1alpha1"), &json!(true), &json!(true))
        );
        assert_eq!(v["subresources"], json!({"status": {}}), "{kind:?}");
        let columns: Vec<(String, String, String, Option<i64>)> = v["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["type"].as_str().unwrap().to_string(),
                    c["jsonPath"].as_str().unwrap().to_string(),
                    c.get("priority").and_then(Value::as_i64),
                )
            })
            .collect();
        let names_only: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
        let meta_names: Vec<&str> = m["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(names_only, meta_names, "{kind:?} column names");
        let want: Vec<(String, String, String, Option<i64>)> = keda_columns(kind)
            .into_iter()
            .map(|(n, t, p, pr)| (n.to_string(), t.to_string(), p.to_string(), pr))
            .collect();
        assert_eq!(columns, want, "{kind:?} columns");
        // Every column's path names a field of the schema (status/spec columns) or metadata.
        let have = nodes(&v["schema"]["openAPIV3Schema"]);
        for (name, _, path, _) in &columns {
            let field = path
                .trim_start_matches('.')
                .replace("[*]", "[]")
                .split("[?")
                .next()
                .unwrap()
                .to_string();
            let field = field.strip_suffix("[]").unwrap_or(&field).to_string();
            assert!(
                have.contains_key(&field) || field.starts_with("metadata"),
                "{kind:?} {name}: {field}"
            );
        }
    }
}

#[test]
fn kinds_resolve_by_any_name() {
    for (name, kind) in [
        ("ScaledObject", CrdKind::ScaledObject),
        ("scaledobjects", CrdKind::ScaledObject),
        ("so", CrdKind::ScaledObject),
        ("SJ", CrdKind::ScaledJob),
        ("triggerauth", CrdKind::TriggerAuthentication),
        (
            "clustertriggerauthentication",
            CrdKind::ClusterTriggerAuthentication,
        ),
        ("cta", CrdKind::ClusterTriggerAuthentication),
    ] {
        assert_eq!(crd::kind_from_name(name), Some(kind), "{name}");
    }
    assert_eq!(crd::kind_from_name("deployment"), None);
}

// ---------------------------------------------------------------------------------------------
// (d) CEL

const KEDA_RULE: &str = "!has(self.minReplicaCount) || self.minReplicaCount <= (has(self.maxReplicaCount) ? self.maxReplicaCount : 100)";
const KEDA_RULE_MESSAGE: &str = "minReplicaCount must be less than or equal to maxReplicaCount";

#[test]
fn scaled_object_cel_rule() {
    let so = schema(CrdKind::ScaledObject);
    assert_eq!(
        so["properties"]["spec"]["x-kubernetes-validations"],
        json!([{ "rule": KEDA_RULE, "message": KEDA_RULE_MESSAGE }])
    );
    // The only rule: nowhere else in any CRD.
    for kind in CrdKind::ALL {
        let count = nodes(&schema(kind))
            .values()
            .filter(|n| n.get("x-kubernetes-validations").is_some())
            .count();
        assert_eq!(
            count,
            usize::from(kind == CrdKind::ScaledObject),
            "{kind:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (e) structural

/// Violations of the structural-schema rules (Kubernetes' `apiextensions` validation): every node
/// specifies a type unless it is int-or-string or preserves unknown fields; no `$ref`, `definitions`,
/// `nullable` (none of KEDA's fields are nullable), `uniqueItems: true`, `additionalProperties` beside
/// `properties`, or a boolean `additionalProperties`/`items`; `anyOf`/`oneOf`/`allOf`/`not` only as
/// int-or-string's `anyOf: [integer, string]`; `metadata` at the root is `type: object` alone; values in
/// `x-kubernetes-*` keywords have their types; no unknown keywords.
fn structural_violations(schema: &Value) -> Vec<String> {
    const KNOWN: &[&str] = &[
        "type",
        "format",
        "description",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "enum",
        "default",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "anyOf",
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-validations",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "x-kubernetes-embedded-resource",
    ];
    fn walk(n: &Value, path: &str, root: bool, out: &mut Vec<String>) {
        let Some(m) = n.as_object() else {
            out.push(format!("{path}: schema is not an object"));
            return;
        };
        for k in m.keys() {
            if !KNOWN.contains(&k.as_str()) {
                out.push(format!("{path}: keyword {k}"));
            }
        }
        let int_or_string = m.get("x-kubernetes-int-or-string") == Some(&json!(true));
        let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
        match m.get("type").and_then(Value::as_str) {
            Some("object" | "array" | "string" | "integer" | "number" | "boolean") => {
                if int_or_string {
                    out.push(format!("{path}: int-or-string with a type"));
                }
            }
            Some(t) => out.push(format!("{path}: type {t}")),
            None if m.get("type").is_some() => out.push(format!("{path}: type is not a string")),
            None if int_or_string || preserve => {}
            None => out.push(format!("{path}: no type")),
        }
        if let Some(any_of) = m.get("anyOf")
            && (root
                || !int_or_string
                || any_of != &json!([{ "type": "integer" }, { "type": "string" }]))
        {
            out.push(format!("{path}: anyOf {any_of}"));
        }
        if m.get("additionalProperties").is_some() {
            if m.contains_key("properties") {
                out.push(format!("{path}: additionalProperties beside properties"));
            }
            if !m["additionalProperties"].is_object() {
                out.push(format!("{path}: additionalProperties is not a schema"));
            }
        }
        if let Some(items) = m.get("items") {
            if !items.is_object() {
                out.push(format!("{path}: items is not one schema"));
            }
            if m.get("type") != Some(&json!("array")) {
                out.push(format!("{path}: items on a non-array"));
            }
        } else if m.get("type") == Some(&json!("array")) {
            out.push(format!("{path}: array without items"));
        }
        if let Some(req) = m.get("required") {
            let props = m.get("properties").and_then(Value::as_object);
            for r in req.as_array().into_iter().flatten() {
                if !r
                    .as_str()
                    .is_some_and(|r| props.is_some_and(|p| p.contains_key(r)))
                {
                    out.push(format!("{path}: required {r} is not a property"));
                }
            }
        }
        if let Some(e) = m.get("enum")
            && !e
                .as_array()
                .is_some_and(|e| !e.is_empty() && !e.contains(&Value::Null))
        {
            out.push(format!("{path}: enum {e}"));
        }
        if root
            && m.get("properties").and_then(|p| p.get("metadata"))
                != Some(&json!({ "type": "object" }))
        {
            out.push("metadata at the root must be `type: object` alone".to_string());
        }
        if let Some(props) = m.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                walk(v, &format!("{path}.{k}"), false, out);
            }
        } else if m.get("properties").is_some() {
            out.push(format!("{path}: properties is not a map"));
        }
        if let Some(items) = m.get("items").filter(|i| i.is_object()) {
            walk(items, &format!("{path}[]"), false, out);
        }
        if let Some(ap) = m.get("additionalProperties").filter(|a| a.is_object()) {
            walk(ap, &format!("{path}{{}}"), false, out);
        }
    }
    let mut out = Vec::new();
    walk(schema, "", true, &mut out);
    out
}

#[test]
fn schemas_are_structural() {
    for kind in CrdKind::ALL {
        let v = structural_violations(&schema(kind));
        assert!(v.is_empty(), "{kind:?}:\n{}", v.join("\n"));
    }
}

#[test]
fn structural_check_catches_violations() {
    let ok = json!({
        "type": "object",
        "properties": {
            "metadata": { "type": "object" },
            "spec": { "type": "object", "properties": {
                "q": { "anyOf": [{ "type": "integer" }, { "type": "string" }], "x-kubernetes-int-or-string": true },
            }},
        },
    });
    assert_eq!(structural_violations(&ok), Vec::<String>::new());
    for (bad, what) in [
        (json!({ "$ref": "#/x" }), "$ref"),
        (json!({}), "no type"),
        (json!({ "type": "string", "nullable": true }), "nullable"),
        (
            json!({ "anyOf": [{ "type": "string" }, { "type": "object" }] }),
            "anyOf",
        ),
        (
            json!({ "oneOf": [{ "type": "string" }] , "type": "string" }),
            "oneOf",
        ),
        (json!({ "type": ["string", "null"] }), "type"),
        (json!({ "type": "array" }), "without items"),
        (json!({ "type": "object", "required": ["a"] }), "required"),
        (
            json!({ "type": "object", "additionalProperties": true }),
            "additionalProperties",
        ),
        (json!({ "type": "string", "enum": ["a", null] }), "enum"),
        (json!({ "type": "string", "title": "x" }), "title"),
    ] {
        let doc = json!({
            "type": "object",
            "properties": { "metadata": { "type": "object" }, "spec": bad },
        });
        let v = structural_violations(&doc);
        assert!(v.iter().any(|e| e.contains(what)), "{what}: {v:?}");
    }
}

#[test]
fn structural_rewrite_reports_what_it_cannot_rewrite() {
    let defs = serde_json::Map::new();
    let repl = BTreeMap::new();
    let untagged =
        json!({ "anyOf": [{ "type": "string" }, { "type": "object", "properties": {} }] });
    assert!(
        crd::structural(untagged, &defs, &repl)
            .unwrap_err()
            .contains("anyOf")
    );
    let dangling = json!({ "$ref": "#/$defs/Nope" });
    assert!(
        crd::structural(dangling, &defs, &repl)
            .unwrap_err()
            .contains("Nope")
    );
    let mut cyclic = serde_json::Map::new();
    cyclic.insert(
        "Node".to_string(),
        json!({ "type": "object", "properties": { "next": { "$ref": "#/$defs/Node" } } }),
    );
    let err = crd::structural(json!({ "$ref": "#/$defs/Node" }), &cyclic, &repl).unwrap_err();
    assert!(err.contains("recursive"), "{err}");
    // Option<T> and documented enum variants come out as one type and one enum.
    let option_enum = json!({
        "oneOf": [
            { "type": "string", "const": "a", "description": "A." },
            { "type": "string", "enum": ["b"] },
            { "type": "null" },
        ],
    });
    assert_eq!(
        crd::structural(option_enum, &defs, &repl).unwrap(),
        json!({ "type": "string", "enum": ["a", "b"] })
    );
    assert_eq!(
        crd::structural(
            json!({ "type": ["integer", "null"], "format": "int32" }),
            &defs,
            &repl
        )
        .unwrap(),
        json!({ "type": "integer", "format": "int32" })
    );
}

// ---------------------------------------------------------------------------------------------
// (f) manifests against the schema

/// A small validator for the generated schema: type, required (unless defaulted), enum,
/// minimum/maximum, minItems, minLength, the quantity pattern, KEDA's CEL rule, and fields the API
/// server would prune (`pruned: path`).
fn validate(schema: &Value, value: &Value) -> Vec<String> {
    fn check(s: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
        let int_or_string = s.get("x-kubernetes-int-or-string") == Some(&json!(true));
        let ok_type = match (s.get("type").and_then(Value::as_str), v) {
            _ if int_or_string => v.is_string() || v.is_i64() || v.is_u64(),
            (None, _) => true,
            (Some("object"), Value::Object(_)) | (Some("array"), Value::Array(_)) => true,
            (Some("string"), Value::String(_)) | (Some("boolean"), Value::Bool(_)) => true,
            (Some("integer"), n) => n.is_i64() || n.is_u64(),
            (Some("number"), n) => n.is_number(),
            _ => false,
        };
        if !ok_type {
            out.push(format!("{path}: type: {v}"));
            return;
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array)
            && !e.contains(v)
        {
            out.push(format!("{path}: enum: {v}"));
        }
        if let Some(x) = v.as_f64() {
            if s.get("minimum")
                .and_then(Value::as_f64)
                .is_some_and(|m| x < m)
            {
                out.push(format!("{path}: minimum: {v}"));
            }
            if s.get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| x > m)
            {
                out.push(format!("{path}: maximum: {v}"));
            }
        }
        if let Some(text) = v.as_str() {
            if s.get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| (text.chars().count() as u64) < m)
            {
                out.push(format!("{path}: minLength"));
            }
            if let Some(p) = s.get("pattern") {
                assert_eq!(p, keda::QUANTITY_PATTERN, "the only pattern");
                if !keda::matches_quantity_pattern(text) {
                    out.push(format!("{path}: pattern: {v}"));
                }
            }
        }
        if let Some(items) = v.as_array() {
            if s.get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| (items.len() as u64) < m)
            {
                out.push(format!("{path}: minItems"));
            }
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        if let Some(map) = v.as_object() {
            let props = s.get("properties").and_then(Value::as_object);
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap();
                let defaulted = props
                    .and_then(|p| p.get(r))
                    .is_some_and(|p| p.get("default").is_some());
                if !map.contains_key(r) && !defaulted {
                    out.push(format!("{path}.{r}: required"));
                }
            }
            for (k, child) in map {
                let p = format!("{path}.{k}");
                if p.starts_with(".metadata.") {
                    // The API server validates an object's own metadata itself.
                    continue;
                }
                if let Some(cs) = props.and_then(|props| props.get(k)) {
                    check(cs, child, &p, out);
                } else if let Some(ap) = s.get("additionalProperties") {
                    check(ap, child, &p, out);
                } else if s.get("x-kubernetes-preserve-unknown-fields") != Some(&json!(true))
                    && p != ".metadata"
                {
                    out.push(format!("pruned: {p}"));
                }
            }
            for rule in s
                .get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                assert_eq!(
                    rule["rule"],
                    json!(KEDA_RULE),
                    "the only rule this validator evaluates"
                );
                let int = |k: &str| map.get(k).and_then(Value::as_i64);
                if let Some(min) = int("minReplicaCount")
                    && min > int("maxReplicaCount").unwrap_or(100)
                {
                    out.push(format!("{path}: {}", rule["message"].as_str().unwrap()));
                }
            }
        }
    }
    let mut out = Vec::new();
    check(schema, value, "", &mut out);
    out
}

fn kind_of(doc: &Value) -> CrdKind {
    CrdKind::from_kind(doc["kind"].as_str().expect("kind")).expect("a KEDA kind")
}

fn yaml_docs(text: &str) -> Vec<Value> {
    serde_saphyr::from_str_multiple::<Value, Vec<Value>>(text)
        .expect("YAML")
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// Validates against the generated schema, checks KEDA's CRD (as prescale-core models it) agrees, and
/// decodes the object as the operator's typed resource.
fn assert_valid(doc: &Value) {
    let kind = kind_of(doc);
    let name = format!("{:?} {}", kind, doc["metadata"]["name"]);
    let errors = validate(&schema(kind), doc);
    assert!(errors.is_empty(), "{name}: {errors:?}");
    let keda_errors = keda::check(kind, doc);
    assert!(
        keda_errors.is_empty(),
        "{name}: KEDA's CRD rejects it: {keda_errors:?}"
    );
    let decoded = match kind {
        CrdKind::ScaledObject => {
            serde_json::from_value::<prescale_k8s::ScaledObject>(doc.clone()).map(drop)
        }
        CrdKind::ScaledJob => {
            serde_json::from_value::<prescale_k8s::ScaledJob>(doc.clone()).map(drop)
        }
        CrdKind::TriggerAuthentication => {
            serde_json::from_value::<prescale_k8s::TriggerAuthentication>(doc.clone()).map(drop)
        }
        CrdKind::ClusterTriggerAuthentication => {
            serde_json::from_value::<prescale_k8s::ClusterTriggerAuthentication>(doc.clone())
                .map(drop)
        }
    };
    assert!(decoded.is_ok(), "{name}: {decoded:?}");
}

/// Manifests in the styles of KEDA's documentation and e2e tests (written for this test).
const MANIFESTS: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker, namespace: jobs}
spec:
  scaleTargetRef: {name: worker}
  pollingInterval: 15
  cooldownPeriod: 120
  initialCooldownPeriod: 30
  idleReplicaCount: 0
  minReplicaCount: 1
  maxReplicaCount: 20
  fallback: {failureThreshold: 3, replicas: 6, behavior: currentReplicasIfHigher}
  advanced:
    restoreToOriginalReplicaCount: true
    horizontalPodAutoscalerConfig:
      name: worker-hpa
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 300
          selectPolicy: Min
          tolerance: "0.05"
          policies:
          - {type: Percent, value: 100, periodSeconds: 15}
        scaleUp:
          stabilizationWindowSeconds: 0
          tolerance: 0
          policies:
          - {type: Pods, value: 4, periodSeconds: 15}
    scalingModifiers:
      formula: "queue + rps / 2"
      target: "10"
      activationTarget: "1"
      metricType: AverageValue
  triggers:
  - type: rabbitmq
    name: queue
    metadata: {queueName: work, mode: QueueLength, value: "20"}
    authenticationRef: {name: rabbit}
  - type: prometheus
    name: rps
    useCachedMetrics: true
    metricType: Value
    metadata: {serverAddress: "http://prometheus:9090", query: "sum(rate(http_requests_total[1m]))", threshold: "100"}
    authenticationRef: {name: shared, kind: ClusterTriggerAuthentication}
  - type: cpu
    metricType: Utilization
    metadata: {value: "60"}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: statefulset, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db, envSourceContainerName: main}
  maxReplicaCount: 100
  minReplicaCount: 100
  triggers:
  - type: cron
    metadata: {timezone: Europe/Paris, start: "0 8 * * *", end: "0 18 * * *", desiredReplicas: "5"}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: consumer, namespace: jobs}
spec:
  jobTargetRef:
    parallelism: 1
    completions: 1
    activeDeadlineSeconds: 600
    backoffLimit: 6
    template:
      metadata:
        labels: {app: consumer}
        annotations: {sidecar.istio.io/inject: "false"}
      spec:
        restartPolicy: Never
        serviceAccountName: consumer
        imagePullSecrets: [{name: registry}]
        containers:
        - name: consumer
          image: ghcr.io/example/consumer:1.0
          command: [consume, --once]
          env:
          - {name: QUEUE, value: work}
          - name: PASSWORD
            valueFrom: {secretKeyRef: {name: rabbit, key: password}}
          envFrom:
          - configMapRef: {name: consumer-config}
          ports:
          - {containerPort: 8080}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 1, memory: 1Gi}
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
        volumes:
        - name: scratch
          emptyDir: {sizeLimit: 1Gi}
        - name: config
          configMap: {name: consumer-config}
  pollingInterval: 10
  successfulJobsHistoryLimit: 5
  failedJobsHistoryLimit: 5
  minReplicaCount: 0
  maxReplicaCount: 50
  rollout: {strategy: gradual, propagationPolicy: foreground}
  scalingStrategy:
    strategy: accurate
    customScalingQueueLengthDeduction: 1
    customScalingRunningJobPercentage: "0.5"
    pendingPodConditions: [Ready, PodScheduled]
    multipleScalersCalculation: sum
  triggers:
  - type: rabbitmq
    metadata: {queueName: work, value: "1"}
    authenticationRef: {name: rabbit}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: rabbit, namespace: jobs}
spec:
  secretTargetRef:
  - {parameter: host, name: rabbit, key: url}
  configMapTargetRef:
  - {parameter: vhost, name: rabbit-config, key: vhost}
  env:
  - {parameter: user, name: RABBIT_USER, containerName: consumer}
  podIdentity: {provider: aws, roleArn: "arn:aws:iam::123456789012:role/keda", identityOwner: workload}
  hashiCorpVault:
    address: https://vault:8200
    authentication: kubernetes
    role: keda
    mount: kubernetes
    credential: {serviceAccount: /var/run/secrets/kubernetes.io/serviceaccount/token}
    secrets:
    - {parameter: password, key: password, path: secret/data/rabbit}
    - parameter: ca
      key: ca
      path: pki/issue/keda
      type: pki
      pkiData: {commonName: keda.svc, ttl: 24h}
  boundServiceAccountToken:
  - {parameter: token, serviceAccountName: keda-reader}
---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata: {name: shared}
spec:
  filePath: /etc/keda/auth.json
  azureKeyVault:
    vaultUri: https://example.vault.azure.net
    podIdentity: {provider: azure-workload, identityId: "00000000-0000-0000-0000-000000000000"}
    cloud: {type: AzurePublicCloud}
    secrets:
    - {parameter: connection, name: servicebus, version: "1"}
  awsSecretManager:
    region: eu-west-1
    credentials:
      accessKey: {valueFrom: {secretKeyRef: {name: aws, key: id}}}
      accessSecretKey: {valueFrom: {secretKeyRef: {name: aws, key: secret}}}
    secrets:
    - {parameter: apiKey, name: api-key, versionStage: AWSCURRENT}
  gcpSecretManager:
    podIdentity: {provider: gcp}
    secrets:
    - {parameter: key, id: my-secret, version: latest}
  oauth2:
    clientId: prescale
    clientSecret: {valueFrom: {secretKeyRef: {name: oauth, key: secret}}}
    tokenUrl: https://idp.example/token
    scopes: [read]
    tokenUrlParams: {audience: metrics}
"#;

#[test]
fn seed_and_keda_style_manifests_validate() {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed/scaledobject.yaml"
    ))
    .expect("examples/seed/scaledobject.yaml");
    let mut docs = yaml_docs(&seed);
    assert_eq!(docs.len(), 1, "the seed has one ScaledObject");
    docs.extend(yaml_docs(MANIFESTS));
    let kinds: BTreeSet<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 4, "every kind: {kinds:?}");
    for doc in &docs {
        assert_valid(doc);
    }
}

/// An object holding every field of KEDA's CRD, valid for it, built from the `.schema` facts.
fn full_object(kind: CrdKind) -> Value {
    let facts = keda_facts(kind);
    fn build(facts: &BTreeMap<String, Value>, path: &str) -> Value {
        let key = if path.is_empty() { "." } else { path };
        let f = &facts[key];
        match path {
            "apiVersion" => return json!("keda.sh/v1alpha1"),
            "metadata" => return json!({ "name": "full", "namespace": "ns" }),
            // Free strings in KEDA's CRD; the HPA (and prescale's CRD) takes these values.
            p if p.ends_with("selectPolicy") => return json!("Max"),
            p if p.ends_with("policies[].type") => return json!("Pods"),
            _ => {}
        }
        if let Some(e) = f.get("enum").and_then(Value::as_array) {
            return e.iter().find(|v| *v != "").cloned().unwrap_or(json!(""));
        }
        match f["t"].as_str().unwrap() {
            "object" => {
                let values = format!("{path}{{}}");
                if facts.contains_key(&values) {
                    return json!({ "key": build(facts, &values) });
                }
                let prefix = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}.")
                };
                let mut m = serde_json::Map::new();
                for k in facts.keys() {
                    if let Some(name) = k.strip_prefix(&prefix)
                        && k != "."
                        && !name.is_empty()
                        && !name.contains(['.', '[', '{'])
                    {
                        m.insert(name.to_string(), build(facts, k));
                    }
                }
                Value::Object(m)
            }
            "array" => json!([build(facts, &format!("{path}[]"))]),
            "string" => json!("x"),
            "integer" | "number" => json!(f.get("min").and_then(Value::as_i64).unwrap_or(1).max(1)),
            "boolean" => json!(true),
            "int-or-string" => json!("1"),
            _ => json!({}),
        }
    }
    let mut v = build(&facts, "");
    v["kind"] = json!(kind.name());
    v
}

#[test]
fn objects_with_every_keda_field_validate() {
    for kind in CrdKind::ALL {
        let doc = full_object(kind);
        let errors = validate(&schema(kind), &doc);
        assert!(errors.is_empty(), "{kind:?}: {errors:?}");
        assert_valid(&doc);
        // Nothing is pruned: every field KEDA keeps, prescale's CRD keeps.
        assert!(doc.to_string().len() > 300, "{kind:?}");
    }
}

#[test]
fn invalid_manifests_are_rejected_like_keda() {
    let base = json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": { "name": "x", "namespace": "default" },
        "spec": { "scaleTargetRef": { "name": "app" }, "triggers": [{ "type": "cpu", "metadata": { "value": "50" } }] },
    });
    let so = |patch: Value| {
        let mut v = base.clone();
        json_patch_merge(&mut v["spec"], patch);
        v
    };
    let sj = |spec: Value| json!({ "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "metadata": { "name": "j", "namespace": "d" }, "spec": spec });
    let ta = |spec: Value| json!({ "apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication", "metadata": { "name": "t", "namespace": "d" }, "spec": spec });
    let job = json!({ "template": { "spec": { "containers": [{ "name": "c", "image": "i" }] } } });
    let trig = json!([{ "type": "rabbitmq", "metadata": {} }]);
    let cases = [
        (
            so(json!({ "pollingInterval": 0 })),
            ".spec.pollingInterval: minimum",
        ),
        (
            so(json!({ "minReplicaCount": -1 })),
            ".spec.minReplicaCount: minimum",
        ),
        (
            so(json!({ "maxReplicaCount": 0 })),
            ".spec.maxReplicaCount: minimum",
        ),
        (
            so(json!({ "minReplicaCount": 5, "maxReplicaCount": 2 })),
            "must be less than or equal",
        ),
        (
            so(json!({ "minReplicaCount": 101 })),
            "must be less than or equal",
        ),
        (so(json!({ "triggers": [] })), ".spec.triggers: minItems"),
        (
            so(json!({ "triggers": [{ "type": "", "metadata": {} }] })),
            ".spec.triggers[0].type: minLength",
        ),
        (
            so(json!({ "triggers": [{ "type": "cpu" }] })),
            ".spec.triggers[0].metadata: required",
        ),
        (
            so(json!({ "triggers": [{ "type": "cpu", "metadata": { "value": 50 } }] })),
            "metadata.value: type",
        ),
        (
            so(json!({ "scaleTargetRef": { "name": "" } })),
            ".spec.scaleTargetRef.name: minLength",
        ),
        (
            so(
                json!({ "fallback": { "failureThreshold": 3, "replicas": 1, "behavior": "always" } }),
            ),
            "fallback.behavior: enum",
        ),
        (
            so(json!({ "fallback": { "replicas": 1 } })),
            "fallback.failureThreshold: required",
        ),
        (
            so(json!({ "advanced": { "scalingModifiers": { "metricType": "Utilization" } } })),
            "metricType: enum",
        ),
        (
            so(
                json!({ "advanced": { "horizontalPodAutoscalerConfig": { "behavior": { "scaleDown": { "stabilizationWindowSeconds": 3601 } } } } }),
            ),
            "stabilizationWindowSeconds: maximum",
        ),
        (
            so(
                json!({ "advanced": { "horizontalPodAutoscalerConfig": { "behavior": { "scaleUp": { "tolerance": "5%" } } } } }),
            ),
            "tolerance: pattern",
        ),
        (
            so(
                json!({ "triggers": [{ "type": "cpu", "metadata": {}, "authenticationRef": { "name": "a", "kind": "Secret" } }] }),
            ),
            "authenticationRef.kind: enum",
        ),
        (so(json!({ "replicas": 3 })), "pruned: .spec.replicas"),
        (
            sj(json!({ "jobTargetRef": job, "triggers": trig, "rollout": { "strategy": "slow" } })),
            "rollout.strategy: enum",
        ),
        (
            sj(json!({ "jobTargetRef": {}, "triggers": trig })),
            ".spec.jobTargetRef.template: required",
        ),
        (
            sj(
                json!({ "jobTargetRef": { "template": { "spec": { "containers": [{ "image": "i" }] } } }, "triggers": trig }),
            ),
            "containers[0].name: required",
        ),
        (
            sj(json!({ "jobTargetRef": job, "triggers": trig, "successfulJobsHistoryLimit": -1 })),
            "successfulJobsHistoryLimit: minimum",
        ),
        (
            sj(
                json!({ "jobTargetRef": job, "triggers": trig, "scalingStrategy": { "strategy": "greedy" } }),
            ),
            "scalingStrategy.strategy: enum",
        ),
        (
            ta(json!({ "podIdentity": { "provider": "azure" } })),
            "podIdentity.provider: enum",
        ),
        (
            ta(
                json!({ "hashiCorpVault": { "address": "a", "authentication": "token", "secrets": [] } }),
            ),
            "hashiCorpVault.secrets: minItems",
        ),
        (
            ta(
                json!({ "hashiCorpVault": { "address": "a", "authentication": "ldap", "secrets": [{ "parameter": "p", "key": "k", "path": "p" }] } }),
            ),
            "authentication: enum",
        ),
        (
            ta(json!({ "secretTargetRef": [{ "parameter": "p", "name": "n" }] })),
            "secretTargetRef[0].key: required",
        ),
        (
            ta(json!({ "oauth2": { "clientId": "c", "tokenUrl": "u", "type": "password" } })),
            "oauth2.type: enum",
        ),
    ];
    for (doc, expected) in cases {
        let kind = kind_of(&doc);
        let errors = validate(&schema(kind), &doc);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{expected}: {errors:?} for {doc}"
        );
        // KEDA's CRD (as prescale-core models it: constraints, pruning, field types) rejects the same
        // object, or prunes the field.
        let mut pruned = doc.clone();
        let type_error = matches!(
            prescale_core::spec::load_value(doc.clone()).content,
            prescale_core::spec::DocumentContent::Error { .. }
        );
        let keda_rejects = !keda::check(kind, &doc).is_empty()
            || !keda::prune(kind, &mut pruned).is_empty()
            || type_error;
        assert!(keda_rejects, "{expected}: KEDA's CRD accepts {doc}");
    }
    // Defaulted required field: oauth2.type may be left out.
    let ok = ta(json!({ "oauth2": { "clientId": "c", "tokenUrl": "u" } }));
    assert_eq!(
        validate(&schema(CrdKind::TriggerAuthentication), &ok),
        Vec::<String>::new()
    );
}

fn json_patch_merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                json_patch_merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}

// ---------------------------------------------------------------------------------------------
// Serialisation and (g) the committed files

#[test]
fn typed_crd_keeps_every_keyword() {
    // The CRD type (k8s-openapi's JSONSchemaProps) drops keywords it does not know: nothing may be lost.
    for kind in CrdKind::ALL {
        assert_eq!(schema(kind), crd::open_api_v3_schema(kind), "{kind:?}");
    }
}

#[test]
fn yaml_round_trips_and_is_deterministic() {
    let yaml = crd::crds_yaml();
    assert_eq!(yaml, crd::crds_yaml());
    assert!(yaml.starts_with("---\n"));
    let docs = yaml_docs(&yaml);
    let want: Vec<Value> = CrdKind::ALL.into_iter().map(crd::crd_json).collect();
    assert_eq!(docs, want);
    for kind in CrdKind::ALL {
        assert_eq!(yaml_docs(&crd::crd_yaml(kind)), vec![crd::crd_json(kind)]);
    }
}

#[test]
fn committed_crds_are_current() {
    let generated = crd::crds_yaml();
    for file in [
        "deploy/crds/keda.sh_crds.yaml",
        "charts/prescale/crds/keda.sh_crds.yaml",
    ] {
        let path = format!("{}/../../{file}", env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{file} is not the generated CRDs: run `cargo run -p prescale -- crd > {file}` to regenerate"
        );
    }
}
