//! Where `prescale check` finds what a trigger's `authenticationRef` points to: [`ManifestSource`], an
//! [`AuthSource`] built from manifests (Secrets, ConfigMaps, TriggerAuthentications,
//! ClusterTriggerAuthentications) and `NAME=VALUE` pairs standing in for the scale target's container env.
//!
//! Objects without `metadata.namespace` are placed in `default`, as `kubectl apply -f` does with a context
//! that sets no namespace — not in the ScaledObject's namespace, which would hide a manifest that KEDA would
//! not find either. The ScaledObject itself follows the same rule. When a lookup misses but an object of
//! that kind and name exists in another namespace, the error says so.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use prescale_core::keda::auth::{AuthSource, Lookup, ResolvedAuth, resolve_trigger_auth};
use prescale_core::spec::{
    self, DocumentContent, KedaObject, ScaleTrigger, ScaledObject, Status,
    TriggerAuthenticationSpec,
};
use serde_json::Value;

/// KEDA's cluster object namespace (`KEDA_CLUSTER_OBJECT_NAMESPACE`) defaults to the operator's own
/// namespace; `keda` is where KEDA's Helm chart and release manifests install it.
pub const DEFAULT_CLUSTER_OBJECT_NAMESPACE: &str = "keda";

/// The namespace of an object without `metadata.namespace` (kubectl's default context).
pub const DEFAULT_NAMESPACE: &str = "default";

/// How `check` resolves `authenticationRef`s.
#[derive(Clone)]
pub struct AuthConfig {
    pub source: Arc<dyn AuthSource + Send + Sync>,
    /// Where ClusterTriggerAuthentications' Secrets and ConfigMaps live.
    pub cluster_object_namespace: String,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("cluster_object_namespace", &self.cluster_object_namespace)
            .finish_non_exhaustive()
    }
}

/// Resolves `trigger`'s authentication for `so`. Without an [`AuthConfig`], a trigger with an
/// `authenticationRef` is refused and the others get no parameters.
pub fn resolve(
    auth: Option<&AuthConfig>,
    so: &ScaledObject,
    trigger: &ScaleTrigger,
) -> Result<ResolvedAuth, String> {
    let Some(auth) = auth else {
        return match &trigger.authentication_ref {
            Some(r) => Err(format!(
                "authenticationRef {:?}: triggers with authentication are not supported without an auth source",
                r.name
            )),
            None => Ok(ResolvedAuth::default()),
        };
    };
    resolve_trigger_auth(
        so.metadata.namespace_or_default(),
        so.spec
            .scale_target_ref
            .env_source_container_name
            .as_deref(),
        trigger,
        auth.source.as_ref(),
        &auth.cluster_object_namespace,
    )
    .map_err(|e| e.to_string())
}

/// A manifest that cannot be used. Messages name the file, the document and the object; never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// Objects of one kind, by `(namespace, name)` (namespace `""` for cluster-scoped kinds), with where each was
/// defined.
struct Store<T> {
    kind: &'static str,
    objects: BTreeMap<(String, String), (T, String)>,
}

impl<T: Clone> Store<T> {
    fn new(kind: &'static str) -> Self {
        Store {
            kind,
            objects: BTreeMap::new(),
        }
    }

    fn insert(
        &mut self,
        namespace: &str,
        name: &str,
        value: T,
        origin: String,
    ) -> Result<(), SourceError> {
        let key = (namespace.to_string(), name.to_string());
        if let Some((_, first)) = self.objects.get(&key) {
            return Err(SourceError(format!(
                "{origin}: {} {} is defined twice (first in {first})",
                self.kind,
                display(namespace, name)
            )));
        }
        self.objects.insert(key, (value, origin));
        Ok(())
    }

