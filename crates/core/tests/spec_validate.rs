//! `spec::validate`: the seed manifests are valid; invalid objects are rejected with the messages
//! of the API server (CRD schema), KEDA's webhook and KEDA's operator; cross-object conflicts.

use prescale_core::spec::*;

const SEED: &str = include_str!("data/scaledobject.yaml");
const HOLLY: &str = include_str!("data/holly.yaml");

type Row = (Severity, String, String);

fn reports(yaml: &str) -> Vec<Report> {
    validate(&load(yaml))
}

fn rows(report: &Report) -> Vec<Row> {
    report
        .findings
        .iter()
        .map(|f| (f.severity, f.path.clone(), f.message.clone()))
        .collect()
}

/// The findings of a single-document input.
fn findings(yaml: &str) -> Vec<Row> {
    let r = reports(yaml);
    assert_eq!(r.len(), 1, "{r:#?}");
    rows(&r[0])
}

fn err(path: &str, message: &str) -> Row {
    (Severity::Error, path.to_string(), message.to_string())
}

fn warn(path: &str, message: &str) -> Row {
    (Severity::Warning, path.to_string(), message.to_string())
}

/// A ScaledObject named `name` in namespace `ns` with `body` (YAML lines indented under `spec:`).
fn so(name: &str, body: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n{body}"
    )
}

const TARGET: &str = "  scaleTargetRef: {name: web}\n";
const PROM: &str = "  triggers:\n  - type: prometheus\n    metadata: {serverAddress: http://prom:9090, query: up, threshold: '1'}\n";

fn plain(extra: &str) -> String {
    so("so", &format!("{TARGET}{extra}{PROM}"))
}

const POLLING_WARNING: &str = "PollingInterval is configured but is not relevant. PollingInterval is only relevant when minReplicaCount = 0, idleReplicaCount is set, or useCachedMetrics is enabled";
const COOLDOWN_WARNING: &str = "CooldownPeriod is configured but is not relevant. CooldownPeriod is only relevant when minReplicaCount = 0 or idleReplicaCount is set";

// --- valid objects ---------------------------------------------------------------------------

#[test]
fn seed_scaled_object_is_valid_with_keda_warnings() {
    let r = reports(SEED);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, Status::Ok);
    assert_eq!(r[0].object.display_name(), "ScaledObject/ho11y/ho11y-hpa");
    // minReplicaCount 1 with pollingInterval and cooldownPeriod set: KEDA's webhook warns.
    assert_eq!(
        rows(&r[0]),
        vec![
            warn("spec.pollingInterval", POLLING_WARNING),
            warn("spec.cooldownPeriod", COOLDOWN_WARNING),
        ]
    );
}

#[test]
fn seed_app_objects_are_skipped() {
    let r = reports(&format!("{HOLLY}\n---\n{SEED}"));
    assert_eq!(r.len(), 7);
    assert!(
        r[..6]
            .iter()
            .all(|r| r.status == Status::Skipped && r.findings.is_empty())
    );
    assert_eq!(r[6].status, Status::Ok);
}

#[test]
fn minimal_objects_of_every_kind_are_valid() {
    let input = format!(
        "{}---\napiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata: {{name: job}}\nspec:\n  jobTargetRef:\n    template:\n      spec:\n        containers: [{{name: c, image: busybox, ports: [{{containerPort: 80}}]}}]\n        restartPolicy: Never\n  triggers: [{{type: rabbitmq, metadata: {{queueName: q}}}}]\n---\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata: {{name: ta, namespace: ns}}\nspec:\n  podIdentity: {{provider: aws}}\n---\napiVersion: keda.sh/v1alpha1\nkind: ClusterTriggerAuthentication\nmetadata: {{name: cta}}\nspec:\n  filePath: creds/amp.json\n",
        plain("")
    );
    let r = reports(&input);
    let got: Vec<(Status, Vec<Row>)> = r.iter().map(|r| (r.status, rows(r))).collect();
    assert_eq!(
        got,
        vec![
            (Status::Ok, vec![]),
            (Status::Ok, vec![]),
            (Status::Ok, vec![]),
            (Status::Ok, vec![])
        ]
    );
}

// --- API server: metadata and CRD schema -----------------------------------------------------

