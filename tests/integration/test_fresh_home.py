"""Everything under the workspace, nothing on the network: a fresh HOME, a guard, four real CLI steps.

The CLI runs in a subprocess whose `sitecustomize` (a guard on PYTHONPATH, inherited by any child Python):

* refuses and records every non-loopback `socket.connect` and every DNS lookup of a non-local name;
* records, through an audit hook, every file or directory written outside TENSOR_HOME (byte-compiled
  `__pycache__` files next to installed sources excepted; /dev, /proc, /sys excepted).

It runs a design, a one-epoch training on digits, an INT8 compression of that model and a memory search
with HOME pointing at an empty temporary directory and TMPDIR unset. Afterwards: no guard record, and the
temporary HOME is still empty (this also catches native libraries writing caches under ~ such as
ONNX Runtime's ~/.cache/Microsoft or matplotlib's ~/.config/matplotlib).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tensor_agent.workspace import DIRS, FLAGS

pytestmark = pytest.mark.integration

GUARD = r'''
import json, os, socket, sys

_LOG = os.environ.get("TENSOR_GUARD_LOG")
_ROOTS = [os.path.realpath(p) for p in os.environ.get("TENSOR_GUARD_ALLOW", "").split(os.pathsep) if p]
_SYSTEM = ("/dev/", "/proc/", "/sys/")


def _record(kind, what):
    with open(_LOG, "a") as fh:
        fh.write(json.dumps({"kind": kind, "what": str(what), "pid": os.getpid()}) + "\n")


def _loopback(host):
    return host in ("localhost", "", None) or (isinstance(host, str) and (host.startswith("127.") or host == "::1"))


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _record("connect", address)
        raise ConnectionRefusedError(f"guard: non-loopback connection to {address} refused")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    h = host.decode() if isinstance(host, bytes) else host
    if not _loopback(h):
        _record("dns", h)
        raise socket.gaierror(f"guard: DNS lookup of {h!r} refused")
    return _getaddrinfo(host, *args, **kwargs)


def _audit(event, args):
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            (isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)))
    elif event == "os.mkdir":
        path, writing = args[0], True
    elif event in ("os.rename", "os.replace", "shutil.copyfile", "shutil.copytree"):
        path, writing = args[1], True
    else:
        return
    if not writing or not isinstance(path, (str, bytes, os.PathLike)):
        return
    p = os.path.realpath(os.fsdecode(path))
    if "/__pycache__/" in p or p == _LOG or p.startswith(_SYSTEM):
        return
    if any(p == r or p.startswith(r + os.sep) for r in _ROOTS):
        return
    _record("write", p)


if _LOG:
    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
    sys.addaudithook(_audit)
'''

RUNNER = r'''
import contextlib, io, json, sys, time
from tensor_agent.cli import main

for argv in json.loads(sys.argv[1]):
    t = time.time()
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    print("STEP" + json.dumps({"argv": argv, "code": code, "s": round(time.time() - t, 1),
                               "err": err.getvalue()[-1500:], "out": out.getvalue()[-1500:]}), flush=True)
'''

STEPS = [
    ["ask", "@TENSOR design CNN architecture for image classification", "--thread", "t1"],
    ["ask", "@TENSOR train a CNN on the digits dataset", "--set", "epochs=1", "--thread", "t1"],
    ["ask", "@TENSOR now quantize it to int8 for cpu inference", "--set", "technique=onnx_int8", "--thread", "t1"],
    ["memory", "search", "cnn for digits"],
]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_fresh_home_writes_only_the_workspace_and_stays_offline(tmp_path):
    home, ws, guard = tmp_path / "home", tmp_path / "ws", tmp_path / "guard"
    home.mkdir()
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "guard.log"
    # a fresh machine: none of the variables the workspace sets (an earlier test in this pytest process may
    # have imported torch._dynamo, which writes TORCHINDUCTOR_CACHE_DIR=/tmp/torchinductor_<user> into os.environ)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TENSOR_", "MLFLOW_", "XDG_", "HF_", "OPENAI_")) and k not in DIRS and k not in FLAGS}
    env.update({"HOME": str(home), "TENSOR_HOME": str(ws), "TENSOR_PLANNER": "rules", "TENSOR_THREADS": "1",
                "PYTHONPATH": str(guard), "TENSOR_GUARD_LOG": str(log), "TENSOR_GUARD_ALLOW": str(ws)})
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(STEPS)], env=env, capture_output=True,
                          text=True, timeout=900, cwd=tmp_path)
    steps = [json.loads(line[4:]) for line in proc.stdout.splitlines() if line.startswith("STEP")]
    assert len(steps) == len(STEPS), proc.stderr[-3000:]
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert records == [], "network or writes outside TENSOR_HOME:\n" + "\n".join(map(json.dumps, records[:30]))
    assert _files(home) == [], f"files written under the fresh HOME: {_files(home)[:30]}"
    for step in steps:
        assert step["code"] == 0, step
    assert "digits" in steps[-1]["out"] or "cnn" in steps[-1]["out"], steps[-1]
    assert (ws / "models").is_dir() and any((ws / "models").iterdir())


def test_the_guard_catches_network_and_stray_writes(tmp_path):
    """The guard itself can fail: a DNS lookup, a connection and a write under ~ are all recorded."""
    guard, ws, log = tmp_path / "guard", tmp_path / "ws", tmp_path / "guard.log"
    guard.mkdir()
    ws.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    code = ("import os, socket\n"
            "for f in (lambda: socket.getaddrinfo('example.org', 80), "
            "lambda: socket.socket().connect(('10.255.255.1', 9))):\n"
            "    try:\n        f()\n    except OSError:\n        pass\n"
            "open(os.path.join(os.environ['HOME'], 'stray.txt'), 'w').write('x')\n"
            "open(os.path.join(os.environ['TENSOR_HOME'], 'fine.txt'), 'w').write('x')\n")
    env = {**os.environ, "HOME": str(tmp_path), "TENSOR_HOME": str(ws), "PYTHONPATH": str(guard),
           "TENSOR_GUARD_LOG": str(log), "TENSOR_GUARD_ALLOW": str(ws)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    kinds = sorted({json.loads(line)["kind"] for line in log.read_text().splitlines()})
    assert kinds == ["connect", "dns", "write"], kinds
    assert not any("fine.txt" in line for line in log.read_text().splitlines())
