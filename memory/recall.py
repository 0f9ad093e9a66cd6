"""Answers for `recall` intents ("what has worked best for tabular tasks?") from the memory.

Families are ranked by their fitness, with every family that has a real result (a completed training
above chance) ahead of families whose only evidence is at chance; each answer line cites the outcome
ids (and MLflow runs) its figures come from, flags chance-level runs and names the recorded errors that
were not counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from tensor_agent.catalogue import guide_default

from .fitness import FamilyFitness

if TYPE_CHECKING:  # pragma: no cover
    from .core import Memory


def _constraints(plan: Any) -> dict:
    out: dict = {}
    for c in getattr(plan, "constraints", None) or []:
        out.setdefault(c.name, c.value)
    return out


def rank(fitness: list[FamilyFitness]) -> list[FamilyFitness]:
    """Families with a real result first (by score), then those with only chance-level or failed runs."""
    return sorted(fitness, key=lambda f: (f.successes == 0, -f.score, f.uncertainty, f.family))


def _cite(f: FamilyFitness, limit: int = 6) -> str:
    runs = []
    for r in f.trace:
        if not r.get("counted"):
            continue
        tag = r["id"] + (f" (mlflow {r['mlflow_run_id']})" if r.get("mlflow_run_id") else "")
        runs.append(tag)
    more = f" and {len(runs) - limit} more" if len(runs) > limit else ""
    return ", ".join(runs[:limit]) + more


def _line(mod: str, task: Optional[str], f: FamilyFitness, others: list[FamilyFitness]) -> str:
    where = f"{mod}/{task}" if task else mod
    metric = f" (mean {f.metric} {f.raw_mean:.3g})" if f.raw_mean is not None else ""
    line = (f"{where}: {f.family} has worked best - score {f.score:.3f}±{f.uncertainty:.3f} over {f.n} "
            f"counted run(s){metric}; runs: {_cite(f)}")
    if f.successes == 0:
        line = (f"{where}: no family has a result above chance yet; least bad is {f.family} "
                f"(score {f.score:.3f}; runs: {_cite(f)})")
    runner = [f"{g.family} {g.score:.3f}" + (f" (mean {g.metric} {g.raw_mean:.3g})" if g.raw_mean is not None else "")
              + (" [only chance-level runs]" if g.successes == 0 and g.at_chance else "") for g in others[:3]]
    if runner:
        line += "; then " + ", ".join(runner)
    default = guide_default(mod)
    if default and default != f.family:
        line += f"; the guide's default is {default}"
    return line


def _flags(fams: list[FamilyFitness]) -> list[str]:
    """Chance-level runs and not-counted errors, citing ids."""
    out = []
    for f in fams:
        chance = [r for r in f.trace if r.get("at_chance")]
        if chance:
            out.append(f"  flagged: {len(chance)} {f.family} run(s) at chance, down-weighted: "
                       + "; ".join(f"{r['id']} {r['why']}" for r in chance[:3]))
        if f.excluded:
            out.append(f"  not counted against {f.family}: {len(f.excluded)} recorded error(s) "
                       + "; ".join(f"{e['id']} ({e['why'][:70]})" for e in f.excluded[:3]))
    return out


def recall_answer(memory: "Memory", plan: Any, *, top: int = 5) -> dict:
    """Best families (with evidence) and similar past designs for the plan's modality/task.

    Returns:
        dict with `question`, `modality`, `task`, `best` (per modality: FamilyFitness dicts, best
        first), `cited` (outcome ids behind the answer), `flagged` (chance-level and not-counted ids),
        `similar_designs`, `similar_outcomes` and a readable `answer`.
    """
    text = str(getattr(plan, "text", "") or "")
    modality: Optional[str] = getattr(plan, "modality", None)
    task: Optional[str] = getattr(plan, "task", None)
    constraints = _constraints(plan)
    outcomes = memory.list("outcome")
    modalities = [modality] if modality else sorted({o.get("modality") for o in outcomes if o.get("modality")})
    best: dict[str, list[dict]] = {}
    lines: list[str] = []
    cited: list[str] = []
    flagged: list[str] = []
    for mod in modalities:
        rows = [o for o in outcomes if o.get("modality") == mod and (not task or not modality
                                                                     or o.get("task") == task)]
        if not rows:
            continue
        fit = memory.fitness(mod, task if modality else None, constraints, by_variant=False)
        fit = rank([f for f in fit if f.n > 0 or f.excluded])
        shown = [f for f in fit if f.n > 0][:top]
        best[mod] = [f.as_dict() for f in shown]
        if shown:
            lines.append(_line(mod, task if modality else None, shown[0], shown[1:]))
            cited += [i for f in shown for i in f.outcome_ids]
        lines += _flags(fit)
        flagged += [r["id"] for f in fit for r in f.trace if r.get("at_chance") or not r.get("counted")]
    similar_designs: list[dict] = []
    similar_outcomes: list[dict] = []
    if text.strip() and memory.count():
        similar_designs = [_brief(r) for r in memory.search(text, k=top, kind="design", modality=modality)]
        similar_outcomes = [_brief(r) for r in memory.search(text, k=top, kind="outcome", modality=modality)]
    if not any(not ln.startswith("  ") for ln in lines):
        where = f"{modality} tasks" if modality else "any task"
        default = guide_default(modality) if modality else None
        head = (f"Memory has no completed trainings for {where} yet"
                + (f"; the selection guide suggests {default}" if default else "") + ".")
        lines.insert(0, head)
    return {"question": text, "modality": modality, "task": task, "best": best, "cited": cited,
            "flagged": flagged, "similar_designs": similar_designs, "similar_outcomes": similar_outcomes,
            "answer": "\n".join(lines)}


def _brief(r: dict) -> dict:
    keep = ("id", "kind", "family", "variant", "modality", "task", "dataset", "metric", "value", "success",
            "counted", "at_chance", "similarity", "document", "mlflow_run_id", "design_id")
    return {k: r.get(k) for k in keep if r.get(k) is not None}
