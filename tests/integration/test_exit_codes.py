"""The README's exit-code table, through the CLI: bad input -> 2, cannot be met -> 3, back-end down -> 4.

Each case runs `tensor_agent.cli.main(argv)` in-process (the console script calls exactly this) in a
fresh workspace and checks the code, that stderr says what is wrong, and that no traceback is shown.
A few cases also run as real subprocesses to check the console script itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tensor_agent.cli import main

pytestmark = pytest.mark.integration

ASK = "@TENSOR train an MLP on iris"


def _files(tmp: Path) -> dict[str, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "empty_dir").mkdir(exist_ok=True)
    (tmp / "one_class").mkdir(exist_ok=True)
    (tmp / "one_class" / "cats").mkdir(exist_ok=True)
    (tmp / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (tmp / "no_target.csv").write_text("a,b\n1,2\n3,4\n5,6\n", encoding="utf-8")
    (tmp / "bad.jsonl").write_text('{"text": "@TENSOR design a cnn"\nnot json\n', encoding="utf-8")
    (tmp / "notes.txt").write_text("hello", encoding="utf-8")
    return {p.name: p for p in tmp.iterdir()}


# (argv after the program name, expected code, a word the error must contain)
CASES = [
    (["ask", ""], 2, "empty"),
    (["ask", "   \n "], 2, "empty"),
    (["ask", ASK, "--set", "epochs"], 2, "KEY=VALUE"),
    (["ask", ASK, "--set", "=3"], 2, "KEY=VALUE"),
    (["ask", ASK, "--set", "epochz=2"], 2, "did you mean 'epochs'"),
    (["ask", ASK, "--set", "frobnicate=1"], 2, "unknown option 'frobnicate'"),
    (["ask", ASK, "--set", "epochs=-1"], 2, "epochs"),
    (["ask", ASK, "--set", "epochs=2.5"], 2, "epochs"),
    (["ask", ASK, "--set", "lr=nan"], 2, "lr"),
    (["ask", ASK, "--set", "lr=0"], 2, "lr"),
    (["ask", ASK, "--set", "batch_size=0"], 2, "batch_size"),
    (["ask", ASK, "--set", "dropout=1.0"], 2, "dropout"),
    (["ask", ASK, "--set", "optimizer=rmsprop"], 2, "optimizer"),
    (["ask", ASK, "--set", "schedule=linear-ish"], 2, "schedule"),
    (["ask", ASK, "--set", "time_budget_s=0"], 2, "time_budget_s"),
    (["ask", ASK, "--set", "register=a/b"], 2, "registration name"),
    (["ask", ASK, "--set", "register=../x"], 2, "registration name"),
    (["ask", "@TENSOR prune my model", "--set", "sparsity=1.5"], 2, "sparsity"),
    (["ask", "@TENSOR quantize my model", "--set", "threads=0"], 2, "threads"),
    (["ask", "@TENSOR quantize my model", "--set", "batch_size=0"], 2, "batch_size"),
    (["ask", "@TENSOR how much data do I need", "--set", "regime=magic"], 2, "regime"),
    (["ask", ASK, "--dry-run", "--set", "seed=-4"], 2, "seed"),
    (["ask", ASK, "--set", "pretrained=maybe"], 2, "pretrained"),
    (["ask", "@TENSOR train a classifier on my csv", "--set", "data_path={tmp}/missing.csv"], 2, "missing.csv"),
    (["ask", "@TENSOR train a classifier on my csv", "--set", "data_path={tmp}/binary.csv"], 2, "binary.csv"),
    (["ask", "@TENSOR train a classifier on my csv", "--set", "data_path={tmp}/no_target.csv",
      "--set", "target_column=label"], 2, "label"),
    (["ask", "@TENSOR train a CNN on my image folder", "--set", "data_path={tmp}/empty_dir"], 2, "empty_dir"),
    (["ask", "@TENSOR train a CNN on my image folder", "--set", "data_path={tmp}/one_class"], 2, "one_class"),
    (["ask", "@TENSOR quantize my model", "--set", "model_path={tmp}/nowhere"], 2, "nowhere"),
    (["ask", "@TENSOR quantize my model", "--set", "model_path={tmp}/notes.txt"], 2, "notes.txt"),
    (["eval", "{tmp}/bad.jsonl"], 2, "bad.jsonl:1"),
    (["eval", "{tmp}/missing.jsonl"], 2, "missing.jsonl"),
    (["memory", "import", "{tmp}/binary.csv"], 2, "binary.csv"),
    (["ask", "@TENSOR quantize my model to int8"], 3, "model"),
    (["ask", "@TENSOR prune it 50%"], 3, "model"),
    (["ask", "@TENSOR design a vision transformer for images under 1000 parameters"], 3, "param"),
    (["ask", "@TENSOR design a model for image classification", "--set", "family=nosuchnet"], 3, "nosuchnet"),
    (["ask", "@TENSOR how much data to reach 100% accuracy on image classification"], 3, "100%"),
]


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("TENSOR_HOME", str(home))
    monkeypatch.setenv("TENSOR_THREADS", "1")
    monkeypatch.delenv("TENSOR_DEBUG", raising=False)
    files = _files(tmp_path / "files")
    return home, tmp_path / "files", files


@pytest.mark.parametrize("argv,code,word", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_exit_code_table(argv, code, word, workspace, capsys):
    home, tmp, _ = workspace
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == code, f"{argv}: exit {rc}, expected {code}\nstdout: {out[-800:]}\nstderr: {err[-800:]}"
    assert "Traceback" not in out + err
    assert word.lower() in err.lower(), f"{argv}: stderr does not mention {word!r}: {err[-800:]}"


def test_backend_unavailable_is_4(workspace, capsys):
    home, _, _ = workspace
    os.environ["TENSOR_CHROMA_URL"] = "http://127.0.0.1:9"
    try:
        rc = main(["memory", "list"])
    finally:
        os.environ.pop("TENSOR_CHROMA_URL", None)
    out, err = capsys.readouterr()
    assert rc == 4 and "Traceback" not in out + err and "127.0.0.1:9" in err


def test_unaddressed_message_is_0_and_runs_nothing(workspace, capsys):
    assert main(["ask", "design a CNN for images", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["plan"]["addressed"] is False and result["results"] == {}


def test_console_script_prints_one_line_errors(workspace):
    home, tmp, _ = workspace
    exe = Path(sys.executable).with_name("tensor-agent")
    env = {**os.environ, "TENSOR_HOME": str(home)}
    for argv, code in ((["ask", ASK, "--set", "epochz=2"], 2), (["ask", "@TENSOR quantize it"], 3)):
        proc = subprocess.run([str(exe), *argv], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == code, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")
