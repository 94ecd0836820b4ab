//! State machine types and tags: a machine is created with its type
//! (STANDARD or EXPRESS) and tags; TagResource and UntagResource add,
//! replace and remove tags in order within AWS's limits, refusing a change
//! that breaks them without changing anything; an unknown resource is
//! ResourceNotFound.

use crate::support::temp_db;
use serde_json::json;
use zoomvault_engine::{Engine, EngineConfig, Error, Handlers, MachineType, NewStateMachine};

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pass_machine() -> String {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string()
}

#[tokio::test]
async fn a_state_machine_is_created_with_its_type_and_tags() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-new")), Handlers::new()).unwrap();
    let mut new = NewStateMachine::new("fast", pass_machine());
    new.machine_type = MachineType::Express;
    new.tags = tags(&[("team", "archive"), ("cost-center", "")]);
    let row = engine.create_state_machine_with(&new).unwrap();
    assert_eq!(row.machine_type, MachineType::Express);
    assert_eq!(
        engine.state_machine(&row.arn).unwrap().machine_type,
        MachineType::Express
    );
    assert_eq!(
        engine.list_tags(&row.arn).unwrap(),
        tags(&[("team", "archive"), ("cost-center", "")])
    );
    // The short form still makes an untagged STANDARD machine.
    let plain = engine
        .create_state_machine("plain", &pass_machine(), None)
        .unwrap();
    assert_eq!(plain.machine_type, MachineType::Standard);
    assert_eq!(engine.list_tags(&plain.arn).unwrap(), vec![]);
}

#[tokio::test]
async fn tags_are_added_replaced_and_removed_in_order() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-tags")), Handlers::new()).unwrap();
    let arn = engine
        .create_state_machine("tagged", &pass_machine(), None)
        .unwrap()
        .arn;
    engine
        .tag_resource(&arn, &tags(&[("a", "1"), ("b", "2")]))
        .unwrap();
    engine
        .tag_resource(&arn, &tags(&[("c", "3"), ("a", "one")]))
        .unwrap();
    assert_eq!(
        engine.list_tags(&arn).unwrap(),
        tags(&[("a", "one"), ("b", "2"), ("c", "3")])
    );
    engine
        .untag_resource(&arn, &["b".to_string(), "never-set".to_string()])
        .unwrap();
    assert_eq!(
        engine.list_tags(&arn).unwrap(),
        tags(&[("a", "one"), ("c", "3")])
    );
}

#[tokio::test]
async fn tags_outside_aws_limits_are_refused_and_change_nothing() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-limits")), Handlers::new()).unwrap();
    let arn = engine
        .create_state_machine("limited", &pass_machine(), None)
        .unwrap()
        .arn;
    let fifty: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
    engine.tag_resource(&arn, &fifty).unwrap();
    let err = engine
        .tag_resource(&arn, &tags(&[("one-more", "v")]))
        .unwrap_err();
    assert!(matches!(err, Error::TooManyTags(_)), "{err}");
    // Replacing a value adds no tag, so it is allowed at the limit.
    engine.tag_resource(&arn, &tags(&[("k0", "w")])).unwrap();
    assert_eq!(engine.list_tags(&arn).unwrap().len(), 50);

    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    for (key, value) in [
        ("", "v"),
        (long_key.as_str(), "v"),
        ("ok", long_value.as_str()),
        ("no#hash", "v"),
        ("ok", "no*star"),
    ] {
        let err = engine
            .tag_resource(&arn, &tags(&[(key, value)]))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidTag { .. }),
            "{key:?}={value:?}: {err}"
        );
    }
    engine
        .tag_resource(&arn, &tags(&[("k1", &"v".repeat(256))]))
        .unwrap();
    assert_eq!(engine.list_tags(&arn).unwrap().len(), 50);

    let mut new = NewStateMachine::new("crowded", pass_machine());
    new.tags = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    let err = engine.create_state_machine_with(&new).unwrap_err();
    assert!(matches!(err, Error::TooManyTags(_)), "{err}");
    assert!(matches!(
        engine.state_machine(&zoomvault_engine::arn::state_machine("crowded")),
        Err(Error::StateMachineDoesNotExist(_))
    ));
}

#[tokio::test]
async fn tagging_an_unknown_resource_is_resource_not_found() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-none")), Handlers::new()).unwrap();
    let arn = zoomvault_engine::arn::state_machine("nobody");
    let errors = [
        engine.tag_resource(&arn, &tags(&[("a", "b")])).unwrap_err(),
        engine.untag_resource(&arn, &["a".to_string()]).unwrap_err(),
        engine.list_tags(&arn).unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, Error::ResourceNotFound(_)), "{err}");
    }
}
