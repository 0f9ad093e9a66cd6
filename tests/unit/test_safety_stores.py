"""Broken stores and bad names through the CLI: each is named with what to do, exit 2, nothing overwritten;
registration names are validated before any training starts. Sessions are per (workspace, thread)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

RUNNER = r"""
import contextlib, io, json, sys
from tensor_agent.cli import main
out = {}
for name, argv in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    out[name] = {"code": code, "err": err.getvalue()}
print("RESULTS" + json.dumps(out))
"""


def _run(cases: dict[str, list[str]], tmp_path: Path) -> dict:
    env = {**os.environ, "HOME": str(tmp_path / "home"), "TENSOR_PLANNER": "rules", "TENSOR_THREADS": "1"}
    for key in ("MLFLOW_TRACKING_URI", "TENSOR_CHROMA_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "TENSOR_HOME"):
        env.pop(key, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(cases)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert "RESULTS" in proc.stdout, proc.stderr[-3000:]
    return json.loads(proc.stdout.split("RESULTS", 1)[1])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


GARBAGE = b"this is not a database\n" * 200


def test_broken_stores_and_bad_names_exit_2_naming_the_file(tmp_path):
    ws = {name: tmp_path / name for name in ("threads", "mlflow", "model", "reg1", "reg2")}
    for d in ws.values():
        d.mkdir()
    (ws["threads"] / "threads.sqlite").write_bytes(GARBAGE)
    (ws["mlflow"] / "mlflow").mkdir()
    (ws["mlflow"] / "mlflow" / "mlflow.db").write_bytes(GARBAGE)
    from tensor_agent.tools.core.model_store import save_model
    from tensor_agent.tools.core.zoo.registry import create_model

    model = Path(save_model(create_model("mlp", variant="tiny", input_spec={"kind": "tabular", "shape": [4]},
                                         num_classes=3), tmp_path / "saved"))
    (model / "weights.safetensors").write_bytes(b"\x00" * 10)  # truncated weights
    before = {p: _digest(p) for p in (ws["threads"] / "threads.sqlite", ws["mlflow"] / "mlflow" / "mlflow.db",
                                      model / "weights.safetensors", model / "handle.json")}
    train = "@TENSOR train an MLP on iris"
    cases = {
        "threads": ["--home", str(ws["threads"]), "ask", "@TENSOR design CNN architecture for image classification"],
        "mlflow": ["--home", str(ws["mlflow"]), "ask", train, "--set", "epochs=1"],
        "model": ["--home", str(ws["model"]), "ask", "@TENSOR quantize my model to int8", "--set",
                  f"model_path={model}"],
        "register a/b": ["--home", str(ws["reg1"]), "ask", train, "--set", "epochs=2", "--set", "register=a/b"],
        "register ../x": ["--home", str(ws["reg2"]), "ask", train, "--set", "epochs=2", "--set", "register=../x"],
    }
    res = _run(cases, tmp_path)
    expect = {"threads": [str(ws["threads"] / "threads.sqlite"), "corrupt", "move it aside"],
              "mlflow": [str(ws["mlflow"] / "mlflow" / "mlflow.db"), "corrupt", "move it aside"],
              "model": [str(model / "weights.safetensors"), "not a safetensors"],
              "register a/b": ["register"], "register ../x": ["register"]}
    for name, words in expect.items():
        got = res[name]
        assert got["code"] == 2, (name, got)
        assert all(w in got["err"] for w in words), (name, got["err"])
        assert "internal error" not in got["err"] and "Traceback" not in got["err"], (name, got["err"])
    assert {p: _digest(p) for p in before} == before  # nothing overwritten
    for name in ("reg1", "reg2"):  # validated before work: nothing trained, saved or tracked
        models = ws[name] / "models"
        assert not models.exists() or not any(models.iterdir())
        assert not (ws[name] / "checkpoints").exists() or not any((ws[name] / "checkpoints").iterdir())


@pytest.fixture
def readonly_dir(tmp_path):
    """A real read-only directory: chmod for a normal user, a read-only tmpfs mount for root."""
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() != 0:
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(d)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip("cannot make a read-only directory as root here (no mount)")
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], capture_output=True)


def test_read_only_workspace_says_so(readonly_dir, tmp_path):
    res = _run({"ro": ["--home", str(readonly_dir), "ask", "@TENSOR design CNN architecture for image classification"]},
               tmp_path)
    got = res["ro"]
    assert got["code"] == 2, got
    assert str(readonly_dir) in got["err"] and "read-only" in got["err"], got["err"]
    assert "internal error" not in got["err"]


def test_sessions_are_per_workspace_and_thread(tmp_path):
    """Two TensorAgents on different workspaces with the same thread id never see each other's model,
    in one thread and from two threads at once."""
    from tensor_agent import TensorAgent
    from tensor_agent.tools.core.context import ModelHandle, ToolContext

    a, b = TensorAgent(home=tmp_path / "a"), TensorAgent(home=tmp_path / "b")
    ca = ToolContext(settings=a.settings, thread_id="same")
    cb = ToolContext(settings=b.settings, thread_id="same")
    ca.set_model(ModelHandle(module="model-of-a", family="cnn"))
    assert cb.current_model() is None
    assert ToolContext(settings=a.settings, thread_id="same").current_model().module == "model-of-a"
    seen: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def work(agent, name):
        ctx = ToolContext(settings=agent.settings, thread_id="shared-thread")
        barrier.wait()
        ctx.set_model(ModelHandle(module=f"model-of-{name}", family="mlp"))
        barrier.wait()
        seen[name] = ToolContext(settings=agent.settings, thread_id="shared-thread").current_model().module

    threads = [threading.Thread(target=work, args=(agent, n)) for agent, n in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen == {"a": "model-of-a", "b": "model-of-b"}
