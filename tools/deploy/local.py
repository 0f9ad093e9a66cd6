"""Target `local`: start the Docker context's app on 127.0.0.1 without Docker, so it can be tried at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.deploy.docker import build_context, curl_example
from tensor_agent.tools.deploy.registry import TargetResult, register_target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UnsatisfiableError(f"the local server exited with code {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise UnsatisfiableError(f"the local server did not answer {url}/health within {timeout_s:.0f} s")


def start_app(context: Path, port: int, log: Path) -> subprocess.Popen:
    """`python app.py` from the build context, detached from this process, logging to `log`."""
    env = {**os.environ, "MODEL_DIR": str(context), "THREADS": os.environ.get("THREADS", "1")}
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, str(context / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
                                cwd=str(context), env=env, stdout=fh, stderr=fh, stdin=subprocess.DEVNULL,
                                start_new_session=True)


@register_target("local")
def local_target(bundle, ctx, options: dict) -> TargetResult:
    context = build_context(bundle, Path(options["out_dir"]) / "docker")
    port = int(options.get("port") or free_port())
    url = f"http://127.0.0.1:{port}"
    log = Path(options["out_dir"]) / "local-server.log"
    proc = start_app(context, port, log)
    wait_healthy(url, proc)
    return TargetResult(target="local", ok=True, path=str(context), url=url, pid=proc.pid, files=[str(log)],
                        commands=[curl_example(bundle, url, context), f"curl -s {url}/metadata", f"kill {proc.pid}   # stop it"],
                        checks=[f"{url}/health answered"])
