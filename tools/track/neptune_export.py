"""Export an MLflow run to Neptune (track_experiment's `export` with `trackers=neptune`), offline by default.

The `neptune` client (1.x, the optional extra `tensor-agent[neptune]`) works offline: `mode="offline"` writes
the run's operations to `$TENSOR_HOME/neptune/.neptune/offline/run__<id>__.../`, and
`neptune sync --path $TENSOR_HOME/neptune --project WORKSPACE/PROJECT` uploads them later. `NEPTUNE_MODE=async`
(with `NEPTUNE_API_TOKEN` and `NEPTUNE_PROJECT`) logs online instead. Params go to `parameters/`, every metric's
history is replayed to `metrics/<name>` step by step, the final values go to `final/<name>`.
"""

from __future__ import annotations

import json
import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from tensor_agent.errors import BackendUnavailable, InputError

#: modes of the neptune client this export accepts (NEPTUNE_MODE)
MODES = ("offline", "async", "sync", "debug")


def _client():
    try:
        import neptune
    except ImportError as exc:
        raise BackendUnavailable(f"the Neptune client is not installed ({exc})",
                                 hint="pip install 'tensor-agent[neptune]' (the neptune package, 1.x)") from None
    return neptune


@contextmanager
def _data_dir(path: Path):
    """NEPTUNE_DATA_DIRECTORY for the run being created (the client reads it when the run starts)."""
    old = os.environ.get("NEPTUNE_DATA_DIRECTORY")
    os.environ["NEPTUNE_DATA_DIRECTORY"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("NEPTUNE_DATA_DIRECTORY", None)
        else:
            os.environ["NEPTUNE_DATA_DIRECTORY"] = old


def _series(history) -> list[tuple[int, float]]:
    """(step, value) with strictly increasing steps (Neptune drops a value whose step does not increase):
    the last value logged at a step wins."""
    by_step: dict[int, tuple[int, float]] = {}
    for m in history:
        if math.isfinite(float(m.value)):
            prev = by_step.get(int(m.step))
            if prev is None or m.timestamp >= prev[0]:
                by_step[int(m.step)] = (m.timestamp, float(m.value))
    return [(s, v) for s, (_, v) in sorted(by_step.items())]


def export_run(ctx, client, run_id: str, *, project: Optional[str] = None) -> dict:
    """Replay MLflow run `run_id` into a Neptune run; returns its directory, mode and the exported metrics.

    Raises:
        BackendUnavailable: the neptune client is not installed.
        InputError: NEPTUNE_MODE is not a mode of the client.
    """
    neptune = _client()
    mode = os.environ.get("NEPTUNE_MODE", "offline").strip().lower() or "offline"
    if mode not in MODES:
        raise InputError(f"NEPTUNE_MODE={mode!r} is not a Neptune mode (known: {', '.join(MODES)})",
                         hint="unset it for offline runs under the workspace")
    project = project or os.environ.get("NEPTUNE_PROJECT") or "tensor-agent/tensor-agent"
    run = client.get_run(run_id)
    root = ctx.settings.path("neptune")
    histories = {k: client.get_metric_history(run_id, k) for k in run.data.metrics}
    with _data_dir(root / ".neptune"):
        nrun = neptune.init_run(project=project, mode=mode, name=run.info.run_name or run_id,
                                description=f"exported from MLflow run {run_id}", tags=["mlflow"],
                                capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False,
                                capture_traceback=False, git_ref=False, source_files=[])
    try:
        if run.data.params:
            nrun["parameters"] = dict(run.data.params)
        for key, hist in histories.items():
            for step, value in _series(hist):
                nrun[f"metrics/{key}"].append(value, step=step)
        for key, value in run.data.metrics.items():
            nrun[f"final/{key}"] = float(value)
        nrun["mlflow_run_id"] = run_id
        run_dir = _run_dir(root / ".neptune", nrun, mode)
    finally:
        nrun.stop()
    client.set_tag(run_id, "neptune.run_dir", run_dir or "")
    verified = None
    if mode == "offline" and run_dir:  # read the run back: the same final metrics as the MLflow run
        final = read_offline_run(run_dir)["fields"]
        verified = all(abs(float(final.get(f"final/{k}", float("nan"))) - float(v)) <= 1e-9 * max(1.0, abs(v))
                       for k, v in run.data.metrics.items())
    return {"run_id": run_id, "neptune_dir": run_dir, "mode": mode, "project": project,
            "metrics": dict(run.data.metrics), "verified": verified,
            "sync_command": f"neptune sync --path {root} --project {project}" if mode == "offline" else ""}


def _run_dir(data_dir: Path, nrun, mode: str) -> Optional[str]:
    """The folder the client writes this offline run to (`offline/run__<id>__<pid>__<key>`)."""
    if mode != "offline":
        return None
    found = sorted((data_dir / "offline").glob(f"run__{nrun._id}__*"), key=lambda p: p.stat().st_mtime)
    return str(found[-1]) if found else None


def read_offline_run(run_dir: str) -> dict:
    """The fields and series stored in an offline Neptune run folder (its `data-*.log` operation logs):
    {"fields": {path: value}, "series": {path: [(step, value), ...]}, "params": {...}}."""
    files = sorted(Path(run_dir).glob("data-*.log"))
    if not files:
        raise FileNotFoundError(f"no data-*.log file in {run_dir}")
    fields: dict = {}
    series: dict[str, list] = {}
    for f in files:
        for line in f.read_text().splitlines():
            if not line.strip():
                continue
            op = json.loads(line)["obj"]
            path = "/".join(op["path"])
            if op["type"].startswith("Assign"):
                fields[path] = op["value"]
            elif op["type"] == "LogFloats":
                series.setdefault(path, []).extend((v["step"], v["value"]) for v in op["values"])
    params = {k[len("parameters/"):]: v for k, v in fields.items() if k.startswith("parameters/")}
    return {"fields": fields, "series": series, "params": params}
