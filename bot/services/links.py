"""Evidence links: which URLs an item stands on, when they are checked, and what a result does.

Checks run off the request path (bot/linkcheck/runner.py claims due rows); this
module only reads and writes rows, in the caller's transaction. A link is
checked when its item is answered, again when its gate's review opens, and
every `LINKCHECK_INTERVAL_HOURS` until launch day. A link that breaks sends a
done item back to its owner with the reason; a stale page (items marked
`updated`) is flagged, not failed, and the owner may confirm it with a reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from models import Item, ItemState, Launch, LaunchStatus, LinkCheck, LinkStatus

from . import audit, changes
from .changes import ItemChanged, LaunchChanged
from .readable import safe
from .errors import FieldErrors, NotFound

SYSTEM = "launchgate"
LEASE = timedelta(minutes=10)   # a batch of slow pages must not be claimed twice
RETRY_FAILING = timedelta(minutes=30)
FAILING_BEFORE_BROKEN = 3
LANGUAGES = {  # market → language for {lang}; MARKET_LANGUAGES overrides
    "AT": "de", "AU": "en", "BE": "nl", "BR": "pt", "CA": "en", "CH": "de", "CZ": "cs", "DE": "de", "DK": "da",
    "ES": "es", "FI": "fi", "FR": "fr", "GB": "en", "IE": "en", "IN": "en", "IT": "it", "JP": "ja", "KR": "ko",
    "MX": "es", "NL": "nl", "NO": "nb", "NZ": "en", "PL": "pl", "PT": "pt", "SE": "sv", "US": "en",
}


def urls_for(item: Item, launch: Launch, languages: dict[str, str] | None = None) -> list[tuple[str | None, str]]:
    """(market, url) pairs the item's answer stands on; empty unless the item is done."""
    if item.state != ItemState.DONE:
        return []
    found: list[tuple[str | None, str]] = []
    if item.answer_kind == "link" and isinstance(item.answer, str):
        found.append((None, item.answer.strip()))
    if item.answer_kind == "market_links" and isinstance(item.answer, dict):   # one link per market
        found.extend((market, item.answer[market].strip()) for market in launch.markets
                     if isinstance(item.answer.get(market), str))
    if item.evidence:
        found.append((None, item.evidence.strip()))
    if item.url_pattern:
        langs = LANGUAGES | {k.upper(): v for k, v in (languages or {}).items()}
        for market in launch.markets:
            found.append((market, item.url_pattern.replace("{market}", market.lower())
                          .replace("{lang}", langs.get(market, market.lower()))))
    return list({url: (market, url) for market, url in found}.values())


def links_relevant(item: Item) -> bool:
    """Cheap test (no query) whether an item can have links at all."""
    return item.answer_kind in ("link", "market_links") or bool(item.evidence) or bool(item.url_pattern)


def _items(session: Session, ids) -> list[Item]:
    """These items: from the session when this transaction already holds them (a click's item),
    the others in one SELECT."""
    held, missing = [], []
    for item_id in ids:
        found = session.identity_map.get(identity_key(Item, item_id))
        (held if found is not None else missing).append(found if found is not None else item_id)
    return held + (list(session.exec(select(Item).where(Item.id.in_(missing)))) if missing else [])


def items_changed(session: Session, changed: dict[int, datetime], languages: dict[str, str] | None = None) -> None:
    """Keep items' link rows in line with their answers — `changed` maps item id → when — in a few
    statements however many items changed; a done item's links are checked now.

    Rows of an item that is no longer done stay (the ⚠ of a link that sent it back
    keeps showing) but are not checked until it is answered again.
    """
    items = [i for i in _items(session, changed) if links_relevant(i)]
    if not items:
        return
    launches = {lid: session.get(Launch, lid) for lid in {i.launch_id for i in items}}
    rows: dict[int, list[LinkCheck]] = {}
    for row in session.exec(select(LinkCheck).where(LinkCheck.item_id.in_([i.id for i in items]))):
        rows.setdefault(row.item_id, []).append(row)
    for item in items:
        now = changed[item.id]
        wanted = dict((url, market) for market, url in urls_for(item, launches[item.launch_id], languages))
        for row in rows.get(item.id, []):
            if not wanted:
                row.next_check_at = None
            elif row.url in wanted:
                row.next_check_at, row.market = now, wanted.pop(row.url)
                row.stale_confirmed_by = row.stale_confirmed_reason = None
            else:
                session.delete(row)
                continue
            session.add(row)
        for url, market in wanted.items():
            session.add(LinkCheck(launch_id=item.launch_id, item_id=item.id, market=market, url=url[:500],
                                  next_check_at=now, created_at=now))


def review_opened(session: Session, gate_id: int, now: datetime) -> None:
    """Recheck the links of a gate's done items now (one statement)."""
    done = select(Item.id).where(Item.gate_id == gate_id, Item.state == ItemState.DONE)
    session.execute(update(LinkCheck).where(LinkCheck.item_id.in_(done)).values(next_check_at=now)
                    .execution_options(synchronize_session=False))


