//! `authenticationRef` resolution against an in-memory [`AuthSource`]: every source KEDA's `resolveAuthRef`
//! reads, its precedence, both kinds, pod identity, and prescale's errors where KEDA falls back to "".

use std::cell::RefCell;
use std::collections::BTreeMap;

use prescale_core::keda::auth::{
    AuthError, AuthSource, Lookup, ParamOrigin, ResolvedAuth, resolve_trigger_auth,
};
use prescale_core::spec::{
    IdentityOwner, PodIdentityProvider, ScaleTrigger, TriggerAuthenticationSpec,
};
use serde_json::{Value, json};

const CLUSTER_NS: &str = "keda";
const TOKEN: &str = "s3cr3t-t0ken-value";

#[derive(Default)]
struct Memory {
    tas: BTreeMap<(String, String), TriggerAuthenticationSpec>,
    ctas: BTreeMap<String, TriggerAuthenticationSpec>,
    secrets: BTreeMap<(String, String), BTreeMap<String, String>>,
    config_maps: BTreeMap<(String, String), BTreeMap<String, String>>,
    /// `None`: the scale target has no containers. The first entry is the first container.
    containers: Option<Vec<(String, BTreeMap<String, String>)>>,
    /// Every lookup, for asserting what was (not) read.
    log: RefCell<Vec<String>>,
    failing_secrets: bool,
    /// The scale target's ServiceAccount: name and annotations (`None`: lookups use the trait's default).
    service_account: Option<(String, BTreeMap<String, String>)>,
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn spec(v: Value) -> TriggerAuthenticationSpec {
    serde_json::from_value(v).unwrap()
}

impl Memory {
    fn new() -> Self {
        Memory {
            containers: Some(vec![("app".to_string(), BTreeMap::new())]),
            ..Memory::default()
        }
    }
    fn ta(mut self, ns: &str, name: &str, v: Value) -> Self {
        self.tas.insert((ns.into(), name.into()), spec(v));
        self
    }
    fn cta(mut self, name: &str, v: Value) -> Self {
        self.ctas.insert(name.into(), spec(v));
        self
    }
    fn secret(mut self, ns: &str, name: &str, data: &[(&str, &str)]) -> Self {
        self.secrets.insert((ns.into(), name.into()), map(data));
        self
    }
    fn config_map(mut self, ns: &str, name: &str, data: &[(&str, &str)]) -> Self {
        self.config_maps.insert((ns.into(), name.into()), map(data));
        self
    }
    fn containers(mut self, c: &[(&str, &[(&str, &str)])]) -> Self {
        self.containers = Some(c.iter().map(|(n, e)| (n.to_string(), map(e))).collect());
        self
    }
    fn service_account(mut self, name: &str, annotations: &[(&str, &str)]) -> Self {
        self.service_account = Some((name.to_string(), map(annotations)));
        self
    }
    fn no_containers(mut self) -> Self {
        self.containers = None;
        self
    }
    fn lookups(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

fn get<T: Clone>(m: &BTreeMap<(String, String), T>, ns: &str, name: &str) -> Lookup<T> {
    match m.get(&(ns.to_string(), name.to_string())) {
        Some(v) => Lookup::Found(v.clone()),
        None => Lookup::NotFound,
    }
}

impl AuthSource for Memory {
    fn trigger_authentication(
        &self,
        namespace: &str,
        name: &str,
    ) -> Lookup<TriggerAuthenticationSpec> {
        self.log.borrow_mut().push(format!("ta {namespace}/{name}"));
        get(&self.tas, namespace, name)
    }
    fn cluster_trigger_authentication(&self, name: &str) -> Lookup<TriggerAuthenticationSpec> {
        self.log.borrow_mut().push(format!("cta {name}"));
        self.ctas
            .get(name)
            .cloned()
            .map_or(Lookup::NotFound, Lookup::Found)
    }
    fn workload_service_account(&self) -> Lookup<(String, BTreeMap<String, String>)> {
        self.log.borrow_mut().push("service account".to_string());
        match &self.service_account {
            Some(sa) => Lookup::Found(sa.clone()),
            None => Lookup::Error("no ServiceAccounts in this test".to_string()),
        }
    }
    fn secret(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>> {
        self.log
            .borrow_mut()
            .push(format!("secret {namespace}/{name}"));
        if self.failing_secrets {
            return Lookup::Error("secrets \"x\" is forbidden".to_string());
        }
        get(&self.secrets, namespace, name)
    }
    fn config_map(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>> {
        self.log
            .borrow_mut()
            .push(format!("configmap {namespace}/{name}"));
        get(&self.config_maps, namespace, name)
    }
    fn container_env(&self, container_name: Option<&str>) -> Lookup<BTreeMap<String, String>> {
        let Some(containers) = &self.containers else {
            return Lookup::NotFound;
        };
        let found = match container_name {
            None => containers.first(),
            Some(n) => containers.iter().find(|(name, _)| name == n),
        };
        found.map_or(Lookup::NotFound, |(_, env)| Lookup::Found(env.clone()))
    }
}

fn trigger(auth_ref: Option<Value>) -> ScaleTrigger {
    let mut t = json!({
        "type": "prometheus",
        "metadata": {"serverAddress": "http://prom:9090", "query": "up", "threshold": "1"},
    });
    if let Some(r) = auth_ref {
        t["authenticationRef"] = r;
    }
    serde_json::from_value(t).unwrap()
}

fn ta_ref(name: &str) -> ScaleTrigger {
    trigger(Some(json!({"name": name})))
}

fn cta_ref(name: &str) -> ScaleTrigger {
    trigger(Some(
        json!({"name": name, "kind": "ClusterTriggerAuthentication"}),
    ))
}

fn resolve(src: &Memory, t: &ScaleTrigger) -> Result<ResolvedAuth, AuthError> {
    resolve_trigger_auth("shop", None, t, src, CLUSTER_NS)
}

fn err(src: &Memory, t: &ScaleTrigger) -> String {
    resolve(src, t).unwrap_err().to_string()
}

fn origins(r: &ResolvedAuth) -> Vec<(String, String)> {
    r.sources
        .iter()
        .map(|s| (s.parameter.clone(), s.origin.to_string()))
        .collect()
}

#[test]
fn secret_target_ref_reads_the_secret_in_the_scaled_object_namespace() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"secretTargetRef": [
                {"parameter": "bearerToken", "name": "prom-secret", "key": "token"},
                {"parameter": "username", "name": "prom-secret", "key": "user"},
            ]}),
        )
        .secret(
            "shop",
            "prom-secret",
            &[("token", TOKEN), ("user", "alice")],
        )
        .secret(
            "other",
            "prom-secret",
            &[("token", "wrong"), ("user", "wrong")],
        );
    let r = resolve(&src, &ta_ref("prom")).unwrap();
    assert_eq!(
        r.params,
        map(&[("bearerToken", TOKEN), ("username", "alice")])
    );
    assert_eq!(r.pod_identity, None);
    assert_eq!(
        origins(&r),
        vec![
            (
                "bearerToken".into(),
                "Secret shop/prom-secret key token".into()
            ),
            ("username".into(), "Secret shop/prom-secret key user".into()),
        ]
    );
    assert_eq!(
        src.lookups(),
        vec![
            "ta shop/prom",
            "secret shop/prom-secret",
            "secret shop/prom-secret"
        ]
    );
}

#[test]
fn config_map_target_ref_and_env_entries() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({
                "configMapTargetRef": [{"parameter": "authModes", "name": "prom-cfg", "key": "modes"}],
                "env": [
                    {"parameter": "username", "name": "PROM_USER"},
                    {"parameter": "password", "name": "PROM_PASS", "containerName": "sidecar"},
                ],
            }),
        )
        .config_map("shop", "prom-cfg", &[("modes", "basic")])
        .containers(&[
            ("app", &[("PROM_USER", "bob"), ("PROM_PASS", "not-this-one")]),
            ("sidecar", &[("PROM_PASS", "pw")]),
        ]);
    let r = resolve(&src, &ta_ref("prom")).unwrap();
    assert_eq!(
        r.params,
        map(&[
            ("authModes", "basic"),
            ("username", "bob"),
            ("password", "pw")
        ])
    );
    assert_eq!(
        r.sources
            .iter()
            .map(|s| s.origin.clone())
            .collect::<Vec<_>>(),
        vec![
            ParamOrigin::ConfigMap {
                namespace: "shop".into(),
                name: "prom-cfg".into(),
                key: "modes".into()
            },
            ParamOrigin::Env {
                name: "PROM_PASS".into(),
                container: Some("sidecar".into())
            },
            ParamOrigin::Env {
                name: "PROM_USER".into(),
                container: None
            },
        ]
    );
}

