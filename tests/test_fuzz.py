"""No request a person or a broken client can send gets an HTTP 500 (issue 12, point 5).

Seeds are the real messages, Home tabs and modals the bot sent during a launch
(every button, select and overflow; every modal it opened, filled in), plus
`/launch` commands. Each of ≥1,000 signed requests is a seed with one to three
mutations (values, ids, types, missing fields, huge numbers, unknown actions,
views never opened). Asserted: no 500, nothing reached the last-resort error
handler (every problem was handled where it arises), and the bot is healthy after.
Seeded, so a failure reproduces.
"""
from __future__ import annotations

import copy
import json
import random
from collections import Counter
from urllib.parse import urlencode

import httpx
import pytest

from bot import metrics
from tests.flows import deliver, modal_values, open_home, open_launch_via_slack
from tests.gate_support import satisfy
from tests.slack_standin import payloads

FORM = "application/x-www-form-urlencoded"
REQUESTS = 1100
USERS = ("UPM", "ULEAD", "UWFM", "UOUTSIDER", "UADMIN")

NASTY = [
    None, "", " ", 0, -1, 1.5, True, [], {}, [1, 2], {"a": 1}, "abc", "-1", "0", "2147483648", "-2147483649",
    "9" * 40, 10**30, -(10**30), 2**63, "1e309", "NaN", "Infinity", "-0", "LR-2147483648", "LR-99999999999999",
    "x" * 5000, "<!channel> & <@U1>", "\u0000\ud7ff", "ünïcödé ✓", "1:2:3", "a:b", "42:answer", "1|2", "null",
    "{\"launch\": 1}", "[1]", "{\"item\": 9999999999}", "{\"launch\": \"x\"}",
]


def interactive(blocks):
    for block in blocks or []:
        for element in payloads.interactive_elements(block):
            yield block, element


def first_choice(element):
    kind = element["type"]
    options = payloads.all_options(element)
    if kind in ("overflow", "static_select", "radio_buttons"):
        return options[0]["value"] if options else None
    if kind in ("multi_static_select", "checkboxes"):
        return [options[0]["value"]] if options else None
    if kind in ("users_select",):
        return "UWFM"
    if kind == "datepicker":
        return "2027-09-01"
    if kind in ("conversations_select", "channels_select"):
        return "C0GENERAL"
    return None


def fill(view):
    """A plausible `state.values` for a modal the bot opened: first option, a word, a date."""
    entries = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind in ("static_select", "radio_buttons"):
            options = payloads.all_options(element)
            entries[block["block_id"]] = options[0]["value"] if options else None
        elif kind == "users_select":
            entries[block["block_id"]] = "ULEAD"
        elif kind == "datepicker":
            entries[block["block_id"]] = "2027-11-15"
        elif kind == "number_input":
            entries[block["block_id"]] = "12"
        elif kind == "plain_text_input":
            entries[block["block_id"]] = "fine"
    try:
        return modal_values(view, entries)
    except Exception:
        return {}


def collect_seeds(standin, bot):
    """Block actions from every message and Home view, submissions of every modal."""
    seeds = []
    with standin.state.lock:
        messages = [(cid, copy.deepcopy(m)) for cid, ms in standin.state.messages.items() for m in ms]
        views = [copy.deepcopy(r.view) for r in standin.state.views.values()]
    for channel, message in messages:
        user = standin.state.channels[channel].user if channel in standin.state.channels else None
        for block, element in interactive(message.get("blocks")):
            try:
                action = payloads.action_for(element, block["block_id"], first_choice(element))
            except (ValueError, KeyError):
                continue
            seeds.append(("action", user or "ULEAD", {"action": action, "message": dict(message, channel=channel)}))
    for view in views:
        for block, element in interactive(view.get("blocks")):
            if block.get("type") == "input":
                continue
            try:
                action = payloads.action_for(element, block["block_id"], first_choice(element))
            except (ValueError, KeyError):
                continue
            seeds.append(("action", "ULEAD", {"action": action, "view": view}))
        if view.get("type") == "modal":
            seeds.append(("submit", "ULEAD", {"view": dict(view, state={"values": fill(view)})}))
    for text in ("", "new", "list", "status LR-1", "timeline LR-1", "edit LR-1", "resume LR-1", "waive LR-1",
                 "unwaive LR-1", "help", "status", "edit", "waive"):
        seeds.append(("command", "UPM", {"text": text}))
    return seeds


def mutate(rng, value, depth=0):
    """One random change somewhere in `value`: replace, delete, retype."""
    if isinstance(value, dict) and value and (depth < 6) and rng.random() < 0.8:
        key = rng.choice(sorted(value, key=str))
        if rng.random() < 0.15:
            del value[key]
            return value
        value[key] = mutate(rng, value[key], depth + 1)
        return value
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.8:
        i = rng.randrange(len(value))
        value[i] = mutate(rng, value[i], depth + 1)
        return value
    if isinstance(value, str) and rng.random() < 0.3:
        # Tweak a structured value (button values like "42:done", JSON metadata) in place.
        parts = value.split(":")
        parts[rng.randrange(len(parts))] = str(rng.choice(NASTY))
        return ":".join(parts)
    return copy.deepcopy(rng.choice(NASTY))


