"""Database ids read from requests: whole numbers within the 32-bit id columns, or nothing."""
from __future__ import annotations

import re
from typing import Any

ID_MAX = 2**31 - 1
_DIGITS = re.compile(r"^[0-9]{1,10}$")


def db_id(raw: Any) -> int | None:
    """`raw` as an id that can exist (1 … 2^31-1), else None — never an exception, never a
    number the database would refuse (PostgreSQL: integer out of range)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _DIGITS.match(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    return value if 1 <= value <= ID_MAX else None
