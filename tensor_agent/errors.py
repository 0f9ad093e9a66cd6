"""User-facing errors. Anything raised as a `TensorError` is shown as a clear message, never a traceback.

Exit codes of the CLI (documented in the README):
    0  success
    1  an internal error (a bug: reported in one line, with TENSOR_DEBUG=1 for the traceback)
    2  bad usage or bad input (empty message, unreadable file, invalid option)
    3  the request cannot be satisfied (impossible constraints, unknown model, no model to act on)
    4  a back-end is unavailable (LLM endpoint, Chroma server, MLflow server)
"""

from __future__ import annotations


class TensorError(Exception):
    """Base class: a problem the user can act on. `hint` says what to change."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class InputError(TensorError, ValueError):
    """Bad input: the message, a file, an argument."""

    exit_code = 2


class UnsatisfiableError(TensorError):
    """The request is understood but cannot be met (constraints, unknown family, no model)."""

    exit_code = 3


class BackendUnavailable(TensorError):
    """An external back-end (LLM, Chroma server, MLflow server) cannot be reached."""

    exit_code = 4
