//! HTTP: routing of Kubernetes API paths to the store, query parameters, status codes, the
//! request log and fault injection.
//!
//! Paths: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`, and for resources
//! `/api/v1/…` or `/apis/<g>/<v>/…` followed by `<plural>[/<name>[/status|/scale]]` or
//! `namespaces/<ns>/<plural>[/<name>[/status|/scale]]`. Verbs as the real server names them:
//! get, list, watch (`?watch=true`), create (201), update, patch (201 when an apply creates),
//! delete (200 done, 202 waiting on finalizers), deletecollection. A write to a namespaced
//! resource through the all-namespaces path, or an unsupported method, is a 405; an unknown path
//! a 404; a patch with an unknown content type a 415.
//!
//! Query parameters honoured: `labelSelector`, `fieldSelector`, `limit`, `continue`, `watch`,
//! `resourceVersion`, `allowWatchBookmarks`, `timeoutSeconds`, `sendInitialEvents`, `dryRun=All`,
//! `fieldManager`, `force`, `propagationPolicy`. DELETE also reads a `DeleteOptions` body
//! (`propagationPolicy`, `orphanDependents`, `preconditions`, `dryRun`).
//!
//! `Accept: …;as=PartialObjectMetadata…` (kube's metadata API) answers `PartialObjectMetadata`
//! (lists: `PartialObjectMetadataList`, watch events likewise).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::gc::{DeleteOpts, Propagation};
use super::patch::PatchType;
use super::resources::Resource;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{PatchOpts, Scope, Store, meta_str};
use super::watch::{self, Filter, Start, StreamOpts};
use super::{Inner, RequestRecord, discovery};

const MAX_BODY: usize = 16 << 20;

/// What a path names.
enum Target {
    Version,
    CoreVersions,
    Groups,
    Group(String),
    ResourceList(String, String),
    Resource {
        res: Arc<Resource>,
        ns: Option<String>,
        name: Option<String>,
        sub: Option<String>,
    },
}

fn parse_path(store: &Store, path: &str) -> Option<Target> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Some(Target::Version),
        ["api"] => return Some(Target::CoreVersions),
        ["api", v] => return Some(Target::ResourceList(String::new(), (*v).into())),
        ["apis"] => return Some(Target::Groups),
        ["apis", g] => return Some(Target::Group((*g).into())),
        ["apis", g, v] => return Some(Target::ResourceList((*g).into(), (*v).into())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let namespaced_form = match rest {
        ["namespaces", _, plural, ..] => store
            .registry
            .get(group, version, plural)
            .filter(|r| r.def.namespaced),
        _ => None,
    };
    let (res, ns, tail) = match namespaced_form {
        Some(res) => (res, Some(rest[1].to_string()), &rest[3..]),
        None => {
            let res = store.registry.get(group, version, rest.first()?)?;
            (res, None, &rest[1..])
        }
    };
    if tail.len() > 2 {
        return None;
    }
    let name = tail.first().map(|s| (*s).to_string());
    let sub = tail.get(1).map(|s| (*s).to_string());
    if name.is_some() && res.def.namespaced && ns.is_none() {
        return None;
    }
    Some(Target::Resource { res, ns, name, sub })
}

