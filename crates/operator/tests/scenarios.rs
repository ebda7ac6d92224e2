//! Scenario tests: the real operator against the fake API server (issue #4, "Tests without a cluster").

mod support;

use std::time::Duration;

use prescale_operator::clock::Clock;
use prescale_operator::context::ObjectKey;
use prescale_operator::scale_loop::external_metric;
use serde_json::{Value, json};
use support::{World, seed_scaled_object};

fn container() -> Value {
    json!({"name": "app", "image": "ho11y"})
}

/// A Prometheus-triggered ScaledObject `so` on Deployment `web` in `ns`, with `spec` merged in.
fn scaled_object(ns: &str, name: &str, spec: Value) -> Value {
    let mut v = json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "scaleTargetRef": {"name": "web"},
            "pollingInterval": 30,
            "triggers": [{"type": "prometheus", "metadata": {
                "serverAddress": "http://prometheus.monitoring:9090",
                "query": "sum(rate(http_requests_total[1m]))",
                "threshold": "10"
            }}]
        }
    });
    merge(&mut v["spec"], spec);
    v
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn the_seed_scaled_object_gets_exactly_the_hpa_keda_creates() {
    let w = World::new();
    w.namespace("ho11y");
    w.deployment("ho11y", "downstream0", 1, container());
    w.put(seed_scaled_object());
    let op = w.start_single();
    w.wait("the HPA", |w| {
        w.hpa("ho11y", "keda-hpa-ho11y-hpa").is_some()
    })
    .await;
    let so = w.scaled_object("ho11y", "ho11y-hpa").unwrap();
    let uid = so["metadata"]["uid"].clone();
    let hpa = w.hpa("ho11y", "keda-hpa-ho11y-hpa").unwrap();
    assert_eq!(
        hpa["metadata"]["labels"],
        json!({
            "app.kubernetes.io/managed-by": "keda-operator",
            "app.kubernetes.io/name": "keda-hpa-ho11y-hpa",
            "app.kubernetes.io/part-of": "ho11y-hpa",
            "app.kubernetes.io/version": "2.20.2",
            "scaledobject.keda.sh/name": "ho11y-hpa",
        })
    );
    assert_eq!(
        hpa["metadata"]["ownerReferences"],
        json!([{
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "ho11y-hpa",
            "uid": uid, "controller": true, "blockOwnerDeletion": true,
        }])
    );
    assert_eq!(
        hpa["spec"],
        json!({
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "downstream0"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [{
                "type": "External",
                "external": {
                    "metric": {
                        "name": "s0-prometheus",
                        "selector": {"matchLabels": {"scaledobject.keda.sh/name": "ho11y-hpa"}},
                    },
                    "target": {"type": "AverageValue", "averageValue": "1"},
                }
            }],
        })
    );
    // The ScaledObject as KEDA leaves it.
    w.wait("Ready", |w| {
        w.condition("ho11y", "ho11y-hpa", "Ready").map(|c| c.0) == Some("True".into())
    })
    .await;
    let so = w.scaled_object("ho11y", "ho11y-hpa").unwrap();
    assert_eq!(so["metadata"]["finalizers"], json!(["finalizer.keda.sh"]));
    assert_eq!(
        so["metadata"]["labels"]["scaledobject.keda.sh/name"],
        "ho11y-hpa"
    );
    let st = &so["status"];
    assert_eq!(st["scaleTargetKind"], "apps/v1.Deployment");
    assert_eq!(
        st["scaleTargetGVKR"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments"})
    );
    assert_eq!(st["originalReplicaCount"], 1);
    assert_eq!(st["hpaName"], "keda-hpa-ho11y-hpa");
    assert_eq!(st["externalMetricNames"], json!(["s0-prometheus"]));
    assert_eq!(st["triggersTypes"], "prometheus");
    assert_eq!(
        w.condition("ho11y", "ho11y-hpa", "Ready").unwrap(),
        (
            "True".into(),
            "ScaledObjectReady".into(),
            "ScaledObject is defined correctly and is ready for scaling".into()
        )
    );
    assert!(
        w.event_reasons("ho11y", "ho11y-hpa")
            .contains(&"ScaledObjectReady".to_string())
    );
    op.stop().await;
}

#[tokio::test]
async fn activation_from_zero_and_cooldown_back_to_zero() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 0, container());
    w.put(scaled_object(
        "shop",
        "so",
        json!({"minReplicaCount": 0, "cooldownPeriod": 300}),
    ));
    w.script.set(0, 0.0);
    let op = w.start_single();
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    // Inactive at 0: nothing happens.
    w.advance(Duration::from_secs(30), SECOND).await;
    assert_eq!(w.replicas("shop", "web"), Some(0));
    // Demand: the next poll activates to 1.
    w.script.set(0, 25.0);
    w.advance(Duration::from_secs(30), SECOND).await;
    w.wait("activation", |w| w.replicas("shop", "web") == Some(1))
        .await;
    w.wait("the activation event", |w| {
        w.event_reasons("shop", "so")
            .contains(&"KEDAScaleTargetActivated".into())
    })
    .await;
    let ev = w
        .events("shop", "so")
        .into_iter()
        .find(|e| e.1 == "KEDAScaleTargetActivated")
        .unwrap();
    assert_eq!(
        ev.2,
        "Scaled apps/v1.Deployment shop/web from 0 to 1, triggered by s0-prometheus"
    );
    assert_eq!(
        w.condition("shop", "so", "Active").unwrap().0,
        "True".to_string()
    );
    // The operator metrics of that poll, with KEDA's names and labels.
    let text = op.ctx.telemetry.encode_prometheus_text();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}{{")) && l.contains(r#"scaledObject="so""#))
            .unwrap_or_else(|| panic!("no {name} for so in:\n{text}"))
            .to_string()
    };
    let value = line("keda_scaler_metrics_value");
    assert!(
        value.ends_with(" 25") || value.ends_with(" 25.0"),
        "{value}"
    );
    for label in [
        r#"namespace="shop""#,
        r#"metric="s0-prometheus""#,
        r#"scaler="prometheusScaler""#,
        r#"triggerIndex="0""#,
        r#"type="scaledobject""#,
    ] {
        assert!(value.contains(label), "{label} in {value}");
    }
    assert!(line("keda_scaler_active").ends_with(" 1.0"), "{text}");
    assert!(
        text.contains(r#"keda_trigger_registered_total{type="prometheus"} 1"#),
        "{text}"
    );
    // Demand gone: cooling down for 300 s after the last active poll, then back to 0.
    w.set_replicas("shop", "web", 1);
    w.script.set(0, 0.0);
    w.advance(Duration::from_secs(60), SECOND).await;
    w.wait("cooldown", |w| {
        w.condition("shop", "so", "Active").map(|c| c.1) == Some("ScalerCooldown".into())
    })
    .await;
    assert_eq!(w.replicas("shop", "web"), Some(1));
    // Last active poll at +60 s; at +360 s the cooldown has not passed yet (strictly after), at +390 s it has.
    w.advance(Duration::from_secs(240), SECOND).await;
    assert_eq!(
        w.replicas("shop", "web"),
        Some(1),
        "still cooling down at +360 s"
    );
    w.advance(Duration::from_secs(30), SECOND).await;
    w.wait("deactivation", |w| w.replicas("shop", "web") == Some(0))
        .await;
    let ev = w
        .events("shop", "so")
        .into_iter()
        .find(|e| e.1 == "KEDAScaleTargetDeactivated")
        .unwrap();
    assert_eq!(ev.2, "Deactivated apps/v1.Deployment shop/web from 1 to 0");
    op.stop().await;
}

#[tokio::test]
async fn fallback_serves_each_behaviors_replica_count_to_the_hpa() {
    // (behavior, fallback replicas 2, current 5) → the replicas the HPA must compute.
    for (behavior, expected) in [
        ("static", 2),
        ("currentReplicas", 5),
        ("currentReplicasIfHigher", 5),
        ("currentReplicasIfLower", 2),
    ] {
        let w = World::new();
        w.namespace("shop");
        w.deployment("shop", "web", 5, container());
        w.put(scaled_object(
            "shop",
            "so",
            json!({
                "pollingInterval": 3600,
                "fallback": {"failureThreshold": 3, "replicas": 2, "behavior": behavior}
            }),
        ));
        w.script.fail(0, "connection refused");
        let op = w.start_single();
        w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
            .await;
        let key = ObjectKey {
            namespace: "shop".into(),
            name: "so".into(),
        };
        let tracked = op.ctx.get(&key).expect("tracked");
        // The HPA asks until the failures pass the threshold (the first poll counted one already).
        let mut answer = Err(String::new());
        for _ in 0..6 {
            answer = external_metric(&op.ctx, &tracked, "s0-prometheus").await;
            if answer.is_ok() {
                break;
            }
            assert_eq!(
                answer,
                Err("metric:s0-prometheus encountered error".to_string())
            );
        }
        // AverageValue target 10 → value = 10 × replicas, in milli-units.
        assert_eq!(answer, Ok(vec![10_000 * expected]), "behavior {behavior}");
        w.wait("the Fallback condition", |w| {
            w.condition("shop", "so", "Fallback").map(|c| c.0) == Some("True".into())
        })
        .await;

        let so = w.scaled_object("shop", "so").unwrap();
        assert_eq!(so["status"]["health"]["s0-prometheus"]["status"], "Failing");
        assert!(
            so["status"]["health"]["s0-prometheus"]["numberOfFailures"]
                .as_i64()
                .unwrap()
                > 3
        );
        op.stop().await;
    }
}

#[tokio::test]
async fn paused_replicas_deletes_the_hpa_and_pins_the_count_until_unpaused() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 2, container());
    w.put(scaled_object("shop", "so", json!({"minReplicaCount": 1})));
    let op = w.start_single();
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    let mut so = w.scaled_object("shop", "so").unwrap();
    so["metadata"]["annotations"] = json!({"autoscaling.keda.sh/paused-replicas": "4"});
    w.put(so);
    w.wait("paused", |w| {
        w.hpa("shop", "keda-hpa-so").is_none() && w.replicas("shop", "web") == Some(4)
    })
    .await;
    w.wait("Paused condition", |w| {
        w.condition("shop", "so", "Paused").map(|c| c.0) == Some("True".into())
    })
    .await;
    assert_eq!(
        w.scaled_object("shop", "so").unwrap()["status"]["pausedReplicaCount"],
        4
    );
    assert!(
        w.event_reasons("shop", "so")
            .contains(&"ScaledObjectPaused".into())
    );
    // Polls stop while paused.
    let calls = w.script.calls();
    w.advance(Duration::from_secs(120), SECOND).await;
    assert_eq!(w.script.calls(), calls, "a paused object is not polled");
    // Unpause: the HPA comes back, the status forgets the count.
    let mut so = w.scaled_object("shop", "so").unwrap();
    so["metadata"]["annotations"] = json!({});
    w.put(so);
    w.wait("unpaused", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    w.wait("Paused False", |w| {
        w.condition("shop", "so", "Paused").map(|c| (c.0, c.1))
            == Some(("False".into(), "ScaledObjectUnpaused".into()))
    })
    .await;
    assert!(w.scaled_object("shop", "so").unwrap()["status"]["pausedReplicaCount"].is_null());
    op.stop().await;
}

