"""A small scripted OpenAI-compatible HTTP server for tests (real sockets, real HTTP).

It serves ``POST /v1/chat/completions`` (and ``GET /v1/models``) on a free port of 127.0.0.1 from
a threaded :mod:`http.server`. Replies are taken from a FIFO queue of scripted :class:`Reply`
objects (or computed by ``server.responder(request_json)`` when the queue is empty); every request
is recorded so tests can assert what the client sent.

Example::

    with ScriptedLLMServer() as server:
        server.push_tool_call({"intents": ["design"], ...})
        server.push_error(500)
        server.push_slow(5.0)                      # longer than the client timeout
        server.push_trickle(5.0)                   # headers at once, then the body byte by byte
        server.push_content("this is not json")    # garbage in the message content
        server.push_raw("<html>oops</html>")       # garbage as the HTTP body
        ... Settings(llm_base_url=server.base_url) ...
        assert server.requests[0].json["tools"][0]["function"]["name"] == "submit_plan"

Load it from a test with ``importlib`` (tests/ is not a package), see ``load_llm_server`` in
tests/integration/test_llm_planner.py, or run it by hand::

    python tests/llm_server.py --port 8765   # answers every request with a fixed design plan
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

__all__ = ["RecordedRequest", "Reply", "ScriptedLLMServer", "chat_completion", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_ids = itertools.count(1)


def chat_completion(*, content: Optional[str] = None, tool_name: Optional[str] = None,
                    arguments: Optional[str] = None, model: str = "scripted") -> dict:
    """An OpenAI ``chat.completion`` object with either text content or one tool call."""
    n = next(_ids)
    message: dict[str, Any] = {"role": "assistant", "content": content}
    finish = "stop"
    if tool_name is not None:
        message["tool_calls"] = [{
            "id": f"call_{n}", "type": "function",
            "function": {"name": tool_name, "arguments": arguments or "{}"},
        }]
        finish = "tool_calls"
    return {
        "id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


@dataclass
class Reply:
    """One scripted answer.

    Attributes:
        status: HTTP status code.
        body: JSON-serialisable body (dict) or raw text/bytes sent as is.
        delay_s: Seconds to wait before answering (to exceed a client timeout).
        content_type: Content-Type header of the answer.
        trickle_s: Send the body one byte at a time, spread over this many seconds (each read
            is quick, so per-read timeouts never fire: only a total deadline stops it).
    """

    status: int = 200
    body: Any = None
    delay_s: float = 0.0
    content_type: str = "application/json"
    trickle_s: float = 0.0


@dataclass
class RecordedRequest:
    """What the client sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    received_at: float = field(default_factory=time.monotonic)


class _Handler(BaseHTTPRequestHandler):
    server: "_HTTPServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without NODELAY, Nagle plus the client's delayed
        # ACK add ~40 ms to every answer on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _record(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        req = RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                              body, parsed)
        with self.server.owner._lock:
            self.server.owner.requests.append(req)
        return req

    def _send(self, reply: Reply) -> None:
        owner = self.server.owner
        if reply.delay_s > 0 and owner._stopping.wait(reply.delay_s):
            return  # server stopping: drop the answer
        if isinstance(reply.body, (dict, list)):
            data = json.dumps(reply.body).encode()
        elif isinstance(reply.body, str):
            data = reply.body.encode()
        else:
            data = reply.body or b""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if reply.trickle_s > 0 and data:
                self.wfile.flush()
                pause = reply.trickle_s / len(data)
                for i in range(len(data)):
                    if owner._stopping.wait(pause):
                        break
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
            else:
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout) and closed the socket
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._record()
        if self.path.rstrip("/").endswith("/models"):
            self._send(Reply(body={"object": "list", "data": [
                {"id": "scripted", "object": "model", "created": 0, "owned_by": "tests"}]}))
        else:
            self._send(Reply(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}))

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        req = self._record()
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(Reply(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}))
            return
        self._send(self.server.owner._next_reply(req))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: "ScriptedLLMServer"


class ScriptedLLMServer:
    """A scripted OpenAI-compatible chat server; a context manager that starts and stops it.

    Args:
        port: Port to bind on 127.0.0.1 (0 = a free one).
        responder: Optional ``fn(request_json) -> Reply | dict`` used when the queue is empty;
            without one an empty queue answers HTTP 500 "no scripted reply".
    """

    def __init__(self, port: int = 0, responder: Optional[Callable[[Any], Any]] = None):
        self._port = port
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: Optional[_HTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> "ScriptedLLMServer":
        """Bind and serve in a background thread."""
        self._stopping.clear()
        self._httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.owner = self
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"llm-server-{self._port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed handlers and free the port."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "ScriptedLLMServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """The base URL to give an OpenAI client (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self._port}/v1"

    # ---- scripting -----------------------------------------------------------------------
    def push(self, reply: Reply) -> None:
        with self._lock:
            self._queue.append(reply)

    def push_tool_call(self, arguments: Any, *, name: str = "submit_plan", delay_s: float = 0.0) -> None:
        """Answer with one tool call; ``arguments`` is a dict (JSON-encoded) or a raw string."""
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        self.push(Reply(body=chat_completion(tool_name=name, arguments=args), delay_s=delay_s))

    def push_content(self, content: Any, *, delay_s: float = 0.0) -> None:
        """Answer with assistant text content (a dict is JSON-encoded: structured output)."""
        text = content if isinstance(content, str) else json.dumps(content)
        self.push(Reply(body=chat_completion(content=text), delay_s=delay_s))

    def push_error(self, status: int = 500, message: str = "internal error") -> None:
        """Answer with an HTTP error in OpenAI's error format."""
        self.push(Reply(status, {"error": {"message": message, "type": "server_error", "code": None}}))

    def push_raw(self, body: str | bytes, *, status: int = 200, content_type: str = "text/html") -> None:
        """Answer with an arbitrary body (garbage that is not a chat completion)."""
        self.push(Reply(status, body, content_type=content_type))

    def push_slow(self, delay_s: float, reply: Optional[Reply] = None) -> None:
        """Wait ``delay_s`` before answering (by default a valid but irrelevant completion)."""
        r = reply or Reply(body=chat_completion(content="{}"))
        r.delay_s = delay_s
        self.push(r)

    def push_trickle(self, seconds: float, reply: Optional[Reply] = None) -> None:
        """Answer at once but send the body byte by byte over ``seconds`` (a stalling endpoint)."""
        r = reply or Reply(body=chat_completion(content="{}"))
        r.trickle_s = seconds
        self.push(r)

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet."""
        with self._lock:
            return len(self._queue)

    def _next_reply(self, req: RecordedRequest) -> Reply:
        with self._lock:
            reply = self._queue.popleft() if self._queue else None
        if reply is not None:
            return reply
        if self.responder is not None:
            out = self.responder(req.json)
            return out if isinstance(out, Reply) else Reply(body=out)
        return Reply(500, {"error": {"message": "no scripted reply", "type": "server_error"}})


def _demo_responder(request: Any) -> dict:
    plan = {"intents": ["design"], "modality": "image", "architecture": "cnn", "peers": [],
            "constraints": [], "task": "classification", "clarification": None}
    return chat_completion(tool_name="submit_plan", arguments=json.dumps(plan))


if __name__ == "__main__":  # pragma: no cover - manual use
    import argparse

    ap = argparse.ArgumentParser(description="Scripted OpenAI-compatible server (always a design plan).")
    ap.add_argument("--port", type=int, default=8765)
    ns = ap.parse_args()
    with ScriptedLLMServer(ns.port, responder=_demo_responder) as srv:
        print(f"serving on {srv.base_url} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
