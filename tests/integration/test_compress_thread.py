"""One conversation through the CLI (`--thread`): train a CNN on digits, "now quantize it", "prune it too",
"export it", "export it to ONNX", "how much faster?". Every step succeeds or says why not, the thread
keeps the model's lineage, an export is delivered only when its parity holds, and the follow-up is
answered from the thread's measured results. Small settings: 2 epochs, 5 timing rounds, 1 fine-tune epoch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SMALL = ["--set", "runs=5", "--set", "calibration_size=64"]


def _ask(home: Path, text: str, *sets: str, dry: bool = False) -> dict:
    env = dict(os.environ, TENSOR_HOME=str(home), TENSOR_PLANNER="rules", TENSOR_THREADS="1",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TQDM_DISABLE="1")
    cmd = [sys.executable, "-m", "tensor_agent.cli", "ask", text, "--thread", "t1", "--json", "--no-memory",
           *(["--dry-run"] if dry else []), *sets]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stdout.strip(), f"no JSON on stdout (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def _compress(res: dict) -> tuple[dict, str]:
    return (res.get("results") or {}).get("compress_model") or {}, (res.get("errors") or {}).get("compress_model", "")


def _routes_to_compress(home: Path, text: str) -> dict:
    plan = _ask(home, text, dry=True)
    return plan if "compress_model" in (plan.get("tools") or []) else {}


def test_a_thread_that_follows_the_model(tmp_path):
    home = tmp_path / "ws"
    home.mkdir()
    res = _ask(home, "@TENSOR train a CNN on digits", "--set", "epochs=2")
    assert (res.get("results") or {}).get("train_model", {}).get("model_path"), res.get("errors")

    # "now quantize it": INT8 back-ends chosen by paired timing; the choice is explained with intervals
    rep, err = _compress(_ask(home, "@TENSOR now quantize it", *SMALL))
    assert rep and not err, err
    root, *rest = rep["lineage"]
    assert root["step"] == "train" and root["quantized"] is False and root["path"]
    if rep["promoted"]:
        node = rest[-1]
        assert node["quantized"] and node["parent"] == root["id"] and node["speedup"]["low"] <= node["speedup"]["value"]
        assert any(line.startswith("Choice: kept") and "[" in line for line in rep["message"].splitlines())
    else:
        assert "original stays" in rep["message"]

    # "prune it too": the float parent is pruned and the result re-quantized (or a clear why-not)
    rep, err = _compress(_ask(home, "@TENSOR prune it too", *SMALL, "--set", "finetune_epochs=1"))
    if err:
        assert "float" in err and "prune" in err, err
    else:
        nodes = rep["lineage"]
        pruned = [n for n in nodes if n["step"] == "pruning"]
        assert pruned and pruned[-1]["parent"] == root["id"] and not pruned[-1]["quantized"], nodes
        if nodes[-1]["step"] != "pruning":  # re-quantized after pruning
            assert nodes[-1]["quantized"] and nodes[-1]["parent"] == pruned[-1]["id"]
        if rest and rep["lineage"][1]["quantized"]:
            assert "float parent" in rep["message"] and "re-quantized" in rep["message"]

    # "export it": exports the current model (the planner must name the technique; see the report if not)
    plan = _routes_to_compress(home, "@TENSOR export it")
    sets = [] if any(t in ("onnx", "export") for t in plan.get("techniques") or []) else ["--set", "technique=onnx"]
    _export_step(home, "@TENSOR export it", *sets)

    # "export it to ONNX": a file whose parity holds, or FAILED and nothing delivered
    _export_step(home, "@TENSOR export it to ONNX")

    # "how much faster?": answered from the lineage's measurement, nothing re-run
    if not _routes_to_compress(home, "@TENSOR how much faster?"):
        pytest.skip("the planner does not route 'how much faster?' to compress_model (question=speed) yet; "
                    "the tool side is tested in tests/unit/test_compress_lineage.py")
    rep, err = _compress(_ask(home, "@TENSOR how much faster?"))
    cur = [n for n in rep["lineage"] if n["step"] != "export"][-1]
    assert rep["status"] == "answered" and f"{cur['speedup']['value']:.2f}x faster" in rep["answer"], rep


def _export_step(home: Path, text: str, *sets: str) -> None:
    def files() -> set:
        return {p for p in home.glob("artifacts/compress/*/export/**/*") if p.is_file()}

    before = files()
    rep, err = _compress(_ask(home, text, *SMALL, *sets))
    new = files() - before
    if err:
        assert "FAILED" in err and "nothing was delivered" in err, err
        assert not new, f"a failed export left files: {new}"
        return
    node = rep["lineage"][-1]
    assert node["step"] == "export" and node["delivered"] and node["max_abs_diff"] <= 1e-4, node
    delivered = {Path(f) for f in rep["delivered"].values()}
    assert delivered and delivered <= new, (delivered, new)
