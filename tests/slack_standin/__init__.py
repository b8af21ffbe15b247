"""The Slack stand-in now lives in the product (`bot.sandbox.workspace`): the sandbox and the
tests use one emulator. This package keeps `tests.slack_standin` and its submodules importable
(`tests.slack_standin.webapi` is the very same module object, so monkeypatching it works)."""
import importlib
import sys

from bot.sandbox.workspace import *  # noqa: F401,F403
from bot.sandbox.workspace import __all__  # noqa: F401

_SUBMODULES = ("ids", "mentions", "payloads", "responses", "server", "signing", "socket_mode", "spec", "standin",
               "state", "to_bot", "validation", "webapi")
for _name in _SUBMODULES:
    _module = importlib.import_module(f"bot.sandbox.workspace.{_name}")
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module
