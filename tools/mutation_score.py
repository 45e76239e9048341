"""The mutation score of each part of the code (core/, components/, ...), from what `mutmut run`
recorded in mutants/ (one `<source>.meta` JSON file per mutated source file).

    python -m tools.mutation_score [mutants]

A part's score is killed / checked: mutants not checked in this run (`MUTANTS=` picked others)
and those mutmut skipped are left out, so a run on one module scores that module's part alone.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

# mutmut 3's exit codes of a mutant's test run (mutmut/stats.py, status_by_exit_code).
KILLED = {1, 3}
SURVIVED = {0}
NOT_CHECKED = {None}
SKIPPED = {34}


def verdict(exit_code: int | None) -> str:
    if exit_code in KILLED:
        return "killed"
    if exit_code in SURVIVED:
        return "survived"
    if exit_code in NOT_CHECKED:
        return "not checked"
    if exit_code in SKIPPED:
        return "skipped"
    return "other"  # no tests, timeout, suspicious, caught by type check, crashed


def tally(mutants: Path) -> dict[str, Counter[str]]:
    """Verdicts by part: the first folder of each mutated file's path."""
    parts: dict[str, Counter[str]] = defaultdict(Counter)
    for meta in sorted(mutants.rglob("*.py.meta")):
        source = meta.relative_to(mutants).parts
        part = f"{source[0]}/" if len(source) > 1 else source[0].removesuffix(".meta")
        for exit_code in json.loads(meta.read_text())["exit_code_by_key"].values():
            parts[part][verdict(exit_code)] += 1
    return dict(parts)


def score_line(part: str, counts: Counter[str]) -> str:
    checked = counts["killed"] + counts["survived"] + counts["other"]
    if not checked:
        return f"{part:<12} no mutant checked ({counts['not checked']} not run)"
    line = (
        f"{part:<12} {counts['killed']} of {checked} killed "
        f"({100 * counts['killed'] / checked:.0f}%), {counts['survived']} survived"
    )
    if counts["other"]:
        line += f", {counts['other']} timed out or without tests"
    if counts["not checked"]:
        line += f"; {counts['not checked']} not run"
    return line


def report(parts: dict[str, Counter[str]]) -> list[str]:
    total: Counter[str] = sum(parts.values(), Counter())
    lines = ["mutation score by part (killed of checked):"]
    lines += [f"  {score_line(part, counts)}" for part, counts in sorted(parts.items())]
    lines.append(f"  {score_line('all', total)}")
    lines.append("the survivors: mutmut results")
    return lines


def main(argv: list[str]) -> int:
    mutants = Path(argv[0] if argv else "mutants")
    parts = tally(mutants)
    if not parts:
        print(f"no mutation results in {mutants}/: run `make mutation` first", file=sys.stderr)
        return 1
    print("\n".join(report(parts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
