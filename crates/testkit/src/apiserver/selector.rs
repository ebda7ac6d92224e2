//! Label and field selectors, as LIST and WATCH take them in `labelSelector` / `fieldSelector`.
//!
//! Labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not
//! exist), `k>n`, `k<n` (integers), comma-separated and all required. Keys must be qualified names
//! and values label values, as the real server checks; a malformed selector is a 400.
//!
//! Fields: `metadata.name` and `metadata.namespace` with `=`, `==` or `!=`; any other field is a
//! 400 `field label not supported: <field>`, as the real server answers for fields a resource
//! does not index.

use serde_json::Value;

use super::status::ApiError;
use super::validate::{is_label_value, is_qualified_name};

/// One label requirement.
#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed label selector (empty matches everything).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Req>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Eq,
    EqEq,
    NotEq,
    Bang,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '>' => {
                out.push(Tok::Gt);
                i += 1;
            }
            '<' => {
                out.push(Tok::Lt);
                i += 1;
            }
            '=' => {
                if chars.get(i + 1) == Some(&'=') {
                    out.push(Tok::EqEq);
                    i += 2;
                } else {
                    out.push(Tok::Eq);
                    i += 1;
                }
            }
            '!' => {
                if chars.get(i + 1) == Some(&'=') {
                    out.push(Tok::NotEq);
                    i += 2;
                } else {
                    out.push(Tok::Bang);
                    i += 1;
                }
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !",()=!<>".contains(chars[i])
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn key(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w)) => {
                if is_qualified_name(&w) {
                    Ok(w)
                } else {
                    Err(format!("invalid label key {w:?}: must be a qualified name"))
                }
            }
            Some(t) => Err(format!("found {t:?}, expected a label key")),
            None => Err("expected a label key at the end".into()),
        }
    }

    fn value(&mut self) -> Result<String, String> {
        // An empty value (`k=` followed by `,` or end) is valid.
        match self.peek() {
            Some(Tok::Word(_)) => {
                let Some(Tok::Word(w)) = self.next() else {
                    return Err("expected a value".into());
                };
                if is_label_value(&w) {
                    Ok(w)
                } else {
                    Err(format!("invalid label value {w:?}"))
                }
            }
            None | Some(Tok::Comma) | Some(Tok::Close) => Ok(String::new()),
            Some(t) => Err(format!("found {t:?}, expected a value")),
        }
    }

    fn set(&mut self) -> Result<Vec<String>, String> {
        if self.next() != Some(Tok::Open) {
            return Err("expected '(' after in/notin".into());
        }
        let mut values = Vec::new();
        loop {
            values.push(self.value()?);
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::Close) => break,
                _ => return Err("expected ',' or ')' in a value set".into()),
            }
        }
        Ok(values)
    }

    fn int(&mut self) -> Result<i64, String> {
        match self.next() {
            Some(Tok::Word(w)) => w.parse::<i64>().map_err(|_| {
                format!("for 'Gt', 'Lt' operators, the value must be an integer, got {w:?}")
            }),
            _ => Err("expected an integer".into()),
        }
    }

    fn requirement(&mut self) -> Result<Req, String> {
        if self.peek() == Some(&Tok::Bang) {
            self.next();
            return Ok(Req::NotExists(self.key()?));
        }
        let key = self.key()?;
        match self.peek().cloned() {
            None | Some(Tok::Comma) => Ok(Req::Exists(key)),
            Some(Tok::Eq) | Some(Tok::EqEq) => {
                self.next();
                Ok(Req::Eq(key, self.value()?))
            }
            Some(Tok::NotEq) => {
                self.next();
                Ok(Req::NotEq(key, self.value()?))
            }
            Some(Tok::Gt) => {
                self.next();
                Ok(Req::Gt(key, self.int()?))
            }
            Some(Tok::Lt) => {
                self.next();
                Ok(Req::Lt(key, self.int()?))
            }
            Some(Tok::Word(w)) if w == "in" => {
                self.next();
                Ok(Req::In(key, self.set()?))
            }
            Some(Tok::Word(w)) if w == "notin" => {
                self.next();
                Ok(Req::NotIn(key, self.set()?))
            }
            Some(t) => Err(format!(
                "found {t:?}, expected one of: in, notin, =, ==, !=, gt, lt, ','"
            )),
        }
    }
}

