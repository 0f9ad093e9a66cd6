"""Hostile files through every path option: a pickle whose __reduce__ creates a marker file never runs.

Every payload goes through the CLI (`tensor-agent ask ... --set model_path=...`, `memory import`), in one
subprocess with a fresh HOME and workspace (heavy imports once). Each must exit 2 with a clear message
naming the file, and no marker may exist afterwards. The checkpoint payload (no path option: checkpoints
live in the workspace) goes through the training loop itself: it is set aside with a warning.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


class _Payload:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _pickle(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Payload(marker)))
    return path


def _meta(d: Path, meta: dict) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "handle.json").write_text(json.dumps(meta))
    return d


def _cases(root: Path) -> dict[str, tuple[list[str], Path, str]]:
    """name -> (CLI argv, marker, text the error must contain)."""
    m = {name: root / "markers" / name for name in (
        "file", "dir_model_pt", "sklearn_pickle", "new_weights", "new_qweights", "module_outside",
        "weights_outside", "backbone", "model_uri", "memory_import")}
    (root / "markers").mkdir(parents=True)
    evil = _pickle(root / "evil.pt", m["file"])
    dir_pt = root / "dir_model_pt"
    _pickle(dir_pt / "model.pt", m["dir_model_pt"])
    skl = _meta(root / "sklearn", {"family": "mlp", "kind": "sklearn", "files": {"module": "model.pkl"}})
    _pickle(skl / "model.pkl", m["sklearn_pickle"])
    spec = {"family": "mlp", "variant": "tiny", "hparams": {}, "input_spec": {"kind": "tabular", "shape": [4]},
            "num_classes": 3, "task": "classification"}
    new_w = _meta(root / "new_weights", {"format": 2, "family": "mlp", "kind": "torch", "spec": spec,
                                         "files": {"weights": "weights.safetensors"}})
    _pickle(new_w / "weights.safetensors", m["new_weights"])
    new_q = _meta(root / "new_qweights", {"format": 2, "family": "mlp", "kind": "torch", "spec": spec,
                                          "stored": {"quantization": {"kind": "dynamic_int8", "modules": {}}},
                                          "files": {"qweights": "weights.pt"}})
    _pickle(new_q / "weights.pt", m["new_qweights"])
    _pickle(root / "outside.pt", m["module_outside"])
    mod_out = _meta(root / "inner" / "module_outside", {"family": "mlp", "kind": "torch",
                                                         "files": {"module": "../../outside.pt",
                                                                   "state_dict": "../../outside.pt"}})
    _pickle(root / "outside.safetensors", m["weights_outside"])
    w_out = _meta(root / "inner" / "weights_outside", {"format": 2, "family": "mlp", "kind": "torch", "spec": spec,
                                                        "files": {"weights": "../../outside.safetensors"}})
    uri = _meta(root / "uri_model", {"family": "mlp", "kind": "torch", "extra": {"variant": "tiny"},
                                     "input_spec": spec["input_spec"], "num_classes": 3,
                                     "files": {"module": "model.pt", "state_dict": "state_dict.pt"}})
    _pickle(uri / "model.pt", m["model_uri"])
    _pickle(uri / "state_dict.pt", m["model_uri"])
    mem = _pickle(root / "memory.jsonl", m["memory_import"])
    q = ["ask", "@TENSOR quantize my model to int8", "--set"]
    return {
        "model_path file": (q + [f"model_path={evil}"], m["file"], "bare model file|is a file, not a saved model directory"),
        "model_path dir with model.pt": (q + [f"model_path={dir_pt}"], m["dir_model_pt"], "expected handle.json"),
        "handle.json kind sklearn (pickle)": (q + [f"model_path={skl}"], m["sklearn_pickle"], "old model format"),
        "safetensors that is a pickle": (q + [f"model_path={new_w}"], m["new_weights"], "not a safetensors"),
        "INT8 state dict that is a pickle": (q + [f"model_path={new_q}"], m["new_qweights"], "weights_only"),
        "handle.json module path outside": (q + [f"model_path={mod_out}"], m["module_outside"], "old model format"),
        "handle.json weights path outside": (q + [f"model_path={w_out}"], m["weights_outside"],
                                             "points outside the model directory"),
        "backbone": (["ask", "@TENSOR train a classifier on the digits dataset", "--set", f"backbone={dir_pt}",
                      "--set", "epochs=1"], m["dir_model_pt"], "expected handle.json"),
        "model_uri file://": (q + [f"model_uri=file://{uri}"], m["model_uri"], "weights_only"),
        "memory import": (["memory", "import", str(mem)], m["memory_import"], "binary file"),
    }


_RUNNER = r"""
import contextlib, io, json, sys
from tensor_agent.cli import main
out = {}
for name, argv in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    out[name] = {"code": code, "err": err.getvalue()}
print("RESULTS" + json.dumps(out))
"""


def test_no_payload_runs_and_each_exits_2(tmp_path):
    root = tmp_path / "payloads"
    cases = _cases(root)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "TENSOR_HOME": str(tmp_path / "ws"),
           "TENSOR_PLANNER": "rules", "TENSOR_THREADS": "1"}
    for key in ("MLFLOW_TRACKING_URI", "TENSOR_CHROMA_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(key, None)
    (tmp_path / "home").mkdir()
    argvs = {name: argv for name, (argv, _, _) in cases.items()}
    proc = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(argvs)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert "RESULTS" in proc.stdout, proc.stderr[-3000:]
    results = json.loads(proc.stdout.split("RESULTS", 1)[1])
    ran = sorted(p.name for p in (root / "markers").iterdir())
    assert ran == [], f"payloads ran: {ran}"
    problems = {}
    for name, (_, _, expected) in cases.items():
        got = results[name]
        if got["code"] != 2 or not any(e in got["err"] for e in expected.split("|")):
            problems[name] = got
    assert not problems, json.dumps(problems, indent=1)
    for name, got in results.items():
        assert "internal error" not in got["err"] and "Traceback" not in got["err"], (name, got["err"])


def test_checkpoint_payload_is_set_aside(tmp_path):
    """A pickle in place of the training checkpoint is refused by torch.load(weights_only=True), set aside
    with a warning, and training starts fresh; the payload never runs."""
    import torch

    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.zoo.registry import create_model

    marker = tmp_path / "MARKER"
    ck = tmp_path / "ck"
    _pickle(ck / "last.pt", marker)
    data = load_dataset("iris", seed=0)
    h = create_model("mlp", variant="tiny", input_spec=data.input_spec, num_classes=data.num_classes)
    torch.manual_seed(0)
    res = fit(h.module, data, TrainConfig(epochs=1, checkpoint_dir=str(ck), num_threads=1))
    assert not marker.exists()
    assert res.resumed_from is None and res.epochs_run == 1
    assert any("moved aside" in w for w in res.warnings), res.warnings
    assert any(p.name.startswith("last.pt.bad-") for p in ck.iterdir())
