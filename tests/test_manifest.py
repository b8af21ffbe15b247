"""slack-manifest.yml asks for exactly the bot scopes the code needs, and its usage hint lists every
/launch subcommand (issue 11).

The Web API methods the bot calls are read from its source (every `client.<method>(` outside the
sandbox) and checked against what the stand-in saw during a public and a private launch; the scope
each method needs is Slack's documented granular bot scope (docs.slack.dev, method pages).
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.listeners.commands import SUBCOMMANDS
from bot.sandbox.workspace import spec
from tests.flows import deliver, open_launch_via_slack
from tests.test_private_launches import open_private

ROOT = Path(__file__).resolve().parent.parent

# method → (scopes for a public channel / no channel, scopes for a private channel)
PUBLIC, PRIVATE = 0, 1
SCOPES: dict[str, tuple[set[str], set[str]]] = {
    "auth.test": (set(), set()),
    "apps.connections.open": (set(), set()),  # Socket Mode: the app-level token's connections:write, no bot scope
    "views.open": (set(), set()),
    "views.publish": (set(), set()),
    "chat.postMessage": ({"chat:write"}, {"chat:write"}),  # a user id as channel opens the DM: no im:write
    "chat.postEphemeral": ({"chat:write"}, {"chat:write"}),
    "chat.update": ({"chat:write"}, {"chat:write"}),
    "pins.add": ({"pins:write"}, {"pins:write"}),
    "users.info": ({"users:read"}, {"users:read"}),
    "usergroups.users.list": ({"usergroups:read"}, {"usergroups:read"}),
    "conversations.create": ({"channels:manage"}, {"groups:write"}),
    "conversations.setPurpose": ({"channels:manage"}, {"groups:write"}),
    "conversations.setTopic": ({"channels:manage"}, {"groups:write"}),
    "conversations.join": ({"channels:join"}, {"channels:join"}),  # private channels can't be joined
    "conversations.invite": ({"channels:write.invites"}, {"groups:write.invites"}),
    "conversations.list": ({"channels:read"}, {"groups:read"}),
}


def manifest() -> dict:
    return yaml.safe_load((ROOT / "slack-manifest.yml").read_text())


def methods_in_code() -> set[str]:
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        for name in re.findall(r"\bclient\.([a-z]+_[A-Za-z_]+)\(", path.read_text(encoding="utf-8")):
            method = name.replace("_", ".")
            if spec.exists(method):
                found.add(method)
    return found


def test_every_called_method_has_its_scope_known():
    used = methods_in_code()
    assert {"chat.postMessage", "conversations.create", "pins.add", "users.info"} <= used  # the scan works
    assert used <= set(SCOPES), f"add the scope of {used - set(SCOPES)} to SCOPES (docs.slack.dev)"


def test_manifest_asks_for_exactly_the_scopes_the_code_uses():
    needed = {"commands"}  # /launch
    for method in methods_in_code():
        needed |= SCOPES[method][PUBLIC] | SCOPES[method][PRIVATE]  # private launches use private channels
    declared = manifest()["oauth_config"]["scopes"]["bot"]
    assert len(declared) == len(set(declared))
    assert set(declared) == needed, (f"unused: {sorted(set(declared) - needed)}, "
                                     f"missing: {sorted(needed - set(declared))}")


def _channel_is_private(standin, call) -> bool:
    params = call.params
    if call.method == "conversations.create":
        return str(params.get("is_private")).lower() in ("1", "true")
    if call.method == "conversations.list":
        return params.get("types") == "private_channel"
    channel = params.get("channel")
    if call.method.startswith("conversations.") and channel:
        return bool(standin.channel(channel).get("is_private"))
    return False


def test_what_slack_saw_during_a_public_and_a_private_launch_is_covered(standin, bot):
    standin.add_channel(name="lr-2-project-nightjar", is_private=True)  # name taken → conversations.list
    open_launch_via_slack(standin, bot)
    open_private(standin, bot)
    deliver(bot)
    declared = set(manifest()["oauth_config"]["scopes"]["bot"])
    seen = {call.method for call in standin.calls}
    assert {"conversations.create", "conversations.invite", "conversations.list"} <= seen
    assert any(_channel_is_private(standin, c) for c in standin.calls_to("conversations.list"))
    assert seen <= methods_in_code()  # the source scan misses no call
    for call in standin.calls:
        if call.method in SCOPES:
            needs = SCOPES[call.method][PRIVATE if _channel_is_private(standin, call) else PUBLIC]
            assert needs <= declared, (call.method, call.params)


def test_usage_hint_lists_every_subcommand():
    (command,) = manifest()["features"]["slash_commands"]
    hint = command["usage_hint"]
    words = set(re.findall(r"[a-z]+", hint))
    primary = {}
    for name, handler in SUBCOMMANDS.items():  # the first name of each handler; the rest are aliases
        if name.isalpha():
            primary.setdefault(handler, name)
    missing = set(primary.values()) - words
    assert not missing, f"usage_hint lacks {sorted(missing)}"
    assert len(hint) <= 1000  # Slack's limit for usage_hint