#[test]
fn an_empty_container_name_means_the_first_container() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"env": [{"parameter": "username", "name": "U", "containerName": ""}]}),
        )
        .containers(&[("app", &[("U", "first")]), ("b", &[("U", "second")])]);
    assert_eq!(
        resolve(&src, &ta_ref("prom")).unwrap().params["username"],
        "first"
    );
}

#[test]
fn precedence_is_env_then_config_map_then_secret_and_later_entries_win() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({
                "env": [
                    {"parameter": "a", "name": "A"},
                    {"parameter": "b", "name": "B"},
                    {"parameter": "c", "name": "C"},
                ],
                "configMapTargetRef": [
                    {"parameter": "a", "name": "cm", "key": "a"},
                    {"parameter": "b", "name": "cm", "key": "b"},
                ],
                "secretTargetRef": [
                    {"parameter": "a", "name": "s", "key": "a1"},
                    {"parameter": "a", "name": "s", "key": "a2"},
                ],
            }),
        )
        .containers(&[("app", &[("A", "env-a"), ("B", "env-b"), ("C", "env-c")])])
        .config_map("shop", "cm", &[("a", "cm-a"), ("b", "cm-b")])
        .secret("shop", "s", &[("a1", "secret-a1"), ("a2", "secret-a2")]);
    let r = resolve(&src, &ta_ref("prom")).unwrap();
    assert_eq!(
        r.params,
        map(&[("a", "secret-a2"), ("b", "cm-b"), ("c", "env-c")])
    );
    assert_eq!(
        origins(&r),
        vec![
            ("a".into(), "Secret shop/s key a2".into()),
            ("b".into(), "ConfigMap shop/cm key b".into()),
            ("c".into(), "env C of the first container".into()),
        ]
    );
}