#[tokio::test]
async fn paused_annotation_stops_polling_and_scale_in_out_pauses_disable_hpa_policies() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 2, container());
    w.put(scaled_object("shop", "so", json!({})));
    let op = w.start_single();
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;

    let annotate = |w: &World, a: Value| {
        let mut so = w.scaled_object("shop", "so").unwrap();
        so["metadata"]["annotations"] = a;
        w.put(so);
    };
    annotate(&w, json!({"autoscaling.keda.sh/paused-scale-in": "true"}));
    w.wait("scale-in disabled", |w| {
        w.hpa("shop", "keda-hpa-so")
            .is_some_and(|h| h["spec"]["behavior"]["scaleDown"]["selectPolicy"] == "Disabled")
    })
    .await;
    annotate(&w, json!({"autoscaling.keda.sh/paused-scale-out": "true"}));
    w.wait("scale-out disabled", |w| {
        w.hpa("shop", "keda-hpa-so").is_some_and(|h| {
            h["spec"]["behavior"]["scaleUp"]["selectPolicy"] == "Disabled"
                // The API server defaults the other direction's rules; it is no longer disabled.
                && h["spec"]["behavior"]["scaleDown"]["selectPolicy"] != "Disabled"
        })
    })
    .await;
    annotate(&w, json!({"autoscaling.keda.sh/paused": "true"}));
    w.wait("paused", |w| w.hpa("shop", "keda-hpa-so").is_none())
        .await;
    assert_eq!(w.replicas("shop", "web"), Some(2), "paused keeps the count");
    let calls = w.script.calls();
    w.advance(Duration::from_secs(90), SECOND).await;
    assert_eq!(w.script.calls(), calls, "a paused object is not polled");
    op.stop().await;
}

