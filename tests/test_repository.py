"""Repository hygiene: what the READMEs tell a user to write stays out of commits, and no
editor or merge leftovers are tracked."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tools.offline import ROOT

READMES = (
    ROOT / "README.md",
    ROOT / "bootstrap" / "README.md",
    ROOT / "tests/e2e/README.md",
    *sorted((ROOT / "docs").glob("*.md")),
)
# `... > outputs.json`, `--file dev.checkpoint.json`: files a command in a README writes
WRITTEN = re.compile(r"(?:> ?|--file )([\w.-]+\.json)\b")


def git(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def files_the_readmes_write() -> set[str]:
    return {name for readme in READMES for name in WRITTEN.findall(readme.read_text())}


def test_gitignore_covers_the_files_the_readmes_tell_users_to_write():
    written = files_the_readmes_write()
    assert {"outputs.json", "policy-config.json", "dev.checkpoint.json"} <= written
    for name in sorted(written):
        assert git("check-ignore", "-q", "--no-index", name).returncode == 0, name


def test_no_leftover_of_a_merge_or_an_editor_is_tracked():
    tracked = git("ls-files").stdout.splitlines()
    assert tracked
    leftovers = [p for p in tracked if re.search(r"\.(orig|rej|bak|swp)$|~$", p)]
    assert leftovers == []
