"""Study storage: default under the workspace, env override, paths outside the workspace refused, dead
workers' trials marked failed; and the tool decides from plan fields, never the text."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tensor_agent.config import Settings
from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.schema import DataSource, Plan, TrainSettings, TuneSpec
from tensor_agent.tools.core.context import ToolContext
from tensor_agent.tools.tune.storage import ENV, fail_dead_trials, open_storage, storage_url


def test_default_storage_is_a_journal_file_in_the_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    s = Settings.from_env(tmp_path)
    url = storage_url(s)
    assert url.startswith("journal:") and str(tmp_path) in url
    monkeypatch.setenv(ENV, "sqlite:////tmp/elsewhere.db")
    assert storage_url(s) == "sqlite:////tmp/elsewhere.db"


def test_storage_option_outside_the_workspace_is_refused(tmp_path):
    s = Settings.from_env(tmp_path / "ws")
    with pytest.raises(InputError, match="outside the workspace"):
        storage_url(s, "journal:/etc/journal.log")
    with pytest.raises(InputError, match="unsupported storage"):
        storage_url(s, "ftp://x")
    assert storage_url(s, "postgresql://u@h/db") == "postgresql://u@h/db"
    assert storage_url(s, "studies.log").endswith("ws/studies.log")


def test_a_dead_workers_trial_is_marked_failed(tmp_path):
    import optuna
    from optuna.trial import TrialState

    storage = open_storage(f"journal:{tmp_path / 'j.log'}")
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    trial.set_user_attr("worker_host", socket.gethostname())
    trial.set_user_attr("worker_pid", dead.pid)
    alive = study.ask()
    alive.set_user_attr("worker_host", socket.gethostname())
    alive.set_user_attr("worker_pid", 1)  # init: alive
    assert fail_dead_trials(study) == [trial.number]
    states = {t.number: t.state for t in study.get_trials()}
    assert states[trial.number] == TrialState.FAIL and states[alive.number] == TrialState.RUNNING
    study.tell(alive, 1.0)  # still usable
    assert study.best_value == 1.0


def _spec(tmp_path, text: str, **plan_kw):
    from tensor_agent.tools.tune.tool import build_spec, tune_args

    plan = Plan(addressed=True, intents=["tune"], text=text, **plan_kw)
    ctx = ToolContext(settings=Settings.from_env(tmp_path), options={"use_memory": False})
    return build_spec(plan, ctx, tune_args(plan, ctx))[0]


def test_same_plan_fields_different_text_same_spec(tmp_path):
    kw = dict(architecture="cnn", data=DataSource(dataset="digits"), settings=TrainSettings(epochs=2, lr=0.01),
              tune=TuneSpec(trials=3, params=["lr", "dropout"]))
    a = _spec(tmp_path, "@TENSOR tune my cnn", **kw)
    b = _spec(tmp_path, "@TENSOR completely different words about xgboost on wine", **kw)
    assert a.model_dump() == b.model_dump()
    assert [p.name for p in a.space] == ["lr", "dropout"]
    assert a.base_config["epochs"] == 2 and a.defaults["lr"] == 0.01
    assert a.metric == "val_accuracy" and a.direction == "maximize"


def test_xgboost_spec_minimises_validation_loss(tmp_path):
    s = _spec(tmp_path, "", architecture="xgboost", data=DataSource(dataset="breast_cancer"), tune=TuneSpec())
    assert (s.metric, s.direction, s.kind) == ("val_loss", "minimize", "xgboost")
    assert s.defaults["max_depth"] == 4 and s.defaults["rounds"] == 100


def test_nothing_to_tune_and_untrainable_tasks_are_unsatisfiable(tmp_path):
    with pytest.raises(UnsatisfiableError, match="no model to tune"):
        _spec(tmp_path, "", tune=TuneSpec())
    with pytest.raises(UnsatisfiableError):
        _spec(tmp_path, "", architecture="cnn", data=DataSource(dataset="breast_cancer"), tune=TuneSpec())
