//! The credentials chain and providers against loopback fakes of STS, IMDSv2 and the
//! container credentials endpoint.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prescale_aws::{AwsEnv, Credentials, CredentialsError, CredentialsProvider, Secret};
use support::*;

const HOUR: Duration = Duration::from_secs(3600);

/// Environment with no home files and IMDS disabled, plus `vars`.
fn isolated(home: &std::path::Path, vars: &[(&str, &str)]) -> AwsEnv {
    let mut all = vec![("AWS_EC2_METADATA_DISABLED", "true")];
    all.extend_from_slice(vars);
    env(&all).with_home(home.to_path_buf())
}

async fn chain(env: AwsEnv) -> Result<Credentials, CredentialsError> {
    CredentialsProvider::default_chain(env, http())
        .credentials()
        .await
}

// ------------------------------------------------------------------ environment

#[tokio::test]
async fn environment_keys_with_session_token() {
    let home = tempfile::tempdir().unwrap();
    let c = chain(isolated(
        home.path(),
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_SESSION_TOKEN", "envtoken"),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "AKIDENV");
    assert_eq!(secret_of(&c), "envsecret");
    assert_eq!(token_of(&c), Some("envtoken"));
    assert_eq!(c.provider, "environment");
    assert_eq!(c.expiry, None);
}

#[tokio::test]
async fn environment_key_without_secret_is_an_error_naming_it() {
    let home = tempfile::tempdir().unwrap();
    // A usable profile exists, but a half-configured environment must not fall through.
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n",
    )
    .unwrap();
    let e = chain(isolated(home.path(), &[("AWS_ACCESS_KEY_ID", "AKIDENV")]))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
    );
}

#[tokio::test]
async fn environment_wins_over_profile_web_identity_and_container() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n",
    )
    .unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "jwt").unwrap();
    let sts = Fake::new(creds_reply("ASIAWEB", HOUR));
    let sts_addr = fake_sts(sts.clone()).await;
    let container = Fake::new(creds_reply("ASIACONTAINER", HOUR));
    let container_addr = fake_container(container.clone()).await;
    let sts_url = format!("http://{sts_addr}");
    let full_uri = format!("http://{container_addr}/v1/credentials");
    let token_path = token_file.to_str().unwrap();
    let c = chain(isolated(
        home.path(),
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token_path),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/web"),
            ("AWS_ENDPOINT_URL_STS", &sts_url),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "AKIDENV");
    assert_eq!((sts.count(), container.count()), (0, 0));
}

// ------------------------------------------------------------------ shared files

#[tokio::test]
async fn profile_static_keys_from_credentials_and_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("creds");
    let config = dir.path().join("config");
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n\n\
         [dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=dev/secret+x\naws_session_token = devtoken\n",
    )
    .unwrap();
    std::fs::write(
        &config,
        "[profile cfg]\nregion = eu-west-1\naws_access_key_id = AKIDCFG\naws_secret_access_key = c\n\
         [profile dev]\naws_access_key_id = AKIDOVERRIDDEN\n",
    )
    .unwrap();
    let files = [
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
    ];
    let with = |profile: Option<&str>| {
        let mut vars = files.to_vec();
        if let Some(p) = profile {
            vars.push(("AWS_PROFILE", p));
        }
        isolated(dir.path(), &vars)
    };
    let c = chain(with(None)).await.unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.provider.as_str()),
        ("AKIDDEFAULT", "profile default")
    );
    let c = chain(with(Some("dev"))).await.unwrap();
    // The credentials file overrides the config file.
    assert_eq!(c.access_key_id, "AKIDDEV");
    assert_eq!(secret_of(&c), "dev/secret+x");
    assert_eq!(token_of(&c), Some("devtoken"));
    assert_eq!(c.provider, "profile dev");
    let c = chain(with(Some("cfg"))).await.unwrap();
    assert_eq!(c.access_key_id, "AKIDCFG");
}

#[tokio::test]
async fn default_files_under_home() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = h\n",
    )
    .unwrap();
    let c = chain(isolated(home.path(), &[])).await.unwrap();
    assert_eq!(c.access_key_id, "AKIDHOME");
}

