"""An OpenAI-compatible chat-completions server on loopback, with fault injection.

    with FakeOpenAI(replies=['{"text": "hi", "score": 0.5}'], faults=["429", "500"]) as api:
        ... model = "openai/fake", api_base = api.url ...

Each request takes the next fault, if any ("429", "500", "slow:SECONDS", "drop"), then
the next reply (a JSON string; "" for an empty reply). Every request body is kept in
`requests`. Requests are bounded: the server stops with the `with` block.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    def __init__(self, replies: Iterable[str] = (), faults: Iterable[str] = ()):
        self.replies = list(replies)
        self.faults = list(faults)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
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

    def _next(self) -> tuple[str | None, str]:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None and fault.startswith("slow"):
                reply = self.replies.pop(0) if self.replies else "{}"
                return fault, reply
            if fault is not None:
                return fault, ""
            return None, self.replies.pop(0) if self.replies else "{}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                fault, reply = fake._next()
                if fault == "drop":
                    self.connection.close()
                    return
                if fault in ("429", "500"):
                    self._send(
                        int(fault),
                        {
                            "error": {
                                "message": "rate limited" if fault == "429" else "server error",
                                "type": "rate_limit_error" if fault == "429" else "server_error",
                            }
                        },
                    )
                    return
                if fault is not None and fault.startswith("slow"):
                    time.sleep(float(fault.split(":")[1]))
                self._send(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": reply},
                            }
                        ],
                        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): nothing to answer

        return Handler
