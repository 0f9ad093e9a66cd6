"""Several worker processes on one study storage: no trial lost or duplicated; a worker killed mid-trial
leaves the study usable (its trial marked failed)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tensor_agent.schema import DataSource, Plan, TrainSettings, TuneSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # worker processes: ~20 s quiet, minutes when loaded


def _study(ctx, family, dataset, trials, **settings):
    from tensor_agent.contract import resolve
    from tensor_agent.tools.tune.storage import open_storage, storage_url
    from tensor_agent.tools.tune.study import create_study
    from tensor_agent.tools.tune.tool import build_spec, tune_args

    plan = resolve(Plan(addressed=True, intents=["tune"], architecture=family, data=DataSource(dataset=dataset),
                        settings=TrainSettings(**settings), tune=TuneSpec(trials=trials)), ctx.options)
    args = tune_args(plan, ctx)
    spec, _ = build_spec(plan, ctx, args)
    url = storage_url(ctx.settings)
    study, spec, _ = create_study(f"w-{family}-{int(time.time())}", open_storage(url), spec, args, [])
    study.set_user_attr("n_trials", trials)
    return study, url


def test_two_worker_processes_finish_the_trials_without_loss_or_duplicates(ctx):
    from optuna.trial import TrialState

    from tensor_agent.tools.tune.tool import launch_workers

    ctx.options.update(use_memory=False)
    study, url = _study(ctx, "xgboost", "breast_cancer", 8)
    procs = launch_workers(2, study.study_name, url, ctx.settings, threads=1)
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-500:]
    trials = [t for t in study.get_trials() if not t.user_attrs.get("surplus")]
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(done) == 8 and len({t.number for t in done}) == 8
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert len({t.user_attrs["worker_pid"] for t in done}) == 2  # both processes ran trials
    # every trial has exactly one MLflow child run
    from tensor_agent.tools.core.tracking import get_client

    client = get_client(ctx.settings)
    exp = client.get_experiment_by_name("tensor-agent")
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.`optuna.study` = '{study.study_name}'")
    assert sorted(int(r.data.tags["optuna.trial"]) for r in runs) == sorted(t.number for t in done)


def test_a_killed_worker_leaves_the_study_usable(ctx):
    from optuna.trial import TrialState

    from tensor_agent.tools.tune.runner import run_worker
    from tensor_agent.tools.tune.storage import fail_dead_trials
    from tensor_agent.tools.tune.tool import launch_workers

    ctx.options.update(use_memory=False, variant="micro")
    study, url = _study(ctx, "cnn", "digits", 3, epochs=200)  # trials long enough to be killed mid-way
    (proc,) = launch_workers(1, study.study_name, url, ctx.settings, threads=1)
    deadline = time.time() + 240
    while time.time() < deadline and not study.get_trials(states=(TrialState.RUNNING,)):
        time.sleep(0.5)
    running = study.get_trials(states=(TrialState.RUNNING,))
    assert running, "the worker never started a trial"
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert fail_dead_trials(study) == [running[0].number]
    assert study.get_trials()[running[0].number].state == TrialState.FAIL
    # another worker carries on with the same study (short trials: a 4 s budget)
    done = run_worker(study, ctx, n_trials=1, deadline=time.time() + 6)
    assert done and study.get_trials()[done[0]].state == TrialState.COMPLETE