#[test]
fn cluster_trigger_authentications_read_the_cluster_object_namespace() {
    let cta = json!({
        "secretTargetRef": [{"parameter": "bearerToken", "name": "prom-secret", "key": "token"}],
        "configMapTargetRef": [{"parameter": "authModes", "name": "prom-cfg", "key": "modes"}],
        "env": [{"parameter": "username", "name": "USER"}],
    });
    let src = Memory::new()
        .cta("prom", cta.clone())
        // A namespaced TriggerAuthentication of the same name must not be used.
        .ta("shop", "prom", json!({}))
        .secret("keda", "prom-secret", &[("token", TOKEN)])
        .secret("shop", "prom-secret", &[("token", "the-namespaced-one")])
        .config_map("keda", "prom-cfg", &[("modes", "bearer")])
        .containers(&[("app", &[("USER", "from-the-scale-target")])]);
    let r = resolve(&src, &cta_ref("prom")).unwrap();
    assert_eq!(
        r.params,
        map(&[
            ("bearerToken", TOKEN),
            ("authModes", "bearer"),
            ("username", "from-the-scale-target")
        ])
    );
    assert_eq!(
        src.lookups(),
        vec![
            "cta prom",
            "configmap keda/prom-cfg",
            "secret keda/prom-secret"
        ]
    );
    // Another cluster object namespace moves the lookups.
    let src = Memory::new()
        .cta("prom", cta)
        .secret("ops", "prom-secret", &[("token", "ops-token")])
        .config_map("ops", "prom-cfg", &[("modes", "bearer")])
        .containers(&[("app", &[("USER", "u")])]);
    let r = resolve_trigger_auth("shop", None, &cta_ref("prom"), &src, "ops").unwrap();
    assert_eq!(r.params["bearerToken"], "ops-token");
}

