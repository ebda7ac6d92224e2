//! Server-side apply (`application/apply-patch+yaml`), approximated.
//!
//! # What is modelled
//!
//! * `fieldManager` is required (400 otherwise); the body is YAML or JSON and must name the
//!   object's `apiVersion`, `kind` and `metadata.name` (400 on a mismatch with the URL).
//! * Absent object: created from the applied configuration (201).
//! * Merge: the applied configuration is merged into the live object: objects recursively,
//!   lists merged by key where the type declares a key (the table of [`super::patch`]; for custom
//!   resources only `ownerReferences` and `finalizers`), set lists (`finalizers`) as a union,
//!   every other list and scalar replaced. `null` removes a field.
//! * Ownership, per applier only: the server remembers each field manager's last applied
//!   configuration. Fields a manager applied before and leaves out now are removed, unless
//!   another applier still applies them (so dropping a label, an annotation or a keyed list
//!   element from the applied configuration removes it, as on the real server).
//! * Conflicts: applying a value different from the live one to a field another applier owns is a
//!   409 `Apply failed with N conflict(s): conflict with "<manager>": .spec.x`; with `force=true`
//!   the field changes hands.
//! * `metadata.managedFields` lists one `operation: Apply` entry per applier with a `FieldsV1`
//!   set computed from its applied configuration.
//!
//! # Approximations
//!
//! Non-apply writes (PUT, other PATCH types) are not tracked as owners: they neither conflict
//! with appliers nor get managedFields entries, and an applier keeps "owning" a field another
//! client overwrote. Ownership is by field path, not by the schema's atomic/granular markers.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::patch::{ListMerge, element_key, list_merge};

/// One segment of a field path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Field(String),
    /// Element of a keyed list: key name and key value.
    Key(&'static str, Value),
    /// Element of a set list.
    Item(Value),
}

type Path = Vec<Seg>;

/// An applier's record: its last applied configuration and when it applied it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Applier {
    pub(crate) config: Value,
    pub(crate) time: String,
    pub(crate) api_version: String,
}

/// Top-level fields that identify an object and are never owned.
fn owned_view(config: &Value) -> Value {
    let mut v = config.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
        if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            m.retain(|k, _| {
                matches!(
                    k.as_str(),
                    "labels" | "annotations" | "finalizers" | "ownerReferences"
                )
            });
        }
    }
    v
}

/// The leaf paths of a configuration, and the element paths of keyed and set lists.
fn leaves(v: &Value, builtin: bool) -> Vec<(Path, Value)> {
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), builtin, &mut out);
    out
}

fn walk(v: &Value, path: &mut Path, builtin: bool, out: &mut Vec<(Path, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                path.push(Seg::Field(k.clone()));
                match (child, list_merge(k, builtin)) {
                    (Value::Array(items), Some(ListMerge::Key(key))) => {
                        for item in items {
                            let Some(kv) = element_key(item, key) else {
                                continue;
                            };
                            path.push(Seg::Key(key, kv.clone()));
                            out.push((path.clone(), Value::Null));
                            if let Some(o) = item.as_object() {
                                for (ek, ev) in o {
                                    path.push(Seg::Field(ek.clone()));
                                    walk(ev, path, builtin, out);
                                    path.pop();
                                }
                            }
                            path.pop();
                        }
                    }
                    (Value::Array(items), Some(ListMerge::Set)) => {
                        for item in items {
                            path.push(Seg::Item(item.clone()));
                            out.push((path.clone(), item.clone()));
                            path.pop();
                        }
                    }
                    _ => walk(child, path, builtin, out),
                }
                path.pop();
            }
        }
        leaf => out.push((path.clone(), leaf.clone())),
    }
}

fn render(path: &Path) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Seg::Key(k, v) => s.push_str(&format!("[{k}={v}]")),
            Seg::Item(v) => s.push_str(&format!("[={v}]")),
        }
    }
    s
}

/// Follows a path in a document; element segments select the matching list element.
fn get<'a>(doc: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut cur = doc;
    for seg in path {
        cur = match seg {
            Seg::Field(f) => cur.get(f)?,
            Seg::Key(k, kv) => cur
                .as_array()?
                .iter()
                .find(|e| element_key(e, k) == Some(kv))?,
            Seg::Item(v) => cur.as_array()?.iter().find(|e| *e == v)?,
        };
    }
    Some(cur)
}