#[tokio::test]
async fn deleting_restores_the_original_replica_count_and_the_hpa_goes_with_it() {
    for restore in [true, false] {
        let w = World::new();
        w.namespace("shop");
        w.deployment("shop", "web", 3, container());
        w.put(scaled_object(
            "shop",
            "so",
            json!({"minReplicaCount": 1, "advanced": {"restoreToOriginalReplicaCount": restore}}),
        ));
        let op = w.start_single();
        w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
            .await;
        w.wait("originalReplicaCount", |w| {
            w.scaled_object("shop", "so").unwrap()["status"]["originalReplicaCount"] == 3
        })
        .await;
        w.set_replicas("shop", "web", 7);
        w.api
            .delete("keda.sh", "scaledobjects", Some("shop"), "so")
            .unwrap();
        w.wait("the ScaledObject gone", |w| {
            w.scaled_object("shop", "so").is_none()
        })
        .await;
        w.wait("the HPA gone", |w| w.hpa("shop", "keda-hpa-so").is_none())
            .await;
        let want = if restore { 3 } else { 7 };
        assert_eq!(w.replicas("shop", "web"), Some(want), "restore {restore}");
        op.stop().await;
    }
}

#[tokio::test]
async fn an_invalid_object_is_reported_not_crashed_on() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 1, container());
    w.put(scaled_object(
        "shop",
        "bad",
        json!({"minReplicaCount": 5, "maxReplicaCount": 2}),
    ));
    let op = w.start_single();
    w.wait("Ready False", |w| {
        w.condition("shop", "bad", "Ready").map(|c| c.0) == Some("False".into())
    })
    .await;
    let (_, reason, message) = w.condition("shop", "bad", "Ready").unwrap();
    assert_eq!(reason, "ScaledObjectCheckFailed");
    assert_eq!(
        message,
        "ScaledObject doesn't have correct Idle/Min/Max Replica Counts specification: \
         MinReplicaCount=5 must be less than MaxReplicaCount=2"
    );
    assert!(
        w.events("shop", "bad")
            .iter()
            .any(|e| e.0 == "Warning" && e.1 == "ScaledObjectCheckFailed" && e.2 == message)
    );
    assert!(w.hpa("shop", "keda-hpa-bad").is_none());
    // The operator keeps working for everyone else.
    w.deployment("shop", "api", 1, container());
    let mut good = scaled_object("shop", "good", json!({}));
    good["spec"]["scaleTargetRef"]["name"] = json!("api");
    w.put(good);
    w.wait("the good HPA", |w| w.hpa("shop", "keda-hpa-good").is_some())
        .await;
    assert!(!op.task.is_finished());
    op.stop().await;
}

#[tokio::test]
async fn a_trigger_authentication_cannot_reach_another_namespaces_secret() {
    let w = World::new();
    w.namespace("shop");
    w.namespace("other");
    w.deployment("shop", "web", 1, container());
    w.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "other"},
        "data": {"token": "aHVudGVyMi10b2tlbg=="}
    }));
    w.put(json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
        "metadata": {"name": "auth", "namespace": "shop"},
        "spec": {"secretTargetRef": [{"parameter": "bearerToken", "name": "creds", "key": "token"}]}
    }));
    let mut so = scaled_object("shop", "so", json!({}));
    so["spec"]["triggers"][0]["metadata"]["authModes"] = json!("bearer");
    so["spec"]["triggers"][0]["authenticationRef"] = json!({"name": "auth"});
    w.put(so);
    let op = w.start_single();
    w.wait("Ready False", |w| {
        w.condition("shop", "so", "Ready").map(|c| c.0) == Some("False".into())
    })
    .await;
    let message = w.condition("shop", "so", "Ready").unwrap().2;
    assert!(
        message
            .starts_with("failed to ensure HPA is correctly created for ScaledObject: trigger 0: ")
            && message.contains("shop/creds"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        w.api
            .requests()
            .iter()
            .all(|r| !r.path.contains("/namespaces/other/")),
        "nothing in namespace other was read"
    );
    assert!(w.hpa("shop", "keda-hpa-so").is_none());
    // The Secret where it belongs: the next reconcile picks it up.
    w.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "shop"},
        "data": {"token": "aHVudGVyMi10b2tlbg=="}
    }));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut so = w.scaled_object("shop", "so").unwrap();
    so["metadata"]["annotations"] = json!({"touched": "1"});
    w.put(so);
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    op.stop().await;
}

