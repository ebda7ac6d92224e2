//! The process environment as a value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variables plus the home directory, passed explicitly so that tests can
/// build one from a map instead of mutating the process environment.
///
/// `Debug` shows every variable name but redacts the values of those whose name suggests
/// a secret (containing `SECRET`, `TOKEN`, `PASSWORD`, `KEY` or `CREDENTIAL`).
#[derive(Clone, Default)]
pub struct AwsEnv {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
}

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["SECRET", "TOKEN", "PASSWORD", "KEY", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

impl std::fmt::Debug for AwsEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vars: BTreeMap<&str, &str> = self
            .vars
            .iter()
            .map(|(k, v)| {
                let shown = if looks_secret(k) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("AwsEnv")
            .field("vars", &vars)
            .field("home", &self.home)
            .finish()
    }
}

impl AwsEnv {
    /// Snapshot of the current process: all variables with UTF-8 names and values, and
    /// the home directory from `HOME` (`USERPROFILE` on Windows).
    pub fn from_process() -> Self {
        let vars: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = vars
            .get("HOME")
            .or_else(|| vars.get("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        AwsEnv { vars, home }
    }

    /// An environment holding exactly these variables. The home directory is taken
    /// from a `HOME` entry if there is one; override it with [`AwsEnv::with_home`].
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let home = vars
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        AwsEnv { vars, home }
    }

    pub fn with_home(mut self, home: PathBuf) -> Self {
        self.home = Some(home);
        self
    }

    /// Adds or replaces one variable.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// The value of a variable. Like the AWS SDKs, a variable set to the empty string
    /// counts as not set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// `path` with a leading `~/` replaced by the home directory.
    pub(crate) fn expand_home(&self, path: &str) -> PathBuf {
        match (path.strip_prefix("~/"), self.home()) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(path),
        }
    }

    /// The region for regional endpoints: `AWS_REGION`, then `AWS_DEFAULT_REGION`.
    pub fn region(&self) -> Option<&str> {
        self.var("AWS_REGION")
            .or_else(|| self.var("AWS_DEFAULT_REGION"))
    }
}
