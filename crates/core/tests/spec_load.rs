//! `spec::load`: multi-document YAML, document indexes and lines, non-KEDA objects, pruned-field
//! warnings, path-named type errors, and the API server's messages for schema violations.

use prescale_core::spec::*;

const SEED: &str = include_str!("data/scaledobject.yaml");
const HOLLY: &str = include_str!("data/holly.yaml");

fn only(docs: Vec<Document>) -> Document {
    assert_eq!(docs.len(), 1, "{docs:#?}");
    docs.into_iter().next().expect("one document")
}

fn errors_of(doc: &Document) -> Vec<(String, String)> {
    match &doc.content {
        DocumentContent::Error { errors, .. } => errors
            .iter()
            .map(|f| (f.path.clone(), f.message.clone()))
            .collect(),
        other => panic!("expected an error document, got {other:#?}"),
    }
}

fn warnings_of(doc: &Document) -> Vec<(String, String)> {
    doc.warnings
        .iter()
        .map(|f| (f.path.clone(), f.message.clone()))
        .collect()
}

fn scaled_object(doc: &Document) -> &ScaledObject {
    match &doc.content {
        DocumentContent::Keda(KedaObject::ScaledObject(so)) => so,
        other => panic!("expected a ScaledObject, got {other:#?}"),
    }
}

const SO_HEAD: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n";

#[test]
fn seed_scaled_object_loads() {
    let doc = only(load(SEED));
    assert_eq!(doc.index, 0);
    assert_eq!(doc.line, Some(2));
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    let so = scaled_object(&doc);
    assert_eq!(so.metadata.name(), "ho11y-hpa");
    assert_eq!(so.metadata.namespace_or_default(), "ho11y");
    assert_eq!(so.spec.scale_target_ref.name, "downstream0");
    assert_eq!(so.spec.polling_interval, Some(30));
    assert_eq!(so.spec.cooldown_period, Some(300));
    assert_eq!(so.spec.min_replica_count, Some(1));
    assert_eq!(so.spec.max_replica_count, Some(10));
    let fb = so.spec.fallback.as_ref().expect("fallback");
    assert_eq!(
        (fb.failure_threshold, fb.replicas, fb.behavior),
        (3, 2, None)
    );
    let t = &so.spec.triggers[0];
    assert_eq!(t.kind, "prometheus");
    // `$WORKSPACE` is text, not a variable.
    assert_eq!(
        t.metadata.get("serverAddress").map(String::as_str),
        Some("http://keda-sigv4.keda.svc.cluster.local/workspaces/$WORKSPACE")
    );
    assert_eq!(t.metadata.get("threshold").map(String::as_str), Some("1"));
    assert_eq!(
        t.metadata.get("awsRegion").map(String::as_str),
        Some("us-east-1")
    );
    assert_eq!(
        t.metadata.get("query").map(String::as_str),
        Some("rate(ho11y_total[1m])")
    );
}

#[test]
fn non_keda_documents_are_kept_for_reporting() {
    let docs = load(HOLLY);
    let names: Vec<(Option<&str>, Option<&str>)> = docs
        .iter()
        .map(|d| match &d.content {
            DocumentContent::Other(o) => (o.kind.as_deref(), o.name.as_deref()),
            other => panic!("{other:#?}"),
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (Some("Deployment"), Some("frontend")),
            (Some("Deployment"), Some("downstream0")),
            (Some("Deployment"), Some("downstream1")),
            (Some("Service"), Some("frontend")),
            (Some("Service"), Some("downstream0")),
            (Some("Service"), Some("downstream1")),
        ]
    );
    assert!(docs.iter().all(|d| d.warnings.is_empty()));
}

#[test]
fn documents_have_indexes_and_lines() {
    let input = format!(
        "# leading comment\n---\n{SO_HEAD}spec:\n  scaleTargetRef: {{name: a}}\n  triggers: [{{type: cron, metadata: {{}}}}]\n---\n# only a comment\n---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm, namespace: x}}\n--- \"a scalar\"\n"
    );
    let docs = load(&input);
    let summary: Vec<(usize, Option<usize>)> = docs.iter().map(|d| (d.index, d.line)).collect();
    // Documents 1 and 2 are empty and skipped; their indexes stay taken.
    assert_eq!(summary, vec![(0, Some(3)), (3, Some(15)), (4, Some(18))]);
    assert!(matches!(
        docs[0].content,
        DocumentContent::Keda(KedaObject::ScaledObject(_))
    ));
    match &docs[1].content {
        DocumentContent::Other(o) => {
            assert_eq!(o.kind.as_deref(), Some("ConfigMap"));
            assert_eq!(o.display_name(), "ConfigMap/x/cm");
        }
        other => panic!("{other:#?}"),
    }
    match &docs[2].content {
        DocumentContent::Other(o) => assert_eq!(o.display_name(), "?/default/?"),
        other => panic!("{other:#?}"),
    }
}