#[tokio::test]
async fn a_second_operator_takes_over_within_the_lease_duration_and_nothing_scales_twice() {
    let w = World::new();
    w.namespace("keda");
    w.namespace("shop");
    w.deployment("shop", "web", 0, container());
    w.put(scaled_object("shop", "so", json!({"minReplicaCount": 0})));
    w.script.set(0, 25.0);
    let a = w.start_elected("op-a");
    w.wait("op-a leads", |_| a.is_leader()).await;
    let b = w.start_elected("op-b");
    w.wait("activation by op-a", |w| {
        w.replicas("shop", "web") == Some(1)
    })
    .await;
    // While op-a leads, op-b writes nothing but its attempts on the Lease... which it may not even
    // write (a valid Lease held by someone else is only read).
    w.advance(Duration::from_secs(8), SECOND).await;
    assert!(!b.is_leader());
    // Every replica serves metrics: op-b answers the HPA's read from its own cache and scalers.
    {
        use prescale_operator::apiserver::MetricSource;
        use prescale_operator::external_metrics::MetricRequest;
        let (store, writer) = kube::runtime::reflector::store();
        let (_stop, stop_rx) = tokio::sync::watch::channel(false);
        let cache = tokio::spawn(prescale_operator::run::run_cache(
            b.ctx.clone(),
            writer,
            None,
            stop_rx,
        ));
        let source = prescale_operator::metrics_source::OperatorMetrics::new(b.ctx.clone(), store);
        let request = MetricRequest {
            namespace: "shop".into(),
            metric: "s0-prometheus".into(),
            scaled_object: "so".into(),
            selector: [("scaledobject.keda.sh/name".to_string(), "so".to_string())].into(),
        };
        let mut answer = source.external_metric(request.clone()).await;
        for _ in 0..100 {
            if answer.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            answer = source.external_metric(request.clone()).await;
        }
        let values = answer.expect("op-b serves the metric");
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].value, 25.0);
        cache.abort();
    }
    let by_b: Vec<_> = w
        .api
        .writes()
        .into_iter()
        .filter(|r| r.user_agent.as_deref() == Some("op-b"))
        .collect();
    assert!(by_b.is_empty(), "op-b wrote while op-a led: {by_b:?}");
    // op-a crashes; the workload is scaled to 0 behind everyone's back.
    a.kill().await;
    w.set_replicas("shop", "web", 0);
    let killed_at = w.clock.now();
    let mut waited = Duration::ZERO;
    while !b.is_leader() {
        assert!(
            waited <= Duration::from_secs(17),
            "op-b did not take over within 15 s + retry"
        );
        w.advance(SECOND, SECOND).await;
        waited += SECOND;
        // The manual clock does not wait for the operators' tasks: give a busy machine (CI runs tests on two
        // cores in parallel) real time to run the attempt that is due before the clock moves on.
        for _ in 0..10 {
            if b.is_leader() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(w.clock.now().duration_since(killed_at).unwrap() <= Duration::from_secs(17));
    w.wait("activation by op-b", |w| {
        w.replicas("shop", "web") == Some(1)
    })
    .await;
    let scale_writes: Vec<_> = w
        .api
        .writes()
        .into_iter()
        .filter(|r| r.resource == "deployments/scale")
        .map(|r| r.user_agent.unwrap_or_default())
        .collect();
    assert_eq!(
        scale_writes,
        ["op-a", "op-b"],
        "one activation each, none twice"
    );
    let lease = w
        .api
        .get(
            "coordination.k8s.io",
            "leases",
            Some("keda"),
            "prescale-operator",
        )
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "op-b");
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
    // A graceful stop releases the Lease (after its loops stopped): a third replica takes over at its next
    // attempt, not a lease duration later.
    let c = w.start_elected("op-c");
    w.advance(Duration::from_secs(4), SECOND).await;
    assert!(!c.is_leader());
    b.stop().await;
    let released = w
        .api
        .get(
            "coordination.k8s.io",
            "leases",
            Some("keda"),
            "prescale-operator",
        )
        .unwrap();
    assert_eq!(
        released["spec"]["holderIdentity"], "",
        "released: {released}"
    );
    let mut waited = Duration::ZERO;
    while !c.is_leader() {
        assert!(
            waited <= Duration::from_secs(4),
            "op-c did not take over a released Lease at once"
        );
        w.advance(SECOND, SECOND).await;
        waited += SECOND;
        for _ in 0..10 {
            if c.is_leader() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    c.stop().await;
}

#[tokio::test]
async fn any_kind_with_a_scale_subresource_is_a_target_found_through_discovery() {
    use prescale_testkit::apiserver::{ResourceDef, ScalePaths};
    let w = World::new();
    w.namespace("shop");
    // A custom resource (an Argo-Rollout-like kind) with /scale at its own paths.
    w.api.register(
        ResourceDef::new("example.dev", "v1alpha1", "Rollout", "rollouts", true)
            .with_status()
            .with_scale(ScalePaths {
                spec_replicas: ".spec.replicas".into(),
                status_replicas: ".status.replicas".into(),
                label_selector: Some(".status.selector".into()),
            }),
    );
    w.put(json!({
        "apiVersion": "example.dev/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 0}, "status": {"replicas": 0, "selector": "app=web"}
    }));
    w.put(scaled_object(
        "shop",
        "so",
        json!({
            "scaleTargetRef": {"apiVersion": "example.dev/v1alpha1", "kind": "Rollout", "name": "web"},
            "minReplicaCount": 0
        }),
    ));
    w.script.set(0, 25.0);
    let op = w.start_single();
    w.wait("activation through /scale", |w| {
        w.api
            .get("example.dev", "rollouts", Some("shop"), "web")
            .unwrap()["spec"]["replicas"]
            == 1
    })
    .await;
    let so = w.scaled_object("shop", "so").unwrap();
    assert_eq!(
        so["status"]["scaleTargetKind"],
        "example.dev/v1alpha1.Rollout"
    );
    assert_eq!(so["status"]["scaleTargetGVKR"]["resource"], "rollouts");
    assert_eq!(
        w.hpa("shop", "keda-hpa-so").unwrap()["spec"]["scaleTargetRef"],
        json!({"apiVersion": "example.dev/v1alpha1", "kind": "Rollout", "name": "web"})
    );
    // A kind without /scale is refused with KEDA's message.
    w.api.register(ResourceDef::new(
        "example.dev",
        "v1alpha1",
        "Widget",
        "widgets",
        true,
    ));
    w.put(
        json!({"apiVersion": "example.dev/v1alpha1", "kind": "Widget",
                 "metadata": {"name": "w", "namespace": "shop"}, "spec": {}}),
    );
    w.put(scaled_object(
        "shop",
        "widget",
        json!({"scaleTargetRef": {"apiVersion": "example.dev/v1alpha1", "kind": "Widget", "name": "w"}}),
    ));
    w.wait("Ready False", |w| {
        w.condition("shop", "widget", "Ready").map(|c| c.0) == Some("False".into())
    })
    .await;
    let message = w.condition("shop", "widget", "Ready").unwrap().2;
    assert!(
        message.starts_with(
            "ScaledObject doesn't have correct scaleTargetRef specification: \
             Target resource doesn't expose /scale subresource"
        ),
        "{message}"
    );
    // A missing target: KEDA's "doesn't exist".
    w.put(scaled_object(
        "shop",
        "ghost",
        json!({"scaleTargetRef": {"name": "nowhere"}}),
    ));
    w.wait("Ready False", |w| {
        w.condition("shop", "ghost", "Ready").map(|c| c.0) == Some("False".into())
    })
    .await;
    let message = w.condition("shop", "ghost", "Ready").unwrap().2;
    assert!(
        message.contains("Target resource doesn't exist"),
        "{message}"
    );
    op.stop().await;
}

#[tokio::test]
async fn a_spec_change_restarts_the_scale_loop_with_the_new_generation() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 1, container());
    w.put(scaled_object("shop", "so", json!({"pollingInterval": 300})));
    let op = w.start_single();
    let key = ObjectKey {
        namespace: "shop".into(),
        name: "so".into(),
    };
    w.wait("a loop", |_| {
        op.ctx.get(&key).and_then(|t| t.loop_generation()) == Some(1)
    })
    .await;
    let calls = w.script.calls();
    let mut so = w.scaled_object("shop", "so").unwrap();
    so["spec"]["pollingInterval"] = json!(10);
    so["spec"]["maxReplicaCount"] = json!(7);
    // Through the API (an update bumps the generation), as kubectl apply would.
    w.update(so).await;
    w.wait("the loop restarted for generation 2", |_| {
        op.ctx.get(&key).and_then(|t| t.loop_generation()) == Some(2)
    })
    .await;
    w.wait("the HPA updated", |w| {
        w.hpa("shop", "keda-hpa-so").unwrap()["spec"]["maxReplicas"] == 7
    })
    .await;
    // The new loop polled at once and now polls every 10 s, not 300.
    w.wait("a poll of the new loop", |w| w.script.calls() > calls)
        .await;
    let after_restart = w.script.calls();
    w.advance(Duration::from_secs(30), SECOND).await;
    w.wait("three more polls", |w| {
        w.script.calls() >= after_restart + 3
    })
    .await;
    op.stop().await;
}