    fn get(&self, namespace: &str, name: &str) -> Lookup<T> {
        if let Some((v, _)) = self.objects.get(&(namespace.to_string(), name.to_string())) {
            return Lookup::Found(v.clone());
        }
        let elsewhere: Vec<&str> = self
            .objects
            .keys()
            .filter(|(_, n)| n == name)
            .map(|(ns, _)| ns.as_str())
            .collect();
        if elsewhere.is_empty() {
            return Lookup::NotFound;
        }
        Lookup::Error(format!(
            "not in the manifests, which hold a {} {name:?} in namespace {} (an object without \
             metadata.namespace is in {DEFAULT_NAMESPACE:?})",
            self.kind,
            elsewhere.join(", ")
        ))
    }
}

fn display(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// An [`AuthSource`] from manifests and a fixed container env.
pub struct ManifestSource {
    trigger_authentications: Store<TriggerAuthenticationSpec>,
    cluster_trigger_authentications: Store<TriggerAuthenticationSpec>,
    secrets: Store<BTreeMap<String, String>>,
    config_maps: Store<BTreeMap<String, String>>,
    env: BTreeMap<String, String>,
}

impl Default for ManifestSource {
    fn default() -> Self {
        ManifestSource {
            trigger_authentications: Store::new("TriggerAuthentication"),
            cluster_trigger_authentications: Store::new("ClusterTriggerAuthentication"),
            secrets: Store::new("Secret"),
            config_maps: Store::new("ConfigMap"),
            env: BTreeMap::new(),
        }
    }
}

impl fmt::Debug for ManifestSource {
    /// Object names and env variable names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn names<T>(s: &Store<T>) -> Vec<String> {
            s.objects.keys().map(|(ns, n)| display(ns, n)).collect()
        }
        f.debug_struct("ManifestSource")
            .field(
                "trigger_authentications",
                &names(&self.trigger_authentications),
            )
            .field(
                "cluster_trigger_authentications",
                &names(&self.cluster_trigger_authentications),
            )
            .field("secrets", &names(&self.secrets))
            .field("config_maps", &names(&self.config_maps))
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ManifestSource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the Secrets, ConfigMaps, TriggerAuthentications and ClusterTriggerAuthentications of a
    /// multi-document YAML file (`kind: List` documents are expanded). Other objects are ignored.
    /// `file` names the file in errors.
    pub fn add_manifests(&mut self, file: &str, text: &str) -> Result<(), SourceError> {
        let mut options = serde_saphyr::Options::default();
        options.with_snippet = false;
        // As kubectl (YAML 1.1): `010` is octal, so an unquoted value is not silently a string.
        options.legacy_octal_numbers = true;
        let docs: Vec<Value> = serde_saphyr::from_str_multiple_with_options(text, options)
            .map_err(|e| SourceError(format!("{file}: invalid YAML: {e}")))?;
        for (i, doc) in docs.into_iter().enumerate() {
            let at = format!("{file}: document {}", i + 1);
            match list_items(doc) {
                Ok(items) => {
                    for (j, item) in items.into_iter().enumerate() {
                        self.add_object(&format!("{at} item {j}"), item)?;
                    }
                }
                Err(doc) => self.add_object(&at, doc)?,
            }
        }
        Ok(())
    }

    /// Sets the scale target's container env (every container has it).
    pub fn set_env(&mut self, env: BTreeMap<String, String>) {
        self.env = env;
    }

    fn add_object(&mut self, at: &str, value: Value) -> Result<(), SourceError> {
        let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
        match (text("apiVersion"), text("kind")) {
            ("v1", "Secret") => self.add_secret(at, &value),
            ("v1", "ConfigMap") => self.add_config_map(at, &value),
            (spec::load::API_VERSION, "TriggerAuthentication" | "ClusterTriggerAuthentication") => {
                self.add_keda(at, value)
            }
            _ => Ok(()),
        }
    }

    fn add_keda(&mut self, at: &str, value: Value) -> Result<(), SourceError> {
        let doc = spec::load_value(value);
        let object = match &doc.content {
            DocumentContent::Keda(o) => o.object_ref().display_name(),
            DocumentContent::Error { object, .. } | DocumentContent::Other(object) => {
                object.display_name()
            }
        };
        let findings: Vec<String> = spec::validate(std::slice::from_ref(&doc))
            .iter()
            .filter(|r| r.status == Status::Error)
            .flat_map(|r| r.findings.iter().filter(|f| f.is_error()))
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect();
        if !findings.is_empty() {
            return Err(SourceError(format!(
                "{at}: {object} is invalid: {}",
                findings.join("; ")
            )));
        }
        let origin = format!("{at} ({object})");
        match doc.content {
            DocumentContent::Keda(KedaObject::TriggerAuthentication(ta)) => {
                let name = required_name(at, "TriggerAuthentication", ta.metadata.name.as_deref())?;
                let namespace = namespace(ta.metadata.namespace.as_deref());
                self.trigger_authentications
                    .insert(namespace, name, ta.spec, origin)
            }
            DocumentContent::Keda(KedaObject::ClusterTriggerAuthentication(cta)) => {
                let name = required_name(
                    at,
                    "ClusterTriggerAuthentication",
                    cta.metadata.name.as_deref(),
                )?;
                self.cluster_trigger_authentications
                    .insert("", name, cta.spec, origin)
            }
            _ => Err(SourceError(format!("{at}: {object} cannot be read"))),
        }
    }

    fn add_secret(&mut self, at: &str, value: &Value) -> Result<(), SourceError> {
        let (namespace, name) = identity(at, "Secret", value)?;
        let who = format!("{at}: Secret {namespace}/{name}");
        let mut data = BTreeMap::new();
        for (key, v) in string_map(&who, value, "data")? {
            let bytes = decode_base64(&v)
                .map_err(|e| SourceError(format!("{who}: data.{key}: invalid base64: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                SourceError(format!(
                    "{who}: data.{key}: not UTF-8 text, which an auth parameter must be"
                ))
            })?;
            data.insert(key, text);
        }
        // The API server merges `stringData` into `data`, `stringData` winning.
        data.extend(string_map(&who, value, "stringData")?);
        self.secrets.insert(&namespace, &name, data, at.to_string())
    }

    fn add_config_map(&mut self, at: &str, value: &Value) -> Result<(), SourceError> {
        let (namespace, name) = identity(at, "ConfigMap", value)?;
        let who = format!("{at}: ConfigMap {namespace}/{name}");
        let data = string_map(&who, value, "data")?;
        // KEDA reads `data` only (`configMap.Data[key]`), so `binaryData` is checked as the API server would,
        // but its keys are not offered to configMapTargetRef.
        for (key, v) in string_map(&who, value, "binaryData")? {
            if data.contains_key(&key) {
                return Err(SourceError(format!(
                    "{who}: binaryData.{key}: duplicate of a key in data"
                )));
            }
            decode_base64(&v).map_err(|e| {
                SourceError(format!("{who}: binaryData.{key}: invalid base64: {e}"))
            })?;
        }
        self.config_maps
            .insert(&namespace, &name, data, at.to_string())
    }
}

