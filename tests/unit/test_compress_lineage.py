"""The thread's lineage, follow-up answers from it, and the compressor's atomic outputs (no training)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tensor_agent.schema import Constraint, Plan


def _plan(techniques=(), **constraints) -> Plan:
    cs = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in constraints.items()]
    return Plan(addressed=True, intents=["compress"], tools=["compress_model"], constraints=cs, text="x",
                techniques=list(techniques))


def _thread(ctx, tmp_path):
    """A lineage as three turns leave it: train, INT8 (onnx), export."""
    from tensor_agent.tools.compress import lineage

    root = lineage.add(ctx, step="train", parent=None, float_parent=None, quantized=False, family="cnn",
                       path=str(tmp_path / "float"), backend="torch-fp32", size_bytes=385_511,
                       metrics={"accuracy": 0.9639})
    q = lineage.add(ctx, step="onnx_int8", steps=["onnx_int8"], parent=root["id"], float_parent=root["id"],
                    quantized=True, family="cnn", path=str(tmp_path / "int8"), backend="onnxruntime-int8-static",
                    size_bytes=107_599, metrics={"accuracy": 0.9611}, vs=root["id"], batch_size=32, threads=1,
                    latency_ms=1.03, speedup={"value": 4.61, "low": 4.32, "high": 4.93, "rounds": 20})
    lineage.add(ctx, step="export", parent=q["id"], format="onnx", files={"onnx": "m.onnx"}, delivered=True)
    ctx.artifacts["model"] = {"path": q["path"], "family": "cnn"}
    return root, q


def test_lineage_current_float_parent_and_quantizer(ctx, tmp_path):
    from tensor_agent.tools.compress import lineage

    root, q = _thread(ctx, tmp_path)
    assert lineage.current(ctx)["id"] == q["id"]  # exports never become the current model
    assert lineage.float_parent(ctx, q)["id"] == root["id"] and lineage.float_parent(ctx, root)["id"] == root["id"]
    assert lineage.quantizer_of(q) == "onnx_int8" and lineage.quantizer_of(root) is None
    assert [n["id"] for n in lineage.chain(ctx, q)] == [root["id"], q["id"]]
    lineage.update(ctx, root["id"], size_bytes=1, latency_ms=2.0)
    assert lineage.get(ctx, root["id"])["size_bytes"] == 385_511 and lineage.get(ctx, root["id"])["latency_ms"] == 2.0


@pytest.mark.parametrize("question,expected", [
    ("speed", "4.61x faster than the train model (cnn, torch-fp32) (95% interval 4.32-4.93x over 20 paired rounds"),
    ("size", "is 108 KB, 3.58x smaller than the train model (cnn, torch-fp32) (386 KB)"),
    ("accuracy", "accuracy: 0.9639 for the train model"),
    ("lineage", "#2 export onnx of #1 (delivered)"),
])
def test_follow_up_questions_are_answered_from_the_lineage(ctx, tmp_path, question, expected):
    from tensor_agent.tools.compress import compress_model

    _thread(ctx, tmp_path)
    rep = compress_model(_plan(question=question), ctx)
    assert rep.status == "answered" and expected in rep.answer, rep.answer
    assert not rep.results  # nothing was re-run


def test_a_follow_up_without_a_compressed_model_says_so(ctx):
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.compress import compress_model

    with pytest.raises(UnsatisfiableError, match="no compressed model yet"):
        compress_model(_plan(question="speed"), ctx)


def test_float_only_step_on_int8_without_a_known_parent_says_the_order(ctx, tmp_path):
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.compress import lineage
    from tensor_agent.tools.compress.job import rebase

    node = lineage.add(ctx, step="load", parent=None, float_parent=None, quantized=True, backend="torch-int8-static",
                       steps=["static_int8"])
    with pytest.raises(UnsatisfiableError) as err:
        rebase(ctx, object(), node, ["pruning"])
    assert "float weights" in str(err.value) and "distill -> prune -> quantize" in str(err.value)
    assert "technique=pruning,static_int8" in str(err.value)
    # export-only requests act on the INT8 model itself
    h = object()
    assert rebase(ctx, h, node, ["onnx"])[0] is h


def test_outputs_are_published_atomically_and_orphans_of_dead_processes_cleaned(tmp_path):
    from tensor_agent.tools.compress.store import Outputs, clean_orphans

    art, models = tmp_path / "art", tmp_path / "models"
    out = Outputs(art, models, "cnn")
    out.path("export", "onnx", "model.onnx").write_text("x")
    m = out.model_dir("cnn-int8")
    m.mkdir(parents=True)
    (m / "handle.json").write_text("{}")
    assert not out.final.exists() and not (models / "cnn-int8").exists()
    final_file = out.final_path(out.tmp / "export" / "onnx" / "model.onnx")
    out.commit()
    assert os.path.isfile(final_file) and (models / "cnn-int8" / "handle.json").is_file()
    assert not [p for p in list(art.iterdir()) + list(models.iterdir()) if p.name.startswith(".tmp")]
    # a temp dir of a process that is gone is removed; one of a live process (this one) is kept
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = art / f".tmp-compress-{int(dead.stdout)}-abc"
    orphan.mkdir()
    live = Outputs(art, models, "cnn")
    assert clean_orphans(art, models) == [str(orphan)] and live.tmp.is_dir()
    live.abort()
    assert not live.tmp.exists()


def test_a_bare_model_file_is_refused(ctx, tmp_path):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress import compress_model

    evil = tmp_path / "evil.pt"
    evil.write_bytes(b"not a model")
    ctx.options = {"model_path": str(evil)}
    with pytest.raises(InputError, match="bare model file"):
        compress_model(_plan(["int8"]), ctx)
