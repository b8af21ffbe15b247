"""Optional: actual contacts pulled from a reporting endpoint (ACTUALS_URL) once a day.

The endpoint answers JSON: a list (or {"rows": [...]}) of {"launch": "LR-12", "queue": "fr-phone",
"week": 1, "contacts": 9000}. Rows are checked exactly like a CSV import, and all are saved or
none. A timeout, an HTTP error or bad JSON is logged and audited (`actuals.pull_failed`), and the
next pass tries again; it never fails the tick. A good pull is recorded once per day
(`actuals.pulled`).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, select

from models import AuditEvent

from . import audit, capacity
from .actuals import ActualsError, check_rows, record_many
from .context import AppContext, TickReport

log = logging.getLogger(__name__)
FROM_HOUR = 6


def _headers(raw: str | None) -> dict[str, str]:
    if not raw or ":" not in raw:
        return {}
    name, value = raw.split(":", 1)
    return {name.strip(): value.strip()}


def fetch(url: str, auth_header: str | None, timeout: float, retries: int) -> list[dict]:
    """GET the rows, retrying transport errors and 5xx up to `retries` times; raises on the last failure.
    httpx is imported by the first pull, not at start-up (~15 ms of a cold start; ACTUALS_URL is optional)."""
    import httpx

    last: Exception | None = None
    with httpx.Client(timeout=timeout, headers=_headers(auth_header), follow_redirects=False) as client:
        for _ in range(retries):
            try:
                resp = client.get(url)
                if resp.status_code >= 500:
                    last = httpx.HTTPStatusError(f"HTTP {resp.status_code}", request=resp.request, response=resp)
                    continue
                resp.raise_for_status()
                data = resp.json()
                rows = data.get("rows") if isinstance(data, dict) else data
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    raise ValueError("expected a JSON list of rows (or {\"rows\": [...]})")
                return rows
            except httpx.TransportError as exc:
                last = exc
    raise last or RuntimeError("no attempt made")


def pull_actuals(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    settings = ctx.settings
    if not settings.actuals_url or now.hour < FROM_HOUR:
        return
    day = now.date().isoformat()
    if session.exec(select(AuditEvent.id).where(AuditEvent.action == "actuals.pulled",
                                                AuditEvent.note == day)).first() is not None:
        return
    import httpx

    try:
        rows = fetch(settings.actuals_url, settings.actuals_auth_header, settings.actuals_timeout_seconds,
                     settings.actuals_retries)
        raw = [(f"row {n}", [r.get("launch", ""), r.get("queue", ""), r.get("week", ""), r.get("contacts", "")])
               for n, r in enumerate(rows, 1)]
        actual = check_rows(session, raw, capacity.safe_queues(settings.capacity_file), now.date())
    except (httpx.HTTPError, ValueError, RuntimeError) as exc:
        log.warning("actuals pull from %s failed (will retry next pass): %s", settings.actuals_url, exc)
        _failed(session, {"error": str(exc)[:500]}, day, now)
        return
    except ActualsError as exc:
        log.warning("actuals pull from %s refused, nothing saved: %s", settings.actuals_url, exc)
        _failed(session, {"problems": exc.problems[:50]}, day, now)
        return
    changed = record_many(session, actual, source="pull", actor="launchgate", now=now)
    audit.record(session, actor="launchgate", action="actuals.pulled", entity="launch",
                 after={"rows": len(actual), "changed": changed}, note=day, at=now)
    report.lines.append(f"actuals pulled: {len(actual)} row(s), {changed} changed")


def _failed(session: Session, after: dict, day: str, now: datetime) -> None:
    """Audited once a day (the log has every attempt), so a long outage does not flood the trail."""
    if session.exec(select(AuditEvent.id).where(AuditEvent.action == "actuals.pull_failed",
                                                AuditEvent.note == day)).first() is None:
        audit.record(session, actor="launchgate", action="actuals.pull_failed", entity="launch", after=after,
                     note=day, at=now)
