"""The language host stand-in ends the policy packs it starts (not marked e2e: part of `make
test`). Each pack here is a real `python -m pulumi.policy` run of a small pack, as the engine's
`--policy-pack` starts it through RunPlugin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from tests.e2e.processes import SCENARIO_ENV, descendants, outliving

HOST = Path(__file__).resolve().parent / "standin" / "language_host.py"
PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

PolicyPack(
    "probe",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[ResourceValidationPolicy(name="anything", description="d", validate=lambda a, r: None)],
)
"""


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The language host as the engine starts it (its address argument unused here)."""
    process = subprocess.Popen(
        [sys.executable, str(HOST), "127.0.0.1:1"], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    yield process, port
    process.kill()
    process.wait()
    outliving(str(tmp_path), grace=0)  # a pack the host failed to end, so none is left


def run_pack(tmp_path: Path, port: int) -> tuple[grpc.Channel, object]:
    """RunPlugin for a policy pack, read until the pack has printed its analyzer's port."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "__main__.py").write_text(textwrap.dedent(PACK))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    call = language_pb2_grpc.LanguageRuntimeStub(channel).RunPlugin(
        language_pb2.RunPluginRequest(
            pwd=str(tmp_path),
            args=["127.0.0.1:1"],
            env=[f"{SCENARIO_ENV}={tmp_path}"],
            kind="analyzer",
            info=language_pb2.ProgramInfo(
                root_directory=str(pack), program_directory=str(pack), entry_point="."
            ),
        ),
        timeout=60,
    )
    first = next(iter(call))  # type: ignore[call-overload]
    assert first.stdout.strip().isdigit(), first
    return channel, call


def packs_below(pid: int) -> set[int]:
    return {
        child
        for child in descendants(pid)
        if "pulumi.policy" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
    }


def gone_within(pids: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.1)
    return False


def test_a_policy_pack_ends_when_the_engine_cancels_its_run_plugin_call(host, tmp_path):
    process, port = host
    channel, call = run_pack(tmp_path, port)
    packs = packs_below(process.pid)
    assert len(packs) == 1
    call.cancel()  # type: ignore[attr-defined]  # the engine's Kill of the analyzer plugin
    channel.close()
    assert gone_within(packs, 10), packs
    assert process.poll() is None  # the host itself serves on


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_policy_pack_ends_when_the_host_is_stopped(host, tmp_path, stop):
    process, port = host
    channel, _call = run_pack(tmp_path, port)
    packs = packs_below(process.pid)
    assert len(packs) == 1
    os.kill(process.pid, stop)  # the engine's SIGINT; python.sh forwards SIGTERM
    assert process.wait(timeout=10) is not None
    channel.close()
    assert gone_within(packs, 10), packs