fn json_response(code: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(e: &ApiError) -> Response {
    json_response(e.code, &e.to_status())
}

/// `PartialObjectMetadata` of an object.
pub(crate) fn partial_metadata(obj: &Value) -> Value {
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// The request's verb and resource (as in audit logs) for logging and faults.
fn verb_of(method: &Method, target: &Target, watch: bool) -> (String, String) {
    let Target::Resource { res, name, sub, .. } = target else {
        return ("get".into(), String::new());
    };
    let resource = match sub {
        Some(s) => format!("{}/{s}", res.def.plural),
        None => res.def.plural.clone(),
    };
    let verb = match (method.as_str(), name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    };
    (verb.into(), resource)
}

fn truthy(q: &HashMap<String, String>, k: &str) -> bool {
    q.get(k).is_some_and(|v| v == "true" || v == "1")
}

/// The single handler behind the router.
pub(crate) async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let header_str = |h: header::HeaderName| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let content_type = header_str(header::CONTENT_TYPE);
    let accept = header_str(header::ACCEPT).unwrap_or_default();
    let user_agent = header_str(header::USER_AGENT);
    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let watch = truthy(&q, "watch");

    let mut record = RequestRecord {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        content_type: content_type.clone(),
        status: 0,
        verb: String::new(),
        resource: String::new(),
        namespace: None,
        name: None,
        field_manager: q.get("fieldManager").cloned(),
        user_agent,
    };

    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let resp = error_response(&ApiError::bad_request(format!(
                "reading the request body: {e}"
            )));
            record.status = 400;
            inner.record(record);
            return resp;
        }
    };

    let target = {
        let store = inner.store.lock().unwrap_or_else(PoisonError::into_inner);
        parse_path(&store, &path)
    };
    let resp = match target {
        None => error_response(&ApiError::no_such_path()),
        Some(target) => {
            let (verb, resource) = verb_of(&method, &target, watch);
            record.verb = verb.clone();
            record.resource = resource.clone();
            if let Target::Resource { ns, name, .. } = &target {
                record.namespace = ns.clone();
                record.name = name.clone();
            }
            match inner.take_fault(&verb, &resource) {
                Some(code) => error_response(&ApiError::from_code(
                    code,
                    format!("injected fault for {verb} {resource}"),
                )),
                None => {
                    let ctx = Ctx {
                        inner: &inner,
                        method: &method,
                        q: &q,
                        body: &bytes,
                        content_type: content_type.as_deref().unwrap_or(""),
                        accept: &accept,
                    };
                    dispatch(&ctx, target, watch)
                }
            }
        }
    };
    record.status = resp.status().as_u16();
    inner.record(record);
    resp
}

struct Ctx<'a> {
    inner: &'a Arc<Inner>,
    method: &'a Method,
    q: &'a HashMap<String, String>,
    body: &'a [u8],
    content_type: &'a str,
    accept: &'a str,
}

impl Ctx<'_> {
    fn meta_only(&self) -> bool {
        self.accept.contains("as=PartialObjectMetadata")
    }

    fn dry_run(&self) -> bool {
        self.q.get("dryRun").is_some_and(|v| v == "All")
    }

    fn body_json(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(self.body).map_err(|e| {
            ApiError::bad_request(format!("error decoding the request body as JSON: {e}"))
        })
    }

    fn object(&self, code: u16, obj: &Value) -> Response {
        if self.meta_only() && obj.get("kind").and_then(Value::as_str) != Some("Status") {
            json_response(code, &partial_metadata(obj))
        } else {
            json_response(code, obj)
        }
    }
}

fn dispatch(ctx: &Ctx<'_>, target: Target, watch: bool) -> Response {
    let result = match target {
        Target::Version => Ok(json_response(200, &discovery::version())),
        Target::CoreVersions => {
            let store = ctx
                .inner
                .store
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if ctx.accept.contains("as=APIGroupDiscoveryList") {
                Ok(aggregated(discovery::aggregated(&store.registry, true)))
            } else {
                Ok(json_response(200, &discovery::core_versions()))
            }
        }
        Target::Groups => {
            let store = ctx
                .inner
                .store
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if ctx.accept.contains("as=APIGroupDiscoveryList") {
                Ok(aggregated(discovery::aggregated(&store.registry, false)))
            } else {
                Ok(json_response(200, &discovery::group_list(&store.registry)))
            }
        }
        Target::Group(g) => {
            let store = ctx
                .inner
                .store
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            discovery::group(&store.registry, &g)
                .map(|d| json_response(200, &d))
                .ok_or_else(ApiError::no_such_path)
        }
        Target::ResourceList(g, v) => {
            let store = ctx
                .inner
                .store
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            discovery::resource_list(&store.registry, &g, &v)
                .map(|d| json_response(200, &d))
                .ok_or_else(ApiError::no_such_path)
        }
        Target::Resource { res, ns, name, sub } => resource(
            ctx,
            &res,
            ns.as_deref(),
            name.as_deref(),
            sub.as_deref(),
            watch,
        ),
    };
    result.unwrap_or_else(|e| error_response(&e))
}

fn aggregated(doc: Value) -> Response {
    let mut resp = json_response(200, &doc);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(discovery::AGGREGATED),
    );
    resp
}

