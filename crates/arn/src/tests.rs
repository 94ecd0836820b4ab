//! The ARN forms as data: what each builder writes, what the reader makes
//! of every well-formed and malformed string (one line each), and that
//! whatever is built reads back as the parts it was built from.

use super::*;
use expect_test::{expect, Expect};

const EMBEDDED: Scope<'static> = Scope {
    partition: "aws",
    region: "us-east-1",
    account: "123456789012",
};
const CHINA: Scope<'static> = Scope {
    partition: "aws-cn",
    region: "cn-north-1",
    account: "210987654321",
};
const GOV: Scope<'static> = Scope {
    partition: "aws-us-gov",
    region: "us-gov-west-1",
    account: "000000000000",
};

fn scope_text(s: Scope<'_>) -> String {
    format!("{}/{}/{}", s.partition, s.region, s.account)
}

fn arn_text(a: StatesArn<'_>) -> String {
    let scope = scope_text(a.scope);
    match a.resource {
        Resource::StateMachine { name } => format!("{scope} stateMachine {name:?}"),
        Resource::Execution {
            state_machine,
            name,
        } => format!("{scope} execution {state_machine:?} {name:?}"),
        Resource::Express {
            state_machine,
            name,
        } => format!("{scope} express {state_machine:?} {name:?}"),
    }
}

fn check_parse(arns: &[&str], expect: Expect) {
    let mut out = String::new();
    for arn in arns {
        let read = match parse(arn) {
            Ok(a) => format!("ok       {}", arn_text(a)),
            Err(Error::Empty(a)) => format!("empty    {}", arn_text(a)),
            Err(Error::Resource(scope)) => format!("resource {}", scope_text(scope)),
            Err(Error::NotStepFunctions) => "not Step Functions".to_string(),
        };
        out.push_str(&format!("{arn:?}\n    {read}\n"));
    }
    expect.assert_eq(&out);
}

