"""Peers: the four stand-ins, the replaceable registry (callable, env spec, LangGraph graph) and handoff tools."""

from __future__ import annotations

import operator
import subprocess
import sys
import textwrap
from typing import Annotated, Any, TypedDict

import pytest

from tensor_agent.errors import BackendUnavailable, InputError
from tensor_agent.peers import PeerReply, get_peer, parse_peer_spec, register_peer, run_peer, unregister_peer
from tensor_agent.schema import PEERS, Constraint, Plan


def C(name: str, value: Any) -> Constraint:
    return Constraint(name=name, value=value, span=(0, 1), text=str(value))


def plan(text: str, **kw) -> Plan:
    return Plan(addressed=True, text=text, intents=kw.pop("intents", ["design"]), **kw)


PLANS = {
    "cnn": plan("@TENSOR design CNN architecture for image classification", modality="image", architecture="cnn",
                task="classification"),
    "bert_lora": plan("@TENSOR fine-tune BERT with LoRA for a domain-specific NLP task", intents=["fine_tune"],
                      modality="text", architecture="bert", techniques=["lora"], topics=["lora"]),
    "mobile": plan("@TENSOR optimize model for inference on mobile devices under 15 ms", intents=["compress"],
                   constraints=[C("device", "mobile"), C("latency_ms", 15)]),
    "churn": plan("@PRISM @TENSOR clean my churn table (missing values, imbalanced), then design and train",
                  intents=["design", "train"], modality="tabular", architecture="xgboost", topics=["class_imbalance"],
                  constraints=[C("dataset_size", 3000), C("num_classes", 2)]),
    "graph": plan("@tensor design a GCN for node classification on a citation graph", modality="graph",
                  architecture="gcn", task="node_classification"),
    "lm": plan("@tensor implement a small GPT decoder for text generation", intents=["implement"],
               modality="text_generation", architecture="gpt"),
    "diffusion": plan("@TENSOR design diffusion model for image generation", modality="image_generation",
                      architecture="diffusion"),
    "timeseries": plan("@tensor forecast sensor time series with mamba", modality="sequence", architecture="mamba",
                       task="forecasting"),
    "vague": plan("@tensor what validation scheme should I use for my model?", intents=["evaluate"]),
}


# ------------------------------------------------------------------------------------------------- stand-ins
@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("case", list(PLANS))
def test_standin_reply_is_structured_and_useful(peer, case):
    reply = get_peer(peer)(PLANS[case], {"results": {}})
    assert isinstance(reply, PeerReply)
    assert reply.peer == peer and reply.source == "stand-in" and reply.role
    assert len(reply.summary) > 30
    assert len(reply.sections) >= 2 and all(s.items for s in reply.sections)
    assert reply.recommendations and all(r.strip() for r in reply.recommendations)
    assert reply.data
    assert f"@{peer}" in reply.to_markdown()
    PeerReply.model_validate_json(reply.model_dump_json())  # JSON round trip for the checkpoint


@pytest.mark.parametrize("case,split,metric", [
    ("churn", "kfold", "PR-AUC"),            # small imbalanced binary table
    ("graph", "node_split", "accuracy"),
    ("lm", "holdout", "perplexity"),
    ("diffusion", "holdout", "FID"),
    ("timeseries", "time_based", "MAE"),
])
def test_eclipse_scheme_depends_on_modality_task_and_size(case, split, metric):
    reply = get_peer("ECLIPSE")(PLANS[case], {})
    assert reply.data["scheme"]["split"] == split
    assert reply.data["primary_metric"] == metric
    assert any("bootstrap" in i for i in reply.section("Uncertainty").items)


def test_eclipse_small_vs_large_tabular():
    small = plan("@tensor how to validate my classifier on 800 rows", intents=["evaluate"], modality="tabular",
                 constraints=[C("dataset_size", 800)])
    large = plan("@tensor how to validate my classifier on 2M rows", intents=["evaluate"], modality="tabular",
                 constraints=[C("dataset_size", 2_000_000)])
    s, l = get_peer("ECLIPSE")(small, {}), get_peer("ECLIPSE")(large, {})
    assert s.data["scheme"]["split"] == "kfold" and "stratified" in s.data["scheme"]["method"]
    assert l.data["scheme"]["split"] == "holdout" and l.data["scheme"]["fractions"][-1] < 0.05
    assert any("Calibration" in i for i in s.section("Checks").items)
    # the CI width shrinks with the test set
    assert s.data["ci_halfwidth_at_90pct"] > l.data["ci_halfwidth_at_90pct"]


