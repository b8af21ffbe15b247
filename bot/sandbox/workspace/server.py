"""The HTTP side: a threaded stdlib server for `/api/<method>` and `/response/<id>`.

Order of checks for a Web API request, as Slack applies them: unknown method
(HTTP 404), injected failure, authentication, the method's sustained rate limit
(HTTP 429), required parameters, then the method's own rules. Every request is recorded as a `Call`, failed or not.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import spec
from .mentions import request_mentions_broadcast
from .responses import post_to_url
from .state import Call, State
from .webapi import HANDLERS, SlackError

log = logging.getLogger(__name__)
JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


class Reply:
    def __init__(self, status: int, body: dict | str, headers: dict | None = None, injected: bool = False):
        self.status, self.body, self.headers, self.injected = status, body, headers or {}, injected

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


APP_TOKEN_METHODS = {"apps.connections.open"}


class StandInServer:
    """`host`/`port`: where to listen (tests: a free loopback port). `pages`, when given, answers
    every other path (the sandbox's page and its /ui calls): (method, path, query, headers, raw) →
    Reply. `after_call` runs after each Web API request (the sandbox saves the workspace then)."""

    def __init__(self, state: State, token: str, app_token: str, host: str = "127.0.0.1", port: int = 0,
                 pages=None, after_call=None):
        self.state = state
        self.token = token
        self.app_token = app_token
        self.host, self.port = host, port
        self.pages, self.after_call = pages, after_call
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> str:
        httpd = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="slack-standin", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = self._thread = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the Slack stand-in is not running; call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    # -- Web API ------------------------------------------------------------------
    def web_api(self, name: str, query: str, headers, raw: bytes) -> Reply:
        arrived = time.time()
        try:
            params, token = parse_request(query, headers, raw)
        except SlackError as exc:
            params, token, early = {}, None, Reply(200, exc.body)
        else:
            early = None
        with self.state.lock:
            reply = early or self._answer(name, params, token)
            response = reply.body if isinstance(reply.body, dict) else {"ok": False, "error": reply.body}
            self.state.calls.append(Call(name, params, response, reply.status, arrived,
                                         request_mentions_broadcast(params), injected=reply.injected))
        if self.after_call is not None:
            self.after_call(name)
        return reply

    def _answer(self, name: str, params: dict, token: str | None) -> Reply:
        if not spec.exists(name):
            return Reply(404, {"ok": False, "error": "unknown_method", "req_method": name})
        injected = self.state.take_injection(name)
        if injected is not None:
            return Reply(injected.status, injected.body, injected.headers, injected=True)
        if not token:
            return Reply(200, {"ok": False, "error": "not_authed"})
        if token not in (self.token, self.app_token):
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        if (token == self.app_token) != (name in APP_TOKEN_METHODS):  # app-level tokens open sockets, nothing else
            return Reply(200, {"ok": False, "error": "not_allowed_token_type"})
        bucket = self.state.rate_limits.get(name)
        retry_after = bucket.take() if bucket is not None else 0
        if retry_after:
            return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        for key in spec.required(name):
            if params.get(key) in (None, "", []):
                error = spec.MISSING_PARAM_ERRORS.get(key, "invalid_arguments")
                return Reply(200, {"ok": False, "error": error,
                                   "response_metadata": {"messages": [f"[ERROR] missing required field: {key}"]}})
        handler = HANDLERS.get(name)
        if handler is None:
            return Reply(200, {"ok": False, "error": "not_implemented_in_standin",
                               "detail": f"{name} exists on Slack but the stand-in does not model it yet"})
        try:
            return Reply(200, handler(self.state, params))
        except SlackError as exc:
            return Reply(200, exc.body)
        except Exception as exc:  # a stand-in bug: make it loud, never a silent success
            log.error("slack stand-in crashed on %s:\n%s", name, traceback.format_exc())
            return Reply(500, {"ok": False, "error": "standin_crashed", "detail": repr(exc)})

    # -- response_url -------------------------------------------------------------
    def response_url(self, url_id: str, headers, raw: bytes) -> Reply:
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            body = json.loads(raw or b"null") if content_type == "application/json" else None
        except ValueError:
            body = None
        with self.state.lock:
            status, answer = post_to_url(self.state, url_id, body)
        return Reply(status, answer)


def parse_request(query: str, headers, raw: bytes) -> tuple[dict, str | None]:
    """Params from the query string and the body (form or JSON) plus the token.

    JSON-string fields (`blocks`, `view`, …) are decoded; a string that does
    not parse stays a string for the method to reject. In a JSON body Slack
    reads the token only from the Authorization header.
    """
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    token = params.pop("token", None)
    if raw:
        if content_type == "application/x-www-form-urlencoded":
            form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
            token = form.pop("token", None) or token
            params.update(form)
        elif content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("json_not_object")
            body.pop("token", None)
            params.update(body)
        else:
            raise SlackError("invalid_form_data")
    auth = headers.get("Authorization") or ""
    if auth.startswith("Bearer "):
        token = auth[len("Bearer "):].strip()
    for key in JSON_FIELDS:
        if isinstance(params.get(key), str) and params[key].strip()[:1] in ("[", "{"):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                pass
    return params, token


def _make_handler(server: StandInServer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "SlackStandIn/1.0"

        def do_GET(self):
            self._route()

        def do_POST(self):
            self._route()

        def _route(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if parts.path.startswith("/api/") and parts.path.count("/") == 2:
                reply = server.web_api(parts.path[len("/api/"):], parts.query, self.headers, raw)
            elif parts.path.startswith("/response/") and self.command == "POST":
                reply = server.response_url(parts.path[len("/response/"):], self.headers, raw)
                if server.after_call is not None:
                    server.after_call("response_url")
            elif server.pages is not None:
                reply = server.pages(self.command, parts.path, parts.query, self.headers, raw)
            else:
                reply = Reply(404, "not found")
            body, content_type = reply.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # keep test output clean
            pass

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except (BrokenPipeError, ConnectionResetError):  # a browser tab closed mid-answer
                self.close_connection = True

    return Handler