#[test]
fn crd_minimums_and_maximums() {
    let cases = [
        (
            "  pollingInterval: 0\n",
            "spec.pollingInterval",
            "Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1",
        ),
        (
            "  cooldownPeriod: -1\n",
            "spec.cooldownPeriod",
            "Invalid value: -1: spec.cooldownPeriod in body should be greater than or equal to 0",
        ),
        (
            "  initialCooldownPeriod: -5\n",
            "spec.initialCooldownPeriod",
            "Invalid value: -5: spec.initialCooldownPeriod in body should be greater than or equal to 0",
        ),
        (
            "  idleReplicaCount: -1\n",
            "spec.idleReplicaCount",
            "Invalid value: -1: spec.idleReplicaCount in body should be greater than or equal to 0",
        ),
        (
            "  minReplicaCount: -1\n",
            "spec.minReplicaCount",
            "Invalid value: -1: spec.minReplicaCount in body should be greater than or equal to 0",
        ),
        (
            "  maxReplicaCount: 0\n",
            "spec.maxReplicaCount",
            "Invalid value: 0: spec.maxReplicaCount in body should be greater than or equal to 1",
        ),
        (
            "  fallback: {failureThreshold: -1, replicas: 2}\n",
            "spec.fallback.failureThreshold",
            "Invalid value: -1: spec.fallback.failureThreshold in body should be greater than or equal to 0",
        ),
        (
            "  fallback: {failureThreshold: 3, replicas: -2}\n",
            "spec.fallback.replicas",
            "Invalid value: -2: spec.fallback.replicas in body should be greater than or equal to 0",
        ),
        (
            "  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleDown: {stabilizationWindowSeconds: 3700}\n",
            "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds",
            "Invalid value: 3700: spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds in body should be less than or equal to 3600",
        ),
        (
            "  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleUp: {stabilizationWindowSeconds: -1}\n",
            "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.stabilizationWindowSeconds",
            "Invalid value: -1: spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.stabilizationWindowSeconds in body should be greater than or equal to 0",
        ),
        (
            "  advanced:\n    scalingModifiers: {formula: x, target: '1', metricType: Utilization}\n",
            "spec.advanced.scalingModifiers.metricType",
            "Unsupported value: \"Utilization\": supported values: \"AverageValue\", \"Value\"",
        ),
    ];
    for (extra, path, message) in cases {
        assert_eq!(findings(&plain(extra)), vec![err(path, message)], "{extra}");
    }
}

#[test]
fn crd_cel_rule_min_le_max() {
    assert_eq!(
        findings(&plain("  minReplicaCount: 5\n  maxReplicaCount: 2\n")),
        vec![err(
            "spec",
            "Invalid value: \"object\": minReplicaCount must be less than or equal to maxReplicaCount"
        )]
    );
    // Without maxReplicaCount the rule compares with 100.
    assert_eq!(
        findings(&plain("  minReplicaCount: 101\n")),
        vec![err(
            "spec",
            "Invalid value: \"object\": minReplicaCount must be less than or equal to maxReplicaCount"
        )]
    );
    assert_eq!(
        findings(&plain("  minReplicaCount: 100\n")),
        Vec::<Row>::new()
    );
}

#[test]
fn crd_required_lengths_and_items() {
    assert_eq!(
        findings(&so("so", "  scaleTargetRef: {name: ''}\n  triggers: []\n")),
        vec![
            err(
                "spec.scaleTargetRef.name",
                "Invalid value: \"\": spec.scaleTargetRef.name in body should be at least 1 chars long"
            ),
            err(
                "spec.triggers",
                "Invalid value: 0: spec.triggers in body should have at least 1 items"
            ),
        ]
    );
    assert_eq!(
        findings(&so(
            "so",
            &format!("{TARGET}  triggers: [{{type: '', metadata: {{}}}}]\n")
        )),
        vec![err(
            "spec.triggers[0].type",
            "Invalid value: \"\": spec.triggers[0].type in body should be at least 1 chars long"
        )]
    );
    assert_eq!(
        findings(&plain("  fallback: {replicas: 2}\n")),
        vec![err("spec.fallback.failureThreshold", "Required value")]
    );
    assert_eq!(
        findings(&so(
            "so",
            "  scaleTargetRef: {kind: Deployment}\n  triggers: [{type: cron, metadata: {}}]\n"
        )),
        vec![err("spec.scaleTargetRef.name", "Required value")]
    );
}

