"""The local Spark drivers' class archive (tests/fakecloud/local_spark.py): made once per Java
and set of jars, then mapped; never retried after a failure; none without a Java."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.fakecloud import local_spark


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Java under JAVA_HOME, two jars, and an empty archive folder; returns the jars."""
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("")
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("spark-core.jar", "spark-sql.jar"):
        (jars / name).write_bytes(b"PK")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    monkeypatch.setattr(local_spark, "ARCHIVES", tmp_path / "archives")
    return jars


def making(monkeypatch: pytest.MonkeyPatch, *, works: bool) -> list[Path]:
    """Stand in for the Spark run that makes the archive; returns the archives it was asked for."""
    made: list[Path] = []

    def make(archive: Path, failed: Path) -> None:
        made.append(archive)
        (archive if works else failed).write_text("classes" if works else "exit 1")

    monkeypatch.setattr(local_spark, "_make", make)
    return made


def test_the_archive_is_made_by_the_first_driver_and_mapped_by_every_one(
    install: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = making(monkeypatch, works=True)
    first = local_spark.archive_option(install)
    again = local_spark.archive_option(install)
    assert len(made) == 1
    assert made[0].parent == local_spark.ARCHIVES and made[0].suffix == ".jsa"
    assert first == again == f"-XX:SharedArchiveFile={made[0]}"


def test_a_failed_archive_is_not_tried_again_and_drivers_start_without_one(
    install: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = making(monkeypatch, works=False)
    assert local_spark.archive_option(install) == ""
    assert local_spark.archive_option(install) == ""
    assert len(made) == 1


def test_without_a_java_no_archive_is_made_or_named(
    install: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = making(monkeypatch, works=True)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    assert local_spark.archive_option(install) == ""
    assert made == []


def test_another_java_or_a_changed_jar_needs_an_archive_of_its_own(
    install: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = making(monkeypatch, works=True)
    local_spark.archive_option(install)
    jar = install / "spark-sql.jar"
    os.utime(jar, ns=(jar.stat().st_atime_ns, jar.stat().st_mtime_ns + 10**9))
    local_spark.archive_option(install)
    other = tmp_path / "jdk21" / "bin" / "java"
    other.parent.mkdir(parents=True)
    other.write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk21"))
    local_spark.archive_option(install)
    assert len(set(made)) == 3


def test_making_an_archive_keeps_only_the_three_last_made(
    install: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_spark.ARCHIVES.mkdir()
    for age, name in enumerate(("oldest", "older", "old")):
        path = local_spark.ARCHIVES / f"{name}.jsa"
        path.write_text("classes")
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    made: list[Path] = []

    def run(command: list[str], **_: object) -> SimpleNamespace:
        made.append(Path(command[-1]))
        Path(command[-1]).write_text("classes")
        return SimpleNamespace(returncode=0, stderr="")

    monkeypatch.setattr(local_spark.subprocess, "run", run)
    option = local_spark.archive_option(install)
    left = sorted(path.name for path in local_spark.ARCHIVES.glob("*.jsa"))
    assert option.startswith("-XX:SharedArchiveFile=") and len(made) == 1
    assert left == sorted(["old.jsa", "older.jsa", Path(option.split("=", 1)[1]).name])
