"""MLflow tracking through `MlflowClient` (no global fluent state, so several workspaces can coexist).

Default store: SQLite under the workspace (`settings.tracking_uri`), artifacts under
`settings.mlflow_artifacts`; `MLFLOW_TRACKING_URI` overrides the store.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

from tensor_agent.errors import BackendUnavailable
from tensor_agent.tools.core.procs import pid_alive

EXPERIMENT = "tensor-agent"


def _monotonic() -> float:
    import time

    return time.monotonic()


# MLflow accepts at most 1000 metrics in one log_batch call (mlflow.utils.validation.MAX_METRICS_PER_BATCH)
MAX_METRICS_PER_BATCH = 1000
FLUSH_EVERY_S = 10.0


class TrackedRun:
    """A thin handle on one MLflow run.

    Metrics are buffered and sent in as few `log_batch` calls as MLflow allows (1000 metrics each): when
    the buffer is full, when `FLUSH_EVERY_S` seconds have passed since the last send (so the MLflow UI
    stays live during long trainings), on `flush()`, and before `mlflow_run` ends the run (FINISHED or
    FAILED). One `log_batch` per boosting round cost ~70 ms on SQLite; one per run costs about the same.
    """

    def __init__(self, client, run_id: str, experiment_id: str, flush_every_s: float = FLUSH_EVERY_S,
                 artifact_uri: Optional[str] = None):
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self._artifact_uri = artifact_uri
        self.flush_every_s = flush_every_s
        self._pending: list = []
        self._last_flush = _monotonic()
        self.batches_sent = 0

    def log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(str(k)[:250], str(v)[:6000]) for k, v in params.items() if v is not None]
        for i in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[i:i + 100])

    def log_metrics(self, metrics: dict[str, Any], step: Optional[int] = None) -> None:
        """Queue finite numeric metrics at `step` (non-numbers, booleans, NaN and inf are dropped)."""
        import time

        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        self._pending += [Metric(str(k), float(v), ts, int(step or 0)) for k, v in metrics.items()
                          if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))]
        if len(self._pending) >= MAX_METRICS_PER_BATCH or _monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    def flush(self) -> None:
        """Send every queued metric now (1000 per `log_batch`)."""
        pending, self._pending = self._pending, []
        self._last_flush = _monotonic()
        for i in range(0, len(pending), MAX_METRICS_PER_BATCH):
            try:
                self.client.log_batch(self.run_id, metrics=pending[i:i + MAX_METRICS_PER_BATCH])
            except BaseException:
                self._pending = pending[i:] + self._pending  # nothing is lost: a later flush retries
                raise
            self.batches_sent += 1

    def log_plot(self, draw: str, payload: Any, path: str | os.PathLike, artifact_path: str = "plots") -> str:
        """Draw a PNG off the critical path and log it to this run (see `tools.core.plots.draw_async`)."""
        from tensor_agent.tools.core.plots import draw_async

        return draw_async(draw, payload, path, run=self, artifact_path=artifact_path)

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set the tags (None values skipped) in one call."""
        from mlflow.entities import RunTag

        items = [RunTag(str(k), str(v)[:5000]) for k, v in tags.items() if v is not None]
        if items:
            self.client.log_batch(self.run_id, tags=items)

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
        if self._artifact_uri is None:
            self._artifact_uri = self.client.get_run(self.run_id).info.artifact_uri
        return self._artifact_uri


def check_local_store(uri: str) -> None:
    """A local SQLite tracking store must be a readable, writable SQLite file (else InputError naming it)."""
    import sqlite3

    from tensor_agent.errors import InputError

    if not uri.startswith("sqlite:///"):
        return
    db = Path(uri[len("sqlite:///"):])
    if not db.exists():
        return
    if not db.is_file():
        raise InputError(f"the MLflow store {db} is not a file", hint="move it aside")
    if not os.access(db, os.W_OK) or not os.access(db.parent, os.W_OK):
        raise InputError(f"the MLflow store {db} is read-only",
                         hint="make it (and the workspace) writable, or point TENSOR_HOME at a writable directory")
    try:
        try:
            _probe_sqlite(sqlite3.connect(f"file:{db}?mode=ro", uri=True))
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                raise
            # a hot journal left by a killed writer (SIGKILL mid-commit) needs a writable connection to roll
            # back; that is recovery, not corruption
            _probe_sqlite(sqlite3.connect(str(db)))
    except sqlite3.DatabaseError as exc:
        raise InputError(f"the MLflow store {db} is corrupt or not a SQLite file ({exc})",
                         hint=f"move it aside (mv {db} {db}.bad) to start a fresh store; nothing was overwritten") from None


def _probe_sqlite(conn) -> None:
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


