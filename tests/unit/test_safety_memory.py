"""memory import is atomic (every line validated first) and export never leaves half a file; real Chroma."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import pytest

from tensor_agent.memory.cli import main as memory_main

DIM = 384


def _row(i: int, **over) -> dict:
    from tensor_agent.memory.records import DesignRecord

    rec = DesignRecord(plan_text=f"design number {i}", modality="image", task="classification", family="cnn",
                       variant=f"v{i}", hparams={"channels": [8, i]}, params=float(1000 + i))
    body = {**asdict(rec), "kind": "design"}
    emb = [math.sin(i + k) for k in range(DIM)]
    row = {"id": rec.id, "kind": "design", "record": body, "embedding": emb}
    row.update(over)
    return row


def _write(path, rows, header=True):
    lines = [json.dumps({"format": "tensor-memory-export", "schema_version": 1})] if header else []
    lines += [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _ids(home) -> list[str]:
    from tensor_agent.config import Settings
    from tensor_agent.memory import open_memory

    mem = open_memory(Settings.from_env(home))
    try:
        return sorted(r["id"] for r in mem.list(limit=10_000))
    finally:
        mem.close()


def _bad_rows() -> dict[str, tuple[object, str]]:
    nan = _row(150)
    nan["embedding"][7] = float("nan")
    return {
        "nan_embedding": (json.dumps(nan), "finite"),
        "string_embedding": (_row(150, embedding=["0.1"] * DIM), "must be a number"),
        "short_embedding": (_row(150, embedding=[0.1] * 12), "expected 384"),
        "record_is_a_string": (_row(150, record="cnn"), "'record' must be an object"),
        "wrong_field_type": (_row(150, record={**_row(150)["record"], "family": 123}), "field 'family'"),
        "bad_kind": (_row(150, record={**_row(150)["record"], "kind": "spell"}), "kind must be"),
        "not_json": ("{this is not json", "not JSON"),
    }


@pytest.mark.parametrize("case", sorted(_bad_rows()))
def test_one_bad_line_in_the_middle_writes_nothing(home, tmp_path, capsys, case):
    good = _write(tmp_path / "good.jsonl", [_row(i) for i in range(5)])
    assert memory_main(["--home", str(home), "memory", "import", str(good)]) == 0
    before = _ids(home)
    assert len(before) == 5
    bad_line, expected = _bad_rows()[case]
    rows = [_row(i) for i in range(100, 150)] + [bad_line] + [_row(i) for i in range(151, 200)]
    bad = _write(tmp_path / "bad.jsonl", rows)
    capsys.readouterr()
    assert memory_main(["--home", str(home), "memory", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 52" in err and expected in err and "nothing was imported" in err, err
    assert "internal error" not in err
    assert _ids(home) == before  # the store is unchanged: not one of the 99 good lines was written


def test_binary_file_is_refused(home, tmp_path, capsys):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 10)
    assert memory_main(["--home", str(home), "memory", "import", str(blob)]) == 2
    err = capsys.readouterr().err
    assert "binary" in err and str(blob) in err


def test_export_to_a_directory_is_a_clear_error(home, tmp_path, capsys):
    good = _write(tmp_path / "good.jsonl", [_row(i) for i in range(3)])
    assert memory_main(["--home", str(home), "memory", "import", str(good)]) == 0
    target = tmp_path / "outdir"
    target.mkdir()
    capsys.readouterr()
    assert memory_main(["--home", str(home), "memory", "export", str(target)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert list(tmp_path.glob("*.tmp")) == [] and list(target.iterdir()) == []
    # and a real export round-trips through validation
    out = tmp_path / "again.jsonl"
    assert memory_main(["--home", str(home), "memory", "export", str(out)]) == 0
    from tensor_agent.memory.cli import validate_export

    assert validate_export(out) == 3 and list(tmp_path.glob("*.tmp")) == []
