//! The fake API server through kube's typed `Api<K>`: CRUD, conflicts, the patch types
//! (server-side apply included), status and scale subresources, selectors, defaulting and
//! validation, fault injection, the request log and the server clock.

use std::time::{Duration, UNIX_EPOCH};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use kube::{Client, ResourceExt};
use prescale_testkit::apiserver::{FakeApiServer, FakeClock, ResourceDef, ScalePaths, rfc3339};
use serde_json::{Value, json};

const T0: u64 = 1_714_564_800; // 2024-05-01T12:00:00Z

fn setup() -> (FakeApiServer, FakeClock, Client) {
    let clock = FakeClock::at_unix(T0);
    let server = FakeApiServer::new(clock.clone());
    let client = server.client();
    (server, clock, client)
}

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn cm(name: &str, labels: Value) -> ConfigMap {
    from(json!({ "metadata": { "name": name, "labels": labels }, "data": { "k": "v" } }))
}

fn deployment(name: &str) -> Deployment {
    from(json!({
        "metadata": { "name": name, "labels": { "app": name } },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [
                    { "name": "main", "image": "img:1", "env": [{ "name": "A", "value": "1" }] },
                    { "name": "side", "image": "side:1" }
                ] }
            }
        }
    }))
}

fn api_err(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn scaledobjects(client: &Client) -> (Api<DynamicObject>, ApiResource) {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledObject"),
        "scaledobjects",
    );
    (Api::namespaced_with(client.clone(), "default", &ar), ar)
}

