//! The object store: JSON objects per resource, keyed by namespace and name, with one global
//! resourceVersion counter (as etcd's revision) that every write bumps.
//!
//! Writes follow the real server's registry rules:
//!
//! * **create**: `generateName`, `uid`, `creationTimestamp`, `generation: 1`; `.status` dropped for
//!   resources with a status subresource; the namespace must exist and not be terminating;
//!   AlreadyExists (409) for a taken name; a `resourceVersion` in the body is a 400.
//! * **update** (PUT and every PATCH after the patch is applied): the name and namespace must
//!   match the URL; a non-empty `metadata.resourceVersion` must be the stored one, else 409
//!   Conflict; server-owned metadata (uid, creationTimestamp, deletionTimestamp, generation,
//!   managedFields) is kept from the stored object; on the main endpoint of a resource with a
//!   status subresource `.status` changes are ignored, on `/status` only `.status` changes;
//!   `generation` goes up when anything but metadata and status changes; an update that changes
//!   nothing is not written (no new resourceVersion, no event).
//! * **defaulting**: `spec.replicas: 1` for apps/v1 workloads, HorizontalPodAutoscaler
//!   `minReplicas: 1`, the 80 % CPU metric when `metrics` is empty and the behavior rules when
//!   `behavior` is present (see [`hpa_defaults`]), `status.phase` of new namespaces (`Active`) and
//!   pods (`Pending`).
//! * **validation** ([`super::validate`] and per-resource validators): 422 Invalid.
//!
//! Deletion, finalizers and garbage collection are in [`super::gc`], server-side apply in
//! [`super::apply`], the scale subresource in [`super::scale`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::apply::{self, Applier};
use super::clock::{Clock, rfc3339};
use super::patch::{self, PatchType};
use super::resources::{Registry, ResKey, Resource};
use super::status::{ApiError, FieldError};
use super::validate;
use super::watch::{EventType, HistEvent, Hub};

/// An extra validation for one resource: returns the field errors of an object (empty: valid).
pub type Validator = Arc<dyn Fn(&Value) -> Vec<FieldError> + Send + Sync>;

/// Which endpoint a write came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Main,
    Status,
}

/// Appliers of one object, per endpoint.
#[derive(Debug, Clone, Default)]
pub(crate) struct Appliers {
    pub(crate) main: BTreeMap<String, Applier>,
    pub(crate) status: BTreeMap<String, Applier>,
}

/// Options of a PATCH.
#[derive(Debug, Clone, Default)]
pub(crate) struct PatchOpts {
    pub(crate) dry_run: bool,
    pub(crate) field_manager: Option<String>,
    pub(crate) force: bool,
}

pub(crate) type ObjKey = (String, String);

/// Reads a string field of `metadata`.
pub(crate) fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The `metadata` object, created if missing.
pub(crate) fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Some(o) = obj.as_object_mut() else {
        unreachable!("made an object above")
    };
    let m = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !m.is_object() {
        *m = Value::Object(Map::new());
    }
    match m.as_object_mut() {
        Some(m) => m,
        None => unreachable!("made an object above"),
    }
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn has_finalizers(obj: &Value) -> bool {
    !finalizers(obj).is_empty()
}

pub(crate) fn is_deleting(obj: &Value) -> bool {
    !meta_str(obj, "deletionTimestamp").is_empty()
}

/// Everything but metadata and status, for generation accounting.
fn spec_view(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("metadata");
        o.remove("status");
    }
    v
}

const SERVER_META: [&str; 6] = [
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
];

/// The store and everything that changes with it (history, watchers, appliers).
pub(crate) struct Store {
    pub(crate) registry: Registry,
    pub(crate) objects: BTreeMap<ResKey, BTreeMap<ObjKey, Value>>,
    /// Latest resourceVersion.
    pub(crate) rv: u64,
    seq: u64,
    pub(crate) hub: Hub,
    pub(crate) appliers: HashMap<(ResKey, ObjKey), Appliers>,
    pub(crate) clock: Clock,
    pub(crate) validators: HashMap<ResKey, Validator>,
}