fn namespace(ns: Option<&str>) -> &str {
    ns.filter(|n| !n.is_empty()).unwrap_or(DEFAULT_NAMESPACE)
}

fn required_name<'a>(at: &str, kind: &str, name: Option<&'a str>) -> Result<&'a str, SourceError> {
    name.filter(|n| !n.is_empty())
        .ok_or_else(|| SourceError(format!("{at}: {kind} without metadata.name")))
}

/// `(namespace, name)` of a core object.
fn identity(at: &str, kind: &str, value: &Value) -> Result<(String, String), SourceError> {
    let meta = value.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
    let name = required_name(at, kind, field("name"))?;
    Ok((namespace(field("namespace")).to_string(), name.to_string()))
}

/// A `map[string]string` field; a missing or null field is empty. Values must be strings, as the API
/// server's decoding requires.
fn string_map(
    who: &str,
    value: &Value,
    field: &str,
) -> Result<BTreeMap<String, String>, SourceError> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(SourceError(format!(
                    "{who}: {field}.{k}: must be a string (quote the value)"
                ))),
            })
            .collect(),
        Some(_) => Err(SourceError(format!("{who}: {field}: must be a map"))),
    }
}

/// The items of a `*List` document, or the document back.
fn list_items(mut value: Value) -> Result<Vec<Value>, Value> {
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array);
    if !is_list {
        return Err(value);
    }
    match value.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => Ok(items.into_iter().filter(|v| !v.is_null()).collect()),
        _ => Err(value),
    }
}

