"""Neptune export, offline: a real MLflow run (SQLite under the workspace) replayed into a real offline
Neptune run; the run folder under the workspace holds the same params, histories and final metrics."""

from __future__ import annotations

import pytest

pytest.importorskip("neptune")


def _mlflow_run(ctx):
    from tensor_agent.tools.core.tracking import mlflow_run

    with mlflow_run(ctx, "neptune-export-test") as run:
        run.log_params({"lr": 0.01, "family": "mlp"})
        for step, (acc, loss) in enumerate([(0.5, 1.2), (0.7, 0.8), (0.9, 0.3)]):
            run.log_metrics({"val_accuracy": acc, "val_loss": loss}, step=step)
        run.log_metrics({"test_accuracy": 0.875})
        return run.run_id


def test_export_offline_has_the_mlflow_metrics(ctx, home, monkeypatch):
    from tensor_agent.tools.core.tracking import get_client
    from tensor_agent.tools.track.neptune_export import export_run, read_offline_run

    monkeypatch.delenv("NEPTUNE_MODE", raising=False)
    monkeypatch.delenv("NEPTUNE_DATA_DIRECTORY", raising=False)
    client = get_client(ctx.settings)
    rid = _mlflow_run(ctx)
    out = export_run(ctx, client, rid)
    assert out["mode"] == "offline" and out["verified"] is True
    assert out["neptune_dir"].startswith(str(home)) and "neptune sync --path" in out["sync_command"]
    stored = read_offline_run(out["neptune_dir"])
    mlflow = client.get_run(rid).data
    assert {k: stored["fields"][f"final/{k}"] for k in mlflow.metrics} == pytest.approx(mlflow.metrics)
    assert stored["series"]["metrics/val_accuracy"] == [(0, 0.5), (1, 0.7), (2, 0.9)]
    assert stored["params"] == {"lr": "0.01", "family": "mlp"}
    assert stored["fields"]["mlflow_run_id"] == rid
    assert client.get_run(rid).data.tags["neptune.run_dir"] == out["neptune_dir"]
    import os

    assert "NEPTUNE_DATA_DIRECTORY" not in os.environ  # restored after the run was created


def test_track_experiment_exports_to_neptune_from_plan_trackers(ctx, monkeypatch):
    from tensor_agent.schema import Plan
    from tensor_agent.tools.track import track_experiment

    monkeypatch.delenv("NEPTUNE_MODE", raising=False)
    rid = _mlflow_run(ctx)
    ctx.options["run_id"] = rid
    rep = track_experiment(Plan(addressed=True, intents=["track"], trackers=["neptune"]), ctx)
    assert rep.action == "export" and rep.neptune["verified"] is True and not rep.wandb
    assert "Neptune (offline)" in rep.summary


def test_bad_neptune_mode_is_input_error(ctx, monkeypatch):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.core.tracking import get_client
    from tensor_agent.tools.track.neptune_export import export_run

    monkeypatch.setenv("NEPTUNE_MODE", "sideways")
    with pytest.raises(InputError, match="NEPTUNE_MODE"):
        export_run(ctx, get_client(ctx.settings), "0" * 32)
