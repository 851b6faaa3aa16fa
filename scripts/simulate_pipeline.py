"""The delivery pipeline, run end to end on this machine.

Runs buildspec.yml itself -- its phases' commands, read from the file, in one
bash per action the way CodeBuild runs them -- for each action of the
pipelines in infrastructure/pipeline.tf, in order:

    Build -> dev/Deploy -> staging/Promote -> prod/Approve -> prod/Promote
    (and a pull request's Plan, and a Build of a commit with a stale generated/)

on a temporary copy of this checkout (the working tree, committed to a fresh
repository) with the bootstrap of docs/delivery.md applied: the stage files
point at the foundation's outputs, in the emulator's account. Each action gets
what CodeBuild and CodePipeline give it: its source as a fresh folder without
.git (CODEBUILD_SRC_DIR), the Build's output as a second input folder
(CODEBUILD_SRC_DIR_package), CODEBUILD_RESOLVED_SOURCE_VERSION, the project's
and the action's variables (PIPELINE_STEP, DEPLOY_STAGE, PROMOTE_FROM,
GIT_COMMIT, PIPELINE_EXECUTION_ID, DEPLOYER_OUTPUTS_S3_URI, PIPELINE_NAME),
with CodeBuild's precedence (buildspec < project < action); the files under
the buildspec's artifacts base-directory become the action's output artifact.

What stands in for AWS (scripts/simulate_pipeline_aws.py): moto for S3,
STS, CloudFormation, DynamoDB, SQS, SNS and Lambda's control plane, with the
foundation Terraform would make; recorded answers for what moto lacks
(CodePipeline's state and approvals, Lambda's GetAccountSettings), kept in
step with the run; and, for the smoke tests (SMOKE_BASE_URL), the api
bootstrap of the zip each stage's stack names, run here behind a proxy.

Switches of this run only (the real pipeline sets none of them):
- BUILDSPEC_OFFLINE=1: the install phase downloads nothing (no rustup, Rust
  toolchain, cargo-zigbuild or Terraform); the tools on PATH are used.
- TEST_SKIP: scripts/test.sh's checks other than the build and the
  generated/ check are skipped: the test command that runs this simulation
  (deployer/tests/pipeline.rs under `cargo test`) runs them itself.
- This machine's cargo: CARGO_HOME, RUSTUP_HOME, CARGO_INCREMENTAL and the
  target folder (CARGO_TARGET_DIR) are this machine's, and cargo-zigbuild is
  kept off PATH, so the copy builds nothing the checkout has built (it first
  brings the checkout's own release-profile and cloud-profile builds up to
  date; the files keep their timestamps), and the stages build for this
  machine's architecture (the bootstrap here sets it).

The Build's zips are the cloud profile's, as a real pipeline's are: this run
is where the test command checks that each stays within Lambda's 3 MB budget.

Run: .countries/venv/bin/python scripts/simulate_pipeline.py [--report FILE] [--keep]
It prints each action's log and ends with one JSON report (also --report).
Exit 0 when every expectation held; 1 with the reason otherwise.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml  # from .countries/venv (moto brings it)

from simulate_pipeline_aws import (
    ACCOUNT, BUCKET, OUTPUTS_KEY, PIPELINE, REGION, ROOT, STAGES, ApiStandIn, Failed, Moto, Recorded,
    foundation_outputs, make_foundation,
)

PROMOTE_FROM = {"dev": None, "staging": "dev", "prod": "staging"}
# The project's budget for each function zip (bytes): 3 MB.
ZIP_BUDGET = 3_000_000
# scripts/test.sh's checks the simulated Build runs: the rest the test command
# that runs this simulation runs itself.
KEEP_CHECKS = ["build (release profile)", "generated/ is up to date"]
# Tools a step lists that this offline run does not need: dnf installs jq or
# curl only when missing; sh and unzip only run downloads; without
# cargo-zigbuild the package builds with cargo for this machine; Terraform's
# checks are skipped (TEST_SKIP).
NOT_NEEDED_OFFLINE = {"dnf", "sh", "unzip", "cargo-zigbuild", "terraform", "rustup"}


def say(text):
    print(f"simulate: {text}", file=sys.stderr, flush=True)


def run(cmd, cwd=ROOT, env=None, check=True):
    out = subprocess.run(cmd, cwd=cwd, env=env, text=True, capture_output=True)
    if check and out.returncode != 0:
        raise Failed(f"{' '.join(map(str, cmd))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------- this machine


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()


def host_path():
    """PATH without cargo-zigbuild: the package then builds with cargo, as the tests' release builds do."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    return os.pathsep.join(d for d in dirs if not (Path(d) / "cargo-zigbuild").exists())


