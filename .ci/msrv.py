#!/usr/bin/env python3
"""Checks, without building, that amanat's `rust-version` is honest about its dependencies.

Every package in the locked graph that `cargo test`, `cargo build` or `cargo bench` of
amanat can compile (normal, build and dev dependencies, all features, transitively) must
declare a `rust-version` no newer than amanat's own. Some older crates declare none; for
those only their edition can be checked (2021 needs Rust 1.56, 2024 needs 1.85), and they
are listed as such: this is a check of what crates say, not a build with the old compiler.
The peers' crate (benches/peers) is not amanat's graph and is not checked.
"""
import json
import subprocess
import sys

# The first Rust release of each edition: all a crate without `rust-version` tells.
EDITION_FLOOR = {"2015": "1.0", "2018": "1.31", "2021": "1.56", "2024": "1.85"}


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--locked", "--all-features", "--format-version", "1"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in meta["packages"]}
    root = next(p for p in meta["packages"] if p["name"] == "amanat" and p["source"] is None)
    ours = version(root["rust_version"])
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    seen, todo = set(), [root["id"]]
    while todo:
        node = nodes[todo.pop()]
        for dep in node["deps"]:
            # dev-dependencies count for amanat itself only: a dependency's own tests are
            # never built here.
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if node["id"] != root["id"] and kinds == {"dev"}:
                continue
            if dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append(dep["pkg"])
    newer, undeclared = [], []
    for pid in sorted(seen, key=lambda i: packages[i]["name"]):
        p = packages[pid]
        declared = p.get("rust_version")
        if declared is None:
            undeclared.append(f'{p["name"]} {p["version"]} (edition {p["edition"]})')
            declared = EDITION_FLOOR[p["edition"]]
        if version(declared) > ours:
            newer.append(f'{p["name"]} {p["version"]} needs Rust {declared}')
    shown = ".".join(map(str, ours))
    for line in newer:
        print(f"newer than amanat's rust-version {shown}: {line}")
    if undeclared:
        print(f"{len(undeclared)} declare no rust-version; checked by edition only:")
        print("  " + ", ".join(undeclared))
    print(f"{len(seen)} locked packages checked against rust-version {shown}")
    return 1 if newer else 0


if __name__ == "__main__":
    sys.exit(main())
