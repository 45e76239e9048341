"""`make mutation`'s report: the score of each part, from the results mutmut records."""

from __future__ import annotations

import json
from pathlib import Path

from tools.mutation_score import main


def record(mutants: Path, source: str, exit_codes: dict[str, int | None]) -> None:
    """A `<source>.meta` file as mutmut 3.8 writes it (mutmut/mutation/data.py, save)."""
    meta = mutants / f"{source}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(
        json.dumps(
            {
                "exit_code_by_key": exit_codes,
                "hash_by_function_name": {},
                "type_check_error_by_key": {},
                "durations_by_key": {},
                "estimated_durations_by_key": {},
            }
        )
    )


def test_the_report_scores_core_and_components_each_and_all_together(tmp_path, capsys):
    record(tmp_path, "core/config.py", {"a__mutmut_1": 1, "a__mutmut_2": 1, "a__mutmut_3": 0})
    record(tmp_path, "core/naming.py", {"b__mutmut_1": 3})
    record(tmp_path, "components/diagnostics.py", {"c__mutmut_1": 0, "c__mutmut_2": 1})
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "mutation score by part (killed of checked):",
        "  components/  1 of 2 killed (50%), 1 survived",
        "  core/        3 of 4 killed (75%), 1 survived",
        "  all          4 of 6 killed (67%), 2 survived",
        "the survivors: mutmut results",
    ]


def test_mutants_not_run_skipped_or_timed_out_are_told_apart_from_survivors(tmp_path, capsys):
    # None: not checked (MUTANTS= ran others); 34: skipped; 36: timeout; 33: no tests.
    record(tmp_path, "core/config.py", {"a__mutmut_1": 1, "a__mutmut_2": None, "a__mutmut_3": 34})
    record(tmp_path, "teardown/check.py", {"d__mutmut_1": 36, "d__mutmut_2": 33})
    record(tmp_path, "policy/rules.py", {"e__mutmut_1": None})
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[1:4] == [
        "  core/        1 of 1 killed (100%), 0 survived; 1 not run",
        "  policy/      no mutant checked (1 not run)",
        "  teardown/    0 of 2 killed (0%), 0 survived, 2 timed out or without tests",
    ]


def test_without_a_mutation_run_the_report_says_to_run_one_and_fails(tmp_path, capsys):
    assert main([str(tmp_path / "mutants")]) == 1
    assert "run `make mutation` first" in capsys.readouterr().err
