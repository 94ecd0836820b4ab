//! ARNs in AWS's formats. The embedded engine pretends to be one region of
//! one account, so ARNs look exactly like the ones Step Functions issues.

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

pub fn state_machine(name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}")
}

pub fn execution(state_machine_name: &str, execution_name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{state_machine_name}:{execution_name}")
}

pub fn default_role() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/zoomvault-embedded")
}

/// The function name from a Lambda function name, partial ARN or full ARN
/// (`my-fn`, `123456789012:function:my-fn`, `arn:aws:lambda:...:function:my-fn:alias`).
pub fn lambda_function_name(reference: &str) -> &str {
    match reference.split(':').position(|p| p == "function") {
        Some(i) => reference.split(':').nth(i + 1).unwrap_or(reference),
        None => reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_names_from_every_reference_form() {
        assert_eq!(lambda_function_name("fetch"), "fetch");
        assert_eq!(lambda_function_name("123456789012:function:fetch"), "fetch");
        assert_eq!(
            lambda_function_name("arn:aws:lambda:us-east-1:123456789012:function:fetch:live"),
            "fetch"
        );
    }

    #[test]
    fn execution_arn_has_aws_shape() {
        assert_eq!(
            execution("ingest", "abc"),
            "arn:aws:states:us-east-1:123456789012:execution:ingest:abc"
        );
    }
}
