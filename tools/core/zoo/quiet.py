"""Library noise off while building models (transformers/diffusers info, weight-loading bars, kernel
fall-back notices, deprecation warnings), unless TENSOR_VERBOSE=1 (the CLI's --verbose may set it)."""

from __future__ import annotations

import contextlib
import os
import warnings


def verbose() -> bool:
    return os.environ.get("TENSOR_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on")


@contextlib.contextmanager
def quiet_build():
    """Context for a model build: library loggers at ERROR, progress bars and warnings off."""
    if verbose():
        yield
        return
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # transformers is optional for non-text families
        pass
    try:
        from diffusers.utils import logging as df_logging

        df_logging.set_verbosity_error()
        df_logging.disable_progress_bar()
    except ImportError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
