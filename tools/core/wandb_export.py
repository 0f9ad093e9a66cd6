"""Export an MLflow run to Weights & Biases (shared: track_experiment's `export`, and every tool whose plan
or thread asks for `trackers=mlflow,wandb`): offline by default (`WANDB_MODE=offline`, files under the
workspace's `wandb/` folder, `wandb sync <dir>` uploads them later), online when the user sets WANDB_MODE=online
and logs in. Params become the W&B config, every metric's history is replayed step by step, and the final
values become the summary."""

from __future__ import annotations

import os
from pathlib import Path

from tensor_agent.errors import BackendUnavailable


def export_run(ctx, client, run_id: str, *, project: str = "tensor-agent") -> dict:
    """Replay MLflow run `run_id` into a W&B run; returns its directory, mode and the exported metrics."""
    try:
        import wandb
    except ImportError as exc:  # pragma: no cover - wandb is a dependency
        raise BackendUnavailable(f"wandb is not installed ({exc})", hint="pip install wandb") from None
    run = client.get_run(run_id)
    mode = os.environ.get("WANDB_MODE", "offline").strip().lower() or "offline"
    root = ctx.settings.path("wandb")
    os.environ.setdefault("WANDB_SILENT", "true")
    histories = {k: client.get_metric_history(run_id, k) for k in run.data.metrics}
    steps = sorted({m.step for h in histories.values() for m in h})
    wrun = wandb.init(project=project, name=run.info.run_name, dir=str(root), mode=mode, reinit="finish_previous",
                      config=dict(run.data.params), tags=["mlflow"],
                      notes=f"exported from MLflow run {run_id}", settings=wandb.Settings(silent=True))
    try:
        for step in steps:
            row = {k: m.value for k, h in histories.items() for m in h if m.step == step}
            wrun.log(row, step=step)
        for k, v in run.data.metrics.items():  # the final values, as in MLflow
            wrun.summary[k] = v
        wrun.summary["mlflow_run_id"] = run_id
        run_dir = str(Path(wrun.dir).parent)
    finally:
        wrun.finish()
    client.set_tag(run_id, "wandb.run_dir", run_dir)
    verified = None
    if mode == "offline":  # read the run back: the same final metrics as the MLflow run
        stored = read_offline_run(run_dir)["summary"]
        verified = all(abs(float(stored.get(k, float("nan"))) - float(v)) <= 1e-9 * max(1.0, abs(v))
                       for k, v in run.data.metrics.items())
    return {"run_id": run_id, "wandb_dir": run_dir, "mode": mode, "project": project,
            "metrics": dict(run.data.metrics), "verified": verified,
            "sync_command": f"wandb sync {run_dir}" if mode == "offline" else ""}


_BLOCK, _HEADER = 32768, 7


def _chunks(data: bytes):
    """Records of a W&B transaction log (`run-*.wandb`: a 7-byte file header, then leveldb-style records:
    crc32 (4) | length (2, little endian) | type (1: full, 2: first, 3: middle, 4: last) | payload)."""
    pos, buf = _HEADER, b""
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:  # block trailer padding
            pos += left
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        if kind == 0:  # zero padding to the end of the block
            pos += left
            continue
        payload = data[pos + _HEADER:pos + _HEADER + length]
        pos += _HEADER + length
        if kind == 1:
            yield payload
        elif kind == 2:
            buf = payload
        elif kind == 3:
            buf += payload
        elif kind == 4:
            yield buf + payload


def read_offline_run(run_dir: str) -> dict:
    """The summary and history rows stored in an offline W&B run directory (for checks and reports)."""
    import json

    from wandb.proto import wandb_internal_pb2 as pb

    files = sorted(Path(run_dir).glob("run-*.wandb"))
    if not files:
        raise FileNotFoundError(f"no run-*.wandb file in {run_dir}")
    summary: dict = {}
    history: list[dict] = []
    for chunk in _chunks(files[0].read_bytes()):
        rec = pb.Record()
        rec.ParseFromString(chunk)
        kind = rec.WhichOneof("record_type")
        if kind == "summary":
            for item in rec.summary.update:
                summary[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "history":
            history.append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in rec.history.item})
    return {"summary": summary, "history": history}


def wanted(plan, ctx) -> bool:
    """Whether this turn's runs should also go to W&B (plan.trackers, option trackers, or a thread setting)."""
    opt = ctx.options.get("trackers")
    names = opt.split(",") if isinstance(opt, str) else (opt or [])
    names = [str(n).strip().lower() for n in [*names, *(plan.trackers or []), *(ctx.artifacts.get("trackers") or [])]]
    return "wandb" in names
