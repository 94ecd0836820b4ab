//! Step Functions and Lambda ARNs: the one place zoomvault builds and reads
//! them, so the embedded engine, the Step Functions API over it and the AWS
//! adapters agree on one format. It only formats and splits strings: no
//! I/O, no dependencies, and no policy. Which region or account an ARN may
//! name, and which names are allowed, is decided by whoever holds the ARN
//! (the engine's identity, `sfn-api`'s checks, AWS itself), never here.

use std::fmt;

#[cfg(test)]
mod tests;

/// The partition, region and account a Step Functions resource lives in:
/// the `arn:<partition>:states:<region>:<account>:` that starts its ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

/// The ARN of the state machine `name`:
/// `arn:<partition>:states:<region>:<account>:stateMachine:<name>`.
pub fn state_machine(scope: Scope<'_>, name: &str) -> String {
    let Scope {
        partition,
        region,
        account,
    } = scope;
    format!("arn:{partition}:states:{region}:{account}:stateMachine:{name}")
}

/// The ARN Step Functions gives the execution `name` of the state machine
/// `state_machine_arn`: the machine's ARN with resource type `execution`
/// and the execution's name appended,
/// `arn:<partition>:states:<region>:<account>:execution:<machine>:<name>`.
/// Partition, region and account are the machine's, whatever they are.
/// Given anything but a plain state machine ARN (a version or alias ARN,
/// say), the result is no execution ARN either, and [`parse`] refuses it.
pub fn execution(state_machine_arn: &str, name: &str) -> String {
    let machine = state_machine_arn.replacen(":stateMachine:", ":execution:", 1);
    format!("{machine}:{name}")
}

/// The state machine a distributed Map's child executions belong to: the
/// parent machine's ARN with `/<label>` appended, as AWS names it
/// (<https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html>),
/// so a child execution's ARN follows [`execution`]'s one rule:
/// `...:execution:<machine>/<label>:<name>`.
pub fn map_run_state_machine(state_machine_arn: &str, label: &str) -> String {
    format!("{state_machine_arn}/{label}")
}

/// A Map Run's ARN: `...:mapRun:<machine>/<label>:<id>`.
pub fn map_run(state_machine_arn: &str, label: &str, id: &str) -> String {
    let machine = state_machine_arn.replacen(":stateMachine:", ":mapRun:", 1);
    format!("{machine}/{label}:{id}")
}

/// A Step Functions ARN, read into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatesArn<'a> {
    pub scope: Scope<'a>,
    pub resource: Resource<'a>,
}

/// What a Step Functions ARN names. State machine and execution names
/// cannot contain `:`, so each form has a fixed number of parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// `stateMachine:<name>`.
    StateMachine { name: &'a str },
    /// `execution:<state machine>:<name>`, an execution of a STANDARD machine.
    Execution {
        state_machine: &'a str,
        name: &'a str,
    },
    /// `express:<state machine>:<name>`, an execution of an EXPRESS machine.
    Express {
        state_machine: &'a str,
        name: &'a str,
    },
}

impl<'a> Resource<'a> {
    /// The state machine's name, or the name of the execution's machine.
    pub fn state_machine_name(&self) -> &'a str {
        match *self {
            Resource::StateMachine { name } => name,
            Resource::Execution { state_machine, .. } | Resource::Express { state_machine, .. } => {
                state_machine
            }
        }
    }

    /// The execution's name; `None` for a state machine.
    pub fn execution_name(&self) -> Option<&'a str> {
        match *self {
            Resource::StateMachine { .. } => None,
            Resource::Execution { name, .. } | Resource::Express { name, .. } => Some(name),
        }
    }
}

/// Why a string is not a Step Functions ARN. Each kind carries what could
/// be read before the problem, so a caller can still say where the ARN
/// points when it refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<'a> {
    /// Not `arn:<partition>:states:<region>:<account>:<resource type>:<name>…`:
    /// too few parts, not an ARN, or another service's.
    NotStepFunctions,
    /// A Step Functions ARN in this scope whose resource is none of
    /// `stateMachine:<name>`, `execution:<machine>:<name>` and
    /// `express:<machine>:<name>`: another resource type, or a name with a
    /// `:` in it.
    Resource(Scope<'a>),
    /// A well-formed Step Functions ARN with an empty partition, region,
    /// account or name; what it says is kept.
    Empty(StatesArn<'a>),
}

impl fmt::Display for Error<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotStepFunctions => f.write_str(
                "not a Step Functions ARN (arn:<partition>:states:<region>:<account>:<resource>)",
            ),
            Error::Resource(_) => f.write_str(
                "not a Step Functions state machine or execution: the resource must be \
                 stateMachine:<name>, execution:<machine>:<name> or express:<machine>:<name>",
            ),
            Error::Empty(_) => {
                f.write_str("a Step Functions ARN with an empty partition, region, account or name")
            }
        }
    }
}

impl std::error::Error for Error<'_> {}

/// Reads a Step Functions state machine or execution ARN.
pub fn parse(arn: &str) -> Result<StatesArn<'_>, Error<'_>> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ["arn", partition, "states", region, account, resource_type, first, ref rest @ ..] =
        parts[..]
    else {
        return Err(Error::NotStepFunctions);
    };
    let scope = Scope {
        partition,
        region,
        account,
    };
    let resource = match (resource_type, rest) {
        ("stateMachine", []) => Resource::StateMachine { name: first },
        ("execution", &[name]) => Resource::Execution {
            state_machine: first,
            name,
        },
        ("express", &[name]) => Resource::Express {
            state_machine: first,
            name,
        },
        _ => return Err(Error::Resource(scope)),
    };
    let parsed = StatesArn { scope, resource };
    let empty = [partition, region, account, resource.state_machine_name()].contains(&"")
        || resource.execution_name() == Some("");
    if empty {
        Err(Error::Empty(parsed))
    } else {
        Ok(parsed)
    }
}

/// The function name from a Lambda function name, partial ARN or full ARN
/// (`my-fn`, `123456789012:function:my-fn`,
/// `arn:aws:lambda:us-east-1:123456789012:function:my-fn:alias`); a
/// reference without a `function` part is taken as the name itself.
pub fn lambda_function_name(reference: &str) -> &str {
    match reference.split(':').position(|p| p == "function") {
        Some(i) => reference.split(':').nth(i + 1).unwrap_or(reference),
        None => reference,
    }
}
