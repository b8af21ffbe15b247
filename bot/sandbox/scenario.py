"""`launchgate sandbox --scenario demo`: a launch part-way through, so a first look shows
something alive. It is played through the workspace exactly as people would (slash command,
modal, clicks in DMs), so the bot does everything itself; nothing is written to the database
behind its back.

The demo: Priya opens "Instant payouts" (product, France and Germany, launching in 12 weeks);
everyone who owes a Discovery item answers it, so the Discovery gate waits for Tomás's decision;
marketing also enters the contact forecast for Planning.
"""
from __future__ import annotations

import time
from datetime import timedelta

from bot.blocks.ids import Action, Field

from . import people

NAME = "Instant payouts"
ANSWERS = {"url_text_input": "https://wiki.example.com/launches/instant-payouts",
           "plain_text_input": "Shared in the launch channel", "number_input": "40",
           "email_text_input": "launches@example.com"}


def run_scenario(sandbox, name: str) -> str:
    if name != "demo":
        raise ValueError(f"unknown scenario {name!r}")
    if _has_launches(sandbox):
        return "demo scenario skipped: this sandbox already has launches (start over with --reset)"
    play = Player(sandbox)
    play.open_launch()
    first_gate_owners = [p.id for p in people.PEOPLE if p.id != people.PM] + [people.PM]
    answered = 0
    for user in first_gate_owners:
        answered += play.answer_prompt_items(user, only_first_gate=True)
    answered += play.answer_prompt_items("U0MALIK01", only_first_gate=False, limit=2)
    return (f"demo scenario: {NAME} opened by Priya Raman; {answered} item(s) answered; "
            "the first gate waits for Tomás Ortega's decision (switch to him on the page)")


def _has_launches(sandbox) -> bool:
    from sqlmodel import select

    from bot.db import unit_of_work
    from models import Launch

    with unit_of_work(sandbox.rt.ctx.engine) as session:
        return session.exec(select(Launch.id).limit(1)).first() is not None


class Player:
    def __init__(self, sandbox):
        self.sb = sandbox
        self.ui = sandbox.ui
        self.handled: set = set()   # (person, item) already answered by the scenario

    def wait(self, condition, timeout: float = 30.0, required: bool = True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sb.deliver()
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        if required:
            raise RuntimeError("the demo scenario timed out waiting for launchgate")
        return None

    def modal(self, user: str) -> dict | None:
        state = self.sb.workspace.state
        with state.lock:
            stack = state.view_stacks.get(user, [])
            return state.views[stack[-1]].view if stack else None

    def open_launch(self) -> None:
        pm, lead = people.PM, "U0TOMAS01"
        self.ui.command({"user": pm, "channel": self.sb.workspace.dm_channel_for(pm), "text": "/launch new"})
        modal = self.wait(lambda: self.modal(pm))
        day = (self.sb.clock.now() + timedelta(days=84)).date().isoformat()
        entries = {Field.NAME: {"value": NAME}, Field.KIND: {"selected_option": {"value": "product"}},
                   Field.MARKETS: {"selected_options": [{"value": "FR"}, {"value": "DE"}]},
                   Field.LAUNCH_DATE: {"selected_date": day}, Field.READINESS_LEAD: {"selected_user": lead},
                   Field.BRIEF: {"value": "Payouts to a card in seconds instead of days."}}
        values = {}
        for block in modal["blocks"]:
            if block.get("type") == "input" and block["block_id"] in entries:
                element = block["element"]
                values[block["block_id"]] = {element["action_id"]: {"type": element["type"],
                                                                    **entries[block["block_id"]]}}
        answer = self.ui.submit({"user": pm, "view_id": modal["id"], "values": values})
        if answer.get("errors"):
            raise RuntimeError(f"the demo launch was refused: {answer['errors']}")
        self.wait(lambda: any(c.name.startswith("lr-") for c in self.sb.workspace.state.channels.values()))
        pm_dm = self.sb.workspace.dm_channel_for(pm)
        self.wait(lambda: any(_buttons(m) for m in self.sb.workspace.messages(pm_dm)))  # the intro DMs are out

    def answer_prompt_items(self, user: str, *, only_first_gate: bool, limit: int = 20) -> int:
        """Answer the items in this person's prompt DM: Done where there is a Done button, else the
        answer modal filled with plausible values."""
        dm = self.sb.workspace.dm_channel_for(user)
        answered = 0
        for _ in range(limit):
            prompt = self.wait(lambda: next((m for m in self.sb.workspace.messages(dm) if _buttons(m)), None),
                               timeout=3.0, required=False)
            if prompt is None:  # this person owes nothing in this launch
                break
            buttons = [(b, e) for b, e in _buttons(prompt, first_gate_only=only_first_gate)
                       if (user, e.get("value")) not in self.handled]
            if not buttons:
                break
            block, element = buttons[0]
            self.handled.add((user, element.get("value")))
            before = prompt["blocks"]
            self.ui.action({"user": user, "where": {"kind": "message", "channel": dm, "ts": prompt["ts"]},
                            "block_id": block["block_id"], "action_id": element["action_id"],
                            "value": element.get("value")})
            if element["action_id"] == Action.ITEM_ANSWER:
                modal = self.wait(lambda: self.modal(user))
                answer = self.ui.submit({"user": user, "view_id": modal["id"], "values": fill(modal)})
                if answer.get("errors"):
                    self.ui.close({"user": user, "view_id": modal["id"], "all": True})
                    break
            self.wait(lambda: next((m["blocks"] for m in self.sb.workspace.messages(dm) if m["ts"] == prompt["ts"]),
                                   None) != before)
            answered += 1
        return answered


def _buttons(message: dict, first_gate_only: bool = False) -> list[tuple[dict, dict]]:
    """(block, button) pairs for Done / Answer… in a prompt, in order (first gate only: up to the
    second gate heading)."""
    found, gates = [], 0
    for block in message.get("blocks", []):
        if block.get("type") == "context" and "gate" in str(block):
            gates += 1
            if first_gate_only and gates > 1:
                break
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") in (Action.ITEM_DONE, Action.ITEM_ANSWER):
                found.append((block, element))
                break
    return found


def fill(modal: dict) -> dict:
    """Plausible answers for every input of an answer modal."""
    values = {}
    for block in modal["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        entry: dict = {"type": kind}
        options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
        if kind in ("static_select", "radio_buttons"):
            entry["selected_option"] = element.get("initial_option") or (options[0] if options else None)
        elif kind in ("multi_static_select", "checkboxes"):
            entry["selected_options"] = options[:1]
        elif kind == "datepicker":
            entry["selected_date"] = element.get("initial_date")
        elif kind == "users_select":
            entry["selected_user"] = element.get("initial_user")
        elif kind in ANSWERS:
            entry["value"] = element.get("initial_value") or (ANSWERS[kind] if not block.get("optional") else None)
        else:
            entry["value"] = None
        values[block["block_id"]] = {element["action_id"]: entry}
    return values
