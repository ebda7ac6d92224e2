//! The install artifacts against the `prescale operator` contract: every manifest of deploy/ (and, when
//! .ci/check-install has rendered it with Helm's engine, every rendering of charts/prescale) is parsed into its
//! k8s-openapi type and serialized back; a field the type does not know (a typo) makes the two differ. Then the
//! objects are checked together: RBAC is exactly the least-privilege set, the Deployment passes only the
//! operator's flags, its ports and probes agree with the flags and the Service, the APIService points at that
//! Service, and the pod is hardened. Mutated copies of deploy/ show that each check can fail.
//!
//! Environment: PRESCALE_KUSTOMIZE_OUTPUT (the output of `kubectl kustomize deploy/`) and PRESCALE_HELM_RENDERED
//! (a directory of rendered chart cases) are set by .ci/check-install; without them those two tests say so and
//! pass, unless PRESCALE_REQUIRE_INSTALL_RENDERS is set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------------------------
// The contract (the operator's command-line brief).

/// Flags that take a value; the manifests always write them as `--flag=value`.
const VALUE_FLAGS: &[&str] = &[
    "--namespace",
    "--watch-namespace",
    "--metrics-bind-address",
    "--health-probe-bind-address",
    "--metrics-server-bind-address",
    "--cert-dir",
    "--metrics-service-name",
    "--client-ca-configmap",
    "--lease-name",
    "--lease-duration",
    "--renew-deadline",
    "--retry-period",
    "--log-format",
    "--log-level",
];
/// `--leader-elect` and `--leader-elect=false`; the other one only bare.
const BOOL_FLAGS: &[&str] = &["--leader-elect", "--insecure-skip-front-proxy-auth"];
const HEALTH_PORT: i32 = 8081;
const METRICS_API_PORT: i32 = 6443;
const METRICS_API_SERVICE_PORT: i32 = 443;
const APISERVICE_NAME: &str = "v1beta1.external.metrics.k8s.io";

/// (scope, apiGroup, resource, verb); scope "cluster" or the namespace a Role/RoleBinding grants in.
type Grant = (String, String, String, String);

fn grants(scope: &str, group: &str, resources: &[&str], verbs: &[&str]) -> Vec<Grant> {
    let mut out = Vec::new();
    for r in resources {
        for v in verbs {
            out.push((scope.into(), group.into(), (*r).into(), (*v).into()));
        }
    }
    out
}

/// Exactly what the operator's service account may do.
fn expected_operator_grants(namespace: &str) -> BTreeSet<Grant> {
    let c = "cluster";
    let read = ["get", "list", "watch"];
    let mut all = Vec::new();
    all.extend(grants(
        c,
        "keda.sh",
        &[
            "scaledobjects",
            "scaledjobs",
            "triggerauthentications",
            "clustertriggerauthentications",
        ],
        &read,
    ));
    all.extend(grants(
        c,
        "keda.sh",
        &[
            "scaledobjects",
            "scaledobjects/status",
            "scaledobjects/finalizers",
            "triggerauthentications/status",
            "clustertriggerauthentications/status",
        ],
        &["update", "patch"],
    ));
    all.extend(grants(
        c,
        "autoscaling",
        &["horizontalpodautoscalers"],
        &[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ],
    ));
    all.extend(grants(c, "*", &["*/scale"], &["get", "update", "patch"]));
    all.extend(grants(
        c,
        "apps",
        &["deployments", "statefulsets"],
        &["get"],
    ));
    all.extend(grants(c, "", &["configmaps", "secrets"], &read));
    all.extend(grants(c, "", &["serviceaccounts"], &["get"]));
    all.extend(grants(c, "", &["events"], &["create", "patch"]));
    all.extend(grants(
        c,
        "events.k8s.io",
        &["events"],
        &["create", "patch"],
    ));
    all.extend(grants(
        namespace,
        "coordination.k8s.io",
        &["leases"],
        &["get", "create", "update"],
    ));
    all.into_iter().collect()
}

/// Built-in roles the operator is bound to (defined by the cluster, not by the manifests).
fn expected_builtin_refs() -> BTreeSet<String> {
    [
        "ClusterRole system:auth-delegator (cluster)",
        "Role extension-apiserver-authentication-reader (kube-system)",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

fn expected_hpa_grants() -> BTreeSet<Grant> {
    grants(
        "cluster",
        "external.metrics.k8s.io",
        &["*"],
        &["get", "list"],
    )
    .into_iter()
    .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Loading: YAML documents -> typed objects, with the round-trip comparison.

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The documents of a multi-document YAML file, each with "file#index" for messages; empty documents dropped.
fn yaml_docs(path: &Path) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
    docs.into_iter()
        .enumerate()
        .filter(|(_, d)| !d.is_null())
        .map(|(i, d)| (format!("{}#{i}", path.display()), d))
        .collect()
}

/// The first place where `a` and `b` differ, as a JSON pointer with both sides.
fn first_difference(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => first_difference(&p, l, r),
                    (Some(l), None) => Some(format!("{p}: {l} is not a field of the type (typo?)")),
                    (None, Some(r)) => Some(format!("{p}: {r} appeared on serialization")),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| first_difference(&format!("{path}/{i}"), l, r)),
        // An f64 field (JSONSchemaProps.minimum) writes `0` back as `0.0`: the same number.
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some(format!("{path}: {a} read back as {b}")),
    }
}

fn typed<T: DeserializeOwned + Serialize>(origin: &str, doc: &Value) -> Result<T, String> {
    let obj: T = serde_json::from_value(doc.clone()).map_err(|e| format!("{origin}: {e}"))?;
    let back = serde_json::to_value(&obj).map_err(|e| format!("{origin}: {e}"))?;
    match first_difference("", doc, &back) {
        None => Ok(obj),
        Some(d) => Err(format!("{origin}: round trip differs at {d}")),
    }
}

