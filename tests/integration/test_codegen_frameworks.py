"""Code for the user's framework: Keras 3 and Flax files built from the design import, build, train one step
and have the PyTorch design's parameter count (<= 1%); scikit-learn pipelines fit; other cases are said plainly."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

CASES = {
    "mlp": dict(variant="small", input_spec={"kind": "tabular", "shape": [30]}, num_classes=2),
    "cnn": dict(variant="small", input_spec={"kind": "image", "shape": [1, 8, 8]}, num_classes=10),
    "resnet": dict(variant="resnet-micro", input_spec={"kind": "image", "shape": [3, 32, 32]}, num_classes=10),
    "vit": dict(variant="vit-micro", input_spec={"kind": "image", "shape": [3, 32, 32]}, num_classes=10),
    "gpt": dict(variant="gpt-micro", input_spec={"kind": "tokens", "shape": [32], "vocab_size": 100}),
}


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(family, framework, tmp_path):
    from tensor_agent.tools.core.zoo.registry import create_model
    from tensor_agent.tools.design.codegen import write_code

    handle = create_model(family, **CASES[family])
    res = write_code({"family": family, "variant": CASES[family]["variant"]}, tmp_path, framework=framework,
                     handle=handle)
    return handle, res


@pytest.mark.parametrize("framework", ["keras", "flax"])
@pytest.mark.parametrize("family", list(CASES))
def test_framework_code_matches_the_design(family, framework, tmp_path):
    handle, res = _write(family, framework, tmp_path)
    assert res.framework == framework and res.note is None
    module = _load(res.path, f"gen_{family}_{framework}")
    want = sum(p.numel() for p in handle.module.parameters())
    if framework == "keras":
        model = module.build_model()
        got = module.count_params(model)
        loss = module.train_one_step(model)
    else:
        model, variables = module.init()
        got = module.count_params(variables)
        loss = module.train_one_step(model, variables)
    assert abs(got - want) <= 0.01 * want, (family, framework, got, want)
    assert loss == loss and loss > 0  # a finite loss from one real training step


def test_a_written_keras_file_runs_as_a_script(tmp_path):
    _, res = _write("cnn", "keras", tmp_path)
    proc = subprocess.run([sys.executable, str(res.path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "parameters:" in proc.stdout and "loss after one step:" in proc.stdout


def test_sklearn_pipelines_fit(tmp_path):
    from tensor_agent.tools.core.zoo.registry import create_model
    from tensor_agent.tools.design.codegen import write_code

    for family in ("xgboost", "mlp"):
        handle = create_model(family, variant="small", input_spec={"kind": "tabular", "shape": [5]}, num_classes=2)
        res = write_code({"family": family, "variant": "small"}, tmp_path, framework="scikit-learn", handle=handle)
        module = _load(res.path, f"gen_{family}_sklearn")
        X, y = module.example_data()
        assert module.build_model().fit(X, y).score(X, y) > 0.8


def test_unsupported_family_gets_pytorch_and_a_plain_statement(tmp_path):
    from tensor_agent.tools.core.zoo.registry import create_model
    from tensor_agent.tools.design.codegen import write_code

    handle = create_model("gcn", variant=None)
    res = write_code({"family": "gcn", "variant": handle.extra.get("variant")}, tmp_path, framework="keras",
                     handle=handle)
    assert res.framework == "pytorch" and "keras" in res.note.lower() and "pytorch" in res.note.lower()


def test_chat_flax_vit_request_writes_flax_code_that_trains(tmp_path, monkeypatch):
    from tensor_agent import TensorAgent

    monkeypatch.setenv("TENSOR_THREADS", "1")
    with TensorAgent(tmp_path / "home", remember=False) as agent:
        res = agent.invoke("@TENSOR I use JAX: implement a small vision transformer in Flax for 32x32 images",
                           thread_id="flax")
    design = res.results["design_architecture"]
    assert res.plan.framework == "flax" and design["code_framework"] == "flax", (res.plan.framework, res.errors)
    module = _load(design["code_path"], "gen_chat_flax_vit")
    model, variables = module.init()
    assert abs(module.count_params(variables) - design["params"]) <= 0.01 * design["params"]
    assert module.train_one_step(model, variables) > 0