#[tokio::test]
async fn profile_errors_name_file_line_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = A\nthis line is broken\n",
    )
    .unwrap();
    let path = credentials.to_str().unwrap();
    let e = chain(isolated(
        dir.path(),
        &[("AWS_SHARED_CREDENTIALS_FILE", path)],
    ))
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("profile \"default\": "), "{msg}");
    assert!(msg.contains(&format!("{path}:3: ")), "{msg}");

    std::fs::write(&credentials, "[default]\naws_access_key_id = A\n").unwrap();
    let e = chain(isolated(
        dir.path(),
        &[("AWS_SHARED_CREDENTIALS_FILE", path)],
    ))
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("aws_access_key_id is set but aws_secret_access_key is not"),
        "{e}"
    );

    let e = chain(isolated(
        dir.path(),
        &[
            ("AWS_SHARED_CREDENTIALS_FILE", path),
            ("AWS_PROFILE", "nope"),
        ],
    ))
    .await
    .unwrap_err();
    assert!(e.to_string().contains("AWS_PROFILE=nope"), "{e}");

    std::fs::write(
        &credentials,
        "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n",
    )
    .unwrap();
    let e = chain(isolated(
        dir.path(),
        &[("AWS_SHARED_CREDENTIALS_FILE", path)],
    ))
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("credential_source = Ec2InstanceMetadata is not supported"),
        "{e}"
    );

    std::fs::write(
        &credentials,
        "[a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n",
    )
    .unwrap();
    let e = chain(isolated(
        dir.path(),
        &[("AWS_SHARED_CREDENTIALS_FILE", path), ("AWS_PROFILE", "a")],
    ))
    .await
    .unwrap_err();
    assert!(e.to_string().contains("loops: a -> b -> a"), "{e}");
}

#[tokio::test]
async fn profile_role_arn_with_source_profile_assumes_the_role() {
    let sts = Fake::new(creds_reply("ASIAROLE", HOUR));
    let addr = fake_sts(sts.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile base]\naws_access_key_id = {BASE_AKID}\naws_secret_access_key = {BASE_SECRET}\n\
             [profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n\
             external_id = ext-7\nrole_session_name = ops-session\nregion = eu-central-1\n"
        ),
    )
    .unwrap();
    let url = format!("http://{addr}");
    let c = chain(isolated(
        dir.path(),
        &[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_PROFILE", "ops"),
            ("AWS_ENDPOINT_URL_STS", &url),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "ASIAROLE");
    assert_eq!(token_of(&c), Some("ASIAROLE-token"));
    assert_eq!(
        c.provider,
        "sts assume role arn:aws:iam::123456789012:role/ops"
    );
    let seen = sts.seen();
    assert_eq!(seen.len(), 1);
    let form = &seen[0].form;
    assert_eq!(form["Action"], "AssumeRole");
    assert_eq!(form["RoleArn"], "arn:aws:iam::123456789012:role/ops");
    assert_eq!(form["ExternalId"], "ext-7");
    assert_eq!(form["RoleSessionName"], "ops-session");
    let auth = seen[0].headers["authorization"].to_str().unwrap();
    assert!(auth.contains("/eu-central-1/sts/aws4_request"), "{auth}");
}

#[tokio::test]
async fn profile_web_identity_token_file() {
    let sts = Fake::new(creds_reply("ASIAPWEB", HOUR));
    let addr = fake_sts(sts.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("jwt"), "profile-jwt\n").unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[default]\nrole_arn = arn:aws:iam::1:role/pw\nweb_identity_token_file = {}\n",
            dir.path().join("jwt").display()
        ),
    )
    .unwrap();
    let url = format!("http://{addr}");
    let c = chain(isolated(
        dir.path(),
        &[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_ENDPOINT_URL_STS", &url),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "ASIAPWEB");
    let form = &sts.seen()[0].form;
    assert_eq!(form["Action"], "AssumeRoleWithWebIdentity");
    assert_eq!(form["WebIdentityToken"], "profile-jwt");
    assert_eq!(form["RoleArn"], "arn:aws:iam::1:role/pw");
}

// ------------------------------------------------------------------ web identity

#[tokio::test]
async fn web_identity_rereads_the_token_file_on_refresh() {
    // Credentials that are already inside the refresh margin: every call refetches.
    let sts = Fake::new(creds_reply("ASIAWEB", Duration::from_secs(60)));
    let addr = fake_sts(sts.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "jwt-one\n").unwrap();
    let url = format!("http://{addr}");
    let provider = CredentialsProvider::default_chain(
        isolated(
            home.path(),
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap()),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/irsa"),
                ("AWS_ROLE_SESSION_NAME", "irsa-session"),
                ("AWS_ENDPOINT_URL_STS", &url),
            ],
        ),
        http(),
    );
    let c = provider.credentials().await.unwrap();
    assert_eq!(c.access_key_id, "ASIAWEB");
    assert_eq!(c.provider, "web identity arn:aws:iam::1:role/irsa");
    assert!(c.expiry.unwrap() > SystemTime::now());
    std::fs::write(&token_file, "jwt-two").unwrap();
    provider.credentials().await.unwrap();
    let seen = sts.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].form["WebIdentityToken"], "jwt-one");
    assert_eq!(seen[1].form["WebIdentityToken"], "jwt-two");
    assert_eq!(seen[0].form["RoleSessionName"], "irsa-session");
    assert_eq!(seen[0].form["Version"], "2011-06-15");
    assert!(seen[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn web_identity_sts_error_names_link_code_and_message() {
    let sts = Fake::new(sts_error(
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity &amp; more",
    ));
    let addr = fake_sts(sts.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "secret-jwt-value").unwrap();
    let url = format!("http://{addr}");
    let e = chain(isolated(
        home.path(),
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap()),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/irsa"),
            ("AWS_ENDPOINT_URL_STS", &url),
        ],
    ))
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert_eq!(
        msg,
        format!(
            "web identity: STS AssumeRoleWithWebIdentity at {url}/: HTTP 403: AccessDenied: \
             Not authorized to perform sts:AssumeRoleWithWebIdentity & more"
        )
    );
    assert!(!msg.contains("secret-jwt-value"));
}