#[derive(Default)]
struct Install {
    namespaces: Vec<Namespace>,
    service_accounts: Vec<ServiceAccount>,
    cluster_roles: Vec<ClusterRole>,
    cluster_role_bindings: Vec<ClusterRoleBinding>,
    roles: Vec<Role>,
    role_bindings: Vec<RoleBinding>,
    deployments: Vec<Deployment>,
    services: Vec<Service>,
    api_services: Vec<APIService>,
    secrets: Vec<Secret>,
    crds: Vec<CustomResourceDefinition>,
    /// Kinds without a k8s-openapi type (ServiceMonitor), kept as JSON.
    other: Vec<Value>,
}

fn build(docs: &[(String, Value)]) -> Result<Install, Vec<String>> {
    let mut inst = Install::default();
    let mut errors = Vec::new();
    for (origin, doc) in docs {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let r: Result<(), String> = match (api, kind) {
            ("v1", "Namespace") => typed(origin, doc).map(|o| inst.namespaces.push(o)),
            ("v1", "ServiceAccount") => typed(origin, doc).map(|o| inst.service_accounts.push(o)),
            ("v1", "Service") => typed(origin, doc).map(|o| inst.services.push(o)),
            ("v1", "Secret") => typed(origin, doc).map(|o| inst.secrets.push(o)),
            ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
                typed(origin, doc).map(|o| inst.cluster_roles.push(o))
            }
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
                typed(origin, doc).map(|o| inst.cluster_role_bindings.push(o))
            }
            ("rbac.authorization.k8s.io/v1", "Role") => {
                typed(origin, doc).map(|o| inst.roles.push(o))
            }
            ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
                typed(origin, doc).map(|o| inst.role_bindings.push(o))
            }
            ("apps/v1", "Deployment") => typed(origin, doc).map(|o| inst.deployments.push(o)),
            ("apiregistration.k8s.io/v1", "APIService") => {
                typed(origin, doc).map(|o| inst.api_services.push(o))
            }
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => {
                typed(origin, doc).map(|o| inst.crds.push(o))
            }
            ("monitoring.coreos.com/v1", "ServiceMonitor") => {
                inst.other.push(doc.clone());
                Ok(())
            }
            _ => Err(format!("{origin}: unexpected object {api} {kind}")),
        };
        if let Err(e) = r {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(inst)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The checks.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tls {
    /// insecureSkipTLSVerify, no caBundle (the operator's certificate generated at start).
    Insecure,
    /// caBundle equal to `ca.crt` of this Secret rendered alongside, which is mounted at --cert-dir.
    GeneratedSecret(&'static str),
    /// caBundle given; this existing Secret (not rendered) mounted at --cert-dir.
    ExistingSecret(&'static str),
}

struct Expect {
    namespace: &'static str,
    deployment: &'static str,
    service_account: &'static str,
    creates_service_account: bool,
    metrics_service: &'static str,
    image: &'static str,
    replicas: i32,
    leader_elect: bool,
    metrics_port: i32,
    metrics_port_on_service: bool,
    tls: Tls,
    hpa_sa_namespace: &'static str,
}

const DEPLOY: Expect = Expect {
    namespace: "keda",
    deployment: "prescale-operator",
    service_account: "prescale-operator",
    creates_service_account: true,
    metrics_service: "prescale-metrics-apiserver",
    image: "ghcr.io/prescale/prescale:0.1.0",
    replicas: 1,
    leader_elect: true,
    metrics_port: 8080,
    metrics_port_on_service: true,
    tls: Tls::Insecure,
    hpa_sa_namespace: "kube-system",
};

/// `:8080` or `0.0.0.0:8080` -> 8080.
fn bind_port(addr: &str) -> Option<i32> {
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

fn quantity_bytes(q: &str) -> Option<f64> {
    let units = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
    ];
    for (suffix, mult) in units {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| n * mult);
        }
    }
    q.parse().ok()
}

fn quantity_cpu(q: &str) -> Option<f64> {
    match q.strip_suffix('m') {
        Some(n) => n.parse::<f64>().ok().map(|n| n / 1000.0),
        None => q.parse().ok(),
    }
}

/// The parsed flags of the operator container: flag -> value ("" for a bare boolean flag).
fn check_args(c: &Container, problems: &mut Vec<String>) -> BTreeMap<String, String> {
    let mut flags = BTreeMap::new();
    let args = c.args.clone().unwrap_or_default();
    if c.command.is_some() {
        problems.push("container sets `command`: the image's ENTRYPOINT /prescale must run".into());
    }
    match args.first().map(String::as_str) {
        Some("operator") => {}
        other => problems.push(format!(
            "first argument must be the subcommand `operator`, not {other:?}"
        )),
    }
    for arg in args.iter().skip(1) {
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (arg.as_str(), None),
        };
        let ok = if VALUE_FLAGS.contains(&flag) {
            value.is_some()
        } else if flag == "--leader-elect" {
            matches!(value, None | Some("false"))
        } else {
            BOOL_FLAGS.contains(&flag) && value.is_none()
        };
        if !ok {
            problems.push(format!(
                "argument {arg:?} is not a flag of `prescale operator` in the form used here"
            ));
            continue;
        }
        if flags
            .insert(flag.to_string(), value.unwrap_or("").to_string())
            .is_some()
        {
            problems.push(format!("flag {flag} given twice"));
        }
    }
    if let Some(f) = flags.get("--log-format")
        && !["json", "text"].contains(&f.as_str())
    {
        problems.push(format!("--log-format={f}: json or text"));
    }
    if let Some(l) = flags.get("--log-level")
        && !["error", "warn", "info", "debug", "trace"].contains(&l.as_str())
    {
        problems.push(format!(
            "--log-level={l}: error, warn, info, debug or trace"
        ));
    }
    flags
}

fn port_of(
    flags: &BTreeMap<String, String>,
    flag: &str,
    default: i32,
    problems: &mut Vec<String>,
) -> i32 {
    match flags.get(flag) {
        None => default,
        Some(addr) => bind_port(addr).unwrap_or_else(|| {
            problems.push(format!("{flag}={addr}: no port"));
            -1
        }),
    }
}

