"""The answering API: other systems answer items over HTTP (docs/integrations.md).

    POST /api/v1/launches/{LR-n}/items/{item-key}/answer
    Authorization: Bearer lgi_…     Idempotency-Key: <client key>     {"status": "done", "evidence": "https://…"}

The token is checked (and counted against its rate limit) before anything is
looked up, so a bad token gets the same 401 whether or not the item exists.
"""
from __future__ import annotations

import json
import logging
import re

from bot.db import unit_of_work
from bot.services import integrations
from bot.services.context import AppContext
from bot.services.errors import Conflict, FieldErrors, Forbidden, NotFound, ServiceError

log = logging.getLogger(__name__)
ROUTE = re.compile(r"^/api/v1/launches/(?P<launch>[^/]{1,20})/items/(?P<item>[^/]{1,64})/answer$")
MAX_BODY = 64 * 1024


def _reply(start_response, status: str, body: dict, *extra: tuple[str, str]):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store"), *extra])
    return [data]


def make_api(ctx: AppContext):
    def api(environ, start_response):
        match = ROUTE.match(environ.get("PATH_INFO", ""))
        if match is None:
            return _reply(start_response, "404 Not Found", {"error": "not_found", "message": "No such endpoint."})
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(start_response, "405 Method Not Allowed", {"error": "method_not_allowed",
                                                                      "message": "Use POST."}, ("Allow", "POST"))
        auth = environ.get("HTTP_AUTHORIZATION", "")
        bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        now = ctx.now()
        try:
            with unit_of_work(ctx.engine) as session:
                token = integrations.authenticate(session, bearer)
                integrations.take_request(session, token, now, ctx.settings.integration_requests_per_minute)
        except integrations.Unauthorized as exc:
            return _reply(start_response, "401 Unauthorized", {"error": "unauthorized", "message": str(exc)},
                          ("WWW-Authenticate", 'Bearer realm="launchgate"'))
        except integrations.RateLimited as exc:
            return _reply(start_response, "429 Too Many Requests", {"error": "rate_limited", "message": str(exc)},
                          ("Retry-After", str(exc.retry_after)))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return _reply(start_response, "413 Content Too Large",
                          {"error": "too_large", "message": f"Keep the body under {MAX_BODY} bytes."})
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return _reply(start_response, "400 Bad Request",
                          {"error": "invalid_json", "message": "The body is not valid JSON."})
        try:
            with unit_of_work(ctx.engine) as session:
                result = integrations.answer(session, token, match["launch"], match["item"], body,
                                             client_key=environ.get("HTTP_IDEMPOTENCY_KEY"), now=now,
                                             settings=ctx.settings)
        except FieldErrors as exc:
            return _reply(start_response, "422 Unprocessable Content",
                          {"error": "invalid", "message": "Some fields need fixing.", "fields": exc.errors})
        except (Forbidden, integrations.OutOfScope) as exc:
            return _reply(start_response, "403 Forbidden", {"error": "forbidden", "message": str(exc)})
        except NotFound as exc:
            return _reply(start_response, "404 Not Found", {"error": "not_found", "message": str(exc)})
        except Conflict as exc:
            return _reply(start_response, "409 Conflict", {"error": "conflict", "message": str(exc)})
        except ServiceError as exc:
            return _reply(start_response, "400 Bad Request", {"error": "refused", "message": str(exc)})
        status = {200: "200 OK"}.get(result.status, f"{result.status} OK")
        return _reply(start_response, status, result.body)

    return api