#[tokio::test]
async fn web_identity_configuration_errors() {
    let home = tempfile::tempdir().unwrap();
    let e = chain(isolated(
        home.path(),
        &[("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token")],
    ))
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"
    );
    let e = chain(isolated(
        home.path(),
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ],
    ))
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("web identity: cannot read web identity token file /nonexistent/token: "),
        "{e}"
    );
}

// ------------------------------------------------------------ container credentials

#[tokio::test]
async fn container_full_uri_with_token_file_reread_and_plain_token() {
    let fake = Fake::new(creds_reply("ASIAPOD", Duration::from_secs(10)));
    *fake.required_auth.lock().unwrap() = Some("pod-token-1".into());
    let addr = fake_container(fake.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("eks-pod-identity-token");
    std::fs::write(&token_file, "pod-token-1\n").unwrap();
    let uri = format!("http://{addr}/v1/credentials");
    let provider = CredentialsProvider::default_chain(
        isolated(
            home.path(),
            &[
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
                (
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    token_file.to_str().unwrap(),
                ),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set"),
            ],
        ),
        http(),
    );
    let c = provider.credentials().await.unwrap();
    assert_eq!(c.access_key_id, "ASIAPOD");
    assert_eq!(token_of(&c), Some("ASIAPOD-token"));
    assert_eq!(c.provider, "container credentials");
    // The token rotates: the file is read again on the next fetch.
    *fake.required_auth.lock().unwrap() = Some("pod-token-2".into());
    std::fs::write(&token_file, "pod-token-2").unwrap();
    provider.credentials().await.unwrap();
    assert_eq!(fake.count(), 2);

    // AWS_CONTAINER_AUTHORIZATION_TOKEN alone.
    let c = chain(isolated(
        home.path(),
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-token-2"),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "ASIAPOD");
}

#[tokio::test]
async fn container_wrong_token_and_disallowed_host_are_errors() {
    let fake = Fake::new(creds_reply("ASIAPOD", HOUR));
    *fake.required_auth.lock().unwrap() = Some("right".into());
    let addr = fake_container(fake.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let uri = format!("http://{addr}/v1/credentials");
    let e = chain(isolated(
        home.path(),
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong"),
        ],
    ))
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("container credentials: {uri}: HTTP 401: bad token")
    );
    let e = chain(isolated(
        home.path(),
        &[(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://192.0.2.10/v1/credentials",
        )],
    ))
    .await
    .unwrap_err();
    assert!(
        e.to_string().starts_with("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.10/v1/credentials: plain http is only allowed"),
        "{e}"
    );
}

#[tokio::test]
async fn malformed_container_and_imds_bodies_give_clear_errors() {
    let bodies = [
        (200, ""),
        (200, "{"),
        (200, "null"),
        (200, "[]"),
        (200, "{\"AccessKeyId\": 5}"),
        (200, "{\"AccessKeyId\":\"A\"}"),
        (
            200,
            "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"soon\"}",
        ),
        (200, "{\"Code\":\"Failure\",\"Message\":\"role gone\"}"),
        (200, "<html>captive portal</html>"),
        (500, "internal error"),
    ];
    let container = Fake::new(Reply::Raw(200, String::new()));
    let caddr = fake_container(container.clone()).await;
    let imds = Fake::new(Reply::Raw(200, String::new()));
    let iaddr = fake_imds(imds.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let curi = format!("http://{caddr}/v1/credentials");
    let iuri = format!("http://{iaddr}");
    for (status, body) in bodies {
        container.set_reply(Reply::Raw(status, body.into()));
        imds.set_reply(Reply::Raw(status, body.into()));
        let e = chain(isolated(
            home.path(),
            &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &curi)],
        ))
        .await
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("container credentials: {curi}: ")),
            "{body:?}: {msg}"
        );
        assert!(
            msg.contains("invalid response") || msg.contains("HTTP 500"),
            "{body:?}: {msg}"
        );
        let e = chain(
            env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &iuri)])
                .with_home(home.path().to_path_buf()),
        )
        .await
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!(
                "IMDSv2 {iuri}: {iuri}/latest/meta-data/iam/security-credentials/{IMDS_ROLE}: "
            )),
            "{body:?}: {msg}"
        );
    }
}

