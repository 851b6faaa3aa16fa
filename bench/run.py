#!/usr/bin/env python3
"""Benchmarks: the numbers a user would pick this stack for.

Starts everything on 127.0.0.1 (moto, the offline upstream, the binaries
`deployer up local` runs: the fast `release` profile), measures, and prints a
table of medians with min-max, plus a JSON file of the same. Never fails on a
number: targets are printed beside the figures. `--quick` runs every
measurement briefly and skips the fresh clone, `--watch` and the cloud zips
(CI runs it so the bench cannot rot). `--ci` also runs `bash .ci/run` on a
clean clone (about 12 minutes) and keeps its time for later runs' tables.

Run: bash bench/run [--quick] [--ci]   (see README "Benchmarks")
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from types import SimpleNamespace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# cargo's target folder, as the deployer finds it: CARGO_TARGET_DIR (relative to the root) or target/.
TARGET = ROOT / os.environ.get("CARGO_TARGET_DIR", "target")
RELEASE = TARGET / "release"
DEPLOYER = RELEASE / "deployer"
# The packager's build for the local stage (deployer/src/package/build.rs) plus the floor:
# the same features and profile, so nothing compiles twice.
LOCAL_BUILD = ["cargo", "build", "--release", "--quiet", "-p", "countries", "-p", "workspace-hack", "-p", "bench-floor",
               "--bin", "api", "--bin", "worker", "--bin", "offline-upstream", "--bin", "floor"]
VENV = ROOT / ".countries" / "venv"
REGION = "us-east-1"
ACCOUNT = "123456789012"

import boto3  # from .countries/venv (moto brings it)
import burst  # bench/burst.py
import goodput  # bench/goodput.py
import startup  # bench/startup.py

PROCS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd, env=None, **kw):
    p = subprocess.Popen(cmd, env=env, start_new_session=True, **kw)
    PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stop_all():
    for p in reversed(PROCS):
        stop(p)


def http_status(port, path="/health", timeout=0.5):
    """One HTTP/1.1 GET over a raw socket; the status code, or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(32)
            m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
            return int(m.group(1)) if m else None
    except OSError:
        return None


def wait_http(port, path="/health", deadline=30.0):
    end = time.perf_counter() + deadline
    while time.perf_counter() < end:
        if http_status(port, path) == 200:
            return
        time.sleep(0.05)
    raise SystemExit(f"bench: nothing answered 200 on 127.0.0.1:{port}{path} within {deadline}s")


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


# ---------------------------------------------------------------- set-up

def ensure_tools():
    if not shutil.which("wrk"):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print("bench: installing wrk (apt)", flush=True)
            subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
        else:
            raise SystemExit("bench: wrk is not installed: apt-get install wrk (or your system's package)")
    print("bench: building the release binaries (the local profile) and the floor", flush=True)
    subprocess.run(LOCAL_BUILD, cwd=ROOT, check=True)
    # The release deployer: after the test command's release build (same features,
    # workspace-hack) this compiles nothing.
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "deployer"], cwd=ROOT, check=True)


