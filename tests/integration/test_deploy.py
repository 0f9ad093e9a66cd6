"""Deployment: the served app matches the in-process model over real HTTP on 127.0.0.1, the TorchServe handler
matches in-process, manifests deserialize into Kubernetes types, the kfp pipeline loads back, and a chat thread
goes train -> quantize -> Docker -> TorchServe -> run locally."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tensor_agent.config import Settings
from tensor_agent.schema import Plan

pytestmark = pytest.mark.integration


def _post(url: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _ctx(home: Path, handle, **options):
    from tensor_agent.tools.core.context import ToolContext

    ctx = ToolContext(settings=Settings.from_env(home), thread_id="deploy-test", options=options, progress=False)
    ctx.set_model(handle)
    return ctx


def _plan(*targets: str) -> Plan:
    return Plan(addressed=True, intents=["deploy"], tools=["deploy_model"], deploy_targets=list(targets))


@pytest.fixture()
def digits_cnn(tmp_path):
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.zoo.registry import create_model

    data = load_dataset("digits", seed=0)
    handle = create_model("cnn", input_spec=data.input_spec, num_classes=10)
    fit(handle.module, data, TrainConfig(epochs=1, batch_size=64))
    handle.dataset = "digits"
    return handle, data


def _stop(report):
    for t in report.targets:
        if t.pid:
            os.kill(t.pid, signal.SIGTERM)


def test_docker_app_matches_the_model_and_rejects_bad_input(tmp_path, digits_cnn):
    import torch

    from tensor_agent.tools.deploy import deploy_model

    handle, data = digits_cnn
    report = deploy_model(_plan("docker", "local"), _ctx(tmp_path, handle))
    try:
        local = next(t for t in report.targets if t.target == "local")
        docker = next(t for t in report.targets if t.target == "docker")
        context = Path(docker.path)
        assert {"Dockerfile", "app.py", "requirements.txt", "metadata.json", "model.onnx"} <= {p.name for p in context.iterdir()}
        dockerfile = (context / "Dockerfile").read_text()
        assert "slim" in dockerfile and "USER app" in dockerfile
        assert all("==" in line for line in (context / "requirements.txt").read_text().split())
        x = data.test.tensors[0][:16]  # (16, 1, 8, 8)
        with torch.no_grad():
            want = handle.module.eval()(x).numpy()
        status, out = _post(local.url + "/predict", {"inputs": x.tolist()})
        assert status == 200
        import numpy as np

        assert np.abs(np.asarray(out["outputs"]) - want).max() <= 1e-4
        assert len(out["predictions"]) == 16
        status, one = _post(local.url + "/predict", {"inputs": x[0].tolist()})  # one example, no batch axis
        assert status == 200 and len(one["outputs"]) == 1
        for bad, word in ((b"{not json", "JSON"), ({"inputs": [[1, 2, 3]]}, "shape"), ({"wrong": 1}, "inputs"),
                          ({"inputs": "abc"}, "numeric"), ({"inputs": [[[[float("nan")] * 8] * 8]]}, "")):
            status, err = _post(local.url + "/predict", bad if isinstance(bad, bytes) else
                                json.dumps(bad).replace("NaN", "NaN").encode())
            assert 400 <= status < 500 and word.lower() in err["error"].lower(), (bad, status, err)
        with urllib.request.urlopen(local.url + "/metadata", timeout=10) as r:
            meta = json.loads(r.read())
        assert meta["inputs"][0]["shape"] == [1, 8, 8] and meta["format"] == "onnx"
    finally:
        _stop(report)


def test_text_classifier_serves_raw_text(tmp_path):
    import numpy as np
    import torch

    from tensor_agent.tools.core.zoo.registry import create_model
    from tensor_agent.tools.deploy import deploy_model

    handle = create_model("bert", pretrained=True, num_classes=4, input_spec={"kind": "tokens", "shape": [32]})
    report = deploy_model(_plan("local"), _ctx(tmp_path, handle))
    try:
        local = report.targets[0]
        texts = ["my invoice is wrong", "the app crashes on start"]
        status, out = _post(local.url + "/predict", {"texts": texts})
        assert status == 200, out
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(Path(handle.extra["tokenizer_path"]) / "tokenizer.json"))
        tok.enable_truncation(32)
        tok.enable_padding(length=32)
        ids = torch.tensor([e.ids for e in tok.encode_batch(texts)])
        with torch.no_grad():
            want = handle.module.eval()(ids).numpy()
        assert np.abs(np.asarray(out["outputs"]) - want).max() <= 1e-4
    finally:
        _stop(report)


def test_torchserve_archive_and_handler_match_the_model(tmp_path, digits_cnn):
    import numpy as np
    import torch

    from tensor_agent.tools.deploy import deploy_model

    handle, data = digits_cnn
    report = deploy_model(_plan("torchserve"), _ctx(tmp_path, handle))
    mar = Path(report.targets[0].path)
    with zipfile.ZipFile(mar) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("MAR-INF/MANIFEST.json"))
        z.extractall(tmp_path / "mar")
    assert {"handler.py", "model.onnx", "metadata.json"} <= names and manifest["model"]["handler"] == "handler.py"
    spec = importlib.util.spec_from_file_location("ts_handler_under_test", tmp_path / "mar" / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Context:
        system_properties = {"model_dir": str(tmp_path / "mar")}

    h = module.TensorHandler()
    h.initialize(Context())
    x = data.test.tensors[0][:5]
    requests = [{"body": json.dumps({"inputs": x[:2].tolist()}).encode()}, {"body": {"inputs": x[2].tolist()}},
                {"body": {"inputs": x[3:].tolist()}}]
    replies = h.postprocess(h.inference(h.preprocess(requests)))
    got = np.concatenate([np.asarray(r["outputs"]) for r in replies])
    with torch.no_grad():
        want = handle.module.eval()(x).numpy()
    assert [len(r["outputs"]) for r in replies] == [2, 1, 2] and np.abs(got - want).max() <= 1e-4


def test_manifests_and_pipeline_load_back(tmp_path, digits_cnn):
    import yaml
    from kfp import components

    from tensor_agent.tools.deploy import deploy_model
    from tensor_agent.tools.deploy.common import k8s_check

    handle, _ = digits_cnn
    report = deploy_model(_plan("kserve", "kubernetes", "kubeflow"), _ctx(tmp_path, handle))
    by = {t.target: t for t in report.targets}
    dep, svc = list(yaml.safe_load_all(Path(by["kubernetes"].path).read_text()))
    assert k8s_check(dep, "V1Deployment").spec.template.spec.containers[0].ports[0].container_port == 8080
    assert k8s_check(svc, "V1Service").spec.ports[0].target_port == 8080
    isvc = yaml.safe_load(Path(by["kserve"].path).read_text())
    assert isvc["kind"] == "InferenceService"
    assert k8s_check(isvc["spec"]["predictor"]["containers"][0], "V1Container").image.endswith(":1")
    pipe = components.load_component_from_file(by["kubeflow"].path)
    assert pipe.name and "train" in Path(by["kubeflow"].path).read_text()
    job = yaml.safe_load(Path(by["kubeflow"].files[1]).read_text())
    assert job["kind"] == "TrainJob" and job["spec"]["trainer"]["command"][0] == "torchrun"


def test_no_model_and_unknown_target_exit_3(tmp_path):
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.core.context import ToolContext
    from tensor_agent.tools.deploy import deploy_model

    ctx = ToolContext(settings=Settings.from_env(tmp_path), thread_id="empty", options={}, progress=False)
    with pytest.raises(UnsatisfiableError, match="no model to deploy"):
        deploy_model(_plan("docker"), ctx)
    with pytest.raises(UnsatisfiableError, match="unknown deploy target"):
        deploy_model(_plan("heroku"), ctx)


def test_chat_thread_train_quantize_docker_torchserve_run(tmp_path, monkeypatch):
    from tensor_agent import TensorAgent

    monkeypatch.setenv("TENSOR_THREADS", "1")
    agent = TensorAgent(tmp_path / "home")
    pids = []
    try:
        steps = [("@TENSOR train a CNN on the digits dataset", {"epochs": 2}, "train_model"),
                 ("@TENSOR quantize it", {}, "compress_model"),
                 ("@TENSOR deploy it with Docker", {}, "deploy_model"),
                 ("@TENSOR also make a TorchServe archive", {}, "deploy_model"),
                 ("@TENSOR run it locally", {}, "deploy_model")]
        for text, opts, tool in steps:
            res = agent.invoke(text, thread_id="chat", **opts)
            assert tool in res.results and not res.errors, (text, res.errors, res.plan.intents)
            assert res.message.strip()
            if tool == "deploy_model":
                pids += [t["pid"] for t in res.results[tool]["targets"] if t.get("pid")]
                assert any(t["commands"] for t in res.results[tool]["targets"])
        last = res.results["deploy_model"]
        assert any(t["target"] == "local" and t["url"] for t in last["targets"])
        lineage = agent.thread_state("chat")["artifacts"]["lineage"]
        assert [s["step"] for s in lineage][-3:] == ["deploy", "deploy", "deploy"]
    finally:
        agent.close()
        for pid in pids:
            os.kill(pid, signal.SIGTERM)


def test_cli_deploy_uses_the_threads_model(tmp_path, monkeypatch, capsys):
    from tensor_agent.cli import main

    monkeypatch.setenv("TENSOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TENSOR_THREADS", "1")
    assert main(["ask", "@TENSOR train an MLP on iris", "--set", "epochs=3", "--thread", "t", "--no-memory"]) == 0
    capsys.readouterr()
    assert main(["deploy", "--thread", "t", "--target", "kubernetes", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model_family"] == "mlp" and report["targets"][0]["ok"]
    assert main(["deploy", "--thread", "nobody", "--json"]) == 3
