"""A burst of forced fetch-data requests: what a hostile client looping on
`POST /fetch-data/XX?force=true` costs once the guards are in (README,
"Safe to expose").

Per run: a fresh stage (tables, queue), the offline upstream, one worker and
one api process (the local stage's settings: force cooldown 60 s, the
pending marker's lifetime), every request over loopback. A few hundred
forced requests for a handful of countries are sent at once from a pool of
client threads; then the queue drains. It reports the answers (202 queued,
202 coalesced, 429, 5xx), the latency percentiles, and the upstream calls as
the upstream counted them (`GET /faults`), beside the month's budget
counter, which the worker spends before every call.

bench/run.py calls `measure`, passing its own process helpers.
"""

import http.client
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

CODES = ["DE", "FR", "IT", "ES", "PT"]
CALL_OUTCOMES = {"stored", "not_found", "malformed", "upstream_error", "configuration_error", "storage_error"}


@dataclass
class Burst:
    """One burst: how many requests, for which countries, the budget, the client threads."""
    requests: int
    codes: list
    budget: int        # UPSTREAM_MONTHLY_BUDGET of both functions
    clients: int = 32


def _post(port, path, results):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        t0 = time.perf_counter()
        conn.request("POST", path)
        res = conn.getresponse()
        body = res.read()
        results.append((res.status, (time.perf_counter() - t0) * 1000, b'"coalesced":true' in body))
    except OSError as e:
        results.append((0, 0.0, False))
        print(f"bench: burst request failed: {e}")
    finally:
        conn.close()


def _pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _rows(emu, table):
    """Status rows (items of the guards and markers skipped: their keys hold a `#`)."""
    rows, kw = [], {}
    while True:
        page = emu.dynamodb.scan(TableName=table, **kw)
        rows += [r for r in page["Items"] if "#" not in r["fetched_country"]["S"]]
        if "LastEvaluatedKey" not in page:
            return rows
        kw = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _depth(emu, url):
    a = emu.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def one_burst(ctx, emu, name, burst):
    """Runs one burst on a fresh stage; returns its figures."""
    port = ctx.free_port()
    up = ctx.spawn([str(ctx.release / "offline-upstream"), "--port", str(port)], stdout=ctx.devnull)
    ctx.wait_http(port, "/health")
    env = {**emu.stage(name), "UPSTREAM_PROVIDER": "v3", "UPSTREAM_BASE_URL": f"http://127.0.0.1:{port}",
           "UPSTREAM_MONTHLY_BUDGET": str(burst.budget), "FORCE_COOLDOWN_SECONDS": "60"}
    worker = ctx.spawn([str(ctx.release / "worker")], env={**ctx.environ, **env}, stdout=ctx.devnull)
    api_port = ctx.free_port()
    api = ctx.spawn([str(ctx.release / "api"), "--port", str(api_port)], env={**ctx.environ, **env},
                    stdout=ctx.devnull)
    ctx.wait_http(api_port)

    paths = [f"/fetch-data/{burst.codes[i % len(burst.codes)].lower()}?force=true" for i in range(burst.requests)]
    results = []
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=burst.clients) as pool:
        for path in paths:
            pool.submit(_post, api_port, path, results)
    burst_s = time.perf_counter() - t0

    deadline = time.perf_counter() + 120
    while _depth(emu, env["QUEUE_URL"]) > 0:
        if time.perf_counter() > deadline:
            raise SystemExit("bench: the burst's queue did not drain within 120 s")
        time.sleep(0.2)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/faults")
    upstream_calls = json.loads(conn.getresponse().read())["requests"]
    conn.close()
    for p in (api, worker, up):
        ctx.stop(p)

    month = datetime.now(timezone.utc).strftime("%Y-%m")
    counter = emu.dynamodb.get_item(TableName=env["STATUS_TABLE"], ConsistentRead=True,
                                    Key={"fetched_country": {"S": f"budget#{month}"}, "attempt_id": {"S": "budget"}})
    budget_used = int(counter.get("Item", {}).get("used", {}).get("N", "0"))
    rows = _rows(emu, env["STATUS_TABLE"])
    outcomes = {}
    for r in rows:
        outcomes[r["outcome"]["S"]] = outcomes.get(r["outcome"]["S"], 0) + 1
    latencies = [ms for status, ms, _ in results if status]
    return {
        "requests": len(results), "countries": len(burst.codes), "budget": burst.budget,
        "clients": burst.clients, "burst_s": burst_s,
        "accepted_queued": sum(1 for s, _, c in results if s == 202 and not c),
        "accepted_coalesced": sum(1 for s, _, c in results if s == 202 and c),
        "too_many": sum(1 for s, _, _ in results if s == 429),
        "server_errors": sum(1 for s, _, _ in results if s >= 500 or s == 0),
        "other": sum(1 for s, _, _ in results if s not in (0, 202, 429) and s < 500),
        "upstream_calls": upstream_calls,
        "budget_used": budget_used,
        "upstream_call_rows": sum(n for o, n in outcomes.items() if o in CALL_OUTCOMES),
        "outcomes": outcomes,
        "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99),
        "mean_ms": statistics.mean(latencies) if latencies else None,
    }


def measure(ctx, emu, quick):
    """Two bursts: a budget with room (every country once), and a budget
    smaller than the countries (the rest refused with 429)."""
    requests = 100 if quick else 400
    return [
        one_burst(ctx, emu, "bench-burst-room", Burst(requests, CODES, budget=1000)),
        one_burst(ctx, emu, "bench-burst-tight", Burst(requests, CODES, budget=3)),
    ]


def main():
    """Runs only the bursts: `.countries/venv/bin/python bench/burst.py [--quick]`
    (after `cargo build --release -p countries --bins`)."""
    import argparse
    import os
    import subprocess
    from types import SimpleNamespace

    import run  # bench/run.py: the emulator and process helpers

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100 requests a burst instead of 400")
    args = ap.parse_args()
    try:
        emu = run.Emulator()
        ctx = SimpleNamespace(free_port=run.free_port, spawn=run.spawn, stop=run.stop, wait_http=run.wait_http,
                              release=run.RELEASE, environ=os.environ, devnull=subprocess.DEVNULL)
        print(json.dumps(measure(ctx, emu, args.quick), indent=2))
    finally:
        run.stop_all()


if __name__ == "__main__":
    main()