// ------------------------------------------------------------------ IMDSv2

#[tokio::test]
async fn imds_v2_session_token_role_and_credentials() {
    let fake = Fake::new(creds_reply("ASIANODE", HOUR));
    let addr = fake_imds(fake.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{addr}/");
    let c = chain(
        env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)])
            .with_home(home.path().to_path_buf()),
    )
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "ASIANODE");
    assert_eq!(c.provider, format!("IMDSv2 role {IMDS_ROLE}"));
    let seen = fake.seen();
    let paths: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.uri.path()))
        .collect();
    assert_eq!(
        paths,
        [
            "PUT /latest/api/token".to_string(),
            "GET /latest/meta-data/iam/security-credentials/".to_string(),
            format!("GET /latest/meta-data/iam/security-credentials/{IMDS_ROLE}"),
        ]
    );

    // The fake really enforces the session token.
    let r = http()
        .get(format!(
            "http://{addr}/latest/meta-data/iam/security-credentials/"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

// ------------------------------------------------------------------ whole chain

#[tokio::test]
async fn failing_chain_names_every_link() {
    let home = tempfile::tempdir().unwrap();
    let dead = closed_port().await;
    let endpoint = format!("http://{dead}");
    let e = chain(
        env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)])
            .with_home(home.path().to_path_buf()),
    )
    .await
    .unwrap_err();
    let CredentialsError::NotFound { tried } = &e else {
        panic!("expected NotFound, got {e}");
    };
    let links: Vec<&str> = tried.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        links,
        [
            "environment",
            "profile \"default\"",
            "web identity",
            "container credentials",
            &format!("IMDSv2 {endpoint}"),
        ]
    );
    let msg = e.to_string();
    let h = home.path().display();
    let expected_prefix = format!(
        "no AWS credentials found: environment: AWS_ACCESS_KEY_ID not set; \
         profile \"default\": {h}/.aws/credentials: not found; {h}/.aws/config: not found; \
         web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set; \
         container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set; \
         IMDSv2 {endpoint}: {endpoint}/latest/api/token: "
    );
    assert!(msg.starts_with(&expected_prefix), "{msg}");
    assert!(msg.to_lowercase().contains("connect"), "{msg}");

    let e = chain(isolated(home.path(), &[])).await.unwrap_err();
    assert!(
        e.to_string()
            .ends_with("IMDSv2 http://169.254.169.254: disabled by AWS_EC2_METADATA_DISABLED"),
        "{e}"
    );
}