/// Removes the node at a path (a field, a keyed element, a set item), if present.
fn remove(doc: &mut Value, path: &[Seg]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut cur = doc;
    for seg in parent_path {
        let next = match seg {
            Seg::Field(f) => cur.get_mut(f),
            Seg::Key(k, kv) => cur
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|e| element_key(e, k) == Some(kv))),
            Seg::Item(v) => cur
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|e| *e == v)),
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match last {
        Seg::Field(f) => {
            if let Some(o) = cur.as_object_mut() {
                o.remove(f);
            }
        }
        Seg::Key(k, kv) => {
            if let Some(a) = cur.as_array_mut() {
                a.retain(|e| element_key(e, k) != Some(kv));
            }
        }
        Seg::Item(v) => {
            if let Some(a) = cur.as_array_mut() {
                a.retain(|e| e != v);
            }
        }
    }
}

/// Merges an applied configuration into `target`.
fn merge(target: &mut Value, applied: &Value, builtin: bool) {
    let (Some(t), Some(a)) = (target.as_object_mut(), applied.as_object()) else {
        *target = applied.clone();
        return;
    };
    for (k, av) in a {
        match av {
            Value::Null => {
                t.remove(k);
            }
            Value::Object(_) => {
                let slot = t
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                merge(slot, av, builtin);
            }
            Value::Array(items) => {
                let cur = t.get(k).and_then(Value::as_array).cloned();
                let merged = match (list_merge(k, builtin), cur) {
                    (Some(ListMerge::Key(key)), Some(mut cur)) => {
                        for item in items {
                            match element_key(item, key).and_then(|kv| {
                                cur.iter().position(|e| element_key(e, key) == Some(kv))
                            }) {
                                Some(i) => merge(&mut cur[i], item, builtin),
                                None => cur.push(item.clone()),
                            }
                        }
                        cur
                    }
                    (Some(ListMerge::Set), Some(mut cur)) => {
                        for item in items {
                            if !cur.contains(item) {
                                cur.push(item.clone());
                            }
                        }
                        cur
                    }
                    _ => items.clone(),
                };
                t.insert(k.clone(), Value::Array(merged));
            }
            scalar => {
                t.insert(k.clone(), scalar.clone());
            }
        }
    }
}

