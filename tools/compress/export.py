"""Export: ONNX (with an ONNX Runtime parity check), TorchScript / torch.export, TorchServe archive."""

from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.core.runtime import first_output


from tensor_agent.tools.core.model_store import OnnxModel
from tensor_agent.tools.core.onnx_io import ExportResult, _quiet, export_onnx, onnx_parity  # noqa: F401


def export_torchscript(model, example_inputs: tuple, path: str | Path) -> ExportResult:
    """TorchScript (trace) with a parity check; falls back to torch.export (.pt2).

    Raises:
        UnsatisfiableError: neither works for this model.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    errors = []
    w = _quiet()
    try:
        try:
            with torch.no_grad():
                scripted = torch.jit.trace(model, tuple(example_inputs), check_trace=False, strict=False)
            p = path.with_suffix(".pt")
            scripted.save(str(p))
            loaded = torch.jit.load(str(p))
            with torch.no_grad():
                diff = float((first_output(loaded(*example_inputs)).float()
                              - first_output(model(*example_inputs)).float()).abs().max())
            return ExportResult("torchscript", str(p), "torch.jit.trace", diff, diff <= 1e-4)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"torch.jit.trace: {type(exc).__name__}: {str(exc)[:200]}")
        try:
            ep = torch.export.export(model, tuple(example_inputs))
            p = path.with_suffix(".pt2")
            torch.export.save(ep, str(p))
            loaded = torch.export.load(str(p)).module()
            with torch.no_grad():
                diff = float((first_output(loaded(*example_inputs)).float()
                              - first_output(model(*example_inputs)).float()).abs().max())
            return ExportResult("torch.export", str(p), "torch.export", diff, diff <= 1e-4)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"torch.export: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        w.__exit__(None, None, None)
    raise UnsatisfiableError(f"this model cannot be serialised as TorchScript or torch.export ({'; '.join(errors)})")


HANDLER_TEMPLATE = '''"""TorchServe-style handler written by @TENSOR's compressor."""
import json

import torch

try:  # inside TorchServe
    from ts.torch_handler.base_handler import BaseHandler
except ImportError:  # standalone use
    BaseHandler = object


class ClassifierHandler(BaseHandler):
    """Loads {model_file}, takes JSON lists of inputs shaped {shape}, returns class ids and probabilities."""

    def initialize(self, context=None):
        model_dir = context.system_properties.get("model_dir") if context is not None else "."
        self.model = torch.jit.load(f"{{model_dir}}/{model_file}").eval()
        self.initialized = True

    def preprocess(self, data):
        rows = [json.loads(d.get("body") or d.get("data")) if isinstance(d, dict) else d for d in data]
        return torch.tensor(rows, dtype=torch.{dtype})

    def inference(self, x):
        with torch.no_grad():
            return self.model(x)

    def postprocess(self, logits):
        probs = torch.softmax(logits, dim=-1)
        return [{{"class": int(p.argmax()), "probabilities": p.tolist()}} for p in probs]

    def handle(self, data, context=None):
        return self.postprocess(self.inference(self.preprocess(data)))
'''


def torchserve_archive(model, example_inputs: tuple, out_dir: str | Path, *, name: str = "model",
                       version: str = "1.0") -> dict[str, str]:
    """Write a TorchServe model archive (``<name>.mar``: TorchScript model, handler, MANIFEST).

    The archive has the layout ``torch-model-archiver`` produces (MAR-INF/MANIFEST.json), so
    ``torchserve --models <name>=<name>.mar`` can serve it. Single-input models only.
    """
    import torch

    if len(example_inputs) != 1:
        raise UnsatisfiableError("a TorchServe archive is written for single-input models only",
                                 hint="export to ONNX for multi-input models")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ts = export_torchscript(model, example_inputs, out_dir / "model.pt")
    if ts.format != "torchscript":
        raise UnsatisfiableError("a TorchServe archive needs a TorchScript model and tracing failed")
    x = example_inputs[0]
    handler = HANDLER_TEMPLATE.format(model_file="model.pt", shape=list(x.shape[1:]),
                                      dtype=str(x.dtype).replace("torch.", ""))
    (out_dir / "handler.py").write_text(handler)
    manifest = {"createdOn": "", "runtime": "python", "model": {"modelName": name, "serializedFile": "model.pt",
                                                                 "handler": "handler.py", "modelVersion": version},
                "archiverVersion": "tensor-agent"}
    mar = out_dir / f"{name}.mar"
    with zipfile.ZipFile(mar, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(ts.path, "model.pt")
        zf.write(out_dir / "handler.py", "handler.py")
        zf.writestr("MAR-INF/MANIFEST.json", json.dumps(manifest, indent=2))
    return {"archive": str(mar), "handler": str(out_dir / "handler.py"), "torchscript": ts.path}


class OnnxRuntimeModule(OnnxModel):
    """The model store's ONNX Runtime model, built from a file path (torch tensors in, torch tensor out).

    Picklable: it carries the ONNX bytes and re-creates the session when loaded.
    """

    def __init__(self, onnx_path: str, threads: int = 1):
        super().__init__(Path(onnx_path).read_bytes(), threads=threads, source_path=str(onnx_path))

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_session"] = None
        return state


def _portable_base():
    import torch

    return torch.nn.Module


class PortableModule(_portable_base()):
    """Wraps a module that cannot be pickled (an FX-converted INT8 GraphModule) so the model store can save it.

    In process it calls the wrapped module; when pickled it stores a TorchScript trace (made on
    `example_inputs`) and loads back as that TorchScript module.
    """

    def __init__(self, inner, example_inputs: tuple):
        super().__init__()
        self.inner = inner
        self._example = tuple(x[:1].clone() for x in example_inputs)

    def forward(self, *inputs):
        return self.inner(*inputs)

    def __getstate__(self):
        import io

        import torch

        buf = io.BytesIO()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inner = self.inner if isinstance(self.inner, torch.jit.ScriptModule) else \
                torch.jit.trace(self.inner.eval(), self._example, check_trace=False)
        torch.jit.save(inner, buf)
        return {"scripted": buf.getvalue(), "example": self._example}

    def __setstate__(self, state):
        import io

        import torch

        torch.nn.Module.__init__(self)
        self.inner = torch.jit.load(io.BytesIO(state["scripted"]))
        self._example = state["example"]
