"""The readable answer of a turn, composed from the plan, tool outputs and peer replies.

Tool outputs are JSON dicts; a `summary` field is used when a tool provides one, otherwise
the most telling scalar fields are listed. The CLI renders the same data as tables.
"""

from __future__ import annotations

from typing import Any

_PREFERRED = ("summary", "message", "verdict", "family", "variant", "params", "size_mb", "latency_ms",
              "test_accuracy", "accuracy", "metric", "value", "feasible", "range", "typical", "code_path",
              "mlflow_run_id", "model_path")


def _scalars(payload: dict, limit: int = 8) -> list[str]:
    out = []
    keys = [k for k in _PREFERRED if k in payload] + [k for k in payload if k not in _PREFERRED]
    for k in keys:
        v = payload[k]
        if isinstance(v, (str, int, float, bool)) and v not in ("", None) and k != "wall_s":
            text = f"{v:.4g}" if isinstance(v, float) else str(v)
            out.append(f"{k}={text[:120]}")
        if len(out) >= limit:
            break
    return out


def summarize(name: str, payload: Any) -> str:
    """One or two lines about a tool output or a peer reply."""
    if not isinstance(payload, dict):
        return str(payload)[:300]
    for key in ("summary", "message"):
        if isinstance(payload.get(key), str) and payload[key].strip():
            return payload[key].strip()
    return ", ".join(_scalars(payload)) or "(no details)"


def compose_message(state: dict) -> str:
    plan = state.get("plan") or {}
    if not plan.get("addressed"):
        warn = " ".join(plan.get("warnings") or [])
        return ("Not addressed to @TENSOR: nothing to do. Mention @TENSOR to ask me something." +
                (f" ({warn})" if warn else ""))
    lines: list[str] = []
    if plan.get("clarification") and not state.get("results"):
        lines.append(plan["clarification"])
    intents = ", ".join(plan.get("intents") or []) or "none"
    arch = plan.get("architecture") or "-"
    lines.append(f"Plan: {intents} | modality {plan.get('modality') or '-'} | architecture {arch}.")
    recall = state.get("recall") or {}
    if recall:
        lines.append("From memory: " + summarize("recall", recall))
    for name, payload in (state.get("results") or {}).items():
        lines.append(f"[{name}] " + summarize(name, payload))
    for name, payload in (state.get("peers") or {}).items():
        lines.append(f"[@{name}] " + summarize(name, payload))
    for name, err in (state.get("errors") or {}).items():
        lines.append(f"[{name}] could not complete: {err}")
    for w in plan.get("warnings") or []:
        lines.append(f"Note: {w}")
    return "\n".join(lines)
