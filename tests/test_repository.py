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


# The scripts that install tools fetch through the package managers' own configuration, so
# none names a host to download from.
INSTALLERS = (ROOT / ".ci" / "run", ROOT / "Makefile", ROOT / "tests/e2e/engine/build.sh")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"')]+")


def urls_in(text: str) -> list[str]:
    return URL.findall(text)


def test_no_install_script_names_a_download_host():
    assert {path.name for path in INSTALLERS} == {"run", "Makefile", "build.sh"}
    found = {path.name: urls_in(path.read_text()) for path in INSTALLERS}
    assert found == {"run": [], "Makefile": [], "build.sh": []}


def test_a_download_url_in_an_install_script_would_be_found():
    line = 'curl -fsSL -o go.zip "https://proxy.example/golang.org/toolchain/@v/x.zip"'
    assert urls_in(line) == ["https://proxy.example/golang.org/toolchain/@v/x.zip"]


def test_ci_takes_the_go_version_from_the_engine_go_mod():
    run = (ROOT / ".ci" / "run").read_text()
    assert "GO_VERSION=$(awk '$1 == \"go\" { print $2 }' tests/e2e/engine/go.mod)" in run
    assert 'GOTOOLCHAIN="go$GO_VERSION"' in run
