//! What a Task state invokes: its resource resolved to a handler name, and
//! the shapes AWS gives the `lambda:invoke` integration (the `Payload`
//! wrapping going in, the response envelope coming out).

use crate::arn::lambda_function_name;
use serde_json::{json, Value};
use zoomvault_asl::Failure;

/// A resolved Task resource.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskTarget {
    /// A Lambda function ARN used directly as the resource: the handler gets
    /// the effective input and its output is the result.
    LambdaFunction { arn: String, function: String },
    /// `arn:aws:states:::lambda:invoke`: the handler gets `Payload`, and the
    /// result is AWS's envelope with the handler's output under `Payload`.
    LambdaInvoke { resource: String, function: String },
    /// Any other resource, dispatched by its full ARN.
    Other { resource: String },
}

impl TaskTarget {
    pub fn resolve(resource: &str, effective_input: &Value) -> Result<TaskTarget, Failure> {
        if resource.starts_with("arn:aws:lambda:") {
            return Ok(TaskTarget::LambdaFunction {
                arn: resource.to_string(),
                function: lambda_function_name(resource).to_string(),
            });
        }
        if let Some(rest) = resource.strip_prefix("arn:aws:states:::lambda:invoke") {
            if !rest.is_empty() && rest != ".waitForTaskToken" {
                return Err(Failure::runtime(format!(
                    "unsupported Lambda integration pattern in {resource:?}"
                )));
            }
            let function = effective_input
                .get("FunctionName")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Failure::runtime(format!(
                        "The field 'FunctionName' is required by {resource} but is missing from Parameters"
                    ))
                })?;
            return Ok(TaskTarget::LambdaInvoke {
                resource: resource.to_string(),
                function: lambda_function_name(function).to_string(),
            });
        }
        Ok(TaskTarget::Other {
            resource: resource.to_string(),
        })
    }

    pub fn is_lambda_function(&self) -> bool {
        matches!(self, TaskTarget::LambdaFunction { .. })
    }

    pub fn resource(&self) -> &str {
        match self {
            TaskTarget::LambdaFunction { arn, .. } => arn,
            TaskTarget::LambdaInvoke { resource, .. } | TaskTarget::Other { resource } => resource,
        }
    }

    /// The name handlers are registered under.
    pub fn handler_name(&self) -> &str {
        match self {
            TaskTarget::LambdaFunction { function, .. }
            | TaskTarget::LambdaInvoke { function, .. } => function,
            TaskTarget::Other { resource } => resource,
        }
    }

    /// `resourceType` and `resource` as history events show them:
    /// `arn:aws:states:::lambda:invoke` is type `lambda`, resource `invoke`.
    pub fn history_resource(&self) -> (String, String) {
        let r = self.resource();
        if let Some(rest) = r.strip_prefix("arn:aws:states:::") {
            if let Some((t, res)) = rest.split_once(':') {
                return (t.to_string(), res.to_string());
            }
        }
        match self {
            TaskTarget::LambdaFunction { .. } => ("lambda".into(), r.to_string()),
            _ => ("activity".into(), r.to_string()),
        }
    }

    /// What the handler is called with.
    pub fn handler_input(&self, effective_input: &Value) -> Value {
        match self {
            TaskTarget::LambdaInvoke { .. } => {
                effective_input.get("Payload").cloned().unwrap_or(json!({}))
            }
            _ => effective_input.clone(),
        }
    }

    /// The task's result from the handler's output.
    pub fn result(&self, output: Value, request_id: &str) -> Value {
        match self {
            TaskTarget::LambdaInvoke { .. } => json!({
                "ExecutedVersion": "$LATEST",
                "Payload": output,
                "SdkHttpMetadata": {
                    "HttpHeaders": { "Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST" },
                    "HttpStatusCode": 200
                },
                "SdkResponseMetadata": { "RequestId": request_id },
                "StatusCode": 200
            }),
            _ => output,
        }
    }
}

/// A task the driver must run.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskInvocation {
    pub execution_arn: String,
    pub key: u64,
    pub target: TaskTarget,
    /// The effective input (after InputPath and Parameters).
    pub input: Value,
    pub task_token: String,
}

impl TaskTarget {
    /// A `.waitForTaskToken` resource: the task ends with SendTaskSuccess or
    /// SendTaskFailure, not with what its handler returns.
    pub fn waits_for_task_token(&self) -> bool {
        self.resource().ends_with(".waitForTaskToken")
    }
}

