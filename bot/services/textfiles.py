"""Reading the operator's text files (stakeholders, checklists): UTF-8 or a one-line error."""
from __future__ import annotations

from pathlib import Path


class NotUtf8(ValueError):
    """`str()` is one line naming the byte offset and the byte, for the file's own error message."""


def read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise NotUtf8(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset {exc.start} (line {line}); "
                      "save the file as UTF-8") from None
