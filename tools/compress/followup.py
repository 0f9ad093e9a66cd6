"""Follow-up questions about the thread's model ("how much faster?", "and the size?"), answered
from the lineage's measured results only: nothing is re-run, nothing is guessed."""

from __future__ import annotations

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.compress import lineage
from tensor_agent.tools.compress.report import CompressionReport
from tensor_agent.tools.core.stats import fmt_bytes


def _label(n: dict) -> str:
    steps = n.get("steps") or [n.get("step")]
    return f"{' -> '.join(steps)} on {n.get('backend')}" if n.get("parent") is not None else \
        f"the {n.get('step', 'original')} model ({n.get('family')}, {n.get('backend') or 'torch-fp32'})"


def _speed(cur: dict, ref: dict) -> str:
    sp = cur.get("speedup")
    if not sp:
        return f"No speed measurement is recorded for {_label(cur)}."
    return (f"{_label(cur)} runs {sp['value']:.2f}x faster than {_label(ref)} (95% interval "
            f"{sp['low']:.2f}-{sp['high']:.2f}x over {sp.get('rounds', '?')} paired rounds; batch "
            f"{cur.get('batch_size')}, {cur.get('threads')} thread(s); {cur.get('latency_ms') or 0:.2f} ms per batch).")


def _size(cur: dict, ref: dict) -> str:
    a, b = cur.get("size_bytes"), ref.get("size_bytes") or (ref.get("metrics") or {}).get("size_bytes")
    if not a:
        return f"No size is recorded for {_label(cur)}."
    if not b:
        return f"{_label(cur)} is {fmt_bytes(a)}."
    return f"{_label(cur)} is {fmt_bytes(a)}, {b / a:.2f}x smaller than {_label(ref)} ({fmt_bytes(b)})."


def _accuracy(cur: dict, ref: dict) -> str:
    ca, ra = cur.get("metrics") or {}, ref.get("metrics") or {}
    keys = [k for k in ca if k in ra and isinstance(ca[k], (int, float)) and isinstance(ra[k], (int, float))]
    if not keys:
        return f"No held-out metric is recorded for both {_label(cur)} and {_label(ref)}."
    k = "accuracy" if "accuracy" in keys else keys[0]
    return (f"{k}: {ra[k]:.4f} for {_label(ref)}, {ca[k]:.4f} for {_label(cur)} "
            f"({(ra[k] - ca[k]) * 100:.2f} points drop).")


def _history(ctx) -> str:
    parts = []
    for n in lineage.nodes(ctx):
        if n.get("step") == "export":
            state = "delivered" if n.get("delivered") else "FAILED, not delivered"
            parts.append(f"#{n['id']} export {n.get('format')} of #{n.get('parent')} ({state})")
        else:
            parts.append(f"#{n['id']} {n.get('step')} ({n.get('backend') or 'torch-fp32'})"
                         + (f" from #{n['parent']}" if n.get("parent") is not None else ""))
    return "Lineage: " + "; ".join(parts) + "."


def answer(ctx, question: str) -> CompressionReport:
    """A report whose `answer` is read from the lineage's measurements.

    Raises:
        UnsatisfiableError: the thread has no compressed model to compare.
    """
    cur = lineage.current(ctx)
    if cur is None or cur.get("vs") is None:
        raise UnsatisfiableError("this conversation has no compressed model yet, so there is nothing measured "
                                 "to compare", hint="compress the model first, e.g. 'quantize it'")
    ref = lineage.get(ctx, cur.get("vs")) or {}
    text = {"speed": _speed, "size": _size, "accuracy": _accuracy}.get(question)
    body = text(cur, ref) if text else _history(ctx)
    if question != "lineage":
        body += " " + _history(ctx)
    return CompressionReport(source={"family": cur.get("family"), "path": cur.get("path")}, status="answered",
                             answer=body, lineage=lineage.nodes(ctx), message=body, backend=cur.get("backend"),
                             model_path=cur.get("path"))
