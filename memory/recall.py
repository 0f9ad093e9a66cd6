"""Answers for `recall` intents ("what has worked best for tabular tasks?") from the memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from .fitness import GUIDE

if TYPE_CHECKING:  # pragma: no cover
    from .core import Memory


def _constraints(plan: Any) -> dict:
    out: dict = {}
    for c in getattr(plan, "constraints", None) or []:
        out.setdefault(c.name, c.value)
    return out


def recall_answer(memory: "Memory", plan: Any, *, top: int = 5) -> dict:
    """Best families (with evidence) and similar past designs for the plan's modality/task.

    Returns:
        dict with `question`, `modality`, `task`, `best` (per modality: FamilyFitness dicts, best
        first), `similar_designs`, `similar_outcomes` and a readable `answer`.
    """
    text = str(getattr(plan, "text", "") or "")
    modality: Optional[str] = getattr(plan, "modality", None)
    task: Optional[str] = getattr(plan, "task", None)
    constraints = _constraints(plan)
    outcomes = memory.list("outcome")
    modalities = [modality] if modality else sorted({o.get("modality") for o in outcomes if o.get("modality")})
    best: dict[str, list[dict]] = {}
    lines: list[str] = []
    for mod in modalities:
        rows = [o for o in outcomes if o.get("modality") == mod and (not task or not modality
                                                                     or o.get("task") == task)]
        if not rows:
            continue
        fit = memory.fitness(mod, task if modality else None, constraints, by_variant=False)
        fit = [f for f in fit if f.n > 0][:top]
        best[mod] = [f.as_dict() for f in fit]
        if fit:
            f = fit[0]
            guide = GUIDE.get(mod, ("?",))[0]
            runner = ", ".join(f"{g.family} {g.score:.3f}" for g in fit[1:3])
            metric = f" (mean {f.metric} {f.raw_mean:.3g})" if f.raw_mean is not None else ""
            lines.append(
                f"{mod}{'/' + task if task and modality else ''}: {f.family} has worked best - score "
                f"{f.score:.3f}±{f.uncertainty:.3f} over {f.n} run(s){metric}"
                + (f"; then {runner}" if runner else "")
                + (f"; the guide's default is {guide}" if guide != f.family else "")
                + (f". Evidence: {f.evidence[0]}" if f.evidence else ""))
    similar_designs: list[dict] = []
    similar_outcomes: list[dict] = []
    if text.strip() and memory.count():
        similar_designs = [_brief(r) for r in memory.search(text, k=top, kind="design", modality=modality)]
        similar_outcomes = [_brief(r) for r in memory.search(text, k=top, kind="outcome", modality=modality)]
    if not lines:
        where = f"{modality} tasks" if modality else "any task"
        answer = (f"Memory has no experiment outcomes for {where} yet; "
                  f"the selection guide suggests {GUIDE.get(modality or '', ('a guide family',))[0]}"
                  if modality else "Memory has no experiment outcomes yet.")
    else:
        answer = "\n".join(lines)
    return {"question": text, "modality": modality, "task": task, "best": best,
            "similar_designs": similar_designs, "similar_outcomes": similar_outcomes, "answer": answer}


def _brief(r: dict) -> dict:
    keep = ("id", "kind", "family", "variant", "modality", "task", "dataset", "metric", "value", "success",
            "similarity", "document", "mlflow_run_id", "design_id")
    return {k: r.get(k) for k in keep if r.get(k) is not None}
