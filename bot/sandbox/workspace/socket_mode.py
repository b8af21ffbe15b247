"""Slack's side of Socket Mode: `apps.connections.open` hands out a one-use WebSocket URL,
the app connects and gets `hello`, then each slash command, interaction or event arrives
as an envelope the app must acknowledge (same `envelope_id`) within 3 seconds; the ack's
`payload` is what an HTTP app would have answered in the response body.

Senders in to_bot.py use this transport when given `SOCKET_MODE` instead of a bot URL, so
every existing flow can run over either transport.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urlsplit

from typing import TYPE_CHECKING

import httpx

from .ids import APP_ID

if TYPE_CHECKING:
    from websockets.sync.server import ServerConnection

SOCKET_MODE = "socket-mode:"  # pass as the bot URL to send over the WebSocket instead of HTTP
CONNECT_WAIT = 20.0           # how long a sender waits for the app to be connected
ACK_WAIT = 10.0               # how long we wait for an ack before calling it lost (Slack: 3 s, judged by the caller)


class SocketModeServer:
    def __init__(self):
        self._server = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, dict] = {}
        self.refused: list[str] = []   # why connection attempts were turned away

    def start(self) -> None:
        from websockets.sync.server import serve  # test extra: the sandbox serves no sockets

        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-standin-socket",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def issue_url(self) -> str:
        """What `apps.connections.open` answers: a fresh URL whose ticket works once."""
        ticket = secrets.token_hex(8)
        with self._cond:
            self._tickets.add(ticket)
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={ticket}&app_id={APP_ID}"

    @property
    def connections(self) -> int:
        with self._cond:
            return len(self._connections)

    def wait_connected(self, timeout: float = CONNECT_WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._connections, timeout=timeout)

    # -- the connection ------------------------------------------------------------
    def _handle(self, ws: ServerConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        ticket = (parse_qs(urlsplit(ws.request.path).query).get("ticket") or [""])[0]
        with self._cond:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
        if not valid:
            self.refused.append(f"unknown or used ticket {ticket!r}")
            ws.close(code=1008, reason="invalid ticket")
            return
        ws.send(json.dumps({"type": "hello", "num_connections": self.connections + 1,
                            "debug_info": {"host": "standin", "approximate_connection_time": 18060},
                            "connection_info": {"app_id": APP_ID}}))
        with self._cond:
            self._connections.append(ws)
            self._cond.notify_all()
        try:
            for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("envelope_id"):
                    with self._cond:
                        self._acks[message["envelope_id"]] = message
                        self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                self._connections.remove(ws)

    def request_refresh(self) -> None:
        """What Slack does every few hours: warn the app on its connection that it will be
        closed, so the app opens a new one (a fresh `apps.connections.open`) first."""
        with self._cond:
            ws = self._connections[-1]
        ws.send(json.dumps({"type": "disconnect", "reason": "refresh_requested",
                            "debug_info": {"host": "standin"}}))

    def drop_connections(self) -> None:
        """The network drops every open connection without warning (no `disconnect` first)."""
        with self._cond:
            connections = list(self._connections)
        for ws in connections:
            ws.close(code=1011, reason="connection lost")

    # -- sending -------------------------------------------------------------------
    def deliver(self, body: str, content_type: str) -> httpx.Response:
        """Wrap what an HTTP app would have been POSTed in an envelope, send it, and turn the
        ack into the response an HTTP app would have given (no ack: 408)."""
        kind, payload = _envelope_parts(body, content_type)
        envelope_id = secrets.token_hex(12)
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": ""}
        if not self.wait_connected():
            return httpx.Response(503, text="the app is not connected over Socket Mode")
        with self._cond:
            ws = self._connections[-1]
        ws.send(json.dumps(envelope))
        deadline = time.monotonic() + ACK_WAIT
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout=deadline - time.monotonic()):
                return httpx.Response(408, text=f"no ack for envelope {envelope_id}")
            ack = self._acks.pop(envelope_id)
        answer = ack.get("payload")
        if answer and not envelope["accepts_response_payload"]:
            return httpx.Response(400, text="this envelope accepts no response payload")
        return httpx.Response(200, json=answer) if answer else httpx.Response(200, content=b"")


def _envelope_parts(body: str, content_type: str) -> tuple[str, dict]:
    if content_type == "application/json":
        return "events_api", json.loads(body)
    form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
    if "payload" in form:
        return "interactive", json.loads(form["payload"])
    return "slash_commands", form
