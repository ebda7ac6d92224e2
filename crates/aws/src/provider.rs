//! The cached, refreshing [`CredentialsProvider`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Mutex;

use crate::chain::{self, default_session_name};
use crate::sts::{self, AssumeRoleRequest};
use crate::{AwsEnv, Credentials, CredentialsError};

/// Temporary credentials are refreshed once they expire within this margin.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Session name used by [`CredentialsProvider::for_role`] (KEDA uses `KEDA`).
pub const SESSION_NAME: &str = "prescale";

/// A source of AWS credentials that caches what it fetched until it is within
/// [`REFRESH_BEFORE_EXPIRY`] of its expiry. Cheap to clone (clones share the cache);
/// concurrent callers wait for one shared fetch instead of each making their own.
#[derive(Clone)]
pub struct CredentialsProvider {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    cached: Option<Credentials>,
    /// The last failed fetch and when it ended; callers that were already waiting
    /// when it failed get this error instead of starting another fetch.
    last_failure: Option<(Instant, CredentialsError)>,
}

enum Source {
    Fixed(Credentials),
    DefaultChain {
        env: AwsEnv,
        http: reqwest::Client,
    },
    AssumeRole {
        base: CredentialsProvider,
        role_arn: String,
        external_id: Option<String>,
        session_name: String,
        region: Option<String>,
        env: AwsEnv,
        http: reqwest::Client,
    },
    WebIdentity {
        role_arn: String,
        token_file: PathBuf,
        session_name: String,
        region: Option<String>,
        env: AwsEnv,
        http: reqwest::Client,
    },
    /// Web identity for the role, falling back to AssumeRole over the default chain
    /// when the web identity call fails (as KEDA does).
    WebIdentityOrAssumeRole {
        web_identity: CredentialsProvider,
        assume_role: CredentialsProvider,
    },
}

impl fmt::Debug for CredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialsProvider(")?;
        f.write_str(&self.describe())?;
        f.write_str(")")
    }
}

