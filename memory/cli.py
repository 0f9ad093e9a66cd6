"""`tensor-agent memory ...`: list, show, search, fitness, forget, export and import records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

from tensor_agent.catalogue import MODALITIES
from tensor_agent.errors import InputError, TensorError


def add_memory_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `memory` command (and its sub-commands) to an argparse sub-parser set."""
    mem = subparsers.add_parser(
        "memory", help="inspect the vector memory of designs and outcomes",
        description="The vector memory: past designs, experiment outcomes and per-task family fitness. "
                    "Embedded Chroma under $TENSOR_HOME/memory, or a server with TENSOR_CHROMA_URL.")
    mem.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = mem.add_subparsers(dest="memory_command", metavar="ACTION")

    ls = sub.add_parser("list", help="list records, newest first")
    ls.add_argument("--kind", choices=("design", "outcome"), default=None, help="only this kind of record")
    ls.add_argument("--modality", choices=MODALITIES, default=None, help="only this modality")
    ls.add_argument("--family", default=None, help="only this architecture family")
    ls.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    ls.add_argument("--json", action="store_true", help="print JSON")

    show = sub.add_parser("show", help="show one record")
    show.add_argument("id", help="record id (d-... design, o-... outcome)")
    show.add_argument("--json", action="store_true", help="print JSON")

    se = sub.add_parser("search", help="semantic search over records")
    se.add_argument("text", help="what to look for, e.g. 'cnn for digits under 5 ms'")
    se.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    se.add_argument("--kind", choices=("design", "outcome"), default=None, help="only this kind of record")
    se.add_argument("--json", action="store_true", help="print JSON")

    fit = sub.add_parser("fitness", help="family fitness per modality/task, learned from outcomes")
    fit.add_argument("--modality", choices=MODALITIES, default=None, help="one modality (default: all with outcomes)")
    fit.add_argument("--task", default=None, help="one task, e.g. classification")
    fit.add_argument("--pooled", action="store_true", help="pool the variants of each family")
    fit.add_argument("--latency-ms", type=float, default=None, help="weight latency, penalise runs above this")
    fit.add_argument("--size-mb", type=float, default=None, help="weight size, penalise models above this")
    fit.add_argument("--png", default=None, metavar="FILE", help="also write a bar chart to FILE")
    fit.add_argument("--json", action="store_true", help="print JSON")

    fg = sub.add_parser("forget", help="delete one record")
    fg.add_argument("id", help="record id")

    ex = sub.add_parser("export", help="write every record (with embeddings) to a JSON-lines file")
    ex.add_argument("file", help="output file")

    im = sub.add_parser("import", help="read records from an export file (ids are stable: no duplicates)")
    im.add_argument("file", help="file written by `memory export`")
    return mem


def _console() -> Any:
    from rich.console import Console

    return Console()


def run_memory_command(args: argparse.Namespace, settings: Any) -> int:
    """Run a parsed `memory` command; returns the exit code (errors print one clear line)."""
    action = getattr(args, "memory_command", None)
    if not action:
        print("usage: tensor-agent memory {list,show,search,fitness,forget,export,import} ...", file=sys.stderr)
        return 2
    from tensor_agent.memory import open_memory

    try:
        mem = open_memory(settings)
        try:
            return _ACTIONS[action](mem, args)
        finally:
            mem.close()
    except TensorError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def _summary(r: dict) -> str:
    if r.get("kind") == "design":
        bits = [r.get("family", "?") + (f"/{r['variant']}" if r.get("variant") else ""),
                f"{r.get('modality')}/{r.get('task')}"]
        if r.get("size_mb") is not None:
            bits.append(f"{r['size_mb']:.3g} MB")
        if r.get("latency_ms") is not None:
            bits.append(f"{r['latency_ms']:.3g} ms")
        return "  ".join(bits)
    status = "ok" if r.get("success", True) else f"FAILED: {r.get('reason', '')[:40]}"
    val = f"{r.get('metric')}={r['value']:.4g}" if r.get("value") is not None else ""
    return (f"{r.get('family', '?')}{'/' + r['variant'] if r.get('variant') else ''} on {r.get('dataset')}  "
            f"{val}  {status}")


