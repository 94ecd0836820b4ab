//! What a Task state invokes: its resource resolved to a handler name, the
//! shapes AWS gives the `lambda:invoke` integration (the `Payload` wrapping
//! going in, the response envelope coming out), and task tokens: how they
//! are made and checked (`task_token`, `TaskToken::verify`).
//!
//! Each execution signs its tokens with a secret of its own
//! (`TokenSecret`), drawn from the OS when it starts and journaled with its
//! row, so replay makes the same tokens again. Nothing is keyed by the
//! execution's seed, which its random outputs give away.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zoomvault_arn::lambda_function_name;
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

    /// A `states:startExecution.sync` (or `.sync:2`) task: its handler waits
    /// for a child execution of this same engine rather than working.
    pub fn waits_on_child_execution(&self) -> bool {
        let resource = self.resource();
        resource == "arn:aws:states:::states:startExecution.sync"
            || resource == "arn:aws:states:::states:startExecution.sync:2"
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
    /// `arn:aws:states:::lambda:invoke` is type `lambda`, resource `invoke`;
    /// an AWS SDK integration's type names its service,
    /// `arn:aws:states:::aws-sdk:s3:getObject` is type `aws-sdk:s3`,
    /// resource `getObject` (TaskScheduledEventDetails: `resourceType` is
    /// "the service name of the resource", `resource` "the action").
    pub fn history_resource(&self) -> (String, String) {
        let r = self.resource();
        if let Some(rest) = r.strip_prefix("arn:aws:states:::") {
            if let Some((service, action)) = rest
                .strip_prefix("aws-sdk:")
                .and_then(|sdk| sdk.split_once(':'))
            {
                return (format!("aws-sdk:{service}"), action.to_string());
            }
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

/// The bytes of a token's tag: 128 bits.
const TAG_BYTES: usize = 16;

/// An execution's own key for its task tokens: 256 bits drawn from the OS
/// when the execution starts and journaled with its row (so replay makes
/// the same tokens), used for nothing else. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret([u8; 32]);

impl TokenSecret {
    /// A fresh secret. The OS's CSPRNG reaches the engine through `uuid`:
    /// `Uuid::new_v4` is 122 bits from `getrandom` (the `getrandom(2)`
    /// system call on Linux), with its version and variant bits fixed.
    /// Three of them hold 366 random bits; SHA-256 condenses them into a
    /// uniform 256-bit key. This is the same source a direct `getrandom`
    /// dependency would read, without one more dependency.
    pub fn generate() -> TokenSecret {
        let mut hash = Sha256::new();
        hash.update(b"zoomvault task token secret\0");
        for _ in 0..3 {
            hash.update(uuid::Uuid::new_v4().as_bytes());
        }
        TokenSecret(hash.finalize().into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> TokenSecret {
        TokenSecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(..)")
    }
}

/// A task token names one task of one execution; `SendTaskSuccess` and kin
/// route by it. It is `base64url("{execution ARN}#{task key}#{tag}")`, the
/// tag 32 lowercase hex digits: HMAC-SHA256 of `"{execution ARN}#{task
/// key}"` under the execution's token secret, truncated to its first 128
/// bits. Anyone can read which task a token names; only the engine, which
/// holds the secret, can make one; and replay makes the same token again,
/// since the secret is journaled, not drawn again.
///
/// The secret is not the execution's `seed`. The seed drives everything
/// the ASL makes random (`States.UUID`, `States.MathRandom`, retry jitter)
/// through a generator whose outputs give the seed away, so a key derived
/// from it would be known to anyone who sees those outputs.
pub fn task_token(execution_arn: &str, secret: &TokenSecret, key: u64) -> String {
    use base64::Engine;
    let tag = hex(&secret_tag(execution_arn, secret, key));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{execution_arn}#{key}#{tag}"))
}

/// A decoded task token, not yet checked against its execution's key.
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

    /// Whether the engine made this token for an execution with this key.
    /// Tags are compared in constant time, so timing says nothing of how
    /// much of a guess was right.
    pub fn verify(&self, secret: &TokenSecret) -> bool {
        // Exactly 128 bits: `verify_truncated_left` would accept a tag of
        // one byte, which a forger guesses in 256 tries.
        let Some(tag) = decode_tag(&self.tag) else {
            return false;
        };
        token_mac(&self.execution_arn, secret, self.key)
            .verify_truncated_left(&tag)
            .is_ok()
    }
}

/// The execution ARN and task key a token names, without checking its tag.
pub fn parse_task_token(token: &str) -> Option<(String, u64)> {
    TaskToken::parse(token).map(|t| (t.execution_arn, t.key))
}

/// HMAC-SHA256 of `"{execution ARN}#{task key}"` under the secret.
fn token_mac(execution_arn: &str, secret: &TokenSecret, key: u64) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(execution_arn.as_bytes());
    mac.update(b"#");
    mac.update(key.to_string().as_bytes());
    mac
}

fn secret_tag(execution_arn: &str, secret: &TokenSecret, key: u64) -> [u8; TAG_BYTES] {
    let full = token_mac(execution_arn, secret, key)
        .finalize()
        .into_bytes();
    let mut tag = [0u8; TAG_BYTES];
    tag.copy_from_slice(&full[..TAG_BYTES]);
    tag
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A tag as `hex` writes it; anything else (other lengths, upper case) is
/// not a tag the engine made.
fn decode_tag(text: &str) -> Option<[u8; TAG_BYTES]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * TAG_BYTES {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut tag = [0u8; TAG_BYTES];
    for (byte, pair) in tag.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(tag)
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
    fn an_sdk_integrations_resource_type_names_its_service() {
        for (resource, kind, action) in [
            (
                "arn:aws:states:::aws-sdk:s3:getObject",
                "aws-sdk:s3",
                "getObject",
            ),
            (
                "arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken",
                "aws-sdk:sqs",
                "sendMessage.waitForTaskToken",
            ),
            ("arn:aws:states:::events:putEvents", "events", "putEvents"),
            (
                "arn:aws:states:::states:startExecution.sync:2",
                "states",
                "startExecution.sync:2",
            ),
        ] {
            let t = TaskTarget::resolve(resource, &json!({})).unwrap();
            assert_eq!(
                t.history_resource(),
                (kind.to_string(), action.to_string()),
                "{resource}"
            );
        }
    }

    #[test]
    fn lambda_invoke_without_function_name_is_a_runtime_error() {
        let err = TaskTarget::resolve("arn:aws:states:::lambda:invoke", &json!({})).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert!(err.cause.contains("FunctionName"), "{}", err.cause);
    }

    const ARN: &str = "arn:aws:states:us-east-1:1:execution:m:e";

    fn secret(byte: u8) -> TokenSecret {
        TokenSecret::from_bytes([byte; 32])
    }

    fn encode(text: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn task_tokens_round_trip_and_verify_against_their_secret() {
        let t = task_token(ARN, &secret(7), 42);
        assert_eq!(t, task_token(ARN, &secret(7), 42), "deterministic");
        assert_eq!(parse_task_token(&t), Some((ARN.into(), 42)));
        let parsed = TaskToken::parse(&t).unwrap();
        assert!(parsed.verify(&secret(7)));
        assert!(!parsed.verify(&secret(8)), "another execution's secret");
        assert_eq!(parse_task_token("garbage!"), None);
    }

    #[test]
    fn the_tag_is_hmac_sha256_of_arn_and_key_truncated_to_128_bits() {
        // Python's `hmac.new(bytes([7]) * 32, b"{ARN}#42", "sha256")`,
        // first 32 hex digits: an implementation other than ours.
        let tag = "67e15d0e91acf346db18f5141ddc6fd6";
        assert_eq!(
            task_token(ARN, &secret(7), 42),
            encode(&format!("{ARN}#42#{tag}"))
        );
    }

    #[test]
    fn a_token_naming_another_task_does_not_verify() {
        let key = secret(7);
        let genuine = TaskToken::parse(&task_token(ARN, &key, 42)).unwrap();
        // Same tag, another key: what a forger would try first.
        let forged = encode(&format!("{ARN}#43#{}", genuine.tag));
        assert!(!TaskToken::parse(&forged).unwrap().verify(&key));
        // Same tag, another execution.
        let forged = encode(&format!("{ARN}x#42#{}", genuine.tag));
        assert!(!TaskToken::parse(&forged).unwrap().verify(&key));
        // No tag at all.
        let bare = encode(&format!("{ARN}#42"));
        assert!(TaskToken::parse(&bare).is_none_or(|t| !t.verify(&key)));
    }

    #[test]
    fn only_the_whole_tag_as_the_engine_writes_it_verifies() {
        let key = secret(7);
        let genuine = TaskToken::parse(&task_token(ARN, &key, 42)).unwrap();
        let with_tag = |tag: &str| TaskToken {
            tag: tag.to_string(),
            ..genuine.clone()
        };
        assert!(with_tag(&genuine.tag).verify(&key));
        // A prefix of the right tag is still a right prefix of the MAC; it
        // must not pass as a shorter truncation.
        for n in [0, 2, 16, 30] {
            assert!(!with_tag(&genuine.tag[..n]).verify(&key), "{n} digits");
        }
        assert!(!with_tag(&genuine.tag.to_uppercase()).verify(&key));
        assert!(!with_tag(&format!("{}00", genuine.tag)).verify(&key));
        assert!(!with_tag(&"zz".repeat(16)).verify(&key));
    }

    #[test]
    fn secrets_are_fresh_and_not_shown() {
        let (a, b) = (TokenSecret::generate(), TokenSecret::generate());
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "TokenSecret(..)");
    }
}
