"""`tensor-agent`: ask, chat, eval and memory commands.

The `ask --dry-run` path imports only pydantic and the planner (no torch, no langgraph), so it
answers in well under a second. Exit codes are listed in tensor_agent.errors and the README.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional, Sequence

from tensor_agent.errors import InputError, TensorError

EXAMPLES = """examples:
  tensor-agent ask "@TENSOR design CNN architecture for image classification"
  tensor-agent ask "@TENSOR train a CNN on the digits dataset with AdamW and cosine annealing" --thread t1
  tensor-agent ask "@TENSOR now quantize it" --thread t1
  tensor-agent ask "@TENSOR fine-tune BERT for my tickets" --set data_path=tickets.csv --set target_column=label
  tensor-agent ask "@TENSOR optimize model for inference on mobile devices" --dry-run --json
  tensor-agent chat
  tensor-agent eval evals/cases.jsonl --json
  tensor-agent memory fitness --modality tabular
"""


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _options(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise InputError(f"--set expects KEY=VALUE, got '{pair}'")
        key, value = pair.split("=", 1)
        if not key.strip():
            raise InputError(f"--set expects KEY=VALUE, got '{pair}'")
        out[key.strip()] = _parse_value(value)
    return out


def _read_message(args: argparse.Namespace) -> str | bytes:
    if args.text == "-":
        data = sys.stdin.buffer.read()
        return data
    return args.text


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str, ensure_ascii=False)


# --- commands ------------------------------------------------------------------------------
def cmd_ask(args: argparse.Namespace) -> int:
    from tensor_agent.config import Settings
    from tensor_agent.planner import make_plan

    message = _read_message(args)
    settings = Settings.from_env(args.home)
    if isinstance(message, (bytes, bytearray)):
        empty = not bytes(message).strip()
    else:
        empty = not message.strip()
    if empty:
        raise InputError("the message is empty", hint='try: tensor-agent ask "@TENSOR design CNN architecture for image classification"')
    if args.dry_run:
        from tensor_agent.contract import resolve

        plan = resolve(make_plan(message, settings), _options(args.set))
        if args.json:
            print(plan.model_dump_json(indent=2))
        else:
            from tensor_agent.render import render_plan

            render_plan(plan)
        return 0
    from tensor_agent import toolworker

    worker = toolworker.start(settings, verbose=args.verbose)  # imports torch now, in a second process
    side = None
    tools = _planned_tools(message)
    if worker is not None and _uses_torch(tools):
        worker.warm([t for t in tools if t != "recall"])
    elif worker is not None:
        toolworker.discard(settings)  # this turn runs no torch tool
        worker = None
    if not args.no_memory and _uses_memory(tools):
        from tensor_agent.memory import sidecar

        side = sidecar.start(settings)  # chromadb loads in a third process
    if tools and worker is None:
        from tensor_agent.tools.core.plots import prestart

        prestart()  # the PNG's child imports matplotlib now, in parallel
    try:
        return _answer(args, _invoke(args, message))
    finally:
        if worker is not None:
            toolworker.stop(settings)  # waits for the worker and its plots
        if side is not None:
            sidecar.stop(settings)  # waits for the child: every record is written when `ask` returns


def _invoke(args: argparse.Namespace, message):
    from tensor_agent.agent import TensorAgent

    agent = TensorAgent(args.home, progress=not args.json and sys.stderr.isatty() or args.progress,
                        remember=not args.no_memory)
    try:
        return agent.invoke(message, thread_id=args.thread, **_options(args.set))
    finally:
        agent.close()


def _answer(args: argparse.Namespace, result) -> int:
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        from tensor_agent.render import render_result

        render_result(result)
    for name, msg in result.errors.items():
        print(f"error: {name}: {msg}", file=sys.stderr)
    return result.exit_code if result.plan.addressed else 0


def _planned_tools(message) -> list[str]:
    """The tools (and "recall") this turn will likely use: a rules-planner guess that only decides what
    to start early (a memory sidecar, a plot child); a wrong guess costs time, never a result."""
    from tensor_agent.planner import rules_plan  # the rules back-end: no LLM call for a guess

    try:
        plan = rules_plan(message)
    except TensorError:
        return []
    if not plan.addressed:
        return []
    return list(plan.tools) + (["recall"] if "recall" in plan.intents else [])


def _uses_torch(tools: list[str]) -> bool:
    """Whether the turn runs a tool that imports torch (the catalogue's `uses_torch`): then a tool worker
    imports it in a second process while this one imports LangGraph."""
    from tensor_agent.catalogue import TOOLS

    return any(TOOLS[t].uses_torch for t in tools if t in TOOLS)


def _uses_memory(tools: list[str]) -> bool:
    """Whether the turn reads or writes the memory (design/train/compress/tune tools, or a recall)."""
    from tensor_agent.catalogue import tools_for

    return bool(set(tools_for(("design", "train", "compress", "tune"))) & set(tools)) or "recall" in tools


def cmd_chat(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tensor_agent.agent import TensorAgent
    from tensor_agent.render import render_result

    console = Console()
    console.print(f"[bold]@TENSOR chat[/bold] (thread [cyan]{args.thread}[/cyan]); type 'exit' or Ctrl-D to leave. "
                  "Messages without @TENSOR are prefixed with it.")
    agent = TensorAgent(args.home, progress=True, remember=not args.no_memory)
    try:
        while True:
            try:
                line = console.input("[bold green]you> [/bold green]")
            except (EOFError, KeyboardInterrupt):
                console.print()
                break
            if line.strip().lower() in ("exit", "quit", ":q"):
                break
            if not line.strip():
                continue
            if "@tensor" not in line.lower():
                line = "@TENSOR " + line
            try:
                render_result(agent.invoke(line, thread_id=args.thread), console=console)
            except TensorError as exc:
                console.print(f"[red]error:[/red] {exc}")
    finally:
        agent.close()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.tasks:
        return cmd_eval_tasks(args)
    from tensor_agent.config import Settings
    from tensor_agent.evaluation import default_cases_path, evaluate_file

    settings = Settings.from_env(args.home, planner=args.backend)
    report = evaluate_file(args.cases or default_cases_path(), settings)
    if args.json:
        print(_dump(report.model_dump(mode="json")))
    else:
        from tensor_agent.render import render_eval

        render_eval(report, max_misses=args.misses)
    if args.min_accuracy is not None and report.min_accuracy() < args.min_accuracy:
        return 3
    return 0


def cmd_eval_tasks(args: argparse.Namespace) -> int:
    """Whole-task evaluation: exit 0 when every task passes, 1 when any fails."""
    from tensor_agent.tasks_eval import run_tasks

    report = run_tasks(args.tasks, quick=args.quick, workers=max(1, args.workers), target=args.target,
                       report_path=args.report, junit_path=args.junit, resume=args.resume,
                       progress=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        for r in report.results:
            bad = [c for c in r.checks if not c["ok"]]
            why = "; ".join(f"{c['check']} (measured {c['value']!r})" for c in bad) or (r.error or "")
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.id:<28} {r.seconds:7.1f} s  {why}"[:200])
        print(f"{report.passed} passed, {len(report.results) - report.passed} failed")
    return 0 if report.passed == len(report.results) else 1


def cmd_memory(args: argparse.Namespace) -> int:
    from tensor_agent.config import Settings
    from tensor_agent.memory.cli import run_memory_command

    return run_memory_command(args, Settings.from_env(args.home))


# --- parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tensor-agent", description="@TENSOR: design, train, compress and remember deep-learning models.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--verbose", action="store_true", help="show library logs and warnings (default: quiet)")
    parser.add_argument("--home", default=None, help="workspace directory (default: $TENSOR_HOME or ~/.tensor-agent)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one message", description="Plan and answer one @TENSOR message.",
                         epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("text", help="the message (use - to read it from standard input)")
    ask.add_argument("--json", action="store_true", help="print machine-readable JSON (Plan with --dry-run, else Result)")
    ask.add_argument("--dry-run", action="store_true", help="only plan: run no tool, no peer")
    ask.add_argument("--thread", default="default", help="conversation thread id (default: default)")
    ask.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                     help="tool option, e.g. dataset=digits, data_path=x.csv, target_column=y, epochs=5 (repeatable)")
    ask.add_argument("--progress", action="store_true", help="show progress bars even with --json")
    ask.add_argument("--no-memory", action="store_true", help="do not record this turn in the vector memory")
    ask.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="interactive conversation in one thread",
                          description="Interactive chat with @TENSOR; every message goes to one thread.")
    chat.add_argument("--thread", default="chat", help="conversation thread id (default: chat)")
    chat.add_argument("--no-memory", action="store_true", help="do not record turns in the vector memory")
    chat.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    chat.set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", help="score the planner on labelled cases",
                        description="Per-field planner accuracy on a JSONL file of labelled cases "
                                    '({"text","addressed","intents","modality","architecture","tools","peers"} per line).')
    ev.add_argument("cases", nargs="?", default=None, help="cases file (default: the project's evals/cases.jsonl)")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--backend", choices=("rules", "llm", "auto"), default="rules", help="planner back-end (default: rules)")
    ev.add_argument("--misses", type=int, default=25, help="how many misses to list (default: 25)")
    ev.add_argument("--min-accuracy", type=float, default=None, help="exit 3 if any field scores below this fraction")
    ev.add_argument("--tasks", default=None, metavar="TASKS.jsonl",
                    help="whole-task evaluation: run each task (message or conversation, options, expectations)")
    ev.add_argument("--quick", action="store_true", help="with --tasks: only the tasks marked quick")
    ev.add_argument("--workers", type=int, default=1, help="with --tasks: parallel worker processes (default 1)")
    ev.add_argument("--target", default=None, help="with --tasks: a served @TENSOR (http://host:port) instead of in-process")
    ev.add_argument("--report", default=None, help="with --tasks: write the JSON report here (rewritten per task)")
    ev.add_argument("--junit", default=None, help="with --tasks: write JUnit XML here")
    ev.add_argument("--resume", action="store_true", help="with --tasks: skip tasks already in the --report file")
    ev.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    ev.set_defaults(func=cmd_eval)

    from tensor_agent.cli_deploy import add_deploy_parser
    from tensor_agent.cli_tune import add_tune_parser

    add_tune_parser(sub)
    add_deploy_parser(sub)
    try:
        from tensor_agent.memory.cli import add_memory_parser

        mem = add_memory_parser(sub)
        mem.set_defaults(func=cmd_memory)
    except ImportError:  # pragma: no cover - memory CLI not installed
        pass
    from tensor_agent.cli_servers import add_server_parsers

    add_server_parsers(sub)  # serve, mcp
    return parser


def _quiet_libraries(verbose: bool) -> None:
    """Library noise (MLflow INFO, FutureWarnings, weight-loading bars) off unless --verbose/TENSOR_VERBOSE."""
    if verbose:
        return
    import logging
    import warnings

    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # child processes too
    warnings.filterwarnings("ignore")
    for name in ("mlflow", "alembic", "transformers", "torch", "urllib3", "httpx", "chromadb", "optuna", "jax"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from tensor_agent.workspace import prepare_environment  # caches, temp files, telemetry: under the workspace

    prepare_environment(getattr(args, "home", None))
    _quiet_libraries(verbose=bool(args.verbose or os.environ.get("TENSOR_VERBOSE")))
    if args.version:
        from tensor_agent import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except TensorError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        if os.environ.get("TENSOR_DEBUG"):
            raise
        print(f"error: internal error ({type(exc).__name__}): {exc}. Set TENSOR_DEBUG=1 for the traceback.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