#[tokio::test]
async fn create_get_list_update_and_conflicts() {
    let (server, _clock, client) = setup();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let created = api
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    assert!(!created.uid().unwrap().is_empty());
    assert_eq!(created.metadata.generation, Some(1));
    let rv1: u64 = created.resource_version().unwrap().parse().unwrap();
    assert_eq!(rv1, server.resource_version());
    assert_eq!(
        created
            .metadata
            .creation_timestamp
            .as_ref()
            .unwrap()
            .0
            .to_string(),
        "2024-05-01T12:00:00Z"
    );

    let err = api_err(
        api.create(&PostParams::default(), &cm("a", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(err.message, "configmaps \"a\" already exists");

    let got = api.get("a").await.unwrap();
    assert_eq!(got.data.as_ref().unwrap()["k"], "v");

    // Update with the current resourceVersion.
    let mut next = got.clone();
    next.data.as_mut().unwrap().insert("k".into(), "w".into());
    let updated = api
        .replace("a", &PostParams::default(), &next)
        .await
        .unwrap();
    let rv2: u64 = updated.resource_version().unwrap().parse().unwrap();
    assert!(rv2 > rv1);

    // A stale one: 409 with the real message.
    let err = api_err(
        api.replace("a", &PostParams::default(), &next)
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        err.message,
        "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // Without a resourceVersion the update is unconditional.
    let mut blind = next.clone();
    blind.metadata.resource_version = None;
    blind.data.as_mut().unwrap().insert("k".into(), "x".into());
    let u = api
        .replace("a", &PostParams::default(), &blind)
        .await
        .unwrap();
    assert_eq!(u.data.unwrap()["k"], "x");

    // An update that changes nothing writes nothing.
    let rv_before = server.resource_version();
    let same = api.get("a").await.unwrap();
    let again = api
        .replace("a", &PostParams::default(), &same)
        .await
        .unwrap();
    assert_eq!(again.resource_version(), same.resource_version());
    assert_eq!(server.resource_version(), rv_before);

    // generateName.
    let gen_cm: ConfigMap = from(json!({ "metadata": { "generateName": "gen-" } }));
    let g = api.create(&PostParams::default(), &gen_cm).await.unwrap();
    assert!(
        g.name_any().starts_with("gen-") && g.name_any().len() == 9,
        "{}",
        g.name_any()
    );

    // Lists: namespaced, all namespaces; resourceVersion is the current one.
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    other
        .create(&PostParams::default(), &cm("b", json!({})))
        .await
        .unwrap();
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 2);
    assert_eq!(
        list.metadata.resource_version.unwrap(),
        server.resource_version().to_string()
    );
    let all: Api<ConfigMap> = Api::all(client.clone());
    let names: Vec<String> = all
        .list(&ListParams::default())
        .await
        .unwrap()
        .iter()
        .map(|c| c.name_any())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names.contains(&"b".to_string()));

    // Paging.
    let page = all.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let token = page.metadata.continue_.clone().unwrap();
    let rest = all
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.metadata.continue_.is_none_or(|c| c.is_empty()));

    // A missing namespace, a missing object, a wrong name in the body.
    let nowhere: Api<ConfigMap> = Api::namespaced(client.clone(), "nope");
    let err = api_err(
        nowhere
            .create(&PostParams::default(), &cm("c", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (err.code, err.message.as_str()),
        (404, "namespaces \"nope\" not found")
    );
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let err = api_err(deps.get("ghost").await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    assert_eq!(err.message, "deployments.apps \"ghost\" not found");
    let err = api_err(
        api.replace("a", &PostParams::default(), &cm("zzz", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, 400);

    // Dry run stores nothing.
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    api.create(&dry, &cm("dry", json!({}))).await.unwrap();
    assert!(
        server
            .get("", "configmaps", Some("default"), "dry")
            .is_none()
    );

    // Delete of a built-in without finalizers: gone, Status Success.
    let res = api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(res.is_right(), "built-in deletion answers a Status");
    assert!(api.get_opt("a").await.unwrap().is_none());
}

#[tokio::test]
async fn deployment_conflict_names_the_group_and_generation_counts_spec() {
    let (_server, _clock, client) = setup();
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let d = api
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(1));

    // Labels only: no new generation.
    let p = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(1));
    // Status through the main endpoint: ignored.
    let p = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert!(p.status.is_none());
    assert_eq!(p.metadata.generation, Some(1));
    // Spec: generation 2.
    let p = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(2));

    let mut stale = d.clone();
    stale.spec.as_mut().unwrap().replicas = Some(5);
    let err = api_err(
        api.replace("web", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, 409);
    assert!(
        err.message.starts_with("Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified"),
        "{}",
        err.message
    );
    // Defaulting: replicas 1 when absent.
    let mut bare = deployment("bare");
    bare.spec.as_mut().unwrap().replicas = None;
    let b = api.create(&PostParams::default(), &bare).await.unwrap();
    assert_eq!(b.spec.unwrap().replicas, Some(1));
}

#[tokio::test]
async fn merge_json_and_strategic_patches() {
    let (_server, _clock, client) = setup();
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();

    // JSON merge patch: null deletes, lists replace.
    let p = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"app": null, "tier": "front"}}})),
        )
        .await
        .unwrap();
    assert_eq!(p.labels().get("tier").map(String::as_str), Some("front"));
    assert!(!p.labels().contains_key("app"));

    // JSON patch with a passing test, then a failing one (422, nothing changed).
    let ops: json_patch::Patch = from(json!([
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 4}
    ]));
    let p = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Json::<()>(ops.clone()),
        )
        .await
        .unwrap();
    assert_eq!(p.spec.as_ref().unwrap().replicas, Some(4));
    let err = api_err(
        api.patch("web", &PatchParams::default(), &Patch::Json::<()>(ops))
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, 422);
    assert_eq!(
        api.get("web").await.unwrap().spec.unwrap().replicas,
        Some(4)
    );

    // Strategic merge: containers and env merged by name.
    let p = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "main", "image": "img:2", "env": [{"name": "B", "value": "2"}]}
            ]}}}})),
        )
        .await
        .unwrap();
    let containers = p.spec.unwrap().template.spec.unwrap().containers;
    assert_eq!(containers.len(), 2, "the sidecar is kept");
    assert_eq!(containers[0].image.as_deref(), Some("img:2"));
    let env: Vec<&str> = containers[0]
        .env
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(env, ["A", "B"]);
    // The same patch as a merge patch replaces the list.
    let p = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "img:3"}]}}}})),
        )
        .await
        .unwrap();
    assert_eq!(p.spec.unwrap().template.spec.unwrap().containers.len(), 1);

    // Strategic merge on a custom resource: 415, as the real server answers.
    let (so, ar) = scaledobjects(&client);
    let obj =
        DynamicObject::new("so", &ar).data(json!({"spec": {"scaleTargetRef": {"name": "web"}}}));
    so.create(&PostParams::default(), &obj).await.unwrap();
    let err = api_err(
        so.patch(
            "so",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"minReplicaCount": 1}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (err.code, err.reason.as_str()),
        (415, "UnsupportedMediaType")
    );
    // Merge patch on it works.
    let p = so
        .patch(
            "so",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"minReplicaCount": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(p.data["spec"]["minReplicaCount"], 1);
    assert_eq!(p.data["spec"]["scaleTargetRef"]["name"], "web");
}

