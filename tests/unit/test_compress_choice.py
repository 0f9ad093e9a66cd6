"""Paired measurement and the back-end choice: faster only beyond the noise, else the smaller artifact."""

from __future__ import annotations

import random

import pytest

from tensor_agent.schema import Constraint, Plan


def _stats(size: int, metric: float = 0.95):
    from tensor_agent.tools.core.stats import ModelStats

    return ModelStats(backend="x", size_bytes=size, params=10, nonzero_params=10, sparsity=0.0, batch_size=32,
                      threads=1, metric_name="accuracy", metric=metric)


def _times(ms: float, n: int = 30, noise: float = 0.02, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [ms * (1 + rng.uniform(-noise, noise)) for _ in range(n)]


def _candidates(times: dict, sizes: dict, metric: dict | None = None):
    from tensor_agent.tools.compress.judge import make_result
    from tensor_agent.tools.compress.request import Goals
    from tensor_agent.tools.core.stats import paired_ratio

    results, finals = [], []
    for k in sizes:
        sp = paired_ratio(times["base"], times[k])
        results.append(make_result("dynamic_int8" if k == "torch" else "onnx_int8", k, _stats(4000),
                                   _stats(sizes[k], (metric or {}).get(k, 0.95)), Goals(), {}, {}, [], sp))
        finals.append((len(results) - 1, k))
    return results, finals


def test_paired_ratio_interval_and_units():
    from tensor_agent.tools.core.stats import fmt_bytes, paired_ratio

    iv = paired_ratio(_times(10.0), _times(5.0, seed=1))
    assert iv.low <= iv.value <= iv.high and 1.9 < iv.value < 2.1 and iv.excludes(1.0) and iv.rounds == 30
    same = paired_ratio([10.0] * 30, [9.0 + 2.0 * (i % 2) + 0.01 * i for i in range(30)])  # around 1, both sides
    assert not same.excludes(1.0) and same.low < 1.0 < same.high
    assert fmt_bytes(3160) == "3.16 KB" and fmt_bytes(385511) == "386 KB" and fmt_bytes(23.0e6) == "23.0 MB"
    assert fmt_bytes(512) == "512 B" and fmt_bytes(1.2e9) == "1.20 GB"
    with pytest.raises(ValueError):
        paired_ratio([1.0], [1.0, 2.0])


def test_faster_backend_wins_when_the_difference_exceeds_the_noise():
    from tensor_agent.tools.compress.choose import choose
    from tensor_agent.tools.compress.request import Goals

    times = {"base": _times(10.0), "torch": _times(6.0, seed=1), "onnx": _times(3.0, seed=2)}
    results, finals = _candidates(times, {"torch": 1500, "onnx": 1000})
    chosen, why = choose(results, finals, times, Goals())
    assert results[chosen].backend == "onnx"
    assert "beyond the measured noise" in " ".join(why) and "[" in why[0]
    # faster but bigger still wins when the difference is real
    results, finals = _candidates(times, {"torch": 900, "onnx": 1000})
    chosen, why = choose(results, finals, times, Goals())
    assert results[chosen].backend == "onnx"


def test_within_the_noise_the_smaller_artifact_wins_and_the_answer_says_why():
    from tensor_agent.tools.compress.choose import choose
    from tensor_agent.tools.compress.request import Goals

    times = {"base": _times(10.0, noise=0.3), "torch": _times(6.0, noise=0.3, seed=1),
             "onnx": _times(5.8, noise=0.3, seed=2)}
    results, finals = _candidates(times, {"torch": 1500, "onnx": 600})
    chosen, why = choose(results, finals, times, Goals(speed=True))
    assert results[chosen].backend == "onnx"
    results, finals = _candidates(times, {"torch": 600, "onnx": 1500})
    chosen, why = choose(results, finals, times, Goals(speed=True))
    assert results[chosen].backend == "torch"
    text = " ".join(why)
    assert "within the measured noise" in text and "smaller" in text


def test_a_faster_candidate_that_fails_is_named_with_its_failure():
    from tensor_agent.tools.compress.choose import choose
    from tensor_agent.tools.compress.request import Goals

    times = {"base": _times(10.0), "torch": _times(6.0, seed=1), "onnx": _times(2.0, seed=2)}
    results, finals = _candidates(times, {"torch": 1500, "onnx": 600}, metric={"onnx": 0.90})
    chosen, why = choose(results, finals, times, Goals())
    assert results[chosen].backend == "torch"
    assert any("measured faster" in w and "drop" in w for w in why)
    results, finals = _candidates(times, {"torch": 1500, "onnx": 600}, metric={"onnx": 0.90, "torch": 0.90})
    assert choose(results, finals, times, Goals())[0] is None


def _plan(text: str, techniques=(), **constraints) -> Plan:
    cs = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in constraints.items()]
    return Plan(addressed=True, intents=["compress"], tools=["compress_model"], constraints=cs, text=text,
                techniques=list(techniques))


def test_the_request_comes_from_plan_fields_never_the_text():
    from tensor_agent.tools.compress.request import read_request

    a = read_request(_plan("@TENSOR prune my model 50% for faster inference", ["pruning"], sparsity=0.5), {})
    b = read_request(_plan("@TENSOR something else entirely", ["pruning"], sparsity=0.5), {})
    assert a.techniques == b.techniques == ["pruning"] and a.sparsity == b.sparsity == 0.5
    assert a.goals == b.goals and not a.goals.speed and a.goals.sparsity == 0.5
    c = read_request(_plan("x", device="mobile", latency_ms=5.0, size_mb=2.0), {"runs": 3})
    assert c.auto and c.goals.speed and c.goals.latency_ms == 5.0 and c.goals.size_mb == 2.0 and c.runs == 3
    assert read_request(_plan("x", ["int8", "onnx"]), {}).techniques == ["int8", "onnx"]
    assert read_request(_plan("x", ["export"]), {}).export_only


@pytest.mark.parametrize("key,value", [("batch_size", 0), ("runs", 0), ("threads", 0), ("sparsity", 1.5),
                                       ("tolerance_points", -1), ("min_speedup", 0)])
def test_bad_options_are_rejected_not_coerced(key, value):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress.request import read_request

    with pytest.raises(InputError, match=key):
        read_request(_plan("x", ["int8"]), {key: value})


def test_a_follow_up_question_runs_nothing():
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress.request import read_request

    assert read_request(_plan("x", question="speed"), {}).followup == "speed"
    with pytest.raises(InputError, match="follow-up"):
        read_request(_plan("x", question="colour"), {})