TARGETS = {
    "action": [("actions", 0, "value"), ("actions", 0, "action_id"), ("actions", 0, "block_id"),
               ("actions", 0, "selected_option", "value"), ("actions", 0, "type"), ("user", "id"),
               ("view", "private_metadata"), ("view", "id"), ("container",), ("message", "ts"), ("actions",)],
    "submit": [("view", "private_metadata"), ("view", "state", "values"), ("view", "callback_id"),
               ("view", "id"), ("view", "hash"), ("user", "id"), ("view", "state"), ("view",)],
}


def poke(rng, payload, path):
    node = payload
    for key in path[:-1]:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return
    last = path[-1]
    if isinstance(node, dict) and last in node:
        if rng.random() < 0.25:
            del node[last]
        else:
            node[last] = mutate(rng, node[last]) if rng.random() < 0.5 else copy.deepcopy(rng.choice(NASTY))
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = copy.deepcopy(rng.choice(NASTY))


def build(standin, bot, kind, user, seed, rng):
    """The signed body for one (mutated) seed."""
    state = standin.state
    if kind == "command":
        text = seed["text"]
        if rng.random() < 0.7:
            words = text.split() or ["status"]
            words.append(str(rng.choice(NASTY))[:200])
            text = " ".join(words[:1] + words[-1:]) if rng.random() < 0.6 else " ".join(words)
        with state.lock:
            form = payloads.slash_command(state, command="/launch", text=text, user_id=user,
                                          channel_id="C0GENERAL", response_url=f"{standin.base_url}nowhere",
                                          trigger_id=standin.trigger_id(user))
        if rng.random() < 0.2:
            form[rng.choice(sorted(form))] = str(rng.choice(NASTY))[:300]
        return urlencode(form)
    with state.lock:
        if kind == "action":
            message = seed.get("message")
            view = seed.get("view")
            container = ({"type": "view", "view_id": view["id"]} if view is not None else
                         {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"],
                          "is_ephemeral": False})
            payload = payloads.block_actions(state, user_id=user, actions=[copy.deepcopy(seed["action"])],
                                             trigger_id=standin.trigger_id(user), container=container,
                                             message=copy.deepcopy(message), view=copy.deepcopy(view),
                                             channel_id=message["channel"] if message else None)
        else:
            payload = payloads.view_submission(state, user_id=user, view=copy.deepcopy(seed["view"]),
                                               trigger_id=standin.trigger_id(user))
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.75:
            poke(rng, payload, rng.choice(TARGETS[kind]))
        else:
            mutate(rng, payload)
    if rng.random() < 0.05:
        return "payload=" + rng.choice(["", "not json", "[]", "1", "null", json.dumps({"type": "nonsense"})])
    return urlencode({"payload": json.dumps(payload)})


@pytest.fixture
def seeded(standin, bot):
    """One launch opened and worked through Slack: prompts, a review, Home tabs, modals."""
    launch = open_launch_via_slack(standin, bot)
    satisfy(bot.rt, bot.rt.ctx.now, launch.id, 0)
    deliver(bot)
    for user in ("UPM", "ULEAD", "UWFM"):
        open_home(standin, bot, user)
        standin.send_slash_command(bot.url, text="new", user_id=user)
    # Open every modal a button in a message leads to (a real click each).
    with standin.state.lock:
        messages = [m for ms in standin.state.messages.values() for m in ms]
    opened = set()
    for message in messages:
        for block, element in interactive(message.get("blocks")):
            if element["type"] != "button" or element["action_id"] in opened:
                continue
            opened.add(element["action_id"])
            channel = message.get("channel")
            user = standin.state.channels[channel].user if channel in standin.state.channels else "ULEAD"
            try:
                standin.click(bot.url, user or "ULEAD", message, element["action_id"], element.get("value"))
            except LookupError:
                continue
    deliver(bot)
    return launch


def test_a_thousand_mutated_requests_get_no_500_and_leave_the_bot_healthy(standin, bot, seeded):
    seeds = collect_seeds(standin, bot)
    kinds = Counter(k for k, _, _ in seeds)
    assert kinds["action"] >= 10 and kinds["submit"] >= 3, kinds
    rng = random.Random(99)
    unhandled_before = sum(s.value for m in metrics.UNHANDLED_ERRORS.collect() for s in m.samples
                           if s.name.endswith("_total"))
    statuses = Counter()
    failures = []
    with httpx.Client(timeout=15) as client:
        from tests.slack_standin.signing import signed_headers

        for n in range(REQUESTS):
            kind, user, seed = seeds[n % len(seeds)] if n < len(seeds) else rng.choice(seeds)
            user = rng.choice(USERS) if rng.random() < 0.2 else user
            body = build(standin, bot, kind, user, seed, rng)
            resp = client.post(f"{bot.url}/slack/events", content=body.encode(),
                               headers=signed_headers(standin.signing_secret, body, FORM))
            statuses[resp.status_code] += 1
            if resp.status_code >= 500:
                failures.append((kind, body[:300]))
    unhandled = sum(s.value for m in metrics.UNHANDLED_ERRORS.collect() for s in m.samples
                    if s.name.endswith("_total")) - unhandled_before
    assert sum(statuses.values()) >= 1000
    assert failures == [], f"{len(failures)} HTTP 5xx; first: {failures[:3]}"
    assert unhandled == 0, "requests reached the last-resort error handler (see the log)"
    # Healthy after: health is green and a real person can still open a launch.
    assert httpx.get(f"{bot.url}/healthz").status_code == 200
    standin.state.bot_response_errors.clear()  # fuzzed bodies were answered with refusals on purpose
    launch = open_launch_via_slack(standin, bot, name="After the storm")
    assert launch.name == "After the storm"
