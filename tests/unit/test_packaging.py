"""The wheel has one import root, `tensor_agent`, and carries every package directory."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPING = {"tensor_agent": ROOT / "tensor_agent", "tensor_agent.tools": ROOT / "tools",
           "tensor_agent.memory": ROOT / "memory", "tensor_agent.prompts": ROOT / "prompts"}


def _declared_packages() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = text[text.index("packages = ["):]
    block = block[:block.index("]")]
    return set(re.findall(r'"([\w.]+)"', block))


def _package_dirs() -> set[str]:
    found = set()
    for name, base in MAPPING.items():
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if "__pycache__" in rel.parts or "templates" in rel.parts:
                continue
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    return found


def test_every_package_directory_is_declared():
    missing = _package_dirs() - _declared_packages()
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return next(out.glob("tensor_agent-*.whl"))


def test_wheel_has_one_top_level_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"tensor_agent"}
    for sub in ("tensor_agent/tools/__init__.py", "tensor_agent/memory/__init__.py", "tensor_agent/prompts/__init__.py",
                "tensor_agent/graph.py", "tensor_agent/data/text_classification.jsonl"):
        assert sub in names, sub
    info = [n for n in names if n.endswith("top_level.txt")]
    if info:
        assert zipfile.ZipFile(wheel).read(info[0]).decode().split() == ["tensor_agent"]


def test_no_generic_top_level_imports():
    bad = []
    for py in ROOT.rglob("*.py"):
        if ".venv" in py.parts or "build" in py.parts:
            continue
        for n, line in enumerate(py.read_text(errors="replace").splitlines(), 1):
            if re.match(r"\s*(?:import|from)\s+(?:tools|memory|prompts)(?:\.|\s)", line):
                bad.append(f"{py.relative_to(ROOT)}:{n}")
    assert not bad, bad


def test_langgraph_json_points_at_the_compiled_graph():
    import json

    import importlib

    spec = json.loads((ROOT / "langgraph.json").read_text())
    entry = spec["graphs"]["TENSOR"]  # the graph id is the MCP tool / assistant name
    module, attr = entry["path"].split(":")
    assert attr == "graph" and entry["description"]
    assert type(getattr(importlib.import_module(module), attr)).__name__ == "CompiledStateGraph"
