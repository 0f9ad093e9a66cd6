"""Warm start: the best configurations of similar earlier tasks, enqueued as the first trials.

Two sources: earlier studies in the same Optuna storage (their task spec is stored with them) and tuned
designs recorded in the vector memory. "Similar" means the same family and task kind; the same dataset
ranks first, then the same modality. Only values inside the current search space are enqueued.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

from .objective import TaskSpec

TUNED_BY = "optuna"


def _fit_space(params: dict, spec: TaskSpec) -> dict:
    by_name = {p.name: p for p in spec.space}
    return {k: v for k, v in (params or {}).items() if k in by_name and by_name[k].contains(v)}


def _similarity(spec: TaskSpec, family: str, dataset: str, modality: str, task: str,
                load_opts: Optional[dict] = None) -> Optional[tuple[int, str]]:
    if family != spec.family or task != spec.task:
        return None
    if str(dataset) == spec.dataset and (load_opts is None or load_opts == spec.load_opts):
        return 2, "same family and dataset"
    if str(dataset) == spec.dataset:
        return 1, f"related task: same family ({family}) on another part of {dataset} ({load_opts or 'all'})"
    if modality == spec.modality:
        return 1, f"related task: same family ({family}) and {modality} {task}"
    return None


def from_studies(spec: TaskSpec, storage, *, exclude: str, per_study: int = 3) -> list[dict]:
    """Best trials of earlier studies in `storage` on similar tasks."""
    import optuna
    from optuna.trial import TrialState

    out = []
    for summary in storage.get_all_studies():
        raw = summary.user_attrs.get("task")
        if summary.study_name == exclude or not raw:
            continue
        other = TaskSpec.from_json(raw)
        sim = _similarity(spec, other.family, other.dataset, other.modality, other.task, other.load_opts)
        if sim is None or other.metric != spec.metric:
            continue
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not done:
            continue
        ranked = sorted(done, key=lambda t: t.value, reverse=other.direction == "maximize")
        for place, best in enumerate(ranked[:per_study]):
            params = _fit_space(best.params, spec)
            if params:
                out.append({"params": params, "source": f"study {summary.study_name} trial {best.number}",
                            "rank": sim[0], "created": best.datetime_start.isoformat() if best.datetime_start else "",
                            "place": place,
                            "why": f"#{place + 1} {other.metric} {best.value:.4g} of {other.family} on {other.dataset} "
                                   f"(trial {best.number} of {len(done)}); {sim[1]}"})
    return out


def from_memory(spec: TaskSpec, memory) -> list[dict]:
    """Tuned designs recorded in the vector memory for similar tasks."""
    out = []
    for rec in memory.list("design", family=spec.family):
        hp = rec.get("hparams") or {}
        if hp.get("tuned_by") != TUNED_BY:
            continue
        sim = _similarity(spec, rec.get("family", ""), rec.get("dataset", ""), rec.get("modality", ""),
                          rec.get("task", ""))
        if sim is None or hp.get("metric") != spec.metric:
            continue
        params = _fit_space(hp.get("params") or {}, spec)
        if params:
            out.append({"params": params, "source": f"memory {rec.get('id')}", "rank": sim[0], "place": 0,
                        "why": f"tuned {rec.get('family')} on {rec.get('dataset')} recorded in memory "
                               f"(best {hp.get('metric')} {hp.get('best_value')}); {sim[1]}",
                        "created": rec.get("created") or ""})
    return out


def _stamp(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def warm_candidates(spec: TaskSpec, storage, *, exclude: str, memory_getter: Optional[Callable[[], Any]],
                    warnings: list[str], limit: int = 3) -> list[dict]:
    """Up to `limit` distinct configurations, most similar and newest first."""
    found = from_studies(spec, storage, exclude=exclude)
    if memory_getter is not None:
        try:
            memory = memory_getter()
            if memory is not None:
                found += from_memory(spec, memory)
        except Exception as exc:  # noqa: BLE001 - memory is best-effort; the failure is reported, not hidden
            warnings.append(f"warm start could not read the vector memory ({type(exc).__name__}: {exc}); "
                            "used earlier studies only")
    found.sort(key=lambda c: (-c["rank"], c["place"], -_stamp(c["created"]) if c["created"] else 0.0))
    out, seen = [], set()
    for c in found:
        key = json.dumps(c["params"], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append({k: c[k] for k in ("params", "source", "why")})
    return out[:limit]
