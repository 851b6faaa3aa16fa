#!/usr/bin/env bash
# The project's test command (README "Tests"; .ci/run calls it).
#
# Installs what the checks need into project-local virtualenvs on first use
# (.countries/venv: moto; .countries/venv-lint: cfn-lint and checkov), then
# runs every check and ends with one line "checks: N passed, N failed".
# Nothing is skipped: a missing tool is a failed check that says what to install.
#
# The one switch: TEST_SKIP, comma-separated glob patterns of check names
# (as printed after "==>") to leave out, each reported as skipped and counted
# ("checks: N passed, N failed, N skipped"). buildspec.yml's Build sets
# TEST_SKIP='benchmarks*' (a pipeline deploys; bench/run measures, on a
# machine of its own); scripts/simulate_pipeline.py skips the checks that the
# test command running it has already run. Unset, everything runs.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
failures=()

# True when TEST_SKIP names the check $1.
skip_requested() {
  local pattern patterns
  IFS=',' read -ra patterns <<< "${TEST_SKIP:-}"
  for pattern in "${patterns[@]}"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    [ -n "$pattern" ] && [[ $1 == $pattern ]] && return 0
  done
  return 1
}

step() {
  local name=$1
  shift
  printf '\n==> %s\n' "$name"
  if skip_requested "$name"; then
    skipped=$((skipped + 1))
    printf '==> %s: skipped (TEST_SKIP)\n' "$name"
    return 0
  fi
  local started=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    printf '==> %s: ok (%ss)\n' "$name" $((SECONDS - started))
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf '==> %s: FAILED (%ss)\n' "$name" $((SECONDS - started))
  fi
}

# uv (pinned in tools/requirements-uv.txt, installed once into
# .countries/venv-uv) fills each virtualenv in seconds where pip took 15–60
# (a core taken from the build beside it), compiling their bytecode as pip
# does (the tests start moto sixty times); pip when uv cannot be had.
uv_ready() {
  [ -x .countries/venv-uv/bin/uv ] || {
    python3 -m venv .countries/venv-uv &&
      .countries/venv-uv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-uv.txt
  } >/dev/null 2>&1
}

venv() {
  local dir=$1 requirements=$2 probe=$3 uv=.countries/venv-uv/bin/uv
  if [ ! -x "$dir/bin/$probe" ]; then
    echo "installing $requirements into $dir (first run only)"
    if uv_ready && UV_PYTHON_DOWNLOADS=never "$uv" venv --quiet --allow-existing --python "$(command -v python3)" "$dir" &&
      "$uv" pip install --quiet --compile-bytecode --python "$dir/bin/python" -r "$requirements"; then
      return 0
    fi
    echo "uv could not install it; pip does"
    python3 -m venv --clear "$dir" && "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  fi
}


checkov_terraform() {
  BC_SKIP_MAPPING=TRUE .countries/venv-lint/bin/checkov --skip-download --framework terraform -d infrastructure --compact --quiet
}

# One build, in the release profile (Cargo.toml: fast to compile): the tests,
# the deployer, the functions the tests run and the benchmarks share its
# dependencies (workspace-hack/ gives every selection the same features), so
# nothing compiles twice. It starts first, in the background: the installs and
# the Terraform checks wait mostly on the disk, the network or one core. Its
# step below waits for it and prints its log.
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
build_started=$SECONDS
if ! skip_requested "build (release profile)"; then
  cargo build --workspace --all-targets --locked --release >"$build_log" 2>&1 &
  build_pid=$!
fi
wait_for_build() {
  local rc=0
  wait "$build_pid" || rc=$?
  cat "$build_log"
  echo "(the build started $((SECONDS - build_started))s ago, beside the steps above)"
  return "$rc"
}

step "install moto (.countries/venv)" venv .countries/venv tools/requirements-moto.txt moto_server
step "install linters (.countries/venv-lint)" venv .countries/venv-lint tools/requirements-lint.txt checkov
step "install schemathesis (.countries/venv-schemathesis)" venv .countries/venv-schemathesis tools/requirements-schemathesis.txt schemathesis
step "install cargo-lambda, the Lambda Runtime API emulator (.countries/venv-cargo-lambda)" venv .countries/venv-cargo-lambda tools/requirements-cargo-lambda.txt cargo-lambda
step "terraform fmt" bash -c 'command -v terraform >/dev/null || { echo "terraform is not on PATH: install Terraform >= 1.6"; exit 1; }; terraform fmt -check -recursive infrastructure'
step "checkov infrastructure/" checkov_terraform
step "terraform validate + test (infrastructure/tests)" bash scripts/terraform.sh
step "execution roles cover the CloudFormation handlers" .countries/venv-lint/bin/python tools/check_execution_roles.py
step "build (release profile)" wait_for_build
step "dependencies compile once per profile (tools/workspace_hack.py --check)" python3 tools/workspace_hack.py --check
deployer="${CARGO_TARGET_DIR:-target}/release/deployer"
# The cloud stages' zips (cloud profile: LTO, size), built once, before the
# tests: the pipeline simulation's Build then finds them fresh (and checks their
# 3 MB budget). Built beside the tests instead, they slowed the moto-bound
# tests more than they saved (CI 857 s against about 820 s).
step "package the cloud zips (deployer package)" "$deployer" package
step "generated/ is up to date" "$deployer" render --all --check
step "lint generated stacks (cfn-lint, checkov)" "$deployer" validate --all
# cargo-nextest runs every test in its own process, test binaries side by side
# (.config/nextest.toml); `cargo test --release` runs the same tests.
if command -v cargo-nextest >/dev/null; then
  step "tests (cargo nextest run --release)" cargo nextest run --workspace --locked --release
else
  step "tests (cargo test --release; install cargo-nextest for a faster run)" cargo test --workspace --locked --release
fi
step "benchmarks, quick mode (figures are rough; never fails on a number)" bash bench/run --quick

printf '\n'
for f in "${failures[@]}"; do printf 'failed: %s\n' "$f"; done
printf 'total: %ss\n' "$SECONDS"
if [ "$skipped" -gt 0 ]; then
  printf 'checks: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
else
  printf 'checks: %d passed, %d failed\n' "$passed" "$failed"
fi
[ "$failed" -eq 0 ]