#[test]
fn empty_input_has_no_documents() {
    assert!(load("").is_empty());
    assert!(load("---\n---\n# nothing\n...\n").is_empty());
    assert!(load("~\n").is_empty());
}

#[test]
fn a_yaml_error_spoils_only_its_document() {
    let input = format!(
        "{SO_HEAD}spec: {{scaleTargetRef: {{name: a}}, triggers: [{{type: cron, metadata: {{}}}}]}}\n---\nkind: [unclosed\n---\n{SO_HEAD}spec: {{scaleTargetRef: {{name: b}}, triggers: [{{type: cron, metadata: {{}}}}]}}\n"
    );
    let docs = load(&input);
    assert_eq!(docs.len(), 3);
    assert!(matches!(docs[0].content, DocumentContent::Keda(_)));
    let errs = errors_of(&docs[1]);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].0, "");
    assert!(errs[0].1.starts_with("invalid YAML: "), "{}", errs[0].1);
    // The line is that of the input, not of the document.
    assert!(errs[0].1.contains("line 7"), "{}", errs[0].1);
    assert_eq!(docs[1].line, Some(6));
    assert_eq!(scaled_object(&docs[2]).spec.scale_target_ref.name, "b");
}

#[test]
fn duplicate_keys_are_an_error() {
    let doc = only(load(&format!("{SO_HEAD}spec: {{}}\nspec: {{}}\n")));
    let errs = errors_of(&doc);
    assert!(errs[0].1.contains("duplicate mapping key"), "{errs:?}");
}

#[test]
fn type_errors_name_the_path_and_value() {
    let doc = only(load(&format!(
        "{SO_HEAD}spec:\n  scaleTargetRef: {{name: a}}\n  triggers:\n  - type: prometheus\n    metadata:\n      threshold: 1\n"
    )));
    assert_eq!(
        errors_of(&doc),
        vec![(
            "spec.triggers[0].metadata.threshold".to_string(),
            "invalid type: integer `1`, expected a string".to_string()
        )]
    );
    let doc = only(load(&format!(
        "{SO_HEAD}spec:\n  scaleTargetRef: {{name: a}}\n  minReplicaCount: \"1\"\n  triggers: [{{type: cron, metadata: {{}}}}]\n"
    )));
    assert_eq!(
        errors_of(&doc),
        vec![(
            "spec.minReplicaCount".to_string(),
            "invalid type: string \"1\", expected i32".to_string()
        )]
    );
    let doc = only(load(&format!(
        "{SO_HEAD}spec:\n  scaleTargetRef: {{name: a}}\n  maxReplicaCount: 3000000000\n  triggers: [{{type: cron, metadata: {{}}}}]\n"
    )));
    assert_eq!(
        errors_of(&doc),
        vec![(
            "spec.maxReplicaCount".to_string(),
            "invalid value: integer `3000000000`, expected i32".to_string()
        )]
    );
}

#[test]
fn schema_violations_get_the_api_servers_messages() {
    // Missing required fields.
    let doc = only(load(&format!("{SO_HEAD}spec:\n  pollingInterval: 0\n")));
    assert_eq!(
        errors_of(&doc),
        vec![
            ("spec.scaleTargetRef".to_string(), "Required value".to_string()),
            ("spec.triggers".to_string(), "Required value".to_string()),
            (
                "spec.pollingInterval".to_string(),
                "Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1"
                    .to_string()
            ),
        ]
    );
    // A value outside an enum.
    let doc = only(load(&format!(
        "{SO_HEAD}spec:\n  scaleTargetRef: {{name: a}}\n  fallback: {{failureThreshold: 1, replicas: 1, behavior: dynamic}}\n  triggers: [{{type: cron, metadata: {{}}, authenticationRef: {{name: x, kind: Secret}}}}]\n"
    )));
    assert_eq!(
        errors_of(&doc),
        vec![
            (
                "spec.fallback.behavior".to_string(),
                "Unsupported value: \"dynamic\": supported values: \"static\", \"currentReplicas\", \"currentReplicasIfHigher\", \"currentReplicasIfLower\", \"scalingModifiers\"".to_string()
            ),
            (
                "spec.triggers[0].authenticationRef.kind".to_string(),
                "Unsupported value: \"Secret\": supported values: \"TriggerAuthentication\", \"ClusterTriggerAuthentication\"".to_string()
            ),
        ]
    );
    // A trigger without `metadata` (required, may be `{}`).
    let doc = only(load(&format!(
        "{SO_HEAD}spec:\n  scaleTargetRef: {{name: a}}\n  triggers: [{{type: cron}}]\n"
    )));
    assert_eq!(
        errors_of(&doc),
        vec![(
            "spec.triggers[0].metadata".to_string(),
            "Required value".to_string()
        )]
    );
    // No spec at all.
    let doc = only(load(SO_HEAD));
    assert_eq!(
        errors_of(&doc),
        vec![("spec".to_string(), "Required value".to_string())]
    );
}