#[test]
fn the_explicit_trigger_authentication_kind_is_the_default_kind() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"secretTargetRef": [{"parameter": "p", "name": "s", "key": "k"}]}),
        )
        .secret("shop", "s", &[("k", "v")]);
    let explicit = trigger(Some(
        json!({"name": "prom", "kind": "TriggerAuthentication"}),
    ));
    assert_eq!(resolve(&src, &explicit).unwrap().params, map(&[("p", "v")]));
    assert_eq!(src.lookups()[0], "ta shop/prom");
}

#[test]
fn a_missing_trigger_authentication_is_an_error() {
    let src = Memory::new()
        .ta("other", "prom", json!({}))
        .cta("else", json!({}));
    let e = resolve(&src, &ta_ref("prom")).unwrap_err();
    assert!(matches!(e, AuthError::AuthNotFound { .. }), "{e:?}");
    assert_eq!(e.to_string(), "TriggerAuthentication shop/prom not found");
    assert_eq!(
        err(&src, &cta_ref("prom")),
        "ClusterTriggerAuthentication prom not found"
    );
}

#[test]
fn missing_secrets_config_maps_and_keys_name_the_parameter_and_the_object() {
    let base = || {
        Memory::new()
            .ta(
                "shop",
                "prom",
                json!({"secretTargetRef": [
                    {"parameter": "username", "name": "creds", "key": "user"},
                    {"parameter": "bearerToken", "name": "creds", "key": "token"},
                ]}),
            )
            .ta(
                "shop",
                "cfg",
                json!({"configMapTargetRef": [{"parameter": "authModes", "name": "prom-cfg", "key": "modes"}]}),
            )
    };
    assert_eq!(
        err(&base(), &ta_ref("prom")),
        "TriggerAuthentication shop/prom: spec.secretTargetRef[0]: parameter \"username\": Secret shop/creds not found"
    );
    // The key is missing; the other keys' values do not leak into the message.
    let src = base().secret("shop", "creds", &[("user", "alice"), ("tokn", TOKEN)]);
    let e = err(&src, &ta_ref("prom"));
    assert_eq!(
        e,
        "TriggerAuthentication shop/prom: spec.secretTargetRef[1]: parameter \"bearerToken\": key \"token\" in Secret shop/creds not found"
    );
    assert!(!e.contains(TOKEN) && !e.contains("alice"));
    assert_eq!(
        err(&base(), &ta_ref("cfg")),
        "TriggerAuthentication shop/cfg: spec.configMapTargetRef[0]: parameter \"authModes\": ConfigMap shop/prom-cfg not found"
    );
    let src = base().config_map("shop", "prom-cfg", &[("mode", "basic")]);
    assert_eq!(
        err(&src, &ta_ref("cfg")),
        "TriggerAuthentication shop/cfg: spec.configMapTargetRef[0]: parameter \"authModes\": key \"modes\" in ConfigMap shop/prom-cfg not found"
    );
    // A Secret in the wrong namespace for a ClusterTriggerAuthentication.
    let src = Memory::new()
        .cta(
            "prom",
            json!({"secretTargetRef": [{"parameter": "p", "name": "s", "key": "k"}]}),
        )
        .secret("shop", "s", &[("k", "v")]);
    assert_eq!(
        err(&src, &cta_ref("prom")),
        "ClusterTriggerAuthentication prom: spec.secretTargetRef[0]: parameter \"p\": Secret keda/s not found"
    );
}

#[test]
fn empty_names_and_keys_are_refused() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"secretTargetRef": [{"parameter": "p", "name": "s", "key": ""}]}),
        )
        .secret("shop", "s", &[("", "v")]);
    assert_eq!(
        err(&src, &ta_ref("prom")),
        "TriggerAuthentication shop/prom: spec.secretTargetRef[0]: parameter \"p\": name and key must not be empty"
    );
    assert!(src.lookups().iter().all(|l| !l.starts_with("secret")));
}

