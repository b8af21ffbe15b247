"""Other systems answering items: tokens, scopes, rate limits and idempotent answers.

A token is `lgi_` + 43 random URL-safe characters; only its SHA-256 is stored (a
high-entropy secret needs no slow hash). It answers only the items its scope
names — by item key (`help-centre-articles`) or owner role (`knowledge`) — and
its answers are audited as `integration:<name>`, exactly as a person's would be.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models import IntegrationRequest, IntegrationToken, Item, ItemState, Launch

from . import access, answer_values, answers, audit
from .errors import Conflict, FieldErrors, NotFound, ServiceError
from .templates import ROLES

PREFIX = "lgi_"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")
STATES = {"done": ItemState.DONE, "na": ItemState.NA, "blocked": ItemState.BLOCKED}


class Unauthorized(ServiceError):
    """Missing, unknown or revoked token: the same answer whatever was asked."""


class RateLimited(ServiceError):
    def __init__(self, retry_after: int):
        super().__init__(f"Too many requests for this token; retry in {retry_after} s.")
        self.retry_after = retry_after


class OutOfScope(ServiceError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor(token: IntegrationToken) -> str:
    return f"integration:{token.name}"


def create(session: Session, name: str, *, items: list[str], roles: list[str], created_by: str,
           now: datetime) -> tuple[IntegrationToken, str]:
    """A new token (returned in clear once) scoped to item keys and/or owner roles."""
    if not NAME.match(name or ""):
        raise FieldErrors({"name": "Use 1–20 lower-case letters, digits, - or _ (e.g. helpdesk)."})
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise FieldErrors({"roles": f"Unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}."})
    if not items and not roles:
        raise FieldErrors({"scope": "Give the item keys and/or owner roles this token may answer."})
    if session.exec(select(IntegrationToken).where(IntegrationToken.name == name)).first():
        raise Conflict(f"An integration called {name} exists; revoke it first or pick another name.")
    token = PREFIX + secrets.token_urlsafe(32)
    row = IntegrationToken(name=name, token_hash=digest(token), token_prefix=token[:10], scope_items=list(items),
                           scope_roles=list(roles), created_by=created_by, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=created_by[:32], action="integration.created", entity="integration",
                 entity_id=row.id, after={"name": name, "items": items, "roles": roles}, at=now)
    return row, token


def revoke(session: Session, name: str, *, by: str, now: datetime) -> IntegrationToken:
    row = session.exec(select(IntegrationToken).where(IntegrationToken.name == name)).first()
    if row is None:
        raise NotFound(f"No integration called {name}.")
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
        audit.record(session, actor=by[:32], action="integration.revoked", entity="integration", entity_id=row.id,
                     after={"name": name}, at=now)
    return row


def authenticate(session: Session, bearer: str | None) -> IntegrationToken:
    if not bearer or not bearer.startswith(PREFIX):
        raise Unauthorized("A valid integration token is required.")
    wanted = digest(bearer)
    row = session.exec(select(IntegrationToken).where(IntegrationToken.token_hash == wanted)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, wanted):
        raise Unauthorized("A valid integration token is required.")
    return row


def take_request(session: Session, token: IntegrationToken, now: datetime, per_minute: int) -> None:
    """Count this request in the token's current minute (one atomic UPDATE, shared by every replica)."""
    window = now.replace(second=0, microsecond=0)
    count = session.execute(
        update(IntegrationToken).where(IntegrationToken.id == token.id)
        .values(window_count=case((IntegrationToken.window_start == window, IntegrationToken.window_count + 1),
                                  else_=1),
                window_start=window, last_used_at=now)
        .returning(IntegrationToken.window_count)
        .execution_options(synchronize_session=False)).scalar_one()
    if count > per_minute:
        raise RateLimited(max(1, int((window + timedelta(minutes=1) - now).total_seconds())))


def in_scope(token: IntegrationToken, item: Item) -> bool:
    return item.item_key in (token.scope_items or []) or item.owner_role in (token.scope_roles or [])


@dataclass
class Result:
    status: int
    body: dict


def _request_hash(launch_key: str, item_key: str, body: dict) -> str:
    return hashlib.sha256(json.dumps([launch_key, item_key, body], sort_keys=True).encode()).hexdigest()


