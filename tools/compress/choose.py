"""The choice among finished candidates, by paired measurement against the same rounds.

Rule: among the candidates that meet every goal, the fastest is kept only when it is faster than
each other one beyond the measured noise (the paired interval of their latency ratio lies above
1); candidates within the noise of the fastest are ties, and among ties the smaller artifact
wins. When size is the only goal, the smallest wins. Every decision is a sentence with numbers.
"""

from __future__ import annotations

from typing import Optional

from tensor_agent.tools.core.stats import fmt_bytes, paired_ratio


def _name(r) -> str:
    steps = r.details.get("steps") if r.technique == "pipeline" else None
    return f"{' -> '.join(steps) if steps else r.technique} ({r.backend})"


def choose(results: list, finals: list[tuple[int, str]], times: dict[str, list[float]], goals
           ) -> tuple[Optional[int], list[str]]:
    """(index of the result to keep or None, the reasons as sentences)."""
    ok = [(i, k) for i, k in finals if results[i].verdict.met]
    failed = [(i, k) for i, k in finals if not results[i].verdict.met]
    if not ok:
        return None, [f"{_name(results[i])} failed: {'; '.join(results[i].verdict.failures)}" for i, _ in failed]
    if goals.size_mb is not None and not goals.speed:
        i, _ = min(ok, key=lambda f: results[f[0]].after.size_bytes)
        return i, [f"kept {_name(results[i])}: the smallest ({fmt_bytes(results[i].after.size_bytes)}) of "
                   f"{len(ok)} candidate(s) meeting the goals; size was the goal"]
    fast_i, fast_k = max(ok, key=lambda f: results[f[0]].speedup or 0.0)
    fast = results[fast_i]
    reasons, ties = [], [(fast_i, fast_k)]
    for i, k in ok:
        if i == fast_i:
            continue
        rel = paired_ratio(times[k], times[fast_k])  # > 1: the fastest is quicker than this one
        if rel.low > 1.0:
            reasons.append(f"{_name(fast)} is {rel.text()} faster than {_name(results[i])}, beyond the "
                           f"measured noise (95% interval above 1)")
        else:
            ties.append((i, k))
            reasons.append(f"{_name(fast)} and {_name(results[i])} are within the measured noise of each other "
                           f"({rel.text()} includes 1), so the smaller artifact wins between them")
    win_i, _ = min(ties, key=lambda f: (results[f[0]].after.size_bytes, -(results[f[0]].speedup or 0.0)))
    win = results[win_i]
    head = (f"kept {_name(win)}: {win.speedup_interval.text()} faster than the original, "
            f"{fmt_bytes(win.before.size_bytes)} -> {fmt_bytes(win.after.size_bytes)}")
    if win_i != fast_i:
        head += (f"; {_name(fast)} measured {fast.speedup_interval.text()} but not faster beyond the noise, "
                 f"and {_name(win)} is smaller ({fmt_bytes(win.after.size_bytes)} vs "
                 f"{fmt_bytes(fast.after.size_bytes)})")
    for i, _ in failed:
        r = results[i]
        if (r.speedup or 0) > (win.speedup or 0):
            reasons.append(f"{_name(r)} measured faster ({r.speedup_interval.text()}) but was not kept: "
                           f"{'; '.join(r.verdict.failures)}")
    return win_i, [head] + reasons