#[test]
fn object_names() {
    let yaml = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {namespace: ns}\nspec: {scaleTargetRef: {name: a}, triggers: [{type: cron, metadata: {}}]}\n";
    assert_eq!(
        findings(yaml),
        vec![err(
            "metadata.name",
            "Required value: name or generateName is required"
        )]
    );
    assert_eq!(
        findings(&so("My_SO", &format!("{TARGET}{PROM}"))),
        vec![err(
            "metadata.name",
            "Invalid value: \"My_SO\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )]
    );
}

// --- KEDA's webhook --------------------------------------------------------------------------

#[test]
fn name_length_limits() {
    let long = "a".repeat(64);
    assert_eq!(
        findings(&so(&long, &format!("{TARGET}{PROM}"))),
        vec![err(
            "metadata.name",
            &format!(
                "scaledobject name \"{long}\" is 64 characters long; must be no more than 63 characters because it is used as the \"scaledobject.keda.sh/name\" label value"
            )
        )]
    );
    // At the limit with a custom HPA name: fine.
    let limit = "b".repeat(63);
    assert_eq!(
        findings(&so(
            &limit,
            &format!(
                "{TARGET}  advanced: {{horizontalPodAutoscalerConfig: {{name: short}}}}\n{PROM}"
            )
        )),
        Vec::<Row>::new()
    );
    // 55 characters: `keda-hpa-` makes 64.
    let n55 = "c".repeat(55);
    assert_eq!(
        findings(&so(&n55, &format!("{TARGET}{PROM}"))),
        vec![err(
            "metadata.name",
            &format!(
                "HPA name \"keda-hpa-{n55}\" derived from scaledobject is 64 characters long; must be no more than 63 characters; set spec.advanced.horizontalPodAutoscalerConfig.name to a shorter name or shorten the scaledobject name"
            )
        )]
    );
    let n54 = "d".repeat(54);
    assert_eq!(
        findings(&so(&n54, &format!("{TARGET}{PROM}"))),
        Vec::<Row>::new()
    );
    // A long custom HPA name.
    let hpa = "h".repeat(64);
    assert_eq!(
        findings(&so(
            "so",
            &format!(
                "{TARGET}  advanced: {{horizontalPodAutoscalerConfig: {{name: {hpa}}}}}\n{PROM}"
            )
        )),
        vec![err(
            "spec.advanced.horizontalPodAutoscalerConfig.name",
            &format!(
                "HPA name \"{hpa}\" derived from scaledobject is 64 characters long; must be no more than 63 characters; set spec.advanced.horizontalPodAutoscalerConfig.name to a shorter name or shorten the scaledobject name"
            )
        )]
    );
}

#[test]
fn replica_bounds_and_idle() {
    assert_eq!(
        findings(&plain("  minReplicaCount: 1\n  idleReplicaCount: 1\n")),
        vec![err(
            "spec.idleReplicaCount",
            "IdleReplicaCount=1 must be less than MinReplicaCount=1"
        )]
    );
    assert_eq!(
        findings(&plain("  idleReplicaCount: 0\n")),
        vec![err(
            "spec.idleReplicaCount",
            "IdleReplicaCount=0 must be less than MinReplicaCount=0"
        )]
    );
    assert_eq!(
        findings(&plain("  minReplicaCount: 0\n  idleReplicaCount: 0\n")),
        Vec::<Row>::new()
    );
}

#[test]
fn fallback_rules() {
    let cpu_only = so(
        "so",
        &format!(
            "{TARGET}  minReplicaCount: 1\n  fallback: {{failureThreshold: 3, replicas: 2}}\n  triggers:\n  - {{type: cpu, metricType: Utilization, metadata: {{value: '50'}}}}\n"
        ),
    );
    assert_eq!(
        findings(&cpu_only),
        vec![err(
            "spec.fallback",
            "at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled"
        )]
    );
    assert_eq!(
        findings(&plain(
            "  fallback: {failureThreshold: 3, replicas: 2, behavior: scalingModifiers}\n"
        )),
        vec![err(
            "spec.fallback.behavior",
            "scalingModifiers fallback behavior requires scalingModifiers.formula to be defined"
        )]
    );
    assert_eq!(
        findings(&plain(
            "  fallback: {failureThreshold: 3, replicas: 2, behavior: currentReplicasIfHigher}\n"
        )),
        Vec::<Row>::new()
    );
}

#[test]
fn trigger_rules() {
    let dup = so(
        "so",
        &format!(
            "{TARGET}  triggers:\n  - {{type: kafka, name: t, metadata: {{}}}}\n  - {{type: cron, name: t, metadata: {{}}}}\n"
        ),
    );
    assert_eq!(
        findings(&dup),
        vec![err(
            "spec.triggers[1].name",
            "triggerName \"t\" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique"
        )]
    );
    let cached = so(
        "so",
        &format!(
            "{TARGET}  triggers:\n  - {{type: cron, useCachedMetrics: true, metadata: {{}}}}\n"
        ),
    );
    assert_eq!(
        findings(&cached),
        vec![err(
            "spec.triggers[0].useCachedMetrics",
            "property \"useCachedMetrics\" is not supported for \"cron\" scaler"
        )]
    );
}

fn modifiers(sm: &str, triggers: &str) -> String {
    so(
        "so",
        &format!("{TARGET}  advanced:\n    scalingModifiers: {sm}\n  triggers:\n{triggers}"),
    )
}

const NAMED: &str = "  - {type: kafka, name: workload_trig, metadata: {}}\n  - {type: cron, name: cron_trig, metadata: {}}\n";

#[test]
fn scaling_modifiers_rules() {
    let base = "spec.advanced.scalingModifiers";
    assert_eq!(
        findings(&modifiers(
            "{formula: 'workload_trig + cron_trig', target: '2'}",
            NAMED
        )),
        Vec::<Row>::new()
    );
    assert_eq!(
        findings(&modifiers("{formula: 'workload_trig + cron_trig'}", NAMED)),
        vec![err(
            &format!("{base}.target"),
            "error validating formula in ScalingModifiers\nformula is given but target is empty"
        )]
    );
    assert_eq!(
        findings(&modifiers("{target: '2'}", NAMED)),
        vec![err(
            &format!("{base}.formula"),
            "error ScalingModifiers.Formula is mandatory"
        )]
    );
    assert_eq!(
        findings(&modifiers(
            "{formula: 'workload_trig', target: 'two'}",
            NAMED
        )),
        vec![err(
            &format!("{base}.target"),
            "error validating target in ScalingModifiers\nerror converting target for scalingModifiers (string->float) to valid target: strconv.ParseFloat: parsing \"two\": invalid syntax"
        )]
    );
    assert_eq!(
        findings(&modifiers("{formula: 'workload_trig', target: '0'}", NAMED)),
        vec![err(
            &format!("{base}.target"),
            "error validating target in ScalingModifiers\nerror converting target for scalingModifiers (string->float) to valid target: %!w(<nil>)"
        )]
    );
    // Formula identifiers must be names of non-cpu/memory triggers (expr's "unknown name").
    let unnamed = "  - {type: kafka, metadata: {}}\n  - {type: cron, metadata: {}}\n";
    assert_eq!(
        findings(&modifiers(
            "{formula: 'workload_trig + cron_trig', target: '2'}",
            unnamed
        )),
        vec![err(
            &format!("{base}.formula"),
            "error validating formula in ScalingModifiers\nunknown name workload_trig (1:7)\n | float(workload_trig + cron_trig)\n | ......^"
        )]
    );
    let cpu_named = "  - {type: cpu, name: cpu_trig, metricType: Utilization, metadata: {value: '50'}}\n  - {type: kafka, name: k, metadata: {}}\n";
    assert_eq!(
        findings(&modifiers(
            "{formula: 'cpu_trig + k', target: '2'}",
            cpu_named
        )),
        vec![err(
            &format!("{base}.formula"),
            "error validating formula in ScalingModifiers\nunknown name cpu_trig (1:7)\n | float(cpu_trig + k)\n | ......^"
        )]
    );
    assert_eq!(
        findings(&modifiers(
            "{formula: 'workload_trig +', target: '2'}",
            NAMED
        )),
        vec![err(
            &format!("{base}.formula"),
            "error validating formula in ScalingModifiers\nunexpected token Bracket(\")\") (1:22)\n | float(workload_trig +)\n | .....................^"
        )]
    );
    // The webhook cases of KEDA's test suite.
    for formula in [
        "workload_trig + 1",
        "float(workload_trig + 1)",
        "float(workload_trig < 5 ? cron_trig + workload_trig : 5)",
        "workload_trig < 5 ? cron_trig + workload_trig : 5",
        "count([workload_trig,cron_trig],{#>1}) > 1 ? 5 : 0",
        "float(workload_trig < 2 ? workload_trig+cron_trig >= 2 ? 5 : 10 : 0)",
        "float(float(cron_trig < 5 ? workload_trig + cron_trig : 5))",
    ] {
        assert_eq!(
            findings(&modifiers(
                &format!("{{formula: '{formula}', target: '2'}}"),
                NAMED
            )),
            Vec::<Row>::new(),
            "{formula}"
        );
    }
    // With scalingModifiers, fallback is allowed with cpu-only... and the formula may use `??`.
    assert_eq!(
        findings(&so(
            "so",
            &format!(
                "{TARGET}  fallback: {{failureThreshold: 3, replicas: 1, behavior: scalingModifiers}}\n  advanced:\n    scalingModifiers: {{formula: 'trig_one ?? trig_two ?? 5', target: '2'}}\n  triggers:\n  - {{type: kafka, name: trig_one, metadata: {{}}}}\n  - {{type: kafka, name: trig_two, metadata: {{}}}}\n"
            )
        )),
        Vec::<Row>::new()
    );
}

#[test]
fn resource_triggers_cannot_scale_to_zero() {
    let cpu = "  triggers:\n  - {type: cpu, metricType: Utilization, metadata: {value: '50'}}\n";
    assert_eq!(
        findings(&so("so", &format!("{TARGET}{cpu}"))),
        vec![err(
            "spec.minReplicaCount",
            "scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn't work in this case)"
        )]
    );
    assert_eq!(
        findings(&so("so", &format!("{TARGET}  minReplicaCount: 1\n{cpu}"))),
        Vec::<Row>::new()
    );
    // Only Deployments and StatefulSets are checked.
    assert_eq!(
        findings(&so(
            "so",
            &format!(
                "  scaleTargetRef: {{name: r, apiVersion: argoproj.io/v1alpha1, kind: Rollout}}\n{cpu}"
            )
        )),
        Vec::<Row>::new()
    );
}

#[test]
fn webhook_warning_cases() {
    // (minReplicaCount, idleReplicaCount, pollingInterval, cooldownPeriod, useCachedMetrics) -> warnings
    type Case = (
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        bool,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (Some(1), None, Some(30), None, false, vec![POLLING_WARNING]),
        (Some(2), Some(1), Some(30), None, false, vec![]),
        (Some(2), Some(0), Some(30), None, false, vec![]),
        (Some(2), Some(1), Some(30), None, true, vec![]),
        (Some(1), None, Some(30), None, true, vec![]),
        (Some(2), Some(1), None, None, false, vec![]),
        (
            Some(1),
            None,
            None,
            Some(300),
            false,
            vec![COOLDOWN_WARNING],
        ),
        (Some(2), Some(1), None, Some(300), false, vec![]),
        (Some(2), Some(0), None, Some(300), false, vec![]),
        (
            Some(2),
            None,
            Some(30),
            Some(300),
            false,
            vec![POLLING_WARNING, COOLDOWN_WARNING],
        ),
        (Some(2), Some(0), Some(30), Some(300), false, vec![]),
        (None, None, Some(30), Some(300), false, vec![]),
        (Some(0), None, Some(30), Some(300), false, vec![]),
    ];
    for (min, idle, polling, cooldown, cached, want) in cases {
        let mut extra = String::new();
        for (k, v) in [
            ("minReplicaCount", min),
            ("idleReplicaCount", idle),
            ("pollingInterval", polling),
            ("cooldownPeriod", cooldown),
        ] {
            if let Some(v) = v {
                extra.push_str(&format!("  {k}: {v}\n"));
            }
        }
        let triggers = format!(
            "  triggers:\n  - {{type: kafka, useCachedMetrics: {cached}, metadata: {{}}}}\n"
        );
        let got: Vec<String> = findings(&so("so", &format!("{TARGET}{extra}{triggers}")))
            .into_iter()
            .map(|(sev, _, m)| {
                assert_eq!(sev, Severity::Warning);
                m
            })
            .collect();
        assert_eq!(got, want, "{extra} cached={cached}");
    }
}

#[test]
fn schema_errors_stop_before_the_webhook() {
    // pollingInterval 0 (CRD) and duplicate trigger names (webhook): only the CRD error.
    let yaml = so(
        "so",
        &format!(
            "{TARGET}  pollingInterval: 0\n  triggers:\n  - {{type: kafka, name: t, metadata: {{}}}}\n  - {{type: kafka, name: t, metadata: {{}}}}\n"
        ),
    );
    assert_eq!(
        findings(&yaml),
        vec![err(
            "spec.pollingInterval",
            "Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1"
        )]
    );
}

// --- KEDA's operator -------------------------------------------------------------------------

#[test]
fn operator_rejects_unknown_trigger_types_and_metric_types() {
    assert_eq!(
        findings(&so(
            "so",
            &format!("{TARGET}  triggers: [{{type: promethues, metadata: {{}}}}]\n")
        )),
        vec![err(
            "spec.triggers[0].type",
            "no scaler found for type: promethues"
        )]
    );
    assert_eq!(
        findings(&so(
            "so",
            &format!(
                "{TARGET}  triggers: [{{type: prometheus, metricType: Utilization, metadata: {{}}}}]\n"
            )
        )),
        vec![err(
            "spec.triggers[0].metricType",
            "error getting scaler metric type: 'Utilization' metric type is unsupported for external metrics, allowed values are 'Value' or 'AverageValue'"
        )]
    );
    assert_eq!(
        findings(&so(
            "so",
            &format!(
                "{TARGET}  triggers: [{{type: prometheus, metricType: Average, metadata: {{}}}}]\n"
            )
        )),
        vec![err(
            "spec.triggers[0].metricType",
            "Invalid value: \"Average\": must be either Utilization, Value, or AverageValue"
        )]
    );
    assert_eq!(
        findings(&so(
            "so",
            &format!(
                "{TARGET}  minReplicaCount: 1\n  triggers: [{{type: memory, metadata: {{value: '80'}}}}]\n"
            )
        )),
        vec![err(
            "spec.triggers[0].metricType",
            "error parsing memory metadata: unknown metric type: , allowed values are 'Utilization' or 'AverageValue'"
        )]
    );
    assert_eq!(
        findings(&so(
            "so",
            &format!(
                "{TARGET}  minReplicaCount: 1\n  triggers: [{{type: cpu, metricType: Value, metadata: {{value: '80'}}}}]\n"
            )
        )),
        vec![err(
            "spec.triggers[0].metricType",
            "error parsing cpu metadata: unknown metric type: Value, allowed values are 'Utilization' or 'AverageValue'"
        )]
    );
}

#[test]
fn operator_rejects_hpa_policies_the_hpa_api_rejects() {
    let yaml = plain(
        "  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleUp:\n          policies: [{type: Pods, value: 0, periodSeconds: 15}, {type: Percent, value: 10, periodSeconds: 1801}]\n        scaleDown:\n          policies: [{type: Percent, value: 10, periodSeconds: 0}]\n",
    );
    let base = "spec.advanced.horizontalPodAutoscalerConfig.behavior";
    assert_eq!(
        findings(&yaml),
        vec![
            err(
                &format!("{base}.scaleUp.policies[0].value"),
                "Invalid value: 0: must be greater than zero"
            ),
            err(
                &format!("{base}.scaleUp.policies[1].periodSeconds"),
                "Invalid value: 1801: must be less than or equal to 1800"
            ),
            err(
                &format!("{base}.scaleDown.policies[0].periodSeconds"),
                "Invalid value: 0: must be greater than zero"
            ),
        ]
    );
}

#[test]
fn operator_rejects_an_unparsable_paused_replicas_annotation() {
    let yaml = format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n  annotations: {{autoscaling.keda.sh/paused-replicas: five}}\nspec:\n{TARGET}{PROM}"
    );
    assert_eq!(
        findings(&yaml),
        vec![err(
            "metadata.annotations[autoscaling.keda.sh/paused-replicas]",
            "failed to parse paused replica count: strconv.ParseInt: parsing \"five\": invalid syntax"
        )]
    );
}

// --- across objects --------------------------------------------------------------------------

fn statuses(yaml: &str) -> Vec<(String, Status, Vec<Row>)> {
    reports(yaml)
        .iter()
        .map(|r| (r.object.display_name(), r.status, rows(r)))
        .collect()
}

#[test]
fn two_scaled_objects_for_one_workload() {
    let yaml = format!(
        "{}---\n{}",
        plain(""),
        so("other", &format!("{TARGET}{PROM}"))
    );
    assert_eq!(
        statuses(&yaml),
        vec![
            ("ScaledObject/ns/so".to_string(), Status::Ok, vec![]),
            (
                "ScaledObject/ns/other".to_string(),
                Status::Error,
                vec![err(
                    "spec.scaleTargetRef.name",
                    "the workload 'web' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'so'"
                )]
            ),
        ]
    );
}

#[test]
fn same_workload_name_with_another_kind_or_namespace_is_fine() {
    let sts = so(
        "sts",
        &format!("  scaleTargetRef: {{name: web, kind: StatefulSet}}\n{PROM}"),
    );
    let other_ns = plain("").replace("namespace: ns", "namespace: ns2");
    let yaml = format!("{}---\n{sts}---\n{other_ns}", plain(""));
    assert!(
        reports(&yaml).iter().all(|r| r.status == Status::Ok),
        "{:#?}",
        reports(&yaml)
    );
}

#[test]
fn two_scaled_objects_owning_one_hpa() {
    let first = so(
        "first",
        &format!(
            "  scaleTargetRef: {{name: a}}\n  advanced: {{horizontalPodAutoscalerConfig: {{name: keda-hpa-second}}}}\n{PROM}"
        ),
    );
    let second = so("second", &format!("  scaleTargetRef: {{name: b}}\n{PROM}"));
    assert_eq!(
        statuses(&format!("{first}---\n{second}")),
        vec![
            ("ScaledObject/ns/first".to_string(), Status::Ok, vec![]),
            (
                "ScaledObject/ns/second".to_string(),
                Status::Error,
                vec![err(
                    "metadata.name",
                    "the HPA 'keda-hpa-second' is already managed by the ScaledObject 'first'"
                )]
            ),
        ]
    );
}

#[test]
fn conflicts_ignore_invalid_objects_and_updates() {
    // The first is invalid (never created), so the second may take the workload.
    let invalid = plain("  pollingInterval: 0\n");
    let yaml = format!("{invalid}---\n{}", so("other", &format!("{TARGET}{PROM}")));
    let r = reports(&yaml);
    assert_eq!((r[0].status, r[1].status), (Status::Error, Status::Ok));
    // The same object twice is an update, not a conflict.
    let yaml = format!("{}---\n{}", plain(""), plain("  maxReplicaCount: 5\n"));
    assert!(reports(&yaml).iter().all(|r| r.status == Status::Ok));
}

// --- TriggerAuthentication -------------------------------------------------------------------

fn ta(kind: &str, spec: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: {kind}\nmetadata: {{name: auth, namespace: ns}}\nspec:\n{spec}"
    )
}

