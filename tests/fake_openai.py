"""An OpenAI-compatible chat-completions server on loopback that behaves like a provider:
it counts tokens with its own tokenizer, honours `max_tokens` (cutting the reply and
saying `finish_reason: length`), reports its own `usage`, and injects faults.

    with FakeOpenAI(replies=['{"text": "hi", "score": 0.5}'], faults=["429", "500"]) as api:
        ... model = "openai/fake", api_base = api.url ...

Each request takes the next fault, if any, then the next reply (a JSON string; "" for an
empty reply; a callable gets the request body and returns the text). Faults:

- "429", "429:retry-after=SECONDS", "500", "503", "400", "401", "404": that error reply;
- "drop": the connection is closed with no reply;
- "slow:SECONDS": the reply comes after that long;
- "no-choices": a 200 reply with an empty `choices` list;
- "no-usage": a reply without `usage`;
- "cut": a streamed reply whose connection closes after its first half.

A request with `stream: true` is answered with server-sent events, as OpenAI streams:
the reply in chunks of a few tokens, a chunk with the `finish_reason`, then, when
`stream_options.include_usage` asks for it, a last chunk with no choices and the
`usage`, then `data: [DONE]`. The body is sent with chunked transfer encoding, a chunk
at a time, so a client sees the first tokens before the last are written.

Its tokenizer is not ours: a chat template (`<|im_start|>ROLE\\n ... <|im_end|>`, each
marker one token) whose text is cut into words, numbers and single punctuation marks.
Every request body is kept in `requests`, with its arrival time in `arrivals`. The
server stops with the `with` block.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def prompt_tokens(body: dict[str, Any]) -> int:
    """The request's prompt in this server's tokens: its chat template, its tools."""
    total = 1  # the assistant turn's opening marker
    for message in body.get("messages", []):
        content = message.get("content") or ""
        if not isinstance(content, str):
            content = json.dumps(content)
        total += 3 + count_tokens(str(message.get("role", ""))) + count_tokens(content)
        for call in message.get("tool_calls") or []:
            total += count_tokens(json.dumps(call))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"]))
    return total


def cut_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` with at most `limit` tokens."""
    for index, match in enumerate(_TOKEN.finditer(text)):
        if index == limit:
            return text[: match.start()]
    return text


def stream_pieces(text: str, tokens: int = 3) -> list[str]:
    """`text` cut into pieces of `tokens` tokens (with the spaces before them), as a
    provider streams it; "" is one empty piece."""
    starts = [match.start() for match in _TOKEN.finditer(text)][::tokens]
    if not starts:
        return [text]
    starts[0] = 0
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


class FakeOpenAI:
    def __init__(
        self,
        replies: Iterable[Reply] = (),
        faults: Iterable[str | None] = (),
        default: Reply = "{}",
    ):
        self.replies = list(replies)
        self.faults = list(faults)
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.usage: list[tuple[int, int]] = []  # what it reported, per reply
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def reported_tokens(self) -> int:
        return sum(i + o for i, o in self.usage)

    def _next(self, body: dict[str, Any]) -> tuple[str | None, str]:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None and not fault.startswith(("slow", "no-", "cut")):
                return fault, ""
            reply = self.replies.pop(0) if self.replies else self.default
        return fault, reply(body) if callable(reply) else reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.arrivals.append(time.monotonic())
                fault, reply = fake._next(body)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault is not None and fault[:3].isdigit():
                    self._error(fault)
                    return
                if fault is not None and fault.startswith("slow"):
                    time.sleep(float(fault.split(":")[1]))
                self._complete(body, reply, fault)

            def _error(self, fault: str) -> None:
                status = int(fault[:3])
                headers = {}
                if "retry-after=" in fault:
                    headers["retry-after"] = fault.split("retry-after=")[1]
                kinds = {
                    400: "invalid_request_error",
                    401: "authentication_error",
                    404: "not_found_error",
                    429: "rate_limit_error",
                }
                self._send(
                    status,
                    {"error": {"message": f"fault {status}", "type": kinds.get(status, "server")}},
                    headers,
                )

            def _complete(self, body: dict[str, Any], reply: str, fault: str | None) -> None:
                finish = "stop"
                limit = body.get("max_tokens")
                if isinstance(limit, int) and count_tokens(reply) > limit:
                    reply, finish = cut_to_tokens(reply, limit), "length"
                usage = (prompt_tokens(body), count_tokens(reply))
                with fake._lock:
                    fake.usage.append(usage)
                if body.get("stream"):
                    self._stream(body, reply, finish, usage, fault)
                    return
                payload: dict[str, Any] = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "fake"),
                    "choices": []
                    if fault == "no-choices"
                    else [
                        {
                            "index": 0,
                            "finish_reason": finish,
                            "message": {"role": "assistant", "content": reply},
                        }
                    ],
                }
                if fault != "no-usage":
                    payload["usage"] = {
                        "prompt_tokens": usage[0],
                        "completion_tokens": usage[1],
                        "total_tokens": sum(usage),
                    }
                self._send(200, payload)

            def _stream(
                self,
                body: dict[str, Any],
                reply: str,
                finish: str,
                usage: tuple[int, int],
                fault: str | None,
            ) -> None:
                """The reply as server-sent events, a few tokens per chunk."""

                def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
                    return {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body.get("model", "fake"),
                        "choices": choices,
                        **extra,
                    }

                pieces = stream_pieces(reply)
                events = [
                    chunk(
                        []
                        if fault == "no-choices"
                        else [
                            {
                                "index": 0,
                                "delta": {"role": "assistant", "content": piece}
                                if index == 0
                                else {"content": piece},
                                "finish_reason": None,
                            }
                        ]
                    )
                    for index, piece in enumerate(pieces)
                ]
                if fault != "no-choices":
                    events.append(chunk([{"index": 0, "delta": {}, "finish_reason": finish}]))
                wants_usage = (body.get("stream_options") or {}).get("include_usage")
                if wants_usage and fault != "no-usage":
                    events.append(
                        chunk(
                            [],
                            usage={
                                "prompt_tokens": usage[0],
                                "completion_tokens": usage[1],
                                "total_tokens": sum(usage),
                            },
                        )
                    )
                lines = [f"data: {json.dumps(event)}\n\n" for event in events]
                lines.append("data: [DONE]\n\n")
                if fault == "cut":  # half the reply, then the connection drops
                    lines = lines[: max(1, len(pieces) // 2)]
                try:
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for line in lines:
                        data = line.encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    if fault == "cut":
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client gave up (a timeout, a cancelled call)

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): nothing to answer

        return Handler
