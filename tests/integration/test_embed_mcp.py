"""`tensor-agent mcp` with the official MCP Python client, over stdio and streamable HTTP (127.0.0.1)."""

from __future__ import annotations

import asyncio
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
EXPECTED = {"ask", "plan", "design", "train", "compress", "estimate", "memory_search", "fitness"}


def _env(home: Path) -> dict:
    return dict(os.environ, TENSOR_HOME=str(home), TENSOR_PLANNER="rules", TENSOR_THREADS="1")


def _stdio(home: Path):
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    return stdio_client(StdioServerParameters(command=EXE, args=["mcp", "--no-memory"], env=_env(home)))


async def _session_run(transport, body):
    from mcp import ClientSession

    async with transport as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            return await body(session)


def _run(coro, timeout: float = 240):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _list_plan_design(session):
    tools = {t.name: t for t in (await session.list_tools()).tools}
    plan = await session.call_tool("plan", {"message": "train a CNN on the digits dataset"})
    design = await session.call_tool("design", {"request": "design a CNN for 8x8 digit images", "thread_id": "d"})
    return tools, plan, design


def _check_list_plan_design(tools, plan, design):
    assert EXPECTED <= set(tools), sorted(tools)
    train = tools["train"].inputSchema
    assert train["required"] == ["request"]
    assert train["properties"]["epochs"]["anyOf"][0]["type"] == "integer"
    assert all(p.get("description") for p in train["properties"].values())
    assert not plan.isError and plan.structuredContent["intents"] == ["train"]
    assert plan.structuredContent["architecture"] == "cnn"
    assert not design.isError, design.content[0].text
    assert design.structuredContent["family"] == "cnn" and design.structuredContent["params"] > 0


def test_stdio_lists_tools_plans_and_designs(home):
    _check_list_plan_design(*_run(_session_run(_stdio(home), _list_plan_design)))


def test_stdio_training_sends_progress_notifications(home):
    progress: list[tuple[float, str]] = []

    async def body(session):
        async def on_progress(value, total, message):
            progress.append((value, message or ""))

        trained = await session.call_tool("train", {"request": "train a CNN on the digits dataset", "dataset": "digits",
                                                    "epochs": 1, "thread_id": "t"}, progress_callback=on_progress)
        again = await session.call_tool("compress", {"request": "now quantize it", "thread_id": "other"})
        return trained, again

    trained, other = _run(_session_run(_stdio(home), body))
    assert not trained.isError, trained.content[0].text
    assert trained.structuredContent["test_metrics"]["accuracy"] > 0.2
    assert progress and [v for v, _ in progress] == sorted(v for v, _ in progress)
    assert any("train_model" in m for _, m in progress), progress
    assert any("epoch 1/1" in m for _, m in progress), progress
    assert other.isError and "no model" in other.content[0].text  # another thread has no model


def test_stdio_failure_is_a_tool_error_with_exit_code(home):
    async def body(session):
        return await session.call_tool("train", {"request": "train a CNN on digits", "epochs": 0})

    res = _run(_session_run(_stdio(home), body))
    assert res.isError and "exit 2" in res.content[0].text and "epochs" in res.content[0].text


def test_streamable_http_lists_tools_plans_and_designs(home, tmp_path):
    from mcp.client.streamable_http import streamablehttp_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "mcp.log", "wb")
    proc = subprocess.Popen([EXE, "mcp", "--http", str(port), "--no-memory"], env=_env(home), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("mcp --http did not start:\n" + (tmp_path / "mcp.log").read_text()[-3000:])
                time.sleep(0.3)
        url = f"http://127.0.0.1:{port}/mcp"
        _check_list_plan_design(*_run(_session_run(streamablehttp_client(url, timeout=30), _list_plan_design)))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