#[test]
fn trigger_authentication_webhook_cases() {
    let ok: &[&str] = &[
        "  podIdentity: {provider: azure-workload, identityId: '12345', identityTenantId: '12345'}\n",
        "  podIdentity: {provider: azure-workload, identityId: '12345', identityTenantId: '12345', identityAuthorityHost: 'https://login'}\n",
        "  podIdentity: {provider: aws, roleArn: 'arn:aws:iam::1:role/r'}\n",
        "  podIdentity: {provider: aws, roleArn: 'arn:aws:iam::1:role/r', identityOwner: keda}\n",
        "  podIdentity: {provider: aws, roleArn: '', identityOwner: workload}\n",
        "  podIdentity: {provider: aws, identityOwner: keda}\n",
        "  podIdentity: {provider: aws, roleArn: 'arn:aws:iam::1:role/r', externalID: ext}\n",
        "  oauth2: {clientId: id, tokenUrl: 'https://auth.example.com/token'}\n",
        // Another provider ends KEDA's checks, so oauth2 is not looked at.
        "  podIdentity: {provider: gcp}\n  oauth2: {clientId: '', tokenUrl: 'x'}\n",
    ];
    for spec in ok {
        for kind in ["TriggerAuthentication", "ClusterTriggerAuthentication"] {
            assert_eq!(
                findings(&ta(kind, spec)),
                Vec::<Row>::new(),
                "{kind} {spec}"
            );
        }
    }
    let bad: &[(&str, &str, &str)] = &[
        (
            "  podIdentity: {provider: azure-workload, identityId: '12345', identityTenantId: ''}\n",
            "spec.podIdentity.identityTenantId",
            "identityTenantId of PodIdentity should not be empty. If it's set, identityTenantId has to be different than \"\"",
        ),
        (
            "  podIdentity: {provider: azure-workload, identityId: ''}\n",
            "spec.podIdentity.identityId",
            "identityId of PodIdentity should not be empty. If it's set, identityId has to be different than \"\"",
        ),
        (
            "  podIdentity: {provider: azure-workload, identityAuthorityHost: 'https://login'}\n",
            "spec.podIdentity.identityTenantId",
            "identityTenantID of PodIdentity should not be nil or empty when identityAuthorityHost of PodIdentity is set",
        ),
        (
            "  podIdentity: {provider: azure-workload, identityAuthorityHost: 'https://login', identityTenantId: ''}\n",
            "spec.podIdentity.identityTenantId",
            "identityTenantID of PodIdentity should not be nil or empty when identityAuthorityHost of PodIdentity is set",
        ),
        (
            "  podIdentity: {provider: aws, roleArn: 'arn:aws:iam::1:role/r', identityOwner: workload}\n",
            "spec.podIdentity.roleArn",
            "roleArn of PodIdentity can't be set if KEDA isn't identityOwner",
        ),
        (
            "  podIdentity: {provider: aws, externalID: ext}\n",
            "spec.podIdentity.externalID",
            "externalID of PodIdentity requires roleArn to be set",
        ),
        (
            "  podIdentity: {provider: aws, externalID: ext, roleArn: ''}\n",
            "spec.podIdentity.externalID",
            "externalID of PodIdentity requires roleArn to be set",
        ),
        (
            "  oauth2: {clientId: '', tokenUrl: 'https://auth'}\n",
            "spec.oauth2.clientId",
            "oauth2.clientId is required when oauth2 is configured",
        ),
        (
            "  oauth2: {clientId: id, tokenUrl: ''}\n",
            "spec.oauth2.tokenUrl",
            "oauth2.tokenUrl is required when oauth2 is configured",
        ),
        (
            "  oauth2: {clientId: id, tokenUrl: 'ftp://auth/token'}\n",
            "spec.oauth2.tokenUrl",
            "oauth2.tokenUrl must be a valid http or https URL",
        ),
        (
            "  oauth2: {clientId: id, tokenUrl: 'https:///token'}\n",
            "spec.oauth2.tokenUrl",
            "oauth2.tokenUrl must be a valid http or https URL",
        ),
    ];
    for (spec, path, message) in bad {
        for kind in ["TriggerAuthentication", "ClusterTriggerAuthentication"] {
            assert_eq!(
                findings(&ta(kind, spec)),
                vec![err(path, message)],
                "{kind} {spec}"
            );
        }
    }
}