/// Standard base64 with padding, as Go's `encoding/json` decodes `[]byte` (`base64.StdEncoding`): line
/// breaks are skipped, padding is required, unused trailing bits are not checked. Errors give offsets,
/// never content.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let chars: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .collect();
    if !chars.len().is_multiple_of(4) {
        return Err(format!(
            "length {} is not a multiple of 4 (padding missing?)",
            chars.len()
        ));
    }
    let sextet = |c: u8| -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    };
    let quads = chars.len() / 4;
    let mut out = Vec::with_capacity(quads * 3);
    for (q, quad) in chars.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && q + 1 != quads) {
            return Err(format!(
                "misplaced padding in characters {}..{}",
                q * 4,
                q * 4 + 4
            ));
        }
        let mut acc = 0u32;
        for (i, &c) in quad[..4 - pad].iter().enumerate() {
            let v =
                sextet(c).ok_or_else(|| format!("invalid character at offset {}", q * 4 + i))?;
            acc |= v << (18 - 6 * i);
        }
        let [_, b0, b1, b2] = acc.to_be_bytes();
        out.push(b0);
        if pad < 2 {
            out.push(b1);
        }
        if pad < 1 {
            out.push(b2);
        }
    }
    Ok(out)
}

/// Parses `--env NAME=VALUE` (split at the first `=`; the value may be empty or contain `=`).
pub fn parse_env_pair(pair: &str) -> Result<(String, String), String> {
    match pair.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        Some(_) => Err("expected NAME=VALUE, the name is empty".to_string()),
        None => Err("expected NAME=VALUE, found no '='".to_string()),
    }
}

impl AuthSource for ManifestSource {
    fn trigger_authentication(
        &self,
        namespace: &str,
        name: &str,
    ) -> Lookup<TriggerAuthenticationSpec> {
        self.trigger_authentications.get(namespace, name)
    }

    fn cluster_trigger_authentication(&self, name: &str) -> Lookup<TriggerAuthenticationSpec> {
        self.cluster_trigger_authentications.get("", name)
    }

