"""capacity.yaml: the contact centre's queues, validated with file/field/reason faults.

The format is documented in docs/capacity.md ("capacity.yaml"). Without the file every
market gets one default phone queue (`default_queue`), so forecasts still compute.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.config_faults import Fault, FaultsError

from .staffing import DAYS, QueueModel

CHANNELS = ("phone", "chat", "email", "async")
_HOURS = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class CapacityError(FaultsError):
    """capacity.yaml cannot be used (every fault listed)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    percent: float = Field(gt=0, lt=100)
    seconds: float = Field(gt=0, le=86_400)


class Defaults(_Strict):
    interval_minutes: Literal[15, 30] = 30
    paid_hours_per_week: float = Field(37.5, gt=0, le=80)
    shrinkage_percent: float = Field(30, ge=0, lt=90)
    service_target: Target = Target(percent=80, seconds=20)
    response_hours: float = Field(24, gt=0, le=24 * 14)
    timezone: str = "UTC"


class Queue(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    markets: list[str] = Field(min_length=1)
    language: str = Field("", max_length=16)
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    timezone: str | None = None
    interval_minutes: Literal[15, 30] | None = None
    hours: dict[Literal[DAYS], str] = Field(min_length=1)  # type: ignore[valid-type]
    intraday: dict[str, float] | None = None               # "HH:MM" → relative weight
    weekday_shares: dict[Literal[DAYS], float] | None = None  # type: ignore[valid-type]
    paid_hours_per_week: float | None = Field(None, gt=0, le=80)
    shrinkage_percent: float | None = Field(None, ge=0, lt=90)
    service_target: Target | None = None
    response_hours: float | None = Field(None, gt=0, le=24 * 14)
    patience_seconds: float | None = Field(None, gt=0, le=3600)

    @field_validator("markets")
    @classmethod
    def _iso(cls, v: list[str]) -> list[str]:
        codes = [str(c).upper() for c in v]
        unknown = [c for c in codes if pycountry.countries.get(alpha_2=c) is None]
        if unknown:
            raise ValueError(f"unknown market(s) {', '.join(unknown)}; use ISO 3166 codes like FR")
        return codes

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return _zone(v)

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: dict) -> dict:
        for day, text in v.items():
            m = _HOURS.match(str(text).strip())
            if not m:
                raise ValueError(f"{day}: write opening hours like 08:00-20:00 (got {text!r})")
            start, end = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
            if not 0 <= start < end <= 24 * 60:
                raise ValueError(f"{day}: opening must be before closing, within the day (got {text})")
        return v

    @field_validator("intraday")
    @classmethod
    def _profile(cls, v: dict | None) -> dict | None:
        if v is None:
            return v
        bad = [k for k in v if not _TIME.match(str(k))]
        if bad:
            raise ValueError(f"interval starts must be HH:MM (got {', '.join(map(str, bad))})")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be ≥ 0 and not all 0")
        return v

    @field_validator("weekday_shares")
    @classmethod
    def _shares(cls, v: dict | None) -> dict | None:
        if v is not None and (any(w < 0 for w in v.values()) or sum(v.values()) <= 0):
            raise ValueError("shares must be ≥ 0 and not all 0")
        return v

    @model_validator(mode="after")
    def _channel_keys(self) -> Queue:
        live = self.channel in ("phone", "chat")
        if live and self.response_hours is not None:
            raise ValueError("response_hours only goes with channel email or async; live queues use service_target")
        if not live and (self.service_target is not None or self.patience_seconds is not None):
            raise ValueError("service_target and patience_seconds only go with channel phone or chat")
        if self.weekday_shares:
            closed = sorted(set(self.weekday_shares) - set(self.hours), key=DAYS.index)
            if closed and live and any(self.weekday_shares[d] > 0 for d in closed):
                raise ValueError(f"weekday_shares gives contacts to closed day(s) {', '.join(closed)}")
        return self


class CapacityFile(_Strict):
    version: Literal[1] = 1
    defaults: Defaults = Defaults()
    queues: list[Queue] = Field(min_length=1)

    @field_validator("defaults")
    @classmethod
    def _zone_default(cls, v: Defaults) -> Defaults:
        _zone(v.timezone)
        return v

    @model_validator(mode="after")
    def _unique(self) -> CapacityFile:
        seen: set[str] = set()
        for q in self.queues:
            if q.id in seen:
                raise ValueError(f"queue id {q.id} is used twice")
            seen.add(q.id)
        return self


