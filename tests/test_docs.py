"""The documentation's links resolve: every relative link in the READMEs and docs/ names a file
that exists and, with `#anchor`, a heading of that file (GitHub's anchor rule)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.offline import ROOT

PAGES = sorted(
    [
        ROOT / "README.md",
        ROOT / "bootstrap" / "README.md",
        ROOT / "tests/e2e/README.md",
        *(ROOT / "docs").glob("*.md"),
    ]
)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {anchor(h) for h in HEADING.findall(FENCE.sub("", page.read_text()))}


def links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text()))


def test_github_anchors_drop_punctuation_and_join_words_with_hyphens():
    assert (
        anchor("Team operations: shared state and CI/CD") == "team-operations-shared-state-and-cicd"
    )
    assert anchor("The AzureML managed network (one-way)") == "the-azureml-managed-network-one-way"
    assert anchor("`make smoke` steps") == "make-smoke-steps"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_names_a_file_and_heading_that_exist(page: Path):
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists() or (
            fragment and dest.suffix == ".md" and fragment not in anchors(dest)
        ):
            broken.append(target)
    assert broken == []


def test_the_readme_links_every_page_of_docs():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in links(ROOT / "README.md")}
    assert {p.resolve() for p in (ROOT / "docs").glob("*.md")} <= linked


def test_the_front_door_readme_stays_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250
