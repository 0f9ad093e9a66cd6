"""Target `torchserve`: a .mar built with torch-model-archiver around the project's own handler."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tensor_agent.errors import BackendUnavailable, UnsatisfiableError
from tensor_agent.tools.deploy.common import TEMPLATES, copy_bundle
from tensor_agent.tools.deploy.registry import TargetResult, register_target


def _archiver() -> list[str]:
    exe = shutil.which("torch-model-archiver") or str(Path(sys.executable).with_name("torch-model-archiver"))
    if not Path(exe).exists():
        raise BackendUnavailable("torch-model-archiver is not installed",
                                 hint="pip install torch-model-archiver (the 'deploy' extra of tensor-agent)")
    return [exe]


def build_mar(bundle, dest: Path, name: str) -> Path:
    """Stage the files, run torch-model-archiver, check the archive; returns the .mar path."""
    stage = dest / "stage"
    files = copy_bundle(bundle, stage)
    shutil.copyfile(TEMPLATES / "ts_handler.py", stage / "handler.py")
    extra = [str(p) for p in files if p.name != bundle.model_file]
    cmd = _archiver() + ["--model-name", name, "--version", "1.0", "--serialized-file", str(stage / bundle.model_file),
                         "--handler", str(stage / "handler.py"), "--export-path", str(dest), "--force"]
    if extra:
        cmd += ["--extra-files", ",".join(extra)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    mar = dest / f"{name}.mar"
    if proc.returncode != 0 or not mar.exists():
        raise UnsatisfiableError(f"torch-model-archiver failed: {(proc.stderr or proc.stdout).strip()[-400:]}")
    with zipfile.ZipFile(mar) as z:
        names = set(z.namelist())
    missing = {"MAR-INF/MANIFEST.json", "handler.py", bundle.model_file, "metadata.json"} - names
    if missing:
        raise UnsatisfiableError(f"{mar} lacks {', '.join(sorted(missing))}")
    return mar


@register_target("torchserve")
def torchserve_target(bundle, ctx, options: dict) -> TargetResult:
    dest = Path(options["out_dir"]) / "torchserve"
    name = bundle.metadata["name"].replace("_", "-")
    mar = build_mar(bundle, dest, name)
    return TargetResult(
        target="torchserve", ok=True, path=str(mar), files=[str(mar)],
        commands=[f"torchserve --start --ncs --disable-token-auth --model-store {dest} --models {name}={mar.name}",
                  f"curl -s -X POST http://127.0.0.1:8080/predictions/{name} -H 'Content-Type: application/json' "
                  "-d @request.json", "torchserve --stop"],
        checks=["archive holds MAR-INF/MANIFEST.json, handler.py, the model and metadata.json"])
