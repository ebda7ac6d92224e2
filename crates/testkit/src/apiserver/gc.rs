//! Deletion, finalizers and garbage collection.
//!
//! * DELETE of an object with finalizers sets `metadata.deletionTimestamp` (the server clock) and
//!   `deletionGracePeriodSeconds: 0`, bumps `generation`, emits MODIFIED and answers **202** with
//!   the object, as the real server does for a deletion that is not complete. A second DELETE
//!   changes nothing. When an update or patch removes the last finalizer the object is removed
//!   (DELETED). New finalizers cannot be added meanwhile (422, see [`super::store`]).
//! * DELETE of an object without finalizers removes it at once: 200 with the object for custom
//!   resources, 200 with a `Status` of `status: Success` for built-in resources, as the real
//!   server answers. Pods are removed at once too (no kubelet, so no graceful termination).
//! * Preconditions (`preconditions.uid`, `preconditions.resourceVersion`) are checked (409).
//! * Garbage collection runs synchronously when an object is removed: every object whose
//!   `metadata.ownerReferences` names the removed uid is deleted (background propagation,
//!   recursively, honoring its own finalizers), unless it has another owner that still exists,
//!   in which case only the dangling reference is removed. `propagationPolicy=Orphan` removes the
//!   owner reference from dependents instead; `Foreground` deletes the dependents before the owner
//!   (a simplification: the real server keeps the owner with a `foregroundDeletion` finalizer
//!   until they are gone). Dangling references at creation are not collected by themselves; call
//!   [`crate::apiserver::FakeApiServer::collect_garbage`] to delete objects all of whose owners are
//!   missing.
//! * Namespaces: DELETE marks the namespace (`deletionTimestamp`, `status.phase: Terminating`),
//!   deletes everything in it, and removes it once it is empty (immediately unless some object
//!   in it waits on finalizers). Creating in a terminating namespace is a 403.

use std::sync::Arc;

use serde_json::{Value, json};

use super::resources::{ResKey, Resource};
use super::status::{ApiError, success_deleted};
use super::store::{Store, has_finalizers, is_deleting, meta_mut, meta_str};
use super::watch::{EventType, HistEvent};

/// `propagationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    pub(crate) fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "" | "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            "Orphan" => Ok(Self::Orphan),
            other => Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
            ))),
        }
    }
}

/// DeleteOptions that matter here.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOpts {
    pub(crate) propagation: Propagation,
    pub(crate) uid: Option<String>,
    pub(crate) resource_version: Option<String>,
    pub(crate) dry_run: bool,
}

/// Outcome of a DELETE: HTTP code and body.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    pub(crate) code: u16,
    pub(crate) body: Value,
    /// The object is gone from the store.
    pub(crate) gone: bool,
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

impl Store {
    fn uid_exists(&self, uid: &str) -> bool {
        self.objects
            .values()
            .flat_map(|m| m.values())
            .any(|o| meta_str(o, "uid") == uid)
    }

    /// Objects whose ownerReferences name `uid`.
    fn dependents(&self, uid: &str) -> Vec<(Arc<Resource>, Value)> {
        let mut out = Vec::new();
        for (key, objs) in &self.objects {
            let Some(res) = self.registry.by_key(key) else {
                continue;
            };
            for o in objs.values() {
                if owner_uids(o).iter().any(|u| u == uid) {
                    out.push((res.clone(), o.clone()));
                }
            }
        }
        out
    }

    /// Removes the owner reference `uid` from an object (a MODIFIED write).
    fn drop_owner_ref(&mut self, res: &Arc<Resource>, obj: &Value, uid: &str) {
        let mut new = obj.clone();
        let m = meta_mut(&mut new);
        if let Some(refs) = m.get_mut("ownerReferences").and_then(Value::as_array_mut) {
            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
            if refs.is_empty() {
                m.remove("ownerReferences");
            }
        }
        self.commit(res, Some(obj.clone()), new);
    }

