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

from .records import higher_is_better

#: The selection guide of the TENSOR card: first family of each modality is the default.
GUIDE: dict[str, tuple[str, ...]] = {
    "tabular": ("xgboost", "mlp"),
    "image": ("efficientnet", "vit", "convnext", "resnet", "cnn"),
    "text": ("bert", "gpt", "t5"),
    "sequence": ("mamba", "gpt"),
    "text_generation": ("gpt", "t5"),
    "image_generation": ("diffusion",),
    "graph": ("gcn", "gat", "graphsage"),
}
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
    guide = GUIDE.get(modality or "", ())
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


def compute_fitness(outcomes: Iterable[dict], *, modality: Optional[str], constraints: Optional[dict] = None,
                    by_variant: bool = True, families: Iterable[str] = ()) -> list[FamilyFitness]:
    """Fitness per family (and variant) from outcome records of one modality/task, best first.

    Args:
        outcomes: Outcome record dicts (`OutcomeRecord` fields plus `id`).
        modality: The modality (chooses the guide prior).
        constraints: Constraint name -> value asked for (weights the costs).
        by_variant: Score each (family, variant) apart; False pools the variants of a family.
        families: Families to include even without evidence (scored from the prior alone).
    """
    rows = [o for o in outcomes if (o.get("stage") or "train") == "train"]
    weights, limits = _cost_weights(constraints)

    # per-dataset normalisers: best metric value and cheapest cost among successful runs
    best: dict[tuple[str, str], float] = {}
    cheapest: dict[tuple[str, str], float] = {}
    for o in rows:
        ds, metric, value = o.get("dataset") or "?", o.get("metric") or "", o.get("value")
        if not o.get("success", True) or value is None:
            continue
        key = (ds, metric)
        if key not in best or (value > best[key] if higher_is_better(metric) else value < best[key]):
            best[key] = float(value)
        for cost in weights:
            c = o.get(cost)
            if c is not None and c > 0:
                cheapest[(ds, cost)] = min(cheapest.get((ds, cost), math.inf), float(c))

    groups: dict[tuple[str, str], list[dict]] = {}
    for o in rows:
        fam = o.get("family") or "unknown"
        groups.setdefault((fam, (o.get("variant") or "") if by_variant else ""), []).append(o)
    for fam in families:
        if not any(k[0] == fam for k in groups):
            groups[(fam, "")] = []

    # pooled noise of quality around each group's mean
    qualities: dict[tuple[str, str], list[float]] = {}
    for key, items in groups.items():
        qualities[key] = [_quality(float(o["value"]), best[(o.get("dataset") or "?", o.get("metric") or "")],
                                   o.get("metric") or "")
                          for o in items if o.get("success", True) and o.get("value") is not None]
    ss, dof = 0.0, 0
    for qs in qualities.values():
        if len(qs) > 1:
            m = sum(qs) / len(qs)
            ss += sum((q - m) ** 2 for q in qs)
            dof += len(qs) - 1
    sigma2 = (PRIOR_SIGMA_DOF * PRIOR_SIGMA ** 2 + ss) / (PRIOR_SIGMA_DOF + dof)
    sigma = min(MAX_SIGMA, max(MIN_SIGMA, math.sqrt(sigma2)))

    out: list[FamilyFitness] = []
    for (fam, variant), items in groups.items():
        qs = qualities[(fam, variant)]
        prior = prior_for(fam, modality)
        n_ok = len(qs)
        n_fail = sum(1 for o in items if not o.get("success", True))
        post_n = PRIOR_STRENGTH + n_ok + n_fail
        mean_q = (PRIOR_STRENGTH * prior + sum(qs) + FAILURE_QUALITY * n_fail) / post_n
        sd_q = sigma / math.sqrt(post_n)
        a, b = SUCCESS_PRIOR + n_ok, FAILURE_PRIOR + n_fail
        p = a / (a + b)

        costs: dict[str, float] = {}
        penalty = 0.0
        ok_items = [o for o in items if o.get("success", True)]
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
        score = mean_q - penalty
        unc = sd_q

        raw = [float(o["value"]) for o in ok_items if o.get("value") is not None]
        metrics = [o.get("metric") for o in ok_items if o.get("metric")]
        out.append(FamilyFitness(
            family=fam, variant=variant, score=round(score, 6), mean=round(mean_q, 6), n=len(items),
            uncertainty=round(unc, 6), evidence=[evidence_line(o) for o in _newest_first(items)][:8],
            successes=n_ok, failures=n_fail, p_success=round(p, 4), prior=prior,
            costs={k: round(v, 4) for k, v in costs.items()},
            datasets=sorted({o.get("dataset") or "?" for o in items}),
            raw_mean=round(sum(raw) / len(raw), 6) if raw else None,
            metric=max(set(metrics), key=metrics.count) if metrics else "",
        ))
    out.sort(key=lambda f: (-f.score, f.uncertainty, f.family, f.variant))
    return out


def _newest_first(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda o: (o.get("created") or "", o.get("id") or ""), reverse=True)


def evidence_line(o: dict) -> str:
    """One readable line citing an outcome record."""
    fam = o.get("family", "?") + (f"/{o['variant']}" if o.get("variant") else "")
    if o.get("success", True):
        what = f"{o.get('metric') or 'metric'}={o['value']:.4g}" if o.get("value") is not None else "no metric"
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