fn container_port(c: &Container, name: &str) -> Option<i32> {
    c.ports
        .as_ref()?
        .iter()
        .find(|p| p.name.as_deref() == Some(name))
        .map(|p| p.container_port)
}

fn resolve(c: &Container, port: &IntOrString) -> Option<i32> {
    match port {
        IntOrString::Int(n) => Some(*n),
        IntOrString::String(name) => container_port(c, name),
    }
}

fn check_security(d: &Deployment, c: &Container, problems: &mut Vec<String>) {
    let pod = d.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    let psc = pod
        .and_then(|p| p.security_context.clone())
        .unwrap_or_default();
    let sc = c.security_context.clone().unwrap_or_default();
    if sc.run_as_non_root.or(psc.run_as_non_root) != Some(true) {
        problems.push("runAsNonRoot is not true (pod or container securityContext)".into());
    }
    if sc.run_as_user.or(psc.run_as_user) == Some(0) {
        problems.push("runAsUser is 0".into());
    }
    let seccomp = sc.seccomp_profile.or(psc.seccomp_profile).map(|p| p.type_);
    if seccomp.as_deref() != Some("RuntimeDefault") {
        problems.push(format!("seccompProfile is {seccomp:?}, not RuntimeDefault"));
    }
    if sc.allow_privilege_escalation != Some(false) {
        problems.push("allowPrivilegeEscalation is not false".into());
    }
    if sc.read_only_root_filesystem != Some(true) {
        problems.push("readOnlyRootFilesystem is not true".into());
    }
    if sc.privileged == Some(true) {
        problems.push("privileged container".into());
    }
    let caps = sc.capabilities.unwrap_or_default();
    if !caps.drop.unwrap_or_default().iter().any(|d| d == "ALL") {
        problems.push("capabilities.drop does not contain ALL".into());
    }
    if !caps.add.unwrap_or_default().is_empty() {
        problems.push("capabilities.add is not empty".into());
    }
    if let Some(p) = pod {
        if p.host_network == Some(true) || p.host_pid == Some(true) || p.host_ipc == Some(true) {
            problems.push("pod shares a host namespace".into());
        }
        if p.automount_service_account_token == Some(false) {
            problems
                .push("automountServiceAccountToken is false: the operator needs its token".into());
        }
    }
}

fn check_resources(c: &Container, problems: &mut Vec<String>) {
    let r = c.resources.clone().unwrap_or_default();
    let get =
        |m: &Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
         k: &str| { m.as_ref().and_then(|m| m.get(k)).map(|q| q.0.clone()) };
    let (req_mem, lim_mem) = (get(&r.requests, "memory"), get(&r.limits, "memory"));
    let (req_cpu, lim_cpu) = (get(&r.requests, "cpu"), get(&r.limits, "cpu"));
    match (
        req_mem.as_deref().and_then(quantity_bytes),
        lim_mem.as_deref().and_then(quantity_bytes),
    ) {
        (Some(req), Some(lim)) => {
            if lim < 64.0 * 1024.0 * 1024.0 {
                problems.push(format!(
                    "memory limit {lim_mem:?} is below the 64 MiB the process targets"
                ));
            }
            if req > lim {
                problems.push(format!(
                    "memory request {req_mem:?} above limit {lim_mem:?}"
                ));
            }
        }
        _ => problems.push(format!(
            "memory request/limit missing or unreadable: {req_mem:?} {lim_mem:?}"
        )),
    }
    match (
        req_cpu.as_deref().and_then(quantity_cpu),
        lim_cpu.as_deref().and_then(quantity_cpu),
    ) {
        (Some(req), Some(lim)) if req <= lim => {}
        _ => problems.push(format!(
            "cpu request/limit missing, unreadable or inverted: {req_cpu:?} {lim_cpu:?}"
        )),
    }
}

fn rule_grants(
    scope: &str,
    rules: &[PolicyRule],
    origin: &str,
    problems: &mut Vec<String>,
) -> Vec<Grant> {
    let mut out = Vec::new();
    for rule in rules {
        if rule
            .non_resource_urls
            .as_ref()
            .is_some_and(|u| !u.is_empty())
        {
            problems.push(format!("{origin}: nonResourceURLs granted"));
        }
        if rule.resource_names.as_ref().is_some_and(|n| !n.is_empty()) {
            problems.push(format!(
                "{origin}: resourceNames are not part of the contract"
            ));
        }
        for v in &rule.verbs {
            if v == "*" {
                problems.push(format!("{origin}: verb `*`"));
            }
        }
        for r in rule.resources.iter().flatten() {
            if r == "*"
                && !rule
                    .api_groups
                    .iter()
                    .flatten()
                    .all(|g| g == "external.metrics.k8s.io")
            {
                problems.push(format!(
                    "{origin}: resource `*` outside external.metrics.k8s.io"
                ));
            }
            if r == "pods" || r.starts_with("pods/") {
                problems.push(format!("{origin}: pods are granted ({r})"));
            }
            if r == "secrets"
                && rule
                    .verbs
                    .iter()
                    .any(|v| !["get", "list", "watch"].contains(&v.as_str()))
            {
                problems.push(format!(
                    "{origin}: secrets are not read-only ({:?})",
                    rule.verbs
                ));
            }
            for g in rule.api_groups.iter().flatten() {
                for v in &rule.verbs {
                    out.push((scope.to_string(), g.clone(), r.clone(), v.clone()));
                }
            }
        }
    }
    out
}

fn is_sa(s: &Subject, ns: &str, name: &str) -> bool {
    s.kind == "ServiceAccount" && s.name == name && s.namespace.as_deref() == Some(ns)
}

