"""What the bot writes into Slack (button values, modal private metadata) or into
outbox rows, and reads back later: one small typed codec per shape, shared by the
writer and the reader.

Everything read back is untrusted (Slack echoes what we wrote, but a stale message,
a truncated value or a forged request can carry anything), so decoding is STRICT
and BOUNDED: ids fit the 32-bit integer columns, numbers are finite and small,
strings are short and of a known form, unknown keys are refused, and raw input
longer than Slack allows is refused before it is parsed. Any such value raises
`PayloadError` (a `ValueError`), and only that; listeners turn it into a polite
ephemeral or a plain ack, the worker dead-letters the row.

The wire format (short keys, JSON separators) is what earlier versions wrote, so
buttons already posted in Slack keep working.
"""
from __future__ import annotations

import json
import re
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

INT32_MAX = 2**31 - 1
RAW_MAX = 3000          # Slack's limit for private_metadata (button values: 2000)
TEXT_MAX = 40_000       # an outbox text/notice body (Slack's message text limit)

DbId = Annotated[int, Field(strict=True, ge=1, le=INT32_MAX)]
Round = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
Flag = Annotated[int, Field(strict=True, ge=0, le=1)]
Level = Annotated[int, Field(strict=True, ge=1, le=100)]
Word = Annotated[str, Field(strict=True, pattern=r"^[a-z0-9_]{1,32}$")]
UserId = Annotated[str, Field(strict=True, pattern=r"^[UW][A-Z0-9]{1,31}$")]
ChannelId = Annotated[str, Field(strict=True, pattern=r"^[CDGU][A-Z0-9]{1,31}$")]
Target = Annotated[str, Field(strict=True, pattern=r"^([UW][A-Z0-9]{1,31}|channel)$")]
Text = Annotated[str, Field(strict=True, max_length=TEXT_MAX)]
ChannelName = Annotated[str, Field(strict=True, pattern=r"^[a-z0-9_-]{1,80}$")]

_DIGITS = re.compile(r"^[0-9]{1,10}$")

C = TypeVar("C", bound="Codec")
P = TypeVar("P", bound="Payload")


class PayloadError(ValueError):
    """A button value, private metadata or outbox payload that is not one we wrote."""


class Codec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)
    separators: ClassVar[tuple[str, str]] = (", ", ": ")

    def encode(self) -> str:
        """The JSON string Slack carries (button value / private_metadata)."""
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True), separators=self.separators)

    @classmethod
    def decode(cls: type[C], raw: Any) -> C:
        if not isinstance(raw, str) or len(raw) > RAW_MAX:
            raise PayloadError(f"{cls.__name__}: not a short string")
        try:
            return cls.model_validate_json(raw)
        except (ValidationError, ValueError, RecursionError):
            raise PayloadError(f"{cls.__name__}: malformed") from None


class Payload(BaseModel):
    """An outbox row's JSON payload (a dict in the database, not a string)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    @classmethod
    def load(cls: type[P], data: Any) -> P:
        if not isinstance(data, dict):
            raise PayloadError(f"{cls.__name__}: not an object")
        try:
            return cls.model_validate(data)
        except (ValidationError, ValueError, RecursionError):
            raise PayloadError(f"{cls.__name__}: malformed") from None


# -- button values ---------------------------------------------------------------------------

class ItemAction(Codec):
    """An item control: Done / Answer… buttons carry the bare id, overflow options `{"i", "op"}`."""

    item: DbId = Field(alias="i")
    op: Word | None = None

    @classmethod
    def decode(cls, raw: Any) -> ItemAction:
        if isinstance(raw, str) and _DIGITS.match(raw):
            return cls.decode(f'{{"i": {int(raw)}}}') if int(raw) <= INT32_MAX else cls.decode("")
        return super().decode(raw)

    def button_value(self) -> str:
        """Done / Answer… / Waive… buttons: the id alone."""
        return str(self.item)


class VoteValue(Codec):
    """A decide button of a gate review."""

    gate: DbId = Field(alias="g")
    round: Round = Field(alias="r")


class SnoozeValue(Codec):
    launch: DbId = Field(alias="l")
    choice: Word = Field(alias="s")


# -- modal private metadata ------------------------------------------------------------------

class ItemModal(Codec):
    """Answer / reason / reassign / delegate modals."""

    separators: ClassVar[tuple[str, str]] = (",", ":")
    item: DbId = Field(alias="i")
    op: Word | None = None
    home: Flag | None = None


class DecisionModal(Codec):
    gate: DbId = Field(alias="g")
    round: Round = Field(alias="r")
    outcome: Word = Field(alias="o")
    home: Flag = Field(default=0, alias="h")


class WaiveModal(Codec):
    """Waive / unwaive: one fixed item (`i`, from a button) or a pick among a launch's items (`l`)."""

    item: DbId | None = Field(default=None, alias="i")
    home: Flag = Field(default=0, alias="h")
    launch: DbId | None = Field(default=None, alias="l")


class LaunchModal(Codec):
    launch: DbId = Field(alias="l")


# -- outbox payloads -------------------------------------------------------------------------

class PromptPayload(Payload):
    """INTRO_DM / PROMPT_REFRESH: whose prompt; a handover intro names who handed the item."""

    user: UserId | None = None
    handed_by: UserId | None = None
    item: DbId | None = None


class DelegatePayload(Payload):
    item: DbId
    user: UserId


class EscalationRefreshPayload(Payload):
    level: Level = 1


class ReviewPayload(Payload):
    gate: DbId
    round: Round
    to: Target


class TextPayload(Payload):
    text: Text


class EphemeralPayload(Payload):
    text: Text
    channel: ChannelId


class ChannelPayload(Payload):
    """CREATE_CHANNEL (`name`, people to invite, a private launch's channel is private) and INVITE (`users`)."""

    name: ChannelName | None = None
    users: list[UserId] = Field(default_factory=list, max_length=1000)
    private: bool | None = None
