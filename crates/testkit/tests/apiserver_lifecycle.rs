//! Deletion on the fake API server (finalizers, garbage collection of owned objects, orphan
//! propagation, namespaces), discovery as kube resolves it, and serving on loopback for a
//! client built from a `kube::Config`.

use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, PropagationPolicy, WatchEvent, WatchParams,
};
use kube::discovery::{self, Discovery, Scope};
use kube::{Client, ResourceExt};
use prescale_testkit::apiserver::{FakeApiServer, FakeClock, ResourceDef, ScalePaths};
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

fn api_err(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn so_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledObject"),
        "scaledobjects",
    )
}

fn owner_ref(kind: &str, api_version: &str, name: &str, uid: &str) -> Value {
    json!({ "apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
            "controller": true, "blockOwnerDeletion": true })
}

fn hpa(name: &str, owner: Option<Value>) -> HorizontalPodAutoscaler {
    let mut meta = json!({ "name": name });
    if let Some(o) = owner {
        meta["ownerReferences"] = json!([o]);
    }
    from(json!({
        "metadata": meta,
        "spec": { "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "web" },
                  "minReplicas": 1, "maxReplicas": 10 }
    }))
}

#[tokio::test]
async fn finalizer_holds_deletion_then_gc_removes_the_owned_hpa() {
    let (server, clock, client) = setup();
    let ar = so_resource();
    let sos: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");

    let mut so =
        DynamicObject::new("so", &ar).data(json!({"spec": {"scaleTargetRef": {"name": "web"}}}));
    so.metadata.finalizers = Some(vec!["finalizer.keda.sh".into()]);
    let so = sos.create(&PostParams::default(), &so).await.unwrap();
    let uid = so.uid().unwrap();
    hpas.create(
        &PostParams::default(),
        &hpa(
            "keda-hpa-so",
            Some(owner_ref("ScaledObject", "keda.sh/v1alpha1", "so", &uid)),
        ),
    )
    .await
    .unwrap();

    // Watch the ScaledObject to see the MODIFIED (deletionTimestamp) and the DELETED.
    let rv = server.resource_version().to_string();
    let mut events = sos
        .watch(
            &WatchParams {
                bookmarks: false,
                ..WatchParams::default()
            },
            &rv,
        )
        .await
        .unwrap()
        .boxed();

    clock.advance(Duration::from_secs(90));
    let res = sos.delete("so", &DeleteParams::default()).await.unwrap();
    let pending = res
        .left()
        .expect("a deletion waiting on finalizers answers the object");
    let ts = pending
        .metadata
        .deletion_timestamp
        .as_ref()
        .unwrap()
        .0
        .to_string();
    assert_eq!(ts, "2024-05-01T12:01:30Z");
    assert_eq!(pending.metadata.deletion_grace_period_seconds, Some(0));
    assert_eq!(pending.metadata.generation, Some(2));
    let delete_record = server
        .requests()
        .into_iter()
        .rfind(|r| r.verb == "delete")
        .unwrap();
    assert_eq!(delete_record.status, 202);
    assert!(
        hpas.get_opt("keda-hpa-so").await.unwrap().is_some(),
        "dependents wait for the owner"
    );
    match tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    {
        WatchEvent::Modified(o) => assert!(o.metadata.deletion_timestamp.is_some()),
        other => panic!("{other:?}"),
    }
    // A second DELETE changes nothing.
    let rv_before = server.resource_version();
    sos.delete("so", &DeleteParams::default()).await.unwrap();
    assert_eq!(server.resource_version(), rv_before);

    // No new finalizers while being deleted: 422 with the real wording.
    let err = api_err(
        sos.patch(
            "so",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["finalizer.keda.sh", "other"]}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (422, "Invalid"));
    assert!(
        err.message.contains("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted"),
        "{}",
        err.message
    );

    // Removing the last finalizer (the JSON patch kube's finalizer helper sends) completes it.
    let ops: json_patch::Patch = from(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": ["finalizer.keda.sh"]},
        {"op": "remove", "path": "/metadata/finalizers/0"}
    ]));
    sos.patch("so", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .unwrap();
    assert!(sos.get_opt("so").await.unwrap().is_none());
    assert!(
        hpas.get_opt("keda-hpa-so").await.unwrap().is_none(),
        "the owned HPA is collected"
    );
    let mut saw_deleted = false;
    while let Ok(Some(Ok(ev))) =
        tokio::time::timeout(Duration::from_millis(500), events.next()).await
    {
        if let WatchEvent::Deleted(o) = ev {
            assert_eq!(o.name_any(), "so");
            saw_deleted = true;
            break;
        }
    }
    assert!(saw_deleted);
}

