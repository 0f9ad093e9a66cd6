"""The memory on a real embedded Chroma store with real MiniLM embeddings: records, search, CLI, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from tensor_agent.errors import BackendUnavailable, InputError
from tensor_agent.memory import open_memory
from tensor_agent.schema import Plan

PLAN = Plan(addressed=True, intents=["design"], modality="image", task="classification", architecture="cnn",
            text="@TENSOR design CNN architecture for image classification on digits")
DESIGN = {"family": "cnn", "variant": "small", "modality": "image", "task": "classification",
          "hyperparameters": {"channels": [16, 32]}, "params": 23000, "size_mb": 0.09, "latency_ms": 0.4}
TRAIN = {"dataset": "digits", "dataset_info": {"modality": "image", "task": "classification"}, "family": "cnn",
         "test_metrics": {"accuracy": 0.975, "loss": 0.09}, "wall_s": 4.2, "mlflow_run_id": "run-1"}


def _tree_digest(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def mem(settings):
    m = open_memory(settings)
    yield m
    m.close()


def test_import_is_cheap():
    import subprocess

    code = ("import sys, tensor_agent.memory, tensor_agent.memory.cli; "
            "print('chromadb' in sys.modules, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_remember_turn_links_and_does_not_duplicate(mem):
    ids = mem.remember_turn(PLAN, {"design_architecture": DESIGN, "train_model": TRAIN})
    assert len(ids) == 2 and ids[0].startswith("d-") and ids[1].startswith("o-")
    # the graph state holds the plan as a dict: same records
    again = mem.remember_turn(PLAN.model_dump(mode="json"), {"design_architecture": DESIGN, "train_model": TRAIN})
    assert again == ids and mem.count() == 2
    design, outcome = mem.get(ids[0]), mem.get(ids[1])
    assert design["kind"] == "design" and design["plan_text"] == PLAN.text and design["latency_ms"] == 0.4
    assert outcome["design_id"] == ids[0] and outcome["variant"] == "small" and outcome["value"] == 0.975
    assert outcome["mlflow_run_id"] == "run-1" and outcome["train_time_s"] == 4.2
    # missing tools and failed tools are handled
    ids2 = mem.remember_turn(PLAN, {"design_architecture": DESIGN, "train_model": {"error": "data too small"}})
    failed = mem.get(ids2[1])
    assert ids2[0] == ids[0] and not failed["success"] and "too small" in failed["reason"]
    assert mem.remember_turn(PLAN, {}) == []
    ids3 = mem.remember_turn(PLAN, {"design_architecture": DESIGN}, errors={"train_model": "time budget exceeded"})
    assert ids3[0] == ids[0] and mem.get(ids3[1])["reason"] == "time budget exceeded"
    assert mem.remember_outcome({"family": "vit", "dataset": "digits", "metric": "accuracy", "value": 0.9,
                                 "modality": "image", "run_key": "r"}, design_id=None).startswith("o-")


def test_search_list_forget_fitness_recall(mem):
    mem.remember_turn(PLAN, {"design_architecture": DESIGN, "train_model": TRAIN})
    gnn = Plan(addressed=True, intents=["design"], modality="graph", task="node_classification",
               architecture="gcn", text="@TENSOR design a GCN for the karate club graph")
    mem.remember_turn(gnn, {"design_architecture": {"family": "gcn", "modality": "graph",
                                                    "task": "node_classification"},
                            "train_model": {"dataset": "karate", "family": "gcn", "test_metrics": {"accuracy": 0.8},
                                            "mlflow_run_id": "run-2"}})
    hits = mem.search("graph neural network for a social network of club members", k=2)
    assert hits[0]["family"] == "gcn" and hits[0]["similarity"] > hits[-1]["similarity"] - 1e-9
    assert mem.search("convolutional image classifier for handwritten digits", k=1, kind="design")[0]["family"] == "cnn"
    assert {r["kind"] for r in mem.list()} == {"design", "outcome"}
    assert [r["family"] for r in mem.list("outcome", modality="graph")] == ["gcn"]
    fit = mem.fitness("image", "classification")
    assert fit[0].family == "cnn" and fit[0].n == 1 and fit[0].evidence
    rec = mem.recall(Plan(addressed=True, intents=["recall"], modality="image",
                          text="@TENSOR what has worked best for image tasks?"))
    assert "cnn" in rec["answer"] and rec["best"]["image"][0]["family"] == "cnn"
    assert rec["similar_designs"] and rec["similar_designs"][0]["family"] == "cnn"
    every = mem.recall(Plan(addressed=True, intents=["recall"], text="@TENSOR what has worked before?"))
    assert set(every["best"]) == {"image", "graph"}
    gid = mem.list("design", modality="graph")[0]["id"]
    assert mem.forget(gid) and mem.get(gid) is None and not mem.forget(gid)
    with pytest.raises(InputError):
        mem.search("   ")


def test_export_import_round_trip(mem, settings, tmp_path):
    ids = mem.remember_turn(PLAN, {"design_architecture": DESIGN, "train_model": TRAIN})
    out = tmp_path / "mem.jsonl"
    assert mem.export(out) == 2
    from tensor_agent.config import Settings

    other = open_memory(Settings.from_env(home=tmp_path / "other"))
    try:
        assert other.import_(out) == 2 and other.import_(out) == 2  # stable ids: no duplicates
        assert other.count() == 2 and other.get(ids[1])["value"] == 0.975
        assert other.search("cnn digits", k=1)[0]["id"] in ids
        bad = tmp_path / "bad.jsonl"
        bad.write_text(out.read_text().splitlines()[0] + "\n{\"id\": 1}\n")
        with pytest.raises(InputError, match="line 2"):
            other.import_(bad)
        (tmp_path / "x.jsonl").write_text("hello\n")
        with pytest.raises(InputError, match="not a tensor-agent memory export"):
            other.import_(tmp_path / "x.jsonl")
        assert other.count() == 2
    finally:
        other.close()


def test_cli_commands(settings, tmp_path, capsys):
    from tensor_agent.cli import main

    with open_memory(settings) as m:
        ids = m.remember_turn(PLAN, {"design_architecture": DESIGN, "train_model": TRAIN})
    home = ["--home", str(settings.home)]
    assert main([*home, "memory", "list", "--json"]) == 0
    assert {r["id"] for r in json.loads(capsys.readouterr().out)} == set(ids)
    assert main([*home, "memory", "show", ids[1], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"] == "digits"
    assert main([*home, "memory", "search", "cnn on digits", "-k", "1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    png = tmp_path / "fit.png"
    assert main([*home, "memory", "fitness", "--modality", "image", "--png", str(png)]) == 0
    assert "cnn" in capsys.readouterr().out and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*home, "memory", "fitness", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["image"][0]["family"] == "cnn"
    exp = tmp_path / "e.jsonl"
    assert main([*home, "memory", "export", str(exp)]) == 0 and exp.exists()
    assert main([*home, "memory", "forget", ids[0]]) == 0
    assert main([*home, "memory", "forget", ids[0]]) == 2
    assert "no memory record" in capsys.readouterr().err
    assert main([*home, "memory", "import", str(exp)]) == 0
    assert main([*home, "memory", "show", "o-missing"]) == 2


# --- bad input: clear errors, nothing overwritten -----------------------------------------------
def test_corrupted_store_is_refused_untouched(settings):
    with open_memory(settings) as m:
        m.remember_turn(PLAN, {"design_architecture": DESIGN, "train_model": TRAIN})
    store = Path(settings.home) / "memory"
    db = store / "chroma.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    before = _tree_digest(store)
    with pytest.raises(InputError, match="corrupted") as err:
        open_memory(settings)
    assert "chroma.sqlite3" in str(err.value) and err.value.hint
    assert _tree_digest(store) == before


def test_truncated_sqlite_is_refused(settings):
    with open_memory(settings) as m:
        m.remember_turn(PLAN, {"design_architecture": DESIGN, "train_model": TRAIN})
    db = Path(settings.home) / "memory" / "chroma.sqlite3"
    data = db.read_bytes()
    db.write_bytes(data[:100] + b"\x00" * 4000 + data[4100:8192])
    before = _tree_digest(db.parent)
    with pytest.raises(InputError):
        open_memory(settings)
    assert _tree_digest(db.parent) == before


def test_newer_schema_and_bad_schema_file_are_refused(settings):
    with open_memory(settings) as m:
        m.remember_turn(PLAN, {"design_architecture": DESIGN})
    schema = Path(settings.home) / "memory" / "tensor_memory.json"
    schema.write_text(json.dumps({"schema_version": 99}))
    before = _tree_digest(schema.parent)
    with pytest.raises(InputError, match="newer tensor-agent"):
        open_memory(settings)
    schema.write_text("{not json")
    with pytest.raises(InputError, match="corrupted"):
        open_memory(settings)
    schema.write_text(json.dumps({"schema_version": 99}))
    assert _tree_digest(schema.parent) == before


def test_store_path_is_a_file_or_unreadable(settings):
    store = Path(settings.home) / "memory"
    store.write_text("I am a file")
    with pytest.raises(InputError, match="not a directory"):
        open_memory(settings)
    assert store.read_text() == "I am a file"
    store.unlink()
    store.mkdir()
    (store / "chroma.sqlite3").mkdir()  # the database cannot be read as a file
    with pytest.raises(InputError, match="unreadable"):
        open_memory(settings)
    assert (store / "chroma.sqlite3").is_dir() and not (store / "tensor_memory.json").exists()
    (store / "chroma.sqlite3").rmdir()
    if os.geteuid() == 0:
        return  # root reads everything: permissions cannot make the directory unreadable
    store.chmod(0o000)
    try:
        with pytest.raises(InputError, match="not readable"):
            open_memory(settings)
    finally:
        store.chmod(0o755)


def test_unreachable_server_and_bad_url(home):
    import socket

    from tensor_agent.config import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(BackendUnavailable, match="unreachable") as err:
        open_memory(Settings.from_env(chroma_url=f"http://127.0.0.1:{port}"))
    assert err.value.exit_code == 4 and "chroma run" in err.value.hint
    with pytest.raises(InputError, match="TENSOR_CHROMA_URL"):
        open_memory(Settings.from_env(chroma_url="ftp://nowhere"))
    assert not (Path(home) / "memory").exists()  # nothing was created for a server URL
