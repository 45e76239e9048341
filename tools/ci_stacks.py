"""Which stacks the CI workflow previews or deploys, as a JSON list for a job matrix.

    python -m tools.ci_stacks                   every stack (one per Pulumi.<stack>.yaml)
    python -m tools.ci_stacks --changed a b ... the stacks a change to files a, b, ... touches
    git diff --name-only -z A B | python -m tools.ci_stacks --changed-stdin
                                                the same, paths read NUL-separated from stdin

A changed `Pulumi.<stack>.yaml` touches that stack; a change to anything the program runs
(code, `Pulumi.yaml`, requirements, the policy pack) touches every stack; docs, tests, the
notebooks and the state bootstrap touch none. Stack names are checked, since they reach
command lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = re.compile(r"Pulumi\.([A-Za-z0-9_.-]+)\.yaml")
# Paths whose changes never alter what `pulumi up` does to a stack.
NOT_DEPLOYED = (
    "*.md",
    ".gitignore",
    "tests/*",
    "notebooks/*",
    "mlflow_setup/*",
    "tools/smoke.py",  # runs against a deployed stack, never part of one
    "bootstrap/*",
    "requirements-dev.txt",
    "requirements-notebooks.txt",
    ".github/*",
)


def all_stacks(root: Path = ROOT) -> list[str]:
    """The stacks with a config file at the project root, sorted."""
    found = []
    for path in root.glob("Pulumi.*.yaml"):
        match = STACK_FILE.fullmatch(path.name)
        if match:
            found.append(match.group(1))
    return sorted(found)


def touched_stacks(changed: Iterable[str], stacks: Iterable[str]) -> list[str]:
    """The stacks among `stacks` that a change to the `changed` paths touches, sorted."""
    existing = set(stacks)
    touched: set[str] = set()
    for path in changed:
        match = STACK_FILE.fullmatch(path)
        if match:
            touched.add(match.group(1))
        elif not any(fnmatch(path, pattern) for pattern in NOT_DEPLOYED):
            return sorted(existing)
    return sorted(touched & existing)  # a deleted stack file deploys nothing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changed", nargs="*", help="paths changed, relative to the repository")
    parser.add_argument(
        "--changed-stdin", action="store_true", help="read the changed paths from stdin (NUL)"
    )
    args = parser.parse_args(argv)
    changed = args.changed
    if args.changed_stdin:
        changed = [path for path in sys.stdin.read().split("\0") if path]
    stacks = all_stacks()
    chosen = stacks if changed is None else touched_stacks(changed, stacks)
    json.dump(chosen, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
