"""tensor_agent.workspace: caches, configs and temp files under the workspace; telemetry off; the user's
own settings kept."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from tensor_agent.errors import InputError
from tensor_agent.workspace import DIRS, FLAGS, check_writable, is_inside, prepare_environment


@pytest.fixture
def clean_env(monkeypatch):
    for key in (*DIRS, *FLAGS):
        monkeypatch.delenv(key, raising=False)
    yield monkeypatch
    tempfile.tempdir = None


def test_everything_points_into_the_workspace(clean_env, tmp_path):
    ws = tmp_path / "ws"
    prepare_environment(ws)
    for key in DIRS:
        assert is_inside(os.environ[key], ws), (key, os.environ[key])
        assert os.path.isdir(os.environ[key])
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true" and os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert is_inside(tempfile.gettempdir(), ws)  # the cached temp dir follows TMPDIR


def test_user_settings_are_kept_and_a_new_workspace_replaces_only_ours(clean_env, tmp_path):
    clean_env.setenv("MPLCONFIGDIR", str(tmp_path / "mine"))
    clean_env.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    prepare_environment(tmp_path / "a")
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "mine")
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "false"
    assert is_inside(os.environ["XDG_CACHE_HOME"], tmp_path / "a")
    prepare_environment(tmp_path / "b")
    assert is_inside(os.environ["XDG_CACHE_HOME"], tmp_path / "b")
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "mine")


def test_cli_and_agent_prepare_the_environment(tmp_path):
    code = ("import os, sys\n"
            "from tensor_agent import TensorAgent\n"
            "TensorAgent(home=sys.argv[1])\n"
            "print(os.environ['MPLCONFIGDIR']); print(os.environ['TMPDIR'])\n")
    env = {k: v for k, v in os.environ.items() if k not in (*DIRS, "TENSOR_HOME")}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ws")], env=env, capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    assert all(is_inside(p, tmp_path / "ws") for p in out), out


def test_check_writable_names_the_workspace(tmp_path):
    assert check_writable(tmp_path / "new") == tmp_path / "new"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match=str(blocker)) as exc:
        check_writable(blocker / "ws")
    assert exc.value.exit_code == 2
