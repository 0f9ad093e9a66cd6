"""The code-generation back-end registry: framework name -> back-end (timm-style register/get)."""

from __future__ import annotations

import importlib
import pkgutil
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Protocol

from tensor_agent.errors import UnsatisfiableError


class CodegenBackend(Protocol):
    """What a back-end provides."""

    framework: str
    suffix: str

    def families(self) -> set[str]:
        """Families this back-end can write."""

    def render(self, design: Any, handle: Any = None) -> str:
        """Source text for `design` (the built `handle` when the caller has it)."""


@dataclass
class CodeResult:
    """What `write_code` wrote."""

    path: Path
    framework: str
    note: Optional[str] = None


CODEGEN_BACKENDS: dict[str, CodegenBackend] = {}
_ALIASES = {"torch": "pytorch", "py-torch": "pytorch", "tf": "keras", "tensorflow": "keras", "tf.keras": "keras",
            "jax": "flax", "scikit-learn": "sklearn", "scikit_learn": "sklearn"}
_LOADED = False
_LOCK = threading.RLock()


def register_backend(framework: str) -> Callable[[type], type]:
    """Class decorator: register a back-end class (instantiated once) under `framework`."""

    def deco(cls: type) -> type:
        inst = cls()
        inst.framework = framework
        CODEGEN_BACKENDS[framework] = inst
        return cls

    return deco


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    with _LOCK:
        if _LOADED:
            return
        import tensor_agent.tools.design.codegen.pytorch  # noqa: F401 - registers "pytorch"
        from tensor_agent.tools.design.codegen import frameworks

        for info in pkgutil.iter_modules(frameworks.__path__):
            importlib.import_module(f"{frameworks.__name__}.{info.name}")
        _LOADED = True


def canonical_framework(name: Optional[str]) -> str:
    key = (name or "pytorch").strip().lower()
    return _ALIASES.get(key, key)


def get_backend(framework: Optional[str]) -> Optional[CodegenBackend]:
    """The back-end for `framework` (None: pytorch), or None when none is registered."""
    _load()
    return CODEGEN_BACKENDS.get(canonical_framework(framework))


def write_code(design: Any, code_dir: str | Path, *, framework: Optional[str] = None, handle: Any = None) -> CodeResult:
    """Write the design's code in `framework` (default pytorch) to `code_dir/<family>_<variant><suffix>`.

    When no back-end is registered for the framework asked for, or it cannot write this family, the code
    is written in PyTorch and `note` says so plainly.

    Raises:
        UnsatisfiableError: no back-end can write this family at all.
    """
    fam = design.family if hasattr(design, "family") else design["family"]
    variant = design.variant if hasattr(design, "variant") else design.get("variant", "")
    want = canonical_framework(framework)
    backend = get_backend(want)
    note = None
    if backend is None or fam not in backend.families():
        torch_backend = get_backend("pytorch")
        have = ", ".join(sorted(CODEGEN_BACKENDS))
        if backend is None:
            note = (f"you asked for {framework}: there is no {framework} code generator here (available: {have}); "
                    f"the code below is PyTorch")
        else:
            note = f"the {want} generator cannot write family {fam!r}; the code below is PyTorch"
        backend = torch_backend
        if want == "pytorch":
            note = None
    if fam not in backend.families():
        raise UnsatisfiableError(f"no code generator can write family {fam!r} (pytorch writes: "
                                 f"{', '.join(sorted(backend.families()))})", hint="design another family")
    src = backend.render(design, handle)
    out = Path(code_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{fam}_{variant}".strip("_")).lower()
    if backend.framework != "pytorch":
        name += f"_{backend.framework}"
    path = out / f"{name}{backend.suffix}"
    path.write_text(src)
    return CodeResult(path=path, framework=backend.framework, note=note)
