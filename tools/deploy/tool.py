"""`deploy_model(plan, ctx)`: package the thread's current model (or `model_path`) for the targets asked for.

Targets come from `plan.deploy_targets` (default docker; `run=true` or target `local` also starts the app on
127.0.0.1). Every deployment is an MLflow run linked to the model's run and a step in the thread's lineage,
so "deploy it" after "quantize it" deploys the quantized model. A target that cannot be built makes the
call fail (exit 3) after the others are built, naming what was delivered and what was not.
"""

from __future__ import annotations

import time
from pathlib import Path

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle
from tensor_agent.tools.deploy.package import build_bundle
from tensor_agent.tools.deploy.registry import DeployReport, TargetResult, get_target


def _model(ctx) -> ModelHandle:
    path = (ctx.options or {}).get("model_path")
    if path:
        from tensor_agent.tools.core.model_store import load_model

        handle = load_model(path, workspace=ctx.settings.home)
        handle.path = handle.path or str(path)
        return handle
    handle = ctx.current_model()
    if handle is None:
        raise UnsatisfiableError("no model to deploy in this conversation",
                                 hint='train one first ("@TENSOR train a CNN on digits") or pass model_path=<saved dir>')
    return handle


def _targets(plan, options: dict) -> list[str]:
    names = [t.lower() for t in (plan.deploy_targets or [])] or ["docker"]
    if options.get("run") and "local" not in names:
        names.append("local")
    for n in names:
        get_target(n)  # unknown -> exit 3 before anything is written
    return list(dict.fromkeys(names))


def _track(ctx, handle: ModelHandle, report: DeployReport, out_dir: Path) -> None:
    from tensor_agent.tools.core.tracking import mlflow_run

    with mlflow_run(ctx, "deploy", parent_run_id=handle.mlflow_run_id,
                    tags={"tensor.kind": "deploy", "tensor.model_path": handle.path}) as run:
        run.log_params({"targets": ",".join(t.target for t in report.targets), "served_format": report.served_format,
                        "family": handle.family, "out_dir": str(out_dir)})
        if report.parity_max_abs_diff is not None:
            run.log_metrics({"parity_max_abs_diff": report.parity_max_abs_diff})
        run.log_dict(report.model_dump(mode="json"), "deploy_report.json")
        report.mlflow_run_id = run.run_id


def _lineage(ctx, handle: ModelHandle, report: DeployReport, out_dir: Path) -> None:
    lineage = ctx.artifacts.get("lineage")
    entry = {"step": "deploy", "targets": [t.target for t in report.targets if t.ok], "path": str(out_dir),
             "parent": handle.path, "family": handle.family, "mlflow_run_id": report.mlflow_run_id}
    ctx.artifacts["lineage"] = (list(lineage) if isinstance(lineage, list) else []) + [entry]
    ctx.artifacts["deploy"] = {t.target: t.model_dump(mode="json") for t in report.targets}


def _message(report: DeployReport) -> str:
    lines = [f"Deployed {report.model_family} as {report.served_format}"
             + (f" (parity {report.parity_max_abs_diff:.2g} vs the in-process model)" if report.parity_max_abs_diff
                is not None else "") + ":"]
    for t in report.targets:
        lines.append(f"- {t.target}: {t.path or t.url or ''}" if t.ok else f"- {t.target}: NOT built: {t.reason}")
        lines += [f"    $ {c}" for c in t.commands]
    return "\n".join(lines)


def deploy_model(plan, ctx) -> DeployReport:
    """Package the current model for every requested target and record the deployment.

    Raises:
        UnsatisfiableError: no model, an unknown target, a model that cannot be served faithfully,
            or a requested target that could not be built (after the others are built).
    """
    options = dict(ctx.options or {})
    targets = _targets(plan, options)
    handle = _model(ctx)
    out_dir = ctx.settings.path("deploy", f"{handle.family}-{time.strftime('%Y%m%d-%H%M%S')}")
    bundle = build_bundle(handle, out_dir / "model", threads=int(options.get("threads") or 1))
    report = DeployReport(model_family=handle.family, model_path=handle.path, served_format=bundle.format,
                          parity_max_abs_diff=bundle.parity)
    opts = {**options, "out_dir": str(out_dir)}
    for name in targets:
        try:
            report.targets.append(get_target(name)(bundle, ctx, opts))
        except UnsatisfiableError as exc:
            report.targets.append(TargetResult(target=name, ok=False, reason=str(exc)))
    report.message = "\n".join(bundle.notes + [_message(report)])
    _track(ctx, handle, report, out_dir)
    _lineage(ctx, handle, report, out_dir)
    failed = [t for t in report.targets if not t.ok]
    if failed:
        built = ", ".join(f"{t.target} ({t.path})" for t in report.targets if t.ok) or "nothing"
        raise UnsatisfiableError("could not build " + "; ".join(f"{t.target}: {t.reason}" for t in failed)
                                 + f". Built: {built}.")
    return report
