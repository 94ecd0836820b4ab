"""A full Step Functions cycle through boto3 against zoomvault's endpoint.

Run by crates/sfn-api/tests/clients.rs with SFN_ENDPOINT set to a running
endpoint. Every answer is parsed by botocore against Step Functions' service
model, and checked here; any mismatch raises and exits non-zero.
"""

import json
import os
import sys
import time

import boto3
from botocore.config import Config

ENDPOINT = os.environ["SFN_ENDPOINT"]
ROLE = "arn:aws:iam::123456789012:role/boto3"

sfn = boto3.client(
    "stepfunctions",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="AKIDBOTO3",
    aws_secret_access_key="boto3-secret",
    # StartSyncExecution's "sync-" host prefix would name a host that does
    # not exist locally.
    config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def wait(arn):
    for _ in range(500):
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.01)
    raise AssertionError(f"{arn} still running")


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except sfn.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError(f"{call.__name__} succeeded but should have failed")


def published_token(arn):
    for _ in range(500):
        for ev in sfn.get_execution_history(executionArn=arn)["events"]:
            if ev["type"] == "TaskScheduled":
                params = json.loads(ev["taskScheduledEventDetails"]["parameters"])
                return params["Payload"]["token"]
        time.sleep(0.01)
    raise AssertionError(f"{arn} published no task token")


def main():
    chain = json.dumps({
        "StartAt": "Greet",
        "States": {
            "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $.who)"}, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    })
    created = sfn.create_state_machine(name="boto3-chain", definition=chain, roleArn=ROLE)
    arn = created["stateMachineArn"]
    check(arn.endswith(":stateMachine:boto3-chain"), arn)
    check(created["creationDate"].year >= 2024, created["creationDate"])

    described = sfn.describe_state_machine(stateMachineArn=arn)
    check(described["definition"] == chain, "definition round trip")
    check(described["type"] == "STANDARD", described["type"])

    started = sfn.start_execution(stateMachineArn=arn, name="boto3-run", input=json.dumps({"who": "boto3"}))
    done = wait(started["executionArn"])
    check(done["status"] == "SUCCEEDED", done)
    check(json.loads(done["output"]) == {"greeting": "hello boto3"}, done["output"])

    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    types = [e["type"] for e in history]
    check(types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", types)
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=started["executionArn"], PaginationConfig={"PageSize": 2}
    )
    paged = [e["id"] for page in pages for e in page["events"]]
    check(paged == [e["id"] for e in history], f"paged {paged}")

    listed = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]
    check([x["name"] for x in listed] == ["boto3-run"], listed)
    machines = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    check("boto3-chain" in machines, machines)

    # Stop a waiting execution.
    sleeper = sfn.create_state_machine(
        name="boto3-sleeper",
        definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    sleeping = sfn.start_execution(stateMachineArn=sleeper)["executionArn"]
    stopped = sfn.stop_execution(executionArn=sleeping, error="Boto3.Stop", cause="test")
    check(stopped["stopDate"].year >= 2024, stopped)
    aborted = sfn.describe_execution(executionArn=sleeping)
    check(aborted["status"] == "ABORTED" and aborted["error"] == "Boto3.Stop", aborted)

    # Callback tasks: success and failure by token.
    callback = sfn.create_state_machine(
        name="boto3-callback",
        definition=json.dumps({
            "StartAt": "Ask",
            "States": {"Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }},
        }),
        roleArn=ROLE,
    )["stateMachineArn"]
    ok = sfn.start_execution(stateMachineArn=callback)["executionArn"]
    sfn.send_task_success(taskToken=published_token(ok), output=json.dumps({"answer": 42}))
    check(json.loads(wait(ok)["output"]) == {"answer": 42}, "callback success output")
    bad = sfn.start_execution(stateMachineArn=callback)["executionArn"]
    sfn.send_task_failure(taskToken=published_token(bad), error="Worker.Failed", cause="no")
    failed = wait(bad)
    check(failed["status"] == "FAILED" and failed["error"] == "Worker.Failed", failed)

    # Express machines answer synchronously.
    express = sfn.create_state_machine(name="boto3-express", definition=chain, roleArn=ROLE, type="EXPRESS")
    sync = sfn.start_sync_execution(stateMachineArn=express["stateMachineArn"], input=json.dumps({"who": "sync"}))
    check(sync["status"] == "SUCCEEDED" and json.loads(sync["output"]) == {"greeting": "hello sync"}, sync)

    # Errors arrive as botocore's modeled exceptions.
    check(error_code(sfn.describe_execution, executionArn=arn.replace(":stateMachine:", ":execution:") + ":nope")
          == "ExecutionDoesNotExist", "missing execution")
    check(error_code(sfn.describe_execution, executionArn="arn:nope") == "InvalidArn", "bad arn")
    check(error_code(sfn.list_executions, stateMachineArn=arn, nextToken="garbage") == "InvalidToken", "bad token")
    check(error_code(sfn.create_state_machine, name="broken", definition="{}", roleArn=ROLE)
          == "InvalidDefinition", "invalid definition")
    check(error_code(sfn.start_execution, stateMachineArn=arn, name="boto3-run", input="{\"other\": 1}")
          == "ExecutionAlreadyExists", "name reuse")

    sfn.delete_state_machine(stateMachineArn=arn)
    check(error_code(sfn.describe_state_machine, stateMachineArn=arn) == "StateMachineDoesNotExist", "deleted")
    print("boto3 cycle: ok")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the test reads the message
        print(f"boto3 cycle failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
