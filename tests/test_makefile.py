"""The Makefile as a user meets it: `make` alone lists the targets, each with what it does."""

from __future__ import annotations

import re
import subprocess

from tools.offline import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def phony_targets() -> set[str]:
    found = set()
    for line in MAKEFILE.splitlines():
        if line.startswith(".PHONY:"):
            found.update(line.removeprefix(".PHONY:").split())
    return found


def listed(text: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\S+) +(.+)$", text, flags=re.MULTILINE))


def test_make_help_lists_every_target_a_user_runs_with_its_description():
    done = make("help")
    assert done.returncode == 0, done.stderr
    targets = listed(done.stdout)
    assert set(targets) == phony_targets()
    assert {"preview", "preview-json", "test", "e2e", "lint", "lock", "clean"} <= set(targets)
    assert targets["preview-json"].startswith("the same as JSON on stdout")
    assert all(description.strip() for description in targets.values())


def test_make_without_a_target_shows_the_help():
    assert make().stdout == make("help").stdout
