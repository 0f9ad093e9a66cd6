"""Device selection for training: CUDA, then Apple MPS, then CPU; `TENSOR_DEVICE` overrides.

`select_device()` returns a `DeviceInfo` (cheap to report: name, kind, mixed precision); torch is
imported only when a device is actually selected. Mixed precision (bfloat16 autocast, or float16
with a gradient scaler where bfloat16 is not supported) is on for CUDA only.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Optional

from tensor_agent.errors import BackendUnavailable, InputError

ENV = "TENSOR_DEVICE"
_VALID = re.compile(r"^(cpu|mps|cuda(:\d+)?|auto)$")


@dataclass(frozen=True)
class DeviceInfo:
    """The device a training runs on."""

    device: str            # torch device string: cpu, mps, cuda, cuda:1
    kind: str              # cpu | mps | cuda
    name: str              # human-readable (GPU name or "CPU")
    amp: bool              # mixed precision on
    amp_dtype: Optional[str]  # bfloat16 | float16 | None
    source: str            # auto | TENSOR_DEVICE

    def describe(self) -> str:
        amp = f", mixed precision {self.amp_dtype}" if self.amp else ""
        how = " (TENSOR_DEVICE)" if self.source == ENV else ""
        return f"{self.device} [{self.name}]{amp}{how}"

    def as_dict(self) -> dict:
        return asdict(self)


def _requested(override: Optional[str]) -> tuple[str, str]:
    raw = override if override is not None else os.environ.get(ENV, "")
    val = (raw or "").strip().lower()
    if not val:
        return "auto", "auto"
    if not _VALID.match(val):
        raise InputError(f"invalid {ENV}={raw!r}: expected cpu, cuda, cuda:N, mps or auto",
                         hint=f"unset {ENV} to choose automatically (CUDA, then MPS, then CPU)")
    return val, (ENV if override is None else "option")


def select_device(override: Optional[str] = None) -> DeviceInfo:
    """CUDA if available, else MPS, else CPU; `override` or `TENSOR_DEVICE` forces one.

    Raises:
        InputError (exit 2): a malformed TENSOR_DEVICE value.
        BackendUnavailable (exit 4): the forced device is not available on this machine.
    """
    import torch

    want, source = _requested(override)
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if want == "auto":
        want = "cuda" if cuda_ok else ("mps" if mps_ok else "cpu")
    kind = want.split(":")[0]
    if kind == "cuda":
        if not cuda_ok:
            raise BackendUnavailable(f"{ENV}={want}: no CUDA device on this machine", hint=f"set {ENV}=cpu or unset it")
        idx = int(want.split(":")[1]) if ":" in want else 0
        if idx >= torch.cuda.device_count():
            raise BackendUnavailable(f"{ENV}={want}: only {torch.cuda.device_count()} CUDA device(s)")
        bf16 = torch.cuda.is_bf16_supported()
        return DeviceInfo(want, "cuda", torch.cuda.get_device_name(idx), True, "bfloat16" if bf16 else "float16",
                          source)
    if kind == "mps":
        if not mps_ok:
            raise BackendUnavailable(f"{ENV}=mps: MPS is not available on this machine", hint=f"set {ENV}=cpu")
        return DeviceInfo("mps", "mps", "Apple MPS", False, None, source)
    return DeviceInfo("cpu", "cpu", "CPU", False, None, source)


def autocast(info: DeviceInfo):
    """A context manager for the forward pass: CUDA autocast when mixed precision is on, else a no-op."""
    import contextlib

    if not info.amp:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type="cuda", dtype=getattr(torch, info.amp_dtype or "bfloat16"))


def grad_scaler(info: DeviceInfo):
    """A GradScaler for float16 mixed precision, else None (bfloat16 and fp32 need none)."""
    if not (info.amp and info.amp_dtype == "float16"):
        return None
    import torch

    return torch.amp.GradScaler("cuda")