#[tokio::test]
async fn server_side_apply() {
    let (server, clock, client) = setup();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cfg = |labels: Value, data: Value| {
        Patch::Apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "applied", "labels": labels },
            "data": data,
        }))
    };

    // fieldManager is required.
    let err = api_err(
        api.patch(
            "applied",
            &PatchParams::default(),
            &cfg(json!({}), json!({})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(err.code, 400);

    // Creates when absent.
    let pp = PatchParams::apply("op");
    let c = api
        .patch(
            "applied",
            &pp,
            &cfg(json!({"a": "1", "b": "2"}), json!({"x": "1", "y": "2"})),
        )
        .await
        .unwrap();
    assert_eq!(c.data.as_ref().unwrap().len(), 2);
    let mf = c.metadata.managed_fields.as_ref().unwrap();
    assert_eq!(mf[0].manager.as_deref(), Some("op"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));
    assert_eq!(
        mf[0].time.as_ref().unwrap().0.to_string(),
        rfc3339(UNIX_EPOCH + Duration::from_secs(T0))
    );

    // Another client adds a key; the applier drops label b and data y: those go, the other stays.
    api.patch(
        "applied",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"z": "3"}})),
    )
    .await
    .unwrap();
    clock.advance(Duration::from_secs(60));
    let c = api
        .patch("applied", &pp, &cfg(json!({"a": "1"}), json!({"x": "1"})))
        .await
        .unwrap();
    assert_eq!(c.labels().len(), 1);
    let data = c.data.unwrap();
    assert_eq!(data.keys().collect::<Vec<_>>(), ["x", "z"]);

    // Re-applying the same configuration writes nothing.
    let rv = server.resource_version();
    api.patch("applied", &pp, &cfg(json!({"a": "1"}), json!({"x": "1"})))
        .await
        .unwrap();
    assert_eq!(server.resource_version(), rv);

    // A second applier setting op's field to another value conflicts, unless forced.
    let other = PatchParams::apply("other");
    let err = api_err(
        api.patch("applied", &other, &cfg(json!({}), json!({"x": "9"})))
            .await
            .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert!(
        err.message.contains("conflict with \"op\": .data.x"),
        "{}",
        err.message
    );
    let c = api
        .patch(
            "applied",
            &other.clone().force(),
            &cfg(json!({}), json!({"x": "9"})),
        )
        .await
        .unwrap();
    assert_eq!(c.data.unwrap()["x"], "9");

    // SSA of a Lease, as leader election does it.
    let leases: Api<Lease> = Api::namespaced(client, "default");
    let l = leases
        .patch(
            "leader",
            &PatchParams::apply("prescale").force(),
            &Patch::Apply(json!({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": { "name": "leader" },
                "spec": { "holderIdentity": "pod-a", "leaseDurationSeconds": 15,
                          "renewTime": "2024-05-01T12:00:00.000000Z" }
            })),
        )
        .await
        .unwrap();
    assert_eq!(l.spec.unwrap().holder_identity.as_deref(), Some("pod-a"));
}

#[tokio::test]
async fn status_subresource() {
    let (_server, _clock, client) = setup();
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");
    let hpa: HorizontalPodAutoscaler = from(json!({
        "metadata": { "name": "h" },
        "spec": { "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "web" },
                  "maxReplicas": 5,
                  "metrics": [{ "type": "External", "external": {
                      "metric": { "name": "s0-prometheus" },
                      "target": { "type": "AverageValue", "averageValue": "1500m" } } }],
                  "behavior": { "scaleDown": { "stabilizationWindowSeconds": 60 } } },
        "status": { "currentReplicas": 3, "desiredReplicas": 3 }
    }));
    let c = api.create(&PostParams::default(), &hpa).await.unwrap();
    assert!(c.status.is_none(), "status is dropped on create");
    // Defaulting, as the real server does.
    let spec = c.spec.as_ref().unwrap();
    assert_eq!(spec.min_replicas, Some(1));
    let behavior = spec.behavior.as_ref().unwrap();
    let down = behavior.scale_down.as_ref().unwrap();
    assert_eq!(down.stabilization_window_seconds, Some(60));
    assert_eq!(down.select_policy.as_deref(), Some("Max"));
    assert_eq!(down.policies.as_ref().unwrap().len(), 1);
    let up = behavior.scale_up.as_ref().unwrap();
    assert_eq!(up.stabilization_window_seconds, Some(0));
    assert_eq!(up.policies.as_ref().unwrap().len(), 2);

    // replace_status changes only status.
    let mut s = c.clone();
    s.status = Some(from(json!({ "currentReplicas": 2, "desiredReplicas": 4 })));
    s.spec.as_mut().unwrap().max_replicas = 99;
    let r = api
        .replace_status("h", &PostParams::default(), &s)
        .await
        .unwrap();
    assert_eq!(r.status.as_ref().unwrap().desired_replicas, 4);
    assert_eq!(r.spec.as_ref().unwrap().max_replicas, 5);
    assert_eq!(
        r.metadata.generation,
        Some(1),
        "status changes leave generation alone"
    );

    // patch_status with a merge patch; the main endpoint ignores status.
    let r = api
        .patch_status(
            "h",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"desiredReplicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(r.status.as_ref().unwrap().desired_replicas, 5);
    assert_eq!(r.status.as_ref().unwrap().current_replicas, Some(2));
    let r = api
        .patch(
            "h",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"desiredReplicas": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(r.status.unwrap().desired_replicas, 5);

    // Status of a custom resource, by SSA on /status.
    let (so, ar) = scaledobjects(&client);
    so.create(
        &PostParams::default(),
        &DynamicObject::new("so", &ar).data(json!({"spec": {}})),
    )
    .await
    .unwrap();
    let r = so
        .patch_status(
            "so",
            &PatchParams::apply("keda"),
            &Patch::Apply(json!({
                "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so"},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}
            })),
        )
        .await
        .unwrap();
    assert_eq!(r.data["status"]["conditions"][0]["type"], "Ready");

    // Validation: the real rules and message shape.
    let mut bad = hpa.clone();
    bad.metadata.name = Some("bad".into());
    bad.spec.as_mut().unwrap().max_replicas = 0;
    let err = api_err(api.create(&PostParams::default(), &bad).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        err.message,
        "HorizontalPodAutoscaler.autoscaling \"bad\" is invalid: spec.maxReplicas: Invalid value: 0: must be greater than 0"
    );
}