/// Everything granted to ServiceAccount ns/name by the bindings of `inst`, and the built-in roles it is bound to.
fn granted_to(
    inst: &Install,
    ns: &str,
    name: &str,
    problems: &mut Vec<String>,
) -> (BTreeSet<Grant>, BTreeSet<String>) {
    let mut set = BTreeSet::new();
    let mut builtin = BTreeSet::new();
    for b in &inst.cluster_role_bindings {
        if !b.subjects.iter().flatten().any(|s| is_sa(s, ns, name)) {
            continue;
        }
        let origin = format!("ClusterRoleBinding {:?}", b.metadata.name);
        if b.role_ref.kind != "ClusterRole" {
            problems.push(format!("{origin}: roleRef kind {}", b.role_ref.kind));
        }
        match inst
            .cluster_roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(&b.role_ref.name))
        {
            Some(role) => set.extend(rule_grants(
                "cluster",
                role.rules.as_deref().unwrap_or(&[]),
                &origin,
                problems,
            )),
            None => {
                builtin.insert(format!("ClusterRole {} (cluster)", b.role_ref.name));
            }
        }
    }
    for b in &inst.role_bindings {
        if !b.subjects.iter().flatten().any(|s| is_sa(s, ns, name)) {
            continue;
        }
        let origin = format!("RoleBinding {:?}", b.metadata.name);
        let scope = b.metadata.namespace.clone().unwrap_or_default();
        let rules = match b.role_ref.kind.as_str() {
            "Role" => inst
                .roles
                .iter()
                .find(|r| {
                    r.metadata.name.as_deref() == Some(&b.role_ref.name)
                        && r.metadata.namespace.as_deref() == Some(&scope)
                })
                .map(|r| r.rules.clone().unwrap_or_default()),
            _ => inst
                .cluster_roles
                .iter()
                .find(|r| r.metadata.name.as_deref() == Some(&b.role_ref.name))
                .map(|r| r.rules.clone().unwrap_or_default()),
        };
        match rules {
            Some(rules) => set.extend(rule_grants(&scope, &rules, &origin, problems)),
            None => {
                builtin.insert(format!("{} {} ({scope})", b.role_ref.kind, b.role_ref.name));
            }
        }
    }
    (set, builtin)
}

