//! Credentials and the redacting [`Secret`] wrapper.

use std::fmt;
use std::time::SystemTime;

/// A secret string (secret access key, session token, bearer token). `Debug` and
/// `Display` never show the value; call [`Secret::expose`] where the value is needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A set of AWS credentials. The access key id is not a secret (AWS prints it in
/// errors and CloudTrail); the secret key and the session token are [`Secret`]s.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    /// When temporary credentials stop working; `None` for long-term keys.
    pub expiry: Option<SystemTime>,
    /// Which source produced them, e.g. `environment`, `profile default`, `web identity`,
    /// `sts assume role arn:aws:iam::123456789012:role/r`.
    pub provider: String,
}

impl Credentials {
    /// Long-term keys without a session token or expiry.
    pub fn new_static(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret::new(secret_access_key),
            session_token: None,
            expiry: None,
            provider: provider.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expiry", &self.expiry.map(crate::time::format_rfc3339))
            .field("provider", &self.provider)
            .finish()
    }
}
