"""Whole-task evaluation harness: task format, judging, reports, JUnit, resume, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tensor_agent.cli import main
from tensor_agent.errors import InputError
from tensor_agent.tasks_eval import load_tasks, lookup

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_suite_is_valid_and_covers_the_seed_rows():
    tasks = load_tasks(ROOT / "evals" / "tasks.jsonl")
    ids = {t.id for t in tasks}
    assert len(tasks) >= 25
    assert 5 <= len(load_tasks(ROOT / "evals" / "tasks.jsonl", quick=True)) < len(tasks)
    from tensor_agent.catalogue import FAMILIES

    assert {f"design-{f}" for f in FAMILIES} <= ids  # every family designed
    tools = {tool for t in tasks for tool in t.expect.tools}
    assert {"estimate_data", "design_architecture", "tune_model", "train_model", "compress_model",
            "deploy_model", "track_experiment"} <= tools


def test_bad_task_files_name_the_line(tmp_path):
    bad = tmp_path / "t.jsonl"
    bad.write_text('{"id": "a", "message": "@TENSOR hi"}\n{"id": "b", "expect": {"metrics": ["nonsense"]}}\n')
    with pytest.raises(InputError, match="t.jsonl:2"):
        load_tasks(bad)
    bad.write_text('{"id": "a", "message": "x"}\n{"id": "a", "message": "y"}\n')
    with pytest.raises(InputError, match="duplicate task id"):
        load_tasks(bad)


def test_lookup_finds_dotted_paths_and_leaf_names():
    res = {"train_model": {"test_metrics": {"accuracy": 0.97}, "history": [{"loss": 1.0}]}}
    assert lookup(res, "train_model", "test_metrics.accuracy") == 0.97
    assert lookup(res, "train_model", "accuracy") == 0.97
    assert lookup(res, "train_model", "nothing") is None and lookup(res, "compress_model", "x") is None


def _write(tmp_path, tasks) -> Path:
    p = tmp_path / "tasks.jsonl"
    p.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return p


def test_failing_task_reports_measured_value_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TENSOR_HOME", str(tmp_path / "home"))
    tasks = _write(tmp_path, [
        {"id": "rejects-typo", "message": "@TENSOR train an MLP on iris", "options": {"epochz": 2},
         "expect": {"exit_code": 2, "time_limit_s": 60}},
        {"id": "broken-on-purpose", "message": "@TENSOR train an MLP on iris", "options": {"epochz": 2},
         "expect": {"exit_code": 0}},
    ])
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    rc = main(["eval", "--tasks", str(tasks), "--report", str(report), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 1 and "1 passed, 1 failed" in out and "measured 2" in out
    data = json.loads(report.read_text())
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["rejects-typo"]["passed"] and not by_id["broken-on-purpose"]["passed"]
    assert by_id["broken-on-purpose"]["checks"][0] == {"check": "exit_code == 0", "value": 2, "ok": False}
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    # resume: nothing is run again, the same verdicts come back
    rc = main(["eval", "--tasks", str(tasks), "--report", str(report), "--resume"])
    assert rc == 1 and "1 passed, 1 failed" in capsys.readouterr().out
