"""The processes an e2e scenario started, found through /proc (Linux), so the rig can show that
none outlives the scenario.

A scenario's environment carries a marker (SCENARIO_ENV) that every process it execs inherits:
the engine, the plugin launchers, the policy packs, `az`, `make`. Plugins forked by the fork
server carry the server's own environment instead, so they are found as its descendants.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

SCENARIO_ENV = "DATABRICKS_AZUREML_E2E_SCENARIO"
PROC = Path("/proc")


def _read(pid: int, name: str) -> bytes:
    try:
        return (PROC / str(pid) / name).read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return b""


def _pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to reap it."""
    stat = _read(pid, "stat")
    return bool(stat) and stat.rsplit(b")", 1)[1].split()[0] != b"Z"


def _parent(pid: int) -> int:
    stat = _read(pid, "stat")
    return int(stat.rsplit(b")", 1)[1].split()[1]) if stat else 0


def command_line(pid: int) -> str:
    return _read(pid, "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()


def descendants(root: int) -> set[int]:
    """Every living process below `root` in the process tree."""
    parents = {pid: _parent(pid) for pid in _pids()}
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {pid for pid in found if _alive(pid)}


def carrying(value: str) -> set[int]:
    """Living processes whose environment has SCENARIO_ENV=value."""
    marker = f"{SCENARIO_ENV}={value}".encode()
    me = os.getpid()
    return {
        pid
        for pid in _pids()
        if pid != me and marker in _read(pid, "environ").split(b"\0") and _alive(pid)
    }


def serving(socket_path: str) -> set[int]:
    """The fork server process listening on `socket_path`."""
    return {pid for pid in _pids() if f" serve {socket_path}" in f" {command_line(pid)}"}


def started_by(scenario: str, fork_servers: Iterable[int] = ()) -> set[int]:
    """The processes of a scenario still running: its marked ones and the forked plugins."""
    found = carrying(scenario)
    for server in fork_servers:
        found |= descendants(server)
    return found


def outliving(scenario: str, fork_servers: Iterable[int] = (), grace: float = 10) -> dict[int, str]:
    """What of the scenario is still running after `grace` seconds (a killed plugin takes a
    moment to go), by pid with its command line; those are then killed, so nothing is left."""
    servers = tuple(fork_servers)
    deadline = time.monotonic() + grace
    while (found := started_by(scenario, servers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    stray = {pid: command_line(pid) for pid in found}
    for pid in stray:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return stray
