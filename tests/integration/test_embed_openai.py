"""`tensor-agent serve` on 127.0.0.1 with the official `openai` client: answers, streaming, threads, auth, limits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # servers and training stay bounded
EXE = str(Path(sys.executable).with_name("tensor-agent"))
KEY = "test-key-123"
ASK = "how should I evaluate a churn model with 2k rows?"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    import httpx

    work = tmp_path_factory.mktemp("serve")
    (work / "ws").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TENSOR_HOME=str(work / "ws"), TENSOR_PLANNER="rules", TENSOR_THREADS="1")
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    log = open(work / "serve.log", "wb")
    proc = subprocess.Popen([EXE, "serve", "--port", str(port), "--api-key", KEY, "--no-memory", "--max-body-kb", "64"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("serve did not start:\n" + (work / "serve.log").read_text()[-3000:])
        time.sleep(0.3)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture
def client(base_url):
    from openai import OpenAI

    return OpenAI(base_url=f"{base_url}/v1", api_key=KEY, timeout=600, max_retries=0)


def test_models_and_auth(base_url, client):
    import openai

    assert [m.id for m in client.models.list()] == ["tensor"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{base_url}/v1", api_key="wrong", max_retries=0).models.list()


def test_non_streaming_answer(client):
    reply = client.chat.completions.create(model="tensor", messages=[{"role": "user", "content": ASK}])
    text = reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop" and "ECLIPSE" in text and "Plan: evaluate" in text
    assert reply.model_extra["tensor"]["plan"]["intents"] == ["evaluate"]


def test_streaming_answer(client):
    stream = client.chat.completions.create(model="tensor", stream=True, user="streamer",
                                            messages=[{"role": "user", "content": "explain LoRA"}])
    parts, finish, progress = [], None, 0
    for chunk in stream:
        choice = chunk.choices[0]
        parts.append(choice.delta.content or "")
        finish = choice.finish_reason or finish
        progress += bool((chunk.model_extra or {}).get("tensor_progress"))
    text = "".join(parts)
    assert finish == "stop" and "AXIOM" in text and "LoRA" in text and progress >= 1


def test_two_turn_conversation_acts_on_the_same_model_and_threads_do_not_share(client):
    first = client.chat.completions.create(model="tensor", user="alice", messages=[
        {"role": "user", "content": "train a CNN on the digits dataset with 1 epoch"}])
    trained = first.model_extra["tensor"]["results"]["train_model"]
    assert first.model_extra["thread_id"] == "alice" and trained["test_metrics"]["accuracy"] > 0.2
    second = client.chat.completions.create(model="tensor", user="alice", messages=[
        {"role": "user", "content": "train a CNN on the digits dataset with 1 epoch"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "now quantize it"}])
    report = second.model_extra["tensor"]["results"]["compress_model"]
    assert report["source"].get("path") == trained["model_path"] or \
        report["source"].get("mlflow_run_id") == trained["mlflow_run_id"]
    other = client.chat.completions.create(model="tensor", messages=[{"role": "user", "content": "now quantize it"}],
                                           extra_headers={"X-Thread-Id": "bob"})
    assert other.model_extra["thread_id"] == "bob"
    assert "compress_model" in other.model_extra["tensor"]["errors"]  # bob's thread has no model


def test_bad_requests_are_clear_http_errors(base_url, client):
    import httpx
    import openai

    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": ASK}])
    with pytest.raises(openai.BadRequestError, match="user message"):
        client.chat.completions.create(model="tensor", messages=[{"role": "system", "content": "hi"}])
    big = httpx.post(f"{base_url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"}, timeout=30,
                     json={"model": "tensor", "messages": [{"role": "user", "content": "x" * 70_000}]})
    assert big.status_code == 413 and "65,536" in big.json()["error"]["message"]
    with pytest.raises(openai.BadRequestError, match="epochs"):
        client.chat.completions.create(model="tensor", messages=[{"role": "user", "content": ASK}],
                                       extra_body={"tensor_options": {"epochs": 0}})