impl Store {
    pub(crate) fn new(clock: Clock, history_limit: usize) -> Self {
        let mut s = Self {
            registry: Registry::builtin(),
            objects: BTreeMap::new(),
            rv: 0,
            seq: 0,
            hub: Hub::new(history_limit),
            appliers: HashMap::new(),
            clock,
            validators: HashMap::new(),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if let Some(res) = s.registry.get("", "v1", "namespaces") {
                let obj =
                    json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": ns } });
                // Cannot fail: valid names in an empty store.
                let _ = s.create(&res, None, obj, false);
            }
        }
        s
    }

    pub(crate) fn now(&self) -> String {
        rfc3339((self.clock)())
    }

    /// A fresh pseudo-random number (splitmix64 of a counter): deterministic across runs.
    fn next_random(&mut self) -> u64 {
        self.seq += 1;
        let mut z = self.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn new_uid(&mut self) -> String {
        let a = self.next_random();
        let b = self.next_random();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48 & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// The object key of a request: namespace ("" for cluster-scoped) and name.
    pub(crate) fn obj_key(res: &Resource, ns: Option<&str>, name: &str) -> ObjKey {
        let ns = if res.def.namespaced {
            ns.unwrap_or("")
        } else {
            ""
        };
        (ns.to_string(), name.to_string())
    }

    pub(crate) fn lookup(&self, res: &Resource, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.objects
            .get(&res.def.key())?
            .get(&Self::obj_key(res, ns, name))
    }

    /// GET.
    pub(crate) fn get(
        &self,
        res: &Resource,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        self.lookup(res, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&res.def, name))
    }

    /// Objects of a resource, in one namespace or all, ordered by namespace and name.
    pub(crate) fn list_all(&self, key: &ResKey, ns: Option<&str>) -> Vec<Value> {
        self.objects
            .get(key)
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Writes `new` with the next resourceVersion and emits the event.
    pub(crate) fn commit(&mut self, res: &Resource, old: Option<Value>, mut new: Value) -> Value {
        self.rv += 1;
        meta_mut(&mut new).insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        let key = (
            meta_str(&new, "namespace").to_string(),
            meta_str(&new, "name").to_string(),
        );
        self.objects
            .entry(res.def.key())
            .or_default()
            .insert(key, new.clone());
        let ty = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.hub.emit(HistEvent {
            rv: self.rv,
            key: res.def.key(),
            ty,
            obj: new.clone(),
            old,
        });
        new
    }

    /// Fills or checks `apiVersion` and `kind`.
    fn check_type(res: &Resource, obj: &mut Value) -> Result<(), ApiError> {
        let Some(o) = obj.as_object_mut() else {
            return Err(ApiError::bad_request(
                "the body of the request must be a JSON object",
            ));
        };
        let want_av = res.def.api_version();
        match o.get("apiVersion").and_then(Value::as_str) {
            None | Some("") => {
                o.insert("apiVersion".into(), Value::String(want_av));
            }
            Some(av) if av == want_av => {}
            Some(av) => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({av}) does not match the expected API version ({want_av})"
                )));
            }
        }
        match o.get("kind").and_then(Value::as_str) {
            None | Some("") => {
                o.insert("kind".into(), Value::String(res.def.kind.clone()));
            }
            Some(k) if k == res.def.kind => {}
            Some(k) => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    res.def.kind
                )));
            }
        }
        Ok(())
    }

    fn validate(&self, res: &Resource, obj: &Value) -> Result<(), ApiError> {
        let mut errs = validate::metadata(res, obj);
        errs.extend(validate::kind_specific(res, obj));
        if let Some(v) = self.validators.get(&res.def.key()) {
            errs.extend(v(obj));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(&res.def, meta_str(obj, "name"), &errs))
        }
    }

    /// Namespace of a new object: the URL's, which the body may repeat but not contradict.
    fn place(
        res: &Resource,
        ns: Option<&str>,
        obj: &mut Value,
    ) -> Result<Option<String>, ApiError> {
        let body_ns = meta_str(obj, "namespace").to_string();
        let m = meta_mut(obj);
        if !res.def.namespaced {
            m.remove("namespace");
            return Ok(None);
        }
        let ns = match ns {
            Some(ns) => {
                if !body_ns.is_empty() && body_ns != ns {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                ns.to_string()
            }
            None if !body_ns.is_empty() => body_ns,
            None => "default".to_string(),
        };
        m.insert("namespace".into(), Value::String(ns.clone()));
        Ok(Some(ns))
    }

    fn check_namespace(&self, ns: &str) -> Result<(), ApiError> {
        let key = ResKey {
            group: String::new(),
            plural: "namespaces".into(),
        };
        match self
            .objects
            .get(&key)
            .and_then(|m| m.get(&(String::new(), ns.to_string())))
        {
            None => Err(ApiError::namespace_not_found(ns)),
            Some(n) if is_deleting(n) => Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ))),
            Some(_) => Ok(()),
        }
    }

    /// POST.
    pub(crate) fn create(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.create_with(res, ns, obj, dry_run, None)
    }

    pub(crate) fn create_with(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        mut obj: Value,
        dry_run: bool,
        managed_fields: Option<Value>,
    ) -> Result<Value, ApiError> {
        Self::check_type(res, &mut obj)?;
        let ns = Self::place(res, ns, &mut obj)?;
        if let Some(ns) = &ns {
            self.check_namespace(ns)?;
        }
        if !meta_str(&obj, "resourceVersion").is_empty() {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        let mut name = meta_str(&obj, "name").to_string();
        let generate = meta_str(&obj, "generateName").to_string();
        if name.is_empty() && !generate.is_empty() {
            const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
            loop {
                let mut r = self.next_random();
                let suffix: String = (0..5)
                    .map(|_| {
                        let c = ALPHABET[(r % ALPHABET.len() as u64) as usize] as char;
                        r /= ALPHABET.len() as u64;
                        c
                    })
                    .collect();
                let candidate = format!("{generate}{suffix}");
                if self.lookup(res, ns.as_deref(), &candidate).is_none() {
                    name = candidate;
                    break;
                }
            }
            meta_mut(&mut obj).insert("name".into(), Value::String(name.clone()));
        }
        {
            let m = meta_mut(&mut obj);
            for f in SERVER_META {
                m.remove(f);
            }
            m.remove("resourceVersion");
            m.remove("selfLink");
        }
        if res.def.status_subresource
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status");
        }
        defaults(res, &mut obj, true);
        self.validate(res, &obj)?;
        if self.lookup(res, ns.as_deref(), &name).is_some() {
            return Err(ApiError::already_exists(&res.def, &name));
        }
        let uid = self.new_uid();
        let now = self.now();
        let m = meta_mut(&mut obj);
        m.insert("uid".into(), Value::String(uid));
        m.insert("creationTimestamp".into(), Value::String(now));
        m.insert("generation".into(), json!(1));
        if let Some(mf) = managed_fields {
            m.insert("managedFields".into(), mf);
        }
        if dry_run {
            return Ok(obj);
        }
        Ok(self.commit(res, None, obj))
    }

    /// Turns a request body into the object an update would store (no write).
    pub(crate) fn prepare_update(
        &self,
        res: &Resource,
        old: &Value,
        mut body: Value,
        scope: Scope,
    ) -> Result<Value, ApiError> {
        Self::check_type(res, &mut body)?;
        let name = meta_str(old, "name").to_string();
        let body_name = meta_str(&body, "name").to_string();
        if body_name.is_empty() {
            meta_mut(&mut body).insert("name".into(), Value::String(name.clone()));
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if res.def.namespaced {
            let ns = meta_str(old, "namespace").to_string();
            let body_ns = meta_str(&body, "namespace").to_string();
            if body_ns.is_empty() {
                meta_mut(&mut body).insert("namespace".into(), Value::String(ns));
            } else if body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        } else {
            meta_mut(&mut body).remove("namespace");
        }
        let rv = meta_str(&body, "resourceVersion");
        if !rv.is_empty() && rv != meta_str(old, "resourceVersion") {
            return Err(ApiError::conflict(&res.def, &name));
        }
        let mut new = match scope {
            Scope::Main => {
                if res.def.status_subresource
                    && let Some(o) = body.as_object_mut()
                {
                    match old.get("status") {
                        Some(s) => o.insert("status".into(), s.clone()),
                        None => o.remove("status"),
                    };
                }
                body
            }
            Scope::Status => {
                let mut n = old.clone();
                if let Some(o) = n.as_object_mut() {
                    match body.get("status") {
                        Some(s) if !s.is_null() => o.insert("status".into(), s.clone()),
                        _ => o.remove("status"),
                    };
                }
                n
            }
        };
        {
            let om = old
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let m = meta_mut(&mut new);
            for f in SERVER_META {
                match om.get(f) {
                    Some(v) => m.insert(f.into(), v.clone()),
                    None => m.remove(f),
                };
            }
            m.insert(
                "resourceVersion".into(),
                om.get("resourceVersion").cloned().unwrap_or(Value::Null),
            );
            m.remove("selfLink");
        }
        if is_deleting(old) {
            let before = finalizers(old);
            let added: Vec<String> = finalizers(&new)
                .into_iter()
                .filter(|f| !before.contains(f))
                .collect();
            if !added.is_empty() {
                let quoted: Vec<String> = added.iter().map(|f| format!("{f:?}")).collect();
                return Err(ApiError::invalid(
                    &res.def,
                    &name,
                    &[FieldError::forbidden(
                        "metadata.finalizers",
                        &format!(
                            "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                            quoted.join(", ")
                        ),
                    )],
                ));
            }
        }
        defaults(res, &mut new, false);
        if spec_view(&new) != spec_view(old) {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        self.validate(res, &new)?;
        Ok(new)
    }

    /// Stores a prepared update unless it changes nothing; completes a deletion whose last
    /// finalizer went away.
    pub(crate) fn finish_update(
        &mut self,
        res: &Arc<Resource>,
        old: Value,
        new: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if new == old || dry_run {
            return Ok(new);
        }
        let committed = self.commit(res, Some(old), new);
        if is_deleting(&committed) && !has_finalizers(&committed) {
            self.remove(res, &committed);
        }
        Ok(committed)
    }

    /// PUT (main endpoint or `/status`).
    pub(crate) fn update(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        name: &str,
        body: Value,
        scope: Scope,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let old = self.get(res, ns, name)?;
        let new = self.prepare_update(res, &old, body, scope)?;
        self.finish_update(res, old, new, dry_run)
    }

    /// PATCH of any type; the bool is true when an apply created the object.
    #[allow(clippy::too_many_arguments)] // the request's parts, as the handler has them
    pub(crate) fn patch(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        name: &str,
        ptype: PatchType,
        body: &[u8],
        scope: Scope,
        opts: &PatchOpts,
    ) -> Result<(Value, bool), ApiError> {
        if ptype == PatchType::Strategic && !res.builtin {
            return Err(ApiError::unsupported_media_type(
                "application/strategic-merge-patch+json",
                &PatchType::MEDIA[..3],
            ));
        }
        if ptype == PatchType::Apply {
            return self.apply(res, ns, name, body, scope, opts);
        }
        let old = self.get(res, ns, name)?;
        let mut target = old.clone();
        match ptype {
            PatchType::Json => patch::json_patch(&mut target, body)?,
            PatchType::Merge | PatchType::Strategic => {
                let p: Value = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                if ptype == PatchType::Merge {
                    patch::merge_patch(&mut target, &p);
                } else {
                    patch::strategic_merge(&mut target, &p, res.builtin)?;
                }
            }
            PatchType::Apply => {}
        }
        let new = self.prepare_update(res, &old, target, scope)?;
        self.finish_update(res, old, new, opts.dry_run)
            .map(|v| (v, false))
    }

    fn managed_fields(res: &Resource, appliers: &Appliers) -> Value {
        let mut out = Vec::new();
        for (sub, set) in [(None, &appliers.main), (Some("status"), &appliers.status)] {
            for (manager, a) in set {
                let mut e = json!({
                    "manager": manager,
                    "operation": "Apply",
                    "apiVersion": a.api_version,
                    "time": a.time,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": apply::fields_v1(&a.config, res.builtin),
                });
                if let Some(s) = sub {
                    e["subresource"] = json!(s);
                }
                out.push(e);
            }
        }
        Value::Array(out)
    }

    fn apply(
        &mut self,
        res: &Arc<Resource>,
        ns: Option<&str>,
        name: &str,
        body: &[u8],
        scope: Scope,
        opts: &PatchOpts,
    ) -> Result<(Value, bool), ApiError> {
        let manager = opts
            .field_manager
            .clone()
            .filter(|m| !m.is_empty())
            .ok_or_else(|| ApiError::bad_request("fieldManager is required for apply requests"))?;
        let mut config: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => serde_saphyr::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("error decoding YAML apply body: {e}"))
            })?,
        };
        if !config.is_object() {
            return Err(ApiError::bad_request("apply body must be an object"));
        }
        for f in ["apiVersion", "kind"] {
            if config
                .get(f)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(ApiError::bad_request(format!(
                    "{f} must be set in an apply request"
                )));
            }
        }
        Self::check_type(res, &mut config)?;
        let body_name = meta_str(&config, "name").to_string();
        if body_name.is_empty() {
            meta_mut(&mut config).insert("name".into(), Value::String(name.into()));
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if res.def.namespaced
            && let Some(ns) = ns
        {
            let body_ns = meta_str(&config, "namespace").to_string();
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        // What this endpoint lets the applier own.
        if let Some(o) = config.as_object_mut() {
            match scope {
                Scope::Main if res.def.status_subresource => {
                    o.remove("status");
                }
                Scope::Main => {}
                Scope::Status => o.retain(|k, _| {
                    matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status")
                }),
            }
            if scope == Scope::Status
                && let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut)
            {
                m.retain(|k, _| matches!(k.as_str(), "name" | "namespace" | "resourceVersion"));
            }
        }
        let now = self.now();
        let id = (res.def.key(), Self::obj_key(res, ns, name));
        let Some(old) = self.lookup(res, ns, name).cloned() else {
            if scope == Scope::Status {
                return Err(ApiError::not_found(&res.def, name));
            }
            let mut appliers = Appliers::default();
            let obj = apply::apply(
                &json!({}),
                &config,
                &manager,
                opts.force,
                &mut appliers.main,
                res.builtin,
                &now,
            )
            .map_err(|c| ApiError::apply_conflict(&res.def, name, &c))?;
            let mf = Self::managed_fields(res, &appliers);
            let created = self.create_with(res, ns, obj, opts.dry_run, Some(mf))?;
            if !opts.dry_run {
                self.appliers.insert(id, appliers);
            }
            return Ok((created, true));
        };
        let mut appliers = self.appliers.get(&id).cloned().unwrap_or_default();
        let set = match scope {
            Scope::Main => &mut appliers.main,
            Scope::Status => &mut appliers.status,
        };
        let unchanged_config = set.get(&manager).is_some_and(|a| a.config == config);
        let merged = apply::apply(&old, &config, &manager, opts.force, set, res.builtin, &now)
            .map_err(|c| ApiError::apply_conflict(&res.def, name, &c))?;
        let mut new = self.prepare_update(res, &old, merged, scope)?;
        if new == old && unchanged_config {
            return Ok((old, false));
        }
        meta_mut(&mut new).insert("managedFields".into(), Self::managed_fields(res, &appliers));
        let out = self.finish_update(res, old, new, opts.dry_run)?;
        if !opts.dry_run {
            self.appliers.insert(id, appliers);
        }
        Ok((out, false))
    }

    /// Test hook: stores an object as given (create or replace, no preconditions, no
    /// subresource rules, no validation), filling server metadata when missing.
    pub(crate) fn put(&mut self, mut obj: Value) -> Result<Value, ApiError> {
        let av = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let res = self
            .registry
            .by_api_version_kind(&av, &kind)
            .ok_or_else(|| {
                ApiError::bad_request(format!("no resource is registered for {av} {kind}"))
            })?;
        let name = meta_str(&obj, "name").to_string();
        if name.is_empty() {
            return Err(ApiError::bad_request("put: metadata.name is required"));
        }
        let ns = if res.def.namespaced {
            let ns = meta_str(&obj, "namespace");
            Some(if ns.is_empty() { "default" } else { ns }.to_string())
        } else {
            None
        };
        let old = self.lookup(&res, ns.as_deref(), &name).cloned();
        let now = self.now();
        let uid = self.new_uid();
        let m = meta_mut(&mut obj);
        match &ns {
            Some(ns) => m.insert("namespace".into(), Value::String(ns.clone())),
            None => m.remove("namespace"),
        };
        let om = old
            .as_ref()
            .and_then(|o| o.get("metadata"))
            .cloned()
            .unwrap_or(Value::Null);
        for (f, fallback) in [
            ("uid", Value::String(uid)),
            ("creationTimestamp", Value::String(now)),
            ("generation", json!(1)),
        ] {
            if m.get(f).is_none_or(Value::is_null) {
                m.insert(f.into(), om.get(f).cloned().unwrap_or(fallback));
            }
        }
        Ok(self.commit(&res, old, obj))
    }
}

