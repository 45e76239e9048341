"""One smoke run: the steps of tools/smoke/steps.py in order, a line each, then a summary;
and the command line (`python -m tools.smoke`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import TextIO

from tools.smoke.base import (
    DEFAULT_TIMEOUT,
    FAIL,
    PASS,
    SKIP,
    StepResult,
    run_step,
)
from tools.smoke.deployment import DeploymentSteps
from tools.smoke.services import Services
from tools.smoke.serving import ServingSteps
from tools.smoke.state import POLL_SECONDS
from tools.smoke.steps import PREREQUISITES, STEPS
from tools.smoke.submit import CLUSTER, COMPUTES
from tools.smoke.tracking import TrackingSteps
from tools.smoke.workspace import WorkspaceSteps


class Smoke(DeploymentSteps, WorkspaceSteps, TrackingSteps, ServingSteps):
    """One smoke run: its steps, run in order, over the state they share."""

    # --- running ---------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], str], tuple[str, ...]]]:
        """(name, step, the steps it needs to have passed), in order (tools/smoke/steps.py)."""
        return [(step.name, partial(step.run, self), step.needs) for step in STEPS]

    def run(self) -> int:
        passed: set[str] = set()
        for name, step, needs in self.steps():
            missing = [need for need in needs if need not in passed]
            if missing:
                result = StepResult(name, SKIP, f"needs '{missing[0]}', which did not pass")
            else:
                result = run_step(name, step)
            if result.status == PASS:
                passed.add(name)
            if result.status == FAIL and name in dict(PREREQUISITES):
                result = StepResult(
                    name, FAIL, f"{result.detail}; this step needs {dict(PREREQUISITES)[name]}"
                )
            self.results.append(result)
            self._print(result.line())
        self._print(self.summary())
        return 1 if any(r.status == FAIL for r in self.results) else 0

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in (PASS, FAIL, SKIP)}
        verdict = "FAILED" if counts[FAIL] else "passed"
        lines = [
            f"smoke {verdict}: {counts[PASS]} passed, {counts[FAIL]} failed, "
            f"{counts[SKIP]} skipped ({self.stack})"
        ]
        left = self.left_behind()
        if left:
            lines.append("left behind: " + "; ".join(left))
        return "\n".join(lines)

    def left_behind(self) -> list[str]:
        left = []
        if self.mlflow_run is not None:
            left.append(f"MLflow run {self.mlflow_run.info.run_id}")
        if self.model_version is not None:
            left.append(
                f"model version {self.model_name} {self.model_version.version} (remove it with "
                f"MlflowClient().delete_model_version({self.model_name!r}, "
                f"{str(self.model_version.version)!r}))"
            )
        if self.job_run_id is not None:
            left.append(f"job run {self.job_run_id}")
        if self.folder and self.keep:
            left.append(f"workspace folder {self.folder}")
        return left


def main(
    argv: Sequence[str] | None = None,
    *,
    services: Services | None = None,
    stdout: TextIO | None = None,
) -> int:
    args = _parser().parse_args(argv)
    smoke = Smoke(
        stack=args.stack,
        services=services or Services(),
        out=stdout or sys.stdout,
        keep=args.keep,
        timeout=args.timeout,
        batch_input=args.batch_input,
        poll_seconds=args.poll_seconds,
        compute=args.compute,
    )
    return smoke.run()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.smoke",
        description="Prove a deployed stack end to end. Exit 0 when no step failed.\n\n"
        "prerequisites, before the steps:\n"
        + "\n".join(f"  - {line} (first needed by '{step}')" for step, line in PREREQUISITES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="the deployed stack, e.g. dev")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the uploaded notebook folder (the run and model version are always kept)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for the cluster and for the run (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--poll-seconds",
        type=_positive_seconds,
        default=POLL_SECONDS,
        help=f"seconds between polls of the cluster and the run (default {POLL_SECONDS:.0f})",
    )
    parser.add_argument(
        "--compute",
        choices=COMPUTES,
        default=CLUSTER,
        help="run the notebook on the stack's cluster (default) or on serverless compute",
    )
    parser.add_argument(
        "--batch-input",
        help="with a batch endpoint: the URI of the input to score (a CSV file or folder)",
    )
    return parser


def _positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return seconds


if __name__ == "__main__":
    sys.exit(main())
