"""A strict stand-in for Slack's Web API, and Slack's side of requests to the bot.

See `standin.py` for the object tests use and the module docstrings for the
rules each part enforces.
"""
from .ids import BOT_USER
from .mentions import mentions_broadcast
from .signing import signature
from .socket_mode import SOCKET_MODE
from .standin import SlackStandIn
from .state import Call, ResponsePost

__all__ = ["BOT_USER", "SOCKET_MODE", "Call", "ResponsePost", "SlackStandIn", "mentions_broadcast", "signature"]
