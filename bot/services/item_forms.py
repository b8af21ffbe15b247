"""Who may open which item form: checked (a refusal audited) before a modal opens.

The listener only decides *which* modal to show; whether this person may use it
is decided here, with the same checks the submission runs again.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models import Item, Launch

from . import answers, delegates, waivers
from .errors import Conflict

FORMS = ("answer", "na", "blocked", "reassign", "delegate", "waive")


def check_form(session: Session, item_id: int, op: str | None, actor: str, now: datetime) -> tuple[Item, Launch]:
    """The item and its launch, once `actor` may open form `op` (None: the answer form) on it."""
    item, launch = answers.load(session, item_id)
    if op == "reassign":
        answers.check_can_reassign(session, item, launch, actor, now)
    elif op == "delegate":
        delegates.check_can_delegate(session, item, launch, actor, now)
    elif op == "waive":
        waivers.check(session, launch, actor, now)
        if not item.is_open:
            raise Conflict("That item is already answered or waived.")
    else:
        answers.check_can_answer(session, item, launch, actor, now)
    return item, launch
