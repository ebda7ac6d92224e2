//! AWS credentials for SigV4-signed triggers, shared across scalers.
//!
//! KEDA caches one AWS config per distinct credentials/role/region (`aws_config_cache.go`); likewise
//! [`AwsContext`] keeps one [`CredentialsProvider`] per distinct source, so every trigger that assumes a role
//! shares one set of STS credentials and one refresh. Static keys need no cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use prescale_aws::{AwsEnv, Credentials, CredentialsProvider, SESSION_NAME};

use crate::error::{Error, Result};
use crate::prometheus::metadata::{AwsAuth, AwsCredentials};

/// The environment the AWS credential chain reads, and the providers built so far.
#[derive(Clone, Default)]
pub struct AwsContext {
    /// `None`: the process environment, read on first use.
    env: Option<AwsEnv>,
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    process_env: OnceLock<AwsEnv>,
    http: OnceLock<reqwest::Client>,
    providers: Mutex<HashMap<String, CredentialsProvider>>,
}

impl fmt::Debug for AwsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.inner.providers.lock().map_or(0, |p| p.len());
        f.debug_struct("AwsContext")
            .field("providers", &n)
            .finish_non_exhaustive()
    }
}

impl AwsContext {
    /// A context reading `env` instead of the process environment.
    pub fn new(env: AwsEnv) -> Self {
        AwsContext {
            env: Some(env),
            inner: Arc::default(),
        }
    }

    fn env(&self) -> AwsEnv {
        match &self.env {
            Some(e) => e.clone(),
            None => self
                .inner
                .process_env
                .get_or_init(AwsEnv::from_process)
                .clone(),
        }
    }

    fn http(&self) -> Result<reqwest::Client> {
        if let Some(c) = self.inner.http.get() {
            return Ok(c.clone());
        }
        let c = prescale_aws::http_client().map_err(|e| {
            Error::Config(format!(
                "cannot build the HTTP client for AWS credentials: {}",
                crate::error::chain(&e)
            ))
        })?;
        Ok(self.inner.http.get_or_init(|| c).clone())
    }

    /// The region to sign for: the trigger's `awsRegion`, else `AWS_REGION` / `AWS_DEFAULT_REGION`.
    pub fn default_region(&self) -> Option<String> {
        self.env().region().map(str::to_string)
    }

    /// The credentials provider for a trigger's SigV4 settings (shared with every trigger of the same
    /// source).
    pub fn provider(&self, aws: &AwsAuth) -> Result<CredentialsProvider> {
        let region = aws.region.clone().filter(|r| !r.is_empty());
        let key = match &aws.credentials {
            AwsCredentials::Static {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                let mut c = Credentials::new_static(
                    access_key_id.clone(),
                    secret_access_key.expose(),
                    "trigger authentication parameters",
                );
                c.session_token = session_token
                    .as_ref()
                    .map(|t| prescale_aws::Secret::new(t.expose()));
                return Ok(CredentialsProvider::fixed(c));
            }
            AwsCredentials::Operator | AwsCredentials::PodIdentity { role_arn: None, .. } => {
                "default".to_string()
            }
            AwsCredentials::PodIdentity {
                role_arn: Some(role),
                external_id,
            } => format!(
                "pod-identity|{role}|{}|{}",
                external_id.as_deref().unwrap_or(""),
                region.as_deref().unwrap_or("")
            ),
            AwsCredentials::AssumeRole { role_arn } => {
                format!("assume-role|{role_arn}|{}", region.as_deref().unwrap_or(""))
            }
        };
        let mut providers = self
            .inner
            .providers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = providers.get(&key) {
            return Ok(p.clone());
        }
        let env = self.env();
        let http = self.http()?;
        let chain = || CredentialsProvider::default_chain(env.clone(), http.clone());
        let provider = match &aws.credentials {
            AwsCredentials::PodIdentity {
                role_arn: Some(role),
                external_id,
            } => CredentialsProvider::for_role(
                role.clone(),
                external_id.clone(),
                region,
                env.clone(),
                http.clone(),
            ),
            AwsCredentials::AssumeRole { role_arn } => CredentialsProvider::assume_role(
                chain(),
                role_arn.clone(),
                None,
                SESSION_NAME.to_string(),
                region,
                env.clone(),
                http.clone(),
            ),
            _ => chain(),
        };
        providers.insert(key, provider.clone());
        Ok(provider)
    }
}