#[test]
fn pruned_fields_are_warnings_and_removed() {
    let doc = only(load(&format!(
        "{SO_HEAD}  labels: {{a: b}}\n  anything: goes\nspec:\n  scaleTargetRef: {{name: a, port: 80}}\n  pollingIntervall: 10\n  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleUp: {{policies: [{{type: Pods, value: 1, periodSeconds: 15, weight: 2}}]}}\n  triggers:\n  - type: prometheus\n    metadata: {{any: key, goes: here}}\n    tresholds: x\nstatus:\n  health: {{s0-prometheus: {{status: Happy, extra: 1}}}}\n  bogus: 1\n"
    )));
    assert_eq!(
        warnings_of(&doc),
        vec![
            (
                "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies[0].weight"
                    .to_string(),
                "unknown field \"spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies[0].weight\"".to_string()
            ),
            (
                "spec.pollingIntervall".to_string(),
                "unknown field \"spec.pollingIntervall\"".to_string()
            ),
            (
                "spec.scaleTargetRef.port".to_string(),
                "unknown field \"spec.scaleTargetRef.port\"".to_string()
            ),
            (
                "spec.triggers[0].tresholds".to_string(),
                "unknown field \"spec.triggers[0].tresholds\"".to_string()
            ),
            ("status.bogus".to_string(), "unknown field \"status.bogus\"".to_string()),
            (
                "status.health.s0-prometheus.extra".to_string(),
                "unknown field \"status.health.s0-prometheus.extra\"".to_string()
            ),
        ]
    );
    let so = scaled_object(&doc);
    assert_eq!(so.spec.polling_interval, None);
    assert_eq!(so.metadata.labels.get("a").map(String::as_str), Some("b"));
    assert_eq!(so.spec.triggers[0].metadata.len(), 2);
}

