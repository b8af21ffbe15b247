"""Gate review, votes and decisions (being built: see issue "Gates, approvals…").

`items_changed` is the hook every item state change calls, so a gate whose
required items are all satisfied goes to review.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from models import Launch


def items_changed(session: Session, launch: Launch, gate_ids: Iterable[int], *, actor: str, now: datetime) -> None:
    """Called after items of these gates changed state (answered, reopened, waived…)."""
    return None