#[test]
fn missing_env_variables_and_containers_name_the_parameter() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"env": [{"parameter": "password", "name": "PASS"}]}),
        )
        .ta(
            "shop",
            "side",
            json!({"env": [{"parameter": "password", "name": "PASS", "containerName": "sidecar"}]}),
        )
        .containers(&[("app", &[("PASSWORD", TOKEN)])]);
    let e = err(&src, &ta_ref("prom"));
    assert_eq!(
        e,
        "TriggerAuthentication shop/prom: spec.env[0]: parameter \"password\": variable \"PASS\" not found in the env of the scale target's first container"
    );
    assert!(!e.contains(TOKEN));
    assert_eq!(
        err(&src, &ta_ref("side")),
        "TriggerAuthentication shop/side: spec.env[0]: parameter \"password\": container \"sidecar\" of the scale target not found"
    );
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"env": [{"parameter": "password", "name": "PASS"}]}),
        )
        .no_containers();
    assert_eq!(
        err(&src, &ta_ref("prom")),
        "TriggerAuthentication shop/prom: spec.env[0]: parameter \"password\": the scale target's first container not found"
    );
}

#[test]
fn unsupported_sources_are_errors_naming_the_field() {
    let secret_ref = json!({"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}});
    let cases = [
        (
            "hashiCorpVault",
            json!({"hashiCorpVault": {"address": "http://vault:8200", "authentication": "token",
                "secrets": [{"parameter": "p", "path": "secret/x", "key": "k"}]}}),
        ),
        (
            "azureKeyVault",
            json!({"azureKeyVault": {"vaultUri": "https://v.vault.azure.net",
                "secrets": [{"parameter": "p", "name": "n"}]}}),
        ),
        (
            "gcpSecretManager",
            json!({"gcpSecretManager": {"secrets": [{"parameter": "p", "id": "i"}]}}),
        ),
        (
            "awsSecretManager",
            json!({"awsSecretManager": {"secrets": [{"parameter": "p", "name": "n"}]}}),
        ),
        (
            "boundServiceAccountToken",
            json!({"boundServiceAccountToken": [{"parameter": "p", "serviceAccountName": "sa"}]}),
        ),
        (
            "oauth2",
            json!({"oauth2": {"clientId": "c", "tokenUrl": "https://idp/token", "clientSecret": secret_ref}}),
        ),
    ];
    for (field, body) in cases {
        // Alongside a resolvable secretTargetRef: the unsupported field is not skipped.
        let mut body = body;
        body["secretTargetRef"] = json!([{"parameter": "q", "name": "s", "key": "k"}]);
        let src = Memory::new()
            .ta("shop", "prom", body.clone())
            .cta("prom", body)
            .secret("shop", "s", &[("k", "v")])
            .secret("keda", "s", &[("k", "v")]);
        let e = resolve(&src, &ta_ref("prom")).unwrap_err();
        assert!(matches!(e, AuthError::Unsupported { .. }), "{field}: {e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "TriggerAuthentication shop/prom: spec.{field} is not supported by prescale yet"
            )
        );
        assert_eq!(
            err(&src, &cta_ref("prom")),
            format!(
                "ClusterTriggerAuthentication prom: spec.{field} is not supported by prescale yet"
            )
        );
    }
}

#[test]
fn file_path_is_unsupported_on_clusters_and_invalid_on_namespaced_objects() {
    let src = Memory::new()
        .ta("shop", "prom", json!({"filePath": "prom.json"}))
        .cta("prom", json!({"filePath": "prom.json"}));
    assert_eq!(
        err(&src, &cta_ref("prom")),
        "ClusterTriggerAuthentication prom: spec.filePath is not supported by prescale yet"
    );
    assert_eq!(
        err(&src, &ta_ref("prom")),
        "TriggerAuthentication shop/prom: filePath is only supported for ClusterTriggerAuthentication, got kind: TriggerAuthentication"
    );
}

#[test]
fn secret_stores_without_secrets_are_skipped_as_keda_does() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({
                "hashiCorpVault": {"address": "http://vault:8200", "authentication": "token", "secrets": []},
                "awsSecretManager": {"secrets": []},
                "secretTargetRef": [{"parameter": "p", "name": "s", "key": "k"}],
            }),
        )
        .secret("shop", "s", &[("k", "v")]);
    assert_eq!(
        resolve(&src, &ta_ref("prom")).unwrap().params,
        map(&[("p", "v")])
    );
}