    fn secret(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>> {
        self.secrets.get(namespace, name)
    }

    fn config_map(&self, namespace: &str, name: &str) -> Lookup<BTreeMap<String, String>> {
        self.config_maps.get(namespace, name)
    }

    /// The `--env` pairs, for any container.
    fn container_env(&self, _container_name: Option<&str>) -> Lookup<BTreeMap<String, String>> {
        Lookup::Found(self.env.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3cr3t-t0ken";
    /// base64("s3cr3t-t0ken")
    const TOKEN_B64: &str = "czNjcjN0LXQwa2Vu";

    fn source(text: &str) -> Result<ManifestSource, SourceError> {
        let mut s = ManifestSource::new();
        s.add_manifests("secrets.yaml", text)?;
        Ok(s)
    }

    fn found<T: fmt::Debug>(l: Lookup<T>) -> T {
        match l {
            Lookup::Found(t) => t,
            other => panic!("not found: {other:?}"),
        }
    }

    #[test]
    fn base64_decodes_as_go_std_encoding() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode_base64(TOKEN_B64).unwrap(), TOKEN.as_bytes());
        // Line breaks are skipped (kubectl wraps nothing, but hand-written manifests may).
        assert_eq!(decode_base64("Zm9v\nYmFy\r\n").unwrap(), b"foobar");
        // Unused trailing bits are not checked (StdEncoding is not Strict).
        assert_eq!(decode_base64("Zh==").unwrap(), b"f");
        for bad in [
            "Zg",
            "Zm9",
            "Zg=",
            "Z===",
            "Zg==Zm9v",
            "Zm-v",
            "Zm_v",
            "Zm9v YmFy",
            "=Zm9",
        ] {
            assert!(decode_base64(bad).is_err(), "{bad}");
        }
        let e = decode_base64("Zm9v*mFy").unwrap_err();
        assert_eq!(e, "invalid character at offset 4");
    }

    #[test]
    fn secrets_decode_data_and_string_data_wins() {
        let s = source(&format!(
            "apiVersion: v1
kind: Secret
metadata: {{name: prom, namespace: shop}}
type: Opaque
data:
  token: {TOKEN_B64}
  user: YWxpY2U=
stringData:
  user: bob
  extra: plain
"
        ))
        .unwrap();
        let data = found(s.secret("shop", "prom"));
        assert_eq!(data["token"], TOKEN);
        assert_eq!(data["user"], "bob");
        assert_eq!(data["extra"], "plain");
        assert!(
            matches!(s.secret("other", "prom"), Lookup::Error(e) if e.contains("in namespace shop"))
        );
        assert_eq!(s.secret("shop", "nope"), Lookup::NotFound);
    }

    #[test]
    fn invalid_secret_data_names_the_secret_and_key_without_the_value() {
        let e = source(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: prom, namespace: shop}\ndata:\n  token: abc*defg\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "secrets.yaml: document 1: Secret shop/prom: data.token: invalid base64: invalid character at offset 3"
        );
        // 0xff 0xfe: valid base64, not UTF-8.
        let e = source("apiVersion: v1\nkind: Secret\nmetadata: {name: bin}\ndata:\n  key: //4=\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "secrets.yaml: document 1: Secret default/bin: data.key: not UTF-8 text, which an auth parameter must be"
        );
        let e = source(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: ports}\nstringData:\n  port: 8080\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with("stringData.port: must be a string (quote the value)"),
            "{e}"
        );
        let e = source("apiVersion: v1\nkind: Secret\nmetadata: {namespace: shop}\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "secrets.yaml: document 1: Secret without metadata.name");
    }

