"""MLflow tracking through `MlflowClient` (no global fluent state, so several workspaces can coexist).

Default store: SQLite under the workspace (`settings.tracking_uri`), artifacts under
`settings.mlflow_artifacts`; `MLFLOW_TRACKING_URI` overrides the store.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

from tensor_agent.errors import BackendUnavailable

EXPERIMENT = "tensor-agent"


class TrackedRun:
    """A thin handle on one MLflow run."""

    def __init__(self, client, run_id: str, experiment_id: str):
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id

    def log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(str(k)[:250], str(v)[:6000]) for k, v in params.items() if v is not None]
        for i in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[i:i + 100])

    def log_metrics(self, metrics: dict[str, Any], step: Optional[int] = None) -> None:
        import time

        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        items = [Metric(str(k), float(v), ts, int(step or 0)) for k, v in metrics.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))]
        if items:
            self.client.log_batch(self.run_id, metrics=items)

    def set_tags(self, tags: dict[str, Any]) -> None:
        for k, v in tags.items():
            if v is not None:
                self.client.set_tag(self.run_id, str(k), str(v)[:5000])

    def log_artifact(self, path: str | os.PathLike, artifact_path: Optional[str] = None) -> None:
        self.client.log_artifact(self.run_id, str(path), artifact_path)

    def log_artifacts(self, directory: str | os.PathLike, artifact_path: Optional[str] = None) -> None:
        self.client.log_artifacts(self.run_id, str(directory), artifact_path)

    def log_dict(self, obj: Any, name: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / name
            p.write_text(json.dumps(obj, indent=2, default=str))
            self.log_artifact(p)

    def artifact_uri(self) -> str:
        return self.client.get_run(self.run_id).info.artifact_uri


def get_client(settings):
    """An MlflowClient on the workspace store (raises BackendUnavailable when it cannot be reached)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:  # pragma: no cover - mlflow is a dependency
        raise BackendUnavailable(f"mlflow is not installed ({exc})", hint="pip install mlflow") from None
    uri = settings.tracking_uri
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _experiment_id(client, settings) -> str:
    try:
        exp = client.get_experiment_by_name(EXPERIMENT)
        if exp is not None:
            return exp.experiment_id
        location = None
        if settings.tracking_uri.startswith("sqlite:") or settings.tracking_uri.startswith("file:"):
            location = settings.mlflow_artifacts.as_uri()
        return client.create_experiment(EXPERIMENT, artifact_location=location)
    except Exception as exc:  # noqa: BLE001 - any store failure is a back-end problem for the user
        if type(exc).__name__ == "RestException" and "RESOURCE_ALREADY_EXISTS" in str(exc):
            return client.get_experiment_by_name(EXPERIMENT).experiment_id
        raise BackendUnavailable(f"MLflow tracking store {settings.tracking_uri} is unavailable "
                                 f"({type(exc).__name__}: {str(exc)[:200]})",
                                 hint="unset MLFLOW_TRACKING_URI to use the local store, or start the server")


@contextlib.contextmanager
def mlflow_run(ctx, name: str, *, parent_run_id: Optional[str] = None,
               tags: Optional[dict[str, Any]] = None) -> Iterator[TrackedRun]:
    """Open an MLflow run; it ends FINISHED, or FAILED (with an `error` tag) if the block raises."""
    settings = ctx.settings
    client = get_client(settings)
    exp_id = _experiment_id(client, settings)
    all_tags = {"mlflow.runName": name, "tensor.thread_id": getattr(ctx, "thread_id", None)}
    if parent_run_id:
        all_tags["mlflow.parentRunId"] = parent_run_id
    all_tags.update(tags or {})
    try:
        run = client.create_run(exp_id, run_name=name,
                                tags={k: str(v) for k, v in all_tags.items() if v is not None})
    except Exception as exc:  # noqa: BLE001
        raise BackendUnavailable(f"cannot create an MLflow run in {settings.tracking_uri} ({exc})") from None
    tracked = TrackedRun(client, run.info.run_id, exp_id)
    try:
        yield tracked
    except BaseException as exc:
        with contextlib.suppress(Exception):
            client.set_tag(tracked.run_id, "error", f"{type(exc).__name__}: {exc}"[:5000])
            client.set_terminated(tracked.run_id, status="FAILED")
        raise
    else:
        client.set_terminated(tracked.run_id, status="FINISHED")


def register_model(ctx, run_id: str, name: str, artifact_path: str = "model") -> dict:
    """Register `runs:/<run_id>/<artifact_path>` in the model registry under `name`; returns name/version."""
    client = get_client(ctx.settings)
    try:
        client.get_registered_model(name)
    except Exception:  # noqa: BLE001 - does not exist yet
        client.create_registered_model(name)
    source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{artifact_path}"
    mv = client.create_model_version(name, source=source, run_id=run_id)
    return {"name": name, "version": str(mv.version), "source": source}


def get_run(ctx, run_id: str):
    """The MLflow run (for tests and reports)."""
    return get_client(ctx.settings).get_run(run_id)
