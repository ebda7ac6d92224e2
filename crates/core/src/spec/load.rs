//! Loading manifests: a multi-document YAML string becomes one [`Document`] per YAML document —
//! a typed KEDA object, a non-KEDA object (kept for reporting), or an error with the field path.
//!
//! Each document goes through what the API server does before KEDA's webhook sees it: fields the
//! CRD does not declare are pruned (reported as warnings, `unknown field "spec.foo"`), then the
//! object is decoded into the typed model. Type errors name the path and value
//! (`spec.triggers[0].metadata.threshold: invalid type: integer `1`, expected a string`); when the
//! object also violates the CRD schema (a missing required field, a value outside an enum), the
//! API server's messages are reported instead of the decoder's.
//!
//! Pure: the caller reads the file.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::crd::{self, CrdKind};
use super::finding::Finding;
use super::{
    ClusterTriggerAuthentication, ObjectMeta, ScaledJob, ScaledObject, TriggerAuthentication,
};

/// The API group and version of every KEDA object.
pub const API_VERSION: &str = "keda.sh/v1alpha1";
/// KEDA's API group.
pub const API_GROUP: &str = "keda.sh";

/// One YAML document of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based position of the document in the YAML stream. Empty documents are not returned but
    /// count, so the indexes of the returned documents may have gaps.
    pub index: usize,
    /// For an object inside a list document (`kind: List`, as `kubectl get -o yaml` prints), its
    /// position in `items`.
    pub item: Option<usize>,
    /// 1-based line where the document's content starts.
    pub line: Option<usize>,
    pub content: DocumentContent,
    /// Fields the CRD would prune (KEDA objects only).
    pub warnings: Vec<Finding>,
}

/// What a document holds.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // a handful per file; boxing would only complicate matching
pub enum DocumentContent {
    /// A well-formed `keda.sh/v1alpha1` object (it may still fail [`super::validate()`]).
    Keda(KedaObject),
    /// Anything that is not a `keda.sh` object (a Deployment, Helm values, a scalar...).
    Other(ObjectRef),
    /// A document that cannot be read as a KEDA object: YAML syntax, a value of the wrong type, a
    /// schema violation that prevents decoding, or an unknown `keda.sh` kind.
    Error {
        object: ObjectRef,
        errors: Vec<Finding>,
    },
}

/// The identity of an object, as far as the document gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ObjectRef {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    fn from_value(v: &Value) -> ObjectRef {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let meta = v.get("metadata");
        ObjectRef {
            api_version: s(v.get("apiVersion")),
            kind: s(v.get("kind")),
            namespace: s(meta.and_then(|m| m.get("namespace"))),
            name: s(meta.and_then(|m| m.get("name"))),
        }
    }

    fn from_meta(api_version: &str, kind: &str, meta: &ObjectMeta) -> ObjectRef {
        ObjectRef {
            api_version: Some(api_version.to_string()),
            kind: Some(kind.to_string()),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
        }
    }

    /// The namespace, `default` when unset.
    pub fn namespace_or_default(&self) -> &str {
        self.namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
    }

    /// `kind/namespace/name`, with `?` for an unknown kind or name and `default` for an unset
    /// namespace.
    pub fn display_name(&self) -> String {
        format!(
            "{}/{}/{}",
            self.kind
                .as_deref()
                .filter(|k| !k.is_empty())
                .unwrap_or("?"),
            self.namespace_or_default(),
            self.name
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or("?"),
        )
    }
}

/// A typed KEDA object. Serializes as the object itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum KedaObject {
    ScaledObject(ScaledObject),
    ScaledJob(ScaledJob),
    TriggerAuthentication(TriggerAuthentication),
    ClusterTriggerAuthentication(ClusterTriggerAuthentication),
}

impl KedaObject {
    pub fn kind(&self) -> CrdKind {
        match self {
            KedaObject::ScaledObject(_) => CrdKind::ScaledObject,
            KedaObject::ScaledJob(_) => CrdKind::ScaledJob,
            KedaObject::TriggerAuthentication(_) => CrdKind::TriggerAuthentication,
            KedaObject::ClusterTriggerAuthentication(_) => CrdKind::ClusterTriggerAuthentication,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            KedaObject::ScaledObject(o) => &o.metadata,
            KedaObject::ScaledJob(o) => &o.metadata,
            KedaObject::TriggerAuthentication(o) => &o.metadata,
            KedaObject::ClusterTriggerAuthentication(o) => &o.metadata,
        }
    }

