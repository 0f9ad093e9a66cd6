"""The LangGraph graph end to end: routing, peer handoffs, threads, host peers, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tensor_agent import TensorAgent

pytestmark = pytest.mark.integration


@pytest.fixture
def agent(home):
    a = TensorAgent(home, remember=False)
    yield a
    a.close()


def test_compiled_graph_is_importable_and_wired():
    from tensor_agent.graph import graph

    from tensor_agent.catalogue import PEERS, TOOL_ORDER

    nodes = set(graph.get_graph().nodes)
    assert {"parse", "recall", "handoff", "remember", "respond", *TOOL_ORDER, *PEERS} <= nodes
    assert graph.name == "TENSOR"


def test_peer_only_request_hands_off_and_replies(agent):
    result = agent.invoke("@tensor what validation scheme should I use for my churn model with 2k rows?", thread_id="ev")
    assert result.plan.intents == ["evaluate"] and result.results == {}
    assert list(result.peers) == ["ECLIPSE"] and result.peers["ECLIPSE"]
    state = agent.thread_state("ev")
    assert state["handoffs"] == ["ECLIPSE"]  # set by the transfer_to_eclipse tool's Command
    assert "ECLIPSE" in result.message


def test_several_peers_in_sorted_order(agent):
    result = agent.invoke("@TENSOR explain the convergence of Adam, and how should I evaluate my model? "
                          "My labels are noisy.", thread_id="multi")
    assert set(result.peers) == {"AXIOM", "ECLIPSE", "PRISM"}
    assert agent.thread_state("multi")["handoffs"] == ["AXIOM", "ECLIPSE", "PRISM"]


def test_threads_persist_across_agent_instances(home):
    with TensorAgent(home, remember=False) as a:
        a.invoke("@TENSOR explain LoRA", thread_id="t1")
    with TensorAgent(home, remember=False) as b:
        b.invoke("@TENSOR what metrics for a GAN?", thread_id="t1")
        b.invoke("@TENSOR explain dropout", thread_id="other")
        history = b.thread_state("t1")["history"]
    assert [h["intents"][0] for h in history] == ["explain", "evaluate"]
    assert (home / "threads.sqlite").is_file()


def test_host_replaces_a_peer_with_a_callable(agent):
    from tensor_agent.peers import register_peer, unregister_peer

    seen = {}

    def my_prism(plan, context):
        seen["text"] = plan.text
        return {"summary": "host PRISM: drop duplicate rows first", "items": ["dedupe"]}

    register_peer("PRISM", my_prism)
    try:
        result = agent.invoke("@TENSOR my table has missing values, how do I clean it?", thread_id="host")
    finally:
        unregister_peer("PRISM")
    assert "missing values" in seen["text"]
    assert "host PRISM" in json.dumps(result.peers["PRISM"])


def test_unaddressed_message_runs_nothing(agent):
    result = agent.invoke("design a CNN please", thread_id="u")
    assert not result.plan.addressed and result.results == {} and result.peers == {}
    assert "Not addressed" in result.message


def test_tool_failure_is_a_clear_error_not_a_crash(agent):
    result = agent.invoke("@TENSOR now quantize it", thread_id="fresh")
    assert "compress_model" in result.errors
    assert "Traceback" not in result.errors["compress_model"]
    assert "model" in result.errors["compress_model"].lower()


def test_design_through_the_graph_reports_measured_figures(agent):
    result = agent.invoke("@TENSOR design CNN architecture for image classification", thread_id="d")
    design = result.results["design_architecture"]
    blob = json.dumps(design)
    assert design["family"] == "cnn"
    for key in ("params", "size_mb", "latency_ms", "output_shape"):
        assert key in blob
    assert agent.thread_state("d")["artifacts"]["model"]["family"] == "cnn"


def test_cli_ask_json_is_a_result(home):
    exe = str(Path(sys.executable).with_name("tensor-agent"))
    env = dict(os.environ, TENSOR_HOME=str(home), TENSOR_PLANNER="rules")
    out = subprocess.run([exe, "ask", "@TENSOR how should I evaluate a text classifier?", "--json", "--no-memory"],
                         capture_output=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert set(result) >= {"plan", "results", "peers", "message"} and "ECLIPSE" in result["peers"]


def test_train_then_quantize_in_the_same_thread_across_processes(home):
    """`train a CNN on digits` then `now quantize it` (two CLI processes) acts on the same model."""
    exe = str(Path(sys.executable).with_name("tensor-agent"))
    env = dict(os.environ, TENSOR_HOME=str(home), TENSOR_PLANNER="rules")
    first = subprocess.run([exe, "ask", "@TENSOR train a CNN on the digits dataset with AdamW and cosine annealing",
                            "--thread", "t1", "--set", "epochs=2", "--json", "--no-memory"],
                           capture_output=True, env=env, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    trained = json.loads(first.stdout)["results"]["train_model"]
    assert trained["test_metrics"]["accuracy"] > 0.5 and Path(trained["model_path"]).exists()
    second = subprocess.run([exe, "ask", "@TENSOR now quantize it", "--thread", "t1", "--json", "--no-memory"],
                            capture_output=True, env=env, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    report = json.loads(second.stdout)["results"]["compress_model"]
    assert report["source"].get("path") == trained["model_path"] or report["source"].get("mlflow_run_id") == trained["mlflow_run_id"]
    assert report["results"] and all(r["before"]["metric"] is not None for r in report["results"])
    other = subprocess.run([exe, "ask", "@TENSOR now quantize it", "--thread", "elsewhere", "--json", "--no-memory"],
                           capture_output=True, env=env, timeout=900)
    assert "compress_model" in json.loads(other.stdout)["errors"]  # another thread has no model


def test_turns_are_remembered_and_recalled(home):
    """The remember node writes the design to Chroma; a later recall request finds it."""
    with TensorAgent(home) as a:
        first = a.invoke("@TENSOR design CNN architecture for image classification", thread_id="m1",
                         use_memory=False)
        assert "memory" not in first.errors, first.errors
        ids = a.thread_state("m1")["artifacts"]["memory_ids"]
        assert ids and any(i.startswith("d-") for i in ids)
        recalled = a.invoke("@TENSOR what has worked best for image classification?", thread_id="m2")
    assert recalled.plan.intents == ["recall"] and recalled.results == {}
    assert recalled.recall.get("answer")
    assert any(d.get("family") == "cnn" for d in recalled.recall.get("similar_designs", []))
