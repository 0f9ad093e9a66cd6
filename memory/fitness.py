"""Per-task fitness of architecture families, learned from the outcomes in memory.

For one (modality, task) every training outcome becomes a *quality* in [0, 1]: its metric
normalised per dataset and metric (value / best value seen on that dataset, or best / value when
smaller is better), so digits accuracy and breast-cancer accuracy can be pooled. Failures have no
quality; they lower the family's success probability.

Per family (or family + variant) the score is

    score = E[quality] - sum_c w_c * cost_c

* `E[quality]` is a normal-normal posterior: the prior mean comes from the selection guide (the
  guide's first choice for the modality gets `PRIOR_DEFAULT`, other families `PRIOR_OTHER`) worth
  `PRIOR_STRENGTH` pseudo-runs; the noise is the pooled within-family spread of quality over
  successful runs, shrunk towards `PRIOR_SIGMA` while there are few replicates (at least
  `MIN_SIGMA`), so the uncertainty shrinks like sigma / sqrt(PRIOR_STRENGTH + n).
* Only trainings that ran count (`counted`): input, validation and set-up errors (exit codes 2/3, or
  any error before a training report exists) are recorded and listed as `excluded`, never as the
  family's failure. A result within noise of chance (the majority-class baseline, else 1/classes;
  see `records.chance_margin`) is flagged and counts as `CHANCE_WEIGHT` of a run of quality 0, and it
  never sets the per-dataset best.
* Every figure is traced: `outcome_ids`, `excluded` and `trace` (id, value, quality, weight, why).
* A failed run counts against its family as a run of quality `FAILURE_QUALITY`. The success rate is
  also reported as a Beta posterior, Beta(SUCCESS_PRIOR + successes, FAILURE_PRIOR + failures).
* `cost_c` for latency, size and training time is log2(cost / cheapest on that dataset) / 4
  (clipped to [0, 1]) plus a penalty for runs over a limit the user asked for; the weight `w_c` is
  `ASKED_WEIGHT` when a constraint asks about that cost and `BASE_WEIGHT` (a tie-breaker) otherwise.

`recommend` leaves the guide's default only when the best candidate beats it with probability
>= `SWITCH_PROBABILITY` (one-sided normal test on the two scores) and has at least `MIN_RUNS`
successful runs; its rationale cites the runs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Optional

from tensor_agent.catalogue import guide_families

from .records import higher_is_better, is_at_chance

#: What a tool's exit code means (recorded outcomes with these codes never count against a family).
EXIT_MEANING = {2: "bad input or validation error", 3: "cannot be met / set-up error", 4: "back-end unavailable",
                1: "internal error"}

CHANCE_WEIGHT = 0.5       # a result within noise of chance counts as half a run, of quality 0
PRIOR_DEFAULT = 0.95      # prior mean quality of the guide's first choice
PRIOR_GUIDE = 0.92        # other families the guide lists for the modality
PRIOR_OTHER = 0.90        # families the guide does not list
PRIOR_STRENGTH = 2.0      # the prior is worth this many runs
MIN_SIGMA = 0.02          # floor of the per-run noise of quality
PRIOR_SIGMA = 0.05        # prior guess of that noise (scaled-inverse-chi2 prior) ...
PRIOR_SIGMA_DOF = 4.0     # ... worth this many degrees of freedom
MAX_SIGMA = 0.5
FAILURE_QUALITY = 0.5     # a failed run is scored like a run reaching half the best metric
SUCCESS_PRIOR = 4.0       # Beta prior: P(success) starts at 4 / 4.5 ~ 0.89
FAILURE_PRIOR = 0.5
BASE_WEIGHT = 0.002
ASKED_WEIGHT = 0.15
LIMIT_PENALTY = 0.3
SWITCH_PROBABILITY = 0.95
MIN_RUNS = 2


@dataclass
class FamilyFitness:
    """How well one family (and variant) has done on one modality/task."""

    family: str = field(metadata={"description": "Architecture family."})
    variant: str = field(default="", metadata={"description": "Variant ('' when pooled over variants)."})
    score: float = field(default=0.0, metadata={"description": "Posterior utility; higher is better."})
    mean: float = field(default=0.0, metadata={"description": "Posterior mean normalised metric (quality)."})
    n: int = field(default=0, metadata={"description": "Outcomes seen (successes + failures)."})
    uncertainty: float = field(default=0.0, metadata={"description": "Posterior std of the score."})
    evidence: list[str] = field(default_factory=list, metadata={"description": "Outcome lines, newest first."})
    successes: int = field(default=0, metadata={"description": "Successful runs."})
    failures: int = field(default=0, metadata={"description": "Failed runs."})
    p_success: float = field(default=1.0, metadata={"description": "Posterior mean success probability."})
    prior: float = field(default=PRIOR_OTHER, metadata={"description": "Prior mean quality from the guide."})
    costs: dict = field(default_factory=dict, metadata={"description": "Normalised costs and penalties."})
    datasets: list[str] = field(default_factory=list, metadata={"description": "Datasets of the evidence."})
    raw_mean: Optional[float] = field(default=None, metadata={"description": "Mean raw metric value."})
    metric: str = field(default="", metadata={"description": "Most common metric name."})
    at_chance: int = field(default=0, metadata={"description": "Counted runs within noise of chance (flagged)."})
    outcome_ids: list[str] = field(default_factory=list, metadata={"description": "Ids of the counted outcomes."})
    excluded: list[dict] = field(default_factory=list, metadata={"description": "Recorded but not counted: "
                                                                               "{id, why} (input/set-up errors)."})
    trace: list[dict] = field(default_factory=list, metadata={"description": "Per outcome: id, value, quality, "
                                                                            "weight, counted, why."})

    @property
    def real(self) -> int:
        """Completed runs above chance."""
        return self.successes

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Recommendation:
    """Which family to use, and why."""

    family: str = field(metadata={"description": "The family to design."})
    switched: bool = field(default=False, metadata={"description": "True when memory overrode the guide."})
    rationale: str = field(default="", metadata={"description": "One paragraph citing the evidence."})
    evidence: list[str] = field(default_factory=list, metadata={"description": "Outcome lines cited."})
    probability: Optional[float] = field(default=None, metadata={"description": "P(best beats default)."})
    fitness: list[FamilyFitness] = field(default_factory=list, metadata={"description": "Scores compared."})

    def as_dict(self) -> dict:
        return asdict(self)


def prior_for(family: str, modality: Optional[str]) -> float:
    """Prior mean quality of `family` for `modality` from the selection guide."""
    guide = guide_families(modality)
    if guide and family == guide[0]:
        return PRIOR_DEFAULT
    if family in guide:
        return PRIOR_GUIDE
    return PRIOR_OTHER


def _cost_weights(constraints: Optional[dict]) -> tuple[dict[str, float], dict[str, float]]:
    """Weights per cost and limits per cost from the constraints asked for."""
    c = dict(constraints or {})
    weights = {"latency_ms": BASE_WEIGHT, "size_mb": BASE_WEIGHT, "train_time_s": BASE_WEIGHT}
    limits: dict[str, float] = {}
    device = str(c.get("device") or "").lower()
    if device in ("mobile", "edge", "cpu"):
        weights["latency_ms"] = weights["size_mb"] = ASKED_WEIGHT * 2 / 3
    for key, cost in (("latency_ms", "latency_ms"), ("size_mb", "size_mb"), ("max_params", "size_mb"),
                      ("time_budget_s", "train_time_s"), ("train_time_s", "train_time_s")):
        if c.get(key) is not None:
            weights[cost] = ASKED_WEIGHT
            if key != "max_params":
                try:
                    limits[cost] = float(c[key])
                except (TypeError, ValueError):
                    pass
    return weights, limits


def _quality(value: float, best: float, metric: str) -> float:
    if higher_is_better(metric):
        q = value / best if best > 0 else 1.0 - (best - value) / (abs(best) + 1.0)
    else:
        q = best / value if value > 0 and best > 0 else 1.0 - (value - best) / (abs(best) + 1.0)
    return min(1.0, max(0.0, q))


def _counts(o: dict) -> bool:
    """Whether an outcome counts toward its family: a training that ran. Records written before
    `counted` existed count unless they carry an input/set-up exit code."""
    if "counted" in o:
        return bool(o["counted"])
    return o.get("exit_code") in (None, 1)


def _is_real(o: dict) -> bool:
    """A counted, successful result above chance."""
    return _counts(o) and bool(o.get("success", True)) and o.get("value") is not None and not _at_chance(o)


def _at_chance(o: dict) -> bool:
    if o.get("at_chance"):
        return True
    return is_at_chance(_f(o.get("value")), _f(o.get("chance")), o.get("n_test"), o.get("metric") or "")


def _f(v) -> Optional[float]:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _normalisers(rows: list[dict], weights: dict) -> tuple[dict, dict]:
    """Best metric per (dataset, metric) over real results (chance-level runs never set the bar), and
    the cheapest cost per (dataset, cost) over successful counted runs."""
    best: dict[tuple[str, str], float] = {}
    cheapest: dict[tuple[str, str], float] = {}
    for o in rows:
        if not _counts(o) or not o.get("success", True) or o.get("value") is None:
            continue
        ds, metric, value = o.get("dataset") or "?", o.get("metric") or "", float(o["value"])
        key = (ds, metric)
        if _is_real(o) and (key not in best or (value > best[key] if higher_is_better(metric) else value < best[key])):
            best[key] = value
        for cost in weights:
            c = o.get(cost)
            if c is not None and c > 0:
                cheapest[(ds, cost)] = min(cheapest.get((ds, cost), math.inf), float(c))
    return best, cheapest


def _trace(o: dict, best: dict) -> dict:
    """How one outcome enters its family's fitness: quality, weight and why."""
    row = {"id": o.get("id", "?"), "value": o.get("value"), "metric": o.get("metric") or "",
           "dataset": o.get("dataset") or "?", "mlflow_run_id": o.get("mlflow_run_id") or ""}
    if not _counts(o):
        code = o.get("exit_code")
        row.update(counted=False, weight=0.0, quality=None,
                   why=(f"not counted: exit code {code} ({EXIT_MEANING.get(code, 'error')})" if code
                        else "not counted: no training ran") + f" - {(o.get('reason') or '')[:80]}")
        return row
    if not o.get("success", True) or o.get("value") is None:
        row.update(counted=True, weight=1.0, quality=FAILURE_QUALITY, why="failed training: " + (o.get("reason") or "?")[:80])
        return row
    key = (o.get("dataset") or "?", o.get("metric") or "")
    if _at_chance(o):
        chance = _f(o.get("chance"))
        row.update(counted=True, weight=CHANCE_WEIGHT, quality=0.0, at_chance=True,
                   why=f"at chance: {o.get('metric')} {float(o['value']):.3g} vs chance "
                       + (f"{chance:.3g}" if chance is not None else "?") + " (no learning shown; down-weighted)")
        return row
    q = _quality(float(o["value"]), best.get(key, float(o["value"])), o.get("metric") or "")
    row.update(counted=True, weight=1.0, quality=round(q, 6), why="completed training")
    return row


