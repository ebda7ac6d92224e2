//! HTTPS endpoints: the client builds once the provider is installed, and a failing TLS
//! endpoint gives an error naming it, never a panic.

mod support;

use prescale_aws::{CredentialsProvider, install_crypto_provider};
use support::*;

#[tokio::test]
async fn https_sts_endpoint_errors_name_the_endpoint() {
    // Something listens, but it is not a TLS server.
    let plain = fake_sts(Fake::new(creds_reply(
        "X",
        std::time::Duration::from_secs(3600),
    )))
    .await;
    let url = format!("https://{plain}");
    let provider = CredentialsProvider::assume_role(
        CredentialsProvider::fixed(base_creds()),
        "arn:aws:iam::1:role/r".into(),
        None,
        "s".into(),
        None,
        env(&[("AWS_ENDPOINT_URL_STS", &url)]),
        http(),
    );
    let msg = provider.credentials().await.unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("sts assume role arn:aws:iam::1:role/r: {url}/: ")),
        "{msg}"
    );
}

#[test]
fn provider_is_installed_and_plain_clients_build() {
    install_crypto_provider();
    install_crypto_provider();
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    // After installation reqwest's own constructor no longer panics.
    let _client = reqwest::Client::new();
}
