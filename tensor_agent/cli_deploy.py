"""`tensor-agent deploy`: package a saved model (or a thread's current model) for serving targets; `--run`
serves it on 127.0.0.1 in the foreground, without Docker."""

from __future__ import annotations

import argparse
import subprocess
import sys


def add_deploy_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("deploy", help="package a model for Docker, TorchServe, TF Serving, KServe, Kubeflow",
                       description="Package a model for serving. Without --model-path the current model of "
                                   "--thread is used. --run starts the Docker context's app on 127.0.0.1 "
                                   "(foreground, Ctrl-C stops it).")
    p.add_argument("--target", action="append", default=[], metavar="NAME",
                   help="docker (default), torchserve, tfserving, kserve, kubernetes, kubeflow (repeatable)")
    p.add_argument("--model-path", default=None, help="a saved model directory")
    p.add_argument("--thread", default="default", help="conversation thread whose current model to deploy")
    p.add_argument("--run", action="store_true", help="serve it on 127.0.0.1 now (no Docker needed)")
    p.add_argument("--port", type=int, default=8080, help="port for --run (default 8080)")
    p.add_argument("--json", action="store_true", help="print the deploy report as JSON")
    p.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_deploy)
    return p


def cmd_deploy(args: argparse.Namespace) -> int:
    from tensor_agent.config import Settings
    from tensor_agent.contract import check_options
    from tensor_agent.schema import Plan
    from tensor_agent.tools.core.context import ToolContext
    from tensor_agent.tools.deploy import deploy_model

    settings = Settings.from_env(getattr(args, "home", None))
    options = check_options({k: v for k, v in (("model_path", args.model_path), ("port", args.port)) if v})
    artifacts = _thread_artifacts(settings, args.thread) if not args.model_path else {}
    ctx = ToolContext(settings=settings, thread_id=args.thread, options=options, artifacts=artifacts, progress=False)
    plan = Plan(addressed=True, intents=["deploy"], tools=["deploy_model"], deploy_targets=list(dict.fromkeys(
        (args.target or ["docker"]) + (["docker"] if args.run else []))))
    report = deploy_model(plan, ctx)
    print(report.model_dump_json(indent=2) if args.json else report.message)
    if not args.run:
        return 0
    context = next(t.path for t in report.targets if t.target == "docker")
    print(f"serving on http://127.0.0.1:{args.port} (Ctrl-C stops)", file=sys.stderr)
    try:
        return subprocess.call([sys.executable, f"{context}/app.py", "--host", "127.0.0.1", "--port", str(args.port)],
                               cwd=context)
    except KeyboardInterrupt:
        return 0


def _thread_artifacts(settings, thread_id: str) -> dict:
    """The persisted artifacts (current model reference, lineage) of a conversation thread."""
    from tensor_agent.agent import TensorAgent

    with TensorAgent(settings.home) as agent:
        return dict(agent.thread_state(thread_id).get("artifacts") or {})