#[tokio::test]
async fn hpa_ownership_follows_kedas_admission_rules() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 1, container());
    // Someone else's HPA already scales the workload.
    w.put(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "legacy", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 1, "maxReplicas": 5,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                              "target": {"type": "Utilization", "averageUtilization": 80}}}]}
    }));
    w.put(scaled_object("shop", "so", json!({})));
    let op = w.start_single();
    w.wait("Ready False", |w| {
        w.condition("shop", "so", "Ready").map(|c| c.0) == Some("False".into())
    })
    .await;
    assert_eq!(
        w.condition("shop", "so", "Ready").unwrap().2,
        "failed to ensure HPA is correctly created for ScaledObject: the workload 'web' of type \
         'apps/v1.Deployment' is already managed by the hpa 'legacy'"
    );
    assert!(w.hpa("shop", "keda-hpa-so").is_none());
    // Transfer: name the HPA and ask for it; the ScaledObject adopts it.
    let mut so = w.scaled_object("shop", "so").unwrap();
    so["metadata"]["annotations"] = json!({"scaledobject.keda.sh/transfer-hpa-ownership": "true"});
    so["spec"]["advanced"] = json!({"horizontalPodAutoscalerConfig": {"name": "legacy"}});
    w.put(so);
    w.wait("adopted", |w| {
        w.hpa("shop", "legacy").is_some_and(|h| {
            h["metadata"]["ownerReferences"][0]["name"] == "so"
                && h["spec"]["metrics"][0]["type"] == "External"
        })
    })
    .await;
    // A second ScaledObject on the same workload is refused; the first keeps it.
    w.clock.advance(SECOND);
    w.put(scaled_object("shop", "second", json!({})));
    w.wait("Ready False", |w| {
        w.condition("shop", "second", "Ready").map(|c| c.0) == Some("False".into())
    })
    .await;
    let message = w.condition("shop", "second", "Ready").unwrap().2;
    assert!(
        message.ends_with(
            "the workload 'web' of type 'apps/v1.Deployment' is already managed by the hpa 'legacy'"
        ) || message.ends_with(
            "the workload 'web' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'so'"
        ),
        "{message}"
    );
    assert!(w.hpa("shop", "keda-hpa-second").is_none());
    op.stop().await;
}

#[tokio::test]
async fn the_poll_that_starts_or_ends_fallback_says_so() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 3, container());
    w.put(scaled_object(
        "shop",
        "so",
        json!({"fallback": {"failureThreshold": 1, "replicas": 2}}),
    ));
    w.script.fail(0, "connection refused");
    let op = w.start_single();
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    // Poll 1 (t = 0): one failure, not above the threshold. Poll 2 (t = 30 s): two > 1, fallback.
    w.advance(Duration::from_secs(30), SECOND).await;
    w.wait("the fallback event", |w| {
        w.events("shop", "so").iter().any(|e| {
            e.1 == "ScaledObjectFallbackActivated" && e.2 == "ScaledObject fallback is active"
        })
    })
    .await;
    assert_eq!(
        w.condition("shop", "so", "Fallback").unwrap(),
        (
            "True".into(),
            "FallbackExists".into(),
            "At least one trigger is falling back on this scaled object".into()
        )
    );
    // The source recovers: the next poll ends the fallback.
    w.script.set(0, 5.0);
    w.advance(Duration::from_secs(30), SECOND).await;
    w.wait("the recovery event", |w| {
        w.events("shop", "so").iter().any(|e| {
            e.1 == "ScaledObjectFallbackDeactivated"
                && e.2 == "ScaledObject fallback is no longer active"
        })
    })
    .await;
    op.stop().await;
}

#[tokio::test]
async fn trigger_authentication_reads_the_pod_template_env_and_the_workload_service_account() {
    let w = World::new();
    w.namespace("shop");
    w.put(json!({"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "settings", "namespace": "shop"},
                 "data": {"PROM_URL": "http://prometheus.monitoring:9090", "REGION": "eu-west-1"}}));
    w.put(json!({"apiVersion": "v1", "kind": "Secret",
                 "metadata": {"name": "tokens", "namespace": "shop"},
                 "data": {"bearer": "dG9rLTE="}}));
    w.put(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": {"name": "runner", "namespace": "shop",
                              "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/amp-query"}}}));
    w.deployment(
        "shop",
        "web",
        1,
        json!({
            "name": "app", "image": "app",
            "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
            "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "tokens", "key": "bearer"}}}]
        }),
    );
    let mut d = w
        .api
        .get("apps", "deployments", Some("shop"), "web")
        .unwrap();
    d["spec"]["template"]["spec"]["serviceAccountName"] = json!("runner");
    w.put(d);
    w.put(json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
        "metadata": {"name": "amp", "namespace": "shop"},
        "spec": {
            "podIdentity": {"provider": "aws", "identityOwner": "workload"},
            "env": [{"parameter": "awsRegion", "name": "CFG_REGION"}]
        }
    }));
    let mut so = scaled_object("shop", "so", json!({}));
    so["spec"]["triggers"][0]["metadata"] = json!({
        "serverAddress": "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1",
        "query": "sum(rate(http_requests_total[1m]))",
        "threshold": "10"
    });
    so["spec"]["triggers"][0]["authenticationRef"] = json!({"name": "amp"});
    w.put(so);
    let op = w.start_single();
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    let (params, env) = w.script.auth(0).expect("built");
    assert_eq!(
        params["awsRoleArn"],
        "arn:aws:iam::111122223333:role/amp-query"
    );
    assert_eq!(params["awsRegion"], "eu-west-1");
    assert_eq!(env["CFG_PROM_URL"], "http://prometheus.monitoring:9090");
    assert_eq!(env["TOKEN"], "tok-1");
    // Nothing outside the ScaledObject's namespace was read (events and the Lease aside).
    let outside: Vec<_> = w
        .api
        .requests()
        .into_iter()
        .filter(|r| r.namespace.as_deref().is_some_and(|n| n != "shop"))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    op.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The proactive policy (`prescale.dev/forecast`)

/// A proactive ScaledObject: the trend model (no season), an hour of history, `extra` annotations merged.
fn proactive_object(ns: &str, name: &str, extra: Value) -> Value {
    let mut so = scaled_object(ns, name, json!({"minReplicaCount": 1}));
    so["metadata"]["annotations"] = json!({
        "prescale.dev/forecast": "trend",
        "prescale.dev/forecast-season": "none",
        "prescale.dev/forecast-history": "1h",
    });
    merge(&mut so["metadata"]["annotations"], extra);
    so
}

/// Runs `n` more polls of the loop (30 s apart), trigger 0 answering `value(k)` at the k-th.
async fn polls(w: &World, n: usize, mut value: impl FnMut(usize) -> f64) {
    for k in 0..n {
        w.script.set(0, value(k));
        let calls = w.script.calls();
        w.advance(Duration::from_secs(30), Duration::from_secs(30))
            .await;
        w.wait("a poll", |w| w.script.calls() > calls).await;
    }
}

/// `status.proactive[0]` of `shop/so`.
fn proactive_status(w: &World) -> Value {
    w.scaled_object("shop", "so").unwrap()["status"]["proactive"][0].clone()
}