#[test]
fn pod_identity_is_passed_through() {
    let src = Memory::new().ta(
        "shop",
        "az",
        json!({"podIdentity": {"provider": "azure-workload", "identityId": "id-1", "identityTenantId": "t"},
               "secretTargetRef": []}),
    );
    let r = resolve(&src, &ta_ref("az")).unwrap();
    let pi = r.pod_identity.unwrap();
    assert_eq!(pi.provider, PodIdentityProvider::AzureWorkload);
    assert_eq!(pi.identity_id.as_deref(), Some("id-1"));
    assert_eq!(pi.identity_tenant_id.as_deref(), Some("t"));
    assert!(r.params.is_empty());

    let src = Memory::new().ta(
        "shop",
        "aws",
        json!({"podIdentity": {"provider": "aws", "identityOwner": "keda"}}),
    );
    let r = resolve(&src, &ta_ref("aws")).unwrap();
    assert_eq!(
        r.pod_identity.unwrap().identity_owner,
        Some(IdentityOwner::Keda)
    );
    assert!(r.params.is_empty(), "no roleArn, no awsRoleArn");
}

#[test]
fn an_aws_role_arn_becomes_the_aws_role_arn_parameter_over_any_other_source() {
    let src = Memory::new()
        .ta(
            "shop",
            "aws",
            json!({
                "podIdentity": {"provider": "aws", "roleArn": "arn:aws:iam::1:role/keda", "externalID": "x"},
                "secretTargetRef": [{"parameter": "awsRoleArn", "name": "s", "key": "role"}],
            }),
        )
        .secret("shop", "s", &[("role", "arn:aws:iam::1:role/from-secret")]);
    let r = resolve(&src, &ta_ref("aws")).unwrap();
    assert_eq!(r.params["awsRoleArn"], "arn:aws:iam::1:role/keda");
    assert_eq!(r.sources[0].origin, ParamOrigin::PodIdentityRoleArn);
    assert_eq!(r.pod_identity.unwrap().external_id.as_deref(), Some("x"));

    // KEDA extends the pod identity only for a scale target with containers.
    let src = Memory::new()
        .ta(
            "shop",
            "aws",
            json!({"podIdentity": {"provider": "aws", "roleArn": "arn:aws:iam::1:role/keda"}}),
        )
        .no_containers();
    let r = resolve(&src, &ta_ref("aws")).unwrap();
    assert!(r.params.is_empty());
    assert_eq!(r.pod_identity.unwrap().provider, PodIdentityProvider::Aws);
}

#[test]
fn pod_identity_errors_follow_keda() {
    let src = Memory::new()
        .ta(
            "shop",
            "both",
            json!({"podIdentity": {"provider": "aws", "roleArn": "arn:r", "identityOwner": "workload"}}),
        )
        .ta(
            "shop",
            "workload",
            json!({"podIdentity": {"provider": "aws", "identityOwner": "workload"}}),
        )
        .ta("shop", "eks", json!({"podIdentity": {"provider": "aws-eks"}}))
        .ta(
            "shop",
            "az",
            json!({"podIdentity": {"provider": "azure-workload", "identityId": ""}}),
        );
    assert_eq!(
        err(&src, &ta_ref("both")),
        "TriggerAuthentication shop/both: roleArn can't be set if KEDA isn't identity owner, current value: 'workload'"
    );
    // Workload-owned identities need the workload's ServiceAccount; this source has none to give.
    let e = err(&src, &ta_ref("workload"));
    assert_eq!(
        e,
        "TriggerAuthentication shop/workload: spec.podIdentity: the scale target's ServiceAccount: \
         no ServiceAccounts in this test"
    );
    // A ServiceAccount without the annotation: required for identityOwner workload (KEDA's message)...
    let src = src.service_account("runner", &[("other", "x")]);
    assert_eq!(
        err(&src, &ta_ref("workload")),
        "TriggerAuthentication shop/workload: error getting service account: 'runner', error: \
         annotation 'eks.amazonaws.com/role-arn' not found"
    );
    // ...optional for the deprecated aws-eks provider (an empty role).
    let r = resolve(&src, &ta_ref("eks")).unwrap();
    assert_eq!(r.params.get("awsRoleArn").map(String::as_str), Some(""));
    assert_eq!(
        err(&src, &ta_ref("az")),
        "TriggerAuthentication shop/az: IdentityID of PodIdentity should not be empty"
    );
}

