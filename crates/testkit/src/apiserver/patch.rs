//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902, `test` included) and
//! strategic merge patch. Server-side apply is in [`super::apply`].
//!
//! # Strategic merge patch, as implemented
//!
//! A merge patch (objects merge recursively, `null` deletes a key, scalars and lists replace),
//! except for the lists the Go types of built-in resources declare with a merge strategy, which
//! are merged element by element by their merge key whatever their position in the object:
//!
//! | list | merge key |
//! |---|---|
//! | `containers`, `initContainers`, `ephemeralContainers`, `env`, `volumes`, `imagePullSecrets`, `resourceClaims` | `name` |
//! | `volumeMounts` | `mountPath` |
//! | `volumeDevices` | `devicePath` |
//! | `ports` | `containerPort` (container ports), else `port` (service ports) |
//! | `conditions` | `type` |
//! | `ownerReferences` | `uid` |
//! | `finalizers` | a set: patch items are added (`metadata.finalizers` is `patchStrategy: merge`) |
//!
//! Directives: `{"$patch": "delete", <key>: …}` in a keyed list removes that element;
//! `{"$patch": "replace"}` as a list element replaces the whole list with the other elements;
//! `"$patch": "replace"` in an object replaces the object; `"$patch": "delete"` in an object
//! deletes it; `$deleteFromPrimitiveList/<list>: [values]` removes values from a set list (the
//! only way to remove a finalizer with this patch type, as on the real server);
//! `$retainKeys: [keys]` keeps only those keys; `$setElementOrder/<list>` is accepted and ignored
//! (order is the target's, new elements appended).
//!
//! Custom resources do not accept this patch type (415), as on the real server.

use serde_json::{Map, Value};

use super::status::ApiError;