def host_cargo_env():
    """The variables that make cargo reuse this machine's builds (see the top)."""
    home = Path.home()
    env = {
        "CARGO_HOME": os.environ.get("CARGO_HOME") or str(home / ".cargo"),
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME") or str(home / ".rustup"),
        "CARGO_TARGET_DIR": str(target_dir()),
        "CARGO_INCREMENTAL": os.environ.get("CARGO_INCREMENTAL"),  # None: unset, as here
    }
    for var in ("CARGO_BUILD_BUILD_DIR", "RUSTFLAGS", "RUSTC_WRAPPER"):
        env[var] = os.environ.get(var)
    return env


def check_tools(tools):
    missing = []
    for step, used in tools["steps"].items():
        for tool in used:
            if tool not in NOT_NEEDED_OFFLINE and not shutil.which(tool, path=host_path()):
                missing.append(f"{tool} ({step})")
    for tool in ("git", "cargo"):
        if not shutil.which(tool):
            missing.append(f"{tool} (this script)")
    if missing:
        raise Failed("not on PATH: " + ", ".join(sorted(set(missing))) + " (tools/pipeline-tools.yaml lists what each step runs)")


def warm_builds():
    """Brings the checkout's builds up to date, so that the copy finds them fresh: the
    workspace as test.sh and the buildspec build it (release profile), then the
    functions as `deployer package` builds them for this machine (cloud profile)."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir()), PATH=host_path())
    env.pop("DEPLOYER_OUTPUTS_FILE", None)
    for cmd in (
        ["cargo", "build", "--workspace", "--all-targets", "--locked", "--release"],
        [str(target_dir() / "release" / "deployer"), "--root", str(ROOT), "package"],
    ):
        started = time.time()
        out = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True)
        if out.returncode != 0:
            raise Failed(f"{' '.join(cmd)} failed in the checkout:\n{out.stderr[-4000:]}")
        say(f"{' '.join(cmd)}: {time.time() - started:.1f}s")


# ------------------------------------------------------------ CodeBuild


def buildspec(source):
    return yaml.safe_load((source / "buildspec.yml").read_text())


def phase_script(spec, status_file, exports_file):
    """One bash script running the phases' commands in order, as CodeBuild does (one shell, exports kept)."""
    status_file, exports_file = shlex.quote(str(status_file)), shlex.quote(str(exports_file))
    lines = ["cd \"$CODEBUILD_SRC_DIR\""]
    for phase in ("install", "pre_build", "build", "post_build"):
        commands = (spec.get("phases", {}).get(phase) or {}).get("commands") or []
        lines.append(f"echo '[Container] Entering phase {phase.upper()}'")
        for i, command in enumerate(commands):
            lines.append(command.rstrip("\n"))
            lines.append(
                f"__rc=$?; if [ $__rc -ne 0 ]; then "
                f"echo \"[Container] Command {i + 1} of phase {phase.upper()} exited with status $__rc\"; "
                f"echo {phase} > {status_file}; exit $__rc; fi"
            )
        lines.append(f"echo '[Container] Phase complete: {phase.upper()} State: SUCCEEDED'")
    for name in (spec.get("env") or {}).get("exported-variables") or []:
        lines.append(f"printf '%s=%s\\n' {name} \"${{{name}}}\" >> {exports_file}")
    lines.append(f"echo succeeded > {status_file}")
    return "\n".join(lines) + "\n"


