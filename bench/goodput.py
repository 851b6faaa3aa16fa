"""Goodput under a failing upstream: what share of fetch requests a person
gets stored, without a redrive, when the upstream fails a share of calls.

Per failure rate: a fresh stage (tables, queue with the stage's retry policy:
4 receives, then the dead-letter queue), an offline upstream answering that
share of calls with 500 and stalling 10 % more past the worker's upstream
timeout, two worker processes sharing the breaker, and every country queued
once. It waits until the queue is drained and reports: stored (without a
redrive), dead-lettered, lost (neither: must be 0), upstream calls, attempts
refused by the open breaker, and the time to drain.

bench/run.py calls `measure`, passing its own process helpers.
"""

import json
import math
import time
from dataclasses import dataclass

STALL_PER_MILLE = 100


@dataclass
class Setup:
    """The breaker and timing the runs use (the stage file's knobs)."""
    window_s: int          # BREAKER_WINDOW_SECONDS
    visibility_s: int      # the queue's visibility timeout (6 x the function timeout in the cloud)
    timeout_ms: int        # UPSTREAM_TIMEOUT_MS; stalls last 1.5 x this
    min_calls: int = 10    # BREAKER_MIN_CALLS (default)
    trial_calls: int = 1   # BREAKER_TRIAL_CALLS (default)
    workers: int = 2


def _queue(emu, name, visibility_s):
    """A stage whose fetch queue retries after `visibility_s`, 4 receives, then the DLQ."""
    env = emu.stage(name)
    emu.sqs.set_queue_attributes(QueueUrl=env["QUEUE_URL"], Attributes={"VisibilityTimeout": str(visibility_s)})
    return env


def _depth(emu, url):
    a = emu.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def _attempts(emu, table):
    """Every attempt row (markers, pending markers and budget counters skipped: their keys hold a `#`)."""
    rows, kw = [], {}
    while True:
        page = emu.dynamodb.scan(TableName=table, **kw)
        rows += [r for r in page["Items"] if "#" not in r["fetched_country"]["S"]]
        if "LastEvaluatedKey" not in page:
            return rows
        kw = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def one_rate(ctx, emu, setup, fail_percent, codes):
    """One run at `fail_percent` % 500s (plus stalls below 100 %); returns its figures."""
    stall = 0 if fail_percent >= 100 else min(STALL_PER_MILLE, 1000 - fail_percent * 10)
    port = ctx.free_port()
    up = ctx.spawn([str(ctx.release / "offline-upstream"), "--port", str(port),
                    "--fail-per-mille", str(fail_percent * 10), "--stall-per-mille", str(stall),
                    "--stall-ms", str(setup.timeout_ms * 3 // 2)], stdout=ctx.devnull)
    ctx.wait_http(port, "/health")
    env = {**_queue(emu, f"bench-goodput-{fail_percent}", setup.visibility_s),
           "UPSTREAM_PROVIDER": "v3", "UPSTREAM_BASE_URL": f"http://127.0.0.1:{port}",
           "UPSTREAM_TIMEOUT_MS": str(setup.timeout_ms), "BREAKER_WINDOW_SECONDS": str(setup.window_s),
           "BREAKER_MIN_CALLS": str(setup.min_calls), "BREAKER_TRIAL_CALLS": str(setup.trial_calls)}
    for i in range(0, len(codes), 10):
        emu.sqs.send_message_batch(QueueUrl=env["QUEUE_URL"], Entries=[
            {"Id": str(j), "MessageBody": json.dumps({"code": c, "request_id": f"goodput-{c}", "requested_at": "", "force": True})}
            for j, c in enumerate(codes[i:i + 10])])
    t0 = time.perf_counter()
    workers = [ctx.spawn([str(ctx.release / "worker")], env={**ctx.environ, **env}, stdout=ctx.devnull)
               for _ in range(setup.workers)]
    limit = 6 * setup.visibility_s + 60
    while _depth(emu, env["QUEUE_URL"]) > 0:
        if time.perf_counter() - t0 > limit:
            raise SystemExit(f"bench: the goodput run at {fail_percent} % did not drain within {limit} s")
        time.sleep(0.25)
    drain_s = time.perf_counter() - t0
    for p in workers + [up]:
        ctx.stop(p)

    rows = _attempts(emu, env["STATUS_TABLE"])
    outcomes = {}
    for r in rows:
        outcomes[r["outcome"]["S"]] = outcomes.get(r["outcome"]["S"], 0) + 1
    stored = emu.count(env["COUNTRIES_TABLE"])
    dead = _depth(emu, env["DLQ_URL"])
    calls = sum(n for o, n in outcomes.items() if o not in ("circuit_open", "served_from_store"))
    return {
        "fail_percent": fail_percent, "stall_percent": stall / 10, "requests": len(codes),
        "stored": stored, "stored_share": stored / len(codes), "dead_lettered": dead,
        "lost": len(codes) - stored - dead, "upstream_calls": calls,
        "circuit_open_attempts": outcomes.get("circuit_open", 0), "drain_s": drain_s,
        # At 100 %: what the breaker lets through, at most (concurrency aside).
        "bound_calls": setup.min_calls + math.ceil(drain_s / setup.window_s) * setup.trial_calls,
    }


def measure(ctx, emu, setup, rates, codes):
    """Runs every rate; returns the results, one dict per rate."""
    return [one_rate(ctx, emu, setup, rate, codes) for rate in rates]