impl CredentialsProvider {
    fn from_source(source: Source) -> Self {
        CredentialsProvider {
            inner: Arc::new(Inner {
                source,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Always returns `c`.
    pub fn fixed(c: Credentials) -> Self {
        Self::from_source(Source::Fixed(c))
    }

    /// The default chain, tried in this order; the first link that is configured decides
    /// (a configured link that fails is an error naming it, it does not fall through):
    /// 1. environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
    /// 2. shared files: `AWS_SHARED_CREDENTIALS_FILE` (`~/.aws/credentials`) and
    ///    `AWS_CONFIG_FILE` (`~/.aws/config`), profile `AWS_PROFILE` (`default`): static
    ///    keys, `role_arn` + `source_profile`, or `role_arn` + `web_identity_token_file`;
    /// 3. web identity (IRSA): `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`
    ///    (+ `AWS_ROLE_SESSION_NAME`), the token file re-read on every refresh;
    /// 4. container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS) or
    ///    `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity) with the
    ///    `Authorization` token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read on
    ///    every refresh) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`;
    /// 5. IMDSv2 at `AWS_EC2_METADATA_SERVICE_ENDPOINT` (`http://169.254.169.254`) unless
    ///    `AWS_EC2_METADATA_DISABLED=true`; the last resort, so its failure ends in
    ///    [`CredentialsError::NotFound`] listing every link.
    ///
    /// STS calls go to `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, or
    /// `https://sts.<AWS_REGION|AWS_DEFAULT_REGION>.amazonaws.com` (global endpoint
    /// without a region).
    pub fn default_chain(env: AwsEnv, http: reqwest::Client) -> Self {
        Self::from_source(Source::DefaultChain { env, http })
    }

    /// STS `AssumeRole` for `role_arn`, signed with `base`'s credentials, at the STS
    /// endpoint for `region` (see [`CredentialsProvider::default_chain`]).
    pub fn assume_role(
        base: CredentialsProvider,
        role_arn: String,
        external_id: Option<String>,
        session_name: String,
        region: Option<String>,
        env: AwsEnv,
        http: reqwest::Client,
    ) -> Self {
        Self::from_source(Source::AssumeRole {
            base,
            role_arn,
            external_id,
            session_name,
            region,
            env,
            http,
        })
    }

    /// STS `AssumeRoleWithWebIdentity` for `role_arn` with the token in `token_file`
    /// (re-read on every refresh).
    pub fn web_identity(
        role_arn: String,
        token_file: PathBuf,
        session_name: String,
        region: Option<String>,
        env: AwsEnv,
        http: reqwest::Client,
    ) -> Self {
        Self::from_source(Source::WebIdentity {
            role_arn,
            token_file,
            session_name,
            region,
            env,
            http,
        })
    }

    /// KEDA's `podIdentity.provider: aws` with a `roleArn`: when
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` is set, `AssumeRoleWithWebIdentity` for `role_arn`
    /// with that token; if that fails (or the variable is not set),
    /// `AssumeRole` for `role_arn` on top of the default chain. Session name
    /// [`SESSION_NAME`]. `external_id` applies to `AssumeRole` only (STS has no external
    /// id for web identity).
    pub fn for_role(
        role_arn: String,
        external_id: Option<String>,
        region: Option<String>,
        env: AwsEnv,
        http: reqwest::Client,
    ) -> Self {
        let assume_role = Self::assume_role(
            Self::default_chain(env.clone(), http.clone()),
            role_arn.clone(),
            external_id,
            SESSION_NAME.to_string(),
            region.clone(),
            env.clone(),
            http.clone(),
        );
        match env.var("AWS_WEB_IDENTITY_TOKEN_FILE") {
            Some(file) => {
                let token_file = env.expand_home(file);
                let web_identity = Self::web_identity(
                    role_arn,
                    token_file,
                    SESSION_NAME.to_string(),
                    region,
                    env,
                    http,
                );
                Self::from_source(Source::WebIdentityOrAssumeRole {
                    web_identity,
                    assume_role,
                })
            }
            None => assume_role,
        }
    }

    /// A short description of the source (no secrets), e.g. for logs.
    pub fn describe(&self) -> String {
        match &self.inner.source {
            Source::Fixed(c) => format!("fixed ({})", c.provider),
            Source::DefaultChain { .. } => "default chain".into(),
            Source::AssumeRole { base, role_arn, .. } => {
                format!("sts assume role {role_arn} from {}", base.describe())
            }
            Source::WebIdentity { role_arn, .. } => format!("web identity {role_arn}"),
            Source::WebIdentityOrAssumeRole {
                web_identity,
                assume_role,
            } => format!(
                "{}, else {}",
                web_identity.describe(),
                assume_role.describe()
            ),
        }
    }

    /// Credentials, from the cache while they are valid for more than
    /// [`REFRESH_BEFORE_EXPIRY`], otherwise freshly fetched. If a refresh fails while
    /// the cached credentials have not expired yet, those are returned.
    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        if let Source::Fixed(c) = &self.inner.source {
            return Ok(c.clone());
        }
        let arrived = Instant::now();
        let mut state = self.inner.state.lock().await;
        let now = SystemTime::now();
        if let Some(c) = &state.cached
            && is_fresh(c, now)
        {
            return Ok(c.clone());
        }
        if let Some((failed_at, error)) = &state.last_failure
            && *failed_at >= arrived
        {
            // This caller waited for a fetch that has just failed: share its outcome.
            return match state.cached.as_ref().filter(|c| not_expired(c, now)) {
                Some(c) => Ok(c.clone()),
                None => Err(error.clone()),
            };
        }
        match self.fetch().await {
            Ok(c) => {
                state.cached = Some(c.clone());
                state.last_failure = None;
                Ok(c)
            }
            Err(e) => {
                state.last_failure = Some((Instant::now(), e.clone()));
                match state
                    .cached
                    .as_ref()
                    .filter(|c| not_expired(c, SystemTime::now()))
                {
                    Some(c) => Ok(c.clone()),
                    None => Err(e),
                }
            }
        }
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        match &self.inner.source {
            Source::Fixed(c) => Ok(c.clone()),
            Source::DefaultChain { env, http } => chain::default_chain(env, http).await,
            Source::AssumeRole {
                base,
                role_arn,
                external_id,
                session_name,
                region,
                env,
                http,
            } => {
                let link = format!("sts assume role {role_arn}");
                let base_creds = Box::pin(base.credentials()).await.map_err(|e| {
                    CredentialsError::link(format!("{link}: source credentials"), e)
                })?;
                let endpoint = sts::endpoint(env, region.as_deref());
                let session_name = if session_name.is_empty() {
                    default_session_name()
                } else {
                    session_name.clone()
                };
                let request = AssumeRoleRequest {
                    role_arn,
                    session_name: &session_name,
                    external_id: external_id.as_deref(),
                };
                sts::assume_role(http, &endpoint, &base_creds, request)
                    .await
                    .map_err(|e| CredentialsError::link(link, e))
            }
            Source::WebIdentity {
                role_arn,
                token_file,
                session_name,
                region,
                env,
                http,
            } => {
                let endpoint = sts::endpoint(env, region.as_deref());
                chain::web_identity(http, &endpoint, role_arn, token_file, session_name)
                    .await
                    .map_err(|e| CredentialsError::link(format!("web identity {role_arn}"), e))
            }
            Source::WebIdentityOrAssumeRole {
                web_identity,
                assume_role,
            } => match Box::pin(web_identity.credentials()).await {
                Ok(c) => Ok(c),
                Err(web_error) => Box::pin(assume_role.credentials()).await.map_err(|e| {
                    CredentialsError::Config(format!("{web_error}; falling back: {e}"))
                }),
            },
        }
    }
}

fn is_fresh(c: &Credentials, now: SystemTime) -> bool {
    match c.expiry {
        None => true,
        Some(expiry) => expiry
            .duration_since(now)
            .is_ok_and(|left| left > REFRESH_BEFORE_EXPIRY),
    }
}

fn not_expired(c: &Credentials, now: SystemTime) -> bool {
    c.expiry.is_none_or(|expiry| expiry > now)
}