def get_client(settings):
    """An MlflowClient on the workspace store (raises BackendUnavailable when it cannot be reached).

    Raises:
        InputError: the local SQLite store is corrupt or read-only (named, with what to do).
    """
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    check_local_store(settings.tracking_uri)
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:  # pragma: no cover - mlflow is a dependency
        raise BackendUnavailable(f"mlflow is not installed ({exc})", hint="pip install mlflow") from None
    uri = settings.tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if uri.startswith("sqlite:"):
        _fast_sqlite(getattr(getattr(getattr(client, "_tracking_client", None), "store", None), "engine", None))
    return client


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    import sqlite3

    cur = dbapi_conn.cursor()
    try:
        with contextlib.suppress(sqlite3.OperationalError):  # busy elsewhere: the store keeps its journal mode
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def _fast_sqlite(engine) -> None:
    """WAL journal + synchronous=NORMAL on the SQLite store: a commit no longer waits for an fsync (the
    store stays consistent after a crash; only the last commits can be lost on power loss). Halves the
    cost of each MLflow write; once per engine (MLflow caches its store per URI)."""
    if engine is None or getattr(engine, "_tensor_fast", False):
        return
    from sqlalchemy import event

    event.listen(engine, "connect", _sqlite_pragmas)
    engine.dispose()  # pooled connections were opened before the listener
    engine._tensor_fast = True


_EXPERIMENTS: dict[str, str] = {}  # tracking URI -> experiment id (looked up once per process)


def _experiment_id(client, settings) -> str:
    if settings.tracking_uri in _EXPERIMENTS:
        return _EXPERIMENTS[settings.tracking_uri]
    exp_id = _lookup_experiment(client, settings)
    _EXPERIMENTS[settings.tracking_uri] = exp_id
    return exp_id


def _lookup_experiment(client, settings) -> str:
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
               tags: Optional[dict[str, Any]] = None, mark_killed: bool = True) -> Iterator[TrackedRun]:
    """Open an MLflow run; it ends FINISHED, or FAILED (with an `error` tag) if the block raises.

    Metrics logged through the run are flushed before it ends (both ways). `mark_killed=False` skips
    `mark_killed_runs` (for a caller that has just done it itself)."""
    settings = ctx.settings
    client = get_client(settings)
    exp_id = _experiment_id(client, settings)
    if mark_killed:
        mark_killed_runs(client, exp_id)
    all_tags = {"mlflow.runName": name, "tensor.thread_id": getattr(ctx, "thread_id", None),
                "tensor.pid": os.getpid(), "tensor.host": socket.gethostname()}
    if parent_run_id:
        all_tags["mlflow.parentRunId"] = parent_run_id
    all_tags.update(tags or {})
    run_tags = {k: str(v) for k, v in all_tags.items() if v is not None}
    try:
        try:
            run = client.create_run(exp_id, run_name=name, tags=run_tags)
        except Exception:  # noqa: BLE001 - the cached experiment may be gone: look it up again, once
            _EXPERIMENTS.pop(settings.tracking_uri, None)
            exp_id = _experiment_id(client, settings)
            run = client.create_run(exp_id, run_name=name, tags=run_tags)
    except BackendUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001
        raise BackendUnavailable(f"cannot create an MLflow run in {settings.tracking_uri} ({exc})") from None
    tracked = TrackedRun(client, run.info.run_id, exp_id, artifact_uri=run.info.artifact_uri)
    try:
        yield tracked
    except BaseException as exc:
        with contextlib.suppress(Exception):
            tracked.flush()  # the metrics logged before the failure are part of the record
        _fail(client, tracked.run_id, exc)
        raise
    try:
        tracked.flush()
    except BaseException as exc:
        _fail(client, tracked.run_id, exc)
        raise
    client.set_terminated(tracked.run_id, status="FINISHED")


def _fail(client, run_id: str, exc: BaseException) -> None:
    with contextlib.suppress(Exception):
        client.set_tag(run_id, "error", f"{type(exc).__name__}: {exc}"[:5000])
        client.set_terminated(run_id, status="FAILED")




def mark_killed_runs(client, experiment_id: str) -> list[str]:
    """Mark KILLED the RUNNING runs of this host whose process no longer exists; returns their ids."""
    killed: list[str] = []
    host = socket.gethostname()
    try:
        runs = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=200)
    except Exception:  # noqa: BLE001 - a store that cannot be searched is reported where it is used
        return killed
    for run in runs:
        tags = run.data.tags
        pid = tags.get("tensor.pid")
        if not pid or tags.get("tensor.host") != host or not pid.isdigit():
            continue
        if int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        with contextlib.suppress(Exception):
            client.set_tag(run.info.run_id, "error", f"the process {pid} ended without finishing the run (killed)")
            client.set_terminated(run.info.run_id, status="KILLED")
            killed.append(run.info.run_id)
    return killed


def finish_registration_command(settings, run_id: str, name: str) -> str:
    """The shell command that registers a kept model later (after a registration failure)."""
    return (f"MLFLOW_TRACKING_URI='{settings.tracking_uri}' python -m tensor_agent.tools.core.tracking "
            f"register {run_id} '{name}'")


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


def main(argv: Optional[list] = None) -> int:
    """`python -m tensor_agent.tools.core.tracking register RUN_ID NAME`: finish a registration later."""
    import sys

    from tensor_agent.config import Settings
    from tensor_agent.errors import TensorError

    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 3 or argv[0] != "register":
        print("usage: python -m tensor_agent.tools.core.tracking register RUN_ID NAME", file=sys.stderr)
        return 2

    class _Ctx:
        settings = Settings.from_env()

    try:
        out = register_model(_Ctx(), argv[1], argv[2])
    except TensorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"registered {out['name']} version {out['version']} ({out['source']})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