def test_prism_checklist_per_modality_and_requested_first():
    churn = get_peer("PRISM")(PLANS["churn"], {})
    assert churn.data["requested_topics"] == ["imbalance"]
    titles = [s.title for s in churn.sections]
    assert titles[1] == "Class imbalance (requested)"
    text = churn.to_markdown()
    assert "Impute" in text and "target/ordinal encoding" in text
    image = get_peer("PRISM")(PLANS["cnn"], {}).to_markdown()
    assert "flip" in image and "perceptual hash" in image
    graph = get_peer("PRISM")(PLANS["graph"], {}).to_markdown()
    assert "homophily" in graph
    assert "contamination" in get_peer("PRISM")(PLANS["lm"], {}).to_markdown()


def test_velocity_uses_target_and_measured_numbers():
    reply = get_peer("VELOCITY")(PLANS["mobile"], {})
    assert reply.data["device"] == "mobile" and reply.data["latency_ms_target"] == 15
    assert any("15 ms" in i for i in reply.section("Target").items)
    assert any("distillation" in r.lower() for r in reply.recommendations)
    assert reply.section("Measured") is None

    report = _compression_report(before_ms=40.0, after_ms=12.0, before_b=4 * 2**20, after_b=2**20)
    measured = get_peer("VELOCITY")(PLANS["mobile"], {"results": {"compress_model": report}})
    items = "\n".join(measured.section("Measured").items)
    assert "40.00 → 12.00 ms" in items and "3.33x faster" in items
    assert "vs the 15 ms target: met" in items
    assert measured.data["measured"]["speedup"] == pytest.approx(40 / 12, rel=1e-3)
    slow = _compression_report(before_ms=40.0, after_ms=30.0, before_b=4 * 2**20, after_b=2**20)
    over = get_peer("VELOCITY")(PLANS["mobile"], {"results": {"compress_model": slow}})
    assert "2.0x over" in "\n".join(over.section("Measured").items)


def _compression_report(*, before_ms, after_ms, before_b, after_b) -> dict:
    """A compress_model result as the graph stores it (the compressor's own model when importable)."""
    stats = lambda ms, b, backend: dict(backend=backend, size_bytes=b, params=1000, nonzero_params=1000,
                                        sparsity=0.0, latency_ms_median=ms, batch_size=1, threads=1,
                                        metric_name="accuracy", metric=0.95)
    row = dict(technique="dynamic_int8", backend="onnxruntime-int8", before=stats(before_ms, before_b, "torch-fp32"),
               after=stats(after_ms, after_b, "onnxruntime-int8"), size_ratio=before_b / after_b,
               speedup=before_ms / after_ms, metric_drop_points=0.3, verdict=dict(met=True, checks=[], failures=[]),
               promoted=True)
    data = dict(techniques=["dynamic_int8"], results=[row], chosen=0, promoted=True, backend="onnxruntime-int8")
    try:
        from tensor_agent.tools.compress.report import CompressionReport
    except ImportError:
        return data
    return CompressionReport.model_validate(data).model_dump(mode="json")


@pytest.mark.parametrize("topics,settings,arch,topic,needle", [
    (["lora"], {}, "bert", "lora", "B A"),
    (["adamw"], {}, None, "adamw", "β₂"),
    (["lamb"], {}, None, "lamb", "trust ratio"),
    (["cosine_warm_restarts"], {}, None, "cosine_warm_restarts", "cos(π T_cur / T_i)"),
    ([], {"optimizer": "sgd"}, None, "sgd", "μ v_{t−1}"),
    ([], {"schedule": "step"}, None, "step", "γ^{⌊t / s⌋}"),
    (["diffusion"], {}, "diffusion", "diffusion", "ᾱ_t"),
    ([], {}, "gcn", "gnn", "D̃^{−½} Ã D̃^{−½}"),
    (["state_space"], {}, "mamba", "state_space", "h_t = Ā h_{t−1} + B̄ x_t"),
    (["distillation"], {}, None, "distillation", "T²"),
    (["quantization"], {}, None, "quantization", "round(x / s) + z"),
    (["attention"], {}, "vit", "attention", "√d_k"),
    ([], {}, "cnn", "convolution", "(H + 2p − k) / s"),
])
def test_axiom_picks_the_named_technique(topics, settings, arch, topic, needle):
    from tensor_agent.schema import TrainSettings

    p = plan("@tensor explain it", intents=["explain"], architecture=arch, topics=topics,
             settings=TrainSettings(**settings))
    reply = get_peer("AXIOM")(p, {})
    assert reply.data["topics"][0] == topic
    assert needle in reply.to_markdown()


