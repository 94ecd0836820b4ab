//! The embedded engine's identity: it pretends to be one region of one
//! account of the `aws` partition, so its ARNs look exactly like the ones
//! Step Functions issues. Building and reading ARNs is `zoomvault_arn`'s;
//! this module only says where the engine is and must not format a Step
//! Functions ARN itself.

use zoomvault_arn::Scope;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// Where every state machine and execution of this engine lives.
pub const EMBEDDED: Scope<'static> = Scope {
    partition: "aws",
    region: REGION,
    account: ACCOUNT,
};

/// The ARN of this engine's state machine `name`.
pub fn state_machine(name: &str) -> String {
    zoomvault_arn::state_machine(EMBEDDED, name)
}

/// The ARN of the execution `execution_name` of this engine's state
/// machine `state_machine_name`.
pub fn execution(state_machine_name: &str, execution_name: &str) -> String {
    zoomvault_arn::execution(&state_machine(state_machine_name), execution_name)
}

/// The role a state machine created without one is given. IAM is not
/// Step Functions, and only the engine names this role.
pub fn default_role() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/zoomvault-embedded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_have_aws_shape() {
        assert_eq!(
            state_machine("ingest"),
            "arn:aws:states:us-east-1:123456789012:stateMachine:ingest"
        );
        assert_eq!(
            execution("ingest", "abc"),
            "arn:aws:states:us-east-1:123456789012:execution:ingest:abc"
        );
        assert_eq!(
            default_role(),
            "arn:aws:iam::123456789012:role/zoomvault-embedded"
        );
    }
}
