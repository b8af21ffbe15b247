"""The stakeholder directory: who holds which role, globally and per market.

`STAKEHOLDERS_FILE` is the source; `sync` expands Slack user groups and
stores the result so every replica resolves owners the same way.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from bot.config import Settings
from bot.db import unit_of_work
from models import AuditEvent, DirectoryMember, UserProfile, utcnow

from . import audit
from .outbox import request_profile
from .templates import ROLES
from .textfiles import NotUtf8, read_utf8

ADMIN = "admin"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
MEMBER_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


class DirectoryError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _check_ids(ids: list[str], where: str, pattern: re.Pattern = MEMBER_ID) -> list[str]:
    bad = [i for i in ids if not isinstance(i, str) or not pattern.match(i)]
    if bad:
        kinds = "user ids (U…)" if pattern is USER_ID else "user ids (U…) or user-group ids (S…)"
        raise ValueError(f"{where}: {', '.join(map(str, bad))} — expected Slack {kinds}")
    return ids


def _check_roles(roles: dict[str, list[str]], where: str) -> dict[str, list[str]]:
    for role, ids in roles.items():
        if role not in ROLES:
            raise ValueError(f"{where}: unknown role '{role}' (known: {', '.join(ROLES)})")
        _check_ids(ids or [], f"{where}.{role}")
    return {role: ids or [] for role, ids in roles.items()}


class StakeholderFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admins: list[str] = []
    roles: dict[str, list[str]] = {}
    markets: dict[str, dict[str, list[str]]] = {}
    # Who stands in for a role's holder while they are away (`/launch away`): role → user id(s), in order.
    backups: dict[str, list[str]] = {}

    @field_validator("backups", mode="before")
    @classmethod
    def _backups(cls, v):
        out = {}
        for role, ids in (v or {}).items():
            if role not in ROLES:
                raise ValueError(f"backups: unknown role '{role}' (known: {', '.join(ROLES)})")
            ids = [ids] if isinstance(ids, str) else list(ids or [])
            out[role] = _check_ids(ids, f"backups.{role}", USER_ID)
        return out

    @field_validator("admins")
    @classmethod
    def _admins(cls, v):
        return _check_ids(v, "admins", USER_ID)

    @field_validator("roles")
    @classmethod
    def _roles(cls, v):
        return _check_roles(v, "roles")

    @field_validator("markets")
    @classmethod
    def _markets(cls, v):
        out = {}
        for market, roles in v.items():
            code = str(market).upper()
            if pycountry.countries.get(alpha_2=code) is None:
                raise ValueError(f"markets: unknown market '{market}' (use ISO 3166 codes like FR)")
            out[code] = _check_roles(roles or {}, f"markets.{code}")
        return out


def load_stakeholders(path: str | Path) -> StakeholderFile:
    path = Path(path)
    if not path.exists():
        raise DirectoryError([f"{path}: file not found (copy stakeholders.example.yaml)"])
    try:
        data = yaml.safe_load(read_utf8(path)) or {}
    except NotUtf8 as exc:
        raise DirectoryError([f"{path}: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise DirectoryError([f"{path}: not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise DirectoryError([f"{path}: expected a mapping with admins, roles and markets"])
    try:
        spec = StakeholderFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"{path}: {msg}" if msg.startswith(loc.split(".")[0]) else f"{path}: {loc}: {msg}")
        raise DirectoryError(problems) from None
    if not spec.admins and not any(spec.roles.values()) and not any(
            any(ids.values()) for ids in spec.markets.values()):
        raise DirectoryError([f"{path}: no admins and no role holders (empty or role-less file); "
                              "the stored directory is left as it is"])
    return spec


REMOVAL_LIMIT = 0.5  # a sync removing more than this share of the assignments needs --force
GUARDED_ROLES = (ADMIN, "readiness_lead")  # a sync leaving none of these needs --force


def sync(session: Session, spec: StakeholderFile, expand_group: Callable[[str], list[str]], *,
         force: bool = False, actor: str = "launchgate", source: str = "") -> int:
    """Replace the stored directory with `spec`, user groups expanded; audited with what changed.

    Without `force`, a sync that would remove more than half of the assignments,
    or every admin or readiness lead, is refused (DirectoryError) and changes nothing.
    """
    cache: dict[str, list[str]] = {}

    def users(ids: Iterable[str]) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        for member in ids:
            if member.startswith("S"):
                if member not in cache:
                    cache[member] = expand_group(member)
                out.extend((u, member) for u in cache[member])
            else:
                out.append((member, None))
        return out

    rows: dict[tuple[str, str, str], DirectoryMember] = {}
    now = utcnow()

    def add(role: str, market: str, ids: Iterable[str]) -> None:
        for user_id, via in users(ids):
            rows.setdefault(
                (role, market, user_id),
                DirectoryMember(role=role, market=market, user_id=user_id, via=via, synced_at=now),
            )

    add(ADMIN, "", spec.admins)
    for role, ids in spec.roles.items():
        add(role, "", ids)
    for market, roles in spec.markets.items():
        for role, ids in roles.items():
            add(role, market, ids)
    for role, ids in spec.backups.items():
        add(backup_role(role), "", ids)
    before = {(m.role, m.market, m.user_id) for m in session.exec(select(DirectoryMember))}
    after = set(rows)
    removed, added = sorted(before - after), sorted(after - before)
    if not after:
        raise DirectoryError([f"{source or 'stakeholders'}: its user groups have no members; "
                              "the stored directory is left as it is"])
    if before and not force:
        problems = []
        if len(removed) > REMOVAL_LIMIT * len(before):
            problems.append(f"this sync would remove {len(removed)} of {len(before)} role assignment(s)")
        for role in GUARDED_ROLES:
            if any(r == role for r, _, _ in before) and not any(r == role for r, _, _ in after):
                problems.append(f"this sync would leave no {role.replace('_', ' ')}")
        if problems:
            raise DirectoryError([f"{source or 'stakeholders'}: " + " and ".join(problems)
                                  + "; nothing changed (run `launchgate stakeholders sync --force` if intended)"])
    session.execute(delete(DirectoryMember))
    session.add_all(rows.values())
    if added or removed or force or last_sync_problems(session):  # a recovery is on record too
        audit.record(session, actor=actor[:32], action="directory.synced", entity="directory",
                     before={"assignments": len(before)},
                     after={"assignments": len(after), "added": [list(k) for k in added[:200]],
                            "removed": [list(k) for k in removed[:200]], "forced": force},
                     note=f"{len(added)} added, {len(removed)} removed from {source or 'stakeholders'}", at=now)
    return len(rows)


def queue_profile_lookups(session: Session, now=None) -> int:
    """A `users.info` look-up (an outbox PROFILE row, sent by the delivery worker) for every
    directory member we know nothing about, so names for reports and time zones for
    reminders are there before their first launch. Returns how many were queued."""
    known = select(UserProfile.user_id)
    missing = session.exec(select(DirectoryMember.user_id).where(DirectoryMember.user_id.not_in(known)).distinct())
    return sum(request_profile(session, user_id, now=now) for user_id in sorted(missing))


def members(session: Session, role: str, markets: Iterable[str] = ()) -> list[str]:
    """Holders of `role` for a launch in `markets`.

    Market overrides come first (in market order); the global holders are
    added when any market has no override of its own.
    """
    rows = session.exec(select(DirectoryMember).where(DirectoryMember.role == role).order_by(DirectoryMember.id)).all()
    by_market: dict[str, list[str]] = {}
    for row in rows:
        by_market.setdefault(row.market, []).append(row.user_id)
    markets = list(markets)
    out: list[str] = []
    for market in markets:
        out.extend(by_market.get(market, []))
    if not markets or any(m not in by_market for m in markets):
        out.extend(by_market.get("", []))
    return list(dict.fromkeys(out))


BACKUP = "backup:"


def backup_role(role: str) -> str:
    """How a role's backups are stored in the directory (`backup:wfm`)."""
    return f"{BACKUP}{role}"