// ------------------------------------------------------------------ caching

#[tokio::test]
async fn refresh_depends_on_expiry() {
    let fake = Fake::new(creds_reply("ASIAFAR", HOUR));
    let addr = fake_container(fake.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let uri = format!("http://{addr}/v1/credentials");
    let provider = CredentialsProvider::default_chain(
        isolated(home.path(), &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)]),
        http(),
    );
    // Far from expiry: cached.
    for _ in 0..3 {
        assert_eq!(
            provider.credentials().await.unwrap().access_key_id,
            "ASIAFAR"
        );
    }
    assert_eq!(fake.count(), 1);
    // Clones share the cache.
    provider.clone().credentials().await.unwrap();
    assert_eq!(fake.count(), 1);

    let fake = Fake::new(creds_reply("ASIANEAR", Duration::from_secs(4 * 60)));
    let addr = fake_container(fake.clone()).await;
    let uri = format!("http://{addr}/v1/credentials");
    let provider = CredentialsProvider::default_chain(
        isolated(home.path(), &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)]),
        http(),
    );
    // Within 5 minutes of expiry: refetched every time.
    for _ in 0..3 {
        provider.credentials().await.unwrap();
    }
    assert_eq!(fake.count(), 3);
    // After a refresh yields credentials far from expiry, they are cached again.
    fake.set_reply(creds_reply("ASIANEW", HOUR));
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id,
        "ASIANEW"
    );
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id,
        "ASIANEW"
    );
    assert_eq!(fake.count(), 4);

    // Already expired: refetched.
    let fake = Fake::new(Reply::Expired {
        akid: "ASIAOLD".into(),
        ago: Duration::from_secs(60),
    });
    let addr = fake_container(fake.clone()).await;
    let uri = format!("http://{addr}/v1/credentials");
    let provider = CredentialsProvider::default_chain(
        isolated(home.path(), &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)]),
        http(),
    );
    provider.credentials().await.unwrap();
    provider.credentials().await.unwrap();
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn refresh_failure_keeps_unexpired_credentials_and_reports_expired_ones() {
    let fake = Fake::new(creds_reply("ASIANEAR", Duration::from_secs(120)));
    let addr = fake_container(fake.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let uri = format!("http://{addr}/v1/credentials");
    let provider = CredentialsProvider::default_chain(
        isolated(home.path(), &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)]),
        http(),
    );
    provider.credentials().await.unwrap();
    fake.set_reply(Reply::Raw(503, "unavailable".into()));
    // The refresh fails, but the cached credentials are still valid for ~2 minutes.
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id,
        "ASIANEAR"
    );
    assert_eq!(fake.count(), 2);

    let fake = Fake::new(Reply::Expired {
        akid: "ASIAOLD".into(),
        ago: Duration::from_secs(1),
    });
    let addr = fake_container(fake.clone()).await;
    let uri = format!("http://{addr}/v1/credentials");
    let provider = CredentialsProvider::default_chain(
        isolated(home.path(), &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)]),
        http(),
    );
    provider.credentials().await.unwrap();
    fake.set_reply(Reply::Raw(503, "unavailable".into()));
    let e = provider.credentials().await.unwrap_err();
    assert!(e.to_string().contains("HTTP 503: unavailable"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_refresh() {
    let fake = Fake::new(creds_reply("ASIASHARED", HOUR));
    *fake.delay.lock().unwrap() = Duration::from_millis(300);
    let addr = fake_container(fake.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let uri = format!("http://{addr}/v1/credentials");
    let provider = CredentialsProvider::default_chain(
        isolated(home.path(), &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)]),
        http(),
    );
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let p = provider.clone();
            tokio::spawn(async move { p.credentials().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().access_key_id, "ASIASHARED");
    }
    assert_eq!(fake.count(), 1);

    // A failing fetch is shared too: callers waiting for it get its error.
    fake.set_reply(Reply::Raw(500, "down".into()));
    let failing = CredentialsProvider::default_chain(
        isolated(home.path(), &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)]),
        http(),
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let p = failing.clone();
            tokio::spawn(async move { p.credentials().await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    assert_eq!(fake.count(), 2);
}

// ------------------------------------------------------------------ assume role

#[tokio::test]
async fn assume_role_is_signed_with_the_base_credentials() {
    let sts = Fake::new(creds_reply("ASIAASSUMED", HOUR));
    let addr = fake_sts(sts.clone()).await;
    let url = format!("http://{addr}");
    let provider = CredentialsProvider::assume_role(
        CredentialsProvider::fixed(base_creds()),
        "arn:aws:iam::123456789012:role/reader".into(),
        Some("ext-1".into()),
        "my-session".into(),
        Some("us-west-2".into()),
        env(&[("AWS_ENDPOINT_URL_STS", &url)]),
        http(),
    );
    let c = provider.credentials().await.unwrap();
    assert_eq!(c.access_key_id, "ASIAASSUMED");
    assert_eq!(secret_of(&c), "ASIAASSUMED-secret");
    assert_eq!(token_of(&c), Some("ASIAASSUMED-token"));
    assert_eq!(
        c.provider,
        "sts assume role arn:aws:iam::123456789012:role/reader"
    );
    let seen = sts.seen();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.method, "POST");
    let auth = s.headers["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={BASE_AKID}/")),
        "{auth}"
    );
    assert!(auth.contains("/us-west-2/sts/aws4_request"), "{auth}");
    assert!(
        auth.contains("SignedHeaders=content-type;host;x-amz-date"),
        "{auth}"
    );
    // The fake recomputed the signature over what it received (403 otherwise).
    assert_eq!(s.form["Action"], "AssumeRole");
    assert_eq!(s.form["Version"], "2011-06-15");
    assert_eq!(s.form["RoleSessionName"], "my-session");
    assert_eq!(s.form["ExternalId"], "ext-1");

    // The assumed credentials are cached.
    provider.credentials().await.unwrap();
    assert_eq!(sts.count(), 1);
}