/// A task token names one task of one execution; `SendTaskSuccess` and kin
/// route by it. It is `base64url("{execution ARN}#{task key}#{tag}")`, where
/// the tag is a keyed hash of the ARN and key under the execution's random
/// seed: anyone can read which task a token names, only the engine (which
/// holds the seed) can make one, and replay makes the same token again.
pub fn task_token(execution_arn: &str, seed: u64, key: u64) -> String {
    use base64::Engine;
    let tag = token_tag(execution_arn, seed, key);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{execution_arn}#{key}#{tag}"))
}

/// A decoded task token, not yet checked against its execution's seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskToken {
    pub execution_arn: String,
    pub key: u64,
    tag: String,
}

impl TaskToken {
    /// Decodes a token; `None` when it is not one of ours in shape.
    pub fn parse(token: &str) -> Option<TaskToken> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (rest, tag) = text.rsplit_once('#')?;
        let (arn, key) = rest.rsplit_once('#')?;
        Some(TaskToken {
            execution_arn: arn.to_string(),
            key: key.parse().ok()?,
            tag: tag.to_string(),
        })
    }

    /// Whether the engine made this token for an execution with this seed.
    pub fn verify(&self, seed: u64) -> bool {
        let expected = token_tag(&self.execution_arn, seed, self.key);
        // Compared in full whatever differs, so timing says nothing of
        // how much of a guess was right.
        expected.len() == self.tag.len()
            && expected
                .bytes()
                .zip(self.tag.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The execution ARN and task key a token names, without checking its tag.
pub fn parse_task_token(token: &str) -> Option<(String, u64)> {
    TaskToken::parse(token).map(|t| (t.execution_arn, t.key))
}

/// Salt for the second half of the hash key, so the key is not the seed
/// repeated.
const TOKEN_KEY_SALT: u64 = 0x7a6f_6f6d_7661_756c;

/// 128 bits of SipHash-2-4 (two 64-bit hashes under domain bytes) keyed by
/// the execution's seed. SipHash is a keyed pseudo-random function made for
/// exactly this (short inputs, secret key). std's `SipHasher` is deprecated
/// only as a `HashMap` hasher; its output is fixed by the SipHash spec.
#[allow(deprecated)]
fn token_tag(execution_arn: &str, seed: u64, key: u64) -> String {
    use std::hash::Hasher;
    let half = |domain: u8| {
        let mut h = std::hash::SipHasher::new_with_keys(seed, seed ^ TOKEN_KEY_SALT);
        h.write(&[domain]);
        h.write(&(execution_arn.len() as u64).to_le_bytes());
        h.write(execution_arn.as_bytes());
        h.write(&key.to_le_bytes());
        h.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_invoke_takes_function_name_from_parameters() {
        let t = TaskTarget::resolve(
            "arn:aws:states:::lambda:invoke",
            &json!({"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:fetch:$LATEST", "Payload": {"a": 1}}),
        )
        .unwrap();
        assert_eq!(t.handler_name(), "fetch");
        assert_eq!(
            t.handler_input(&json!({"Payload": {"a": 1}})),
            json!({"a": 1})
        );
        assert_eq!(
            t.history_resource(),
            ("lambda".to_string(), "invoke".to_string())
        );
        assert_eq!(t.result(json!(5), "r")["Payload"], json!(5));
        assert_eq!(t.result(json!(5), "r")["StatusCode"], json!(200));
    }

    #[test]
    fn lambda_invoke_without_function_name_is_a_runtime_error() {
        let err = TaskTarget::resolve("arn:aws:states:::lambda:invoke", &json!({})).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert!(err.cause.contains("FunctionName"), "{}", err.cause);
    }

    #[test]
    fn task_tokens_round_trip_and_verify_against_their_seed() {
        let arn = "arn:aws:states:us-east-1:1:execution:m:e";
        let t = task_token(arn, 7, 42);
        assert_eq!(t, task_token(arn, 7, 42), "deterministic");
        assert_eq!(parse_task_token(&t), Some((arn.into(), 42)));
        let parsed = TaskToken::parse(&t).unwrap();
        assert!(parsed.verify(7));
        assert!(!parsed.verify(8), "another execution's seed");
        assert_eq!(parse_task_token("garbage!"), None);
    }

    #[test]
    fn a_token_naming_another_task_does_not_verify() {
        use base64::Engine;
        let arn = "arn:aws:states:us-east-1:1:execution:m:e";
        let genuine = TaskToken::parse(&task_token(arn, 7, 42)).unwrap();
        // Same tag, another key: what a forger would try first.
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{arn}#43#{}", genuine.tag));
        assert!(!TaskToken::parse(&forged).unwrap().verify(7));
        // No tag at all.
        let bare = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{arn}#42"));
        assert!(TaskToken::parse(&bare).is_none_or(|t| !t.verify(7)));
    }
}
