"""Library noise off while building models (transformers/diffusers info, weight-loading bars, kernel
fall-back notices, deprecation warnings), unless TENSOR_VERBOSE=1 (the CLI's --verbose may set it).

Nothing is imported here: the libraries read the environment variables when a family imports them,
and the ones already imported are switched to ERROR directly.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

_ENV = {"TRANSFORMERS_VERBOSITY": "error", "DIFFUSERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}


def verbose() -> bool:
    return os.environ.get("TENSOR_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on")


def _silence_loaded() -> None:
    for name in ("transformers.utils.logging", "diffusers.utils.logging"):
        mod = sys.modules.get(name)
        if mod is not None:
            mod.set_verbosity_error()
            mod.disable_progress_bar()


@contextlib.contextmanager
def quiet_build():
    """Context for a model build: library loggers at ERROR, progress bars and warnings off."""
    if verbose():
        yield
        return
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    _silence_loaded()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
    _silence_loaded()
