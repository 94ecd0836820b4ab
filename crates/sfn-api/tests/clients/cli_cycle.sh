#!/usr/bin/env bash
# A full Step Functions cycle through the AWS CLI against zoomvault's
# endpoint. Run by crates/sfn-api/tests/clients.rs with SFN_ENDPOINT set.
# Each answer is read with the CLI's own --query (JMESPath) and compared;
# the first mismatch exits non-zero with what differed.
set -euo pipefail

export AWS_ACCESS_KEY_ID=AKIDCLI AWS_SECRET_ACCESS_KEY=cli-secret AWS_DEFAULT_REGION=us-east-1
export AWS_MAX_ATTEMPTS=1 AWS_PAGER=""
sfn() { aws stepfunctions --endpoint-url "$SFN_ENDPOINT" --output text "$@"; }
expect() { # expect WHAT ACTUAL EXPECTED
    if [[ "$2" != "$3" ]]; then echo "cli cycle: $1: got '$2', expected '$3'" >&2; exit 1; fi
}
expect_error() { # expect_error CODE command...
    local code=$1; shift
    local out
    if out=$("$@" 2>&1); then echo "cli cycle: '$*' succeeded, expected $code" >&2; exit 1; fi
    if [[ "$out" != *"($code)"* ]]; then echo "cli cycle: '$*' failed with '$out', expected $code" >&2; exit 1; fi
}
wait_for() { # wait_for ARN -> prints final status
    local status
    for _ in $(seq 200); do
        status=$(sfn describe-execution --execution-arn "$1" --query status)
        [[ "$status" != RUNNING ]] && { echo "$status"; return; }
        sleep 0.05
    done
    echo "cli cycle: $1 still running" >&2; exit 1
}
token_of() { # the task token an execution's callback task published
    local token
    for _ in $(seq 200); do
        token=$(sfn get-execution-history --execution-arn "$1" \
            --query "events[?type=='TaskScheduled'].taskScheduledEventDetails.parameters | [0]" |
            python3 -c 'import json,sys; t=sys.stdin.read().strip(); print(json.loads(t)["Payload"]["token"] if t not in ("", "None") else "")')
        [[ -n "$token" ]] && { echo "$token"; return; }
        sleep 0.05
    done
    echo "cli cycle: $1 published no token" >&2; exit 1
}
ROLE=arn:aws:iam::123456789012:role/cli

CHAIN='{"StartAt":"Greet","States":{"Greet":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('"'"'hi {}'"'"', $.who)"},"End":true}}}'
ARN=$(sfn create-state-machine --name cli-chain --definition "$CHAIN" --role-arn "$ROLE" --query stateMachineArn)
expect "state machine ARN" "$ARN" "arn:aws:states:us-east-1:123456789012:stateMachine:cli-chain"
expect "described type" "$(sfn describe-state-machine --state-machine-arn "$ARN" --query type)" STANDARD

EXEC=$(sfn start-execution --state-machine-arn "$ARN" --name cli-run --input '{"who":"cli"}' --query executionArn)
expect "execution ARN" "$EXEC" "arn:aws:states:us-east-1:123456789012:execution:cli-chain:cli-run"
expect "final status" "$(wait_for "$EXEC")" SUCCEEDED
expect "output" "$(sfn describe-execution --execution-arn "$EXEC" --query output)" '{"greeting":"hi cli"}'
expect "first event" "$(sfn get-execution-history --execution-arn "$EXEC" --query 'events[0].type')" ExecutionStarted
expect "last event (reverse order)" \
    "$(sfn get-execution-history --execution-arn "$EXEC" --reverse-order --max-items 1 --query 'events[0].type' | head -1)" \
    ExecutionSucceeded
expect "listed" "$(sfn list-executions --state-machine-arn "$ARN" --status-filter SUCCEEDED --query 'executions[].name')" cli-run
[[ "$(sfn list-state-machines --query 'stateMachines[].name')" == *cli-chain* ]] || { echo "cli cycle: list-state-machines misses cli-chain" >&2; exit 1; }

SLEEPER=$(sfn create-state-machine --name cli-sleeper --role-arn "$ROLE" \
    --definition '{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}' --query stateMachineArn)
SLEEPING=$(sfn start-execution --state-machine-arn "$SLEEPER" --query executionArn)
sfn stop-execution --execution-arn "$SLEEPING" --error Cli.Stop --cause test >/dev/null
expect "stopped status" "$(sfn describe-execution --execution-arn "$SLEEPING" --query status)" ABORTED
expect "stopped error" "$(sfn describe-execution --execution-arn "$SLEEPING" --query error)" Cli.Stop

CALLBACK=$(sfn create-state-machine --name cli-callback --role-arn "$ROLE" --query stateMachineArn --definition \
    '{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"worker","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}')
OK=$(sfn start-execution --state-machine-arn "$CALLBACK" --query executionArn)
sfn send-task-success --task-token "$(token_of "$OK")" --task-output '{"answer":42}' >/dev/null
expect "callback success" "$(wait_for "$OK")" SUCCEEDED
expect "callback output" "$(sfn describe-execution --execution-arn "$OK" --query output)" '{"answer":42}'
BAD=$(sfn start-execution --state-machine-arn "$CALLBACK" --query executionArn)
sfn send-task-failure --task-token "$(token_of "$BAD")" --error Worker.Failed --cause no >/dev/null
expect "callback failure" "$(wait_for "$BAD")" FAILED
expect "callback error" "$(sfn describe-execution --execution-arn "$BAD" --query error)" Worker.Failed

EXPRESS=$(sfn create-state-machine --name cli-express --type EXPRESS --definition "$CHAIN" --role-arn "$ROLE" --query stateMachineArn)
# StartSyncExecution goes to a "sync-" host prefix unless told not to.
expect "sync output" "$(AWS_DISABLE_HOST_PREFIX_INJECTION=true sfn start-sync-execution \
    --state-machine-arn "$EXPRESS" --input '{"who":"sync"}' --query output)" '{"greeting":"hi sync"}'

expect_error ExecutionDoesNotExist sfn describe-execution --execution-arn "${ARN/:stateMachine:/:execution:}:nope"
expect_error InvalidArn sfn describe-execution --execution-arn arn:nope
expect_error InvalidDefinition sfn create-state-machine --name broken --definition '{}' --role-arn "$ROLE"
expect_error ExecutionAlreadyExists sfn start-execution --state-machine-arn "$ARN" --name cli-run --input '{"who":"other"}'
expect_error InvalidToken sfn send-task-success --task-token not-a-token --task-output '{}'

sfn delete-state-machine --state-machine-arn "$ARN" >/dev/null
expect_error StateMachineDoesNotExist sfn describe-state-machine --state-machine-arn "$ARN"
echo "cli cycle: ok"
