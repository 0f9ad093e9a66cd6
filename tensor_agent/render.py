"""Rich rendering of plans, results and eval reports for people (the --json paths skip this)."""

from __future__ import annotations

from typing import Any, Optional

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from tensor_agent.respond import summarize
from tensor_agent.schema import Plan, Result

_FIGURES = ("params", "size_mb", "macs", "flops", "latency_ms", "batch_size", "threads", "peak_mem_mb", "output_shape")


def _console(console: Optional[Console]) -> Console:
    return console or Console()


def render_plan(plan: Plan, console: Optional[Console] = None) -> None:
    c = _console(console)
    t = Table(title="@TENSOR plan", show_header=False, title_justify="left")
    t.add_column("field", style="bold cyan")
    t.add_column("value")
    t.add_row("addressed", str(plan.addressed))
    t.add_row("intents", ", ".join(plan.intents) or "-")
    t.add_row("modality", plan.modality or "-")
    t.add_row("architecture", plan.architecture or "-")
    t.add_row("task", plan.task or "-")
    t.add_row("tools", " -> ".join(plan.tools) or "-")
    t.add_row("peers", ", ".join("@" + p for p in plan.peers) or "-")
    for con in plan.constraints:
        t.add_row(f"constraint {con.name}", f"{con.value}  [dim]('{con.text}' at {con.span[0]}-{con.span[1]})[/dim]")
    if plan.clarification:
        t.add_row("question", plan.clarification)
    for w in plan.warnings:
        t.add_row("note", f"[yellow]{w}[/yellow]")
    t.add_row("back-end", plan.backend)
    c.print(t)