/// Server-side defaulting of built-in resources (see the module docs).
fn defaults(res: &Resource, obj: &mut Value, creating: bool) {
    if !res.builtin {
        return;
    }
    match (res.def.group.as_str(), res.def.plural.as_str()) {
        ("", "namespaces") if creating => {
            obj["status"] = json!({ "phase": "Active" });
        }
        ("", "pods") if creating => {
            obj["status"] = json!({ "phase": "Pending" });
        }
        ("apps", _) => {
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
                && spec.get("replicas").is_none_or(Value::is_null)
            {
                spec.insert("replicas".into(), json!(1));
            }
        }
        ("autoscaling", "horizontalpodautoscalers") => hpa_defaults(obj),
        _ => {}
    }
}

/// autoscaling/v2 HorizontalPodAutoscaler defaulting: `minReplicas: 1`; the CPU 80 %
/// utilization metric when `metrics` is empty; when `behavior` is present, missing scaleUp /
/// scaleDown rules and their missing fields from the defaults (scaleUp: window 0, Max,
/// `[{Pods 4 15s}, {Percent 100 15s}]`; scaleDown: no window (the controller's 300 s applies),
/// Max, `[{Percent 100 15s}]`).
pub(crate) fn hpa_defaults(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("minReplicas").is_none_or(Value::is_null) {
        spec.insert("minReplicas".into(), json!(1));
    }
    if spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        spec.insert(
            "metrics".into(),
            json!([{ "type": "Resource", "resource": { "name": "cpu",
                     "target": { "type": "Utilization", "averageUtilization": 80 } } }]),
        );
    }
    let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) else {
        return;
    };
    for (dir, window, policies) in [
        (
            "scaleUp",
            Some(0),
            json!([{ "type": "Pods", "value": 4, "periodSeconds": 15 },
                   { "type": "Percent", "value": 100, "periodSeconds": 15 }]),
        ),
        (
            "scaleDown",
            None,
            json!([{ "type": "Percent", "value": 100, "periodSeconds": 15 }]),
        ),
    ] {
        let rules = behavior.entry(dir).or_insert_with(|| json!({}));
        if !rules.is_object() {
            *rules = json!({});
        }
        let Some(r) = rules.as_object_mut() else {
            continue;
        };
        if let Some(w) = window
            && r.get("stabilizationWindowSeconds")
                .is_none_or(Value::is_null)
        {
            r.insert("stabilizationWindowSeconds".into(), json!(w));
        }
        if r.get("selectPolicy").is_none_or(Value::is_null) {
            r.insert("selectPolicy".into(), json!("Max"));
        }
        if r.get("policies").is_none_or(Value::is_null) {
            r.insert("policies".into(), policies);
        }
    }
}