/// Patch content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json`
    Merge,
    /// `application/json-patch+json`
    Json,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml`
    Apply,
}

impl PatchType {
    /// Media types accepted, in the order of the real server's message.
    pub(crate) const MEDIA: [&'static str; 4] = [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
        "application/strategic-merge-patch+json",
    ];

    /// From a `Content-Type` header value (parameters ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// RFC 7386 merge patch of `target` with `patch`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch; a malformed patch is a 400, a failing operation (including `test`) a 422.
pub fn json_patch(target: &mut Value, body: &[u8]) -> Result<(), ApiError> {
    let ops: json_patch::Patch = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
    json_patch::patch(target, &ops.0).map_err(|e| {
        ApiError::unprocessable(format!(
            "the server rejected our request due to an error in our request: {e}"
        ))
    })
}

/// How a list field merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListMerge {
    /// Merge elements by the value of this key (for `ports`: `containerPort`, else `port`).
    Key(&'static str),
    /// A set of scalars.
    Set,
}

/// The merge strategy of a list field of built-in types (see the module table). Custom resources
/// merge only the metadata lists.
pub(crate) fn list_merge(field: &str, builtin: bool) -> Option<ListMerge> {
    match field {
        "ownerReferences" => Some(ListMerge::Key("uid")),
        "finalizers" => Some(ListMerge::Set),
        _ if !builtin => None,
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => Some(ListMerge::Key("name")),
        "volumeMounts" => Some(ListMerge::Key("mountPath")),
        "volumeDevices" => Some(ListMerge::Key("devicePath")),
        "ports" => Some(ListMerge::Key("containerPort")),
        "conditions" => Some(ListMerge::Key("type")),
        _ => None,
    }
}

/// The merge-key value of a list element (`ports` falls back from `containerPort` to `port`).
pub(crate) fn element_key<'a>(elem: &'a Value, key: &str) -> Option<&'a Value> {
    elem.get(key).or_else(|| {
        if key == "containerPort" {
            elem.get("port")
        } else {
            None
        }
    })
}

/// Strategic merge patch of `target` (an object) with `patch`.
pub fn strategic_merge(target: &mut Value, patch: &Value, builtin: bool) -> Result<(), ApiError> {
    let Some(pobj) = patch.as_object() else {
        return Err(ApiError::bad_request(
            "strategic merge patch body must be a JSON object",
        ));
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    merge_object(target, pobj, builtin)
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|e| e.get("$patch").is_none())
                .map(strip_directives)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_object(
    target: &mut Value,
    patch: &Map<String, Value>,
    builtin: bool,
) -> Result<(), ApiError> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *target = strip_directives(&Value::Object(patch.clone()));
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown patch directive $patch: {other:?}"
            )));
        }
        None => {}
    }
    let Some(t) = target.as_object_mut() else {
        return Err(ApiError::bad_request(
            "strategic merge patch target is not an object",
        ));
    };
    for (k, pv) in patch {
        if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
            let remove: Vec<Value> = pv.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = t.get_mut(list) {
                items.retain(|i| !remove.contains(i));
            }
            continue;
        }
        if k == "$retainKeys" {
            let keep: Vec<&str> = pv
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            t.retain(|key, _| keep.contains(&key.as_str()) || patch.contains_key(key));
            continue;
        }
        if k.starts_with('$') {
            // $setElementOrder/… and unknown directives: accepted, ignored.
            continue;
        }
        match pv {
            Value::Null => {
                t.remove(k);
            }
            Value::Object(po) => {
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                merge_object(slot, po, builtin)?;
                if slot.is_null() {
                    t.remove(k);
                }
            }
            Value::Array(pa) => {
                let strategy = list_merge(k, builtin);
                let current = t.get(k).and_then(Value::as_array).cloned();
                let merged = match (strategy, current) {
                    (Some(ListMerge::Key(key)), Some(cur)) => merge_keyed(cur, pa, key, builtin)?,
                    (Some(ListMerge::Key(key)), None) => merge_keyed(Vec::new(), pa, key, builtin)?,
                    (Some(ListMerge::Set), Some(mut cur)) => {
                        if pa
                            .iter()
                            .any(|e| e.get("$patch").and_then(Value::as_str) == Some("replace"))
                        {
                            strip_directives(pv).as_array().cloned().unwrap_or_default()
                        } else {
                            for e in pa {
                                if !cur.contains(e) {
                                    cur.push(e.clone());
                                }
                            }
                            cur
                        }
                    }
                    _ => strip_directives(pv).as_array().cloned().unwrap_or_default(),
                };
                t.insert(k.clone(), Value::Array(merged));
            }
            scalar => {
                t.insert(k.clone(), scalar.clone());
            }
        }
    }
    Ok(())
}

fn merge_keyed(
    mut cur: Vec<Value>,
    patch: &[Value],
    key: &str,
    builtin: bool,
) -> Result<Vec<Value>, ApiError> {
    if patch
        .iter()
        .any(|e| e.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Ok(patch
            .iter()
            .filter(|e| e.get("$patch").is_none())
            .map(strip_directives)
            .collect());
    }
    for pe in patch {
        let Some(po) = pe.as_object() else {
            return Err(ApiError::bad_request(format!(
                "strategic merge patch: list merged by {key:?} has a non-object element {pe}"
            )));
        };
        let Some(kv) = element_key(pe, key) else {
            return Err(ApiError::bad_request(format!(
                "strategic merge patch: map in list is missing its merge key {key:?}: {pe}"
            )));
        };
        let pos = cur.iter().position(|e| element_key(e, key) == Some(kv));
        match (po.get("$patch").and_then(Value::as_str), pos) {
            (Some("delete"), Some(i)) => {
                cur.remove(i);
            }
            (Some("delete"), None) => {}
            (_, Some(i)) => merge_object(&mut cur[i], po, builtin)?,
            (_, None) => cur.push(strip_directives(pe)),
        }
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn smp_merges_containers_and_env_by_name() {
        let mut t = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
            {"name": "b", "image": "b:1"}
        ]}});
        let p = json!({"spec": {"containers": [
            {"name": "a", "env": [{"name": "Y", "value": "3"}, {"name": "X", "$patch": "delete"}]},
            {"name": "c", "image": "c:1"}
        ]}});
        strategic_merge(&mut t, &p, true).unwrap();
        assert_eq!(
            t,
            json!({"spec": {"containers": [
                {"name": "a", "image": "a:1", "env": [{"name": "Y", "value": "3"}]},
                {"name": "b", "image": "b:1"},
                {"name": "c", "image": "c:1"}
            ]}})
        );
    }

    #[test]
    fn smp_conditions_finalizers_and_directives() {
        let mut t = json!({"metadata": {"finalizers": ["a"], "labels": {"x": "1", "y": "2"}},
                           "status": {"conditions": [{"type": "Ready", "status": "False"}]},
                           "spec": {"args": ["1", "2"]}});
        let p = json!({"metadata": {"finalizers": ["b"], "labels": {"x": null}},
                       "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Active", "status": "True"}]},
                       "spec": {"args": ["3"]}});
        strategic_merge(&mut t, &p, true).unwrap();
        assert_eq!(t["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(t["metadata"]["labels"], json!({"y": "2"}));
        assert_eq!(
            t["status"]["conditions"],
            json!([{"type": "Ready", "status": "True"}, {"type": "Active", "status": "True"}])
        );
        assert_eq!(t["spec"]["args"], json!(["3"]));
        let p = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
                       "status": {"conditions": [{"$patch": "replace"}, {"type": "X", "status": "True"}]}});
        strategic_merge(&mut t, &p, true).unwrap();
        assert_eq!(t["metadata"]["finalizers"], json!(["b"]));
        assert_eq!(
            t["status"]["conditions"],
            json!([{"type": "X", "status": "True"}])
        );
        let p = json!({"spec": {"$patch": "replace", "new": 1}});
        strategic_merge(&mut t, &p, true).unwrap();
        assert_eq!(t["spec"], json!({"new": 1}));
    }

    #[test]
    fn custom_resources_replace_their_own_lists() {
        let mut t = json!({"status": {"conditions": [{"type": "Ready"}]}});
        strategic_merge(
            &mut t,
            &json!({"status": {"conditions": [{"type": "Active"}]}}),
            false,
        )
        .unwrap();
        assert_eq!(t["status"]["conditions"], json!([{"type": "Active"}]));
    }

    #[test]
    fn json_patch_test_failure_is_422() {
        let mut t = json!({"a": 1});
        let err = json_patch(
            &mut t,
            br#"[{"op":"test","path":"/a","value":2},{"op":"replace","path":"/a","value":3}]"#,
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(t, json!({"a": 1}));
        assert_eq!(json_patch(&mut t, b"{}").unwrap_err().code, 400);
    }
}