#[tokio::test]
async fn assume_role_with_session_token_base_signs_the_token() {
    let sts = Fake::new(creds_reply("ASIAASSUMED", HOUR));
    let addr = fake_sts(sts.clone()).await;
    let url = format!("http://{addr}");
    let mut base = base_creds();
    base.session_token = Some(Secret::new("base-session-token"));
    let provider = CredentialsProvider::assume_role(
        CredentialsProvider::fixed(base),
        "arn:aws:iam::1:role/r".into(),
        None,
        "s".into(),
        None,
        env(&[("AWS_ENDPOINT_URL_STS", &url)]),
        http(),
    );
    provider.credentials().await.unwrap();
    let s = &sts.seen()[0];
    assert_eq!(s.headers["x-amz-security-token"], "base-session-token");
    let auth = s.headers["authorization"].to_str().unwrap();
    assert!(auth.contains("x-amz-security-token"), "{auth}");
    assert!(
        auth.contains("/us-east-1/sts/"),
        "global endpoint signs for us-east-1: {auth}"
    );
    assert!(!s.form.contains_key("ExternalId"));
}

#[tokio::test]
async fn assume_role_errors_and_malformed_xml() {
    let sts = Fake::new(sts_error(
        403,
        "AccessDenied",
        "User: x is not authorized &lt;really&gt;",
    ));
    let addr = fake_sts(sts.clone()).await;
    let url = format!("http://{addr}");
    let make = || {
        CredentialsProvider::assume_role(
            CredentialsProvider::fixed(base_creds()),
            "arn:aws:iam::1:role/r".into(),
            None,
            "s".into(),
            None,
            env(&[("AWS_ENDPOINT_URL_STS", &url)]),
            http(),
        )
    };
    let e = make().credentials().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "sts assume role arn:aws:iam::1:role/r: STS AssumeRole at {url}/: HTTP 403: AccessDenied: User: x is not authorized <really>"
        )
    );

    let malformed = [
        (200, "", "no <Credentials>"),
        (
            200,
            "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>",
            "</Credentials>",
        ),
        (
            200,
            "<Credentials><AccessKeyId>A</AccessKeyId></Credentials>",
            "no <SecretAccessKey>",
        ),
        (
            200,
            "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S&bogus;</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>",
            "&bogus;",
        ),
        (
            200,
            "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>next week</Expiration></Credentials>",
            "<Expiration>",
        ),
        (
            200,
            "<Credentials><AccessKeyId><b>A</b></AccessKeyId></Credentials>",
            "nested markup",
        ),
        (500, "<html>oops</html>", "HTTP 500: <html>oops</html>"),
        (400, "<Error><Code>Throttling", "HTTP 400"),
    ];
    for (status, body, needle) in malformed {
        sts.set_reply(Reply::Raw(status, body.into()));
        let e = make().credentials().await.unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("sts assume role arn:aws:iam::1:role/r: "),
            "{msg}"
        );
        assert!(msg.contains(&url), "{msg}");
        assert!(msg.contains(needle), "{body:?}: {msg}");
    }

    // Entities in the credentials are decoded.
    sts.set_reply(Reply::Raw(
        200,
        "<Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>a&amp;b&#x2F;c</SecretAccessKey><SessionToken>t&lt;1&gt;</SessionToken><Expiration>2030-01-01T00:00:00.000Z</Expiration></Credentials>".into(),
    ));
    let c = make().credentials().await.unwrap();
    assert_eq!(secret_of(&c), "a&b/c");
    assert_eq!(token_of(&c), Some("t<1>"));
}