def test_axiom_has_an_entry_for_every_topic_and_family():
    from tensor_agent.catalogue import FAMILIES
    from tensor_agent.peers.axiom import ENTRIES, FAMILY_TOPICS
    from tensor_agent.planner.topics import TOPIC_PATTERNS

    assert not set(TOPIC_PATTERNS) - set(ENTRIES), "topics without an AXIOM entry"
    assert set(FAMILY_TOPICS) == set(FAMILIES) and set(FAMILY_TOPICS.values()) <= set(ENTRIES)
    for name, e in ENTRIES.items():
        assert e["formulas"] and e["notes"] and len(e["trade_off"]) > 40 and e["when"], name
    for name in TOPIC_PATTERNS:  # each topic alone is answered with its own formulas and trade-off
        reply = get_peer("AXIOM")(plan("@tensor explain", intents=["explain"], topics=[name]), {})
        assert reply.data["topics"][0] == name and ENTRIES[name]["formulas"][0] in reply.to_markdown()
        assert ENTRIES[name]["trade_off"] in reply.to_markdown()


def test_axiom_answers_the_techniques_asked_about_and_compares_both_sides():
    """Acceptance (issue 12): the LAMB-vs-AdamW / cosine-with-restarts-vs-step question names both sides."""
    from tensor_agent.planner.topics import topics_of

    text = "@TENSOR explain cosine with restarts vs step decay, and LAMB vs AdamW"
    p = plan(text, intents=["explain"], topics=topics_of(text))
    assert p.topics == ["cosine_warm_restarts", "step", "lamb", "adamw"]
    reply = get_peer("AXIOM")(p, {})
    assert reply.data["comparisons"] == [{"a": "cosine_warm_restarts", "b": "step"}, {"a": "lamb", "b": "adamw"}]
    for a, b, fa, fb in (("Cosine annealing with warm restarts", "Step decay", "T_cur resets", "γ^{⌊t / s⌋}"),
                         ("LAMB", "AdamW", "trust ratio", "λ θ_{t−1} )")):
        vs = reply.section(f"{a}")
        assert vs is not None and " vs " in vs.title and b in vs.title
        both = "\n".join(vs.items)
        assert f"Choose {a} for" in both and f"choose {b} for" in both
        assert fa in reply.to_markdown() and fb in reply.to_markdown()
        assert a in reply.summary and b in reply.summary
    # the same plan fields with another message give the same answer (peers never read plan.text)
    other = get_peer("AXIOM")(p.model_copy(update={"text": "@TENSOR something else entirely"}), {})
    assert other.model_dump(exclude={"handoff_reason"}) == reply.model_dump(exclude={"handoff_reason"})


# ------------------------------------------------------------------------------------------------- registry
def test_unknown_peer_is_a_clear_error():
    with pytest.raises(InputError, match=r"unknown peer 'ORACLE' \(known: AXIOM, ECLIPSE, PRISM, VELOCITY\)"):
        get_peer("ORACLE")
    assert get_peer("@prism ").name == "PRISM"


def test_host_callable_replaces_and_unregisters():
    seen = {}

    def my_prism(p: Plan, context: dict) -> dict:
        seen["plan"], seen["context"] = p, context
        return {"summary": f"host prism for {p.modality}", "sections": {"Steps": ["dedupe", "impute"]}}

    register_peer("prism", my_prism)
    try:
        reply = run_peer("PRISM", PLANS["churn"], {"results": {"x": 1}, "reason": "clean it"})
        assert reply.summary == "host prism for tabular" and reply.peer == "PRISM"
        assert reply.sections[0].items == ["dedupe", "impute"]
        assert reply.source.startswith("host:") and reply.handoff_reason == "clean it"
        assert seen["context"]["results"] == {"x": 1}
        # a config dict wins over register_peer; a plain string reply becomes the summary
        cfg = get_peer("PRISM", config={"PRISM": lambda p, c: "config prism"})(PLANS["churn"], {})
        assert cfg.summary == "config prism" and cfg.source.startswith("config:")
    finally:
        unregister_peer("PRISM")
    assert get_peer("PRISM")(PLANS["churn"], {}).source == "stand-in"


