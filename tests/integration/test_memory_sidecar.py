"""The memory sidecar (memory/sidecar.py) answers exactly as the store opened in process does.

Real child process, real Chroma store, real embeddings: the same turn remembered through the sidecar
and in process gives the same record ids and the same vectors; recommend() gives the same family and
scores; a corrupted store raises the same InputError (exit 2) through the sidecar; a dead child falls
back to the store in this process; the numpy encoder matches the torch one.
"""

from __future__ import annotations

import pytest

from tensor_agent.schema import Plan

pytestmark = pytest.mark.integration


def _turn(acc: float, seed: int):
    plan = Plan(addressed=True, intents=["design", "train"], modality="tabular", task="classification",
                architecture="xgboost", text="@TENSOR train xgboost on breast_cancer")
    results = {"design_architecture": {"family": "xgboost", "modality": "tabular", "task": "classification"},
               "train_model": {"dataset": "breast_cancer", "family": "xgboost", "kind": "xgboost",
                               "dataset_info": {"name": "breast_cancer", "modality": "tabular",
                                                "task": "classification", "num_classes": 2, "seed": seed,
                                                "sizes": {"train": 400, "val": 57, "test": 114}},
                               "test_metrics": {"accuracy": acc}, "stopped_reason": "completed", "epochs_run": 20,
                               "wall_s": 1.0, "mlflow_run_id": f"run-{seed}",
                               "baselines": {"majority_rate": 0.63, "test_n": 114, "near_chance": False}}}
    return plan, results


def _settings(tmp_path, name):
    from tensor_agent.config import Settings

    return Settings.from_env(tmp_path / name)


def test_sidecar_and_in_process_store_agree(tmp_path):
    from tensor_agent.memory import open_memory
    from tensor_agent.memory import sidecar

    side_s, local_s = _settings(tmp_path, "side"), _settings(tmp_path, "local")
    side = sidecar.start(side_s)
    try:
        assert open_memory(side_s) is side
        local = open_memory(local_s)
        for seed, acc in enumerate((0.97, 0.96)):
            plan, results = _turn(acc, seed)
            assert side.remember_turn(plan, results) == local.remember_turn(plan, results)
        args = ("tabular", "classification", "xgboost", ["mlp"], {})
        a, b = side.recommend(*args), local.recommend(*args)
        assert (a.family, a.switched, [(f.family, f.score, f.n) for f in a.fitness]) == \
            (b.family, b.switched, [(f.family, f.score, f.n) for f in b.fitness])
        assert a.rationale.split(":")[0] == b.rationale.split(":")[0]  # the evidence it cites may tie in order
        assert sorted(a.fitness[0].outcome_ids) == sorted(b.fitness[0].outcome_ids)  # same second: any order
        assert len(a.fitness[0].outcome_ids) == 2
        # what the sidecar wrote is in the store: read it back in this process (not through the child)
        rows = side.list("outcome")
        assert len(rows) == 2 and {r["family"] for r in rows} == {"xgboost"}
        hit = side.search("xgboost breast cancer", k=1)[0]
        assert hit["similarity"] > 0.3
        local.close()
    finally:
        sidecar.stop_all()
    assert sidecar.active(side_s) is None


def test_a_corrupted_store_reads_the_same_through_the_sidecar(tmp_path):
    from tensor_agent.errors import InputError
    from tensor_agent.memory import sidecar
    from tensor_agent.memory.core import Memory
    from tensor_agent.memory.store import Store

    s = _settings(tmp_path, "bad")
    (s.home / "memory").mkdir(parents=True)
    (s.home / "memory" / "chroma.sqlite3").write_bytes(b"this is not sqlite" * 10)
    with pytest.raises(InputError) as local:
        Memory(Store.open(s))
    side = sidecar.start(s)
    try:
        with pytest.raises(InputError) as remote:
            side.recommend("tabular", "classification", "xgboost", [], {})
        assert remote.value.message == local.value.message and remote.value.exit_code == 2
    finally:
        sidecar.stop_all()
    assert (s.home / "memory" / "chroma.sqlite3").read_bytes() == b"this is not sqlite" * 10  # nothing repaired


def test_a_dead_sidecar_falls_back_to_the_store_in_process(tmp_path):
    from tensor_agent.memory import sidecar

    s = _settings(tmp_path, "dead")
    side = sidecar.start(s)
    try:
        side._proc.kill()
        side._proc.wait()
        plan, results = _turn(0.95, 0)
        ids = side.remember_turn(plan, results)
        assert len(ids) == 2 and {r["id"] for r in side.list()} == set(ids)
    finally:
        sidecar.stop_all()


def test_numpy_encoder_matches_the_torch_encoder():
    import numpy as np

    from tensor_agent.memory.embed import get_model, get_numpy_model

    texts = ["cnn for digits", "a residual network for CIFAR-10 with twenty classes, SGD and cosine decay",
             "xgboost on a churn csv with missing values"]
    a = get_numpy_model().encode(texts)
    b = get_model().encode(texts)
    assert a.shape == b.shape == (3, 384)
    assert np.all((a * b).sum(1) >= 0.99999)


def test_cli_ask_uses_the_sidecar_and_leaves_no_child_behind(tmp_path, monkeypatch, capsys):
    """An in-process `ask` (as a host or a test calls it) writes its design record and stops its child."""
    from tensor_agent.cli import main
    from tensor_agent.memory import open_memory, sidecar

    started = []
    real_start = sidecar.start
    monkeypatch.setattr(sidecar, "start", lambda s: started.append(real_start(s)) or started[-1])
    home = tmp_path / "ws"
    assert main(["ask", "@TENSOR design CNN architecture for image classification", "--home", str(home)]) == 0
    assert len(started) == 1 and started[0]._proc is None          # started for this turn, then stopped
    assert sidecar._ACTIVE == {}
    from tensor_agent.config import Settings

    mem = open_memory(Settings.from_env(home))
    rows = mem.list("design")
    assert [r["family"] for r in rows] == ["cnn"]
    mem.close()
