"""Nothing trained is destroyed and interruptions are recoverable (real CLI processes, real MLflow, real SIGKILL).

* a registration that fails after training (the real SQLite registry refuses the insert through a trigger)
  keeps the model, exits 3 with its path and the command that finishes, and the MLflow run points at it;
* SIGKILL during training, then a different request in the same thread: it trains, warns that the
  checkpoint was set aside, and the killed run is marked KILLED;
* SIGKILL during compression: the original model is byte-identical and the next start leaves no orphan.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _env(ws: Path, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "TENSOR_CHROMA_URL",
                                                          "OPENAI_BASE_URL", "OPENAI_API_KEY")}
    env.update({"TENSOR_HOME": str(ws), "HOME": str(home), "TENSOR_PLANNER": "rules", "TENSOR_THREADS": "1"})
    home.mkdir(parents=True, exist_ok=True)
    return env


def _cli(env, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tensor_agent.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def _start(env, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tensor_agent.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(pred, timeout: float, proc: subprocess.Popen | None = None):
    end = time.time() + timeout
    while time.time() < end:
        got = pred()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            return None
        time.sleep(0.2)
    return None


def _client(ws: Path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{ws / 'mlflow' / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _tree(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*"))
            if p.is_file()}


def test_failed_registration_keeps_the_model(tmp_path):
    ws = tmp_path / "ws"
    (ws / "mlflow").mkdir(parents=True)
    client = _client(ws)
    client.search_experiments()  # creates the tables
    with sqlite3.connect(ws / "mlflow" / "mlflow.db") as conn:
        conn.execute("CREATE TRIGGER registry_down BEFORE INSERT ON registered_models "
                     "BEGIN SELECT RAISE(ABORT, 'registry is down'); END;")
    proc = _cli(_env(ws, tmp_path / "home"), "ask", "@TENSOR train an MLP on iris", "--set", "epochs=2",
                "--set", "register=iris-mlp")
    assert proc.returncode == 3, proc.stderr[-2000:]
    models = [d for d in (ws / "models").iterdir() if (d / "handle.json").exists()]
    assert len(models) == 1, list((ws / "models").iterdir())
    assert str(models[0]) in proc.stderr and "finish" in proc.stderr, proc.stderr[-2000:]
    from tensor_agent.tools.core.model_store import load_model

    assert load_model(models[0], workspace=ws).family == "mlp"
    runs = client.search_runs([client.get_experiment_by_name("tensor-agent").experiment_id])
    tagged = [r for r in runs if r.data.tags.get("tensor.model_path") == str(models[0])]
    assert tagged, [r.data.tags.get("tensor.model_path") for r in runs]


def test_sigkill_during_training_then_a_different_request(tmp_path):
    ws = tmp_path / "ws"
    env = _env(ws, tmp_path / "home")
    proc = _start(env, "ask", "@TENSOR train a CNN on the digits dataset", "--set", "epochs=300",
                  "--set", "variant=small", "--thread", "k")
    ckpt = _wait_for(lambda: next(iter((ws / "checkpoints").glob("*/last.pt")), None)
                     if (ws / "checkpoints").exists() else None, 240, proc)
    assert ckpt is not None and proc.poll() is None, "training ended before it wrote a checkpoint"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    done = _cli(env, "ask", "@TENSOR train a CNN on the digits dataset", "--set", "epochs=1",
                "--set", "variant=micro", "--thread", "k", "--json")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "moved aside" in out or "set aside" in out, out[-3000:]
    # (the trainer removes the checkpoint directory once a training finishes; the warning is the record)
    client = _client(ws)
    runs = client.search_runs([client.get_experiment_by_name("tensor-agent").experiment_id])
    statuses = sorted(r.info.status for r in runs)
    assert "KILLED" in statuses and "FINISHED" in statuses, statuses
    assert "RUNNING" not in statuses, statuses


def test_sigkill_during_compression_leaves_the_original_and_no_orphan(tmp_path):
    ws = tmp_path / "ws"
    env = _env(ws, tmp_path / "home")
    first = _cli(env, "ask", "@TENSOR train a CNN on the digits dataset", "--set", "epochs=1",
                 "--set", "variant=micro", "--thread", "c")
    assert first.returncode == 0, first.stderr[-2000:]
    (original,) = [d for d in (ws / "models").iterdir() if (d / "handle.json").exists()]
    before = _tree(original)

    def temp_dirs():
        return [p for d in (ws / "models", ws / "artifacts") if d.exists() for p in d.rglob(".tmp-*")]

    proc = _start(env, "ask", "@TENSOR now quantize it with quantization-aware training", "--set", "technique=qat",
                  "--thread", "c")
    seen = _wait_for(temp_dirs, 240, proc)
    if proc.poll() is None:
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert seen, "the compression finished before it wrote anything; nothing was interrupted"
    assert _tree(original) == before  # the original model is byte-identical
    again = _cli(env, "ask", "@TENSOR now quantize it to int8", "--set", "technique=dynamic_int8", "--thread", "c")
    assert again.returncode == 0, again.stderr[-2000:]
    assert temp_dirs() == [], temp_dirs()
    assert _tree(original) == before