def _cost_terms(ok_items: list[dict], weights: dict, limits: dict, cheapest: dict) -> tuple[dict, float]:
    costs: dict[str, float] = {}
    penalty = 0.0
    for cost, w in weights.items():
        rel, over = [], []
        for o in ok_items:
            c = o.get(cost)
            base = cheapest.get((o.get("dataset") or "?", cost))
            if c is None or not base:
                continue
            rel.append(min(1.0, max(0.0, math.log2(max(float(c), 1e-12) / base) / 4.0)))
            if cost in limits:
                over.append(1.0 if float(c) > limits[cost] else 0.0)
        if rel:
            costs[cost] = sum(rel) / len(rel)
            penalty += w * costs[cost]
        if over:
            costs[cost + "_over_limit"] = sum(over) / len(over)
            penalty += LIMIT_PENALTY * costs[cost + "_over_limit"]
    return costs, penalty


def _pooled_sigma(traces: dict) -> float:
    """Pooled within-family spread of the quality of real results, shrunk towards PRIOR_SIGMA."""
    ss, dof = 0.0, 0
    for rows in traces.values():
        qs = [r["quality"] for r in rows if r.get("counted") and r["weight"] == 1.0 and r["quality"] is not None
              and not r["why"].startswith("failed")]
        if len(qs) > 1:
            m = sum(qs) / len(qs)
            ss += sum((q - m) ** 2 for q in qs)
            dof += len(qs) - 1
    sigma2 = (PRIOR_SIGMA_DOF * PRIOR_SIGMA ** 2 + ss) / (PRIOR_SIGMA_DOF + dof)
    return min(MAX_SIGMA, max(MIN_SIGMA, math.sqrt(sigma2)))


