#!/usr/bin/env python3
"""Runs the benchmark's ASL definitions on moto's Step Functions interpreter.

moto (5.x) executes state machines only when its
`stepfunctions.execute_state_machine` setting is on; it then runs them on
the interpreter vendored from LocalStack (`moto/stepfunctions/parser`), in
process, through boto3 under `mock_aws`. The no-op Task is a Lambda function
named `noop` called through `arn:aws:states:::lambda:invoke`: with
`lambda.use_docker` off moto uses its Docker-free Lambda backend, whose
invoke returns the request payload unchanged, which is exactly a no-op.

The definitions are not written here: `bench/run` has the Rust bench print
them (`transitions definition SCENARIO SIZE`) into a directory, so both
sides run byte-for-byte the same ASL. This script prints one JSON line per
scenario, with the same fields as the Rust bench.

    moto_sfn.py DEFINITIONS_DIR SCENARIO=SIZE...
    (DEFINITIONS_DIR/SCENARIO.json must exist for each SCENARIO)
"""

import copy
import io
import json
import os
import sys
import time
import zipfile

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def peak_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def scenario_input(scenario, size):
    if scenario == "map":
        return {"items": [{"i": i} for i in range(size)]}
    return {"n": 1}


def scenario_executions(scenario, size):
    return size if scenario == "fanout" else 1


def backport_start_execution_fix():
    """moto before 5.2.5 cannot start a second execution on its Step
    Functions interpreter: StartExecution deep-copies the state machine,
    and with it the live worker threads (and their RLocks) of earlier
    executions, and fails with "cannot pickle '_thread.RLock' object"
    (getmoto/moto#10077). 5.2.5 fixed it (getmoto/moto#10093) by leaving
    the executions out of that copy and sharing the backend; this applies
    the same rule to an older moto, so the benchmark measures moto's
    interpreter rather than stopping at its second execution."""
    import moto
    from moto.stepfunctions.models import StateMachine

    version = tuple(int(p) for p in moto.__version__.split(".")[:3] if p.isdigit())
    if version >= (5, 2, 5) or "__deepcopy__" in vars(StateMachine):
        return False

    def snapshot(self, memo):
        memo[id(self.executions)] = []
        memo[id(self.backend)] = self.backend
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in vars(self).items():
            setattr(clone, key, copy.deepcopy(value, memo))
        return clone

    StateMachine.__deepcopy__ = snapshot
    return True


def create_noop_lambda():
    iam = boto3.client("iam")
    role = iam.create_role(
        RoleName="noop-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda").create_function(
        FunctionName="noop",
        Runtime="python3.11",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )


def all_history(sfn, arn):
    events, token = [], None
    while True:
        kwargs = {"executionArn": arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def measure(sfn, role_arn, scenario, size, definition):
    machine = sfn.create_state_machine(
        name=f"bench-{scenario}", definition=definition, roleArn=role_arn
    )["stateMachineArn"]
    payload = json.dumps(scenario_input(scenario, size))

    began = time.perf_counter()
    arns = [
        sfn.start_execution(stateMachineArn=machine, name=f"e{i}", input=payload)[
            "executionArn"
        ]
        for i in range(scenario_executions(scenario, size))
    ]
    pending = set(arns)
    while pending:
        for arn in list(pending):
            row = sfn.describe_execution(executionArn=arn)
            if row["status"] in TERMINAL:
                if row["status"] != "SUCCEEDED":
                    raise SystemExit(f"{scenario}: {arn} ended {row['status']}: {row}")
                pending.discard(arn)
        if pending:
            # The interpreter runs on threads of this process: polling
            # often would take the GIL from it and slow moto down.
            time.sleep(0.1)
    seconds = time.perf_counter() - began
    rss = peak_rss_kib()

    transitions = history_events = 0
    for arn in arns:
        events = all_history(sfn, arn)
        history_events += len(events)
        transitions += sum(1 for e in events if e["type"].endswith("StateEntered"))
    return {
        "scenario": scenario,
        "size": size,
        "executions": len(arns),
        "transitions": transitions,
        "history_events": history_events,
        "seconds": seconds,
        "transitions_per_sec": transitions / seconds,
        "history_events_per_sec": history_events / seconds,
        # The whole Python process (boto3, moto) after this and earlier scenarios.
        "peak_rss_kib": rss,
    }


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    directory, wanted = argv[1], []
    for arg in argv[2:]:
        scenario, _, size = arg.partition("=")
        wanted.append((scenario, int(size)))
    if backport_start_execution_fix():
        print("moto_sfn: backported getmoto/moto#10093 (StartExecution deepcopy) to this moto", file=sys.stderr)
    with mock_aws(config=MOTO_CONFIG):
        create_noop_lambda()
        sfn = boto3.client("stepfunctions")
        role_arn = "arn:aws:iam::123456789012:role/noop-role"
        for scenario, size in wanted:
            with open(os.path.join(directory, f"{scenario}.json")) as f:
                definition = f.read()
            print(json.dumps(measure(sfn, role_arn, scenario, size, definition)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
