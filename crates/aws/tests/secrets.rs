//! Zoom's credentials from moto's SSM Parameter Store: found under a
//! prefix, every missing parameter named, and no secret value in any
//! `Debug` or error text. Each test uses a prefix of its own.

#[path = "support/moto.rs"]
mod moto;

use aws_sdk_ssm::types::ParameterType;
use zoomvault_aws::secrets::{
    load_webhook_verifier, load_zoom_config, load_zoom_secrets, Error, DEFAULT_PREFIX,
};

const VALUES: [(&str, &str); 4] = [
    ("zoom/account_id", "acct-Q2Fz9"),
    ("zoom/client_id", "client-Xy7Lm"),
    ("zoom/client_secret", "s3cr3t-client-value"),
    ("zoom/webhook_secret_token", "s3cr3t-webhook-token"),
];

fn ssm() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&moto::moto().sdk_config())
}

fn new_prefix() -> String {
    format!("/{}/", moto::unique("secrets"))
}

async fn put(client: &aws_sdk_ssm::Client, prefix: &str, names: &[&str]) {
    for (name, value) in VALUES.iter().filter(|(name, _)| names.contains(name)) {
        client
            .put_parameter()
            .name(format!("{prefix}{name}"))
            .value(*value)
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .expect("put_parameter");
    }
}

fn assert_no_value_in(text: &str, values: &[&str]) {
    for value in values {
        assert!(!text.contains(value), "{value:?} leaked into {text}");
    }
}

#[tokio::test]
async fn all_four_parameters_are_read_and_build_the_zoom_config() {
    let client = ssm();
    let prefix = new_prefix();
    put(&client, &prefix, &VALUES.map(|(name, _)| name)).await;
    let secrets = load_zoom_secrets(&client, &prefix).await.expect("load");
    assert_eq!(secrets.account_id, "acct-Q2Fz9");
    assert_eq!(secrets.client_id, "client-Xy7Lm");
    assert_eq!(secrets.client_secret.expose(), "s3cr3t-client-value");
    assert_eq!(
        secrets.webhook_secret_token.expose(),
        "s3cr3t-webhook-token"
    );

    let config = secrets.zoom_config();
    let defaults = zoomvault_zoom::ZoomConfig::new("a", "b", "c");
    assert_eq!(config.account_id, "acct-Q2Fz9");
    assert_eq!(config.client_id, "client-Xy7Lm");
    assert_eq!(config.client_secret.expose(), "s3cr3t-client-value");
    assert_eq!(config.api_base, defaults.api_base);
    assert_eq!(config.oauth_base, defaults.oauth_base);
    assert_eq!(
        secrets.webhook_verifier().secret_token().expose(),
        "s3cr3t-webhook-token"
    );
}

#[tokio::test]
async fn debug_never_shows_a_secret() {
    let client = ssm();
    let prefix = new_prefix();
    put(&client, &prefix, &VALUES.map(|(name, _)| name)).await;
    let secrets = load_zoom_secrets(&client, &prefix).await.expect("load");
    let secret_values = ["s3cr3t-client-value", "s3cr3t-webhook-token"];
    assert_no_value_in(&format!("{secrets:?}"), &secret_values);
    assert_no_value_in(&format!("{:?}", secrets.zoom_config()), &secret_values);
    assert_no_value_in(&format!("{:?}", secrets.webhook_verifier()), &secret_values);
}

#[tokio::test]
async fn every_missing_parameter_is_named_and_no_value_is_shown() {
    let client = ssm();
    let prefix = new_prefix();
    put(&client, &prefix, &["zoom/account_id", "zoom/client_secret"]).await;
    let error = load_zoom_secrets(&client, &prefix)
        .await
        .expect_err("two are missing");
    let Error::Missing(missing) = &error else {
        panic!("expected missing parameters, got {error:?}");
    };
    assert_eq!(
        missing,
        &[
            format!("{prefix}zoom/client_id"),
            format!("{prefix}zoom/webhook_secret_token"),
        ]
    );
    let text = format!("{error} / {error:?}");
    assert!(text.contains(&format!("{prefix}zoom/client_id")), "{text}");
    assert_no_value_in(&text, &VALUES.map(|(_, value)| value));
    assert!(!error.is_transient());
}

#[tokio::test]
async fn nothing_under_the_prefix_names_all_four() {
    let prefix = new_prefix();
    let error = load_zoom_secrets(&ssm(), &prefix)
        .await
        .expect_err("none exist");
    let Error::Missing(missing) = error else {
        panic!("expected missing parameters, got {error:?}");
    };
    assert_eq!(missing, VALUES.map(|(name, _)| format!("{prefix}{name}")));
}

#[tokio::test]
async fn the_default_prefix_is_zoomvault() {
    assert_eq!(DEFAULT_PREFIX, "/zoomvault/");
    let client = ssm();
    put(&client, DEFAULT_PREFIX, &VALUES.map(|(name, _)| name)).await;
    let secrets = load_zoom_secrets(&client, DEFAULT_PREFIX)
        .await
        .expect("load");
    assert_eq!(secrets.client_id, "client-Xy7Lm");
}

#[tokio::test]
async fn the_api_credentials_alone_build_the_zoom_config() {
    let client = ssm();
    let prefix = new_prefix();
    put(
        &client,
        &prefix,
        &["zoom/account_id", "zoom/client_id", "zoom/client_secret"],
    )
    .await;
    let config = load_zoom_config(&client, &prefix).await.expect("load");
    assert_eq!(config.account_id, "acct-Q2Fz9");
    assert_eq!(config.client_id, "client-Xy7Lm");
    assert_eq!(config.client_secret.expose(), "s3cr3t-client-value");
    // The full set needs the webhook token too, and says so.
    match load_zoom_secrets(&client, &prefix).await {
        Err(Error::Missing(names)) => {
            assert_eq!(names, vec![format!("{prefix}zoom/webhook_secret_token")])
        }
        other => panic!("expected the token to be missing, got {other:?}"),
    }
}

#[tokio::test]
async fn the_webhook_token_alone_builds_the_verifier() {
    let client = ssm();
    let prefix = new_prefix();
    put(&client, &prefix, &["zoom/webhook_secret_token"]).await;
    let verifier = load_webhook_verifier(&client, &prefix).await.expect("load");
    assert_no_value_in(&format!("{verifier:?}"), &["s3cr3t-webhook-token"]);
    // It verifies what the token signs.
    let body = br#"{"event":"endpoint.url_validation","payload":{"plainToken":"x"}}"#;
    let now = time::OffsetDateTime::now_utc();
    let ts = now.unix_timestamp();
    let secret = zoomvault_zoom::SecretString::new("s3cr3t-webhook-token");
    let signature = zoomvault_zoom::webhook::sign(&secret, ts, body);
    let ts = ts.to_string();
    verifier
        .verify(Some(&ts), Some(&signature), body, now)
        .expect("a body signed with the token verifies");
    let e = load_webhook_verifier(&client, &new_prefix())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("zoom/webhook_secret_token"), "{e}");
}