fn diff_sets<T: Ord + std::fmt::Debug>(
    what: &str,
    got: &BTreeSet<T>,
    want: &BTreeSet<T>,
    problems: &mut Vec<String>,
) {
    let missing: Vec<_> = want.difference(got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    if !missing.is_empty() {
        problems.push(format!("{what}: missing {missing:?}"));
    }
    if !extra.is_empty() {
        problems.push(format!("{what}: more than the contract: {extra:?}"));
    }
}

fn check(inst: &Install, e: &Expect) -> Vec<String> {
    let mut p = Vec::new();
    let [d] = inst.deployments.as_slice() else {
        return vec![format!(
            "expected one Deployment, found {}",
            inst.deployments.len()
        )];
    };
    if d.metadata.name.as_deref() != Some(e.deployment)
        || d.metadata.namespace.as_deref() != Some(e.namespace)
    {
        p.push(format!(
            "Deployment is {:?}/{:?}",
            d.metadata.namespace, d.metadata.name
        ));
    }
    let spec = d.spec.clone().unwrap_or_default();
    if spec.replicas.unwrap_or(1) != e.replicas {
        p.push(format!(
            "replicas {:?}, expected {}",
            spec.replicas, e.replicas
        ));
    }
    let pod = spec.template.spec.clone().unwrap_or_default();
    let pod_labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    for (k, v) in spec.selector.match_labels.iter().flatten() {
        if pod_labels.get(k) != Some(v) {
            p.push(format!(
                "Deployment selector {k}={v} does not match the pod template"
            ));
        }
    }
    if pod.service_account_name.as_deref() != Some(e.service_account) {
        p.push(format!(
            "serviceAccountName {:?}, expected {}",
            pod.service_account_name, e.service_account
        ));
    }
    let [c] = pod.containers.as_slice() else {
        p.push(format!(
            "expected one container, found {}",
            pod.containers.len()
        ));
        return p;
    };
    if c.image.as_deref() != Some(e.image) {
        p.push(format!("image {:?}, expected {}", c.image, e.image));
    }
    let flags = check_args(c, &mut p);
    let metrics = port_of(&flags, "--metrics-bind-address", 8080, &mut p);
    let health = port_of(&flags, "--health-probe-bind-address", 8081, &mut p);
    let api = port_of(&flags, "--metrics-server-bind-address", 6443, &mut p);
    if health != HEALTH_PORT || api != METRICS_API_PORT || metrics != e.metrics_port {
        p.push(format!(
            "ports from the flags: metrics {metrics}, health {health}, metrics API {api}"
        ));
    }
    for (name, want) in [("metrics", metrics), ("health", health), ("https", api)] {
        if container_port(c, name) != Some(want) {
            p.push(format!(
                "container port {name} is {:?}, the flags say {want}",
                container_port(c, name)
            ));
        }
    }
    for (probe, path, what) in [
        (&c.liveness_probe, "/healthz", "liveness"),
        (&c.readiness_probe, "/readyz", "readiness"),
    ] {
        let get = probe.as_ref().and_then(|pr| pr.http_get.as_ref());
        match get {
            Some(g) if g.path.as_deref() == Some(path) && resolve(c, &g.port) == Some(health) => {}
            _ => p.push(format!(
                "{what} probe must GET {path} on the health port {health}: {get:?}"
            )),
        }
    }
    let leader = flags.get("--leader-elect").is_none_or(|v| v != "false");
    if leader != e.leader_elect {
        p.push(format!(
            "leader election {leader}, expected {}",
            e.leader_elect
        ));
    }
    if e.replicas > 1 && !leader {
        p.push("several replicas without leader election".into());
    }
    let env = c.env.clone().unwrap_or_default();
    let pod_ns = env.iter().find(|v| v.name == "POD_NAMESPACE");
    let field = pod_ns
        .and_then(|v| v.value_from.as_ref())
        .and_then(|f| f.field_ref.as_ref())
        .map(|f| f.field_path.as_str());
    if field != Some("metadata.namespace") {
        p.push(format!(
            "env POD_NAMESPACE must come from fieldRef metadata.namespace: {pod_ns:?}"
        ));
    }
    check_security(d, c, &mut p);
    check_resources(c, &mut p);

    // Certificates: whatever is mounted at --cert-dir, and what the APIService trusts.
    let cert_dir = flags
        .get("--cert-dir")
        .cloned()
        .unwrap_or_else(|| "/certs".into());
    let mount = c
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.mount_path == cert_dir)
        .map(|m| m.name.clone());
    let mounted_secret = mount.as_ref().and_then(|name| {
        pod.volumes
            .iter()
            .flatten()
            .find(|v| &v.name == name)
            .and_then(|v| v.secret.as_ref())
            .and_then(|s| s.secret_name.clone())
    });
    if mount.is_some() && mounted_secret.is_none() {
        p.push(format!(
            "{cert_dir} is mounted from something other than a Secret"
        ));
    }

    // The Service of the external metrics API.
    let svc_name = flags
        .get("--metrics-service-name")
        .cloned()
        .unwrap_or_else(|| "prescale-metrics-apiserver".into());
    if svc_name != e.metrics_service {
        p.push(format!(
            "--metrics-service-name {svc_name}, expected {}",
            e.metrics_service
        ));
    }
    let svc = inst
        .services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(svc_name.as_str()));
    let mut https_service_port = None;
    match svc {
        None => p.push(format!(
            "no Service {svc_name} (the --metrics-service-name)"
        )),
        Some(s) => {
            if s.metadata.namespace.as_deref() != Some(e.namespace) {
                p.push(format!("Service {svc_name} in {:?}", s.metadata.namespace));
            }
            let ss = s.spec.clone().unwrap_or_default();
            let selector = ss.selector.unwrap_or_default();
            if selector.is_empty() || selector.iter().any(|(k, v)| pod_labels.get(k) != Some(v)) {
                p.push(format!(
                    "Service selector {selector:?} does not select the operator pod"
                ));
            }
            let ports = ss.ports.unwrap_or_default();
            for (name, want) in [("https", api), ("metrics", metrics)] {
                match ports.iter().find(|sp| sp.name.as_deref() == Some(name)) {
                    Some(sp) => {
                        let target = sp
                            .target_port
                            .as_ref()
                            .and_then(|t| resolve(c, t))
                            .unwrap_or(sp.port);
                        if target != want {
                            p.push(format!("Service port {name} targets {target}, the container serves it on {want}"));
                        }
                        if name == "https" {
                            https_service_port = Some(sp.port);
                            if sp.port != METRICS_API_SERVICE_PORT {
                                p.push(format!("Service port https is {}, not 443", sp.port));
                            }
                        }
                        if name == "metrics" && !e.metrics_port_on_service {
                            p.push("Service exposes metrics, not expected here".into());
                        }
                    }
                    None if name == "https" || e.metrics_port_on_service => {
                        p.push(format!("Service {svc_name} has no port named {name}"))
                    }
                    None => {}
                }
            }
        }
    }

    // The APIService.
    match inst.api_services.as_slice() {
        [a] => {
            if a.metadata.name.as_deref() != Some(APISERVICE_NAME) {
                p.push(format!("APIService named {:?}", a.metadata.name));
            }
            let s = a.spec.clone().unwrap_or_default();
            if s.group.as_deref() != Some("external.metrics.k8s.io")
                || s.version.as_deref() != Some("v1beta1")
            {
                p.push(format!(
                    "APIService group/version {:?}/{:?}",
                    s.group, s.version
                ));
            }
            if s.group_priority_minimum <= 0 || s.version_priority <= 0 {
                p.push("APIService priorities must be positive".into());
            }
            let sr = s.service.clone().unwrap_or_default();
            if sr.name.as_deref() != Some(svc_name.as_str())
                || sr.namespace.as_deref() != Some(e.namespace)
                || sr.port != https_service_port.or(Some(METRICS_API_SERVICE_PORT))
            {
                p.push(format!("APIService points at {:?}/{:?}:{:?}, not the Service {svc_name}:{https_service_port:?}", sr.namespace, sr.name, sr.port));
            }
            let insecure = s.insecure_skip_tls_verify == Some(true);
            let ca = s.ca_bundle.as_ref().map(|b| b.0.clone());
            match e.tls {
                Tls::Insecure => {
                    if !insecure || ca.is_some() {
                        p.push(format!("APIService: expected insecureSkipTLSVerify and no caBundle (insecure {insecure})"));
                    }
                    if mounted_secret.is_some()
                        && pod
                            .volumes
                            .iter()
                            .flatten()
                            .any(|v| v.secret.as_ref().is_some_and(|s| s.optional != Some(true)))
                    {
                        p.push("a certificate Secret is required although the operator generates its own".into());
                    }
                }
                Tls::GeneratedSecret(name) | Tls::ExistingSecret(name) => {
                    if insecure {
                        p.push("APIService skips TLS verification although a CA is known".into());
                    }
                    if ca
                        .as_ref()
                        .is_none_or(|c| !String::from_utf8_lossy(c).contains("BEGIN CERTIFICATE"))
                    {
                        p.push("APIService caBundle is not a PEM certificate".into());
                    }
                    if mounted_secret.as_deref() != Some(name) {
                        p.push(format!("--cert-dir {cert_dir} mounts {mounted_secret:?}, expected Secret {name}"));
                    }
                    let rendered = inst
                        .secrets
                        .iter()
                        .find(|s| s.metadata.name.as_deref() == Some(name));
                    match (e.tls, rendered) {
                        (Tls::GeneratedSecret(_), Some(secret)) => {
                            let data = secret.data.clone().unwrap_or_default();
                            if data.get("ca.crt").map(|b| &b.0) != ca.as_ref() {
                                p.push(format!(
                                    "Secret {name} ca.crt differs from the APIService caBundle"
                                ));
                            }
                            for key in ["tls.crt", "tls.key"] {
                                if data.get(key).is_none_or(|b| {
                                    !String::from_utf8_lossy(&b.0).contains("-----BEGIN")
                                }) {
                                    p.push(format!("Secret {name} {key} is not PEM"));
                                }
                            }
                        }
                        (Tls::GeneratedSecret(_), None) => {
                            p.push(format!("no Secret {name} rendered"))
                        }
                        (_, Some(_)) => p.push(format!(
                            "Secret {name} rendered although it should exist already"
                        )),
                        (_, None) => {}
                    }
                }
            }
        }
        other => p.push(format!("expected one APIService, found {}", other.len())),
    }

    // Service account and RBAC.
    let sas: Vec<_> = inst
        .service_accounts
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    if e.creates_service_account != sas.iter().any(|s| s == e.service_account) || sas.len() > 1 {
        p.push(format!(
            "service accounts {sas:?}; expected {} created: {}",
            e.service_account, e.creates_service_account
        ));
    }
    let (operator, builtin) = granted_to(inst, e.namespace, e.service_account, &mut p);
    diff_sets(
        "operator RBAC",
        &operator,
        &expected_operator_grants(e.namespace),
        &mut p,
    );
    diff_sets(
        "operator built-in roles",
        &builtin,
        &expected_builtin_refs(),
        &mut p,
    );
    let (hpa, hpa_builtin) = granted_to(
        inst,
        e.hpa_sa_namespace,
        "horizontal-pod-autoscaler",
        &mut p,
    );
    diff_sets("HPA controller RBAC", &hpa, &expected_hpa_grants(), &mut p);
    diff_sets(
        "HPA controller built-in roles",
        &hpa_builtin,
        &BTreeSet::new(),
        &mut p,
    );
    for b in &inst.role_bindings {
        if b.metadata.namespace.as_deref() == Some("kube-system")
            && b.role_ref.name != "extension-apiserver-authentication-reader"
        {
            p.push(format!("RoleBinding in kube-system to {}", b.role_ref.name));
        }
    }
    let all_subjects = inst
        .cluster_role_bindings
        .iter()
        .flat_map(|b| b.subjects.iter().flatten())
        .chain(
            inst.role_bindings
                .iter()
                .flat_map(|b| b.subjects.iter().flatten()),
        );
    for s in all_subjects {
        if !is_sa(s, e.namespace, e.service_account)
            && !is_sa(s, e.hpa_sa_namespace, "horizontal-pod-autoscaler")
        {
            p.push(format!("binding to an unexpected subject {s:?}"));
        }
    }
    p
}

