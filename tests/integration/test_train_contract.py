"""The trainer honours every stated setting (TrainConfig and MLflow), never substitutes a model, and keeps
what it trained when a later step fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tensor_agent.errors import UnsatisfiableError

pytestmark = pytest.mark.integration

SETTINGS = [("optimizer", "sgd"), ("lr", 0.0123), ("schedule", "step"), ("warmup_epochs", 2), ("dropout", 0.3),
            ("l1", 1e-5), ("weight_decay", 0.02), ("patience", 5), ("epochs", 3), ("batch_size", 16),
            ("grad_clip", 0.5), ("seed", 7), ("time_budget_s", 45.0)]


def _plan(ctx, **fields):
    from tensor_agent.contract import resolve
    from tensor_agent.schema import Plan

    return resolve(Plan(addressed=True, intents=["train"], tools=["train_model"], **fields), ctx.options)


@pytest.fixture
def fit_calls(monkeypatch):
    """Record the TrainConfig every `fit` call receives (the real fit still runs)."""
    from tensor_agent.tools.core.engine import loop

    calls, real = [], loop.fit

    def spy(model, data, config=None, **kw):
        calls.append((model, config))
        return real(model, data, config, **kw)

    monkeypatch.setattr(loop, "fit", spy)
    return calls


@pytest.mark.parametrize("key,value", SETTINGS, ids=[k for k, _ in SETTINGS])
def test_every_stated_setting_reaches_config_and_mlflow(ctx, fit_calls, key, value):
    from tensor_agent.schema import DataSource, Plan, TrainSettings
    from tensor_agent.tools.core.tracking import get_run
    from tensor_agent.tools.train import train_model

    settings = {"epochs": 2, key: value} if key != "epochs" else {key: value}
    plan = Plan(addressed=True, intents=["train"], tools=["train_model"], modality="tabular", architecture="mlp",
                settings=TrainSettings(**settings), data=DataSource(dataset="iris", source="message"))
    rep = train_model(plan, ctx)
    (model, used), = fit_calls
    assert getattr(used, key) == value and rep.config[key] == value
    params = get_run(ctx, rep.mlflow_run_id).data.params
    assert params[f"train.{key}"] == str(value) and params["device"].startswith(("cpu", "cuda", "mps"))
    if key == "dropout":
        import torch

        assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)} == {0.3}
    assert "time budget 45s (as requested)" in rep.message if key == "time_budget_s" else \
        "time budget 120s (default" in rep.message


def _family_plan(ctx, family):
    from tensor_agent.catalogue import family_modality

    ctx.options.update(track=False, epochs=1, family=family)  # --set family=<f>: named explicitly
    return _plan(ctx, modality=family_modality(family), architecture=family)


@pytest.mark.parametrize("family", sorted(__import__("tensor_agent.catalogue", fromlist=["FAMILIES"]).FAMILIES))
def test_family_build_failure_trains_nothing(ctx, fit_calls, monkeypatch, family):
    from tensor_agent.tools.core.zoo.registry import get_family
    from tensor_agent.tools.train import train_model, xgb

    fam = get_family(family)

    def broken(*a, **k):
        raise RuntimeError("simulated build failure")

    monkeypatch.setattr(type(fam), "build", broken)
    monkeypatch.setattr(xgb, "train_xgboost", lambda *a, **k: pytest.fail("xgboost trained"))
    with pytest.raises(UnsatisfiableError) as ei:
        train_model(_family_plan(ctx, family), ctx)
    msg = str(ei.value)
    # t5 is refused even earlier: the trainer's text data is next-token generation, t5 does seq2seq only
    assert ei.value.exit_code == 3 and (f"family {family!r} failed to build" in msg or
                                        family == "t5" and "does not do task 'generation'" in msg)
    assert fit_calls == [] and not any(ctx.settings.models_dir.iterdir()) and ctx.current_model() is None


def test_registration_failure_keeps_model_exit_3(ctx, monkeypatch):
    from tensor_agent.tools.core import tracking
    from tensor_agent.tools.train import train_model

    def refuse(*a, **k):
        raise RuntimeError("registry is down")

    monkeypatch.setattr(tracking, "register_model", refuse)
    ctx.options.update(epochs=2, register="iris-mlp", dataset="iris")
    with pytest.raises(UnsatisfiableError) as ei:
        train_model(_plan(ctx, modality="tabular", architecture="mlp"), ctx)
    msg = str(ei.value)
    assert ei.value.exit_code == 3 and "registering 'iris-mlp' failed" in msg \
        and "tensor_agent.tools.core.tracking register" in msg
    current = ctx.current_model()
    assert current is not None and Path(current.path, "handle.json").exists() and current.path in msg
    run = tracking.get_run(ctx, current.mlflow_run_id)
    assert run.data.tags["tensor.model_path"] == current.path and run.info.status == "FINISHED"


def test_killed_run_marked_killed_and_bad_checkpoint_set_aside(ctx):
    import socket

    from tensor_agent.tools.core.tracking import get_client, get_run, mlflow_run
    from tensor_agent.tools.train import train_model

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cm = mlflow_run(ctx, "mlp-iris", tags={"tensor.pid": dead.pid, "tensor.host": socket.gethostname()})
    stale = cm.__enter__()  # a run that was never closed: its process is gone
    ctx.options.update(epochs=2, dataset="iris")
    ck = ctx.settings.path("checkpoints", f"{ctx.thread_id}-mlp-iris")
    ck.mkdir(parents=True, exist_ok=True)
    (ck / "last.pt").write_bytes(b"PK\x03\x04 truncated")
    rep = train_model(_plan(ctx, modality="tabular", architecture="mlp"), ctx)
    assert get_run(ctx, stale.run_id).info.status == "KILLED"
    assert any(stale.run_id in w and "KILLED" in w for w in rep.warnings)
    assert any("truncated or unreadable" in w and "moved aside" in w for w in rep.warnings)
    assert rep.epochs_run == 2 and rep.resumed_from is None and "WARNING" in rep.message
    assert get_client(ctx.settings).get_run(rep.mlflow_run_id).info.status == "FINISHED"


_KILLED_CHILD = """
import sys
from tensor_agent.config import Settings
from tensor_agent.contract import resolve
from tensor_agent.schema import Plan
from tensor_agent.tools.core.context import ToolContext
from tensor_agent.tools.train import train_model

