//! The `/scale` subresource: an autoscaling/v1 `Scale` view of an object through its
//! [`ScalePaths`]: `spec.replicas` and `status.replicas` from the configured paths (0 when
//! absent), `status.selector` as a selector string (a `LabelSelector` object at the path is
//! rendered). GET reads it; PUT and PATCH (merge, JSON, strategic) compute the new `Scale` and
//! write only its `spec.replicas` back to the owner (an update of the owner: resourceVersion
//! precondition from the Scale's metadata, generation bump, MODIFIED event on the owner).

use std::sync::Arc;

use serde_json::{Value, json};

use super::patch::{self, PatchType};
use super::resources::{Resource, ScalePaths};
use super::selector::label_selector_string;
use super::status::ApiError;
use super::store::{Scope, Store, meta_mut, meta_str};

fn pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut acc, seg| {
            acc.push('/');
            acc.push_str(seg);
            acc
        })
}

fn set_path(obj: &mut Value, path: &str, value: Value) {
    let segs: Vec<&str> = path.trim_start_matches('.').split('.').collect();
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut cur = obj;
    for seg in parents {
        if !cur.get(*seg).is_some_and(Value::is_object) {
            cur[*seg] = json!({});
        }
        cur = &mut cur[*seg];
    }
    cur[*last] = value;
}

fn paths(res: &Resource) -> Result<&ScalePaths, ApiError> {
    res.def.scale.as_ref().ok_or_else(ApiError::no_such_path)
}

/// The `Scale` of an object.
pub(crate) fn to_scale(res: &Resource, obj: &Value) -> Result<Value, ApiError> {
    let p = paths(res)?;
    let spec = obj
        .pointer(&pointer(&p.spec_replicas))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let status = obj
        .pointer(&pointer(&p.status_replicas))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut scale = json!({
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            "name": meta_str(obj, "name"),
            "uid": meta_str(obj, "uid"),
            "resourceVersion": meta_str(obj, "resourceVersion"),
            "creationTimestamp": meta_str(obj, "creationTimestamp"),
        },
        "spec": { "replicas": spec },
        "status": { "replicas": status },
    });
    if res.def.namespaced {
        scale["metadata"]["namespace"] = json!(meta_str(obj, "namespace"));
    }
    if let Some(sel) = p
        .label_selector
        .as_deref()
        .and_then(|s| obj.pointer(&pointer(s)))
    {
        scale["status"]["selector"] = json!(label_selector_string(sel));
    }
    Ok(scale)
}

impl Store {
    /// GET `/scale`.
    pub(crate) fn get_scale(
        &self,
        res: &Resource,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        paths(res)?;
        to_scale(res, &self.get(res, ns, name)?)
    }

    /// PUT `/scale` with a `Scale` body.
    pub(crate) fn update_scale(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        name: &str,
        scale: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let p = paths(res)?.clone();
        let old = self.get(res, ns, name)?;
        let scale_name = meta_str(&scale, "name");
        if !scale_name.is_empty() && scale_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({scale_name}) does not match the name on the URL ({name})"
            )));
        }
        let replicas = scale.pointer("/spec/replicas");
        let Some(n) = replicas.and_then(Value::as_i64).filter(|n| *n >= 0) else {
            return Err(ApiError::invalid(
                &super::resources::ResourceDef::new("autoscaling", "v1", "Scale", "scales", true),
                name,
                &[super::status::FieldError::invalid(
                    "spec.replicas",
                    replicas.unwrap_or(&Value::Null),
                    "must be greater than or equal to 0",
                )],
            ));
        };
        let mut body = old.clone();
        set_path(&mut body, &p.spec_replicas, json!(n));
        let rv = meta_str(&scale, "resourceVersion").to_string();
        meta_mut(&mut body).insert("resourceVersion".into(), Value::String(rv));
        let new = self.prepare_update(res, &old, body, Scope::Main)?;
        let written = self.finish_update(res, old, new, dry_run)?;
        to_scale(res, &written)
    }

    /// PATCH `/scale`: the patch applies to the `Scale` document.
    pub(crate) fn patch_scale(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        name: &str,
        ptype: PatchType,
        body: &[u8],
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let mut scale = self.get_scale(res, ns, name)?;
        match ptype {
            PatchType::Json => patch::json_patch(&mut scale, body)?,
            PatchType::Merge | PatchType::Strategic | PatchType::Apply => {
                let p: Value = match serde_json::from_slice(body) {
                    Ok(v) => v,
                    Err(_) if ptype == PatchType::Apply => {
                        serde_saphyr::from_slice(body).map_err(|e| {
                            ApiError::bad_request(format!("error decoding YAML apply body: {e}"))
                        })?
                    }
                    Err(e) => {
                        return Err(ApiError::bad_request(format!("error decoding patch: {e}")));
                    }
                };
                if ptype == PatchType::Strategic {
                    patch::strategic_merge(&mut scale, &p, true)?;
                } else {
                    patch::merge_patch(&mut scale, &p);
                }
            }
        }
        self.update_scale(res, ns, name, scale, dry_run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_set() {
        assert_eq!(pointer(".spec.replicas"), "/spec/replicas");
        let mut v = json!({});
        set_path(&mut v, ".spec.x.replicas", json!(3));
        assert_eq!(v, json!({"spec": {"x": {"replicas": 3}}}));
    }
}