#[tokio::test]
async fn scale_subresource() {
    let (server, _clock, client) = setup();
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    api.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"replicas": 2}})),
    )
    .await
    .unwrap();

    let s = api.get_scale("web").await.unwrap();
    assert_eq!(s.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(s.status.as_ref().unwrap().replicas, 2);
    assert_eq!(
        s.status.as_ref().unwrap().selector.as_deref(),
        Some("app=web")
    );

    let s = api
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 6}})),
        )
        .await
        .unwrap();
    assert_eq!(s.spec.unwrap().replicas, Some(6));
    let d = api.get("web").await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(6));
    assert_eq!(d.metadata.generation, Some(2));

    let mut scale = api.get_scale("web").await.unwrap();
    scale.spec.as_mut().unwrap().replicas = Some(0);
    let s = api
        .replace_scale("web", &PostParams::default(), &scale)
        .await
        .unwrap();
    assert_eq!(s.spec.unwrap().replicas, Some(0));
    // The old resourceVersion in the Scale is a precondition.
    let err = api_err(
        api.replace_scale("web", &PostParams::default(), &scale)
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, 409);

    // A custom resource with a scale subresource (string selector in status).
    server.register(
        ResourceDef::new("example.com", "v1", "Worker", "workers", true)
            .with_status()
            .with_scale(ScalePaths {
                spec_replicas: ".spec.size".into(),
                status_replicas: ".status.size".into(),
                label_selector: Some(".status.selector".into()),
            }),
    );
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Worker"),
        "workers",
    );
    let workers: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
    workers
        .create(
            &PostParams::default(),
            &DynamicObject::new("w", &ar).data(json!({"spec": {"size": 1}})),
        )
        .await
        .unwrap();
    workers
        .patch_status(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"size": 1, "selector": "app=w,tier in (a,b)"}})),
        )
        .await
        .unwrap();
    let s = workers
        .patch_scale(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(
        s.status.unwrap().selector.as_deref(),
        Some("app=w,tier in (a,b)")
    );
    assert_eq!(workers.get("w").await.unwrap().data["spec"]["size"], 3);
}