class CodeBuild:
    """Runs one action of a pipeline the way CodeBuild runs it for CodePipeline."""

    def __init__(self, work, moto, recorded):
        self.work, self.moto, self.recorded = work, moto, recorded
        self.count = 0

    def run(self, name, source, commit, project_env, action_env, inputs=None, output=None, extra_env=None):
        self.count += 1
        folder = self.work / "actions" / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9._-]+', '-', name).strip('-')}"
        src = folder / "src"
        shutil.copytree(source, src, copy_function=shutil.copy2, symlinks=True)
        spec = buildspec(src)
        env = {
            "PATH": host_path(), "HOME": str(Path.home()), "LANG": "C.UTF-8",
            "TMPDIR": str(folder), "CI": "true",
        }
        env.update({k: str(v) for k, v in (spec.get("env") or {}).get("variables", {}).items()})
        for k, v in host_cargo_env().items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        env.update(aws_env(self.moto, self.recorded))
        env.update({
            # Outside the cached folders of a CodeBuild host: this run's own.
            "BUILD_TOOLS_VENV": str(self.work / "build-tools"), "TERRAFORM_HOME": str(self.work / "terraform"),
            "BUILDSPEC_OFFLINE": "1",
            # The buildspec's default outputs file, in this action's own folder.
            "DEPLOYER_OUTPUTS_FILE": str(folder / "terraform-outputs.json"),
        })
        env.update(extra_env or {})
        env[NESTED_GUARD] = "1"
        env.update(project_env)
        env.update(action_env)
        env.update({
            "CODEBUILD_SRC_DIR": str(src),
            "CODEBUILD_RESOLVED_SOURCE_VERSION": commit,
            "CODEBUILD_SOURCE_VERSION": f"arn:aws:s3:::{BUCKET}/{PIPELINE}/source/{commit[:8]}.zip",
            "CODEBUILD_BUILD_ID": f"{project_env['CODEBUILD_PROJECT']}:sim-{self.count}",
            "CODEBUILD_BUILD_NUMBER": str(self.count),
            "CODEBUILD_INITIATOR": f"codepipeline/{PIPELINE}",
            "CODEBUILD_BUILD_SUCCEEDING": "1",
        })
        for artifact, path in (inputs or {}).items():
            copy = folder / f"in-{artifact}"
            shutil.copytree(path, copy, copy_function=shutil.copy2)
            env[f"CODEBUILD_SRC_DIR_{artifact}"] = str(copy)
        status_file, exports_file = folder / "status", folder / "exported"
        script = folder / "phases.sh"
        script.write_text(phase_script(spec, status_file, exports_file))
        shell = (spec.get("env") or {}).get("shell", "bash")
        started = time.time()
        say(f"{name}: running buildspec.yml (PIPELINE_STEP={env.get('PIPELINE_STEP')})")
        with open(folder / "log.txt", "w") as log:
            proc = subprocess.run([shell, str(script)], cwd=src, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=1800)
        seconds = round(time.time() - started, 1)
        state = status_file.read_text().strip() if status_file.exists() else "unknown"
        result = {
            "action": name, "step": env.get("PIPELINE_STEP"), "stage": env.get("DEPLOY_STAGE"),
            "status": "Succeeded" if proc.returncode == 0 and state == "succeeded" else f"Failed ({state})",
            "seconds": seconds, "log": str(folder / "log.txt"), "exported": {},
        }
        if exports_file.exists():
            result["exported"] = dict(line.split("=", 1) for line in exports_file.read_text().splitlines() if "=" in line)
        say(f"{name}: {result['status']} in {seconds}s")
        if result["status"] == "Succeeded" and output:
            base = src / (spec.get("artifacts") or {}).get("base-directory", ".")
            dest = self.work / "artifacts" / output
            shutil.copytree(base, dest, copy_function=shutil.copy2)
            result["artifact"] = str(dest)
        return result