#[test]
fn builds_state_machine_and_execution_arns_in_any_partition() {
    let mut out = String::new();
    for scope in [EMBEDDED, CHINA, GOV] {
        let machine = state_machine(scope, "ingest");
        out.push_str(&format!("{machine}\n{}\n", execution(&machine, "rec-1")));
    }
    expect![[r#"
        arn:aws:states:us-east-1:123456789012:stateMachine:ingest
        arn:aws:states:us-east-1:123456789012:execution:ingest:rec-1
        arn:aws-cn:states:cn-north-1:210987654321:stateMachine:ingest
        arn:aws-cn:states:cn-north-1:210987654321:execution:ingest:rec-1
        arn:aws-us-gov:states:us-gov-west-1:000000000000:stateMachine:ingest
        arn:aws-us-gov:states:us-gov-west-1:000000000000:execution:ingest:rec-1
    "#]]
    .assert_eq(&out);
}

#[test]
fn an_execution_of_anything_but_a_plain_machine_arn_does_not_read_back() {
    for machine in [
        "arn:aws:states:us-east-1:123456789012:stateMachine:ingest:1",
        "arn:aws:states:us-east-1:123456789012:execution:ingest:rec-1",
        "ingest",
    ] {
        let arn = execution(machine, "rec-2");
        assert!(parse(&arn).is_err(), "{arn}");
    }
}

#[test]
fn reads_each_resource_type_in_any_partition() {
    check_parse(
        &[
            "arn:aws:states:us-east-1:123456789012:stateMachine:ingest",
            "arn:aws:states:us-east-1:123456789012:execution:ingest:rec-1",
            "arn:aws:states:us-east-1:123456789012:express:ingest:rec-1",
            "arn:aws-cn:states:cn-north-1:210987654321:execution:ingest:rec-1",
            "arn:aws-us-gov:states:us-gov-west-1:000000000000:stateMachine:ingest",
            "arn:aws:states:us-east-1:123456789012:execution:ingest:_ajXp112QmuoKj4854875==",
        ],
        expect![[r#"
            "arn:aws:states:us-east-1:123456789012:stateMachine:ingest"
                ok       aws/us-east-1/123456789012 stateMachine "ingest"
            "arn:aws:states:us-east-1:123456789012:execution:ingest:rec-1"
                ok       aws/us-east-1/123456789012 execution "ingest" "rec-1"
            "arn:aws:states:us-east-1:123456789012:express:ingest:rec-1"
                ok       aws/us-east-1/123456789012 express "ingest" "rec-1"
            "arn:aws-cn:states:cn-north-1:210987654321:execution:ingest:rec-1"
                ok       aws-cn/cn-north-1/210987654321 execution "ingest" "rec-1"
            "arn:aws-us-gov:states:us-gov-west-1:000000000000:stateMachine:ingest"
                ok       aws-us-gov/us-gov-west-1/000000000000 stateMachine "ingest"
            "arn:aws:states:us-east-1:123456789012:execution:ingest:_ajXp112QmuoKj4854875=="
                ok       aws/us-east-1/123456789012 execution "ingest" "_ajXp112QmuoKj4854875=="
        "#]],
    );
}

#[test]
fn refuses_every_malformed_form() {
    check_parse(
        &[
            // Too few parts, not an ARN, another service.
            "",
            "ingest",
            "arn",
            "arn:aws:states:us-east-1:123456789012",
            "arn:aws:states:us-east-1:123456789012:stateMachine",
            "ARN:aws:states:us-east-1:123456789012:stateMachine:m",
            "arm:aws:states:us-east-1:123456789012:stateMachine:m",
            "arn:aws:lambda:us-east-1:123456789012:function:m",
            "arn:aws:iam::123456789012:role/zoomvault-embedded",
            // Another resource type, or a part missing or extra: names
            // cannot contain ':', so a version or alias suffix, or a name
            // with a colon, is not one of the forms.
            "arn:aws:states:us-east-1:123456789012:activity:m",
            "arn:aws:states:us-east-1:123456789012:execution:m",
            "arn:aws:states:us-east-1:123456789012:express:m",
            "arn:aws:states:us-east-1:123456789012:stateMachine:m:1",
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:b",
            "arn:aws:states:us-east-1:123456789012:execution:m:a:b",
            "arn:aws:states:us-east-1:123456789012:express:m:e:0c5a",
            "arn:aws:states:us-east-1:123456789012:stateMachine:m:",
            // Every part there, but one empty.
            "arn:aws:states:us-east-1:123456789012:stateMachine:",
            "arn:aws:states:us-east-1:123456789012:execution::e",
            "arn:aws:states:us-east-1:123456789012:execution:m:",
            "arn:aws:states:us-east-1:123456789012:express::",
            "arn::states:us-east-1:123456789012:stateMachine:m",
            "arn:aws:states::123456789012:stateMachine:m",
            "arn:aws:states:us-east-1::execution:m:e",
        ],
        expect![[r#"
            ""
                not Step Functions
            "ingest"
                not Step Functions
            "arn"
                not Step Functions
            "arn:aws:states:us-east-1:123456789012"
                not Step Functions
            "arn:aws:states:us-east-1:123456789012:stateMachine"
                not Step Functions
            "ARN:aws:states:us-east-1:123456789012:stateMachine:m"
                not Step Functions
            "arm:aws:states:us-east-1:123456789012:stateMachine:m"
                not Step Functions
            "arn:aws:lambda:us-east-1:123456789012:function:m"
                not Step Functions
            "arn:aws:iam::123456789012:role/zoomvault-embedded"
                not Step Functions
            "arn:aws:states:us-east-1:123456789012:activity:m"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:execution:m"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:express:m"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:stateMachine:m:1"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:b"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:execution:m:a:b"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:express:m:e:0c5a"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:stateMachine:m:"
                resource aws/us-east-1/123456789012
            "arn:aws:states:us-east-1:123456789012:stateMachine:"
                empty    aws/us-east-1/123456789012 stateMachine ""
            "arn:aws:states:us-east-1:123456789012:execution::e"
                empty    aws/us-east-1/123456789012 execution "" "e"
            "arn:aws:states:us-east-1:123456789012:execution:m:"
                empty    aws/us-east-1/123456789012 execution "m" ""
            "arn:aws:states:us-east-1:123456789012:express::"
                empty    aws/us-east-1/123456789012 express "" ""
            "arn::states:us-east-1:123456789012:stateMachine:m"
                empty    /us-east-1/123456789012 stateMachine "m"
            "arn:aws:states::123456789012:stateMachine:m"
                empty    aws//123456789012 stateMachine "m"
            "arn:aws:states:us-east-1::execution:m:e"
                empty    aws/us-east-1/ execution "m" "e"
        "#]],
    );
}

#[test]
fn error_messages_say_what_is_wrong() {
    let messages = [
        "arn:aws:lambda:us-east-1:123456789012:function:m",
        "arn:aws:states:us-east-1:123456789012:activity:m",
        "arn:aws:states:us-east-1:123456789012:stateMachine:",
    ]
    .map(|arn| parse(arn).map_or_else(|e| e.to_string(), |_| "ok".into()));
    expect![[r#"
        [
            "not a Step Functions ARN (arn:<partition>:states:<region>:<account>:<resource>)",
            "not a Step Functions state machine or execution: the resource must be stateMachine:<name>, execution:<machine>:<name> or express:<machine>:<name>",
            "a Step Functions ARN with an empty partition, region, account or name",
        ]
    "#]].assert_debug_eq(&messages);
}

#[test]
fn what_is_built_reads_back_as_its_parts() {
    for scope in [EMBEDDED, CHINA, GOV] {
        for (machine_name, execution_name) in [
            ("ingest", "rec-1"),
            ("m", "e"),
            ("Ingest_v2-final", "aDYlohsHRtCd4ii1uC2-hA=="),
            ("réunion", "2024-01-01T00.00.00Z"),
        ] {
            let machine = state_machine(scope, machine_name);
            let read = parse(&machine).expect("a built state machine ARN reads back");
            assert_eq!(read.scope, scope);
            assert_eq!(read.resource, Resource::StateMachine { name: machine_name });

            let arn = execution(&machine, execution_name);
            let read = parse(&arn).expect("a built execution ARN reads back");
            assert_eq!(read.scope, scope);
            assert_eq!(
                read.resource,
                Resource::Execution {
                    state_machine: machine_name,
                    name: execution_name
                }
            );
            let rebuilt = execution(
                &state_machine(read.scope, read.resource.state_machine_name()),
                read.resource.execution_name().unwrap_or_default(),
            );
            assert_eq!(rebuilt, arn);
        }
    }
}

#[test]
fn lambda_function_names_from_every_reference_form() {
    let names = [
        "fetch",
        "123456789012:function:fetch",
        "arn:aws:lambda:us-east-1:123456789012:function:fetch",
        "arn:aws:lambda:us-east-1:123456789012:function:fetch:live",
        "arn:aws:lambda:us-east-1:123456789012:function:fetch:$LATEST",
        "arn:aws-cn:lambda:cn-north-1:210987654321:function:fetch:7",
        "zoomvault-record-failure",
    ]
    .map(|r| format!("{r} -> {}", lambda_function_name(r)));
    expect![[r#"
        [
            "fetch -> fetch",
            "123456789012:function:fetch -> fetch",
            "arn:aws:lambda:us-east-1:123456789012:function:fetch -> fetch",
            "arn:aws:lambda:us-east-1:123456789012:function:fetch:live -> fetch",
            "arn:aws:lambda:us-east-1:123456789012:function:fetch:$LATEST -> fetch",
            "arn:aws-cn:lambda:cn-north-1:210987654321:function:fetch:7 -> fetch",
            "zoomvault-record-failure -> zoomvault-record-failure",
        ]
    "#]]
    .assert_debug_eq(&names);
}