fn assert_ok(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

// ---------------------------------------------------------------------------------------------------------------
// deploy/

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

/// The kustomization's resources, in order.
fn kustomization_resources() -> Vec<String> {
    let k = yaml_docs(&deploy_dir().join("kustomization.yaml"));
    let [(_, k)] = k.as_slice() else {
        panic!("kustomization.yaml: one document")
    };
    assert_eq!(k["kind"], "Kustomization");
    k["resources"]
        .as_array()
        .expect("resources list")
        .iter()
        .map(|r| r.as_str().expect("resource path").to_string())
        .collect()
}

fn deploy_docs() -> Vec<(String, Value)> {
    kustomization_resources()
        .iter()
        .flat_map(|r| yaml_docs(&deploy_dir().join(r)))
        .collect()
}

#[test]
fn kustomization_lists_every_manifest_and_the_crds() {
    let listed: BTreeSet<String> = kustomization_resources().into_iter().collect();
    let mut on_disk = BTreeSet::from(["crds/keda.sh_crds.yaml".to_string()]);
    for entry in std::fs::read_dir(deploy_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            on_disk.insert(name);
        }
    }
    assert_eq!(
        listed, on_disk,
        "deploy/kustomization.yaml resources vs deploy/*.yaml + crds/keda.sh_crds.yaml"
    );
    for r in &listed {
        assert!(
            deploy_dir().join(r).is_file(),
            "deploy/{r} is listed but missing (the CRDs are generated by the CRD task)"
        );
    }
    // The image transformer names the image the Deployment uses.
    let k = &yaml_docs(&deploy_dir().join("kustomization.yaml"))[0].1;
    let image = k["images"][0]["name"].as_str().unwrap();
    let tag = k["images"][0]["newTag"].as_str().unwrap();
    assert_eq!(format!("{image}:{tag}"), DEPLOY.image);
}

#[test]
fn deploy_manifests_parse_into_their_types_and_meet_the_contract() {
    let inst = build(&deploy_docs()).unwrap_or_else(|e| panic!("deploy/:\n  {}", e.join("\n  ")));
    assert_ok("deploy/", check(&inst, &DEPLOY));
    let ns: Vec<_> = inst
        .namespaces
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    assert_eq!(ns, ["keda"]);
    let kinds: BTreeSet<String> = inst
        .crds
        .iter()
        .map(|c| format!("{}/{}", c.spec.group, c.spec.names.kind))
        .collect();
    assert!(kinds.contains("keda.sh/ScaledObject"), "CRDs: {kinds:?}");
    // Every namespaced object lives in keda, except the auth-reader binding, which must be in kube-system.
    for (origin, doc) in deploy_docs() {
        if let Some(ns) = doc["metadata"]["namespace"].as_str() {
            let kube_system = doc["kind"] == "RoleBinding"
                && doc["roleRef"]["name"] == "extension-apiserver-authentication-reader";
            assert_eq!(
                ns,
                if kube_system { "kube-system" } else { "keda" },
                "{origin}"
            );
        }
    }
}

/// A copy of deploy/'s documents with one change applied to the first document of `kind` (and `name`).
fn mutated(
    kind: &str,
    name: Option<&str>,
    change: impl FnOnce(&mut Value),
) -> Vec<(String, Value)> {
    let mut docs = deploy_docs();
    let doc = docs
        .iter_mut()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == kind && name.is_none_or(|n| d["metadata"]["name"] == n))
        .unwrap_or_else(|| panic!("no {kind} {name:?} in deploy/"));
    change(doc);
    docs
}

