#!/usr/bin/env python3
"""The Python half of bench/lambdas: SSM parameters in moto, cold invocations
through the Lambda emulator, and the table.

    lambda_cold_start.py ssm MOTO_ENDPOINT PREFIX
        puts Zoom's four credentials (dummy values) as SecureString
        parameters under PREFIX, then prints one JSON line: how long a warm
        GetParameters of three of them takes from boto3 (median of 20), the
        round trip a function's init makes.
    lambda_cold_start.py round EMULATOR_ENDPOINT ROUND EVENT_DIR NAME...
        invokes each function NAME once, one after the other (so no two
        inits share the CPU), with EVENT_DIR/NAME.json as the payload when
        it exists and {} otherwise, then prints one JSON line per function
        with the init duration the emulator measured, or null when its
        process never asked for an event (its init failed; the log says why).
    lambda_cold_start.py table SIZES_JSON ROUNDS_JSONL SSM_JSON
        prints the Markdown table.

The answers themselves are not looked at: a step handed {} fails on its
input, the webhook on its signature; the cold start happened before either.
"""

import json
import statistics
import sys
import urllib.request

BINARY_LIMIT_MB = 15
INIT_LIMIT_MS = 50


def ssm(endpoint, prefix):
    import time

    import boto3

    client = boto3.client(
        "ssm",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for name in ("account_id", "client_id", "client_secret", "webhook_secret_token"):
        client.put_parameter(
            Name=f"{prefix}zoom/{name}", Value=f"bench-{name}", Type="SecureString", Overwrite=True
        )
    names = [f"{prefix}zoom/{n}" for n in ("account_id", "client_id", "client_secret")]
    samples = []
    for i in range(23):
        started = time.perf_counter()
        client.get_parameters(Names=names, WithDecryption=True)
        if i >= 3:
            samples.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"get_parameters_ms": statistics.median(samples)}))


def round_(endpoint, round_number, event_dir, names):
    for name in names:
        try:
            with open(f"{event_dir}/{name}.json", "rb") as f:
                payload = f.read()
        except FileNotFoundError:
            payload = b"{}"
        request = urllib.request.Request(
            f"{endpoint}/2015-03-31/functions/{name}/invocations", data=payload, method="POST"
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            answer.read()
    with urllib.request.urlopen(f"{endpoint}/emulator/functions", timeout=30) as answer:
        metrics = json.load(answer)["functions"]
    for name in names:
        init = metrics[name]["initDurationsMs"]
        if len(init) > 1:
            sys.exit(f"lambda_cold_start.py: {name} started {len(init)} processes in round {round_number}")
        init_ms = init[0] if init else None
        print(json.dumps({"round": round_number, "function": name, "init_ms": init_ms}))


def table(sizes_path, rounds_path, ssm_path):
    sizes = json.load(open(sizes_path))
    inits = {}
    for line in open(rounds_path):
        if line.strip():
            r = json.loads(line)
            inits.setdefault(r["function"], []).append(r["init_ms"])
    get_parameters_ms = json.load(open(ssm_path))["get_parameters_ms"]
    rounds = max(len(v) for v in inits.values())
    print(
        f"| function | binary (bootstrap) MB | zip MB | init ms, median (min-max), {rounds} cold starts "
        f"| binary < {BINARY_LIMIT_MB} MB | every init < {INIT_LIMIT_MS} ms |"
    )
    print("|---|---|---|---|---|---|")
    for name in sorted(sizes):
        binary_mb = sizes[name]["binary"] / 1e6
        zip_mb = sizes[name]["zip"] / 1e6
        samples = sorted(ms for ms in inits[name] if ms is not None)
        failed = len(inits[name]) - len(samples)
        if samples:
            median = statistics.median(samples)
            init = f"{median:.1f} ({samples[0]:.1f}-{samples[-1]:.1f})"
            met = "yes" if samples[-1] < INIT_LIMIT_MS else "NO"
        else:
            init, met = "-", "-"
        if failed:
            init += f"; init FAILED in {failed} of {len(inits[name])}"
        print(
            f"| {name} | {binary_mb:.1f} | {zip_mb:.1f} | {init} "
            f"| {'yes' if binary_mb < BINARY_LIMIT_MB else 'NO'} | {met} |"
        )
    print()
    print(
        f"MB = 10^6 bytes. Init: from spawning the process to its first Runtime API "
        f"`/next`, including one SSM GetParameters to moto on loopback for the functions "
        f"that read Zoom's credentials (boto3's warm GetParameters to the same moto: "
        f"{get_parameters_ms:.1f} ms median)."
    )


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "ssm":
        ssm(*args)
    elif command == "round":
        round_(args[0], int(args[1]), args[2], args[3:])
    elif command == "table":
        table(*args)
    else:
        sys.exit(f"lambda_cold_start.py: unknown command {command}")


if __name__ == "__main__":
    main()