#[test]
fn workload_identity_takes_the_role_from_the_service_account_annotation() {
    let src = Memory::new()
        .ta(
            "shop",
            "workload",
            json!({"podIdentity": {"provider": "aws", "identityOwner": "workload"}}),
        )
        .service_account(
            "runner",
            &[("eks.amazonaws.com/role-arn", "arn:aws:iam::1:role/app")],
        );
    let r = resolve(&src, &ta_ref("workload")).unwrap();
    assert_eq!(r.params["awsRoleArn"], "arn:aws:iam::1:role/app");
    assert_eq!(
        r.sources[0].origin,
        ParamOrigin::ServiceAccountRoleArn {
            service_account: "runner".to_string()
        }
    );
    assert_eq!(
        r.sources[0].origin.to_string(),
        "annotation eks.amazonaws.com/role-arn of ServiceAccount runner"
    );
    let pi = r.pod_identity.unwrap();
    assert_eq!(pi.provider, PodIdentityProvider::Aws);
    assert!(pi.is_workload_identity_owner());
    // Without containers KEDA does not look at the pod identity at all.
    let src = src.no_containers();
    let sa_lookups = |s: &Memory| {
        s.lookups()
            .iter()
            .filter(|l| *l == "service account")
            .count()
    };
    let before = sa_lookups(&src);
    let r = resolve(&src, &ta_ref("workload")).unwrap();
    assert!(!r.params.contains_key("awsRoleArn"));
    assert_eq!(sa_lookups(&src), before);
}

#[test]
fn without_an_authentication_ref_only_the_scale_target_env_is_resolved() {
    let src = Memory::new().containers(&[("app", &[("A", "1")]), ("worker", &[("AWS_KEY", "k")])]);
    let r = resolve(&src, &trigger(None)).unwrap();
    assert!(r.params.is_empty() && r.sources.is_empty() && r.pod_identity.is_none());
    assert_eq!(r.resolved_env, map(&[("A", "1")]));
    assert!(src.lookups().is_empty());

    let r = resolve_trigger_auth("shop", Some("worker"), &trigger(None), &src, CLUSTER_NS).unwrap();
    assert_eq!(r.resolved_env, map(&[("AWS_KEY", "k")]));
    let e = resolve_trigger_auth("shop", Some("nope"), &trigger(None), &src, CLUSTER_NS)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "scaleTargetRef.envSourceContainerName: container \"nope\" of the scale target not found"
    );
    // No containers at all: an empty env, as KEDA's nil pod template.
    let src = Memory::new().no_containers();
    assert!(
        resolve(&src, &trigger(None))
            .unwrap()
            .resolved_env
            .is_empty()
    );
}

#[test]
fn source_failures_are_reported_with_the_object() {
    let mut src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"secretTargetRef": [{"parameter": "p", "name": "s", "key": "k"}]}),
        )
        .secret("shop", "s", &[("k", TOKEN)]);
    src.failing_secrets = true;
    let e = resolve(&src, &ta_ref("prom")).unwrap_err();
    assert!(matches!(e, AuthError::Source { .. }));
    assert_eq!(
        e.to_string(),
        "TriggerAuthentication shop/prom: spec.secretTargetRef[0]: parameter \"p\": Secret shop/s: secrets \"x\" is forbidden"
    );
}

#[test]
fn debug_output_never_shows_values() {
    let src = Memory::new()
        .ta(
            "shop",
            "prom",
            json!({"secretTargetRef": [{"parameter": "bearerToken", "name": "s", "key": "token"}]}),
        )
        .secret("shop", "s", &[("token", TOKEN)])
        .containers(&[("app", &[("DB_PASSWORD", "env-secret-value")])]);
    let r = resolve(&src, &ta_ref("prom")).unwrap();
    assert_eq!(r.params["bearerToken"], TOKEN);
    assert_eq!(r.resolved_env["DB_PASSWORD"], "env-secret-value");
    let debug = format!("{r:?} {r:#?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains("env-secret-value"), "{debug}");
    assert!(
        debug.contains("bearerToken") && debug.contains("DB_PASSWORD"),
        "{debug}"
    );
}