fn problems_of(docs: &[(String, Value)]) -> Vec<String> {
    match build(docs) {
        Ok(inst) => check(&inst, &DEPLOY),
        Err(e) => e,
    }
}

fn assert_caught(what: &str, docs: Vec<(String, Value)>, needle: &str) {
    let problems = problems_of(&docs);
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "{what}: expected a problem mentioning {needle:?}, got {problems:?}"
    );
}

fn container(doc: &mut Value) -> &mut Value {
    &mut doc["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn each_check_catches_a_broken_copy_of_deploy() {
    assert_caught(
        "typo'd securityContext field",
        mutated("Deployment", None, |d| {
            let sc = &mut container(d)["securityContext"];
            let v = sc
                .as_object_mut()
                .unwrap()
                .remove("readOnlyRootFilesystem")
                .unwrap();
            sc["readOnlyRootFilesytem"] = v;
        }),
        "readOnlyRootFilesytem",
    );
    assert_caught(
        "typo'd Service field",
        mutated("Service", None, |d| {
            d["spec"]["selctor"] = json!({"a": "b"})
        }),
        "selctor",
    );
    assert_caught(
        "wildcard verb",
        mutated("ClusterRole", Some("prescale-operator"), |d| {
            d["rules"][0]["verbs"] = json!(["*"])
        }),
        "verb `*`",
    );
    assert_caught(
        "pods granted",
        mutated("ClusterRole", Some("prescale-operator"), |d| {
            d["rules"]
                .as_array_mut()
                .unwrap()
                .push(json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}))
        }),
        "pods are granted",
    );
    assert_caught(
        "secrets writable",
        mutated("ClusterRole", Some("prescale-operator"), |d| {
            d["rules"]
                .as_array_mut()
                .unwrap()
                .push(json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["update"]}))
        }),
        "secrets are not read-only",
    );
    assert_caught(
        "a grant dropped",
        mutated("ClusterRole", Some("prescale-operator"), |d| {
            d["rules"]
                .as_array_mut()
                .unwrap()
                .retain(|r| r["apiGroups"][0] != "autoscaling")
        }),
        "horizontalpodautoscalers",
    );
    assert_caught(
        "lease RoleBinding to another account",
        mutated(
            "RoleBinding",
            Some("prescale-operator-leader-election"),
            |d| d["subjects"][0]["name"] = json!("default"),
        ),
        "leases",
    );
    assert_caught(
        "flag outside the contract",
        mutated("Deployment", None, |d| {
            container(d)["args"]
                .as_array_mut()
                .unwrap()
                .push(json!("--kube-api-qps=20"))
        }),
        "--kube-api-qps",
    );
    assert_caught(
        "subcommand missing",
        mutated("Deployment", None, |d| {
            container(d)["args"].as_array_mut().unwrap().remove(0);
        }),
        "subcommand",
    );
    assert_caught(
        "readiness probe on the metrics port",
        mutated("Deployment", None, |d| {
            container(d)["readinessProbe"]["httpGet"]["port"] = json!("metrics")
        }),
        "readiness probe",
    );
    assert_caught(
        "health flag and port disagree",
        mutated("Deployment", None, |d| {
            let args = container(d)["args"].as_array_mut().unwrap();
            for a in args.iter_mut() {
                if a.as_str()
                    .is_some_and(|s| s.starts_with("--health-probe-bind-address"))
                {
                    *a = json!("--health-probe-bind-address=:9000");
                }
            }
        }),
        "container port health",
    );
    assert_caught(
        "capabilities not dropped",
        mutated("Deployment", None, |d| {
            container(d)["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("capabilities");
        }),
        "capabilities.drop",
    );
    assert_caught(
        "no seccomp profile",
        mutated("Deployment", None, |d| {
            container(d)["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("seccompProfile");
            d["spec"]["template"]["spec"]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("seccompProfile");
        }),
        "seccompProfile",
    );
    assert_caught(
        "no memory limit",
        mutated("Deployment", None, |d| {
            container(d)["resources"]
                .as_object_mut()
                .unwrap()
                .remove("limits");
        }),
        "memory request/limit",
    );
    assert_caught(
        "POD_NAMESPACE as a literal",
        mutated("Deployment", None, |d| {
            container(d)["env"][0] = json!({"name": "POD_NAMESPACE", "value": "keda"})
        }),
        "POD_NAMESPACE",
    );
    assert_caught(
        "Service target port off",
        mutated("Service", None, |d| {
            d["spec"]["ports"][0]["targetPort"] = json!(8443)
        }),
        "Service port https targets 8443",
    );
    assert_caught(
        "APIService at another Service",
        mutated("APIService", None, |d| {
            d["spec"]["service"]["name"] = json!("keda-operator-metrics-apiserver")
        }),
        "APIService points at",
    );
    assert_caught(
        "APIService neither verifying nor skipping",
        mutated("APIService", None, |d| {
            d["spec"]["insecureSkipTLSVerify"] = json!(false)
        }),
        "insecureSkipTLSVerify",
    );
    assert_caught(
        "Service account missing",
        deploy_docs()
            .into_iter()
            .filter(|(_, d)| d["kind"] != "ServiceAccount")
            .collect(),
        "service accounts",
    );
    // And the unchanged copy has no problem at all, so the needles above come from the mutations.
    assert_eq!(problems_of(&deploy_docs()), Vec::<String>::new());
}

/// Canonical JSON of each document, as a multiset.
fn canonical(docs: &[(String, Value)]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, d) in docs {
        *out.entry(serde_json::to_string(d).unwrap()).or_insert(0) += 1;
    }
    out
}

