"""`track_experiment(plan, ctx)`: the MLflow registry, run comparison and W&B / Neptune export.

The action comes from the plan and the options only (options override the plan): option `action`, else
`plan.track.action` (the planner's reading of "set the champion alias to version 2", "roll back to version 1",
...); else `plan.register_name` (or `--set register=X`) registers; else `plan.trackers` naming wandb/neptune
exports; else an alias (option or `plan.track.alias`) sets an alias, runs to compare (option
`runs_to_compare` or `plan.track.runs`) compares, and a thread with a registered model lists its versions.
Alias and version: option `alias`/`version`, else `plan.track.alias`/`plan.track.version`. The model name is
`register`, `plan.register_name` or the name last registered in this thread.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from pydantic import BaseModel, Field

from tensor_agent.errors import InputError, UnsatisfiableError

from .registry import check_alias, check_name

ACTIONS = ("register", "alias", "list", "rollback", "archive", "compare", "export")


class TrackReport(BaseModel):
    """What one tracking action did."""

    action: str = Field(description="register | alias | list | rollback | archive | compare | export.")
    model_name: Optional[str] = Field(default=None, description="Registered model acted on.")
    version: Optional[int] = Field(default=None, description="Version registered / aliased / archived.")
    alias: Optional[str] = Field(default=None, description="Alias set or moved.")
    moved_from: Optional[int] = Field(default=None, description="Version the alias pointed at before.")
    versions: list[dict] = Field(default_factory=list, description="Versions with aliases, archived flag, metrics.")
    run_id: Optional[str] = Field(default=None, description="MLflow run acted on.")
    runs: list[dict] = Field(default_factory=list, description="Compared runs (one row each).")
    metrics: list[str] = Field(default_factory=list, description="Compared metrics.")
    table: str = Field(default="", description="Markdown table of the comparison or the versions.")
    plot_path: Optional[str] = Field(default=None, description="PNG of the comparison.")
    wandb: dict = Field(default_factory=dict, description="W&B export: directory, mode, metrics, sync command.")
    neptune: dict = Field(default_factory=dict, description="Neptune export: directory, mode, metrics, sync command.")
    model_path: Optional[str] = Field(default=None, description="Model made current (roll back).")
    summary: str = Field(default="", description="One readable line.")


def track_field(plan, opts: dict, name: str, option: Optional[str] = None) -> Any:
    """An option (it overrides the plan) or the field `name` of `plan.track`."""
    value = opts.get(option or name)
    if value is not None and value != "":
        return value
    spec = getattr(plan, "track", None)
    return getattr(spec, name, None) if spec is not None else None


def _trackers(plan, opts: dict) -> list[str]:
    raw = opts.get("trackers")
    items = raw.split(",") if isinstance(raw, str) else (raw or plan.trackers or [])
    return [str(t).strip().lower() for t in items if str(t).strip()]


def decide(plan, opts: dict) -> str:
    """The action to take (see the module docstring)."""
    action = track_field(plan, opts, "action")
    if action:
        if action not in ACTIONS:
            raise InputError(f"unknown tracking action {action!r} (known: {', '.join(ACTIONS)})", hint="fix 'action'")
        return action
    if opts.get("register") or plan.register_name:
        return "register"
    if {"wandb", "neptune"} & set(_trackers(plan, opts)):
        return "export"
    if track_field(plan, opts, "alias"):
        return "alias"
    if track_field(plan, opts, "runs", "runs_to_compare") is not None:
        return "compare"
    return "list"


def _name(plan, ctx, required: bool = True) -> Optional[str]:
    name = ctx.options.get("register") or plan.register_name or (ctx.artifacts.get("registered_model") or {}).get("name")
    if name is None and required:
        raise UnsatisfiableError("no registered model to act on in this thread",
                                 hint="register one first (e.g. 'register it as digits-cnn' or --set register=NAME)")
    return check_name(name) if name else None


def _run_id(ctx, client) -> str:
    rid = ctx.options.get("run_id")
    if rid:
        return str(rid)
    handle = ctx.current_model()
    if handle is not None and handle.mlflow_run_id:
        return handle.mlflow_run_id
    from tensor_agent.tools.core.tracking import _experiment_id

    runs = client.search_runs([_experiment_id(client, ctx.settings)], order_by=["attributes.start_time DESC"],
                              max_results=20)
    runs = [r for r in runs if r.data.tags.get("tensor.stage") != "tune-trial"]
    if not runs:
        raise UnsatisfiableError("no MLflow run to export yet", hint="train or tune a model first, or pass run_id=")
    return runs[0].info.run_id


def track_experiment(plan, ctx) -> TrackReport:
    """Register / alias / list / roll back / archive a model, compare runs or export a run to W&B.

    Args:
        plan: the resolved plan (register_name, trackers).
        ctx: ToolContext; options action, register, alias, version, run_id, runs_to_compare, compare_metric,
            trackers, wandb_project, neptune_project.

    Raises:
        InputError: an invalid name/alias/version or unknown action.
        UnsatisfiableError: no model or run to act on, nothing to roll back to.
        BackendUnavailable: the MLflow store or wandb is unavailable.
    """
    from tensor_agent.tools.core.tracking import get_client

    from . import registry as reg

    opts, client = ctx.options, get_client(ctx.settings)
    action = decide(plan, opts)
    alias = track_field(plan, opts, "alias")
    alias = check_alias(alias) if alias else None
    version = track_field(plan, opts, "version")
    if action == "register":
        name = _name(plan, ctx)
        out = reg.register(ctx, client, name, run_id=opts.get("run_id"))
        ctx.artifacts["registered_model"] = {"name": name, "version": out["version"]}
        rep = TrackReport(action=action, model_name=name, version=out["version"], run_id=out["run_id"],
                          summary=f"Registered {name} version {out['version']} from run {out['run_id']}.")
        if alias:
            a = reg.set_alias(client, name, alias, out["version"])
            rep.alias, rep.moved_from = alias, a["moved_from"]
            rep.summary += f" Alias {alias} -> v{out['version']}."
        rep.versions = reg.list_versions(client, name)
        return rep
    if action in ("alias", "rollback", "archive", "list"):
        return _registry_action(action, plan, ctx, client, alias, version)
    if action == "compare":
        return _compare(ctx, client, track_field(plan, opts, "runs", "runs_to_compare"))
    return _export(ctx, client, plan)


def _versions_table(rows: list[dict]) -> str:
    lines = ["| version | aliases | archived | run | metrics |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['version']} | {', '.join(r['aliases'])} | {'yes' if r['archived'] else ''} | "
                     f"{(r['run_id'] or '')[:8]} | {', '.join(f'{k}={v}' for k, v in r['metrics'].items())} |")
    return "\n".join(lines)


def _registry_action(action, plan, ctx, client, alias, version) -> TrackReport:
    from . import registry as reg

    name = _name(plan, ctx)
    rep = TrackReport(action=action, model_name=name)
    if action == "alias":
        out = reg.set_alias(client, name, alias or "champion", version)
        rep.alias, rep.version, rep.moved_from = out["alias"], out["version"], out["moved_from"]
        rep.summary = (f"Alias {rep.alias} of {name} -> v{rep.version}" +
                       (f" (moved from v{rep.moved_from})." if rep.moved_from and rep.moved_from != rep.version else "."))
    elif action == "rollback":
        out = reg.rollback(ctx, client, name, alias or "champion", version)
        rep.alias, rep.version, rep.moved_from, rep.model_path = out["alias"], out["version"], out["moved_from"], \
            out["model_path"]
        rep.summary = (f"Rolled {name} back: {rep.alias} v{rep.moved_from} -> v{rep.version}; "
                       f"v{rep.version} is now this thread's current model.")
    elif action == "archive":
        out = reg.archive(client, name, version)
        rep.version = out["version"]
        rep.summary = f"Archived {name} v{rep.version}" + (
            f" (removed aliases {', '.join(out['removed_aliases'])})." if out["removed_aliases"] else ".")
    rep.versions = reg.list_versions(client, name)
    rep.table = _versions_table(rep.versions)
    if action == "list":
        rep.summary = f"{name}: {len(rep.versions)} versions."
    return rep


def _compare(ctx, client, which) -> TrackReport:
    from tensor_agent.tools.core.tracking import _experiment_id

    from .compare import markdown, pick_runs, plot, table

    runs = pick_runs(client, _experiment_id(client, ctx.settings), which)
    if len(runs) < 2:
        raise UnsatisfiableError(f"need at least 2 runs with metrics to compare (found {len(runs)})")
    metrics, rows = table(runs, ctx.options.get("compare_metric"))
    png = plot(metrics, rows, ctx.settings.artifacts_dir / f"compare-{int(time.time())}.png")
    return TrackReport(action="compare", runs=rows, metrics=metrics, table=markdown(metrics, rows), plot_path=png,
                       summary=f"Compared {len(rows)} runs on {', '.join(metrics[:6])}.")


def _export(ctx, client, plan) -> TrackReport:
    """The run to W&B and/or Neptune (`trackers`; W&B when none is named), offline by default."""
    trackers = [t for t in _trackers(plan, ctx.options) if t in ("wandb", "neptune")] or ["wandb"]
    rid = _run_id(ctx, client)
    rep = TrackReport(action="export", run_id=rid)
    done = []
    if "wandb" in trackers:
        from tensor_agent.tools.core.wandb_export import export_run

        rep.wandb = export_run(ctx, client, rid, project=ctx.options.get("wandb_project") or "tensor-agent")
        done.append(("W&B", rep.wandb, "wandb_dir"))
    if "neptune" in trackers:
        from .neptune_export import export_run as neptune_export

        rep.neptune = neptune_export(ctx, client, rid, project=ctx.options.get("neptune_project"))
        done.append(("Neptune", rep.neptune, "neptune_dir"))
    if ctx.options.get("trackers") or len(_trackers(plan, ctx.options)) > 1:
        ctx.artifacts["trackers"] = _trackers(plan, ctx.options)
    rep.summary = " ".join(f"Exported MLflow run {rid[:8]} to {name} ({out['mode']})" +
                           (f" at {out[key]}" if out.get(key) else "") +
                           (f"; upload later with `{out['sync_command']}`." if out["sync_command"] else ".")
                           for name, out, key in done)
    return rep
