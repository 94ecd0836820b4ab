//! `serve` archiving into an S3 bucket (moto's server, path-style, as MinIO
//! or Ceph would be addressed) instead of its data directory: the bundled
//! demo ingest lands every file and the document under the configured
//! prefix, each file's bytes matching the checksums its document records,
//! and the data directory holds no object store. One test in its own
//! binary, because serve's S3 client reads the process environment.

#[path = "../../../crates/aws/tests/support/moto.rs"]
mod moto;

use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use zoomvault::serve::{ServeOptions, ServeSettings, StoreSetting};

async fn object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_archives_into_an_s3_bucket() {
    let moto = moto::moto();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&moto.sdk_config())
            .force_path_style(true)
            .build(),
    );
    let bucket = moto::unique("zv-serve");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    // What serve's S3 client reads, as an operator would set it.
    std::env::set_var("AWS_ENDPOINT_URL_S3", &moto.endpoint);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");

    let data = tempfile::tempdir().unwrap();
    let store = format!("s3://{bucket}/archive");
    let settings = ServeSettings::resolve(
        ServeOptions {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            data_dir: Some(data.path().to_path_buf()),
            store: Some(store),
            s3_force_path_style: Some(true),
            scan_every: Some("off".into()),
            ..ServeOptions::default()
        },
        ServeOptions::default(),
    )
    .unwrap();
    assert!(matches!(settings.store, StoreSetting::S3 { .. }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(zoomvault::serve::run(settings, async move {
        let _ = stopped.await;
    }));

    // The demo ingest's document appears under the prefix.
    let deadline = Instant::now() + Duration::from_secs(120);
    let document_key = loop {
        let listed = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix("archive/recordings/")
            .send()
            .await
            .unwrap();
        let found = listed
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .find(|k| k.ends_with("/recording.json"))
            .map(str::to_owned);
        if let Some(key) = found {
            break key;
        }
        assert!(!server.is_finished(), "serve stopped: {:?}", server.await);
        assert!(Instant::now() < deadline, "no document in the bucket");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let doc = zoomvault_archive::document::validate(
        &serde_json::from_slice(&object(&s3, &bucket, &document_key).await).unwrap(),
    )
    .unwrap();
    assert!(doc.files.len() >= 3, "the demo has several files");
    for file in &doc.files {
        let bytes = object(&s3, &bucket, &format!("archive/{}", file.storage_key)).await;
        assert_eq!(bytes.len() as u64, file.size_bytes, "{}", file.storage_key);
        assert_eq!(
            file.crc64nvme,
            zoomvault_archive::checksum::Crc64Nvme::of(&bytes),
            "{}",
            file.storage_key
        );
        if let Some(sha256) = &file.sha256 {
            assert_eq!(&hex::encode(Sha256::digest(&bytes)), sha256);
        }
    }
    assert!(
        !data.path().join("store").exists(),
        "no directory store when the archive is S3"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
