"""Cheap tracking: metrics batched per run (real SQLite MLflow store under tmp), plots drawn off the critical path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest


def _history(ctx, run_id: str, key: str) -> list:
    from tensor_agent.tools.core.tracking import get_client

    return get_client(ctx.settings).get_metric_history(run_id, key)


def test_per_step_metrics_go_in_one_batch_and_all_arrive(ctx):
    from tensor_agent.tools.core.tracking import get_run, mlflow_run

    with mlflow_run(ctx, "rounds") as run:
        for step in range(1, 251):
            run.log_metrics({"train_loss": 1.0 / step, "val_loss": 2.0 / step, "lr": 0.1, "skip": "text"}, step=step)
        run.log_metrics({"test_accuracy": 0.97, "nan": float("nan")})
        assert run.batches_sent == 0  # still queued: nothing waits on the store during training
    assert run.batches_sent == 1  # 751 metrics <= 1000: one log_batch, sent before the run ended
    hist = _history(ctx, run.run_id, "val_loss")
    assert sorted(m.step for m in hist) == list(range(1, 251))
    assert {m.step: m.value for m in hist}[4] == pytest.approx(0.5)
    done = get_run(ctx, run.run_id)
    assert done.info.status == "FINISHED" and done.data.metrics["test_accuracy"] == pytest.approx(0.97)
    assert "nan" not in done.data.metrics and "skip" not in done.data.metrics


def test_more_than_1000_metrics_are_split_at_the_mlflow_limit(ctx):
    from tensor_agent.tools.core.tracking import MAX_METRICS_PER_BATCH, mlflow_run

    with mlflow_run(ctx, "long") as run:
        for step in range(1200):
            run.log_metrics({"loss": float(step)}, step=step)
        assert run.batches_sent == 1 and len(run._pending) == 1200 - MAX_METRICS_PER_BATCH  # sent when full
    assert run.batches_sent == 2
    assert len(_history(ctx, run.run_id, "loss")) == 1200


def test_metrics_logged_before_a_failure_are_kept_and_the_run_is_failed(ctx):
    from tensor_agent.tools.core.tracking import get_run, mlflow_run

    with pytest.raises(RuntimeError, match="boom"):
        with mlflow_run(ctx, "fails") as run:
            for step in range(5):
                run.log_metrics({"loss": 1.0 - step / 10}, step=step)
            raise RuntimeError("boom")
    failed = get_run(ctx, run.run_id)
    assert failed.info.status == "FAILED" and "boom" in failed.data.tags["error"]
    assert [m.step for m in sorted(_history(ctx, run.run_id, "loss"), key=lambda m: m.step)] == [0, 1, 2, 3, 4]


def test_long_trainings_flush_on_the_clock_so_the_ui_stays_live(ctx):
    from tensor_agent.tools.core.tracking import FLUSH_EVERY_S, mlflow_run

    assert 1.0 <= FLUSH_EVERY_S <= 10.0
    with mlflow_run(ctx, "live") as run:
        run.log_metrics({"loss": 1.0}, step=1)
        assert _history(ctx, run.run_id, "loss") == []  # queued
        run._last_flush -= FLUSH_EVERY_S  # as if the last send was FLUSH_EVERY_S ago
        run.log_metrics({"loss": 0.5}, step=2)
        assert [m.step for m in _history(ctx, run.run_id, "loss")] == [1, 2]  # visible while RUNNING


def test_sqlite_store_uses_wal_and_still_passes_the_store_checks(ctx):
    from tensor_agent.tools.core.tracking import check_local_store, get_client, mlflow_run

    with mlflow_run(ctx, "wal"):
        pass
    db = Path(ctx.settings.tracking_uri[len("sqlite:///"):])
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check_local_store(ctx.settings.tracking_uri)  # the read-only probe accepts a WAL store
    with mlflow_run(ctx, "again") as run:
        run.log_metrics({"x": 1.0})
    assert get_client(ctx.settings).get_run(run.run_id).data.metrics == {"x": 1.0}


def test_plot_drawn_in_a_child_process_is_logged_to_the_run(ctx, monkeypatch):
    from tensor_agent.tools.core.plots import wait_for_plots
    from tensor_agent.tools.core.tracking import get_client, mlflow_run
    from tensor_agent.tools.train.report import plot_curves_async

    monkeypatch.delenv("TENSOR_SYNC_PLOTS", raising=False)
    history = [{"epoch": i, "train_loss": 1 / i, "val_loss": 1.2 / i, "lr": 0.1} for i in range(1, 6)]
    png = Path(ctx.settings.artifacts_dir) / "c" / "curves.png"
    with mlflow_run(ctx, "plot") as run:
        assert plot_curves_async(history, png, "t", run) == str(png)
    assert wait_for_plots() == []
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    assert [a.path for a in get_client(ctx.settings).list_artifacts(run.run_id, "plots")] == ["plots/curves.png"]
    assert plot_curves_async([], png, "t", run) is None


def test_sync_plots_draw_in_process_and_bad_plot_functions_are_refused(ctx, monkeypatch):
    from tensor_agent.tools.core.plots import draw_async, pending
    from tensor_agent.tools.core.tracking import get_client, mlflow_run

    monkeypatch.setenv("TENSOR_SYNC_PLOTS", "1")
    png = Path(ctx.settings.artifacts_dir) / "s.png"
    with mlflow_run(ctx, "sync") as run:
        out = draw_async("tensor_agent.tools.train.report:draw_curves",
                         {"history": [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}], "title": "s"}, png, run=run)
    assert out == str(png) and png.exists() and pending() == 0
    assert [a.path for a in get_client(ctx.settings).list_artifacts(run.run_id, "plots")] == ["plots/s.png"]
    for bad in ("os:system", "tensor_agent.tools.train.report", "subprocess:run"):
        with pytest.raises(ValueError, match="tensor_agent"):
            draw_async(bad, {}, png)


@pytest.mark.integration
def test_xgboost_train_model_logs_every_round_in_few_batches(ctx, monkeypatch):
    from mlflow.tracking import MlflowClient

    from tensor_agent.contract import resolve
    from tensor_agent.schema import Constraint, Plan
    from tensor_agent.tools.core.plots import wait_for_plots
    from tensor_agent.tools.core.tracking import get_client
    from tensor_agent.tools.train import train_model

    calls = []
    real = MlflowClient.log_batch
    monkeypatch.setattr(MlflowClient, "log_batch", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    plan = Plan(addressed=True, intents=["train"], modality="tabular", architecture="xgboost",
                constraints=[Constraint(name="dataset", value="breast_cancer", span=(0, 1), text="breast_cancer")])
    rep = train_model(resolve(plan, ctx.options), ctx)
    assert rep.epochs_run > 10 and len(calls) <= 3  # params, then every metric of the run in one batch
    client = get_client(ctx.settings)
    assert client.get_run(rep.mlflow_run_id).info.status == "FINISHED"
    for key in ("val_loss", "train_loss"):
        assert len(client.get_metric_history(rep.mlflow_run_id, key)) == rep.epochs_run
    assert wait_for_plots() == []
    assert Path(rep.curve_png).exists()
    assert "plots/curves.png" in [a.path for a in client.list_artifacts(rep.mlflow_run_id, "plots")]


def test_a_prestarted_plot_child_draws_the_next_plot_and_a_spare_exits_cleanly(ctx, monkeypatch):
    from tensor_agent.tools.core import plots
    from tensor_agent.tools.train.report import plot_curves_async

    monkeypatch.delenv("TENSOR_SYNC_PLOTS", raising=False)
    plots.prestart()
    spare = plots._SPARE
    assert spare is not None and spare.poll() is None
    history = [{"epoch": i, "train_loss": 1 / i, "val_loss": 1.2 / i, "lr": 0.1} for i in range(1, 6)]
    png = Path(ctx.settings.artifacts_dir) / "p" / "curves.png"
    plot_curves_async(history, png, "t", None)
    assert plots._PENDING[-1][0] is spare and plots._SPARE is None   # the warm child got the job
    assert plots.wait_for_plots() == [] and png.read_bytes()[:4] == b"\x89PNG"
    plots.prestart()
    unused = plots._SPARE
    plots._drop_spare()                                              # no job: it exits with 0
    assert unused.returncode == 0 and plots._SPARE is None
