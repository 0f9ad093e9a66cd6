"""Shared fixtures. Every test gets its own workspace (TENSOR_HOME) and runs offline."""

from __future__ import annotations

import os

import pytest

# Offline, deterministic, and gentle on a 2-core machine.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh workspace directory used as TENSOR_HOME for the test."""
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.setenv("TENSOR_HOME", str(ws))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("TENSOR_CHROMA_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("TENSOR_PLANNER", "rules")
    return ws


@pytest.fixture
def settings(home):
    from tensor_agent.config import Settings

    return Settings.from_env()


@pytest.fixture
def ctx(settings, request):
    """A ToolContext on a fresh workspace and a thread of its own."""
    from tensor_agent.tools.core.context import ToolContext

    return ToolContext(settings=settings, thread_id=f"t-{request.node.name}", progress=False)