class Emulator:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(TARGET / "bench-moto.log", "w")
        # moto through tools/moto_server.py: DynamoDB's per-item atomicity (the breaker counts on it).
        self.proc = spawn([str(VENV / "bin" / "python"), str(ROOT / "tools" / "moto_server.py"),
                           "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=log)
        end = time.time() + 30
        while http_status(self.port, "/moto-api/") != 200:
            if time.time() > end:
                raise SystemExit("bench: moto did not start")
            time.sleep(0.1)
        kw = dict(endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        self.dynamodb = boto3.client("dynamodb", **kw)
        self.sqs = boto3.client("sqs", **kw)
        import moto
        self.version = moto.__version__

    def stage(self, name):
        """Tables and queues as docs/contract.md defines them."""
        d = self.dynamodb
        for table, keys in [(f"countries-{name}", [("cca2", "HASH")]),
                            (f"status-{name}", [("fetched_country", "HASH"), ("attempt_id", "RANGE")]),
                            (f"circuit-breaker-state-{name}", [("service_name", "HASH")])]:
            d.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                           AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
                           KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys])
        dlq = self.sqs.create_queue(QueueName=f"countries-fetch-dlq-{name}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = self.sqs.create_queue(QueueName=f"countries-fetch-{name}", Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 4})})["QueueUrl"]
        return {
            "STAGE": "bench", "LOG_LEVEL": "warn",
            "COUNTRIES_TABLE": f"countries-{name}", "STATUS_TABLE": f"status-{name}",
            "BREAKER_TABLE": f"circuit-breaker-state-{name}", "QUEUE_URL": queue, "DLQ_URL": dlq,
            "AWS_ENDPOINT_URL": self.url, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
        }

    def count(self, table):
        return self.dynamodb.scan(TableName=table, Select="COUNT")["Count"]


def upstream(delay_ms=0):
    port = free_port()
    p = spawn([str(RELEASE / "offline-upstream"), "--port", str(port), "--delay-ms", str(delay_ms)],
              stdout=subprocess.DEVNULL)
    wait_http(port, "/health")
    return p, f"http://127.0.0.1:{port}"


def api(env, **extra):
    port = free_port()
    p = spawn([str(RELEASE / "api"), "--port", str(port)], env={**os.environ, **env, **extra},
              stdout=subprocess.DEVNULL)
    wait_http(port)
    return p, port


# ---------------------------------------------------------------- measurements

def harness_overhead(port, runs):
    """What the harness itself costs: a spawn of /bin/true plus one raw-socket GET on a warm server."""
    spawn_ms, get_ms = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.Popen(["/bin/true"]).wait()
        spawn_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        http_status(port)
        get_ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(spawn_ms) + statistics.median(get_ms)


def wrk(url, seconds, script=None, connections=16):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)] if m else None

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"rps": rps, "p50_ms": latency(50), "p99_ms": latency(99), "errors": errors}


def lua(body):
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(body)
    f.close()
    return f.name


