"""The trainer's contract, fast parts: it reads facts from the catalogue, never the message text, has one
registry of trainers, validates before work, and its preprocessing / baselines / device pieces hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tensor_agent.errors import BackendUnavailable, InputError, UnsatisfiableError

TRAIN_DIR = Path(__file__).resolve().parents[2] / "tools" / "train"


def _sources():
    return {p.name: p.read_text() for p in TRAIN_DIR.glob("*.py")}


def test_no_copied_tables_no_message_text_no_design_import():
    for name, src in _sources().items():
        assert "FAMILY_MODALITY" not in src and "DEFAULT_FAMILY" not in src, name
        assert "plan.text" not in src, f"{name} reads the raw message"
        assert "tools.design" not in src and "from tensor_agent.tools import design" not in src, name
        assert "_fallback_model" not in src, name


def test_every_function_is_short():
    longest = []
    for name, src in _sources().items():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                longest.append((node.end_lineno - node.lineno + 1, f"{name}:{node.name}"))
    assert max(longest)[0] < 80, max(longest)


def test_one_trainer_per_data_kind_and_clear_unknown():
    from tensor_agent.catalogue import MODALITIES
    from tensor_agent.tools.train.registry import get_trainer, list_trainers

    assert set(list_trainers()) == set(MODALITIES)
    with pytest.raises(UnsatisfiableError, match=r"no trainer for 'audio' data \(known: "):
        get_trainer("audio")


def _plan(**fields):
    from tensor_agent.schema import Plan

    return Plan(addressed=True, intents=["train"], tools=["train_model"], **fields)


def test_data_reference_from_plan_only(ctx):
    from tensor_agent.schema import DataSource
    from tensor_agent.tools.train.inputs import data_reference

    plan = _plan(data=DataSource(dataset="wine", data_path="/data/my_wine.csv", source="option"))
    assert data_reference(plan, ctx)[0] == "/data/my_wine.csv"  # a path beats the dataset word
    a = data_reference(_plan(modality="image", text="@TENSOR train on digits"), ctx)
    b = data_reference(_plan(modality="image", text="@TENSOR something about iris and wine"), ctx)
    assert a == b and a[0] == "digits" and a[1] == "default"
    assert "No dataset was named" in a[2][0] and "--set data_path=" in a[2][0]


def test_same_plan_fields_different_text_same_config(ctx):
    from tensor_agent.schema import TrainSettings
    from tensor_agent.tools.core.context import ModelHandle
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.train.inputs import resolve_config

    data = load_dataset("iris")
    h = ModelHandle(module=None, family="mlp")
    s = TrainSettings(optimizer="sgd", lr=0.05, dropout=0.2)
    a, _ = resolve_config(_plan(settings=s, text="@TENSOR use adam lr 0.1"), ctx, data, h)
    b, _ = resolve_config(_plan(settings=s, text="@TENSOR whatever"), ctx, data, h)
    assert a == b and (a.optimizer, a.lr, a.dropout) == ("sgd", 0.05, 0.2)
    assert a.time_budget_s == 120.0  # the default budget when none is stated


def test_xgboost_says_which_settings_do_not_apply(ctx):
    from tensor_agent.schema import TrainSettings
    from tensor_agent.tools.core.context import ModelHandle
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.train.inputs import resolve_config

    cfg, notes = resolve_config(_plan(settings=TrainSettings(dropout=0.3, lr=0.2)), ctx, load_dataset("iris"),
                                ModelHandle(module=None, family="xgboost", kind="xgboost"))
    assert cfg.lr == 0.2 and any("does not use dropout" in n for n in notes)


@pytest.mark.parametrize("name", ["a/b", "../x", "bad name"])
def test_bad_register_name_before_any_work(ctx, name, monkeypatch):
    from tensor_agent.tools.train import tool

    monkeypatch.setattr(tool, "data_reference", lambda *a: pytest.fail("data was loaded"))
    with pytest.raises(InputError, match="invalid registration name"):
        tool.train_model(_plan(modality="tabular", register_name=name), ctx)


def test_family_modality_mismatch_is_an_error_not_a_swap(ctx):
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.train.models import choose_model

    with pytest.raises(UnsatisfiableError, match="family 'cnn' is for image data but 'breast_cancer' is tabular"):
        choose_model(_plan(architecture="cnn"), ctx, load_dataset("breast_cancer"))


def test_preprocessor_json_matches_sklearn(tmp_path):
    import importlib.util

    import numpy as np
    import pandas as pd

    from tensor_agent.tools.core import preprocess as pp

    spec = importlib.util.spec_from_file_location("ud", TRAIN_DIR.parents[1] / "evals" / "user_data.py")
    ud = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ud)
    df = pd.read_csv(ud.mixed_csv(tmp_path / "m.csv", n=300)).drop(columns=["churn"])
    plan = pp.plan_columns(df)
    assert (plan.numeric, plan.categorical, plan.text) == (["num1", "num2", "num3", "num4"], ["city"], ["comment"])
    assert "customer_id" in plan.dropped
    for mode in ("neural", "trees"):
        ct = pp.fit_preprocessor(df.iloc[:200], plan, mode)
        js = pp.preprocessor_to_json(ct, plan, mode)
        import json

        back = pp.preprocessor_from_json(json.loads(json.dumps(js)))  # plain JSON, no pickle
        ref = ct.transform(pp._prepared(df, plan))
        assert np.allclose(np.nan_to_num(ref, nan=-7), np.nan_to_num(back.transform(df), nan=-7))
        assert len(back.feature_names) == ref.shape[1]
    with pytest.raises(InputError, match="lacks the column"):
        back.transform(df.drop(columns=["num1"]))


def test_chance_flag_and_majority_rate():
    import torch

    from tensor_agent.tools.core.datasets import DataBundle
    from tensor_agent.tools.train.baselines import baseline_sentence, classification_baselines

    g = torch.Generator().manual_seed(0)
    mk = lambda n: torch.utils.data.TensorDataset(torch.randn(n, 4, generator=g), torch.arange(n) % 3)
    data = DataBundle(name="r", task="classification", modality="tabular", train=mk(90), val=mk(30), test=mk(60),
                      num_classes=3, input_spec={"kind": "tabular", "shape": [4]}, sizes={"train": 90})
    b = classification_baselines(data, 0.35)
    assert b["majority_rate"] == pytest.approx(1 / 3) and b["near_chance"] is True
    assert "within noise of chance" in baseline_sentence(b, {"accuracy": 0.35})
    assert classification_baselines(data, 0.9)["near_chance"] is False


def test_device_selection(monkeypatch):
    import torch

    from tensor_agent.tools.core.device import select_device

    monkeypatch.setenv("TENSOR_DEVICE", "cpu")
    info = select_device()
    assert info.device == "cpu" and info.source == "TENSOR_DEVICE" and not info.amp
    monkeypatch.setenv("TENSOR_DEVICE", "tpu9")
    with pytest.raises(InputError, match="TENSOR_DEVICE"):
        select_device()
    monkeypatch.delenv("TENSOR_DEVICE")
    auto = select_device()
    assert auto.kind == ("cuda" if torch.cuda.is_available() else auto.kind)
    if auto.kind == "cuda":
        assert auto.amp
    if not torch.cuda.is_available():
        monkeypatch.setenv("TENSOR_DEVICE", "cuda")
        with pytest.raises(BackendUnavailable, match="no CUDA device"):
            select_device()
