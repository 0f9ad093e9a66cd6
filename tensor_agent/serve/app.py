"""OpenAI-compatible chat API of @TENSOR: `tensor-agent serve --port P`.

    POST /v1/chat/completions   {"model": "tensor", "messages": [...], "stream": false, "user": "alice"}
    GET  /v1/models

- The request is the last `user` message (text or text parts); earlier turns live in the thread.
- Conversation -> thread: the `X-Thread-Id` header, else the `user` field, else a fresh thread per
  request (so two clients without an id never share a model). The thread is the same one
  `tensor-agent ask --thread ID` uses in this workspace.
- Options: `tensor_options` in the body (openai client: `extra_body={"tensor_options": {"epochs": 1}}`).
- The answer is the assistant message; the structured Result rides along as `tensor` in the response.
- Streaming (`stream: true`): progress chunks (empty delta, `tensor_progress` field) while the work runs,
  then the answer, then `finish_reason: "stop"` and `[DONE]`.
- Optional bearer token (`--api-key` or TENSOR_API_KEY): 401 without it. Bounded request body
  (413) and concurrency (429 with Retry-After when busy).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Optional

MODEL_ID = "tensor"
MODEL_ALIASES = {"tensor", "tensor-agent", "@tensor"}
MAX_THREAD_ID = 200


@dataclass
class ServerConfig:
    """Settings of the chat server."""

    home: Optional[str] = None          # workspace (default TENSOR_HOME)
    api_key: Optional[str] = None       # bearer token; None: no auth
    max_body_bytes: int = 1024 * 1024   # largest request body
    max_concurrency: int = 2            # requests answered at once; more get 429
    remember: bool = True               # record turns in the vector memory


class ApiError(Exception):
    """An HTTP error in the OpenAI error format."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: Any = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code

    def response(self):
        from starlette.responses import JSONResponse

        headers = {"Retry-After": "5"} if self.status == 429 else None
        return JSONResponse({"error": {"message": self.message, "type": self.kind, "code": self.code, "param": None}},
                            status_code=self.status, headers=headers)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def parse_request(body: dict, headers: Any) -> tuple[str, str, dict, bool]:
    """(request text, thread id, options, stream) of a chat-completions body; ApiError (400/404) if invalid."""
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    model = str(body.get("model") or MODEL_ID)
    if model.lower() not in MODEL_ALIASES:
        raise ApiError(404, f"model '{model}' does not exist; use '{MODEL_ID}'", code="model_not_found")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list of {role, content}")
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    text = _text(users[-1].get("content")).strip() if users else ""
    if not text:
        raise ApiError(400, "no user message with text content: the last user message is the request")
    thread = headers.get("x-thread-id") or body.get("user") or f"chat-{uuid.uuid4().hex[:12]}"
    thread = str(thread).strip()
    if not thread or len(thread) > MAX_THREAD_ID:
        raise ApiError(400, f"thread id must be 1-{MAX_THREAD_ID} characters (X-Thread-Id header or 'user')")
    options = body.get("tensor_options") or {}
    if not isinstance(options, dict):
        raise ApiError(400, "'tensor_options' must be an object, e.g. {\"epochs\": 1}")
    return text, thread, options, bool(body.get("stream"))


def _completion(result, thread: str, cid: str) -> dict:
    return {"id": cid, "object": "chat.completion", "created": int(time.time()), "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": result.message},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "thread_id": thread, "tensor": result.model_dump(mode="json")}


def _chunk(cid: str, delta: dict, finish: Optional[str] = None, **extra: Any) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, default=str)}\n\n"


