//! Step Functions' service integrations, run by the embedded engine as task
//! handlers registered under their resource ARNs: `events:putEvents`
//! ([`events`]), `dynamodb:putItem/getItem/updateItem/deleteItem`
//! ([`dynamodb`]), `aws-sdk:s3:getObject/putObject` ([`s3`]) and
//! `states:startExecution` with `.sync` and `.sync:2` ([`states`]). Each
//! module owns one integration's request and result shapes and its error
//! names, as Step Functions gives them, and sends the request to archive's
//! port (the local event queue, the archive's object store), to an AWS
//! endpoint through the SDK, or back into the same engine.
//!
//! The engine must not know any of this (ARCHITECTURE.md): it only
//! dispatches a resource it does not resolve itself to the handler
//! registered under the full ARN. This crate must not hold policy about
//! where things go; the wiring (`tools/zoomvault`'s `embedded`) decides
//! that and hands the clients and ports in as [`Services`].

use std::sync::Arc;

use serde_json::Value;
use zoomvault_archive::ports::ObjectStore;
use zoomvault_asl::Failure;
use zoomvault_engine::Handlers;

pub mod dynamodb;
pub mod events;
pub mod s3;
pub mod states;

/// Where each integration sends its requests.
#[derive(Debug, Clone)]
pub struct Services {
    /// `events:putEvents`.
    pub events: events::EventTarget,
    /// Where `dynamodb:*` tasks go: DynamoDB's endpoint, the recording
    /// index as the one local table, or nowhere (see that module).
    pub dynamodb: dynamodb::TableTarget,
    /// The buckets `aws-sdk:s3:*` tasks may name, each an object store.
    pub buckets: s3::Buckets,
    /// The engine `states:startExecution` starts executions on.
    pub executions: states::NestedExecutions,
}

/// Registers every integration's handlers under their resource ARNs.
pub fn register(handlers: &mut Handlers, services: &Services) {
    events::register(handlers, services.events.clone());
    dynamodb::register(handlers, services.dynamodb.clone());
    s3::register(handlers, services.buckets.clone());
    states::register(handlers, services.executions.clone());
}

/// A member of the task's parameters: `Parameters` (or `Arguments`) is
/// the request, so a missing required member fails the task as Step
/// Functions' own validation would, with `States.Runtime`.
fn required<'a>(request: &'a Value, member: &str, resource: &str) -> Result<&'a Value, Failure> {
    request.get(member).ok_or_else(|| {
        Failure::runtime(format!(
            "The field '{member}' is required by {resource} but is missing from Parameters"
        ))
    })
}

fn required_str<'a>(request: &'a Value, member: &str, resource: &str) -> Result<&'a str, Failure> {
    required(request, member, resource)?
        .as_str()
        .ok_or_else(|| {
            Failure::runtime(format!(
                "The field '{member}' of {resource} must be a string"
            ))
        })
}

/// Refuses members the integration does not take, as Step Functions
/// refuses a definition that passes them.
fn only_members(request: &Value, allowed: &[&str], resource: &str) -> Result<(), Failure> {
    let Some(object) = request.as_object() else {
        return Err(Failure::runtime(format!(
            "the Parameters of {resource} must be an object"
        )));
    };
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(Failure::runtime(format!(
            "The field '{unknown}' is not supported by Step Functions for {resource}"
        ))),
        None => Ok(()),
    }
}

/// An object store shared by the archive, as the S3 integration takes it.
pub type SharedStore = Arc<dyn ObjectStore>;
