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


def test_registry_and_wandb_through_chat(agent, home, monkeypatch):
    from tensor_agent.tools.core.tracking import get_client
    from tensor_agent.tools.core.wandb_export import read_offline_run

    monkeypatch.delenv("WANDB_MODE", raising=False)
    t = "registry-thread"
    train = "@TENSOR train xgboost on the breast cancer dataset"
    _ok(agent.invoke(train, thread_id=t), "train_model")
    r1 = _ok(agent.invoke("@TENSOR register it as bc-xgb", thread_id=t))
    assert (r1["action"], r1["model_name"], r1["version"]) == ("register", "bc-xgb", 1)
    _ok(agent.invoke(train, thread_id=t, seed=1), "train_model")
    r2 = _ok(agent.invoke("@TENSOR register the model in the MLflow model registry as bc-xgb", thread_id=t))
    assert r2["version"] == 2
    client = get_client(agent.settings)
    a1 = _ok(agent.invoke("@TENSOR set the champion alias", thread_id=t, alias="champion", version=1))
    assert a1["version"] == 1 and {k: str(v) for k, v in client.get_registered_model("bc-xgb").aliases.items()} == {"champion": "1"}
    a2 = _ok(agent.invoke("@TENSOR promote it to champion", thread_id=t, action="alias", alias="champion"))
    assert (a2["version"], a2["moved_from"]) == (2, 1)
    assert str(client.get_model_version_by_alias("bc-xgb", "champion").version) == "2"
    listed = _ok(agent.invoke("@TENSOR show the MLflow model registry versions", thread_id=t, action="list"))
    assert [v["version"] for v in listed["versions"]] == [1, 2] and listed["versions"][1]["aliases"] == ["champion"]
    rb = _ok(agent.invoke("@TENSOR roll back the champion", thread_id=t, action="rollback"))
    assert (rb["moved_from"], rb["version"]) == (2, 1)
    assert str(client.get_model_version_by_alias("bc-xgb", "champion").version) == "1"
    ar = _ok(agent.invoke("@TENSOR archive version 2", thread_id=t, action="archive", version=2))
    assert ar["version"] == 2
    v2 = client.get_model_version("bc-xgb", "2")
    assert v2.tags.get("tensor.archived") == "true"
    # W&B offline export of the current model's run: same final metrics as MLflow
    ex = _ok(agent.invoke("@TENSOR log my last run to Weights & Biases", thread_id=t))
    w = ex["wandb"]
    assert w["mode"] == "offline" and str(home) in w["wandb_dir"] and w["verified"] is True
    stored = read_offline_run(w["wandb_dir"])["summary"]
    mlflow_metrics = client.get_run(ex["run_id"]).data.metrics
    assert mlflow_metrics and all(stored[k] == pytest.approx(v) for k, v in mlflow_metrics.items())


def test_bad_registry_name_is_exit_2(agent):
    from tensor_agent.errors import InputError

    with pytest.raises(InputError, match="invalid registration name"):  # refused when the plan is resolved
        agent.invoke("@TENSOR show the MLflow model registry versions", thread_id="bad", action="list",
                     register="a/b")
    assert InputError("x").exit_code == 2
