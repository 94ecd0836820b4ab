//! The S3 adapter against moto's S3: the object store port's shared suite
//! (`zoomvault_archive::port_tests::object_store`), one test per check, each
//! in a bucket of its own, with keys under a prefix; then what only S3 has:
//! server-side encryption headers, path-style addressing and `s3://`
//! locations.

#[path = "support/moto.rs"]
mod moto;

use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use zoomvault_archive::port_tests::object_store as check;
use zoomvault_archive::ports::ObjectStore;
use zoomvault_aws::s3::{Encryption, S3Location, S3ObjectStore, S3Options};

/// A client for moto: path-style addressing, as MinIO and Ceph need too
/// (moto on 127.0.0.1 has no bucket host names).
fn client() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&moto::moto().sdk_config())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn bucket(client: &aws_sdk_s3::Client) -> String {
    let name = moto::unique("zv-s3");
    client
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket");
    name
}

async fn store_with(options: S3Options) -> (S3ObjectStore, aws_sdk_s3::Client, String) {
    let client = client();
    let bucket = bucket(&client).await;
    let location = S3Location::parse(&format!("s3://{bucket}/archive")).expect("location");
    (
        S3ObjectStore::new(client.clone(), location, options),
        client,
        bucket,
    )
}

async fn store() -> S3ObjectStore {
    store_with(S3Options::default()).await.0
}

macro_rules! port_checks {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            check::$name(&store().await).await;
        }
    )*};
}

zoomvault_archive::object_store_checks!(port_checks);

#[tokio::test]
async fn list_parts_from_a_reopened_store() {
    let store = store().await;
    let reopened = S3ObjectStore::new(client(), store.location().clone(), S3Options::default());
    check::list_parts_from_a_reopened_store(&store, &reopened).await;
}

const KEY: &str = "recordings/2024/03/05/1/u/files/a.mp4";

#[tokio::test]
async fn keys_live_under_the_prefix_and_objects_are_encrypted_aes256_by_default() {
    let (store, client, bucket) = store_with(S3Options::default()).await;
    store
        .put(KEY, Bytes::from_static(b"hello"), "video/mp4")
        .await
        .expect("put");
    let head = client
        .head_object()
        .bucket(&bucket)
        .key(format!("archive/{KEY}"))
        .send()
        .await
        .expect("stored under the prefix");
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
}

#[tokio::test]
async fn kms_encryption_names_its_key_on_puts_and_uploads() {
    let options = S3Options {
        encryption: Encryption::Kms {
            key_id: Some("alias/zoomvault".to_owned()),
        },
    };
    let (store, client, bucket) = store_with(options).await;
    store
        .put(KEY, Bytes::from_static(b"hello"), "video/mp4")
        .await
        .expect("put");
    let upload_key = "recordings/2024/03/05/1/u/files/b.mp4";
    let upload = store
        .create_multipart(upload_key, "video/mp4")
        .await
        .expect("create");
    let body = Bytes::from_static(b"parted");
    let part = store
        .put_part(
            upload_key,
            &upload,
            zoomvault_archive::ports::PartNumber::new(1).expect("part number"),
            zoomvault_archive::ports::PartBody::from_bytes(body.clone()),
        )
        .await
        .expect("part");
    store
        .complete_multipart(
            upload_key,
            &upload,
            &[part],
            zoomvault_archive::checksum::Crc64Nvme::of(&body),
        )
        .await
        .expect("complete");
    for key in [KEY, upload_key] {
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(format!("archive/{key}"))
            .send()
            .await
            .expect("head");
        assert_eq!(
            head.server_side_encryption(),
            Some(&ServerSideEncryption::AwsKms),
            "{key}"
        );
        assert_eq!(head.ssekms_key_id(), Some("alias/zoomvault"), "{key}");
    }
}

#[test]
fn locations_parse_and_refuse_clearly() {
    let parsed = S3Location::parse("s3://my-bucket/archive/zoom/").expect("valid");
    assert_eq!(
        (parsed.bucket.as_str(), parsed.prefix.as_str()),
        ("my-bucket", "archive/zoom/")
    );
    let bare = S3Location::parse("s3://my-bucket").expect("valid");
    assert_eq!(bare.prefix, "");
    let refusals: Vec<String> = [
        "https://my-bucket/x",
        "s3://My_Bucket/x",
        "s3://ab",
        "s3://my-bucket/../x",
        "s3://my-bucket//",
    ]
    .iter()
    .map(|text| S3Location::parse(text).expect_err(text).to_string())
    .collect();
    expect_test::expect![[r#"
        [
            "\"https://my-bucket/x\" is not an S3 location; expected s3://bucket or s3://bucket/prefix",
            "\"My_Bucket\" is not a valid S3 bucket name: only lower-case letters, digits, '.' and '-' are allowed",
            "\"ab\" is not a valid S3 bucket name: it must be 3 to 63 characters long",
            "\"../x\" is not a usable key prefix: unsafe object key \"../x\": it has a '.' or '..' segment",
            "\"/\" is not a usable key prefix: it is only a slash",
        ]
    "#]]
    .assert_debug_eq(&refusals);
}