def backups(session: Session) -> dict[str, list[str]]:
    """Every role's backups, in the file's order (one query; the list is short)."""
    out: dict[str, list[str]] = {}
    for role, user_id in session.exec(select(DirectoryMember.role, DirectoryMember.user_id).where(
            DirectoryMember.role.startswith(BACKUP)).order_by(DirectoryMember.id)):
        out.setdefault(role.removeprefix(BACKUP), []).append(user_id)
    return out


def is_admin(session: Session, user_id: str) -> bool:
    return user_id in members(session, ADMIN)


def holds_role(session: Session, user_id: str, role: str) -> bool:
    return session.exec(
        select(DirectoryMember.id).where(DirectoryMember.role == role, DirectoryMember.user_id == user_id)
    ).first() is not None


class UserGroups(Protocol):
    """Who is in a Slack user group (bot.delivery.gateway.SlackGateway); raises DirectoryError."""

    def usergroup_members(self, group: str) -> list[str]: ...


def sync_stakeholders(settings: Settings, engine: Engine, groups: UserGroups, *, force: bool = False,
                      actor: str = "launchgate") -> int:
    """Load STAKEHOLDERS_FILE, expand its user groups and store the directory (one transaction);
    returns the number of role assignments. Raises DirectoryError, storing nothing, on any problem."""
    source = str(settings.stakeholders_file)
    try:
        spec = load_stakeholders(settings.stakeholders_file)
        with unit_of_work(engine) as session:
            return sync(session, spec, groups.usergroup_members, force=force, actor=actor, source=source)
    except DirectoryError as exc:
        with unit_of_work(engine) as session:  # remembered, so `/launch new` can say why roles are empty
            audit.record(session, actor=actor[:32], action=SYNC_FAILED, entity="directory",
                         after={"problems": exc.problems[:20]}, note=clip_note("; ".join(exc.problems)),
                         at=utcnow())
        raise


