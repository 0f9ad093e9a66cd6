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