def create_app(config: Optional[ServerConfig] = None):
    """The Starlette application (routes, auth, limits) around a GraphRunner."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    from tensor_agent.errors import TensorError
    from tensor_agent.serve.runner import GraphRunner

    config = config or ServerConfig()
    runner = GraphRunner(config.home, remember=config.remember)
    slots = asyncio.Semaphore(max(1, config.max_concurrency))

    def check_auth(request: Request) -> None:
        if config.api_key and request.headers.get("authorization", "") != f"Bearer {config.api_key}":
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer <TENSOR_API_KEY>)",
                           kind="authentication_error", code="invalid_api_key")

    async def read_json(request: Request) -> Any:
        size = request.headers.get("content-length")
        if size and size.isdigit() and int(size) > config.max_body_bytes:
            raise ApiError(413, f"request body over {config.max_body_bytes:,} bytes")
        data = bytearray()
        async for part in request.stream():
            data += part
            if len(data) > config.max_body_bytes:
                raise ApiError(413, f"request body over {config.max_body_bytes:,} bytes")
        try:
            return json.loads(bytes(data) or b"null")
        except ValueError as exc:
            raise ApiError(400, f"the body is not JSON: {exc}") from exc

    def run(text: str, thread: str, options: dict, on_progress=None):
        try:
            return runner.run(text, thread, options=options, on_progress=on_progress)
        except TensorError as exc:
            raise ApiError(400, str(exc), code=exc.exit_code) from exc

    async def models(request: Request):
        try:
            check_auth(request)
        except ApiError as err:
            return err.response()
        return JSONResponse({"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                                          "owned_by": "tensor-agent"}]})

    async def chat(request: Request):
        try:
            check_auth(request)
            text, thread, options, stream = parse_request(await read_json(request), request.headers)
            if slots.locked():
                raise ApiError(429, f"busy: {config.max_concurrency} requests are being answered; retry shortly",
                               kind="rate_limit_error", code="busy")
            await slots.acquire()
        except ApiError as err:
            return err.response()
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if not stream:
            try:
                result = await asyncio.get_running_loop().run_in_executor(None, run, text, thread, options)
                return JSONResponse(_completion(result, thread, cid), headers={"X-Thread-Id": thread})
            except ApiError as err:
                return err.response()
            finally:
                slots.release()
        return StreamingResponse(_stream(text, thread, options, cid), media_type="text/event-stream",
                                 headers={"X-Thread-Id": thread, "Cache-Control": "no-cache"})

    async def _stream(text: str, thread: str, options: dict, cid: str) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        try:
            future = loop.run_in_executor(None, run, text, thread, options,
                                          lambda e: loop.call_soon_threadsafe(events.put_nowait, e))
            yield _chunk(cid, {"role": "assistant", "content": ""})
            while not (future.done() and events.empty()):
                try:
                    event = await asyncio.wait_for(events.get(), timeout=2.0)
                except asyncio.TimeoutError:
                    event = {"event": "progress", "status": "working"}  # keeps proxies and clients waiting
                yield _chunk(cid, {}, tensor_progress=event)
            try:
                result = future.result()
            except ApiError as err:
                yield _chunk(cid, {"content": f"error: {err.message}"}, "stop", error={"message": err.message,
                                                                                        "code": err.code})
                yield "data: [DONE]\n\n"
                return
            for line in result.message.splitlines(keepends=True):
                yield _chunk(cid, {"content": line})
            yield _chunk(cid, {}, "stop", thread_id=thread, tensor=result.model_dump(mode="json"))
            yield "data: [DONE]\n\n"
        finally:
            slots.release()

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        runner.close()

    async def health(request: Request):
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/v1/models", models, methods=["GET"]),
                            Route("/v1/chat/completions", chat, methods=["POST"]),
                            Route("/health", health, methods=["GET"])], lifespan=lifespan)
    app.state.runner = runner
    return app


def run_server(config: ServerConfig, *, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until interrupted."""
    import sys

    import uvicorn

    print(f"@TENSOR OpenAI-compatible API on http://{host}:{port}/v1 (model '{MODEL_ID}')"
          + (", bearer token required" if config.api_key else ""), file=sys.stderr, flush=True)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", limit_concurrency=64)
    return 0