#[tokio::test]
async fn assume_role_base_failure_names_both() {
    let home = tempfile::tempdir().unwrap();
    let provider = CredentialsProvider::assume_role(
        CredentialsProvider::default_chain(
            isolated(home.path(), &[("AWS_ACCESS_KEY_ID", "A")]),
            http(),
        ),
        "arn:aws:iam::1:role/r".into(),
        None,
        "s".into(),
        None,
        AwsEnv::default(),
        http(),
    );
    let e = provider.credentials().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "sts assume role arn:aws:iam::1:role/r: source credentials: environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
    );
}

// ------------------------------------------------------------------ for_role (KEDA podIdentity aws)

#[tokio::test]
async fn for_role_uses_web_identity_when_token_file_is_set() {
    let sts = Fake::new(creds_reply("ASIAKEDAWEB", HOUR));
    let addr = fake_sts(sts.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "pod-jwt").unwrap();
    let url = format!("http://{addr}");
    let provider = CredentialsProvider::for_role(
        "arn:aws:iam::1:role/trigger".into(),
        Some("ext".into()),
        Some("us-west-2".into()),
        isolated(
            home.path(),
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap()),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/operator"),
                ("AWS_ENDPOINT_URL_STS", &url),
            ],
        ),
        http(),
    );
    let c = provider.credentials().await.unwrap();
    assert_eq!(c.access_key_id, "ASIAKEDAWEB");
    let seen = sts.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].form["Action"], "AssumeRoleWithWebIdentity");
    assert_eq!(seen[0].form["RoleArn"], "arn:aws:iam::1:role/trigger");
    assert_eq!(seen[0].form["RoleSessionName"], "prescale");
    assert_eq!(seen[0].form["WebIdentityToken"], "pod-jwt");
}

#[tokio::test]
async fn for_role_without_token_file_assumes_role_over_the_default_chain() {
    let sts = Fake::new(creds_reply("ASIAKEDA", HOUR));
    let addr = fake_sts(sts.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}");
    let provider = CredentialsProvider::for_role(
        "arn:aws:iam::1:role/trigger".into(),
        Some("ext-9".into()),
        None,
        isolated(
            home.path(),
            &[
                ("AWS_ACCESS_KEY_ID", BASE_AKID),
                ("AWS_SECRET_ACCESS_KEY", BASE_SECRET),
                ("AWS_ENDPOINT_URL_STS", &url),
            ],
        ),
        http(),
    );
    let c = provider.credentials().await.unwrap();
    assert_eq!(c.access_key_id, "ASIAKEDA");
    let s = &sts.seen()[0];
    assert_eq!(s.form["Action"], "AssumeRole");
    assert_eq!(s.form["RoleSessionName"], "prescale");
    assert_eq!(s.form["ExternalId"], "ext-9");
    assert!(
        s.headers["authorization"]
            .to_str()
            .unwrap()
            .contains(&format!("Credential={BASE_AKID}/"))
    );
}