def project_env(project, **values):
    """A CodeBuild project's variables (infrastructure/codebuild.tf: its env, the outputs URI, the pipeline name)."""
    env = {k: v for k, v in values.items() if v is not None}
    env.update({"DEPLOYER_OUTPUTS_S3_URI": f"s3://{BUCKET}/{OUTPUTS_KEY}", "PIPELINE_NAME": PIPELINE,
                "CODEBUILD_PROJECT": project})
    return env


def action_env(commit, execution, **values):
    """An action's variables (infrastructure/pipeline.tf: common_action_env and the step's)."""
    env = {"GIT_COMMIT": commit, "PIPELINE_EXECUTION_ID": execution}
    env.update({k: v for k, v in values.items() if v is not None})
    return env


# ------------------------------------------------------------- the source


def copy_checkout(repo):
    """The working tree (tracked and new files, with their timestamps) committed to a fresh repository."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            dest = repo / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "The checkout, as the pipeline's source")


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="simulation", GIT_AUTHOR_EMAIL="simulation@example.com",
               GIT_COMMITTER_NAME="simulation", GIT_COMMITTER_EMAIL="simulation@example.com")
    return run(["git", "-C", str(repo), *args], env=env).stdout.strip()


def deployer(repo, *args, env=None, check=True):
    binary = target_dir() / "release" / "deployer"
    full = dict(os.environ, **(env or {}))
    for var in ("DEPLOYER_OUTPUTS_FILE", "DEPLOYER_ROOT", "AWS_PROFILE"):
        full.pop(var, None)
    return run([str(binary), "--root", str(repo), *args], env=full, check=check)


def bootstrap(repo):
    """docs/delivery.md step 4 with the emulator's foundation: outputs saved, stages pointed at them, re-rendered."""
    (repo / "infrastructure" / "outputs.json").write_text(json.dumps(foundation_outputs(), indent=2) + "\n")
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()]
    for stage in STAGES:
        path = repo / "stages" / f"{stage}.yaml"
        lines = path.read_text().splitlines()
        out, skipping = [], False
        for line in lines:
            if skipping and (line.startswith((" ", "\t")) or not line.strip()):
                continue
            skipping = False
            if line.startswith("account:"):
                line = f'account: "{ACCOUNT}"'
            elif line.startswith("region:"):
                line = f"region: {REGION}"
            elif line.startswith("terraform_outputs:"):
                out += ["terraform_outputs:", "  file: infrastructure/outputs.json", ""]
                skipping = True
                continue
            elif line.strip().startswith("architecture:"):
                line = f"  architecture: {arch}"
            out.append(line)
        path.write_text("\n".join(out) + "\n")
    deployer(repo, "outputs")
    deployer(repo, "render", "--all")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Point the stages at the foundation")
    return git(repo, "rev-parse", "HEAD")