    fn api_version(&self) -> &str {
        match self {
            KedaObject::ScaledObject(o) => &o.api_version,
            KedaObject::ScaledJob(o) => &o.api_version,
            KedaObject::TriggerAuthentication(o) => &o.api_version,
            KedaObject::ClusterTriggerAuthentication(o) => &o.api_version,
        }
    }

    /// Identity for reporting.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::from_meta(self.api_version(), self.kind().name(), self.metadata())
    }

    /// The object as JSON (what the API server would receive).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Parse every document of a multi-document YAML string. Never fails as a whole: a document that
/// cannot be parsed becomes a [`DocumentContent::Error`], and the others are still returned.
/// Empty documents (only whitespace, comments or `null`) are skipped.
///
/// A list document (`kind: List` or any `*List` kind with an `items` array, as `kubectl get -o
/// yaml` prints) gives one [`Document`] per item, with [`Document::item`] set.
pub fn load(input: &str) -> Vec<Document> {
    split_documents(input)
        .into_iter()
        .flat_map(|chunk| load_chunk(&chunk))
        .collect()
}

/// Read a single object given as JSON (one document, index 0; a list is not expanded).
pub fn load_value(value: Value) -> Document {
    let mut doc = Document {
        index: 0,
        item: None,
        line: None,
        content: DocumentContent::Other(ObjectRef::default()),
        warnings: Vec::new(),
    };
    classify(value, &mut doc);
    doc
}

/// The items of a list document, if `value` is one.
fn list_items(value: &mut Value) -> Option<Vec<Value>> {
    let kind = value.get("kind").and_then(Value::as_str)?;
    if !kind.ends_with("List") || !value.get("items").is_some_and(Value::is_array) {
        return None;
    }
    match value.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Splitting a stream into documents

struct Chunk {
    index: usize,
    /// 1-based line of the chunk's first line.
    start_line: usize,
    text: String,
}

/// `---` or `...` at column 0, alone or followed by whitespace.
fn marker<'a>(line: &'a str, m: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(m)?;
    if rest.is_empty() || rest.starts_with([' ', '\t']) {
        Some(rest)
    } else {
        None
    }
}

fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || l.starts_with('%')
    })
}

/// Split on document markers. YAML forbids `---` and `...` at column 0 inside any scalar, so a line
/// that starts with one always separates documents.
fn split_documents(input: &str) -> Vec<Chunk> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut start_line = 1;
    let mut explicit = false;
    let mut index = 0;
    let mut flush = |text: String, start_line: usize, explicit: bool, chunks: &mut Vec<Chunk>| {
        if explicit || !is_blank(&text) {
            chunks.push(Chunk {
                index,
                start_line,
                text,
            });
            index += 1;
        }
    };
    for (i, raw) in input.split_inclusive('\n').enumerate() {
        let lineno = i + 1;
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(rest) = marker(line, "---") {
            flush(
                std::mem::take(&mut current),
                start_line,
                explicit,
                &mut chunks,
            );
            // Keep the content after the marker at its column.
            current.push_str("   ");
            current.push_str(rest);
            current.push('\n');
            start_line = lineno;
            explicit = true;
        } else if marker(line, "...").is_some() {
            flush(
                std::mem::take(&mut current),
                start_line,
                explicit,
                &mut chunks,
            );
            start_line = lineno + 1;
            explicit = false;
        } else {
            current.push_str(raw);
        }
    }
    flush(current, start_line, explicit, &mut chunks);
    chunks
}

// ---------------------------------------------------------------------------------------------
// One document

fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.with_snippet = false;
    // kubectl reads YAML 1.1 (go-yaml v2): `010` is octal, `yes`/`on` are booleans.
    o.legacy_octal_numbers = true;
    o
}