def compute_fitness(outcomes: Iterable[dict], *, modality: Optional[str], constraints: Optional[dict] = None,
                    by_variant: bool = True, families: Iterable[str] = ()) -> list[FamilyFitness]:
    """Fitness per family (and variant) from outcome records of one modality/task, best first.

    Only trainings that ran count (`counted`); input, validation and set-up errors are listed in
    `excluded` but change nothing. Results within noise of chance count with weight `CHANCE_WEIGHT`
    and quality 0 (they show no learning). Every figure is traced to its outcome ids (`trace`).

    Args:
        outcomes: Outcome record dicts (`OutcomeRecord` fields plus `id`).
        modality: The modality (chooses the guide prior).
        constraints: Constraint name -> value asked for (weights the costs).
        by_variant: Score each (family, variant) apart; False pools the variants of a family.
        families: Families to include even without evidence (scored from the prior alone).
    """
    rows = [o for o in outcomes if (o.get("stage") or "train") == "train"]
    weights, limits = _cost_weights(constraints)
    best, cheapest = _normalisers(rows, weights)

    groups: dict[tuple[str, str], list[dict]] = {}
    for o in rows:
        fam = o.get("family") or "unknown"
        groups.setdefault((fam, (o.get("variant") or "") if by_variant else ""), []).append(o)
    for fam in families:
        if not any(k[0] == fam for k in groups):
            groups[(fam, "")] = []
    traces = {key: [_trace(o, best) for o in _newest_first(items)] for key, items in groups.items()}
    sigma = _pooled_sigma(traces)

    out = [_family_fitness(fam, variant, groups[(fam, variant)], traces[(fam, variant)], modality=modality,
                           sigma=sigma, costs=_cost_terms([o for o in groups[(fam, variant)] if _counts(o)
                                                           and o.get("success", True)], weights, limits, cheapest))
           for fam, variant in groups]
    out.sort(key=lambda f: (-f.score, f.uncertainty, f.family, f.variant))
    return out