opts = {"dataset": "iris", "epochs": 10000, "time_budget_s": 600, "variant": "small"}
ctx = ToolContext(settings=Settings.from_env(), thread_id=sys.argv[1], options=opts, progress=False)
plan = resolve(Plan(addressed=True, intents=["train"], tools=["train_model"], modality="tabular",
                    architecture="mlp"), opts)
train_model(plan, ctx)
"""


def test_sigkill_mid_training_then_other_size_trains_fresh(ctx, home):
    """SIGKILL during training; the next request (another model size, same thread) trains, warns about the
    set-aside checkpoint, and the killed run shows KILLED."""
    import os
    import signal
    import time

    from tensor_agent.tools.core.tracking import get_client
    from tensor_agent.tools.train import train_model

    env = {**os.environ, "TENSOR_HOME": str(home), "TENSOR_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, ctx.thread_id], env=env)
    ck = ctx.settings.path("checkpoints", f"{ctx.thread_id}-mlp-iris") / "last.pt"
    deadline = time.time() + 120
    while not ck.exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.2)
    time.sleep(0.5)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert ck.exists(), "the child never wrote a checkpoint"
    client = get_client(ctx.settings)
    exp = client.get_experiment_by_name("tensor-agent")
    killed = [r for r in client.search_runs([exp.experiment_id]) if r.info.status == "RUNNING"]
    assert len(killed) == 1
    ctx.options.update(dataset="iris", epochs=2, variant="tiny")
    rep = train_model(_plan(ctx, modality="tabular", architecture="mlp"), ctx)
    assert rep.variant == "tiny" and rep.epochs_run == 2 and rep.resumed_from is None
    assert any("does not match the requested model" in w for w in rep.warnings)
    assert client.get_run(killed[0].info.run_id).info.status == "KILLED"
