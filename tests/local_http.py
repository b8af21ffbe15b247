"""A real HTTP server on 127.0.0.1 for tests that fetch pages or receive webhooks.

Routes map a path to a handler `(request) -> (status, headers, body)`; every
request is recorded (method, path, headers, body) so tests can assert what
reached the server — and what never did.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[Seen], Reply]


@dataclass
class LocalSite:
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def start(self) -> LocalSite:
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                req = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                           self.rfile.read(length) if length else b"")
                site.seen.append(req)
                handler = site.routes.get(self.path.split("?")[0])
                status, headers, body = handler(req) if handler else (404, {}, b"not here")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = _serve

            def log_message(self, *args):
                pass

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a client that stops reading (a capped body) is fine
                import sys

                if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                    super().handle_error(request, client_address)

        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self, method: str | None = None) -> list[str]:
        return [s.path for s in self.seen if method is None or s.method == method]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def page(status: int = 200, body: bytes = b"<html>ok</html>", **headers: str) -> Handler:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda req: (status, hdrs, body)


def redirect(to: str, status: int = 302) -> Handler:
    return lambda req: (status, {"Location": to}, b"")