def source_artifact(repo, commit, dest):
    """CodePipeline's CODE_ZIP of a commit (no .git), files unchanged since the checkout keeping its timestamps."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    for path in dest.rglob("*"):
        original = ROOT / path.relative_to(dest)
        if path.is_file() and original.is_file() and original.read_bytes() == path.read_bytes():
            stat = original.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return dest


def test_skip(source):
    """TEST_SKIP naming every check of scripts/test.sh but KEEP_CHECKS (glob-safe: , [ ] * become ?)."""
    lines = [line.strip() for line in (source / "scripts" / "test.sh").read_text().splitlines()]
    names = [line[len('step "'):].split('"', 1)[0] for line in lines if line.startswith('step "')]
    for keep in KEEP_CHECKS:
        if keep not in names:
            raise Failed(f"scripts/test.sh has no check named {keep!r} (its checks: {names}); update KEEP_CHECKS")
    pattern = lambda n: "".join("?" if c in ",[]*?" else c for c in n)  # noqa: E731
    return ",".join(pattern(n) for n in names if n not in KEEP_CHECKS)


# ------------------------------------------------------------------ the run


def expect(condition, message):
    if not condition:
        raise Failed(message)


def log_tail(result, lines=60):
    return "\n".join(Path(result["log"]).read_text(errors="replace").splitlines()[-lines:])


# Set for every simulated action: a simulation started inside one (the Build's
# test.sh running the tests, when TEST_SKIP misses them) refuses to recurse.
NESTED_GUARD = "COUNTRIES_SIMULATED_ACTION"


def simulate(work, report):
    started = time.time()
    if os.environ.get(NESTED_GUARD):
        raise Failed(f"started inside a simulated action ({NESTED_GUARD} is set): TEST_SKIP let the tests run in the Build")
    tools = yaml.safe_load((ROOT / "tools" / "pipeline-tools.yaml").read_text())
    check_tools(tools)
    warm_builds()
    moto = Moto(work)
    recorded = None
    stand_ins = {}
    try:
        recorded = Recorded(moto)
        stand_ins = {s: ApiStandIn(s, moto, work) for s in STAGES}
        make_foundation(moto)
        repo = work / "repo"
        repo.mkdir()
        copy_checkout(repo)
        commit = bootstrap(repo)
        report["commit"] = commit
        source = source_artifact(repo, commit, work / "artifacts" / "source")
        skip = test_skip(source)
        report["test_skip"] = skip
        codebuild = CodeBuild(work, moto, recorded)
        execution = "11111111-2222-4333-8444-555555555555"
        report["execution_id"] = execution
        recorded.start_execution(execution, commit)
        actions = report["actions"] = []

        # Build: test.sh (its build and generated/ checks), render --check, package.
        recorded.action("Build", "Build", "InProgress")
        build = codebuild.run(
            "Build", source, commit,
            project_env("countries-build", PIPELINE_STEP="build"),
            action_env(commit, execution, PIPELINE_STEP="build"),
            output="package", extra_env={"TEST_SKIP": skip},
        )
        actions.append(build)
        expect(build["status"] == "Succeeded", f"Build failed:\n{log_tail(build)}")
        package = Path(build["artifact"])
        manifest = json.loads((package / "lambda" / "manifest.json").read_text())
        digest = (package / "package-digest").read_text().strip()
        expect(digest == sha256(package / "lambda" / "manifest.json"), "package-digest is not the manifest's sha256")
        expect(build["exported"].get("PACKAGE_DIGEST") == digest,
               f"exported PACKAGE_DIGEST {build['exported']} is not {digest}")
        expect(manifest["git_commit"] == commit, f"the manifest says commit {manifest['git_commit']}, not {commit}")
        sizes = {name: f["size"] for name, f in manifest["functions"].items()}
        build["zip_bytes"] = sizes
        over = {name: size for name, size in sizes.items() if size > ZIP_BUDGET}
        expect(not over, f"zips over Lambda's {ZIP_BUDGET:,}-byte budget: {over}")
        built = {name: f["digest"] for name, f in manifest["functions"].items()}
        build["digests"] = built
        report["package_digest"] = digest
        report["built"] = built
        recorded.package_digest = digest
        recorded.action("Build", "Build", "Succeeded")

        # dev, staging: deploy, promote. prod: the approval, then promote.
        for stage in STAGES:
            source_stage = PROMOTE_FROM[stage]
            step = "deploy" if source_stage is None else "promote"
            action = "Deploy" if source_stage is None else "Promote"
            if stage == "prod":
                approval = approve(recorded, package, source, moto, commit, digest)
                actions.append(approval)
            recorded.action(stage, action, "InProgress")
            result = codebuild.run(
                f"{stage}/{action}", source, commit,
                project_env(f"countries-deploy-{stage}", PIPELINE_STEP=step, DEPLOY_STAGE=stage, PROMOTE_FROM=source_stage),
                action_env(commit, execution, PIPELINE_STEP=step, DEPLOY_STAGE=stage, PROMOTE_FROM=source_stage),
                inputs={"package": package}, output=f"deployed_{stage}",
                extra_env={"SMOKE_BASE_URL": stand_ins[stage].url},
            )
            actions.append(result)
            recorded.action(stage, action, "Succeeded" if result["status"] == "Succeeded" else "Failed")
            expect(result["status"] == "Succeeded", f"{stage}/{action} failed:\n{log_tail(result)}")
            smoke = json.loads((Path(result["artifact"]) / f"smoke-{stage}.json").read_text())
            expect(smoke["smoke"] == "passed", f"{stage}: {smoke}")
            result["digests"] = stack_digests(moto, stage)
            result["api_served"] = sorted(stand_ins[stage].served)
            expect(result["digests"] == built, f"{stage} runs {result['digests']}, the Build made {built}")

        # What a person checks afterwards.
        status = deployer(source, "status", "--json", env=aws_env(moto, recorded))
        report["status"] = json.loads(status.stdout)
        report["stack_tags"] = {s: stack_tags(moto, s) for s in STAGES}
        report["approvals"] = recorded.approvals

        report["stale_generated"] = stale_build(work, repo, commit, codebuild, recorded, skip)
        report["pull_request"] = pull_request(work, repo, commit, codebuild)
    finally:
        for s in stand_ins.values():
            s.stop()
        if recorded is not None:
            recorded.stop()
        moto.stop()
    report["seconds"] = round(time.time() - started, 1)


def aws_env(moto, recorded):
    return {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_ENDPOINT_URL_CODEPIPELINE": recorded.endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": recorded.endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true"}


def approve(recorded, package, source, moto, commit, digest):
    """prod/Approve: the request waits; the person checks `deployer status`, then approves as docs/delivery.md says."""
    started = time.time()
    recorded.action("prod", "Approve", "InProgress")
    env = dict(os.environ, **aws_env(moto, recorded))
    for var in ("DEPLOYER_OUTPUTS_FILE", "DEPLOYER_ROOT", "AWS_PROFILE"):
        env.pop(var, None)
    binary = package / "bin" / "deployer"
    binary.chmod(0o755)
    state = json.loads(run([str(binary), "--root", str(source), "status", "--json"], env=env).stdout)
    waiting = state["pipeline"]["waiting_approvals"]
    expect(len(waiting) == 1 and waiting[0]["stage"] == "prod" and waiting[0]["commit"] == commit,
           f"expected prod's approval waiting for {commit}: {state['pipeline']}")
    rows = {r["stage"]: r for r in state["pipeline"]["stages"]}
    expect(rows["Build"]["package_digest"] == digest, f"the pipeline shows package {rows['Build']}, not {digest}")
    staging = next(s for s in state["stages"] if s["stage"] == "staging")
    expect(staging["git_commit"] == commit, f"staging runs {staging['git_commit']}, the approval is for {commit}")
    # docs/delivery.md, "With the AWS CLI".
    token = run(["aws", "codepipeline", "get-pipeline-state", "--name", PIPELINE, "--query",
                 "stageStates[?stageName=='prod'].actionStates[] | [?actionName=='Approve'].latestExecution.token | [0]",
                 "--output", "text"], env=env).stdout.strip()
    run(["aws", "codepipeline", "put-approval-result", "--pipeline-name", PIPELINE, "--stage-name", "prod",
         "--action-name", "Approve", "--result", "summary=checked staging,status=Approved", "--token", token], env=env)
    expect(recorded.approvals and recorded.approvals[-1]["token"] == token, "the approval was not answered")
    return {"action": "prod/Approve", "step": "approval", "stage": "prod", "status": "Succeeded",
            "seconds": round(time.time() - started, 1), "commit": waiting[0]["commit"], "package_digest": digest}


def stack_digests(moto, stage):
    stack = moto.client("cloudformation").describe_stacks(StackName=f"countries-{stage}")["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    return {name: Path(params[f"{name.capitalize()}ArtifactKey"]).stem for name in ("api", "worker")}


def stack_tags(moto, stage):
    stack = moto.client("cloudformation").describe_stacks(StackName=f"countries-{stage}")["Stacks"][0]
    return {t["Key"]: t["Value"] for t in stack.get("Tags", []) if t["Key"].startswith("countries:")}


def stale_build(work, repo, base, codebuild, recorded, skip):
    """A commit that changes a stage file without re-rendering: Build must fail and hand on nothing."""
    git(repo, "checkout", "-q", "-b", "stale", base)
    path = repo / "stages" / "dev.yaml"
    text = path.read_text()
    expect("memory_mb: 256" in text, "stages/dev.yaml has no `memory_mb: 256` to change")
    path.write_text(text.replace("memory_mb: 256", "memory_mb: 512", 1))
    git(repo, "commit", "-q", "-am", "Change dev's memory, forget to re-render")
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    source = source_artifact(repo, commit, work / "artifacts" / "source-stale")
    execution = "22222222-2222-4333-8444-555555555555"
    recorded.start_execution(execution, commit)
    result = codebuild.run(
        "Build (stale generated/)", source, commit,
        project_env("countries-build", PIPELINE_STEP="build"),
        action_env(commit, execution, PIPELINE_STEP="build"),
        output="package-stale", extra_env={"TEST_SKIP": skip},
    )
    log = Path(result["log"]).read_text(errors="replace")
    expect(result["status"] != "Succeeded", "a Build with a stale generated/ succeeded")
    expect("generated/dev/stack.yaml" in log and "stale" in log, f"the failed Build does not say what is stale:\n{log_tail(result)}")
    expect("artifact" not in result, "a failed Build handed on a package")
    result["commit"] = commit
    result["says"] = next((line for line in log.splitlines() if "generated files are stale" in line), "")
    return result


def pull_request(work, repo, base, codebuild):
    """A pull request that changes dev's api memory (re-rendered): the Plan action's plan.md."""
    git(repo, "checkout", "-q", "-b", "pull-request", base)
    path = repo / "stages" / "dev.yaml"
    path.write_text(path.read_text().replace("memory_mb: 256", "memory_mb: 384", 1))
    deployer(repo, "render", "dev")
    git(repo, "commit", "-q", "-am", "More memory for dev's api")
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    source = source_artifact(repo, commit, work / "artifacts" / "source-pr")
    execution = "33333333-2222-4333-8444-555555555555"
    result = codebuild.run(
        "countries-pr/Plan", source, commit,
        project_env("countries-pull-request", PIPELINE_STEP="pull-request", PLAN_STAGES=" ".join(STAGES)),
        action_env(commit, execution, PIPELINE_STEP="pull-request", PLAN_STAGES=" ".join(STAGES),
                   DEPLOYER_GITHUB_REPOSITORY="example-org/countries"),
        output="plan",
    )
    expect(result["status"] == "Succeeded", f"the pull request's Plan failed:\n{log_tail(result)}")
    plan = (Path(result["artifact"]) / "plan.md").read_text()
    result["commit"] = commit
    result["plan_md"] = plan
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", help="also write the JSON report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (its path is in the report)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="countries-pipeline-"))
    report = {"work": str(work), "ok": False, "actions": []}
    code = 1
    try:
        simulate(work, report)
        report["ok"] = True
        code = 0
    except Failed as e:
        report["error"] = str(e)
        say(f"FAILED: {e}")
    finally:
        text = json.dumps(report, indent=2)
        if args.report:
            Path(args.report).write_text(text + "\n")
        print(text)
        if not args.keep and code == 0:
            shutil.rmtree(work, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