def _list(mem: Any, args: argparse.Namespace) -> int:
    rows = mem.list(args.kind, modality=args.modality, family=args.family, limit=args.limit)
    if args.json:
        _print_json(rows)
        return 0
    from rich.table import Table

    table = Table(title=f"memory ({mem.count()} records, {mem.backend})")
    for col in ("id", "kind", "created", "summary"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r.get("kind", ""), r.get("created", ""), _summary(r))
    _console().print(table)
    return 0


def _show(mem: Any, args: argparse.Namespace) -> int:
    rec = mem.get(args.id)
    if rec is None:
        raise InputError(f"no memory record with id '{args.id}'", hint="see `tensor-agent memory list`")
    if args.json:
        _print_json(rec)
    else:
        from rich.pretty import Pretty

        _console().print(Pretty(rec))
    return 0


def _search(mem: Any, args: argparse.Namespace) -> int:
    rows = mem.search(args.text, k=args.k, kind=args.kind)
    if args.json:
        _print_json(rows)
        return 0
    from rich.table import Table

    table = Table(title=f"memory search: {args.text}")
    for col in ("similarity", "id", "kind", "summary"):
        table.add_column(col)
    for r in rows:
        table.add_row(f"{r['similarity']:.3f}", r["id"], r.get("kind", ""), _summary(r))
    _console().print(table)
    return 0


def _fitness(mem: Any, args: argparse.Namespace) -> int:
    constraints = {k: v for k, v in (("latency_ms", args.latency_ms), ("size_mb", args.size_mb)) if v is not None}
    modalities = [args.modality] if args.modality else sorted(
        {r.get("modality") for r in mem.list("outcome") if r.get("modality")})
    result: dict[str, list] = {}
    for mod in modalities:
        result[mod] = mem.fitness(mod, args.task, constraints or None, by_variant=not args.pooled)
    if args.png:
        write_fitness_png(result, args.png)
    if args.json:
        _print_json({m: [f.as_dict() for f in fs] for m, fs in result.items()})
        return 0
    from rich.table import Table

    console = _console()
    if not any(result.values()):
        console.print("no outcomes in memory yet" + (f" for {args.modality}" if args.modality else ""))
    for mod, fits in result.items():
        table = Table(title=f"fitness: {mod}" + (f"/{args.task}" if args.task else ""))
        for col in ("family", "variant", "score", "±", "runs", "failed", "mean metric", "datasets"):
            table.add_column(col)
        for f in fits:
            table.add_row(f.family, f.variant, f"{f.score:.3f}", f"{f.uncertainty:.3f}", str(f.n), str(f.failures),
                          f"{f.metric} {f.raw_mean:.4g}" if f.raw_mean is not None else "-", ", ".join(f.datasets))
        console.print(table)
        for f in fits[:3]:
            if f.evidence:
                console.print(f"  latest evidence for {f.family}{'/' + f.variant if f.variant else ''}: "
                              f"{f.evidence[0]}", highlight=False)
    if args.png:
        console.print(f"chart written to {args.png}")
    return 0


