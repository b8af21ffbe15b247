"""What the `launchgate` sub-command modules share (they must not import bot.cli, which
imports them): a refusal printed as one line on stderr with exit status 2, as bot.cli does."""
from __future__ import annotations

import sys
from collections.abc import Callable

from bot.config import ConfigError, Settings, load_settings


class Refused(Exception):
    """Printed as `launchgate: <message>` on stderr; exit status 2."""


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise Refused(f"configuration error: {exc}") from None


def guarded(fn: Callable[..., int]) -> Callable[..., int]:
    """The sub-command `fn(args)`, with a refusal turned into its one line and exit status 2."""
    def run(args) -> int:
        try:
            return fn(args)
        except Refused as exc:
            print(f"launchgate: {exc}", file=sys.stderr)
            return 2
    return run