    #[test]
    fn config_maps_offer_data_and_check_binary_data() {
        let s = source(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata:\n  modes: bearer\nbinaryData:\n  blob: AAEC\n",
        )
        .unwrap();
        let data = found(s.config_map("shop", "cfg"));
        assert_eq!(
            data,
            BTreeMap::from([("modes".to_string(), "bearer".to_string())])
        );
        let e = source(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\nbinaryData:\n  blob: AAE\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("ConfigMap default/cfg: binaryData.blob: invalid base64"),
            "{e}"
        );
        let e = source(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: a}\nbinaryData: {k: AAEC}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with("binaryData.k: duplicate of a key in data"),
            "{e}"
        );
    }

    #[test]
    fn trigger_authentications_lists_and_other_objects() {
        let s = source(
            "apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: prom}
spec:
  secretTargetRef:
    - {parameter: bearerToken, name: prom, key: token}
---
# nothing
---
apiVersion: v1
kind: List
items:
  - apiVersion: keda.sh/v1alpha1
    kind: ClusterTriggerAuthentication
    metadata: {name: shared, namespace: ignored}
    spec:
      podIdentity: {provider: aws}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: cfg, namespace: shop}
    data: {a: b}
",
        )
        .unwrap();
        let ta = found(s.trigger_authentication("default", "prom"));
        assert_eq!(ta.secret_target_ref[0].parameter, "bearerToken");
        assert_eq!(s.trigger_authentication("shop", "prom"), Lookup::Error(
            "not in the manifests, which hold a TriggerAuthentication \"prom\" in namespace default (an object without metadata.namespace is in \"default\")".to_string()
        ));
        assert!(
            found(s.cluster_trigger_authentication("shared"))
                .pod_identity
                .is_some()
        );
        assert_eq!(found(s.config_map("shop", "cfg"))["a"], "b");
    }

    #[test]
    fn invalid_trigger_authentications_are_errors() {
        let e = source(
            "apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {name: prom, namespace: shop}
spec:
  podIdentity: {provider: aws, roleArn: arn, identityOwner: workload}
",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("secrets.yaml: document 1: TriggerAuthentication/shop/prom is invalid: "),
            "{e}"
        );
        let e = source("apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata: {name: x}\nspec:\n  secretTargetRef: 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is invalid: spec.secretTargetRef"), "{e}");
        assert!(
            source("a: [")
                .unwrap_err()
                .to_string()
                .starts_with("secrets.yaml: invalid YAML")
        );
    }

    #[test]
    fn duplicates_are_errors_across_files() {
        let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: prom}\nstringData: {a: b}\n";
        let mut s = ManifestSource::new();
        s.add_manifests("one.yaml", secret).unwrap();
        let e = s.add_manifests("two.yaml", secret).unwrap_err().to_string();
        assert_eq!(
            e,
            "two.yaml: document 1: Secret default/prom is defined twice (first in one.yaml: document 1)"
        );
        // Same name, other namespace or other kind: fine.
        s.add_manifests(
            "three.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: prom, namespace: shop}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: prom}\n",
        )
        .unwrap();
        let cta = "apiVersion: keda.sh/v1alpha1\nkind: ClusterTriggerAuthentication\nmetadata: {name: c, namespace: a}\nspec: {}\n";
        let cta_b = cta.replace("namespace: a", "namespace: b");
        let e = source(&format!("{cta}---\n{cta_b}"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ClusterTriggerAuthentication c is defined twice"),
            "{e}"
        );
    }

    #[test]
    fn env_pairs_and_container_env() {
        assert_eq!(parse_env_pair("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert_eq!(parse_env_pair("A=").unwrap(), ("A".into(), String::new()));
        assert!(parse_env_pair("A").is_err());
        assert!(parse_env_pair("=v").is_err());
        let mut s = ManifestSource::new();
        s.set_env(BTreeMap::from([("PASS".to_string(), TOKEN.to_string())]));
        assert_eq!(found(s.container_env(None))["PASS"], TOKEN);
        assert_eq!(found(s.container_env(Some("any")))["PASS"], TOKEN);
    }

    #[test]
    fn debug_shows_names_only() {
        let mut s = source(&format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: prom, namespace: shop}}\ndata: {{token: {TOKEN_B64}}}\n"
        ))
        .unwrap();
        s.set_env(BTreeMap::from([(
            "PASS".to_string(),
            "env-value".to_string(),
        )]));
        let debug = format!("{s:?}");
        assert!(
            debug.contains("shop/prom") && debug.contains("PASS"),
            "{debug}"
        );
        assert!(
            !debug.contains(TOKEN) && !debug.contains("env-value"),
            "{debug}"
        );
    }

    #[test]
    fn resolution_through_the_manifests() {
        let mut s = source(&format!(
            "apiVersion: v1
kind: Secret
metadata: {{name: prom, namespace: shop}}
data: {{token: {TOKEN_B64}}}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata: {{name: prom, namespace: shop}}
spec:
  secretTargetRef: [{{parameter: bearerToken, name: prom, key: token}}]
  env: [{{parameter: username, name: PROM_USER}}]
"
        ))
        .unwrap();
        s.set_env(BTreeMap::from([(
            "PROM_USER".to_string(),
            "alice".to_string(),
        )]));
        let so: ScaledObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"name": "web"}, "triggers": [{
                "type": "prometheus", "metadata": {}, "authenticationRef": {"name": "prom"}}]}
        }))
        .unwrap();
        let cfg = AuthConfig {
            source: Arc::new(s),
            cluster_object_namespace: DEFAULT_CLUSTER_OBJECT_NAMESPACE.to_string(),
        };
        let r = resolve(Some(&cfg), &so, &so.spec.triggers[0]).unwrap();
        assert_eq!(r.params["bearerToken"], TOKEN);
        assert_eq!(r.params["username"], "alice");
        let e = resolve(None, &so, &so.spec.triggers[0]).unwrap_err();
        assert!(e.starts_with("authenticationRef \"prom\": "), "{e}");
        let mut plain = so.spec.triggers[0].clone();
        plain.authentication_ref = None;
        assert!(resolve(None, &so, &plain).unwrap().params.is_empty());
        assert!(!format!("{cfg:?}").contains(TOKEN));
    }
}
