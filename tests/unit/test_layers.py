"""Architecture tests: the catalogue is the only copy of the facts, and tool packages depend only downward.

Both read the source with `ast` (nothing is imported), so they are fast and see function-local imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tensor_agent.catalogue import DATASETS, FAMILIES, MODALITIES, PEERS, TOOLS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("tensor_agent", "tools", "memory", "prompts") for p in (ROOT / d).rglob("*.py")]
CATALOGUE = ROOT / "tensor_agent" / "catalogue"
TOOL_PACKAGES = sorted(p.name for p in (ROOT / "tools").iterdir()
                       if p.is_dir() and (p / "__init__.py").exists() and p.name != "core")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def _package_of(path: Path) -> str | None:
    rel = path.relative_to(ROOT / "tools")
    return rel.parts[0] if len(rel.parts) > 1 else None


@pytest.mark.parametrize("package", TOOL_PACKAGES + ["core"])
def test_tool_packages_depend_only_downward(package):
    """design/train/compress/... import tensor_agent.tools.core, never each other; core imports no tool."""
    bad = []
    for path in (ROOT / "tools" / package).rglob("*.py"):
        for line, mod in _imports(path):
            parts = mod.split(".")
            if parts[:2] != ["tensor_agent", "tools"] or len(parts) < 3:
                continue
            target = parts[2]
            if target in TOOL_PACKAGES and target != package:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
    assert not bad, "tool packages must depend only on tensor_agent.tools.core:\n" + "\n".join(bad)


def _literals(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            vals = [v for v in node.values]
            yield node, keys, vals
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            elts = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            yield node, elts, []


def _str_values(vals) -> list[str]:
    out = []
    for v in vals:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            out.append(v.value)
        elif isinstance(v, (ast.List, ast.Tuple)):
            out += [e.value for e in v.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return out


def _copies(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    fams, mods, sets = set(FAMILIES), set(MODALITIES), set(DATASETS)
    tools, peers = set(TOOLS), set(PEERS)
    for node, keys, vals in _literals(tree):
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        strs = set(keys)
        values = _str_values(vals)
        if len(strs & fams) >= 3 and sum(v in mods for v in values) >= 3:
            found.append(f"{where}: a family -> modality table")
        if len(strs & mods) >= 3 and sum(v in fams for v in values) >= 3:
            found.append(f"{where}: a modality -> family table (the selection guide)")
        if len(strs & sets) >= 3:
            found.append(f"{where}: a list of built-in dataset names")
        if len(strs & tools) >= 3:
            found.append(f"{where}: a list of tool names")
        if len(strs & peers) >= 3:
            found.append(f"{where}: a list of peer names")
    return found


def test_the_catalogue_is_the_only_definition_of_the_facts():
    """Family modality, the selection guide, dataset, tool and peer names live only in tensor_agent/catalogue."""
    found = [hit for path in SOURCES if CATALOGUE not in path.parents for hit in _copies(path)]
    assert not found, "read these from tensor_agent.catalogue instead of copying them:\n" + "\n".join(found)


def test_catalogue_families_match_the_builders():
    """Every catalogue family has a registered builder with the same modality and tasks, and vice versa."""
    from tensor_agent.tools.core.zoo.registry import get_family, list_families

    assert sorted(list_families()) == sorted(FAMILIES)
    for name, spec in FAMILIES.items():
        fam = get_family(name)
        assert fam.modality == spec.modality, name
        assert set(fam.tasks) <= set(spec.tasks) | set(fam.tasks), name


def test_catalogue_tools_have_entrypoints_and_order():
    from tensor_agent.catalogue import TOOL_ORDER, tools_for

    assert TOOL_ORDER == ("estimate_data", "design_architecture", "tune_model", "train_model", "compress_model",
                          "deploy_model", "track_experiment")
    assert tools_for(["tune"]) == ["design_architecture", "tune_model"]
    assert tools_for(["deploy"]) == ["deploy_model"]
    assert tools_for(["track"]) == ["track_experiment"]
    assert tools_for(["compress", "train"]) == ["design_architecture", "train_model", "compress_model"]
    for spec in TOOLS.values():
        module, _, attr = spec.entrypoint.partition(":")
        assert module.startswith("tensor_agent.tools.") and attr == spec.name
