#!/usr/bin/env python3
"""Each dependency compiles once per profile, whichever member a build starts from.

Cargo compiles a crate once per feature set, and the feature set it resolves
depends on what the command selects: `cargo build -p deployer` asks tokio,
hyper or serde for fewer features than the packager's build of the functions
or `cargo test --workspace`, so each of them compiled those crates (and
everything above them) again. `workspace-hack/` is a crate every member
depends on; it asks each such crate for the union of the features any
selection uses, so every selection resolves the same units.

This script compares the feature sets the builds we run resolve (`cargo
tree`) and either checks that no shared crate differs (`--check`, a step of
scripts/test.sh) or rewrites the generated part of workspace-hack/Cargo.toml
(no argument). Run it after changing a dependency.

Usage: python3 tools/workspace_hack.py [--check]
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HACK = ROOT / "workspace-hack" / "Cargo.toml"
BEGIN = "### BEGIN GENERATED (tools/workspace_hack.py)"
END = "### END GENERATED"

# The selections our commands build: (what runs it, cargo tree arguments, with dev-dependencies).
LOCAL_BUILD = ["-p", "countries", "-p", "workspace-hack", "-p", "bench-floor"]
SELECTIONS = [
    ("cargo build/run -p deployer", ["-p", "deployer"], False),
    ("the packager's local build (deployer up local, the tests, the bench)", LOCAL_BUILD, False),
    ("cargo build --workspace --all-targets, cargo test --workspace", ["--workspace"], True),
    ("cargo test -p countries", ["-p", "countries"], True),
    ("cargo test -p deployer", ["-p", "deployer"], True),
    ("cargo test -p testkit", ["-p", "testkit"], True),
]
LINE = re.compile(r"^(?P<prefix>(?:[│├└ ]   |[├└]── )*)(?P<rest>.*)$")
NODE = re.compile(r"^(?P<name>\S+) v(?P<version>\S+)(?P<source> \([^)]*/[^)]*\))?(?P<macro> \(proc-macro\))? \[(?P<features>[^\]]*)\]")


def tree(args, dev, locked):
    """{(name, version, host): features} for one selection; host = build scripts and proc macros."""
    edges = "normal,build,dev" if dev else "normal,build"
    out = subprocess.run(
        ["cargo", "tree", *(["--locked"] if locked else []), "-e", edges, "-f", "{p} [{f}]", *args],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    units = {}
    stack = []  # (depth, host) of the ancestors
    section = {}  # depth of the parent -> "build" / "dev" / "normal"
    for raw in out.splitlines():
        m = LINE.match(raw)
        prefix, rest = m.group("prefix"), m.group("rest")
        depth = len(prefix) // 4
        if rest.startswith("["):  # [build-dependencies] / [dev-dependencies] of the node at `depth`
            section[depth] = rest.strip("[]").split("-")[0]
            continue
        node = NODE.match(rest)
        if not node:
            continue
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent_host = stack[-1][1] if stack else False
        in_build = section.get(depth - 1) == "build"
        host = parent_host or in_build or bool(node.group("macro"))
        for d in [d for d in section if d >= depth]:
            del section[d]
        stack.append((depth, host))
        if node.group("source"):
            continue  # a workspace member
        key = (node.group("name"), node.group("version"), host)
        feats = frozenset(f for f in node.group("features").split(",") if f)
        units[key] = units.get(key, frozenset()) | feats
    return units


def differences(locked):
    resolved = [(label, tree(args, dev, locked)) for label, args, dev in SELECTIONS]
    union, seen = {}, {}
    for label, units in resolved:
        for key, feats in units.items():
            union[key] = union.get(key, frozenset()) | feats
            seen.setdefault(key, []).append((label, feats))
    differing = {key: union[key] for key, uses in seen.items() if len({f for _, f in uses}) > 1}
    return differing, seen


def toml_lines(differing):
    def line(name, version, feats):
        spec = f'version = "{version}", default-features = false'
        if feats:
            spec += ", features = [" + ", ".join(f'"{f}"' for f in sorted(feats)) + "]"
        return f"{name} = {{ {spec} }}"

    target = sorted((n, v, f) for (n, v, host), f in differing.items() if not host)
    host = sorted((n, v, f) for (n, v, h), f in differing.items() if h)
    names = [n for n, _, _ in target + host]
    dupes = {n for n in names if names.count(n) > 1}

    def entries(rows):
        # Two versions of one crate: each gets its own `package =` alias.
        return [line(f"{n}-{v.replace('.', '-')}", v, f).replace(" = { version", f' = {{ package = "{n}", version', 1)
                if n in dupes else line(n, v, f) for n, v, f in rows]

    return ["[dependencies]", *entries(target), "", "[build-dependencies]", *entries(host)]


def write(listed):
    text = HACK.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    HACK.write_text(head + BEGIN + "\n" + "\n".join(toml_lines(listed)) + "\n" + END + tail)


def main():
    if "--check" in sys.argv:
        differing, seen = differences(locked=True)
        if not differing:
            print(f"every shared dependency resolves one feature set in all {len(SELECTIONS)} selections")
            return 0
        print("these dependencies would compile more than once (features differ by selection):")
        for (name, version, host), _ in sorted(differing.items()):
            print(f"  {name} {version}{' (build scripts, proc macros)' if host else ''}:")
            for label, feats in seen[(name, version, host)]:
                print(f"    {label}: [{', '.join(sorted(feats))}]")
        print("run `python3 tools/workspace_hack.py` and commit workspace-hack/Cargo.toml and Cargo.lock")
        return 1
    # From nothing: list what differs, with the union of its features, until nothing does
    # (a listed crate can pull in others whose features then differ).
    listed = {}
    write(listed)
    for _ in range(6):
        differing, _ = differences(locked=False)
        if not differing:
            print(f"workspace-hack/Cargo.toml: {len(listed)} crates listed")
            return 0
        for key, feats in differing.items():
            listed[key] = listed.get(key, frozenset()) | feats
        write(listed)
    print("workspace-hack: no fixed point after 6 rounds", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