fn rendered_input(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            assert!(
                std::env::var_os("PRESCALE_REQUIRE_INSTALL_RENDERS").is_none(),
                "PRESCALE_REQUIRE_INSTALL_RENDERS is set but {var} is not (run .ci/check-install)"
            );
            eprintln!("{var} is not set: skipped (.ci/check-install sets it)");
            None
        }
    }
}

#[test]
fn kubectl_kustomize_output_is_exactly_the_deploy_manifests() {
    let Some(path) = rendered_input("PRESCALE_KUSTOMIZE_OUTPUT") else {
        return;
    };
    let built = yaml_docs(&path);
    assert_eq!(
        canonical(&built),
        canonical(&deploy_docs()),
        "kubectl kustomize deploy/ vs the files"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// charts/prescale, rendered by .ci/check-install through Helm's own engine (helm-python-sdk).

fn chart_case(dir: &Path, case: &str) -> Install {
    let docs = yaml_docs(&dir.join(format!("{case}.yaml")));
    build(&docs).unwrap_or_else(|e| panic!("chart case {case}:\n  {}", e.join("\n  ")))
}

const CHART_DEFAULT: Expect = Expect {
    namespace: "keda",
    deployment: "prescale-operator",
    service_account: "prescale-operator",
    creates_service_account: true,
    metrics_service: "prescale-metrics-apiserver",
    image: "ghcr.io/prescale/prescale:0.1.0",
    replicas: 1,
    leader_elect: true,
    metrics_port: 8080,
    metrics_port_on_service: false,
    tls: Tls::GeneratedSecret("prescale-certs"),
    hpa_sa_namespace: "kube-system",
};

#[test]
fn helm_chart_renderings_meet_the_contract() {
    let Some(dir) = rendered_input("PRESCALE_HELM_RENDERED") else {
        return;
    };

    // Default values, release "prescale" in namespace keda: the same install as deploy/, with a Helm-made CA.
    let default = chart_case(&dir, "default");
    assert_ok("chart, default values", check(&default, &CHART_DEFAULT));

    // The reference architecture's values.yaml for KEDA's chart, release "keda": names follow operator.name and
    // serviceAccount.name, the existing service account is used, and both security contexts carry its settings on
    // top of the hardening.
    let seed = chart_case(&dir, "seed");
    let seed_expect = Expect {
        deployment: "keda-operator",
        service_account: "keda-operator",
        creates_service_account: false,
        metrics_service: "keda-metrics-apiserver",
        ..CHART_DEFAULT
    };
    assert_ok("chart, seed values", check(&seed, &seed_expect));
    let pod = seed.deployments[0]
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .clone()
        .unwrap();
    let psc = pod.security_context.unwrap();
    assert_eq!(psc.fs_group, Some(1001));
    let sc = pod.containers[0].security_context.clone().unwrap();
    assert_eq!((sc.run_as_user, sc.run_as_group), (Some(1001), Some(1001)));
    assert!(seed.service_accounts.is_empty());
    assert_eq!(
        seed.cluster_roles
            .iter()
            .filter_map(|r| r.metadata.name.as_deref())
            .min(),
        Some("keda-operator")
    );

    // The operator generates its certificate: nothing mounted, the aggregator told to skip verification.
    let operator_cert = chart_case(&dir, "operator-cert");
    assert_ok(
        "chart, operator-generated certificate",
        check(
            &operator_cert,
            &Expect {
                tls: Tls::Insecure,
                ..CHART_DEFAULT
            },
        ),
    );
    assert!(operator_cert.secrets.is_empty());

    // An existing Secret and a given CA.
    let existing = chart_case(&dir, "existing-secret");
    assert_ok(
        "chart, existing secret",
        check(
            &existing,
            &Expect {
                tls: Tls::ExistingSecret("my-certs"),
                ..CHART_DEFAULT
            },
        ),
    );

    // Two replicas with leader election, newer KEDA layout for the service account, custom image and log flags.
    let ha = chart_case(&dir, "ha");
    assert_ok(
        "chart, two replicas",
        check(
            &ha,
            &Expect {
                replicas: 2,
                service_account: "custom-sa",
                image: "registry.example/team/prescale:dev",
                ..CHART_DEFAULT
            },
        ),
    );
    let args = ha.deployments[0]
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .args
        .clone()
        .unwrap();
    assert!(
        args.contains(&"--log-format=text".to_string())
            && args.contains(&"--log-level=debug".to_string()),
        "{args:?}"
    );
    let sa = &ha.service_accounts[0];
    assert_eq!(
        sa.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("eks.amazonaws.com/role-arn"))
            .map(String::as_str),
        Some("arn:aws:iam::123456789012:role/prescale")
    );

    // Prometheus metrics on the Service on another port, with a ServiceMonitor for it.
    let prom = chart_case(&dir, "prometheus");
    assert_ok(
        "chart, prometheus",
        check(
            &prom,
            &Expect {
                metrics_port: 9090,
                metrics_port_on_service: true,
                ..CHART_DEFAULT
            },
        ),
    );
    let [sm] = prom.other.as_slice() else {
        panic!("one ServiceMonitor")
    };
    let svc = &prom.services[0];
    for (k, v) in svc.metadata.labels.clone().unwrap() {
        if let Some(want) = sm["spec"]["selector"]["matchLabels"].get(&k) {
            assert_eq!(want, &Value::String(v), "ServiceMonitor selector {k}");
        }
    }
    assert_eq!(
        sm["spec"]["selector"]["matchLabels"]
            .as_object()
            .map(|m| m.len()),
        Some(2)
    );
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");

    // The chart's RBAC and hardening are the same as deploy/'s: both met the same exact contract above. The CRDs
    // Helm installs from crds/ are the same file as deploy/'s.
    let chart_crds =
        std::fs::read(repo_root().join("charts/prescale/crds/keda.sh_crds.yaml")).unwrap();
    let deploy_crds = std::fs::read(deploy_dir().join("crds/keda.sh_crds.yaml")).unwrap();
    assert!(
        chart_crds == deploy_crds,
        "charts/prescale/crds and deploy/crds differ"
    );
}