#[tokio::test]
async fn label_and_field_selectors() {
    let (_server, _clock, client) = setup();
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front"})),
        ("b", json!({"app": "web", "tier": "back"})),
        ("c", json!({"app": "db"})),
    ] {
        api.create(&PostParams::default(), &cm(name, labels))
            .await
            .unwrap();
    }
    async fn names(api: &Api<ConfigMap>, lp: ListParams) -> Vec<String> {
        api.list(&lp)
            .await
            .unwrap()
            .iter()
            .map(|c| c.name_any())
            .collect()
    }
    let l = |s: &str| ListParams::default().labels(s);
    assert_eq!(names(&api, l("app=web")).await, ["a", "b"]);
    assert_eq!(names(&api, l("app==web,tier!=front")).await, ["b"]);
    assert_eq!(names(&api, l("tier in (front,x)")).await, ["a"]);
    assert_eq!(names(&api, l("tier notin (front)")).await, ["b", "c"]);
    assert_eq!(names(&api, l("tier")).await, ["a", "b"]);
    assert_eq!(names(&api, l("!tier")).await, ["c"]);
    assert_eq!(
        names(&api, ListParams::default().fields("metadata.name=c")).await,
        ["c"]
    );
    assert_eq!(
        names(
            &api,
            ListParams::default().fields("metadata.namespace=default,metadata.name!=a")
        )
        .await,
        ["b", "c"]
    );
    let err = api_err(api.list(&l("app in web")).await.unwrap_err());
    assert_eq!((err.code, err.reason.as_str()), (400, "BadRequest"));
    assert!(
        err.message.contains("unable to parse requirement"),
        "{}",
        err.message
    );
    let err = api_err(
        api.list(&ListParams::default().fields("spec.x=1"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (err.code, err.message.as_str()),
        (400, "field label not supported: spec.x")
    );
}

#[tokio::test]
async fn fault_injection_and_request_log() {
    let (server, _clock, client) = setup();
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    server.clear_requests();

    server.fail_next("get", "configmaps", 503, 2);
    for _ in 0..2 {
        let err = api_err(api.get("a").await.unwrap_err());
        assert_eq!((err.code, err.reason.as_str()), (503, "ServiceUnavailable"));
    }
    assert!(api.get("a").await.is_ok());
    // A fault on one verb leaves the others alone, and on a resource leaves its subresources.
    server.fail_next("patch", "configmaps", 500, 1);
    api.list(&ListParams::default()).await.unwrap();
    let err = api_err(
        api.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "2"}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (500, "InternalError"));
    // Any verb, any resource.
    server.fail_next("*", "*", 429, 1);
    assert_eq!(api_err(api.get("a").await.unwrap_err()).code, 429);

    let log = server.requests();
    let summary: Vec<(String, u16)> = log.iter().map(|r| (r.verb.clone(), r.status)).collect();
    assert_eq!(
        summary,
        [
            ("get".to_string(), 503),
            ("get".to_string(), 503),
            ("get".to_string(), 200),
            ("list".to_string(), 200),
            ("patch".to_string(), 500),
            ("get".to_string(), 429),
        ]
    );
    assert_eq!(log[0].path, "/api/v1/namespaces/default/configmaps/a");
    assert_eq!(
        log[4].content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(server.writes().len(), 1);
    assert_eq!(
        server.get("", "configmaps", Some("default"), "a").unwrap()["data"]["k"],
        "v"
    );
}

#[tokio::test]
async fn events_and_store_hooks() {
    let (server, clock, client) = setup();
    // Core and events.k8s.io events.
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let ev: Event = from(json!({
        "metadata": { "name": "so.1" },
        "involvedObject": { "kind": "ScaledObject", "name": "so", "namespace": "default" },
        "reason": "ScaledObjectReady", "message": "ready", "type": "Normal"
    }));
    events.create(&PostParams::default(), &ev).await.unwrap();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("events.k8s.io", "v1", "Event"),
        "events",
    );
    let new_events: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    new_events
        .create(
            &PostParams::default(),
            &DynamicObject::new("so.2", &ar).data(json!({"eventTime": "2024-05-01T12:00:00.000000Z",
                "reportingController": "prescale", "reportingInstance": "p-0", "action": "Scale",
                "reason": "Scaled", "type": "Normal", "regarding": {"kind": "ScaledObject", "name": "so"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        server
            .list("events.k8s.io", "events", Some("default"))
            .len(),
        1
    );
    assert_eq!(server.list_typed::<Event>(None).len(), 1);

    // put / get / delete straight on the store, with the controlled clock.
    clock.advance(Duration::from_secs(3600));
    let stored = server
        .put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seed", "namespace": "default"}}))
        .unwrap();
    assert_eq!(
        stored["metadata"]["creationTimestamp"],
        "2024-05-01T13:00:00Z"
    );
    let via_api = Api::<ConfigMap>::namespaced(client, "default")
        .get("seed")
        .await
        .unwrap();
    assert_eq!(via_api.uid().as_deref(), stored["metadata"]["uid"].as_str());
    let typed: ConfigMap = server.get_typed(Some("default"), "seed").unwrap();
    assert_eq!(typed.name_any(), "seed");
    server
        .delete("", "configmaps", Some("default"), "seed")
        .unwrap();
    assert!(
        server
            .get("", "configmaps", Some("default"), "seed")
            .is_none()
    );
    assert!(
        server
            .put(json!({"apiVersion": "v9", "kind": "Nope", "metadata": {"name": "x"}}))
            .is_err()
    );
}
