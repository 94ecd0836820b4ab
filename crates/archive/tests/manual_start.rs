//! Manual starts that need Zoom's API, against the Zoom simulator over real
//! HTTP: a meeting number (its latest instance, or every instance), a
//! share link, and a forced re-ingest of a recording already trashed. The
//! executions are recorded by `fixtures::RecordingStarter`, which answers
//! a name twice as Step Functions does.

mod common;

use common::sim_and_client;
use serde_json::{json, Value};
use time::macros::datetime;
use zoomvault_archive::fixtures::RecordingStarter as Recorder;
use zoomvault_archive::start::start_ingest;
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, ZoomSim};

/// Three instances of one recurring meeting, oldest first.
fn recurring(sim: &ZoomSim) -> Vec<String> {
    [
        datetime!(2026-11-17 09:00 UTC),
        datetime!(2026-11-24 09:00 UTC),
        datetime!(2026-12-01 09:00 UTC),
    ]
    .into_iter()
    .map(|start| {
        sim.add_meeting(MeetingSpec {
            id: Some(81122334455),
            start_time: Some(start),
            files: vec![FileSpec::audio(100)],
            ..MeetingSpec::default()
        })
        .uuid
    })
    .collect()
}

fn uuids(answer: &Value) -> Vec<String> {
    answer["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["recording_uuid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_meeting_number_starts_its_latest_instance_or_every_instance_with_a_recording() {
    let (sim, zoom) = sim_and_client().await;
    let instances = recurring(&sim);
    // The oldest was already archived and trashed: no recording to fetch.
    zoom.trash_meeting_recordings(&instances[0]).await.unwrap();
    let starter = Recorder::default();

    let latest = start_ingest(
        &starter,
        Some(&zoom),
        &json!({"meeting_id": 81122334455u64}),
    )
    .await
    .unwrap();
    assert_eq!(uuids(&latest), vec![instances[2].clone()]);
    assert_eq!(latest["executions"][0]["outcome"], "started");

    let all = start_ingest(
        &starter,
        Some(&zoom),
        &json!({"meeting_id": "811 2233 4455", "all_instances": true}),
    )
    .await
    .unwrap();
    assert_eq!(uuids(&all), instances[1..].to_vec());
    // The latest was started above: the same execution, not a second.
    let outcomes: Vec<&Value> = all["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["outcome"])
        .collect();
    assert_eq!(outcomes, [&json!("started"), &json!("already_exists")]);
    assert_eq!(all["skipped"][0]["recording_uuid"], json!(instances[0]));
    assert!(all["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("no cloud recording"));
    assert_eq!(starter.started().len(), 2);

    // Every recording trashed (archived): the latest instance still names
    // its execution, which is found, not started again.
    for uuid in &instances[1..] {
        zoom.trash_meeting_recordings(uuid).await.unwrap();
    }
    let archived = start_ingest(
        &starter,
        Some(&zoom),
        &json!({"meeting_id": 81122334455u64}),
    )
    .await
    .unwrap();
    assert_eq!(uuids(&archived), vec![instances[2].clone()]);
    assert_eq!(archived["executions"][0]["outcome"], "already_exists");

    let unknown = start_ingest(&starter, Some(&zoom), &json!({"meeting_id": 999}))
        .await
        .unwrap_err();
    assert_eq!(unknown.name, "Zoom.NotFound", "{}", unknown.cause);
}

#[tokio::test]
async fn a_share_link_finds_its_recording() {
    let (sim, zoom) = sim_and_client().await;
    let instances = recurring(&sim);
    let share_url = zoom
        .meeting_recordings(&instances[1])
        .await
        .unwrap()
        .share_url
        .expect("a share link");
    let starter = Recorder::default();
    let answer = start_ingest(
        &starter,
        Some(&zoom),
        &json!({"share_url": format!("{share_url}?pwd=secret")}),
    )
    .await
    .unwrap();
    assert_eq!(uuids(&answer), vec![instances[1].clone()]);

    let missing = start_ingest(
        &starter,
        Some(&zoom),
        &json!({"share_url": format!("{share_url}nothing")}),
    )
    .await
    .unwrap_err();
    assert_eq!(missing.name, "Ingest.NotFound");
    assert!(
        missing.cause.contains("no recording between"),
        "{}",
        missing.cause
    );
}

#[tokio::test]
async fn force_recovers_a_trashed_recording_and_starts_a_new_execution() {
    let (sim, zoom) = sim_and_client().await;
    let uuid = sim.demo_meeting().uuid;
    let starter = Recorder::default();
    let request = json!({"recording_uuid": uuid});
    let first = start_ingest(&starter, Some(&zoom), &request).await.unwrap();
    let first_name = first["executions"][0]["execution_name"]
        .as_str()
        .unwrap()
        .to_string();
    // The ingest finished and Finalize trashed Zoom's copy.
    zoom.trash_meeting_recordings(&uuid).await.unwrap();
    let again = start_ingest(&starter, Some(&zoom), &request).await.unwrap();
    assert_eq!(again["executions"][0]["outcome"], "already_exists");

    let forced = start_ingest(
        &starter,
        Some(&zoom),
        &json!({"recording_uuid": uuid, "force": true}),
    )
    .await
    .unwrap();
    let execution = &forced["executions"][0];
    assert_eq!(execution["outcome"], "started", "{forced}");
    let name = execution["execution_name"].as_str().unwrap();
    assert!(
        name.starts_with(&format!("{first_name}.r")) && name.len() <= 80,
        "{name}"
    );
    assert!(
        zoom.meeting_recordings(&uuid).await.is_ok(),
        "recovered from the trash, so the new ingest can fetch it"
    );
    assert!(sim.trashed().is_empty());
    assert_eq!(starter.started().len(), 2);
}