def _zone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}; use an IANA name like Europe/Paris") from None
    return v


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _model(q: Queue, d: Defaults) -> QueueModel:
    hours = {}
    for day, text in q.hours.items():
        start, end = (part.strip() for part in text.split("-"))
        hours[day] = (_minutes(start), _minutes(end))
    target = q.service_target or d.service_target
    return QueueModel(
        id=q.id, channel=q.channel, markets=tuple(q.markets), language=q.language,
        timezone=q.timezone or d.timezone, interval_minutes=q.interval_minutes or d.interval_minutes,
        hours=hours, intraday={_minutes(k): w for k, w in q.intraday.items()} if q.intraday else None,
        weekday_shares=dict(q.weekday_shares) if q.weekday_shares else None,
        paid_hours_per_week=q.paid_hours_per_week or d.paid_hours_per_week,
        shrinkage=(d.shrinkage_percent if q.shrinkage_percent is None else q.shrinkage_percent) / 100,
        sl_target=target.percent / 100, sl_seconds=target.seconds,
        answer_within_hours=q.response_hours or d.response_hours, patience_seconds=q.patience_seconds)


@dataclass(frozen=True)
class Queues:
    """The queues of capacity.yaml (or one default queue per market when there is none)."""

    by_id: dict[str, QueueModel]
    configured: bool = True

    def for_markets(self, markets: list[str] | tuple[str, ...]) -> list[QueueModel]:
        """Queues a launch in these markets touches, in file order; a market no queue covers gets a default."""
        wanted = [m.upper() for m in markets]
        out = [q for q in self.by_id.values() if set(q.markets) & set(wanted)]
        covered = {m for q in out for m in q.markets}
        out += [default_queue(m) for m in wanted if m not in covered]
        return out

    def get(self, queue_id: str) -> QueueModel | None:
        if queue_id in self.by_id:
            return self.by_id[queue_id]
        if queue_id.endswith("-default") and len(queue_id) == 10:
            return default_queue(queue_id[:2].upper())
        return None


def default_queue(market: str) -> QueueModel:
    """A phone queue, Mon–Fri 08:00–20:00, 30-minute intervals, 37.5 h, 30 % shrinkage, 80 % in 20 s."""
    return QueueModel(id=f"{market.lower()}-default", markets=(market.upper(),))


def _faults(path: str, exc: ValidationError) -> list[Fault]:
    out = []
    for err in exc.errors():
        loc = ""
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "string_pattern_mismatch":
            msg = "use lower-case letters, digits, - and _ (at most 64), like fr-phone"
        out.append(Fault(path, loc or "file", msg))
    return out


def validate_file(path: str | Path) -> tuple[Queues | None, list[Fault]]:
    name = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [Fault(name, "file", "not found (set CAPACITY_FILE, or copy capacity.example.yaml)")]
    except yaml.YAMLError as exc:
        return None, [Fault(name, "file", f"not valid YAML: {exc}".replace("\n", " "))]
    if not isinstance(raw, dict):
        return None, [Fault(name, "file", "expected a mapping with version, defaults and queues")]
    try:
        spec = CapacityFile.model_validate(raw)
    except ValidationError as exc:
        return None, _faults(name, exc)
    faults = []
    for i, q in enumerate(spec.queues):
        if q.intraday:
            interval = q.interval_minutes or spec.defaults.interval_minutes
            opens = {m for text in q.hours.values() for m in _open_minutes(text, interval)}
            stray = [k for k in q.intraday if _minutes(k) not in opens]
            if stray:
                faults.append(Fault(name, f"queues[{i}].intraday",
                                            f"{', '.join(stray)} is not the start of an open {interval}-minute interval"))
    if faults:
        return None, faults
    return Queues({q.id: _model(q, spec.defaults) for q in spec.queues}), []


def _open_minutes(text: str, interval: int) -> range:
    start, end = (part.strip() for part in text.split("-"))
    return range(_minutes(start), _minutes(end), interval)


def load_queues(path: str | Path) -> Queues:
    """The queues in `path`; defaults per market when the file does not exist; CapacityError when it is invalid."""
    if not Path(path).exists():
        return Queues({}, configured=False)
    queues, faults = validate_file(path)
    if faults:
        raise CapacityError(faults)
    return queues
