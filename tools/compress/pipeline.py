"""The compression search: stages in order (distill -> prune -> quantize), candidates per stage,
one paired timing session for all of them, judging, and the choice among the finished chains.

Techniques of one stage are alternatives (each chain branches), stages run in sequence. Every
candidate is measured statically (size, params, MACs, held-out metric) when it is made; latency
is measured once at the end for all of them together, interleaved in the same rounds against the
same baseline (`runtime.time_paired`), so every speed-up has a paired interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from tensor_agent.tools.compress.choose import choose
from tensor_agent.tools.compress.judge import make_result
from tensor_agent.tools.compress.report import TechniqueResult
from tensor_agent.tools.compress.techniques import (EXPORTS, QUANTIZERS, StepEnv, canonical,  # noqa: F401
                                                    get_technique, known_techniques, order_techniques, stage_of,
                                                    technique)


@dataclass
class Step:
    """One technique applied to one runner, measured statically."""

    technique: str
    before_key: str
    after_key: str
    comp: Any            # quantize.Compressed
    before_stats: Any    # ModelStats of the input (static)
    after_stats: Any     # ModelStats of the output (static)
    chain: list[int]     # indices of the steps of its chain, itself last


@dataclass
class Outcome:
    """What the search produced."""

    results: list[TechniqueResult] = field(default_factory=list)
    finals: list[tuple[int, str]] = field(default_factory=list)   # (result index, timing key) per chain
    runners: dict[str, Any] = field(default_factory=dict)         # timing key -> Runner
    steps: list[Step] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)
    chosen: Optional[int] = None
    choice: list[str] = field(default_factory=list)

    def chain_of(self, index: int) -> list[Step]:
        """The steps behind a final result (one step, or the steps of a pipeline)."""
        for (i, key) in self.finals:
            if i == index:
                last = next(s for s in self.steps if s.after_key == key)
                return [self.steps[j] for j in last.chain]
        return []


def _groups(techniques: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    for t in techniques:
        if t in EXPORTS:
            continue
        if groups and stage_of(groups[-1][0]) == stage_of(t):
            groups[-1].append(t)
        else:
            groups.append([t])
    return groups


def _apply(job, out: Outcome, t: str, key: str, stats, chain: list[int]) -> list[tuple[str, Any, list[int]]]:
    """Run technique `t` on the runner `key`; record its candidates; return the new chain ends."""
    from tensor_agent.tools.compress.job import measure_static

    runner = out.runners[key]
    _, fn = get_technique(t)
    job.log(f"{t} on {runner.backend}")
    ends = []
    for comp in fn(runner.module, job.env):
        comp.runner.threads = job.request.threads
        new_key = f"s{len(out.steps)}"
        out.runners[new_key] = comp.runner
        after = measure_static(comp.runner, job.example, job.eval_batches(), job.task, job.request.batch_size,
                               job.request.threads)
        idx = len(out.steps)
        out.steps.append(Step(comp.technique, key, new_key, comp, stats, after, chain + [idx]))
        ends.append((new_key, after, chain + [idx]))
    return ends


def _mobile_chain(job, out: Outcome) -> list[tuple[str, Any, list[int]]]:
    from tensor_agent.tools.compress.quantize import layer_counts

    req = job.request
    if not (req.auto and req.device in ("mobile", "edge", "phone") and job.data is not None
            and layer_counts(job.handle.module)["conv"] > 0):
        return []
    job.log("mobile target: structured pruning as an extra candidate chain")
    return _apply(job, out, "structured_pruning", "base", job.base_stats, [])


def explore(job) -> Outcome:
    """Apply every stage to every chain; returns the steps (static measurements only)."""
    out = Outcome(runners={"base": job.base})
    chains = [("base", job.base_stats, [])] + _mobile_chain(job, out)
    for group in _groups(job.techniques):
        new = []
        for key, stats, chain in chains:
            if out.runners[key].module is None:
                job.env.notes.append(f"{', '.join(group)} skipped after an ONNX Runtime step (needs a torch module)")
                new.append((key, stats, chain))
                continue
            for t in group:
                new.extend(_apply(job, out, t, key, stats, chain))
        chains = new
    out.finals = [(-1, key) for key, _, chain in chains if chain]
    return out


def _with_latency(stats, times: list[float]):
    from tensor_agent.tools.core.runtime import summarize_times

    s = summarize_times(times)
    return stats.model_copy(update={"latency_ms_median": s["median"], "latency_ms_p90": s["p90"], "runs": s["runs"]})


def time_all(job, out: Outcome) -> None:
    """One paired, interleaved timing session: the original and every candidate, same rounds."""
    from tensor_agent.tools.core.runtime import time_paired

    keys = list(out.runners)
    job.log(f"timing {len(keys)} model(s), {job.request.runs} interleaved rounds")
    out.times = time_paired({k: out.runners[k].timed_fn(job.example) for k in keys}, runs=job.request.runs,
                            threads=job.request.threads)


def build_results(job, out: Outcome) -> None:
    """TechniqueResults for every step and for every multi-step chain (vs the original)."""
    from tensor_agent.tools.core.stats import paired_ratio

    goals = job.request.goals
    base = _with_latency(job.base_stats, out.times["base"])
    for s in out.steps:
        before = base if s.before_key == "base" else _with_latency(s.before_stats, out.times[s.before_key])
        after = _with_latency(s.after_stats, out.times[s.after_key])
        details = dict(s.comp.details)
        if s.technique == "structured_pruning":
            details["macs_target"] = (float(job.request.options.get("macs_reduction", 2.0))
                                      if job.request.sparsity is None else None)
        sp = paired_ratio(out.times[s.before_key], out.times[s.after_key])
        out.results.append(make_result(s.technique, s.comp.runner.backend, before, after, goals, details,
                                       s.comp.artifacts, s.comp.notes, sp))
    finals = []
    for _, key in out.finals:
        step = next(s for s in out.steps if s.after_key == key)
        if len(step.chain) == 1:
            finals.append((step.chain[0], key))
            continue
        steps = [out.steps[j] for j in step.chain]
        details = {"steps": [x.technique for x in steps], "step_backends": [x.comp.runner.backend for x in steps]}
        sp = paired_ratio(out.times["base"], out.times[key])
        out.results.append(make_result("pipeline", step.comp.runner.backend, base,
                                       _with_latency(step.after_stats, out.times[key]), goals, details, {},
                                       [" -> ".join(details["steps"])], sp))
        finals.append((len(out.results) - 1, key))
    out.finals = finals


def run(job) -> Outcome:
    """The whole search: explore, time, judge, choose."""
    out = explore(job)
    if not out.steps:
        return out
    time_all(job, out)
    build_results(job, out)
    out.chosen, out.choice = choose(out.results, out.finals, out.times, job.request.goals)
    return out