impl LabelSelector {
    /// Parses a selector string; errors are 400s naming the selector and the problem.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let fail = |why: String| {
            ApiError::bad_request(format!(
                "unable to parse requirement: {why} (labelSelector {s:?})"
            ))
        };
        if s.trim().is_empty() {
            return Ok(Self::default());
        }
        let toks = lex(s).map_err(fail)?;
        let mut p = Parser { toks, pos: 0 };
        let mut reqs = Vec::new();
        loop {
            reqs.push(p.requirement().map_err(fail)?);
            match p.next() {
                None => break,
                Some(Tok::Comma) => continue,
                Some(t) => return Err(fail(format!("found {t:?}, expected ','"))),
            }
        }
        Ok(Self { reqs })
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::NotEq(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
            Req::Gt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            Req::Lt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }

    /// Whether the selector has no requirement.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }
}

/// A parsed field selector over `metadata.name` / `metadata.namespace`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses `field=value,field!=value`; unsupported fields are 400s.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if field != "metadata.name" && field != "metadata.namespace" {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            terms.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self { terms })
    }

    /// Whether the object satisfies every term.
    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|(field, eq, value)| {
            let actual = match field.as_str() {
                "metadata.name" => obj.pointer("/metadata/name"),
                _ => obj.pointer("/metadata/namespace"),
            }
            .and_then(Value::as_str)
            .unwrap_or("");
            (actual == value) == *eq
        })
    }
}

/// Renders a `LabelSelector` object (`matchLabels`, `matchExpressions`) in the string syntax,
/// as `Scale.status.selector` carries it. A string is returned as is.
pub fn label_selector_string(sel: &Value) -> String {
    if let Some(s) = sel.as_str() {
        return s.to_string();
    }
    let mut parts = Vec::new();
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let op = e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| vs.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            values.sort_unstable();
            match op {
                "In" => parts.push(format!("{key} in ({})", values.join(","))),
                "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
                "Exists" => parts.push(key.to_string()),
                "DoesNotExist" => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({ "metadata": { "name": "n", "namespace": "ns", "labels": labels } })
    }

    #[test]
    fn operators() {
        let o = obj(json!({ "app": "web", "tier": "front", "n": "7" }));
        for (sel, want) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (web,api)", true),
            ("app notin (web)", false),
            ("missing notin (web)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier=back", false),
            ("n>5,n<8", true),
            ("n>7", false),
            ("", true),
            ("empty=", false),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
    }

    #[test]
    fn invalid() {
        for sel in [
            "app=",
            "=x",
            "app in web",
            "app in (a",
            "a b",
            "bad key!!=x",
            "n>x",
            "a=b=c",
        ] {
            if sel == "app=" {
                assert!(LabelSelector::parse(sel).is_ok());
                continue;
            }
            let err = LabelSelector::parse(sel).unwrap_err();
            assert_eq!(err.code, 400, "{sel}");
            assert!(err.message.contains(sel), "{sel}: {}", err.message);
        }
    }

    #[test]
    fn fields() {
        let o = obj(json!({}));
        assert!(FieldSelector::parse("metadata.name=n").unwrap().matches(&o));
        assert!(
            !FieldSelector::parse("metadata.name!=n")
                .unwrap()
                .matches(&o)
        );
        assert!(
            FieldSelector::parse("metadata.namespace==ns,metadata.name=n")
                .unwrap()
                .matches(&o)
        );
        assert_eq!(
            FieldSelector::parse("spec.x=1").unwrap_err().message,
            "field label not supported: spec.x"
        );
    }

    #[test]
    fn selector_object_to_string() {
        let s = json!({
            "matchLabels": { "app": "web" },
            "matchExpressions": [ { "key": "tier", "operator": "In", "values": ["b", "a"] },
                                   { "key": "x", "operator": "DoesNotExist" } ]
        });
        let rendered = label_selector_string(&s);
        assert_eq!(rendered, "app=web,tier in (a,b),!x");
        assert!(LabelSelector::parse(&rendered).is_ok());
    }
}