#[test]
fn trigger_authentication_crd_rules() {
    assert_eq!(
        findings(&ta(
            "TriggerAuthentication",
            "  oauth2: {type: password, clientId: id, tokenUrl: 'https://a'}\n"
        )),
        vec![err(
            "spec.oauth2.type",
            "Unsupported value: \"password\": supported values: \"clientCredentials\""
        )]
    );
    assert_eq!(
        findings(&ta(
            "TriggerAuthentication",
            "  hashiCorpVault: {address: 'https://vault', authentication: token, secrets: []}\n"
        )),
        vec![err(
            "spec.hashiCorpVault.secrets",
            "Invalid value: 0: spec.hashiCorpVault.secrets in body should have at least 1 items"
        )]
    );
}

#[test]
fn file_path_is_for_cluster_trigger_authentications() {
    assert_eq!(
        findings(&ta("TriggerAuthentication", "  filePath: creds.json\n")),
        vec![err(
            "spec.filePath",
            "filePath is only supported for ClusterTriggerAuthentication, got kind: TriggerAuthentication"
        )]
    );
    assert_eq!(
        findings(&ta(
            "ClusterTriggerAuthentication",
            "  filePath: ../creds.json\n"
        )),
        vec![err(
            "spec.filePath",
            "filePath must be relative and not contain '..'"
        )]
    );
}

