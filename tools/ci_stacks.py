"""Which stacks the CI workflow previews or deploys, as a JSON list for a job matrix.

    python -m tools.ci_stacks                   every stack (one per Pulumi.<stack>.yaml)
    python -m tools.ci_stacks --changed a b ... the stacks a change to files a, b, ... touches
    git diff --name-only -z A B | python -m tools.ci_stacks --changed-stdin
                                                the same, paths read NUL-separated from stdin

A changed `Pulumi.<stack>.yaml` touches that stack; a change to anything the program runs
touches every stack; docs, tests, the notebooks and the state bootstrap touch none. Stack names
are checked, since they reach command lines.

What the program runs is derived, not listed: a Python file counts when the program
(`__main__.py`) or the policy pack (`policy/__main__.py`) imports it, directly or through other
local modules, at module level or inside a function (so `mlflow_setup/contract.py`, which
decides the cluster's environment, counts; the notebook-only `bootstrap/` does not). Other files
count unless they are docs, tests, notebooks, the bootstrap or dev-only locks.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import re
import sys
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = re.compile(r"Pulumi\.([A-Za-z0-9_.-]+)\.yaml")
# Where the deployed Python starts: the program and the policy pack `pulumi up` runs. Each
# imports from the repository root and from its own folder (Pulumi runs the pack from there).
ENTRY_POINTS = ("__main__.py", "policy/__main__.py")
# Not imported by the program but loaded by deployed state: dill pickled the purge providers
# of older stacks by this module path (teardown/purge.py says why it stays).
STATE_MODULES = ("teardown/purge.py",)
# Files other than Python whose changes never alter what `pulumi up` does to a stack.
NOT_DEPLOYED = (
    "*.md",
    ".gitignore",
    "tests/*",
    "notebooks/*",
    "bootstrap/*",
    "requirements-dev.txt",
    "requirements-notebooks.txt",
    ".github/*",
)


def imported_files(root: Path = ROOT, entry_points: Iterable[str] = ENTRY_POINTS) -> set[str]:
    """The project's Python files the entry points import, transitively, as paths relative to
    `root` (the entry points and the packages' `__init__.py` included)."""
    found: set[str] = set()
    pending = [
        (root / entry, (root, (root / entry).parent))
        for entry in entry_points
        if (root / entry).is_file()
    ]
    while pending:
        path, bases = pending.pop()
        relative = path.relative_to(root).as_posix()
        if relative in found:
            continue
        found.add(relative)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module in _imported_modules(tree, path.relative_to(root)):
            for base in bases:
                pending.extend((file, bases) for file in _module_files(base, module))
    return found


def _imported_modules(tree: ast.AST, relative: Path) -> Iterable[str]:
    """Dotted names a module imports (and `pkg.name` for `from pkg import name`)."""
    package = list(relative.parent.parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            if module:
                yield module
            yield from (f"{module}.{alias.name}".lstrip(".") for alias in node.names)


def _module_files(root: Path, module: str) -> list[Path]:
    """The local files importing `module` runs: each package's `__init__.py`, then the module."""
    parts = module.split(".")
    files = []
    for depth in range(1, len(parts) + 1):
        base = root.joinpath(*parts[:depth])
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                files.append(candidate)
    return files


def deploys(path: str, imported: set[str]) -> bool:
    """Whether a change to `path` (relative to the repository) can alter a deployment."""
    if path.endswith(".py"):
        return path in imported or path in STATE_MODULES
    return not any(fnmatch(path, pattern) for pattern in NOT_DEPLOYED)


def all_stacks(root: Path = ROOT) -> list[str]:
    """The stacks with a config file at the project root, sorted."""
    found = []
    for path in root.glob("Pulumi.*.yaml"):
        match = STACK_FILE.fullmatch(path.name)
        if match:
            found.append(match.group(1))
    return sorted(found)


@functools.cache
def _program_files(root: Path) -> frozenset[str]:
    """`imported_files(root)`, parsed once per process (a run asks once; the tests ask often)."""
    return frozenset(imported_files(root))


def touched_stacks(changed: Iterable[str], stacks: Iterable[str], root: Path = ROOT) -> list[str]:
    """The stacks among `stacks` that a change to the `changed` paths touches, sorted."""
    existing = set(stacks)
    touched: set[str] = set()
    imported = _program_files(root)
    for path in changed:
        match = STACK_FILE.fullmatch(path)
        if match:
            touched.add(match.group(1))
        elif deploys(path, imported):
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
