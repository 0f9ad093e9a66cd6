"""The CLI's tool worker (tensor_agent/toolworker.py) gives the answers the tools give in process.

Real CLI processes on fresh workspaces, real torch models, a real Chroma store through the memory sidecar:
the same request with the worker on and off (TENSOR_TOOL_WORKER=0) gives the same design, the same error
and exit code, the same memory-driven choice; the CLI parent never imports torch; a worker that is gone
makes the tool run in process; a killed CLI takes its worker (and the tool it runs) with it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DESIGN = "@TENSOR design CNN architecture for image classification"
PROBE = ("import sys; from tensor_agent.cli import main; rc = main(sys.argv[1:]); "
         "sys.stderr.write('\\nTORCH_IN_PARENT=%s\\n' % ('torch' in sys.modules)); sys.exit(rc)")


def _env(ws: Path, worker: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "TENSOR_CHROMA_URL",
                                                          "OPENAI_BASE_URL", "OPENAI_API_KEY")}
    env.update({"TENSOR_HOME": str(ws), "TENSOR_PLANNER": "rules", "TENSOR_THREADS": "1",
                "TENSOR_TOOL_WORKER": "1" if worker else "0"})
    return env


def _ask(ws: Path, text: str, *extra: str, worker: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, "ask", text, "--json", *extra], env=_env(ws, worker),
                          capture_output=True, text=True, timeout=600)


def _design(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)["results"]["design_architecture"]


FIELDS = ("family", "variant", "modality", "task", "params", "macs", "output_shape", "feasible")


def test_design_is_the_same_with_and_without_the_worker(tmp_path):
    on, off = _ask(tmp_path / "on", DESIGN), _ask(tmp_path / "off", DESIGN, worker=False)
    a, b = _design(on), _design(off)
    assert {k: a.get(k) for k in FIELDS} == {k: b.get(k) for k in FIELDS}
    assert a["family"] == "cnn" and a["params"] > 0 and a["latency_ms"] > 0
    assert "TORCH_IN_PARENT=False" in on.stderr  # the point: torch was imported in the worker only
    assert "TORCH_IN_PARENT=True" in off.stderr
    for ws in (tmp_path / "on", tmp_path / "off"):  # the PNG is written before the CLI returns
        assert list((ws / "artifacts").glob("design-cnn-*.png")), list(ws.rglob("*.png"))
        from tensor_agent.config import Settings
        from tensor_agent.memory import Memory
        from tensor_agent.memory.store import Store

        mem = Memory(Store.open(Settings.from_env(ws)))
        try:
            assert [r["family"] for r in mem.list("design")] == ["cnn"]  # remembered through the sidecar
        finally:
            mem.close()


def test_a_tool_error_keeps_its_message_exit_code_and_payload(tmp_path):
    text = "@TENSOR design a CNN for 32x32 RGB image classification with at most 50 parameters"
    on, off = _ask(tmp_path / "on", text), _ask(tmp_path / "off", text, worker=False)
    assert on.returncode == off.returncode == 3, (on.stderr[-2000:], off.stderr[-2000:])
    a, b = json.loads(on.stdout), json.loads(off.stdout)
    timed = re.compile(r"[0-9.]+ ms")  # latencies are measured: they differ run to run
    assert {k: timed.sub("ms", v) for k, v in a["errors"].items()} == {k: timed.sub("ms", v) for k, v in b["errors"].items()}
    assert a["codes"] == b["codes"] == {"design_architecture": 3}
    assert "relax the budget" in a["errors"]["design_architecture"]
    nearest = a["results"].get("design_architecture") or {}
    assert nearest.get("family") == (b["results"].get("design_architecture") or {}).get("family") == "cnn"


def _seed_memory(ws: Path) -> list[str]:
    """Three wine runs where mlp clearly beat xgboost (records as the trainer writes them)."""
    from tensor_agent.config import Settings
    from tensor_agent.memory import Memory
    from tensor_agent.memory.store import Store
    from tensor_agent.schema import Plan

    mem = Memory(Store.open(Settings.from_env(ws)))
    plan = Plan(addressed=True, intents=["train"], modality="tabular", task="classification",
                text="@TENSOR train a model for tabular classification on wine")
    try:
        for seed in range(3):
            for family, acc in (("mlp", 0.99), ("xgboost", 0.70)):
                report = {"dataset": "wine", "family": family, "test_metrics": {"accuracy": acc},
                          "dataset_info": {"modality": "tabular", "task": "classification"},
                          "stopped_reason": "completed", "wall_s": 1.0, "run_key": f"{family}-{seed}"}
                design = {"family": family, "modality": "tabular", "task": "classification"}
                mem.remember_turn(plan, {"design_architecture": design, "train_model": report})
        return [r["id"] for r in mem.list("outcome", family="mlp")]
    finally:
        mem.close()


def test_memory_evidence_reaches_the_designer_in_the_worker(tmp_path):
    text = "@TENSOR design a model for tabular classification on the wine dataset"
    ids = {}
    for mode in ("on", "off"):
        ids[mode] = _seed_memory(tmp_path / mode)
    on, off = _ask(tmp_path / "on", text), _ask(tmp_path / "off", text, worker=False)
    a, b = _design(on), _design(off)
    assert a["family"] == b["family"] == "mlp", (a.get("rationale"), b.get("rationale"))
    assert any(i in "\n".join(a["rationale"]) for i in ids["on"])  # cites the runs it learned from


def test_no_worker_where_torch_is_already_loaded(tmp_path):
    import torch  # noqa: F401 - as in a server or a test process
    from tensor_agent import toolworker
    from tensor_agent.config import Settings

    assert toolworker.start(Settings.from_env(tmp_path / "ws")) is None


def test_a_gone_worker_means_the_tool_runs_in_process(tmp_path):
    from tensor_agent import toolworker
    from tensor_agent.agent import TensorAgent

    with TensorAgent(tmp_path / "ws", remember=False) as agent:
        worker = toolworker.ToolWorker(agent.settings)  # (start() declines where torch is already loaded)
        toolworker._ACTIVE[toolworker._key(agent.settings)] = worker
        try:
            assert toolworker.active(agent.settings) is worker
            worker._proc.kill()
            worker._proc.wait()
            result = agent.invoke(DESIGN)
        finally:
            toolworker.stop(agent.settings)
    assert result.exit_code == 0 and result.results["design_architecture"]["family"] == "cnn"
    assert toolworker.active(agent.settings) is None


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _worker_of(pid: int) -> int | None:
    for child in _children(pid):
        try:
            if "tensor_agent.toolworker" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                return child
        except OSError:
            continue
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_cli_takes_its_worker_with_it(tmp_path):
    ws = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-m", "tensor_agent.cli", "ask", "@TENSOR train a CNN on the digits "
                             "dataset", "--set", "epochs=300", "--no-memory"], env=_env(ws, True),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end, worker = time.time() + 120, None
        while time.time() < end and worker is None and proc.poll() is None:
            worker = _worker_of(proc.pid)
            time.sleep(0.2)
        assert worker is not None, "no tool worker was started"
        time.sleep(3)  # it is importing torch or training by now
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        end = time.time() + 20
        while time.time() < end and Path(f"/proc/{worker}").exists() and \
                "Z" not in Path(f"/proc/{worker}/stat").read_text().split()[2]:
            time.sleep(0.2)
        alive = Path(f"/proc/{worker}").exists() and "Z" not in Path(f"/proc/{worker}/stat").read_text().split()[2]
        assert not alive, "the worker outlived its killed CLI"
    finally:
        if proc.poll() is None:
            proc.kill()
