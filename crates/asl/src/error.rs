//! The two kinds of error the language has: a definition error, found before
//! anything runs and named by the JSON pointer of the offending field, and a
//! runtime failure, an ASL error name with its cause, as a state raises it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A problem with a state machine definition, located by JSON pointer
/// (e.g. `/States/Fetch/Next`), with the diagnostic code AWS gives it
/// (`codes`; most are `SCHEMA_VALIDATION_FAILED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub pointer: String,
    pub message: String,
    pub code: &'static str,
}

/// The codes of AWS's validation diagnostics (ValidateStateMachineDefinition's
/// `code`, and the prefix of each problem in an `InvalidDefinition`
/// message), as AWS answers them: recorded in
/// <https://github.com/localstack/localstack/blob/main/tests/aws/services/stepfunctions/v2/test_sfn_api_validation.snapshot.json>
/// and quoted from failed deployments (`Invalid State Machine Definition:
/// 'MISSING_TRANSITION_TARGET: State "X" is not reachable. at /States/X'`).
pub mod codes {
    pub const SCHEMA_VALIDATION_FAILED: &str = "SCHEMA_VALIDATION_FAILED";
    /// A transition to a state that does not exist, or a state no
    /// transition reaches.
    pub const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
    /// The definition is not JSON.
    pub const INVALID_JSON_DESCRIPTION: &str = "INVALID_JSON_DESCRIPTION";
    /// A JSONata expression that does not parse.
    pub const INVALID_JSONATA_EXPRESSION: &str = "INVALID_JSONATA_EXPRESSION";
    /// A JSONata expression with a reference AWS refuses (`$$`, a name read
    /// at the top level, a part of `$states` the field cannot see).
    pub const UNSUPPORTED_JSONATA_EXPRESSION: &str = "UNSUPPORTED_JSONATA_EXPRESSION";
}

impl DefinitionError {
    /// A `SCHEMA_VALIDATION_FAILED` problem; see [`DefinitionError::with_code`].
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        DefinitionError {
            pointer: pointer.into(),
            message: message.into(),
            code: codes::SCHEMA_VALIDATION_FAILED,
        }
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    /// Where AWS's diagnostics say the problem is: the JSON pointer with
    /// array indices in brackets (`/States/A/Catch[0]`, as AWS's
    /// `Field '_comment' is not supported at /States/A/Catch[0]`), the whole
    /// document being `/`. A segment is an index when it is a number right
    /// after one of ASL's array fields, so a state named `0` stays a name.
    pub fn location(&self) -> String {
        const ARRAYS: [&str; 7] = [
            "Branches",
            "Catch",
            "Choices",
            "ErrorEquals",
            "Retry",
            "And",
            "Or",
        ];
        if self.pointer.is_empty() {
            return "/".to_string();
        }
        let mut out = String::with_capacity(self.pointer.len());
        let mut previous = "";
        for segment in self.pointer.split('/').skip(1) {
            let index = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
            if index && ARRAYS.contains(&previous) {
                out.push('[');
                out.push_str(segment);
                out.push(']');
            } else {
                out.push('/');
                out.push_str(segment);
            }
            previous = segment;
        }
        out
    }