#[tokio::test]
async fn orphan_propagation_keeps_dependents() {
    let (_server, _clock, client) = setup();
    let ar = so_resource();
    let sos: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "default");
    let so = sos
        .create(
            &PostParams::default(),
            &DynamicObject::new("so", &ar).data(json!({"spec": {}})),
        )
        .await
        .unwrap();
    let uid = so.uid().unwrap();
    hpas.create(
        &PostParams::default(),
        &hpa(
            "h",
            Some(owner_ref("ScaledObject", "keda.sh/v1alpha1", "so", &uid)),
        ),
    )
    .await
    .unwrap();
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        ..DeleteParams::default()
    };
    let res = sos.delete("so", &dp).await.unwrap();
    assert!(res.is_left(), "custom resources answer the deleted object");
    let h = hpas.get("h").await.unwrap();
    assert!(h.metadata.owner_references.is_none());
}

#[tokio::test]
async fn gc_is_recursive_and_keeps_objects_with_another_owner() {
    let (server, _clock, client) = setup();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let root = cms
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "root"}})),
        )
        .await
        .unwrap();
    let other = cms
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "other"}})),
        )
        .await
        .unwrap();
    let root_ref = owner_ref("ConfigMap", "v1", "root", &root.uid().unwrap());
    let other_ref = owner_ref("ConfigMap", "v1", "other", &other.uid().unwrap());
    let d = deps
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "d", "ownerReferences": [root_ref.clone()]},
                         "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"spec": {"containers": []}}}})),
        )
        .await
        .unwrap();
    let d_ref = owner_ref("Deployment", "apps/v1", "d", &d.uid().unwrap());
    cms.create(
        &PostParams::default(),
        &from(json!({"metadata": {"name": "grandchild", "ownerReferences": [d_ref]}})),
    )
    .await
    .unwrap();
    cms.create(
        &PostParams::default(),
        &from(json!({"metadata": {"name": "shared", "ownerReferences": [root_ref, other_ref]}})),
    )
    .await
    .unwrap();

    cms.delete("root", &DeleteParams::default()).await.unwrap();
    assert!(deps.get_opt("d").await.unwrap().is_none());
    assert!(cms.get_opt("grandchild").await.unwrap().is_none());
    let shared = cms.get("shared").await.unwrap();
    let owners: Vec<String> = shared
        .owner_references()
        .iter()
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(owners, ["other"]);

    // A dangling reference from creation is left until collect_garbage runs.
    cms.create(
        &PostParams::default(),
        &from(json!({"metadata": {"name": "dangling", "ownerReferences": [owner_ref("ConfigMap", "v1", "x", "no-such-uid")]}})),
    )
    .await
    .unwrap();
    assert!(cms.get_opt("dangling").await.unwrap().is_some());
    assert_eq!(server.collect_garbage(), 1);
    assert!(cms.get_opt("dangling").await.unwrap().is_none());
}

#[tokio::test]
async fn namespace_deletion_takes_its_contents() {
    let (_server, _clock, client) = setup();
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns = nss
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "team"}})),
        )
        .await
        .unwrap();
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    cms.create(
        &PostParams::default(),
        &from(json!({"metadata": {"name": "a"}})),
    )
    .await
    .unwrap();
    let held: ConfigMap = from(json!({"metadata": {"name": "held", "finalizers": ["x/y"]}}));
    cms.create(&PostParams::default(), &held).await.unwrap();

    nss.delete("team", &DeleteParams::default()).await.unwrap();
    // Terminating while "held" waits on its finalizer; no new content.
    let ns = nss.get("team").await.unwrap();
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    assert!(cms.get_opt("a").await.unwrap().is_none());
    let err = api_err(
        cms.create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "late"}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((err.code, err.reason.as_str()), (403, "Forbidden"));

    let mut held = cms.get("held").await.unwrap();
    held.metadata.finalizers = None;
    cms.replace("held", &PostParams::default(), &held)
        .await
        .unwrap();
    assert!(nss.get_opt("team").await.unwrap().is_none());
}

