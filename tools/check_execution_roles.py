#!/usr/bin/env python3
"""Do the CloudFormation execution roles cover what CloudFormation calls?

For each stage that has an execution role, takes every resource type in
generated/<stage>/stack.yaml and every permission its CloudFormation handlers
(create, read, update, delete) list in the resource provider schemas that
cfn-lint ships, and checks each against the execution-role policy that
Terraform rendered for that stage (.countries/terraform/rendered.json, written
by scripts/terraform.sh from `terraform test` of both roots: infrastructure/
for the stages of the tooling account, infrastructure/stage-account/ for a
stage in its own account; never the HCL text). Each
permission must be granted, or listed with its reason in
infrastructure/execution-role-exceptions.yaml; read-handler permissions must be
granted. An exception that is no longer needed fails too.

It also sweeps every policy those runs rendered (identity, trust and resource
policies of every resource, whatever its name): no Allow of a wildcard action
or NotAction, and IAM's size limits.

Run with the lint venv's python (it imports cfnlint and yaml):
    .countries/venv-lint/bin/python tools/check_execution_roles.py
Exit 0 when everything is covered, 1 otherwise, 2 when it cannot check.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RENDERED = ".countries/terraform/rendered.json"
EXCEPTIONS = "infrastructure/execution-role-exceptions.yaml"
HANDLERS = ("create", "read", "update", "delete")
# The files scripts/terraform.sh copies and tests, in both roots and the
# modules (keep the two lists alike).
INPUT_GLOBS = ("infrastructure/**/*.tf", "infrastructure/**/*.tftest.hcl", "infrastructure/**/outputs*.example.json")

# IAM quotas (characters, whitespace not counted): inline policies of one role
# together, one managed policy, one role trust policy.
INLINE_PER_ROLE, MANAGED, TRUST = 10240, 6144, 2048


def cannot_check(message: str) -> None:
    print(f"execution roles: cannot check: {message}", file=sys.stderr)
    sys.exit(2)


try:
    import yaml
    import cfnlint
    import cfnlint.version
    from cfnlint.decode import decode as cfn_decode
except ImportError as e:  # pragma: no cover - depends on the environment
    cannot_check(f"{e.name} is missing: run this with .countries/venv-lint/bin/python "
                 "(python3 -m venv .countries/venv-lint && .countries/venv-lint/bin/pip install -r tools/requirements-lint.txt)")


# --- what Terraform rendered --------------------------------------------------------

def load_rendered() -> list[dict]:
    if not os.path.exists(RENDERED):
        cannot_check(f"{RENDERED} is missing: run `bash scripts/terraform.sh` first (it writes the policies `terraform test` renders)")
    with open(RENDERED, encoding="utf-8") as f:
        rendered = json.load(f)
    current = sorted({f for g in INPUT_GLOBS for f in glob.glob(g, recursive=True)})
    recorded = rendered.get("inputs", {})
    stale = sorted(set(current) ^ set(recorded)) + [
        f for f in current if f in recorded and hashlib.sha256(open(f, "rb").read()).hexdigest() != recorded[f]
    ]
    if stale:
        cannot_check(f"{RENDERED} was rendered from other files than infrastructure/ holds now ({', '.join(stale)}): run `bash scripts/terraform.sh` again")
    runs = [r for r in rendered.get("runs", []) if r.get("resources")]
    if not runs:
        cannot_check(f"{RENDERED} holds no rendered run: did `terraform test` fail? Run `bash scripts/terraform.sh`")
    for r in runs:
        # Run names are unique within a root; the tooling root's are shown bare.
        root = r.get("root", "infrastructure")
        r["run"] = r["run"] if root == "infrastructure" else f'{root}: {r["run"]}'
    return runs


def as_list(v) -> list:
    return v if isinstance(v, list) else [] if v is None else [v]


def statements(policy_json: str) -> list[dict]:
    return as_list(json.loads(policy_json).get("Statement"))


def minified_length(policy_json: str) -> int:
    # What IAM counts: the document without whitespace outside strings.
    return len(json.dumps(json.loads(policy_json), separators=(",", ":"), ensure_ascii=False))


def action_pattern(action: str) -> re.Pattern:
    # IAM matches actions case-insensitively, with * (any run) and ? (one character).
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in action.lower()))


class Policy:
    """The actions a set of policy documents allows (by name: resources and conditions aside)."""

    def __init__(self, documents: list[str]):
        self.allow, self.deny = [], []
        for doc in documents:
            for st in statements(doc):
                target = self.allow if st.get("Effect") == "Allow" else self.deny
                for a in as_list(st.get("Action")):
                    # A Deny with a condition does not always apply: only unconditional ones take a grant away.
                    if target is self.deny and st.get("Condition"):
                        continue
                    target.append(action_pattern(a))

    def grants(self, permission: str) -> bool:
        p = permission.lower()
        return any(r.fullmatch(p) for r in self.allow) and not any(r.fullmatch(p) for r in self.deny)


def run_account(run: dict) -> str | None:
    """The account the run renders for (its aws_caller_identity data source)."""
    return next((r["values"].get("account_id") for r in run["resources"]
                 if r["mode"] == "data" and r["type"] == "aws_caller_identity"), None)


def execution_roles(run: dict) -> dict[str, tuple[Policy, list[str]]]:
    """stage -> (what its execution role may do, the addresses of the policies that say so).

    The tooling root names every stage's role in its output
    cloudformation_execution_role_arns; a stage that runs in an account of its
    own is checked in the runs of infrastructure/stage-account, whose outputs
    name one stage and its role."""
    outputs = run.get("outputs", {})
    arns = outputs.get("cloudformation_execution_role_arns") or (
        {outputs["stage"]: outputs["execution_role_arn"]} if outputs.get("stage") and outputs.get("execution_role_arn") else {})
    if not arns:
        cannot_check(f'run "{run["run"]}" has no output cloudformation_execution_role_arns (nor stage and execution_role_arn)')
    account = run_account(run)
    arns = {s: a for s, a in arns.items() if account is None or a.split(":")[4] == account}
    res = run["resources"]
    roles = {r["values"]["arn"]: r["values"] for r in res if r["mode"] == "managed" and r["type"] == "aws_iam_role"}
    managed = {r["values"]["arn"]: r for r in res if r["mode"] == "managed" and r["type"] == "aws_iam_policy"}
    out = {}
    for stage, arn in sorted(arns.items()):
        role = roles.get(arn)
        if role is None:
            cannot_check(f'run "{run["run"]}": no aws_iam_role has the ARN the outputs name for {stage} ({arn})')
        names = {role.get("name"), role.get("id")}
        docs, where = [], []
        for r in res:
            v = r["values"]
            if r["mode"] != "managed":
                continue
            if r["type"] == "aws_iam_role_policy" and v.get("role") in names:
                docs.append(v["policy"]); where.append(r["address"])
            elif r["type"] == "aws_iam_role_policy_attachment" and v.get("role") in names:
                pol = managed.get(v.get("policy_arn"))
                if pol is None:
                    cannot_check(f"{r['address']} attaches {v.get('policy_arn')}, which this configuration does not render")
                docs.append(pol["values"]["policy"]); where.append(pol["address"])
        for inline in as_list(role.get("inline_policy")):
            if inline.get("policy"):
                docs.append(inline["policy"]); where.append(f"{role.get('name')} inline_policy")
        if not docs:
            cannot_check(f'run "{run["run"]}": the {stage} execution role has no policy')
        out[stage] = (Policy(docs), where)
    return out


def defining_file(address: str) -> str:
    """infrastructure/[<module>/]<file>.tf that declares the resource at this address."""
    address = re.sub(r'^(module\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.)+', "", address)
    kind, name = re.match(r"(?:data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)", address).groups()
    for path in sorted(glob.glob("infrastructure/**/*.tf", recursive=True)):
        if re.search(rf'^\s*resource\s+"{kind}"\s+"{name}"', open(path, encoding="utf-8").read(), re.M):
            return path
    return "infrastructure/"


# --- what CloudFormation calls --------------------------------------------------------

def stage_region(stage: str) -> str:
    path = f"stages/{stage}.yaml"
    try:
        with open(path, encoding="utf-8") as f:
            region = (yaml.safe_load(f) or {}).get("region")
    except OSError as e:
        cannot_check(f"{path}: {e.strerror}")
    if not region:
        cannot_check(f"{path} names no region")
    return region


def load_schema(resource_type: str, region: str, schemas: str) -> dict:
    index_path = os.path.join(schemas, "providers", f"{region}.json")
    if not os.path.exists(index_path):
        cannot_check(f"cfn-lint {cfnlint.version.__version__} has no resource schemas for region {region} ({index_path})")
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    if resource_type not in index:
        cannot_check(f"cfn-lint {cfnlint.version.__version__} has no schema for {resource_type} in {region}")
    with open(os.path.join(schemas, "resources", f"{index[resource_type]}.json"), encoding="utf-8") as f:
        return json.load(f)


def handler_permissions(schema: dict) -> dict[str, list[str]]:
    """permission -> the handlers (create, read, update, delete) that list it."""
    perms: dict[str, list[str]] = {}
    for handler in HANDLERS:
        for p in schema.get("handlers", {}).get(handler, {}).get("permissions", []):
            perms.setdefault(p, [])
            if handler not in perms[p]:
                perms[p].append(handler)
    return perms


def stack_resources(stage: str) -> dict[str, dict]:
    """logical id -> resource, from generated/<stage>/stack.yaml (read with cfn-lint's decoder: !Ref, !Sub, ...)."""
    path = f"generated/{stage}/stack.yaml"
    if not os.path.exists(path):
        cannot_check(f"{path} is missing: run `cargo run -p deployer -- render {stage}`")
    template, errors = cfn_decode(path)
    if errors or template is None:
        cannot_check(f"{path} does not parse: {'; '.join(str(e) for e in errors)}")
    return {k: r for k, r in template.get("Resources", {}).items() if isinstance(r, dict) and "Type" in r}


def sets_property(resource: dict, path: str) -> bool:
    node = resource.get("Properties") or {}
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


# --- the exceptions file ----------------------------------------------------------------

def load_exceptions(stages: list[str]) -> dict[tuple[str, str], dict]:
    """(resource type, permission lower-cased) -> {permission, reason, stages}."""
    try:
        with open(EXCEPTIONS, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except OSError as e:
        cannot_check(f"{EXCEPTIONS}: {e.strerror}")
    problems, out = [], {}
    for rtype, perms in data.items():
        if not isinstance(perms, dict):
            problems.append(f"{rtype}: expected permission: reason entries")
            continue
        for perm, entry in perms.items():
            if isinstance(entry, str):
                entry = {"reason": entry}
            if not isinstance(entry, dict) or not str(entry.get("reason") or "").strip():
                problems.append(f"{rtype} {perm}: give the reason CloudFormation never calls it for this template")
                continue
            unknown = set(entry) - {"reason", "stages", "called_for"}
            applies = entry.get("stages", stages)
            called_for = entry.get("called_for", [])
            if unknown or not isinstance(applies, list) or not set(applies) <= set(stages) \
                    or not isinstance(called_for, list) or not all(isinstance(c, str) for c in called_for):
                problems.append(f"{rtype} {perm}: only `reason`, `called_for` (a list of property names) and "
                                f"`stages` (a list of {', '.join(stages)}) may be set")
                continue
            key = (rtype, perm.lower())
            if key in out:
                problems.append(f"{rtype} {perm}: listed twice")
            out[key] = {"permission": perm, "reason": entry["reason"], "stages": applies, "called_for": called_for}
    if problems:
        cannot_check(f"{EXCEPTIONS}: " + "; ".join(problems))
    return out


# --- the generic sweep of every rendered policy -------------------------------------------

POLICY_ATTRIBUTES = ("policy", "assume_role_policy")


def sweep_policies(runs: list[dict]) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Failures, and per run the inline-policy size of every role."""
    failures, role_sizes = [], {}
    for run in runs:
        inline = defaultdict(int)
        for r in run["resources"]:
            if r["mode"] != "managed":
                continue
            for attr in POLICY_ATTRIBUTES:
                doc = r["values"].get(attr)
                if not isinstance(doc, str) or not doc.strip().startswith("{"):
                    continue
                where = f'run "{run["run"]}": {r["address"]}.{attr}'
                try:
                    sts = statements(doc)
                except ValueError:
                    failures.append(f"{where} is not JSON")
                    continue
                for st in sts:
                    if st.get("Effect") != "Allow":
                        continue
                    if "NotAction" in st:
                        failures.append(f"{where}: statement {st.get('Sid', '(no Sid)')} allows NotAction; name the actions")
                    for a in as_list(st.get("Action")):
                        if "*" in a or "?" in a:
                            failures.append(f"{where}: statement {st.get('Sid', '(no Sid)')} allows the wildcard action {a}; name the actions")
                size = minified_length(doc)
                if r["type"] == "aws_iam_role_policy":
                    inline[r["values"].get("role")] += size
                elif r["type"] == "aws_iam_policy" and size > MANAGED:
                    failures.append(f"{where}: {size} characters, over IAM's {MANAGED} for a managed policy")
                elif attr == "assume_role_policy" and size > TRUST:
                    failures.append(f"{where}: {size} characters, over IAM's {TRUST} for a role trust policy")
        for role, size in inline.items():
            if size > INLINE_PER_ROLE:
                failures.append(f'run "{run["run"]}": role {role}: its inline policies total {size} characters, over IAM\'s {INLINE_PER_ROLE}')
        role_sizes[run["run"]] = dict(inline)
    return failures, role_sizes


# --- the check ------------------------------------------------------------------------------

def main() -> int:
    os.chdir(ROOT)
    runs = load_rendered()
    schemas = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")

    roles_by_run = {run["run"]: execution_roles(run) for run in runs}
    order = ["dev", "staging", "prod"]
    stages = sorted({s for roles in roles_by_run.values() for s in roles},
                    key=lambda s: (order.index(s) if s in order else len(order), s))
    exceptions = load_exceptions(stages)

    # stage -> type -> permission -> handlers; and each stage's resources and schemas
    wanted, stacks, type_schemas = {}, {}, {}
    for stage in stages:
        region = stage_region(stage)
        stacks[stage] = stack_resources(stage)
        for t in {r["Type"] for r in stacks[stage].values()}:
            type_schemas[t] = load_schema(t, region, schemas)
        wanted[stage] = {t: handler_permissions(type_schemas[t]) for t in sorted({r["Type"] for r in stacks[stage].values()})}

    failures: list[str] = []
    used_exceptions: dict[tuple[str, str], set[str]] = defaultdict(set)  # -> stages where it was needed at least once
    # (type, permission, handlers, kind) -> stages, runs, policies, the file to grant it in
    problems: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    tables: dict[str, dict[str, dict[str, list[tuple[str, str]]]]] = {}

    for run in runs:
        name = run["run"]
        roles = roles_by_run[name]
        for stage in stages:
            if stage not in roles:
                continue
            policy, where = roles[stage]
            rows = tables.setdefault(name, {}).setdefault(stage, {})
            for rtype, perms in wanted[stage].items():
                statuses = []
                for perm, handlers in sorted(perms.items(), key=lambda kv: kv[0].lower()):
                    if policy.grants(perm):
                        statuses.append(("granted", perm))
                        continue
                    exc = exceptions.get((rtype, perm.lower()))
                    setters = [f"{lid} sets {prop}" for lid, res in stacks[stage].items() if res["Type"] == rtype
                               for prop in (exc or {}).get("called_for", []) if sets_property(res, prop)]
                    if exc and stage in exc["stages"] and not setters:
                        used_exceptions[(rtype, perm.lower())].add(stage)
                        statuses.append(("excepted", perm))
                        kind = "excepted read" if "read" in handlers else None
                    elif exc and stage in exc["stages"]:
                        used_exceptions[(rtype, perm.lower())].add(stage)
                        statuses.append(("missing", perm))
                        kind = "called for"
                        problems[(rtype, perm, tuple(handlers), kind)]["setters"].update(
                            f"generated/{stage}/stack.yaml {s}" for s in setters)
                    else:
                        statuses.append(("missing", perm))
                        kind = "missing"
                    if kind:
                        p = problems[(rtype, perm, tuple(handlers), kind)]
                        p["stages"].add(stage); p["runs"].add(name); p["policies"].update(where)
                        p["files"].update(defining_file(w) for w in where)
                rows[rtype] = statuses

    def listed(values: set, order: list[str]) -> str:
        return ", ".join(sorted(values, key=lambda v: (order.index(v) if v in order else len(order), v)))

    run_names = [r["run"] for r in runs]
    for (rtype, perm, handlers, kind), p in sorted(problems.items()):
        who = f"the execution role{'s' if len(p['stages']) > 1 else ''} of {listed(p['stages'], stages)}"
        when = "" if p["runs"] == set(run_names) else f" (in run {listed(p['runs'], run_names)})"
        grant = f"grant it in {listed(p['files'], [])} (the policy of {listed(p['policies'], [])})"
        needs = f"{rtype}: the {'/'.join(handlers)} handler{'s' if len(handlers) > 1 else ''} call{'' if len(handlers) > 1 else 's'} {perm}"
        if kind == "missing" and "read" in handlers:
            failures.append(f"{needs}, which {who} do{'es' if len(p['stages']) == 1 else ''} not grant{when}: "
                            f"{grant}. Read handlers run after every create and update, so they cannot be excepted.")
        elif kind == "missing":
            failures.append(f"{needs}, which {who} do{'es' if len(p['stages']) == 1 else ''} not grant{when}: "
                            f"{grant}, or list it under {rtype} in {EXCEPTIONS} with the reason CloudFormation never "
                            f"calls it for this template.")
        elif kind == "called for":
            failures.append(f"{needs} because {listed(p['setters'], [])}, and {EXCEPTIONS} excepts it only while "
                            f"no {rtype} sets that: {grant} and remove the entry (or drop the property).")
        else:
            failures.append(f"{needs}, and {EXCEPTIONS} excepts it for {who}{when}: read handlers run after every "
                            f"create and update, so {grant} and remove the entry.")

    # Exceptions that no longer serve.
    all_types = {t for s in stages for t in wanted[s]}
    for key, exc in sorted(exceptions.items()):
        rtype, perm = key
        label = f"{EXCEPTIONS}: {rtype} {exc['permission']}"
        if rtype not in all_types:
            failures.append(f"{label}: no stage's stack has {rtype} any more; remove the entry")
        elif not any(perm in {p.lower() for p in wanted[s].get(rtype, {})} for s in exc["stages"]):
            failures.append(f"{label}: no handler of {rtype} lists {exc['permission']} any more; remove the entry")
        elif any(c.split(".")[0] not in type_schemas[rtype].get("properties", {}) for c in exc["called_for"]):
            bad = [c for c in exc["called_for"] if c.split(".")[0] not in type_schemas[rtype].get("properties", {})]
            failures.append(f"{label}: called_for names {', '.join(bad)}, which {rtype} does not have")
        elif not used_exceptions.get(key):
            failures.append(f"{label}: granted to the execution role of {', '.join(exc['stages'])} in every configuration "
                            f"tested; remove the entry")
        elif set(exc["stages"]) - used_exceptions[key]:
            unused = sorted(set(exc["stages"]) - used_exceptions[key])
            failures.append(f"{label}: not needed for {', '.join(unused)} (granted there); narrow its stages")

    sweep_failures, role_sizes = sweep_policies(runs)
    failures += sweep_failures

    # --- report
    first = runs[0]["run"]
    print(f"Execution-role coverage of the CloudFormation handler permissions "
          f"(cfn-lint {cfnlint.version.__version__} schemas; policies from run \"{first}\"):")
    for stage in stages:
        rows = tables.get(first, {}).get(stage, {})
        print(f"\n  {stage}  ({', '.join(roles_by_run[first][stage][1])})")
        print(f"    {'resource type':34} {'granted':>8} {'excepted':>9} {'missing':>8} {'total':>6}")
        totals = [0, 0, 0, 0]
        for rtype, statuses in rows.items():
            n = [sum(1 for s, _ in statuses if s == k) for k in ("granted", "excepted", "missing")] + [len(statuses)]
            totals = [a + b for a, b in zip(totals, n)]
            print(f"    {rtype:34} {n[0]:>8} {n[1]:>9} {n[2]:>8} {n[3]:>6}")
        print(f"    {'all':34} {totals[0]:>8} {totals[1]:>9} {totals[2]:>8} {totals[3]:>6}")
    for run in runs[1:]:
        for stage in stages:
            a, b = tables.get(first, {}).get(stage), tables.get(run["run"], {}).get(stage)
            if b is not None and a != b:
                changed = sorted({f"{t} {p}: {s}" for t, st in b.items() for s, p in st} -
                                 {f"{t} {p}: {s}" for t, st in a.items() for s, p in st})
                print(f"\n  run \"{run['run']}\", {stage}: differs: {'; '.join(changed)}")
    print("\n  inline policy size per role (IAM limit 10,240; run \"%s\"): %s" % (
        first, ", ".join(f"{r} {n}" for r, n in sorted(role_sizes.get(first, {}).items()))))

    if failures:
        print()
        for f in failures:
            print(f"FAIL {f}")
        print(f"\nexecution roles: {len(failures)} problem(s)")
        return 1
    print(f"\nexecution roles: every handler permission is granted or excepted with a reason "
          f"({len(runs)} configuration(s), {len(stages)} stages, {len(exceptions)} exceptions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