def _write_module(tmp_path, monkeypatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return name


def test_env_spec_replaces_with_callable(tmp_path, monkeypatch):
    mod = _write_module(tmp_path, monkeypatch, "host_peers_fn", """
        def eclipse(plan, context):
            return {"summary": "host eclipse: " + (plan.modality or "none"), "recommendations": ["use 10-fold"]}
    """)
    monkeypatch.setenv("TENSOR_PEERS", f"ECLIPSE={mod}:eclipse")
    reply = get_peer("ECLIPSE")(PLANS["churn"], {})
    assert reply.summary == "host eclipse: tabular" and reply.recommendations == ["use 10-fold"]
    assert reply.source == f"env:{mod}:eclipse"
    assert get_peer("AXIOM")(PLANS["churn"], {}).source == "stand-in"  # others untouched


def _build_graph():
    from langgraph.graph import END, START, StateGraph

    class S(TypedDict, total=False):
        plan: dict
        text: str
        context: dict
        reply: dict

    def answer(state: S) -> dict:
        return {"reply": {"summary": f"graph velocity for {state['plan']['constraints'][0]['value']}",
                          "sections": [{"title": "Plan", "items": [state["text"][:20]]}],
                          "data": {"reason": state["context"].get("reason")}}}

    g = StateGraph(S)
    g.add_node("answer", answer)
    g.add_edge(START, "answer")
    g.add_edge("answer", END)
    return g.compile()


def test_compiled_langgraph_graph_replaces_peer(tmp_path, monkeypatch):
    graph = _build_graph()
    reply = get_peer("VELOCITY", config={"VELOCITY": graph})(PLANS["mobile"], {"reason": "speed"})
    assert reply.summary == "graph velocity for mobile"
    assert reply.sections[0].items == ["@TENSOR optimize mod"] and reply.data["reason"] == "speed"
    # a host module exposing a compiled graph, named by the env spec
    mod = _write_module(tmp_path, monkeypatch, "host_peers_graph", """
        from typing import TypedDict
        from langgraph.graph import END, START, StateGraph

        class S(TypedDict, total=False):
            plan: dict
            text: str
            context: dict
            messages: list

        def answer(state):
            return {"messages": [{"role": "assistant", "content": "graph says: quantize " + state["plan"]["intents"][0]}]}

        g = StateGraph(S)
        g.add_node("answer", answer)
        g.add_edge(START, "answer")
        g.add_edge("answer", END)
        graph = g.compile()
    """)
    monkeypatch.setenv("TENSOR_PEERS", f"PRISM=foo.bar:baz , VELOCITY={mod}:graph")
    runner = get_peer("VELOCITY")
    assert runner.is_graph and runner.source == f"env:{mod}:graph"
    assert runner(PLANS["mobile"], {}).summary == "graph says: quantize compress"


@pytest.mark.parametrize("spec,match", [
    ("PRISM", "bad entry 'PRISM'"),
    ("PRISM=", "bad entry"),
    ("ORACLE=json:dumps", "unknown peer 'ORACLE'"),
    ("PRISM=no_such_module_xyz:fn", "cannot import module 'no_such_module_xyz'"),
    ("PRISM=json:no_such_attr", "has no attribute 'no_such_attr'"),
    ("PRISM=json:__name__", "neither callable nor a LangGraph graph"),
    ("PRISM=json", "not an import spec"),
])
def test_bad_env_spec_is_a_clear_error(monkeypatch, spec, match):
    monkeypatch.setenv("TENSOR_PEERS", spec)
    with pytest.raises(InputError, match=match) as err:
        get_peer("PRISM")
    assert "TENSOR_PEERS" in str(err.value)


def test_parse_peer_spec():
    assert parse_peer_spec("prism=a.b:c, @eclipse=d:e;") == {"PRISM": "a.b:c", "ECLIPSE": "d:e"}


def test_broken_host_peers_are_reported_clearly():
    def boom(p, c):
        raise RuntimeError("server down")

    with pytest.raises(BackendUnavailable, match="peer AXIOM .* failed: RuntimeError: server down"):
        get_peer("AXIOM", config={"AXIOM": boom})(PLANS["cnn"], {})
    with pytest.raises(InputError, match="returned int"):
        get_peer("AXIOM", config={"AXIOM": lambda p, c: 42})(PLANS["cnn"], {})
    with pytest.raises(InputError, match="neither callable"):
        register_peer("AXIOM", 42)
    with pytest.raises(InputError, match="invalid plan"):
        get_peer("AXIOM")({"addressed": "maybe", "intents": ["dance"]}, {})


def test_import_is_light():
    code = ("import sys, tensor_agent.peers as p; p.get_peer('ECLIPSE'); "
            "print(any(m in sys.modules for m in ('langgraph', 'langchain_core', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------------- handoffs
@pytest.mark.parametrize("peer", PEERS)
def test_handoff_tool_returns_command(peer):
    from langgraph.types import Command

    from tensor_agent.peers.handoff import HANDOFF_TOOLS

    tool = HANDOFF_TOOLS[peer]
    assert tool.name == f"transfer_to_{peer.lower()}"
    assert tool.args["reason"]["description"]
    cmd = tool.invoke({"reason": "needs a look"})
    assert isinstance(cmd, Command) and cmd.goto == peer
    assert cmd.update == {"handoffs": [peer], "handoff_reasons": {peer: "needs a look"}}
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="reason"):  # the args model rejects a missing reason
        tool.invoke({})


def test_handoff_commands_route_a_real_graph():
    from langgraph.graph import START, StateGraph
    from langgraph.types import Command

    from tensor_agent.peers import handoff_tools

    tools = handoff_tools()

    class S(TypedDict, total=False):
        text: str
        handoffs: Annotated[list, operator.add]
        handoff_reasons: Annotated[dict, operator.or_]
        replies: Annotated[dict, operator.or_]

    def tensor(state: S) -> Command:
        return tools["ECLIPSE"].invoke({"reason": "validation scheme"})

    def make_peer(name):
        def node(state: S) -> dict:
            p = plan(state["text"], intents=["evaluate"])
            ctx = {"reason": state["handoff_reasons"][name]}
            return {"replies": {name: get_peer(name)(p, ctx).model_dump()}}
        return node

    g = StateGraph(S)
    g.add_node("tensor", tensor, destinations=tuple(PEERS))
    for name in PEERS:
        g.add_node(name, make_peer(name))
    g.add_edge(START, "tensor")
    out = g.compile().invoke({"text": "@tensor how should I evaluate my model?", "handoffs": [], "replies": {}})
    assert out["handoffs"] == ["ECLIPSE"] and list(out["replies"]) == ["ECLIPSE"]
    assert out["replies"]["ECLIPSE"]["handoff_reason"] == "validation scheme"


def test_eclipse_puts_a_confidence_interval_on_measured_accuracy():
    from tensor_agent.peers.eclipse import wilson_interval

    train = {"family": "cnn", "test_metrics": {"accuracy": 0.95}, "dataset_info": {"sizes": {"train": 1257,
                                                                                             "val": 180, "test": 360}}}
    reply = get_peer("ECLIPSE")(PLANS["cnn"], {"results": {"train_model": train}})
    lo, hi = reply.data["measured"]["ci95"]
    assert lo < 0.95 < hi and (hi - lo) == pytest.approx(2 * 1.96 * (0.95 * 0.05 / 360) ** 0.5, rel=0.1)
    assert reply.data["dataset_size"] == 1797 and reply.data["scheme"]["split"] == "kfold"
    assert "Measured by train_model" in reply.section("Uncertainty").items[0]
    # Wilson stays inside [0, 1] at the edges, where the normal approximation does not
    lo1, hi1 = wilson_interval(1.0, 20)
    assert hi1 == 1.0 and 0.8 < lo1 < 1.0


# ------------------------------------------------------------------------------------------------- real data
def _planted_csv(path):
    """A churn table with planted problems: 10% missing ages, missing plans, 7 duplicate rows, an ID column
    and a column derived from the target."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"customer_id": np.arange(1000, 1000 + n), "age": rng.integers(18, 80, n).astype(float),
                       "income": rng.normal(50, 10, n).round(2), "plan": rng.choice(["basic", "pro", "team"], n)})
    df["churn"] = (rng.random(n) < 0.3).astype(int)
    df["cancel_reason_code"] = np.where(df["churn"] == 1, rng.choice(["price", "service"], n), "none")  # leaks churn
    df.loc[rng.choice(np.arange(7, n), 30, replace=False), "age"] = np.nan   # the 7 duplicated rows stay complete
    df.loc[rng.choice(np.arange(7, n), 12, replace=False), "plan"] = np.nan
    df = pd.concat([df, df.iloc[:7]], ignore_index=True)
    df.to_csv(path, index=False)
    return path


def _data_plan(path, **kw):
    from tensor_agent.schema import DataSource

    return plan("@tensor analyse my CSV, how to prepare it", intents=["explain"], modality="tabular",
                data=DataSource(data_path=str(path), target_column="churn", source="option"), **kw)


def test_prism_profiles_the_file_and_finds_the_planted_problems(tmp_path):
    """Acceptance (issue 12): missing values, duplicate rows and a leaking column in a test CSV."""
    reply = get_peer("PRISM")(_data_plan(_planted_csv(tmp_path / "churn.csv")), {})
    prof = reply.data["profile"]
    miss = {c["name"]: c["missing"] for c in prof["columns"] if c["missing"]}
    assert miss == {"age": 30, "plan": 12}
    assert prof["duplicate_rows"] == 7
    assert [leak["column"] for leak in prof["leaks"]] == ["cancel_reason_code"]
    assert prof["id_like"] == ["customer_id"]
    import pandas as pd

    truth = pd.read_csv(tmp_path / "churn.csv")["churn"].value_counts()
    assert prof["class_balance"]["counts"] == {str(k): int(v) for k, v in truth.items()}
    steps = "\n".join(reply.data["steps"])
    for needle in ("Drop the 7 duplicate rows", "Drop 'cancel_reason_code'", "Impute numeric columns age",
                   "Fill categorical columns plan", "customer_id"):
        assert needle in steps
    assert reply.section("Missing values").items[0].startswith("'age' (numeric): 30 missing")
    assert "cancel_reason_code" in reply.summary and "7 duplicate rows" in reply.summary


def test_prism_on_a_clean_file_finds_nothing_and_missing_files_are_input_errors(tmp_path):
    import pandas as pd

    clean = tmp_path / "clean.csv"
    pd.DataFrame({"x": range(60), "z": [i % 7 for i in range(60)], "churn": [i % 2 for i in range(60)]}).to_csv(clean, index=False)
    prof = get_peer("PRISM")(_data_plan(clean), {}).data["profile"]
    assert prof["duplicate_rows"] == 0 and prof["leaks"] == [] and not any(c["missing"] for c in prof["columns"])
    with pytest.raises(InputError, match="data file not found"):
        get_peer("PRISM")(_data_plan(tmp_path / "nope.csv"), {})


def test_eclipse_without_a_model_reads_the_data_size_and_groups_from_the_file(tmp_path):
    reply = get_peer("ECLIPSE")(_data_plan(_planted_csv(tmp_path / "churn.csv")), {})
    assert reply.data["dataset_size"] == 307 and reply.data["evaluation"] is None
    assert reply.data["scheme"]["split"] == "kfold" and "group" in reply.data["scheme"]["method"]
    assert reply.data["primary_metric"] == "ROC-AUC"  # two classes read from the file


def test_velocity_plans_from_the_designs_measured_latency():
    design = {"family": "cnn", "latency_ms": 40.0, "size_mb": 8.0, "params": 2_000_000, "batch_size": 1, "threads": 1}
    reply = get_peer("VELOCITY")(PLANS["mobile"], {"results": {"design_architecture": design}})
    assert reply.data["numbers"]["source"] == "design_architecture"
    assert reply.data["gap"]["speedup_needed"] == pytest.approx(40 / 15, rel=1e-3)
    items = " ".join(reply.section("Measured this turn").items)
    assert "40 ms" in items and "2.7x speed-up needed" in items
    steps = reply.section("Optimisation plan").items
    assert steps[0].startswith("INT8 quantization") and any("Structured pruning" in s for s in steps)
    assert not any("distillation" in s.lower() for s in steps)   # a 2.7x gap does not call for a new student


def test_peers_decide_from_plan_fields_not_text(tmp_path):
    """Same plan fields, different message text: the same replies."""
    p = _data_plan(_planted_csv(tmp_path / "churn.csv"), topics=["class_imbalance", "lamb"])
    for peer in PEERS:
        a = get_peer(peer)(p, {})
        b = get_peer(peer)(p.model_copy(update={"text": "@tensor completely different words: images, gpu, lora"}), {})
        assert a.model_dump() == b.model_dump(), peer


def test_eclipse_says_when_the_current_model_cannot_be_measured(tmp_path):
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "handle.json").write_text("{not json")
    reply = get_peer("ECLIPSE")(PLANS["vague"], {"artifacts": {"model": {"path": str(bad)}}})
    assert reply.data["evaluation"] is None
    assert reply.sections[0].title == "Model not measured" and "Could not measure" in reply.summary
