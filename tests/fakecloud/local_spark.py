"""A local SparkSession, what the example notebook's `spark` is here (tests/test_notebook_e2e.py
and the fake Databricks' notebook runner, tests/fakecloud/notebook_runner.py).

Its driver maps Spark's classes from an archive: a JVM that loads, parses and verifies them
from the jars spends about 3.5 of a short session's 9.5 CPU-s doing so here. Application class
data sharing (JDK 13+) has a JVM write the classes it loaded when it exits
(`-XX:ArchiveClassesAtExit`) and later JVMs map them (`-XX:SharedArchiveFile`; an archive that
does not match the Java or the jars is ignored). The first driver on a machine makes it, under
a lock, in a short run of its own (`python -m tests.fakecloud.local_spark <file>`); without a
Java to key it by, none is used.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ARCHIVES = Path.home() / ".cache" / "databricks-azureml" / "spark-classes"
MAKE_SECONDS = 300
KEEP = 3  # archives


def spark_env() -> dict[str, str]:
    """What a local Spark needs in the environment: this interpreter for the UDF workers,
    loopback only."""
    return {"PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}


def spark_session(app_name: str, *, java_options: str | None = None) -> Any:
    """A small local[2] SparkSession on loopback, no UI (set spark_env() first), its driver
    mapping the class archive, or given `java_options` instead."""
    import pyspark
    from pyspark.sql import SparkSession

    if java_options is None:
        java_options = archive_option(Path(pyspark.__file__).parent / "jars")
    session = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        # A short-lived driver: the client compiler alone and a serial collector spend half
        # the JVM's CPU time of the default tiered compilation and parallel collector.
        .config(
            "spark.driver.extraJavaOptions",
            f"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC {java_options}".strip(),
        )
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def archive_option(jars: Path) -> str:
    """The driver's JVM option that maps the archive for these jars and this Java ('' if none
    can be made)."""
    key = _key(jars)
    if key is None:
        return ""
    archive, failed = ARCHIVES / f"{key}.jsa", ARCHIVES / f"{key}.failed"
    if not archive.exists() and not failed.exists():
        ARCHIVES.mkdir(parents=True, exist_ok=True)
        with (ARCHIVES / f"{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel first driver waits for this one's
            if not archive.exists() and not failed.exists():
                _make(archive, failed)
    return f"-XX:SharedArchiveFile={archive}" if archive.exists() else ""


def _key(jars: Path) -> str | None:
    """The Java spark-submit runs (JAVA_HOME's, else PATH's) and every jar, by path, size and
    time: what the JVM itself checks an archive against."""
    home = os.environ.get("JAVA_HOME")
    java = Path(home, "bin", "java") if home else shutil.which("java")
    if java is None or not Path(java).exists():
        return None
    digest = hashlib.sha256()
    for path in [Path(java).resolve(), *sorted(jars.glob("*.jar"))]:
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _make(archive: Path, failed: Path) -> None:
    """A short Spark run whose JVM writes the classes it loaded; the archive appears whole or
    not at all, and a run that fails leaves its error in `failed`, not to be tried again."""
    partial = archive.with_name(f"{archive.name}.{os.getpid()}")
    done = subprocess.run(
        [sys.executable, "-m", "tests.fakecloud.local_spark", str(partial)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=MAKE_SECONDS,
    )
    if done.returncode == 0 and partial.exists():
        os.replace(partial, archive)
        # An archive is some 140 MB: keep this one and the two last made before it (other
        # clones, Javas, pyspark versions); one still mapped stays readable until it is closed.
        made = sorted(ARCHIVES.glob("*.jsa"), key=lambda path: path.stat().st_mtime)
        for old in made[:-KEEP]:
            old.unlink(missing_ok=True)
    else:
        partial.unlink(missing_ok=True)
        failed.write_text(f"exit {done.returncode}\n{done.stderr[-4000:]}")


def _run(partial: Path) -> None:
    """What a notebook's driver loads: a DataFrame from pandas, Arrow batches through a Python
    worker (as MLflow's spark_udf), SQL, a grouping. The JVM writes the archive when it exits,
    which it does once its stdin closes."""
    import pandas as pd
    from pyspark import SparkContext

    os.environ.update(spark_env())
    session = spark_session("spark-classes", java_options=f"-XX:ArchiveClassesAtExit={partial}")
    frame = session.createDataFrame(pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]}))
    frame.mapInPandas(
        lambda batches: (b.assign(b=b.b * 2) for b in batches), frame.schema
    ).collect()
    frame.createOrReplaceTempView("numbers")
    session.sql("SELECT a % 2 AS odd, sum(b) FROM numbers GROUP BY a % 2").collect()
    gateway = SparkContext._gateway
    session.stop()
    gateway.shutdown()
    gateway.proc.stdin.close()
    gateway.proc.wait(timeout=MAKE_SECONDS)


if __name__ == "__main__":
    _run(Path(sys.argv[1]))