/// The value of the first line of `text` starting with `prefix`.
fn metric_value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn served(op: &support::Operator) -> f64 {
    let key = ObjectKey {
        namespace: "shop".into(),
        name: "so".into(),
    };
    let tracked = op.ctx.get(&key).expect("tracked");
    let milli = external_metric(&op.ctx, &tracked, "s0-prometheus")
        .await
        .expect("a value");
    milli[0] as f64 / 1000.0
}

#[tokio::test]
async fn steady_polls_of_an_object_without_a_policy_patch_no_status() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 1, container());
    w.put(scaled_object("shop", "so", json!({"minReplicaCount": 1})));
    let op = w.start_single();
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    let status_patches = |w: &World| {
        w.api
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.ends_with("/scaledobjects/so/status"))
            .count()
    };
    // The first polls settle the loop's status fields (an inactive trigger: lastActiveTime stays).
    polls(&w, 3, |_| 0.0).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let settled = status_patches(&w);
    assert!(settled > 0, "the status was never written");
    // Nothing changes: the poll's write, which carries `proactive` too, sends nothing.
    polls(&w, 5, |_| 0.0).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(status_patches(&w), settled, "{:?}", w.api.requests());
    assert!(w.scaled_object("shop", "so").unwrap()["status"]["proactive"].is_null());
    op.stop().await;
}

/// A world with namespace `shop`, Deployment `web` (1 replica) and the proactive ScaledObject `so` with the
/// default annotations.
fn proactive_world() -> World {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 1, container());
    w.put(proactive_object("shop", "so", json!({})));
    w
}

/// An hour of a ramp, +1 per 30 s, ending at `now_ms` with 130.
fn ramp_history(now_ms: i64) -> Vec<(i64, f64)> {
    (0..=120)
        .map(|k| (now_ms - 3_600_000 + k * 30_000, 10.0 + k as f64))
        .collect()
}

