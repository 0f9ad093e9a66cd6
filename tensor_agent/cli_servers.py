"""CLI subcommands that serve @TENSOR to other programs: `tensor-agent serve` and `tensor-agent mcp`.

Registered by tensor_agent.cli (one call to :func:`add_server_parsers`); the servers import their
libraries only when the command runs.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

SERVE_EXAMPLES = """examples:
  tensor-agent serve --port 8000                      # http://127.0.0.1:8000/v1 (OpenAI-compatible)
  TENSOR_API_KEY=secret tensor-agent serve --port 8000 --max-concurrency 2
"""
MCP_EXAMPLES = """examples:
  tensor-agent mcp                 # stdio (for Claude Desktop, Cursor, langchain-mcp-adapters, ...)
  tensor-agent mcp --http 8765     # streamable HTTP at http://127.0.0.1:8765/mcp
"""


def cmd_serve(args: argparse.Namespace) -> int:
    from tensor_agent.errors import InputError
    from tensor_agent.serve.app import ServerConfig, run_server

    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} is not a TCP port (1-65535)")
    config = ServerConfig(home=args.home, api_key=args.api_key or os.environ.get("TENSOR_API_KEY") or None,
                          max_body_bytes=args.max_body_kb * 1024, max_concurrency=args.max_concurrency,
                          remember=not args.no_memory)
    return run_server(config, host=args.host, port=args.port)


def cmd_mcp(args: argparse.Namespace) -> int:
    from tensor_agent.errors import InputError
    from tensor_agent.mcp_server import serve

    if args.http is not None and not 0 < args.http < 65536:
        raise InputError(f"--http {args.http} is not a TCP port (1-65535)")
    return serve(args.home, http_port=args.http, host=args.host, remember=not args.no_memory)


def add_server_parsers(sub: Any) -> None:
    """Add `serve` and `mcp` to the `tensor-agent` subcommands."""
    serve = sub.add_parser("serve", help="OpenAI-compatible chat server (/v1/chat/completions, /v1/models)",
                           description="Serve @TENSOR as an OpenAI-compatible chat API. The conversation is the "
                                       "thread named by the X-Thread-Id header, else the request's `user` field.",
                           epilog=SERVE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    serve.add_argument("--api-key", default=None,
                       help="require 'Authorization: Bearer KEY' (default: $TENSOR_API_KEY; none: no auth)")
    serve.add_argument("--max-body-kb", type=int, default=1024, help="largest request body in KiB (default: 1024)")
    serve.add_argument("--max-concurrency", type=int, default=2,
                       help="requests answered at once; more get HTTP 429 (default: 2)")
    serve.add_argument("--no-memory", action="store_true", help="do not record turns in the vector memory")
    serve.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    mcp = sub.add_parser("mcp", help="MCP server of the tools (stdio, or streamable HTTP with --http PORT)",
                         description="Serve ask, plan, design, train, compress, estimate, tune, deploy, track, "
                                     "memory_search and fitness as MCP tools (official MCP SDK).",
                         epilog=MCP_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    mcp.add_argument("--http", type=int, default=None, metavar="PORT", help="serve streamable HTTP on PORT at /mcp")
    mcp.add_argument("--host", default="127.0.0.1", help="interface for --http (default: 127.0.0.1)")
    mcp.add_argument("--no-memory", action="store_true", help="do not record turns in the vector memory")
    mcp.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    mcp.set_defaults(func=cmd_mcp)
