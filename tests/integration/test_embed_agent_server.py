"""Agent Server route: `langgraph dev` serves langgraph.json on 127.0.0.1; real clients for runs, streaming, MCP and A2A.

Tracing, CLI analytics and every other outbound call are off (LANGSMITH_TRACING=false, ...): nothing
leaves the machine. Skipped only when the `langgraph` CLI (langgraph-cli[inmem], the test extra) is missing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # servers and training stay bounded
ROOT = Path(__file__).resolve().parents[2]
ASK = "how should I evaluate a churn model with 2k rows?"  # peer-only request: answers in about a second


def _cli() -> str | None:
    exe = Path(sys.executable).with_name("langgraph")
    return str(exe) if exe.exists() else shutil.which("langgraph")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    exe = _cli()
    if exe is None:
        pytest.skip("langgraph CLI not installed (pip install -e '.[test]' brings langgraph-cli[inmem])")
    try:
        import langgraph_api  # noqa: F401  (the in-memory server of `langgraph dev`)
    except ImportError:
        pytest.skip("langgraph-cli is installed without the [inmem] extra")
    work = tmp_path_factory.mktemp("agent-server")
    home = work / "ws"
    home.mkdir()
    port = _free_port()
    env = dict(os.environ, TENSOR_HOME=str(home), TENSOR_PLANNER="rules", LANGSMITH_TRACING="false",
               LANGCHAIN_TRACING_V2="false", LANGGRAPH_CLI_NO_ANALYTICS="1", LANGSMITH_API_KEY="")
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen([exe, "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port),
                             "--config", str(ROOT / "langgraph.json")], cwd=work, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/ok", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
            pytest.fail("langgraph dev did not start:\n" + (work / "server.log").read_text()[-3000:])
        time.sleep(0.5)
    yield base
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    log.close()


def test_runs_wait_answers_with_an_ai_message_named_tensor(server):
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=server)
    thread = client.threads.create()
    out = client.runs.wait(thread["thread_id"], "TENSOR", input={"messages": [{"role": "user", "content": ASK}]})
    last = out["messages"][-1]
    assert last["type"] == "ai" and last["name"] == "TENSOR" and "ECLIPSE" in last["content"]
    assert out["tensor"]["thread_id"] == thread["thread_id"]  # the server's thread is the run's thread
    assert last["additional_kwargs"]["tensor"]["plan"]["intents"] == ["evaluate"]


def test_streaming_updates_and_custom_progress(server):
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=server)
    events = [(p.event, p.data) for p in client.runs.stream(None, "TENSOR", input={"text": f"@TENSOR {ASK}"},
                                                             stream_mode=["updates", "custom"])]
    kinds = {e for e, _ in events}
    assert "updates" in kinds and "custom" in kinds, kinds
    assert any(e == "updates" and "respond" in (d or {}) for e, d in events)
    assert any(e == "custom" and d.get("event") == "progress" for e, d in events)


def test_mcp_lists_tensor_with_its_input_schema_and_calls_it(server):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def go():
        async with streamablehttp_client(f"{server}/mcp", timeout=30, sse_read_timeout=120) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                result = await session.call_tool("TENSOR", {"messages": ASK})
                return tools, result

    tools, result = asyncio.run(asyncio.wait_for(go(), 180))
    tensor = [t for t in tools if t.name == "TENSOR"]
    assert tensor, [t.name for t in tools]
    assert {"messages", "text"} <= set(tensor[0].inputSchema["properties"])
    assert "ML specialist" in (tensor[0].description or "")
    text = result.content[0].text
    assert not result.isError and "Plan: evaluate" in text and "stratified" in text and "'tensor'" in text


def test_a2a_message_send_with_a_text_part_completes(server):
    import httpx

    assistant = httpx.post(f"{server}/assistants/search", json={"graph_id": "TENSOR"}, timeout=30).json()[0]
    body = {"jsonrpc": "2.0", "id": "1", "method": "message/send",
            "params": {"message": {"role": "user", "messageId": "m1", "parts": [{"kind": "text", "text": ASK}]}}}
    reply = httpx.post(f"{server}/a2a/{assistant['assistant_id']}", json=body, timeout=120,
                       headers={"accept": "application/json"}).json()
    assert "error" not in reply, reply
    task = reply["result"]
    assert task["status"]["state"] == "completed"
    agent_text = " ".join(p.get("text", "") for m in task["history"] if m["role"] == "agent" for p in m["parts"])
    assert "ECLIPSE" in agent_text and "cross-validation" in agent_text