    /// DELETE.
    pub(crate) fn delete(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOpts,
    ) -> Result<Deleted, ApiError> {
        let old = self.get(res, ns, name)?;
        if let Some(uid) = &opts.uid
            && uid != meta_str(&old, "uid")
        {
            return Err(ApiError::conflict_msg(
                &res.def,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&old, "uid")
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && rv != meta_str(&old, "resourceVersion")
        {
            return Err(ApiError::conflict_msg(
                &res.def,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta_str(&old, "resourceVersion")
                ),
            ));
        }
        if opts.dry_run {
            let gone = !has_finalizers(&old);
            return Ok(Deleted {
                code: if gone { 200 } else { 202 },
                body: old,
                gone,
            });
        }
        if res.def.group.is_empty() && res.def.plural == "namespaces" {
            return Ok(self.delete_namespace(res, old));
        }
        Ok(self.delete_obj(res, old, opts.propagation))
    }

    /// Deletion of a stored object (no preconditions).
    pub(crate) fn delete_obj(
        &mut self,
        res: &Arc<Resource>,
        old: Value,
        propagation: Propagation,
    ) -> Deleted {
        let uid = meta_str(&old, "uid").to_string();
        match propagation {
            Propagation::Orphan => {
                for (dres, dep) in self.dependents(&uid) {
                    self.drop_owner_ref(&dres, &dep, &uid);
                }
            }
            Propagation::Foreground => {
                for (dres, dep) in self.dependents(&uid) {
                    self.delete_obj(&dres, dep, Propagation::Foreground);
                }
            }
            Propagation::Background => {}
        }
        // Re-read: orphaning or collecting dependents does not change the owner, but be exact.
        let name = meta_str(&old, "name").to_string();
        let ns = meta_str(&old, "namespace").to_string();
        let Some(old) = self.lookup(res, Some(&ns), &name).cloned() else {
            return Deleted {
                code: 200,
                body: old,
                gone: true,
            };
        };
        if has_finalizers(&old) {
            if is_deleting(&old) {
                return Deleted {
                    code: 202,
                    body: old,
                    gone: false,
                };
            }
            let mut new = old.clone();
            let now = self.now();
            let m = meta_mut(&mut new);
            m.insert("deletionTimestamp".into(), Value::String(now));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            let g = m.get("generation").and_then(Value::as_i64).unwrap_or(0);
            m.insert("generation".into(), json!(g + 1));
            let body = self.commit(res, Some(old), new);
            return Deleted {
                code: 202,
                body,
                gone: false,
            };
        }
        let body = self.remove(res, &old);
        let body = if res.builtin {
            success_deleted(&res.def, &name, &uid)
        } else {
            body
        };
        Deleted {
            code: 200,
            body,
            gone: true,
        }
    }

    /// Removes an object from the store (DELETED event), then collects its dependents and, if
    /// it emptied a terminating namespace, the namespace. Returns the object as deleted (with
    /// the deletion's resourceVersion).
    pub(crate) fn remove(&mut self, res: &Arc<Resource>, obj: &Value) -> Value {
        let name = meta_str(obj, "name").to_string();
        let ns = meta_str(obj, "namespace").to_string();
        let key = (ns.clone(), name);
        let Some(_) = self
            .objects
            .get_mut(&res.def.key())
            .and_then(|m| m.remove(&key))
        else {
            return obj.clone();
        };
        self.appliers.remove(&(res.def.key(), key));
        self.rv += 1;
        let mut gone = obj.clone();
        meta_mut(&mut gone).insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        self.hub.emit(HistEvent {
            rv: self.rv,
            key: res.def.key(),
            ty: EventType::Deleted,
            obj: gone.clone(),
            old: None,
        });

        let uid = meta_str(obj, "uid").to_string();
        for (dres, dep) in self.dependents(&uid) {
            // Look again: collecting an earlier dependent may have changed this one.
            let dns = meta_str(&dep, "namespace").to_string();
            let dname = meta_str(&dep, "name").to_string();
            let Some(dep) = self.lookup(&dres, Some(&dns), &dname).cloned() else {
                continue;
            };
            let other_owner = owner_uids(&dep)
                .iter()
                .any(|u| *u != uid && self.uid_exists(u));
            if other_owner {
                self.drop_owner_ref(&dres, &dep, &uid);
            } else {
                self.delete_obj(&dres, dep, Propagation::Background);
            }
        }
        if !ns.is_empty() {
            self.finish_namespace(&ns);
        }
        gone
    }

    fn namespace_res(&self) -> Option<Arc<Resource>> {
        self.registry.get("", "v1", "namespaces")
    }

    fn namespace_empty(&self, ns: &str) -> bool {
        self.objects
            .values()
            .all(|m| m.keys().all(|(n, _)| n != ns))
    }

    /// Removes a terminating namespace once it is empty and has no finalizers.
    fn finish_namespace(&mut self, ns: &str) {
        let Some(nres) = self.namespace_res() else {
            return;
        };
        let Some(nsobj) = self.lookup(&nres, None, ns).cloned() else {
            return;
        };
        if is_deleting(&nsobj) && !has_finalizers(&nsobj) && self.namespace_empty(ns) {
            self.remove(&nres, &nsobj);
        }
    }

    fn delete_namespace(&mut self, res: &Arc<Resource>, old: Value) -> Deleted {
        let name = meta_str(&old, "name").to_string();
        if !is_deleting(&old) {
            let mut new = old.clone();
            let now = self.now();
            meta_mut(&mut new).insert("deletionTimestamp".into(), Value::String(now));
            new["status"] = json!({ "phase": "Terminating" });
            self.commit(res, Some(old.clone()), new);
            let keys: Vec<ResKey> = self.objects.keys().cloned().collect();
            for key in keys {
                let Some(r) = self.registry.by_key(&key) else {
                    continue;
                };
                if !r.def.namespaced {
                    continue;
                }
                for obj in self.list_all(&key, Some(&name)) {
                    let Some(current) = self
                        .lookup(&r, Some(&name), meta_str(&obj, "name"))
                        .cloned()
                    else {
                        continue;
                    };
                    self.delete_obj(&r, current, Propagation::Background);
                }
            }
            self.finish_namespace(&name);
        }
        match self.lookup(res, None, &name).cloned() {
            Some(still) => Deleted {
                code: 202,
                body: still,
                gone: false,
            },
            None => Deleted {
                code: 200,
                body: success_deleted(&res.def, &name, meta_str(&old, "uid")),
                gone: true,
            },
        }
    }

    /// Deletes every object that has owner references and none of whose owners exists.
    /// Returns how many deletions were started.
    pub(crate) fn collect_garbage(&mut self) -> usize {
        let mut orphans = Vec::new();
        for (key, objs) in &self.objects {
            let Some(res) = self.registry.by_key(key) else {
                continue;
            };
            for o in objs.values() {
                let owners = owner_uids(o);
                if !owners.is_empty() && owners.iter().all(|u| !self.uid_exists(u)) {
                    orphans.push((res.clone(), o.clone()));
                }
            }
        }
        let n = orphans.len();
        for (res, o) in orphans {
            let ns = meta_str(&o, "namespace").to_string();
            if let Some(current) = self.lookup(&res, Some(&ns), meta_str(&o, "name")).cloned() {
                self.delete_obj(&res, current, Propagation::Background);
            }
        }
        n
    }
}