#[tokio::test]
async fn discovery_resolves_kinds_and_scale() {
    let (server, _clock, client) = setup();
    server.register(
        ResourceDef::new("example.com", "v1", "Worker", "workers", true)
            .with_status()
            .with_scale(ScalePaths {
                spec_replicas: ".spec.size".into(),
                status_replicas: ".status.size".into(),
                label_selector: None,
            })
            .with_short_names(&["wk"]),
    );

    let info = client.apiserver_version().await.unwrap();
    assert_eq!((info.major.as_str(), info.minor.as_str()), ("1", "33"));

    let disc = Discovery::new(client.clone()).run().await.unwrap();
    let keda = disc.get("keda.sh").expect("keda.sh is served");
    let (ar, caps) = keda.recommended_kind("ScaledObject").unwrap();
    assert_eq!(
        (ar.plural.as_str(), ar.api_version.as_str()),
        ("scaledobjects", "keda.sh/v1alpha1")
    );
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(caps.supports_operation("watch"));
    assert!(caps.subresources.iter().any(|(r, _)| r.plural == "status"));
    let (_, cta) = keda
        .recommended_kind("ClusterTriggerAuthentication")
        .unwrap();
    assert_eq!(cta.scope, Scope::Cluster);

    let apps = disc.get("apps").unwrap();
    let (dar, dcaps) = apps.recommended_kind("Deployment").unwrap();
    assert_eq!(dar.plural, "deployments");
    let scale = dcaps
        .subresources
        .iter()
        .find(|(r, _)| r.plural == "scale")
        .expect("deployments/scale");
    assert_eq!(scale.0.kind, "Scale");
    assert_eq!(scale.0.group, "autoscaling");
    assert!(
        disc.get("")
            .unwrap()
            .recommended_kind("ConfigMap")
            .is_some()
    );

    // One-shot resolution, as an operator does for a scaleTargetRef.
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Worker");
    let (war, wcaps) = discovery::pinned_kind(&client, &gvk).await.unwrap();
    assert_eq!(war.plural, "workers");
    assert!(wcaps.subresources.iter().any(|(r, _)| r.plural == "scale"));
    let err = discovery::pinned_kind(&client, &GroupVersionKind::gvk("nope.io", "v1", "X")).await;
    assert!(err.is_err());
    let g = discovery::group(&client, "keda.sh").await.unwrap();
    assert!(g.recommended_kind("ScaledJob").is_some());

    // Aggregated discovery gives the same answers.
    let agg = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    let (_, acaps) = agg
        .get("apps")
        .unwrap()
        .recommended_kind("StatefulSet")
        .unwrap();
    assert!(acaps.subresources.iter().any(|(r, _)| r.plural == "scale"));
    assert!(
        agg.get("keda.sh")
            .unwrap()
            .recommended_kind("TriggerAuthentication")
            .is_some()
    );
    assert!(agg.get("").unwrap().recommended_kind("Namespace").is_some());
}

#[tokio::test]
async fn loopback_serving_with_a_config_built_client() {
    let (server, _clock, _) = setup();
    let url = server.serve_loopback().await.unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let config = kube::Config::new(url.parse().unwrap());
    let client = Client::try_from(config).unwrap();

    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(
        &PostParams::default(),
        &from(json!({"metadata": {"name": "net"}})),
    )
    .await
    .unwrap();
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
    let mut w = api
        .watch(
            &WatchParams {
                bookmarks: false,
                ..WatchParams::default()
            },
            "0",
        )
        .await
        .unwrap()
        .boxed();
    match tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    {
        WatchEvent::Added(o) => assert_eq!(o.name_any(), "net"),
        other => panic!("{other:?}"),
    }
    api.patch(
        "net",
        &PatchParams::apply("net-test"),
        &Patch::Apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "net"}, "data": {"k": "v"}
        })),
    )
    .await
    .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    {
        WatchEvent::Modified(o) => assert_eq!(o.data.unwrap()["k"], "v"),
        other => panic!("{other:?}"),
    }
    let disc = Discovery::new(client).run().await.unwrap();
    assert!(disc.has_group("keda.sh"));
    // The same store behind both transports.
    assert!(
        server
            .get("", "configmaps", Some("default"), "net")
            .is_some()
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.field_manager.as_deref() == Some("net-test"))
    );
}