# -- when the file does not sync --------------------------------------------------------------
# A sync that fails leaves the stored directory as it was, so roles it lacks stay empty and their
# items fall back to each launch's readiness lead. That is said loudly: one line when `serve`
# starts, and on `/launch new` (the modal's confirmation and the status card).

SYNCED, SYNC_FAILED = "directory.synced", "directory.sync_failed"


def clip_note(text: str) -> str:
    return text if len(text) <= 500 else text[:499] + "…"


def last_sync_problems(session: Session) -> list[str]:
    """Why the latest sync failed; empty when it succeeded (or none was ever tried)."""
    latest = session.exec(select(AuditEvent).where(AuditEvent.entity == "directory",
                                                   AuditEvent.action.in_((SYNCED, SYNC_FAILED)))
                          .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()
    if latest is None or latest.action != SYNC_FAILED:
        return []
    return list((latest.after or {}).get("problems") or [latest.note or "unknown problem"])


def unheld_roles(session: Session) -> list[str]:
    """Stakeholder roles nobody holds in the stored directory, in any market."""
    held = set(session.exec(select(DirectoryMember.role).distinct()))
    return [r for r in ROLES if r not in held and r != "product_manager"]


def sync_failure_line(engine: Engine, settings: Settings, problems: list[str]) -> str:
    """The one line `serve` prints when the stakeholders file did not sync at start."""
    with unit_of_work(engine) as session:
        stored = len(session.exec(select(DirectoryMember.id)).all())
        empty = unheld_roles(session)
    fallback = (f"; nobody holds {', '.join(empty)}, so their items go to each launch's readiness lead"
                if empty else "")
    return (f"stakeholders file {settings.stakeholders_file} did not sync: {'; '.join(problems)}. "
            f"Serving with the directory stored before ({stored} assignment(s)){fallback}. "
            "Fix the file, then run `launchgate stakeholders sync`.")
