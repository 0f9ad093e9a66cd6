"""The chat server's request parsing and limits (thread mapping, concurrency 429, body 413, auth 401) in process."""

from __future__ import annotations

import asyncio
import time

import pytest

from tensor_agent.serve.app import ApiError, ServerConfig, create_app, parse_request

BODY = {"model": "tensor", "messages": [{"role": "user", "content": "explain LoRA"}]}


def test_thread_comes_from_header_then_user_then_fresh():
    assert parse_request({**BODY, "user": "alice"}, {"x-thread-id": "h1"})[1] == "h1"
    assert parse_request({**BODY, "user": "alice"}, {})[1] == "alice"
    a, b = parse_request(BODY, {})[1], parse_request(BODY, {})[1]
    assert a != b and a.startswith("chat-")  # no id: a thread of its own, never shared


def test_last_user_message_with_text_parts_is_the_request():
    body = {"model": "TENSOR", "messages": [{"role": "user", "content": "old"}, {"role": "assistant", "content": "x"},
                                            {"role": "user", "content": [{"type": "text", "text": "new one"}]}]}
    assert parse_request(body, {})[0] == "new one"
    with pytest.raises(ApiError, match="tensor_options"):
        parse_request({**BODY, "tensor_options": [1]}, {})


def test_concurrency_bound_auth_and_body_limit(home):
    import httpx

    app = create_app(ServerConfig(home=str(home), api_key="k", max_body_bytes=2000, max_concurrency=1,
                                  remember=False))
    real_run = app.state.runner.run

    def slow_run(*args, **kwargs):
        time.sleep(1.5)
        return real_run(*args, **kwargs)

    app.state.runner.run = slow_run
    auth = {"Authorization": "Bearer k"}

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as c:
            first = asyncio.create_task(c.post("/v1/chat/completions", json=BODY, headers=auth))
            await asyncio.sleep(0.3)
            busy = await c.post("/v1/chat/completions", json=BODY, headers=auth)
            done = await first
            noauth = await c.get("/v1/models")
            big = await c.post("/v1/chat/completions", headers=auth,
                               json={**BODY, "messages": [{"role": "user", "content": "x" * 5000}]})
            return done, busy, noauth, big

    done, busy, noauth, big = asyncio.run(go())
    assert done.status_code == 200 and "AXIOM" in done.json()["choices"][0]["message"]["content"]
    assert busy.status_code == 429 and busy.headers["retry-after"] and busy.json()["error"]["code"] == "busy"
    assert noauth.status_code == 401 and big.status_code == 413