def claim_due(session: Session, now: datetime, limit: int) -> list[tuple[int, str, str | None]]:
    """Lease up to `limit` due checks (SKIP LOCKED on PostgreSQL); returns (id, url, the item's date rule)."""
    stmt = (select(LinkCheck).where(LinkCheck.next_check_at <= now,
                                    or_(LinkCheck.claimed_until.is_(None), LinkCheck.claimed_until < now))
            .order_by(LinkCheck.next_check_at, LinkCheck.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.exec(stmt))
    for row in rows:
        row.claimed_until = now + LEASE
        session.add(row)
    item_ids = list({row.item_id for row in rows})
    rules = dict(session.exec(select(Item.id, Item.updated_date).where(Item.id.in_(item_ids))).all()) if rows else {}
    return [(row.id, row.url, rules.get(row.item_id)) for row in rows]


def _next_check(launch: Launch, now: datetime, hours: int) -> datetime | None:
    """Daily until launch day; nothing after that or once the launch stops."""
    if launch.status != LaunchStatus.OPEN or now.date() > launch.launch_date:
        return None
    return now + timedelta(hours=hours)


def since(at: datetime | None, now: datetime) -> str:
    if at is None:
        return ""
    if at.date() == now.date():
        return " since today"
    if (now.date() - at.date()).days < 7:
        return f" since {at:%A}"
    return f" since {at:%-d %b}"


def updated_at(row: LinkCheck) -> datetime | None:
    """When the page was last updated: the date it gives itself (`updated_date`), else `Last-Modified`."""
    return row.page_date or row.last_modified


def describe(row: LinkCheck, now: datetime) -> str:
    """'https://… — 404 since Tuesday' (plain text; escape before mrkdwn)."""
    where = f"{row.market}: " if row.market else ""
    if row.status == LinkStatus.BROKEN:
        return f"{where}{row.url} — {row.reason}{since(row.broken_since, now)}"
    if row.status == LinkStatus.STALE:
        if row.page_date:
            return (f"{where}{row.url} — the page says updated {row.page_date:%-d %b %Y}, before the launch opened "
                    "(possibly stale)")
        changed = f"{row.last_modified:%-d %b %Y}" if row.last_modified else "?"
        return f"{where}{row.url} — last modified {changed}, before the launch opened (possibly stale)"
    if row.status == LinkStatus.UNVERIFIED:
        return f"{where}{row.url} — {row.reason}: not verified"
    return f"{where}{row.url} — {row.status}"


@dataclass
class Applied:
    status: str
    sent_back: bool = False


def apply_results(session: Session, results: list, now: datetime, settings) -> list[Applied | None]:
    """Store what a batch of links answered — `(check id, LinkResult)` pairs — in a constant number of
    statements; a newly broken link on a done item sends the item back. None for a row deleted meanwhile
    (the answer changed while we were fetching)."""
    from . import locks

    ids = [check_id for check_id, _ in results]
    launch_ids = session.exec(select(LinkCheck.launch_id).where(LinkCheck.id.in_(ids))).all() if ids else []
    launches = locks.launches(session, launch_ids)   # lock order: launch → gate → items → outbox
    rows = {row.id: row for row in session.exec(select(LinkCheck).where(LinkCheck.id.in_(ids))
                                                .execution_options(populate_existing=True))} if ids else {}
    items = {item.id: item for item in session.exec(select(Item).where(
        Item.id.in_({row.item_id for row in rows.values()})))} if rows else {}
    return [_apply(session, rows[check_id], items[rows[check_id].item_id], launches[rows[check_id].launch_id],
                   result, now, settings) if check_id in rows else None for check_id, result in results]


def _apply(session: Session, row: LinkCheck, item: Item, launch: Launch, result, now: datetime,
           settings) -> Applied:
    before = row.status
    row.http_status, row.final_url = result.http_status, (result.final_url or row.url)[:2000]
    row.last_modified, row.etag = result.last_modified, (result.etag or None) and result.etag[:200]
    row.page_date = result.page_date
    row.checked_at, row.claimed_until, row.reason = now, None, result.reason
    status = result.outcome
    if status == LinkStatus.FAILING:
        row.failures += 1
        if row.failures >= FAILING_BEFORE_BROKEN:
            status = LinkStatus.BROKEN
    else:
        row.failures = 0
    changed = updated_at(row)
    if status == LinkStatus.OK and item.must_be_updated and changed and changed < launch.created_at:
        status = LinkStatus.STALE
    if status == LinkStatus.BROKEN and before != LinkStatus.BROKEN:
        row.broken_since = now
    elif status != LinkStatus.BROKEN:
        row.broken_since = None
    row.status = status
    row.next_check_at = (now + RETRY_FAILING if status == LinkStatus.FAILING
                         else _next_check(launch, now, settings.linkcheck_interval_hours))
    session.add(row)
    applied = Applied(status)
    if status != before and (status in LinkStatus.WARN or before in LinkStatus.WARN):
        action = {LinkStatus.BROKEN: "link.broken", LinkStatus.STALE: "link.stale",
                  LinkStatus.UNVERIFIED: "link.unverified"}.get(status, "link.recovered")
        audit.record(session, actor=SYSTEM, action=action, entity="item", entity_id=item.id, launch_id=launch.id,
                     before={"url": row.url, "status": before},
                     after={"url": row.url, "status": status, "http_status": row.http_status,
                            "final_url": row.final_url}, note=describe(row, now), at=now)
        if status == LinkStatus.BROKEN and item.state == ItemState.DONE and launch.status == LaunchStatus.OPEN:
            row.next_check_at = None
            applied.sent_back = True
            send_back(session, item, launch, describe(row, now), now, settings)
        elif launch.status == LaunchStatus.OPEN:
            from .gates import items_changed
            items_changed(session, launch, [item.gate_id], actor=SYSTEM, now=now)  # ⚠ in an open review
        changes.record(session, LaunchChanged(launch.id), now=now)
    return applied


def warnings(session: Session, launch_id: int, now: datetime) -> dict[int, list[str]]:
    """⚠ lines per item id (one query), for the status card and the review."""
    rows = session.exec(select(LinkCheck).where(LinkCheck.launch_id == launch_id,
                                                LinkCheck.status.in_(LinkStatus.WARN))
                        .order_by(LinkCheck.item_id, LinkCheck.id)).all()
    found: dict[int, list[str]] = {}
    for row in rows:
        if row.status == LinkStatus.STALE and row.stale_confirmed_by:
            continue
        found.setdefault(row.item_id, []).append(describe(row, now))
    return found


def confirm_stale_by_key(session: Session, launch_key: str, item_key: str, reason: str, *, actor: str,
                         now: datetime) -> int:
    """`/launch current LR-12 internal-kb-article Only the footer changed`."""
    from .launches import get_launch

    launch = get_launch(session, launch_key)
    item = session.exec(select(Item).where(Item.launch_id == launch.id, Item.item_key == item_key)).first()
    if item is None:
        raise NotFound(f"{launch.key} has no item `{safe(item_key or '?')}`. The ⚠ on the status card names it.")
    return confirm_stale(session, item.id, reason, actor=actor, now=now)


def confirm_stale(session: Session, item_id: int, reason: str, *, actor: str, now: datetime) -> int:
    """The owner says the page is current although its Last-Modified is older; returns rows confirmed."""
    from .access import can_answer, refuse

    item = session.get(Item, item_id)
    if item is None:
        raise NotFound("That item no longer exists.")
    launch = session.get(Launch, item.launch_id)
    if not can_answer(session, launch, item, actor):
        raise refuse(session, launch=launch, actor=actor, action="link.confirm_stale", entity="item",
                     entity_id=item.id, now=now,
                     message="Only the item's owner, their delegate, the launch owner or a readiness lead can "
                             "confirm its pages are current.")
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "Say why the page is current (the readiness lead sees this)."})
    if not session.exec(select(LinkCheck.id).where(LinkCheck.item_id == item_id,
                                                   LinkCheck.status == LinkStatus.STALE)).first():
        raise NotFound("None of this item's pages is flagged as possibly stale.")
    rows = session.exec(select(LinkCheck).where(LinkCheck.item_id == item_id,
                                                LinkCheck.status == LinkStatus.STALE)).all()
    for row in rows:
        row.stale_confirmed_by, row.stale_confirmed_reason = actor, reason[:1000]
        session.add(row)
    if rows:
        audit.record(session, actor=actor, action="link.stale_confirmed", entity="item", entity_id=item.id,
                     launch_id=item.launch_id, after={"urls": [r.url for r in rows]}, note=reason, at=now)
        changes.record(session, LaunchChanged(item.launch_id), now=now)
    return len(rows)


def send_back(session: Session, item: Item, launch: Launch, reason: str, now: datetime, settings) -> None:
    """The item is open again, its owner told why; gates see it like any reopened item."""
    from . import gates, item_state, policy, reminders

    before = item_state.reopen(item, launch, now)
    item.note = f"Evidence link broken: {reason}"[:1000]
    reminders.schedule_item(item, launch, policy.for_launch(settings, launch), now)
    session.add(item)
    audit.record(session, actor=SYSTEM, action="item.link_broken", entity="item", entity_id=item.id,
                 launch_id=launch.id, before=before, after={"state": item.state, "due_at": item.due_at},
                 note=reason, at=now)
    if item.owner_id:
        gates.notify(session, launch, item.owner_id, "link_broken", now=now, item=item.id, reason=reason)
    changes.record(session, ItemChanged(launch.id, item.id, (item.owner_id,), (item.delegate_id,), "item.link_broken"),
                   now=now)
    session.flush()
    gates.items_changed(session, launch, [item.gate_id], actor=SYSTEM, now=now)

