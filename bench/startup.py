"""Startup and loop benchmarks (bench/run.py calls these): cold starts beside
a trivial floor built with the same profile in the same run, fresh clone →
the `api:` line of `cargo run --release -p deployer -- up local`, `up local
--watch` change → serving, and CI's time on a clean clone.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

# What a clean clone must not inherit from this shell: its own target and build folders.
CARGO_DIRS = ("CARGO_TARGET_DIR", "CARGO_BUILD_BUILD_DIR", "CARGO_BUILD_TARGET_DIR")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_200(port, path="/health", timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            return s.recv(32).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def spawn_to_200(cmd, env):
    """Milliseconds from spawn to the first 200 on /health; `cmd` gets the port appended."""
    port = _free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([*cmd, str(port)], env=env, stdout=subprocess.DEVNULL)
    try:
        while not _get_200(port):
            if p.poll() is not None:
                raise SystemExit(f"bench: {cmd[0]} exited during a cold-start run")
        return (time.perf_counter() - t0) * 1000
    finally:
        _stop(p)


def spawn_to_first_request(command):
    """Milliseconds from spawn to the first byte of the first request on a local
    endpoint; `command(port)` gives the argv and environment of a process that sends there."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(30)
        cmd, env = command(listener.getsockname()[1])
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(30)
                conn.recv(1)
                return (time.perf_counter() - t0) * 1000
        except OSError as e:
            raise SystemExit(f"bench: {cmd[0]} sent no request within 30 s ({e})")
        finally:
            _stop(p)


def interleaved(runs, *measures):
    """Runs each measure `runs` times, alternating, so a busy machine weighs on all alike."""
    out = [[] for _ in measures]
    for _ in range(runs):
        for i, m in enumerate(measures):
            out[i].append(m())
    return out


def fresh_clone(root, log_path):
    """A clean clone with its own target folder: seconds from `cargo run --release -p deployer --
    up local` to its `api:` line, and the crates the packager's build compiled a second time.
    The functions' own package is built in both (its library with the deployer, its binaries
    by `up local`): it counts only if its library was compiled again."""
    tmp = Path(tempfile.mkdtemp(prefix="countries-fresh-clone-"))
    env = {k: v for k, v in os.environ.items() if k not in CARGO_DIRS}
    try:
        subprocess.run(["git", "clone", "--quiet", str(root), str(tmp)], check=True)
        ports = [str(_free_port()) for _ in range(3)]
        t0 = time.perf_counter()
        p = subprocess.Popen(["cargo", "run", "--release", "-p", "deployer", "--", "up", "local",
                              "--api-port", ports[0], "--emulator-port", ports[1], "--upstream-port", ports[2]],
                             cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        first, second, phase = Counter(), Counter(), 1
        seconds = None
        with open(log_path, "w") as log:
            for line in p.stdout:
                log.write(line)
                if line.startswith("building: cargo"):
                    phase = 2
                    libraries = _libraries(tmp)
                m = re.match(r"\s*Compiling (\S+) v(\S+)", line)
                if m:
                    (first if phase == 1 else second)[m.groups()] += 1
                if line.startswith("api: "):
                    seconds = time.perf_counter() - t0
                    break
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
        p.stdout.close()
        if seconds is None:
            raise SystemExit(f"bench: the fresh clone never printed `api:` (log: {log_path})")
        again = sorted(f"{n} {v}" for (n, v) in second if (n, v) in first and n != "countries")
        if phase == 2 and _libraries(tmp) != libraries:
            again.append("countries (library)")
        return {"seconds": seconds, "compiled": sum(first.values()) + sum(second.values()),
                "compiled_again": again}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _libraries(clone):
    """The functions' compiled library in a clone's build folder, with when each was written."""
    return {p.name: p.stat().st_mtime_ns for p in (clone / "target" / "release" / "deps").glob("libcountries-*.rlib")}


def copy_for_watch(root, dest):
    """What `up local --watch` builds and deploys from, with the emulator's venv linked."""
    for sub in ["app", "deployer", "testkit", "workspace-hack", "bench", "stages", "templates", "generated", "tools"]:
        shutil.copytree(root / sub, dest / sub, ignore=shutil.ignore_patterns("__pycache__"))
    for f in ["Cargo.toml", "Cargo.lock"]:
        shutil.copy(root / f, dest / f)
    # Another version for the copy's app, so its compiled units stay apart from the
    # repository's in the shared build folder (the bench edits the copy).
    manifest = dest / "app" / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('version = "0.1.0"', 'version = "0.1.0-watch-bench"', 1))
    (dest / ".countries").mkdir()
    (dest / ".countries" / "venv").symlink_to(root / ".countries" / "venv")


