"""A real HTTP server on 127.0.0.1 that replays recorded responses, for the ingest tests.

Routes map a path to a list of responses served in turn (the last one repeats). A response can be delayed
(to trip the client's timeout) or cut off. Every request (GET, or POST with its body) is logged with its time,
query and headers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    content_type: str = "application/xml; charset=utf-8"

    @classmethod
    def fixture(cls, name: str, **kwargs) -> Reply:
        """A recorded response from tests/fixtures."""
        path = FIXTURES / name
        kind = "application/json" if path.suffix == ".json" else "application/xml; charset=utf-8"
        return cls(body=path.read_bytes(), content_type=kwargs.pop("content_type", kind), **kwargs)


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float  # time.monotonic()
    body: bytes = b""  # of a POST


class ReplayServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command == "POST" else b""
                with server._lock:
                    server.requests.append(
                        Request(parts.path, parse_qs(parts.query), dict(self.headers), time.monotonic(), body)
                    )
                    replies = server.routes.get(parts.path)
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else None
                if reply is None:
                    reply = Reply(b"<html><body>no route</body></html>", 404, content_type="text/html")
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): that is what the test wanted

            do_POST = do_GET  # noqa: N815 - the same routes answer POSTs (an OpenAI-compatible endpoint's)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]
