"""A tool error crosses the worker's pipe with its class of answer intact (message, hint, exit code, payload)."""

from __future__ import annotations

import json

from tensor_agent.errors import InputError, TensorError, UnsatisfiableError
from tensor_agent.toolworker import _describe, _rebuild


def _roundtrip(exc: BaseException) -> Exception:
    return _rebuild(json.loads(json.dumps(_describe(exc))))


def test_tensor_errors_keep_message_hint_code_and_payload():
    for exc in (InputError("bad file", hint="check it"), UnsatisfiableError("too small")):
        exc.payload = {"family": "cnn"} if isinstance(exc, UnsatisfiableError) else None
        got = _roundtrip(exc)
        assert isinstance(got, TensorError)
        assert (got.message, got.hint, got.exit_code, str(got)) == (exc.message, exc.hint, exc.exit_code, str(exc))
        assert getattr(got, "payload", None) == exc.payload


def test_internal_errors_keep_their_type_name_and_text():
    got = _roundtrip(KeyError("missing"))
    assert not isinstance(got, TensorError)
    assert type(got).__name__ == "KeyError" and str(got) == str(KeyError("missing"))


def test_tools_marked_torch_free_import_without_torch():
    """The catalogue's `uses_torch=False` tools (no tool worker for them) load without torch."""
    import subprocess
    import sys

    from tensor_agent.catalogue import TOOLS
    from tensor_agent.cli import _uses_torch

    free = [t for t in TOOLS.values() if not t.uses_torch]
    assert {t.name for t in free} == {"estimate_data", "track_experiment"}
    assert _uses_torch(["design_architecture"]) and not _uses_torch([t.name for t in free] + ["recall"])
    code = ("import importlib, sys; " + "; ".join(f"importlib.import_module({t.entrypoint.split(':')[0]!r})"
                                                 for t in free) + "; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
