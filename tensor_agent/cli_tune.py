"""`tensor-agent tune`: a hyperparameter search from the command line, with N local worker processes.

    tensor-agent tune --family cnn --dataset digits --time 180 --workers 2
    tensor-agent tune "@TENSOR tune lr and dropout of a CNN on digits, 20 trials" --workers 2
    tensor-agent tune --join STUDY [--storage URL]      # one more worker on an existing study

On another machine, point both at one storage (`--storage postgresql://user:pw@host/db` or
TENSOR_OPTUNA_STORAGE) and one MLflow server (MLFLOW_TRACKING_URI), then run `tensor-agent tune --join STUDY`.
"""

from __future__ import annotations

import argparse

import sys
from typing import Any


def add_tune_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("tune", help="hyperparameter search (Optuna) with N local workers",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("text", nargs="?", default=None, help="optional @TENSOR message describing the search")
    p.add_argument("--family", default=None, help="model family, e.g. cnn, xgboost, mlp")
    p.add_argument("--dataset", default=None, help="built-in dataset or data file")
    p.add_argument("--trials", type=int, default=None, help="trials in the study (default 20)")
    p.add_argument("--time", type=float, default=None, dest="budget", help="search budget in seconds")
    p.add_argument("--params", default=None, help="only these parameters, e.g. lr,dropout")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
    p.add_argument("--study", default=None, help="study name (continue it when it exists)")
    p.add_argument("--storage", default=None, help="Optuna storage URL (default: TENSOR_OPTUNA_STORAGE or the "
                                                   "workspace journal file)")
    p.add_argument("--join", default=None, metavar="STUDY", help="only run trials of an existing study")
    p.add_argument("--thread", default="default", help="thread whose current model the result becomes")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", default=[], help="extra option (repeatable)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_tune)
    return p


def _plan(args, settings, options: dict):
    from tensor_agent.contract import resolve
    from tensor_agent.schema import Plan, TuneSpec

    if args.text:
        from tensor_agent.planner import make_plan

        plan = make_plan(args.text if "@tensor" in args.text.lower() else "@TENSOR " + args.text, settings)
    else:
        plan = Plan(addressed=True, intents=["tune"], tools=["tune_model"])
    plan = resolve(plan, options)
    tune = plan.tune or TuneSpec()
    upd = {k: v for k, v in (("trials", args.trials), ("time_budget_s", args.budget)) if v is not None}
    if args.params:
        upd["params"] = [s.strip() for s in args.params.split(",") if s.strip()]
    return plan.model_copy(update={"tune": tune.model_copy(update=upd)})


def cmd_tune(args: argparse.Namespace) -> int:
    from tensor_agent.cli import _options
    from tensor_agent.config import Settings

    settings = Settings.from_env(getattr(args, "home", None))
    if args.join:
        from tensor_agent.tools.tune.worker import main as worker

        argv = ["--study", args.join, "--home", str(settings.home)] + (["--storage", args.storage] if args.storage else [])
        return worker(argv)
    options = _options(args.set)
    options.update({k: v for k, v in (("family", args.family), ("dataset", args.dataset), ("workers", args.workers),
                                      ("study", args.study), ("storage", args.storage)) if v is not None})
    plan = _plan(args, settings, options)
    from tensor_agent.tools.core.context import ToolContext
    from tensor_agent.tools.tune import tune_model

    ctx = ToolContext(settings=settings, thread_id=args.thread, options=options, progress=not args.json)
    report = tune_model(plan, ctx)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(report.summary)
        print(f"history: {report.history_png}\nmodel: {report.model_path}\njoin from another machine: "
              f"{report.join_command}")
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)

    return 0