#[test]
fn scaled_job_prunes_trigger_metric_type_and_keeps_template_metadata() {
    let doc = only(load(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata: {name: sj}\nspec:\n  jobTargetRef:\n    template:\n      metadata: {generateName: x-, labels: {a: b}}\n      spec:\n        containers: [{name: c, image: i, colour: blue}]\n  triggers: [{type: rabbitmq, metadata: {}, metricType: Value}]\n",
    ));
    assert_eq!(
        warnings_of(&doc),
        vec![
            (
                "spec.jobTargetRef.template.spec.containers[0].colour".to_string(),
                "unknown field \"spec.jobTargetRef.template.spec.containers[0].colour\""
                    .to_string()
            ),
            (
                "spec.triggers[0].metricType".to_string(),
                "unknown field \"spec.triggers[0].metricType\"".to_string()
            ),
        ]
    );
    match &doc.content {
        DocumentContent::Keda(KedaObject::ScaledJob(sj)) => {
            assert_eq!(sj.spec.triggers[0].metric_type, None);
            assert_eq!(
                sj.spec.job_target_ref["template"]["metadata"]["generateName"],
                "x-"
            );
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn trigger_authentications_load() {
    let docs = load(
        "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata: {name: ta, namespace: ns}\nspec:\n  podIdentity: {provider: aws, roleArn: arn}\n  secretTargetRef: [{parameter: p, name: s, key: k}]\n  unknownThing: 1\n---\napiVersion: keda.sh/v1alpha1\nkind: ClusterTriggerAuthentication\nmetadata: {name: cta}\nspec:\n  filePath: creds.json\n  env: [{parameter: p, name: E}]\n",
    );
    assert_eq!(docs.len(), 2);
    match &docs[0].content {
        DocumentContent::Keda(KedaObject::TriggerAuthentication(ta)) => {
            assert_eq!(ta.spec.secret_target_ref[0].key, "k");
            assert_eq!(
                ta.spec.pod_identity.as_ref().map(|p| p.provider),
                Some(PodIdentityProvider::Aws)
            );
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(
        warnings_of(&docs[0]),
        vec![(
            "spec.unknownThing".to_string(),
            "unknown field \"spec.unknownThing\"".to_string()
        )]
    );
    match &docs[1].content {
        DocumentContent::Keda(KedaObject::ClusterTriggerAuthentication(cta)) => {
            assert_eq!(cta.spec.file_path.as_deref(), Some("creds.json"));
            assert_eq!(cta.spec.env[0].name, "E");
        }
        other => panic!("{other:#?}"),
    }
    // An unknown provider is a schema (enum) error.
    let doc = only(load(
        "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata: {name: ta}\nspec:\n  podIdentity: {provider: azure}\n",
    ));
    assert_eq!(
        errors_of(&doc),
        vec![(
            "spec.podIdentity.provider".to_string(),
            "Unsupported value: \"azure\": supported values: \"azure-workload\", \"gcp\", \"aws\", \"aws-eks\", \"none\"".to_string()
        )]
    );
}

#[test]
fn keda_group_with_unknown_kind_or_version_is_an_error() {
    let doc = only(load(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledThing\nmetadata: {name: x}\n",
    ));
    assert_eq!(
        errors_of(&doc),
        vec![(
            String::new(),
            "no matches for kind \"ScaledThing\" in version \"keda.sh/v1alpha1\"".to_string()
        )]
    );
    let doc = only(load(
        "apiVersion: keda.sh/v1beta1\nkind: ScaledObject\nmetadata: {name: x}\n",
    ));
    assert_eq!(
        errors_of(&doc)[0].1,
        "no matches for kind \"ScaledObject\" in version \"keda.sh/v1beta1\""
    );
    let doc = only(load("kind: ScaledObject\nmetadata: {name: x}\n"));
    assert_eq!(
        errors_of(&doc),
        vec![("apiVersion".to_string(), "apiVersion not set".to_string())]
    );
    // Other groups are not KEDA objects, whatever the kind.
    let doc = only(load(
        "apiVersion: eventing.keda.sh/v1alpha1\nkind: CloudEventSource\n",
    ));
    assert!(matches!(doc.content, DocumentContent::Other(_)));
}

#[test]
fn yaml_1_1_scalars_as_kubectl_reads_them() {
    // `yes` is a boolean in YAML 1.1, so it is not a string for `metadata`.
    let doc = only(load(&format!(
        "{SO_HEAD}spec:\n  scaleTargetRef: {{name: a}}\n  triggers: [{{type: prometheus, metadata: {{ignoreNullValues: yes}}}}]\n"
    )));
    assert_eq!(
        errors_of(&doc),
        vec![(
            "spec.triggers[0].metadata.ignoreNullValues".to_string(),
            "invalid type: boolean `true`, expected a string".to_string()
        )]
    );
}

#[test]
fn load_value_reads_json() {
    let doc = load_value(serde_json::json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "j"},
        "spec": {"scaleTargetRef": {"name": "a"}, "triggers": [{"type": "cron", "metadata": {}}]}
    }));
    assert_eq!(scaled_object(&doc).metadata.name(), "j");
}

#[test]
fn list_documents_are_expanded() {
    let input = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: keda.sh/v1alpha1\n  kind: ScaledObject\n  metadata: {name: one, namespace: ns}\n  spec: {scaleTargetRef: {name: a}, triggers: [{type: cron, metadata: {}}]}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cm}\nmetadata: {resourceVersion: \"\"}\n";
    let docs = load(input);
    assert_eq!(docs.len(), 2);
    assert_eq!(
        (docs[0].index, docs[0].item, docs[0].line),
        (0, Some(0), Some(1))
    );
    assert_eq!(scaled_object(&docs[0]).metadata.name(), "one");
    assert_eq!(docs[1].item, Some(1));
    assert!(matches!(docs[1].content, DocumentContent::Other(_)));
    // A list kind without items is an ordinary object.
    let doc = only(load("apiVersion: v1\nkind: List\n"));
    assert!(matches!(doc.content, DocumentContent::Other(_)));
}
