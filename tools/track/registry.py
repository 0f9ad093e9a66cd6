"""The MLflow model registry: register, alias (set / move), list versions, roll back, archive.

All through `MlflowClient` on the workspace store (`tools.core.tracking.get_client`). A registered version
points at a run's `model` artifact directory (a `model_store` directory: `handle.json` + weights).
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

from tensor_agent.contract import REGISTER_NAME
from tensor_agent.errors import InputError, UnsatisfiableError

ALIAS = REGISTER_NAME  # same character rules as model names
ARCHIVED_TAG = "tensor.archived"


def check_name(name: Any, what: str = "registration name") -> str:
    """`name` if valid, else InputError naming the rule."""
    s = str(name or "").strip()
    if not REGISTER_NAME.fullmatch(s):
        raise InputError(f"invalid {what} {name!r}: use letters, digits, '.', '_' or '-' (1-100 characters, "
                         "no '/' or '..')", hint="e.g. register=digits-cnn")
    return s


def check_alias(alias: Any) -> str:
    s = check_name(alias, "alias")
    if s.lower().startswith("v") and s[1:].isdigit():
        raise InputError(f"invalid alias {alias!r}: 'v<number>' is reserved for versions", hint="e.g. champion")
    return s


def _model_exists(client, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
        return True
    except MlflowException:
        return False


def _has_model_artifact(client, run_id: str) -> bool:
    return any(f.path == "model" for f in client.list_artifacts(run_id))


def register(ctx, client, name: str, *, run_id: Optional[str] = None) -> dict:
    """Register the run's model (or the thread's current model, logged in a new run) as a new version of `name`."""
    from tensor_agent.tools.core.tracking import mlflow_run

    handle = None
    if run_id is None:
        handle = ctx.current_model()
        if handle is None:
            raise UnsatisfiableError("no model to register: train, tune or design one in this thread first",
                                     hint="or pass run_id=<MLflow run id>")
        run_id = handle.mlflow_run_id
        if run_id is not None and not _has_model_artifact(client, run_id):
            run_id = None
        if run_id is None:
            if not handle.path:
                from tensor_agent.tools.core.model_store import save_model

                save_model(handle, ctx.settings.models_dir)
            with mlflow_run(ctx, f"register-{name}", tags={"tensor.stage": "register",
                                                            "tensor.family": handle.family}) as run:
                run.log_artifacts(handle.path, "model")
                run.log_metrics(handle.metrics or {})
                run_id = run.run_id
    elif not _has_model_artifact(client, run_id):
        raise UnsatisfiableError(f"MLflow run {run_id} has no 'model' artifact to register",
                                 hint="register a run made by train_model or tune_model")
    if not _model_exists(client, name):
        client.create_registered_model(name, description="registered by @TENSOR")
    source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/model"
    tags = {"tensor.family": handle.family, "tensor.dataset": handle.dataset} if handle is not None else {}
    mv = client.create_model_version(name, source=source, run_id=run_id,
                                     tags={k: str(v) for k, v in tags.items() if v is not None})
    return {"name": name, "version": int(mv.version), "run_id": run_id, "source": source}


def _versions(client, name: str) -> list:
    if not _model_exists(client, name):
        raise UnsatisfiableError(f"no registered model {name!r}", hint="register one first: register=<name>")
    return sorted(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))


def _aliases(client, name: str) -> dict[str, int]:
    return {a: int(v) for a, v in (client.get_registered_model(name).aliases or {}).items()}


def _archived(v) -> bool:
    return (v.tags or {}).get(ARCHIVED_TAG) == "true" or getattr(v, "current_stage", "") == "Archived"


def set_alias(client, name: str, alias: str, version: Optional[int] = None) -> dict:
    """Point `alias` at `version` (default: the newest live version); moving it from wherever it was."""
    versions = _versions(client, name)
    live = [v for v in versions if not _archived(v)]
    if version is None:
        if not live:
            raise UnsatisfiableError(f"every version of {name!r} is archived", hint="pass version=<n>")
        version = int(live[-1].version)
    if version not in {int(v.version) for v in versions}:
        raise InputError(f"{name!r} has no version {version} (versions: "
                         f"{', '.join(v.version for v in versions)})", hint="fix 'version'")
    before = _aliases(client, name).get(alias)
    client.set_registered_model_alias(name, alias, str(version))
    return {"name": name, "alias": alias, "version": version, "moved_from": before}


def list_versions(client, name: str) -> list[dict]:
    """Every version: number, aliases, archived, run, held-out metrics of its run."""
    aliases = _aliases(client, name)
    rows = []
    for v in _versions(client, name):
        metrics = {}
        if v.run_id:
            metrics = {k: round(val, 5) for k, val in client.get_run(v.run_id).data.metrics.items()
                       if k.startswith("test_") or k in ("accuracy", "best_value")}
        rows.append({"version": int(v.version), "aliases": sorted(a for a, n in aliases.items() if n == int(v.version)),
                     "archived": _archived(v), "run_id": v.run_id, "metrics": metrics,
                     "created": int(v.creation_timestamp or 0)})
    return rows


def rollback(ctx, client, name: str, alias: str = "champion", version: Optional[int] = None) -> dict:
    """Move `alias` back to `version` (default: the newest live version older than its current one) and make
    that version the thread's current model."""
    versions = [v for v in _versions(client, name) if not _archived(v)]
    current = _aliases(client, name).get(alias)
    if version is None:
        if current is None:
            raise UnsatisfiableError(f"{name!r} has no alias {alias!r} to roll back", hint=f"set it first: alias={alias}")
        older = [int(v.version) for v in versions if int(v.version) < current]
        if not older:
            raise UnsatisfiableError(f"nothing to roll back to: {alias} is v{current}, the oldest live version of {name!r}")
        version = older[-1]
    out = set_alias(client, name, alias, version)
    out["moved_from"] = current
    out["model_path"] = load_version(ctx, client, name, version)
    return out


def load_version(ctx, client, name: str, version: int) -> str:
    """Download a version's model into the workspace and make it the thread's current model."""
    from tensor_agent.tools.core.model_store import load_model

    mv = client.get_model_version(name, str(version))
    dest = ctx.settings.path("models", "registry", name, f"v{version}")
    local = client.download_artifacts(mv.run_id, "model", str(dest))
    handle = load_model(local)
    handle.mlflow_run_id = mv.run_id
    ctx.set_model(handle)
    return local


def archive(client, name: str, version: Optional[int] = None) -> dict:
    """Archive `version` (default: the oldest live version holding no alias); its aliases are removed."""
    versions = _versions(client, name)
    aliases = _aliases(client, name)
    if version is None:
        free = [int(v.version) for v in versions if not _archived(v) and int(v.version) not in aliases.values()]
        if not free:
            raise UnsatisfiableError(f"no version of {name!r} without an alias to archive", hint="pass version=<n>")
        version = free[0]
    if version not in {int(v.version) for v in versions}:
        raise InputError(f"{name!r} has no version {version}", hint="fix 'version'")
    removed = sorted(a for a, n in aliases.items() if n == version)
    for a in removed:
        client.delete_registered_model_alias(name, a)
    client.set_model_version_tag(name, str(version), ARCHIVED_TAG, "true")
    with warnings.catch_warnings():  # stages are deprecated in MLflow 3; the tag is the lasting record
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(name, str(version), "Archived")
    return {"name": name, "version": version, "removed_aliases": removed}
