"""A tuning worker process: `python -m tensor_agent.tools.tune.worker --study NAME [--storage URL]`.

Joins an existing study (created by `tune_model` / `tensor-agent tune`) and runs its trials until the study
has its requested number of trials or its deadline passes. On another machine use a shared storage
(`--storage postgresql://...` or `TENSOR_OPTUNA_STORAGE`) and a shared MLflow server (`MLFLOW_TRACKING_URI`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    from tensor_agent.config import Settings
    from tensor_agent.errors import TensorError
    from tensor_agent.tools.core.context import ToolContext

    ap = argparse.ArgumentParser(prog="python -m tensor_agent.tools.tune.worker",
                                 description="Run trials of an existing tensor-agent Optuna study.")
    ap.add_argument("--study", required=True, help="study name")
    ap.add_argument("--storage", default=None, help="Optuna storage URL (default: TENSOR_OPTUNA_STORAGE or the "
                                                    "workspace journal file)")
    ap.add_argument("--home", default=None, help="workspace (default: $TENSOR_HOME)")
    ap.add_argument("--trials", type=int, default=None, help="total trials of the study (default: as created)")
    ap.add_argument("--quiet", action="store_true", help="no per-trial lines on stderr")
    args = ap.parse_args(argv)
    settings = Settings.from_env(args.home)
    try:
        from tensor_agent.tools.tune.runner import load_study, make_pruner, make_sampler, run_worker, study_spec
        from tensor_agent.tools.tune.storage import open_storage, storage_url

        url = args.storage or storage_url(settings)
        storage = open_storage(url)
        probe = load_study(args.study, storage)
        spec = study_spec(probe)
        study = load_study(args.study, storage, sampler=make_sampler(probe.user_attrs.get("sampler", "tpe")),
                           pruner=make_pruner(spec, bool(probe.user_attrs.get("pruning", True))))
        ctx = ToolContext(settings=settings, thread_id=f"tune-worker-{args.study}", progress=False)
        log = (lambda s: None) if args.quiet else (lambda s: print(f"[worker] {s}", file=sys.stderr, flush=True))
        done = run_worker(study, ctx, n_trials=args.trials, log=log)
        log(f"finished {len(done)} trials")
        return 0
    except TensorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyError as exc:  # optuna: unknown study name
        print(f"error: no study {args.study!r} in the storage ({exc})", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