def _claim_key(session: Session, token: IntegrationToken, client_key: str, request_hash: str,
               now: datetime) -> IntegrationRequest | None:
    """Reserve the key; a concurrent or earlier request with it wins and is returned instead."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(insert(IntegrationRequest).values(
        token_id=token.id, client_key=client_key, request_hash=request_hash, status_code=0, response={},
        created_at=now).on_conflict_do_nothing(index_elements=["token_id", "client_key"])
        .returning(IntegrationRequest.id)).scalar()
    if inserted is not None:
        return None
    return session.exec(select(IntegrationRequest).where(IntegrationRequest.token_id == token.id,
                                                         IntegrationRequest.client_key == client_key)).one()


def _market_links(field: str, value: Any) -> bool:
    """`"value": {"FR": "https://…", "DE": "https://…"}` answers a one-link-per-market item."""
    return field == "value" and isinstance(value, dict) and len(value) <= 300 and \
        all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def parse_body(body: Any) -> dict:
    """The JSON answer → answer-modal values, or FieldErrors naming each bad field."""
    if not isinstance(body, dict):
        raise FieldErrors({"body": "Send a JSON object, e.g. {\"status\": \"done\", \"evidence\": \"https://…\"}."})
    unknown = sorted(set(body) - {"status", "value", "evidence", "note"})
    if unknown:
        raise FieldErrors({k: "Unknown field; use status, value, evidence and note." for k in unknown})
    errors = {}
    status = body.get("status", "done")
    if status not in STATES:
        errors["status"] = "Use done, na or blocked."
    for field in ("value", "evidence", "note"):
        if field in body and body[field] is not None and not isinstance(body[field], (str, int, float)) \
                and not _market_links(field, body[field]):
            errors[field] = "Send a string (or a number for value)."
    if errors:
        raise FieldErrors(errors)
    values = {k: body[k] if isinstance(body[k], dict) else str(body[k])
              for k in ("value", "evidence", "note") if body.get(k) is not None}
    values["status"] = status
    return values


def answer(session: Session, token: IntegrationToken, launch_key: str, item_key: str, body: Any, *,
           client_key: str | None, now: datetime, settings) -> Result:
    """Answer one item as the integration; idempotent by `client_key`."""
    if client_key is not None and not 1 <= len(client_key) <= 100:
        raise FieldErrors({"Idempotency-Key": "Use 1–100 characters."})
    values = parse_body(body)
    request_hash = _request_hash(launch_key, item_key, values)
    launch = session.exec(select(Launch).where(Launch.id == _launch_id(launch_key))).first()
    item = session.exec(select(Item).where(Item.launch_id == launch.id, Item.item_key == item_key)).first() \
        if launch else None
    if item is None:
        raise NotFound(f"{launch_key} has no item {item_key}." if launch else f"No launch {launch_key}.")
    who = actor(token)
    if not in_scope(token, item):
        raise access.refuse(session, launch=launch, actor=who, action="item.answer", entity="item",
                            entity_id=item.id, now=now,
                            message=f"The {token.name} integration may not answer {item_key}.")
    if client_key:
        earlier = _claim_key(session, token, client_key, request_hash, now)
        if earlier is not None:
            if earlier.request_hash != request_hash:
                raise Conflict("This Idempotency-Key was used for a different request.")
            return Result(earlier.status_code, dict(earlier.response, replayed=True))
    from .gates import lock_launch

    lock_launch(session, launch.id)  # lock order: launch → gate → items → outbox
    session.refresh(item)
    access.check_checklist_open(launch)
    state = STATES[values["status"]]
    if state == ItemState.DONE:
        parsed = answer_values.parse(item, {k: v for k, v in values.items() if k != "status"}
                                     | ({"status": "done"} if item.answer_kind == "confirm" else {}),
                                     launch.markets)
    else:
        note = values.get("note", "").strip()
        if not note:
            raise FieldErrors({"note": "Say why (the readiness lead sees this)."})
        parsed = answer_values.Answer(state, item.answer if state == ItemState.BLOCKED else None, item.evidence,
                                      note[: answer_values.NOTE_MAX])
    changed = answers.save_checked(session, item, launch, parsed, actor=who, now=now, settings=settings)
    result = Result(200, {"launch": launch.key, "item": item_key, "state": item.state, "changed": changed,
                          "answered_by": who, "answered_at": now.isoformat()})
    if client_key:
        session.execute(update(IntegrationRequest).where(IntegrationRequest.token_id == token.id,
                                                         IntegrationRequest.client_key == client_key)
                        .values(status_code=result.status, response=result.body))
    return result


def _launch_id(key: str) -> int:
    match = re.fullmatch(r"(?i)LR-(\d{1,9})", key or "")
    return int(match.group(1)) if match else -1