    /// The problem as AWS words it inside an `InvalidDefinition` message:
    /// `SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /`.
    pub fn aws_text(&self) -> String {
        format!("{}: {} at {}", self.code, self.message, self.location())
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "/: {}", self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

impl std::error::Error for DefinitionError {}

/// Appends a JSON pointer segment, escaping `~` and `/` as RFC 6901 requires.
pub fn pointer_join(base: &str, segment: &str) -> String {
    let escaped = segment.replace('~', "~0").replace('/', "~1");
    format!("{base}/{escaped}")
}

/// The error names ASL reserves. Handlers may raise any other name.
pub mod names {
    pub const ALL: &str = "States.ALL";
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    pub const TIMEOUT: &str = "States.Timeout";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const PERMISSIONS: &str = "States.Permissions";
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
    pub const RUNTIME: &str = "States.Runtime";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
}

/// A runtime failure: an error name and a human-readable cause, exactly what
/// `Retry`/`Catch` match on and what a `Fail` state or `ExecutionFailed`
/// event reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub error: String,
    pub cause: String,
    /// Where a JSONata expression failed (`Output/v`, `Choices[0]/Condition`):
    /// the `location` of AWS's `EvaluationFailed` event. Not journaled: it
    /// comes from evaluating, which a replay repeats.
    #[serde(skip)]
    pub location: Option<String>,
}

impl Failure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            cause: cause.into(),
            location: None,
        }
    }

    /// The same failure, raised by a JSONata expression in `field`.
    pub fn at(mut self, field: &str) -> Self {
        self.location = Some(field.to_string());
        self
    }

    pub fn runtime(cause: impl Into<String>) -> Self {
        Failure::new(names::RUNTIME, cause)
    }

    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Failure::new(names::INTRINSIC_FAILURE, cause)
    }

    /// The failure as AWS reports it when the states runtime raised it
    /// while evaluating a state (a path, a payload template, an intrinsic
    /// function, a `...Path` field), rather than a task or a Fail state
    /// raising it: its cause starts with the state's name and the id of
    /// the event that entered it, e.g. `An error occurred while executing
    /// the state 'Pick' (entered at the event id #2). The JSONPath '$.nope'
    /// specified for the field 'v.$' could not be found in the input
    /// '{"other":1}'`. Only the names the runtime raises this way get the
    /// prefix (`States.Runtime`, `States.IntrinsicFailure`,
    /// `States.QueryEvaluationError`); `States.NoChoiceMatched` and
    /// `States.ResultPathMatchFailure` keep their cause as it is. This crate
    /// knows neither the event id nor when a failure reaches the execution,
    /// so the engine calls this with both, once, where it evaluates the
    /// state. Source: causes read off real Step Functions in
    /// <https://github.com/floci-io/floci/blob/main/src/test/java/io/github/hectorvent/floci/services/stepfunctions/AslExecutorBranchHistoryEventsTest.java>.
    pub fn in_state(self, state: &str, entered_event_id: u64) -> Failure {
        let located = [
            names::RUNTIME,
            names::INTRINSIC_FAILURE,
            names::QUERY_EVALUATION_ERROR,
        ];
        if !located.contains(&self.error.as_str()) {
            return self;
        }
        Failure {
            cause: format!(
                "An error occurred while executing the state '{state}' (entered at the event id #{entered_event_id}). {}",
                self.cause
            ),
            error: self.error,
            location: self.location,
        }
    }

    /// What a payload over a limit fails with, or `None` when it is within
    /// both: nested deeper than [`crate::limits::MAX_NESTING_DEPTH`],
    /// `States.Runtime` (the embedded engine's own limit); over 256 KiB,
    /// [`Failure::data_limit_exceeded`]. The depth is asked first, without
    /// recursing, since measuring the size recurses once per level.
    pub fn for_payload(value: &serde_json::Value, who: &str) -> Option<Failure> {
        use crate::limits::{fits_payload_limit, nests_deeper_than, MAX_NESTING_DEPTH};
        if nests_deeper_than(value, MAX_NESTING_DEPTH) {
            return Some(Failure::runtime(format!(
                "The state/task '{who}' returned a result nesting arrays and objects more than \
                 {MAX_NESTING_DEPTH} deep, the embedded engine's limit."
            )));
        }
        (!fits_payload_limit(value)).then(|| Failure::data_limit_exceeded(who))
    }

    /// `States.DataLimitExceeded` for a payload over
    /// [`crate::limits::MAX_PAYLOAD_BYTES`],
    /// with AWS's cause naming `who`: the task's resource for a task result
    /// (the function ARN of a Lambda function, the service, e.g. `lambda`,
    /// of an integration), the state's name for a state's input or output.
    /// The text is AWS's for a task result (recorded on AWS in
    /// <https://github.com/localstack/localstack/blob/main/tests/aws/services/stepfunctions/v2/error_handling/test_states_errors.snapshot.json>);
    /// for a state's own input or output AWS's text is not published, and
    /// the same words name the state.
    pub fn data_limit_exceeded(who: &str) -> Failure {
        Failure::new(
            names::DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
        )
    }

    /// The error output a catcher places at its ResultPath (and what
    /// `$` is in its Assign): `{"Error": ..., "Cause": ...}`, each key
    /// only when the failure has it, as AWS omits an absent cause rather
    /// than sending an empty one. An empty string stands for absent.
    pub fn error_output(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        if !self.error.is_empty() {
            out.insert("Error".into(), self.error.clone().into());
        }
        if !self.cause.is_empty() {
            out.insert("Cause".into(), self.cause.clone().into());
        }
        serde_json::Value::Object(out)
    }

    /// `States.Runtime`, `States.ResultPathMatchFailure` and friends are
    /// terminal in AWS: `States.ALL` in a Retry or Catch does not match
    /// `States.Runtime` (it can only be matched by naming it).
    pub fn is_runtime(&self) -> bool {
        self.error == names::RUNTIME
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_aws_s_with_indices_in_brackets() {
        let at = |pointer: &str| DefinitionError::new(pointer, "m").location();
        assert_eq!(at(""), "/");
        assert_eq!(at("/States/A/Next"), "/States/A/Next");
        assert_eq!(at("/States/A/Catch/0"), "/States/A/Catch[0]");
        assert_eq!(
            at("/States/P/Branches/1/States/X/Retry/0/ErrorEquals/2"),
            "/States/P/Branches[1]/States/X/Retry[0]/ErrorEquals[2]"
        );
        // A state named with digits stays a name.
        assert_eq!(at("/States/0/Next"), "/States/0/Next");
    }

    #[test]
    fn aws_text_names_code_message_and_location() {
        let e = DefinitionError::new("/States/A/Next", "Missing 'Next' target: B")
            .with_code(codes::MISSING_TRANSITION_TARGET);
        assert_eq!(
            e.aws_text(),
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"
        );
    }

    #[test]
    fn state_prefix_only_on_what_the_runtime_raises_while_evaluating() {
        let located = Failure::runtime("x").in_state("S", 4);
        assert_eq!(
            located.cause,
            "An error occurred while executing the state 'S' (entered at the event id #4). x"
        );
        let task = Failure::new("Lambda.Unknown", "x").in_state("S", 4);
        assert_eq!(task.cause, "x");
    }
}
