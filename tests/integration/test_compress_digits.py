"""Real compression of a trained digits CNN: promotion, keeping the original, MLflow child runs, pipelines."""

from __future__ import annotations

import copy

import pytest

from tensor_agent.schema import Constraint, Plan

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.integration


def _plan(text="@TENSOR compress my model", **constraints):
    cs = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in constraints.items()]
    return Plan(addressed=True, intents=["compress"], tools=["compress_model"], constraints=cs, text=text)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine more threads thrash (10x slower training)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def trained(one_thread):
    """A small designer CNN trained a few epochs on digits (shared by the tests, copied per test)."""
    from tensor_agent.tools.compress.data import load_task_data
    from tensor_agent.tools.compress.finetune import finetune
    from tensor_agent.tools.core.zoo.registry import create_model

    torch.manual_seed(0)
    h = create_model("cnn", variant="tiny", input_spec={"shape": [1, 8, 8]}, num_classes=10)
    data = load_task_data("digits")
    finetune(h.module, data, epochs=6, lr=5e-3, use_trainer=False)
    h.module.eval()
    h.dataset = "digits"
    return h


def _fresh(trained):
    h = copy.copy(trained)
    h.module = copy.deepcopy(trained.module)
    h.extra = dict(trained.extra)
    return h


def test_static_int8_is_promoted_saved_and_logged_as_child_run(ctx, trained):
    from tensor_agent.tools.compress import compress_model
    from tensor_agent.tools.core.model_store import load_model
    from tensor_agent.tools.core.tracking import get_run, mlflow_run

    h = _fresh(trained)
    with mlflow_run(ctx, "train-cnn") as parent:
        pass
    h.mlflow_run_id = parent.run_id
    ctx.set_model(h)
    ctx.options = {"runs": 5, "tolerance_points": 1.5}
    rep = compress_model(_plan(technique=["static_int8"]), ctx)
    r = rep.results[0]
    assert r.technique == "static_int8" and r.size_ratio > 1.5, rep.message  # tiny model: overhead; 3.5x in evals
    assert r.before.metric > 0.8 and r.metric_drop_points <= 1.5
    assert rep.promoted and r.promoted and rep.backend == "torch-int8-static"
    cur = ctx.current_model()
    assert cur is not h and cur.extra["backend"] == "torch-int8-static"
    again = load_model(rep.model_path)
    x = torch.rand(4, 1, 8, 8)
    assert torch.allclose(again.module(x), cur.module(x))
    run = get_run(ctx, rep.mlflow_run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent.run_id
    assert run.data.metrics["0_static_int8.size_bytes_after"] == r.after.size_bytes
    assert rep.plot and rep.plot.endswith(".png")


def test_a_compression_that_misses_its_goal_keeps_the_original(ctx, trained):
    from tensor_agent.tools.compress import compress_model

    h = _fresh(trained)
    ctx.set_model(h)
    ctx.options = {"runs": 3}
    rep = compress_model(_plan(technique=["dynamic_int8"], size_mb=0.001), ctx)
    assert not rep.promoted and rep.chosen is None
    assert ctx.current_model() is h
    r = rep.results[0]
    assert any("size" in f and "budget 0.001 MB" in f for f in r.verdict.failures)
    assert r.after.size_bytes > 0 and r.before.size_bytes > 0 and "original stays" in rep.message


def test_unstructured_pruning_is_flagged_when_speed_was_the_goal(ctx, trained):
    from tensor_agent.tools.compress import compress_model

    h = _fresh(trained)
    ctx.set_model(h)
    ctx.options = {"runs": 5, "finetune_epochs": 2, "min_speedup": 1.5}
    rep = compress_model(_plan("@TENSOR prune my model 50% for faster inference", technique=["pruning"],
                               sparsity=0.5), ctx)
    r = rep.results[0]
    assert r.after.sparsity >= 0.495
    assert r.after.gzip_bytes < r.before.gzip_bytes  # zeros compress
    assert any("speed-up" in f for f in r.verdict.failures)
    assert not rep.promoted and ctx.current_model() is h


def test_model_path_and_model_uri(ctx, trained):
    from tensor_agent.tools.compress import compress_model
    from tensor_agent.tools.core.model_store import save_model
    from tensor_agent.tools.core.tracking import mlflow_run

    h = _fresh(trained)
    path = save_model(h, ctx.settings.models_dir, name="digits-cnn")
    ctx.options = {"model_path": path, "runs": 3, "technique": "dynamic_int8"}
    rep = compress_model(_plan(), ctx)
    assert rep.source["path"] == path and rep.results[0].details["linear_weight_ratio"] >= 3.5
    with mlflow_run(ctx, "train") as run:
        run.log_artifacts(path, "model")
    ctx.options = {"model_uri": f"runs:/{run.run_id}/model", "runs": 3, "technique": "onnx"}
    rep = compress_model(_plan(), ctx)
    r = rep.results[0]
    assert rep.source["mlflow_run_id"] == run.run_id
    assert r.technique == "onnx" and r.details["max_abs_diff"] <= 1e-4 and r.verdict.met
    assert not rep.promoted  # export does not replace the current model


def test_combined_pipeline_distill_prune_quantize(ctx, trained):
    from tensor_agent.tools.compress import compress_model

    h = _fresh(trained)
    ctx.set_model(h)
    ctx.options = {"runs": 3, "finetune_epochs": 2, "tolerance_points": 100.0}
    rep = compress_model(_plan("@TENSOR distill my classifier, prune it 50% and quantize to INT8 for a phone",
                               technique=["distillation", "pruning", "int8"], sparsity=0.5, device="mobile"), ctx)
    techs = [r.technique for r in rep.results]
    assert techs[:2] == ["distillation", "pruning"]
    assert {"dynamic_int8", "static_int8", "onnx_int8"} & set(techs)
    pipes = [r for r in rep.results if r.technique == "pipeline"]
    assert pipes and all(p.details["steps"][:2] == ["distillation", "pruning"] for p in pipes)
    dist = rep.results[0]
    assert dist.details["param_ratio"] >= 4 and "baseline_student_accuracy" in dist.details
    best = min(pipes, key=lambda p: p.after.size_bytes)
    assert best.param_ratio >= 4 and best.size_ratio > 2, rep.message  # tiny model: serialization overhead
    if rep.promoted:
        assert rep.results[rep.chosen].technique == "pipeline" and rep.backend


def test_mobile_request_chooses_an_int8_backend_by_measurement(ctx, trained):
    from tensor_agent.tools.compress import compress_model

    h = _fresh(trained)
    ctx.set_model(h)
    ctx.options = {"runs": 5, "finetune_epochs": 2, "batch_size": 64, "tolerance_points": 2.0, "min_speedup": 1.0}
    rep = compress_model(_plan("@TENSOR optimize model for inference on mobile devices", device="mobile"), ctx)
    backends = {r.backend for r in rep.results}
    assert "torch-int8-static" in backends and any(b.startswith("onnxruntime-int8") for b in backends)
    assert any(r.technique == "structured_pruning" for r in rep.results)
    if rep.promoted:
        chosen = rep.results[rep.chosen]
        assert chosen.verdict.met and rep.backend == chosen.backend and rep.backend in rep.message
        ok = [r for r in rep.results if r.verdict.met and r.technique != "structured_pruning"]
        assert chosen.speedup >= max((r.speedup or 0) for r in ok if r.technique in
                                     {"static_int8", "dynamic_int8", "onnx_int8", "pipeline"}) - 1e-9
