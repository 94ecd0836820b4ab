//! Task handlers: what a Task state's resource runs in-process. A handler is
//! a plain async function from input JSON to output JSON or a `Failure`
//! (an error name Retry/Catch can match, and a cause), registered under a
//! Lambda function name or a full resource ARN.

use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use zoomvault_asl::Failure;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a handler is called with.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    pub input: Value,
    pub execution_arn: String,
    /// Identifies this task for SendTaskSuccess / SendTaskFailure.
    pub task_token: String,
}

pub trait TaskHandler: Send + Sync {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<Result<Value, Failure>>;
}

struct FnHandler<F>(F);

impl<F, Fut> TaskHandler for FnHandler<F>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, Failure>> + Send + 'static,
{
    fn invoke(&self, request: TaskRequest) -> BoxFuture<Result<Value, Failure>> {
        Box::pin((self.0)(request))
    }
}

/// The handlers an engine dispatches to, by name.
#[derive(Default, Clone)]
pub struct Handlers {
    by_name: HashMap<String, Arc<dyn TaskHandler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

impl Handlers {
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Registers an async function as the handler for `name` (a Lambda
    /// function name, or a full resource ARN).
    pub fn register<F, Fut>(&mut self, name: impl Into<String>, f: F) -> &mut Self
    where
        F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, Failure>> + Send + 'static,
    {
        self.by_name.insert(name.into(), Arc::new(FnHandler(f)));
        self
    }

    pub fn register_handler(
        &mut self,
        name: impl Into<String>,
        handler: Arc<dyn TaskHandler>,
    ) -> &mut Self {
        self.by_name.insert(name.into(), handler);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn TaskHandler>> {
        self.by_name.get(name)
    }
}