fn resource(
    ctx: &Ctx<'_>,
    res: &Arc<Resource>,
    ns: Option<&str>,
    name: Option<&str>,
    sub: Option<&str>,
    watch: bool,
) -> Result<Response, ApiError> {
    let method = ctx.method.as_str();
    let dry_run = ctx.dry_run();
    let patch_opts = || -> Result<(PatchType, PatchOpts), ApiError> {
        let ptype = PatchType::from_content_type(ctx.content_type)
            .ok_or_else(|| ApiError::unsupported_media_type(ctx.content_type, &PatchType::MEDIA))?;
        Ok((
            ptype,
            PatchOpts {
                dry_run,
                field_manager: ctx.q.get("fieldManager").cloned(),
                force: truthy(ctx.q, "force"),
            },
        ))
    };
    let mut store = ctx
        .inner
        .store
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match (sub, name) {
        (Some("status"), Some(name)) if res.def.status_subresource => match method {
            "GET" => store.get(res, ns, name).map(|o| ctx.object(200, &o)),
            "PUT" => {
                let body = ctx.body_json()?;
                store
                    .update(res, ns, name, body, Scope::Status, dry_run)
                    .map(|o| ctx.object(200, &o))
            }
            "PATCH" => {
                let (ptype, opts) = patch_opts()?;
                store
                    .patch(res, ns, name, ptype, ctx.body, Scope::Status, &opts)
                    .map(|(o, _)| ctx.object(200, &o))
            }
            _ => Err(ApiError::method_not_allowed()),
        },
        (Some("scale"), Some(name)) if res.def.scale.is_some() => match method {
            "GET" => store
                .get_scale(res, ns, name)
                .map(|o| json_response(200, &o)),
            "PUT" => {
                let body = ctx.body_json()?;
                store
                    .update_scale(res, ns, name, body, dry_run)
                    .map(|o| json_response(200, &o))
            }
            "PATCH" => {
                let (ptype, _) = patch_opts()?;
                store
                    .patch_scale(res, ns, name, ptype, ctx.body, dry_run)
                    .map(|o| json_response(200, &o))
            }
            _ => Err(ApiError::method_not_allowed()),
        },
        (Some(_), _) => Err(ApiError::no_such_path()),
        (None, Some(name)) => match method {
            "GET" => store.get(res, ns, name).map(|o| ctx.object(200, &o)),
            "PUT" => {
                let body = ctx.body_json()?;
                store
                    .update(res, ns, name, body, Scope::Main, dry_run)
                    .map(|o| ctx.object(200, &o))
            }
            "PATCH" => {
                let (ptype, opts) = patch_opts()?;
                store
                    .patch(res, ns, name, ptype, ctx.body, Scope::Main, &opts)
                    .map(|(o, created)| ctx.object(if created { 201 } else { 200 }, &o))
            }
            "DELETE" => {
                let opts = delete_opts(ctx)?;
                store
                    .delete(res, ns, name, &opts)
                    .map(|d| ctx.object(d.code, &d.body))
            }
            _ => Err(ApiError::method_not_allowed()),
        },
        (None, None) => match method {
            "GET" if watch => {
                drop(store);
                start_watch(ctx, res, ns)
            }
            "GET" => list(ctx, &store, res, ns).map(|l| json_response(200, &l)),
            "POST" => {
                if res.def.namespaced && ns.is_none() {
                    return Err(ApiError::method_not_allowed());
                }
                let body = ctx.body_json()?;
                store
                    .create(res, ns, body, dry_run)
                    .map(|o| ctx.object(201, &o))
            }
            "DELETE" => {
                if res.def.namespaced && ns.is_none() {
                    return Err(ApiError::method_not_allowed());
                }
                let opts = delete_opts(ctx)?;
                let items = selected(ctx, &store, res, ns)?;
                let mut deleted = Vec::new();
                for obj in items {
                    let name = meta_str(&obj, "name").to_string();
                    let d = store.delete(res, ns, &name, &opts)?;
                    deleted.push(d.body);
                }
                let list = list_doc(res, store.rv, deleted, None, ctx.meta_only());
                Ok(json_response(200, &list))
            }
            _ => Err(ApiError::method_not_allowed()),
        },
    }
}

fn delete_opts(ctx: &Ctx<'_>) -> Result<DeleteOpts, ApiError> {
    let body: Value = if ctx.body.is_empty() {
        Value::Null
    } else {
        ctx.body_json()?
    };
    let mut policy = body
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| ctx.q.get("propagationPolicy").cloned())
        .unwrap_or_default();
    if policy.is_empty() && body.get("orphanDependents").and_then(Value::as_bool) == Some(true) {
        policy = "Orphan".into();
    }
    let body_dry = body
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "All"));
    Ok(DeleteOpts {
        propagation: Propagation::parse(&policy)?,
        uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        resource_version: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        dry_run: ctx.dry_run() || body_dry,
    })
}