// --- ScaledJob -------------------------------------------------------------------------------

fn sj(spec: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata: {{name: job, namespace: ns}}\nspec:\n{spec}"
    )
}

const JOB: &str = "  jobTargetRef:\n    template:\n      spec:\n        containers: [{name: c, image: busybox}]\n";

#[test]
fn scaled_job_rules() {
    assert_eq!(
        findings(&sj(&format!(
            "{JOB}  triggers:\n  - {{type: rabbitmq, name: q, metadata: {{}}}}\n  - {{type: kafka, name: q, metadata: {{}}}}\n"
        ))),
        vec![err(
            "spec.triggers[1].name",
            "triggerName \"q\" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique"
        )]
    );
    assert_eq!(
        findings(&sj(&format!(
            "{JOB}  pollingInterval: 0\n  successfulJobsHistoryLimit: -1\n  scalingStrategy: {{strategy: fastest}}\n  triggers: [{{type: rabbitmq, metadata: {{}}}}]\n"
        ))),
        vec![
            err(
                "spec.pollingInterval",
                "Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1"
            ),
            err(
                "spec.scalingStrategy.strategy",
                "Unsupported value: \"fastest\": supported values: \"default\", \"custom\", \"accurate\", \"eager\""
            ),
            err(
                "spec.successfulJobsHistoryLimit",
                "Invalid value: -1: spec.successfulJobsHistoryLimit in body should be greater than or equal to 0"
            ),
        ]
    );
    assert_eq!(
        findings(&sj("  triggers: [{type: rabbitmq, metadata: {}}]\n")),
        vec![err("spec.jobTargetRef", "Required value")]
    );
}