/// Applies `config` for `manager` to `live` (the empty object when creating). `others` are the
/// records of every applier in the same scope (main resource or status); the manager's own
/// record is replaced on success. Returns the merged object or the conflicts
/// (`(manager, field path)`).
pub(crate) fn apply(
    live: &Value,
    config: &Value,
    manager: &str,
    force: bool,
    appliers: &mut BTreeMap<String, Applier>,
    builtin: bool,
    now: &str,
) -> Result<Value, Vec<(String, String)>> {
    let view = owned_view(config);
    let new_leaves = leaves(&view, builtin);

    // Conflicts with other appliers' fields whose value would change.
    let mut conflicts = Vec::new();
    let mut taken: Vec<(String, Path)> = Vec::new();
    for (other, rec) in appliers.iter() {
        if other == manager {
            continue;
        }
        let owned = leaves(&owned_view(&rec.config), builtin);
        for (path, value) in &new_leaves {
            if owned.iter().any(|(p, _)| p == path)
                && get(live, path) != Some(value)
                && !value.is_null()
            {
                conflicts.push((other.clone(), render(path)));
                taken.push((other.clone(), path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    for (other, path) in taken {
        if let Some(rec) = appliers.get_mut(&other) {
            remove(&mut rec.config, &path);
        }
    }

    let mut out = live.clone();
    merge(&mut out, config, builtin);

    // Fields this manager applied before and no longer applies, unless another applier has them.
    if let Some(prev) = appliers.get(manager) {
        let prev_leaves = leaves(&owned_view(&prev.config), builtin);
        let others: Vec<Vec<(Path, Value)>> = appliers
            .iter()
            .filter(|(m, _)| m.as_str() != manager)
            .map(|(_, r)| leaves(&owned_view(&r.config), builtin))
            .collect();
        for (path, _) in prev_leaves {
            let still = new_leaves.iter().any(|(p, _)| p.starts_with(&path))
                || others
                    .iter()
                    .flatten()
                    .any(|(p, _)| *p == path || p.starts_with(&path));
            if !still {
                remove(&mut out, &path);
            }
        }
    }

    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    appliers.insert(
        manager.to_string(),
        Applier {
            config: config.clone(),
            time: now.to_string(),
            api_version,
        },
    );
    Ok(out)
}

/// The `FieldsV1` set of a configuration (`f:<field>`, `k:{"<key>":<value>}`, `v:<value>`).
pub(crate) fn fields_v1(config: &Value, builtin: bool) -> Value {
    fn build(v: &Value, builtin: bool) -> Value {
        let mut out = Map::new();
        if let Some(m) = v.as_object() {
            for (k, child) in m {
                let entry = match (child, list_merge(k, builtin)) {
                    (Value::Array(items), Some(ListMerge::Key(key))) => {
                        let mut list = Map::new();
                        for item in items {
                            let Some(kv) = element_key(item, key) else {
                                continue;
                            };
                            let mut e = match build(item, builtin) {
                                Value::Object(o) => o,
                                _ => Map::new(),
                            };
                            e.insert(".".into(), json!({}));
                            list.insert(format!("k:{}", json!({ key: kv })), Value::Object(e));
                        }
                        Value::Object(list)
                    }
                    (Value::Array(items), Some(ListMerge::Set)) => Value::Object(
                        items
                            .iter()
                            .map(|i| (format!("v:{i}"), json!({})))
                            .collect(),
                    ),
                    (Value::Object(o), _) if !o.is_empty() => build(child, builtin),
                    _ => json!({}),
                };
                out.insert(format!("f:{k}"), entry);
            }
        }
        Value::Object(out)
    }
    build(&owned_view(config), builtin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_merge_and_prune() {
        let mut appliers = BTreeMap::new();
        let c1 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "1", "b": "2"}},
                        "data": {"k": "v", "j": "w"}});
        let live = apply(&json!({}), &c1, "m1", false, &mut appliers, true, "t").unwrap();
        assert_eq!(live["data"], json!({"k": "v", "j": "w"}));
        // Another client adds a field; m1 drops label b and data.j.
        let mut live2 = live.clone();
        live2["data"]["other"] = json!("x");
        let c2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "1"}},
                        "data": {"k": "v2"}});
        let out = apply(&live2, &c2, "m1", false, &mut appliers, true, "t").unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"a": "1"}));
        assert_eq!(out["data"], json!({"k": "v2", "other": "x"}));
        assert_eq!(out["metadata"]["name"], json!("x"));
    }

    #[test]
    fn conflicts_and_force() {
        let mut appliers = BTreeMap::new();
        let c1 = json!({"spec": {"replicas": 2, "x": 1}});
        let live = apply(&json!({}), &c1, "m1", false, &mut appliers, true, "t").unwrap();
        // Same value: shared, no conflict.
        let same = json!({"spec": {"replicas": 2}});
        let live = apply(&live, &same, "m2", false, &mut appliers, true, "t").unwrap();
        let c2 = json!({"spec": {"replicas": 3}});
        let err = apply(&live, &c2, "m3", false, &mut appliers, true, "t").unwrap_err();
        assert_eq!(
            err,
            vec![
                ("m1".to_string(), ".spec.replicas".to_string()),
                ("m2".to_string(), ".spec.replicas".to_string())
            ]
        );
        let live = apply(&live, &c2, "m3", true, &mut appliers, true, "t").unwrap();
        assert_eq!(live["spec"]["replicas"], json!(3));
        // m1 no longer owns replicas: re-applying without it does not remove it.
        let c1b = json!({"spec": {"x": 1}});
        let live = apply(&live, &c1b, "m1", false, &mut appliers, true, "t").unwrap();
        assert_eq!(live["spec"], json!({"replicas": 3, "x": 1}));
    }

    #[test]
    fn keyed_lists_and_fields_v1() {
        let mut appliers = BTreeMap::new();
        let c = json!({"metadata": {"finalizers": ["f1"]}, "spec": {"containers": [{"name": "a", "image": "i"}, {"name": "b", "image": "j"}]}});
        let live = apply(&json!({}), &c, "m", false, &mut appliers, true, "t").unwrap();
        let c2 = json!({"metadata": {"finalizers": []}, "spec": {"containers": [{"name": "b", "image": "j2"}]}});
        let live = apply(&live, &c2, "m", false, &mut appliers, true, "t").unwrap();
        assert_eq!(
            live["spec"]["containers"],
            json!([{"name": "b", "image": "j2"}])
        );
        assert_eq!(live["metadata"]["finalizers"], json!([]));
        let f = fields_v1(&c2, true);
        assert_eq!(
            f["f:spec"]["f:containers"]["k:{\"name\":\"b\"}"]["f:image"],
            json!({})
        );
    }
}