def _family_fitness(fam: str, variant: str, items: list[dict], trace: list[dict], *, modality: Optional[str],
                    sigma: float, costs: tuple[dict, float]) -> FamilyFitness:
    counted = [r for r in trace if r["counted"]]
    fails = [r for r in counted if r["why"].startswith("failed")]
    real = [r for r in counted if r["weight"] == 1.0 and r not in fails]
    chance = [r for r in counted if r.get("at_chance")]
    prior = prior_for(fam, modality)
    weight = sum(r["weight"] for r in counted)
    post_n = PRIOR_STRENGTH + weight
    mean_q = (PRIOR_STRENGTH * prior + sum(r["weight"] * r["quality"] for r in counted)) / post_n
    a, b = SUCCESS_PRIOR + len(real) + len(chance), FAILURE_PRIOR + len(fails)
    cost_map, penalty = costs
    by_id = {o.get("id"): o for o in items}
    ok = [by_id[r["id"]] for r in real + chance if r["id"] in by_id]
    raw = [float(o["value"]) for o in ok if o.get("value") is not None]
    metrics = [o.get("metric") for o in ok if o.get("metric")]
    return FamilyFitness(
        family=fam, variant=variant, score=round(mean_q - penalty, 6), mean=round(mean_q, 6), n=len(counted),
        uncertainty=round(sigma / math.sqrt(post_n), 6),
        evidence=[evidence_line(by_id.get(r["id"], r)) for r in counted][:8],
        successes=len(real), failures=len(fails), p_success=round(a / (a + b), 4), prior=prior,
        costs={k: round(v, 4) for k, v in cost_map.items()},
        datasets=sorted({o.get("dataset") or "?" for o in items if _counts(o)}),
        raw_mean=round(sum(raw) / len(raw), 6) if raw else None,
        metric=max(set(metrics), key=metrics.count) if metrics else "",
        at_chance=len(chance), outcome_ids=[r["id"] for r in counted],
        excluded=[{"id": r["id"], "why": r["why"]} for r in trace if not r["counted"]], trace=trace,
    )


