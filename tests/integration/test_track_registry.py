"""Registry and W&B through chat in one thread: register (in words), alias, move, list, roll back, archive,
export; every step checked against the MLflow client and the offline W&B run files."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def agent(home):
    from tensor_agent.agent import TensorAgent

    a = TensorAgent(home, remember=False)
    yield a
    a.close()


def _ok(result, tool="track_experiment"):
    assert not result.errors, result.errors
    return result.results[tool]


def test_registry_wandb_and_neptune_through_chat_in_words(agent, home, monkeypatch):
    """Only words (no options): the planner fills plan.track, track_experiment acts on it."""
    from tensor_agent.tools.core.tracking import get_client
    from tensor_agent.tools.core.wandb_export import read_offline_run
    from tensor_agent.tools.track.neptune_export import read_offline_run as read_neptune_run

    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("NEPTUNE_MODE", raising=False)
    t = "registry-thread"
    train = "@TENSOR train xgboost on the breast cancer dataset"
    _ok(agent.invoke(train, thread_id=t), "train_model")
    r1 = _ok(agent.invoke("@TENSOR register it as bc-xgb", thread_id=t))
    assert (r1["action"], r1["model_name"], r1["version"]) == ("register", "bc-xgb", 1)
    _ok(agent.invoke(train, thread_id=t, seed=1), "train_model")
    r2 = _ok(agent.invoke("@TENSOR register the model in the MLflow model registry as bc-xgb", thread_id=t))
    assert r2["version"] == 2
    client = get_client(agent.settings)
    assert sorted(int(v.version) for v in client.search_model_versions("name = 'bc-xgb'")) == [1, 2]
    a1 = _ok(agent.invoke("@TENSOR set the champion alias to version 2", thread_id=t))
    assert (a1["action"], a1["alias"], a1["version"]) == ("alias", "champion", 2)
    assert {k: str(v) for k, v in client.get_registered_model("bc-xgb").aliases.items()} == {"champion": "2"}
    listed = _ok(agent.invoke("@TENSOR list the versions of the model", thread_id=t))
    assert listed["action"] == "list" and [v["version"] for v in listed["versions"]] == [1, 2]
    assert listed["versions"][1]["aliases"] == ["champion"] and listed["versions"][0]["aliases"] == []
    rb = _ok(agent.invoke("@TENSOR roll back to version 1", thread_id=t))
    assert (rb["action"], rb["moved_from"], rb["version"]) == ("rollback", 2, 1)
    assert str(client.get_model_version_by_alias("bc-xgb", "champion").version) == "1"
    assert rb["model_path"] and "v1" in rb["model_path"]  # the rolled-back version became the thread's model
    ar = _ok(agent.invoke("@TENSOR archive version 1", thread_id=t))
    assert (ar["action"], ar["version"]) == ("archive", 1)
    v1 = client.get_model_version("bc-xgb", "1")
    assert v1.tags.get("tensor.archived") == "true" and not client.get_registered_model("bc-xgb").aliases
    # W&B and Neptune offline exports of the current model's run: same final metrics as MLflow
    ex = _ok(agent.invoke("@TENSOR log my last run to Weights & Biases", thread_id=t))
    w = ex["wandb"]
    assert ex["action"] == "export" and w["mode"] == "offline" and str(home) in w["wandb_dir"] and w["verified"] is True
    stored = read_offline_run(w["wandb_dir"])["summary"]
    mlflow_metrics = client.get_run(ex["run_id"]).data.metrics
    assert mlflow_metrics and all(stored[k] == pytest.approx(v) for k, v in mlflow_metrics.items())
    nx = _ok(agent.invoke("@TENSOR log my last run to Neptune", thread_id=t))
    n = nx["neptune"]
    assert nx["action"] == "export" and not nx["wandb"] and n["mode"] == "offline" and n["verified"] is True
    assert n["neptune_dir"].startswith(str(home))
    fields = read_neptune_run(n["neptune_dir"])["fields"]
    assert all(fields[f"final/{k}"] == pytest.approx(v) for k, v in client.get_run(nx["run_id"]).data.metrics.items())


def test_options_override_the_words(agent):
    t = "override-thread"
    _ok(agent.invoke("@TENSOR train xgboost on the breast cancer dataset", thread_id=t), "train_model")
    _ok(agent.invoke("@TENSOR register it as bc-opt", thread_id=t))
    _ok(agent.invoke("@TENSOR register it as bc-opt", thread_id=t))
    a = _ok(agent.invoke("@TENSOR set the champion alias to version 2", thread_id=t, alias="challenger", version=1))
    assert (a["alias"], a["version"]) == ("challenger", 1)


def test_bad_registry_name_is_exit_2(agent):
    from tensor_agent.errors import InputError

    with pytest.raises(InputError, match="invalid registration name"):  # refused when the plan is resolved
        agent.invoke("@TENSOR show the MLflow model registry versions", thread_id="bad", action="list",
                     register="a/b")
    assert InputError("x").exit_code == 2
