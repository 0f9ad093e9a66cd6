"""Target `docker`: a build context (pinned slim base, non-root) with the model and a small HTTP app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tensor_agent.tools.deploy.common import TEMPLATES, copy_bundle, image_name, requirements
from tensor_agent.tools.deploy.registry import TargetResult, register_target

BASE_IMAGE = "python:3.11.7-slim"
DOCKERFILE = """# Built by tensor-agent: serves {name} ({fmt}) on port 8080.
FROM {base}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MODEL_DIR=/app THREADS=1
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=app:app . .
USER app
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health')"
CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8080", "--no-access-log"]
"""


def build_context(bundle, dest: Path) -> Path:
    """Write the Docker build context into `dest` (idempotent) and return it."""
    copy_bundle(bundle, dest)
    shutil.copyfile(TEMPLATES / "serve_app.py", dest / "app.py")
    (dest / "requirements.txt").write_text("\n".join(requirements(bundle)) + "\n", encoding="utf-8")
    (dest / "Dockerfile").write_text(DOCKERFILE.format(name=bundle.metadata["name"], fmt=bundle.format,
                                                       base=BASE_IMAGE), encoding="utf-8")
    (dest / ".dockerignore").write_text("*.log\n__pycache__/\nrequest.json\n", encoding="utf-8")
    (dest / "request.json").write_text(json.dumps(example_request(bundle)), encoding="utf-8")
    return dest


def example_request(bundle) -> dict:
    return {"texts": ["example text"]} if bundle.metadata.get("tokenizer") else {"inputs": bundle.example}


def curl_example(bundle, url: str = "http://127.0.0.1:8080", context: Path | None = None) -> str:
    where = f"{context}/request.json" if context else "request.json"
    return f"curl -s -X POST {url}/predict -H 'Content-Type: application/json' -d @{where}"


@register_target("docker")
def docker_target(bundle, ctx, options: dict) -> TargetResult:
    dest = build_context(bundle, Path(options["out_dir"]) / "docker")
    image = image_name(bundle)
    return TargetResult(
        target="docker", ok=True, path=str(dest), files=sorted(str(p) for p in dest.iterdir()),
        commands=[f"docker build -t {image}:1 {dest}", f"docker run --rm -p 8080:8080 {image}:1",
                  curl_example(bundle, context=dest),
                  f"tensor-agent deploy --run --model-path {bundle.handle.path or '<model dir>'}   # same app, no Docker"],
        checks=[f"base image {BASE_IMAGE}, non-root user 'app', requirements pinned to the tested versions",
                f"model served as {bundle.format}" + (f" (parity {bundle.parity:.2g})" if bundle.parity is not None else "")])