#[test]
fn scaled_job_template_is_checked_against_the_job_schema() {
    let yaml = sj(
        "  jobTargetRef:\n    parallelism: two\n    template:\n      spec:\n        containers:\n        - image: busybox\n          ports: [{containerPort: 80}]\n          resources: {limits: {cpu: lots}}\n  triggers: [{type: rabbitmq, metadata: {}}]\n",
    );
    assert_eq!(
        findings(&yaml),
        vec![
            err(
                "spec.jobTargetRef.parallelism",
                "Invalid value: \"string\": spec.jobTargetRef.parallelism in body must be of type integer: \"string\""
            ),
            err(
                "spec.jobTargetRef.template.spec.containers[0].name",
                "Required value"
            ),
            err(
                "spec.jobTargetRef.template.spec.containers[0].resources.limits.cpu",
                "Invalid value: \"lots\": spec.jobTargetRef.template.spec.containers[0].resources.limits.cpu in body should match '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'"
            ),
        ]
    );
}

// --- reports ---------------------------------------------------------------------------------

#[test]
fn report_statuses() {
    let yaml = format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: s}}\n---\n{}",
        plain(""),
        plain("  pollingInterval: 0\n").replace("name: so", "name: bad")
    );
    let r = reports(&yaml);
    let got: Vec<(String, Status)> = r
        .iter()
        .map(|r| (r.object.display_name(), r.status))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ScaledObject/ns/so".to_string(), Status::Ok),
            ("Service/default/s".to_string(), Status::Skipped),
            ("ScaledObject/ns/bad".to_string(), Status::Error),
        ]
    );
}