fn load_chunk(chunk: &Chunk) -> Vec<Document> {
    // Pad with the preceding lines so that the parser's line numbers are those of the input.
    let mut text = "\n".repeat(chunk.start_line.saturating_sub(1));
    text.push_str(&chunk.text);
    let parsed =
        serde_saphyr::from_str_with_options::<serde_saphyr::Spanned<Value>>(&text, yaml_options());
    let mut doc = Document {
        index: chunk.index,
        item: None,
        line: Some(chunk.start_line),
        content: DocumentContent::Other(ObjectRef::default()),
        warnings: Vec::new(),
    };
    match parsed {
        Err(e) => {
            doc.content = DocumentContent::Error {
                object: ObjectRef::default(),
                errors: vec![Finding::error("", format!("invalid YAML: {e}"))],
            };
            vec![doc]
        }
        Ok(mut spanned) => {
            if spanned.value.is_null() {
                return Vec::new();
            }
            let line = usize::try_from(spanned.referenced.line()).unwrap_or(0);
            if line > 0 {
                doc.line = Some(line);
            }
            if let Some(items) = list_items(&mut spanned.value) {
                return items
                    .into_iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(i, v)| {
                        let mut d = doc.clone();
                        d.item = Some(i);
                        classify(v, &mut d);
                        d
                    })
                    .collect();
            }
            classify(spanned.value, &mut doc);
            vec![doc]
        }
    }
}

fn classify(mut value: Value, doc: &mut Document) {
    let object = ObjectRef::from_value(&value);
    if !value.is_object() {
        doc.content = DocumentContent::Other(object);
        return;
    }
    let kind_name = object.kind.as_deref().unwrap_or("");
    let api_version = match &object.api_version {
        Some(v) => v.as_str(),
        None => {
            if CrdKind::from_kind(kind_name).is_some() {
                doc.content = DocumentContent::Error {
                    object,
                    errors: vec![Finding::error("apiVersion", "apiVersion not set")],
                };
            } else {
                doc.content = DocumentContent::Other(object);
            }
            return;
        }
    };
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    if group != API_GROUP {
        doc.content = DocumentContent::Other(object);
        return;
    }
    let Some(kind) = CrdKind::from_kind(kind_name).filter(|_| api_version == API_VERSION) else {
        let message = if kind_name.is_empty() {
            "kind not set".to_string()
        } else {
            format!("no matches for kind \"{kind_name}\" in version \"{api_version}\"")
        };
        let path = if kind_name.is_empty() { "kind" } else { "" };
        doc.content = DocumentContent::Error {
            object,
            errors: vec![Finding::error(path, message)],
        };
        return;
    };

    doc.warnings = crd::prune(kind, &mut value);
    let result = match kind {
        CrdKind::ScaledObject => decode::<ScaledObject>(&value).map(KedaObject::ScaledObject),
        CrdKind::ScaledJob => decode::<ScaledJob>(&value).map(KedaObject::ScaledJob),
        CrdKind::TriggerAuthentication => {
            decode::<TriggerAuthentication>(&value).map(KedaObject::TriggerAuthentication)
        }
        CrdKind::ClusterTriggerAuthentication => decode::<ClusterTriggerAuthentication>(&value)
            .map(KedaObject::ClusterTriggerAuthentication),
    };
    doc.content = match result {
        Ok(obj) => DocumentContent::Keda(obj),
        Err(decode_error) => {
            // Prefer the API server's messages: a schema violation (missing required field, value
            // outside an enum) is what `kubectl apply` would report.
            let mut errors: Vec<Finding> = crd::check(kind, &value)
                .into_iter()
                .filter(Finding::is_error)
                .collect();
            if !errors
                .iter()
                .any(|f| path_within(&f.path, &decode_error.path))
            {
                errors.push(decode_error);
            }
            DocumentContent::Error { object, errors }
        }
    };
}

/// `path` is `parent` or lies below it.
fn path_within(path: &str, parent: &str) -> bool {
    if parent.is_empty() {
        return true;
    }
    path.strip_prefix(parent)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, Finding> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        Finding::error(path, e.inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_counts_documents() {
        let chunks = split_documents("# c\n---\na: 1\n---\n---\nb: 2\n...\n# after\n");
        let idx: Vec<(usize, usize)> = chunks.iter().map(|c| (c.index, c.start_line)).collect();
        assert_eq!(idx, vec![(0, 2), (1, 4), (2, 5)]);
        let implicit = split_documents("a: 1\n---\nb: 2");
        assert_eq!(implicit.len(), 2);
        assert_eq!(implicit[1].start_line, 2);
    }

    #[test]
    fn marker_needs_column_zero_and_separator() {
        assert!(marker("---", "---").is_some());
        assert!(marker("--- |", "---").is_some());
        assert!(marker("----", "---").is_none());
        assert!(marker(" ---", "---").is_none());
    }

    #[test]
    fn path_within_parent() {
        assert!(path_within("spec.triggers[0].type", "spec.triggers[0]"));
        assert!(path_within("spec.x", ""));
        assert!(!path_within("spec.triggersX", "spec.triggers"));
    }
}