#[tokio::test]
async fn a_ramping_metric_is_served_ahead_by_the_forecast_after_warm_up() {
    let w = proactive_world();
    w.script.set(0, 10.0);
    let op = w.start_single();
    w.wait("the HPA", |w| w.hpa("shop", "keda-hpa-so").is_some())
        .await;
    // The first poll: one observation, too little history: reactive, and the status says why.
    w.wait("a proactive status", |w| {
        proactive_status(w)["reason"].is_string()
    })
    .await;
    let st = proactive_status(&w);
    assert_eq!(st["metricName"], "s0-prometheus");
    assert_eq!(st["winner"], "current");
    assert_eq!(st["current"], "10");
    assert_eq!(st["value"], "10");
    assert!(st["forecast"].is_null(), "{st}");
    assert!(
        st["reason"]
            .as_str()
            .unwrap()
            .starts_with("reactive: too little history for trend"),
        "{st}"
    );
    w.wait("the reactive event", |w| {
        w.events("shop", "so")
            .iter()
            .any(|e| e.0 == "Normal" && e.1 == "ProactiveReactive" && e.2.contains("too little"))
    })
    .await;
    // Before warm-up the HPA gets the raw value.
    assert_eq!(served(&op).await, 10.0);
    // A steady ramp: +2 per poll. After the warm-up (4 observations + 30 scored forecasts) the forecast is
    // served: the HPA's read gets more than the current value.
    polls(&w, 45, |k| 12.0 + 2.0 * k as f64).await;
    let raw = 12.0 + 2.0 * 44.0;
    w.wait("the forecast winning in the status", |w| {
        proactive_status(w)["winner"] == "forecast"
    })
    .await;
    let value = served(&op).await;
    assert!(value > raw, "served {value}, raw {raw}");
    // ... by about the lead (75 s = 2.5 polls of +2), not by a wild guess.
    assert!(value < raw + 20.0, "served {value}, raw {raw}");
    let st = proactive_status(&w);
    assert_eq!(st["model"], "trend", "{st}");
    let forecast: f64 = st["forecast"].as_str().unwrap().parse().unwrap();
    let current: f64 = st["current"].as_str().unwrap().parse().unwrap();
    assert!(forecast > current, "{st}");
    assert_eq!(st["value"], st["forecast"], "{st}");
    assert!(st["time"].as_str().unwrap().ends_with('Z'), "{st}");
    w.wait("the serving event", |w| {
        w.events("shop", "so")
            .iter()
            .any(|e| e.0 == "Normal" && e.1 == "ProactiveForecastServing")
    })
    .await;
    // Mode changes only: one event each, not one per poll.
    let reasons = w.event_reasons("shop", "so");
    assert_eq!(
        reasons
            .iter()
            .filter(|r| *r == "ProactiveForecastServing")
            .count(),
        1,
        "{reasons:?}"
    );
    assert_eq!(
        reasons.iter().filter(|r| *r == "ProactiveReactive").count(),
        1,
        "{reasons:?}"
    );
    // /metrics.
    let text = op.ctx.telemetry.encode_prometheus_text();
    let labels =
        r#"{namespace="shop",scaledObject="so",scaler="prometheusScaler",metric="s0-prometheus""#;
    assert_eq!(
        metric_value(
            &text,
            &format!("prescale_proactive_forecast_winning{labels}}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric_value(
            &text,
            &format!(r#"prescale_proactive_mode{labels},mode="forecast"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric_value(
            &text,
            &format!(r#"prescale_proactive_mode{labels},mode="reactive"}}"#)
        ),
        Some(0.0),
        "{text}"
    );
    let got = metric_value(&text, &format!("prescale_proactive_value{labels}}}")).unwrap();
    assert!((got - value).abs() < 1e-3, "{got} vs {value}");
    assert!(metric_value(&text, &format!("prescale_proactive_forecast{labels}}}")).unwrap() > raw);
    // Activation keeps the raw value: KEDA's own metric is the query result.
    assert_eq!(
        metric_value(&text, "keda_scaler_metrics_value{"),
        Some(raw),
        "{text}"
    );
    // `status.proactive` is not rewritten at every poll (only on changes of mode, of more than 10 %, or every
    // 5 minutes): over four polls moving ~2 % each, its time changes at most once.
    let mut times = std::collections::BTreeSet::new();
    for k in 0..4 {
        polls(&w, 1, |_| 100.0 + 2.0 * k as f64).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        times.insert(proactive_status(&w)["time"].as_str().unwrap().to_string());
    }
    assert!(times.len() <= 2, "{times:?}");
    // Deleting the object drops its series.
    w.api
        .delete("keda.sh", "scaledobjects", Some("shop"), "so")
        .unwrap();
    w.wait("the series gone", |_| {
        !op.ctx
            .telemetry
            .encode_prometheus_text()
            .contains("prescale_proactive_mode{")
    })
    .await;
    op.stop().await;
}

#[tokio::test]
async fn a_bad_proactive_annotation_warns_and_the_object_scales_reactively() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 0, container());
    let mut so = proactive_object("shop", "so", json!({"prescale.dev/forecast-lead": "soon"}));
    so["spec"]["minReplicaCount"] = json!(0);
    w.put(so);
    w.script.set(0, 25.0);
    let op = w.start_single();
    w.wait("the warning", |w| {
        w.events("shop", "so")
            .iter()
            .any(|e| e.0 == "Warning" && e.1 == "ProactivePolicyInvalid")
    })
    .await;
    let ev = w
        .events("shop", "so")
        .into_iter()
        .find(|e| e.1 == "ProactivePolicyInvalid")
        .unwrap();
    assert!(
        ev.2.contains(r#"metadata.annotations["prescale.dev/forecast-lead"]"#)
            && ev.2.contains("soon"),
        "{ev:?}"
    );
    // Scaling goes on as KEDA's: Ready, activation from 0.
    w.wait("activation", |w| w.replicas("shop", "web") == Some(1))
        .await;
    w.wait("Ready", |w| {
        w.condition("shop", "so", "Ready").map(|c| c.0) == Some("True".into())
    })
    .await;
    w.wait("the reactive status", |w| {
        proactive_status(w)["reason"]
            .as_str()
            .is_some_and(|r| r.contains("prescale.dev/forecast-lead"))
    })
    .await;
    polls(&w, 3, |_| 25.0).await;
    assert_eq!(served(&op).await, 25.0);
    // Once, not at every poll.
    let warnings = w
        .event_reasons("shop", "so")
        .into_iter()
        .filter(|r| r == "ProactivePolicyInvalid")
        .count();
    assert_eq!(warnings, 1);
    assert!(!op.task.is_finished());
    // Removing the policy clears the status field.
    let mut so = w.scaled_object("shop", "so").unwrap();
    so["metadata"]["annotations"] = json!({});
    w.put(so);
    tokio::time::sleep(Duration::from_millis(100)).await;
    polls(&w, 1, |_| 25.0).await;
    w.wait("status.proactive gone", |w| {
        w.scaled_object("shop", "so").unwrap()["status"]["proactive"].is_null()
    })
    .await;
    op.stop().await;
}

#[tokio::test]
async fn the_history_bootstrap_makes_the_forecast_available_at_once() {
    let w = proactive_world();
    let now_ms = support::START as i64 * 1000;
    let history = ramp_history(now_ms);
    w.script.set_history(0, Ok(history));
    w.script.set(0, 130.0);
    let op = w.start_single();
    w.wait("a proactive status", |w| {
        proactive_status(w)["reason"].is_string()
    })
    .await;
    // The range asked for: the history annotation back from now, at the polling interval.
    assert_eq!(
        w.script.history_calls(),
        vec![(0, now_ms - 3_600_000, now_ms, 30_000)]
    );
    let st = proactive_status(&w);
    assert_eq!(st["winner"], "forecast", "{st}");
    assert_eq!(st["model"], "trend", "{st}");
    assert!(served(&op).await > 130.0);
    assert!(
        w.events("shop", "so")
            .iter()
            .any(|e| e.1 == "ProactiveForecastServing"),
        "{:?}",
        w.events("shop", "so")
    );
    op.stop().await;

    // A failing bootstrap: a Warning, the forecaster starts empty (reactive), scaling goes on.
    let w = proactive_world();
    w.script
        .set_history(0, Err("query_range: connection refused".into()));
    w.script.set(0, 130.0);
    let op = w.start_single();
    w.wait("the bootstrap warning", |w| {
        w.events("shop", "so").iter().any(|e| {
            e.0 == "Warning"
                && e.1 == "ProactiveBootstrapFailed"
                && e.2.contains("connection refused")
        })
    })
    .await;
    w.wait("a proactive status", |w| {
        proactive_status(w)["reason"].is_string()
    })
    .await;
    assert_eq!(proactive_status(&w)["winner"], "current");
    assert_eq!(served(&op).await, 130.0);
    op.stop().await;
}

#[tokio::test]
async fn a_replica_that_does_not_lead_serves_the_current_value_and_says_it_is_reactive() {
    let w = proactive_world();
    w.namespace("keda");
    let now_ms = support::START as i64 * 1000;
    let history = ramp_history(now_ms);
    w.script.set_history(0, Ok(history));
    w.script.set(0, 130.0);
    let a = w.start_elected("op-a");
    w.wait("op-a leads", |_| a.is_leader()).await;
    let b = w.start_elected("op-b");
    w.wait("the forecast winning", |w| {
        proactive_status(w)["winner"] == "forecast"
    })
    .await;
    assert!(!b.is_leader());
    // The leader serves the forecast; op-b, without the poll history, the current value.
    assert!(served(&a).await > 130.0);
    let so: prescale_k8s::ScaledObject = kube::Api::namespaced(w.client(), "shop")
        .get("so")
        .await
        .unwrap();
    let tracked = b.ctx.track(&std::sync::Arc::new(so)).await;
    let milli = external_metric(&b.ctx, &tracked, "s0-prometheus")
        .await
        .unwrap();
    assert_eq!(milli, vec![130_000]);
    let text = b.ctx.telemetry.encode_prometheus_text();
    let labels =
        r#"{namespace="shop",scaledObject="so",scaler="prometheusScaler",metric="s0-prometheus""#;
    assert_eq!(
        metric_value(
            &text,
            &format!(r#"prescale_proactive_mode{labels},mode="reactive"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric_value(&text, &format!("prescale_proactive_value{labels}}}")),
        Some(130.0),
        "{text}"
    );
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_replica_that_loses_the_lead_drops_its_forecasters_and_serves_the_current_value() {
    let w = proactive_world();
    w.namespace("keda");
    let now_ms = support::START as i64 * 1000;
    let history = ramp_history(now_ms);
    w.script.set_history(0, Ok(history));
    w.script.set(0, 130.0);
    let a = w.start_elected("op-a");
    w.wait("op-a leads", |_| a.is_leader()).await;
    w.wait("the forecast winning", |w| {
        proactive_status(w)["winner"] == "forecast"
    })
    .await;
    assert!(served(&a).await > 130.0);
    // Another replica takes the Lease: op-a reads it at its next attempt and steps down.
    let mut lease: k8s_openapi::api::coordination::v1::Lease = w
        .api
        .get_typed(Some("keda"), "prescale-operator")
        .expect("the lease");
    let spec = lease.spec.as_mut().expect("a lease spec");
    let now = k8s_openapi::jiff::Timestamp::from_millisecond(
        w.clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    )
    .unwrap();
    spec.holder_identity = Some("op-x".into());
    spec.acquire_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        now,
    ));
    spec.renew_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        now,
    ));
    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    w.api.put_typed(&lease).expect("stored");
    let mut waited = Duration::ZERO;
    while a.is_leader() {
        assert!(waited <= Duration::from_secs(6), "op-a did not step down");
        w.advance(SECOND, SECOND).await;
        waited += SECOND;
    }
    // Its forecasters go with the lead, and their series with them...
    w.wait("the proactive series gone", |_| {
        !a.ctx
            .telemetry
            .encode_prometheus_text()
            .contains("prescale_proactive_forecast_winning{")
    })
    .await;
    let key = ObjectKey {
        namespace: "shop".into(),
        name: "so".into(),
    };
    let tracked = a.ctx.get(&key).expect("still tracked until the next term");
    assert!(tracked.state.lock().await.proactive.is_none());
    // ... so the HPA's reads get the current value, not a forecast frozen when polling stopped, and the
    // replica says it is reactive.
    assert_eq!(served(&a).await, 130.0);
    let text = a.ctx.telemetry.encode_prometheus_text();
    let labels =
        r#"{namespace="shop",scaledObject="so",scaler="prometheusScaler",metric="s0-prometheus""#;
    assert_eq!(
        metric_value(
            &text,
            &format!(r#"prescale_proactive_mode{labels},mode="reactive"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric_value(
            &text,
            &format!("prescale_proactive_forecast_winning{labels}}}")
        ),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        metric_value(&text, &format!("prescale_proactive_forecast{labels}}}")),
        None,
        "{text}"
    );
    a.stop().await;
}

#[tokio::test]
async fn a_crd_that_prunes_status_proactive_gets_it_at_most_once_per_minimum_interval() {
    let w = proactive_world();
    w.prune_proactive
        .store(true, std::sync::atomic::Ordering::SeqCst);
    w.script.set(0, 10.0);
    let op = w.start_single();
    w.wait("the first status.proactive patch", |w| {
        *w.proactive_patches.lock().unwrap() >= 1
    })
    .await;
    // Eight more polls, 30 s apart, the value moving by more than 10 % at each: a write is due at every
    // change, but at most once per minimum interval (60 s) — the server's answer never has the field.
    polls(&w, 8, |k| if k % 2 == 0 { 20.0 } else { 10.0 }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        w.scaled_object("shop", "so").unwrap()["status"]["proactive"].is_null(),
        "pruned"
    );
    let patches = *w.proactive_patches.lock().unwrap();
    let at_most = 1 + 8 * 30_000 / prescale_operator::proactive::STATUS_MIN_INTERVAL_MS as usize;
    assert!(
        (2..=at_most).contains(&patches),
        "{patches} status.proactive patches over 9 polls; expected 2..={at_most}"
    );
    op.stop().await;
}

#[tokio::test]
async fn only_triggers_with_a_forecaster_replay_their_history() {
    let w = World::new();
    w.namespace("shop");
    w.deployment("shop", "web", 1, container());
    let mut so = proactive_object("shop", "so", json!({}));
    let cached = json!({"type": "prometheus", "useCachedMetrics": true, "metadata": {
        "serverAddress": "http://prometheus.monitoring:9090",
        "query": "sum(rate(http_errors_total[1m]))",
        "threshold": "5"
    }});
    so["spec"]["triggers"]
        .as_array_mut()
        .expect("triggers")
        .push(cached);
    w.put(so);
    let now_ms = support::START as i64 * 1000;
    let history = ramp_history(now_ms);
    w.script.set_history(0, Ok(history.clone()));
    w.script.set_history(1, Ok(history));
    w.script.set(0, 130.0);
    w.script.set(1, 1.0);
    let op = w.start_single();
    w.wait("a proactive status", |w| {
        proactive_status(w)["reason"].is_string()
    })
    .await;
    polls(&w, 2, |_| 130.0).await;
    // The useCachedMetrics trigger has no forecaster: its history is not asked for.
    assert_eq!(
        w.script.history_calls(),
        vec![(0, now_ms - 3_600_000, now_ms, 30_000)]
    );
    let status = w.scaled_object("shop", "so").unwrap()["status"]["proactive"].clone();
    assert_eq!(status[1]["metricName"], "s1-prometheus", "{status}");
    assert!(
        status[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("useCachedMetrics")),
        "{status}"
    );
    op.stop().await;

    // A trigger whose scaler could not be built is not asked either (the poll reports its error; the
    // bootstrap adds no second one).
    use prescale_operator::context::{ScalerFactory, ScalerSet};
    use prescale_operator::proactive::{Bootstrap, fetch_histories};
    let factory = support::ScriptedFactory {
        real: prescale_scalers::ScalerContext::new(),
        script: support::Script::default(),
    };
    factory.script.set_history(0, Ok(vec![(now_ms, 1.0)]));
    factory.script.set_history(1, Ok(vec![(now_ms, 2.0)]));
    let trigger: prescale_core::spec::ScaleTrigger = serde_json::from_value(json!({
        "type": "prometheus", "metadata": {
            "serverAddress": "http://prometheus.monitoring:9090", "query": "up", "threshold": "1"
        }
    }))
    .unwrap();
    let built = factory
        .build(0, &trigger, prescale_scalers::TriggerAuth::default())
        .unwrap();
    let set = ScalerSet {
        generation: 1,
        scalers: vec![
            Ok(std::sync::Arc::from(built)),
            Err("trigger 1: no serverAddress given".into()),
        ],
        targets: Vec::new(),
    };
    let end = std::time::UNIX_EPOCH + Duration::from_millis(now_ms as u64);
    let fetched = fetch_histories(
        &set,
        &Bootstrap {
            epoch: 1,
            start: end - Duration::from_secs(3600),
            end,
            step: Duration::from_secs(30),
            triggers: vec![0, 1],
        },
    )
    .await;
    assert_eq!(fetched.per_trigger.len(), 1, "{fetched:?}");
    assert_eq!(fetched.per_trigger[0].0, 0);
    assert_eq!(fetched.per_trigger[0].1, Some(Ok(vec![(now_ms, 1.0)])));
    assert_eq!(factory.script.history_calls().len(), 1);
}

#[tokio::test]
async fn the_first_poll_is_timed_after_the_history_bootstrap() {
    let w = proactive_world();
    let now_ms = support::START as i64 * 1000;
    w.script.set_history(0, Ok(vec![(now_ms - 30_000, 100.0)]));
    // The history takes 5 s to arrive.
    let clock = w.clock.clone();
    w.script.on_history(std::sync::Arc::new(move || {
        clock.advance(Duration::from_secs(5));
    }));
    w.script.set(0, 130.0);
    let op = w.start_single();
    w.wait("a proactive status", |w| {
        proactive_status(w)["reason"].is_string()
    })
    .await;
    assert_eq!(w.script.history_calls().len(), 1);
    // The history range ends when the bootstrap started; the poll (KEDA's lastActiveTime) is 5 s later.
    assert_eq!(w.script.history_calls()[0].2, now_ms);
    let so = w.scaled_object("shop", "so").unwrap();
    assert_eq!(
        so["status"]["lastActiveTime"], "2026-01-01T00:00:05Z",
        "{so}"
    );
    op.stop().await;
}