#[test]
fn programmatic_objects_are_validated_too() {
    let doc = load(&plain("")).remove(0);
    let DocumentContent::Keda(KedaObject::ScaledObject(mut so)) = doc.content else {
        panic!("not a ScaledObject");
    };
    so.spec.polling_interval = Some(0);
    so.spec.triggers[0].name = Some("t".into());
    assert_eq!(
        validate::validate_scaled_object(&so)
            .into_iter()
            .map(|f| (f.severity, f.path, f.message))
            .collect::<Vec<_>>(),
        vec![err(
            "spec.pollingInterval",
            "Invalid value: 0: spec.pollingInterval in body should be greater than or equal to 1"
        )]
    );
}

// --- prescale's own annotations ---------------------------------------------------------------

fn annotated(annotations: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n  namespace: ns\n  annotations:\n{annotations}spec:\n{TARGET}{PROM}"
    )
}

#[test]
fn proactive_annotations_valid_ones_add_nothing() {
    let f = findings(&annotated(
        "    prescale.dev/forecast: auto\n    prescale.dev/pod-startup: 90s\n    prescale.dev/forecast-quantile: '0.9'\n",
    ));
    assert_eq!(f, vec![]);
}

#[test]
fn proactive_annotations_problems_are_warnings_naming_the_annotation() {
    let f = findings(&annotated(
        "    prescale.dev/forecast: prophet\n    prescale.dev/forcast-lead: 2m\n",
    ));
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f.iter().all(|r| r.0 == Severity::Warning), "{f:#?}");
    assert_eq!(
        f[0].1,
        "metadata.annotations[\"prescale.dev/forcast-lead\"]"
    );
    assert!(
        f[0].2
            .starts_with("unknown prescale annotation; known: prescale.dev/forecast,")
    );
    assert_eq!(
        f[1],
        warn(
            "metadata.annotations[\"prescale.dev/forecast\"]",
            "unknown model \"prophet\"; use one of auto, holt-winters, trend, seasonal-naive, or off; prescale \
             runs this ScaledObject reactively (as KEDA would) until it is fixed"
        )
    );
    let f = findings(&annotated(
        "    prescale.dev/forecast: trend\n    prescale.dev/forecast-margin: lots\n",
    ));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].1,
        "metadata.annotations[\"prescale.dev/forecast-margin\"]"
    );
    assert!(f[0].2.contains("\"lots\""), "{f:#?}");
}

#[test]
fn proactive_policy_does_not_apply_to_cached_metrics_triggers() {
    let yaml = format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n  namespace: ns\n  annotations:\n    prescale.dev/forecast: auto\nspec:\n{TARGET}  triggers:\n  - type: prometheus\n    useCachedMetrics: true\n    metadata: {{serverAddress: http://prom:9090, query: up, threshold: '1'}}\n"
    );
    let f = findings(&yaml);
    assert!(
        f.contains(&warn(
            "spec.triggers[0].useCachedMetrics",
            "useCachedMetrics: the HPA reads KEDA's cached poll value, which the proactive policy does not change; \
             this trigger is served reactively"
        )),
        "{f:#?}"
    );
}
