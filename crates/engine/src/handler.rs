//! Task handlers: what a Task state's resource runs in-process. A handler is
//! a plain async function from input JSON to output JSON or a `Failure`
//! (an error name Retry/Catch can match, and a cause), registered under a
//! Lambda function name or a full resource ARN. A Lambda fallback, when
//! set, handles every Lambda function that has no handler of its own (the
//! engine then sends those tasks to a Lambda endpoint, as Step Functions
//! Local can).

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

/// Makes the handler of a Lambda function that has none registered.
pub type LambdaFallback = Arc<dyn Fn(&str) -> Arc<dyn TaskHandler> + Send + Sync>;

/// The handlers an engine dispatches to, by name.
#[derive(Default, Clone)]
pub struct Handlers {
    by_name: HashMap<String, Arc<dyn TaskHandler>>,
    lambda_fallback: Option<LambdaFallback>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("by_name", &self.by_name.keys().collect::<Vec<_>>())
            .field("lambda_fallback", &self.lambda_fallback.is_some())
            .finish()
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

    /// Sends every Lambda function without a handler of its own to the
    /// handler `fallback` makes for its name.
    pub fn set_lambda_fallback(
        &mut self,
        fallback: impl Fn(&str) -> Arc<dyn TaskHandler> + Send + Sync + 'static,
    ) -> &mut Self {
        self.lambda_fallback = Some(Arc::new(fallback));
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn TaskHandler>> {
        self.by_name.get(name)
    }

    /// The handler of Lambda function `name`: its own, or the fallback's.
    pub fn lambda(&self, name: &str) -> Option<Arc<dyn TaskHandler>> {
        match self.by_name.get(name) {
            Some(handler) => Some(handler.clone()),
            None => self.lambda_fallback.as_ref().map(|make| make(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> TaskRequest {
        TaskRequest {
            input: json!({"n": 1}),
            execution_arn: "arn".into(),
            task_token: "token".into(),
        }
    }

    #[tokio::test]
    async fn a_lambda_without_its_own_handler_goes_to_the_fallback() {
        let mut handlers = Handlers::new();
        handlers.register("own", |_| async { Ok(json!("own")) });
        assert!(handlers.lambda("other").is_none());
        handlers.set_lambda_fallback(|name: &str| {
            let name = name.to_string();
            let handler: Arc<dyn TaskHandler> = Arc::new(FnHandler(move |_: TaskRequest| {
                let name = name.clone();
                async move { Ok(json!({ "fallback": name })) }
            }));
            handler
        });
        let own = handlers.lambda("own").expect("registered");
        assert_eq!(own.invoke(request()).await.unwrap(), json!("own"));
        let other = handlers.lambda("other").expect("fallback");
        assert_eq!(
            other.invoke(request()).await.unwrap(),
            json!({ "fallback": "other" })
        );
        assert!(
            handlers.get("other").is_none(),
            "the fallback is for Lambda only"
        );
    }
}