#[tokio::test]
async fn for_role_falls_back_to_assume_role_when_web_identity_fails() {
    // The web identity token file is missing; the environment has keys for AssumeRole.
    let sts = Fake::new(creds_reply("ASIAFALLBACK", HOUR));
    let addr = fake_sts(sts.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}");
    let vars = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"),
        ("AWS_ACCESS_KEY_ID", BASE_AKID),
        ("AWS_SECRET_ACCESS_KEY", BASE_SECRET),
        ("AWS_ENDPOINT_URL_STS", url.as_str()),
    ];
    let provider = CredentialsProvider::for_role(
        "arn:aws:iam::1:role/trigger".into(),
        None,
        None,
        isolated(home.path(), &vars),
        http(),
    );
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id,
        "ASIAFALLBACK"
    );
    assert_eq!(sts.seen()[0].form["Action"], "AssumeRole");

    // Both failing: the error names both attempts.
    let provider = CredentialsProvider::for_role(
        "arn:aws:iam::1:role/trigger".into(),
        None,
        None,
        isolated(
            home.path(),
            &[("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token")],
        ),
        http(),
    );
    let msg = provider.credentials().await.unwrap_err().to_string();
    assert!(msg.starts_with("web identity arn:aws:iam::1:role/trigger: cannot read web identity token file /nonexistent/token"), "{msg}");
    assert!(msg.contains("falling back: sts assume role arn:aws:iam::1:role/trigger: source credentials: web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"), "{msg}");
}

// ------------------------------------------------------------------ secrets

#[tokio::test]
async fn secrets_are_not_in_debug_output() {
    let c = Credentials {
        access_key_id: "AKIDVISIBLE".into(),
        secret_access_key: Secret::new("very-secret-key"),
        session_token: Some(Secret::new("very-secret-token")),
        expiry: None,
        provider: "test".into(),
    };
    for text in [format!("{c:?}"), format!("{c:#?}")] {
        assert!(text.contains("AKIDVISIBLE"), "{text}");
        assert!(!text.contains("very-secret"), "{text}");
    }
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s}"), "<redacted>");
    assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    assert_eq!(s.expose(), "hunter2");
    let p = CredentialsProvider::fixed(c.clone());
    assert!(!format!("{p:?}").contains("very-secret"));
    assert_eq!(
        p.credentials().await.unwrap().secret_access_key.expose(),
        "very-secret-key"
    );
}

#[test]
fn aws_env_treats_empty_as_unset_and_takes_home() {
    let e = env(&[("A", "1"), ("EMPTY", ""), ("HOME", "/home/x")]);
    assert_eq!(e.var("A"), Some("1"));
    assert_eq!(e.var("EMPTY"), None);
    assert_eq!(e.var("MISSING"), None);
    assert_eq!(e.home(), Some(std::path::Path::new("/home/x")));
    let e = e.with_home("/other".into());
    assert_eq!(e.home(), Some(std::path::Path::new("/other")));
    let _ = Arc::new(AwsEnv::from_process());
}

#[test]
fn aws_env_debug_redacts_secret_values() {
    let e = env(&[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_SECRET_ACCESS_KEY", "s3cr3t-value"),
        ("AWS_SESSION_TOKEN", "t0ken-value"),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "auth-value"),
        ("DB_PASSWORD", "pw-value"),
    ]);
    let text = format!("{e:?}");
    assert!(text.contains("\"AWS_REGION\": \"eu-west-1\""), "{text}");
    assert!(text.contains("AWS_SESSION_TOKEN"), "{text}");
    for secret in ["s3cr3t-value", "t0ken-value", "auth-value", "pw-value"] {
        assert!(!text.contains(secret), "{text}");
    }
}