def _flat(d: dict, prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and len(v) <= 12 and all(not isinstance(x, (dict, list)) for x in v.values()):
            rows += _flat(v, key + ".")
        elif isinstance(v, (str, int, float, bool)) or v is None:
            rows.append((key, v))
        elif isinstance(v, list) and len(v) <= 8 and all(isinstance(x, (str, int, float)) for x in v):
            rows.append((key, ", ".join(str(x) for x in v)))
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def render_design(payload: dict, c: Console) -> None:
    measured = payload.get("measured") or {k: payload[k] for k in _FIGURES if k in payload}
    t = Table(title=f"Design: {payload.get('family', '?')} / {payload.get('variant', '?')}", title_justify="left")
    t.add_column("measured on this machine", style="bold")
    t.add_column("value", justify="right")
    for k, v in (measured.items() if isinstance(measured, dict) else []):
        if not isinstance(v, (dict, list)):
            t.add_row(k, _fmt(v))
        elif isinstance(v, list):
            t.add_row(k, str(v))
    c.print(t)
    hp = payload.get("hyperparameters") or {}
    if hp:
        h = Table(title="Hyper-parameters", title_justify="left", show_header=False)
        h.add_column("k", style="cyan")
        h.add_column("v")
        for k, v in list(hp.items())[:16]:
            h.add_row(str(k), _fmt(v) if not isinstance(v, (dict, list)) else str(v)[:80])
        c.print(h)
    for line in payload.get("rationale") or []:
        c.print(f"  • {line}")
    alts = payload.get("alternatives") or []
    if alts:
        a = Table(title="Alternatives considered", title_justify="left")
        cols = [k for k in ("family", "variant", "params", "latency_ms", "size_mb", "score", "feasible", "reason") if k in alts[0]]
        for col in cols:
            a.add_column(col)
        for alt in alts[:8]:
            a.add_row(*[_fmt(alt.get(col)) if not isinstance(alt.get(col), (dict, list)) else str(alt.get(col))[:40] for col in cols])
        c.print(a)
    if payload.get("code_path"):
        c.print(f"  code written to [bold]{payload['code_path']}[/bold]")


def render_compression(payload: dict, c: Console) -> None:
    """Before/after side by side for every technique the compressor measured."""
    rows = payload.get("results") or []
    t = Table(title="Compression: before -> after, measured (* = chosen)", title_justify="left")
    sparse = any(((r.get("after") or {}).get("sparsity") or 0) > 0.05 for r in rows)
    cols = ["technique", "size MB", "latency ms", "speed-up", "metric", "verdict"] + (["sparsity"] if sparse else [])
    for col in cols:
        t.add_column(col, justify="left" if col in ("technique", "verdict") else "right", no_wrap=True)
    for i, r in enumerate(rows):
        b, a = r.get("before") or {}, r.get("after") or {}
        mb = lambda s: f"{(s.get('size_bytes') or 0) / 1e6:.3g}"  # noqa: E731
        lat = lambda s: f"{s['latency_ms_median']:.3g}" if s.get("latency_ms_median") is not None else "-"  # noqa: E731
        met = lambda s: f"{s['metric']:.4f}" if s.get("metric") is not None else "-"  # noqa: E731
        verdict = "kept" if r.get("promoted") else ("met" if (r.get("verdict") or {}).get("met") else "[red]not met[/red]")
        star = " *" if payload.get("chosen") == i else ""
        cells = [f"{r.get('technique')}{star}", f"{mb(b)}->{mb(a)}", f"{lat(b)}->{lat(a)}",
                 f"{r['speedup']:.2f}x" if r.get("speedup") else "-", f"{met(b)}->{met(a)}", verdict]
        t.add_row(*(cells + ([f"{a.get('sparsity', 0):.0%}"] if sparse else [])))
    c.print(t)
    for r in rows:
        for failure in (r.get("verdict") or {}).get("failures") or []:
            c.print(f"  [yellow]{r.get('technique')}: {failure}[/yellow]")
    if payload.get("message"):
        c.print(f"  {payload['message'].splitlines()[0]}")


def render_recall(recall: dict, c: Console) -> None:
    """What memory knows: the answer, family fitness and similar past designs."""
    c.print(Panel(str(recall.get("answer") or "(memory had nothing to say)"), title="From memory", title_align="left"))
    best = recall.get("best") or {}
    rows = best if isinstance(best, list) else best.get("ranking") or best.get("families") or []
    if rows and isinstance(rows, list) and isinstance(rows[0], dict):
        t = Table(title="Family fitness", title_justify="left")
        cols = [k for k in ("family", "variant", "score", "mean", "n", "uncertainty") if k in rows[0]]
        for col in cols:
            t.add_column(col)
        for r in rows[:8]:
            t.add_row(*[_fmt(r.get(col)) for col in cols])
        c.print(t)
    similar = recall.get("similar_designs") or []
    if similar:
        t = Table(title="Similar past designs", title_justify="left")
        for col in ("id", "family", "variant", "similarity"):
            t.add_column(col)
        for r in similar[:5]:
            t.add_row(str(r.get("id")), str(r.get("family")), str(r.get("variant")), _fmt(r.get("similarity")))
        c.print(t)


def render_result(result: Result, console: Optional[Console] = None) -> None:
    c = _console(console)
    if not result.plan.addressed:
        c.print(result.message)
        return
    render_plan(result.plan, c)
    for name, payload in result.results.items():
        if name == "design_architecture" and isinstance(payload, dict):
            render_design(payload, c)
            continue
        if name == "compress_model" and isinstance(payload, dict) and payload.get("results"):
            render_compression(payload, c)
            continue
        t = Table(title=name, title_justify="left", show_header=False)
        t.add_column("k", style="cyan")
        t.add_column("v")
        if isinstance(payload, dict):
            for k, v in _flat(payload)[:30]:
                t.add_row(k, _fmt(v)[:160])
        c.print(t)
    if result.recall:
        render_recall(result.recall, c)
    for name, payload in result.peers.items():
        c.print(Panel(summarize(name, payload), title=f"@{name}", title_align="left"))
    for name, err in result.errors.items():
        c.print(f"[red]{name}:[/red] {err}")


def render_eval(report, max_misses: int = 25, console: Optional[Console] = None) -> None:
    c = _console(console)
    t = Table(title=f"Planner accuracy on {report.cases} cases ({report.backend}; {report.source})", title_justify="left")
    t.add_column("field")
    t.add_column("accuracy", justify="right")
    t.add_column("correct", justify="right")
    for f, acc in report.accuracy.items():
        colour = "green" if acc >= 0.95 else "yellow" if acc >= 0.9 else "red"
        t.add_row(f, f"[{colour}]{acc:.1%}[/{colour}]", f"{report.correct[f]}/{report.cases}")
    c.print(t)
    c.print(f"plan() p50: {report.plan_ms_p50:.2f} ms")
    if report.misses and max_misses:
        m = Table(title=f"Misses ({len(report.misses)}; first {min(max_misses, len(report.misses))})", title_justify="left")
        for col in ("line", "field", "expected", "got", "text"):
            m.add_column(col, overflow="fold")
        for miss in report.misses[:max_misses]:
            m.add_row(str(miss.line), miss.field, str(miss.expected), str(miss.got), miss.text[:90])
        c.print(m)
