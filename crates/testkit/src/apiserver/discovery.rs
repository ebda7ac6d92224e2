//! Discovery documents, built from the registry: `/version`, `/api` (`APIVersions`), `/apis`
//! (`APIGroupList`), `/apis/<group>` (`APIGroup`), `/api/v1` and `/apis/<group>/<version>`
//! (`APIResourceList` with kind, scope, verbs, short names, and `<plural>/status` /
//! `<plural>/scale` entries; scale answers with autoscaling/v1 `Scale`).
//!
//! With `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, `/api`
//! and `/apis` answer the aggregated discovery document (`APIGroupDiscoveryList`) instead, as
//! Kubernetes 1.30+ does.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::resources::{Registry, Resource};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const SUB_VERBS: [&str; 3] = ["get", "patch", "update"];

/// Media type of aggregated discovery v2.
pub(crate) const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/version`.
pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0-prescale-fake",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub(crate) fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443" }],
    })
}

/// group → versions served (sorted).
fn groups(reg: &Registry) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in reg.all() {
        if r.def.group.is_empty() {
            continue;
        }
        let vs = out.entry(r.def.group.clone()).or_default();
        if !vs.contains(&r.def.version) {
            vs.push(r.def.version.clone());
        }
    }
    out
}

fn group_doc(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({ "groupVersion": format!("{group}/{v}"), "version": v }))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({ "name": group, "versions": vs, "preferredVersion": preferred })
}

/// `/apis`.
pub(crate) fn group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = groups(reg).iter().map(|(g, vs)| group_doc(g, vs)).collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `/apis/<group>`.
pub(crate) fn group(reg: &Registry, name: &str) -> Option<Value> {
    let gs = groups(reg);
    let vs = gs.get(name)?;
    let mut doc = group_doc(name, vs);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

fn resource_entries(r: &Resource) -> Vec<Value> {
    let d = &r.def;
    let mut main = json!({
        "name": d.plural,
        "singularName": d.kind.to_lowercase(),
        "namespaced": d.namespaced,
        "kind": d.kind,
        "verbs": VERBS,
    });
    if !d.short_names.is_empty() {
        main["shortNames"] = json!(d.short_names);
    }
    let mut out = vec![main];
    if d.status_subresource {
        out.push(json!({
            "name": format!("{}/status", d.plural),
            "singularName": "",
            "namespaced": d.namespaced,
            "kind": d.kind,
            "verbs": SUB_VERBS,
        }));
    }
    if d.scale.is_some() {
        out.push(json!({
            "name": format!("{}/scale", d.plural),
            "singularName": "",
            "namespaced": d.namespaced,
            "group": "autoscaling",
            "version": "v1",
            "kind": "Scale",
            "verbs": SUB_VERBS,
        }));
    }
    out
}

/// `/api/v1` or `/apis/<group>/<version>`.
pub(crate) fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    if !reg.serves_group_version(group, version) {
        return None;
    }
    let resources: Vec<Value> = reg
        .all()
        .filter(|r| r.def.group == group && r.def.version == version)
        .flat_map(|r| resource_entries(r))
        .collect();
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources }),
    )
}

fn v2_resource(r: &Resource) -> Value {
    let d = &r.def;
    let mut subs = Vec::new();
    if d.status_subresource {
        subs.push(json!({
            "subresource": "status",
            "responseKind": { "group": d.group, "version": d.version, "kind": d.kind },
            "verbs": SUB_VERBS,
        }));
    }
    if d.scale.is_some() {
        subs.push(json!({
            "subresource": "scale",
            "responseKind": { "group": "autoscaling", "version": "v1", "kind": "Scale" },
            "verbs": SUB_VERBS,
        }));
    }
    let mut doc = json!({
        "resource": d.plural,
        "responseKind": { "group": d.group, "version": d.version, "kind": d.kind },
        "scope": if d.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": d.kind.to_lowercase(),
        "verbs": VERBS,
        "subresources": subs,
    });
    if !d.short_names.is_empty() {
        doc["shortNames"] = json!(d.short_names);
    }
    doc
}

fn v2_group(reg: &Registry, group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> = reg
                .all()
                .filter(|r| r.def.group == group && &r.def.version == v)
                .map(|r| v2_resource(r))
                .collect();
            json!({ "version": v, "resources": resources, "freshness": "Current" })
        })
        .collect();
    json!({ "metadata": { "name": group }, "versions": vs })
}

/// Aggregated discovery of the core group (`core == true`, `/api`) or of all named groups.
pub(crate) fn aggregated(reg: &Registry, core: bool) -> Value {
    let items: Vec<Value> = if core {
        vec![v2_group(reg, "", &["v1".to_string()])]
    } else {
        groups(reg)
            .iter()
            .map(|(g, vs)| v2_group(reg, g, vs))
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}