def watch_change(root, deployer, target_dir, log_path):
    """`up local --watch` in a copy: seconds from saving a one-line change to the api
    until it serves it (measured here), and what the deployer printed."""
    tmp = Path(tempfile.mkdtemp(prefix="countries-watch-"))
    env = {k: v for k, v in os.environ.items() if k not in CARGO_DIRS}
    # Its own target folder; the dependencies come from this repository's build folder.
    env["CARGO_TARGET_DIR"] = str(tmp / "target")
    env["CARGO_BUILD_BUILD_DIR"] = os.environ.get("CARGO_BUILD_BUILD_DIR") or str(target_dir)
    try:
        copy_for_watch(root, tmp)
        ports = [_free_port() for _ in range(3)]
        p = subprocess.Popen([str(deployer), "up", "local", "--watch", "--api-port", str(ports[0]),
                              "--emulator-port", str(ports[1]), "--upstream-port", str(ports[2])],
                             cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        printed = None
        with open(log_path, "w") as log:
            for line in p.stdout:
                log.write(line)
                if line.startswith("watching app/"):
                    break
            else:
                raise SystemExit(f"bench: up local --watch exited before watching (log: {log_path})")
            handlers = tmp / "app" / "src" / "api" / "handlers.rs"
            text = handlers.read_text()
            old, new = 'welcome: "countries api demo"', 'welcome: "countries api demo (watched)"'
            if old not in text:
                raise SystemExit(f"bench: {handlers} no longer holds {old}")
            t0 = time.perf_counter()
            handlers.write_text(text.replace(old, new, 1))
            for line in p.stdout:
                log.write(line)
                m = re.search(r"change → serving in ([\d.]+)s", line)
                if m:
                    printed = float(m.group(1))
                    break
            served = None
            while served is None and time.perf_counter() - t0 < 600:
                try:
                    with socket.create_connection(("127.0.0.1", ports[0]), timeout=1) as s:
                        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        body = b""
                        while chunk := s.recv(4096):
                            body += chunk
                        if b"(watched)" in body:
                            served = time.perf_counter() - t0
                except OSError:
                    pass
                time.sleep(0.05)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
        p.stdout.close()
        if served is None:
            raise SystemExit(f"bench: the watched change was never served (log: {log_path})")
        return {"seconds": served, "printed": printed}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ci(root, log_path):
    """`bash .ci/run` in a clean clone (its own target folder, no virtualenvs): the total and each step."""
    tmp = Path(tempfile.mkdtemp(prefix="countries-ci-"))
    env = {k: v for k, v in os.environ.items() if k not in CARGO_DIRS}
    env["CI"] = "true"
    try:
        subprocess.run(["git", "clone", "--quiet", str(root), str(tmp)], check=True)
        t0 = time.perf_counter()
        with open(log_path, "w") as log:
            code = subprocess.run(["bash", ".ci/run"], cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT).returncode
        seconds = time.perf_counter() - t0
        text = Path(log_path).read_text()
        steps = [(m.group(1), m.group(2), int(m.group(3)))
                 for m in re.finditer(r"^==> (.+): (ok|FAILED) \((\d+)s\)$", text, re.M)]
        return {"seconds": seconds, "exit": code, "steps": steps, "when": time.strftime("%Y-%m-%d %H:%M")}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
