"""Sessions are keyed by (workspace, thread): two TensorAgents on different workspaces using the same
thread id never see each other's model, neither one after the other nor from two threads at once."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.integration


def _model(agent, thread_id):
    from tensor_agent.tools.core.context import session

    handle = session(thread_id, agent.settings).get("model")
    return None if handle is None else handle.family


def test_two_workspaces_same_thread_id(tmp_path):
    from tensor_agent import TensorAgent

    a = TensorAgent(home=tmp_path / "a", remember=False)
    b = TensorAgent(home=tmp_path / "b", remember=False)
    try:
        ra = a.invoke("@TENSOR design CNN architecture for image classification", thread_id="same")
        assert ra.exit_code == 0, ra.errors
        assert _model(a, "same") == "cnn" and _model(b, "same") is None
        rb = b.invoke("@TENSOR now quantize it to int8", thread_id="same")
        assert rb.exit_code == 3, (rb.codes, rb.errors)  # b has no model: it must not find a's CNN

        results = {}

        def run(agent, name, text):
            results[name] = agent.invoke(text, thread_id="both")

        threads = [threading.Thread(target=run, args=(a, "a", "@TENSOR design an MLP for tabular data")),
                   threading.Thread(target=run, args=(b, "b", "@TENSOR design CNN architecture for image "
                                                                "classification"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert results["a"].exit_code == 0 and results["b"].exit_code == 0, (results["a"].errors, results["b"].errors)
        assert (_model(a, "both"), _model(b, "both")) == ("mlp", "cnn")
    finally:
        a.close()
        b.close()