fn selectors(ctx: &Ctx<'_>) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels =
        LabelSelector::parse(ctx.q.get("labelSelector").map(String::as_str).unwrap_or(""))?;
    let fields =
        FieldSelector::parse(ctx.q.get("fieldSelector").map(String::as_str).unwrap_or(""))?;
    Ok((labels, fields))
}

fn selected(
    ctx: &Ctx<'_>,
    store: &Store,
    res: &Resource,
    ns: Option<&str>,
) -> Result<Vec<Value>, ApiError> {
    let (labels, fields) = selectors(ctx)?;
    Ok(store
        .list_all(&res.def.key(), ns)
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect())
}

fn list_doc(
    res: &Resource,
    rv: u64,
    items: Vec<Value>,
    cont: Option<(String, usize)>,
    meta_only: bool,
) -> Value {
    let (api_version, kind, items) = if meta_only {
        (
            "meta.k8s.io/v1".to_string(),
            "PartialObjectMetadataList".to_string(),
            items.iter().map(partial_metadata).collect(),
        )
    } else {
        (
            res.def.api_version(),
            format!("{}List", res.def.kind),
            items,
        )
    };
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if let Some((token, remaining)) = cont {
        meta["continue"] = json!(token);
        meta["remainingItemCount"] = json!(remaining);
    }
    json!({ "apiVersion": api_version, "kind": kind, "metadata": meta, "items": items })
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    String::from_utf8(bytes?).ok()
}

/// LIST with selectors and `limit` / `continue` paging (the token names the last key
/// returned; later pages read the current state).
fn list(ctx: &Ctx<'_>, store: &Store, res: &Resource, ns: Option<&str>) -> Result<Value, ApiError> {
    let mut items = selected(ctx, store, res, ns)?;
    if let Some(token) = ctx.q.get("continue").filter(|t| !t.is_empty()) {
        let last = unhex(token)
            .and_then(|s| {
                s.split_once('\u{0}')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .ok_or_else(|| {
                ApiError::bad_request(format!("continue key is not valid: {token:?}"))
            })?;
        items.retain(|o| {
            (
                meta_str(o, "namespace").to_string(),
                meta_str(o, "name").to_string(),
            ) > last
        });
    }
    let limit = match ctx.q.get("limit").filter(|l| !l.is_empty()) {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request(format!("limit: invalid value {l:?}")))?,
        None => 0,
    };
    let mut cont = None;
    if limit > 0 && items.len() > limit {
        let remaining = items.len() - limit;
        items.truncate(limit);
        if let Some(last) = items.last() {
            let token = hex(&format!(
                "{}\u{0}{}",
                meta_str(last, "namespace"),
                meta_str(last, "name")
            ));
            cont = Some((token, remaining));
        }
    }
    Ok(list_doc(res, store.rv, items, cont, ctx.meta_only()))
}

fn start_watch(ctx: &Ctx<'_>, res: &Arc<Resource>, ns: Option<&str>) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx)?;
    let rv = ctx
        .q
        .get("resourceVersion")
        .map(String::as_str)
        .unwrap_or("");
    let send_initial = truthy(ctx.q, "sendInitialEvents");
    let bookmarks = truthy(ctx.q, "allowWatchBookmarks");
    let start = if send_initial || rv.is_empty() || rv == "0" {
        Start::Current
    } else {
        Start::After(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "resourceVersion: Invalid value: {rv:?}: must be an integer"
            ))
        })?)
    };
    let timeout = match ctx.q.get("timeoutSeconds").filter(|t| !t.is_empty()) {
        Some(t) => Some(Duration::from_secs(t.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("timeoutSeconds: invalid value {t:?}"))
        })?)),
        None => None,
    };
    let filter = Filter {
        key: res.def.key(),
        namespace: ns.map(String::from),
        labels,
        fields,
    };
    let (initial, rx, current_rv) = {
        let mut store = ctx
            .inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = match start {
            Start::Current => store.list_all(&res.def.key(), ns),
            Start::After(_) => Vec::new(),
        };
        let (initial, rx) = store.hub.start(filter, start, current);
        (initial, rx, store.rv)
    };
    let opts = StreamOpts {
        bookmarks,
        interval: ctx.inner.config.bookmark_interval,
        timeout,
        initial_end: (send_initial && bookmarks && rx.is_some()).then_some(current_rv),
        api_version: res.def.api_version(),
        kind: res.def.kind.clone(),
        meta_only: ctx.meta_only(),
    };
    let stream = watch::stream(ctx.inner.clone(), initial, rx, opts);
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}