def peak_rss_mb(p):
    for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def worker_throughput(emu, name, upstream_url, codes):
    """Queue every code, start a worker, time until all are stored."""
    env = {**emu.stage(name), "UPSTREAM_PROVIDER": "v3", "UPSTREAM_BASE_URL": upstream_url}
    for i in range(0, len(codes), 10):
        emu.sqs.send_message_batch(QueueUrl=env["QUEUE_URL"], Entries=[
            {"Id": str(j), "MessageBody": json.dumps({"code": c, "request_id": f"bench-{c}", "requested_at": ""})}
            for j, c in enumerate(codes[i:i + 10])])
    t0 = time.perf_counter()
    p = spawn([str(RELEASE / "worker")], env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    while emu.count(env["COUNTRIES_TABLE"]) < len(codes):
        if time.perf_counter() - t0 > 300:
            raise SystemExit("bench: the worker did not store every country within 300 s")
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    rss = peak_rss_mb(p)
    stop(p)
    return seconds, rss


def timed(cmd, runs, **kw):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, **kw)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def up_local_once(ports):
    """Runs `deployer up local` until it prints "ready in"; returns seconds, then stops it."""
    api_port, emulator_port, upstream_port = ports
    t0 = time.perf_counter()
    p = subprocess.Popen([str(DEPLOYER), "up", "local", "--api-port", str(api_port),
                          "--emulator-port", str(emulator_port), "--upstream-port", str(upstream_port)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        for line in p.stdout:
            if line.startswith("ready in"):
                return time.perf_counter() - t0
        raise SystemExit(f"bench: deployer up local exited ({p.wait()}) before it was ready")
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
        p.stdout.close()


def up_local_times(runs):
    """Cold: nothing running (the deployer starts the emulator). Warm: an
    emulator of ours keeps the deployed stack between runs, so the deploy is a no-op."""
    cold = [up_local_once((free_port(), free_port(), free_port())) for _ in range(runs)]
    emulator_port = free_port()
    # The same emulator `up local` starts: tools/moto_server.py (Lambda aliases, atomic items).
    moto = spawn([str(VENV / "bin" / "python"), str(ROOT / "tools" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(emulator_port)],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while http_status(emulator_port, "/moto-api/") != 200:
        time.sleep(0.1)
    up_local_once((free_port(), emulator_port, free_port()))  # deploys the stack
    warm = [up_local_once((free_port(), emulator_port, free_port())) for _ in range(runs)]
    stop(moto)
    return cold, warm


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs (CI): figures are rough")
    ap.add_argument("--ci", action="store_true", help="also time bash .ci/run on a clean clone (about 12 minutes)")
    ap.add_argument("--out", default=str(TARGET / "bench" / "results.json"))
    args = ap.parse_args()
    quick = args.quick
    runs = 5 if quick else 20
    seconds = 1 if quick else 10

    ensure_tools()
    (TARGET / "bench").mkdir(parents=True, exist_ok=True)
    rows, results = [], {}

    def row(key, label, values, unit, target=""):
        s = summary(values) if isinstance(values, list) else {"median": values, "min": values, "max": values, "n": 1}
        results[key] = {**s, "unit": unit, "target": target}
        fmt = (lambda v: f"{v:,.1f}") if s["median"] < 1000 else (lambda v: f"{v:,.0f}")
        spread = f"{fmt(s['min'])}–{fmt(s['max'])}" if s["n"] > 1 else ""
        rows.append((label, f"{fmt(s['median'])} {unit}", spread, target))

    emu = Emulator()
    up_proc, up_url = upstream()
    env = {**emu.stage("bench"), "UPSTREAM_PROVIDER": "v3", "UPSTREAM_BASE_URL": up_url}

    # 1. Cold start, beside a trivial floor (bench/floor) built with the same profile, runs interleaved.
    api_cached, api_port = api(env)
    overhead = harness_overhead(api_port, runs)
    results["harness_overhead_ms"] = overhead
    full_env = {**os.environ, **env}
    floor = str(RELEASE / "floor")
    api_ms, floor_ms = startup.interleaved(
        runs * 2,
        lambda: startup.spawn_to_200([str(RELEASE / "api"), "--port"], full_env),
        lambda: startup.spawn_to_200([floor, "serve"], os.environ))
    net = lambda values: [max(0.0, v - overhead) for v in values]
    row("cold_start_api_ms", "api cold start (spawn → first 200 on /health, net of harness)", net(api_ms), "ms", "≤ 3 ms (Chalice: 300 ms)")
    row("cold_start_floor_ms", "trivial axum binary, same profile (spawn → first 200)", net(floor_ms), "ms", "the floor")
    row("cold_start_api_ratio", "api ÷ trivial axum binary (raw medians)", statistics.median(api_ms) / statistics.median(floor_ms), "×", "≤ 1.7 ×")
    worker_env = lambda port: ([str(RELEASE / "worker")], {
        **full_env, "LOG_LEVEL": "warn", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "QUEUE_URL": f"http://127.0.0.1:{port}/{ACCOUNT}/countries-fetch-bench"})
    worker_ms, send_ms = startup.interleaved(
        runs * 2,
        lambda: startup.spawn_to_first_request(worker_env),
        lambda: startup.spawn_to_first_request(lambda port: ([floor, "send", str(port)], os.environ)))
    row("cold_start_worker_ms", "worker cold start (spawn → first ReceiveMessage on the wire)", worker_ms, "ms", "")
    row("cold_start_send_floor_ms", "trivial tokio binary, same profile (spawn → first request)", send_ms, "ms", "the floor")
    row("cold_start_worker_ratio", "worker ÷ trivial binary (medians)", statistics.median(worker_ms) / statistics.median(send_ms), "×", "reported (the api's is the target)")

    # 2. API throughput and latency. Seed one country through the real path.
    subprocess.run(["curl", "-s", "-o", "/dev/null", "-X", "POST", f"http://127.0.0.1:{api_port}/fetch-data/PY"], check=True)
    w = spawn([str(RELEASE / "worker")], env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    while emu.count(env["COUNTRIES_TABLE"]) < 1:
        time.sleep(0.05)
    stop(w)
    api_nocache, nocache_port = api(env, VIEW_CACHE_TTL_SECONDS="0")
    getitem = lua(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/x-amz-json-1.0"\n'
        'wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"\n'
        f'wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"\n'
        f'wrk.body = \'{{"TableName": "{env["COUNTRIES_TABLE"]}", "Key": {{"cca2": {{"S": "PY"}}}}}}\'\n')
    post = lua('wrk.method = "POST"\n')
    scenarios = [
        ("view_data_cached", "view-data, warm cache", f"http://127.0.0.1:{api_port}/view-data/PY", None, "≥ 30,000 req/s, p99 ≤ 5 ms (Chalice: 95 req/s)"),
        ("view_data_uncached", "view-data, cache off", f"http://127.0.0.1:{nocache_port}/view-data/PY", None, "within 20 % of moto GetItem"),
        ("moto_getitem", "moto GetItem (same item, same load)", emu.url + "/", getitem, "reference"),
        ("status", "status", f"http://127.0.0.1:{api_port}/status/PY", None, "(Chalice: 209 req/s)"),
        # One country: the first request queues (SQS SendMessage), the rest join it (two DynamoDB calls each).
        ("fetch_data", "fetch-data, one country (coalesced after the first)", f"http://127.0.0.1:{api_port}/fetch-data/PY", post, "(Chalice: 93 req/s)"),
    ]
    for key, label, url, script, target in scenarios:
        # The emulator is single-threaded Python: fewer connections keep its queueing out of the figures.
        conns = 16 if key == "view_data_cached" else 4
        r = wrk(url, seconds, script, conns)
        results[key] = {**r, "target": target, "connections": conns, "seconds": seconds}
        rows.append((f"{label}: throughput", f"{r['rps']:,.0f} req/s", f"errors {r['errors']}", target))
        rows.append((f"{label}: latency p50 / p99", f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} ms", "", ""))
    ratio = results["view_data_uncached"]["rps"] / max(results["moto_getitem"]["rps"], 1)
    results["uncached_vs_getitem"] = ratio
    rows.append(("view-data cache off ÷ moto GetItem", f"{ratio * 100:.0f} %", "", "≥ 80 %"))
    rss_api = peak_rss_mb(api_cached)

    # 3. Worker throughput: all 250 countries, then with a 50 ms upstream.
    codes = [c["cca2"] for c in json.loads((ROOT / "app" / "fixtures" / "restcountries-v3.1.json").read_text())]
    if quick:
        codes = codes[:50]
    secs, rss_worker = worker_throughput(emu, "bench-w1", up_url, codes)
    row("worker_seconds", f"worker: {len(codes)} countries queued → stored", secs, "s", "")
    row("worker_countries_per_s", "worker throughput", len(codes) / secs, "countries/s", "")
    slow_proc, slow_url = upstream(delay_ms=50)
    secs_slow, _ = worker_throughput(emu, "bench-w2", slow_url, codes)
    row("worker_slow_seconds", f"worker, upstream +50 ms: {len(codes)} countries", secs_slow, "s", "")
    row("worker_delay_cost_s", "time the 50 ms upstream added (concurrency within batches)", max(0.0, secs_slow - secs), "s", f"one at a time: +{len(codes) * 0.05:.1f} s")

    # 4. Goodput with a failing upstream (bench/goodput.py).
    ctx = SimpleNamespace(free_port=free_port, spawn=spawn, stop=stop, wait_http=wait_http, release=RELEASE,
                          environ=os.environ, devnull=subprocess.DEVNULL)
    if quick:
        setup, rates, sample = goodput.Setup(window_s=2, visibility_s=2, timeout_ms=300), [30], codes[:20]
    else:
        setup, rates, sample = goodput.Setup(window_s=10, visibility_s=18, timeout_ms=1000), [10, 30, 60, 100], codes
    results["goodput"] = {"setup": vars(setup), "runs": goodput.measure(ctx, emu, setup, rates, sample)}
    for g in results["goodput"]["runs"]:
        faults = f"{g['fail_percent']} % 500s" + (f" + {g['stall_percent']:.0f} % stalls" if g["stall_percent"] else "")
        rows.append((f"goodput, upstream {faults}: stored without redrive", f"{g['stored_share'] * 100:.1f} %",
                     f"of {g['requests']}; DLQ {g['dead_lettered']}, lost {g['lost']}",
                     "≥ 95 % at 30 %; lost 0" if g["fail_percent"] == 30 else "lost 0"))
        rows.append((f"goodput, upstream {faults}: upstream calls / refused by the breaker / drain",
                     f"{g['upstream_calls']} / {g['circuit_open_attempts']} / {g['drain_s']:.0f} s", "",
                     f"calls ≤ {g['bound_calls']} + in flight" if g["fail_percent"] >= 100 else ""))

    # 4b. A burst of forced fetch-data (bench/burst.py): what the guards let through.
    results["burst"] = burst.measure(ctx, emu, quick)
    for b in results["burst"]:
        what = f"burst: {b['requests']} forced fetch-data, {b['countries']} countries, budget {b['budget']}"
        rows.append((f"{what}: 202 queued + coalesced / 429 / 5xx",
                     f"{b['accepted_queued']} + {b['accepted_coalesced']} / {b['too_many']} / {b['server_errors']}", "",
                     "5xx 0"))
        rows.append((f"{what}: upstream calls, latency p50 / p99",
                     f"{b['upstream_calls']}, {b['p50_ms']:.1f} / {b['p99_ms']:.1f} ms", f"in {b['burst_s']:.1f} s",
                     f"calls ≤ {min(b['countries'], b['budget'])}"))

    # 5. Footprint: the zips cloud stages get (`deployer package`, the cloud profile; not in --quick:
    # a second, LTO build of the functions).
    if not quick:
        out = subprocess.run([str(DEPLOYER), "package", "--json"], cwd=ROOT, check=True, capture_output=True, text=True)
        manifest = json.loads(out.stdout)
        for name in ["api", "worker"]:
            row(f"{name}_binary_mb", f"{name} bootstrap size (cloud profile)", (TARGET / "cloud" / name).stat().st_size / 1e6, "MB", "")
            row(f"{name}_zip_mb", f"{name} zip size (cloud profile)", manifest["functions"][name]["size"] / 1e6, "MB", "≤ 3 MB (Chalice: 12.6 MiB)")
    row("api_peak_rss_mb", "api peak RSS under load", rss_api, "MB", "≤ 30 MB")
    row("worker_peak_rss_mb", f"worker peak RSS, {len(codes)} countries", rss_worker, "MB", "≤ 30 MB")

    # 6. Deployer.
    row("render_all_ms", f"deployer render --all", timed([str(DEPLOYER), "render", "--all", "--out", tempfile.mkdtemp()], runs), "ms", "")
    stop_all()
    cold, warm = up_local_times(1 if quick else 3)
    row("up_local_cold_s", f"deployer up local → ready, cold (venv there, no emulator)", cold, "s", "")
    row("up_local_warm_s", f"deployer up local → ready, warm (emulator and stack there: no-op deploy)", warm, "s", "")

    # 7. The loop: `up local --watch` change → serving, and a fresh clone → `api:` (full runs only).
    if not quick:
        w = startup.watch_change(ROOT, DEPLOYER, TARGET, TARGET / "bench" / "watch.log")
        row("watch_change_s", "up local --watch: one-line api change → served (deployer says {:.1} s)".format(w["printed"] or 0), w["seconds"], "s", "≤ 30 s")
        print("bench: fresh clone → `api:` (a clean clone, its own target folder: several minutes)", flush=True)
        f = startup.fresh_clone(ROOT, TARGET / "bench" / "fresh-clone.log")
        results["fresh_clone_compiled_again"] = f["compiled_again"]
        row("fresh_clone_s", "fresh clone → `api:` of cargo run --release -p deployer -- up local", f["seconds"], "s", "≤ 180 s")
        rows.append(("fresh clone: crates the functions' build compiled again", f"{len(f['compiled_again'])}", f"of {f['compiled']} compiled", "0"))
    ci_file = TARGET / "bench" / "ci.json"
    if args.ci:
        print("bench: bash .ci/run on a clean clone (about 12 minutes)", flush=True)
        c = startup.ci(ROOT, TARGET / "bench" / "ci.log")
        ci_file.write_text(json.dumps(c, indent=2) + "\n")
    if ci_file.exists():
        c = json.loads(ci_file.read_text())
        results["ci"] = c
        slowest = ", ".join(f"{n.split(' (')[0]} {s} s" for n, _, s in sorted(c["steps"], key=lambda x: -x[2])[:3])
        rows.append(("CI: bash .ci/run on a clean clone" + ("" if args.ci else f" (bench/run --ci, {c['when']})"),
                     f"{c['seconds']:,.0f} s", f"exit {c['exit']}; slowest: {slowest}", "≤ 720 s (12 min)"))

    stop_all()
    machine = {"cores": os.cpu_count(), "machine": platform.machine(), "moto": emu.version, "quick": quick,
               "load_average": os.getloadavg()}
    results["machine"] = machine
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    load = " / ".join(f"{x:.2f}" for x in machine["load_average"])
    print(f"\nBenchmarks ({machine['cores']} cores, {machine['machine']}, moto {machine['moto']}, load average at the end {load}{', quick mode' if quick else ''})\n")
    print("| measure | median | min–max | target |\n|---|---|---|---|")
    for label, median, spread, target in rows:
        print(f"| {label} | {median} | {spread} | {target} |")
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