def write_fitness_png(result: dict[str, list], path: str) -> str:
    """A horizontal bar chart (score ± uncertainty per family) per modality."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [(mod, f) for mod, fits in result.items() for f in fits]
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(3, len(items)) + 1.2))
    labels = [f"{mod}: {f.family}{'/' + f.variant if f.variant else ''} (n={f.n})" for mod, f in items]
    ax.barh(range(len(items)), [f.score for _, f in items], xerr=[f.uncertainty for _, f in items],
            color=["#d9534f" if f.failures else "#4a90d9" for _, f in items], capsize=3)
    ax.set_yticks(range(len(items)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("fitness score (normalised metric - weighted costs)")
    ax.set_title("Family fitness from memory")
    if items:
        lo = min(f.score - f.uncertainty for _, f in items)
        ax.set_xlim(max(0.0, lo - 0.05), max(1.0, max(f.score for _, f in items) + 0.05))
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return str(out)


def _forget(mem: Any, args: argparse.Namespace) -> int:
    if not mem.forget(args.id):
        raise InputError(f"no memory record with id '{args.id}'", hint="see `tensor-agent memory list`")
    print(f"forgot {args.id}")
    return 0


def _export(mem: Any, args: argparse.Namespace) -> int:
    out = Path(args.file).expanduser()
    if out.is_dir():
        raise InputError(f"memory export target {out} is a directory", hint="give a file name, e.g. memory.jsonl")
    if not out.parent.is_dir():
        raise InputError(f"cannot write {out}: the directory {out.parent} does not exist")
    tmp = out.with_name(out.name + ".tmp")
    try:
        n = mem.export(out)
    except OSError as exc:
        raise InputError(f"cannot write memory export {out}: {exc.strerror or exc}",
                         hint="choose a writable file; nothing was written") from None
    finally:
        tmp.unlink(missing_ok=True)  # never leave half an export behind
    print(f"exported {n} records to {out}")
    return 0


def _import(mem: Any, args: argparse.Namespace) -> int:
    checked = validate_export(args.file)  # every line first: one bad line means nothing is written
    n = mem.import_(args.file)
    print(f"imported {n} records from {args.file} ({mem.count()} in memory; {checked} lines checked)")
    return 0


def _type_ok(value: Any, hint: Any) -> bool:
    import math
    import typing

    origin = typing.get_origin(hint)
    if origin is typing.Union:
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool, dict, list):
        return isinstance(value, hint)
    if origin in (dict, list):
        return isinstance(value, origin)
    return True


def _check_row(row: Any, dim: int) -> Optional[str]:
    """What is wrong with one parsed export line (None when it is a valid record)."""
    import math
    import typing

    from .records import DesignRecord, OutcomeRecord

    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    body = row.get("record")
    if not isinstance(body, dict):
        return f"'record' must be an object, got {type(body).__name__}"
    kind = body.get("kind", row.get("kind"))
    cls = {"design": DesignRecord, "outcome": OutcomeRecord}.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return f"kind must be 'design' or 'outcome', got {kind!r}"
    hints = typing.get_type_hints(cls)
    for key, value in body.items():
        if key in hints and not _type_ok(value, hints[key]):
            return f"field {key!r} must be {getattr(hints[key], '__name__', hints[key])}, got {value!r:.60}"
    emb = row.get("embedding")
    if emb is not None:
        if not isinstance(emb, list):
            return f"'embedding' must be a list of {dim} numbers, got {type(emb).__name__}"
        if len(emb) != dim:
            return f"embedding has {len(emb)} values, expected {dim}"
        for i, x in enumerate(emb):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                return f"embedding[{i}] must be a number, got {x!r:.40}"
            if not math.isfinite(x):
                return f"embedding[{i}] is {x} (embeddings must be finite)"
    return None


def validate_export(path: str | Path) -> int:
    """Check every line of a memory export before anything is imported; returns the number of records.

    Raises:
        InputError: unreadable, binary, not an export, or a line that is not a valid record (named).
    """
    from .core import _EXPORT_FORMAT
    from .embed import EMBEDDING_DIM

    p = Path(path).expanduser()
    if p.is_dir():
        raise InputError(f"memory import source {p} is a directory", hint="give a file written by `memory export`")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read memory export {p}: {exc.strerror or exc}") from None
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data[:1], 0, 1, "NUL byte")
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p} is a binary file, not a memory export (JSON lines)",
                         hint="give a file written by `tensor-agent memory export`; nothing was imported") from None
    lines = text.splitlines()
    try:
        head = json.loads(lines[0]) if lines else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != _EXPORT_FORMAT:
        raise InputError(f"{p} is not a tensor-agent memory export (line 1 has no format header)",
                         hint="write one with `tensor-agent memory export FILE`; nothing was imported")
    n = 0
    for no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            problem: Optional[str] = f"not JSON ({exc})"
        else:
            problem = _check_row(row, EMBEDDING_DIM)
        if problem:
            raise InputError(f"{p}: line {no} is not a valid memory record: {problem}",
                             hint="fix or remove that line; nothing was imported")
        n += 1
    return n


_ACTIONS = {"list": _list, "show": _show, "search": _search, "fitness": _fitness, "forget": _forget,
            "export": _export, "import": _import}


def main(argv: Optional[list[str]] = None) -> int:
    """Stand-alone entry point (`python -m tensor_agent.memory.cli ...`)."""
    from tensor_agent.config import Settings

    parser = argparse.ArgumentParser(prog="tensor-agent")
    parser.add_argument("--home", default=None)
    add_memory_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    from tensor_agent.workspace import prepare_environment

    prepare_environment(args.home)
    return run_memory_command(args, Settings.from_env(args.home))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
