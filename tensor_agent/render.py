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


# --- 80-column tables -------------------------------------------------------------------------------
WIDTH = 80


def fit_table(title: str, headers: list[str], rows: list[list[str]], *, width: int = WIDTH,
              right: tuple[str, ...] = (), compact: bool = False) -> Any:
    """A table that fits `width` columns: wrapped cells when every column can keep its longest word,
    otherwise stacked ("header: value" lines per row). Returns a rich renderable."""
    from rich.console import Group
    from rich.text import Text

    def longest_word(text: str) -> int:
        return max((len(w) for w in str(text).split()), default=0)

    pad = 2 if compact else 3
    need = sum(max([longest_word(h)] + [longest_word(r[i]) for r in rows]) + pad for i, h in enumerate(headers)) + \
        (0 if compact else 1)
    if need <= width:
        from rich import box

        t = Table(title=title, title_justify="left", expand=False,
                  **({"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False} if compact else {}))
        for h in headers:
            t.add_column(h, overflow="fold", justify="right" if h in right else "left")
        for r in rows:
            t.add_row(*[str(x) for x in r])
        return t
    lines = [Text(title, style="italic")]
    for r in rows:
        head = f"- {r[0]}"
        lines.append(Text(head[:width]))
        for h, v in zip(headers[1:], r[1:]):
            lines.append(Text(f"    {h}: {v}", overflow="fold"))
    return Group(*lines)


def _kv(title: str, pairs: list[tuple[str, str]]) -> Any:
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column("k", style="cyan", no_wrap=True)
    t.add_column("v", overflow="fold")
    for k, v in pairs:
        t.add_row(k, v)
    return t


def _esc(text: Any) -> str:
    from rich.markup import escape

    return escape(str(text))


def short(text: Any, n: int, *, tail: bool = True) -> str:
    """`text` cut to `n` characters with an ellipsis (keeping the end when `tail`)."""
    text = str(text)
    if len(text) <= n:
        return text
    return "…" + text[-(n - 1):] if tail else text[:n - 1] + "…"


def _shape(s: Any) -> str:
    return "x".join(str(x) for x in s) if isinstance(s, list) and s else "-"


def _design_figures(p: dict) -> list[tuple[str, str]]:
    lat = p.get("latency_ms")
    rows = [("modality / task", f"{p.get('modality')} / {p.get('task')}"),
            ("input", str((p.get("data") or {}).get("input") or "-")),
            ("output shape", _shape(p.get("output_shape"))),
            ("parameters", _fmt(p.get("params"))), ("size", f"{_fmt(p.get('size_mb'))} MB"),
            ("MACs", _fmt(p.get("macs"))),
            ("latency (median)", f"{lat:.3g} ms at batch {p.get('batch_size')}, {p.get('threads')} thread(s)"
             if lat is not None else "-"),
            ("peak memory", f"{_fmt(p.get('peak_mem_mb'))} MB")]
    data = p.get("data") or {}
    if data.get("dataset"):
        rows.insert(2, ("data", f"{data['dataset']}" + (f": {data['description']}" if data.get("description") else "")))
    if p.get("constraints"):
        rows.append(("budgets", ", ".join(f"{k}={v}" for k, v in p["constraints"].items())))
    rows.append(("feasible", "yes" if p.get("feasible", True) else "NO: " + "; ".join(p.get("violations") or [])))
    return rows


def _recipe_rows(r: dict) -> list[tuple[str, str]]:
    warm = f", {r.get('warmup_epochs')} warm-up epoch(s)" if r.get("warmup_epochs") else ""
    rows = [("optimizer", f"{r.get('optimizer')} (lr {r.get('lr'):g}, weight decay {r.get('weight_decay', 0):g})"),
            ("schedule", f"{r.get('schedule')}{warm}"),
            ("epochs / batch", f"{r.get('epochs')} / {r.get('batch_size') or 'full'}"),
            ("loss", str(r.get("loss") or "-")),
            ("regularisation", "; ".join(r.get("regularisation") or []) or "-")]
    if r.get("augmentation"):
        rows.append(("augmentation", "; ".join(r["augmentation"])))
    if r.get("grad_clip"):
        rows.append(("gradient clip", f"{r['grad_clip']:g}"))
    if r.get("data_size"):
        rows.append(("scaled for", f"{r['data_size']:,} training examples"))
    if r.get("stated"):
        rows.append(("from your request", ", ".join(r["stated"])))
    if r.get("why"):
        rows.append(("why", r["why"]))
    return rows


def render_design(payload: dict, c: Console) -> None:
    """The design answer: figures, layer table, recipe, expected quality, specifics, reasons,
    alternatives, code and next steps; every table fits 80 columns."""
    c.print(_kv(f"Design: {payload.get('family', '?')} / {payload.get('variant', '?')} (measured on this machine)",
                _design_figures(payload)))
    layers = payload.get("layers") or []
    if layers:
        rows = [[short(r.get("name") or "-", 23), short(r.get("type") or "-", 15, tail=False),
                 _shape(r.get("output_shape")),
                 _fmt(r.get("params")) if r.get("params") is not None else r.get("detail", "-"),
                 _fmt(r.get("macs")) if r.get("macs") is not None else "-"] for r in layers]
        c.print(fit_table(f"Layers of the built module (batch {payload.get('batch_size', 1)}; "
                          f"total {_fmt(payload.get('params'))} params, {_fmt(payload.get('macs'))} MACs)",
                          ["layer", "type", "output", "params", "MACs"], rows, right=("params", "MACs"),
                          compact=True))
    if payload.get("recipe"):
        c.print(_kv("Training recipe", _recipe_rows(payload["recipe"])))
    q = payload.get("expected_quality") or {}
    if q:
        from rich.markup import escape

        c.print(escape(f"Expected quality: {q.get('text')} (source: {q.get('source')})"), overflow="fold")
    gen = payload.get("generation") or {}
    if gen:
        c.print(_kv("Generation" if payload.get("family") != "mamba" else "Sequence",
                    [(k.replace("_", " "), _fmt(v)) for k, v in gen.items()]))
    for line in dict.fromkeys(payload.get("rationale") or []):
        c.print(f"  - {_esc(line)}", overflow="fold")
    alts = payload.get("alternatives") or []
    if alts:
        rows = [[f"{a.get('family')}/{a.get('variant')}", _fmt(a.get("params")) if a.get("params") else "-",
                 f"{a['latency_ms']:.3g}" if a.get("latency_ms") else "-",
                 a.get("evidence") or ("measured" if a.get("measured") else "not measured"),
                 str(a.get("reason") or "")] for a in alts[:8]]
        c.print(fit_table("Alternatives considered", ["design", "params", "ms", "evidence", "reason"], rows,
                          right=("params", "ms")))
    if payload.get("framework_note"):
        c.print(f"[yellow]Note: {payload['framework_note']}[/yellow]")
    if payload.get("code_path"):
        c.print(f"Code ({payload.get('code_framework') or 'pytorch'}): {payload['code_path']}", overflow="fold")
    if payload.get("plot_path"):
        c.print(f"Plot: {payload['plot_path']}", overflow="fold")
    steps = payload.get("next_steps") or []
    if steps:
        c.print("Next steps:")
        for s in steps:
            c.print(f"  {_esc(s)}", overflow="fold")


def render_compression(payload: dict, c: Console) -> None:
    """Before/after side by side for every technique the compressor measured."""
    rows = payload.get("results") or []
    t = Table(title="Compression: before -> after, measured (* = chosen)", title_justify="left")
    sparse = any(((r.get("after") or {}).get("sparsity") or 0) > 0.05 for r in rows)
    from tensor_agent.tools.core.stats import fmt_bytes  # pure python: sizes with their unit (KB, MB)

    cols = ["technique", "size", "latency ms", "speed-up", "metric", "verdict"] + (["sparsity"] if sparse else [])
    for col in cols:
        t.add_column(col, justify="left" if col in ("technique", "verdict") else "right", no_wrap=True)
    for i, r in enumerate(rows):
        b, a = r.get("before") or {}, r.get("after") or {}
        mb = lambda s: fmt_bytes(s.get("size_bytes"))  # noqa: E731
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
    for line in payload.get("choice") or []:  # why this back-end: speed-ups with their paired intervals
        c.print(f"  choice: {line}")


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