def _newest_first(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda o: (o.get("created") or "", o.get("id") or ""), reverse=True)


def evidence_line(o: dict) -> str:
    """One readable line citing an outcome record."""
    fam = o.get("family", "?") + (f"/{o['variant']}" if o.get("variant") else "")
    if not _counts(o):
        code = o.get("exit_code")
        what = (f"NOT COUNTED (exit code {code}: " if code else "NOT COUNTED (") + \
            f"{(o.get('reason') or 'no training ran')[:80]})"
    elif o.get("success", True):
        what = f"{o.get('metric') or 'metric'}={o['value']:.4g}" if o.get("value") is not None else "no metric"
        if _at_chance(o):
            chance = _f(o.get("chance"))
            what += " AT CHANCE" + (f" (chance {chance:.3g})" if chance is not None else "")
    else:
        what = f"FAILED ({(o.get('reason') or 'unknown reason')[:80]})"
    extra = []
    if o.get("train_time_s") is not None:
        extra.append(f"{o['train_time_s']:.3g}s")
    if o.get("mlflow_run_id"):
        extra.append(f"mlflow run {str(o['mlflow_run_id'])[:12]}")
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"{o.get('id', '?')}: {fam} on {o.get('dataset', '?')} {what}{tail}"


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def recommend_from(fitness: list[FamilyFitness], *, modality: str, task: Optional[str], default_family: str,
                   candidates: Iterable[str]) -> Recommendation:
    """Pick between the guide's default and the candidates given their (family-pooled) fitness."""
    allowed = list(dict.fromkeys([default_family, *candidates]))
    by_family = {f.family: f for f in fitness if f.family in allowed}
    where = f"{modality}/{task}" if task else modality
    default = by_family.get(default_family)
    ranked = sorted(by_family.values(), key=lambda f: (-f.score, f.uncertainty))
    if default is None or not ranked:
        return Recommendation(family=default_family, rationale=f"no evidence in memory for {where}; "
                              f"keeping the selection guide's choice {default_family}", fitness=ranked)
    best = ranked[0]
    summary = (lambda f: f"{f.family} score {f.score:.3f}±{f.uncertainty:.3f} over {f.n} run(s)"
               f" ({f.successes} ok, {f.failures} failed)")
    if best.family == default_family:
        total = sum(f.n for f in ranked)
        if total == 0:
            why = f"no outcomes for {where} in memory yet"
        else:
            others = ", ".join(summary(f) for f in ranked[1:4]) or "no alternatives tried"
            why = f"memory agrees: {summary(default)}; {others}"
        return Recommendation(family=default_family, switched=False, fitness=ranked,
                              rationale=f"keeping the selection guide's {default_family} for {where}: {why}",
                              evidence=default.evidence[:5])
    diff = best.score - default.score
    spread = math.sqrt(best.uncertainty ** 2 + default.uncertainty ** 2) or 1e-9
    prob = _normal_cdf(diff / spread)
    evidence = best.evidence[:5] + default.evidence[:3]
    if prob >= SWITCH_PROBABILITY and best.successes >= MIN_RUNS:
        return Recommendation(
            family=best.family, switched=True, probability=round(prob, 4), fitness=ranked, evidence=evidence,
            rationale=(f"memory overrides the selection guide for {where}: {best.family} beat the default "
                       f"{default_family} (P={prob:.2f}); {summary(best)} vs {summary(default)}. Evidence: "
                       + "; ".join(evidence[:4])))
    return Recommendation(
        family=default_family, switched=False, probability=round(prob, 4), fitness=ranked, evidence=evidence,
        rationale=(f"keeping the selection guide's {default_family} for {where}: {best.family} looks better "
                   f"({summary(best)} vs {summary(default)}) but the evidence is not yet strong enough "
                   f"(P={prob:.2f} < {SWITCH_PROBABILITY}, or fewer than {MIN_RUNS} successful runs)"))
